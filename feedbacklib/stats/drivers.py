"""Drivers: the effect of each theme on a score, all themes at once, by regression.

:func:`feedbacklib.stats.impact.theme_impact` answers "how much would the overall
score change without this theme's comments" (the commercial tools' score
impact). :func:`theme_drivers` answers a complementary question: holding the
other themes fixed, how many points lower does a comment that mentions this
theme score? It fits, per group, an OLS of the score on one 0/1 indicator per
theme with HC1 standard errors. Comments often carry several themes, so a theme
that only travels with a bad one gets little blame here, unlike in a
one-theme-at-a-time comparison.

The regressors are a function of the comment's theme pattern, so the fit needs
only the count, sum and sum of squares of the score per pattern
(:func:`~feedbacklib.stats.casemix.ols_hc1_cells`): :func:`drivers_from_summary`
reads them from a :class:`~feedbacklib.stats.summaries.Summary`, and gives the
row-level fit's figures.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

from . import _frame as F
from . import columns as K
from . import significance as SG
from .. import schema as S
from . import settings as ST
from . import summaries as SU
from .casemix import ols_hc1_cells
from .summaries import Summary, summarise

__all__ = ["theme_drivers", "drivers_from_summary", "DRIVER_COLUMNS"]

DRIVER_COLUMNS = ("group", "theme", "score", "unit", "n", "n_with", "effect", "effect_lo", "effect_hi",
                  "p_value", "q_value", "significant", "reportable")
MIN_WITH = 10  # a theme needs this many scored comments to be estimated


def score_points(values: np.ndarray, score: str) -> np.ndarray:
    """A score as the regression reads it: NPS answers become +100 / 0 / -100 points."""
    if score == S.NPS:
        return np.where(np.isnan(values), np.nan,
                        np.where(values >= K.PROMOTER_MIN, 100.0, np.where(values <= K.DETRACTOR_MAX, -100.0, 0.0)))
    return values


def _moments(table: pd.DataFrame, score: str, n_themes: int):
    """Per theme pattern of the scored comments in ``table``: flags, count, sum and sum of squares."""
    words = SU.pattern_columns(n_themes)
    y = score_points(table[SU.VALUE].to_numpy(dtype=float), score)
    keep = table[SU.HAS_TEXT].to_numpy(dtype=bool) & ~np.isnan(y)
    count = table[SU.COUNT].to_numpy(dtype=float)
    part = table.loc[keep, words].assign(_n=count[keep], _s=count[keep] * y[keep],
                                         _ss=count[keep] * y[keep] ** 2)
    g = part.groupby(words, sort=True)[["_n", "_s", "_ss"]].sum().reset_index()
    return (SU.pattern_flags(g, n_themes), g["_n"].to_numpy(dtype=float), g["_s"].to_numpy(dtype=float),
            g["_ss"].to_numpy(dtype=float))


def _fit_group(label: str, table: pd.DataFrame, score: str, theme_ids: list[str], min_n: int,
               alpha: float, min_with: int) -> list[dict]:
    flags, count, total, sumsq = _moments(table, score, len(theme_ids))
    n = int(round(count.sum()))
    n_with = {t: int(round(count[flags[:, k]].sum())) for k, t in enumerate(theme_ids)}
    fitted = [k for k, t in enumerate(theme_ids) if min_with <= n_with[t] < n]
    unit = "NPS points" if score == S.NPS else (f"{score} points (1-5)" if score == S.CSAT else f"{score} units")
    estimates: dict[str, tuple[float, float, float, float]] = {}
    if fitted and n > len(fitted) + 1:
        X = np.column_stack([np.ones(len(count))] + [flags[:, k].astype(float) for k in fitted])
        fit = ols_hc1_cells(X, count, total, sumsq, ["intercept", *(theme_ids[k] for k in fitted)])
        low, high = fit.ci()
        p = fit.p_values
        for i, k in enumerate(fitted, start=1):
            estimates[theme_ids[k]] = (float(fit.coef[i]), float(low[i]), float(high[i]), float(p[i]))
    rows = []
    for t in theme_ids:
        eff, eff_lo, eff_hi, eff_p = estimates.get(t, (math.nan,) * 4)
        rows.append({"group": label, "theme": t, "score": score, "unit": unit, "n": n,
                     "n_with": n_with[t], "effect": eff, "effect_lo": eff_lo, "effect_hi": eff_hi,
                     "p_value": eff_p})
    out = pd.DataFrame(rows, columns=["group", "theme", "score", "unit", "n", "n_with", "effect", "effect_lo",
                                      "effect_hi", "p_value"])
    out["reportable"] = (out["n"] >= min_n) & out["effect"].notna()
    out["q_value"] = SG.benjamini_hochberg(np.where(out["reportable"], out["p_value"].to_numpy(dtype=float), np.nan))
    out["significant"] = (out["reportable"] & (out["q_value"] < alpha)).fillna(False).astype(bool)
    return out.to_dict("records")


def drivers_from_summary(
    summary: Summary,
    score: str = S.CSAT,
    by: str | None = S.SERVICE_MODEL,
    *,
    min_n: int = ST.MIN_N,
    alpha: float = ST.ALPHA,
    min_with: int = MIN_WITH,
) -> pd.DataFrame:
    """:func:`theme_drivers` from a :class:`~feedbacklib.stats.summaries.Summary` that keeps
    ``score`` (``summarise(..., scores=(score,))``) and, unless ``by`` is None, is keyed by ``by``."""
    if score not in summary.scores:
        raise ValueError(f"The summary keeps no table for the score {score!r} (it keeps "
                         f"{sorted(summary.scores)}). Build it with summarise(frame, scores=({score!r},)).")
    table = summary.scores[score]
    theme_ids = list(summary.themes)
    parts: list[tuple[str, pd.DataFrame]] = []
    if by is not None:
        F.require_column(table, by, "by")
        parts = [(str(v), table.loc[F.equals_mask(table, by, v)]) for v in F.group_values(table[by])]
    parts.append((K.ALL, table))
    rows = []
    for label, part in parts:
        rows += _fit_group(label, part, score, theme_ids, min_n, alpha, min_with)
    out = pd.DataFrame(rows, columns=list(DRIVER_COLUMNS))
    order = {label: i for i, (label, _) in enumerate(parts)}
    out = out.assign(_g=out["group"].map(order)).sort_values(
        ["_g", "effect"], kind="mergesort", na_position="last").drop(columns="_g")
    return out[list(DRIVER_COLUMNS)].reset_index(drop=True)


def theme_drivers(
    frame: pd.DataFrame,
    score: str = S.CSAT,
    by: str | None = S.SERVICE_MODEL,
    *,
    themes: Iterable[str] | None = None,
    min_n: int = ST.MIN_N,
    alpha: float = ST.ALPHA,
    min_with: int = MIN_WITH,
) -> pd.DataFrame:
    """Regression effect of each theme on ``score``, per group of ``by`` plus ``"all"``.

    Model, per group: ``score ~ 1 + theme_1 + ... + theme_k`` over the rows
    with a comment and a score (a row without a comment cannot carry a theme),
    with HC1 standard errors, fitted from the rows' theme-pattern summary
    (:func:`drivers_from_summary`).
    ``score`` is ``"csat"`` (1-5), ``"nps"`` (each answer scored +100 / 0 / -100,
    so an effect is in NPS points) or any numeric column (e.g. ``"sentiment"``).
    A theme with fewer than ``min_with`` scored comments in the group (or on
    every one of them) is not estimated (NaN). ``q_value`` is Benjamini-Hochberg
    across the themes of one group; ``significant`` needs ``q < alpha`` and
    ``n >= min_n``.

    Returns
    -------
    pandas.DataFrame
        Columns ``group, theme, score, unit, n, n_with, effect, effect_lo,
        effect_hi, p_value, q_value, significant, reportable``; ``effect`` is
        the OLS coefficient (negative: comments with the theme score lower,
        other themes held fixed), ``effect_lo``/``effect_hi`` its 95% HC1
        interval. Sorted by group (groups in ``kpi_table`` order, ``"all"``
        last), then effect (most negative first, NaN last).

    Examples
    --------
    >>> theme_drivers(tagged, score="nps", by="service_model")   # doctest: +SKIP
    """
    theme_ids = F.themes_of(frame, themes)
    if by is not None:
        F.require_column(frame, by, "by")
    summary = summarise(frame, themes=theme_ids, keys=(by,) if by is not None else (), strata=None,
                        scores=(score,))
    return drivers_from_summary(summary, score, by, min_n=min_n, alpha=alpha, min_with=min_with)
