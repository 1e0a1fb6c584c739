"""Drivers: the effect of each theme on a score, all themes at once, by regression.

:func:`feedbacklib.compare.theme_impact` answers "how much would the overall
score change without this theme's comments" (the commercial tools' score
impact). :func:`theme_drivers` answers a complementary question: holding the
other themes fixed, how many points lower does a comment that mentions this
theme score? It fits, per group, an OLS of the score on one 0/1 indicator per
theme with HC1 standard errors (:func:`feedbacklib.casemix.ols_hc1`). Comments
often carry several themes, so a theme that only travels with a bad one gets
little blame here, unlike in a one-theme-at-a-time comparison.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

from feedbacklib.stats import _frame as F
from feedbacklib.stats import columns as K
from feedbacklib.stats import significance as SG
from feedbacklib import schema as S
from .casemix_rows import ols_hc1

__all__ = ["theme_drivers", "DRIVER_COLUMNS"]

DRIVER_COLUMNS = ("group", "theme", "score", "unit", "n", "n_with", "effect", "effect_lo", "effect_hi",
                  "p_value", "q_value", "significant", "reportable")
MIN_WITH = 10  # a theme needs this many scored comments to be estimated


def _score_values(frame: pd.DataFrame, score: str) -> np.ndarray:
    raw = F.numeric(frame, score)
    if score == S.NPS:
        return np.where(np.isnan(raw), np.nan,
                        np.where(raw >= K.PROMOTER_MIN, 100.0, np.where(raw <= K.DETRACTOR_MAX, -100.0, 0.0)))
    return raw


def _fit_group(label: str, part: pd.DataFrame, score: str, theme_ids: list[str], min_n: int,
               alpha: float, min_with: int) -> list[dict]:
    y = _score_values(part, score)
    keep = ~np.isnan(y) & F.has_text(part)
    y = y[keep]
    flags = {t: F.bool_flags(part, S.theme_column(t))[keep] for t in theme_ids}
    n = int(y.size)
    fitted = [t for t in theme_ids if min_with <= flags[t].sum() < n]
    unit = "NPS points" if score == S.NPS else (f"{score} points (1-5)" if score == S.CSAT else f"{score} units")
    estimates: dict[str, tuple[float, float, float, float]] = {}
    if fitted and n > len(fitted) + 1:
        X = np.column_stack([np.ones(n)] + [flags[t].astype(float) for t in fitted])
        fit = ols_hc1(X, y, ["intercept", *fitted])
        low, high = fit.ci()
        p = fit.p_values
        for i, t in enumerate(fitted, start=1):
            estimates[t] = (float(fit.coef[i]), float(low[i]), float(high[i]), float(p[i]))
    rows = []
    for t in theme_ids:
        eff, low, high, p = estimates.get(t, (math.nan,) * 4)
        rows.append({"group": label, "theme": t, "score": score, "unit": unit, "n": n,
                     "n_with": int(flags[t].sum()), "effect": eff, "effect_lo": low, "effect_hi": high,
                     "p_value": p})
    out = pd.DataFrame(rows)
    out["reportable"] = (out["n"] >= min_n) & out["effect"].notna()
    out["q_value"] = SG.benjamini_hochberg(np.where(out["reportable"], out["p_value"].to_numpy(dtype=float), np.nan))
    out["significant"] = (out["reportable"] & (out["q_value"] < alpha)).fillna(False).astype(bool)
    return out.to_dict("records")


def theme_drivers(
    frame: pd.DataFrame,
    score: str = S.CSAT,
    by: str | None = S.SERVICE_MODEL,
    *,
    themes: Iterable[str] | None = None,
    min_n: int = 30,
    alpha: float = 0.05,
    min_with: int = MIN_WITH,
) -> pd.DataFrame:
    """Regression effect of each theme on ``score``, per group of ``by`` plus ``"all"``.

    Model, per group: ``score ~ 1 + theme_1 + ... + theme_k`` over the rows
    with a comment and a score (a row without a comment cannot carry a theme).
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
    parts: list[tuple[str, pd.DataFrame]] = []
    if by is not None:
        F.require_column(frame, by, "by")
        parts = [(str(v), frame.loc[F.equals_mask(frame, by, v)]) for v in F.group_values(frame[by])]
    parts.append((K.ALL, frame))
    rows = []
    for label, part in parts:
        rows += _fit_group(label, part, score, theme_ids, min_n, alpha, min_with)
    out = pd.DataFrame(rows, columns=list(DRIVER_COLUMNS))
    order = {label: i for i, (label, _) in enumerate(parts)}
    out = out.assign(_g=out["group"].map(order)).sort_values(
        ["_g", "effect"], kind="mergesort", na_position="last").drop(columns="_g")
    return out[list(DRIVER_COLUMNS)].reset_index(drop=True)
