"""Plain-language sentences generated from the statistics.

Every sentence states only what a table or chart further down shows, and no
sentence claims a difference that is not statistically clear (adjusted p below
0.05) or that rests on a group smaller than the configured minimum.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import schema as S
from ..compare import benjamini_hochberg, two_proportion_test
from ..months import month_label

__all__ = ["volume_sentence", "summary_sentences", "satisfaction_sentence", "trend_sentences", "gap_sentences", "driver_sentences", "praise_sentences",
           "team_praise"]

ALPHA = 0.05


def _month_name(month: str) -> str:
    return month_label(month)


def volume_sentence(result) -> str:
    """How much feedback the month holds, and from how many distinct customers where that is known."""
    frame = result.frame
    n = len(frame)
    pieces = f"{n:,} piece{'' if n == 1 else 's'} of feedback"
    keys = frame[S.CUSTOMER_KEY] if S.CUSTOMER_KEY in frame.columns else None
    if keys is not None and keys.notna().any():
        customers = int(keys.nunique())  # rows without a customer id may be more people: "at least"
        many = "" if keys.notna().all() else "at least "
        who = f"{many}{customers:,} customer{'' if customers == 1 else 's'}"
        return f"In {_month_name(result.month)} we received {pieces} from {who}."
    return f"In {_month_name(result.month)} we received {pieces}."


def _overall(result) -> str:
    all_row = result.kpis[result.kpis["group"].astype("string") == "all"]
    text = volume_sentence(result)[:-1]
    if not all_row.empty:
        r = all_row.iloc[0]
        if not pd.isna(r["csat_mean"]):
            text += f"; mean satisfaction was {r['csat_mean']:.2f} out of 5"
        if not pd.isna(r["nps"]):
            text += f" and NPS {r['nps']:.0f}"
    return text + "."


def _best(frame: pd.DataFrame) -> pd.DataFrame:
    sig = frame[frame["significant"].fillna(False).astype(bool)]
    key = "q_value" if "q_value" in sig and sig["q_value"].notna().any() else "p_value"
    return sig.assign(_k=sig[key].fillna(sig["p_value"])).sort_values("_k")


def summary_sentences(result) -> list[str]:
    """Three to six sentences for leaders, most important first.

    One sentence each: the month's volume and scores; outsourced against
    in-house satisfaction; the perception gap; the clearest theme difference of
    each vendor not already named by the gap; a spike; praise worth recognising.
    """
    out = [_overall(result), satisfaction_sentence(result)]
    gap = gap_sentences(result)[:1]
    out.extend(gap)
    vend = _best(result.vendors)
    vend = vend[vend["metric"].str.startswith("rate_")]
    named = [v for v in vend["vendor"].unique() if any(v in g for g in gap)]
    for _, row in vend[~vend["vendor"].isin(named)].drop_duplicates("vendor").head(2).iterrows():
        out.append(row["finding"])
    out.extend(trend_sentences(result, result.theme_trend)[:1])
    out.extend(praise_sentences(result)[:1])
    return [s for s in out if s][:6]


SATISFACTION_METRICS = ("csat_mean", "satisfied_share", "nps")


def satisfaction_sentence(result) -> str:
    """Outsourced against in-house satisfaction, like for like when the contact mix misleads.

    When the raw and the case-mix-adjusted comparison (same channel and contact
    reason) disagree on a satisfaction measure, the sentence is the one that
    says so; otherwise the clearest raw difference, or that there is none.
    """
    adjusted = getattr(result, "adjusted", None)
    if adjusted is not None and not adjusted.empty:
        rows = adjusted[adjusted["metric"].isin(SATISFACTION_METRICS) & adjusted["disagree"].fillna(False).astype(bool)]
        rows = rows[rows["finding"].fillna("") != ""]
        if not rows.empty:
            best = rows.assign(_k=rows["adj_q_value"].fillna(1.0)).sort_values(["_k", "raw_q_value"])
            return best.iloc[0]["finding"]
    comp = _best(result.comparison)
    headline = comp[comp["metric"].isin(SATISFACTION_METRICS)]
    if not headline.empty:
        return headline.iloc[0]["finding"]
    return "Satisfaction does not differ clearly between outsourced and in-house service this month."


def trend_sentences(result, trend: pd.DataFrame) -> list[str]:
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


def gap_sentences(result) -> list[str]:
    gap = result.gap
    if gap.empty or "significant" not in gap:
        return []
    inhouse = gap[gap["provider"] == "In-house"]
    out = []
    for _, r in gap[gap["significant"].fillna(False).astype(bool)].iterrows():
        if r["provider"] == "In-house":
            continue
        base = f" against {inhouse.iloc[0]['any_share']:.0%} in-house" if not inhouse.empty else ""
        out.append(
            f"{r['provider']} reported {int(r['n_reported_solved'])} cases solved, but in {r['any_share']:.0%} of them "
            f"the customer says it is not fixed, rates 1–2, reopens or complains of slowness{base}."
        )
    return out


def driver_sentences(result) -> list[str]:
    impact = result.impact.dropna(subset=["impact"])
    impact = impact[impact["impact"] < 0]
    if "impact_hi" in impact:
        impact = impact[impact["impact_hi"] < 0]
    if impact.empty:
        return ["No theme clearly pulls mean satisfaction down this month."]
    names = [f"{result.taxonomy.label(t)} ({v:+.2f})" for t, v in zip(impact["theme"], impact["impact"])][:3]
    return ["The themes that pull mean CSAT down most are " + ", ".join(names) + " points on the 1–5 scale."]


def team_praise(result) -> pd.DataFrame:
    """Praise rate per team against all other teams, with BH-adjusted p-values."""
    frame = result.frame
    has_text = (frame[S.TEXT].fillna("").str.len() > 0).to_numpy(dtype=bool)
    praise = frame[S.theme_column("praise")].to_numpy(dtype=bool)[has_text]
    counts = pd.DataFrame({"team": frame[S.TEAM].to_numpy()[has_text], "x": praise})
    counts = counts.groupby("team", observed=True, sort=True)["x"].agg(["sum", "size"])
    total_x, total_n = int(praise.sum()), int(has_text.sum())
    rows = []
    for team, (x, n) in counts.iterrows():
        x, n = int(x), int(n)
        xr, nr = total_x - x, total_n - n  # every other comment with text, a missing team included
        rows.append({"team": team, "n": n, "rate": x / n if n else np.nan,
                     "rest_rate": xr / nr if nr else np.nan, "p_value": two_proportion_test(x, n, xr, nr)})
    out = pd.DataFrame(rows, columns=["team", "n", "rate", "rest_rate", "p_value"])
    out["q_value"] = benjamini_hochberg(out["p_value"].to_numpy(dtype=float)) if len(out) else []
    out["significant"] = (out["q_value"] < ALPHA) & (out["rate"] > out["rest_rate"]) & (out["n"] >= result.config.min_group_size)
    return out.sort_values("q_value")


def praise_sentences(result) -> list[str]:
    out = []
    for _, r in team_praise(result).query("significant").iterrows():
        out.append(
            f"{r['team']} stands out for praise: {r['rate']:.0%} of its comments praise the service, "
            f"against {r['rest_rate']:.0%} for other teams — worth recognising."
        )
    return out
