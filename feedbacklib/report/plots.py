"""Charts as matplotlib Figure objects (object-oriented API, no pyplot state).

Every chart has a title, axis labels and its n, and uses the Okabe-Ito
colour-blind-safe palette. ``figure_html`` embeds a figure as a PNG data URI so
the exported report stays one self-contained file.
"""

from __future__ import annotations

import base64
import io
import logging
import warnings

import matplotlib

matplotlib.use("Agg")  # never needs a display; safe under cron
matplotlib.rcParams["text.parse_math"] = False  # chart text is literal: a vendor "A $\x$ B" is not mathtext

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..pooling import Z_95, Z_998, funnel_limits
from ..safety import escape
from ..stats.findings import CI_LEVEL

log = logging.getLogger(__name__)

__all__ = ["PALETTE", "FigureImage", "theme_rates_figure", "sentiment_figure", "trend_figure", "funnel_figure"]

# Okabe & Ito (2008), safe for the common colour-vision deficiencies.
PALETTE = {
    "in_house": "#0072B2",
    "outsourced": "#E69F00",
    "unknown": "#999999",
    "negative": "#D55E00",
    "neutral": "#BBBBBB",
    "positive": "#009E73",
    "accent": "#CC79A7",
}
MODEL_LABELS = {"in_house": "In-house", "outsourced": "Outsourced", "unknown": "Unknown"}
#: A chart is never displayed at less than this fraction of its pixel size.
MIN_SCALE = 0.75
#: Smallest font in a chart, in points: at 110 dpi 15 px, still 11.5 px when shown at MIN_SCALE.
SMALL = 10


class FigureImage:
    """A rendered figure that displays as an embedded PNG with alt text and caption."""

    def __init__(self, figure: Figure, alt: str, caption: str = ""):
        self.figure = figure
        self.alt = alt
        self.caption = caption
        buf = io.BytesIO()
        # metadata={"Software": None} keeps the PNG bytes free of version stamps (reruns match).
        # Layout warnings (many vendors, long labels) name server paths: they go to the log, never
        # into the notebook's output and so the report.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            figure.savefig(buf, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
        for w in caught:
            log.info("chart %r: %s while drawing (layout may be tight)", alt[:60], w.category.__name__)
        self.png = buf.getvalue()

    @property
    def width(self) -> int:
        """The PNG's width in pixels (from its IHDR header)."""
        return int.from_bytes(self.png[16:20], "big")

    def _repr_html_(self) -> str:
        data = base64.b64encode(self.png).decode("ascii")
        caption = f"<figcaption>{escape(self.caption)}</figcaption>" if self.caption else ""
        # Never shown below MIN_SCALE of its size (labels stay legible on a phone): a narrower screen
        # scrolls the chart inside its own box instead of shrinking it.
        w = self.width
        return (
            f'<figure class="fb-figure"><div class="fb-figure-scroll"><img src="data:image/png;base64,{data}" '
            f'alt="{escape(self.alt)}" width="{w}" style="width:100%;max-width:{w}px;'
            f'min-width:{int(MIN_SCALE * w) + 1}px"></div>{caption}</figure>'
        )

    def _repr_png_(self) -> bytes:
        return self.png


def _new_figure(width: float, height: float) -> tuple[Figure, Axes]:
    fig = Figure(figsize=(width, height), layout="constrained")
    ax = fig.add_subplot()
    ax.spines[["top", "right"]].set_visible(False)
    return fig, ax


RATE_AXIS = f"Comments mentioning the theme, per 100 comments (bars: {CI_LEVEL} interval)"


def theme_rates_figure(rates: pd.DataFrame, title: str, xlabel: str = RATE_AXIS, unit: str = "comments") -> Figure:
    """Horizontal grouped bars: theme rate per 100 comments by group, with 95% intervals.

    ``rates`` has columns ``theme`` (label), ``group`` (service model), ``rate``,
    ``lo``, ``hi`` (per 100) and ``n`` (comments in the group).
    """
    groups = list(dict.fromkeys(rates["group"]))
    themes = list(dict.fromkeys(rates["theme"]))
    fig, ax = _new_figure(6.2, 0.45 * len(themes) + 1.6)
    height = 0.8 / max(len(groups), 1)
    y = np.arange(len(themes))
    for i, group in enumerate(groups):
        sub = rates[rates["group"] == group].set_index("theme").reindex(themes)
        # plain floats: a nullable column's <NA> (a theme missing on one side) would make matplotlib raise
        rate, lo, hi, size = (pd.to_numeric(sub[c], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
                              for c in ("rate", "lo", "hi", "n"))
        n = int(np.nanmax(size)) if np.isfinite(size).any() else 0
        err = np.vstack([np.clip(rate - lo, 0, None), np.clip(hi - rate, 0, None)])
        ax.barh(
            y + (i - (len(groups) - 1) / 2) * height,
            np.nan_to_num(rate),
            height=height,
            xerr=np.nan_to_num(err),
            color=PALETTE.get(group, PALETTE["accent"]),
            error_kw={"ecolor": "#333333", "capsize": 2, "lw": 0.8},
            label=f"{MODEL_LABELS.get(group, group)} (n={n:,} {unit})",
        )
    ax.set_yticks(y, themes)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.set_title(title, loc="left", fontsize=11)
    # Below the axes, so it never hides a bar.
    fig.legend(loc="outside lower center", ncols=len(groups), frameon=False, fontsize=SMALL)
    return fig


def sentiment_figure(shares: pd.DataFrame, title: str) -> Figure:
    """Stacked horizontal bars of negative / neutral / positive shares per group.

    ``shares`` has one row per group (index = label) with columns ``negative``,
    ``neutral``, ``positive`` (fractions) and ``n``.
    """
    fig, ax = _new_figure(6.2, 0.5 * len(shares) + 1.4)
    left = np.zeros(len(shares))
    labels = [f"{g} (n={int(n):,})" for g, n in zip(shares.index, shares["n"])]
    for part in ("negative", "neutral", "positive"):
        values = shares[part].to_numpy(dtype=float) * 100
        bars = ax.barh(labels, values, left=left, color=PALETTE[part], label=part.capitalize())
        ax.bar_label(bars, labels=[f"{v:.0f}%" if v >= 8 else "" for v in values], label_type="center", fontsize=SMALL)
        left += values
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("Share of comments (%)")
    ax.set_title(title, loc="left", fontsize=11)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, -0.55), ncols=3, frameon=False, fontsize=SMALL)
    return fig


def trend_figure(trend: pd.DataFrame, title: str, ylabel: str) -> Figure:
    """Lines of a metric by month, one per series, with 95% interval bands.

    ``trend`` has columns ``month``, ``series``, ``value``, ``lo``, ``hi``, ``n``.
    """
    fig, ax = _new_figure(6.2, 3.2)
    colours = list(PALETTE.values())
    for i, (name, sub) in enumerate(trend.groupby("series", sort=False)):
        sub = sub.sort_values("month")
        colour = PALETTE.get(name, colours[i % len(colours)])
        ax.plot(sub["month"], sub["value"], marker="o", color=colour, label=MODEL_LABELS.get(name, name))
        ax.fill_between(sub["month"], sub["lo"], sub["hi"], color=colour, alpha=0.15, linewidth=0)
    ax.set_xlabel("Month")
    ax.set_ylabel(ylabel)
    ax.set_title(title, loc="left", fontsize=11)
    ax.legend(frameon=False, fontsize=SMALL)
    return fig


def funnel_figure(pooled: pd.DataFrame, title: str) -> Figure:
    """Funnel plot: each group's raw rate (%) against its volume, with 95% and 99.8% control limits.

    ``pooled`` is :func:`feedbacklib.pooling.pooled_rates` output (``group``, ``model``,
    ``n``, ``rate``, ``overall_rate``).
    """
    fig, ax = _new_figure(6.0, 3.6)
    n = pooled["n"].to_numpy(dtype=float)
    p0 = float(pooled["overall_rate"].iloc[0])
    grid = np.linspace(max(5.0, 0.5 * n.min()), 1.15 * n.max(), 200)
    for z, style, name in ((Z_95, "--", "95% limits"), (Z_998, "-", "99.8% limits")):
        lo, hi = funnel_limits(p0, grid, z)
        ax.plot(grid, 100 * lo, style, color="#777777", lw=1, label=name)
        ax.plot(grid, 100 * hi, style, color="#777777", lw=1)
    ax.axhline(100 * p0, color="#333333", lw=0.8)
    for model, sub in pooled.groupby("model", sort=True):
        ax.scatter(sub["n"], 100 * sub["rate"], s=36, color=PALETTE.get(str(model), PALETTE["accent"]),
                   label=MODEL_LABELS.get(str(model), str(model)), zorder=3)
    # labels above dots over the overall rate, below the others; neighbours on a side alternate in
    # distance (in order of volume) so their labels do not overlap
    count = {True: 0, False: 0}
    for _, r in pooled.sort_values("n").iterrows():
        above = bool(r["rate"] >= p0)
        step = count[above] % 2
        count[above] += 1
        dy = (5 + 14 * step) if above else (-14 - 14 * step)
        ax.annotate(str(r["group"]), (r["n"], 100 * r["rate"]), textcoords="offset points", xytext=(4, dy),
                    fontsize=SMALL)
    ax.set_xlabel("Ratings (CSAT answers)")
    ax.set_ylabel("% satisfied (4–5)")
    ax.set_title(title, loc="left", fontsize=11)
    ax.legend(frameon=False, fontsize=SMALL, loc="lower right")
    return fig
