"""The smaller tables the report's charts and sentences show, computed before rendering.

Satisfied share by channel and side (the case-mix chart), praise per team against
the other teams, satisfied share per team partially pooled (the funnel plot),
sentiment shares per provider, and whether a headline figure changed clearly
against last month. The report only formats these (:mod:`feedbacklib.report`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from feedbacklib.pooling import pooled_rates
from feedbacklib.schema import (
    CHANNEL, CSAT, CUSTOMER_KEY, IN_HOUSE, OUTSOURCED, SENTIMENT_LABEL, SERVICE_MODEL, SOURCE, TEAM, UNKNOWN, VENDOR,
)

from ..additive import Additive
from . import summaries as SU
from .summaries import Summary, label_column, summarise
from .columns import SENTIMENT_PARTS
from .intervals import proportion_interval
from .settings import ALPHA, CONFIDENCE, MIN_N
from .significance import benjamini_hochberg, two_proportion_test

__all__ = [
    "CHANNEL_MIN_RATED", "CHANNEL_COLUMNS", "TEAM_PRAISE_COLUMNS", "SENTIMENT_PARTS", "HEADLINE_METRICS",
    "channel_satisfaction", "team_praise", "pooled_team_rates", "sentiment_shares", "clear_change",
    "headline_changes", "top_movers", "Volume", "volume", "source_counts", "team_service_models",
    "channel_satisfaction_from_summary", "team_praise_from_summary", "pooled_team_rates_from_summary",
    "sentiment_shares_from_summary", "source_counts_from_summary", "team_service_models_from_summary",
]

#: A channel is shown for a side only with at least this many rated contacts.
CHANNEL_MIN_RATED = 5
#: Columns of :func:`channel_satisfaction`.
CHANNEL_COLUMNS = ("channel", "in_house_share", "outsourced_share", "group", "rate", "lo", "hi", "n")
#: Columns of :func:`team_praise`.
TEAM_PRAISE_COLUMNS = ("team", "n", "rate", "rest_rate", "p_value", "q_value", "significant")
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
    if CHANNEL not in frame.columns or CSAT not in frame.columns:
        return pd.DataFrame(columns=list(CHANNEL_COLUMNS))
    summary = summarise(frame, themes=[], keys=(SERVICE_MODEL,), strata=(CHANNEL,), scores=(), measures=("csat",))
    return channel_satisfaction_from_summary(summary, min_rated=min_rated, confidence=confidence)


def channel_satisfaction_from_summary(summary: Summary, *, min_rated: int = CHANNEL_MIN_RATED,
                                      confidence: float = CONFIDENCE) -> pd.DataFrame:
    """:func:`channel_satisfaction` from a :class:`~feedbacklib.stats.summaries.Summary` keyed by service
    model with the channel among its strata (:data:`~feedbacklib.stats.summaries.DEFAULT_STRATA`)."""
    empty = pd.DataFrame(columns=list(CHANNEL_COLUMNS))
    if CHANNEL not in summary.columns or CSAT not in summary.columns:
        return empty
    cells = summary.cells
    for col in (CHANNEL, SERVICE_MODEL):
        if col not in cells.columns:
            raise ValueError(f"The summary has no {col!r} cells (keys {list(summary.keys)}, strata "
                             f"{list(summary.strata)}): build it with summarise(frame, keys=(..., {SERVICE_MODEL!r}), "
                             f"strata=(..., {CHANNEL!r})).")
    model = cells[SERVICE_MODEL].astype("string")
    keep = ((cells[SU.CSAT_N] > 0) & model.isin([IN_HOUSE, OUTSOURCED]) & cells[CHANNEL].notna()).to_numpy(dtype=bool)
    rated = pd.DataFrame({"channel": cells.loc[keep, CHANNEL].astype("string").str.strip().str.title(),
                          "group": model[keep], "x": cells.loc[keep, SU.SATISFIED].astype("Int64"),
                          "n": cells.loc[keep, SU.CSAT_N]})   # x as the canonical frame's nullable csat gives it
    if rated.empty or rated["group"].nunique() < 2:
        return empty
    counts = rated.groupby(["channel", "group"]).agg(x=("x", "sum"), n=("n", "sum")).reset_index()
    return _channel_table(counts, rated.groupby("group")["n"].sum(), min_rated, confidence)


def _channel_table(counts: pd.DataFrame, totals: pd.Series, min_rated: int, confidence: float) -> pd.DataFrame:
    """The channel chart's table from satisfied/rated counts per (title-case channel, side) and rated per side."""
    empty = pd.DataFrame(columns=list(CHANNEL_COLUMNS))
    counts = counts[counts["n"] >= min_rated].reset_index(drop=True)
    if counts.empty:  # no channel has enough rated contacts on a side: nothing to draw
        return empty
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
    frame[TEAM]  # noqa: B018 - a frame without teams is an error (KeyError), as it always was
    return team_praise_from_summary(summarise(frame, themes=[], keys=(TEAM,), strata=(), scores=(), measures=("text", "praise")),
                                    min_n=min_n, alpha=alpha)


def team_praise_from_summary(summary: Summary, *, min_n: int = MIN_N, alpha: float = ALPHA) -> pd.DataFrame:
    """:func:`team_praise` from a :class:`~feedbacklib.stats.summaries.Summary` keyed by team."""
    cells = summary.cells
    if TEAM not in cells.columns:
        raise ValueError(f"The summary is not keyed by {TEAM!r} (keys {list(summary.keys)}): build it with "
                         f"summarise(frame, keys=(..., {TEAM!r})).")
    texts = (cells[SU.N_TEXT] > 0).to_numpy(dtype=bool)
    counts = pd.DataFrame({"team": cells[TEAM].to_numpy()[texts], "x": cells[SU.PRAISE].to_numpy()[texts],
                           "n": cells[SU.N_TEXT].to_numpy()[texts]})
    counts = counts.groupby("team", observed=True, sort=True).agg(sum=("x", "sum"), size=("n", "sum"))
    total_x, total_n = int(cells[SU.PRAISE].sum()), int(cells[SU.N_TEXT].sum())
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
    return pooled_team_rates_from_summary(summarise(frame, themes=[], keys=(TEAM, SERVICE_MODEL), strata=(),
                                                    scores=(), measures=("csat",)))


def pooled_team_rates_from_summary(summary: Summary) -> pd.DataFrame:
    """:func:`pooled_team_rates` from a :class:`~feedbacklib.stats.summaries.Summary` keyed by team and
    service model: per team the satisfied and rated counts, and its most common service model among its
    rated rows (:func:`feedbacklib.pooling.group_counts`; a tie goes to the first in sort order)."""
    cells = summary.cells
    if summary.rows == 0 or CSAT not in summary.columns or TEAM not in summary.columns:
        return pooled_rates(pd.DataFrame(columns=["group", "model", "x", "n"]))
    rated = (cells[SU.CSAT_N] > 0).to_numpy(dtype=bool)
    sub = pd.DataFrame({"group": cells[TEAM].astype("string").to_numpy()[rated],
                        "model": cells[SERVICE_MODEL].astype("string").to_numpy()[rated],
                        "x": cells[SU.SATISFIED].to_numpy()[rated], "n": cells[SU.CSAT_N].to_numpy()[rated]})
    sub = sub.dropna(subset=["group"])
    if sub.empty:
        return pooled_rates(pd.DataFrame(columns=["group", "model", "x", "n"]))
    agg = sub.groupby("group", sort=True).agg(x=("x", "sum"), n=("n", "sum")).reset_index()
    by_model = sub.dropna(subset=["model"]).groupby(["group", "model"], sort=True)["n"].sum().reset_index()
    # the most common model: most rated rows, ties to the first in sort order (Series.mode)
    by_model = by_model.sort_values(["group", "n", "model"], ascending=[True, False, True], kind="mergesort")
    models = by_model.drop_duplicates("group").set_index("group")["model"].astype("str")
    agg["model"] = agg["group"].map(models)
    return pooled_rates(agg[["group", "model", "x", "n"]])


def sentiment_shares(frame: pd.DataFrame) -> pd.DataFrame:
    """Share of negative, neutral and positive comments per provider (in-house, each vendor, unknown team).

    Index: the provider; columns :data:`SENTIMENT_PARTS` (0..1, each row sums to 1) and ``n``.
    """
    frame[SENTIMENT_LABEL]  # noqa: B018 - a frame without labels is an error (KeyError), as it always was
    return sentiment_shares_from_summary(summarise(frame, themes=[], keys=(SERVICE_MODEL, VENDOR), strata=(),
                                                   scores=(), measures=("labels",)))


def sentiment_shares_from_summary(summary: Summary) -> pd.DataFrame:
    """:func:`sentiment_shares` from a :class:`~feedbacklib.stats.summaries.Summary` keyed by service model
    and vendor."""
    cells = summary.cells
    model = cells[SERVICE_MODEL].astype("string")
    outsourced = model.eq(OUTSOURCED).fillna(False).to_numpy(dtype=bool)
    group = np.where(outsourced, cells[VENDOR].fillna(OUTSOURCED_PROVIDER).astype(str), IN_HOUSE_PROVIDER)
    group[model.eq(UNKNOWN).fillna(False).to_numpy(dtype=bool)] = UNKNOWN_PROVIDER
    labels = [label_column(x) for x in SENTIMENT_PARTS]
    counts = pd.DataFrame(cells[labels].to_numpy(dtype=np.int64), columns=list(SENTIMENT_PARTS))
    counts = counts.groupby(pd.Index(group, dtype="str", name="row_0"), sort=True).sum()
    totals = counts.sum(axis=1)
    counts = counts[totals > 0]
    totals = totals[totals > 0]
    seen = sorted(c for c in SENTIMENT_PARTS if counts[c].sum() > 0)    # the labels crosstab would show
    shares = counts[seen].astype(float).div(totals.astype(float), axis=0)
    shares.columns = pd.Index(seen, dtype="str", name=SENTIMENT_LABEL)
    for part in SENTIMENT_PARTS:
        if part not in shares:
            shares[part] = 0.0
    shares["n"] = totals
    if shares.empty:   # as pandas' crosstab of no rows has it
        shares.index = pd.Index([], dtype=object, name="row_0")
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


# Mergeable volume (issue 19): rows and distinct customers of a month added up from its parts.
__all__ += ["VolumePartial", "volume_partial", "volume_from_partial"]


@dataclass(frozen=True, eq=False)
class VolumePartial(Additive):
    """What :func:`volume` needs of a set of rows; add two to pool their rows.

    ``customers`` holds the sorted distinct 64-bit hashes of the known customer keys
    (``pandas.util.hash_pandas_object`` of the key text; a clash needs two of a month's
    customers to share 64 bits, about 3e-8 at a million customers). A part built with
    ``bucketed=True`` holds every row of each of its customers (a customer-key bucket, as
    the Dask engine shuffles them) and keeps only their number (``bucket_customers``):
    bucketed parts add their counts.
    """

    responses: int
    known: int
    bucketed: bool = False
    customers: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.uint64))
    bucket_customers: int = 0

    def __add__(self, other: VolumePartial) -> VolumePartial:
        if self.bucketed != other.bucketed:
            raise ValueError("Cannot add a volume partial built per customer bucket (bucketed=True) to one built "
                             "on any rows (bucketed=False): build every part of the month the same way.")
        return VolumePartial(self.responses + other.responses, self.known + other.known, self.bucketed,
                             np.union1d(self.customers, other.customers),
                             self.bucket_customers + other.bucket_customers)


    @property
    def nbytes(self) -> int:
        return int(self.customers.nbytes) + 24


def volume_partial(frame: pd.DataFrame, *, bucketed: bool = False) -> VolumePartial:
    """The :class:`VolumePartial` of ``frame`` (a month, or one part of it)."""
    keys = frame[CUSTOMER_KEY].dropna() if CUSTOMER_KEY in frame.columns else pd.Series([], dtype="string")
    if bucketed:
        return VolumePartial(len(frame), len(keys), True, bucket_customers=int(keys.nunique()))
    hashes = pd.util.hash_pandas_object(keys.astype(str), index=False).to_numpy(dtype=np.uint64)
    return VolumePartial(len(frame), len(keys), False, np.unique(hashes))


def volume_from_partial(partial: VolumePartial) -> Volume:
    """:func:`volume` from a :class:`VolumePartial` (of the month, or added up from its parts)."""
    if partial.known == 0:
        return Volume(responses=partial.responses)
    customers = partial.bucket_customers if partial.bucketed else int(partial.customers.size)
    return Volume(responses=partial.responses, customers=customers, all_known=partial.known == partial.responses)


def source_counts(frame: pd.DataFrame) -> dict[str, int]:
    """Rows per source (survey, complaint, ...), most frequent first."""
    return {str(src): int(n) for src, n in frame[SOURCE].value_counts().items()}


def source_counts_from_summary(summary: Summary) -> dict[str, int]:
    """:func:`source_counts` from a :class:`~feedbacklib.stats.summaries.Summary` (ties in the order first seen)."""
    order = sorted(range(len(summary.sources)), key=lambda i: -summary.sources[i][1])   # stable
    return {summary.sources[i][0]: int(summary.sources[i][1]) for i in order}


def team_service_models(frame: pd.DataFrame) -> dict[str, str]:
    """Each named team's service model (that of its first row)."""
    return (frame.dropna(subset=[TEAM]).drop_duplicates(TEAM)
            .set_index(TEAM)[SERVICE_MODEL].astype("string").to_dict())


def team_service_models_from_summary(summary: Summary) -> dict[str, str]:
    """:func:`team_service_models` from a :class:`~feedbacklib.stats.summaries.Summary`."""
    return dict(summary.team_models)   # type: ignore[arg-type]
