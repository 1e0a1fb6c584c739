"""Tag feedback texts with taxonomy themes: seed phrases first, a learned model second.

Seed matching works on stemmed tokens, clause by clause, with negation scope and
exclusions (the rules are described at the top of ``data/themes.toml``). The
learned expansion is a TF-IDF + one-vs-rest logistic regression trained on the
seed-labelled texts; it only adds a theme to a text that no seed of that theme
matched, so every tag can be explained.
"""

from __future__ import annotations

import math
import multiprocessing
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.utils.validation import check_is_fitted

from feedbacklib.schema import TEXT, theme_column
from feedbacklib.text import (
    STOP_WORDS,
    clause_spans,
    is_negator,
    negated_positions,
    stem,
    token_spans,
)
from feedbacklib.themes.taxonomy import Taxonomy, load_taxonomy

__all__ = ["ThemeTagger", "tag_themes", "THEME_EVIDENCE", "SeedMatcher", "SeedHit"]

#: Column that :func:`tag_themes` adds: why each theme was tagged.
THEME_EVIDENCE = "theme_evidence"

_ARTICLES = frozenset({"a", "an", "the"})
_NEG = "<not>"  # a seed word "not": any verbal negator
_LITERAL_NEGATORS = frozenset({"no", "none", "nothing", "nobody", "without", "neither", "nor", "hardly", "barely"})
_MAX_GAP = 1  # words allowed between two consecutive seed words
_NEG_WINDOW = 3
_MIN_PRECISION = 0.8
_MIN_THRESHOLD = 0.5
_EVIDENCE_TERMS = 3
#: Distinct texts above which seed matching uses a fork-based Pool(2) (as sentiment does).
PARALLEL_MIN_TEXTS = 20_000
_POOL_STATE: tuple = ()  # (matcher, texts), inherited by forked workers


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


_DERIVATIONAL = ("fully", "ful", "less", "ness", "ly")


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
        for theme in taxonomy:
            for seed in theme.seeds:
                pat = _compile(seed)
                if pat:
                    self._seeds.setdefault(pat[0], []).append((theme.id, seed, pat))
            for phrase in theme.exclusions:
                pat = _compile(phrase)
                if pat:
                    self._excl.setdefault(pat[0], []).append((theme.id, pat))

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


def _identity(doc):
    return doc


def _hits_range(bounds: tuple[int, int]) -> list[list[SeedHit]]:
    matcher, texts = _POOL_STATE
    return [matcher.hits(t) for t in texts[bounds[0]:bounds[1]]]


def _all_hits(matcher: SeedMatcher, texts: list[str]) -> list[list[SeedHit]]:
    """``matcher.hits`` of every text; two forked workers above PARALLEL_MIN_TEXTS texts."""
    global _POOL_STATE
    if len(texts) <= PARALLEL_MIN_TEXTS or "fork" not in multiprocessing.get_all_start_methods():
        return [matcher.hits(t) for t in texts]
    _POOL_STATE = (matcher, texts)
    try:
        step = max(1, -(-len(texts) // 16))
        bounds = [(i, min(i + step, len(texts))) for i in range(0, len(texts), step)]
        with multiprocessing.get_context("fork").Pool(2) as pool:
            parts = pool.map(_hits_range, bounds)
    finally:
        _POOL_STATE = ()
    return [hs for part in parts for hs in part]


def _outermost(hits: list[SeedHit]) -> list[SeedHit]:
    """Hits not inside a longer hit of the same theme ("charged twice" hides "charged")."""
    return [
        h for h in hits
        if not any(o is not h and o.theme == h.theme and o.start <= h.start and h.end <= o.end
                   and (o.end - o.start) > (h.end - h.start) for o in hits)
    ]


def _features(text: str, hits: list[SeedHit]) -> tuple[list[str], dict[str, str]]:
    """Stemmed unigrams and bigrams of ``text`` outside seed hits, and stem -> surface word."""
    covered = [(h.start, h.end) for h in hits]
    feats: list[str] = []
    surface: dict[str, str] = {}
    for cs, ce in clause_spans(text):
        prev = None
        for tok, s, e in token_spans(text[cs:ce]):
            s += cs
            if tok in STOP_WORDS or len(tok) < 2 or tok.isdigit() or any(a <= s < b for a, b in covered):
                prev = None if any(a <= s < b for a, b in covered) else prev
                continue
            st = stem(tok)
            surface.setdefault(st, tok)
            feats.append(st)
            if prev is not None:
                bigram = f"{prev} {st}"
                feats.append(bigram)
                surface.setdefault(bigram, f"{surface[prev]} {tok}")
            prev = st
    return feats, surface


def _as_texts(X) -> tuple[list[str], pd.Index | None]:
    if isinstance(X, pd.DataFrame):
        if X.shape[1] != 1:
            raise ValueError(f"ThemeTagger expects one text column, got {X.shape[1]} columns: {list(X.columns)}")
        X = X.iloc[:, 0]
    index = X.index if isinstance(X, pd.Series) else None
    values = X.tolist() if isinstance(X, (pd.Series, np.ndarray)) else list(X)
    texts = [v if isinstance(v, str) else "" for v in values]
    return texts, index


def _choose_threshold(y_true: np.ndarray, proba: np.ndarray) -> float:
    """Threshold that maximises F1 with precision >= 0.8 on held-out data; inf if none."""
    best_f1, best_t = 0.0, math.inf
    for t in np.unique(proba):
        if t < _MIN_THRESHOLD:
            continue
        pred = proba >= t
        tp = int(np.sum(pred & y_true))
        if tp == 0:
            continue
        precision = tp / int(pred.sum())
        recall = tp / int(y_true.sum())
        f1 = 2 * precision * recall / (precision + recall)
        if precision >= _MIN_PRECISION and f1 > best_f1:
            best_f1, best_t = f1, float(t)
    return best_t


class ThemeTagger(TransformerMixin, BaseEstimator):
    """Multi-label theme tagger: taxonomy seeds plus a learned expansion.

    Parameters
    ----------
    taxonomy : Taxonomy, path or None
        The themes; ``None`` uses the built-in default taxonomy.
    learned : bool
        Train the expansion model; ``False`` tags with seeds only.
    threshold : float or None
        Probability above which the model adds a theme. ``None`` chooses it per
        theme on a held-out quarter of the seed-labelled texts: the threshold
        (at least 0.5) with the best F1 among those with precision >= 0.8; a
        theme with no such threshold gets no learned tags.
    min_seed_docs : int
        Themes with fewer seed-matched texts than this are not learned.
    random_state : int
        Seed of the held-out split, subsampling and the model (deterministic).
    max_fit_docs : int
        At most this many distinct texts are used to fit (sampled).

    Notes
    -----
    Each distinct text is matched once; above ``PARALLEL_MIN_TEXTS`` distinct texts the
    seed matching runs in two forked worker processes. The per-theme models are
    ``LogisticRegression(solver="liblinear", class_weight="balanced")`` (liblinear is
    several times faster than lbfgs on these wide sparse matrices).

    Attributes
    ----------
    taxonomy_ : Taxonomy
    theme_ids_ : tuple of str
    seed_counts_ : dict theme id -> number of distinct fitted texts a seed matched
    vectorizer_ : TfidfVectorizer or None
    models_ : dict theme id -> LogisticRegression (learned themes only)
    thresholds_ : dict theme id -> float (inf = never adds a learned tag)

    Examples
    --------
    >>> tagger = ThemeTagger(learned=False).fit(["I was on hold for an hour"])
    >>> tagger.transform(["I was on hold for an hour"])["responsiveness"].tolist()
    [True]
    """

    def __init__(
        self,
        taxonomy=None,
        *,
        learned: bool = True,
        threshold: float | None = None,
        min_seed_docs: int = 5,
        random_state: int = 0,
        max_fit_docs: int = 100_000,
    ):
        self.taxonomy = taxonomy
        self.learned = learned
        self.threshold = threshold
        self.min_seed_docs = min_seed_docs
        self.random_state = random_state
        self.max_fit_docs = max_fit_docs

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags

    # -- fitting -------------------------------------------------------------------------
    def fit(self, X, y=None):
        """Learn the expansion model from the seed matches in ``X`` (texts)."""
        tax = self.taxonomy
        if not isinstance(tax, Taxonomy):
            tax = load_taxonomy(tax)
        self.taxonomy_ = tax
        self.theme_ids_ = tax.ids
        matcher = _matcher_for(tax)
        texts, _ = _as_texts(X)
        uniq = sorted({t for t in texts if t.strip()})
        rng = np.random.RandomState(self.random_state)
        if len(uniq) > self.max_fit_docs:
            keep = np.sort(rng.choice(len(uniq), self.max_fit_docs, replace=False))
            uniq = [uniq[i] for i in keep]
        hits = _all_hits(matcher, uniq)
        Y = np.zeros((len(uniq), len(tax)), dtype=bool)
        col = {tid: k for k, tid in enumerate(tax.ids)}
        for r, hs in enumerate(hits):
            for h in hs:
                Y[r, col[h.theme]] = True
        self.seed_counts_ = {tid: int(Y[:, k].sum()) for tid, k in col.items()}
        self.vectorizer_ = None
        self.models_ = {}
        self.thresholds_ = {}
        if not self.learned or not uniq:
            return self
        docs = []
        for t, hs in zip(uniq, hits):
            docs.append(_features(t, hs)[0])
        learnable = [
            tid for tid, k in col.items()
            if self.seed_counts_[tid] >= self.min_seed_docs and len(uniq) - self.seed_counts_[tid] >= self.min_seed_docs
        ]
        if not learnable:
            return self
        vec = TfidfVectorizer(analyzer=_identity, sublinear_tf=True, min_df=2, max_features=200_000)
        try:
            M = vec.fit_transform(docs)
        except ValueError:  # empty vocabulary (tiny or seed-only corpus)
            return self
        self.vectorizer_ = vec
        for tid in learnable:
            y_t = Y[:, col[tid]]
            if self.threshold is not None:
                thr = float(self.threshold)
            else:
                thr = self._held_out_threshold(M, y_t)
            model = LogisticRegression(class_weight="balanced", solver="liblinear", random_state=self.random_state, max_iter=1000)
            model.fit(M, y_t)
            self.models_[tid] = model
            self.thresholds_[tid] = thr
        return self

    def _held_out_threshold(self, M, y: np.ndarray) -> float:
        try:
            tr, te = train_test_split(
                np.arange(len(y)), test_size=0.25, stratify=y, random_state=self.random_state
            )
        except ValueError:
            return math.inf
        if y[te].sum() < 2 or y[tr].sum() < 2:
            return math.inf
        model = LogisticRegression(class_weight="balanced", solver="liblinear", random_state=self.random_state, max_iter=1000)
        model.fit(M[tr], y[tr])
        return _choose_threshold(y[te], model.predict_proba(M[te])[:, 1])

    # -- tagging -------------------------------------------------------------------------
    def _tag_unique(self, texts: list[str]) -> tuple[np.ndarray, list[str]]:
        check_is_fitted(self, "theme_ids_")
        matcher = _matcher_for(self.taxonomy_)
        ids = self.theme_ids_
        col = {tid: k for k, tid in enumerate(ids)}
        T = np.zeros((len(texts), len(ids)), dtype=bool)
        ev: list[dict[str, list[str]]] = [dict() for _ in texts]
        all_hits = _all_hits(matcher, texts)
        for r, text in enumerate(texts):
            hs = all_hits[r]
            for h in _outermost(hs) if len(hs) > 1 else hs:
                T[r, col[h.theme]] = True
                quoted = f"'{text[h.start:h.end]}'"
                lst = ev[r].setdefault(h.theme, [])
                if quoted.lower() not in (q.lower() for q in lst):
                    lst.append(quoted)
        if self.models_ and self.vectorizer_ is not None and texts:
            feats = [_features(t, hs) if t else ([], {}) for t, hs in zip(texts, all_hits)]
            M = self.vectorizer_.transform([f for f, _ in feats])
            names = self.vectorizer_.get_feature_names_out()
            for tid, model in self.models_.items():
                thr = self.thresholds_[tid]
                if not np.isfinite(thr):
                    continue
                k = col[tid]
                todo = np.flatnonzero(~T[:, k] & (M.getnnz(axis=1) > 0))
                if not len(todo):
                    continue
                proba = model.predict_proba(M[todo])[:, 1]
                coef = model.coef_[0]
                for r, p in zip(todo[proba >= thr], proba[proba >= thr]):
                    row = M[r]
                    contrib = row.data * coef[row.indices]
                    # ties (equal rounded contributions) broken by term name, so reruns match
                    term_names = np.array([names[i] for i in row.indices])
                    order = np.lexsort((term_names, -np.round(contrib, 9)))
                    terms = [names[row.indices[o]] for o in order[:_EVIDENCE_TERMS] if contrib[o] > 0]
                    if not terms:
                        continue
                    surface = feats[r][1]
                    T[r, k] = True
                    ev[r][tid] = ["learned: " + ", ".join(surface.get(t, t) for t in terms)]
        evidence = [
            "; ".join(f"{tid}: {', '.join(e[tid])}" for tid in ids if tid in e) for e in ev
        ]
        return T, evidence

    def _tag(self, X) -> tuple[pd.DataFrame, pd.Series]:
        check_is_fitted(self, "theme_ids_")
        texts, index = _as_texts(X)
        codes, uniq = pd.factorize(pd.Series(texts, dtype=object))
        uniq_list = list(uniq)
        T, ev = self._tag_unique(uniq_list)
        idx = index if index is not None else pd.RangeIndex(len(texts))
        if len(texts):
            frame = pd.DataFrame(T[codes], columns=list(self.theme_ids_), index=idx)
            evidence = pd.Series(np.asarray(ev, dtype=object)[codes], index=idx, dtype="string")
        else:
            frame = pd.DataFrame({tid: pd.Series(dtype=bool) for tid in self.theme_ids_}, index=idx)
            evidence = pd.Series([], index=idx, dtype="string")
        return frame, evidence

    def transform(self, X) -> pd.DataFrame:
        """One boolean column per theme id, in taxonomy order."""
        return self._tag(X)[0]

    def evidence(self, X) -> pd.Series:
        """Why each text got its themes, e.g. ``"responsiveness: 'on hold'"``."""
        return self._tag(X)[1]

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        check_is_fitted(self, "theme_ids_")
        return np.asarray(self.theme_ids_, dtype=object)


def tag_themes(frame: pd.DataFrame, tagger: ThemeTagger | None = None, *, text_col: str = TEXT) -> pd.DataFrame:
    """Return a copy of ``frame`` with one boolean ``theme_<id>`` column per theme and evidence.

    When ``tagger`` is None a default :class:`ThemeTagger` is fitted on the frame's
    texts; an unfitted tagger is fitted the same way. The input is not modified.

    Examples
    --------
    >>> df = pd.DataFrame({"text": ["Hold on, I was charged twice!", "Lovely staff"]})
    >>> tag_themes(df, ThemeTagger(learned=False))["theme_surprise_charges"].tolist()
    [True, False]
    """
    if text_col not in frame.columns:
        raise KeyError(f"tag_themes: the frame has no {text_col!r} column (columns: {list(frame.columns)})")
    texts = frame[text_col]
    if tagger is None:
        tagger = ThemeTagger()
    try:
        check_is_fitted(tagger, "theme_ids_")
    except Exception:
        tagger.fit(texts)
    tags, evidence = tagger._tag(texts)
    out = frame.copy()
    for tid in tagger.theme_ids_:
        out[theme_column(tid)] = tags[tid].to_numpy(dtype=bool)
    out[THEME_EVIDENCE] = evidence.to_numpy()
    out[THEME_EVIDENCE] = out[THEME_EVIDENCE].astype("string")
    return out
