"""Tokenise, stem and scope negation: the small text toolkit shared by themes and sentiment.

Everything here works offline: the tokeniser is a regular expression, stems come
from nltk's Snowball stemmer (pure code, no model download) and stop words from
scikit-learn's ``ENGLISH_STOP_WORDS`` (nltk's stop-word corpus is not installed).

>>> tokenize("I was ON HOLD for an hour - didn't get a call back!")
['i', 'was', 'on', 'hold', 'for', 'an', 'hour', "didn't", 'get', 'a', 'call', 'back']
>>> stem_tokens(["charged", "twice"])
['charg', 'twice']
>>> split_clauses("The agent was lovely but I was charged twice.")
['The agent was lovely', 'but I was charged twice']
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from nltk.stem import SnowballStemmer
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

__all__ = [
    "NEGATORS",
    "STOP_WORDS",
    "tokenize",
    "token_spans",
    "stem",
    "stem_tokens",
    "is_negator",
    "split_clauses",
    "clause_spans",
    "scope_breaks",
    "negated_positions",
    "TokenArrays",
    "tokenize_many",
]

# Words (letters and digits) with inner apostrophes kept: "didn't", "o'clock".
# Explicit ASCII classes plus Latin-1/Latin Extended letters; other scripts are
# matched by the second alternative so that no text is silently dropped.
_TOKEN_RE = re.compile(r"[A-Za-z0-9\u00C0-\u024F]+(?:'[A-Za-z\u00C0-\u024F]+)*|[^\W\d_]+")
_APOSTROPHE_CHARS = ("\u2019", "\u2018", "\u02bc", "`")
_APOSTROPHES = str.maketrans(dict.fromkeys(_APOSTROPHE_CHARS, "'"))

# A clause ends at sentence punctuation, a semicolon/colon, a line break, a dash
# between spaces, or before a contrastive conjunction ("lovely but charged twice").
_CLAUSE_BREAK_RE = re.compile(
    r"[.!?;:\n\r]+|\s[-\u2013\u2014]+\s"
    r"|,?\s+(?=(?:but|however|although|though|whereas|except|otherwise)\b)",
    re.IGNORECASE,
)
# A comma also ends the reach of a negator: "no, I was on hold" is not negated.
_SCOPE_BREAK_RE = re.compile(r"[,()\[\]\"]")

# tokenize_many: the same tokens, found by one split of all texts joined by line breaks.
_TOKEN_SPLIT_RE = re.compile(f"({_TOKEN_RE.pattern})")
# the part of _CLAUSE_BREAK_RE that lies between two tokens (the conjunction part looks ahead)
_GAP_CLAUSE_RE = re.compile(r"[.!?;:\n\r]|\s[-\u2013\u2014]+\s")
_CONJUNCTION_RE = re.compile(r"(?:but|however|although|though|whereas|except|otherwise)\b", re.IGNORECASE)
_ENDS_IN_SPACE_RE = re.compile(r"\s\Z")

#: Tokens that negate what follows within a few tokens ("not rude", "didn't wait").
NEGATORS: frozenset[str] = frozenset(
    {
        "no", "not", "never", "without", "nothing", "none", "nobody", "neither", "nor",
        "cannot", "cant", "dont", "didnt", "doesnt", "isnt", "wasnt", "werent", "arent",
        "wont", "wouldnt", "couldnt", "shouldnt", "hasnt", "havent", "hadnt", "aint",
        "hardly", "barely",
    }
)

#: Stop words for bag-of-words features: scikit-learn's English list minus the
#: negators and the words that carry customer-service meaning ("back", "call",
#: "still", "again", "first"...).
STOP_WORDS: frozenset[str] = frozenset(ENGLISH_STOP_WORDS) - NEGATORS - {
    "back", "call", "still", "again", "first", "last", "twice", "once", "bill",
    "well", "found", "find", "fill", "empty", "system",
}

_STEMMER = SnowballStemmer("english")


def _normalise(text: str) -> str:
    return text.translate(_APOSTROPHES)


def token_spans(text: str) -> list[tuple[str, int, int]]:
    """Lower-cased tokens of ``text`` with their (start, end) character offsets."""
    if not isinstance(text, str) or not text:
        return []
    norm = _normalise(text)
    return [(m.group().lower(), m.start(), m.end()) for m in _TOKEN_RE.finditer(norm)]


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens of ``text`` (apostrophes inside words are kept).

    Missing values and non-strings give an empty list.
    """
    return [tok for tok, _, _ in token_spans(text)]


@lru_cache(maxsize=200_000)
def stem(token: str) -> str:
    """Snowball (Porter 2) stem of one lower-cased token; cached."""
    return _STEMMER.stem(token)


def stem_tokens(tokens: Iterable[str], *, drop_stopwords: bool = False) -> list[str]:
    """Stem each token; with ``drop_stopwords`` leave out :data:`STOP_WORDS` first."""
    if drop_stopwords:
        return [stem(t) for t in tokens if t not in STOP_WORDS]
    return [stem(t) for t in tokens]


def is_negator(token: str) -> bool:
    """True for "not", "never", "no"..., and any contraction ending in "n't"."""
    return token in NEGATORS or token.endswith("n't")


def clause_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of the clauses of ``text``, see :func:`split_clauses`."""
    if not isinstance(text, str) or not text:
        return []
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _CLAUSE_BREAK_RE.finditer(text):
        spans.append((start, m.start()))
        start = m.end()
    spans.append((start, len(text)))
    out = []
    for s, e in spans:
        # trim white space and stray punctuation at both ends
        while s < e and (text[s].isspace() or text[s] in ",;-"):
            s += 1
        while e > s and (text[e - 1].isspace() or text[e - 1] in ",;-"):
            e -= 1
        if s < e:
            out.append((s, e))
    return out


def split_clauses(text: str) -> list[str]:
    """Split ``text`` into clauses, keeping the original casing and punctuation.

    Clauses end at ``. ! ? ; :``, line breaks, spaced dashes, and before the
    contrastive conjunctions *but, however, although, though, whereas, except,
    otherwise* (the conjunction starts the next clause).
    """
    return [text[s:e] for s, e in clause_spans(text)]


def scope_breaks(text: str, start: int, end: int) -> list[int]:
    """Offsets in ``text[start:end]`` where a negator's reach stops (commas, brackets)."""
    return [m.start() for m in _SCOPE_BREAK_RE.finditer(text, start, end)]


def negated_positions(tokens: Sequence[str], breaks: Sequence[int] = (), *, window: int = 3) -> list[bool]:
    """For each token, whether a negator precedes it within ``window`` tokens.

    ``breaks`` lists token indices that start a new scope (the token after a
    comma): a negator before a break does not reach tokens after it.
    """
    breaks_set = set(breaks)
    out = []
    last_neg = None  # index of the last negator in the current scope
    for i, tok in enumerate(tokens):
        if i in breaks_set:
            last_neg = None
        out.append(last_neg is not None and i - last_neg <= window)
        if is_negator(tok):
            last_neg = i
    return out


@dataclass(frozen=True)
class TokenArrays:
    """The tokens of many texts as flat arrays (see :func:`tokenize_many`).

    Attributes
    ----------
    offsets : int64 array (n_texts + 1,); the tokens of text ``j`` are ``offsets[j]:offsets[j + 1]``
    words : int64 array (n_tokens,); index of each token's lower-cased form in ``vocabulary``
    vocabulary : list of str; the distinct lower-cased tokens
    starts, ends : int64 arrays; character offsets of each token in its own text
    clause_start : bool array; the token starts a clause (as :func:`clause_spans` cuts them;
        the first token of every text too)
    scope_break : bool array; a comma, bracket or quote lies between the previous token and
        this one (:func:`scope_breaks`)
    """

    offsets: np.ndarray
    words: np.ndarray
    vocabulary: list
    starts: np.ndarray
    ends: np.ndarray
    clause_start: np.ndarray
    scope_break: np.ndarray

    @property
    def doc(self) -> np.ndarray:
        """The text index of each token."""
        return np.repeat(np.arange(len(self.offsets) - 1), np.diff(self.offsets))


def _first_seen_codes(values: list[str]) -> tuple[np.ndarray, list[str]]:
    """``pd.factorize(values, sort=False)`` of a list of strings (codes in order of first appearance,
    the distinct values), by a dict: no object array of the millions of tokens and gaps first."""
    index = {v: i for i, v in enumerate(dict.fromkeys(values))}
    return np.fromiter(map(index.__getitem__, values), dtype=np.int64, count=len(values)), list(index)



@lru_cache(maxsize=1)
def _re2_token_pattern() -> str:
    """:data:`_TOKEN_RE` for Arrow's RE2: the same classes, the Unicode one spelt out as code point ranges.

    RE2 has no ``[^\\W\\d_]`` over Unicode and its ``\\pL`` follows another Unicode version than
    Python's ``re``, so the ranges are read from this Python's own ``re`` (every code point once,
    about 0.1 s, cached): the two engines then accept exactly the same characters, and with the same
    leftmost-first alternation and greedy repeats they find the same tokens.
    """
    every = "".join(map(chr, range(0xD800))) + "".join(map(chr, range(0xE000, 0x110000)))
    runs = [(ord(m.group()[0]), ord(m.group()[-1])) for m in re.finditer(r"[^\W\d_]+", every)]
    letters = "".join(f"\\x{{{a:X}}}" if a == b else f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b in runs)
    return r"[A-Za-z0-9\x{C0}-\x{24F}]+(?:'[A-Za-z\x{C0}-\x{24F}]+)*|[" + letters + "]+"


_MARK = "\x00"  # put around every token by RE2, then split on; texts holding it take the re path


def _codes_of(values: pa.Array) -> tuple[np.ndarray, list[str]]:
    """Codes in order of first appearance and the distinct values (Arrow's hash table, as
    :func:`_first_seen_codes`): only the distinct values become Python strings."""
    enc = pc.dictionary_encode(values)
    codes = enc.indices.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    return codes, enc.dictionary.to_pylist()


_LETTER_RE = re.compile(r"[^\W\d_]")


#: Character classes of the code points below U+0250 (the last one stands for every code point
#: above): a lookup turns each code point into its class in one pass, not a dozen comparisons.
_LETTER, _DIGIT, _QUOTE, _NON_LATIN = 1, 2, 4, 8


def _char_classes() -> np.ndarray:
    cls = np.zeros(0x251, dtype=np.uint8)
    for c in range(0x251):
        if 0x61 <= (c | 0x20) <= 0x7A or 0xC0 <= c <= 0x24F:  # ASCII letters, U+00C0-U+024F
            cls[c] = _LETTER
        elif 0x30 <= c <= 0x39:
            cls[c] = _DIGIT
        elif c == 0x27:
            cls[c] = _QUOTE
        elif c >= 0x80:
            cls[c] = _NON_LATIN
    return cls


_CLASSES = _char_classes()


def _token_bounds(big: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, bytes] | None:
    """Where :data:`_TOKEN_RE` finds its tokens in ``big``, by array operations over its code points:
    (token starts, token ends, the UTF-8 offset of every code point and one past the end, the UTF-8
    bytes), or None when ``big`` holds a letter outside ``[A-Za-z\u00C0-\u024F]`` (µ, Greek, CJK:
    the pattern's second branch) or a lone surrogate.

    Without such letters a token is ``A+('B+)*`` (A: ASCII letters and digits and U+00C0-U+024F, B:
    the same without digits). A quote joins when an A character precedes it and a B one follows; a
    run of A characters and joining quotes is one token, except that a digit right after the letters
    that follow a joining quote starts a new token (``ab'cd9`` is ``ab'cd`` and ``9``).
    """
    try:
        cp = np.frombuffer(big.encode("utf-32-le"), dtype=np.uint32)
        data = big.encode("utf-8")
    except UnicodeEncodeError:
        return None
    n = len(cp)
    cls = _CLASSES[np.minimum(cp, 0x250)]
    if (cls == _NON_LATIN).any():
        other = cp[cls == _NON_LATIN]
        if any(_LETTER_RE.match(chr(c)) for c in np.unique(other).tolist()):
            return None
    letter = cls == _LETTER
    alnum = (cls & (_LETTER | _DIGIT)) != 0
    joined = np.zeros(n, dtype=bool)
    if n > 2:
        joined[1:-1] = (cls[1:-1] == _QUOTE) & alnum[:-2] & letter[2:]
    inside = alnum | joined
    start = inside.copy()  # inside, and the previous character is not
    start[1:] &= ~inside[:-1]
    restart = np.zeros(n, dtype=bool)
    if n > 1:
        # a digit right after a letter: a new token when the last non-letter before it is a joining quote
        digit_after_letter = np.flatnonzero((cls[1:] == _DIGIT) & letter[:-1]) + 1
        if len(digit_after_letter):
            non_letters = np.flatnonzero(~letter)
            last = np.searchsorted(non_letters, digit_after_letter - 1, side="right") - 1
            prev_other = np.where(last >= 0, non_letters[np.maximum(last, 0)], -1)
            restart[digit_after_letter] = (prev_other >= 0) & joined[np.maximum(prev_other, 0)]
    start |= restart
    end = inside.copy()  # inside, and the next character does not continue the token
    end[:-1] &= ~(inside[1:] & ~restart[1:])
    # the UTF-8 offset of each code point: where its first byte is (a byte that is not a continuation)
    raw = np.frombuffer(data, dtype=np.uint8)
    byte_at = np.empty(n + 1, dtype=np.int64)
    byte_at[:n] = np.flatnonzero((raw & 0xC0) != 0x80)
    byte_at[n] = len(raw)
    return np.flatnonzero(start), np.flatnonzero(end) + 1, byte_at, data


def _split_tokens(big: str) -> tuple[np.ndarray, list[str], np.ndarray, list[str]]:
    """``_TOKEN_SPLIT_RE.split(big)`` as codes: (token codes, distinct tokens, codes of the gap before
    each token, distinct gaps), each numbered in order of first appearance.

    The tokens are found by :func:`_token_bounds` (array operations over the code points) when
    ``big`` has no letter outside the Latin ranges, else RE2 (Arrow) marks every token and the
    marked string is split in C; either way the millions of tokens and gaps never become Python
    strings (Arrow's hash table numbers them). Text neither can take (the marker character
    inside, lone surrogates) goes through Python's ``re`` as before, with the same result.
    """
    bounds = _token_bounds(big) if big else None
    if bounds is not None:
        starts, ends, byte_at, data = bounds
        cuts = np.empty(2 * len(starts) + 2, dtype=np.int64)  # gap, token, ..., gap: contiguous parts
        cuts[0], cuts[-1] = 0, len(big)
        cuts[1:-1:2], cuts[2:-1:2] = starts, ends
        offsets = byte_at[cuts]
        parts = pa.LargeStringArray.from_buffers(len(offsets) - 1, pa.py_buffer(offsets), pa.py_buffer(data))
        index = np.arange(len(starts), dtype=np.int64)
        surf_codes, surf = _codes_of(parts.take(pa.array(2 * index + 1)))
        gap_codes, gaps = _codes_of(parts.take(pa.array(2 * index)))
        return surf_codes, surf, gap_codes, gaps
    if big and _MARK not in big:
        try:
            whole = pa.array([big], type=pa.large_string())
        except (UnicodeEncodeError, pa.ArrowException):  # lone surrogates: not UTF-8
            whole = None
        if whole is not None:
            marked = pc.replace_substring_regex(whole, _re2_token_pattern(), _MARK + "\\0" + _MARK)
            parts = pc.list_flatten(pc.split_pattern(marked, _MARK))
            n_tok = len(parts) // 2
            index = np.arange(n_tok, dtype=np.int64)
            surf_codes, surf = _codes_of(parts.take(pa.array(2 * index + 1)))
            gap_codes, gaps = _codes_of(parts.take(pa.array(2 * index)))
            return surf_codes, surf, gap_codes, gaps
    return _split_tokens_re(big)


def _split_tokens_re(big: str) -> tuple[np.ndarray, list[str], np.ndarray, list[str]]:
    """:func:`_split_tokens` with Python's ``re`` (the reference, and the path for any text RE2 cannot take)."""
    parts = _TOKEN_SPLIT_RE.split(big)  # gap, token, gap, token, ..., gap
    surf_codes, surf = _first_seen_codes(parts[1::2])
    gap_codes, gaps = _first_seen_codes(parts[0:-1:2])
    return surf_codes, surf, gap_codes, gaps


def tokenize_many(texts: Sequence[object]) -> TokenArrays:
    """Tokenise many texts at once: the tokens of :func:`token_spans`, clause starts, scope breaks.

    Gives, text by text, exactly the tokens (lower-cased, with their offsets) of
    :func:`token_spans`, the clause boundaries of :func:`clause_spans` and the scope
    breaks of :func:`scope_breaks`, but with one pass over all texts joined (array operations
    over the code points, else Arrow's RE2, else Python's ``re``: see :func:`_split_tokens`)
    and each distinct token and separator examined once. Non-strings count as "".

    >>> ta = tokenize_many(["Lovely, but charged twice", None, "No!"])
    >>> [ta.vocabulary[w] for w in ta.words], ta.offsets.tolist()
    (['lovely', 'but', 'charged', 'twice', 'no'], [0, 4, 4, 5])
    >>> ta.clause_start.tolist(), ta.scope_break.tolist()
    ([True, True, False, False, True], [False, True, False, False, False])
    """
    strings: list[str] = list(texts)  # type: ignore[arg-type]  # the join below tells whether they all are
    try:
        big = "\n".join(strings)  # all strings, the usual case: no test per text
    except TypeError:
        strings = [t if isinstance(t, str) else "" for t in strings]
        big = "\n".join(strings)
    n = len(strings)
    lengths = np.fromiter(map(len, strings), dtype=np.int64, count=n)
    text_starts = np.zeros(n, dtype=np.int64)
    if n > 1:
        np.cumsum(lengths[:-1] + 1, out=text_starts[1:])
    for quote in _APOSTROPHE_CHARS:  # as _normalise, one character for one (offsets are kept)
        if quote in big:
            big = big.replace(quote, "'")
    surf_codes, surf, gap_codes, gaps = _split_tokens(big)
    n_tok = len(surf_codes)
    lengths = np.empty(2 * n_tok, dtype=np.int64)
    lengths[0::2] = np.fromiter(map(len, gaps), dtype=np.int64, count=len(gaps))[gap_codes]
    lengths[1::2] = np.fromiter(map(len, surf), dtype=np.int64, count=len(surf))[surf_codes]
    ends = np.cumsum(lengths)
    tok_end = ends[1::2]
    tok_start = ends[0::2]
    offsets = np.empty(n + 1, dtype=np.int64)
    offsets[:n] = np.searchsorted(tok_start, text_starts)
    offsets[n] = n_tok
    doc = np.repeat(np.arange(n), np.diff(offsets))
    lowered = np.array([s.lower() for s in surf], dtype=object)
    low_codes, vocab = pd.factorize(lowered, sort=False)
    words = low_codes[surf_codes].astype(np.int64, copy=False)
    gap_clause = np.fromiter((bool(_GAP_CLAUSE_RE.search(g)) for g in gaps), dtype=bool, count=len(gaps))
    gap_scope = np.fromiter((bool(_SCOPE_BREAK_RE.search(g)) for g in gaps), dtype=bool, count=len(gaps))
    gap_space = np.fromiter((bool(_ENDS_IN_SPACE_RE.search(g)) for g in gaps), dtype=bool, count=len(gaps))
    clause_start = gap_clause[gap_codes] if n_tok else np.zeros(0, dtype=bool)
    # a contrastive conjunction after white space starts a clause ("lovely but charged")
    conj = np.fromiter((bool(_CONJUNCTION_RE.match(s)) for s in surf), dtype=bool, count=len(surf))
    if n_tok and conj.any():
        cand = np.flatnonzero(conj[surf_codes] & gap_space[gap_codes])
        for t in cand.tolist():
            if _CONJUNCTION_RE.match(big, int(tok_start[t])):
                clause_start[t] = True
    first = offsets[:n][np.diff(offsets) > 0]
    clause_start[first] = True
    return TokenArrays(
        offsets=offsets,
        words=words,
        vocabulary=list(vocab),
        starts=tok_start - text_starts[doc],
        ends=tok_end - text_starts[doc],
        clause_start=clause_start,
        scope_break=gap_scope[gap_codes] if n_tok else np.zeros(0, dtype=bool),
    )
