"""Additive per-cell summaries: all the case-mix, drivers and theme-impact statistics need of the rows.

A :class:`Summary` holds, for one set of rows, counts, sums and sums of squares per
*cell* (one combination of key values). It is small (thousands of cells for a
million rows), it can be built on each partition of a month and the partial
summaries added up (``a + b``, :func:`combine`, or the builtin ``sum``), and the
statistics computed from the total are the ones computed from all the rows:

- :func:`feedbacklib.stats.casemix.adjusted_from_summary` (Mantel-Haenszel, CMH, OLS
  with HC1 errors) reads :attr:`Summary.cells`;
- :func:`feedbacklib.stats.drivers.drivers_from_summary` (OLS with HC1 errors of a
  score on the theme indicators) and :func:`feedbacklib.stats.impact.impact_from_summary`
  (score without each theme, multinomial bootstrap) read :attr:`Summary.scores`.

Two tables, each keyed by what its statistics need:

``cells``: one row per ``keys`` x ``strata`` combination (by default month x service
model x vendor x team x channel x contact reason; a missing value is its own key),
with the measures (all additive)

    rows, n_text, csat_n, csat_sum, csat_sumsq, satisfied, nps_n, nps_sum, nps_sumsq,
    labelled, negative, praise, label:negative, label:neutral, label:positive,
    solved, solved_text, solved_not_fixed, solved_rated, solved_low, solved_reopen_known,
    solved_reopened, solved_slow, solved_any, hit:<theme> ...

(``nps_*`` are NPS points +100 / 0 / -100; ``negative`` counts labelled comments
whose label is negative; ``praise`` counts comments that mention the ``praise``
theme whatever the theme list; ``label:<x>`` counts rows (with or without a
comment) whose sentiment label is ``x``; ``solved*`` count the rows the provider
reported resolved (or within ``sla``, see :func:`summarise`) and, among them, the
perception-gap signals (:func:`~feedbacklib.stats.tables.perception_gap`);
``hit:<theme>`` counts comments that mention the theme).

``values[<score>]`` (only for the scores named by ``values=``): one row per ``keys`` x
score value (rated rows only) with the count ``n``: the distribution each group's
mean, t interval, Mann-Whitney test and NPS bootstrap need
(:func:`~feedbacklib.stats.tables.kpi_table_from_summary`).

Besides the tables: ``columns`` (which of the columns the statistics test for
existed in the rows), ``sources`` (rows per ``source`` in the order first seen) and
``team_models`` (each team's service model on its first row). These two keep the
order of the rows, so partial summaries must be added up in the order of their
partitions (``a + b`` is associative, not commutative, for them).

``scores[<score>]``: one row per ``keys`` x ``has_text`` x theme pattern x score
value (NaN: no score, so every group of the rows shows up), with the count ``n``. The theme pattern is
which themes the comment mentions (``flag & has_text``), packed into integer
columns ``pattern0``, ``pattern1``... (62 themes each, the first theme in the
highest bit, so sorting the words sorts the flags lexicographically). The score
is kept by value (``csat`` 1-5, ``nps`` 0-10), so sums and sums of squares per
pattern follow exactly.

Why exact: the regressors of both regressions are functions of the cell (a side
and a stratum; a theme pattern), so ``X'X``, ``X'y`` and the HC1 "meat"
``sum_c x_c x_c' sum_{i in c} e_i^2`` with
``sum_{i in c} e_i^2 = SS_c - 2 yhat_c S_c + n_c yhat_c^2`` need only ``n_c``,
``S_c`` and ``SS_c`` (see :func:`feedbacklib.stats.casemix.ols_hc1_cells`).

Examples
--------
>>> parts = [summarise(chunk, themes=theme_ids) for chunk in chunks]    # doctest: +SKIP
>>> total = combine(*parts)             # or sum(parts), or parts[0] + parts[1]  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from ..additive import Additive
from . import _frame as F
from . import columns as K
from .. import schema as S

__all__ = ["Summary", "summarise", "combine", "KEYS", "DEFAULT_STRATA", "SCORES", "pattern_columns",
           "pattern_flags", "hit_column", "label_column", "collapse", "value_counts", "CHECKED_COLUMNS"]

#: Group keys of a summary by default (those absent from the frame are left out).
KEYS = (S.MONTH, S.SERVICE_MODEL, S.VENDOR, S.TEAM)
#: The columns whose combinations are the case-mix strata.
DEFAULT_STRATA = (S.CHANNEL, S.CATEGORY)
#: Scores kept by value for the drivers and the theme impact.
SCORES = (S.CSAT, S.NPS)

# measures of Summary.cells
ROWS = "rows"
N_TEXT = "n_text"
CSAT_N, CSAT_SUM, CSAT_SUMSQ = "csat_n", "csat_sum", "csat_sumsq"
SATISFIED = "satisfied"
NPS_N, NPS_SUM, NPS_SUMSQ = "nps_n", "nps_sum", "nps_sumsq"
LABELLED, NEGATIVE = "labelled", "negative"
PRAISE = "praise"
LABEL_PREFIX = "label:"
SOLVED, SOLVED_TEXT, SOLVED_NOT_FIXED = "solved", "solved_text", "solved_not_fixed"
SOLVED_RATED, SOLVED_LOW = "solved_rated", "solved_low"
SOLVED_REOPEN_KNOWN, SOLVED_REOPENED = "solved_reopen_known", "solved_reopened"
SOLVED_SLOW, SOLVED_ANY = "solved_slow", "solved_any"
HIT_PREFIX = "hit:"
#: Groups of :attr:`Summary.cells` measures ``summarise(measures=...)`` can pick (besides ``rows``
#: and the theme hits, always there): ``text`` is ``n_text``, ``sentiment`` ``labelled`` and
#: ``negative``, ``labels`` the ``label:*`` counts, ``gap`` the ``solved*`` measures.
MEASURE_GROUPS = ("text", "csat", "nps", "sentiment", "labels", "praise", "gap")
#: Columns whose mere presence changes a statistic (a theme rate with no column has no
#: denominator; no channel column, no channel chart): :attr:`Summary.columns` says which were there.
CHECKED_COLUMNS = (S.CHANNEL, S.CSAT, S.NPS, S.TEAM, S.VENDOR, S.SERVICE_MODEL, S.SENTIMENT_LABEL, S.SOURCE,
                   S.REOPENED, S.theme_column(K.NOT_FIXED_THEME), S.theme_column(K.SLOW_THEME),
                   S.theme_column(PRAISE))
# keys and measure of Summary.scores[...]
HAS_TEXT = "has_text"
VALUE = "value"
COUNT = "n"
PATTERN_PREFIX = "pattern"
#: Themes packed into one pattern word (int64, sign bit unused).
WORD_BITS = 62


def hit_column(theme: str) -> str:
    """Column of :attr:`Summary.cells` counting the comments that mention ``theme``."""
    return f"{HIT_PREFIX}{theme}"


def label_column(label: str) -> str:
    """Column of :attr:`Summary.cells` counting the rows whose sentiment label is ``label``."""
    return f"{LABEL_PREFIX}{label}"


def pattern_columns(n_themes: int) -> list[str]:
    """Names of the integer columns that hold the theme pattern of ``n_themes`` themes."""
    return [f"{PATTERN_PREFIX}{w}" for w in range(max(1, -(-n_themes // WORD_BITS)))]


def _pack(flags: Sequence[np.ndarray], n: int) -> list[np.ndarray]:
    """Pack boolean columns into int64 words, first flag in the highest bit of word 0."""
    words = []
    for start in range(0, max(len(flags), 1), WORD_BITS):
        chunk = flags[start:start + WORD_BITS]
        word = np.zeros(n, dtype=np.int64)
        for j, f in enumerate(chunk):
            word |= f.astype(np.int64) << np.int64(len(chunk) - 1 - j)
        words.append(word)
    return words


def pattern_flags(table: pd.DataFrame, n_themes: int) -> np.ndarray:
    """The ``(cells, n_themes)`` boolean flags packed in the pattern columns of ``table``."""
    out = np.zeros((len(table), n_themes), dtype=bool)
    for w, col in enumerate(pattern_columns(n_themes)):
        word = table[col].to_numpy(dtype=np.int64)
        start = w * WORD_BITS
        width = min(WORD_BITS, n_themes - start)
        for j in range(width):
            out[:, start + j] = (word >> np.int64(width - 1 - j)) & 1 == 1
    return out


@dataclass(frozen=True, eq=False)
class Summary(Additive):
    """Counts, sums and sums of squares per cell of a set of rows; add two to pool their rows.

    Attributes
    ----------
    keys : tuple of str
        Group key columns of both tables (e.g. month, service model, vendor, team).
    strata : tuple of str
        Columns whose combinations are the case-mix strata (keys of ``cells`` too).
    themes : tuple of str
        Theme ids, in pattern order.
    present : frozenset of str
        Themes whose column the rows had (a theme absent everywhere has no comments
        to count, so its rate has no denominator).
    cells : pandas.DataFrame
        ``keys + strata`` then the measures listed in the module docstring.
    scores : mapping of str to pandas.DataFrame
        Per score column: ``keys``, ``has_text``, ``pattern0``..., ``value``, ``n``.
    values : mapping of str to pandas.DataFrame
        Per score column named by ``summarise(values=...)``: ``keys``, ``value``, ``n``
        (rated rows only).
    columns : frozenset of str
        Which of :data:`CHECKED_COLUMNS` the rows had.
    sla : float or None
        The first-response SLA (hours) that counted a row as reported good in the
        ``solved*`` measures, besides ``resolved_reported`` (None: only that flag).
    sources : tuple of (str, int)
        Rows per ``source`` value, in the order first seen.
    team_models : tuple of (object, object)
        Each named team's service model on its first row, in the order first seen.
    """

    keys: tuple[str, ...]
    strata: tuple[str, ...]
    themes: tuple[str, ...]
    present: frozenset[str]
    cells: pd.DataFrame
    scores: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    values: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    columns: frozenset[str] = frozenset()
    sla: float | None = None
    sources: tuple[tuple[str, int], ...] = ()
    team_models: tuple[tuple[object, object], ...] = ()

    @property
    def measures(self) -> list[str]:
        """Additive columns of :attr:`cells`."""
        return [c for c in _cell_measures(self.themes) if c in self.cells.columns]

    @property
    def rows(self) -> int:
        """How many rows the summary stands for."""
        if len(self.cells):
            return int(self.cells[ROWS].sum())
        for table in self.scores.values():     # built without strata: every row is in each score table
            return int(table[COUNT].sum()) if len(table) else 0
        return 0

    def __add__(self, other: Summary) -> Summary:
        return combine(self, other)



def _cell_measures(themes: Sequence[str]) -> list[str]:
    return [ROWS, N_TEXT, CSAT_N, CSAT_SUM, CSAT_SUMSQ, SATISFIED, NPS_N, NPS_SUM, NPS_SUMSQ,
            LABELLED, NEGATIVE, PRAISE, *(label_column(x) for x in K.SENTIMENT_PARTS),
            SOLVED, SOLVED_TEXT, SOLVED_NOT_FIXED, SOLVED_RATED, SOLVED_LOW, SOLVED_REOPEN_KNOWN, SOLVED_REOPENED,
            SOLVED_SLOW, SOLVED_ANY, *(hit_column(t) for t in themes)]


# --------------------------------------------------------------------------- #
# Grouping rows into cells
# --------------------------------------------------------------------------- #
def _group_ids(columns: Sequence[np.ndarray | pd.Series], n: int,
               start: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Dense cell id per row for the combination of ``columns`` (missing is a value),
    and the first row of each cell. ``start``: the dense ids of leading columns already
    combined (``_group_ids(keys)[0]``), so they are not factorized again."""
    ids = np.zeros(n, dtype=np.int64) if start is None else start
    size = 1 if start is None else (int(start.max()) + 1 if n else 0)
    for col in columns:
        codes, uniques = pd.factorize(col, use_na_sentinel=True)
        codes = np.where(codes < 0, len(uniques), codes).astype(np.int64)
        ids, uniq = pd.factorize(ids * (len(uniques) + 1) + codes)
        size = len(uniq)
    if not columns and start is None:
        size = 1 if n else 0
    first = np.full(size, n, dtype=np.int64)
    np.minimum.at(first, ids, np.arange(n, dtype=np.int64))
    return ids, first


def _table(key_frame: pd.DataFrame, ids: np.ndarray, first: np.ndarray,
           measures: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """Cells (key values taken from the first row of each cell, dtype kept) with summed measures,
    sorted by key (missing last)."""
    size = len(first)
    out = key_frame.iloc[first].reset_index(drop=True) if len(key_frame.columns) else pd.DataFrame(index=range(size))
    summed: dict[str, np.ndarray] = {}
    for name, values in measures.items():
        if not size:
            summed[name] = np.zeros(0, dtype=np.int64 if values.dtype.kind in "bi" else float)
        else:
            total = np.bincount(ids, weights=values, minlength=size)
            summed[name] = total.astype(np.int64) if values.dtype.kind in "bi" else total
    out = pd.concat([out, pd.DataFrame(summed, index=out.index)], axis=1)
    return _sorted(out, list(key_frame.columns))


def _sorted(table: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    if not keys or table.empty:
        return table.reset_index(drop=True)
    return table.sort_values(keys, kind="mergesort", na_position="last").reset_index(drop=True)


def _key_frame(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    return frame[list(columns)].reset_index(drop=True)


def reported_good(frame: pd.DataFrame, sla_first_response_hours: float | None) -> np.ndarray:
    """Rows the provider reported resolved, or (with an SLA) answered within it: the perception gap's rows."""
    good = F.bool_flags(frame, S.RESOLVED_REPORTED)
    if sla_first_response_hours is not None:
        good = good | (F.numeric(frame, S.FIRST_RESPONSE_HOURS) <= sla_first_response_hours)
    return good


def _cells(frame: pd.DataFrame, keys: Sequence[str], strata: Sequence[str], themes: Sequence[str],
           text: np.ndarray, sla: float | None, numeric: Mapping[str, np.ndarray],
           key_ids: np.ndarray, groups: Collection[str] | None) -> pd.DataFrame:
    n = len(frame)
    key_frame = _key_frame(frame, list(dict.fromkeys([*keys, *strata])))
    ids, first = _group_ids([key_frame[c] for c in key_frame.columns[len(keys):]], n, start=key_ids)
    wanted = set(MEASURE_GROUPS if groups is None else groups)
    measures: dict[str, np.ndarray] = {ROWS: np.ones(n, dtype=np.int64)}
    if "text" in wanted:
        measures[N_TEXT] = text
    csat = numeric[S.CSAT]
    rated = ~np.isnan(csat)
    if "csat" in wanted:
        csat0 = np.where(rated, csat, 0.0)
        measures.update({CSAT_N: rated, CSAT_SUM: csat0, CSAT_SUMSQ: csat0 * csat0,
                         SATISFIED: rated & (csat >= K.SATISFIED_MIN_CSAT)})
    if "nps" in wanted:
        nps = numeric[S.NPS]
        answered = ~np.isnan(nps)
        points = np.where(nps >= K.PROMOTER_MIN, 100.0, np.where(nps <= K.DETRACTOR_MAX, -100.0, 0.0))
        points = np.where(answered, points, 0.0)
        measures.update({NPS_N: answered, NPS_SUM: points, NPS_SUMSQ: points * points})
    if wanted & {"sentiment", "labels"}:
        if S.SENTIMENT_LABEL in frame.columns:
            # each label once (factorize), then a comparison of small integer codes per label
            codes, uniques = pd.factorize(frame[S.SENTIMENT_LABEL], use_na_sentinel=True)
            names = [str(u) for u in uniques]
            label_is = {x: codes == names.index(x) if x in names else np.zeros(n, dtype=bool)
                        for x in dict.fromkeys([K.NEGATIVE_LABEL, *K.SENTIMENT_PARTS])}
            labelled = text & (codes >= 0)
            negative = label_is[K.NEGATIVE_LABEL] & labelled
        else:
            label_is = {x: np.zeros(n, dtype=bool) for x in K.SENTIMENT_PARTS}
            labelled = negative = np.zeros(n, dtype=bool)
        if "sentiment" in wanted:
            measures.update({LABELLED: labelled, NEGATIVE: negative})
        if "labels" in wanted:
            measures.update({label_column(x): label_is[x] for x in K.SENTIMENT_PARTS})
    if "praise" in wanted:
        measures[PRAISE] = F.bool_flags(frame, S.theme_column(PRAISE)) & text
    if "gap" in wanted:
        # the perception gap's signals among the rows reported good (stats.tables.perception_gap)
        solved = reported_good(frame, sla)
        not_fixed = F.bool_flags(frame, S.theme_column(K.NOT_FIXED_THEME)) & text & solved
        low = (csat <= K.LOW_RATING_MAX_CSAT) & rated & solved
        reopen_known = F.known_mask(frame, S.REOPENED) & solved
        reopened = F.bool_flags(frame, S.REOPENED) & reopen_known
        slow = F.bool_flags(frame, S.theme_column(K.SLOW_THEME)) & text & solved
        measures.update({
            SOLVED: solved, SOLVED_TEXT: text & solved, SOLVED_NOT_FIXED: not_fixed, SOLVED_RATED: rated & solved,
            SOLVED_LOW: low, SOLVED_REOPEN_KNOWN: reopen_known, SOLVED_REOPENED: reopened, SOLVED_SLOW: slow,
            SOLVED_ANY: not_fixed | low | reopened | slow,
        })
    for t in themes:
        measures[hit_column(t)] = F.bool_flags(frame, S.theme_column(t)) & text
    measures = {name: measures[name] for name in _cell_measures(themes) if name in measures}   # one order
    return _table(key_frame, ids, first, measures)


def score_values(frame: pd.DataFrame, score: str) -> np.ndarray:
    """The score of each row as the statistics read it (NaN when missing)."""
    return F.numeric(frame, score)


class _Numeric(dict):
    """Score columns of one frame as floats (:func:`score_values`), each read once."""

    def __init__(self, frame: pd.DataFrame):
        super().__init__()
        self.frame = frame

    def __missing__(self, column: str) -> np.ndarray:
        self[column] = values = score_values(self.frame, column)
        return values


def _score_table(frame: pd.DataFrame, keys: Sequence[str], score: str, words: list[np.ndarray],
                 text: np.ndarray, values: np.ndarray, key_ids: np.ndarray) -> pd.DataFrame:
    key_frame = _key_frame(frame, keys)
    key_frame[HAS_TEXT] = text
    for col, word in zip(pattern_columns(len(words) * WORD_BITS), words):
        key_frame[col] = word
    key_frame[VALUE] = values
    ids, first = _group_ids([key_frame[c] for c in key_frame.columns[len(keys):]], len(key_frame), start=key_ids)
    return _table(key_frame, ids, first, {COUNT: np.ones(len(key_frame), dtype=np.int64)})


def _value_table(frame: pd.DataFrame, keys: Sequence[str], values: np.ndarray, key_ids: np.ndarray) -> pd.DataFrame:
    rated = np.flatnonzero(~np.isnan(values))
    ids, first = _group_ids([values[rated]], len(rated), start=key_ids[rated])
    key_frame = _key_frame(frame, keys).iloc[rated[first]].reset_index(drop=True)
    key_frame[VALUE] = values[rated[first]]
    counts = np.bincount(ids, minlength=len(first)).astype(np.int64) if len(first) else np.zeros(0, dtype=np.int64)
    return _sorted(key_frame.assign(**{COUNT: counts}), [*keys, VALUE])


def _sources(frame: pd.DataFrame) -> tuple[tuple[str, int], ...]:
    if S.SOURCE not in frame.columns:
        return ()
    counts = frame[S.SOURCE].value_counts(sort=False)   # in the order first seen
    return tuple((str(src), int(n)) for src, n in counts.items())


def _team_models(frame: pd.DataFrame) -> tuple[tuple[object, object], ...]:
    if S.TEAM not in frame.columns or S.SERVICE_MODEL not in frame.columns:
        return ()
    codes, teams = pd.factorize(frame[S.TEAM], use_na_sentinel=True)    # teams in the order first seen
    first = np.full(len(teams), len(frame), dtype=np.int64)
    named = codes >= 0
    np.minimum.at(first, codes[named], np.flatnonzero(named))
    models = frame[S.SERVICE_MODEL].iloc[first].astype("string")
    return tuple(zip(frame[S.TEAM].iloc[first].tolist(), models.tolist()))


def summarise(
    frame: pd.DataFrame,
    *,
    themes: Iterable[str] | None = None,
    keys: Sequence[str] = KEYS,
    strata: Sequence[str] | None = DEFAULT_STRATA,
    scores: Sequence[str] = SCORES,
    values: Sequence[str] = (),
    sla_first_response_hours: float | None = None,
    measures: Collection[str] | None = None,
) -> Summary:
    """The :class:`Summary` of ``frame`` (a month, or one partition of it).

    Parameters
    ----------
    frame : pandas.DataFrame
        Cleaned, tagged and scored rows (the canonical frame).
    themes : iterable of str, optional
        Theme ids; by default every ``theme_<id>`` column of the frame.
    keys : sequence of str
        Group key columns; those absent from ``frame`` are skipped.
    strata : sequence of str or None
        Case-mix strata columns (absent ones skipped); ``None`` builds no ``cells``
        table (an empty one).
    scores : sequence of str
        Score columns kept by value in :attr:`Summary.scores` (e.g. ``("csat", "nps")``;
        ``()`` for none).
    values : sequence of str
        Score columns whose distribution per group of ``keys`` is kept in
        :attr:`Summary.values` (what the KPI tables and comparisons need; ``()`` for none).
    sla_first_response_hours : float, optional
        Also count a row answered within this many hours as reported good in the
        ``solved*`` measures (:func:`~feedbacklib.stats.tables.perception_gap`'s option).
    measures : collection of str, optional
        Only these groups of :data:`MEASURE_GROUPS` in the cells (``rows`` and the theme hits
        always), and no ``sources`` / ``team_models``: the lean summary one table needs (the
        row-level tables use it). ``None`` (the default): everything.

    Examples
    --------
    >>> s = summarise(tagged, themes=["billing"], keys=("service_model",))   # doctest: +SKIP
    >>> s.cells.columns[:3].tolist()                                         # doctest: +SKIP
    ['service_model', 'channel', 'category']
    """
    theme_ids = tuple(F.themes_of(frame, themes))
    keys = tuple(k for k in keys if k in frame.columns)
    # "has a comment" reads every text (the costliest column): only when something counts comments
    needs_text = measures is None or bool(theme_ids) or bool(scores) or bool(
        set(measures) & {"text", "sentiment", "praise", "gap"})
    if measures is not None and needs_text and not theme_ids and not scores and set(measures) & {
            "text", "sentiment", "praise", "gap"} == {"gap"}:
        # only the perception gap counts comments, and only among the rows reported good
        good = reported_good(frame, sla_first_response_hours)
        readers = frame[[c for c in (S.TEXT, S.SENTIMENT) if c in frame.columns]]
        text = np.zeros(len(frame), dtype=bool)
        text[good] = F.has_text(readers.loc[good]) if len(readers.columns) else True
    else:
        text = F.has_text(frame) if needs_text else np.zeros(len(frame), dtype=bool)
    numeric = _Numeric(frame)
    key_ids = _group_ids([frame[k] for k in keys], len(frame))[0]
    if strata is None:
        strata_cols: tuple[str, ...] = ()
        cells = pd.DataFrame(columns=[*keys, *_cell_measures(theme_ids)])
    else:
        strata_cols = tuple(c for c in strata if c in frame.columns)
        cells = _cells(frame, keys, strata_cols, theme_ids, text, sla_first_response_hours, numeric, key_ids, measures)
    tables: dict[str, pd.DataFrame] = {}
    if scores:
        flags = [F.bool_flags(frame, S.theme_column(t)) & text for t in theme_ids]
        words = _pack(flags, len(frame))
        for score in scores:
            tables[score] = _score_table(frame, keys, score, words, text, numeric[score], key_ids)
    present = frozenset(t for t in theme_ids if S.theme_column(t) in frame.columns)
    value_tables = {score: _value_table(frame, keys, numeric[score], key_ids) for score in values}
    full = measures is None
    return Summary(keys=keys, strata=strata_cols, themes=theme_ids, present=present, cells=cells,
                   scores=tables, values=value_tables,
                   columns=frozenset(c for c in CHECKED_COLUMNS if c in frame.columns),
                   sla=sla_first_response_hours, sources=_sources(frame) if full else (),
                   team_models=_team_models(frame) if full else ())


def _add_tables(parts: Sequence[pd.DataFrame], keys: list[str]) -> pd.DataFrame:
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=[])
    if len(parts) == 1:
        return parts[0]
    stacked = pd.concat(parts, ignore_index=True)
    measures = [c for c in stacked.columns if c not in keys]
    if not keys:
        return stacked[measures].sum().to_frame().T.astype(stacked[measures].dtypes.to_dict())
    out = stacked.groupby(keys, dropna=False, observed=True, sort=False)[measures].sum().reset_index()
    return _sorted(out, keys)


def combine(*summaries: Summary) -> Summary:
    """The summary of the union of the rows of ``summaries`` (cells added up).

    All must share keys, strata, themes and scores (as built by :func:`summarise`
    with the same arguments); a theme is present if any part had its column.
    Raises ``ValueError`` otherwise.
    """
    if not summaries:
        raise ValueError("combine() needs at least one Summary (got none): pass the partial summaries "
                         "returned by summarise() on each partition.")
    first = summaries[0]

    def built(s: Summary) -> tuple:
        return (s.keys, s.strata, s.themes, tuple(s.scores), tuple(s.values), s.sla, tuple(s.measures))

    for other in summaries[1:]:
        if built(other) != built(first):
            raise ValueError(
                "Cannot combine summaries built differently: keys/strata/themes/scores/values/sla/measures "
                f"{built(first)} against {built(other)}. Build every part with "
                "summarise() and the same arguments (same themes, keys, strata, scores, values, SLA and measures).")
    if len(summaries) == 1:
        return first
    cell_keys = list(dict.fromkeys([*first.keys, *first.strata]))
    cells = _add_tables([s.cells for s in summaries], cell_keys)
    if cells.empty:
        cells = first.cells.iloc[0:0]
    scores = {}
    for score, table in first.scores.items():
        keys = [c for c in table.columns if c != COUNT]
        added = _add_tables([s.scores[score] for s in summaries], keys)
        scores[score] = added if not added.empty else table.iloc[0:0]
    value_tables = {}
    for score, table in first.values.items():
        added = _add_tables([s.values[score] for s in summaries], [*first.keys, VALUE])
        value_tables[score] = added if not added.empty else table.iloc[0:0]
    present: frozenset[str] = frozenset().union(*(s.present for s in summaries))
    columns: frozenset[str] = frozenset().union(*(s.columns for s in summaries))
    sources: dict[str, int] = {}
    team_models: dict[object, object] = {}
    for s in summaries:
        for src, n in s.sources:
            sources[src] = sources.get(src, 0) + n
        for team, model in s.team_models:
            team_models.setdefault(team, model)
    return Summary(keys=first.keys, strata=first.strata, themes=first.themes, present=present,
                   cells=cells, scores=scores, values=value_tables, columns=columns, sla=first.sla,
                   sources=tuple(sources.items()), team_models=tuple(team_models.items()))


def collapse(summary: Summary, keys: Sequence[str], strata: Sequence[str] | None = None, *,
             scores: bool = True) -> Summary:
    """``summary`` regrouped on fewer ``keys`` (and ``strata``, by default the same): the measures of the
    cells that differ only in the dropped columns added up; what :func:`summarise` with those keys gives.
    ``scores=False`` leaves the score tables out (what the case-mix tables need is in the cells).

    Raises ``ValueError`` naming a key or stratum the summary does not have.
    """
    strata = summary.strata if strata is None else tuple(strata)
    keys = tuple(k for k in keys)
    for col, have in ((k, summary.keys) for k in keys):
        if col not in have:
            raise ValueError(f"Cannot regroup the summary on {col!r}: it is keyed by {list(have)}. "
                             "Build it with summarise(frame, keys=...) including that column.")
    for col in strata:
        if col not in summary.strata:
            raise ValueError(f"Cannot regroup the summary on the stratum {col!r}: its strata are "
                             f"{list(summary.strata)}.")

    def regroup(table: pd.DataFrame, by: list[str]) -> pd.DataFrame:
        measures = [c for c in table.columns if c not in (*summary.keys, *summary.strata, HAS_TEXT, VALUE)
                    and not c.startswith(PATTERN_PREFIX)]
        if table.empty:
            return table[[*by, *measures]]
        if not by:
            return table[measures].sum().to_frame().T.astype(table[measures].dtypes.to_dict())
        out = table.groupby(by, dropna=False, observed=True, sort=False)[measures].sum().reset_index()
        return _sorted(out, by)

    cell_keys = list(dict.fromkeys([*keys, *strata]))
    cells = regroup(summary.cells, cell_keys)
    score_tables = {
        score: regroup(t, [*keys, HAS_TEXT, *[c for c in t.columns if c.startswith(PATTERN_PREFIX)], VALUE])
        for score, t in summary.scores.items()} if scores else {}
    values = {score: regroup(t, [*keys, VALUE]) for score, t in summary.values.items()}
    return replace(summary, keys=keys, strata=tuple(strata), cells=cells, scores=score_tables, values=values)


def value_counts(summary: Summary, score: str, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(distinct values ascending, counts) of ``score`` over the rows of :attr:`Summary.values` where ``mask``."""
    if score not in summary.values:
        raise ValueError(f"The summary keeps no distribution of {score!r} (it keeps {sorted(summary.values)}). "
                         f"Build it with summarise(frame, values=({score!r},)).")
    table = summary.values[score]
    if mask is not None:
        table = table.loc[mask]
    if table.empty:
        return np.zeros(0), np.zeros(0, dtype=np.int64)
    g = table.groupby(VALUE, sort=True)[COUNT].sum()
    g = g[g > 0]
    return g.index.to_numpy(dtype=float), g.to_numpy(dtype=np.int64)
