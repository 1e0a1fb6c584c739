"""The leader's part of the report: what to do, the headline tiles, vendors at a glance.

Short by design (it fits within three screens at 1280 px and two printed A4
pages): every element states a finding with its size and whom it concerns, and
colour always repeats something the words say (better / worse / no clear
difference), so nothing depends on colour alone. Statistical terms live in the
appendix (:mod:`feedbacklib.report.sections`).
"""

from __future__ import annotations

import datetime as _dt
import math

import pandas as pd

from .. import schema as S
from ..result import MonthResult
from ..stats import columns as K
from ..safety import escape
from .html import Html, fmt_num, fmt_pct, paragraphs

__all__ = ["sparkline", "headline_tiles", "vendor_matrix", "TILE_METRICS"]

#: The headline tiles: (column in the KPI tables, label, kind), in the order of
#: :data:`feedbacklib.stats.HEADLINE_METRICS` (which says whether higher is better).
TILE_METRICS = (
    (K.SATISFIED_SHARE, "Satisfied (rated 4–5)", "share"),
    (K.CSAT_MEAN, "Mean rating (1–5)", "mean"),
    ("nps", "NPS", "nps"),
    (K.NEGATIVE_SHARE, "Negative comments", "share"),
    ("first_response_median", "First reply, median", "hours"),
    ("fcr_share", "Resolved first time", "share"),
)


def _num(value) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return math.nan
    return out


def _fmt(kind: str, value) -> str:
    v = _num(value)
    if math.isnan(v):
        return "–"
    if kind == "share":
        return fmt_pct(v)
    if kind == "mean":
        return f"{v:.2f}"
    if kind == "hours":
        return f"{v:.1f} h"
    return f"{v:.0f}".replace("-", "\u2212")


def _fmt_change(kind: str, delta: float) -> str:
    sign = "+" if delta > 0 else ("\u2212" if delta < 0 else "±")
    if kind == "share":
        return f"{sign}{abs(100 * delta):.0f} pts"
    if kind == "mean":
        return f"{sign}{abs(delta):.2f}"
    if kind == "hours":
        return f"{sign}{abs(delta):.1f} h"
    return f"{sign}{abs(delta):.0f}"


def sparkline(values, *, label: str, width: int = 120, height: int = 22) -> str:
    """A small inline SVG line of ``values`` (oldest first); ``""`` with fewer than two known values.

    Only numbers go into the markup; ``label`` (the accessible name) is escaped.
    """
    vals = [_num(v) for v in values]
    known = [(i, v) for i, v in enumerate(vals) if not math.isnan(v)]
    if len(known) < 2:
        return ""
    lo, hi = min(v for _, v in known), max(v for _, v in known)
    span = hi - lo or 1.0
    pad = 3.0
    step = (width - 2 * pad) / max(len(vals) - 1, 1)
    pts = [(pad + i * step, height - pad - (v - lo) / span * (height - 2 * pad)) for i, v in known]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
    lx, ly = pts[-1]
    return (f'<svg class="fb-spark" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
            f'preserveAspectRatio="none" role="img" '
            f'aria-label="{escape(label)}"><polyline points="{path}" fill="none" stroke="currentColor" '
            f'stroke-width="1.6" stroke-linejoin="round"/><circle cx="{lx:.1f}" cy="{ly:.1f}" r="2.4" '
            f'fill="currentColor"/></svg>')


_WORDS = {"better": "better", "worse": "worse", "same": "no clear change"}
_ARROWS = {"better": "\u25b2", "worse": "\u25bc", "same": "\u25cf"}


def headline_tiles(result: MonthResult) -> Html:
    """All teams' headline figures: value, change against last month (coloured and in words), a trend line,
    and the in-house and outsourced values underneath."""
    tables = result.kpi_tables
    if tables is None or tables.empty:
        return paragraphs(["No headline figures this month."], cls="fb-empty")
    thin = getattr(result, "thin", None)
    months = sorted(m for m in tables[S.MONTH].astype(str).unique() if m <= result.month)[-12:]
    everyone = tables[tables[K.GROUP].astype("string") == K.ALL].set_index(S.MONTH)
    prev_month = None if thin else result.previous_month
    cur = everyone.loc[result.month] if result.month in everyone.index else None
    prev = everyone.loc[prev_month] if prev_month and prev_month in everyone.index else None
    if cur is None:
        return paragraphs(["No headline figures this month."], cls="fb-empty")
    models = {g: tables[(tables[S.MONTH] == result.month).to_numpy(dtype=bool)
                        & (tables[K.GROUP].astype("string") == g).to_numpy(dtype=bool)]
              for g in (S.IN_HOUSE, S.OUTSOURCED)}
    prev_name = _dt.date(int(prev_month[:4]), int(prev_month[5:]), 1).strftime("%B") if prev_month else ""
    tiles = []
    changes = {} if thin else result.headline_changes
    for col, label, kind in TILE_METRICS:
        if col not in cur.index or math.isnan(_num(cur[col])):
            continue
        chip = ""
        cls = "same"
        if prev is not None and not math.isnan(_num(prev.get(col))):
            cls = changes.get(col, "same")
            delta = _num(cur[col]) - _num(prev[col])
            chip = (f'<div class="fb-chip fb-{cls}">{_ARROWS[cls]} {escape(_fmt_change(kind, delta))} '
                    f'· {_WORDS[cls]}</div>')
        spark = ""
        if not thin:
            series = [everyone.loc[m, col] if m in everyone.index else math.nan for m in months]
            spoken = ", ".join(f"{_dt.date(int(m[:4]), int(m[5:]), 1):%b} {_fmt(kind, v)}" for m, v in zip(months, series))
            spark = sparkline(series, label=f"{label} by month: {spoken}")
        split = []
        for g, name in ((S.IN_HOUSE, "In-house"), (S.OUTSOURCED, "Outsourced")):
            row = models[g]
            if not row.empty and col in row and not math.isnan(_num(row.iloc[0][col])):
                split.append(f"{name} {_fmt(kind, row.iloc[0][col])}")
        tiles.append(
            f'<div class="fb-tile fb-tile-{cls}"><div class="fb-tile-label">{escape(label)}</div>'
            f'<div class="fb-tile-main"><span class="fb-tile-value">{escape(_fmt(kind, cur[col]))}</span>{chip}</div>'
            f'{spark}<div class="fb-tile-note">{escape(" · ".join(split))}</div></div>'
        )
    n = int(_num(cur.get("n")) or 0)
    note = (f"All teams, {n:,} pieces of feedback; changes against {prev_name or 'last month'}, lines over the last "
            f"{len(months)} months. “Better” or “worse” only when the change is larger than chance would explain."
            ) if not thin and prev_name else f"All teams, {n:,} pieces of feedback."
    return Html(f'<div class="fb-tile-row">{"".join(tiles)}</div><p class="fb-note">{escape(note)}</p>')


# --------------------------------------------------------------------------- vendors at a glance
_MATRIX_CORE = (
    (K.SATISFIED_SHARE, "Satisfied (4–5)", True, "share"),
    (K.CSAT_MEAN, "Mean satisfaction", True, "mean"),
    ("nps", "NPS", True, "nps"),
    (K.NEGATIVE_SHARE, "Negative comments", False, "share"),
)


def _cell(value: str, cls: str, title: str) -> str:
    return f'<td class="fb-{cls}" title="{escape(title)}">{escape(value)}<span class="fb-sr"> ({escape(title)})</span></td>'


def vendor_matrix(result: MonthResult) -> Html:
    """Each vendor against in-house on the measures that matter, coloured clear-better / clear-worse / no clear
    difference; themes are shown where any vendor differs clearly."""
    vend = result.vendors
    if vend is None or vend.empty:
        return paragraphs(["No outsourced vendor has feedback this month."], cls="fb-empty")
    sig = vend[vend[K.SIGNIFICANT].fillna(False).astype(bool)]
    themes = [m for m in dict.fromkeys(vend[K.METRIC]) if str(m).startswith(K.RATE_PREFIX) and m in set(sig[K.METRIC])]
    measures = list(_MATRIX_CORE) + [
        (m, f"{result.taxonomy.label(m.removeprefix('rate_'))} (per 100)", m == "rate_praise", "rate")
        for m in themes]
    gap = result.gap.set_index(K.PROVIDER) if result.gap is not None and not result.gap.empty else pd.DataFrame()
    head = "".join(f'<th scope="col">{escape(label)}</th>' for _, label, _, _ in measures)
    if not gap.empty:
        head += '<th scope="col">Solved, but customer unhappy</th>'
    rows = []
    base = vend.drop_duplicates(K.METRIC).set_index(K.METRIC)
    cells = []
    for metric, _, _, kind in measures:
        v = base.loc[metric, K.VALUE_B] if metric in base.index else math.nan
        cells.append(f"<td>{escape(_fmt(kind, v) if kind != 'rate' else fmt_num(_num(v), 1))}</td>")
    if not gap.empty:
        ih = gap.loc[K.IN_HOUSE_LABEL, "any_share"] if K.IN_HOUSE_LABEL in gap.index else math.nan
        cells.append(f"<td>{escape(fmt_pct(_num(ih)))}</td>")
    rows.append(f'<tr class="fb-ref"><th scope="row">In-house (reference)</th>{"".join(cells)}</tr>')
    for vendor, sub in vend.groupby("vendor", sort=True):
        sub = sub.set_index(K.METRIC)
        n = int(_num(sub[K.N_A].max()) or 0)
        cells = []
        for metric, _, higher_better, kind in measures:
            if metric not in sub.index:
                cells.append("<td>–</td>")
                continue
            r = sub.loc[metric]
            value = _fmt(kind, r[K.VALUE_A]) if kind != "rate" else fmt_num(_num(r[K.VALUE_A]), 1)
            if bool(r[K.SIGNIFICANT]) if not pd.isna(r[K.SIGNIFICANT]) else False:
                better = (_num(r[K.DIFF]) > 0) == higher_better
                cls, title = ("better", "clearly better than in-house") if better else ("worse", "clearly worse than in-house")
            else:
                cls, title = "same", "no clear difference from in-house"
            cells.append(_cell(value, cls, title))
        if not gap.empty:
            if vendor in gap.index:
                g = gap.loc[vendor]
                clear = bool(g.get(K.SIGNIFICANT)) if not pd.isna(g.get(K.SIGNIFICANT)) else False
                worse = _num(g.get("any_diff")) > 0
                cls, title = (("worse", "clearly worse than in-house") if worse else ("better", "clearly better than in-house")) \
                    if clear else ("same", "no clear difference from in-house")
                cells.append(_cell(fmt_pct(_num(g["any_share"])), cls, title))
            else:
                cells.append("<td>–</td>")
        rows.append(f'<tr><th scope="row">{escape(vendor)} <span class="fb-n">n={n:,}</span></th>{"".join(cells)}</tr>')
    legend = ('<p class="fb-legend"><span class="fb-key fb-better">clearly better</span> '
              '<span class="fb-key fb-worse">clearly worse</span> '
              '<span class="fb-key fb-same">no clear difference</span> than in-house. '
              f'{escape(_matrix_note(result, gap))}</p>')
    return Html(f'<div class="fb-scroll fb-sticky"><table class="fb-table fb-matrix"><thead><tr>'
                f'<th scope="col">Provider</th>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>{legend}')


def _matrix_note(result: MonthResult, gap) -> str:
    note = ("Themes appear where a vendor differs clearly. n = pieces of feedback. ")
    if not gap.empty:
        note += ("“Solved, but customer unhappy”: of the cases the provider reported solved, the share where the "
                 "customer says it is not fixed, rates 1–2, reopens or complains of slowness. ")
    return note + f"Vendors with fewer than {result.config.min_group_size} responses are not compared."
