"""Seed matching and the tagger's features: the primitives the tagger and the supervised model share.

Lower than both :mod:`~feedbacklib.themes.tagger` and :mod:`~feedbacklib.themes.supervised` (which
import it), so neither needs the other inside a function.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfTransformer

from feedbacklib.text import (
    STOP_WORDS,
    TokenArrays,
    clause_spans,
    is_negator,
    negated_positions,
    stem,
    token_spans,
)
from feedbacklib.themes.taxonomy import Taxonomy

#: Column that :func:`tag_themes` adds: why each theme was tagged.
THEME_EVIDENCE = "theme_evidence"

_ARTICLES = frozenset({"a", "an", "the"})
_NEG = "<not>"  # a seed word "not": any verbal negator
_NEG_ID = -2  # _NEG in integer patterns
_LITERAL_NEGATORS = frozenset({"no", "none", "nothing", "nobody", "without", "neither", "nor", "hardly", "barely"})
_MAX_GAP = 1  # words allowed between two consecutive seed words
_NEG_WINDOW = 3
_MIN_PRECISION = 0.6  # chosen on the TUNE half of benchmarks/eval_themes.py (was 0.8)
_MIN_THRESHOLD = 0.5
_EVIDENCE_TERMS = 3
_MAX_FEATURES = 200_000
_MIN_DF = 2
#: Salience rule for long texts (ThemeTagger ``long_text``, ``long_text_hits``, ``common_seed_df``):
#: above LONG_TEXT_TOKENS tokens, a theme hit only by common seeds (single words found in more than
#: COMMON_SEED_DF of the fitted texts) needs LONG_TEXT_HITS hits at distinct places. Chosen on the
#: TUNE half of benchmarks/eval_themes.py.
LONG_TEXT_TOKENS = 120
LONG_TEXT_HITS = 2
COMMON_SEED_DF = 0.05
#: With the supervised model, a text of at most this many tokens is tagged by its seeds alone
#: (on short texts the model, trained mostly on long complaint letters, lowered precision);
#: longer texts are tagged by the model alone (issue 13, see benchmarks/eval_themes.py).
SEED_ONLY_TOKENS = 60
#: Texts tokenised and tagged together (bounds the memory of the token arrays).
CHUNK_TEXTS = 20_000
#: Distinct texts above which tagging runs in a fork-based Pool(2) (as sentiment does).
PARALLEL_MIN_TEXTS = 20_000


def _is_verbal_negator(tok: str) -> bool:
    return is_negator(tok) and tok not in _LITERAL_NEGATORS


@dataclass(frozen=True)
class SeedHit:
    """One seed (not negated, not excluded) found in a text."""

    theme: str
    seed: str
    clause: int  # index into text.clause_spans(text)
    start: int  # character offsets in the original text
    end: int


_DERIVATIONAL = ("fully", "ful", "less", "ness", "ly", "ive", "ional")


def _key(tok: str) -> str:
    """Stem plus a derivational-suffix guard: "helpful" must not match "help".

    Snowball folds "helpful", "respectfully", "rudely" onto their root; seed
    matching keeps inflections together ("charge", "charged", "charges") but
    tells these derived words apart.
    """
    st = stem(tok)
    for suffix in _DERIVATIONAL:
        if tok.endswith(suffix) and len(tok) > len(suffix) + 2 and stem(tok[: -len(suffix)]) == st:
            return f"{st}~{suffix}"
    return st


def _compile(phrase: str) -> tuple[str, ...]:
    toks = [t for t, _, _ in token_spans(phrase) if t not in _ARTICLES]
    return tuple(_NEG if t == "not" else _key(t) for t in toks)


class _Clause:
    __slots__ = ("toks", "stems", "starts", "ends", "breaks")

    def __init__(self, text: str, cs: int, ce: int):
        spans = [(t, s + cs, e + cs) for t, s, e in token_spans(text[cs:ce]) if t not in _ARTICLES]
        self.toks = [t for t, _, _ in spans]
        self.stems = [_key(t) for t in self.toks]
        self.starts = [s for _, s, _ in spans]
        self.ends = [e for _, _, e in spans]
        # a comma (or bracket/quote) between two tokens starts a new negation scope
        self.breaks = {
            i for i in range(1, len(spans)) if any(c in ",()[]\"" for c in text[self.ends[i - 1]:self.starts[i]])
        }


class SeedMatcher:
    """Compiled seeds and exclusions of a taxonomy; finds :class:`SeedHit` in texts."""

    def __init__(self, taxonomy: Taxonomy):
        self.taxonomy = taxonomy
        self.ids = taxonomy.ids
        self._seeds: dict[str, list[tuple[str, str, tuple[str, ...]]]] = {}
        self._excl: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
        # the same patterns as integer ids, for match_many
        self._key_ids: dict[str, int] = {}
        self.seed_list: list[tuple[int, str, tuple[int, ...], bool]] = []  # theme, seed, ids, starts negated
        self._excl_list: list[tuple[int, tuple[int, ...]]] = []
        #: per entry of ``seed_list``: the seed has two or more words (a phrase, not a single word)
        self.phrase_seeds = np.zeros(0, dtype=bool)
        for t, theme in enumerate(taxonomy):
            for seed in theme.seeds:
                pat = _compile(seed)
                if pat:
                    self._seeds.setdefault(pat[0], []).append((theme.id, seed, pat))
                    starts_negated = pat[0] == _NEG or pat[0] in _LITERAL_NEGATORS or is_negator(pat[0])
                    self.seed_list.append((t, seed, self._ids(pat), starts_negated))
            for phrase in theme.exclusions:
                pat = _compile(phrase)
                if pat:
                    self._excl.setdefault(pat[0], []).append((theme.id, pat))
                    self._excl_list.append((t, self._ids(pat)))
        self.phrase_seeds = np.array([len(pat) > 1 for _, _, pat, _ in self.seed_list], dtype=bool)

    def _ids(self, pat: tuple[str, ...]) -> tuple[int, ...]:
        return tuple(_NEG_ID if el == _NEG else self._key_ids.setdefault(el, len(self._key_ids)) for el in pat)

    def match_many(self, tokens: TokenArrays, words: "_WordTable | None" = None) -> "_Matches":
        """Every valid seed occurrence in many texts at once, as arrays.

        The same hits, in the same order, as :meth:`hits` text by text, computed with
        array operations over the token ids of :func:`feedbacklib.text.tokenize_many`.
        """
        if words is None:
            words = _word_table(tokens.vocabulary)
        w = tokens.words
        kept = np.flatnonzero(~words.article[w])  # articles are skipped, as in _Clause
        n = len(kept)
        if not n:
            return _Matches.empty()
        kw = w[kept]
        # a clause start or scope break on a skipped article carries to the next kept token
        seg_c = np.cumsum(tokens.clause_start | tokens.scope_break)[kept]
        seg_start = np.ones(n, dtype=bool)
        seg_start[1:] = seg_c[1:] != seg_c[:-1]
        seg_start[0] = True
        seg = np.cumsum(seg_start)
        # negation: the nearest negator before a token, in its segment, within the window
        idx = np.arange(n)
        last_neg = np.maximum.accumulate(np.where(words.negator[kw], idx, -1))
        prev_neg = np.empty(n, dtype=np.int64)
        prev_neg[0] = -1
        prev_neg[1:] = last_neg[:-1]
        seg_first = np.maximum.accumulate(np.where(seg_start, idx, 0))
        negated = (prev_neg >= seg_first) & (idx - prev_neg <= _NEG_WINDOW)
        key_of_word = np.fromiter((self._key_ids.get(k, -1) for k in words.key), dtype=np.int64,
                                  count=len(words.key))
        key = np.concatenate([key_of_word[kw], [-1, -1]])
        verbal = np.concatenate([words.verbal[kw], [False, False]])
        seg = np.concatenate([seg, [-1, -2]])
        keyed = np.flatnonzero(key[:n] >= 0)  # tokens that can start a pattern (besides negators)
        keys_here = key[keyed]
        if len(self._key_ids) <= np.iinfo(np.uint16).max:  # the same stable order; numpy radix-sorts 16 bits
            keys_here = keys_here.astype(np.uint16)
        order = keyed[np.argsort(keys_here, kind="stable")]
        sorted_keys = key[order]
        cache: dict[int, tuple] = {}

        def starts(el: int) -> tuple:
            """Where a pattern starting with ``el`` can start, and what the next two words are."""
            if el not in cache:
                if el == _NEG_ID:
                    first = np.flatnonzero(verbal[:n])
                else:
                    lo, hi = np.searchsorted(sorted_keys, [el, el + 1])
                    first = order[lo:hi]
                nxt = []  # per step: (is a verbal negator, key; -3 in another segment)
                for step in range(1, _MAX_GAP + 2):
                    same = seg[first + step] == seg[first]
                    nxt.append((same & verbal[first + step], np.where(same, key[first + step], -3)))
                cache[el] = (first, nxt)
            return cache[el]

        def run(pattern: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
            first, nxt = starts(pattern[0])
            if len(pattern) > 1 and len(first):
                # first step from the cached next words: the nearest match wins, as in _match_at
                el = pattern[1]
                ok = np.zeros(len(first), dtype=bool)
                j = first.copy()
                for step, (is_neg, next_key) in enumerate(nxt, start=1):
                    hit = ~ok & (is_neg if el == _NEG_ID else next_key == el)
                    j[hit] = first[hit] + step
                    ok |= hit
                first, j = first[ok], j[ok]
                rest = pattern[2:]
            else:
                j, rest = first, ()
            for el in rest:
                if not len(j):
                    break
                ok = np.zeros(len(j), dtype=bool)
                nxt = j.copy()
                for step in range(1, _MAX_GAP + 2):  # the nearest match wins, as in _match_at
                    cand = j + step
                    same = seg[cand] == seg[j]
                    hit = ~ok & same & (verbal[cand] if el == _NEG_ID else key[cand] == el)
                    nxt[hit] = cand[hit]
                    ok |= hit
                first, j = first[ok], nxt[ok]
            return first, j

        n_themes = len(self.ids)
        vetoed = []  # per theme: prefix sums of tokens covered by an exclusion match
        cover = np.zeros((n_themes, n + 1), dtype=np.int32)
        any_excl = np.zeros(n_themes, dtype=bool)
        for t, pattern in self._excl_list:
            i, j = run(pattern)  # type: ignore[assignment]  # arrays of positions
            if len(i):
                np.add.at(cover[t], i, 1)
                np.add.at(cover[t], j + 1, -1)
                any_excl[t] = True
        for t in range(n_themes):
            if any_excl[t]:
                vetoed.append(np.concatenate([[0], np.cumsum(np.cumsum(cover[t][:n]) > 0)]))
            else:
                vetoed.append(None)  # type: ignore[arg-type]  # no exclusions for this theme
        n_seeds = len(self.seed_list)
        out_i, out_j, out_p = [], [], []
        for p, (t, _, pattern, starts_negated) in enumerate(self.seed_list):
            i, j = run(pattern)
            if not len(i):
                continue
            keep = np.ones(len(i), dtype=bool)
            if not starts_negated:
                keep &= ~negated[i]
            if vetoed[t] is not None:
                keep &= (vetoed[t][j + 1] - vetoed[t][i]) == 0
            if keep.any():
                out_i.append(i[keep])
                out_j.append(j[keep])
                out_p.append(np.full(int(keep.sum()), p, dtype=np.int64))
        if not out_i:
            return _Matches.empty()
        i, j, p = np.concatenate(out_i), np.concatenate(out_j), np.concatenate(out_p)  # type: ignore[assignment]
        # reading order; at one token, seeds keyed on the word before "not"-seeds, each in taxonomy order
        neg_first = np.array([pat[0] == _NEG_ID for _, _, pat, _ in self.seed_list], dtype=bool)
        rank = p + np.where(neg_first[p], n_seeds, 0)  # type: ignore[index]
        o = np.lexsort((rank, i))
        i, j, p = i[o], j[o], p[o]  # type: ignore[index]
        theme = np.array([t for t, _, _, _ in self.seed_list], dtype=np.int64)[p]
        first, last = kept[i], kept[j]
        return _Matches(doc=tokens.doc[first], theme=theme, seed=p, first=first, last=last)

    @staticmethod
    def _match_at(cl: _Clause, i: int, pat: tuple[str, ...]) -> int | None:
        """End token index (inclusive) when ``pat`` matches from token ``i``."""
        j = i
        for k in range(1, len(pat)):
            for step in range(1, _MAX_GAP + 2):
                nxt = j + step
                if nxt >= len(cl.toks) or any(b in cl.breaks for b in range(j + 1, nxt + 1)):
                    return None
                if _tok_matches(cl, nxt, pat[k]):
                    j = nxt
                    break
            else:
                return None
        return j

    def _candidates(self, table: dict, cl: _Clause, i: int) -> list:
        out = list(table.get(cl.stems[i], ()))
        if _is_verbal_negator(cl.toks[i]):
            out.extend(table.get(_NEG, ()))
        return out

    def hits(self, text: str) -> list[SeedHit]:
        """Every valid seed occurrence in ``text``, in reading order."""
        if not isinstance(text, str) or not text:
            return []
        found: list[SeedHit] = []
        for ci, (cs, ce) in enumerate(clause_spans(text)):
            cl = _Clause(text, cs, ce)
            if not cl.toks:
                continue
            negated = negated_positions(cl.toks, sorted(cl.breaks), window=_NEG_WINDOW)
            vetoed: dict[str, set[int]] = {}
            for i in range(len(cl.toks)):
                for theme_id, pat in self._candidates(self._excl, cl, i):
                    end = self._match_at(cl, i, pat)
                    if end is not None:
                        vetoed.setdefault(theme_id, set()).update(range(i, end + 1))
            for i in range(len(cl.toks)):
                for theme_id, seed, pat in self._candidates(self._seeds, cl, i):
                    end = self._match_at(cl, i, pat)
                    if end is None:
                        continue
                    starts_negated = pat[0] == _NEG or pat[0] in _LITERAL_NEGATORS or is_negator(pat[0])
                    if negated[i] and not starts_negated:
                        continue
                    if vetoed.get(theme_id, set()).intersection(range(i, end + 1)):
                        continue
                    found.append(SeedHit(theme_id, seed, ci, cl.starts[i], cl.ends[end]))
        return found

    def seed_tokens(self, text: str) -> set[int]:
        """Character starts of the tokens covered by valid seed hits (masked for learning)."""
        return {h.start for h in self.hits(text)}


def _tok_matches(cl: _Clause, i: int, element: str) -> bool:
    if element == _NEG:
        return _is_verbal_negator(cl.toks[i])
    return cl.stems[i] == element


@lru_cache(maxsize=8)
def _matcher_for(taxonomy: Taxonomy) -> SeedMatcher:
    return SeedMatcher(taxonomy)


@dataclass(frozen=True)
class _Matches:
    """Seed hits of many texts: one entry per hit, in reading order within each text."""

    doc: np.ndarray  # text index
    theme: np.ndarray  # theme index (taxonomy order)
    seed: np.ndarray  # index into SeedMatcher.seed_list
    first: np.ndarray  # token index (into the TokenArrays) of the first and last word
    last: np.ndarray

    @staticmethod
    def empty() -> "_Matches":
        e = np.zeros(0, dtype=np.int64)
        return _Matches(e, e, e, e, e)


@dataclass(frozen=True)
class _WordTable:
    """Per vocabulary word: what seed matching and the learned features need to know."""

    article: np.ndarray
    negator: np.ndarray
    verbal: np.ndarray
    skip: np.ndarray  # stop word, one letter or a number: not a learned feature
    key: list  # matching key (stem with the derivational guard)
    stem: list  # plain stem (learned features)


_WORD_INFO: dict[str, tuple] = {}
_WORD_INFO_MAX = 1_000_000


def _word_info(word: str) -> tuple:
    info = _WORD_INFO.get(word)
    if info is None:
        info = (
            word in _ARTICLES,
            is_negator(word),
            _is_verbal_negator(word),
            word in STOP_WORDS or len(word) < 2 or word.isdigit(),
            _key(word),
            stem(word),
        )
        if len(_WORD_INFO) >= _WORD_INFO_MAX:
            _WORD_INFO.clear()
        _WORD_INFO[word] = info
    return info


def _word_table(vocabulary: list[str]) -> _WordTable:
    infos = [_word_info(w) for w in vocabulary]
    n = len(infos)
    flags = np.array([i[:4] for i in infos], dtype=bool).reshape(n, 4)
    return _WordTable(flags[:, 0], flags[:, 1], flags[:, 2], flags[:, 3],
                      [i[4] for i in infos], [i[5] for i in infos])


def _outermost_mask(m: _Matches) -> np.ndarray:
    """Hits not inside a longer hit of the same theme in the same text ("charged twice" hides "charged").

    One sort and one sweep, so memory and time grow with the number of hits, not with its square
    (a 1 MB comment repeating a complaint makes tens of thousands of hits of one theme). Within a
    (text, theme) group, spans sorted by start, longest first: a span lies inside a longer one exactly
    when an earlier distinct span reaches at least as far. Hits with the same span share its answer.
    """
    n = len(m.doc)
    keep = np.ones(n, dtype=bool)
    if n < 2:
        return keep
    group = m.doc.astype(np.int64) * (int(m.theme.max()) + 1) + m.theme
    first, last = m.first.astype(np.int64), m.last.astype(np.int64)
    order = np.lexsort((-last, first, group))
    g, f, l = group[order], first[order], last[order]
    new_span = np.r_[True, (g[1:] != g[:-1]) | (f[1:] != f[:-1]) | (l[1:] != l[:-1])]
    span_of = np.cumsum(new_span) - 1              # each sorted hit -> its distinct span
    ug, ul = g[new_span], l[new_span]
    # group ranks ascend, so offsetting by rank * (max + 1) stops a running maximum at group borders
    _, rank = np.unique(ug, return_inverse=True)
    value = ul + rank * (int(ul.max()) + 1)
    reach = np.maximum.accumulate(value)
    inside = np.r_[False, reach[:-1] >= value[1:]]
    keep[order] = ~inside[span_of]
    return keep


def _salient(m: _Matches, keep: np.ndarray, n_tokens: np.ndarray, common: np.ndarray, shape: tuple[int, int],
             long_text: int | None, long_text_hits: int) -> np.ndarray:
    """Boolean (text, theme) matrix: the themes the seed hits ``m`` tag, after the salience rule.

    A theme is tagged when its seeds hit the text, except in a text of more than ``long_text``
    tokens where every hit is of a common seed (``common[p]``: seed ``p`` is a single word found
    in many of the fitted texts): there the theme needs ``long_text_hits`` such hits at distinct
    places (``keep``: the outermost hits). ``long_text=None`` turns the rule off.
    """
    T = np.zeros(shape, dtype=bool)
    if long_text is None or not common.any():
        T[m.doc, m.theme] = True
        return T
    strong = ~common[m.seed] | (n_tokens[m.doc] <= long_text)
    T[m.doc[strong], m.theme[strong]] = True
    weak = keep & ~strong
    if weak.any():
        # distinct places of the single-word hits ("fee" and "fees" match the same word once)
        place = pd.DataFrame({"d": m.doc[weak], "t": m.theme[weak], "f": m.first[weak]}).drop_duplicates()
        counts = place.groupby(["d", "t"], sort=False).size()
        enough = counts[counts.to_numpy() >= long_text_hits].index
        T[enough.get_level_values(0).to_numpy(), enough.get_level_values(1).to_numpy()] = True
    return T


def _seed_evidence(texts: list[str], tokens: TokenArrays, m: _Matches, keep: np.ndarray | None = None,
                   tagged: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(text, theme, "'phrase', 'phrase'") of every tagged (text, theme): its outermost hits, quoted,
    in reading order, without case-insensitive repeats.

    ``keep`` is :func:`_outermost_mask` of ``m`` (computed when None); ``tagged`` (text x theme,
    optional) restricts the evidence to the (text, theme) pairs the salience rule kept.
    """
    keep = _outermost_mask(m) if keep is None else keep
    if tagged is not None:
        keep = keep & tagged[m.doc, m.theme]
    doc, theme = m.doc[keep], m.theme[keep]
    if not len(doc):
        return doc, theme, []
    o = np.lexsort((theme, doc))  # stable: reading order within a (text, theme)
    doc, theme = doc[o], theme[o]
    quoted = [f"'{texts[r][a:b]}'" for r, a, b in
              zip(doc.tolist(), tokens.starts[m.first[keep][o]].tolist(), tokens.ends[m.last[keep][o]].tolist())]
    # case-insensitive repeats: only a (text, theme) with two or more hits can hold one
    new_group = np.r_[True, (doc[1:] != doc[:-1]) | (theme[1:] != theme[:-1])]
    size = np.diff(np.r_[np.flatnonzero(new_group), len(doc)])
    multi = np.flatnonzero(np.repeat(size > 1, size))
    if len(multi):
        low = [quoted[i].lower() for i in multi.tolist()]
        dup = pd.DataFrame({"d": doc[multi], "t": theme[multi], "q": low}).duplicated().to_numpy()
        if dup.any():
            repeat = np.zeros(len(doc), dtype=bool)
            repeat[multi[dup]] = True
            doc, theme = doc[~repeat], theme[~repeat]
            quoted = [q for q, r in zip(quoted, repeat.tolist()) if not r]
    bounds = np.flatnonzero(np.r_[True, (doc[1:] != doc[:-1]) | (theme[1:] != theme[:-1]), True])
    first = bounds[:-1]
    joined = [", ".join(quoted[a:b]) if b - a > 1 else quoted[a] for a, b in zip(first.tolist(), bounds[1:].tolist())]
    return doc[first], theme[first], joined


def _evidence_strings(n_docs: int, doc: np.ndarray, theme: np.ndarray, parts: list[str],
                      ids: tuple[str, ...]) -> list[str]:
    """Per text: "theme: evidence; theme: evidence" in taxonomy order ("" for no theme)."""
    out = [""] * n_docs
    if not parts:
        return out
    o = np.lexsort((theme, doc))
    doc, theme = doc[o], theme[o]
    labelled = [f"{ids[t]}: {parts[i]}" for t, i in zip(theme.tolist(), o.tolist())]
    bounds = np.flatnonzero(np.r_[True, doc[1:] != doc[:-1], True])
    for r, a, b in zip(doc[bounds[:-1]].tolist(), bounds[:-1].tolist(), bounds[1:].tolist()):
        out[r] = "; ".join(labelled[a:b]) if b - a > 1 else labelled[a]
    return out


@dataclass(frozen=True)
class _FeatureTokens:
    """The learned model's features of many texts: stemmed unigrams and bigrams outside seed hits."""

    pos: np.ndarray  # token index of each feature word, in reading order
    doc: np.ndarray  # its text
    stem: np.ndarray  # its stem id (into ``stems``)
    bigram: np.ndarray  # True: also forms a bigram with the previous feature word
    stems: list


def _feature_tokens(tokens: TokenArrays, words: _WordTable, m: _Matches) -> _FeatureTokens:
    """Vectorised :func:`_features`: which tokens are features and which pairs form bigrams."""
    n = len(tokens.words)
    diff = np.zeros(n + 1, dtype=np.int32)
    np.add.at(diff, m.first, 1)
    np.add.at(diff, m.last + 1, -1)
    covered = np.cumsum(diff[:n]) > 0
    emit = ~covered & ~words.skip[tokens.words]
    # a covered token or a clause start ends a bigram chain; stop words do not
    reset = np.cumsum(covered | tokens.clause_start)
    pos = np.flatnonzero(emit)
    bigram = np.zeros(len(pos), dtype=bool)
    if len(pos) > 1:
        bigram[1:] = reset[pos[1:]] == reset[pos[:-1]]
    stem_codes, stems = pd.factorize(pd.Series(words.stem, dtype=object), sort=False)
    return _FeatureTokens(pos=pos, doc=tokens.doc[pos], stem=stem_codes[tokens.words[pos]],
                          bigram=bigram, stems=list(stems))


def _surfaces(tokens: TokenArrays, ft: _FeatureTokens, lo: int, hi: int) -> dict[str, str]:
    """Feature -> the words it came from in one text (features ``lo:hi``), as :func:`_features` gives."""
    surface: dict[str, str] = {}
    prev = None
    for k in range(lo, hi):
        tok = tokens.vocabulary[tokens.words[ft.pos[k]]]
        st = ft.stems[ft.stem[k]]
        surface.setdefault(st, tok)
        if ft.bigram[k] and prev is not None:
            surface.setdefault(f"{prev} {st}", f"{surface[prev]} {tok}")
        prev = st
    return surface


class _FeatureSpace:
    """The learned model's vocabulary (stemmed unigrams and bigrams) and TF-IDF weights.

    Built like ``TfidfVectorizer(sublinear_tf=True, min_df=2, max_features=200_000)`` on
    the lists :func:`_features` gives (same columns, same values), but counted from token
    arrays into a sparse matrix directly.
    """

    def __init__(self, names: np.ndarray, tfidf: TfidfTransformer):
        self.names = names
        self.tfidf = tfidf
        stems: dict[str, int] = {}
        uni_col, pair_code, pair_col = [], [], []
        for col, name in enumerate(names.tolist()):
            a, _, b = name.partition(" ")
            ia = stems.setdefault(a, len(stems))
            if b:
                ib = stems.setdefault(b, len(stems))
                pair_code.append((ia, ib))
                pair_col.append(col)
            else:
                uni_col.append((ia, col))
        self.stem_index = stems
        self.uni = np.full(len(stems) + 1, -1, dtype=np.int64)  # last slot: unknown stem
        for ia, col in uni_col:
            self.uni[ia] = col
        width = len(stems) + 1
        codes = np.array([a * width + b for a, b in pair_code], dtype=np.int64)
        order = np.argsort(codes)
        self.pair_codes = codes[order]
        self.pair_cols = np.array(pair_col, dtype=np.int64)[order]

    def get_feature_names_out(self) -> np.ndarray:
        return self.names

    def counts(self, ft: _FeatureTokens, n_docs: int) -> sp.csr_matrix:
        unknown = len(self.stem_index)
        local = np.fromiter((self.stem_index.get(st, unknown) for st in ft.stems), dtype=np.int64,
                            count=len(ft.stems))
        g = local[ft.stem] if len(ft.stem) else np.zeros(0, dtype=np.int64)
        cols = [self.uni[g]]
        rows = [ft.doc]
        bi = np.flatnonzero(ft.bigram)
        if len(bi) and len(self.pair_codes):
            a, b = g[bi - 1], g[bi]
            code = a * (unknown + 1) + b
            at = np.minimum(np.searchsorted(self.pair_codes, code), len(self.pair_codes) - 1)
            found = (self.pair_codes[at] == code) & (a != unknown) & (b != unknown)
            cols.append(np.where(found, self.pair_cols[at], -1))
            rows.append(ft.doc[bi])
        col = np.concatenate(cols)
        row = np.concatenate(rows)
        ok = col >= 0
        X = sp.csr_matrix((np.ones(int(ok.sum())), (row[ok], col[ok])), shape=(n_docs, len(self.names)))
        X.sum_duplicates()
        X.sort_indices()
        return X

    def transform(self, ft: _FeatureTokens, n_docs: int) -> sp.csr_matrix:
        return self.tfidf.transform(self.counts(ft, n_docs))

    @classmethod
    def fit(cls, parts: list[_FeatureTokens], n_docs: int) -> "tuple[_FeatureSpace, sp.csr_matrix] | None":
        """Vocabulary and TF-IDF from the features of ``n_docs`` texts (chunks with their doc offsets)."""
        stems: dict[str, int] = {}
        docs, codes, seqs = [], [], []
        k0 = 0  # features words before this chunk
        for ft in parts:
            local = np.fromiter((stems.setdefault(st, len(stems)) for st in ft.stems), dtype=np.int64,
                                count=len(ft.stems))
            g = local[ft.stem] if len(ft.stem) else np.zeros(0, dtype=np.int64)
            k = np.arange(k0, k0 + len(g), dtype=np.int64)
            k0 += len(g)
            bi = np.flatnonzero(ft.bigram)
            docs += [ft.doc, ft.doc[bi]]
            # unigram: the stem id; bigram: a negative code
            codes += [g, -(g[bi - 1] * (1 << 31) + g[bi]) - 1]
            seqs += [2 * k, 2 * k[bi] + 1]  # reading order: each word, then its bigram
        doc = np.concatenate(docs) if docs else np.zeros(0, dtype=np.int64)
        code = np.concatenate(codes) if codes else np.zeros(0, dtype=np.int64)
        seq = np.concatenate(seqs) if seqs else np.zeros(0, dtype=np.int64)
        if not len(code) or n_docs < _MIN_DF:
            return None  # TfidfVectorizer: empty vocabulary, or max_df below min_df
        uniq, col = np.unique(code, return_inverse=True)
        col = col.ravel()
        names_of = list(stems)
        names = []
        for c in uniq.tolist():
            if c >= 0:
                names.append(names_of[c])
            else:
                c = -c - 1
                names.append(f"{names_of[c >> 31]} {names_of[c & ((1 << 31) - 1)]}")
        names = np.array(names, dtype=object)  # type: ignore[assignment]
        by_name = np.argsort(names, kind="stable")  # sklearn sorts the vocabulary by name
        rank = np.empty(len(names), dtype=np.int64)
        rank[by_name] = np.arange(len(names))
        names = names[by_name]
        col = rank[col]
        # counts per (text, feature); within a text, sklearn's fitted matrix lists the
        # features in the order they first appeared in the whole corpus
        first_seen = np.full(len(names), np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(first_seen, col, seq)
        pair = doc * len(names) + col
        upair, count = np.unique(pair, return_counts=True)
        udoc, ucol = upair // len(names), upair % len(names)
        dfs = np.bincount(ucol, minlength=len(names))
        mask = dfs >= _MIN_DF
        if mask.sum() > _MAX_FEATURES:
            tfs = np.bincount(ucol, weights=count, minlength=len(names))
            mask_inds = (-tfs[mask]).argsort()[:_MAX_FEATURES]
            new_mask = np.zeros(len(dfs), dtype=bool)
            new_mask[np.where(mask)[0][mask_inds]] = True
            mask = new_mask
        kept = np.flatnonzero(mask)
        if not len(kept):
            return None
        new_index = np.cumsum(mask) - 1
        sel = mask[ucol]
        udoc, ucol, count = udoc[sel], ucol[sel], count[sel]
        o = np.lexsort((first_seen[ucol], udoc))
        indptr = np.zeros(n_docs + 1, dtype=np.int64)
        np.cumsum(np.bincount(udoc, minlength=n_docs), out=indptr[1:])
        X = sp.csr_matrix((count[o].astype(np.float64), new_index[ucol[o]], indptr), shape=(n_docs, len(kept)))
        tfidf = TfidfTransformer(sublinear_tf=True).fit(X)
        return cls(names[kept], tfidf), tfidf.transform(X)
