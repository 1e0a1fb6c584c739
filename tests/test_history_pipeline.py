"""run_month with the history store: earlier months come back as aggregates, not rows."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from feedbacklib import schema as S
from feedbacklib.history import AGGREGATES, CONTACT_DAYS, UNCOVERED_SAMPLE, History, HistoryStore
from feedbacklib.pipeline import run_month
from feedbacklib.report.narrative import summary_sentences
from feedbacklib.trends import kpi_trends

from .conftest import CONFIG, SAMPLE

MONTH = "2026-10"


@pytest.fixture(scope="module")
def stored(tmp_path_factory, salt_env):
    """A first run over the four sample months fills the store."""
    root = tmp_path_factory.mktemp("hist")
    store = root / "history"
    result = run_month(MONTH, SAMPLE, CONFIG, history_dir=store)
    return result, store, root


@pytest.fixture(scope="module")
def only_latest(stored, salt_env):
    """A second run whose input folder holds only the report month's exports."""
    _, store, root = stored
    folder = root / "in"
    folder.mkdir()
    for p in Path(SAMPLE).glob(f"*{MONTH}*"):
        shutil.copy(p, folder / p.name)
    return run_month(MONTH, folder, CONFIG, history_dir=store)


def test_every_month_is_stored_with_its_aggregates(stored):
    _, store, _ = stored
    hs = HistoryStore(store)
    assert hs.months() == ["2026-07", "2026-08", "2026-09", MONTH]
    for m in hs.months():
        assert hs.has_aggregates(m)
        assert {a: hs.read_aggregate(m, a) for a in AGGREGATES}["kpis"][S.MONTH].eq(m).all()


def test_the_result_keeps_one_month_of_rows_and_aggregated_history(stored):
    result, _, _ = stored
    assert result.rows is None
    assert set(result.frame[S.MONTH].unique()) == {MONTH}
    h = result.history
    assert isinstance(h, History) and h.months == ["2026-07", "2026-08", "2026-09"]
    assert len(h.uncovered) <= UNCOVERED_SAMPLE * len(h.months)
    assert len(h.kpis) <= 4 * len(h.months)  # in-house, outsourced, unknown, all
    first = pd.to_datetime(result.frame[S.RECEIVED_AT], utc=True).min()
    assert (pd.to_datetime(h.contacts[S.RECEIVED_AT], utc=True) >= first - pd.Timedelta(days=CONTACT_DAYS)).all()
    assert list(h.contacts.columns) == [S.RESPONSE_ID, S.SOURCE, S.CUSTOMER_KEY, S.RECEIVED_AT]


def test_stored_history_gives_the_same_report_without_earlier_exports(stored, only_latest):
    first, _, _ = stored
    again = only_latest
    assert again.history.months == first.history.months
    pd.testing.assert_frame_equal(again.theme_trend, first.theme_trend)
    pd.testing.assert_frame_equal(again.kpi_tables, first.kpi_tables)
    pd.testing.assert_frame_equal(again.service, first.service)
    assert summary_sentences(again) == summary_sentences(first)
    assert again.emerging[1].equals(first.emerging[1])


def test_stored_months_are_not_tagged_again(stored, salt_env, caplog):
    _, store, _ = stored
    with caplog.at_level("INFO", logger="feedbacklib"):
        result = run_month(MONTH, SAMPLE, CONFIG, history_dir=store)
    assert "3 earlier month(s) read from" in caplog.text
    assert result.history.months == ["2026-07", "2026-08", "2026-09"]


def test_trend_tables_equal_the_row_computation(stored, sample_result):
    """The per-month KPI tables the store keeps give the trend that rows would."""
    result, _, _ = stored
    from feedbacklib.trends import kpi_trends_from_tables

    got = kpi_trends_from_tables(result.kpi_tables, MONTH, themes=[], min_n=result.config.min_group_size)
    want = kpi_trends(sample_result.rows, MONTH, themes=[], min_n=result.config.min_group_size,
                      sla_first_response_hours=result.config.sla_first_response_hours)
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True), check_dtype=False)


def test_a_changed_taxonomy_does_not_reuse_stored_flags(stored, salt_env, tmp_path, caplog):
    _, store, _ = stored
    from importlib import resources

    from feedbacklib.config import load_config

    cfg = load_config(CONFIG)
    text = resources.files("feedbacklib").joinpath("data/themes.toml").read_text(encoding="utf-8")
    changed = tmp_path / "themes.toml"
    changed.write_text(text.replace('"hidden fee"', '"hidden fee", "sneaky fee"', 1), encoding="utf-8")
    assert changed.read_text() != text
    import dataclasses

    cfg = dataclasses.replace(cfg, taxonomy=changed)
    with caplog.at_level("INFO", logger="feedbacklib"):
        result = run_month(MONTH, SAMPLE, cfg, history_dir=tmp_path / "copy")
    assert result.history.months == ["2026-07", "2026-08", "2026-09"]  # from the input this time
    shutil.copytree(store, tmp_path / "old")
    with caplog.at_level("INFO", logger="feedbacklib"):
        run_month(MONTH, SAMPLE, cfg, history_dir=tmp_path / "old")
    assert "another taxonomy" in caplog.text
