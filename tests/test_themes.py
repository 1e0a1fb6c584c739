from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from feedbacklib.errors import ConfigError
from feedbacklib.schema import TEXT, theme_column
from feedbacklib.themes import THEME_EVIDENCE, Taxonomy, Theme, ThemeTagger, load_taxonomy, tag_themes

FIXTURES = Path(__file__).parent / "fixtures" / "themes"

EXPECTED_IDS = (
    "responsiveness", "surprise_charges", "listening", "not_fixed", "courtesy", "knowledge",
    "honest_guidance", "protection", "follow_up", "churn_risk", "praise",
)


@pytest.fixture(scope="module")
def seed_tagger():
    return ThemeTagger(learned=False).fit([])


def themes_of(tagger, text):
    row = tagger.transform([text]).iloc[0]
    return {c for c in row.index if row[c]}


# -- taxonomy -------------------------------------------------------------------------------
def test_default_taxonomy():
    tax = load_taxonomy()
    assert tax.ids == EXPECTED_IDS
    assert all(isinstance(t, Theme) and t.seeds for t in tax)
    assert tax.label("surprise_charges") == "Surprise charges"
    assert {t.polarity for t in tax} == {"negative", "positive"}
    assert [t.id for t in tax] == list(tax.ids)


def write(tmp_path, text):
    p = tmp_path / "themes.toml"
    p.write_text(text, encoding="utf-8")
    return p


@pytest.mark.parametrize(
    "body, expected",
    [
        ('[[theme]]\nlabel = "x"\nseeds = ["a"]\n', ["theme #1", "missing id"]),
        ('[[theme]]\nid = "wait"\nseeds = ["a"]\n[[theme]]\nid = "wait"\nseeds = ["b"]\n',
         ["theme #2 ('wait')", "duplicate id 'wait'"]),
        ('[[theme]]\nid = "wait"\nseeds = []\n', ["'wait'", "empty seeds"]),
        ('[[theme]]\nid = "wait"\nseeds = ["a"]\nkeywords = ["b"]\n', ["'wait'", "unknown key 'keywords'"]),
        ('[[theme]]\nid = "wait"\nseeds = ["a"]\npolarity = "bad"\n', ["'wait'", "bad polarity 'bad'"]),
    ],
)
def test_taxonomy_errors_name_theme_and_problem(tmp_path, body, expected):
    with pytest.raises(ConfigError) as err:
        load_taxonomy(write(tmp_path, body))
    for part in expected:
        assert part in str(err.value)


def test_taxonomy_collects_every_problem(tmp_path):
    body = '[[theme]]\nid = "a"\nseeds = []\n[[theme]]\nid = "b"\nseeds = ["x"]\npolarity = "meh"\n'
    with pytest.raises(ConfigError, match="2 problems"):
        load_taxonomy(write(tmp_path, body))


def test_taxonomy_missing_file_and_bad_toml(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_taxonomy(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_taxonomy(write(tmp_path, "[[theme]\n"))


# -- seed matching -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, present, absent",
    [
        ("No hidden fees, thankfully", set(), {"surprise_charges"}),
        ("Not rude at all", set(), {"courtesy"}),
        ("I was on hold for an hour", {"responsiveness"}, set()),
        ("I didn't have to wait long", set(), {"responsiveness"}),
        ("The agent was not helpful", set(), {"praise"}),
        ("The agent wasn't polite", {"courtesy"}, {"praise"}),
        ("Thank you so much, brilliant service", {"praise"}, set()),
        ("They charged me twice and never called me back", {"surprise_charges", "follow_up"}, set()),
        ("I had to repeat myself three times", {"listening"}, set()),
        ("Still not working after the engineer came out", {"not_fixed"}, set()),
        ("I will switch provider next month", {"churn_risk"}, set()),
        ("Thanks for the feedback form", set(), {"surprise_charges"}),
        ("The helpline was no help", set(), {"praise"}),
        ("The agent caught a mistake in my order", {"protection"}, set()),
        # issue 4: seeds and exclusions revised on the TUNE half of the CFPB narratives
        ("They did nothing and the fault is the same", {"not_fixed"}, set()),
        ("Got the same response every time I asked", {"not_fixed"}, set()),
        ("The shop failed to fix the screen", {"not_fixed"}, set()),
        ("Two weeks on and they have yet to respond", {"responsiveness"}, set()),
        ("My call was disconnected twice", {"responsiveness"}, set()),
        ("The bill was three times the amount on the quote", {"surprise_charges"}, set()),
        ("I'm not interested in the upgrade", set(), {"surprise_charges"}),
        ("Staff were interested in my feedback", set(), {"surprise_charges"}),
        ("I declare under penalty of perjury that this is true", set(), {"surprise_charges"}),
    ],
)
def test_seed_rules(seed_tagger, text, present, absent):
    found = themes_of(seed_tagger, text)
    assert present <= found
    assert not (absent & found)


def test_hold_on_is_not_waiting(seed_tagger):
    assert themes_of(seed_tagger, "hold on, I was charged twice") == {"surprise_charges"}


def test_exclusion_vetoes_only_the_overlapping_seed(seed_tagger):
    assert "responsiveness" not in themes_of(seed_tagger, "They put a hold on my account")
    assert "responsiveness" in themes_of(seed_tagger, "They put a hold on my account and I was on hold for ages.")


def test_multi_label_and_evidence(seed_tagger):
    texts = pd.Series(
        ["I was on hold for an hour and then charged twice.", "Lovely staff", ""], index=[10, 11, 12]
    )
    tags = seed_tagger.transform(texts)
    assert list(tags.columns) == list(EXPECTED_IDS)
    assert list(tags.index) == [10, 11, 12]
    assert tags.dtypes.eq(bool).all()
    assert tags.loc[10, "responsiveness"] and tags.loc[10, "surprise_charges"]
    assert not tags.loc[12].any()
    ev = seed_tagger.evidence(texts)
    assert ev[10] == "responsiveness: 'on hold'; surprise_charges: 'charged twice'"
    assert ev[11] == "courtesy: 'Lovely'"
    assert ev[12] == ""


# -- learned expansion ---------------------------------------------------------------------
def corpus(n=40):
    rng = np.random.RandomState(1)
    waits = [
        "I was on hold for {k} minutes and the jingle music drove me mad",
        "waited {k} minutes in line, the jingle music never stopped",
        "on hold again, {k} minutes of jingle music",
    ]
    fees = [
        "hidden fee of {k} pounds on my bill",
        "they added an extra charge of {k} to the bill",
        "surprise fee on the bill: {k} pounds",
    ]
    other = ["the delivery van was blue", "my order arrived on {k} March", "I live in flat {k}"]
    texts = []
    for i in range(n):
        k = int(rng.randint(2, 90))
        texts += [waits[i % 3].format(k=k), fees[i % 3].format(k=k), other[i % 3].format(k=k)]
    # texts without any seed but with the learned context words
    texts += ["minutes of jingle music", "endless jingle music today"]
    return texts


def test_learned_expansion_adds_explained_tags():
    texts = corpus()
    tagger = ThemeTagger(random_state=0, supervised=False).fit(texts)
    assert "responsiveness" in tagger.models_
    assert set(tagger.thresholds_) == set(tagger.models_)
    new = ["jingle music for ages, endless jingle music"]
    tags = tagger.transform(new)
    ev = tagger.evidence(new)[0]
    if tags.loc[0, "responsiveness"]:
        assert ev.startswith("responsiveness: learned: ") and "jingle" in ev
    # a learned tag is never added where no feature is known
    assert not tagger.transform(["zzz qqq"]).iloc[0].any()


def test_fixed_threshold_and_learned_off():
    texts = corpus()
    tagger = ThemeTagger(threshold=0.5, supervised=False).fit(texts)
    assert all(t == 0.5 for t in tagger.thresholds_.values())
    tags = tagger.transform(["minutes of jingle music"])
    assert tags.loc[0, "responsiveness"]
    assert "learned: " in tagger.evidence(["minutes of jingle music"])[0]
    off = ThemeTagger(learned=False).fit(texts)
    assert off.models_ == {} and not off.transform(["minutes of jingle music"]).iloc[0].any()


def test_min_seed_docs_skips_rare_themes():
    tagger = ThemeTagger(min_seed_docs=10_000).fit(corpus())
    assert tagger.models_ == {}


def test_determinism():
    texts = corpus()
    a = ThemeTagger(random_state=3).fit(texts)
    b = ThemeTagger(random_state=3).fit(texts)
    probe = texts + ["endless jingle music", "blue van music"]
    pd.testing.assert_frame_equal(a.transform(probe), b.transform(probe))
    pd.testing.assert_series_equal(a.evidence(probe), b.evidence(probe))
    assert a.thresholds_ == b.thresholds_


# -- scikit-learn contract -----------------------------------------------------------------
def test_sklearn_contract():
    tagger = ThemeTagger(learned=False, min_seed_docs=3, random_state=7)
    params = tagger.get_params()
    assert params["min_seed_docs"] == 3 and params["random_state"] == 7
    cloned = clone(tagger)
    assert cloned.get_params() == params
    cloned.set_params(threshold=0.7, learned=True)
    assert cloned.threshold == 0.7 and cloned.learned is True
    with pytest.raises(NotFittedError):
        tagger.transform(["on hold"])
    assert tagger.fit(["on hold"]) is tagger
    assert list(tagger.get_feature_names_out()) == list(EXPECTED_IDS)
    assert all(k.endswith("_") for k in vars(tagger) if k not in params)


def test_custom_taxonomy_object():
    tax = Taxonomy((Theme("late", "Late", "", "negative", ("late delivery",), ()),))
    tagger = ThemeTagger(tax, learned=False).fit([])
    assert list(tagger.transform(["a late delivery again"]).columns) == ["late"]
    assert clone(tagger).taxonomy == tax


def test_in_pipeline():
    texts = corpus(10)
    y = [("hold" in t or "jingle" in t) for t in texts]
    pipe = Pipeline([("themes", ThemeTagger(learned=False)), ("clf", LogisticRegression())])
    pipe.fit(texts, y)
    assert pipe.predict(["I was on hold forever"])[0]
    tagger = ThemeTagger(learned=False).set_output(transform="pandas").fit(texts)
    assert list(tagger.transform(texts).columns) == list(EXPECTED_IDS)


# -- tag_themes ----------------------------------------------------------------------------
def test_tag_themes_returns_new_frame():
    frame = pd.DataFrame({TEXT: ["hold on, I was charged twice", None, "on hold for ages"], "x": [1, 2, 3]})
    before = frame.copy()
    out = tag_themes(frame, ThemeTagger(learned=False))
    pd.testing.assert_frame_equal(frame, before)
    assert out is not frame
    assert out[theme_column("surprise_charges")].tolist() == [True, False, False]
    assert out[theme_column("responsiveness")].tolist() == [False, False, True]
    assert out[THEME_EVIDENCE].tolist()[1] == ""
    default = tag_themes(frame)  # fits a default tagger
    assert theme_column("praise") in default.columns


# -- real complaints -----------------------------------------------------------------------
def test_cfpb_sample_themes(seed_tagger):
    sample = pd.read_csv(FIXTURES / "cfpb_sample.csv", dtype=str, keep_default_na=False)
    assert len(sample) >= 15
    tags = seed_tagger.transform(sample["narrative"])
    for i, row in sample.iterrows():
        expected = {t for t in row["expected_themes"].split(";") if t}
        found = {c for c in tags.columns if tags.loc[i, c]}
        if expected:
            assert expected <= found, (row["complaint_id"], found)
        else:
            assert not found, (row["complaint_id"], found)
    fee_rows = sample["issue"].str.contains("fees or interest") & sample["expected_themes"].eq("surprise_charges")
    assert tags.loc[fee_rows, "surprise_charges"].all()


def test_evidence_keeps_the_longest_phrase(seed_tagger):
    # "charges" also matches "charged": the evidence names the phrase that contains it
    assert seed_tagger.evidence(["I was charged twice."])[0] == "surprise_charges: 'charged twice'"
    assert seed_tagger.evidence(["They charged interest."])[0] == "surprise_charges: 'charged interest'"


def test_charged_off_is_not_a_charge(seed_tagger):
    assert "surprise_charges" not in themes_of(seed_tagger, "The account was charged off in 2019")


# -- salience rule for long texts ----------------------------------------------------------
# Neutral sentences (no seed of any theme), 61 tokens: two of them and a mention exceed 120.
FILLER = (
    "I opened the account in March and moved to a new flat in June. "
    "The branch is on the high street next to the library. "
    "My sister set up the direct debit for me from her laptop. "
    "The statement lists my address, my account number and the sort code. "
    "I use the card for groceries, petrol and the odd train ticket. "
)


def long_letter(*mentions):
    """A written complaint of 120+ tokens: the mentions, each followed by two blocks of filler."""
    return " ".join(f"{m} {FILLER * 2}" for m in mentions)


#: "fee" is in 2 of these 12 texts (> 5%): a common seed of this corpus; no other seed is.
FEE_CORPUS = ["There was a fee on the statement.", "Another fee this month."] + [
    f"The parcel arrived on day {i}" for i in range(10)]


@pytest.fixture(scope="module")
def fee_corpus_tagger():
    return ThemeTagger(learned=False).fit(FEE_CORPUS)


def test_salience_common_seeds_are_fitted_single_words(fee_corpus_tagger):
    common = fee_corpus_tagger.common_seeds_
    assert set(common["surprise_charges"]) == {"fee", "fees"}  # one word, two seeds
    assert not any(common[t] for t in common if t != "surprise_charges")
    # phrases are never common, whatever their frequency
    tagger = ThemeTagger(learned=False, common_seed_df=0.0).fit(["I was charged twice", "on hold for ages"])
    assert "charged twice" not in tagger.common_seeds_["surprise_charges"]
    assert "on hold" not in tagger.common_seeds_["responsiveness"]
    # fitted on nothing, no seed is common (and the rule does nothing)
    assert not any(ThemeTagger(learned=False).fit([]).common_seeds_.values())


def test_salience_passing_mention_in_long_text(fee_corpus_tagger):
    mention = "There was a fee on my statement."
    texts = [
        long_letter(mention),  # one passing mention in a long letter: not the theme
        mention,  # the same mention as a short comment: tagged as before
        long_letter(mention, "They added another fee in May."),  # repeated: tagged
        long_letter("They added a hidden fee."),  # a phrase counts once
        long_letter("I was overcharged."),  # a rare single word counts once
    ]
    tags = fee_corpus_tagger.transform(texts)["surprise_charges"].tolist()
    assert tags == [False, True, True, True, True]
    evidence = fee_corpus_tagger.evidence(texts)
    assert evidence[0] == ""  # no evidence for a theme that was not tagged
    assert evidence[1] == "surprise_charges: 'fee'"
    # the rule off: every mention counts, as for short comments
    off = ThemeTagger(learned=False, long_text=None).fit(FEE_CORPUS)
    assert off.transform(texts)["surprise_charges"].all()
    # more hits required
    strict = ThemeTagger(learned=False, long_text_hits=3).fit(FEE_CORPUS)
    assert strict.transform(texts)["surprise_charges"].tolist() == [False, True, False, True, True]


def test_salience_counts_tokens_and_places(fee_corpus_tagger):
    from feedbacklib.text import token_spans

    mention = "There was a fee on my statement."
    at_limit = mention + " " + " ".join(["word"] * (120 - len(token_spans(mention))))
    assert len(token_spans(at_limit)) == 120
    assert fee_corpus_tagger.transform([at_limit, at_limit + " word"])["surprise_charges"].tolist() == [True, False]
    # "fee" and "fees" both match the one word "fees": one place, one mention
    assert not fee_corpus_tagger.transform([long_letter("Their fees are on the statement.")]).iloc[0].any()


def test_salience_leaves_survey_comments_alone():
    from feedbacklib.sample import generate_comments

    texts = generate_comments(2000, seed=11)["text"]
    rule = ThemeTagger(learned=False, common_seed_df=0.0).fit(texts)  # every single-word seed common
    assert any(rule.common_seeds_.values())
    pd.testing.assert_frame_equal(rule.transform(texts), ThemeTagger(learned=False, long_text=None).fit(texts).transform(texts))


def test_salience_is_a_parameter():
    tagger = ThemeTagger()
    params = tagger.get_params()
    assert params["long_text"] == 120 and params["long_text_hits"] == 2 and params["common_seed_df"] == 0.05
    assert clone(tagger.set_params(long_text=None)).long_text is None


def test_parallel_and_chunked_tagging_match_serial(monkeypatch):
    import feedbacklib.themes.tagger as tg

    texts = [f"{w} number {i}" for i in range(40) for w in ("on hold for ages", "charged twice", "lovely staff")]
    serial = ThemeTagger(random_state=0).fit(texts)
    monkeypatch.setattr(tg, "PARALLEL_MIN_TEXTS", 10)
    monkeypatch.setattr(tg, "CHUNK_TEXTS", 7)  # fit and tag in many chunks, two forked workers
    parallel = ThemeTagger(random_state=0).fit(texts)
    assert serial.thresholds_ == parallel.thresholds_
    assert serial.seed_counts_ == parallel.seed_counts_
    pd.testing.assert_frame_equal(serial.transform(texts), parallel.transform(texts))
    pd.testing.assert_series_equal(serial.evidence(texts), parallel.evidence(texts))


# -- vectorised tagging equals the per-text reference --------------------------------------
def reference_texts():
    from feedbacklib.sample import generate_comments

    sample = pd.read_csv(FIXTURES / "cfpb_sample.csv", dtype=str, keep_default_na=False)["narrative"].tolist()
    tricky = [
        "No hidden fees, thankfully", "Not rude at all", "hold on, I was charged twice",
        "They put a hold on my account and I was on hold for ages.", "The agent wasn't polite",
        "I was charged twice. Charged twice!", "never replied, not replied, didn\u2019t reply", "",
        "The account was charged off in 2019", "Lovely but rude; rude, lovely", "no, I was on hold",
        long_letter("There was a fee on my statement."), long_letter("A fee.", "Another fee."),
        long_letter("They added a hidden fee."), long_letter("I was charged twice and the fees went up."),
        long_letter("The fees were high.", "I waited on hold."),
    ]
    return generate_comments(600, seed=5)["text"].tolist() + sample + tricky


def test_match_many_equals_per_text_hits():
    from feedbacklib.text import tokenize_many
    from feedbacklib.themes.tagger import SeedMatcher

    texts = reference_texts()
    matcher = SeedMatcher(load_taxonomy())
    tokens = tokenize_many(texts)
    m = matcher.match_many(tokens)
    ids = matcher.ids
    got = [[] for _ in texts]
    for r, t, p, a, b in zip(m.doc, m.theme, m.seed, tokens.starts[m.first], tokens.ends[m.last]):
        got[r].append((ids[t], matcher.seed_list[p][1], int(a), int(b)))
    n_hits = 0
    for text, found in zip(texts, got):
        expected = [(h.theme, h.seed, h.start, h.end) for h in matcher.hits(text)]
        assert found == expected, text
        n_hits += len(expected)
    assert n_hits > 500


def test_learned_features_equal_tfidf_vectorizer(monkeypatch):
    """The sparse features built from token arrays are TfidfVectorizer's on the per-text lists."""
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import TfidfVectorizer

    import feedbacklib.themes.matching as mt
    import feedbacklib.themes.tagger as tg
    from feedbacklib.text import tokenize_many

    texts = reference_texts()
    fit_texts, new_texts = texts[:400], texts[400:]
    matcher = tg.SeedMatcher(load_taxonomy())

    def ours(batch):
        tokens = tokenize_many(batch)
        return tg._feature_tokens(tokens, tg._word_table(tokens.vocabulary), matcher.match_many(tokens))

    def lists(batch):
        return [tg._features(t, matcher.hits(t))[0] for t in batch]

    for limit in (200_000, 150):  # also the max_features cut, ties included
        monkeypatch.setattr(mt, "_MAX_FEATURES", limit)  # the feature space lives in matching
        space, M = tg._FeatureSpace.fit([ours(fit_texts)], len(fit_texts))
        vec = TfidfVectorizer(analyzer=lambda d: d, sublinear_tf=True, min_df=2, max_features=limit)
        expected = vec.fit_transform(lists(fit_texts))
        assert list(space.get_feature_names_out()) == list(vec.get_feature_names_out())
        # same matrix, entry for entry and in the same stored order (so the models are identical)
        assert sp.isspmatrix_csr(M) or sp.issparse(M)
        np.testing.assert_array_equal(M.indptr, expected.indptr)
        np.testing.assert_array_equal(M.indices, expected.indices)
        np.testing.assert_array_equal(M.data, expected.data)
        new = space.transform(ours(new_texts), len(new_texts))
        want = vec.transform(lists(new_texts))
        assert (new != want).nnz == 0


def test_tagger_equals_reference_tagging():
    """Tags and evidence equal the per-text path: hits -> outermost -> quotes, _features -> model."""
    import feedbacklib.themes.tagger as tg
    from feedbacklib.text import token_spans

    texts = reference_texts()
    tagger = ThemeTagger(random_state=0, supervised=False).fit(texts)
    assert tagger.models_
    tags = tagger.transform(texts)
    evidence = tagger.evidence(texts)
    matcher = tg.SeedMatcher(tagger.taxonomy_)
    names = tagger.vectorizer_.get_feature_names_out()
    common = {(tagger.theme_ids_[t], seed) for (t, seed, _, _), c in zip(matcher.seed_list, tagger.common_seed_mask_) if c}
    assert common  # "fee" is common in these texts
    dropped = 0
    for r, text in enumerate(texts):
        hits = matcher.hits(text)
        long = len(token_spans(text)) > tagger.long_text
        ev = {}
        for h in tg._outermost(hits):
            lst = ev.setdefault(h.theme, [])
            q = f"'{text[h.start:h.end]}'"
            if q.lower() not in (x.lower() for x in lst):
                lst.append(q)
        for tid in list(ev):
            # salience: a long text whose hits of a theme are all common seeds needs 2 places
            mine = [h for h in hits if h.theme == tid]
            places = {h.start for h in tg._outermost(hits) if h.theme == tid}
            if long and all((tid, h.seed) in common for h in mine) and len(places) < tagger.long_text_hits:
                del ev[tid]
                dropped += 1
        feats, surface = tg._features(text, hits)
        for tid, model in tagger.models_.items():
            if tid in ev or not np.isfinite(tagger.thresholds_[tid]):
                continue
            row = tagger.vectorizer_.transform(tg._feature_tokens(*_one(text, matcher)), 1)
            if row.nnz and model.predict_proba(row)[0, 1] >= tagger.thresholds_[tid]:
                contrib = row.data * model.coef_[0][row.indices]
                order = np.lexsort((names[row.indices], -np.round(contrib, 9)))
                terms = [names[row.indices[o]] for o in order[:3] if contrib[o] > 0]
                if terms:
                    ev[tid] = ["learned: " + ", ".join(surface.get(t, t) for t in terms)]
        assert {c for c in tags.columns if tags.loc[r, c]} == set(ev), text
        assert evidence[r] == "; ".join(f"{tid}: {', '.join(ev[tid])}" for tid in tagger.theme_ids_ if tid in ev)
    assert dropped >= 2  # the rule was exercised


def _one(text, matcher):
    import feedbacklib.themes.tagger as tg
    from feedbacklib.text import tokenize_many

    tokens = tokenize_many([text])
    words = tg._word_table(tokens.vocabulary)
    return tokens, words, matcher.match_many(tokens, words)


def _outermost_brute_force(m):
    import numpy as np

    keep = np.ones(len(m.doc), dtype=bool)
    for i in range(len(keep)):
        for j in range(len(keep)):
            if (i != j and m.doc[i] == m.doc[j] and m.theme[i] == m.theme[j] and m.first[j] <= m.first[i]
                    and m.last[i] <= m.last[j] and m.last[j] - m.first[j] > m.last[i] - m.first[i]):
                keep[i] = False
    return keep


def test_outermost_hits_match_the_pairwise_rule_and_stay_linear():
    """Issue 16.5: one long comment repeating a complaint must not need memory in the square of its hits."""
    import tracemalloc
    from types import SimpleNamespace

    import numpy as np

    from feedbacklib.themes.tagger import _outermost_mask

    rng = np.random.default_rng(0)
    for _ in range(200):
        n = int(rng.integers(0, 30))
        first = rng.integers(0, 10, n)
        m = SimpleNamespace(doc=rng.integers(0, 3, n), theme=rng.integers(0, 3, n), first=first,
                            last=first + rng.integers(0, 4, n))
        assert (_outermost_mask(m) == _outermost_brute_force(m)).all()
    # 60,000 hits of one theme in one text (a ~1 MB comment): all pairs would be 3.6e9 comparisons
    n = 60_000
    first = np.repeat(np.arange(n // 2) * 10, 2)
    m = SimpleNamespace(doc=np.zeros(n, dtype=np.int64), theme=np.zeros(n, dtype=np.int64), first=first,
                        last=first + np.tile([0, 3], n // 2))
    tracemalloc.start()
    keep = _outermost_mask(m)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert keep.sum() == n // 2  # each short hit sits inside its longer twin
    assert peak < 100 * n * 8, f"{peak / 1e6:.0f} MB for {n} hits"


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_toml_string_reads_back_any_text(value):
    """One TOML escaper for taxonomy files (discovery's promote and the analyst's edits): any text,
    control characters included, reads back unchanged."""
    import tomllib

    from feedbacklib.themes.taxonomy import toml_string

    assert tomllib.loads(f"x = {toml_string(value)}")["x"] == value
