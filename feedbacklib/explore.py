"""The analyst API: load months, filter, drill down, compare, plot, tune the themes.

Everything the exploration notebooks (``notebooks/explore.ipynb`` and
``notebooks/tune_themes.ipynb``) show is computed here, so a notebook cell is one
call and every result is reachable from a test. The functions fall in four groups:

Loading
    :func:`load_months` (the themed frame of one month, a range or all months),
    :func:`load_result` (the whole :class:`~feedbacklib.result.MonthResult`).
    Both run :func:`feedbacklib.pipeline.run_month`, exactly as the monthly report
    does, and keep the last results in memory so a notebook can ask again for free.
Looking
    :func:`filter_feedback`, :func:`comments_table`, :func:`show_comments` (an
    interactive, searchable table that works offline), :func:`quality_summary`,
    :func:`completeness_table`, :func:`theme_counts`, :func:`segment_table`,
    :func:`comparison_table` (pandas ``Styler`` objects with readable headers and
    formatted percentages and intervals).
Plotting
    :func:`theme_rates_plot`, :func:`sentiment_plot`, :func:`trend_plot` return
    matplotlib :class:`~matplotlib.figure.Figure` objects (the report's own chart
    functions); :func:`setup_notebook` makes Jupyter display them.
Tuning the taxonomy
    :func:`uncovered_comments`, :func:`discover_themes`, :func:`edit_theme`,
    :func:`compare_taxonomies`, :func:`save_taxonomy`, :func:`evaluate_themes`.

Examples
--------
>>> from feedbacklib import explore as fx                                  # doctest: +SKIP
>>> frame = fx.load_months("2026-08:2026-10", config="feedback.toml")      # doctest: +SKIP
>>> late = fx.filter_feedback(frame, service_model="outsourced", theme="responsiveness")  # doctest: +SKIP
>>> fx.show_comments(late)                                                  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as _dt

import dataclasses
import html as _html
import io
import os
import re
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from . import schema as S
from .clean import reason_labels
from .stats import MIN_N, compare_groups, kpi_table, proportion_interval
from .stats import has_text as _has_text
from .config import Config, load_config
from .errors import InputError, NoDataError
from .months import as_date, check_month
from .pipeline import MonthResult, run_month
from .progress import plural as _plural
from .progress import progress_bar
from .report.html import fmt_interval
from .report.plots import MODEL_LABELS, sentiment_figure, theme_rates_figure, trend_figure
from .themes import Taxonomy, ThemeTagger, load_taxonomy, tag_themes
from .trends import monthly_theme_rates
from .themes import discovery
from .themes.taxonomy import toml_string
from .emerging import meaningful_candidates

__all__ = [
    # loading
    "load_months", "load_result", "clear_cache", "configured_taxonomy", "read_taxonomy",
    # looking
    "filter_feedback", "theme_ids", "theme_labels", "comments_table", "show_comments", "InteractiveTable",
    "quality_summary", "completeness_table", "theme_counts", "segment_table", "comparison_table",
    "setup_notebook",
    # plotting
    "theme_rates_plot", "sentiment_plot", "trend_plot",
    # tuning the taxonomy
    "uncovered_comments", "discover_themes", "CandidateThemes", "edit_theme", "taxonomy_toml", "save_taxonomy",
    "compare_taxonomies", "TaxonomyComparison", "read_labelled", "evaluate_themes", "ThemeEvaluation",
    "COLUMN_LABELS",
]

#: Readable headers for the canonical columns (and the ones the steps add).
COLUMN_LABELS = {
    S.RESPONSE_ID: "Id", S.SOURCE: "Source", S.PLATFORM: "Platform", S.RECEIVED_AT: "Received",
    S.MONTH: "Month", S.TEAM: "Team", S.SERVICE_MODEL: "Service model", S.VENDOR: "Vendor",
    S.CHANNEL: "Channel", S.CSAT: "CSAT", S.NPS: "NPS", S.TEXT: "Comment",
    S.FIRST_RESPONSE_HOURS: "First response (h)", S.RESOLUTION_HOURS: "Resolution (h)",
    S.RESOLVED_REPORTED: "Reported solved", S.REOPENED: "Reopened", S.CUSTOMER_KEY: "Customer key",
    S.CATEGORY: "Category", S.SENTIMENT: "Sentiment score", S.SENTIMENT_LABEL: "Sentiment",
    S.THEME_EVIDENCE: "Evidence", S.SOURCE_FILE: "File", S.SOURCE_ROW: "Row",
}
SENTIMENT_LABELS = ("negative", "neutral", "positive")
_THEMES_COL = "Themes"
_ATTR_LABELS = "feedbacklib_theme_labels"
_ATTR_TIMEZONE = "feedbacklib_timezone"
#: The configured time zone of the last month loaded (for frames that lost their attrs).
_LAST_TIMEZONE: str | None = None
_CACHE_SIZE = 4  # entries; "last" and its month share one result
_CACHE: OrderedDict[tuple, MonthResult] = OrderedDict()
_RANGE = re.compile(r"^\s*(\S+)\s*(?::|\.\.)\s*(\S+)\s*$")


# =========================================================================== #
# Loading
# =========================================================================== #
def _config(config: Config | str | Path) -> Config:
    return config if isinstance(config, Config) else load_config(config)


def _fingerprint(folder: Path) -> tuple:
    """Names, sizes and modification times of the input files (a new export invalidates the cache)."""
    if not folder.is_dir():
        return ()
    return tuple(sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns)
                        for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")))


def _file_stamp(path: Path | None) -> tuple:
    if path is None or not Path(path).is_file():
        return ()
    st = Path(path).stat()
    return (str(path), st.st_size, st.st_mtime_ns)


def load_result(
    month: str = "last",
    input_dir: str | Path | None = None,
    config: Config | str | Path = "feedback.toml",
    *,
    progress: bool | None = None,
    cache: bool = True,
    keep_rows: bool = True,
    today: _dt.date | str | None = None,
) -> MonthResult:
    """The whole analysis of one month (:func:`~feedbacklib.pipeline.run_month`), cached in memory.

    The figures are the monthly report's: the same reading, cleaning, tagging
    (the learned expansion is fitted on the comments of ``month``) and tests.
    The last few results are kept; a changed input file, configuration or
    taxonomy file is noticed and the month is computed again. ``progress=None``
    shows a bar in JupyterLab and in a terminal, and nothing under cron.
    ``keep_rows`` keeps every month's rows in ``result.rows`` (what :func:`load_months`
    reads); the report itself keeps only the month's.
    """
    global _LAST_TIMEZONE
    cfg = _config(config)
    _LAST_TIMEZONE = cfg.timezone
    folder = Path(input_dir) if input_dir is not None else cfg.input
    today = as_date(today, cfg.timezone)  # the notebooks' parameter cell passes it (needed for "last")
    key = (month, today, str(folder.resolve()), _file_stamp(cfg.source_path), _file_stamp(cfg.taxonomy),
           _fingerprint(folder), keep_rows)
    if cache and key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key]
    result = run_month(month, folder, cfg, progress=progress, keep_rows=keep_rows, today=today)
    if cache:
        _CACHE[key] = result
        _CACHE[(result.month, *key[1:])] = result  # "last" and its month are the same run
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return result


def clear_cache() -> None:
    """Forget the results :func:`load_result` and :func:`load_months` keep in memory."""
    _CACHE.clear()


def _check_month(month: str) -> str:
    return check_month(month.strip() if isinstance(month, str) else month, what="A month (one month, a list of months, a range 'YYYY-MM:YYYY-MM', "
                                   "'last' or 'all')", allow_last=False)


def _month_request(months: str | Sequence[str]) -> tuple[str, Any]:
    """("last" | "all" | "list" | "range", payload) from the ``months`` argument."""
    if isinstance(months, str):
        text = months.strip()
        if text in ("last", "all"):
            return text, None
        match = _RANGE.match(text)
        if match:
            first, last = _check_month(match.group(1)), _check_month(match.group(2))
            if first > last:
                raise InputError(f"The range {months!r} ends before it starts; write 'earliest:latest'.")
            return "range", (first, last)
        return "list", [_check_month(text)]
    if isinstance(months, Iterable):
        chosen = sorted({_check_month(m) for m in months})
        if not chosen:
            raise InputError("No month given: pass at least one YYYY-MM, 'last' or 'all'.")
        return "list", chosen
    raise InputError(f"months must be 'YYYY-MM', a list of them, 'YYYY-MM:YYYY-MM', 'last' or 'all'; got {months!r}.")


def load_months(
    months: str | Sequence[str] = "last",
    input_dir: str | Path | None = None,
    config: Config | str | Path = "feedback.toml",
    *,
    progress: bool | None = None,
    today: _dt.date | str | None = None,
) -> pd.DataFrame:
    """The themed frame of one or several months: canonical columns, ``theme_<id>``, evidence, sentiment.

    Parameters
    ----------
    months : str or list of str
        ``"2026-10"`` (one month), ``["2026-08", "2026-10"]`` (exactly those),
        ``"2026-08:2026-10"`` (every month of the inclusive range present in the
        data), ``"last"`` (the latest full month that has ended, see
        :mod:`feedbacklib.months`) or ``"all"`` (every month up to that one, as the
        report's history).
    input_dir : path, optional
        Folder of raw exports; defaults to the configured input folder.
    config : Config or path
        A loaded configuration or the path of ``feedback.toml``.
    progress : bool or None
        Progress bar over the analysis steps; ``None`` decides automatically.
    today : date, ``"YYYY-MM-DD"`` or None
        The date that decides which months have ended (None: today in the configured zone).

    Returns
    -------
    pandas.DataFrame
        One row per piece of feedback, with one boolean ``theme_<id>`` column per
        theme, ``theme_evidence`` (why each theme was tagged), ``sentiment`` and
        ``sentiment_label``. ``frame.attrs`` carries the theme labels.

    Raises
    ------
    NoDataError
        When a requested month has no feedback (the message lists the months present).

    Examples
    --------
    >>> frame = load_months("2026-10", "data/sample", "feedback.toml")      # doctest: +SKIP
    >>> frame.groupby("service_model", observed=True)["theme_responsiveness"].mean()  # doctest: +SKIP
    """
    kind, payload = _month_request(months)
    if kind in ("last", "all"):
        result = load_result("last", input_dir, config, progress=progress, today=today)
        wanted = [result.month] if kind == "last" else None
    else:
        assert payload is not None  # a named month or range
        target = payload[-1]
        result = load_result(target, input_dir, config, progress=progress, today=today)
        wanted = payload
    history = result.rows
    assert history is not None  # load_result keeps every month's rows
    present = sorted(history[S.MONTH].dropna().unique().tolist())
    if kind == "range":
        wanted = [m for m in present if payload[0] <= m <= payload[1]]
    elif wanted is None:
        wanted = present
    missing = [m for m in wanted if m not in present]
    if missing or not wanted:
        raise NoDataError(
            f"No feedback for {', '.join(missing) or months} in the input: it holds "
            f"{', '.join(present) or 'no dated rows'}. Pick months from that list."
        )
    frame = history[history[S.MONTH].isin(wanted)].reset_index(drop=True)
    frame.attrs[_ATTR_LABELS] = {t.id: t.label for t in result.taxonomy}
    frame.attrs[_ATTR_TIMEZONE] = result.config.timezone  # comment tables show local times
    return frame


def configured_taxonomy(config: Config | str | Path = "feedback.toml") -> Taxonomy:
    """The taxonomy the configuration points at (the built-in one when ``taxonomy`` is empty)."""
    return load_taxonomy(_config(config).taxonomy)


def read_taxonomy(path: str | Path | None, default: Taxonomy | None = None) -> Taxonomy:
    """The taxonomy file at ``path``; ``default`` (else the built-in taxonomy) when ``path`` is empty."""
    if path is None or not str(path):
        return default if default is not None else load_taxonomy()
    return load_taxonomy(path)


# =========================================================================== #
# Looking at the frame
# =========================================================================== #
def theme_ids(frame: pd.DataFrame) -> list[str]:
    """The theme ids a themed frame carries, in column order."""
    prefix = S.theme_column("")
    return [c[len(prefix):] for c in frame.columns if c.startswith(prefix) and c != S.THEME_EVIDENCE]


def theme_labels(frame: pd.DataFrame, taxonomy: Taxonomy | None = None) -> dict[str, str]:
    """Theme id -> report label, from ``taxonomy``, the frame's attrs, else the built-in taxonomy."""
    labels: dict[str, str] = {}
    if taxonomy is None:
        labels = dict(frame.attrs.get(_ATTR_LABELS) or {})
        if not labels:
            labels = {t.id: t.label for t in load_taxonomy()}
    else:
        labels = {t.id: t.label for t in taxonomy}
    return {t: labels.get(t, t.replace("_", " ").capitalize()) for t in theme_ids(frame)}


def _as_list(value) -> list:
    if value is None:
        return []
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        return [value]
    return list(value)


def _check_values(frame: pd.DataFrame, column: str, values: list, allowed: Iterable | None = None) -> None:
    known = list(allowed) if allowed is not None else sorted(map(str, frame[column].dropna().unique()))
    unknown = [v for v in values if str(v) not in map(str, known)]
    if unknown:
        raise ValueError(
            f"filter_feedback: no {column} called {', '.join(map(repr, unknown))}. "
            f"Expected one of: {', '.join(map(str, known)) or '(none in this frame)'}."
        )


def filter_feedback(
    frame: pd.DataFrame,
    *,
    months: str | Sequence[str] | None = None,
    service_model: str | Sequence[str] | None = None,
    vendor: str | Sequence[str] | None = None,
    team: str | Sequence[str] | None = None,
    channel: str | Sequence[str] | None = None,
    source: str | Sequence[str] | None = None,
    theme: str | Sequence[str] | None = None,
    sentiment: str | Sequence[str] | None = None,
    contains: str | None = None,
    max_csat: int | None = None,
) -> pd.DataFrame:
    """The rows matching every given filter (a list means "any of these"); the input is not modified.

    ``theme`` takes theme ids (a row matches when it carries any of them; ``"none"``
    selects the comments no theme covers); ``sentiment`` takes ``negative``, ``neutral``,
    ``positive``; ``contains`` is a case-insensitive search in the comment text;
    ``max_csat=2`` keeps ratings of 1 and 2. A value that matches nothing in the
    frame raises ``ValueError`` listing the values that exist (catches typos).

    >>> filter_feedback(frame, service_model="outsourced", theme=["responsiveness", "not_fixed"])  # doctest: +SKIP
    """
    keep = np.ones(len(frame), dtype=bool)
    for column, value, allowed in (
        (S.SERVICE_MODEL, service_model, S.SERVICE_MODELS), (S.VENDOR, vendor, None), (S.TEAM, team, None),
        (S.CHANNEL, channel, S.CHANNELS), (S.SOURCE, source, S.SOURCES),
        (S.SENTIMENT_LABEL, sentiment, SENTIMENT_LABELS),
    ):
        values = _as_list(value)
        if not values:
            continue
        _check_values(frame, column, values, allowed)
        keep &= frame[column].astype("string").isin([str(v) for v in values]).fillna(False).to_numpy(dtype=bool)
    if months is not None:
        kind, payload = _month_request(months)
        month = frame[S.MONTH].astype("string")
        if kind == "range":
            keep &= ((month >= payload[0]) & (month <= payload[1])).fillna(False).to_numpy(dtype=bool)
        elif kind == "list":
            keep &= month.isin(payload).fillna(False).to_numpy(dtype=bool)
    themes = _as_list(theme)
    if themes:
        ids = theme_ids(frame)
        unknown = [t for t in themes if t not in ids and t != "none"]
        if unknown:
            raise ValueError(f"filter_feedback: no theme {', '.join(map(repr, unknown))}. "
                             f"Theme ids in this frame: {', '.join(ids)} (or 'none' for uncovered comments).")
        uncovered = _has_text(frame) & ~_theme_matrix(frame).any(axis=1)
        hit = np.zeros(len(frame), dtype=bool)
        for t in themes:
            hit |= uncovered if t == "none" else frame[S.theme_column(t)].to_numpy(dtype=bool)
        keep &= hit
    if contains:
        keep &= frame[S.TEXT].astype("string").str.contains(contains, case=False, regex=False) \
            .fillna(False).to_numpy(dtype=bool)
    if max_csat is not None:
        keep &= (frame[S.CSAT].astype("Float64") <= max_csat).fillna(False).to_numpy(dtype=bool)
    out = frame.loc[keep].reset_index(drop=True)
    out.attrs = dict(frame.attrs)
    return out


def _theme_matrix(frame: pd.DataFrame) -> np.ndarray:
    ids = theme_ids(frame)
    if not ids:
        return np.zeros((len(frame), 0), dtype=bool)
    return frame[[S.theme_column(t) for t in ids]].to_numpy(dtype=bool)


def _theme_names(frame: pd.DataFrame, labels: dict[str, str]) -> pd.Series:
    """ "Responsiveness, Surprise charges" per row (empty when no theme)."""
    names = np.full(len(frame), "", dtype=object)
    for tid, label in labels.items():
        flags = frame[S.theme_column(tid)].to_numpy(dtype=bool)
        names[flags] = np.where(names[flags] == "", label, names[flags] + ", " + label)
    return pd.Series(names, index=frame.index, dtype="string")


_COMMENT_COLUMNS = (S.RESPONSE_ID, S.MONTH, S.RECEIVED_AT, S.SOURCE, S.TEAM, S.VENDOR, S.SERVICE_MODEL,
                    S.CHANNEL, S.CSAT, S.NPS, S.SENTIMENT_LABEL)


def _timezone_of(frame: pd.DataFrame, timezone: str | None) -> str:
    """The zone times are shown in: ``timezone``, else the configured one the frame was loaded with."""
    return timezone or frame.attrs.get(_ATTR_TIMEZONE) or _LAST_TIMEZONE or "UTC"


def comments_table(frame: pd.DataFrame, taxonomy: Taxonomy | None = None, *, max_chars: int | None = None,
                   timezone: str | None = None) -> pd.DataFrame:
    """Comments with their themes (labels) and evidence, under readable column names.

    Only rows with a comment are kept; the order of ``frame`` is kept. ``max_chars``
    shortens long comments (with an ellipsis). Every cell is text: a missing value is
    an empty cell (never ``<NA>``), scores are whole numbers, and the time a comment
    was received is local to ``timezone`` (default: the configured ``[project] timezone``
    that :func:`load_months` recorded in ``frame.attrs``; UTC without one).
    """
    has_text = _has_text(frame)
    rows = frame.loc[has_text]
    labels = theme_labels(frame, taxonomy)
    out = pd.DataFrame({COLUMN_LABELS[c]: rows[c] for c in _COMMENT_COLUMNS if c in rows.columns})
    if S.RECEIVED_AT in rows.columns:
        received = rows[S.RECEIVED_AT]
        if getattr(received.dt, "tz", None) is not None:
            received = received.dt.tz_convert(_timezone_of(frame, timezone))
        out[COLUMN_LABELS[S.RECEIVED_AT]] = received.dt.strftime("%Y-%m-%d %H:%M")
    if S.SERVICE_MODEL in rows.columns:
        out[COLUMN_LABELS[S.SERVICE_MODEL]] = rows[S.SERVICE_MODEL].astype("string").map(
            lambda v: MODEL_LABELS.get(v, v), na_action="ignore")
    out[_THEMES_COL] = _theme_names(rows, labels)
    if S.THEME_EVIDENCE in rows.columns:
        out[COLUMN_LABELS[S.THEME_EVIDENCE]] = rows[S.THEME_EVIDENCE].astype("string").fillna("")
    text = rows[S.TEXT].astype("string")
    if max_chars:
        text = text.where(text.str.len() <= max_chars, text.str.slice(0, max_chars - 1) + "…")
    out[COLUMN_LABELS[S.TEXT]] = text
    # text everywhere, "" for missing: no "<NA>" / "nan" in a table a person reads
    return out.astype("string").fillna("").astype(object).reset_index(drop=True)


# -- interactive tables (itables, offline) ------------------------------------------------
# ITables through its public offline API only: ``init_notebook_mode(connected=False, dt_bundle=...)``
# embeds the DataTables library once per notebook (by :func:`setup_notebook`, or before the first
# table), and ``to_html_datatable(connected=False)`` draws each table with it. The bundle handed to
# it is ITables' own (``itables.options.dt_bundle``), gzip-compressed inside a small ES module that
# decompresses it in the browser (``DecompressionStream``): about a third of the size ITables embeds.
_OFFLINE_READY = False
#: ITables' "help" links (to itables.org) in its loading message and static preview: kept as plain text.
_LINK = re.compile(r"<a href=[\"']?https?://[^>]*>(.*?)</a>", re.S)
_BUNDLE_MODULE = """// feedbacklib: ITables' DataTables bundle (itables %(version)s), gzip-compressed; decompressed here.
const unzip = async (b64) => new Response(new Blob([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))])
  .stream().pipeThrough(new DecompressionStream("gzip"))).text();
const style = document.createElement("style");
style.textContent = await unzip("%(css)s");
document.head.appendChild(style);
const url = URL.createObjectURL(new Blob([await unzip("%(js)s")], { type: "text/javascript" }));
const bundle = await import(url);
URL.revokeObjectURL(url);
export const { %(names)s } = bundle;
export default bundle.default;
"""


def small_bundle() -> Path:
    """ITables' DataTables bundle as a small gzip-compressed ES module (cached per itables version).

    What :func:`setup_notebook` passes to ``itables.init_notebook_mode(dt_bundle=...)``:
    the same library, about 0.33 MB embedded in a notebook instead of about 0.97 MB.
    """
    import base64
    import gzip
    import tempfile

    import itables

    source = Path(itables.options.dt_bundle)
    folder = Path(tempfile.gettempdir()) / f"feedbacklib-itables-{itables.__version__}-{os.getuid()}"
    target = folder / "dt_bundle.js"
    if target.is_file() and target.with_suffix(".css").is_file():
        return target
    js = source.read_text(encoding="utf-8")
    css = source.with_suffix(".css").read_text(encoding="utf-8")
    names = []
    for item in (m.group(1) for m in re.finditer(r"export\s*\{([^}]*)\}", js)):
        for part in item.split(","):
            alias = part.split(" as ")[-1].strip()
            if alias and alias != "default":
                names.append(alias)
    if "ITable" not in names:  # a bundle we do not know: embed it as it is
        return source

    def packed(text: str) -> str:
        return base64.b64encode(gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0)).decode("ascii")

    module = _BUNDLE_MODULE % {"version": itables.__version__, "css": packed(css), "js": packed(js),
                               "names": ", ".join(dict.fromkeys(names))}
    folder.mkdir(parents=True, exist_ok=True)
    for path, text in ((target.with_suffix(".css"), "/* in dt_bundle.js */\n"), (target, module)):
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    return target


def _load_library() -> bool:
    """Embed the DataTables library in the notebook (once per kernel); False outside IPython."""
    global _OFFLINE_READY
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython ships with the notebook stack
        return False
    if get_ipython() is None:
        return False
    import itables

    itables.options.display_logo_when_loading = False  # its logo links to itables.org
    itables.init_notebook_mode(all_interactive=False, connected=False, dt_bundle=small_bundle())
    _OFFLINE_READY = True
    return True


#: Comment tables fit the page: left-aligned, wrapped, the comment the widest column.
_TABLE_CSS = (
    "<style>.fb-itable{max-width:100%;overflow-x:hidden}"
    ".fb-itable table.dataTable{width:100%!important;table-layout:fixed}"
    ".fb-itable table.dataTable{font-size:0.9em}"
    ".fb-itable table.dataTable th,.fb-itable table.dataTable td{text-align:left!important;padding:4px 5px!important;"
    "white-space:normal!important;overflow-wrap:break-word;word-break:normal;vertical-align:top}"
    ".fb-itable .dt-layout-row{flex-wrap:wrap}</style>"
)
#: Column widths (% of the table) of the comment table; other columns share what is left.
_WIDTHS = {"Id": 7.5, "Received": 7, "Source": 6.5, "Team": 7, "Vendor": 7, "Service model": 7.5, "Channel": 5.5,
           "CSAT": 3.5, "NPS": 3.5, "Sentiment": 6, "Themes": 9, "Evidence": 11.5, "Comment": 19}


class InteractiveTable:
    """A searchable, sortable, paged table (DataTables through itables) that needs no network.

    The DataTables library is embedded in the notebook (``connected=False``) once per
    kernel session: by :func:`setup_notebook`, or just before the first table shown.
    Cell values are HTML-escaped; text is left-aligned and wraps, so the table fits the
    page. ``frame`` is the table's data.
    """

    def __init__(self, frame: pd.DataFrame, caption: str | None = None, *, page_length: int = 10):
        self.frame = frame
        self.caption = caption
        self.page_length = page_length

    def _column_defs(self) -> list[dict]:
        columns = list(self.frame.columns)
        known = {c: w for c, w in _WIDTHS.items() if c in columns}
        others = len(columns) - len(known)
        share = max(100 - sum(known.values()), 8 * others) / max(others, 1)
        widths = {c: known.get(c, share) for c in columns}
        total = sum(widths.values()) or 1
        return [{"targets": i, "width": f"{100 * widths[c] / total:.1f}%"} for i, c in enumerate(columns)]

    def to_html(self) -> str:
        """The table's HTML; it draws with the library :func:`setup_notebook` embedded."""
        from itables import to_html_datatable

        table = to_html_datatable(
            self.frame, caption=self.caption, connected=False, display_logo_when_loading=False,
            showIndex=False, pageLength=self.page_length, maxBytes=0, allow_html=False,
            classes="display compact", layout={"topEnd": "search", "bottomEnd": "paging"},
            autoWidth=False, columnDefs=self._column_defs(), style="width:100%;table-layout:fixed",
        )
        table = _LINK.sub(r"\1", table)
        return f'{_TABLE_CSS}<div class="fb-itable">{table}</div>'

    def _repr_html_(self) -> str:
        if not _OFFLINE_READY:
            _load_library()
        return self.to_html()

    def __repr__(self) -> str:
        return f"<InteractiveTable: {len(self.frame):,} rows x {self.frame.shape[1]} columns>"


def show_comments(
    frame: pd.DataFrame,
    taxonomy: Taxonomy | None = None,
    *,
    max_rows: int = 5000,
    page_length: int = 10,
    caption: str | None = None,
    timezone: str | None = None,
) -> InteractiveTable:
    """An interactive, searchable table of the comments of ``frame`` with their themes and evidence.

    Works offline (the JavaScript library is embedded in the notebook). At most
    ``max_rows`` comments are shown (the caption says so when some are left out).
    """
    table = comments_table(frame, taxonomy, timezone=timezone)
    shown = table.head(max_rows).drop(columns=[COLUMN_LABELS[S.MONTH]], errors="ignore")  # "Received" has the date
    zone = _timezone_of(frame, timezone)
    note = (_plural(len(table), "comment") + (f" (first {len(shown):,} shown)" if len(shown) < len(table) else "")
            + f"; times in {zone}")
    return InteractiveTable(shown, caption=f"{caption}. {note}" if caption else note, page_length=page_length)


def _figure_png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    return buf.getvalue()


def setup_notebook() -> None:
    """Prepare a notebook: display matplotlib Figures inline and embed the offline table library.

    Call it in the first cell: it embeds the interactive-table library once (ITables'
    ``init_notebook_mode(connected=False)`` with :func:`small_bundle`), so later
    :func:`show_comments` tables stay small. Outside Jupyter it does nothing.
    """
    global _OFFLINE_READY
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython ships with the notebook stack
        return None
    shell = get_ipython()
    if shell is None:
        return None
    png = shell.display_formatter.formatters["image/png"]
    png.for_type(Figure, _figure_png)
    _OFFLINE_READY = False
    _load_library()
    return None


# -- tables with readable headers ------------------------------------------------------
def _styled(frame: pd.DataFrame, caption: str = "", *, percent: Sequence[str] = (), decimals: dict | None = None,
            integers: Sequence[str] = ()):
    fmt: dict[str, Any] = {c: "{:.0%}" for c in percent if c in frame}
    fmt.update({c: "{:,.0f}" for c in integers if c in frame})
    fmt.update({c: f"{{:,.{d}f}}" for c, d in (decimals or {}).items() if c in frame})
    styler = frame.style.format(fmt, na_rep="–").hide(axis="index")
    if caption:
        styler = styler.set_caption(caption)
    # words read left-aligned, numbers right-aligned; every cell wraps, so a wide table fits the page
    text = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c]) and c not in fmt]
    if text:
        styler = styler.set_properties(subset=text, **{"text-align": "left"})
    small = "font-size: 0.85em;" if frame.shape[1] > 10 else ""  # a wide table (one column per theme)
    return styler.set_table_styles([
        {"selector": "", "props": f"max-width: 100%; table-layout: auto; {small}"},
        {"selector": "caption", "props": "caption-side: bottom; text-align: left; color: #555; font-size: 0.9em;"},
        {"selector": "th", "props": "text-align: left; white-space: normal; overflow-wrap: anywhere; "
                                    "hyphens: auto; padding: 0.25em 0.4em;"},
        {"selector": "td", "props": "white-space: normal; overflow-wrap: anywhere; padding: 0.25em 0.4em;"},
    ])


def _with_ci(value, lo, hi, digits: int = 1, scale: float = 1.0, unit: str = "") -> str:
    if value is None or pd.isna(value):
        return "–"
    ci = fmt_interval(lo, hi, digits, scale, unit)
    return f"{value * scale:.{digits}f}{unit}" + (f" ({ci})" if ci else "")


def quality_summary(result: MonthResult):
    """Rows read, kept and quarantined per input file, with the quarantine reasons (a Styler).

    ``result`` is a :class:`~feedbacklib.result.MonthResult` (:func:`load_result`).
    """
    q = result.quality
    reasons = reason_labels(result.quarantine) if len(result.quarantine) else pd.Series(dtype="string")
    by_file = (result.quarantine.assign(_kind=reasons).groupby([S.SOURCE_FILE, "_kind"]).size()
               if len(result.quarantine) else pd.Series(dtype=int))
    why = {f: "; ".join(f"{k} ({n})" for (ff, k), n in by_file.items() if ff == f) for f in q["file"]}
    table = pd.DataFrame({
        "File": q["file"], "Detected as": q["platform"], "Rows read": q["rows_read"],
        "Kept": q["rows_kept"], "Quarantined": q["rows_quarantined"],
        "Quarantined share": q["rows_quarantined"] / q["rows_read"].where(q["rows_read"] > 0),
        "Why quarantined": q["file"].map(why).fillna(""),
    })
    total = int(q["rows_read"].sum())
    caption = (f"{total:,} rows read from {len(q)} files: {int(q['rows_kept'].sum()):,} kept, "
               f"{int(q['rows_quarantined'].sum()):,} quarantined (see quarantine.csv of the report). "
               "Every file, all months.")
    return _styled(table, caption, percent=["Quarantined share"], integers=["Rows read", "Kept", "Quarantined"])


def completeness_table(frame: pd.DataFrame, by: Sequence[str] = (S.MONTH, S.SOURCE)):
    """How complete the kept rows are, per month and source: shares with a comment, a rating, a team."""
    has_text = pd.Series(_has_text(frame), index=frame.index)
    parts = {
        "Rows": pd.Series(1, index=frame.index),
        "With comment": has_text,
        "With CSAT": frame[S.CSAT].notna(),
        "With NPS": frame[S.NPS].notna(),
        "Team known": frame[S.SERVICE_MODEL].astype("string").ne(S.UNKNOWN).fillna(False),
        "Service times": frame[S.RESOLUTION_HOURS].notna() if S.RESOLUTION_HOURS in frame else False,
        "Negative comments": frame[S.SENTIMENT_LABEL].astype("string").eq("negative").fillna(False) & has_text,
    }
    data = pd.DataFrame(parts).astype(float)
    keys = [frame[c].astype("string") for c in by]
    grouped = data.groupby(keys, sort=True)
    out = grouped.mean()
    out["Rows"] = grouped["Rows"].sum()
    out["Negative comments"] = grouped["Negative comments"].sum() / grouped["With comment"].sum().where(
        grouped["With comment"].sum() > 0)
    out = out.reset_index().rename(columns={c: COLUMN_LABELS.get(c, c) for c in by})
    shares = [c for c in parts if c != "Rows"]
    return _styled(out, "Share of kept rows with each field; negative comments among comments.",
                   percent=shares, integers=["Rows"])


def theme_counts(frame: pd.DataFrame, taxonomy: Taxonomy | None = None):
    """How many comments carry each theme, per 100 comments (95% interval) and how negative they are."""
    has_text = _has_text(frame)
    n = int(has_text.sum())
    negative = frame[S.SENTIMENT_LABEL].astype("string").eq("negative").fillna(False).to_numpy(dtype=bool) \
        if S.SENTIMENT_LABEL in frame else np.zeros(len(frame), dtype=bool)
    rows = []
    for tid, label in theme_labels(frame, taxonomy).items():
        flags = frame[S.theme_column(tid)].to_numpy(dtype=bool) & has_text
        hits = int(flags.sum())
        lo, hi = proportion_interval(hits, n)
        rows.append({"Theme": label, "Id": tid, "Comments": hits,
                     "Per 100 comments (95% CI)": _with_ci(hits / n if n else np.nan, lo, hi, 1, 100),
                     "Negative among them": (negative & flags).sum() / hits if hits else np.nan})
    uncovered = int((~_theme_matrix(frame).any(axis=1) & has_text).sum())
    lo, hi = proportion_interval(uncovered, n)
    rows.append({"Theme": "(no theme)", "Id": "none", "Comments": uncovered,
                 "Per 100 comments (95% CI)": _with_ci(uncovered / n if n else np.nan, lo, hi, 1, 100),
                 "Negative among them": (negative & has_text & ~_theme_matrix(frame).any(axis=1)).sum() / uncovered
                 if uncovered else np.nan})
    table = pd.DataFrame(rows)
    return _styled(table, f"{n:,} comments; one comment can carry several themes. Intervals: 95% Wilson.",
                   percent=["Negative among them"], integers=["Comments"])


def segment_table(
    frame: pd.DataFrame,
    by: str = S.SERVICE_MODEL,
    *,
    taxonomy: Taxonomy | None = None,
    themes: bool = True,
    min_n: int = MIN_N,
):
    """Headline KPIs per group of ``by`` (service model, vendor, team, channel, month) with 95% intervals.

    Built on :func:`feedbacklib.stats.kpi_table`; groups smaller than ``min_n``
    are marked "(small)" — read their figures with care.
    """
    labels = theme_labels(frame, taxonomy)
    kpis = kpi_table(frame, by=by, themes=list(labels) if themes else [], min_n=min_n)
    kpis = kpis[kpis["n"] > 0]
    group = kpis["group"].map(lambda g: "All" if g == "all" else MODEL_LABELS.get(g, g) if by == S.SERVICE_MODEL else g)
    table = pd.DataFrame({
        COLUMN_LABELS.get(by, by): group + np.where(kpis["reportable"], "", " (small)"),
        "Responses": kpis["n"], "Comments": kpis["n_text"],
        "Mean CSAT (95% CI)": [_with_ci(r.csat_mean, r.csat_mean_lo, r.csat_mean_hi, 2) for r in kpis.itertuples()],
        "Satisfied (95% CI)": [_with_ci(r.satisfied_share, r.satisfied_share_lo, r.satisfied_share_hi, 0, 100, "%")
                               for r in kpis.itertuples()],
        "NPS (95% CI)": [_with_ci(r.nps, r.nps_lo, r.nps_hi, 0) for r in kpis.itertuples()],
        "Negative comments (95% CI)": [_with_ci(r.negative_share, r.negative_share_lo, r.negative_share_hi, 0, 100, "%")
                                       for r in kpis.itertuples()],
    })
    for tid, label in (labels.items() if themes else ()):
        col = f"rate_{tid}"
        table[f"{label} /100"] = [_with_ci(v, lo, hi, 1) for v, lo, hi in
                                  zip(kpis[col], kpis[f"{col}_lo"], kpis[f"{col}_hi"])]
    return _styled(table.reset_index(drop=True),
                   f"By {COLUMN_LABELS.get(by, by).lower()}. 95% intervals: t (CSAT), Wilson (shares, theme rates "
                   f"per 100 comments), bootstrap (NPS). '(small)': fewer than {min_n} responses.",
                   integers=["Responses", "Comments"])


def comparison_table(
    frame: pd.DataFrame,
    a: str = S.OUTSOURCED,
    b: str = S.IN_HOUSE,
    *,
    by: str = S.SERVICE_MODEL,
    taxonomy: Taxonomy | None = None,
    min_n: int = MIN_N,
):
    """Group ``a`` against group ``b`` of column ``by`` on every measure and theme, with tests.

    Built on :func:`feedbacklib.stats.compare_groups` (same intervals, tests and
    Benjamini-Hochberg adjustment as the report). Clear differences are highlighted.

    >>> comparison_table(frame, "Northwind BPO", "Contoso Care", by="vendor")  # doctest: +SKIP
    """
    labels = theme_labels(frame, taxonomy)
    comp = compare_groups(frame, group_col=by, a=a, b=b, themes=list(labels), min_n=min_n)
    names = {"satisfied_share": "Satisfied (CSAT 4–5)", "csat_mean": "Mean CSAT", "nps": "NPS",
             "negative_share": "Negative comments"}
    name_a = MODEL_LABELS.get(a, a) if by == S.SERVICE_MODEL else a
    name_b = MODEL_LABELS.get(b, b) if by == S.SERVICE_MODEL else b

    def fmt(r, key):
        scale, digits, unit = _metric_format(r["metric"])
        if key == "diff":
            return _with_ci(r["diff"], r["diff_lo"], r["diff_hi"], digits, scale, " pts" if unit == "%" else "")
        return _with_ci(r[f"value_{key}"], r[f"lo_{key}"], r[f"hi_{key}"], digits, scale, unit)

    records = comp.to_dict("records")
    table = pd.DataFrame({
        "Measure": [names.get(r["metric"], labels.get(r["theme"], r["theme"]) + " (per 100 comments)")
                    for r in records],
        f"{name_a} (95% CI)": [fmt(r, "a") for r in records],
        f"{name_b} (95% CI)": [fmt(r, "b") for r in records],
        "Difference (95% CI)": [fmt(r, "diff") for r in records],
        "n": [f"{int(r['n_a']):,} / {int(r['n_b']):,}" for r in records],
        "Adjusted p": comp["q_value"].to_numpy(),
        "Clear difference": np.where(comp["significant"], "yes", ""),
    })
    styler = _styled(table, f"{name_a} against {name_b}; differences are {name_a} minus {name_b}. Adjusted p: "
                     "Benjamini-Hochberg across the table; 'yes' needs p < 0.05 and both groups of at least "
                     f"{min_n}.", decimals={"Adjusted p": 3})
    return styler.apply(lambda row: ["background-color: #fff3cd" if row["Clear difference"] else ""] * len(row),
                        axis=1)


def _metric_format(metric: str) -> tuple[float, int, str]:
    if metric in ("satisfied_share", "negative_share"):
        return 100.0, 0, "%"
    if metric == "csat_mean":
        return 1.0, 2, ""
    if metric == "nps":
        return 1.0, 0, ""
    return 1.0, 1, ""  # theme rates are already per 100


# =========================================================================== #
# Plots (matplotlib Figures from the report's chart functions)
# =========================================================================== #
def _group_names(frame: pd.DataFrame, by: str) -> pd.Series:
    values = frame[by].astype("string")
    return values.fillna("(none)")


def theme_rates_plot(frame: pd.DataFrame, by: str = S.SERVICE_MODEL, *, taxonomy: Taxonomy | None = None,
                     title: str | None = None) -> Figure:
    """Theme rates per 100 comments for each group of ``by``, with 95% Wilson intervals."""
    labels = theme_labels(frame, taxonomy)
    has_text = _has_text(frame)
    groups = _group_names(frame, by)
    rows = []
    for group in sorted(groups[has_text].unique()):
        mask = has_text & groups.eq(group).to_numpy(dtype=bool)
        n = int(mask.sum())
        for tid, label in labels.items():
            hits = int((frame[S.theme_column(tid)].to_numpy(dtype=bool) & mask).sum())
            lo, hi = proportion_interval(hits, n)
            rows.append({"theme": label, "group": group, "rate": 100 * hits / n, "lo": 100 * lo,
                         "hi": 100 * hi, "n": n})
    rates = pd.DataFrame(rows, columns=["theme", "group", "rate", "lo", "hi", "n"])
    return theme_rates_figure(rates, title or f"Themes by {COLUMN_LABELS.get(by, by).lower()}")


def sentiment_plot(frame: pd.DataFrame, by: str = S.SERVICE_MODEL, *, title: str | None = None) -> Figure:
    """Shares of negative, neutral and positive comments for each group of ``by``."""
    rows = frame.loc[_has_text(frame) & frame[S.SENTIMENT_LABEL].notna().to_numpy(dtype=bool)]
    groups = _group_names(rows, by)
    if by == S.SERVICE_MODEL:
        groups = groups.map(lambda g: MODEL_LABELS.get(g, g))
    shares = pd.crosstab(groups, rows[S.SENTIMENT_LABEL].astype("string"), normalize="index")
    shares = shares.reindex(columns=list(SENTIMENT_LABELS), fill_value=0.0)
    shares["n"] = groups.value_counts()
    return sentiment_figure(shares, title or f"Sentiment by {COLUMN_LABELS.get(by, by).lower()}")


def trend_plot(frame: pd.DataFrame, themes: Sequence[str] | None = None, *, top: int = 3,
               taxonomy: Taxonomy | None = None, title: str | None = None) -> Figure:
    """Monthly rate per 100 comments of ``themes`` (default: the ``top`` most frequent), with 95% bands."""
    labels = theme_labels(frame, taxonomy)
    if themes is None:
        counts = {t: int(frame[S.theme_column(t)].sum()) for t in labels}
        themes = sorted(counts, key=lambda t: -counts[t])[:top]
    rates = monthly_theme_rates(frame, list(themes))
    rates = rates.assign(series=rates["theme"].map(labels), value=rates["rate"])
    return trend_figure(rates, title or "Theme rates by month", "Per 100 comments")


# =========================================================================== #
# Tuning the taxonomy
# =========================================================================== #
def uncovered_comments(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows with a comment that no theme covers (candidates for new seeds or themes)."""
    keep = _has_text(frame) & ~_theme_matrix(frame).any(axis=1)
    out = frame.loc[keep].reset_index(drop=True)
    out.attrs = dict(frame.attrs)
    return out


def discover_themes(
    frame: pd.DataFrame,
    *,
    k_min: int = 3,
    k_max: int = 8,
    n_quotes: int = 3,
    random_state: int = 0,
    drop_non_themes: bool = True,
    **kwargs,
):
    """Candidate new themes among the comments no theme covers, with quotes and suggested seeds.

    The same rules as the report's *Emerging themes* (:mod:`feedbacklib.emerging`): k within
    3–8 by default, groups without content words ("ok", "yes", "all good") left out, and no
    quote shown twice (``drop_non_themes=False`` keeps every group, e.g. to see them all).

    Clusters :func:`uncovered_comments` with
    :class:`feedbacklib.themes.discovery.ThemeDiscovery` (extra keyword arguments
    go to it). When ``frame`` holds several months, each candidate's growth in the
    latest month against the earlier ones is shown too.

    Returns
    -------
    CandidateThemes
        ``table`` (one row per candidate: label, comments, share, suggested seeds,
        terms, growth), ``candidates`` (``Candidate`` objects, e.g. for
        ``discovery.promote_candidate``) and ``discovery`` (the fitted estimator).
    """

    uncovered = uncovered_comments(frame)
    if len(uncovered) < max(2 * k_min, 10):
        return _Note(f"Only {len(uncovered)} comments are not covered by a theme: too few to look for new themes.")
    texts = uncovered[S.TEXT].astype(str).reset_index(drop=True)
    try:
        model = discovery.ThemeDiscovery(k_min=k_min, k_max=k_max, n_quotes=n_quotes, random_state=random_state,
                                         **kwargs).fit(texts)
    except ValueError as exc:  # too few comments with a content word (e.g. only "ok", "yes")
        return _Note(f"The {len(uncovered)} comments no theme covers have too few content words to look for "
                     f"new themes ({str(exc).split(',')[0]}).")

    candidates = meaningful_candidates(model, texts) if drop_non_themes else list(model.candidates_)
    table = pd.DataFrame({
        "Candidate": [c.label for c in candidates],
        "Comments": [c.size for c in candidates],
        "Share of uncovered": [c.share for c in candidates],
        "Suggested seeds": [", ".join(c.seeds()) for c in candidates],
        "Distinctive terms": [", ".join(c.terms) for c in candidates],
    })
    months = uncovered[S.MONTH].astype(str).reset_index(drop=True)
    if months.nunique() > 1:
        growth = discovery.candidate_growth(model, texts, months).set_index("cluster")
        table[f"Growth in {growth['month'].iloc[0]}"] = growth.loc[[c.cluster for c in candidates], "growth"].to_numpy()
    return CandidateThemes(table=table, candidates=candidates, discovery=model, n_uncovered=len(uncovered))


@dataclasses.dataclass
class CandidateThemes:
    """Candidate themes found among the uncovered comments (see :func:`discover_themes`)."""

    table: pd.DataFrame
    candidates: list
    discovery: Any
    n_uncovered: int

    @property
    def n_unclustered(self) -> int:
        """Uncovered comments with no word discovery can use (only stop words or rare words)."""
        return int((np.asarray(self.discovery.labels_) < 0).sum())

    def _repr_html_(self) -> str:
        growth = [c for c in self.table.columns if c.startswith("Growth")]
        aside = f" ({self.n_unclustered:,} of them have no usable words)" if self.n_unclustered else ""
        styler = _styled(self.table, f"{_plural(len(self.candidates), 'candidate theme')} among "
                         f"{_plural(self.n_uncovered, 'comment')} "
                         f"no theme covers{aside}. Growth: share this month / average share of the earlier months.",
                         percent=["Share of uncovered"], integers=["Comments"], decimals={g: 1 for g in growth})
        quotes = "".join(
            f"<h4>{_html.escape(c.label)} — {_plural(c.size, 'comment')}</h4>"
            + "".join(f"<blockquote>{_html.escape(q)}{f' <small>({n} comments say this)</small>' if n > 1 else ''}"
                      "</blockquote>" for q, n in distinct_quotes(c.quotes))
            for c in self.candidates
        )
        return styler.to_html() + quotes


def distinct_quotes(quotes: Iterable[str]) -> list[tuple[str, int]]:
    """Each quote once (compared without case, punctuation or extra spaces), with how often it came.

    >>> distinct_quotes(["yes", "Yes.", " yes ", "too slow"])
    [('yes', 3), ('too slow', 1)]
    """
    seen: dict[str, list] = {}
    for quote in quotes:
        key = " ".join(re.sub(r"[^\w\s]", " ", str(quote).casefold()).split())
        if key in seen:
            seen[key][1] += 1
        else:
            seen[key] = [str(quote).strip(), 1]
    return [(q, n) for q, n in seen.values()]


class _Note:
    """A short message that displays as a paragraph."""

    def __init__(self, text: str):
        self.text = text

    def _repr_html_(self) -> str:
        return f'<p class="fb-note">{_html.escape(self.text)}</p>'

    def __repr__(self) -> str:
        return self.text


def _taxonomy_of(frame: pd.DataFrame) -> Taxonomy:
    """The built-in taxonomy restricted to the themes of ``frame`` (with the frame's labels)."""
    base = load_taxonomy()
    labels = theme_labels(frame)
    themes = [dataclasses.replace(t, label=labels.get(t.id, t.label)) for t in base if t.id in labels]
    return Taxonomy(themes=tuple(themes) or base.themes, source=base.source)


def edit_theme(
    taxonomy: Taxonomy,
    theme_id: str,
    *,
    add_seeds: Iterable[str] = (),
    remove_seeds: Iterable[str] = (),
    add_exclusions: Iterable[str] = (),
    remove_exclusions: Iterable[str] = (),
    seeds: Iterable[str] | None = None,
    label: str | None = None,
    description: str | None = None,
) -> Taxonomy:
    """A copy of ``taxonomy`` with one theme changed (the original is untouched; themes are frozen).

    ``seeds`` replaces the seed list; ``add_seeds``/``remove_seeds`` edit it
    (likewise for exclusions). Removing a phrase the theme does not have raises
    ``KeyError`` listing the phrases it has.

    >>> tax = load_taxonomy()
    >>> new = edit_theme(tax, "responsiveness", add_seeds=["no reply"])
    >>> "no reply" in new["responsiveness"].seeds, "no reply" in tax["responsiveness"].seeds
    (True, False)
    """
    theme = taxonomy[theme_id]

    def edited(current: tuple[str, ...], add: Iterable[str], remove: Iterable[str], kind: str) -> tuple[str, ...]:
        remove = [r.strip() for r in _as_list(remove)]
        missing = [r for r in remove if r not in current]
        if missing:
            raise KeyError(f"Theme {theme_id!r} has no {kind} {', '.join(map(repr, missing))}; "
                           f"its {kind}s are: {', '.join(map(repr, current)) or '(none)'}.")
        kept = [p for p in current if p not in remove]
        return tuple(dict.fromkeys(kept + [a.strip() for a in _as_list(add) if a.strip()]))

    base_seeds = tuple(s.strip() for s in _as_list(seeds)) if seeds is not None else theme.seeds
    new_seeds = edited(base_seeds, add_seeds, remove_seeds, "seed")
    if not new_seeds:
        raise ValueError(f"Theme {theme_id!r} would have no seed phrase left; keep at least one.")
    new_theme = dataclasses.replace(
        theme, seeds=new_seeds,
        exclusions=edited(theme.exclusions, add_exclusions, remove_exclusions, "exclusion"),
        label=label if label is not None else theme.label,
        description=description if description is not None else theme.description,
    )
    themes = tuple(new_theme if t.id == theme_id else t for t in taxonomy)
    return Taxonomy(themes=themes, source=f"{taxonomy.source} (edited: {theme_id})")


def _toml_list(values: Sequence[str]) -> str:
    if not values:
        return "[]"
    return "[\n" + "".join(f"  {toml_string(v)},\n" for v in values) + "]"


def taxonomy_toml(taxonomy: Taxonomy) -> str:
    """``taxonomy`` as the TOML that :func:`~feedbacklib.themes.load_taxonomy` reads."""
    parts = ["# Theme taxonomy written by feedbacklib.explore.save_taxonomy; format: see the built-in\n"
             "# feedbacklib/data/themes.toml. Point `taxonomy` in feedback.toml at this file.\n\nversion = 1\n"]
    for t in taxonomy:
        parts.append(
            f"\n[[theme]]\nid = {toml_string(t.id)}\nlabel = {toml_string(t.label)}\n"
            f"description = {toml_string(t.description)}\npolarity = {toml_string(t.polarity)}\n"
            f"seeds = {_toml_list(t.seeds)}\nexclusions = {_toml_list(t.exclusions)}\n"
        )
    return "".join(parts)


def save_taxonomy(taxonomy: Taxonomy, path: str | Path) -> Path:
    """Write ``taxonomy`` to ``path`` as TOML, check it loads back unchanged, and return the path."""
    path = Path(path)
    path.write_text(taxonomy_toml(taxonomy), encoding="utf-8")
    loaded = load_taxonomy(path)
    if loaded.themes != taxonomy.themes:  # pragma: no cover - a bug in the writer
        raise RuntimeError(f"The taxonomy written to {path} does not load back identically.")
    return path


def _texts(texts: pd.Series | pd.DataFrame | Sequence[str], text_col: str = S.TEXT) -> pd.Series:
    if isinstance(texts, pd.DataFrame):
        texts = texts[text_col]
    series = texts if isinstance(texts, pd.Series) else pd.Series(list(texts), dtype="string")
    return series.astype("string").fillna("")


def _tag(texts: pd.Series, taxonomy: Taxonomy, *, learned: bool, desc: str, progress: bool | None,
         chunk: int = 500) -> tuple[pd.DataFrame, pd.Series]:
    """Tags and evidence of ``texts`` under ``taxonomy``, in chunks (with a progress bar)."""
    tagger = ThemeTagger(taxonomy, learned=learned, random_state=0).fit(texts)
    parts = []
    starts = range(0, len(texts), chunk)
    for start in progress_bar(starts, desc=desc, unit="chunk", progress=progress):
        parts.append(tag_themes(pd.DataFrame({S.TEXT: texts.iloc[start:start + chunk]}), tagger))
    if not parts:
        return pd.DataFrame({t: pd.Series(dtype=bool) for t in taxonomy.ids}), pd.Series(dtype="string")
    tagged = pd.concat(parts)
    tags = tagged[[S.theme_column(t) for t in taxonomy.ids]]
    tags.columns = list(taxonomy.ids)
    return tags, tagged[S.THEME_EVIDENCE]


@dataclasses.dataclass
class TaxonomyComparison:
    """Before/after of a taxonomy edit: ``summary`` per theme and the ``changed`` comments."""

    summary: pd.DataFrame
    changed: pd.DataFrame
    n_texts: int

    def _repr_html_(self) -> str:
        head = (f"<p>{len(self.changed):,} of {self.n_texts:,} comments change their themes.</p>")
        summary = _styled(self.summary, "Comments per theme before and after the edit.",
                          integers=["Before", "After", "Change", "Gained", "Lost"]).to_html()
        changed = InteractiveTable(self.changed, caption="Comments whose themes changed")._repr_html_() \
            if len(self.changed) else "<p>No comment changes.</p>"
        return head + summary + changed


def compare_taxonomies(
    texts: pd.Series | pd.DataFrame | Sequence[str],
    old: Taxonomy,
    new: Taxonomy,
    *,
    learned: bool = False,
    progress: bool | None = None,
) -> TaxonomyComparison:
    """Tag ``texts`` with ``old`` and ``new`` and show what the edit changes.

    ``texts`` is a Series of comments or a frame with a ``text`` column. Seed
    matching only by default (``learned=False``): fast and every change is
    explained by a phrase; ``learned=True`` also refits the learned expansion,
    as the monthly run does.

    Returns
    -------
    TaxonomyComparison
        ``summary``: Theme, Label, Before, After, Change, Gained, Lost (comments);
        ``changed``: the comments whose themes changed, with Before, After,
        Gained, Lost and the evidence under the new taxonomy.
    """
    series = _texts(texts)
    before, evidence = _tag(series, old, learned=learned, desc="Tagging (before)", progress=progress)
    after = before
    if new.themes != old.themes:  # an unchanged taxonomy tags the same way: tag once
        after, evidence = _tag(series, new, learned=learned, desc="Tagging (after)", progress=progress)
    ids = list(dict.fromkeys([*old.ids, *new.ids]))
    labels = {t.id: t.label for t in old} | {t.id: t.label for t in new}
    b = before.reindex(columns=ids, fill_value=False).to_numpy(dtype=bool)
    a = after.reindex(columns=ids, fill_value=False).to_numpy(dtype=bool)
    summary = pd.DataFrame({
        "Theme": ids, "Label": [labels[t] for t in ids],
        "Before": b.sum(axis=0), "After": a.sum(axis=0), "Change": a.sum(axis=0) - b.sum(axis=0),
        "Gained": (a & ~b).sum(axis=0), "Lost": (b & ~a).sum(axis=0),
    })
    moved = (a != b).any(axis=1)

    def names(matrix: np.ndarray) -> list[str]:
        return [", ".join(labels[t] for t, on in zip(ids, row) if on) for row in matrix[moved]]

    changed = pd.DataFrame({
        "Comment": series.to_numpy()[moved],
        "Before": names(b), "After": names(a), "Gained": names(a & ~b), "Lost": names(b & ~a),
        "Evidence (after)": evidence.to_numpy()[moved],
    }, index=series.index[moved])
    return TaxonomyComparison(summary=summary, changed=changed.reset_index(drop=True), n_texts=len(series))


def read_labelled(path: str | Path, *, text_col: str | None = None, labels_col: str = "expected_themes",
                  sep: str = ";") -> pd.DataFrame:
    """A labelled evaluation file as a frame with ``text`` and ``expected`` (a tuple of theme ids).

    The file is a CSV with a text column (``text``, ``narrative`` or ``comment``;
    or ``text_col``) and ``labels_col`` listing the expected theme ids separated
    by ``sep`` (empty: the comment states no theme), like
    ``tests/fixtures/themes/cfpb_sample.csv``.
    """
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    col = text_col or next((c for c in ("text", "narrative", "comment") if c in raw.columns), None)
    if col is None or col not in raw.columns or labels_col not in raw.columns:
        raise InputError(f"The labelled file {path} needs a text column and {labels_col!r}; "
                         f"it has {list(raw.columns)}. Pass text_col= and labels_col=.")
    expected = raw[labels_col].map(lambda v: tuple(sorted({x.strip() for x in v.split(sep) if x.strip()})))
    return pd.DataFrame({S.TEXT: raw[col].astype("string"), "expected": expected})


@dataclasses.dataclass
class ThemeEvaluation:
    """Precision and recall per theme (``scores``) and the comments tagged wrongly (``errors``)."""

    scores: pd.DataFrame
    errors: pd.DataFrame

    def _repr_html_(self) -> str:
        scores = _styled(self.scores, "Precision: tagged comments that state the theme; recall: comments "
                         "stating the theme that were tagged. 'All themes' pools every decision (micro average).",
                         percent=["Precision", "Recall", "F1"], integers=["Expected", "Tagged", "Correct"]).to_html()
        errors = InteractiveTable(self.errors, caption="Comments with a missed or a wrong theme")._repr_html_() \
            if len(self.errors) else "<p>Every comment is tagged as labelled.</p>"
        return scores + errors


def evaluate_themes(
    labelled: pd.DataFrame | str | Path | None,
    taxonomy: Taxonomy | None = None,
    *,
    learned: bool = False,
    progress: bool | None = None,
) -> ThemeEvaluation | _Note:
    """Precision, recall and F1 per theme of ``taxonomy`` on labelled comments.

    ``labelled`` is a frame with ``text`` and ``expected`` (tuples of theme ids),
    as :func:`read_labelled` returns, or the path of such a CSV; ``None`` or
    ``""`` returns a note (no labelled data configured). Themes absent from the
    labels count only against precision.
    """
    if labelled is None or (isinstance(labelled, (str, Path)) and not str(labelled)):
        return _Note("No labelled comments given, so no evaluation. Pass a CSV like "
                     "tests/fixtures/themes/cfpb_sample.csv (text and expected_themes columns).")
    frame = labelled if isinstance(labelled, pd.DataFrame) else read_labelled(labelled)
    tax = taxonomy if taxonomy is not None else load_taxonomy()
    texts = _texts(frame[S.TEXT])
    tags, evidence = _tag(texts, tax, learned=learned, desc="Tagging labelled comments", progress=progress)
    ids = list(tax.ids)
    predicted = tags.reindex(columns=ids, fill_value=False).to_numpy(dtype=bool)
    truth = np.array([[t in set(exp) for t in ids] for exp in frame["expected"]],
                     dtype=np.bool_).reshape(len(texts), len(ids))
    rows = []
    for k, tid in enumerate(ids + ["__all__"]):
        p, y = (predicted, truth) if tid == "__all__" else (predicted[:, k], truth[:, k])
        tp, n_pred, n_true = int((p & y).sum()), int(p.sum()), int(y.sum())
        precision = tp / n_pred if n_pred else np.nan
        recall = tp / n_true if n_true else np.nan
        f1 = 2 * precision * recall / (precision + recall) if n_pred and n_true and tp else (0.0 if n_pred or n_true else np.nan)
        rows.append({"Theme": "All themes" if tid == "__all__" else tax.label(tid), "Id": "" if tid == "__all__" else tid,
                     "Expected": n_true, "Tagged": n_pred, "Correct": tp,
                     "Precision": precision, "Recall": recall, "F1": f1})
    scores = pd.DataFrame(rows)
    used = (scores["Expected"] > 0) | (scores["Tagged"] > 0)
    used.iloc[-1] = True  # the pooled row always shows
    scores = scores.loc[used].reset_index(drop=True)
    wrong = (predicted != truth).any(axis=1)
    label = tax.label

    def names(matrix: np.ndarray) -> list[str]:
        return [", ".join(label(t) for t, on in zip(ids, row) if on) for row in matrix[wrong]]

    errors = pd.DataFrame({
        "Comment": texts.to_numpy()[wrong], "Expected": names(truth), "Tagged": names(predicted),
        "Missed": names(truth & ~predicted), "Wrongly tagged": names(predicted & ~truth),
        "Evidence": evidence.to_numpy()[wrong],
    })
    return ThemeEvaluation(scores=scores, errors=errors)
