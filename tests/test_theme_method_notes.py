"""Issue 13 item 4: the report's method notes state the tagger's measured error and corrected rates."""

from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from feedbacklib import schema as S
from feedbacklib.report.method_notes import theme_error_notes, theme_error_table
from feedbacklib.result import theme_errors
from feedbacklib.report.sections import method_notes

FIXTURES = Path(__file__).parent / "fixtures" / "themes"


@pytest.fixture(scope="module")
def labelled_result(sample_result, tmp_path_factory):
    path = tmp_path_factory.mktemp("labels") / "analyst_labels.csv"
    pd.read_csv(FIXTURES / "cfpb_gold_small.csv", dtype=str, keep_default_na=False).to_csv(path, index=False)
    return _with_labels(sample_result, str(path))


def _with_labels(result, labels):
    """``result`` with the taxonomy pointing to ``labels``, its error table computed as month_tables does."""
    tax = replace(result.taxonomy, labels=labels)
    return replace(result, taxonomy=tax, **theme_errors(tax, result.theme_counts, result.month))


def test_without_labels_the_notes_say_rates_are_uncorrected(sample_result):
    assert sample_result.taxonomy.labels is None
    assert theme_error_table(sample_result) is None and sample_result.theme_errors is None
    assert not sample_result.theme_errors_failed
    html = str(method_notes(sample_result))
    assert "not corrected for its errors" in html and "Rogan" not in html


def test_with_labels_the_notes_give_precision_recall_and_corrected_rates(labelled_result):
    t = theme_error_table(labelled_result)
    frame = labelled_result.frame
    has_text = frame[S.TEXT].fillna("").str.strip().ne("")
    for row in t.itertuples():
        hits = int(frame.loc[has_text, S.theme_column(row.theme)].sum())
        assert row.hits == hits and row.n == int(has_text.sum())
        assert row.low <= row.estimate <= row.high
        if row.positives:
            assert 0 <= row.recall <= 1
    assert t["corrected"].any()
    html = str(theme_error_notes(labelled_result))
    assert "analyst_labels.csv" in html and "Rogan–Gladen" in html and "Precision" in html
    assert html.count("<tr>") == len(t) + 1
    assert str(theme_error_notes(labelled_result)) == html  # deterministic
    assert "Corrected rate" in str(method_notes(labelled_result))


def test_unreadable_labels_are_reported_not_raised(sample_result, tmp_path, caplog):
    bad = tmp_path / "bad.csv"
    bad.write_text("id,text,praise\n1,hello,maybe\n", encoding="utf-8")
    with caplog.at_level("WARNING", logger="feedbacklib.result"):
        result = _with_labels(sample_result, str(bad))
    assert result.theme_errors is None and result.theme_errors_failed
    assert "theme error notes" in caplog.text  # the reason (with its server path) goes to the log only
    html = str(theme_error_notes(result))
    assert "could not be measured" in html and "bad.csv" in html and str(tmp_path) not in html
