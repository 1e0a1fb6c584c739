"""Row-level reference: ``feedbacklib.history.theme_counts_of`` before issue 19 item 1 (verbatim, imports aside)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from feedbacklib import schema as S
from feedbacklib.stats._frame import text_mask


def theme_counts_of(frame: pd.DataFrame, themes: Sequence[str], *, by: str | None = None) -> pd.DataFrame:
    """Long table month, [by], theme, n (comments with text), hits, from rows in memory.

    ``frame`` needs ``month``, ``text`` (or a boolean ``has_text``) and ``theme_<id>`` columns.
    """
    has_text = frame["has_text"].to_numpy(dtype=bool) if "has_text" in frame.columns else text_mask(frame[S.TEXT])
    keys = [S.MONTH] + ([by] if by else [])
    sub = frame.loc[has_text, keys + [S.theme_column(t) for t in themes]]
    grouped = sub.groupby(keys, observed=True, sort=True)
    n = grouped.size()
    hits = grouped[[S.theme_column(t) for t in themes]].sum()
    hits.columns = list(themes)
    long = hits.stack(future_stack=True).rename("hits").reset_index()
    long = long.rename(columns={long.columns[len(keys)]: "theme"})
    long["n"] = n.reindex(pd.MultiIndex.from_frame(long[keys]) if len(keys) > 1 else long[keys[0]]).to_numpy()
    long["hits"] = long["hits"].astype("int64")
    long["n"] = long["n"].astype("int64")
    order = {t: k for k, t in enumerate(themes)}
    long = long.sort_values(keys + ["theme"], key=lambda s: s.map(order) if s.name == "theme" else s,
                            kind="stable").reset_index(drop=True)
    return long[keys + ["theme", "n", "hits"]]
