"""What every engine does and returns: the seam between the orchestrator and the engines.

An engine runs read -> clean -> themes -> sentiment for one month, in two calls, because the
orchestrator (:func:`feedbacklib.pipeline.run_month`) decides the month between them:

1. :meth:`Engine.clean` reads every export of the input folder and cleans it. It returns a
   :class:`Cleaned`: kept responses per month (what ``"last"`` and the thin rule count), the
   quarantine, the quality table and the files skipped, plus the engine's own handle on the
   kept rows (a pandas frame, or rows held by Dask workers).
2. :meth:`Engine.annotate` keeps the months up to the report month that the history store
   does not already hold, fits the theme tagger on the report month's comments, tags and
   scores. It returns an :class:`Annotated`: the rows as a pandas frame in the cleaned
   frame's order, and the combined per-partition summaries (see :data:`SummaryStep`).

Engines never import the pipeline; the pipeline imports them.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .. import schema as S
from ..arrowstr import release_memory
from ..parts import MonthParts, RunParts, month_parts, run_parts
from ..progress import StepTimer as Timer
from ..forking import Forked
from ..sentiment import distinct_scores, score_factorized, score_sentiment
from ..themes import Taxonomy, ThemeTagger

__all__ = ["FIT_SAMPLE", "fit_sample", "merge_fit_samples", "RowStaging", "MonthPartsStep", "RunPartsStep", "Cleaned", "Annotated", "Engine", "SummaryStep", "Timer", "month_volumes",
           "fit_tagger", "tag_frame", "add_themes", "add_sentiment", "score_ahead", "months_to_analyse"]

#: The step timers log where they always have (run.log and the benchmarks' stage sampler read it).

#: Distinct comments the theme tagger is fitted on, at most (see :func:`fit_sample`): seed labels on
#: 20k texts train it as well as on 100k, at a fifth of the cost.
FIT_SAMPLE = 20_000

#: The columns of a fit sample (:func:`fit_sample`): a text's stable 64-bit hash and the text.
HASH, TEXT = "hash", "text"

#: A per-partition summary: ``step(rows, month, theme_ids)`` on one partition's tagged and scored
#: rows returns an object that adds up (``a + b``) with the other partitions' (for example
#: per-group counts, sums and sums of squares). The engine combines them; only the sum reaches
#: the client.
SummaryStep = Callable[[pd.DataFrame, str, Sequence[str]], Any]


@dataclass
class Cleaned:
    """What :meth:`Engine.clean` returns: small tables, plus the engine's handle on the kept rows."""

    volumes: dict[str, int]              # kept responses per month
    quarantine: pd.DataFrame             # every rejected row, with its reason and redacted cells
    quality: pd.DataFrame                # rows read / kept / quarantined per file, by reason
    skipped: list[tuple[str, str]] = field(default_factory=list)
    rows: Any = field(default=None, repr=False)   # the engine's kept rows (frame, futures, ...)


class MonthPartsStep:
    """The :data:`SummaryStep` that makes each partition's :class:`~feedbacklib.parts.MonthParts` (of its
    rows of the report month; earlier months' rows are left out), added up in partition order by the
    engine: what :func:`feedbacklib.result.month_tables_from_parts` needs, instead of the rows.
    A class (not a closure) so that it pickles by reference to the workers."""

    def __init__(self, cfg: Any):
        self.cfg = cfg

    def __call__(self, rows: pd.DataFrame, month: str, themes: Sequence[str]) -> MonthParts:
        in_month = (rows[S.MONTH] == month).fillna(False).to_numpy(dtype=bool)
        return month_parts(rows[in_month].reset_index(drop=True), month, themes, self.cfg)


class RunPartsStep:
    """The :data:`SummaryStep` of a run whose rows stay on the workers: each partition's
    :class:`~feedbacklib.parts.RunParts` (the report month's parts, the earlier months' summaries and
    uncovered samples, the month's first time and contact window), added up in partition order."""

    def __init__(self, cfg: Any):
        self.cfg = cfg

    def __call__(self, rows: pd.DataFrame, month: str, themes: Sequence[str]) -> RunParts:
        return run_parts(rows, month, themes, self.cfg)


@dataclass(frozen=True)
class RowStaging:
    """Where an engine's workers stage the analysed rows for the history store (a shared path:
    :meth:`feedbacklib.history.HistoryStore.staging`), which ``months``, with which schema metadata."""

    folder: str
    months: tuple[str, ...]
    metadata: dict = field(default_factory=dict)


@dataclass
class Annotated:
    """What :meth:`Engine.annotate` returns."""

    frame: pd.DataFrame | None           # months <= the month not in the store, tagged and scored
                                         # (None when a Dask engine was asked not to collect them)
    tagger: ThemeTagger
    summary: Any = None                  # the SummaryStep's results added up, or None
    staged: tuple[str, ...] = ()         # months whose rows the workers staged (RowStaging)
    rows: Any = field(default=None, repr=False)  # with frame None: the engine's handle on the analysed rows
                                                 # (its partitions, on the workers), for the later steps


class Engine(Protocol):
    """The two steps an engine implements (see the module docstring)."""

    name: str
    #: Whether the theme tagger is fitted in this process (the pandas engines), so that the part of
    #: its fit that does not depend on the month can start here while the month is read
    #: (:func:`~feedbacklib.themes.supervised.fitting_ahead`); the Dask engine fits it on a worker.
    fits_here: bool

    def clean(self, folder: Any, cfg: Any, timings: dict[str, float], bar: Any = None) -> Cleaned: ...

    def annotate(self, cleaned: Cleaned, month: str, taxonomy: Taxonomy, *, skip_months: Sequence[str] = (),
                 timings: dict[str, float], bar: Any = None, summary: SummaryStep | None = None,
                 staging: RowStaging | None = None) -> Annotated: ...

    def session(self) -> contextlib.AbstractContextManager: ...


def month_volumes(frame: pd.DataFrame) -> dict[str, int]:
    """Kept responses per month of a cleaned frame (what ``last`` and the thin rule count)."""
    counts = frame[S.MONTH].dropna().astype(str).value_counts()
    return {str(m): int(n) for m, n in sorted(counts.items())}


def months_to_analyse(frame: pd.DataFrame, month: str, skip_months: Sequence[str]) -> pd.Series:
    """Rows of months up to ``month`` that are not in ``skip_months`` (those come from the store);
    the future is never analysed against a report month."""
    keep = (frame[S.MONTH] <= month) & ~frame[S.MONTH].isin(list(skip_months))
    return keep.fillna(False).to_numpy(dtype=bool)


def _bottom_k(hashes: np.ndarray, texts: np.ndarray, k: int | None) -> pd.DataFrame:
    """The ``k`` entries with the smallest ``(hash, text)``, sorted so (``texts`` distinct)."""
    k = FIT_SAMPLE if k is None else k
    if len(texts) > k:
        cut = np.partition(hashes, k - 1)[k - 1]
        near = np.flatnonzero(hashes <= cut)  # the k smallest and any ties with the k-th
        hashes, texts = hashes[near], texts[near]
    order = sorted(range(len(texts)), key=lambda i: (int(hashes[i]), texts[i]))[:k]
    return pd.DataFrame({HASH: hashes[order].astype(np.uint64), TEXT: texts[order].astype(object)})


def fit_sample(texts: Any, k: int | None = None) -> pd.DataFrame:
    """The theme tagger's fit sample of ``texts``: of their distinct non-blank values, the ``k`` with
    the smallest stable hash (``pd.util.hash_array``: a fixed key, the same in every process), ties
    broken by the text; columns ``hash`` and ``text``, in that order. ``k`` None: :data:`FIT_SAMPLE`.

    Bottom-k samples combine: the sample of a union is :func:`merge_fit_samples` of the parts'
    samples, whatever the split. So a Dask partition sends at most ``k`` texts and the fit sees the
    same sample as the pandas engine's, bounded whatever the month's size.
    """
    values = pd.Series(texts, dtype=object) if not isinstance(texts, pd.Series) else texts
    data = _arrow_data(values)
    if data is not None:
        # an Arrow column: distinct values and the blank test in Arrow (the test of stats.text_mask,
        # equal to strip() on every code point); the sample does not depend on the values' order
        uniq = pc.unique(data).drop_null()
        ok = pc.and_(pc.greater(pc.utf8_length(uniq), 0), pc.invert(pc.utf8_is_space(uniq)))
        distinct = np.asarray(uniq.filter(ok).to_numpy(zero_copy_only=False), dtype=object)
        return _bottom_k(pd.util.hash_array(distinct, categorize=False), distinct, k)
    values = values.dropna()
    distinct = np.asarray(pd.unique(values.astype(object).to_numpy()), dtype=object)
    if len(distinct):
        distinct = distinct[pd.Series(distinct, dtype=object).str.strip().ne("").to_numpy(dtype=bool)]
    return _bottom_k(pd.util.hash_array(distinct, categorize=False), distinct, k)


def merge_fit_samples(*samples: pd.DataFrame, k: int | None = None) -> pd.DataFrame:
    """The fit sample of the union of the texts behind ``samples`` (each from :func:`fit_sample`)."""
    both = pd.concat([s for s in samples if len(s)] or [fit_sample([], k)], ignore_index=True)
    both = both.drop_duplicates(TEXT)
    return _bottom_k(both[HASH].to_numpy(dtype=np.uint64), both[TEXT].to_numpy(dtype=object), k)


def fit_on_sample(sample: pd.DataFrame, taxonomy: Taxonomy) -> ThemeTagger:
    """The theme tagger fitted on a fit sample (:func:`fit_sample`, :func:`merge_fit_samples`)."""
    texts = sample[TEXT].tolist()  # already the sample: the tagger must not sample it again
    return ThemeTagger(taxonomy, random_state=0, max_fit_docs=max(FIT_SAMPLE, len(texts))).fit(texts)


def fit_tagger(texts: Any, taxonomy: Taxonomy) -> ThemeTagger:
    """The theme tagger fitted on the fit sample of ``texts`` (the report month's comments, in any
    order: :func:`fit_sample`, at most :data:`FIT_SAMPLE` distinct texts chosen by a stable hash,
    so the same set of texts gives the same model on every engine and every partitioning)."""
    return fit_on_sample(fit_sample(texts), taxonomy)


#: The theme evidence column's dtype: pandas' default ``str`` (missing values are NaN), which is
#: what assigning tag_themes' evidence as an object array gave (an empty one stays ``object``).
EVIDENCE_DTYPE = pd.StringDtype(na_value=float("nan"))


#: One slot: ``pd.factorize`` of the last text column :func:`add_themes` tagged (a weak reference to
#: its Arrow data, the codes, the distinct texts as Python strings), so that :func:`add_sentiment` of
#: the same rows does not factorise a million texts again. Emptied by :func:`add_sentiment`, or as
#: soon as that column's data is freed.
_FACTORIZED: dict[str, Any] = {}


def _arrow_data(texts: pd.Series) -> Any:
    data = getattr(texts.array, "_pa_array", None)
    return data if isinstance(data, pa.ChunkedArray) else None


def _factorize_texts(texts: pd.Series) -> tuple[np.ndarray, list[str]]:
    """``pd.factorize`` of a ``string`` column, its distinct values as Python strings (one conversion,
    not one Arrow scalar per text); kept in :data:`_FACTORIZED` for :func:`add_sentiment`."""
    codes, uniq = pd.factorize(texts)  # missing values: -1
    distinct = uniq.to_numpy(dtype=object).tolist()
    data = _arrow_data(texts)
    _FACTORIZED.clear()
    if data is not None:
        _FACTORIZED.update(data=weakref.ref(data, lambda _ref: _FACTORIZED.clear()), n=len(texts),
                           codes=codes, distinct=distinct)
    return codes, distinct


def _peek_factorized(texts: pd.Series) -> tuple[np.ndarray, list[str]] | None:
    """The kept factorisation when ``texts`` holds the very Arrow data factorised last, else None."""
    data = _arrow_data(texts)
    ref, codes, distinct = _FACTORIZED.get("data"), _FACTORIZED.get("codes"), _FACTORIZED.get("distinct")
    same = data is not None and ref is not None and ref() is data and _FACTORIZED.get("n") == len(texts)
    return (codes, distinct) if same and codes is not None and distinct is not None else None


def _take_factorized(texts: pd.Series) -> tuple[np.ndarray, list[str]] | None:
    """The kept factorisation when ``texts`` holds the very Arrow data :func:`add_themes` tagged; the
    slot is emptied either way."""
    found = _peek_factorized(texts)
    _FACTORIZED.clear()
    return found


def _tag_distinct(texts: pd.Series, tagger: ThemeTagger) -> tuple[pd.DataFrame, pd.Series]:
    """``tagger._tag(texts)`` for a ``string`` column, the distinct texts found by Arrow's hash table:
    only those become Python strings, are tagged once each (``tagger._tag_unique``: they are distinct
    already, no second factorisation), and the flags and evidence are spread back to the rows by
    position (a text's tags do not depend on the other texts; missing texts are tagged as "")."""
    if not isinstance(texts.dtype, pd.StringDtype) or not len(texts):
        return tagger._tag(texts)
    codes, distinct = _peek_factorized(texts) or _factorize_texts(texts)  # score_ahead may have done it
    if (codes < 0).any():
        codes = np.where(codes < 0, len(distinct), codes)
        distinct = distinct + [""]  # a new list: the kept one stays the factorisation
    flags, evidence = tagger._tag_unique(distinct)
    # the evidence as ThemeTagger._tag builds it: a ``string`` Series of the object array
    ev = pd.Series(np.asarray(evidence, dtype=object), dtype="string")
    take = pa.array(codes)
    return (pd.DataFrame(flags[codes], columns=list(tagger.theme_ids_), index=texts.index),
            pd.Series(pd.arrays.ArrowStringArray(pa.array(ev.array).take(take)), index=texts.index,
                      dtype="string"))


def add_themes(frame: pd.DataFrame, tagger: ThemeTagger) -> pd.DataFrame:
    """``frame`` with ``theme_<id>`` flags and the theme evidence (one tagging pass gives both)."""
    release_memory()  # before the tagging workers fork: they would inherit the allocator's free pages
    # what tag_themes(frame[[S.TEXT]], tagger) gives, without its copy of the frame and without
    # turning the evidence into a million Python strings twice: Arrow to Arrow, same dtype
    tags, evidence = _tag_distinct(frame[S.TEXT], tagger)
    return frame.assign(
        **{S.theme_column(t): tags[t].to_numpy(dtype=bool) for t in tagger.theme_ids_},
        **{S.THEME_EVIDENCE: evidence.astype(EVIDENCE_DTYPE).array if len(evidence) else evidence.to_numpy()},
    )


#: Rows from which :func:`score_ahead` scores the texts in a forked child while the themes are found.
SCORE_AHEAD_MIN_ROWS = 50_000


def score_ahead(frame: pd.DataFrame) -> Forked | None:
    """Start scoring the sentiment of ``frame``'s distinct texts in a forked child, for
    :func:`add_sentiment` to pick up (``ahead=``): the scores do not depend on the themes, so on two
    cores they are computed while the tagger is fitted and tags. The texts are factorised here once,
    for :func:`add_themes` and :func:`add_sentiment` too. None (nothing started) below
    :data:`SCORE_AHEAD_MIN_ROWS` rows, without ``fork`` or the memory a child needs
    (:func:`~feedbacklib.forking.room_to_fork`), or for a text column that is not ``string``.
    """
    texts = frame[S.TEXT]
    if not isinstance(texts.dtype, pd.StringDtype) or len(texts) < SCORE_AHEAD_MIN_ROWS:
        return None
    release_memory()  # before the child forks: it would inherit the allocator's free pages
    _codes, distinct = _factorize_texts(texts)  # kept for add_themes and add_sentiment either way
    ahead = Forked(distinct_scores, distinct, parallel=False)  # one process: the tagging has the other core
    return ahead if ahead.forked else None  # not forked: add_sentiment's own pool scores them later


def add_sentiment(frame: pd.DataFrame, chunk: int | None = None, *, ahead: Forked | None = None) -> pd.DataFrame:
    """``frame`` with the sentiment score and label; ``chunk`` rows at a time when given (each text's
    score does not depend on the others: a Dask worker scores below the size at which the scorer forks).
    ``ahead``: :func:`score_ahead` of ``frame``, whose scores are then used."""
    release_memory()  # likewise before the scoring workers fork
    texts = frame[S.TEXT]
    factorized = _take_factorized(texts)
    if factorized is not None and (chunk is None or len(texts) <= chunk):
        # add_themes (or score_ahead) factorised these very texts
        scores = score_factorized(*factorized, texts.index, scores=ahead.result() if ahead is not None else None)
        ahead = None
    elif chunk is None or len(texts) <= chunk:
        scores = score_sentiment(texts)
    else:
        scores = pd.concat([score_sentiment(texts.iloc[i:i + chunk]) for i in range(0, len(texts), chunk)],
                           ignore_index=True)
    if ahead is not None:  # its texts were not these after all: its scores are not wanted
        ahead.cancel()
    return frame.assign(**{S.SENTIMENT: scores[S.SENTIMENT].to_numpy(),
                           S.SENTIMENT_LABEL: scores[S.SENTIMENT_LABEL].to_numpy()})


def tag_frame(frame: pd.DataFrame, taxonomy: Taxonomy, month: str | None = None) -> pd.DataFrame:
    """``frame`` with ``theme_<id>`` flags and the theme evidence.

    The learned expansion is fitted on the report ``month``'s comments only (all of
    ``frame`` when None), so a month's figures do not depend on which other months
    happen to be in the input folder or the history store.
    """
    fit_on = frame[S.TEXT] if month is None else frame.loc[(frame[S.MONTH] == month).to_numpy(dtype=bool), S.TEXT]
    return add_themes(frame, fit_tagger(fit_on, taxonomy))
