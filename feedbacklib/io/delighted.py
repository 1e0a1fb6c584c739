"""Delighted responses export (CSV, "Download responses").

Layout: ``Response ID, Email, Name, Score, Comment, Response timestamp`` (older
exports: ``Created at``), then ``Notes, Tags`` and ``Delighted ...`` properties
(Source, Device Type, Operating System, Browser, Country) and the account's own
person properties. ``Score`` is the survey's score: 0-10 for an NPS survey, 1-5
for CSAT. Which one is decided from the answers (any score of 0 or above 5 is
NPS), or set with ``[platforms.delighted] score = "nps"`` / ``"csat"``.

Delighted is taken as the fourth platform because its export is a feedback
survey (score + comment) like the rest of the report, and it is what small
support teams run for NPS/CSAT; Trustpilot and Medallia exports can be read with
the generic reader and a ``[platforms.generic.columns]`` mapping.
"""

from __future__ import annotations


import pandas as pd

from .. import schema as S
from ..settings import PlatformSettings
from ._common import CUSTOMER_ID, STRING, find_column
from ._mapped import Spec, mapped_platform

__all__ = ["PLATFORM", "SPEC"]

NAME = "delighted"


def _finish(raw: pd.DataFrame, frame: pd.DataFrame, settings: PlatformSettings) -> pd.DataFrame:
    col = find_column(list(raw.columns), "Score")
    if col is None or S.NPS in frame.columns and frame[S.NPS].notna().any():
        return frame
    score = raw[col]
    kind = (settings.score or "").casefold()
    if kind not in ("nps", "csat"):
        numbers = pd.to_numeric(score, errors="coerce")
        kind = "nps" if bool(((numbers == 0) | (numbers > 5)).any()) else "csat"
    frame = frame.copy()
    frame[S.NPS if kind == "nps" else S.CSAT] = score.astype(STRING)
    return frame


SPEC = Spec(
    name=NAME, columns={S.RESPONSE_ID: ("Response ID",), S.RECEIVED_AT: ("Response timestamp", "Created at"),
                        S.TEXT: ("Comment",), CUSTOMER_ID: ("Email", "Person ID")},
    signature=("Response ID", "Score", "Comment", "Response timestamp", "Created at", "Delighted Source",
               "Delighted Device Type", "Delighted Operating System", "Delighted Browser", "Delighted Country",
               "Notes", "Tags"),
    min_hits=5, required=("Score", "Comment"), source="survey", id_prefix="dl-", finish=_finish,
)


PLATFORM = mapped_platform(SPEC, how="Response ID, Email, Name, Score, Comment, Response timestamp, Delighted Source, ...", settings=("score",))
