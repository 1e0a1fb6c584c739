"""The faster paths of issue 19 item 3 (the pandas engine at 1M rows) give exactly what the paths
they replace gave: each is compared with the old code (kept in ``tests/reference/``) on the
sample month, on a generated month with repeated texts, and on edge cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from feedbacklib import quotes as Q
from feedbacklib import schema as S
from feedbacklib.themes import load_taxonomy

from .reference import quotes_rows as old_q
from .test_partials import repeat_month


def _themes(frame: pd.DataFrame) -> list[str]:
    return [c[len("theme_"):] for c in frame.columns if c.startswith("theme_") and c != S.THEME_EVIDENCE]


def _same_quote_partial(a: Q.QuotePartial, b: Q.QuotePartial) -> None:
    assert (a.k, a.max_pool) == (b.k, b.max_pool)
    assert a.counts == b.counts
    pd.testing.assert_frame_equal(a.candidates, b.candidates)


@pytest.fixture(scope="module")
def month(sample_result):
    return sample_result.frame


@pytest.fixture(scope="module")
def generated(sample_result):
    return repeat_month(sample_result.frame, n=4000)


@pytest.mark.parametrize("k, max_pool", [(3, Q.MAX_POOL), (3, 5), (1, 1), (4, 2), (10, 30)])
def test_quote_partial_equals_the_old_path(month, generated, k, max_pool):
    for frame in (month, generated, generated.iloc[::7]):
        themes = _themes(frame)
        _same_quote_partial(Q.quote_partial(frame, themes, k, max_pool=max_pool),
                            old_q.quote_partial(frame, themes, k, max_pool=max_pool))


def test_quote_partial_edge_cases_equal_the_old_path(month):
    """Few readable texts (the unreadable ones kept), blank and missing texts, an empty frame, parts added up."""
    themes = _themes(month)
    rows = month.head(60).copy()
    text = np.array(rows[S.TEXT].astype(object).to_numpy(), dtype=object)
    text[::5] = "short"        # below MIN_CHARS
    text[1::9] = None
    text[2::11] = "   "
    text[3::13] = "x" * (Q.MAX_CHARS + 5)
    rows[S.TEXT] = pd.array(text, dtype="string")
    for k, max_pool in ((3, 2), (50, 4), (100, 1000)):
        _same_quote_partial(Q.quote_partial(rows, themes, k, max_pool=max_pool),
                            old_q.quote_partial(rows, themes, k, max_pool=max_pool))
        parts = [rows.iloc[i::3] for i in range(3)]
        added = (
            Q.quote_partial(parts[0], themes, k, max_pool=max_pool)
            + Q.quote_partial(parts[1], themes, k, max_pool=max_pool)
            + Q.quote_partial(parts[2], themes, k, max_pool=max_pool))
        _same_quote_partial(added, old_q.quote_partial(rows, themes, k, max_pool=max_pool))
    empty = rows.iloc[0:0]
    _same_quote_partial(Q.quote_partial(empty, themes), old_q.quote_partial(empty, themes))


def test_bottom_rows_keeps_every_row_of_a_kept_hash():
    hashes = np.array([5, 1, 1, 9, 3, 3, 7], dtype=np.uint64)
    readable = np.array([True, True, True, True, True, False, True])
    keep = old_q._bottom_rows(hashes, readable, k=1, max_pool=2)
    assert keep.tolist() == [False, True, True, False, True, False, False]
    # fewer than k readable hashes: the unreadable rows are candidates too
    keep = old_q._bottom_rows(hashes, np.array([True, False, False, False, False, False, False]), k=2, max_pool=2)
    assert keep.tolist() == [True, True, True, False, True, True, False]


def test_taxonomy_themes_are_in_the_sample(month):
    assert set(load_taxonomy().ids) <= set(_themes(month)) | {"praise"}


# --------------------------------------------------------------------------- #
# Recognition: praise_clause read lazily, the agent and clause once per distinct text
# --------------------------------------------------------------------------- #
PRAISE_EDGE = [
    "Fantastic service from Priya but there was an unexpected fee of £35.",
    "Felt rushed. Thank you anyway, lovely people!",
    "", "   ", None, ",,, ; ,", "Thanks for nothing", "Priya; Priya was great. thanks",
    "Great - but slow; however kind\nand patient. Sarah was a star!  ", "no praise here at all",
    "Thank you, Mr. O'Neil - above and beyond, although late", "x" * 50 + ". thanks",
]


def test_praise_clause_equals_the_old_split(month):
    from feedbacklib.actions import detect_agent, praise_clause

    from .reference.praise_rows import praise_clause as old

    texts = PRAISE_EDGE + month[S.TEXT].dropna().astype(str).tolist()
    for text in texts:
        for agent in {"", detect_agent(text), "Priya", "Sarah Jones", "O'Neil"}:
            assert praise_clause(text, agent) == old(text, agent), (text, agent)


def test_recognition_partial_equals_the_row_by_row_path(month, generated):
    """The agent, clause and verdict computed per distinct text equal the old per-row loop's."""
    from feedbacklib import actions as A
    from feedbacklib import stats as C

    from .reference.praise_rows import praise_clause as old

    for frame in (month, generated):
        part = A.recognition_partial(frame, size=10_000)  # every praising row a candidate
        rows = frame.loc[C.bool_flags(frame, S.theme_column(A.PRAISE_THEME)) & C.has_text(frame)]
        agent = [A.detect_agent(t) for t in rows[S.TEXT]]
        clause = [old(t, a) for t, a in zip(rows[S.TEXT], agent)]
        keep = np.zeros(len(rows), dtype=bool)
        said = np.array([c != "" for c in clause], dtype=bool)
        keep[said] = A._praising([c for c in clause if c])
        expected = rows.loc[keep]
        assert sum(part.counts.values()) == len(expected)
        got = part.candidates.set_index(S.RESPONSE_ID)
        exp = pd.DataFrame({"agent": np.array(agent, dtype=object)[keep], "clause": np.array(clause, dtype=object)[keep]},
                           index=expected[S.RESPONSE_ID].astype("string"))
        exp = exp.loc[got.index]
        assert got["agent"].tolist() == exp["agent"].tolist()
        assert got["clause"].tolist() == exp["clause"].tolist()


# --------------------------------------------------------------------------- #
# text_mask: Arrow's white-space test instead of a stripped copy
# --------------------------------------------------------------------------- #
def _old_text_mask(texts: pd.Series) -> np.ndarray:
    text = texts.astype("string")
    return np.array((text.notna() & (text.str.strip().str.len() > 0)).fillna(False), dtype=bool)


def test_text_mask_equals_the_strip_test_on_every_code_point():
    from feedbacklib.stats import text_mask

    chars = [chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000]
    values = chars + [c * 3 for c in chars[:0x3100]] + [" " + c + "\t" for c in chars[:0x3100]]
    values += ["", None, pd.NA, float("nan"), "  ok ", "\u2003\u00a0\u3000", "\u200b", "\ufeff"]
    for dtype in ("string", object, "str"):
        texts = pd.Series(values, dtype=dtype) if dtype != "str" else pd.Series(
            [v if isinstance(v, str) else None for v in values], dtype="str")
        assert np.array_equal(text_mask(texts), _old_text_mask(texts))
    python = pd.Series(values[:500], dtype=pd.StringDtype("python"))
    assert np.array_equal(text_mask(python), _old_text_mask(python))


# --------------------------------------------------------------------------- #
# tokenize_many: tokens and gaps numbered by a dict instead of pd.factorize
# --------------------------------------------------------------------------- #
def test_first_seen_codes_equal_factorize(month):
    from feedbacklib.text import _TOKEN_SPLIT_RE, _first_seen_codes

    big = "\n".join(month[S.TEXT].dropna().astype(str).tolist() + PRAISE_EDGE[:2] + ["", "a  b\t\tc", "é É e"])
    parts = _TOKEN_SPLIT_RE.split(big)
    for values in (parts[1::2], parts[0:-1:2], [], ["x"], ["b", "a", "b", "", "a"]):
        codes, uniq = _first_seen_codes(values)
        expected_codes, expected = pd.factorize(np.array(values, dtype=object), sort=False)
        assert codes.tolist() == expected_codes.tolist()
        assert list(uniq) == list(expected)
