"""Tag feedback texts with taxonomy themes: seed phrases, a supervised model, a learned expansion.

Issue 13: with the default ``supervised=True``, texts longer than ``SEED_ONLY_TOKENS`` tokens are
tagged by a supervised model trained on reader-labelled examples (``themes/supervised.py``; its
features include the seed matches below); shorter texts are tagged by their seeds.

Seed matching works on stemmed tokens, clause by clause, with negation scope and
exclusions (the rules are described at the top of ``data/themes.toml``). In a long text a
theme mentioned only in passing, by one common word ("fee" once in a two-page letter), is not
tagged (the salience rule, see ``ThemeTagger``). The learned expansion is a TF-IDF +
one-vs-rest logistic regression trained on the seed-labelled texts; it only adds a theme to a
text that no counted seed of that theme matched, so every tag can be explained.

Tagging works on many texts at once: :func:`feedbacklib.text.tokenize_many` turns them
into integer token arrays (each distinct word stemmed once), seed phrases are matched
with array operations over those ids (``SeedMatcher.match_many``) and the learned
model's features are counted straight into a sparse matrix. ``SeedMatcher.hits`` is the
per-text reference of the same rules (kept for per-clause sentiment and the tests).
"""

from __future__ import annotations

import dataclasses
import math
import multiprocessing

import numpy as np
import pandas as pd
from scipy.special import expit
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.utils.validation import check_is_fitted

from feedbacklib.schema import TEXT, theme_column
from feedbacklib.text import (
    STOP_WORDS,
    TokenArrays,
    clause_spans,
    stem,
    token_spans,
    tokenize_many,
)
from feedbacklib.themes.taxonomy import Taxonomy, load_taxonomy
from feedbacklib.themes.matching import (
    THEME_EVIDENCE,
    _MIN_PRECISION,
    _MIN_THRESHOLD,
    _EVIDENCE_TERMS,
    LONG_TEXT_TOKENS,
    LONG_TEXT_HITS,
    COMMON_SEED_DF,
    SEED_ONLY_TOKENS,
    CHUNK_TEXTS,
    PARALLEL_MIN_TEXTS,
    SeedHit,
    SeedMatcher,
    _matcher_for,
    _Matches,
    _word_table,
    _outermost_mask,
    _salient,
    _seed_evidence,
    _evidence_strings,
    _FeatureTokens,
    _feature_tokens,
    _surfaces,
    _FeatureSpace,
)
from feedbacklib.themes.supervised import features as supervised_features
from feedbacklib.themes.supervised import fit_supervised, shipped_examples
from feedbacklib.forking import can_fork

__all__ = ["ThemeTagger", "tag_themes", "THEME_EVIDENCE", "SeedMatcher", "SeedHit"]

_POOL_STATE: tuple = ()  # (tagger, texts), inherited by forked workers


def _chunks(n: int, size: int) -> list[tuple[int, int]]:
    return [(a, min(a + size, n)) for a in range(0, n, size)] or [(0, 0)]


def _tag_range(bounds: tuple[int, int]) -> tuple[np.ndarray, list[str]]:
    tagger, texts = _POOL_STATE
    return tagger._tag_chunk(texts[bounds[0]:bounds[1]])


def _texts_subset(tokens: TokenArrays, m: _Matches, docs: np.ndarray) -> tuple[TokenArrays, _Matches]:
    """The token arrays and seed hits of the texts ``docs`` (sorted indices) alone, in that order,
    with the same vocabulary and word ids: what ``tokenize_many`` and ``match_many`` give each of
    those texts, without tokenising them again."""
    if len(docs) == len(tokens.offsets) - 1:
        return tokens, m
    lens = np.diff(tokens.offsets)[docs]
    offsets = np.zeros(len(docs) + 1, dtype=np.int64)
    np.cumsum(lens, out=offsets[1:])
    shift = tokens.offsets[docs] - offsets[:-1]  # old token index - new one, per kept text
    take = np.repeat(shift, lens) + np.arange(offsets[-1], dtype=np.int64)
    sub = TokenArrays(offsets=offsets, words=tokens.words[take], vocabulary=tokens.vocabulary,
                      starts=tokens.starts[take], ends=tokens.ends[take],
                      clause_start=tokens.clause_start[take], scope_break=tokens.scope_break[take])
    new_doc = np.full(len(tokens.offsets) - 1, -1, dtype=np.int64)
    new_doc[docs] = np.arange(len(docs))
    hit = new_doc[m.doc] >= 0
    d = new_doc[m.doc[hit]]
    back = shift[d]
    return sub, _Matches(doc=d, theme=m.theme[hit], seed=m.seed[hit], first=m.first[hit] - back,
                         last=m.last[hit] - back)


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
        for tok, s, _e in token_spans(text[cs:ce]):
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
    """Threshold that maximises F1 with precision >= ``_MIN_PRECISION`` on held-out data; inf if none."""
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
        (at least 0.5) with the best F1 among those with precision >= 0.6 against
        the seed labels; a theme with no such threshold gets no learned tags.
        (The 0.6 floor was 0.8 until issue 4; it was chosen on the TUNE half of
        ``benchmarks/eval_themes.py``, see the Notes.)
    min_seed_docs : int
        Themes with fewer seed-matched texts than this are not learned.
    random_state : int
        Seed of the held-out split, subsampling and the model (deterministic).
    max_fit_docs : int
        At most this many distinct texts are used to fit (sampled).
    long_text : int or None
        Salience rule: in a text of more than ``long_text`` tokens, a theme whose only
        seed hits are *common seeds* needs ``long_text_hits`` of them, at distinct places,
        to be tagged ("one passing mention of a fee in a two-page letter is not a fee
        complaint"). Shorter texts, and any hit of another seed, are unaffected. ``None``
        turns the rule off.
    long_text_hits : int
        Hits of common seeds a long text needs (see ``long_text``).
    common_seed_df : float
        A single-word seed is common when ``fit`` finds it in more than this share of the
        distinct fitted texts: a topic word of the corpus ("interest", "fee" and "charges"
        in loan complaints) rather than a complaint in itself. Phrases of two or more
        words are never common. Chosen without labels, so it follows the corpus; fitted on
        no texts, no seed is common and the rule does nothing.
    supervised : bool
        With ``learned=True``: tag texts of more than ``SEED_ONLY_TOKENS`` tokens with the
        supervised model of :mod:`feedbacklib.themes.supervised` (per-theme logistic
        regression trained on the shipped reader-labelled examples and the analyst's labels
        file the taxonomy points to, never on the fitted texts themselves); shorter texts keep
        their seed tags. Themes without enough labelled examples keep the seeds and the
        learned expansion. ``False``: the issue-4 tagger (seeds, salience, expansion).

    Notes
    -----
    Each distinct text is tagged once, in chunks of ``CHUNK_TEXTS``: the texts become integer
    token arrays (:func:`feedbacklib.text.tokenize_many`), seeds are matched with array
    operations (``SeedMatcher.match_many``, the same hits as the per-text ``SeedMatcher.hits``)
    and the learned features are counted straight into a sparse matrix. Above
    ``PARALLEL_MIN_TEXTS`` distinct texts the chunks are tagged by two forked workers. The
    per-theme models are ``LogisticRegression(solver="liblinear", class_weight="balanced")``
    (liblinear is several times faster than lbfgs on these wide sparse matrices).

    The seed labels the model learns from are the tags after the salience rule, and the
    model may add a theme to a long text whose passing mention the rule did not count.

    Defaults chosen on data (issue 4): ``long_text=120``, ``long_text_hits=2``,
    ``common_seed_df=0.05`` and the 0.6 precision floor of the learned thresholds were
    chosen on the TUNE half of the CFPB narratives in ``benchmarks/eval_themes.py`` (fixed
    split; the REPORT half was not read), as the settings with the best surprise_charges
    F1 that keep its recall at 0.80 or more without lowering the recall of the other
    labelled themes. Texts of at most 120 tokens (nearly every survey comment) are tagged
    by their seeds exactly as without the rule.

    Attributes
    ----------
    taxonomy_ : Taxonomy
    theme_ids_ : tuple of str
    seed_counts_ : dict theme id -> number of distinct fitted texts a seed matched
    vectorizer_ : the learned features (stemmed unigrams and bigrams outside seed hits, TF-IDF
        as ``TfidfVectorizer(sublinear_tf=True, min_df=2, max_features=200_000)`` would give;
        ``get_feature_names_out()``), or None
    models_ : dict theme id -> LogisticRegression (learned themes only)
    thresholds_ : dict theme id -> float (inf = never adds a learned tag)
    common_seeds_ : dict theme id -> tuple of the theme's common seeds (see ``common_seed_df``)
    common_seed_mask_ : bool array, per entry of ``SeedMatcher.seed_list``: the seed is common
    supervised_ : :class:`feedbacklib.themes.supervised.SupervisedModel` or None

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
        long_text: int | None = LONG_TEXT_TOKENS,
        long_text_hits: int = LONG_TEXT_HITS,
        common_seed_df: float = COMMON_SEED_DF,
        supervised: bool = True,
    ):
        self.taxonomy = taxonomy
        self.learned = learned
        self.threshold = threshold
        self.min_seed_docs = min_seed_docs
        self.random_state = random_state
        self.max_fit_docs = max_fit_docs
        self.long_text = long_text
        self.long_text_hits = long_text_hits
        self.common_seed_df = common_seed_df
        self.supervised = supervised

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
        Y = np.zeros((len(uniq), len(tax)), dtype=bool)
        parts: list[_FeatureTokens] = []
        matched: list[tuple[int, int, _Matches, np.ndarray]] = []
        seed_docs = np.zeros(len(matcher.seed_list), dtype=np.int64)  # distinct texts each seed hit
        for lo, hi in _chunks(len(uniq), CHUNK_TEXTS):
            tokens = tokenize_many(uniq[lo:hi])
            words = _word_table(tokens.vocabulary)
            m = matcher.match_many(tokens, words)
            matched.append((lo, hi, m, np.diff(tokens.offsets)))
            pairs = np.unique(m.doc * len(matcher.seed_list) + m.seed)
            seed_docs += np.bincount(pairs % len(matcher.seed_list), minlength=len(matcher.seed_list))
            if self.learned:
                ft = _feature_tokens(tokens, words, m)
                parts.append(dataclasses.replace(ft, doc=ft.doc + lo))
        # single-word seeds found in more than common_seed_df of the texts: this corpus's topic words
        common = ~matcher.phrase_seeds & (seed_docs > self.common_seed_df * max(len(uniq), 1))
        self.common_seed_mask_ = common
        self.common_seeds_ = {
            tid: tuple(seed for (t, seed, _, _), c in zip(matcher.seed_list, common) if c and t == k)
            for k, tid in enumerate(tax.ids)
        }
        for lo, hi, m, n_tokens in matched:
            Y[lo:hi] = self._seed_tags(m, n_tokens, hi - lo)
        col = {tid: k for k, tid in enumerate(tax.ids)}
        self.seed_counts_ = {tid: int(Y[:, k].sum()) for tid, k in col.items()}
        self.vectorizer_ = None
        self.models_ = {}
        self.thresholds_ = {}
        self.supervised_ = None
        if self.learned and self.supervised:
            shipped = shipped_examples()["text"]
            present = frozenset(texts)  # a set lookup: pandas' isin over every distinct comment cost ~1 s at 1M
            inside = shipped[[text in present for text in shipped]]
            self.supervised_ = fit_supervised(tax, frozenset(inside.tolist()), self.random_state)
        covered = set(self.supervised_.themes) if self.supervised_ is not None else set()
        if not self.learned or not uniq:
            return self
        learnable = [
            tid for tid, k in col.items()
            if k not in covered and self.seed_counts_[tid] >= self.min_seed_docs and len(uniq) - self.seed_counts_[tid] >= self.min_seed_docs
        ]
        if not learnable:
            return self
        fitted = _FeatureSpace.fit(parts, len(uniq))
        if fitted is None:  # empty vocabulary (tiny or seed-only corpus)
            return self
        self.vectorizer_, M = fitted

        def learn(tid: str) -> tuple[float, LogisticRegression]:
            y_t = Y[:, col[tid]]
            thr = float(self.threshold) if self.threshold is not None else self._held_out_threshold(M, y_t)
            model = LogisticRegression(class_weight="balanced", solver="liblinear", random_state=self.random_state, max_iter=1000)
            return thr, model.fit(M, y_t)

        for tid in learnable:
            self.thresholds_[tid], self.models_[tid] = learn(tid)
        return self

    def _seed_tags(self, m: _Matches, n_tokens: np.ndarray, n_texts: int, keep: np.ndarray | None = None) -> np.ndarray:
        """(text, theme) tags of the seed hits ``m`` (``n_tokens`` per text), after the salience rule."""
        return _salient(m, _outermost_mask(m) if keep is None else keep, n_tokens, self.common_seed_mask_,
                        (n_texts, len(self.theme_ids_)), self.long_text, self.long_text_hits)

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
        if len(texts) > PARALLEL_MIN_TEXTS and can_fork():
            # two forked workers, each tagging whole chunks (they inherit the texts)
            global _POOL_STATE
            bounds = _chunks(len(texts), min(CHUNK_TEXTS, -(-len(texts) // 4)))
            _POOL_STATE = (self, texts)
            try:
                with multiprocessing.get_context("fork").Pool(2) as pool:
                    parts = pool.map(_tag_range, bounds, chunksize=1)
            finally:
                _POOL_STATE = ()
        else:
            parts = [self._tag_chunk(texts[lo:hi]) for lo, hi in _chunks(len(texts), CHUNK_TEXTS)]
        T = np.concatenate([p[0] for p in parts]) if parts else np.zeros((0, len(self.theme_ids_)), dtype=bool)
        return T, [e for p in parts for e in p[1]]

    def _tag_chunk(self, texts: list[str]) -> tuple[np.ndarray, list[str]]:
        matcher = _matcher_for(self.taxonomy_)
        ids = self.theme_ids_
        col = {tid: k for k, tid in enumerate(ids)}
        tokens = tokenize_many(texts)
        words = _word_table(tokens.vocabulary)
        m = matcher.match_many(tokens, words)
        keep = _outermost_mask(m)
        T = self._seed_tags(m, np.diff(tokens.offsets), len(texts), keep)
        learned_doc, learned_theme = [], []
        sup = getattr(self, "supervised_", None)
        sup_terms: list[tuple[int, int, np.ndarray]] = []
        if sup is not None and texts:
            # with the analyst's own labels the model is trained on text of this kind: it tags all texts
            model_rows = np.diff(tokens.offsets) > (SEED_ONLY_TOKENS if not sup.n_analyst else -1)
            if model_rows.any():  # (survey comments are short: often no text needs the model)
                # the features of those texts only (each row's features depend on its own text alone)
                X_rows = np.flatnonzero(model_rows)
                sub_tokens, sub_m = _texts_subset(tokens, m, X_rows)
                X = supervised_features(sub_tokens, words, sub_m, matcher, sup.space)
                P = sup.proba(X)
                has_seed = np.zeros_like(T)
                has_seed[m.doc, m.theme] = True
                for c, k in enumerate(sup.themes):
                    T[model_rows, k] = P[:, c] >= sup.thresholds[c]
                    sup_terms.append((c, k, np.flatnonzero(T[:, k] & ~has_seed[:, k])))
        ev_doc, ev_theme, ev_text = _seed_evidence(texts, tokens, m, keep, T)
        if sup_terms:
            assert sup is not None  # terms come from the supervised model
            ft_all = None
            n_words = len(sup.space.names)
            Xw = X[:, :n_words].tocsr()  # row i: text X_rows[i]
            names = sup.space.get_feature_names_out()
            for c, k, todo in sup_terms:
                coef = sup.W[:n_words, c]
                for r, x in zip(todo.tolist(), np.searchsorted(X_rows, todo).tolist()):
                    a, b = Xw.indptr[x], Xw.indptr[x + 1]
                    indices = Xw.indices[a:b]
                    contrib = Xw.data[a:b] * coef[indices]
                    order = np.lexsort((names[indices], -np.round(contrib, 9)))
                    terms = [names[indices[o]] for o in order[:_EVIDENCE_TERMS] if contrib[o] > 0]
                    if ft_all is None:
                        ft_all = _feature_tokens(tokens, words, _Matches.empty())
                        bounds_all = np.searchsorted(ft_all.doc, np.arange(len(texts) + 1))
                    surface = _surfaces(tokens, ft_all, bounds_all[r], bounds_all[r + 1])
                    learned_doc.append(r)
                    learned_theme.append(k)
                    ev_text.append("learned: " + (", ".join(surface.get(t, t) for t in terms) or "(the text as a whole)"))
        if self.models_ and self.vectorizer_ is not None and texts:
            ft = _feature_tokens(tokens, words, m)
            M = self.vectorizer_.transform(ft, len(texts))
            names = self.vectorizer_.get_feature_names_out()
            doc_bounds = np.searchsorted(ft.doc, np.arange(len(texts) + 1))
            nnz = np.diff(M.indptr)
            live = [tid for tid in self.models_ if np.isfinite(self.thresholds_[tid])]
            rows = np.flatnonzero(nnz > 0)
            if live and len(rows):
                # every model's decision function in one product: the same sums as predict_proba's
                W = np.hstack([self.models_[tid].coef_.T for tid in live])
                b = np.concatenate([self.models_[tid].intercept_ for tid in live])
                P = expit(np.asarray(M[rows] @ W) + b)
            for c, tid in enumerate(live if len(rows) else ()):
                thr = self.thresholds_[tid]
                k = col[tid]
                open_ = ~T[rows, k]
                todo, proba = rows[open_], P[open_, c]
                if not len(todo):
                    continue
                coef = self.models_[tid].coef_[0]
                for r in todo[proba >= thr].tolist():
                    a, b = M.indptr[r], M.indptr[r + 1]
                    indices = M.indices[a:b]
                    contrib = M.data[a:b] * coef[indices]
                    # ties (equal rounded contributions) broken by term name, so reruns match
                    term_names = names[indices]
                    order = np.lexsort((term_names, -np.round(contrib, 9)))
                    terms = [names[indices[o]] for o in order[:_EVIDENCE_TERMS] if contrib[o] > 0]
                    if not terms:
                        continue
                    surface = _surfaces(tokens, ft, doc_bounds[r], doc_bounds[r + 1])
                    T[r, k] = True
                    learned_doc.append(r)
                    learned_theme.append(k)
                    ev_text.append("learned: " + ", ".join(surface.get(t, t) for t in terms))
        evidence = _evidence_strings(
            len(texts), np.concatenate([ev_doc, np.array(learned_doc, dtype=np.int64)]),
            np.concatenate([ev_theme, np.array(learned_theme, dtype=np.int64)]), ev_text, ids)
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
