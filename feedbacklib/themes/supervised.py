"""The supervised theme model: per-theme logistic regression on labelled examples.

Trained on reader-labelled texts, never on the month being tagged:

* the examples shipped in ``feedbacklib/data/theme_examples.csv`` (720 CFPB complaint
  narratives, U.S. government work in the public domain, and 209 NHS Friends and Family Test
  answers, MIT "Copyright (c) 2021 NHS England"; labels written for this project following
  ``GOLD_GUIDELINES.md``; see ``data/theme_examples.md``);
* the analyst's own labels file the taxonomy points to (``labels = "file.csv"``), weighted
  :data:`ANALYST_WEIGHT` times a shipped example;

less every example whose text is among the texts the tagger is fitted on (so a gold file
scored by ``feedback-report themes evaluate`` is never in the training set of the model that
tags it).

Features (:func:`features`): TF-IDF of stemmed unigrams and bigrams of all words (as
``TfidfVectorizer(sublinear_tf=True, min_df=2)``, counted from the token arrays), words in a
negation scope prefixed ``not_``, plus, per theme, whether a seed phrase of two or more words
matched (with the tagger's negation and exclusion rules), how many places a single-word seed
matched (log), that count in a long text, and the text's length, plus the text's static word
vector (``themes/vectors.py``: 128 dimensions distilled from all-MiniLM-L6-v2, the mean over the
text's content words, times :data:`VECTOR_WEIGHT`), so that words the examples never used count
through their neighbours ("impolite" near "rude"). The model therefore learns how far to trust
each theme's seeds, and in which kind of text.

Each theme's decision threshold is chosen by 5-fold cross-validation on the training examples so
that the number of out-of-fold predictions equals the number of labelled positives (over- and
under-tagging balance, so the rates the report prints are unbiased on text like the examples).
With an analyst's labels the count matched is that of the analyst's rows alone
(``ANALYST_THRESHOLD``): the month is text of the analyst's kind, not of the shipped examples'
(short texts after the analyst's labels, 5-fold CV: rate MAE 1.64 -> 0.61 points, macro F1
0.464 -> 0.546, micro F1 0.551 -> 0.543; the rate error falls too with CFPB dev, 1.19 -> 0.82,
and the permissive file, 1.03 -> 0.73, as the analyst's file: ``benchmarks/eval_themes.py``).
Everything is deterministic (liblinear, fixed folds).
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.special import expit
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from feedbacklib.forking import Forked
from feedbacklib.text import tokenize_many
from feedbacklib.themes import matching as tg
from feedbacklib.themes.labels import read_labels
from feedbacklib.themes.vectors import VECTORS_RESOURCE, doc_vectors, load_vectors

__all__ = ["SupervisedModel", "shipped_examples", "ANALYST_WEIGHT", "SHIPPED_EXAMPLES"]

#: Package resource holding the shipped labelled examples.
SHIPPED_EXAMPLES = "data/theme_examples.csv"
#: Weight of one analyst-labelled example relative to one shipped example.
ANALYST_WEIGHT = 3.0
#: Inverse regularisation strength of the per-theme models.
C = 4.0
#: A theme needs this many labelled positives (and negatives) to get a supervised model.
MIN_POSITIVES = 8
_FOLDS = 5
#: One binary feature per seed phrase besides the per-theme seed features.
PER_SEED = False
_LONG = 120
#: With an analyst's labels, each theme's threshold makes the out-of-fold predictions on the
#: analyst's rows as many as the analyst's positives (not those of all training examples).
ANALYST_THRESHOLD = True
#: Append each text's static word vector (``themes/vectors.py``) to the features, times this
#: weight (0: no vectors). 0.5 / 1 / 0 (none), 5-fold CV micro F1: CFPB dev 0.643 / 0.641 / 0.634,
#: CFPB more 0.594 / 0.592 / 0.588, short 0.524 / 0.522 / 0.514, short + analyst labels
#: 0.563 / 0.544 / 0.543 (``benchmarks/eval_themes.py``).
VECTOR_WEIGHT = 0.5
#: Where the vectors come from (a package resource, or a ``Path`` in experiments).
VECTORS: str | Path = VECTORS_RESOURCE


@lru_cache(maxsize=1)
def shipped_examples() -> pd.DataFrame:
    """The shipped labelled examples: ``id, source, text`` and one bool column per theme."""
    with resources.files("feedbacklib").joinpath(SHIPPED_EXAMPLES).open("r", encoding="utf-8") as fh:
        frame = pd.read_csv(fh, dtype=str, keep_default_na=False)
    for col in frame.columns[3:]:
        frame[col] = frame[col].astype(int).astype(bool)
    return frame


@dataclass(frozen=True)
class SupervisedModel:
    """Fitted per-theme linear models over :func:`features` (see the module docstring)."""

    space: object  # matching._FeatureSpace of the word features
    themes: tuple[int, ...]  # taxonomy columns with a model
    W: np.ndarray  # (n features, len(themes))
    b: np.ndarray
    thresholds: np.ndarray  # probability thresholds, one per theme in ``themes``
    n_train: int
    n_analyst: int

    def proba(self, X: sp.csr_matrix) -> np.ndarray:
        return expit(np.asarray(X @ self.W) + self.b)


def seed_features(m, n_tokens: np.ndarray, phrase_seeds: np.ndarray, n_themes: int) -> np.ndarray:
    """Per text: per theme (phrase hit, log1p single-word places, same in a long text), then length."""
    n = len(n_tokens)
    phrase = np.zeros((n, n_themes))
    words = np.zeros((n, n_themes))
    if len(m.doc):
        ph = phrase_seeds[m.seed]
        phrase[m.doc[ph], m.theme[ph]] = 1.0
        single = ~ph
        if single.any():
            place = np.unique(np.stack([m.doc[single], m.theme[single], m.first[single]]), axis=1)
            np.add.at(words, (place[0], place[1]), 1.0)
    words = np.log1p(words)
    long_ = (n_tokens > _LONG).astype(float)[:, None]
    length = (np.log1p(n_tokens) / 6.0)[:, None]
    return np.hstack([phrase * (1 - long_), phrase * long_, words * (1 - long_), words * long_, long_, length])


def _fingerprint(path: str | None) -> tuple:
    if not path:
        return ()
    st = os.stat(path)
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    return (path, st.st_size, digest)


def features(tokens, words, m, matcher, space, rows=None):
    """The model's features of tokenised texts (``m``: their seed hits); ``space=None`` fits the
    word vocabulary on them and returns ``(space, X)``, else returns ``X``. ``rows`` (a boolean
    mask): the word vectors are computed for those texts only (the others' are zeros)."""
    n_docs = len(tokens.offsets) - 1
    ft = tg._feature_tokens(tokens, words, tg._Matches.empty())
    S = seed_features(m, np.diff(tokens.offsets), matcher.phrase_seeds, len(matcher.ids))
    parts = [sp.csr_matrix(S)]
    if VECTOR_WEIGHT:
        parts.append(sp.csr_matrix(VECTOR_WEIGHT * doc_vectors(tokens, load_vectors(VECTORS), rows)))
    if PER_SEED:
        ones = np.ones(len(m.doc))
        parts.append(sp.csr_matrix((ones, (m.doc, m.seed)), shape=(n_docs, len(matcher.seed_list))).minimum(1.0))
    if space is None:
        fitted = tg._FeatureSpace.fit([ft], n_docs)
        if fitted is None:
            return None, None
        space, M = fitted
        return space, sp.hstack([M] + parts, format="csr")
    return sp.hstack([space.transform(ft, n_docs)] + parts, format="csr")


def _featurize_texts(texts: list[str], taxonomy):
    matcher = tg._matcher_for(taxonomy)
    tokens = tokenize_many(texts)
    words = tg._word_table(tokens.vocabulary)
    return features(tokens, words, matcher.match_many(tokens, words), matcher, None)


#: Fitted models by (taxonomy, excluded texts, random_state, labels file's fingerprint); at most 8.
_MODELS: dict[tuple, SupervisedModel | None] = {}
_MODELS_SIZE = 8
#: Fits started ahead by :func:`fitting_ahead`, by the same key.
_AHEAD: dict[tuple, Forked] = {}


def fit_supervised(taxonomy, exclude: frozenset[str], random_state: int = 0) -> SupervisedModel | None:
    """Train on the shipped examples (less the ``exclude`` texts) plus the taxonomy's labels file.

    Cached by its arguments (and the labels file's content) in this process; a fit started ahead
    by :func:`fitting_ahead` is waited for rather than repeated."""
    key = (taxonomy, exclude, random_state, _fingerprint(taxonomy.labels))
    if key not in _MODELS:
        ahead = _AHEAD.pop(key, None)
        model = ahead.result() if ahead is not None else _fit(*key)
        while len(_MODELS) >= _MODELS_SIZE:
            _MODELS.pop(next(iter(_MODELS)))
        _MODELS[key] = model
    return _MODELS[key]


def clear_cache() -> None:
    """Forget the fitted models (a benchmark that changes the shipped examples or the features)."""
    _MODELS.clear()


@contextlib.contextmanager
def fitting_ahead(taxonomy, random_state: int = 0) -> Iterator[None]:
    """Fit, in a forked child, the model the tagger's ``fit`` will ask :func:`fit_supervised` for
    while this process reads and cleans the month (1.5 s at every run, on the other core).

    The model usually needed has nothing excluded: a month's comments seldom include the shipped
    examples' texts (when they do, the tagger fits its own model and this one is let go). Nothing
    starts when the model is already cached, or when :class:`~feedbacklib.forking.Forked` cannot fork
    (it is then fitted when asked for, as without this block); a fit not asked for by the end of the
    block is stopped.
    """
    key = (taxonomy, frozenset[str](), random_state, _fingerprint(taxonomy.labels))
    started = None
    if key not in _MODELS and key not in _AHEAD:
        started = Forked(_fit, *key)
        if started.forked:
            _AHEAD[key] = started
        else:
            started = None
    try:
        yield
    finally:
        if started is not None and _AHEAD.get(key) is started:  # not asked for
            _AHEAD.pop(key).cancel()


def _fit(taxonomy, exclude, random_state, _labels_key) -> SupervisedModel | None:
    ids = list(taxonomy.ids)
    shipped = shipped_examples()
    shipped = shipped[~shipped["text"].isin(exclude)]
    texts = shipped["text"].tolist()
    # labels per theme: True/False, or missing (NaN) where a source does not label the theme
    Y = np.full((len(texts), len(ids)), np.nan)
    for k, t in enumerate(ids):
        if t in shipped.columns:
            Y[:, k] = shipped[t].to_numpy(dtype=float)
    weight = np.ones(len(texts))
    n_analyst = 0
    if taxonomy.labels:
        mine = read_labels(taxonomy.labels, ids)
        Ya = np.full((len(mine.texts), len(ids)), np.nan)
        for k, t in enumerate(ids):
            if t in mine.labels.columns:
                Ya[:, k] = mine.labels[t].to_numpy(dtype=float)
        texts += mine.texts.tolist()
        Y = np.vstack([Y, Ya])
        weight = np.concatenate([weight, np.full(len(mine.texts), ANALYST_WEIGHT)])
        n_analyst = len(mine.texts)
    if not texts:
        return None
    space, X = _featurize_texts(texts, taxonomy)
    if space is None:
        return None
    is_analyst = np.arange(len(texts)) >= len(texts) - n_analyst
    cols, Ws, bs, thr = [], [], [], []
    for k in range(len(ids)):
        has = ~np.isnan(Y[:, k])
        y = Y[has, k].astype(bool)
        if y.sum() < MIN_POSITIVES or (~y).sum() < MIN_POSITIVES:
            continue
        Xk, wk = X[has], weight[has]
        model = _lr(random_state).fit(Xk, y, sample_weight=wk)
        cols.append(k)
        Ws.append(model.coef_[0])
        bs.append(model.intercept_[0])
        on = is_analyst[has] if (ANALYST_THRESHOLD and n_analyst) else None
        thr.append(_rate_threshold(Xk, y, wk, random_state, on=on))
    if not cols:
        return None
    return SupervisedModel(space=space, themes=tuple(cols), W=np.stack(Ws, axis=1), b=np.array(bs),
                           thresholds=np.array(thr), n_train=len(texts), n_analyst=n_analyst)


def _lr(random_state: int) -> LogisticRegression:
    return LogisticRegression(C=C, class_weight="balanced", solver="liblinear", random_state=random_state,
                              max_iter=1000)


def _rate_threshold(X, y: np.ndarray, w: np.ndarray, random_state: int, on: np.ndarray | None = None) -> float:
    """The threshold at which out-of-fold predictions are as many (weighted) as the positives
    (``on``: counting only those rows, the analyst's, when they hold at least 2 positives)."""
    folds = StratifiedKFold(n_splits=min(_FOLDS, int(y.sum()), int((~y).sum())), shuffle=True,
                            random_state=random_state)
    oof = np.zeros(len(y))
    for tr, te in folds.split(np.zeros(len(y)), y):
        oof[te] = _lr(random_state).fit(X[tr], y[tr], sample_weight=w[tr]).predict_proba(X[te])[:, 1]
    if on is not None and y[on].sum() >= 2:
        oof, y, w = oof[on], y[on], w[on]
    order = np.argsort(-oof, kind="stable")
    target = float(w[y].sum())
    cum = np.cumsum(w[order])
    k = int(np.searchsorted(cum, target))  # predictions above the threshold weigh about ``target``
    k = min(max(k, 0), len(y) - 1)
    hi = oof[order[k]]
    lo = oof[order[k + 1]] if k + 1 < len(y) else 0.0
    t = (hi + lo) / 2 if hi > lo else hi
    return float(t) if math.isfinite(t) else 0.5
