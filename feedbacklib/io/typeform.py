"""Typeform responses export (CSV or XLSX, "Download responses").

Layout: ``#`` (the response token), one column per question (named by its
text), then ``Response Type`` (newer exports: completed / partial), ``Start
Date (UTC)``, ``Stage Date (UTC)``, ``Submit Date (UTC)``, ``Network ID`` and
``Tags``. The dates are UTC, as the column names say (never the config zone).
The comment and the scores are chosen among the question columns by question
text and answers (:mod:`feedbacklib.io.roles`); ``[platforms.typeform.columns]``
overrides. Partial responses (never submitted) are quarantined as unfinished.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from .. import schema as S
from ._common import STRING, Export, Staged, find_column
from ._mapped import Spec, header_score, read_table, stage_mapped

__all__ = ["detect", "read", "stage", "SPEC"]

NAME = "typeform"
META = ("#", "Response Type", "Start Date (UTC)", "Stage Date (UTC)", "Submit Date (UTC)", "Network ID", "Tags",
        "Token", "Submitted At")


def _reject(raw: pd.DataFrame, frame: pd.DataFrame) -> pd.Series:
    empty = pd.Series(pd.NA, index=raw.index, dtype=STRING)
    col = find_column(list(raw.columns), "Response Type")
    if col is None:
        return empty
    partial = raw[col].str.strip().str.casefold() == "partial"
    return empty.mask(partial.fillna(False), "unfinished response")


SPEC = Spec(
    name=NAME, columns={S.RESPONSE_ID: ("#", "Token"), S.RECEIVED_AT: ("Submit Date (UTC)", "Submitted At")},
    signature=("#", "Start Date (UTC)", "Submit Date (UTC)", "Network ID", "Stage Date (UTC)", "Response Type"),
    min_hits=3, required=("Submit Date (UTC)",), source="survey", id_prefix="tf-", timezone="UTC",
    meta=META, reject=_reject, questions=True,
)


def detect(rows: list[list[str]]) -> float:
    return header_score(rows[0], SPEC) if rows else 0.0


def read(path: Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    return read_table(path)


def stage(export: Export, config: Any) -> Staged:
    return stage_mapped(export, config, SPEC)
