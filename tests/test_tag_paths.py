"""The faster theme and sentiment paths of issue 19 item 3 (task ``tag``) give exactly what the
paths they replace gave: each new path is compared with the old one on the sample month, on
generated comments and on hostile edge cases (every code point, markers, lone surrogates)."""

from __future__ import annotations

import dataclasses
import random

import numpy as np
import pytest

from feedbacklib import text as T

ALPHABET = list("aZ9_'\u2019\u2018\u02bc` ,.!?;:-\u2013\u2014\n\r\t\"()[]x\u00e9\u00d7\u00f7\u00c0\u024f\u0250\u03b1\u03b2"
                "\u03a9\u00b2\u00bd\u4e00\U0001d400\u0663\u0300\u200b\u00a0\u00b5\u00aa\u00ba") + [
    "but", "However", "\ufb01", "\u0130", "\u00df", "n't", "BUT_", "although"]


def _random_texts(seed: int, n: int) -> list:
    rng = random.Random(seed)
    return ["".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 40))) for _ in range(n)]


def _old_tokenize_many(texts):
    """tokenize_many with Python's ``re`` split (the path before RE2)."""
    new = T._split_tokens
    T._split_tokens = T._split_tokens_re
    try:
        return T.tokenize_many(texts)
    finally:
        T._split_tokens = new


def _assert_same_tokens(a: T.TokenArrays, b: T.TokenArrays) -> None:
    for field in dataclasses.fields(T.TokenArrays):
        x, y = getattr(a, field.name), getattr(b, field.name)
        if isinstance(x, list):
            assert x == y, field.name
        else:
            assert x.dtype == y.dtype and np.array_equal(x, y), field.name


def test_re2_token_class_accepts_the_same_code_points_as_python():
    """Each code point alone, and in runs: RE2 splits exactly as Python's ``re`` does."""
    chars = [chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000]
    for step in (1, 7):
        big = "\n".join("".join(chars[i:i + step]) for i in range(0, len(chars), step))
        big = big.replace(T._MARK, " ")
        got = T._split_tokens(big)
        want = T._split_tokens_re(big)
        assert np.array_equal(got[0], want[0]) and got[1] == want[1]
        assert np.array_equal(got[2], want[2]) and got[3] == want[3]


@pytest.mark.parametrize("seed", range(4))
def test_tokenize_many_equals_the_re_path_on_hostile_text(seed):
    texts = _random_texts(seed, 200)
    texts += [None, "", "   ", "\x00abc don't", "a\ud800b but c", "x" * 3, "ab'cd9'ef", "\u03b1abc'd \u00b2x"]
    for batch in (texts, texts[:1], texts[-3:], [t for t in texts if isinstance(t, str) and T._MARK not in t]):
        _assert_same_tokens(T.tokenize_many(batch), _old_tokenize_many(batch))


def test_tokenize_many_equals_the_re_path_on_comments():
    from feedbacklib.sample import generate_comments

    texts = generate_comments(2000, seed=5)["text"].tolist()
    _assert_same_tokens(T.tokenize_many(texts), _old_tokenize_many(texts))
    _assert_same_tokens(T.tokenize_many([]), _old_tokenize_many([]))


# --------------------------------------------------------------------------- #
# add_themes / add_sentiment: the distinct texts factorised once for both stages
# --------------------------------------------------------------------------- #
def _frames(sample_result):
    import pandas as pd

    from feedbacklib import schema as S

    month = sample_result.frame[[S.TEXT]].reset_index(drop=True)
    texts = month[S.TEXT].astype("string")
    extra = pd.array([None, "", "   ", "Charged twice!!", "Charged twice!!", None, "\u00e9 but ok"], dtype="string")
    mixed = pd.DataFrame({S.TEXT: pd.concat([pd.Series(texts.array), pd.Series(extra)], ignore_index=True)})
    return [pd.DataFrame({S.TEXT: texts}), mixed, mixed.iloc[:0], pd.DataFrame({S.TEXT: pd.array([None], dtype="string")}),
            pd.DataFrame({S.TEXT: texts.astype(object)})]


def test_add_themes_and_sentiment_equal_the_old_path(sample_result):
    import pandas as pd

    from feedbacklib.engines import base
    from feedbacklib.engines.base import add_sentiment, add_themes, fit_tagger

    from .reference import tag_rows as old

    from feedbacklib.config import load_config
    from feedbacklib.themes import load_taxonomy

    from .conftest import CONFIG

    tagger = fit_tagger(sample_result.frame["text"], load_taxonomy(load_config(CONFIG).taxonomy))
    for frame in _frames(sample_result):
        new = add_sentiment(add_themes(frame, tagger))
        assert base._FACTORIZED == {}  # emptied by add_sentiment
        pd.testing.assert_frame_equal(new, old.add_sentiment(old.add_themes(frame, tagger)), check_exact=True)
        # sentiment of other rows than those tagged: the kept factorisation is not used
        tagged = add_themes(frame, tagger)
        other = tagged.iloc[::-1].reset_index(drop=True)
        other["text"] = other["text"].copy(deep=True) if len(other) else other["text"]
        pd.testing.assert_frame_equal(add_sentiment(other), old.add_sentiment(other), check_exact=True)
        # the chunked path (Dask partitions) still scores chunk by chunk
        pd.testing.assert_frame_equal(add_sentiment(add_themes(frame, tagger), chunk=5),
                                      old.add_sentiment(frame.assign(**{c: tagged[c] for c in tagged.columns}), chunk=5),
                                      check_exact=True)


def test_kept_factorisation_is_freed_with_its_texts(sample_result):
    import gc

    import pandas as pd

    from feedbacklib.engines import base

    texts = pd.Series(["a", "b", None, "a"], dtype="string")
    codes, distinct = base._factorize_texts(texts)
    assert codes.tolist() == [0, 1, -1, 0] and distinct == ["a", "b"] and base._FACTORIZED
    assert base._take_factorized(pd.Series(["a", "b", None, "a"], dtype="string")) is None  # other data
    assert base._FACTORIZED == {}
    base._factorize_texts(texts)
    del texts
    gc.collect()
    assert base._FACTORIZED == {}


def test_fit_sample_of_an_arrow_column_equals_the_object_path(sample_result):
    import pandas as pd

    from feedbacklib.engines.base import fit_sample

    texts = sample_result.frame["text"].astype(object).tolist()
    texts += [None, "", "  ", "\u2003\u00a0", "\u200b", "\ufeff", " x ", "x", "x", "\u00e9 but"] + _random_texts(9, 300)
    for k in (None, 5, 1, 10_000):
        for values in (texts, texts[::-1], texts[:3], [None], []):
            arrow = pd.Series(values, dtype="string")
            old = fit_sample(pd.Series(values, dtype=object), k)
            new = fit_sample(arrow, k)
            pd.testing.assert_frame_equal(new, old, check_exact=True)


def test_seed_evidence_equals_the_old_path(sample_result):
    from feedbacklib.config import load_config
    from feedbacklib.sample import generate_comments
    from feedbacklib.themes import load_taxonomy
    from feedbacklib.themes import matching as M

    from .conftest import CONFIG
    from .reference import tag_rows as old

    matcher = M._matcher_for(load_taxonomy(load_config(CONFIG).taxonomy))
    texts = [t for t in sample_result.frame["text"].astype(object).tolist() if isinstance(t, str)]
    texts += generate_comments(1500, seed=3)["text"].tolist()
    texts += ["On hold, ON HOLD, on  hold and on hold again", "charged twice... Charged Twice!", ""]
    texts += [t + " " + t.upper() for t in texts[:200]] + _random_texts(4, 100)
    rng = np.random.default_rng(0)
    for batch in (texts, texts[:1], texts[-120:], []):
        tokens = T.tokenize_many(batch)
        m = matcher.match_many(tokens)
        keep = M._outermost_mask(m)
        tagged = rng.random((len(batch), len(matcher.ids))) < 0.7
        for args in ((None, None), (keep, None), (keep, tagged)):
            got, want = M._seed_evidence(batch, tokens, m, *args), old._seed_evidence(batch, tokens, m, *args)
            assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1]) and got[2] == want[2]
            assert got[0].dtype == want[0].dtype and got[1].dtype == want[1].dtype


def test_supervised_features_of_a_subset_equal_those_rows_of_the_whole(sample_result):
    """_tag_chunk computes the supervised model's features for the long texts alone: each row must be
    bit for bit the row the whole chunk gave (the model's probabilities and terms read it)."""
    from feedbacklib.config import load_config
    from feedbacklib.sample import generate_comments
    from feedbacklib.themes import load_taxonomy
    from feedbacklib.themes import matching as M
    from feedbacklib.themes.supervised import features, fit_supervised
    from feedbacklib.themes.tagger import _texts_subset

    from .conftest import CONFIG

    tax = load_taxonomy(load_config(CONFIG).taxonomy)
    sup = fit_supervised(tax, frozenset())
    matcher = M._matcher_for(tax)
    short = [t for t in sample_result.frame["text"].astype(object).tolist() if isinstance(t, str)]
    short += generate_comments(600, seed=8)["text"].tolist() + ["", "no", "\u00e9"]
    rng = np.random.default_rng(2)
    long_ = [" ".join(rng.choice(short, 6)) + " not charged twice, on hold" for _ in range(150)]
    texts = [t for pair in zip(short, long_ + short[:len(short) - len(long_)]) for t in pair]
    tokens = T.tokenize_many(texts)
    words = M._word_table(tokens.vocabulary)
    m = matcher.match_many(tokens, words)
    for rows in (np.diff(tokens.offsets) > 60, np.ones(len(texts), dtype=bool), np.arange(len(texts)) == 7,
                 rng.random(len(texts)) < 0.3):
        whole = features(tokens, words, m, matcher, sup.space, rows)[rows]
        sub_tokens, sub_m = _texts_subset(tokens, m, np.flatnonzero(rows))
        part = features(sub_tokens, words, sub_m, matcher, sup.space)
        assert part.shape == whole.shape
        assert np.array_equal(part.indptr, whole.indptr) and np.array_equal(part.indices, whole.indices)
        assert np.array_equal(part.data, whole.data)
        # and the subset is what tokenising those texts alone gives, up to the vocabulary numbering
        alone = T.tokenize_many([texts[i] for i in np.flatnonzero(rows)])
        assert [sub_tokens.vocabulary[w] for w in sub_tokens.words] == [alone.vocabulary[w] for w in alone.words]
        assert np.array_equal(sub_tokens.offsets, alone.offsets) and np.array_equal(sub_tokens.starts, alone.starts)
        assert np.array_equal(sub_tokens.clause_start, alone.clause_start)
        again = matcher.match_many(alone)
        for f in ("doc", "theme", "seed", "first", "last"):
            assert np.array_equal(getattr(sub_m, f), getattr(again, f)), f


LATIN = list("aZ9zA0_'' ,.!?;:-\n\t\"()x\u00e9\u00d7\u00f7\u00c0\u024f\u00a3\u2014\u0663\u00a0\u00bf\u00ff") + [
    "ab'cd9", "9'ef", "x'a9b'c7", "''", "a'", "'b", "but", "However", "n't", "don't", "\u00e9'\u00e9", "\U0001f44d"]


@pytest.mark.parametrize("seed", range(6))
def test_array_tokeniser_equals_python_re_without_other_letters(seed):
    """The code point path (_token_bounds) on text without letters outside A-Z, a-z, U+00C0-U+024F."""
    rng = random.Random(seed)
    texts = ["".join(rng.choice(LATIN) for _ in range(rng.randint(0, 30))) for _ in range(400)]
    big = "\n".join(texts)
    assert T._token_bounds(big) is not None  # this path, not RE2's
    got, want = T._split_tokens(big), T._split_tokens_re(big)
    assert np.array_equal(got[0], want[0]) and got[1] == want[1]
    assert np.array_equal(got[2], want[2]) and got[3] == want[3]
    _assert_same_tokens(T.tokenize_many(texts), _old_tokenize_many(texts))
    for one in texts[:60]:
        assert T._split_tokens(one)[1] == T._split_tokens_re(one)[1]


def test_array_tokeniser_declines_other_letters_and_surrogates():
    assert T._token_bounds("caf\u00e9 \u00a3 9") is not None
    for text in ("\u00b5g", "\u00aa", "\u03b1\u03b2", "x \u4e00", "2\u00b2", "a\ud800b"):
        assert T._token_bounds(text) is None
        assert T._split_tokens(text)[1] == T._split_tokens_re(text)[1]


def test_array_tokeniser_on_every_code_point_it_takes():
    """Every code point that is not a letter outside the Latin ranges, alone and in runs with quotes,
    letters and digits around: the code point path splits exactly as Python's ``re``."""
    chars = [chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000]
    taken = [c for c in chars if c < "\u0080" or "\u00c0" <= c <= "\u024f" or not T._LETTER_RE.match(c)]
    for glue in ("'", "a'9"):
        for step in (1, 2):
            big = glue.join("".join(taken[i:i + step]) for i in range(0, len(taken), step))
            assert T._token_bounds(big) is not None
            got, want = T._split_tokens(big), T._split_tokens_re(big)
            assert np.array_equal(got[0], want[0]) and got[1] == want[1]
            assert np.array_equal(got[2], want[2]) and got[3] == want[3]
