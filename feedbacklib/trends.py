"""Month-over-month movement of theme rates and KPIs.

Rates are per 100 comments with text, as everywhere in the report. A change is
tested with a two-proportion test and the theme tests are adjusted together
(Benjamini-Hochberg), so a "jump" is only claimed when the data supports it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import schema as S
from .compare import benjamini_hochberg, two_proportion_test, wilson_interval

__all__ = ["theme_trends", "monthly_theme_rates"]


def _has_text(frame: pd.DataFrame) -> pd.Series:
    return frame[S.TEXT].fillna("").str.len() > 0


def monthly_theme_rates(history: pd.DataFrame, themes: list[str], *, by: str | None = None) -> pd.DataFrame:
    """Theme rate per 100 comments by month (and optionally by ``by``), with Wilson intervals.

    Returns long format: month, [by], theme, n, hits, rate, lo, hi.
    """
    texts = history[_has_text(history)]
    keys = [S.MONTH] + ([by] if by else [])
    rows = []
    for key, sub in texts.groupby(keys, observed=True, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        n = len(sub)
        for theme in themes:
            hits = int(sub[S.theme_column(theme)].sum())
            lo, hi = wilson_interval(hits, n)
            rows.append({**dict(zip(keys, key)), "theme": theme, "n": n, "hits": hits,
                         "rate": 100 * hits / n if n else np.nan, "lo": 100 * lo, "hi": 100 * hi})
    return pd.DataFrame(rows)


def theme_trends(
    history: pd.DataFrame,
    month: str,
    themes: list[str],
    *,
    baseline_months: int = 3,
    alpha: float = 0.05,
    min_n: int = 30,
) -> pd.DataFrame:
    """Each theme's rate this month against last month and against the recent average.

    The baseline is the pooled rate over up to ``baseline_months`` months before
    ``month``; a *spike* is a significant rise against that baseline (q < alpha
    after Benjamini-Hochberg across the themes).

    Returns one row per theme: theme, n, rate, prev_month, prev_rate, change,
    p_prev, baseline_n, baseline_rate, change_vs_baseline, p_baseline,
    q_baseline, spike (bool), drop (bool).
    """
    texts = history[_has_text(history)]
    months = sorted(m for m in texts[S.MONTH].unique() if m < month)
    prev = months[-1] if months else None
    base_months = months[-baseline_months:]
    cur = texts[texts[S.MONTH] == month]
    prv = texts[texts[S.MONTH] == prev] if prev else texts.iloc[0:0]
    base = texts[texts[S.MONTH].isin(base_months)]
    rows = []
    for theme in themes:
        col = S.theme_column(theme)
        x, n = int(cur[col].sum()), len(cur)
        xp, np_ = int(prv[col].sum()), len(prv)
        xb, nb = int(base[col].sum()), len(base)
        rows.append({
            "theme": theme, "n": n, "rate": 100 * x / n if n else np.nan,
            "prev_month": prev, "prev_n": np_, "prev_rate": 100 * xp / np_ if np_ else np.nan,
            "p_prev": two_proportion_test(x, n, xp, np_) if n and np_ else np.nan,
            "baseline_n": nb, "baseline_rate": 100 * xb / nb if nb else np.nan,
            "p_baseline": two_proportion_test(x, n, xb, nb) if n and nb else np.nan,
        })
    out = pd.DataFrame(rows)
    out["change"] = out["rate"] - out["prev_rate"]
    out["change_vs_baseline"] = out["rate"] - out["baseline_rate"]
    out["q_prev"] = benjamini_hochberg(out["p_prev"].to_numpy(dtype=float))
    out["q_baseline"] = benjamini_hochberg(out["p_baseline"].to_numpy(dtype=float))
    big_enough = (out["n"] >= min_n) & (out["baseline_n"] >= min_n)
    out["spike"] = big_enough & (out["q_baseline"] < alpha) & (out["change_vs_baseline"] > 0)
    out["drop"] = big_enough & (out["q_baseline"] < alpha) & (out["change_vs_baseline"] < 0)
    return out
