"""The monthly Parquet store and trends computed from its aggregates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from feedbacklib import schema as S
from feedbacklib.history import (
    HistoryStore,
    monthly_theme_rates_from_counts,
    theme_counts_of,
    theme_trends_from_counts,
)
from feedbacklib.trends import monthly_theme_rates, theme_trends


@pytest.fixture(scope="module")
def store(sample_result, tmp_path_factory):
    store = HistoryStore(tmp_path_factory.mktemp("out") / "history")
    history = sample_result.rows
    for month in sorted(history[S.MONTH].unique()):
        store.write_month(month, history[history[S.MONTH] == month], metadata={"taxonomy": "default"})
    return store


def test_months_are_partitions_with_metadata(store, sample_result):
    assert store.months() == sorted(sample_result.rows[S.MONTH].unique())
    assert (store.root / "rows" / "month=2026-10" / "part-0.parquet").exists()
    assert store.metadata("2026-10")["taxonomy"] == "default"
    assert not list(store.root.glob(".stage-*")) and not (store.root / ".commit").exists()


def test_read_month_round_trips_rows(store, sample_result):
    back = store.read_month("2026-10")
    assert len(back) == len(sample_result.frame)
    assert set(sample_result.frame.columns) <= set(back.columns)
    assert (back[S.MONTH] == "2026-10").all()


def test_rewriting_a_month_replaces_it(store, sample_result):
    month = "2026-07"
    rows = sample_result.rows[sample_result.rows[S.MONTH] == month]
    store.write_month(month, rows.head(10))
    assert len(store.read_month(month, [S.RESPONSE_ID])) == 10
    store.write_month(month, rows)
    assert len(store.read_month(month, [S.RESPONSE_ID])) == len(rows)


def test_write_refuses_rows_of_other_months(store, sample_result):
    with pytest.raises(ValueError, match="other months"):
        store.write_month("2026-10", sample_result.rows)


def test_counts_from_store_equal_counts_from_rows(store, sample_result):
    themes = sample_result.theme_ids
    from_rows = theme_counts_of(sample_result.rows, themes, by=S.SERVICE_MODEL)
    from_store = store.theme_counts(themes, by=S.SERVICE_MODEL)
    pd.testing.assert_frame_equal(from_store.reset_index(drop=True), from_rows.reset_index(drop=True),
                                  check_dtype=False)


@pytest.mark.parametrize("by", [None, S.SERVICE_MODEL])
def test_monthly_rates_from_counts_equal_trends_on_rows(store, sample_result, by):
    themes = sample_result.theme_ids[:4]
    expected = monthly_theme_rates(sample_result.rows, themes, by=by)
    got = monthly_theme_rates_from_counts(store.theme_counts(themes, by=by), themes, by=by)
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected.reset_index(drop=True), check_dtype=False)


def test_theme_trends_from_counts_equal_trends_on_rows(store, sample_result):
    themes = sample_result.theme_ids
    expected = theme_trends(sample_result.rows, "2026-10", themes)
    got = theme_trends_from_counts(store.theme_counts(themes), "2026-10", themes)
    pd.testing.assert_frame_equal(got[expected.columns], expected, check_dtype=False)
    assert bool(got.set_index("theme").loc["surprise_charges", "spike"])


def test_counts_are_aggregate_sized(store, sample_result):
    counts = store.theme_counts(sample_result.theme_ids, by=S.SERVICE_MODEL)
    months, models = len(store.months()), sample_result.rows[S.SERVICE_MODEL].nunique()
    assert len(counts) <= months * models * len(sample_result.theme_ids)
    assert np.all(counts["hits"] <= counts["n"])
