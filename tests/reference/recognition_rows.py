"""select_recognition as computed from rows before issue 19 (every praising row of the month), kept
verbatim (imports aside) as the reference of tests/test_partials.py: the report shows the same praise."""

from __future__ import annotations

import numpy as np
import pandas as pd

from feedbacklib import schema as S
from feedbacklib import stats as C
from feedbacklib.actions import PRAISE_THEME, RECOGNITION_COLUMNS, _praising, detect_agent, praise_clause


def select_recognition(frame: pd.DataFrame, *, per_team: int | None = None) -> pd.DataFrame:
    """Praise worth recognising at the next team meeting, grouped by team.

    Praise = a comment with the ``praise`` theme whose *praising clause*
    (:func:`praise_clause`: the clause naming the staff member, else the first
    with a praise word) praises on its own: positive VADER sentiment, or a praise
    word and not negative. The comment's overall sentiment does not decide, so
    "Fantastic service from Priya but there was an unexpected fee" is kept and
    only "Fantastic service from Priya" is quoted, while "Thanks for nothing"
    is left out. ``agent`` is the staff member named (:func:`detect_agent`).

    Returns
    -------
    pandas.DataFrame
        Columns ``team, vendor, team_praise`` (the team's praising comments this
        month), ``agent, response_id, received_at, text, clause`` (the praising
        clause, what the report quotes). Teams in order of praise count (then
        name), named agents first within a team, then most recent first; at most
        ``per_team`` rows per team when given.
    """
    col = S.theme_column(PRAISE_THEME)
    if frame.empty or col not in frame.columns:
        return pd.DataFrame(columns=list(RECOGNITION_COLUMNS))
    praise = C.bool_flags(frame, col) & C.has_text(frame)
    out = frame.loc[praise].copy()
    for column in (S.TEAM, S.VENDOR, S.RESPONSE_ID, S.RECEIVED_AT):
        if column not in out.columns:
            out[column] = pd.NA
    out[S.TEAM] = out[S.TEAM].astype("string").fillna("unknown team")
    out["agent"] = [detect_agent(t) for t in out[S.TEXT]]
    out["clause"] = [praise_clause(t, a) for t, a in zip(out[S.TEXT], out["agent"])]
    has_clause = (out["clause"] != "").to_numpy(dtype=bool)
    keep = np.zeros(len(out), dtype=bool)
    keep[has_clause] = _praising(out.loc[has_clause, "clause"].tolist())
    out = out.loc[keep]
    out["team_praise"] = out.groupby(S.TEAM)[S.TEAM].transform("size").astype(int)
    out = out.assign(_named=out["agent"] == "", _t=pd.to_datetime(out[S.RECEIVED_AT], utc=True))
    out = out.sort_values(["team_praise", S.TEAM, "_named", "_t"], ascending=[False, True, True, False],
                          kind="mergesort", na_position="last")
    if per_team is not None:
        out = out.groupby(S.TEAM, sort=False).head(per_team)
    return out[list(RECOGNITION_COLUMNS)].reset_index(drop=True)

