"""Small HTML building blocks. Every value passes through :func:`escape`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

from ..safety import escape, no_math

__all__ = ["Html", "table", "fmt_pct", "fmt_num", "fmt_interval", "paragraphs"]


class Html:
    """Markup that Jupyter displays as HTML (build it only from escaped values)."""

    def __init__(self, markup: str):
        self.markup = markup

    def _repr_html_(self) -> str:
        return no_math(self.markup)  # customer text with $...$ is not typeset by MathJax

    def __str__(self) -> str:
        return self.markup

    def __add__(self, other: "Html") -> "Html":
        return Html(self.markup + other.markup)


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


def fmt_num(value: Any, digits: int = 1) -> str:
    if _missing(value):
        return "–"
    if isinstance(value, (int,)) or (isinstance(value, float) and digits == 0):
        return f"{value:,.0f}"
    return f"{value:,.{digits}f}"


def fmt_pct(value: Any, digits: int = 0) -> str:
    """A fraction (0..1) as a percentage."""
    return "–" if _missing(value) else f"{100 * value:.{digits}f}%"


def _signed(value: float, digits: int) -> str:
    text = f"{value:.{digits}f}"
    return text.replace("-", "\u2212") if text.lstrip("-").strip("0.") else text.lstrip("-")


def fmt_interval(lo: Any, hi: Any, digits: int = 1, scale: float = 1.0, suffix: str = "") -> str:
    """An interval as "lo–hi", or "lo to hi" when a bound is negative (so minus signs stay readable)."""
    if _missing(lo) or _missing(hi):
        return ""
    a, b = _signed(lo * scale, digits), _signed(hi * scale, digits)
    sep = " to " if (a.startswith("\u2212") or b.startswith("\u2212")) else "–"
    return f"{a}{sep}{b}{suffix}"


def table(
    frame: pd.DataFrame,
    columns: Sequence[tuple[str, str, Callable[[Any], str] | None]],
    *,
    caption: str = "",
    classes: str = "fb-table",
    empty: str = "Nothing to show.",
) -> Html:
    """Render ``frame`` as an escaped HTML table.

    ``columns`` lists (column, header, formatter). A formatter receives the whole
    row (a dict) when the column is ``"*"``, else the cell value; its result is
    escaped.
    """
    if frame.empty:
        return Html(f'<p class="fb-empty">{escape(empty)}</p>')
    head = "".join(f'<th scope="col">{escape(h)}</th>' for _, h, _ in columns)
    body = []
    for row in frame.to_dict(orient="records"):
        cells = []
        for col, _, formatter in columns:
            value = row if col == "*" else row.get(col)
            text = formatter(value) if formatter else ("" if _missing(value) else str(value))
            cells.append(f"<td>{escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    cap = f"<caption>{escape(caption)}</caption>" if caption else ""
    return Html(
        f'<div class="fb-scroll"><table class="{classes}">{cap}<thead><tr>{head}</tr></thead>'
        f'<tbody>{"".join(body)}</tbody></table></div>'
    )


def paragraphs(sentences: Sequence[str], *, tag: str = "p", cls: str = "") -> Html:
    attr = f' class="{cls}"' if cls else ""
    return Html("".join(f"<{tag}{attr}>{escape(s)}</{tag}>" for s in sentences))
