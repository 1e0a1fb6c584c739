"""Sentiment with nltk's VADER, fully offline, per text and per theme mention.

VADER is the pinned choice (nltk's implementation, not the ``vaderSentiment``
package: the two disagree on 8% of texts). Its lexicon ships as package data in
``feedbacklib/data/nltk/sentiment/vader_lexicon.zip``; nothing is downloaded.
Texts are scored with their original casing and punctuation, each distinct text
once; large inputs are scored by two forked worker processes.

Scores come from :mod:`feedbacklib.vader_fast`, a rule-for-rule re-implementation
of nltk's ``polarity_scores(text)["compound"]`` that gives the same numbers about
15 times faster (``benchmarks/bench_sentiment.py`` measures both and their
agreement). nltk's own analyzer stays available as the reference:
``score_sentiment(texts, method="nltk")``, :func:`nltk_compound`, :func:`vader_analyzer`.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Iterable
from contextlib import ExitStack
from importlib import resources

import numpy as np
import pandas as pd

from feedbacklib.forking import can_fork
from feedbacklib.schema import RESPONSE_ID, TEXT, theme_column
from feedbacklib.text import clause_spans
from feedbacklib.vader_fast import compound_many, load_lexicon
from feedbacklib.themes.tagger import THEME_EVIDENCE, _matcher_for
from feedbacklib.themes.taxonomy import load_taxonomy

__all__ = [
    "score_sentiment",
    "score_factorized",
    "theme_sentiment",
    "vader_analyzer",
    "SENTIMENT",
    "SENTIMENT_LABEL",
    "SENTIMENT_LABELS",
    "label_sentiment",
    "nltk_compound",
    "SENTIMENT_METHODS",
]

SENTIMENT = "sentiment"
SENTIMENT_LABEL = "sentiment_label"
SENTIMENT_LABELS = pd.CategoricalDtype(["negative", "neutral", "positive"], ordered=True)
#: Compound scores beyond these are positive / negative (VADER's usual cut-offs).
POSITIVE_AT = 0.05
NEGATIVE_AT = -0.05
#: ``method`` values: the fast re-implementation (default) or nltk's analyzer itself.
SENTIMENT_METHODS = ("fast", "nltk")
#: Distinct texts above which the fast scorer uses a fork-based Pool(2).
PARALLEL_MIN_TEXTS = 100_000
#: The same threshold for nltk's (15 times slower) analyzer.
NLTK_PARALLEL_MIN_TEXTS = 20_000
_LEXICON_RESOURCE = "sentiment/vader_lexicon.zip/vader_lexicon/vader_lexicon.txt"

_lock = threading.Lock()
_analyzer = None
_keep_files = ExitStack()  # keeps an extracted copy alive if the package is zipped
_POOL_TEXTS: list[str] = []  # inherited by forked workers


def _nltk_data_dir() -> str:
    """Folder holding ``sentiment/vader_lexicon.zip`` (package data)."""
    ref = resources.files("feedbacklib").joinpath("data/nltk")
    path = _keep_files.enter_context(resources.as_file(ref))
    return os.fspath(path)


def vader_analyzer():
    """nltk's ``SentimentIntensityAnalyzer`` built from the bundled lexicon (cached).

    The package's ``data/nltk`` folder is put first on ``nltk.data.path`` while the
    lexicon is loaded, so neither ``NLTK_DATA`` nor a network connection matters.
    """
    global _analyzer
    with _lock:
        if _analyzer is None:
            import nltk.data
            from nltk.sentiment.vader import SentimentIntensityAnalyzer

            folder = _nltk_data_dir()
            nltk.data.path.insert(0, folder)
            try:
                _analyzer = SentimentIntensityAnalyzer(lexicon_file=_LEXICON_RESOURCE)
            finally:
                nltk.data.path.remove(folder)
        return _analyzer


def nltk_compound(texts: Iterable[str]) -> list[float]:
    """nltk's own VADER compound score of each text (the reference the fast scorer matches)."""
    sia = vader_analyzer()
    return [sia.polarity_scores(t)["compound"] for t in texts]


def _score_list(texts: Iterable[str], method: str) -> list[float]:
    return compound_many(texts) if method == "fast" else nltk_compound(texts)


def _score_range(job: tuple[int, int, str]) -> list[float]:
    lo, hi, method = job
    return _score_list(_POOL_TEXTS[lo:hi], method)


def _check_method(method: str) -> None:
    if method not in SENTIMENT_METHODS:
        raise ValueError(f"Unknown sentiment method {method!r}: choose one of {', '.join(SENTIMENT_METHODS)}.")


def _score_unique(texts: list[str], method: str = "fast", *, parallel: bool = True) -> np.ndarray:
    """Compound score of each (distinct, non-empty) text (by a pool of two forked workers when
    ``parallel`` and there are many)."""
    global _POOL_TEXTS
    threshold = PARALLEL_MIN_TEXTS if method == "fast" else NLTK_PARALLEL_MIN_TEXTS
    if parallel and len(texts) > threshold and can_fork():
        if method == "fast":  # load once in the parent; the workers inherit it
            load_lexicon()
        else:
            vader_analyzer()
        _POOL_TEXTS = texts
        try:
            step = max(1, -(-len(texts) // 16))
            jobs = [(i, min(i + step, len(texts)), method) for i in range(0, len(texts), step)]
            with multiprocessing.get_context("fork").Pool(2) as pool:
                parts = pool.map(_score_range, jobs)
        finally:
            _POOL_TEXTS = []
        return np.fromiter((s for part in parts for s in part), dtype=float, count=len(texts))
    return np.asarray(_score_list(texts, method), dtype=float)


def label_sentiment(scores: pd.Series) -> pd.Series:
    """"negative" below -0.05, "positive" above 0.05, else "neutral"; NaN stays missing."""
    values = scores.to_numpy(dtype=float)
    labels = np.where(values > POSITIVE_AT, "positive", np.where(values < NEGATIVE_AT, "negative", "neutral"))
    labels = labels.astype(object)
    labels[np.isnan(values)] = None
    return pd.Series(pd.Categorical(labels, dtype=SENTIMENT_LABELS), index=scores.index, name=SENTIMENT_LABEL)


def _compound(texts: pd.Series, method: str = "fast") -> pd.Series:
    _check_method(method)
    series = pd.Series(texts, copy=False)
    if isinstance(series.dtype, pd.StringDtype):
        return _compound_strings(series, method)
    values = series.astype(object)
    is_text = values.map(lambda v: isinstance(v, str) and bool(v.strip())).to_numpy(dtype=bool)
    out = np.full(len(values), np.nan)
    if is_text.any():
        codes, uniq = pd.factorize(values[is_text])
        out[is_text] = _score_unique(list(uniq), method)[codes]
    return pd.Series(out, index=values.index, name=SENTIMENT, dtype=float)


def _compound_strings(texts: pd.Series, method: str) -> pd.Series:
    """:func:`_compound` of a ``string`` column: its distinct values found by Arrow's hash table
    (no Python object per row), the blank test run once per distinct text; the same scores."""
    codes, uniq = pd.factorize(texts)  # missing values: -1
    distinct = uniq.to_numpy(dtype=object).tolist()  # list(uniq) makes an Arrow scalar per text: seconds at 1M
    return _compound_codes(codes, distinct, texts.index, method)


def distinct_scores(distinct: list[str], method: str = "fast", *, parallel: bool = True) -> np.ndarray:
    """The compound score of each of ``distinct`` (distinct texts; NaN for a blank one), each scored once
    (``parallel=False``: in this process only, whatever their number)."""
    _check_method(method)
    scores = np.full(len(distinct), np.nan)
    keep = [i for i, t in enumerate(distinct) if t.strip()]
    if keep:
        scores[keep] = _score_unique([distinct[i] for i in keep], method, parallel=parallel)
    return scores


def _compound_codes(codes: np.ndarray, distinct: list[str], index: pd.Index, method: str,
                    scores: np.ndarray | None = None) -> pd.Series:
    """The compound score of each row from ``pd.factorize`` of its texts (``codes``, -1 for missing,
    and the distinct texts as Python strings): each distinct text scored once (``scores``, when
    :func:`distinct_scores` already gave them)."""
    if scores is None:
        scores = distinct_scores(distinct, method)
    out = np.full(len(codes), np.nan)
    present = codes >= 0
    out[present] = scores[codes[present]]
    return pd.Series(out, index=index, name=SENTIMENT, dtype=float)


def score_sentiment(texts: pd.Series, *, method: str = "fast") -> pd.DataFrame:
    """VADER compound score and label of each text.

    Parameters
    ----------
    texts : Series of str
        Original-cased texts; missing or blank texts score NaN / NA.
    method : {"fast", "nltk"}
        ``"fast"`` (default) scores with :mod:`feedbacklib.vader_fast`, ``"nltk"`` with
        nltk's ``SentimentIntensityAnalyzer`` itself; both give nltk's compound score.

    Returns
    -------
    DataFrame indexed like ``texts`` with ``sentiment`` (float in [-1, 1]) and
    ``sentiment_label`` (ordered categorical negative < neutral < positive).

    Examples
    --------
    >>> score_sentiment(pd.Series(["Brilliant, thank you!", ""]))["sentiment_label"].tolist()
    ['positive', nan]
    """
    if not isinstance(texts, pd.Series):
        texts = pd.Series(list(texts), dtype=object)
    compound = _compound(texts, method)
    return pd.DataFrame({SENTIMENT: compound, SENTIMENT_LABEL: label_sentiment(compound)})


def score_factorized(codes: np.ndarray, distinct: list[str], index: pd.Index, *, method: str = "fast",
                     scores: np.ndarray | None = None) -> pd.DataFrame:
    """:func:`score_sentiment` of a ``string`` column given as its ``pd.factorize`` (``codes``, -1 for
    missing, and the distinct values as Python strings): the same frame, without factorising again.
    ``scores``: :func:`distinct_scores` of ``distinct``, when already computed."""
    _check_method(method)
    compound = _compound_codes(codes, distinct, index, method, scores)
    return pd.DataFrame({SENTIMENT: compound, SENTIMENT_LABEL: label_sentiment(compound)})


def _theme_ids(frame: pd.DataFrame, taxonomy) -> list[str]:
    if taxonomy is not None:
        return [tid for tid in taxonomy.ids if theme_column(tid) in frame.columns]
    prefix = theme_column("")
    return [c[len(prefix):] for c in frame.columns if c.startswith(prefix) and frame[c].dtype == bool]


def _learned_terms(evidence: object, theme_id: str) -> list[str]:
    if not isinstance(evidence, str):
        return []
    for part in evidence.split("; "):
        head, _, rest = part.partition(": ")
        if head == theme_id and rest.startswith("learned: "):
            return [t.strip().lower() for t in rest[len("learned: "):].split(",") if t.strip()]
    return []


def theme_sentiment(frame: pd.DataFrame, taxonomy=None, *, text_col: str = TEXT,
                    method: str = "fast") -> pd.DataFrame:
    """Sentiment of each theme mention, scored on the clause(s) that carried it.

    For every row and every theme flagged in its ``theme_<id>`` column, the
    clauses holding the theme's seed matches are scored with VADER and averaged
    ("the agent was lovely but I was charged twice": courtesy positive,
    surprise_charges negative). A learned tag uses the clauses holding its
    evidence terms; when no clause can be found the whole text is scored.

    Parameters
    ----------
    frame : the output of :func:`feedbacklib.themes.tag_themes`
    taxonomy : the taxonomy used for tagging; None = the built-in default
    method : ``"fast"`` (default) or ``"nltk"``, as in :func:`score_sentiment`

    Returns
    -------
    Long DataFrame with columns ``row`` (the frame's index label), ``response_id``
    (when the frame has it), ``theme``, ``sentiment``, ``sentiment_label`` and
    ``clauses`` (the scored text), one row per (row, theme) mention.
    """

    tax = taxonomy if taxonomy is not None else load_taxonomy()
    matcher = _matcher_for(tax)
    ids = _theme_ids(frame, taxonomy)
    records: list[tuple] = []
    has_rid = RESPONSE_ID in frame.columns
    texts = frame[text_col].astype(object).tolist()
    evid = frame[THEME_EVIDENCE].tolist() if THEME_EVIDENCE in frame.columns else [None] * len(frame)
    rids = frame[RESPONSE_ID].tolist() if has_rid else [None] * len(frame)
    flags = {tid: frame[theme_column(tid)].fillna(False).to_numpy(dtype=bool) for tid in ids}
    for pos, label in enumerate(frame.index):
        themes_here = [tid for tid in ids if flags[tid][pos]]
        if not themes_here:
            continue
        text = texts[pos] if isinstance(texts[pos], str) else ""
        spans = clause_spans(text)
        hits = matcher.hits(text) if text else []
        for tid in themes_here:
            chosen = sorted({h.clause for h in hits if h.theme == tid})
            if not chosen:
                terms = _learned_terms(evid[pos], tid)
                chosen = [i for i, (s, e) in enumerate(spans) if any(t in text[s:e].lower() for t in terms)]
            if chosen:
                clauses = [text[spans[i][0]:spans[i][1]] for i in chosen]
            else:
                clauses = [text] if text.strip() else []
            records.append((label, rids[pos], tid, clauses))
    all_clauses = pd.Series([c for rec in records for c in rec[3]], dtype=object)
    scores = _compound(all_clauses, method).to_numpy() if len(all_clauses) else np.array([])
    rows, k = [], 0
    for label, rid, tid, clauses in records:
        n = len(clauses)
        value = float(np.mean(scores[k:k + n])) if n else np.nan
        k += n
        rows.append({"row": label, RESPONSE_ID: rid, "theme": tid, SENTIMENT: value, "clauses": " | ".join(clauses)})
    out = pd.DataFrame(rows, columns=["row", RESPONSE_ID, "theme", SENTIMENT, "clauses"])
    out[SENTIMENT] = out[SENTIMENT].astype(float)
    out.insert(4, SENTIMENT_LABEL, label_sentiment(out[SENTIMENT]))
    if not has_rid:
        out = out.drop(columns=RESPONSE_ID)
    return out
