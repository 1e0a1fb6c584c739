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


import pandas as pd

from .. import schema as S
from ..errors import QuarantineKind
from ._common import Rejects, find_column
from ._mapped import Spec, mapped_platform

__all__ = ["PLATFORM", "SPEC"]

NAME = "alchemer"
META = ("Response ID", "Time Started", "Date Submitted", "Status", "Contact ID", "Legacy Comments", "Comments",
        "Language", "Referer", "SessionID", "User Agent", "Tags", "IP Address", "Longitude", "Latitude",
        "Country", "City", "State/Region", "Postal", "Link Name", "URL Variable: __dbget", "Invite Status")


def _reject(raw: pd.DataFrame, frame: pd.DataFrame) -> Rejects:
    rejects = Rejects(raw.index)
    col = find_column(list(raw.columns), "Status")
    if col is None:
        return rejects
    status = raw[col].str.strip()
    folded = status.str.casefold()
    excluded = folded.str.contains("disqualified|deleted|test", regex=True).fillna(False)
    partial = (folded == "partial").fillna(False)
    return (rejects.mark(excluded, QuarantineKind.EXCLUDED_STATUS, "status " + status)
            .mark(partial & ~excluded, QuarantineKind.UNFINISHED))


SPEC = Spec(
    name=NAME, columns={S.RESPONSE_ID: ("Response ID",), S.RECEIVED_AT: ("Date Submitted",),
                        "customer_id": ("Contact ID",)},
    signature=META[:19], min_hits=7, required=("Response ID", "Date Submitted"), source="survey",
    id_prefix="ag-", meta=META, reject=_reject, questions=True,
)


PLATFORM = mapped_platform(SPEC, how="Response ID, Time Started, Date Submitted, Status, Contact ID, Legacy Comments, ...")
