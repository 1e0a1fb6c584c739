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
from functools import lru_cache

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
]

# Words (letters and digits) with inner apostrophes kept: "didn't", "o'clock".
# Explicit ASCII classes plus Latin-1/Latin Extended letters; other scripts are
# matched by the second alternative so that no text is silently dropped.
_TOKEN_RE = re.compile(r"[A-Za-z0-9\u00C0-\u024F]+(?:'[A-Za-z\u00C0-\u024F]+)*|[^\W\d_]+")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})

# A clause ends at sentence punctuation, a semicolon/colon, a line break, a dash
# between spaces, or before a contrastive conjunction ("lovely but charged twice").
_CLAUSE_BREAK_RE = re.compile(
    r"[.!?;:\n\r]+|\s[-\u2013\u2014]+\s"
    r"|,?\s+(?=(?:but|however|although|though|whereas|except|otherwise)\b)",
    re.IGNORECASE,
)
# A comma also ends the reach of a negator: "no, I was on hold" is not negated.
_SCOPE_BREAK_RE = re.compile(r"[,()\[\]\"]")

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
