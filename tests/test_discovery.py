import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.metrics import adjusted_rand_score

from feedbacklib.errors import ConfigError
from feedbacklib.schema import TEXT
from feedbacklib.themes import ThemeTagger, load_taxonomy, tag_themes
from feedbacklib.themes.discovery import (
    Candidate,
    ThemeDiscovery,
    candidate_growth,
    clean_for_discovery,
    promote_candidate,
    uncovered_texts,
)

GROUPS = {
    "app": [
        "the app crashes at login",
        "app crashes at login again",
        "my app crashes at login every day",
        "the app crashes at login on my phone",
    ],
    "parcel": [
        "parcel soaked in the rain",
        "the parcel soaked in the rain",
        "parcel soaked in the rain again",
        "the parcel was soaked in the rain outside",
    ],
    "password": [
        "password reset email never arrives",
        "the password reset email never arrives",
        "password reset email never arrives again",
        "my password reset email never arrives at all",
    ],
}


def corpus(copies=3):
    texts, truth = [], []
    rng = np.random.RandomState(0)
    for c in range(copies):
        for g, items in GROUPS.items():
            for t in items:
                texts.append(t if c == 0 else f"{t}{'!' * c}")
                truth.append(g)
    order = rng.permutation(len(texts))
    return [texts[i] for i in order], [truth[i] for i in order]


def test_clean_removes_redactions_and_numbers():
    assert clean_for_discovery("On XX/XX/XXXX XXXX charged {$25.00} twice 3 times").split() == [
        "On", "charged", "twice", "times"]
    assert clean_for_discovery(None) == ""


def test_finds_planted_groups_and_k_within_bounds():
    # one copy of each text: with exact duplicates, silhouette rewards splitting them off
    texts, truth = corpus(copies=1)
    disc = ThemeDiscovery(k_min=2, k_max=5, min_df=1, random_state=0).fit(texts)
    assert 2 <= disc.n_clusters_ <= 5
    assert set(disc.silhouette_) <= set(range(2, 6))
    assert disc.n_clusters_ == 3
    table = pd.crosstab(pd.Series(truth), pd.Series(disc.labels_))
    assert (table.gt(0).sum(axis=1) == 1).all()  # every planted group in one cluster
    cands = disc.candidates_
    assert sum(c.size for c in cands) == len(texts)
    assert all(isinstance(c, Candidate) and c.terms and len(c.quotes) == 3 for c in cands)
    labels = " ".join(c.label for c in cands)
    assert "parcel" in labels or "rain" in labels or "courier" in labels
    # representative quotes come from the candidate's own cluster
    for c in cands:
        members = {t for t, lab in zip(texts, disc.labels_) if lab == c.cluster}
        assert all(q in members for q in c.quotes)
    frame = disc.candidates_frame()
    assert list(frame.columns) == ["cluster", "label", "size", "share", "terms", "quotes"]


def test_fixed_k_and_empty_texts():
    texts, _ = corpus()
    disc = ThemeDiscovery(k_min=4, k_max=4, min_df=1).fit(texts + ["", None, "   "])
    assert disc.n_clusters_ == 4
    assert list(disc.labels_[-3:]) == [-1, -1, -1]
    assert list(disc.predict(["", "parcel soaked in the rain"]))[0] == -1
    assert disc.transform(["parcel soaked in the rain"]).shape == (1, 4)
    assert list(disc.get_feature_names_out()) == ["candidate0", "candidate1", "candidate2", "candidate3"]


def test_determinism():
    texts, _ = corpus()
    a = ThemeDiscovery(k_min=2, k_max=6, min_df=1, random_state=5).fit(texts)
    b = ThemeDiscovery(k_min=2, k_max=6, min_df=1, random_state=5).fit(texts)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    assert a.candidates_ == b.candidates_
    assert a.silhouette_ == b.silhouette_


def test_sklearn_contract():
    disc = ThemeDiscovery(k_min=2, k_max=4, random_state=3)
    params = disc.get_params()
    assert params["k_min"] == 2 and params["random_state"] == 3
    assert clone(disc).get_params() == params
    with pytest.raises(NotFittedError):
        disc.predict(["x"])
    texts, _ = corpus()
    assert disc.fit(texts) is disc
    assert all(k.endswith("_") for k in vars(disc) if k not in params)
    with pytest.raises(ValueError, match="k_min <= k_max"):
        ThemeDiscovery(k_min=5, k_max=2).fit(texts)
    with pytest.raises(ValueError, match="at least 2"):
        ThemeDiscovery().fit(["only one"])


def test_uncovered_and_growth():
    texts, _ = corpus()
    frame = pd.DataFrame({TEXT: texts + ["I was on hold for an hour"]})
    tagged = tag_themes(frame, ThemeTagger(learned=False))
    rest = uncovered_texts(tagged)
    assert "I was on hold for an hour" not in set(rest)
    disc = ThemeDiscovery(k_min=3, k_max=3, min_df=1).fit(rest)
    parcel = "courier left my parcel in the rain again"
    old = ["the app crashes at login"] * 10 + [parcel] * 2
    new = ["the app crashes at login"] * 5 + [parcel] * 10
    growth = candidate_growth(disc, old + new, ["2026-06"] * len(old) + ["2026-07"] * len(new))
    assert list(growth.columns) == ["cluster", "label", "month", "count", "share", "previous_share", "growth"]
    assert (growth["month"] == "2026-07").all()
    c_parcel = disc.predict([parcel])[0]
    row = growth.set_index("cluster").loc[c_parcel]
    assert row["count"] == 10 and row["growth"] == pytest.approx((10 / 15) / (2 / 12))


def test_promote_candidate_round_trip(tmp_path):
    original = (
        "# my taxonomy\n# keep this comment\nversion = 1\n\n"
        "[[theme]]\nid = \"late\"  # inline comment\nlabel = \"Late\"\nseeds = [\"late delivery\"]\n"
    )
    path = tmp_path / "themes.toml"
    path.write_text(original, encoding="utf-8")
    texts, _ = corpus()
    disc = ThemeDiscovery(k_min=3, k_max=3, min_df=1).fit(texts)
    cand = next(c for c in disc.candidates_ if "parcel" in c.terms or "rain" in c.terms)
    tax = promote_candidate(cand, path, "wet_parcels", label="Wet parcels")
    assert tax.ids == ("late", "wet_parcels")
    assert path.read_text(encoding="utf-8").startswith(original)
    theme = tax["wet_parcels"]
    assert theme.label == "Wet parcels" and theme.seeds == tuple(cand.seeds())
    assert load_taxonomy(path).ids == ("late", "wet_parcels")
    # the promoted seeds tag the candidate's own quotes
    tagger = ThemeTagger(tax, learned=False).fit([])
    assert tagger.transform(list(cand.quotes))["wet_parcels"].any()
    # an id that exists is refused and the file is left untouched
    before = path.read_bytes()
    with pytest.raises(ConfigError, match="already has a theme 'late'"):
        promote_candidate(cand, path, "late")
    assert path.read_bytes() == before
    # a bad id is refused by the taxonomy check and the file is restored
    with pytest.raises(ConfigError, match="lower_case"):
        promote_candidate(cand, path, "Bad Id")
    assert path.read_bytes() == before


def test_discovery_on_default_taxonomy_file_copy(tmp_path):
    from importlib import resources

    src = resources.files("feedbacklib").joinpath("data/themes.toml").read_text(encoding="utf-8")
    path = tmp_path / "themes.toml"
    path.write_text(src, encoding="utf-8")
    cand = Candidate(0, "app crash / login", ("app crash", "login"), ("the app crashes",), 5, 0.5, ("app crash",))
    tax = promote_candidate(cand, path, "app_crashes")
    assert tax.ids[-1] == "app_crashes" and len(tax) == len(load_taxonomy()) + 1
    assert path.read_text(encoding="utf-8").startswith(src)


def test_same_clusters_whatever_the_seeds():
    """The LSA starts from the data, not from random numbers: seeds do not change the result."""
    texts, _ = corpus()
    a = ThemeDiscovery(k_min=2, k_max=5, min_df=1, random_state=0, svd_random_state=0).fit(texts)
    b = ThemeDiscovery(k_min=2, k_max=5, min_df=1, random_state=7, svd_random_state=3).fit(texts)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    assert a.candidates_ == b.candidates_


def test_lsa_matches_exact_svd():
    """Subspace iteration reaches the leading singular values of the TF-IDF matrix."""
    from feedbacklib.themes.discovery import _SubspaceLSA

    rng = np.random.RandomState(0)
    import scipy.sparse as sp

    M = sp.random(300, 80, density=0.1, format="csr", random_state=rng)
    lsa = _SubspaceLSA(10, n_iter=7).fit(M)
    exact = np.linalg.svd(M.toarray(), compute_uv=False)[:10]
    np.testing.assert_allclose(lsa.singular_values_, exact, rtol=1e-3)
    Z = lsa.transform(M)
    assert Z.shape == (300, 10)
    np.testing.assert_allclose(np.linalg.norm(Z, axis=0), exact, rtol=1e-3)


def test_predict_reproduces_labels_and_transform_is_membership():
    texts, _ = corpus()
    disc = ThemeDiscovery(k_min=3, k_max=3, min_df=1).fit(texts + ["it was the", "xyzzy plugh"])
    np.testing.assert_array_equal(disc.predict(texts), disc.labels_[: len(texts)])
    # a text of stop words only has no vocabulary term: no candidate
    assert disc.labels_[-2] == -1 and disc.predict(["it was the"])[0] == -1
    P = disc.transform(texts[:5] + ["it was the"])
    assert P.shape == (6, disc.n_clusters_)
    np.testing.assert_allclose(P[:5].sum(axis=1), 1.0)
    assert (P[5] == 0).all()
    np.testing.assert_array_equal(P[:5].argmax(axis=1), disc.labels_[:5])


def test_word_mixture_moves_misplaced_texts_whatever_their_length():
    """EM from a partition with misplaced texts puts them back; a long text weighs as a short one."""
    import scipy.sparse as sp

    from feedbacklib.themes.discovery import _WordMixture

    short = {0: [[0, 1, 2], [0, 1], [1, 2], [0, 2]], 1: [[3, 4, 5], [3, 4], [4, 5], [3, 5]]}
    rows, truth = [], []
    for g, docs in short.items():
        for d in docs * 3:
            row = np.zeros(6)
            row[d] = 1
            rows.append(row)
            truth.append(g)
    rows.append(np.array([40.0, 40, 40, 1, 0, 0]))  # a long text of group 0 with one word of 1
    truth.append(0)
    C = sp.csr_matrix(np.vstack(rows))
    truth = np.array(truth)
    start = truth.copy()
    start[[0, 1, 12, 13, len(truth) - 1]] = 1 - start[[0, 1, 12, 13, len(truth) - 1]]
    mix = _WordMixture(tokens_per_text=6.0, pseudo_count=0.1, max_iter=50, tol=1e-3).fit(C, start)
    assert adjusted_rand_score(truth, mix.labels_) == 1.0  # the same partition (numbers may swap)
    # memberships: soft, and the long text's no sharper than a short text with the same words
    P = mix.posterior(C)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    long_text = P[-1].max()
    short_same_words = mix.posterior(sp.csr_matrix(np.array([[1.0, 1, 1, 0, 0, 0]])))[0].max()
    assert long_text <= short_same_words + 1e-9


def test_ward_tree_matches_scipy():
    from scipy.cluster.hierarchy import linkage

    from feedbacklib.themes.discovery import _ward_tree

    Z = np.random.RandomState(0).rand(700, 12)  # more rows than one block of the loop
    np.testing.assert_allclose(_ward_tree(Z)[:, 2], linkage(Z, method="ward")[:, 2], rtol=1e-6, atol=1e-9)
