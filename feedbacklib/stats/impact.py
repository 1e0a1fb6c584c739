"""Theme impact: how much each theme moves the overall score, with a seeded bootstrap interval.

The score and the theme pattern of a comment are all the statistic reads, so a
month reduces to the count of scored rows per (score value, theme pattern) cell
(a few hundred cells for a million rows): the figures are sums over cells, and
a bootstrap resample is a multinomial draw of the cell counts (same distribution
as drawing rows). :func:`impact_from_summary` works from a
:class:`~feedbacklib.stats.summaries.Summary`; :func:`theme_impact` from rows.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

from . import _frame as F
from . import columns as K
from . import intervals as I
from . import settings as ST
from .. import schema as S
from . import summaries as SU
from .summaries import Summary

__all__ = ["theme_impact", "impact_from_summary", "IMPACT_COLUMNS"]

IMPACT_COLUMNS = (K.THEME, K.N_SCORED, K.N_WITH, K.SCORE_WITH, K.SCORE_WITHOUT, K.SCORE_OVERALL,
                  K.IMPACT, K.IMPACT_LO, K.IMPACT_HI)

#: Above this many distinct (score, theme pattern) cells, theme_impact resamples raw rows.
_MAX_IMPACT_CELLS = 20_000


def _sorted_cells(values: np.ndarray, words: list[np.ndarray], counts: np.ndarray, n_themes: int):
    """Cells in the lexicographic order of (value, flag_1, ..., flag_k), as ``np.unique(axis=0)`` sorts them."""
    order = np.lexsort([*reversed(words), values])
    table = pd.DataFrame({col: w[order] for col, w in zip(SU.pattern_columns(n_themes), words)})
    return values[order], SU.pattern_flags(table, n_themes), counts[order]


def _impact_cells(values: np.ndarray, flags: dict[str, np.ndarray], theme_ids: list[str]):
    """Distinct (score, theme flags) combinations with their counts, or None when there are too many.

    Grouped on integer codes (theme flags packed into int64 words) instead of
    ``np.unique(axis=0)`` over a rows x themes float matrix; same cells, same order.
    """
    if not theme_ids:
        return None
    words = SU._pack([flags[t] for t in theme_ids], len(values))
    ids, first = SU._group_ids([values, *words], len(values))
    if len(first) > _MAX_IMPACT_CELLS:
        return None
    counts = np.bincount(ids, minlength=len(first))
    return _sorted_cells(values[first], [w[first] for w in words], counts, len(theme_ids))


def _draws(rng: np.random.Generator, n: int, p: np.ndarray, n_resamples: int):
    """Multinomial cell counts of ``n_resamples`` resamples, in blocks that fit in memory."""
    rows = max(1, min(n_resamples, I._MAX_BLOCK // max(p.size, 1)))
    if rows >= n_resamples:
        yield rng.multinomial(n, p, size=n_resamples).astype(float)
        return
    done = 0
    while done < n_resamples:
        r = min(rows, n_resamples - done)
        yield rng.multinomial(n, p, size=r).astype(float)
        done += r


def _from_cells(theme_ids: list[str], cells, n_resamples: int, confidence: float,
                random_state: int | None) -> pd.DataFrame:
    cell_values, cell_flags, cell_counts = cells
    counts = cell_counts.astype(float)
    n = int(cell_counts.sum())
    weighted = counts * cell_values
    overall = float(weighted.sum() / n) if n else math.nan
    reps: dict[str, list[np.ndarray]] = {t: [] for t in theme_ids}
    if n:
        # A resample is described by how often each (score, theme pattern) cell is drawn:
        # multinomial counts, O(cells) per resample instead of O(rows), same distribution.
        # One matrix product per block for every theme: columns are the score, then per theme the
        # score and the count of the cells without it (exact sums for integer scores, as before).
        keep = ~cell_flags
        weights = np.column_stack([cell_values, cell_values[:, None] * keep, keep]).astype(float)
        k = len(theme_ids)
        rng = np.random.default_rng(random_state)
        for draws in _draws(rng, n, cell_counts / n, n_resamples):
            sums = draws @ weights
            total = sums[:, 0] / n
            with np.errstate(invalid="ignore", divide="ignore"):
                without = sums[:, 1:1 + k] / sums[:, 1 + k:]
            for j, t in enumerate(theme_ids):
                reps[t].append(total - without[:, j])
    rows = []
    for k, t in enumerate(theme_ids):
        f = cell_flags[:, k]
        n_with = int(cell_counts[f].sum())
        with_ = float(weighted[f].sum() / n_with) if n_with else math.nan
        without = float(weighted[~f].sum() / (n - n_with)) if n - n_with else math.nan
        rows.append(_row(t, n, n_with, with_, without, overall, reps[t], confidence))
    return _table(rows)


def _row(t: str, n: int, n_with: int, with_: float, without: float, overall: float,
         reps: list[np.ndarray], confidence: float) -> dict:
    low, high = (I.percentile_interval(np.concatenate(reps), confidence)
                 if reps and n_with else (math.nan, math.nan))
    if n_with == 0 and n:
        low = high = 0.0
    return {K.THEME: t, K.N_SCORED: n, K.N_WITH: n_with, K.SCORE_WITH: with_,
            K.SCORE_WITHOUT: without, K.SCORE_OVERALL: overall,
            K.IMPACT: overall - without, K.IMPACT_LO: low, K.IMPACT_HI: high}


def _table(rows: list[dict]) -> pd.DataFrame:
    out = pd.DataFrame(rows, columns=list(IMPACT_COLUMNS))
    return out.sort_values(K.IMPACT, kind="mergesort", na_position="last").reset_index(drop=True)


def _from_rows(theme_ids: list[str], values: np.ndarray, flags: dict[str, np.ndarray], n_resamples: int,
               confidence: float, random_state: int | None) -> pd.DataFrame:
    """The raw-row bootstrap (continuous scores with more distinct cells than ``_MAX_IMPACT_CELLS``)."""
    n = values.size
    overall = float(values.mean()) if n else math.nan
    reps: dict[str, list[np.ndarray]] = {t: [] for t in theme_ids}
    if n:
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
        rows.append(_row(t, n, n_with, with_, without, overall, reps[t], confidence))
    return _table(rows)


def theme_impact(
    frame: pd.DataFrame,
    *,
    score: str = S.CSAT,
    themes: Iterable[str] | None = None,
    n_resamples: int = ST.DEFAULT_RESAMPLES,
    confidence: float = ST.CONFIDENCE,
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
    values = F.nps_points(raw[scored]) if score == S.NPS else raw[scored]
    text = F.has_text(frame)[scored]
    flags = {t: F.bool_flags(frame, S.theme_column(t))[scored] & text for t in theme_ids}
    cells = _impact_cells(values, flags, theme_ids) if values.size else None
    if cells is not None:
        return _from_cells(theme_ids, cells, n_resamples, confidence, random_state)
    return _from_rows(theme_ids, values, flags, n_resamples, confidence, random_state)


def impact_from_summary(
    summary: Summary,
    *,
    score: str = S.CSAT,
    n_resamples: int = ST.DEFAULT_RESAMPLES,
    confidence: float = ST.CONFIDENCE,
    random_state: int | None = 0,
) -> pd.DataFrame:
    """:func:`theme_impact` from a :class:`~feedbacklib.stats.summaries.Summary` that keeps ``score``.

    Identical to :func:`theme_impact` on the summary's rows while the rows fall in at
    most ``_MAX_IMPACT_CELLS`` (score, theme pattern) cells; above that the cell
    bootstrap is drawn in blocks (the same distribution; :func:`theme_impact` on rows
    then resamples rows, so its interval differs by bootstrap noise).
    """
    if score not in summary.scores:
        raise ValueError(f"The summary keeps no table for the score {score!r} (it keeps "
                         f"{sorted(summary.scores)}). Build it with summarise(frame, scores=({score!r},)).")
    theme_ids = list(summary.themes)
    table = summary.scores[score]
    raw = table[SU.VALUE].to_numpy(dtype=float)
    scored = ~np.isnan(raw)
    values = np.where(raw >= K.PROMOTER_MIN, 100.0, np.where(raw <= K.DETRACTOR_MAX, -100.0, 0.0)) \
        if score == S.NPS else raw
    part = table.loc[scored, SU.pattern_columns(len(theme_ids))].assign(
        **{SU.VALUE: values[scored], SU.COUNT: table[SU.COUNT].to_numpy()[scored]})
    keys = [SU.VALUE, *SU.pattern_columns(len(theme_ids))]
    g = part.groupby(keys, sort=False)[SU.COUNT].sum().reset_index()
    words = [g[c].to_numpy(dtype=np.int64) for c in SU.pattern_columns(len(theme_ids))]
    cells = _sorted_cells(g[SU.VALUE].to_numpy(dtype=float), words, g[SU.COUNT].to_numpy(dtype=np.int64),
                          len(theme_ids))
    if not theme_ids:
        return _table([])
    # (a row without a comment carries no theme: its pattern is 0 in the summary)
    return _from_cells(theme_ids, cells, n_resamples, confidence, random_state)
