"""Emerging themes earn their place: no non-themes, no repeated quote, same rules in notebook and report."""

from __future__ import annotations

import pandas as pd
import pytest

from feedbacklib import explore as fx
from feedbacklib import schema as S
from feedbacklib.emerging import find_emerging, has_content_word, meaningful_candidates
from feedbacklib.themes.discovery import uncovered_texts


@pytest.mark.parametrize(("text", "content"), [
    ("yes", False), ("It was ok, nothing special.", False), ("all good", False), ("okay I guess", True),
    ("No dial tone on the landline.", True), ("Please send me a copy of my statement", True), (None, False),
])
def test_content_words(text, content):
    assert has_content_word(text) is content


def _texts(n=40):
    rows = []
    for i in range(n):
        rows += [f"No dial tone on the landline since {['monday', 'tuesday', 'friday'][i % 3]}.",
                 "yes", "ok", "all good", "It was ok, nothing special.",
                 f"Please send me a copy of my {['last', 'june', 'final'][i % 3]} statement."]
    return pd.Series(rows, dtype=object)


def test_non_themes_are_dropped_and_no_quote_repeats():
    candidates, growth = find_emerging(_texts(), month="2026-10")
    assert candidates, "the dial-tone and statement groups are themes"
    for c in candidates:
        assert sum(has_content_word(t) for t in c.label.split(" / ")) * 2 >= len(c.label.split(" / ")), c.label
        assert all(has_content_word(q) for q in c.quotes)
    quotes = [q.lower().strip(" .") for c in candidates for q in c.quotes]
    assert len(quotes) == len(set(quotes))
    labels = " ".join(c.label for c in candidates)
    assert "dial" in labels or "tone" in labels
    assert set(growth["cluster"]) <= {c.cluster for c in candidates}


def test_too_few_comments_or_no_words():
    few, growth = find_emerging(pd.Series(["printer jam"] * 10), month="2026-10")
    assert few == [] and growth.empty
    assert find_emerging(pd.Series(["ok"] * 50), month="2026-10")[0] == []


@pytest.mark.slow
def test_report_and_notebook_show_the_same_kind_of_groups(sample_result):
    """The report's candidates pass the same filter the notebook's discover_themes applies, and keep last
    month's label when they match one of last month's groups."""
    candidates, growth = sample_result.emerging
    assert candidates and "seen_before" in growth
    assert not any(c.label.startswith(("yes /", "ok /", "good /")) for c in candidates)
    quotes = [q for c in candidates for q in c.quotes]
    assert len(quotes) == len(set(quotes))
    month = sample_result.frame
    found = fx.discover_themes(month.assign(**{S.MONTH: sample_result.month}))
    assert all(not c.label.startswith(("yes /", "ok /", "good /")) for c in found.candidates)
    assert len(found.candidates) <= 8
    assert meaningful_candidates(found.discovery, uncovered_texts(month)) is not None
