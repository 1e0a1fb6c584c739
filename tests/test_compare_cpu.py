"""The faster compare-stage paths (issue 19 item 3, the compare stage at 1M rows) give exactly what the
paths they replace gave: each is compared with the old code (kept in ``tests/reference/compare_rows.py``)
on the sample month, on a generated month with repeated texts, on parts of it and on edge cases."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from feedbacklib import actions as A
from feedbacklib import emerging as E
from feedbacklib import quotes as Q
from feedbacklib import schema as S
from feedbacklib.themes import discovery as D

from .reference import compare_rows as old
from .reference import quotes_rows as old_q
from .test_partials import repeat_month

#: Texts that probe the clause splits, the praise words and the names: white space of every kind,
#: sentence ends without a space, names that are contrast words, case-folding letters.
EDGE_TEXTS = [
    "", "   ", ",,, ; ,", "Thanks for nothing", "Priya; Priya was great. thanks",
    "Great - but slow; however kind\nand patient. Sarah was a star!  ", "no praise here at all",
    "Thank you, Mr. O'Neil - above and beyond, although late", "x" * 50 + ". thanks",
    "Yet was a star. But the fee, however, was not. Yet deserves praise", "But was brilliant; thanks But",
    "Though went above and beyond. though kind", "The fee was £7.99.thanks to Sam, but slow",
    "e.g.great service!Thanks to Ann-Marie.\u00a0Kind", "thanks\u00a0Sarah,\u2003great", "thanks\u2028Tom - lovely",
    "\u212aind words: \u017fuperb, thanks", "fantastic\tservice ,but\u3000late; Jo was lovely", "Helped by Li.",
    "Kudos to Ravi!!! unfortunately the app crashed. Ravi sorted it", "spoke with Ana-Lu - well done Ana",
    "agent,  Bo  was great", "shout out to Kim, shoutout to Lee. Kim was wonderful", "Thank you to Everyone",
    "Nothing was sorted. Monday was great", "well done!!! ;;; extra mile -- a credit", "thanks;\nthank you",
    "Deserves Hugo. Hugo deserves a raise", "I'd thank you but no", "Excellent. Excellent. Excellent.",
]


@pytest.fixture(scope="module")
def month(sample_result):
    return sample_result.frame


@pytest.fixture(scope="module")
def generated(sample_result):
    return repeat_month(sample_result.frame, n=4000)


def _texts(frame: pd.DataFrame) -> list[str]:
    return EDGE_TEXTS + frame[S.TEXT].dropna().astype(str).unique().tolist()


def _themes(frame: pd.DataFrame) -> list[str]:
    return [c[len("theme_"):] for c in frame.columns if c.startswith("theme_") and c != S.THEME_EVIDENCE]


# --------------------------------------------------------------------------- #
# The patterns: lookaheads that change no match
# --------------------------------------------------------------------------- #
def test_split_and_praise_patterns_match_as_before(month):
    for text in _texts(month):
        assert [m.span() for m in A._CLAUSE_SPLIT.finditer(text)] == \
            [m.span() for m in old._CLAUSE_SPLIT.finditer(text)], text
        assert [m.span() for m in A._PRAISE_WORDS.finditer(text)] == \
            [m.span() for m in old._PRAISE_WORDS.finditer(text)], text


def test_praise_lookahead_admits_every_first_letter_on_every_code_point():
    """Under IGNORECASE the lookahead's class accepts every character an alternative's first letter does."""
    letters = sorted({w[0] for w in re.findall(r"[a-z][a-z ]*", old._PRAISE_WORDS.pattern.split("(?:", 1)[1])})
    first = re.compile("|".join(letters), re.IGNORECASE)
    found = re.match(r"\(\?=(\[[a-z]+\])\)", A._PRAISE_WORDS.pattern)
    assert found is not None and A._PRAISE_WORDS.flags & re.IGNORECASE
    ahead = re.compile(found.group(1), re.IGNORECASE)
    assert set(letters) <= set(found.group(1)[1:-1])
    for code in range(0x110000):
        ch = chr(code)
        if first.fullmatch(ch):
            assert ahead.fullmatch(ch), hex(code)


def test_python_white_space_class_is_every_code_point_re_calls_space():
    import pyarrow as pa
    import pyarrow.compute as pc

    chars = [chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000]
    expected = [bool(re.match(r"\s", ch)) for ch in chars]
    got = pc.match_substring_regex(pa.array(chars), "^" + A._PY_SPACE + "$").to_pylist()
    assert got == expected


# --------------------------------------------------------------------------- #
# Recognition
# --------------------------------------------------------------------------- #
def test_detect_agents_equals_detect_agent_on_each_text(month, generated):
    texts = _texts(month) + _texts(generated) + [None, float("nan"), 3]
    assert A._detect_agents(texts) == [A.detect_agent(t) for t in texts]
    assert A._detect_agents(np.array(texts, dtype=object)) == [A.detect_agent(t) for t in texts]
    assert A._detect_agents([]) == []


def test_praise_clause_equals_the_clause_by_clause_loop(month, generated):
    for text in _texts(month) + _texts(generated) + [None, 3]:
        agents = {"", A.detect_agent(text), "Priya", "Sarah Jones", "O'Neil", "Yet", "But Smith", "Kim", "Hugo"}
        for agent in agents:
            assert A.praise_clause(text, agent) == old.praise_clause(text, agent), (text, agent)


def _same_recognition(a: A.RecognitionPartial, b: A.RecognitionPartial) -> None:
    assert a.size == b.size
    assert a.counts == b.counts
    assert list(a.counts) == list(b.counts)
    pd.testing.assert_frame_equal(a.candidates, b.candidates)


@pytest.mark.parametrize("size", [1, 3, A.RECOGNITION_CANDIDATES, 10_000])
def test_recognition_partial_equals_the_old_path(month, generated, size):
    for frame in (month, generated, generated.iloc[::5], generated.iloc[:0]):
        _same_recognition(A.recognition_partial(frame, size), old.recognition_partial(frame, size))


def test_recognition_partial_edge_cases_equal_the_old_path(month):
    rows = month.head(len(EDGE_TEXTS)).copy()
    rows[S.TEXT] = pd.array(EDGE_TEXTS, dtype=month[S.TEXT].dtype)
    rows[S.theme_column(A.PRAISE_THEME)] = True
    for frame in (rows, rows.drop(columns=[S.VENDOR, S.PLATFORM]), rows.assign(**{S.TEAM: pd.NA})):
        _same_recognition(A.recognition_partial(frame), old.recognition_partial(frame))
    parts = [A.recognition_partial(rows.iloc[i::3]) for i in range(3)]
    _same_recognition(parts[0] + parts[1] + parts[2], old.recognition_partial(rows.iloc[0::3])
                      + old.recognition_partial(rows.iloc[1::3]) + old.recognition_partial(rows.iloc[2::3]))


# --------------------------------------------------------------------------- #
# Fix first and the call list
# --------------------------------------------------------------------------- #
def test_fix_first_partial_equals_the_old_path(month, generated):
    themes = _themes(month)
    no_vendor = generated.assign(**{S.VENDOR: pd.array([pd.NA] * len(generated), dtype="string")})
    for frame in (month, generated, generated.iloc[::7], generated.iloc[:0], no_vendor,
                  generated.drop(columns=[S.SERVICE_MODEL, S.CHANNEL])):
        for kw in ({"themes": themes}, {"themes": themes[:2], "dimensions": (S.TEAM,)}, {"dimensions": ()}):
            a, b = A.fix_first_partial(frame, **kw), old.fix_first_partial(frame, **kw)
            assert a.dimensions == b.dimensions
            pd.testing.assert_frame_equal(a.counts, b.counts)
            pd.testing.assert_series_equal(a.totals, b.totals)


@pytest.mark.parametrize("size", [1, 5, 15, 10_000])
@pytest.mark.parametrize("one_per_customer", [True, False])
def test_call_list_partial_equals_the_old_path(month, generated, size, one_per_customer):
    calm = generated.assign(**{c: False for c in generated.columns if c.startswith("theme_")
                               and generated[c].dtype == bool})
    for frame in (month, generated, generated.iloc[::3], generated.iloc[:0], calm,
                  generated.drop(columns=[S.CUSTOMER_KEY, S.PLATFORM])):
        a = A.call_list_partial(frame, size, one_per_customer=one_per_customer)
        b = old.call_list_partial(frame, size, one_per_customer=one_per_customer)
        pd.testing.assert_frame_equal(a.candidates, b.candidates)


# --------------------------------------------------------------------------- #
# Emerging themes: counts per distinct text, the silhouette from one distance matrix
# --------------------------------------------------------------------------- #
def _uncovered(frame: pd.DataFrame) -> pd.Series:
    return D.uncovered_texts(frame)


def test_emerging_counts_equal_the_old_path(month, generated):
    texts = pd.concat([_uncovered(month), _uncovered(generated)], ignore_index=True)
    fit = E.fit_emerging(E.bottom_k_texts(texts, 2000), len(texts), texts, ["2026-09"] * len(texts),
                         previous_month="2026-09")
    assert fit is not None and fit.before is not None
    plain = E.EmergingModels(fit.discovery, None, fit.previous)
    noisy = pd.Series([*texts.iloc[:200], None, "", "  ", float("nan"), "ok", "ok", "yes"], dtype=object)
    for models in (fit, plain):
        for sample in (texts, texts.iloc[::9], noisy, texts.iloc[:0]):
            a, b = E.emerging_counts(sample, models), old.emerging_counts(sample, models)
            assert a.texts == b.texts
            pd.testing.assert_frame_equal(a.table, b.table)
    for sample in ([None, "", "a", "a ", " a", "b"], noisy, texts.iloc[:0]):
        pd.testing.assert_series_equal(E._nonempty(sample), old._nonempty(sample))


@pytest.mark.parametrize("n", [40, 900, 3500])
def test_discovery_fit_with_one_distance_matrix_equals_the_fit_per_k(month, generated, monkeypatch, n):
    """Above 3,000 texts the silhouette is on a sample; every k is scored on the same distances."""
    texts = pd.concat([_uncovered(month), _uncovered(generated), month[S.TEXT].dropna()], ignore_index=True)
    texts = texts.iloc[np.random.default_rng(1).integers(0, len(texts), n)].reset_index(drop=True)
    new = D.ThemeDiscovery(k_min=2, k_max=6, random_state=0).fit(texts)
    monkeypatch.setattr(D, "_cosine_distances", lambda Z: False)  # the old path: distances per k
    per_k = D.ThemeDiscovery(k_min=2, k_max=6, random_state=0).fit(texts)
    assert new.silhouette_ == per_k.silhouette_
    assert (new.labels_ == per_k.labels_).all()
    assert new.candidates_ == per_k.candidates_
    assert (new.predict(texts) == per_k.predict(texts)).all()


# --------------------------------------------------------------------------- #
# Quotes: the bottom-k threshold from hash ranks
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("seed", range(5))
def test_bottom_ranks_equals_bottom_rows(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 400))
    values = rng.integers(0, int(rng.integers(1, 300)), n).astype(np.uint64) * np.uint64(2_654_435_761)
    readable = rng.random(n) < rng.random()
    distinct, ranks = np.unique(values, return_inverse=True)
    for k, max_pool in ((3, 5), (1, 1), (5, 2), (10, 30), (3, 5_000)):
        assert (Q._bottom_ranks(ranks.reshape(-1), readable, k, max_pool, len(distinct))
                == old_q._bottom_rows(values, readable, k, max_pool)).all()


# --------------------------------------------------------------------------- #
# Service: the contact test on the categories
# --------------------------------------------------------------------------- #
def _old_contact_mask(frame: pd.DataFrame, contact_sources) -> np.ndarray:
    from feedbacklib import stats as C

    ok = np.ones(len(frame), dtype=bool)
    if contact_sources is not None and S.SOURCE in frame.columns:
        ok &= np.array(frame[S.SOURCE].astype("string").isin(list(contact_sources)).fillna(False), dtype=bool)
    for col in (S.CUSTOMER_KEY, S.RECEIVED_AT):
        ok &= C.known_mask(frame, col)
    return ok


def test_contact_mask_on_categories_equals_the_string_test(month, generated):
    from feedbacklib import service as SV

    source = np.array(generated[S.SOURCE].astype(object), dtype=object)
    source[::11] = None
    variants = [month, generated, generated.iloc[:0],
                generated.assign(**{S.SOURCE: pd.Categorical(source)}),
                generated.assign(**{S.SOURCE: pd.Categorical([v if v == "ticket" else None for v in source],
                                                             categories=["ticket", "other"])}),
                generated.assign(**{S.SOURCE: pd.Categorical([None] * len(generated), categories=[])}),
                generated.assign(**{S.SOURCE: pd.Series(source, dtype="string")})]
    for frame in variants:
        for sources in (None, ["ticket", "complaint"], [], ("survey",), ["nope"]):
            assert (SV._contact_mask(frame, sources) == _old_contact_mask(frame, sources)).all()
