"""Small groups, honestly: partial pooling (empirical Bayes) and funnel-plot control limits.

A team with 40 responses and 70% satisfied is not better than a team with 400
responses and 60%: its rate is mostly noise. Two standard remedies, both here:

- :func:`pooled_rates` shrinks each group's rate toward the mean of its service
  model (in-house or outsourced) by a beta-binomial empirical-Bayes model: the
  fewer responses a group has, the more it is pulled toward that mean, so a
  ranking on the pooled rate is not driven by small-sample luck.
- :func:`funnel_limits` gives the 95% and 99.8% control limits of a funnel plot:
  the range a group's raw rate would fall in by chance alone, given its volume,
  if it performed like the overall mean. A group outside the 99.8% limits is
  very unlikely to differ by chance.

Examples
--------
>>> import pandas as pd
>>> counts = pd.DataFrame({"group": ["big", "small", "mid"], "model": ["a", "a", "a"],
...                        "x": [240, 28, 120], "n": [400, 40, 200]})
>>> out = pooled_rates(counts)
>>> bool(out.set_index("group").loc["small", "pooled_rate"] < 28 / 40)
True
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["pooled_rates", "funnel_limits", "group_counts", "Z_95", "Z_998", "POOLED_COLUMNS"]

#: Two-sided z of the funnel plot's inner (95%) and outer (99.8%) control limits.
Z_95 = float(stats.norm.ppf(0.975))
Z_998 = float(stats.norm.ppf(0.999))
#: Prior strength when the groups vary no more than chance predicts (then capped at the model's total n).
MAX_PRIOR_STRENGTH = 1e9

POOLED_COLUMNS = ("group", "model", "x", "n", "rate", "model_rate", "prior_strength", "pooled_rate",
                  "pooled_lo", "pooled_hi", "shrinkage", "overall_rate", "limit95_lo", "limit95_hi",
                  "limit998_lo", "limit998_hi", "outside95", "outside998")


def funnel_limits(p0: float, n, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper control limits of a proportion ``p0`` for volumes ``n`` (normal approximation, clipped to 0..1)."""
    n = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        half = z * np.sqrt(p0 * (1 - p0) / n)
    return np.clip(p0 - half, 0.0, 1.0), np.clip(p0 + half, 0.0, 1.0)


def _between_variance(x: np.ndarray, n: np.ndarray, centre: np.ndarray) -> float:
    """Method-of-moments variance of the true rates around their model means, beyond binomial noise."""
    ok = n > 0
    if ok.sum() < 2:
        return 0.0
    rate = x[ok] / n[ok]
    dev = (rate - centre[ok]) ** 2
    noise = centre[ok] * (1 - centre[ok]) / n[ok]
    w = n[ok] / n[ok].sum()
    return float(max(0.0, np.sum(w * (dev - noise)) * len(dev) / max(len(dev) - 1, 1)))


def pooled_rates(counts: pd.DataFrame, *, level: float = 0.95) -> pd.DataFrame:
    """Partially pooled rates of groups, shrunk toward their service model's mean.

    Parameters
    ----------
    counts : DataFrame
        One row per group: ``group``, ``model`` (the pooling level, e.g. the
        service model), ``x`` (successes, e.g. satisfied customers) and ``n``.
    level : float
        Coverage of the pooled rate's interval (a beta posterior interval).

    The between-group variance ``tau²`` of the true rates around their model
    means is estimated once over all groups (method of moments: observed
    spread minus binomial noise), which is steadier than one estimate per
    model when each model has only a few teams. Each group's prior is then a
    beta distribution with the model's mean ``m`` and that variance, i.e. of
    strength ``k = m(1-m)/tau² - 1``; the pooled rate is ``(x + k·m) / (n + k)``.
    ``shrinkage = k / (n + k)`` says how far a group is pulled (0 = not at all,
    1 = entirely to its model's mean). When the groups vary no more than
    chance predicts, ``tau² = 0`` and every group is pulled to its model's mean
    (the prior strength is capped at the model's total ``n``, so a pooled
    interval is never narrower than the model mean's own).

    Returns
    -------
    DataFrame
        ``POOLED_COLUMNS``: the raw ``rate``, ``model_rate``, ``prior_strength``,
        ``pooled_rate`` with ``pooled_lo``/``pooled_hi``, ``shrinkage``, and the
        funnel: ``overall_rate`` (all groups together), the 95% and 99.8% limits
        at the group's ``n`` and whether its raw rate lies ``outside95`` /
        ``outside998`` of them. Sorted by pooled rate, highest first.
    """
    if counts.empty:
        return pd.DataFrame(columns=list(POOLED_COLUMNS))
    frame = counts[["group", "model", "x", "n"]].copy()
    frame["x"] = pd.to_numeric(frame["x"], errors="coerce").fillna(0).astype(float)
    frame["n"] = pd.to_numeric(frame["n"], errors="coerce").fillna(0).astype(float)
    frame = frame[frame["n"] > 0].reset_index(drop=True)
    if frame.empty:
        return pd.DataFrame(columns=list(POOLED_COLUMNS))
    x, n = frame["x"].to_numpy(), frame["n"].to_numpy()
    sums = frame.groupby("model", dropna=False)[["x", "n"]].transform("sum")
    model_rate = (sums["x"] / sums["n"]).to_numpy()
    tau2 = _between_variance(x, n, model_rate)
    with np.errstate(divide="ignore", invalid="ignore"):
        k = np.where(tau2 > 0, model_rate * (1 - model_rate) / tau2 - 1, MAX_PRIOR_STRENGTH)
    # A prior is never stronger than the responses it is estimated from (its model's total), so the
    # interval of a fully pooled group stays as wide as that of its model's mean.
    k = np.clip(np.nan_to_num(k, nan=MAX_PRIOR_STRENGTH), 1e-6, sums["n"].to_numpy())
    a0, b0 = k * model_rate, k * (1 - model_rate)
    pooled = (x + a0) / (n + k)
    tail = (1 - level) / 2
    a, b = np.maximum(x + a0, 1e-9), np.maximum(n - x + b0, 1e-9)
    lo, hi = stats.beta.ppf(tail, a, b), stats.beta.ppf(1 - tail, a, b)
    overall = float(x.sum() / n.sum())
    l95, h95 = funnel_limits(overall, n, Z_95)
    l998, h998 = funnel_limits(overall, n, Z_998)
    rate = x / n
    out = frame.assign(
        rate=rate, model_rate=model_rate, prior_strength=k, pooled_rate=pooled, pooled_lo=lo, pooled_hi=hi,
        shrinkage=k / (n + k), overall_rate=overall, limit95_lo=l95, limit95_hi=h95,
        limit998_lo=l998, limit998_hi=h998,
        outside95=(rate < l95) | (rate > h95), outside998=(rate < l998) | (rate > h998),
    )
    out["n"] = out["n"].astype(int)
    out["x"] = out["x"].astype(int)
    return out.sort_values(["pooled_rate", "n"], ascending=[False, False], kind="mergesort")[
        list(POOLED_COLUMNS)].reset_index(drop=True)


def group_counts(frame: pd.DataFrame, by: str, flag: np.ndarray, known: np.ndarray, model: str) -> pd.DataFrame:
    """Successes and trials per ``by`` group (rows where ``known``), with each group's ``model`` (its most common)."""
    sub = pd.DataFrame({"group": frame[by].astype("string").to_numpy(), "model": frame[model].astype("string").to_numpy(),
                        "y": np.asarray(flag, dtype=bool)})[np.asarray(known, dtype=bool)]
    sub = sub.dropna(subset=["group"])
    if sub.empty:
        return pd.DataFrame(columns=["group", "model", "x", "n"])
    agg = sub.groupby("group", sort=True).agg(x=("y", "sum"), n=("y", "size")).reset_index()
    models = sub.groupby("group", sort=True)["model"].agg(lambda s: s.mode().iloc[0] if s.notna().any() else pd.NA)
    agg["model"] = agg["group"].map(models)
    return agg[["group", "model", "x", "n"]]
