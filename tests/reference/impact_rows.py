"""theme_impact as computed from rows before issue 19 (np.unique over rows x themes)."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

from feedbacklib.stats import _frame as F
from feedbacklib.stats import columns as K
from feedbacklib.stats import intervals as I
from feedbacklib.stats import settings as ST
from feedbacklib import schema as S

#: Above this many distinct (score, theme pattern) cells, theme_impact resamples raw rows.
_MAX_IMPACT_CELLS = 20_000


def _impact_cells(values: np.ndarray, flags: dict[str, np.ndarray], theme_ids: list[str]):
    """Distinct (score, theme flags) combinations with their counts, or None when there are too many."""
    if not theme_ids:
        return None
    pattern = np.column_stack([flags[t] for t in theme_ids]).astype(np.uint8)
    keys = np.column_stack([values, pattern.astype(float)])
    uniq, counts = np.unique(keys, axis=0, return_counts=True)
    if len(uniq) > _MAX_IMPACT_CELLS:
        return None
    return uniq[:, 0], uniq[:, 1:].astype(bool), counts


def theme_impact(
    frame: pd.DataFrame,
    *,
    score: str = S.CSAT,
    themes: Iterable[str] | None = None,
    n_resamples: int = ST.DEFAULT_RESAMPLES,
    confidence: float = 0.95,
    random_state: int | None = 0,
) -> pd.DataFrame:
    """How much each theme moves the overall score, with a seeded bootstrap interval.

    ``impact = score(all scored rows) - score(scored rows without the theme)``:
    how much the overall score would change if that theme's comments were not
    there (negative: the theme pulls the score down). ``score`` is ``"csat"``
    (mean), ``"nps"`` (Net Promoter Score, -100..100) or any numeric column
    (mean, e.g. ``"sentiment"``). A row carries a theme only if it has a
    comment mentioning it.

    Returns
    -------
    pandas.DataFrame
        Columns ``theme, n_scored, n_with, score_with, score_without,
        score_overall, impact, impact_lo, impact_hi``, sorted by ``impact``
        (most negative first; NaN last).

    Examples
    --------
    >>> theme_impact(tagged).head(3)                                 # doctest: +SKIP
    """
    theme_ids = F.themes_of(frame, themes)
    raw = F.numeric(frame, score)
    scored = ~np.isnan(raw)
    if score == S.NPS:
        values = F.nps_points(raw[scored])
    else:
        values = raw[scored]
    text = F.has_text(frame)[scored]
    flags = {t: F.bool_flags(frame, S.theme_column(t))[scored] & text for t in theme_ids}
    n = values.size
    overall = float(values.mean()) if n else math.nan

    reps: dict[str, list[np.ndarray]] = {t: [] for t in theme_ids}
    cells = _impact_cells(values, flags, theme_ids) if n else None
    if cells is not None:
        # A resample is described by how often each (score, theme pattern) cell is drawn:
        # multinomial counts, O(cells) per resample instead of O(rows), same distribution.
        cell_values, cell_flags, cell_counts = cells
        rng = np.random.default_rng(random_state)
        draws = rng.multinomial(n, cell_counts / n, size=n_resamples).astype(float)
        total = draws @ cell_values / n
        for k, t in enumerate(theme_ids):
            keep = ~cell_flags[:, k]
            with np.errstate(invalid="ignore", divide="ignore"):
                reps[t].append(total - (draws @ (cell_values * keep)) / (draws @ keep))
    elif n:
        rng = np.random.default_rng(random_state)
        for idx in I.index_blocks(rng, n, n_resamples):
            v = values[idx]
            total = v.mean(axis=1)
            for t in theme_ids:
                keep = ~flags[t][idx]
                with np.errstate(invalid="ignore", divide="ignore"):
                    without = (v * keep).sum(axis=1) / keep.sum(axis=1)
                reps[t].append(total - without)

    rows = []
    for t in theme_ids:
        f = flags[t]
        n_with = int(f.sum())
        with_ = float(values[f].mean()) if n_with else math.nan
        without = float(values[~f].mean()) if n - n_with else math.nan
        low, high = (I.percentile_interval(np.concatenate(reps[t]), confidence)
                     if reps[t] and n_with else (math.nan, math.nan))
        if n_with == 0 and n:
            low = high = 0.0
        rows.append({K.THEME: t, K.N_SCORED: n, K.N_WITH: n_with, K.SCORE_WITH: with_,
                     K.SCORE_WITHOUT: without, K.SCORE_OVERALL: overall,
                     K.IMPACT: overall - without, K.IMPACT_LO: low, K.IMPACT_HI: high})
    columns = [K.THEME, K.N_SCORED, K.N_WITH, K.SCORE_WITH, K.SCORE_WITHOUT, K.SCORE_OVERALL,
               K.IMPACT, K.IMPACT_LO, K.IMPACT_HI]
    out = pd.DataFrame(rows, columns=columns)
    return out.sort_values(K.IMPACT, kind="mergesort", na_position="last").reset_index(drop=True)
