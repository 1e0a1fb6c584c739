"""Choosing quotes that represent a theme, not the longest or the first comment.

For a theme, the comments that carry it are embedded with TF-IDF and ranked by
cosine similarity to their centroid: the top ones say what most of them say.
Near-duplicates are skipped, and very short or very long comments are avoided
so a quote reads well in a report.

The candidates are the theme's distinct texts in the order of a 64-bit hash of
the text (then the text); above ``max_pool`` of them, the ``max_pool`` with the
smallest hashes (a bottom-k sample: the same whatever the order or the split
of the rows). :class:`QuotePartial` keeps those candidates per part of a month,
and the parts add up to the month's candidates, so the quotes chosen from the
sum are the month's quotes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer

from .additive import Additive
from .schema import PLATFORM, RESPONSE_ID, SOURCE, TEAM, TEXT, theme_column
from .stats import text_mask

__all__ = ["representative_quotes", "theme_quotes", "QuotePartial", "quote_partial", "theme_quotes_from_partial",
           "text_hashes", "QUOTE_THEME_COLUMNS", "QUOTE_COLUMNS", "MIN_CHARS", "MAX_CHARS", "MAX_POOL"]

#: Columns of the first table of :func:`theme_quotes` (one row per quoted theme, most frequent first).
QUOTE_THEME_COLUMNS = ("theme", "comments")
#: Columns of the second table of :func:`theme_quotes` (one row per chosen quote).
QUOTE_COLUMNS = ("theme", TEXT, TEAM, SOURCE)
#: A quote reads well between these lengths; the candidates ranked per theme.
MIN_CHARS, MAX_CHARS, MAX_POOL = 25, 400, 5_000

_HASH = "_hash"
_IN_RANGE = "_in_range"


def text_hashes(texts: pd.Series) -> np.ndarray:
    """A 64-bit hash of each text (``pandas.util.hash_pandas_object``, fixed key): the order of the
    candidates and of the bottom-k samples, independent of where the rows are."""
    return pd.util.hash_pandas_object(texts.astype(str), index=False).to_numpy(dtype=np.uint64)


def _in_hash_order(pool: pd.DataFrame) -> pd.DataFrame:
    return pool.sort_values([_HASH, TEXT], kind="mergesort").reset_index(drop=True)


def _rank(pool: pd.Series, k: int) -> list[int]:
    """Positions of the ``k`` most representative texts of ``pool`` (distinct texts, in hash order)."""
    if len(pool) <= 1:
        return list(range(min(k, len(pool))))
    try:
        matrix = TfidfVectorizer(sublinear_tf=True, stop_words="english", min_df=1).fit_transform(pool)
    except ValueError:  # only stop words: nothing to rank by
        return list(range(min(k, len(pool))))
    centroid = np.asarray(matrix.mean(axis=0)).ravel()
    norm = np.linalg.norm(centroid) or 1.0
    scores = matrix @ (centroid / norm)
    order = np.argsort(-scores, kind="stable")
    chosen: list[int] = []
    for i in order:
        row = matrix[i]
        if any((row @ matrix[j].T).toarray()[0, 0] > 0.8 for j in chosen):
            continue  # a near-duplicate of a quote already chosen
        chosen.append(int(i))
        if len(chosen) == k:
            break
    return chosen


def _pool(candidates: pd.DataFrame, k: int, max_pool: int) -> pd.DataFrame:
    """The texts ranked: the distinct texts of a readable length (all texts when fewer than ``k``),
    the ``max_pool`` smallest hashes, in hash order. ``candidates`` holds distinct texts with their
    hash and whether their length is readable."""
    readable = candidates[candidates[_IN_RANGE].to_numpy(dtype=bool)]
    pool = readable if len(readable) >= k else candidates
    return _in_hash_order(pool).head(max_pool)


def representative_quotes(
    texts: pd.Series,
    k: int = 3,
    *,
    min_chars: int = MIN_CHARS,
    max_chars: int = MAX_CHARS,
    max_pool: int = MAX_POOL,
) -> pd.Series:
    """The ``k`` most representative texts of ``texts`` (index of each text's first occurrence).

    Deterministic: duplicate texts count once, candidates are ranked in the order of
    :func:`text_hashes` (ties broken by it), and above ``max_pool`` distinct candidates
    the ``max_pool`` with the smallest hashes are ranked.

    >>> s = pd.Series(["on hold for an hour", "on hold for ages again", "kept on hold forever", "ok"])
    >>> representative_quotes(s, 2, min_chars=5).size
    2
    """
    texts = texts.dropna().astype(str)
    texts = texts[text_mask(texts)]
    if texts.empty or k <= 0:
        return texts.iloc[0:0]
    texts = texts[~texts.duplicated()]
    lengths = texts.str.len()
    candidates = pd.DataFrame({TEXT: texts.to_numpy(), "_index": np.arange(len(texts)), _HASH: text_hashes(texts),
                               _IN_RANGE: ((lengths >= min_chars) & (lengths <= max_chars)).to_numpy()})
    pool = _pool(candidates, k, max_pool)
    chosen = pool["_index"].to_numpy()[_rank(pool[TEXT], k)]
    return texts.iloc[chosen]


# --------------------------------------------------------------------------- #
# Mergeable candidates (issue 19)
# --------------------------------------------------------------------------- #
@dataclass(frozen=True, eq=False)
class QuotePartial(Additive):
    """What :func:`theme_quotes` needs of a set of rows; add two to pool their rows.

    Attributes
    ----------
    counts : dict of str to int
        Tagged rows per theme (``skip`` themes left out).
    candidates : pandas.DataFrame
        Per theme its distinct texts with the team and source of the text's first row in the
        order (response id, platform): ``theme, text, team, source, response_id, platform``, the
        text's hash and whether its length reads well. Per theme at most ``max_pool`` readable
        texts (smallest hashes) and, while fewer than ``k`` texts are readable, at most
        ``max_pool`` others: the month's quotes are chosen from them.
    """

    k: int
    max_pool: int
    counts: dict[str, int] = field(default_factory=dict)
    candidates: pd.DataFrame = field(default_factory=pd.DataFrame)

    def __add__(self, other: QuotePartial) -> QuotePartial:
        if (self.k, self.max_pool) != (other.k, other.max_pool):
            raise ValueError(f"Cannot add quote partials built with k, max_pool = {self.k}, {self.max_pool} and "
                             f"{other.k}, {other.max_pool}: build every part with the same arguments.")
        counts = {t: self.counts.get(t, 0) + other.counts.get(t, 0) for t in dict.fromkeys([*self.counts,
                                                                                             *other.counts])}
        both = pd.concat([self.candidates, other.candidates], ignore_index=True)
        return QuotePartial(self.k, self.max_pool, counts, _prune(both, self.k, self.max_pool))


    @property
    def nbytes(self) -> int:
        return int(self.candidates.memory_usage(deep=True).sum())


def _prune(candidates: pd.DataFrame, k: int, max_pool: int) -> pd.DataFrame:
    """Per theme: one row per text (the first in response id and platform order), the ``max_pool``
    readable texts with the smallest hashes, and the other texts only while fewer than ``k`` are readable."""
    if candidates.empty:
        return candidates
    rows = candidates.sort_values(["theme", _HASH, TEXT, RESPONSE_ID, PLATFORM], kind="mergesort",
                                  na_position="last")
    rows = rows.drop_duplicates(["theme", TEXT])
    readable = rows[_IN_RANGE].to_numpy(dtype=bool)
    kept = [rows[readable].groupby("theme", sort=False).head(max_pool)]
    enough = kept[0].groupby("theme").size()
    enough = set(enough[enough >= k].index)
    others = rows[~readable & ~rows["theme"].isin(enough).to_numpy(dtype=bool)]
    kept.append(others.groupby("theme", sort=False).head(max_pool))
    return pd.concat(kept).sort_values(["theme", _HASH, TEXT], kind="mergesort").reset_index(drop=True)


def _col(frame: pd.DataFrame, column: str) -> pd.Series:
    return frame[column] if column in frame.columns else pd.Series(pd.NA, index=frame.index, dtype="string")


def _bottom_ranks(ranks: np.ndarray, readable: np.ndarray, k: int, max_pool: int, n_ranks: int) -> np.ndarray:
    """Which rows of one theme (their text hashes' ranks among the distinct hashes, ``0 .. n_ranks - 1`` in
    hash order; their readable lengths) :func:`_prune` can keep: the readable rows whose hash is at most the
    ``max_pool``-th smallest distinct readable hash, and the other rows while fewer than ``k`` readable
    candidates are kept (pruned the same way). A superset of what :func:`_prune` keeps (all rows of a text
    share its hash, and at least ``max_pool`` distinct texts come before any row left out), so pruning it
    gives the same candidates without sorting every tagged row's text, nor the theme's hashes
    (``tests/reference/quotes_rows.py`` keeps the sorting version this equals)."""

    def bottom(mask: np.ndarray) -> tuple[np.ndarray, int]:
        present = np.zeros(n_ranks, dtype=bool)
        present[ranks[mask]] = True
        distinct = np.flatnonzero(present)
        if len(distinct) <= max_pool:
            return mask, len(distinct)
        return mask & (ranks <= distinct[max_pool - 1]), len(distinct)

    keep, n_readable = bottom(readable)
    if min(n_readable, max_pool) < k:
        keep = keep | bottom(~readable)[0]
    return keep


def quote_partial(frame: pd.DataFrame, themes: list[str], k: int = 3, *, skip: tuple[str, ...] = ("praise",),
                  max_pool: int = MAX_POOL) -> QuotePartial:
    """The :class:`QuotePartial` of ``frame`` (a month, or one part of it)."""
    counts, parts = {}, []
    text = _col(frame, TEXT)
    ok = text_mask(text)
    flag_of = {theme: frame[theme_column(theme)].to_numpy(dtype=bool) for theme in themes if theme not in skip}
    # only the columns a candidate keeps: taking every column of the frame per theme cost seconds at 1M
    frame = frame[[c for c in (TEXT, TEAM, SOURCE, RESPONSE_ID, PLATFORM) if c in frame.columns]]
    # each text's hash and length once (not once per theme), and per theme only the rows that can
    # be among its bottom-k candidates (_bottom_ranks): sorting every tagged row by its text cost ~20 s at 1M
    # (only of the rows some theme flags), and each text's rank among the distinct hashes: per theme the
    # bottom-k threshold is read off a presence array of ranks instead of sorting the theme's hashes
    flagged = np.zeros(len(frame), dtype=bool)
    for flags in flag_of.values():
        flagged |= flags
    texted = np.flatnonzero(ok & flagged)
    texts_ok = text.iloc[texted].astype(str)
    hashes = np.zeros(len(frame), dtype=np.uint64)
    hashes[texted] = text_hashes(texts_ok)
    hash_values, rank_of = np.unique(hashes[texted], return_inverse=True)
    ranks = np.zeros(len(frame), dtype=np.int64)
    ranks[texted] = rank_of.reshape(-1)
    lengths = np.zeros(len(frame), dtype=np.int64)
    lengths[texted] = texts_ok.str.len().to_numpy(dtype=np.int64)
    in_range = (lengths >= MIN_CHARS) & (lengths <= MAX_CHARS)
    for theme in themes:
        if theme in skip:
            continue
        flags = flag_of[theme]
        counts[theme] = int(flags.sum())
        rows = np.flatnonzero(flags & ok)
        if not len(rows):
            continue
        rows = rows[_bottom_ranks(ranks[rows], in_range[rows], k, max_pool, len(hash_values))]
        sub = frame.iloc[rows]
        parts.append(pd.DataFrame({
            "theme": theme, TEXT: sub[TEXT].reset_index(drop=True), TEAM: _col(sub, TEAM).reset_index(drop=True),
            SOURCE: _col(sub, SOURCE).reset_index(drop=True),
            RESPONSE_ID: _col(sub, RESPONSE_ID).astype("string").reset_index(drop=True),
            PLATFORM: _col(sub, PLATFORM).astype("string").reset_index(drop=True),
            _HASH: hashes[rows], _IN_RANGE: in_range[rows]}))
    candidates = _prune(pd.concat(parts, ignore_index=True), k, max_pool) if parts else pd.DataFrame(
        columns=["theme", TEXT, TEAM, SOURCE, RESPONSE_ID, PLATFORM, _HASH, _IN_RANGE])
    return QuotePartial(int(k), int(max_pool), counts, candidates)


def theme_quotes_from_partial(partial: QuotePartial, *, top: int = 5) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`theme_quotes` from a :class:`QuotePartial` (of the month, or added up from its parts)."""
    chosen = [t for t, n in sorted(partial.counts.items(), key=lambda kv: -kv[1]) if n > 0][:top]
    counts, parts = [], []
    cands = partial.candidates
    for theme in chosen:
        counts.append((theme, partial.counts[theme]))
        mine = cands[(cands["theme"] == theme).to_numpy(dtype=bool)] if len(cands) else cands
        if mine.empty:
            continue
        pool = _pool(mine, partial.k, partial.max_pool)
        picked = pool.iloc[_rank(pool[TEXT], partial.k)]
        parts.append(picked[[TEXT, TEAM, SOURCE]].assign(theme=theme))
    quotes = (pd.concat(parts, ignore_index=True) if parts
              else pd.DataFrame({c: pd.Series(dtype=object) for c in QUOTE_COLUMNS}))
    return (pd.DataFrame(counts, columns=list(QUOTE_THEME_COLUMNS)),
            quotes[list(QUOTE_COLUMNS)].reset_index(drop=True))


def theme_quotes(frame: pd.DataFrame, themes: list[str], k: int = 3, *, top: int = 5,
                 skip: tuple[str, ...] = ("praise",)) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``top`` most frequent themes of ``frame`` (``skip`` left out) and ``k`` representative quotes of each.

    Returns ``(themes, quotes)``: per theme with at least one comment, most frequent first
    (ties in taxonomy order), its number of tagged rows (``QUOTE_THEME_COLUMNS``); and per chosen
    quote its theme, text, team and source as they are in ``frame`` (already PII-redacted;
    ``QUOTE_COLUMNS``; a text several rows share takes the team and source of the first in
    response id and platform order), in the theme's order and then :func:`representative_quotes`' order.
    Computed from the rows' :class:`QuotePartial`, so a month split into parts gives the same quotes.
    """
    return theme_quotes_from_partial(quote_partial(frame, themes, k, skip=skip), top=top)
