"""Row-level reference (feedbacklib/stats/breakdowns.py before issue 19 item 1; verbatim, imports aside).

The smaller tables the report's charts and sentences show, computed before rendering.

Satisfied share by channel and side (the case-mix chart), praise per team against
the other teams, satisfied share per team partially pooled (the funnel plot),
sentiment shares per provider, and whether a headline figure changed clearly
against last month. The report only formats these (:mod:`feedbacklib.report`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from feedbacklib.pooling import group_counts, pooled_rates
from feedbacklib.schema import (
    CHANNEL, CSAT, CUSTOMER_KEY, IN_HOUSE, OUTSOURCED, SENTIMENT_LABEL, SERVICE_MODEL, SOURCE, TEAM, UNKNOWN, VENDOR,
    theme_column,
)

from feedbacklib.stats._frame import bool_flags, has_text
from feedbacklib.stats.columns import SATISFIED_MIN_CSAT
from feedbacklib.stats.intervals import proportion_interval
from feedbacklib.stats.settings import ALPHA, CONFIDENCE, MIN_N
from feedbacklib.stats.significance import benjamini_hochberg, two_proportion_test

__all__ = [
    "CHANNEL_MIN_RATED", "CHANNEL_COLUMNS", "TEAM_PRAISE_COLUMNS", "SENTIMENT_PARTS", "HEADLINE_METRICS",
    "channel_satisfaction", "team_praise", "pooled_team_rates", "sentiment_shares", "clear_change",
    "headline_changes", "top_movers", "Volume", "volume", "source_counts", "team_service_models",
]

#: A channel is shown for a side only with at least this many rated contacts.
CHANNEL_MIN_RATED = 5
#: Columns of :func:`channel_satisfaction`.
CHANNEL_COLUMNS = ("channel", "in_house_share", "outsourced_share", "group", "rate", "lo", "hi", "n")
#: Columns of :func:`team_praise`.
TEAM_PRAISE_COLUMNS = ("team", "n", "rate", "rest_rate", "p_value", "q_value", "significant")
#: The sentiment labels, in the order the chart stacks them.
SENTIMENT_PARTS = ("negative", "neutral", "positive")
#: The headline figures (columns of the KPI tables) and whether higher is better for customers.
HEADLINE_METRICS = (
    ("satisfied_share", True),
    ("csat_mean", True),
    ("nps", True),
    ("negative_share", False),
    ("first_response_median", False),
    ("fcr_share", True),
)
#: Labels of the sentiment chart's providers that are not a vendor name.
IN_HOUSE_PROVIDER = "In-house"
OUTSOURCED_PROVIDER = "Outsourced"
UNKNOWN_PROVIDER = "Unknown team"


def channel_satisfaction(frame: pd.DataFrame, *, min_rated: int = CHANNEL_MIN_RATED,
                         confidence: float = CONFIDENCE) -> pd.DataFrame:
    """Satisfied share (per 100 rated contacts) by channel, in-house against outsourced.

    One row per channel x side with at least ``min_rated`` rated contacts, channels
    ordered by the largest share of either side's rated contacts they hold. Columns
    :data:`CHANNEL_COLUMNS`: ``channel`` (title case), ``in_house_share`` /
    ``outsourced_share`` (the channel's share of each side's rated contacts, 0..1),
    ``group`` (service model), ``rate``/``lo``/``hi`` (per 100, with the configured
    interval), ``n`` (the side's rated contacts). Empty when there is no channel or
    rating, or only one side has rated contacts.
    """
    empty = pd.DataFrame(columns=list(CHANNEL_COLUMNS))
    if CHANNEL not in frame.columns or CSAT not in frame.columns:
        return empty
    csat = pd.to_numeric(frame[CSAT], errors="coerce")
    model = frame[SERVICE_MODEL].astype("string")
    keep = csat.notna() & model.isin([IN_HOUSE, OUTSOURCED]) & frame[CHANNEL].notna()
    rated = pd.DataFrame({"channel": frame.loc[keep, CHANNEL].astype("string").str.strip().str.title(),
                          "group": model[keep], "satisfied": csat[keep] >= SATISFIED_MIN_CSAT})
    if rated.empty or rated["group"].nunique() < 2:
        return empty
    counts = rated.groupby(["channel", "group"]).agg(x=("satisfied", "sum"), n=("satisfied", "size")).reset_index()
    counts = counts[counts["n"] >= min_rated].reset_index(drop=True)
    if counts.empty:  # no channel has enough rated contacts on a side: nothing to draw
        return empty
    totals = rated.groupby("group").size()
    shares = counts["n"].to_numpy(dtype=float) / counts["group"].map(totals).to_numpy(dtype=float)
    mix = counts.assign(share=shares).pivot(index="channel", columns="group", values="share").fillna(0.0)
    lo, hi = proportion_interval(counts["x"].to_numpy(), counts["n"].to_numpy(), confidence)
    rates = pd.DataFrame({
        "channel": counts["channel"],
        "in_house_share": counts["channel"].map(lambda c: mix.loc[c].get(IN_HOUSE, 0)),
        "outsourced_share": counts["channel"].map(lambda c: mix.loc[c].get(OUTSOURCED, 0)),
        "group": counts["group"], "rate": 100 * counts["x"] / counts["n"], "lo": 100 * np.asarray(lo),
        "hi": 100 * np.asarray(hi), "n": counts["group"].map(totals)})
    order = mix.max(axis=1).sort_values(ascending=False).index
    return rates.set_index("channel").loc[list(order)].reset_index()[list(CHANNEL_COLUMNS)]


def team_praise(frame: pd.DataFrame, *, min_n: int = MIN_N, alpha: float = ALPHA) -> pd.DataFrame:
    """Praise rate per team against all other teams, with BH-adjusted p-values.

    Among comments with text (:func:`~feedbacklib.stats.has_text`). Columns
    :data:`TEAM_PRAISE_COLUMNS`; ``significant``: q below ``alpha``, the team's rate
    above the others' and at least ``min_n`` comments. Sorted by ``q_value``.
    """
    text = has_text(frame)
    praise = bool_flags(frame, theme_column("praise"))[text]
    counts = pd.DataFrame({"team": frame[TEAM].to_numpy()[text], "x": praise})
    counts = counts.groupby("team", observed=True, sort=True)["x"].agg(["sum", "size"])
    total_x, total_n = int(praise.sum()), int(text.sum())
    rows = []
    for team, (x, n) in counts.iterrows():
        x, n = int(x), int(n)
        xr, nr = total_x - x, total_n - n  # every other comment with text, a missing team included
        rows.append({"team": team, "n": n, "rate": x / n if n else np.nan,
                     "rest_rate": xr / nr if nr else np.nan, "p_value": two_proportion_test(x, n, xr, nr)})
    out = pd.DataFrame(rows, columns=["team", "n", "rate", "rest_rate", "p_value"])
    out["q_value"] = benjamini_hochberg(out["p_value"].to_numpy(dtype=float)) if len(out) else []
    out["significant"] = (out["q_value"] < alpha) & (out["rate"] > out["rest_rate"]) & (out["n"] >= min_n)
    return out.sort_values("q_value")


def pooled_team_rates(frame: pd.DataFrame) -> pd.DataFrame:
    """Satisfied share (CSAT 4–5) per team, partially pooled toward its service model's mean
    (see :mod:`feedbacklib.pooling`): what the funnel plot and the team ranking show."""
    if frame.empty or CSAT not in frame.columns or TEAM not in frame.columns:
        return pooled_rates(pd.DataFrame(columns=["group", "model", "x", "n"]))
    csat = pd.to_numeric(frame[CSAT], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    known = ~np.isnan(csat)
    counts = group_counts(frame, TEAM, np.nan_to_num(csat) >= SATISFIED_MIN_CSAT, known, SERVICE_MODEL)
    return pooled_rates(counts)


def sentiment_shares(frame: pd.DataFrame) -> pd.DataFrame:
    """Share of negative, neutral and positive comments per provider (in-house, each vendor, unknown team).

    Index: the provider; columns :data:`SENTIMENT_PARTS` (0..1, each row sums to 1) and ``n``.
    """
    frame = frame[frame[SENTIMENT_LABEL].notna()]
    group = np.where(frame[SERVICE_MODEL].astype("string") == OUTSOURCED,
                     frame[VENDOR].fillna(OUTSOURCED_PROVIDER).astype(str), IN_HOUSE_PROVIDER)
    group = pd.Series(group, index=frame.index)
    group[frame[SERVICE_MODEL].astype("string") == UNKNOWN] = UNKNOWN_PROVIDER
    shares = pd.crosstab(group, frame[SENTIMENT_LABEL], normalize="index")
    for part in SENTIMENT_PARTS:
        if part not in shares:
            shares[part] = 0.0
    shares["n"] = group.value_counts()
    return shares


def _num(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def clear_change(cur, prev, cur_lo, cur_hi, prev_lo, prev_hi, higher_better: bool,
                 confidence: float = CONFIDENCE) -> str:
    """``"better"``, ``"worse"`` or ``"same"`` (no clear change) for a change between two estimates.

    Clear = the difference is more than z standard errors (1.96 at 95%), each standard
    error taken from its estimate's interval; missing intervals give ``"same"``.
    """
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    c, p = _num(cur), _num(prev)
    se = [(_num(h) - _num(lo_)) / (2 * z) for lo_, h in ((cur_lo, cur_hi), (prev_lo, prev_hi))]
    if any(math.isnan(v) for v in (c, p, *se)):
        return "same"
    sd = math.hypot(*se)
    if sd <= 0 or abs(c - p) <= z * sd:
        return "same"
    return "better" if (c > p) == higher_better else "worse"


def headline_changes(kpi_tables: pd.DataFrame, month: str, previous_month: str | None,
                     group: str = "all") -> dict[str, str]:
    """For each of :data:`HEADLINE_METRICS`: how ``group``'s figure changed from ``previous_month``
    (:func:`clear_change`); a metric missing in either month is left out."""
    if kpi_tables is None or kpi_tables.empty or not previous_month:
        return {}
    rows = kpi_tables[kpi_tables["group"].astype("string") == group].set_index("month")
    if month not in rows.index or previous_month not in rows.index:
        return {}
    cur, prev = rows.loc[month], rows.loc[previous_month]
    out = {}
    for col, higher_better in HEADLINE_METRICS:
        if col not in cur.index or math.isnan(_num(cur[col])) or math.isnan(_num(prev.get(col))):
            continue
        out[col] = clear_change(cur[col], prev[col], cur.get(f"{col}_lo"), cur.get(f"{col}_hi"),
                                prev.get(f"{col}_lo"), prev.get(f"{col}_hi"), higher_better)
    return out


def top_movers(trend: pd.DataFrame, k: int = 3) -> list[str]:
    """The ``k`` themes of :func:`~feedbacklib.history.theme_trends_from_counts` that moved most
    against the recent average (largest absolute ``change_vs_baseline``)."""
    shown = trend.sort_values("change_vs_baseline", ascending=False, key=lambda s: s.abs())
    return shown.head(k)["theme"].tolist()


@dataclass(frozen=True)
class Volume:
    """How much feedback a month holds: responses (rows), and distinct customers where any customer key is known."""

    responses: int
    #: Distinct customer keys, or None when no row has one.
    customers: int | None = None
    #: Every row has a customer key (else rows without one may be more people: "at least").
    all_known: bool = False


def volume(frame: pd.DataFrame) -> Volume:
    """The :class:`Volume` of ``frame``."""
    keys = frame[CUSTOMER_KEY] if CUSTOMER_KEY in frame.columns else None
    if keys is None or not keys.notna().any():
        return Volume(responses=len(frame))
    return Volume(responses=len(frame), customers=int(keys.nunique()), all_known=bool(keys.notna().all()))


def source_counts(frame: pd.DataFrame) -> dict[str, int]:
    """Rows per source (survey, complaint, ...), most frequent first."""
    return {str(src): int(n) for src, n in frame[SOURCE].value_counts().items()}


def team_service_models(frame: pd.DataFrame) -> dict[str, str]:
    """Each named team's service model (that of its first row)."""
    return (frame.dropna(subset=[TEAM]).drop_duplicates(TEAM)
            .set_index(TEAM)[SERVICE_MODEL].astype("string").to_dict())
