"""Output safety: spreadsheet-formula neutralisation, HTML escaping, and no MathJax on customer text."""

from __future__ import annotations

import html

import pandas as pd

__all__ = ["neutralise_formulas", "escape", "no_math", "NO_MATH_CLASSES"]

# A cell starting with one of these is run as a formula by Excel, LibreOffice or
# Google Sheets (OWASP "CSV injection"). Tab and carriage return are included
# because some spreadsheet programs strip them before parsing.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _neutralise(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells cannot be run as spreadsheet formulas.

    Text cells that start with ``=``, ``+``, ``-``, ``@``, tab or carriage return
    get a leading apostrophe, which spreadsheets show as text. Numbers are left
    alone (a negative number is data, not a formula).

    >>> neutralise_formulas(pd.DataFrame({"a": ["=1+1", "ok", "-2"]}))["a"].tolist()
    ["'=1+1", 'ok', "'-2"]
    """
    out = frame.copy()
    for col in out.columns:
        series = out[col]
        if pd.api.types.is_string_dtype(series) or series.dtype == object:
            out[col] = series.map(_neutralise, na_action="ignore")
    out.columns = [_neutralise(str(c)) for c in out.columns]
    return out


def escape(value: object) -> str:
    """HTML-escape any value for rendering (None and NA become an empty string)."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return ""
    return html.escape(str(value), quote=True)


#: The classes MathJax skips: ``mathjax_ignore`` (MathJax 3, JupyterLab 4's default) and
#: ``tex2jax_ignore`` (MathJax 2: the classic notebook and nbconvert's HTML template).
NO_MATH_CLASSES = "tex2jax_ignore mathjax_ignore"


def no_math(markup: str) -> str:
    """HTML output that MathJax leaves alone, so customer text with ``$...$`` stays text.

    JupyterLab typesets ``$...$`` in every HTML output it renders (and HTML entities
    do not stop it: MathJax reads the decoded text), so a comment such as "charged $5
    then $10" would come out as mathematics. Wrapping the output in an element with
    the ignore classes of MathJax 2 and 3 keeps it literal; ``markup`` must already be
    escaped (:func:`escape`).

    >>> no_math("<p>$5 then $10</p>")
    '<div class="tex2jax_ignore mathjax_ignore"><p>$5 then $10</p></div>'
    """
    return f'<div class="{NO_MATH_CLASSES}">{markup}</div>'
