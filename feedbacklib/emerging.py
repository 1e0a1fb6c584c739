"""Emerging themes worth a reader's attention: one function for the report and the notebooks alike.

:class:`~feedbacklib.themes.discovery.ThemeDiscovery` clusters the comments no
theme covers. Not every cluster is a theme: "yes", "ok, nothing special" and
"all good" form groups too. :func:`find_emerging` fits the discovery on the
month's uncovered comments, drops groups whose comments carry no content word
(only stop words and filler such as "ok", "yes", "good", "fine"), never shows
the same quote twice, and matches each candidate to last month's candidates so
one that was already there keeps last month's label.
"""

from __future__ import annotations

import dataclasses
import logging
import re

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS
from .themes.discovery import ThemeDiscovery
from .themes.discovery import candidate_growth

__all__ = ["find_emerging", "has_content_word", "meaningful_candidates", "FILLER_WORDS",
           "K_MIN", "K_MAX", "FIT_SAMPLE", "MIN_CONTENT_SHARE"]

log = logging.getLogger(__name__)

#: The range of groups looked for, and the sample the discovery is fitted on (same in report and notebook).
K_MIN, K_MAX = 3, 8
FIT_SAMPLE = 5_000
#: A group is a theme only when at least this share of its comments has a content word.
MIN_CONTENT_SHARE = 0.5
#: Words that say how it went but not what about: not content words.
FILLER_WORDS = frozenset("""
ok okay yes yeah yep yup no nope good fine great average special thanks thank thx cheers nothing alright
went did does done job really just bit lot quite pretty nice bad worse better excellent brilliant na n/a
complaint complaints happy satisfied sure thing things time today overall everything anything ty
""".split())
_WORD = re.compile(r"[a-z][a-z']+")


def has_content_word(text: object) -> bool:
    """True when ``text`` has a word that is neither a stop word nor filler ("ok", "yes", "good", ...).

    >>> has_content_word("It was ok, nothing special."), has_content_word("No dial tone on the landline.")
    (False, True)
    """
    if not isinstance(text, str):
        return False
    return any(w not in ENGLISH_STOP_WORDS and w.strip("'") not in FILLER_WORDS and len(w) > 2
               for w in _WORD.findall(text.lower()))


def _norm(text: str) -> str:
    return " ".join(str(text).lower().split()).strip(" .!?")


def meaningful_candidates(discovery, texts: pd.Series, *, min_content_share: float = MIN_CONTENT_SHARE) -> list:
    """The fitted ``discovery``'s candidates that are themes, each with quotes no other candidate shows.

    A candidate is dropped when fewer than half of the terms naming it ("yes / warning / went")
    are content words, or when fewer than ``min_content_share`` of the ``texts`` assigned to it
    have one (see :func:`has_content_word`).
    Quotes repeated across candidates (or within one) are shown once, with the first candidate.
    """
    texts = pd.Series(list(texts), dtype=object)
    labels = np.asarray(discovery.predict(texts)) if len(texts) else np.zeros(0, dtype=int)
    content = np.array([has_content_word(t) for t in texts], dtype=bool)
    seen: set[str] = set()
    kept = []
    for cand in discovery.candidates_:
        mine = labels == cand.cluster
        share = float(content[mine].mean()) if mine.any() else 0.0
        named = [t for t in cand.label.split(" / ") if t] or list(cand.terms[:3])
        if sum(has_content_word(t) for t in named) * 2 < len(named) or share < min_content_share:
            log.info("emerging themes: '%s' left out (%.0f%% of its comments have a content word)", cand.label,
                     100 * share)
            continue
        quotes = []
        for q in cand.quotes:
            key = _norm(q)
            if key and key not in seen and has_content_word(q):
                seen.add(key)
                quotes.append(q)
        kept.append(dataclasses.replace(cand, quotes=tuple(quotes)))
    return kept


def _fit(texts: pd.Series, random_state: int = 0):

    fit_on = texts.sample(FIT_SAMPLE, random_state=random_state) if len(texts) > FIT_SAMPLE else texts
    return ThemeDiscovery(k_min=K_MIN, k_max=K_MAX, n_quotes=4, random_state=random_state).fit(fit_on)


def _majority(labels: np.ndarray) -> tuple[int, float]:
    labels = labels[labels >= 0]
    if not len(labels):
        return -1, 0.0
    values, counts = np.unique(labels, return_counts=True)
    return int(values[counts.argmax()]), float(counts.max() / len(labels))


def _carry_labels(discovery, candidates: list, current: pd.Series, previous: pd.Series,
                  random_state: int = 0) -> tuple[list, dict]:
    """Candidates matched to last month's keep last month's label.

    Last month's uncovered comments are clustered the same way; a candidate and one of
    last month's match when most (half or more) of each one's comments fall in the
    other. Returns the candidates (matched ones relabelled) and {cluster: last month's label}.
    """
    previous = pd.Series(list(previous), dtype=object)
    if len(previous) < 30 or not candidates:
        return candidates, {}
    try:
        before = _fit(previous, random_state)
    except ValueError:
        return candidates, {}
    prev_ok = {c.cluster: c for c in meaningful_candidates(before, previous)}
    if not prev_ok:
        return candidates, {}
    now_labels = np.asarray(discovery.predict(current))
    now_under_before = np.asarray(before.predict(current))
    prev_labels = np.asarray(before.predict(previous))
    prev_under_now = np.asarray(discovery.predict(previous))
    out, matched = [], {}
    for cand in candidates:
        p, share = _majority(now_under_before[now_labels == cand.cluster])
        back, back_share = _majority(prev_under_now[prev_labels == p]) if p in prev_ok else (-1, 0.0)
        if p in prev_ok and share >= 0.5 and back == cand.cluster and back_share >= 0.5:
            matched[cand.cluster] = prev_ok[p].label
            cand = dataclasses.replace(cand, label=prev_ok[p].label)
        out.append(cand)
    return out, matched


def find_emerging(current: pd.Series, past_texts: pd.Series | None = None, past_months=None, *, month: str,
                  previous_month: str | None = None, random_state: int = 0) -> tuple[list, pd.DataFrame]:
    """Candidate themes among ``current`` (the month's uncovered comments), with their growth.

    ``past_texts``/``past_months``: earlier months' uncovered comments (e.g. the history
    store's sample). Returns (candidates, growth), both empty when fewer than 30 comments
    are uncovered or none has a word to cluster on. A candidate that matches one of
    ``previous_month``'s candidates keeps that candidate's label (``growth["seen_before"]``).
    """

    current = pd.Series(list(current), dtype=object)
    current = current[current.map(lambda t: isinstance(t, str) and bool(t.strip()))].reset_index(drop=True)
    if len(current) < 30:
        return [], pd.DataFrame()
    try:
        discovery = _fit(current, random_state)
    except ValueError as exc:  # e.g. "ok" and "yes" only: no word to cluster on
        log.info("emerging themes: not looked for (%s)", str(exc).split(",")[0])
        return [], pd.DataFrame()
    candidates = meaningful_candidates(discovery, current)
    past_texts = pd.Series([], dtype=object) if past_texts is None else pd.Series(list(past_texts), dtype=object)
    past_months = [] if past_months is None else [str(m) for m in past_months]
    texts = pd.concat([past_texts, current], ignore_index=True)
    months = [*past_months, *([month] * len(current))]
    growth = candidate_growth(discovery, texts, months, current=month)
    keep = {c.cluster for c in candidates}
    growth = growth[growth["cluster"].isin(keep)].reset_index(drop=True) if len(growth) else growth
    previous = past_texts[[m == previous_month for m in past_months]] if previous_month else pd.Series([], dtype=object)
    candidates, matched = _carry_labels(discovery, candidates, current, previous, random_state)
    if len(growth):
        growth["seen_before"] = [matched.get(int(c), "") for c in growth["cluster"]]
    return candidates, growth
