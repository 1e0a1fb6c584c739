"""Plain-language sentences generated from the statistics.

Every sentence states only what a table or chart further down shows, and no
sentence claims a difference that is not statistically clear (adjusted p below
0.05) or that rests on a group smaller than the configured minimum.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..result import MonthResult
from ..stats import columns as K
from ..months import month_label

__all__ = ["where_phrase", "volume_sentence", "summary_sentences", "action_satisfaction", "action_gap",
           "action_vendor_themes", "action_spikes", "action_praise", "satisfaction_sentence", "trend_sentences", "gap_sentences", "driver_sentences", "praise_sentences"]


def _month_name(month: str) -> str:
    return month_label(month)


def volume_sentence(result: MonthResult) -> str:
    """How much feedback the month holds, and from how many distinct customers where that is known."""
    v = result.volume
    n = v.responses
    pieces = f"{n:,} piece{'' if n == 1 else 's'} of feedback"
    if v.customers is not None:
        customers = v.customers  # rows without a customer id may be more people: "at least"
        many = "" if v.all_known else "at least "
        who = f"{many}{customers:,} customer{'' if customers == 1 else 's'}"
        return f"In {_month_name(result.month)} we received {pieces} from {who}."
    return f"In {_month_name(result.month)} we received {pieces}."


def _overall(result: MonthResult) -> str:
    all_row = result.kpis[result.kpis[K.GROUP].astype("string") == K.ALL]
    text = volume_sentence(result)[:-1]
    if not all_row.empty:
        r = all_row.iloc[0]
        if not pd.isna(r[K.CSAT_MEAN]):
            text += f"; mean satisfaction was {r['csat_mean']:.2f} out of 5"
        if not pd.isna(r["nps"]):
            text += f" and NPS {r['nps']:.0f}"
    return text + "."


def _best(frame: pd.DataFrame) -> pd.DataFrame:
    sig = frame[frame[K.SIGNIFICANT].fillna(False).astype(bool)]
    key = K.Q_VALUE if K.Q_VALUE in sig and sig[K.Q_VALUE].notna().any() else K.P_VALUE
    return sig.assign(_k=sig[key].fillna(sig[K.P_VALUE])).sort_values("_k")


def summary_sentences(result: MonthResult) -> list[str]:
    """Three to six action titles for leaders, most important first.

    Each sentence names the finding, its size and who it concerns, then what to
    do: the month's volume and scores; outsourced against in-house satisfaction
    (like for like when the contact mix misleads); the perception gap; the
    clearest theme difference of each vendor not already named by the gap; a
    spike; the team that stands out for praise. Only statistically clear
    differences, on groups of at least the minimum size, are stated.
    """
    out = [_overall(result), action_satisfaction(result)]
    gap = action_gap(result)[:1]
    out.extend(gap)
    named = [v for v in result.vendors["vendor"].unique() if any(v in g for g in gap)] if len(result.vendors) else []
    out.extend(action_vendor_themes(result, skip=named)[:2])
    out.extend(action_spikes(result)[:1])
    out.extend(action_praise(result)[:1])
    return [s for s in out if s][:6]


def _signed_abs(value: float, digits: int) -> str:
    return f"{abs(value):.{digits}f}"


def action_satisfaction(result: MonthResult) -> str:
    """Outsourced against in-house satisfaction as an action title (like for like when the mix misleads)."""
    adjusted = getattr(result, "adjusted", None)
    if adjusted is not None and not adjusted.empty:
        rows = adjusted[adjusted[K.METRIC].isin(SATISFACTION_METRICS) & adjusted["disagree"].fillna(False).astype(bool)]
        rows = rows[rows[K.FINDING].fillna("") != ""]
        if not rows.empty:
            best = rows.assign(_k=rows["adj_q_value"].fillna(1.0)).sort_values(["_k", "raw_q_value"]).iloc[0]
            if best.get("disagreement") == "adjusted_only" and not pd.isna(best["adj_diff"]):
                lower = best["adj_diff"] < 0
                if best[K.METRIC] == K.SATISFIED_SHARE:
                    size = (f"{100 * abs(best['adj_diff']):.0f} percentage points {'fewer' if lower else 'more'} "
                            "rate them 4–5")
                elif best[K.METRIC] == K.CSAT_MEAN:
                    size = f"mean satisfaction {abs(best['adj_diff']):.2f} {'lower' if lower else 'higher'} (1–5 scale)"
                else:
                    size = f"NPS {abs(best['adj_diff']):.0f} points {'lower' if lower else 'higher'}"
                return (f"Like for like, outsourced teams satisfy {'fewer' if lower else 'more'} customers: "
                        f"{size} than in-house on the same channel and contact reason; the mix of contacts "
                        "each side handles hides a real difference — review it with the vendors.")
            return best[K.FINDING]
    return satisfaction_sentence(result)


def _disputed(result: MonthResult) -> list[tuple[pd.Series, str]]:
    """``(row, " against X% in-house" or "")`` for each provider whose 'solved' cases customers
    clearly dispute (the perception gap's significant rows, in-house left out)."""
    gap = result.gap
    if gap.empty or K.SIGNIFICANT not in gap:
        return []
    inhouse = gap[gap[K.PROVIDER] == K.IN_HOUSE_LABEL]
    base = f" against {inhouse.iloc[0]['any_share']:.0%} in-house" if not inhouse.empty else ""
    rows = gap[gap[K.SIGNIFICANT].fillna(False).astype(bool) & (gap[K.PROVIDER] != K.IN_HOUSE_LABEL)]
    return [(r, base) for _, r in rows.iterrows()]


def action_gap(result: MonthResult) -> list[str]:
    """Providers whose 'solved' cases customers clearly dispute, as action titles."""
    return [
        f"{r['provider']} marks cases solved that customers say are not: in {r['any_share']:.0%} of the "
        f"{int(r['n_reported_solved'])} cases it reported solved the customer says it is not fixed, rates 1–2, "
        f"reopens or complains of slowness{',' if base else ''}{base} — check how it closes cases."
        for r, base in _disputed(result)
    ]


def _worse(metric: str, diff: float) -> bool:
    """True when a difference of ``diff`` in ``metric`` is worse for customers."""
    better_high = metric in (K.SATISFIED_SHARE, K.CSAT_MEAN, "nps", "rate_praise", "fcr_share")
    return diff < 0 if better_high else diff > 0


def action_vendor_themes(result: MonthResult, skip=()) -> list[str]:
    """Each vendor's clearest theme where it does worse than in-house, as an action title."""
    vend = _best(result.vendors)
    if vend.empty:
        return []
    vend = vend[vend[K.METRIC].str.startswith(K.RATE_PREFIX) & ~vend["vendor"].isin(list(skip))]
    vend = vend[[_worse(m, d) for m, d in zip(vend[K.METRIC], vend[K.DIFF])]]
    out = []
    for _, r in vend.drop_duplicates("vendor").iterrows():
        label = result.taxonomy.label(r["theme"] or r[K.METRIC].removeprefix(K.RATE_PREFIX))
        if r[K.METRIC] == "rate_praise":
            out.append(f"{r['vendor']} earns less praise: {r['value_a']:.1f} comments in 100 praise the service, "
                       f"against {r['value_b']:.1f} in-house — ask what in-house teams do differently.")
        else:
            out.append(f"{r['vendor']} draws more complaints about {label.lower()}: {r['value_a']:.1f} per 100 "
                       f"comments, against {r['value_b']:.1f} in-house — raise it at the next vendor review.")
    return out


def action_spikes(result: MonthResult) -> list[str]:
    """Themes that clearly rose against the recent average, with where they concentrate."""
    trend = result.theme_trend
    out = []
    for _, r in trend[trend["spike"].fillna(False).astype(bool)].sort_values("q_baseline").iterrows():
        label = result.taxonomy.label(r["theme"])
        ratio = r["rate"] / r["baseline_rate"] if r["baseline_rate"] else np.nan
        times = f", {ratio:.1f} times the recent average of {r['baseline_rate']:.1f}" if ratio >= 1.5 else (
            f", from a recent average of {r['baseline_rate']:.1f}")
        out.append(f"{label} complaints jumped to {r['rate']:.1f} per 100 comments{times}{_where_theme(result, r['theme'])}"
                   " — find what changed.")
    return out


def _where_theme(result: MonthResult, theme: str) -> str:
    ff = getattr(result, "fix_first", None)
    if ff is None or ff.empty or theme not in set(ff["theme"]):
        return ""
    sub = ff[(ff["theme"] == theme) & ff["concentrated"].fillna(False).astype(bool)]
    if sub.empty:
        return ", across all teams and channels"
    r = sub.iloc[0]
    return f", most of all {where_phrase(r['dimension'], r['where'], preposition=True)}"


def where_phrase(dimension: str, value: str, *, preposition: bool = False) -> str:
    """Where a theme concentrates, in words: "team Northwind Manila", "the phone channel",
    "contacts whose channel is not recorded" (an unknown value is never named as if it were a place)."""
    noun = {"team": "team", "channel": "channel", "vendor": "vendor"}.get(dimension, dimension)
    if str(value).strip().lower() in ("", "unknown", "nan", "<na>", "none"):
        return f"{'in ' if preposition else ''}contacts whose {noun} is not recorded"
    phrase = {"team": f"team {value}", "channel": f"the {value} channel"}.get(dimension, str(value))
    return f"{'at ' if preposition else ''}{phrase}"


def action_praise(result: MonthResult) -> list[str]:
    out = []
    for _, r in result.team_praise.query(K.SIGNIFICANT).iterrows():
        out.append(
            f"{r['team']} stands out for praise: {r['rate']:.0%} of its comments praise the service, "
            f"against {r['rest_rate']:.0%} for other teams — recognise the team (names below)."
        )
    return out


SATISFACTION_METRICS = (K.CSAT_MEAN, K.SATISFIED_SHARE, "nps")


def satisfaction_sentence(result: MonthResult) -> str:
    """Outsourced against in-house satisfaction, like for like when the contact mix misleads.

    When the raw and the case-mix-adjusted comparison (same channel and contact
    reason) disagree on a satisfaction measure, the sentence is the one that
    says so; otherwise the clearest raw difference, or that there is none.
    """
    adjusted = getattr(result, "adjusted", None)
    if adjusted is not None and not adjusted.empty:
        rows = adjusted[adjusted[K.METRIC].isin(SATISFACTION_METRICS) & adjusted["disagree"].fillna(False).astype(bool)]
        rows = rows[rows[K.FINDING].fillna("") != ""]
        if not rows.empty:
            best = rows.assign(_k=rows["adj_q_value"].fillna(1.0)).sort_values(["_k", "raw_q_value"])
            return best.iloc[0][K.FINDING]
    comp = _best(result.comparison)
    headline = comp[comp[K.METRIC].isin(SATISFACTION_METRICS)]
    if not headline.empty:
        return headline.iloc[0][K.FINDING]
    return "Satisfaction does not differ clearly between outsourced and in-house service this month."


def trend_sentences(result: MonthResult, trend: pd.DataFrame) -> list[str]:
    out = []
    for _, r in trend[trend["spike"] | trend["drop"]].sort_values("q_baseline").iterrows():
        label = result.taxonomy.label(r["theme"])
        verb = "rose" if r["spike"] else "fell"
        ratio = r["rate"] / r["baseline_rate"] if r["baseline_rate"] else np.nan
        times = f" ({ratio:.1f} times the recent average)" if r["spike"] and ratio >= 1.5 else ""
        out.append(
            f"{label} complaints {verb} to {r['rate']:.1f} per 100 comments, from a recent average of "
            f"{r['baseline_rate']:.1f}{times}."
        )
    return out


def gap_sentences(result: MonthResult) -> list[str]:
    """Each disputing provider's perception gap, as a sentence of the appendix."""
    return [
        f"{r['provider']} reported {int(r['n_reported_solved'])} cases solved, but in {r['any_share']:.0%} of them "
        f"the customer says it is not fixed, rates 1–2, reopens or complains of slowness{base}."
        for r, base in _disputed(result)
    ]


def driver_sentences(result: MonthResult) -> list[str]:
    impact = result.impact.dropna(subset=[K.IMPACT])
    impact = impact[impact[K.IMPACT] < 0]
    if K.IMPACT_HI in impact:
        impact = impact[impact[K.IMPACT_HI] < 0]
    if impact.empty:
        return ["No theme clearly pulls mean satisfaction down this month."]
    names = [f"{result.taxonomy.label(t)} ({v:+.2f})" for t, v in zip(impact["theme"], impact[K.IMPACT])][:3]
    return ["The themes that pull mean CSAT down most are " + ", ".join(names) + " points on the 1–5 scale."]


def praise_sentences(result: MonthResult) -> list[str]:
    out = []
    for _, r in result.team_praise.query(K.SIGNIFICANT).iterrows():
        out.append(
            f"{r['team']} stands out for praise: {r['rate']:.0%} of its comments praise the service, "
            f"against {r['rest_rate']:.0%} for other teams — worth recognising."
        )
    return out
