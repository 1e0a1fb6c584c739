"""Discover emerging themes: cluster the comments that no taxonomy theme covers.

The method, chosen on real complaint narratives (see ``benchmarks/eval_themes.py``):

1. clean: drop redaction tokens (``XXXX``, ``XX/XX/XXXX``), amounts (``{$12.00}``) and digits;
2. count words and two-word phrases (``min_df`` / ``max_df``, English stop words out); TF-IDF
   with sublinear term frequency on top;
3. LSA: truncated SVD of the TF-IDF to ``n_components`` dimensions by subspace iteration
   started from the corpus's own documents (no random matrix), rows scaled to unit length (so
   Euclidean geometry is cosine geometry: spherical clustering);
4. Ward agglomerative clustering (deterministic, no random start) gives, for every k, a
   partition whose centroids start one k-means refinement. Ward replaces the many random
   k-means starts whose disagreement makes topic models unstable from run to run;
5. a mixture of word distributions refines that partition by EM on the counts (see
   :class:`_WordMixture`): each candidate is a distribution over terms; a text's membership is
   soft, from its mean log-probability per term, scaled as if every text were
   ``_TOKENS_PER_TEXT`` terms long, so a long narrative and a one-line comment weigh alike.
   On CFPB narratives this step raised the NMI against ``Issue`` from 0.309 to 0.329 (TUNE
   half), more than any change of the vector space did; on the sample report's uncovered
   comments, the largest candidate fell from 72% to 27% of them (generic filler no longer
   absorbs everything). :meth:`ThemeDiscovery.predict` uses the same mixture;
6. k is the value in ``[k_min, k_max]`` with the best cosine silhouette (ties: the smaller).

Nothing in steps 1-6 draws random numbers except, on large inputs, the samples Ward and the
silhouette are computed on (``random_state``). Up to 3,000 texts the result does not depend on
any seed (with a randomized SVD, two seeds agreed only at ARI 0.5-0.7 on 3,656 CFPB
narratives: Ward amplifies small differences in the LSA basis). The fit runs with one BLAS
thread: the same bits whatever the machine's thread count, and on a busy 2-core machine the
small dense factorisations ran 2-10x faster than with two threads.

Each cluster becomes a :class:`Candidate`: its most distinctive terms (mean TF-IDF inside the
cluster minus outside), its most representative quotes (closest to the centroid), its size
and share. :func:`candidate_growth` counts each candidate month by month; and
:func:`promote_candidate` appends a candidate to a taxonomy TOML file.

Examples
--------
>>> texts = ["the app crashes at login", "app crashes at login again", "my app crashes at login",
...          "parcel soaked in the rain", "my parcel soaked in the rain", "parcel soaked in rain again"] * 3
>>> disc = ThemeDiscovery(k_min=2, k_max=4, random_state=0).fit(texts)
>>> disc.n_clusters_, sorted(c.size for c in disc.candidates_)
(2, [9, 9])
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.linalg import lu
from scipy.special import logsumexp
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
from sklearn.cluster import KMeans
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer, TfidfTransformer
from sklearn.metrics import pairwise_distances_chunked, silhouette_score
from sklearn.preprocessing import normalize
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from feedbacklib.errors import ConfigError
from feedbacklib.schema import TEXT, theme_column
from feedbacklib.themes.taxonomy import load_taxonomy, toml_string

__all__ = [
    "Candidate",
    "ThemeDiscovery",
    "candidate_growth",
    "growth_table",
    "promote_candidate",
    "uncovered_texts",
    "clean_for_discovery",
]

# CFPB-style redactions (XXXX, XX/XX/XXXX), bracketed amounts and numbers carry no topic.
_REDACTION_RE = re.compile(r"X{2,}(?:/X{2,})*|\{\$[0-9.,]+\}|[0-9]+(?:[.,/:-][0-9]+)*")
_TOKEN_PATTERN = r"(?u)\b[a-zA-Z][a-zA-Z']+\b"
_MAX_WARD_DOCS = 6000  # Ward needs O(n^2) memory: above this, cluster a sample, then k-means all
_SILHOUETTE_SAMPLE = 3000
_SVD_N_ITER = 7
# The word mixture (step 5): a text counts as this many terms of evidence, whatever its length;
# each candidate's term counts get this pseudo-count; EM stops when at most a share tol of the
# texts changed candidate in one step (a few borderline texts keep drifting for 100+ steps).
# Compared on the TUNE half of the CFPB narratives (see benchmarks/eval_themes.py).
_TOKENS_PER_TEXT = 6.0
_TERM_PSEUDO_COUNT = 0.1
_EM_MAX_ITER = 50
_EM_TOL = 1e-3


class _SubspaceLSA:
    """Truncated SVD by subspace iteration from a start taken from the data itself (no seed).

    Like the randomized SVD of :class:`~sklearn.decomposition.TruncatedSVD`, but the
    starting block is the TF-IDF of ``n_components + oversample`` documents of the corpus
    (the ones with most distinct terms, ties by position) instead of a random matrix, so
    the same input always gives the same LSA basis, whatever the seeds. ``n_iter`` power
    iterations (LU-normalised, as scikit-learn's randomized range finder does, then one QR)
    bring that block to the leading singular subspace.
    Each component's sign is fixed so that its largest loading is positive.
    """

    def __init__(self, n_components: int, *, n_iter: int = 7, oversample: int = 20):
        self.n_components = n_components
        self.n_iter = n_iter
        self.oversample = oversample

    def fit(self, M) -> "_SubspaceLSA":
        n, f = M.shape
        size = min(self.n_components + self.oversample, n, f)
        terms = np.diff(M.indptr)
        start = np.lexsort((np.arange(n), -terms))[:size]
        Q = lu(np.asarray((M @ M[start].T).todense()), permute_l=True)[0]
        for _ in range(self.n_iter):  # LU keeps the block well conditioned, QR only at the end
            Q = lu(np.asarray(M.T @ Q), permute_l=True)[0]
            Q = lu(np.asarray(M @ Q), permute_l=True)[0]
        Q = np.linalg.qr(Q)[0]
        B = np.asarray((M.T @ Q).T)  # Q.T @ M, size x n_terms
        # SVD of B from its size x size Gram matrix: 10x cheaper than LAPACK's SVD of the wide B
        evals, U = np.linalg.eigh(B @ B.T)
        order = np.argsort(-evals, kind="stable")
        k = min(self.n_components, len(order))
        sv = np.sqrt(np.clip(evals[order[:k]], 0, None))
        scale = np.where(sv > sv[0] * 1e-9, sv, np.inf) if k and sv[0] > 0 else np.full(k, np.inf)
        Vt = (U[:, order[:k]].T @ B) / scale[:, None]  # null directions (rank-deficient input): zero rows
        rows = np.argmax(np.abs(Vt), axis=1)
        Vt = Vt * np.sign(Vt[np.arange(k), rows])[:, None]
        self.components_ = Vt
        self.singular_values_ = sv
        return self

    def transform(self, M) -> np.ndarray:
        return np.asarray(M @ self.components_.T)


class _WordMixture:
    """A mixture of word distributions (multinomials over terms), refined by EM from a partition.

    Each cluster ``c`` is a distribution ``p(term | c)``: the term counts of its texts, each
    text weighed by its membership, plus ``pseudo_count``. A text's membership is the softmax
    over clusters of its mean log-probability per term times ``tokens_per_text``, that is
    ``exp(-tokens_per_text * KL(text's term distribution || p(. | c)))`` normalised: soft
    clustering with the Kullback-Leibler divergence at a fixed temperature, the same for a
    long narrative and a one-line comment (with raw log-likelihoods a long narrative's
    membership is all-or-nothing from the first step). Mixing weights are equal: fitted
    weights let large clusters absorb the rest (on CFPB narratives at 4 tokens per text, one
    cluster took 2/3 of them). Deterministic: it starts from the given labels.
    """

    def __init__(self, *, tokens_per_text: float, pseudo_count: float, max_iter: int, tol: float):
        self.tokens_per_text = tokens_per_text
        self.pseudo_count = pseudo_count
        self.max_iter = max_iter
        self.tol = tol

    def fit(self, C, labels: np.ndarray) -> "_WordMixture":
        """``C``: term counts (texts x terms, every row with a term); ``labels``: 0..k-1."""
        R = np.zeros((C.shape[0], int(labels.max()) + 1))
        R[np.arange(len(labels)), labels] = 1.0
        Ct = C.T.tocsr()
        for iteration in range(1, self.max_iter + 1):
            self.n_iter_ = iteration
            counts = np.asarray(Ct @ R).T + self.pseudo_count
            self.log_proba_ = np.log(counts) - np.log(counts.sum(axis=1, keepdims=True))
            R = self.posterior(C)
            previous, labels = labels, R.argmax(axis=1)
            if np.count_nonzero(labels != previous) <= self.tol * len(labels):
                break
        used = np.unique(labels)  # a cluster no text prefers is dropped (it changes no argmax)
        self.log_proba_ = self.log_proba_[used]
        self.labels_ = np.searchsorted(used, labels)
        return self

    def posterior(self, C) -> np.ndarray:
        """Membership probabilities (texts x clusters); rows of ``C`` must not be empty."""
        length = np.asarray(C.sum(axis=1)).ravel()
        L = np.asarray(C @ self.log_proba_.T) * (self.tokens_per_text / length)[:, None]
        return np.exp(L - logsumexp(L, axis=1, keepdims=True))


def _ward_tree(Z: np.ndarray) -> np.ndarray:
    """Ward linkage of the rows of ``Z``, distances from one matrix product per block of rows
    (scipy's ``pdist`` computes them pair by pair, 5x slower on 3,656 x 150)."""
    n = len(Z)
    sq = np.einsum("ij,ij->i", Z, Z)
    condensed = np.empty(n * (n - 1) // 2)
    pos = 0
    for lo in range(0, n - 1, 512):
        hi = min(lo + 512, n - 1)
        D = sq[lo:hi, None] + sq[None, :] - 2.0 * (Z[lo:hi] @ Z.T)
        for r, i in enumerate(range(lo, hi)):  # row i of the upper triangle
            condensed[pos:pos + n - i - 1] = D[r, i + 1:]
            pos += n - i - 1
    np.sqrt(np.clip(condensed, 0.0, None), out=condensed)
    return linkage(condensed, method="ward")


def _cosine_distances(Z: np.ndarray):
    """The cosine distances between the rows of ``Z``, computed in the chunks ``silhouette_score(Z, labels,
    metric="cosine")`` computes them: scoring each k on them (``metric="precomputed"``) gives the same
    bits, with the matrix computed once instead of once per k (about a third of the fit on 5,000 texts).
    False when a diagonal is not within the tolerance the precomputed metric accepts (then per k, as before)."""
    distances = np.vstack(list(pairwise_distances_chunked(Z, metric="cosine")))
    if np.any(np.abs(distances.diagonal()) > np.finfo(distances.dtype).eps * 100):
        return False
    return distances


def clean_for_discovery(text: object) -> str:
    """Text without redaction tokens, amounts and numbers (``""`` for missing values)."""
    if not isinstance(text, str):
        return ""
    return _REDACTION_RE.sub(" ", text)


@dataclass(frozen=True)
class Candidate:
    """A candidate theme found by :class:`ThemeDiscovery`.

    Attributes
    ----------
    cluster : cluster number (``labels_`` value)
    label : a readable name made of the top terms, e.g. ``"app crash / login"``
    terms : the most distinctive terms (words and two-word phrases), best first
    quotes : the most representative texts (closest to the cluster centre)
    size : number of fitted texts in the cluster
    share : size / number of fitted texts
    """

    cluster: int
    label: str
    terms: tuple[str, ...]
    quotes: tuple[str, ...]
    size: int
    share: float
    phrases: tuple[str, ...] = field(default=())

    def seeds(self, n: int = 6) -> list[str]:
        """Seed phrases for a taxonomy: two-word phrases first, then single words."""
        out: list[str] = []
        for term in list(self.phrases) + list(self.terms):
            if term not in out and not any(term in o.split() for o in out):
                out.append(term)
            if len(out) >= n:
                break
        return out


def _as_texts(X) -> list[str]:
    if isinstance(X, pd.DataFrame):
        if X.shape[1] != 1:
            raise ValueError(f"ThemeDiscovery expects one text column, got {X.shape[1]}: {list(X.columns)}")
        X = X.iloc[:, 0]
    values = X.tolist() if isinstance(X, (pd.Series, np.ndarray)) else list(X)
    return [v if isinstance(v, str) else "" for v in values]


class ThemeDiscovery(ClusterMixin, TransformerMixin, BaseEstimator):
    """Cluster texts into candidate themes (LSA, Ward, k-means, then a mixture of word distributions).

    Parameters
    ----------
    k_min, k_max : int
        Bounds of the number of clusters; k is chosen in between by cosine silhouette.
        ``k_min == k_max`` fixes k.
    n_components : int
        LSA dimensions (capped by the data).
    min_df : int or float
        Minimum document frequency of a term (capped so tiny inputs still have terms).
    max_df : float
        Terms in a larger share of texts are ignored.
    n_terms, n_quotes : int
        Terms and quotes kept per candidate.
    random_state : int
        Seed of the sampling done on large inputs (the Ward sample above 6,000 texts, the
        silhouette sample above 3,000); same input and seeds give identical results.
    svd_random_state : int
        Kept for compatibility and ignored: the LSA no longer uses random numbers (its
        start block is taken from the data), so the basis, and the clusters, are the same
        whatever the seeds; ``benchmarks/eval_themes.py`` checks it (``svd_seed_ari``).

    Attributes
    ----------
    labels_ : ndarray of int, the cluster of each fitted text (-1 for a text with no term of
        the vocabulary: empty, only stop words, or only rare words)
    n_clusters_ : int, the number of candidates (the chosen k, less any cluster the mixture
        emptied)
    silhouette_ : dict k -> silhouette score of the candidates considered
    candidates_ : list of :class:`Candidate`, largest first
    vectorizer_, tfidf_, svd_, mixture_ : the fitted steps (counts, TF-IDF, LSA, word mixture)
    """

    def __init__(
        self,
        *,
        k_min: int = 3,
        k_max: int = 12,
        n_components: int = 150,
        min_df: int | float = 3,
        max_df: float = 0.5,
        n_terms: int = 8,
        n_quotes: int = 3,
        random_state: int = 0,
        svd_random_state: int = 0,
    ):
        self.k_min = k_min
        self.k_max = k_max
        self.n_components = n_components
        self.min_df = min_df
        self.max_df = max_df
        self.n_terms = n_terms
        self.n_quotes = n_quotes
        self.random_state = random_state
        self.svd_random_state = svd_random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags

    # -- fitting ---------------------------------------------------------------------------
    def _counts(self, texts: list[str]):
        """Term counts of ``texts`` and the mask of those with at least one vocabulary term."""
        C = self.vectorizer_.transform([clean_for_discovery(t) for t in texts])
        return C, np.diff(C.indptr) > 0

    def fit(self, X, y=None):
        """Cluster the texts ``X``; texts without a vocabulary term are left out (label -1)."""
        if not 1 <= self.k_min <= self.k_max:
            raise ValueError(f"ThemeDiscovery needs 1 <= k_min <= k_max, got k_min={self.k_min}, k_max={self.k_max}")
        texts = _as_texts(X)
        cleaned = [clean_for_discovery(t) for t in texts]
        nonempty = np.flatnonzero([bool(d.strip()) for d in cleaned])
        n = len(nonempty)
        if n < 2:
            raise ValueError(f"ThemeDiscovery needs at least 2 non-empty texts, got {n}")
        min_df = self.min_df if isinstance(self.min_df, float) or n >= 10 * self.min_df else 1
        self.vectorizer_ = CountVectorizer(
            ngram_range=(1, 2),
            min_df=min_df,
            max_df=self.max_df if n >= 20 else 1.0,
            stop_words=sorted(ENGLISH_STOP_WORDS),  # negators carry no topic here
            token_pattern=_TOKEN_PATTERN,
        )
        try:
            C = self.vectorizer_.fit_transform([cleaned[i] for i in nonempty])
        except ValueError as err:  # no vocabulary at all
            raise ValueError(
                f"ThemeDiscovery found no term in {n} texts once stop words and terms outside min_df="
                f"{self.min_df} / max_df={self.max_df} are dropped ({err}). Pass more texts or lower min_df."
            ) from None
        has_terms = np.diff(C.indptr) > 0
        keep = np.zeros(len(texts), dtype=bool)
        keep[nonempty[has_terms]] = True
        C = C[has_terms]
        n = C.shape[0]
        if n < 2:
            raise ValueError(f"ThemeDiscovery needs at least 2 texts with a word that is not a stop word, got {n}")
        with threadpool_limits(limits=1):  # same bits on any machine; faster on small matrices
            M, Z = self._fit_counts(C)
        labels = np.full(len(texts), -1, dtype=int)
        labels[keep] = self.mixture_.labels_
        self.labels_ = labels
        self.n_clusters_ = len(self.mixture_.log_proba_)
        self.candidates_ = self._describe(M, Z, self.mixture_.labels_, [t for t, k in zip(texts, keep) if k])
        return self

    def _fit_counts(self, C):
        """Fit TF-IDF, LSA and the clustering on the counts; returns (TF-IDF, LSA vectors)."""
        n = C.shape[0]
        self.tfidf_ = TfidfTransformer(sublinear_tf=True)
        M = self.tfidf_.fit_transform(C.astype(np.float64))
        dims = max(1, min(self.n_components, M.shape[1] - 1, n - 1))
        self.svd_ = _SubspaceLSA(dims, n_iter=_SVD_N_ITER).fit(M)
        Z = normalize(self.svd_.transform(M))

        rng = np.random.RandomState(self.random_state)
        ward_rows = np.arange(n)
        if n > _MAX_WARD_DOCS:
            ward_rows = np.sort(rng.choice(n, _MAX_WARD_DOCS, replace=False))
        tree = _ward_tree(Z[ward_rows])
        k_hi = min(self.k_max, n - 1) if n > 2 else 1
        k_lo = min(self.k_min, k_hi)
        sample = None
        if n > _SILHOUETTE_SAMPLE:
            sample = np.sort(rng.choice(n, _SILHOUETTE_SAMPLE, replace=False))
        idx = sample if sample is not None else slice(None)
        self.silhouette_ = {}
        best = None
        distances = None
        for k in range(k_lo, k_hi + 1):
            mixture = self._refine(C, Z, Z[ward_rows], fcluster(tree, k, criterion="maxclust"))
            if k_lo == k_hi:
                best = (np.nan, k, mixture)
                break
            labels = mixture.labels_
            if len(np.unique(labels[idx])) < 2:
                continue
            if distances is None:
                distances = _cosine_distances(Z[idx])
            score = float(silhouette_score(distances, labels[idx], metric="precomputed")
                          if distances is not False else silhouette_score(Z[idx], labels[idx], metric="cosine"))
            self.silhouette_[k] = score
            if best is None or score > best[0] + 1e-12:
                best = (score, k, mixture)
        if best is None:  # every k collapsed: keep the smallest
            best = (np.nan, k_lo, self._refine(C, Z, Z[ward_rows], fcluster(tree, k_lo, criterion="maxclust")))
        self.mixture_ = best[2]
        return M, Z

    def _refine(self, C, Z: np.ndarray, Zw: np.ndarray, ward_labels: np.ndarray) -> _WordMixture:
        """Ward's partition -> one spherical k-means from its centroids -> the word mixture."""
        groups = np.unique(ward_labels)
        centres = np.vstack([Zw[ward_labels == g].mean(axis=0) for g in groups])
        km = KMeans(len(groups), init=centres, n_init=1, max_iter=100, random_state=self.random_state).fit(Z)
        mixture = _WordMixture(tokens_per_text=_TOKENS_PER_TEXT, pseudo_count=_TERM_PSEUDO_COUNT,
                               max_iter=_EM_MAX_ITER, tol=_EM_TOL)
        return mixture.fit(C, np.searchsorted(np.unique(km.labels_), km.labels_))

    def _describe(self, M, Z: np.ndarray, labels: np.ndarray, texts: list[str]) -> list[Candidate]:
        names = self.vectorizer_.get_feature_names_out()
        n = len(labels)
        total = np.asarray(M.sum(axis=0)).ravel()
        out = []
        for c in range(self.n_clusters_):
            rows = np.flatnonzero(labels == c)
            if not len(rows):
                continue
            inside = np.asarray(M[rows].sum(axis=0)).ravel()
            outside_n = max(n - len(rows), 1)
            score = inside / len(rows) - (total - inside) / outside_n
            order = np.argsort(-score, kind="stable")
            terms = [names[i] for i in order[: self.n_terms * 3] if score[i] > 0]
            words = tuple(terms[: self.n_terms])
            phrases = tuple(t for t in terms if " " in t)[: self.n_terms]
            centre = Z[rows].mean(axis=0)
            closest = rows[np.argsort(-(Z[rows] @ centre), kind="stable")[: self.n_quotes]]
            quotes = tuple(_quote(texts[i]) for i in closest)
            label = " / ".join(words[:3]) if words else f"cluster {c}"
            out.append(Candidate(c, label, words, quotes, len(rows), len(rows) / n, phrases))
        out.sort(key=lambda cand: (-cand.size, cand.cluster))
        return out

    # -- using a fitted model --------------------------------------------------------------
    def predict(self, X) -> np.ndarray:
        """Most probable candidate of each text (-1 for a text with no vocabulary term).

        On the fitted texts this gives ``labels_``.
        """
        P = self.transform(X)
        return np.where(P.any(axis=1), P.argmax(axis=1), -1)

    def transform(self, X) -> np.ndarray:
        """Membership probability of each text in each candidate (n_texts x n_clusters).

        Rows sum to 1; they are all zero for a text with no vocabulary term.
        """
        check_is_fitted(self, "mixture_")
        C, has = self._counts(_as_texts(X))
        out = np.zeros((C.shape[0], self.n_clusters_))
        if has.any():
            with threadpool_limits(limits=1):
                out[has] = self.mixture_.posterior(C[has])
        return out

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        check_is_fitted(self, "mixture_")
        return np.asarray([f"candidate{c}" for c in range(self.n_clusters_)], dtype=object)

    def candidates_frame(self) -> pd.DataFrame:
        """The candidates as a table: cluster, label, size, share, terms, quotes."""
        check_is_fitted(self, "candidates_")
        return pd.DataFrame(
            {
                "cluster": [c.cluster for c in self.candidates_],
                "label": [c.label for c in self.candidates_],
                "size": [c.size for c in self.candidates_],
                "share": [c.share for c in self.candidates_],
                "terms": [", ".join(c.terms) for c in self.candidates_],
                "quotes": [" | ".join(c.quotes) for c in self.candidates_],
            }
        )


def _quote(text: str, limit: int = 240) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "\u2026"


def uncovered_texts(frame: pd.DataFrame, *, text_col: str = TEXT) -> pd.Series:
    """Texts of ``frame`` (output of ``tag_themes``) that no ``theme_<id>`` column flags."""
    prefix = theme_column("")
    cols = [c for c in frame.columns if c.startswith(prefix) and frame[c].dtype == bool]
    covered = frame[cols].any(axis=1) if cols else pd.Series(False, index=frame.index)
    texts = frame.loc[~covered, text_col]
    return texts[texts.map(lambda t: isinstance(t, str) and bool(t.strip()))]


def candidate_growth(
    discovery: ThemeDiscovery, texts: Sequence[str] | pd.Series, months: Sequence | pd.Series, *, current=None
) -> pd.DataFrame:
    """Size of each candidate month by month, and its growth against the previous months.

    ``texts`` and ``months`` (the month column, e.g. ``"2026-07"`` or a Period) cover the
    current and earlier months, typically the uncovered comments of each month. Texts are
    assigned to the nearest candidate with :meth:`ThemeDiscovery.predict`.

    Returns one row per candidate (largest first) with ``cluster``, ``label``, the count in
    ``current`` (default: the latest month), its share of that month's texts, the mean share
    over the earlier months, and ``growth`` = current share / earlier mean share (``inf``
    when the candidate is new, NaN when there is no earlier month).
    """
    texts = pd.Series(list(texts), dtype=object)
    months = pd.Series(list(months), dtype=object)
    if len(texts) != len(months):
        raise ValueError(f"candidate_growth: {len(texts)} texts but {len(months)} months")
    labels = pd.Series(discovery.predict(texts))
    current = max(months.dropna().unique()) if current is None else current
    table = pd.crosstab(labels[labels >= 0], months[labels >= 0])
    return growth_table(discovery, table, months.value_counts(), current)


def growth_table(discovery: ThemeDiscovery, table: pd.DataFrame, per_month: pd.Series, current) -> pd.DataFrame:
    """:func:`candidate_growth`'s table from the texts counted per candidate (rows) and month
    (columns) in ``table`` and the texts per month ``per_month`` (the denominators of the shares)."""
    shares = table.div(per_month.reindex(table.columns), axis=1)
    earlier = [m for m in shares.columns if m < current]
    rows = []
    for cand in discovery.candidates_:
        c = cand.cluster
        now_n = int(table.loc[c, current]) if c in table.index and current in table.columns else 0
        now_share = now_n / per_month.get(current, np.nan) if per_month.get(current, 0) else np.nan
        before = float(shares.loc[c, earlier].mean()) if earlier and c in shares.index else (0.0 if earlier else np.nan)
        if not earlier:
            growth = np.nan
        elif before == 0:
            growth = np.inf if now_n else np.nan
        else:
            growth = now_share / before
        rows.append(
            {"cluster": c, "label": cand.label, "month": current, "count": now_n, "share": now_share,
             "previous_share": before, "growth": growth}
        )
    return pd.DataFrame(rows, columns=["cluster", "label", "month", "count", "share", "previous_share", "growth"])


def promote_candidate(
    candidate: Candidate,
    taxonomy_path: str | Path,
    theme_id: str,
    *,
    label: str | None = None,
    description: str | None = None,
    polarity: str = "negative",
    seeds: Sequence[str] | None = None,
    n_seeds: int = 6,
):
    """Append ``candidate`` as a new ``[[theme]]`` to the taxonomy file and return the taxonomy.

    The file is only appended to (its comments and other themes are kept byte for byte);
    the result is loaded with :func:`load_taxonomy` and, if it does not load, the file is
    restored and the error is raised. ``seeds`` default to the candidate's top phrases and
    terms (:meth:`Candidate.seeds`); review them before the next report.
    """
    path = Path(taxonomy_path)
    before = load_taxonomy(path)
    if theme_id in before:
        raise ConfigError(
            f"Cannot promote candidate {candidate.label!r}: the taxonomy '{path}' already has a theme "
            f"{theme_id!r}. Choose another id."
        )
    seed_list = list(seeds) if seeds is not None else candidate.seeds(n_seeds)
    original = path.read_bytes()
    text = original.decode("utf-8")
    block = (
        ("" if text.endswith("\n") or not text else "\n")
        + f"\n# Promoted from discovered candidate {candidate.cluster} ({candidate.size} texts, "
        f"{candidate.share:.1%} of those clustered).\n"
        "[[theme]]\n"
        f"id = {toml_string(theme_id)}\n"
        f"label = {toml_string(label or candidate.label)}\n"
        f"description = {toml_string(description or 'Discovered theme: ' + ', '.join(candidate.terms[:5]) + '.')}\n"
        f"polarity = {toml_string(polarity)}\n"
        "seeds = [" + ", ".join(toml_string(s) for s in seed_list) + "]\n"
        "exclusions = []\n"
    )
    with path.open("a", encoding="utf-8") as fh:
        fh.write(block)
    try:
        return load_taxonomy(path)
    except ConfigError:
        path.write_bytes(original)
        raise
