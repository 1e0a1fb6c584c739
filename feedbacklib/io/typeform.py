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


import pandas as pd

from .. import schema as S
from ..errors import QuarantineKind
from ._common import Rejects, find_column
from ._mapped import Spec, mapped_platform

__all__ = ["PLATFORM", "SPEC"]

NAME = "typeform"
META = ("#", "Response Type", "Start Date (UTC)", "Stage Date (UTC)", "Submit Date (UTC)", "Network ID", "Tags",
        "Token", "Submitted At")


def _reject(raw: pd.DataFrame, frame: pd.DataFrame) -> Rejects:
    rejects = Rejects(raw.index)
    col = find_column(list(raw.columns), "Response Type")
    if col is None:
        return rejects
    return rejects.mark(raw[col].str.strip().str.casefold() == "partial", QuarantineKind.UNFINISHED)


SPEC = Spec(
    name=NAME, columns={S.RESPONSE_ID: ("#", "Token"), S.RECEIVED_AT: ("Submit Date (UTC)", "Submitted At")},
    signature=("#", "Start Date (UTC)", "Submit Date (UTC)", "Network ID", "Stage Date (UTC)", "Response Type"),
    min_hits=3, required=("Submit Date (UTC)",), source="survey", id_prefix="tf-", timezone="UTC",
    meta=META, reject=_reject, questions=True,
)


PLATFORM = mapped_platform(SPEC, how="#, the questions, Start Date (UTC), Submit Date (UTC), Network ID")
