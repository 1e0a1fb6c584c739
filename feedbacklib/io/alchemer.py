"""Alchemer (formerly SurveyGizmo) responses export, CSV or XLSX.

Layout: ``Response ID, Time Started, Date Submitted, Status, Contact ID, Legacy
Comments, Comments, Language, Referer, SessionID, User Agent, Tags, IP Address,
Longitude, Latitude, Country, City, State/Region, Postal`` then one column per
question. ``Comments`` is the survey team's own note on a response, not the
respondent's comment: the comment is chosen among the question columns
(:mod:`feedbacklib.io.roles`). Status ``Disqualified`` / ``Deleted`` / test
responses are quarantined as excluded, ``Partial`` as unfinished. Times are in
the account's zone: ``[platforms.alchemer] timezone`` (default: the config zone).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from .. import schema as S
from ._common import STRING, Export, Staged, find_column
from ._mapped import Spec, header_score, read_table, stage_mapped

__all__ = ["detect", "read", "stage", "SPEC"]

NAME = "alchemer"
META = ("Response ID", "Time Started", "Date Submitted", "Status", "Contact ID", "Legacy Comments", "Comments",
        "Language", "Referer", "SessionID", "User Agent", "Tags", "IP Address", "Longitude", "Latitude",
        "Country", "City", "State/Region", "Postal", "Link Name", "URL Variable: __dbget", "Invite Status")


def _reject(raw: pd.DataFrame, frame: pd.DataFrame) -> pd.Series:
    empty = pd.Series(pd.NA, index=raw.index, dtype=STRING)
    col = find_column(list(raw.columns), "Status")
    if col is None:
        return empty
    status = raw[col].str.strip()
    folded = status.str.casefold()
    excluded = folded.str.contains("disqualified|deleted|test", regex=True).fillna(False)
    partial = (folded == "partial").fillna(False)
    return empty.mask(excluded, "status " + status).mask(partial & ~excluded, "unfinished response")


SPEC = Spec(
    name=NAME, columns={S.RESPONSE_ID: ("Response ID",), S.RECEIVED_AT: ("Date Submitted",),
                        "customer_id": ("Contact ID",)},
    signature=META[:19], min_hits=7, required=("Response ID", "Date Submitted"), source="survey",
    id_prefix="ag-", meta=META, reject=_reject, questions=True,
)


def detect(rows: list[list[str]]) -> float:
    return header_score(rows[0], SPEC) if rows else 0.0


def read(path: Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    return read_table(path)


def stage(export: Export, config: Any) -> Staged:
    return stage_mapped(export, config, SPEC)
