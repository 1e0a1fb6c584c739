"""The report's sections, one function each, called by the report notebook.

Each function takes the :class:`~feedbacklib.result.MonthResult` and returns
an object Jupyter displays (``Html`` or ``FigureImage``). The notebook holds no
logic: what a section shows is decided and tested here.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from .. import schema as S
from ..result import MonthResult
from ..stats import columns as K
from ..stats.findings import CI_LEVEL
from ..safety import escape
from ..months import month_label
from . import narrative
from .html import Html, fmt_interval, fmt_num, fmt_pct, paragraphs, table
from .leader import headline_tiles, vendor_matrix
from .plots import MODEL_LABELS, FigureImage, funnel_figure, sentiment_figure, theme_rates_figure, trend_figure
from .method_notes import theme_error_notes  # issue 13: the tagger's measured error, corrected rates

__all__ = [
    "SECTIONS", "LEADER_SECTIONS", "APPENDIX_SECTIONS", "title_block", "executive_summary", "headline_tiles",
    "vendor_matrix", "vendor_detail", "team_section", "appendix_contents", "comparison_table",
    "vendor_table", "theme_chart", "sentiment_chart", "theme_trend_table", "perception_gap_table",
    "drivers_table", "fix_first_section", "emerging_themes", "casemix_table", "call_list", "recognition", "quotes", "data_quality",
    "method_notes",
]

# (anchor, heading) in report order; the notebook's markdown headings carry these anchors.
#: The leader's part: what to do, read in two minutes (on a phone too).
LEADER_SECTIONS = (
    ("summary", "What to do this month"),
    ("headline", "Headline figures"),
    ("vendors", "Vendors against in-house"),
    ("fix-first", "Fix first"),
    ("call-list", "Call list"),
    ("recognition", "Recognition"),
)
#: Everything else, under the "Appendix" heading: full tables, method and data quality.
APPENDIX_SECTIONS = (
    ("comparison", "Outsourced and in-house compared"),
    ("vendor-detail", "Each vendor, every measure"),
    ("teams", "Teams compared fairly"),
    ("themes", "What customers talk about"),
    ("sentiment", "Sentiment"),
    ("drivers", "What pulls satisfaction down"),
    ("gap", "Perception gap: reported solved, customer not happy"),
    ("changes", "What changed since last month"),
    ("emerging", "Emerging themes"),
    ("quotes", "In customers' words"),
    ("data-quality", "Data quality"),
    ("method", "Method notes"),
)
SECTIONS = LEADER_SECTIONS + (("appendix", "Appendix"),) + APPENDIX_SECTIONS


def _label(result: MonthResult, theme_id: str) -> str:
    return result.taxonomy.label(theme_id)


def _thin_words(result: MonthResult) -> str:
    return f"{month_label(result.month)} has {result.thin}"


def _states_findings(section):
    """A section that compares or ranks: on a thin month it says so instead (see :mod:`feedbacklib.months`)."""
    @functools.wraps(section)
    def render(result: MonthResult, *args, **kwargs):
        if getattr(result, "thin", None):
            return paragraphs([f"Not shown: {_thin_words(result)}, too little feedback to compare."],
                              cls="fb-empty")
        return section(result, *args, **kwargs)
    return render


def thin_notice(result: MonthResult) -> Html:
    """The plain-words warning at the top of a thin month's report (empty for a full month)."""
    if not getattr(result, "thin", None):
        return Html("")
    return Html(
        '<div class="fb-thin" role="note"><p><strong>Too little feedback to compare.</strong> '
        f"{escape(_thin_words(result))}. This page shows what there is (counts, comments and data quality) and "
        "states no findings: no comparison, ranking or trend is drawn from so few responses. "
        "The latest full month's report is the one to read.</p></div>"
    )


def title_block(result: MonthResult, generated_at: str | None = None) -> Html:
    """Report title, month, sources and a table of contents."""
    sources = ", ".join(f"{int(n):,} {src}s" for src, n in result.source_counts.items() if n)
    toc = "".join(f'<li><a href="#{a}">{escape(h)}</a></li>' for a, h in LEADER_SECTIONS + (("appendix", "Appendix"),))
    return Html(
        f'<header class="fb-title"><h1>Customer feedback report — {escape(month_label(result.month))}</h1>'
        f'<p class="fb-sub">{result.volume.responses:,} pieces of feedback ({escape(sources)}). '
        + (f'<span class="fb-generated">Generated {escape(generated_at)}.</span>' if generated_at else "")
        + '</p></header>'
        f'<nav class="fb-toc" aria-label="Contents"><ol>{toc}</ol></nav>'
        + thin_notice(result).markup
    )


def executive_summary(result: MonthResult) -> Html:
    """Three to six plain-language sentences, each backed by a figure further down."""
    if getattr(result, "thin", None):
        sentences = [narrative.volume_sentence(result),
                     f"That is too little feedback to compare ({result.thin}), so this report states no findings."]
    else:
        sentences = narrative.summary_sentences(result)
    return Html('<div class="fb-summary">' + paragraphs(sentences, tag="li").markup.join(["<ul>", "</ul>"]) + "</div>")


def _group_row(kpis: pd.DataFrame | None, by: str, group: str) -> pd.Series | None:
    if kpis is None or kpis.empty:
        return None
    match = kpis[kpis[K.GROUP].astype("string") == group]
    return None if match.empty else match.iloc[0]


def _metric_label(result: MonthResult, metric: str) -> str:
    names = {
        K.SATISFIED_SHARE: "Satisfied (CSAT 4–5)",
        K.CSAT_MEAN: "Mean CSAT (1–5)",
        "nps": "NPS",
        K.NEGATIVE_SHARE: "Negative comments",
        "first_response_median": "First reply, median (hours)",
        "first_response_p90": "First reply, slowest 10% (hours)",
        "resolution_median": "Resolution, median (hours)",
        "resolution_p90": "Resolution, slowest 10% (hours)",
        "sla_met_share": "Replied within SLA",
        "resolution_sla_met_share": "Resolved within SLA",
        "reopen_share": "Reopened",
        "repeat_7d_share": "Repeat contact within 7 days",
        "repeat_30d_share": "Repeat contact within 30 days",
        "fcr_share": "Resolved first time",
    }
    if metric in names:
        return names[metric]
    theme = metric.removeprefix(K.RATE_PREFIX)
    return f"{_label(result, theme)} (per 100 comments)"


def _is_share(metric: str) -> bool:
    return metric.endswith("_share")


def _fmt_value(metric: str, value, lo=None, hi=None) -> str:
    if _is_share(metric):
        core = fmt_pct(value)
        ci = fmt_interval(lo, hi, 0, 100, "%")
    elif metric == K.CSAT_MEAN:
        core, ci = fmt_num(value, 2), fmt_interval(lo, hi, 2)
    elif metric == K.NPS_SCORE:
        core, ci = fmt_num(value, 0), fmt_interval(lo, hi, 0)
    else:
        core, ci = fmt_num(value, 1), fmt_interval(lo, hi, 1)
    return f"{core} ({ci})" if ci else core


def _fmt_diff(metric: str, row: dict) -> str:
    scale, digits, unit = (100, 1, " pts") if _is_share(metric) else (1, 2 if metric == K.CSAT_MEAN else 1, "")
    if pd.isna(row[K.DIFF]):
        return "–"
    ci = fmt_interval(row[K.DIFF_LO], row[K.DIFF_HI], digits, scale)
    return f"{row['diff'] * scale:+.{digits}f}".replace("-", "\u2212") + unit + (f" ({ci})" if ci else "")


def _comparison_columns(result: MonthResult, a_label: str):
    return [
        (K.METRIC, "Measure", lambda m: _metric_label(result, m)),
        ("*", a_label, lambda r: _fmt_value(r[K.METRIC], r[K.VALUE_A], r[K.LO_A], r[K.HI_A])),
        ("*", "In-house", lambda r: _fmt_value(r[K.METRIC], r[K.VALUE_B], r[K.LO_B], r[K.HI_B])),
        ("*", f"Difference ({CI_LEVEL} CI)", lambda r: _fmt_diff(r[K.METRIC], r)),
        ("*", "Adjusted p", lambda r: "–" if pd.isna(r.get(K.Q_VALUE, r[K.P_VALUE])) else f"{(r['q_value'] if not pd.isna(r.get('q_value')) else r['p_value']):.3f}"),
        (K.SIGNIFICANT, "Clear difference?", lambda v: "yes" if v else "no"),
    ]


@_states_findings
def comparison_table(result: MonthResult) -> Html:
    """Outsourced against in-house: every measure and theme, the service KPIs, and the case-mix check."""
    comp = result.comparison
    service = result.service_comparison
    findings = [f for f in pd.concat([comp[K.FINDING], service[K.FINDING]]).fillna("") if f]
    intro = paragraphs(findings or ["No measure differs clearly between outsourced and in-house service this month."])
    n_a = int(comp[K.N_A].max()) if len(comp) else 0
    n_b = int(comp[K.N_B].max()) if len(comp) else 0
    parts = [intro, table(
        comp, _comparison_columns(result, "Outsourced"),
        caption=f"Outsourced (n={n_a:,} pieces of feedback) against in-house (n={n_b:,}). Values with {CI_LEVEL} "
        "intervals (the range the true value lies in, 19 times out of 20). Adjusted p: how likely a difference "
        "this large is by chance alone, corrected for testing many measures at once (the Benjamini-Hochberg "
        "method); below 0.05 counts as a clear difference.",
    )]
    parts.append(Html("<h3>Service times and resolution</h3>"))
    parts.append(table(service, _comparison_columns(result, "Outsourced"),
                       caption="Times in hours (medians: bootstrap intervals, Mann-Whitney test; 90th percentiles: "
                       "intervals only). Contacts are tickets and complaints."))
    parts.append(Html("<h3>Like for like: adjusted for channel and contact reason</h3>"))
    parts.append(casemix_table(result))
    return Html("".join(p.markup for p in parts))


@_states_findings
def casemix_table(result: MonthResult) -> Html:
    """Raw against adjusted differences; says plainly where the contact mix explains a gap."""
    adj = result.adjusted
    if adj.empty:
        return paragraphs(["Too few comparable contacts to adjust for channel and contact reason."])
    notes = [f for f in adj.loc[adj["disagree"].fillna(False).astype(bool), K.FINDING].fillna("") if f]
    intro = paragraphs(notes or [
        "Comparing contacts of the same channel and contact reason does not change any conclusion above."])

    def diff(kind: str):
        def fmt(r: dict) -> str:
            metric = r[K.METRIC]
            row = {K.DIFF: r[f"{kind}_diff"], K.DIFF_LO: r[f"{kind}_diff_lo"], K.DIFF_HI: r[f"{kind}_diff_hi"]}
            return _fmt_diff(metric, row)
        return fmt

    chart = channel_chart(result)
    return intro + (Html(chart._repr_html_()) if chart is not None else Html("")) + table(adj, [
        (K.METRIC, "Measure", lambda m: _metric_label(result, m)),
        ("*", f"Raw difference ({CI_LEVEL} CI)", diff("raw")),
        ("raw_significant", "Clear?", lambda v: "yes" if v else "no"),
        ("*", f"Adjusted difference ({CI_LEVEL} CI)", diff("adj")),
        ("adj_significant", "Clear?", lambda v: "yes" if v else "no"),
        ("adj_method", "Adjustment", lambda v: {"mantel_haenszel": "Mantel-Haenszel", "ols_hc1": "regression"}.get(v, v or "")),
    ], caption="Outsourced minus in-house. Adjusted = compared within each channel × contact-reason group, then "
               "combined: the Mantel-Haenszel method for rates (it weighs each group by its size), a linear "
               "regression with robust errors for CSAT and NPS.")


def channel_chart(result: MonthResult) -> FigureImage | None:
    """Satisfied share by channel, in-house against outsourced: where the contact mix shows.

    Each channel's label says what share of each side's rated contacts it
    holds, so a reader sees both halves of a case-mix effect: who handles which
    channel, and how each side does within it.
    """
    channels = result.channels
    if channels.empty:
        return None
    names = [f"{c} ({ih:.0%} of in-house, {out:.0%} of outsourced)"
             for c, ih, out in zip(channels["channel"], channels["in_house_share"], channels["outsourced_share"])]
    rates = channels.assign(theme=names)[["theme", "group", "rate", "lo", "hi", "n"]]
    fig = theme_rates_figure(rates, f"Satisfied customers by channel, {month_label(result.month)}",
                             xlabel=f"Customers rating 4-5, per 100 rated contacts (bars: {CI_LEVEL} interval)",
                             unit="rated contacts")
    return FigureImage(fig, alt="Bar chart of the share of satisfied customers by channel for in-house and "
                       "outsourced teams, with each side's share of contacts per channel.",
                       caption="Within each channel, compare the two bars; the label says how much of each "
                       "side's rated contacts that channel holds. Channels with fewer than 5 rated contacts "
                       "on a side are left out.")


@_states_findings
def vendor_table(result: MonthResult) -> Html:
    """Vendors at a glance (leader part): each vendor against in-house, coloured clear-better / clear-worse /
    no clear difference (see :func:`feedbacklib.report.leader.vendor_matrix`)."""
    return vendor_matrix(result)


def appendix_contents(result: MonthResult | None = None) -> Html:
    """The appendix's own table of contents, under its heading."""
    items = "".join(f'<li><a href="#{a}">{escape(h)}</a></li>' for a, h in APPENDIX_SECTIONS)
    return Html('<p class="fb-sub">The detail behind the page above: full comparisons with their intervals and '
                f'tests, charts, method and data quality.</p><nav class="fb-toc fb-toc-appendix" '
                f'aria-label="Appendix contents"><ol>{items}</ol></nav>')


@_states_findings
def vendor_detail(result: MonthResult) -> Html:
    """Each vendor against in-house on every measure, in one table: value, difference and whether it is clear."""
    vend = result.vendors
    if vend.empty:
        return paragraphs(["No outsourced vendor has feedback this month."])
    findings = [f for f in vend[K.FINDING].fillna("") if f]
    vendors = sorted(vend["vendor"].astype(str).unique())
    wide = vend.pivot_table(index=K.METRIC, columns="vendor", values=K.VALUE_A, aggfunc="first", sort=False)
    base = vend.drop_duplicates(K.METRIC).set_index(K.METRIC)
    rows = []
    for metric in dict.fromkeys(vend[K.METRIC]):
        b = base.loc[metric]
        row = {K.METRIC: metric, "in_house": _fmt_value(metric, b[K.VALUE_B], b[K.LO_B], b[K.HI_B])}
        for vendor in vendors:
            r = vend[(vend["vendor"] == vendor) & (vend[K.METRIC] == metric)]
            if r.empty:
                row[vendor] = "–"
                continue
            r = r.iloc[0].to_dict()
            clear = bool(r[K.SIGNIFICANT]) if not pd.isna(r[K.SIGNIFICANT]) else False
            row[vendor] = (_fmt_value(metric, r[K.VALUE_A]) + "; " + _fmt_diff(metric, r).split(" (")[0]
                           + (" — clear" if clear else ""))
        rows.append(row)
    del wide
    n = vend.groupby("vendor")[K.N_A].max()
    cols = [(K.METRIC, "Measure", lambda m: _metric_label(result, m)),
            ("in_house", f"In-house ({CI_LEVEL} CI)", None)]
    cols += [(v, f"{v} (n={int(n[v]):,}): value; difference", None) for v in vendors]
    return paragraphs(findings or ["No vendor differs clearly from in-house service this month."]) + table(
        pd.DataFrame(rows), cols,
        caption="Each vendor's value and its difference from in-house (points for shares); “clear” = adjusted "
                "p below 0.05, as in the table above. n = pieces of feedback.")


@_states_findings
def team_section(result: MonthResult) -> Html:
    """Teams compared fairly: a funnel plot of satisfied share against volume, and partially pooled estimates."""
    pooled = result.pooled_teams
    parts = [paragraphs([
        "A small team's rate swings by chance, so teams are not ranked on their raw rates. The funnel plot "
        "shows each team's share of satisfied customers against how many rated it: inside the inner funnel "
        "(95%) a team is within what chance alone produces; outside the outer funnel (99.8%) it almost "
        "certainly differs. The pooled estimate pulls each team toward its service model's average, more so "
        "the fewer ratings it has (partial pooling), and is what the ranking uses."])]
    if len(pooled) >= 2:
        fig = funnel_figure(pooled, f"Satisfied customers by team, {month_label(result.month)}")
        parts.append(Html(FigureImage(
            fig, alt="Funnel plot of each team's share of satisfied customers against its number of ratings, "
                     "with 95% and 99.8% control limits around the overall share.",
            caption=f"Overall {100 * pooled['overall_rate'].iloc[0]:.0f}% satisfied (CSAT 4–5). Dots: teams; "
                    "dashed: 95% limits; solid: 99.8% limits.")._repr_html_()))
        outside = pooled[pooled["outside998"].astype(bool)]
        if len(outside):
            parts.append(paragraphs([
                f"Outside the 99.8% limits: {', '.join(outside['group'].astype(str))} — a real difference, not chance."]))
        else:
            parts.append(paragraphs(["No team lies outside the 99.8% limits: the teams' differences in satisfied "
                                     "share are within what chance produces."]))
        parts.append(table(pooled, [
            ("group", "Team", None),
            ("model", "Service", lambda v: MODEL_LABELS.get(str(v), str(v))),
            ("n", "Ratings", lambda v: fmt_num(v, 0)),
            ("rate", "Satisfied, raw", fmt_pct),
            ("*", "Satisfied, pooled (95% interval)", lambda r: f"{fmt_pct(r['pooled_rate'])} "
             f"({fmt_interval(r['pooled_lo'], r['pooled_hi'], 0, 100, '%')})"),
            ("shrinkage", "Pulled toward average", fmt_pct),
        ], caption="Ordered by the pooled estimate. “Pulled toward average”: how far the raw rate moves toward "
                   "its service model's average (empirical-Bayes beta-binomial model)."))
    parts.append(Html("<h3>Headline figures per team</h3>"))
    parts.append(team_table(result))
    return Html("".join(p.markup for p in parts))


@_states_findings
def team_table(result: MonthResult) -> Html:
    """Headline figures per team, with intervals; teams under the minimum size are marked, not ranked."""
    teams = result.team_kpis
    teams = teams[teams[K.GROUP].astype("string") != K.ALL]
    if teams.empty:
        return paragraphs(["No team is named in this month's feedback."])
    models = result.team_models
    m = result.config.min_group_size
    return table(teams.sort_values("n", ascending=False), [
        ("group", "Team", None),
        ("group", "Service", lambda g: MODEL_LABELS.get(models.get(g, ""), "")),
        ("n", "Responses", lambda v: fmt_num(v, 0)),
        ("*", f"Mean CSAT ({CI_LEVEL} CI)", lambda r: _fmt_value(K.CSAT_MEAN, r[K.CSAT_MEAN], r["csat_mean_lo"],
                                                         r["csat_mean_hi"])),
        ("*", f"Satisfied ({CI_LEVEL} CI)", lambda r: _fmt_value(K.SATISFIED_SHARE, r[K.SATISFIED_SHARE],
                                                         r["satisfied_share_lo"], r["satisfied_share_hi"])),
        ("*", f"NPS ({CI_LEVEL} CI)", lambda r: _fmt_value("nps", r["nps"], r["nps_lo"], r["nps_hi"])),
        (K.NEGATIVE_SHARE, "Negative comments", fmt_pct),
        (K.REPORTABLE, f"At least {m} responses?", lambda v: "yes" if v else "no – too few to compare"),
    ], caption=f"Per team, this month. Figures for teams with fewer than {m} responses are shown but not "
               "compared or ranked anywhere in this report.")


def _rates_long(result: MonthResult) -> pd.DataFrame:
    rows = []
    for model in (S.IN_HOUSE, S.OUTSOURCED):
        row = _group_row(result.kpis, S.SERVICE_MODEL, model)
        if row is None:
            continue
        for theme in result.theme_ids:
            rows.append({"theme": _label(result, theme), "group": model, "rate": row[f"rate_{theme}"],
                         "lo": row[f"rate_{theme}_lo"], "hi": row[f"rate_{theme}_hi"], "n": row[K.N_TEXT]})
    return pd.DataFrame(rows)


@_states_findings
def theme_chart(result: MonthResult) -> FigureImage:
    """Theme rates per 100 comments, in-house against outsourced, with 95% intervals."""
    rates = _rates_long(result)
    fig = theme_rates_figure(rates, f"Themes by service model, {month_label(result.month)}")
    return FigureImage(fig, alt="Bar chart of theme rates per 100 comments for in-house and outsourced teams.",
                       caption=f"Bars show the share of comments that mention each theme; whiskers are {CI_LEVEL} Wilson intervals.")


@_states_findings
def sentiment_chart(result: MonthResult) -> FigureImage:
    """Share of negative, neutral and positive comments per service model and vendor."""
    shares = result.sentiment
    fig = sentiment_figure(shares, f"Sentiment of comments, {month_label(result.month)}")
    return FigureImage(fig, alt="Stacked bars of negative, neutral and positive comment shares per team type.",
                       caption="Sentiment is VADER's compound score: negative below −0.05, positive above 0.05.")


@_states_findings
def theme_trend_table(result: MonthResult) -> Html:
    """Month-over-month theme movement with spikes against the recent average, plus a chart."""
    trend = result.theme_trend
    sentences = narrative.trend_sentences(result, trend)
    shown = trend.sort_values("change_vs_baseline", ascending=False, key=lambda s: s.abs())
    tbl = table(shown, [
        ("theme", "Theme", lambda t: _label(result, t)),
        ("rate", "This month (per 100)", lambda v: fmt_num(v, 1)),
        ("prev_rate", "Last month", lambda v: fmt_num(v, 1)),
        ("baseline_rate", "Recent average", lambda v: fmt_num(v, 1)),
        ("change_vs_baseline", "Change vs average", lambda v: "–" if pd.isna(v) else f"{v:+.1f}"),
        ("q_baseline", "Adjusted p", lambda v: "–" if pd.isna(v) else f"{v:.3f}"),
        ("*", "Flag", lambda r: "spike" if r["spike"] else ("drop" if r["drop"] else "")),
    ], caption="Rates per 100 comments. The recent average pools up to three earlier months.")
    history = result.theme_movers
    parts = [paragraphs(sentences or ["No theme moved clearly against the recent average."]), tbl]
    kpi = result.kpi_trend
    sat = kpi[(kpi["series"] == K.SATISFIED_SHARE) & kpi[K.GROUP].isin([S.IN_HOUSE, S.OUTSOURCED])]
    if sat["month"].nunique() > 1:
        sat = sat.assign(series=sat[K.GROUP], value=100 * sat["value"], lo=100 * sat["lo"], hi=100 * sat["hi"])
        fig = trend_figure(sat, "Satisfied customers (CSAT 4–5) by month", "% satisfied")
        n_range = f"{int(sat['n'].min()):,}–{int(sat['n'].max()):,}"
        parts.append(Html(FigureImage(fig, alt="Line chart of the share of satisfied customers by month, in-house and outsourced.",
                                      caption=f"Ratings per group and month: n = {n_range}. Bands are {CI_LEVEL} Wilson intervals.")._repr_html_()))
    if history[S.MONTH].nunique() > 1:
        history = history.assign(series=history["theme"].map(lambda t: _label(result, t)), value=history["rate"])
        fig = trend_figure(history, "Largest movers by month", "Per 100 comments")
        per_month = history.groupby(S.MONTH)["n"].first()
        caption = (f"Comments with text per month: n = {int(per_month.min()):,}–{int(per_month.max()):,}. "
                   f"Shaded bands are {CI_LEVEL} intervals.")
        parts.append(Html(FigureImage(fig, alt="Line chart of the themes that moved most, by month.",
                                      caption=caption)._repr_html_()))
    return Html("".join(p.markup for p in parts))


@_states_findings
def emerging_themes(result: MonthResult) -> Html:
    """Groups of comments no taxonomy theme covers: candidates for new themes, with their growth."""
    candidates, growth = result.emerging
    if not candidates:
        return paragraphs(["Too few comments fall outside the known themes this month to look for new ones."])
    by_cluster = growth.set_index("cluster") if len(growth) else pd.DataFrame()

    def size(c) -> int:  # every uncovered comment of the month assigned (discovery may fit on a sample)
        return int(by_cluster.loc[c.cluster, "count"]) if c.cluster in by_cluster.index else c.size

    uncovered = sum(size(c) for c in candidates)
    parts = [paragraphs([
        f"{uncovered:,} of this month's comments mention none of the known themes and form {len(candidates)} "
        "groups with something in common, labelled by their most distinctive words. An analyst can promote a "
        "group into the theme taxonomy (see the tune_themes notebook)."])]
    rows = []
    for c in candidates:
        g = by_cluster.loc[c.cluster] if c.cluster in by_cluster.index else None
        growth_txt = "–"
        if g is not None and not pd.isna(g["growth"]):
            growth_txt = "new this month" if np.isinf(g["growth"]) else f"{g['growth']:.1f}× earlier months"
        seen = g["seen_before"] if g is not None and "seen_before" in g.index else ""
        rows.append({"label": c.label, "size": size(c), "growth": growth_txt,
                     "seen": "yes" if seen else "no",
                     "quote": c.quotes[0] if c.quotes else ""})
    parts.append(table(pd.DataFrame(rows), [
        ("label", "Candidate theme", None), ("size", "Comments", lambda v: fmt_num(v, 0)),
        ("growth", "Share against earlier months", None), ("seen", "Also last month?", None),
        ("quote", "A representative comment", _short),
    ], caption="Clusters of comments on TF-IDF/LSA vectors (k-means refined by a word mixture; k chosen by "
               "silhouette within 3–8; deterministic). Groups whose comments carry no content word (“ok”, "
               "“yes”, “all good”) are left out; a group matched to one of last month's keeps last month's label."))
    return Html("".join(p.markup for p in parts))


@_states_findings
def perception_gap_table(result: MonthResult) -> Html:
    """Among cases the provider reported solved: how often the customer disagrees."""
    gap = result.gap
    sentences = narrative.gap_sentences(result)
    if gap.empty:
        return paragraphs(["No case was reported solved by a provider this month."])
    return paragraphs(sentences or ["No vendor shows a clearer gap than in-house this month."]) + table(gap, [
        (K.PROVIDER, "Provider", None),
        (K.N_REPORTED_SOLVED, "Reported solved", lambda v: fmt_num(v, 0)),
        ("*", "Customer says not fixed", lambda r: _pct_ci(r, "not_fixed")),
        ("*", "Rated 1–2", lambda r: _pct_ci(r, "low_rating")),
        ("*", "Reopened", lambda r: _pct_ci(r, "reopened")),
        ("*", "Complains of slowness", lambda r: _pct_ci(r, "slow")),
        ("*", "Any of these", lambda r: _pct_ci(r, "any")),
        (K.P_VALUE, "p vs in-house", lambda v: "–" if pd.isna(v) else f"{v:.3f}"),
    ], caption=f"Cases the team or vendor marked solved. Shares with {CI_LEVEL} Wilson intervals.")


def _pct_ci(row: dict, key: str) -> str:
    ci = fmt_interval(row.get(f"{key}_share_lo"), row.get(f"{key}_share_hi"), 0, 100, "%")
    return f"{fmt_pct(row.get(f'{key}_share'))}" + (f" ({ci})" if ci else "")


@_states_findings
def drivers_table(result: MonthResult) -> Html:
    """Themes ranked by how much they pull mean CSAT down: score impact, and a regression effect."""
    impact = result.impact
    sentences = narrative.driver_sentences(result)
    parts = [paragraphs(sentences), table(impact, [
        ("theme", "Theme", lambda t: _label(result, t)),
        (K.N_WITH, "Comments with it", lambda v: fmt_num(v, 0)),
        (K.SCORE_WITH, "Mean CSAT with", lambda v: fmt_num(v, 2)),
        (K.SCORE_WITHOUT, "Mean CSAT without", lambda v: fmt_num(v, 2)),
        ("*", f"Score impact ({CI_LEVEL} CI)", lambda r: "–" if pd.isna(r[K.IMPACT]) else
         f"{r['impact']:+.3f}".replace("-", "\u2212") + (f" ({fmt_interval(r['impact_lo'], r['impact_hi'], 3)})" if not pd.isna(r.get(K.IMPACT_LO)) else "")),
    ], caption="Score impact: how much the overall mean CSAT moves because of the theme's comments "
               "(overall mean minus the mean without them). Negative = the theme pulls satisfaction down.")]
    drivers = result.drivers
    if not drivers.empty:
        wide = drivers[drivers[K.REPORTABLE].fillna(False).astype(bool)].copy()
        wide["cell"] = [
            "too few comments" if pd.isna(e) else f"{e:+.2f}".replace("-", "\u2212") + f" ({fmt_interval(lo, hi, 2)})" + (" *" if sig else "")
            for e, lo, hi, sig in zip(wide["effect"], wide["effect_lo"], wide["effect_hi"], wide[K.SIGNIFICANT].fillna(False))
        ]
        pivot = wide.pivot_table(index="theme", columns="group", values="cell", aggfunc="first").reset_index()
        pivot = pivot.fillna("too few comments")
        cols = [("theme", "Theme", lambda t: _label(result, t))]
        for group in (S.IN_HOUSE, S.OUTSOURCED):
            if group in pivot:
                n = int(wide.loc[wide[K.GROUP] == group, "n"].max())
                cols.append((group, f"{MODEL_LABELS[group]} (n={n:,})", None))  # type: ignore[arg-type]
        parts.append(Html("<h3>Effect of each theme, other themes held equal</h3>"))
        parts.append(table(pivot, cols, caption="CSAT points (1–5) from a regression of CSAT on all themes at once, "
                           f"per service model, with robust {CI_LEVEL} intervals; * = clear after adjusting for many tests."))
    return Html("".join(p.markup for p in parts))


@_states_findings
def fix_first_section(result: MonthResult) -> Html:
    """The two or three themes to fix first: what each costs, where it concentrates, how it moved."""
    ff = result.fix_first
    if ff.empty:
        return paragraphs(["No theme clearly pulls satisfaction down this month, so nothing stands out to fix first."])
    items = []
    for theme, sub in ff.groupby("theme", sort=False):
        first = sub.iloc[0]
        conc = sub[sub["concentrated"].fillna(False).astype(bool)]
        where: list[str] = []
        seen: set[tuple[float, float]] = set()
        for _, r in conc.iterrows():
            key = (round(r["where_rate"], 1), round(r["rest_rate"], 1))
            name = narrative.where_phrase(r["dimension"], r["where"])
            if key in seen:  # a vendor and its only team: one place, named once
                where[-1] = where[-1].replace(" (", f" ({name}; ", 1)
                continue
            seen.add(key)
            where.append(f"{narrative.where_phrase(r['dimension'], r['where'], preposition=True)} ({r['where_rate']:.1f} per 100 comments against {r['rest_rate']:.1f} elsewhere)")
        moved = {"up": "up since last month", "down": "down since last month"}.get(first.get("moved") or "",
                                                                                 "no clear change since last month")
        items.append(
            f"<li><strong>{escape(_label(result, theme))}</strong> — costs {abs(first['impact']):.2f} points of mean "
            f"satisfaction (1–5); {escape('mostly ' + '; '.join(where) if where else 'spread across teams and channels')}"
            f"; {escape(moved)}.</li>")
    return Html('<ol class="fb-fix-first">' + "".join(items) + "</ol>")


def _short(text: str, limit: int = 280) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _local(value, tz: str, fmt: str = "%d %b %H:%M") -> str:
    """A UTC timestamp as a person in the configured zone reads it; date-only sources (local midnight) show no time."""
    if value is None or pd.isna(value):
        return ""
    stamp = pd.Timestamp(value)
    stamp = (stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp).tz_convert(tz)
    if fmt.endswith(" %H:%M") and (stamp.hour, stamp.minute, stamp.second) == (0, 0, 0):
        fmt = fmt.removesuffix(" %H:%M")
    return stamp.strftime(fmt)


def call_list(result: MonthResult) -> Html:
    """Customers a leader should call this month, each with their own reasons in words."""
    picked = result.call_list
    tz = result.config.timezone
    return paragraphs([
        f"{len(picked)} customer{'' if len(picked) == 1 else 's'} to call personally this month, most urgent first "
        "(talk of leaving, then an unresolved case, then a low rating); one line per customer. Look them up by "
        f"id: no contact details appear in this report. Times are {tz.replace('_', ' ')} time."
    ]) + table(picked, [
        (S.RESPONSE_ID, "Id", None),
        (S.RECEIVED_AT, "When", lambda v: _local(v, tz)),
        (S.TEAM, "Team", None),
        ("reasons", "Why call", None),
        (S.TEXT, "What they said", lambda t: _short(t, 100)),
    ], classes="fb-table fb-calls", empty="No customer meets the call-list criteria this month.")


RECOGNITION_SHOWN = 8


def _recognition_order(rec: pd.DataFrame) -> pd.DataFrame:
    """One praising clause per staff member first (most-praised teams first), then the other praise; no repeats."""
    rec = rec.assign(_key=rec["clause"].str.casefold().str.strip(" .!"))
    rec = rec.drop_duplicates("_key")
    named = rec[rec["agent"] != ""]
    first = named.drop_duplicates(["agent", S.TEAM])
    rest = rec.drop(index=first.index)
    return pd.concat([first, rest])


@_states_findings
def recognition(result: MonthResult) -> Html:
    """Praise to pass on: the praising clause only, one per staff member first."""
    rec = result.recognition
    if rec.empty:
        return paragraphs(["No praise this month."])
    counts = rec.groupby(S.TEAM, sort=False)["team_praise"].first()
    parts = [paragraphs(narrative.praise_sentences(result) + [
        "Comments praising each team this month: "
        + ", ".join(f"{team} {int(n)}" for team, n in counts.items()) + "."])]
    shown = _recognition_order(rec).head(RECOGNITION_SHOWN)
    items = "".join(
        f"<li><q>{escape(_short(c, 160))}</q> <span class=\"fb-who\">— "
        + (f"<strong>{escape(a)}</strong>, " if a else "") + f"{escape(t)}</span></li>"
        for c, a, t in zip(shown["clause"], shown["agent"], shown[S.TEAM]))
    parts.append(Html(f'<ul class="fb-kudos">{items}</ul>'))
    return Html("".join(p.markup for p in parts))


def quotes(result: MonthResult) -> Html:
    """Two or three representative, PII-redacted quotes for each of the most frequent themes."""
    quoted = result.quotes
    parts = []
    for theme, comments in zip(result.quote_themes["theme"], result.quote_themes["comments"]):
        chosen = quoted[(quoted["theme"] == theme).to_numpy(dtype=bool)]
        items = "".join(
            f"<blockquote>{escape(_short(text))}"
            f"<footer>{escape(team or 'unknown team')}, {escape(source)}</footer></blockquote>"
            for text, team, source in zip(chosen[S.TEXT], chosen[S.TEAM], chosen[S.SOURCE])
        )
        parts.append(f"<h3>{escape(_label(result, theme))} — {int(comments):,} comments</h3>{items}")
    return Html("".join(parts) or "<p>No theme was mentioned this month.</p>")


def data_quality(result: MonthResult) -> Html:
    """Rows read, kept and quarantined by file and by reason."""
    q = result.quality
    total_read = int(q["rows_read"].sum())
    kept = int(q["rows_kept"].sum())
    quarantined = int(q["rows_quarantined"].sum())
    # one line per kind of reason ("duplicate of R_123" counts as "duplicate")
    reasons = result.quarantine_reasons
    return paragraphs([
        f"{total_read:,} rows read from {len(q)} files: {kept:,} kept and {quarantined:,} set aside in "
        f"quarantine.csv with their reason ({kept + quarantined:,} accounted for). "
        f"This month has {result.volume.responses:,} of the kept rows.",
    ]) + table(q, [
        ("file", "File", None),
        ("platform", "Detected as", None),
        ("rows_read", "Read", lambda v: fmt_num(v, 0)),
        ("rows_kept", "Kept", lambda v: fmt_num(v, 0)),
        ("rows_quarantined", "Quarantined", lambda v: fmt_num(v, 0)),
    ], caption="Every input file, whole (all months).") + paragraphs(
        [f"Not read: {name} ({why})." for name, why in getattr(result, "skipped", [])]) + table(
        reasons, [("reason", "Quarantine reason", None), ("rows", "Rows", lambda v: fmt_num(v, 0))],
        empty="No row was quarantined.")


def method_notes(result: MonthResult) -> Html:
    """Definitions, tests and minimum sizes, in plain language."""
    m = result.config.min_group_size
    return paragraphs([
        "CSAT is the 1–5 satisfaction rating; 'satisfied' means 4 or 5. NPS is the share of promoters (9–10) "
        "minus the share of detractors (0–6), from −100 to 100. Zendesk's good/bad rating is mapped onto the "
        "CSAT scale as configured in feedback.toml.",
        "Theme rates count comments that mention a theme, per 100 comments with text; one comment can carry "
        "several themes. Themes come from the taxonomy file (seed phrases with negation handling, so 'no hidden "
        "fees' does not count as a surprise charge) plus a learned model that catches paraphrases.",
        "Sentiment is nltk's VADER compound score on each comment's original text.",
        f"Intervals are {CI_LEVEL}: Wilson for proportions, Newcombe for differences of proportions, t for mean CSAT, "
        "and a fixed-seed bootstrap for NPS. Differences are tested with two-proportion tests (Fisher's exact "
        "test for small counts) and Mann-Whitney for ratings; across themes, p-values are adjusted with "
        "Benjamini-Hochberg.",
        f"No finding is stated for a group with fewer than {m} responses, nor for a difference that is not "
        "statistically clear. 'Clear' means an adjusted p-value below 0.05.",
        "Service measures: first reply and resolution times come from the ticketing system (medians with "
        f"bootstrap intervals). 'Replied within SLA' means a first reply within {result.config.sla_first_response_hours:g} "
        "hours, as the provider reports it. A contact is a ticket or complaint; a repeat contact is the same customer "
        "contacting again within 7 or 30 days before it; 'resolved first time' means marked solved, not reopened, "
        "and no further contact within 7 days.",
        "Like-for-like comparisons compare outsourced and in-house contacts of the same channel and contact reason "
        "(Mantel-Haenszel for rates, a regression with robust errors for CSAT and NPS). When the raw and adjusted "
        "results disagree the report says so: the difference may then come from the kind of contacts each handles.",
        "Drivers: the score impact is the overall mean CSAT minus the mean without a theme's comments; the "
        "regression effect holds the other themes equal. The call list ranks customers by risk of leaving "
        "(x4), an unresolved case (x2) and unhappiness (x1).",
        "Customer text is redacted of emails, phone and card numbers before analysis; customers are identified "
        "only by salted hashes and response ids.",
    ]) + _theme_error_notes(result)


def _theme_error_notes(result) -> Html:

    return theme_error_notes(result)
