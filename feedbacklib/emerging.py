"""Emerging themes worth a reader's attention: one function for the report and the notebooks alike.

:class:`~feedbacklib.themes.discovery.ThemeDiscovery` clusters the comments no
theme covers. Not every cluster is a theme: "yes", "ok, nothing special" and
"all good" form groups too. :func:`find_emerging` fits the discovery on the
month's uncovered comments, drops groups whose comments carry no content word
(only stop words and filler such as "ok", "yes", "good", "fine"), never shows
the same quote twice, and matches each candidate to last month's candidates so
one that was already there keeps last month's label.

Mergeable (issue 19): the discovery is fitted on a bottom-k sample (the texts with the
smallest 64-bit hashes, :class:`UncoveredPartial`, which parts of a month add up), and
everything else it needs of the month's comments (how many fall in each candidate, how many
have a content word, where last month's model puts them) is counted per part with the
fitted models (:class:`EmergingCounts`) and added up: :func:`find_emerging` is
:func:`fit_emerging`, :func:`emerging_counts` and :func:`emerging_from_counts` on one part.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS
from .additive import Additive
from . import schema as S
from .themes.discovery import ThemeDiscovery, growth_table, uncovered_texts

__all__ = ["find_emerging", "has_content_word", "meaningful_candidates", "FILLER_WORDS",
           "K_MIN", "K_MAX", "FIT_SAMPLE", "MIN_CONTENT_SHARE", "bottom_k_texts", "UncoveredPartial",
           "uncovered_partial", "EmergingModels", "fit_emerging", "EmergingCounts", "emerging_counts",
           "emerging_from_counts"]

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
    shares = {}
    for cand in discovery.candidates_:
        mine = labels == cand.cluster
        shares[cand.cluster] = float(content[mine].mean()) if mine.any() else 0.0
    return _meaningful(discovery, shares, min_content_share)


def _meaningful(discovery, shares: dict[int, float], min_content_share: float = MIN_CONTENT_SHARE) -> list:
    """:func:`meaningful_candidates` from each candidate's share of comments with a content word."""
    seen: set[str] = set()
    kept = []
    for cand in discovery.candidates_:
        share = shares.get(cand.cluster, 0.0)
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


def _nonempty(texts) -> pd.Series:
    texts = pd.Series(list(texts), dtype=object)
    # the test once per distinct value (a month's uncovered comments repeat), spread back to the rows
    codes, distinct = pd.factorize(texts.to_numpy(dtype=object), use_na_sentinel=False)
    said = np.array([isinstance(t, str) and bool(t.strip()) for t in distinct], dtype=bool)
    return texts[said[codes]].reset_index(drop=True) if len(texts) else texts


def _hashes(frame: pd.DataFrame) -> np.ndarray:
    return pd.util.hash_pandas_object(frame.astype(str), index=False).to_numpy(dtype=np.uint64)


def bottom_k_texts(texts, k: int = FIT_SAMPLE) -> pd.Series:
    """The ``k`` texts with the smallest 64-bit hashes (copies of a text count each), in hash order:
    a sample that does not depend on the order or the split of the texts."""
    texts = pd.Series(list(texts), dtype=object)
    table = pd.DataFrame({"text": texts.astype(str), "h": _hashes(texts.to_frame())})
    table = table.sort_values(["h", "text"], kind="mergesort").head(k)
    return texts.loc[table.index].reset_index(drop=True)


def _fit(texts: pd.Series, random_state: int = 0):
    fit_on = bottom_k_texts(texts, FIT_SAMPLE) if len(texts) > FIT_SAMPLE else texts
    return ThemeDiscovery(k_min=K_MIN, k_max=K_MAX, n_quotes=4, random_state=random_state).fit(fit_on)


def _majority(labels: np.ndarray) -> tuple[int, float]:
    labels = labels[labels >= 0]
    if not len(labels):
        return -1, 0.0
    values, counts = np.unique(labels, return_counts=True)
    return int(values[counts.argmax()]), float(counts.max() / len(labels))


def _majority_of_counts(labels: np.ndarray, counts: np.ndarray) -> tuple[int, float]:
    """:func:`_majority` of the labels ``labels`` repeated ``counts`` times."""
    ok = (labels >= 0) & (counts > 0)
    labels, counts = labels[ok], counts[ok]
    if not len(labels):
        return -1, 0.0
    order = np.argsort(labels, kind="stable")
    labels, counts = labels[order], counts[order]
    values, inverse = np.unique(labels, return_inverse=True)
    summed = np.bincount(inverse, weights=counts).astype(np.int64)
    return int(values[summed.argmax()]), float(summed.max() / summed.sum())


# --------------------------------------------------------------------------- #
# Mergeable pieces
# --------------------------------------------------------------------------- #
_TEXT, _HASH = S.TEXT, "_hash"


@dataclass(frozen=True, eq=False)
class UncoveredPartial(Additive):
    """The comments of a set of rows that no theme covers: how many (``total``) and the ``k`` of them
    with the smallest row hashes (text, response id, platform), in hash order (``sample``:
    ``text`` and ``_hash``). Add two to pool their rows: the sample of the sum is the sample of
    the union, whatever the split."""

    k: int
    total: int = 0
    sample: pd.DataFrame = field(default_factory=lambda: pd.DataFrame({_TEXT: pd.Series(dtype=object),
                                                                       _HASH: pd.Series(dtype=np.uint64)}))

    def __add__(self, other: UncoveredPartial) -> UncoveredPartial:
        if self.k != other.k:
            raise ValueError(f"Cannot add uncovered-comment samples of {self.k} and {other.k} comments: build "
                             "every part with the same k.")
        both = pd.concat([self.sample, other.sample], ignore_index=True)
        return UncoveredPartial(self.k, self.total + other.total, _bottom(both, self.k))


    @property
    def texts(self) -> pd.Series:
        """The sampled texts, in hash order."""
        return self.sample[_TEXT].astype(object).reset_index(drop=True)

    @property
    def nbytes(self) -> int:
        return int(self.sample.memory_usage(deep=True).sum())


def _bottom(table: pd.DataFrame, k: int) -> pd.DataFrame:
    return table.sort_values([_HASH, _TEXT], kind="mergesort").head(k).reset_index(drop=True)


def uncovered_partial(frame: pd.DataFrame, k: int = FIT_SAMPLE) -> UncoveredPartial:
    """The :class:`UncoveredPartial` of ``frame`` (a month, or one part of it; the output of the tagger)."""
    if _TEXT not in frame.columns:
        return UncoveredPartial(k)
    texts = uncovered_texts(frame)
    keys = frame.loc[texts.index, [c for c in (_TEXT, S.RESPONSE_ID, S.PLATFORM) if c in frame.columns]]
    table = pd.DataFrame({_TEXT: texts.astype(str).to_numpy(dtype=object), _HASH: _hashes(keys)})
    return UncoveredPartial(k, len(texts), _bottom(table, k))


@dataclass(frozen=True, eq=False)
class EmergingModels:
    """The month's discovery (fitted on the sample of uncovered comments), and last month's
    (fitted on last month's sample, None when it has fewer than 30 comments or nothing to cluster)."""

    discovery: ThemeDiscovery
    before: ThemeDiscovery | None
    previous: pd.Series


def fit_emerging(fit_on, n_current: int, past_texts=None, past_months=None, *, previous_month: str | None = None,
                 random_state: int = 0) -> EmergingModels | None:
    """The models :func:`emerging_counts` applies to each part: None when fewer than 30 of the
    month's comments (``n_current``) are uncovered or none has a word to cluster on.

    ``fit_on``: the sample of the month's uncovered comments (:attr:`UncoveredPartial.texts`).
    """
    fit_on = _nonempty(fit_on)
    if n_current < 30 or len(fit_on) == 0:
        return None
    try:
        discovery = _fit(fit_on, random_state)
    except ValueError as exc:  # e.g. "ok" and "yes" only: no word to cluster on
        log.info("emerging themes: not looked for (%s)", str(exc).split(",")[0])
        return None
    past_texts = pd.Series([], dtype=object) if past_texts is None else pd.Series(list(past_texts), dtype=object)
    past_months = [] if past_months is None else [str(m) for m in past_months]
    previous = (past_texts[[m == previous_month for m in past_months]].reset_index(drop=True) if previous_month
                else pd.Series([], dtype=object))
    before = None
    if len(previous) >= 30:
        try:
            before = _fit(previous, random_state)
        except ValueError:
            before = None
    return EmergingModels(discovery, before, previous)


@dataclass(frozen=True, eq=False)
class EmergingCounts(Additive):
    """Per (candidate, last month's candidate, has a content word) how many of a set of uncovered
    comments fall there (``table``: ``now, before, content, n``; -1: no candidate, -2: no model
    of last month), and how many comments were counted (``texts``). Add two to pool them."""

    texts: int
    table: pd.DataFrame

    def __add__(self, other: EmergingCounts) -> EmergingCounts:
        both = pd.concat([self.table, other.table], ignore_index=True)
        table = both.groupby(["now", "before", "content"], sort=True)["n"].sum().reset_index()
        return EmergingCounts(self.texts + other.texts, table)



def emerging_counts(texts, models: EmergingModels) -> EmergingCounts:
    """The :class:`EmergingCounts` of ``texts`` (uncovered comments of a month, or of one part of it)."""
    texts = _nonempty(texts)
    # the candidate, last month's candidate and the content word depend on the text alone: each is
    # found once per distinct text and counted with the text's copies (at 1M rows, 208k uncovered
    # comments were 33k distinct texts: predicting every copy cost ~5 s)
    codes, distinct = pd.factorize(texts.to_numpy(dtype=object), use_na_sentinel=False)
    copies = np.bincount(codes, minlength=len(distinct)).astype(np.int64)
    distinct = pd.Series(distinct, dtype=object)
    now = (np.asarray(models.discovery.predict(distinct), dtype=np.int64) if len(distinct)
           else np.zeros(0, np.int64))
    before = (np.asarray(models.before.predict(distinct), dtype=np.int64) if models.before is not None
              and len(distinct) else np.full(len(distinct), -2, dtype=np.int64))
    content = np.array([has_content_word(t) for t in distinct], dtype=bool)
    table = pd.DataFrame({"now": now, "before": before, "content": content, "n": copies})
    table = table.groupby(["now", "before", "content"], sort=True)["n"].sum().reset_index()
    return EmergingCounts(len(texts), table)


def _growth(discovery, counts: EmergingCounts, past_texts: pd.Series, past_months: list[str],
            month: str) -> pd.DataFrame:
    """:func:`~feedbacklib.themes.discovery.candidate_growth` of the past texts and the counted month."""
    labels = pd.Series(np.asarray(discovery.predict(past_texts), dtype=np.int64) if len(past_texts)
                       else np.zeros(0, np.int64))
    months = pd.Series(past_months, dtype=object)
    now = counts.table.groupby("now")["n"].sum()
    ok = labels >= 0
    table = pd.crosstab(labels[ok], months[ok]) if ok.any() else pd.DataFrame()
    if (now.index >= 0).any():
        col = now[now.index >= 0]
        table = table.reindex(index=sorted(set(table.index) | set(col.index)), fill_value=0)
        table[month] = col.reindex(table.index, fill_value=0).astype(np.int64)
        table = table[sorted(table.columns)]
    per_month = months.value_counts()
    if counts.texts:
        per_month[month] = counts.texts
    return growth_table(discovery, table, per_month, month)


def _carry_labels(models: EmergingModels, candidates: list, counts: EmergingCounts) -> tuple[list, dict]:
    """Candidates matched to last month's keep last month's label.

    Last month's uncovered comments are clustered the same way; a candidate and one of
    last month's match when most (half or more) of each one's comments fall in the
    other. Returns the candidates (matched ones relabelled) and {cluster: last month's label}.
    """
    before, previous = models.before, models.previous
    if before is None or not candidates:
        return candidates, {}
    prev_ok = {c.cluster: c for c in meaningful_candidates(before, previous)}
    if not prev_ok:
        return candidates, {}
    table = counts.table
    prev_labels = np.asarray(before.predict(previous))
    prev_under_now = np.asarray(models.discovery.predict(previous))
    out, matched = [], {}
    for cand in candidates:
        mine = table[(table["now"] == cand.cluster).to_numpy(dtype=bool)]
        p, share = _majority_of_counts(mine["before"].to_numpy(dtype=np.int64), mine["n"].to_numpy(dtype=np.int64))
        back, back_share = _majority(prev_under_now[prev_labels == p]) if p in prev_ok else (-1, 0.0)
        if p in prev_ok and share >= 0.5 and back == cand.cluster and back_share >= 0.5:
            matched[cand.cluster] = prev_ok[p].label
            cand = dataclasses.replace(cand, label=prev_ok[p].label)
        out.append(cand)
    return out, matched


def emerging_from_counts(models: EmergingModels | None, counts: EmergingCounts | None, past_texts=None,
                         past_months=None, *, month: str) -> tuple[list, pd.DataFrame]:
    """:func:`find_emerging`'s (candidates, growth) from the fitted models and the month's counts
    (added up from its parts)."""
    if models is None or counts is None:
        return [], pd.DataFrame()
    table = counts.table
    shares = {}
    for cand in models.discovery.candidates_:
        mine = table[(table["now"] == cand.cluster).to_numpy(dtype=bool)]
        n = int(mine["n"].sum())
        shares[cand.cluster] = float(mine.loc[mine["content"].to_numpy(dtype=bool), "n"].sum() / n) if n else 0.0
    candidates = _meaningful(models.discovery, shares)
    past_texts = pd.Series([], dtype=object) if past_texts is None else pd.Series(list(past_texts), dtype=object)
    past_months = [] if past_months is None else [str(m) for m in past_months]
    growth = _growth(models.discovery, counts, past_texts, past_months, month)
    keep = {c.cluster for c in candidates}
    growth = growth[growth["cluster"].isin(keep)].reset_index(drop=True) if len(growth) else growth
    candidates, matched = _carry_labels(models, candidates, counts)
    if len(growth):
        growth["seen_before"] = [matched.get(int(c), "") for c in growth["cluster"]]
    return candidates, growth


def find_emerging(current: pd.Series, past_texts: pd.Series | None = None, past_months=None, *, month: str,
                  previous_month: str | None = None, random_state: int = 0,
                  fit_on: pd.Series | None = None) -> tuple[list, pd.DataFrame]:
    """Candidate themes among ``current`` (the month's uncovered comments), with their growth.

    ``past_texts``/``past_months``: earlier months' uncovered comments (e.g. the history
    store's sample). Returns (candidates, growth), both empty when fewer than 30 comments
    are uncovered or none has a word to cluster on. A candidate that matches one of
    ``previous_month``'s candidates keeps that candidate's label (``growth["seen_before"]``).
    The discovery is fitted on ``fit_on`` (the report passes the month's
    :class:`UncoveredPartial` sample), by default on :func:`bottom_k_texts` of ``current``.
    """
    current = _nonempty(current)
    fit_on = bottom_k_texts(current, FIT_SAMPLE) if fit_on is None else fit_on
    models = fit_emerging(fit_on, len(current), past_texts, past_months, previous_month=previous_month,
                          random_state=random_state)
    if models is None:
        return [], pd.DataFrame()
    return emerging_from_counts(models, emerging_counts(current, models), past_texts, past_months, month=month)
