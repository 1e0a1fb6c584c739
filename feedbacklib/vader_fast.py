"""A fast, rule-for-rule re-implementation of nltk 3.10.4's VADER compound score.

``nltk.sentiment.vader.SentimentIntensityAnalyzer.polarity_scores`` spends most of
its time rebuilding, for every text, a dictionary of every word glued to every
punctuation mark, and re-deriving per-token facts (lower case, lexicon value,
booster, negation) with ``str`` calls. This module derives those facts once per
distinct *raw token* (a cache shared by all texts) and then applies VADER's rules
to the few lexicon words of each text only, with the same floating-point
operations in the same order, so the compound score is the same number.

What is reproduced, as nltk implements it (not as the VADER paper or the
``vaderSentiment`` package describe it):

* tokens: ``text.split()``, tokens of one character dropped, one leading *or*
  trailing mark of nltk's ``PUNC_LIST`` ("," "!!!" "?!?" ...) stripped when the
  rest is a word of two or more characters without ASCII punctuation;
* lexicon value of the lower-cased token, +/-0.733 when it is ALL CAPS and the
  text mixes cased and ALL-CAPS tokens;
* boosters/dampeners up to three tokens back (x1, x0.95, x0.9), with caps
  emphasis; negation of the preceding three tokens (x-0.74, including any token
  containing "n't"); "never so/this" (x1.5 / x1.25), the x1.25 that nltk applies
  whenever the previous token is "so" or "this"; "least" unless "at/very least";
* nltk's idioms check (only reached when the third token back is not a lexicon
  word) and its "kind of"/"sort of" bigram dampening; "kind of" scores 0;
* nltk's first-occurrence quirk: a repeated token is scored in the context of
  its *first* occurrence (``list.index`` semantics);
* "but": tokens before the first "but" x0.5, after it x1.5;
* "!" (up to 4, +0.292 each) and "?" (2-3: +0.18 each, more: +0.96) emphasis,
  normalisation ``x / sqrt(x*x + 15)`` and rounding to 4 decimals.

Texts that are not ``str`` are not handled here (callers pass strings).

Examples
--------
>>> compound("The agent was lovely but I was charged twice.")
0.0516
>>> compound("TERRIBLE service!!! never again :(")
-0.5111
"""

from __future__ import annotations

import math
import string
import zipfile
from collections.abc import Iterable, Sequence
from importlib import resources
from itertools import compress
from operator import itemgetter

__all__ = ["compound", "compound_many", "load_lexicon", "tokenize_vader"]

_LEXICON_MEMBER = "vader_lexicon/vader_lexicon.txt"
_LEXICON_ZIP = "data/nltk/sentiment/vader_lexicon.zip"

# -- nltk.sentiment.vader.VaderConstants (nltk 3.10.4), checked against nltk by the tests --
B_INCR = 0.293
B_DECR = -0.293
C_INCR = 0.733
N_SCALAR = -0.74
ALPHA = 15
NEGATE = frozenset(
    "aint arent cannot cant couldnt darent didnt doesnt ain't aren't can't couldn't daren't didn't "
    "doesn't dont hadnt hasnt havent isnt mightnt mustnt neither don't hadn't hasn't haven't isn't "
    "mightn't mustn't neednt needn't never none nope nor not nothing nowhere oughtnt shant shouldnt "
    "uhuh wasnt werent oughtn't shan't shouldn't uh-uh wasn't weren't without wont wouldnt won't "
    "wouldn't rarely seldom despite".split()
)
_INCR_WORDS = (
    "absolutely amazingly awfully completely considerably decidedly deeply effing enormously entirely "
    "especially exceptionally extremely fabulously flipping flippin fricking frickin frigging friggin "
    "fully fucking greatly hella highly hugely incredibly intensely majorly more most particularly "
    "purely quite really remarkably so substantially thoroughly totally tremendously uber unbelievably "
    "unusually utterly very"
).split()
_DECR_WORDS = [
    "almost", "barely", "hardly", "just enough", "kind of", "kinda", "kindof", "kind-of", "less",
    "little", "marginally", "occasionally", "partly", "scarcely", "slightly", "somewhat", "sort of",
    "sorta", "sortof", "sort-of",
]
BOOSTER_DICT = {**{w: B_INCR for w in _INCR_WORDS}, **{w: B_DECR for w in _DECR_WORDS}}
SPECIAL_CASE_IDIOMS = {
    "the shit": 3,
    "the bomb": 3,
    "bad ass": 1.5,
    "yeah right": -2,
    "cut the mustard": 2,
    "kiss of death": -1.5,
    "hand to mouth": -2,
}
PUNC_LIST = [".", "!", "?", ",", ";", ":", "-", "'", '"', "!!", "!!!", "??", "???", "?!?", "!?!", "?!?!", "!?!?"]

# Token sequences compared as tuples: tokens never hold whitespace, so a tuple matches
# exactly when nltk's space-joined string does.
_IDIOMS = {tuple(k.split()): v for k, v in SPECIAL_CASE_IDIOMS.items()}
_BOOSTER_BIGRAMS = frozenset(tuple(k.split()) for k in BOOSTER_DICT if " " in k)
_IDIOM_WORDS = frozenset(w for k in list(_IDIOMS) + list(_BOOSTER_BIGRAMS) for w in k)
_SO_THIS = ("so", "this")
_PUNCT = frozenset(string.punctuation)  # what nltk's REGEX_REMOVE_PUNCTUATION deletes
_PUNC_SET = frozenset(PUNC_LIST)

# Fields of a token record (a tuple, one per distinct raw token).
_W, _LW, _UP, _LEX, _BOOST, _NEG, _SCORED, _BUT, _RARE, _IDW = range(10)
_SKIP: tuple = ()  # one-character tokens, dropped by nltk; falsy so ``filter(None, ...)`` removes them

_lexicon: dict[str, float] | None = None


def load_lexicon() -> dict[str, float]:
    """VADER's lexicon, read from the bundled ``vader_lexicon.zip`` as nltk reads it."""
    global _lexicon
    if _lexicon is None:
        ref = resources.files("feedbacklib").joinpath(_LEXICON_ZIP)
        with ref.open("rb") as fh, zipfile.ZipFile(fh) as z:
            text = z.read(_LEXICON_MEMBER).decode("utf-8")
        lex = {}
        for line in text.split("\n"):  # nltk's make_lex_dict
            word, measure = line.strip().split("\t")[0:2]
            lex[word] = float(measure)
        _lexicon = lex
    return _lexicon


def _strip_punct(tok: str) -> str:
    """nltk's ``SentiText._words_and_emoticons`` for one token of two or more characters.

    nltk maps ``p + w`` and ``w + p`` to ``w`` for every ``p`` in PUNC_LIST and every
    punctuation-free word ``w`` (of 2+ characters) of the text; the ``w`` of a token of
    that shape is always among them, so the rule is local to the token.
    """
    n = len(tok)
    a = 0
    while a < n and tok[a] in _PUNCT:
        a += 1
    if a == n:
        return tok
    b = n
    while tok[b - 1] in _PUNCT:
        b -= 1
    if (a == 0) == (b == n):  # nothing to strip, or marks on both sides
        return tok
    core = tok[a:b]
    if len(core) < 2 or any(c in _PUNCT for c in core):
        return tok
    mark = tok[:a] if a else tok[b:]
    return core if mark in _PUNC_SET else tok


class _TokenCache(dict):
    """raw token -> record tuple, filled on first sight (``cache[token]``)."""

    max_size = 2_000_000

    def __missing__(self, tok: str) -> tuple:
        if len(tok) < 2:
            rec = _SKIP
        else:
            lex = load_lexicon()
            w = _strip_punct(tok)
            lw = w.lower()
            value = lex.get(lw)
            neg = lw in NEGATE or "n't" in lw
            scored = value is not None and lw not in BOOSTER_DICT
            rec = (w, lw, w.isupper(), value, BOOSTER_DICT.get(lw, 0.0), neg, scored, lw == "but",
                   lw == "least" or lw == "kind", w in _IDIOM_WORDS)
        if len(self) >= self.max_size:
            self.clear()
        self[tok] = rec
        return rec


_cache = _TokenCache()
_lookup = _cache.__getitem__
_get_up = itemgetter(_UP)
_get_scored = itemgetter(_SCORED)
_get_but = itemgetter(_BUT)


def tokenize_vader(text: str) -> list[str]:
    """The tokens nltk's VADER scores (``SentiText(text, ...).words_and_emoticons``)."""
    return [rec[_W] for rec in filter(None, map(_lookup, text.split()))]


def _cap_diff(recs: list) -> bool:
    """nltk's ``allcap_differential``: some but not all tokens are ALL CAPS.

    Only needed when an ALL-CAPS lexicon word or booster is met, so computed on demand.
    """
    n = len(recs)
    return 0 < n - sum(map(_get_up, recs)) < n


def _booster(rec: tuple, valence: float, recs: list) -> float:
    """nltk's ``VaderConstants.scalar_inc_dec`` for a booster ``rec`` (nonzero ``_BOOST``)."""
    scalar = rec[_BOOST]
    if scalar:
        if valence < 0:
            scalar *= -1
        if rec[_UP] and _cap_diff(recs):
            if valence > 0:
                scalar += C_INCR
            else:
                scalar -= C_INCR
    return scalar


def _valence(recs: list, i: int, n: int) -> float:
    """nltk's ``sentiment_valence`` for the lexicon word at index ``i`` (its first occurrence)."""
    x = recs[i]
    if x[_RARE] and x[_LW] == "kind" and i < n - 1 and recs[i + 1][_LW] == "of":
        return 0.0
    valence = x[_LEX]
    if x[_UP] and _cap_diff(recs):
        if valence > 0:
            valence += C_INCR
        else:
            valence -= C_INCR
    if i > 0:
        p1 = recs[i - 1]
        if p1[_LEX] is None:
            if p1[_BOOST]:
                valence = valence + _booster(p1, valence, recs)
            if p1[_NEG]:
                valence = valence * N_SCALAR
        if i > 1:
            p2 = recs[i - 2]
            if p2[_LEX] is None:
                if p2[_BOOST]:
                    valence = valence + _booster(p2, valence, recs) * 0.95
                if p2[_W] == "never" and (p1[_W] == "so" or p1[_W] == "this"):
                    valence = valence * 1.5
                elif p2[_NEG]:
                    valence = valence * N_SCALAR
            if i > 2:
                p3 = recs[i - 3]
                if p3[_LEX] is None:
                    if p3[_BOOST]:
                        valence = valence + _booster(p3, valence, recs) * 0.9
                    if (p3[_W] == "never" and (p2[_W] == "so" or p2[_W] == "this")) or (
                        p1[_W] == "so" or p1[_W] == "this"
                    ):
                        valence = valence * 1.25
                    elif p3[_NEG]:
                        valence = valence * N_SCALAR
                    # an idiom or booster bigram needs two of these words side by side
                    if p2[_IDW] or (x[_IDW] and (p1[_IDW] or (i < n - 1 and recs[i + 1][_IDW]))):
                        valence = _idioms(valence, recs, i, n)
            # nltk's _least_check
            if p1[_RARE] and p1[_LEX] is None and p1[_LW] == "least":
                if p2[_LW] != "at" and p2[_LW] != "very":
                    valence = valence * N_SCALAR
        elif p1[_RARE] and p1[_LEX] is None and p1[_LW] == "least":
            valence = valence * N_SCALAR
    return valence


def _idioms(valence: float, recs: list, i: int, n: int) -> float:
    """nltk's ``_idioms_check`` (case-sensitive, first match of five sequences, then two more)."""
    w0, w1, w2, w3 = recs[i][_W], recs[i - 1][_W], recs[i - 2][_W], recs[i - 3][_W]
    for seq in ((w1, w0), (w2, w1, w0), (w2, w1), (w3, w2, w1), (w3, w2)):
        if seq in _IDIOMS:
            valence = _IDIOMS[seq]
            break
    if n - 1 > i:
        seq = (w0, recs[i + 1][_W])
        if seq in _IDIOMS:
            valence = _IDIOMS[seq]
    if n - 1 > i + 1:
        seq = (w0, recs[i + 1][_W], recs[i + 2][_W])
        if seq in _IDIOMS:
            valence = _IDIOMS[seq]
    if (w3, w2) in _BOOSTER_BIGRAMS or (w2, w1) in _BOOSTER_BIGRAMS:
        valence = valence + B_DECR
    return valence


def compound(text: str) -> float:
    """VADER's compound score of ``text``, equal to nltk's ``polarity_scores(text)["compound"]``."""
    recs = list(filter(None, map(_lookup, text.split())))
    n = len(recs)
    if not n:
        return 0.0
    positions = list(compress(range(n), map(_get_scored, recs)))
    if not positions:
        return 0.0
    first: dict[str, float] = {}
    values = []
    for j in positions:
        w = recs[j][_W]
        v = first.get(w)
        if v is None:  # first occurrence: nltk scores every repeat in this context
            v = first[w] = _valence(recs, j, n)
        values.append(v)
    bi = next(compress(range(n), map(_get_but, recs)), -1) if "but" in text.lower() else -1
    if bi >= 0:
        values = [v * 0.5 if j < bi else (v * 1.5 if j > bi else v) for j, v in zip(positions, values)]
    total = float(sum(values))
    if not total:
        return 0.0
    ep = text.count("!")
    qm = text.count("?")
    amp = (ep if ep < 4 else 4) * 0.292 + ((qm * 0.18 if qm <= 3 else 0.96) if qm > 1 else 0)
    if total > 0:
        total += amp
    else:
        total -= amp
    return round(total / math.sqrt(total * total + ALPHA), 4)


def compound_many(texts: Iterable[str] | Sequence[str]) -> list[float]:
    """:func:`compound` of each text, in order."""
    return list(map(compound, texts))
