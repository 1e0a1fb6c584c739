"""The faster paths of issue 19 (item 3) give exactly what the paths they replace gave.

- ``add_themes`` calls the tagger directly instead of going through ``tag_themes`` (no frame
  copy, the evidence kept in Arrow): the same flags, the same evidence, the same dtypes.
- ``score_sentiment`` on a ``string`` column finds distinct texts with Arrow's hash table and
  tests blankness once per distinct text: the same scores as the object path.
- ``release_memory`` between the steps changes no data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from feedbacklib import schema as S
from feedbacklib.arrowstr import release_memory
from feedbacklib.engines.base import add_sentiment, add_themes, fit_tagger
from feedbacklib.sentiment import score_sentiment
from feedbacklib.themes import load_taxonomy, tag_themes

EDGE = [
    "I was on hold for an hour and then charged twice!",
    "",
    "   ",
    "\t\n",
    None,
    "The agent was lovely 😀😀 but the refund never came 💸",
    "Straße café naïve — Привет, мир! 東京 ２ ½ ª",
    "don't9 ab'cd9'ef x'' 'y it\u2019s `fine` ʼok",
    "GREAT SERVICE!!! but... so SLOW??",
    "no problems at all",
    ("The refund took weeks and nobody called me back. " * 400).strip(),  # very long
    "I was on hold for an hour and then charged twice!",  # a repeat
    "\u0130stanbul DİYARBAKIR \u00a0non-breaking\u2003em-space",
    "x",
]


def _old_add_themes(frame: pd.DataFrame, tagger) -> pd.DataFrame:
    """add_themes as it was: through tag_themes and an object array of evidence."""
    tagged = tag_themes(frame[[S.TEXT]], tagger)
    return frame.assign(
        **{S.theme_column(t): tagged[S.theme_column(t)].to_numpy(dtype=bool) for t in tagger.theme_ids_},
        **{S.THEME_EVIDENCE: tagged[S.THEME_EVIDENCE].to_numpy()},
    )


def _old_compound(texts: pd.Series) -> pd.Series:
    """The object path of _compound (every input went this way before)."""
    return score_sentiment(pd.Series(texts.astype(object).tolist(), index=texts.index, dtype=object))["sentiment"]


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return pd.DataFrame({
        S.RESPONSE_ID: [f"r{i}" for i in range(len(EDGE))],
        S.TEXT: pd.Series(EDGE, dtype="string"),
    }, index=pd.RangeIndex(len(EDGE)))


@pytest.fixture(scope="module")
def tagger(frame):
    return fit_tagger(frame[S.TEXT], load_taxonomy())


def test_add_themes_same_as_through_tag_themes(frame, tagger):
    new, old = add_themes(frame, tagger), _old_add_themes(frame, tagger)
    pd.testing.assert_frame_equal(new, old)
    assert new[S.THEME_EVIDENCE].dtype == old[S.THEME_EVIDENCE].dtype
    assert new["theme_surprise_charges"].iloc[0] and "charged twice" in new[S.THEME_EVIDENCE].iloc[0]


@pytest.mark.parametrize("na", [None, np.nan, pd.NA])
def test_add_themes_with_missing_text_and_other_index(tagger, na):
    texts = pd.Series(["charged twice", na, "lovely staff", ""], dtype="string", index=[7, 3, 11, 0])
    frame = pd.DataFrame({S.TEXT: texts})
    pd.testing.assert_frame_equal(add_themes(frame, tagger), _old_add_themes(frame, tagger))
    for dtype in ("str", pd.StringDtype("python"), object):  # pandas' default str (NaN missing), Python storage
        other = pd.DataFrame({S.TEXT: texts.astype(dtype)})
        pd.testing.assert_frame_equal(add_themes(other, tagger), _old_add_themes(other, tagger))


def test_add_themes_empty_frame(tagger):
    frame = pd.DataFrame({S.TEXT: pd.Series([], dtype="string")})
    pd.testing.assert_frame_equal(add_themes(frame, tagger), _old_add_themes(frame, tagger))


@pytest.mark.parametrize("dtype", ["string", "str"])
def test_string_sentiment_same_as_object_path(frame, dtype):
    texts = frame[S.TEXT].astype(dtype)
    new = score_sentiment(texts)["sentiment"]
    old = _old_compound(texts)
    np.testing.assert_array_equal(new.to_numpy(), old.to_numpy())  # NaN where blank or missing, same floats
    assert new.index.equals(texts.index)
    assert np.isnan(new.iloc[1]) and np.isnan(new.iloc[2]) and np.isnan(new.iloc[3]) and np.isnan(new.iloc[4])
    assert not np.isnan(new.iloc[0]) and new.iloc[0] == new.iloc[11]


def test_string_sentiment_edge_sizes():
    for values in ([], [None], [""], ["ok"], [pd.NA, "good", "good", " "]):
        texts = pd.Series(values, dtype="string", index=pd.RangeIndex(10, 10 + len(values)))
        new, old = score_sentiment(texts), score_sentiment(pd.Series(values, dtype=object, index=texts.index))
        pd.testing.assert_frame_equal(new, old)


def test_add_sentiment_unchanged_by_chunks(frame):
    whole = add_sentiment(frame)
    pd.testing.assert_frame_equal(whole, add_sentiment(frame, chunk=3))


def test_release_memory_changes_nothing(frame, tagger):
    before = add_themes(frame, tagger)
    release_memory()
    release_memory()
    pd.testing.assert_frame_equal(before, add_themes(frame, tagger))
