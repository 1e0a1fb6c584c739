"""The Dask path gives the pandas path's rows and KPIs (two worker processes, bounded)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from datetime import date

from feedbacklib import schema as S

pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

from .conftest import CONFIG, SAMPLE  # noqa: E402

MONTH = "2026-10"


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None, memory_limit="2GiB")
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


@pytest.fixture(scope="module")
def dask_result(client, salt_env):
    from feedbacklib.pipeline import run_month

    return run_month(MONTH, SAMPLE, CONFIG, engine="dask", scheduler=client)


def _by_id(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.set_index([S.PLATFORM, S.RESPONSE_ID]).sort_index()


def _text(values: pd.Series) -> pd.Series:
    return values.astype("string").fillna("<missing>")


def test_same_rows_themes_sentiment_and_text(sample_result, dask_result):
    pandas_rows, dask_rows = _by_id(sample_result.frame), _by_id(dask_result.frame)
    assert len(dask_rows) == len(pandas_rows)
    assert dask_rows.index.equals(pandas_rows.index)
    theme_cols = [S.theme_column(t) for t in sample_result.theme_ids]
    pd.testing.assert_frame_equal(dask_rows[theme_cols], pandas_rows[theme_cols])
    assert (dask_rows[S.TEXT].fillna("") == pandas_rows[S.TEXT].fillna("")).all()
    np.testing.assert_allclose(dask_rows[S.SENTIMENT].to_numpy(dtype=float),
                               pandas_rows[S.SENTIMENT].to_numpy(dtype=float), equal_nan=True)
    for col in (S.SENTIMENT_LABEL, S.MONTH, S.TEAM, S.SERVICE_MODEL, S.CSAT, S.NPS, S.CUSTOMER_KEY):
        assert _text(dask_rows[col]).equals(_text(pandas_rows[col])), col


def test_same_kpis_and_comparison(sample_result, dask_result):
    for name in ("kpis", "vendor_kpis", "comparison", "gap", "impact"):
        pd.testing.assert_frame_equal(getattr(dask_result, name).reset_index(drop=True),
                                      getattr(sample_result, name).reset_index(drop=True),
                                      check_dtype=False, obj=name)


def test_same_trends_and_history(sample_result, dask_result):
    assert dask_result.history.months == sample_result.history.months
    pd.testing.assert_frame_equal(dask_result.theme_trend, sample_result.theme_trend, check_dtype=False)
    pd.testing.assert_frame_equal(dask_result.kpi_tables, sample_result.kpi_tables, check_dtype=False)


def test_dask_path_reads_and_fills_the_history_store(client, salt_env, tmp_path, dask_result):
    from feedbacklib.history import HistoryStore
    from feedbacklib.pipeline import run_month

    store = tmp_path / "history"
    first = run_month(MONTH, SAMPLE, CONFIG, engine="dask", scheduler=client, history_dir=store)
    assert HistoryStore(store).months() == ["2026-07", "2026-08", "2026-09", MONTH]
    again = run_month(MONTH, SAMPLE, CONFIG, engine="dask", scheduler=client, history_dir=store)
    pd.testing.assert_frame_equal(again.kpi_tables, first.kpi_tables)
    pd.testing.assert_frame_equal(again.theme_trend, dask_result.theme_trend)


def test_same_quarantine_counts(sample_result, dask_result):
    q_pandas = sample_result.quality.set_index("file").sort_index()
    q_dask = dask_result.quality.set_index("file").sort_index()
    for col in ("rows_read", "rows_kept", "rows_quarantined"):
        assert q_dask[col].to_dict() == q_pandas[col].to_dict(), col
    assert len(dask_result.quarantine) == len(sample_result.quarantine)


def test_duplicates_across_partitions_are_quarantined_like_pandas(client, salt_env, tmp_path):
    """A duplicate split into another partition is still found (keys shuffled on response_id)."""
    from feedbacklib.clean import clean_responses
    from feedbacklib.config import load_config
    from feedbacklib.io import read_exports
    from feedbacklib.scale import analyse, sources_from_exports

    cfg = load_config(CONFIG)
    exports = [e for e in read_exports(SAMPLE, cfg) if e.path.name.startswith("qualtrics") and MONTH in e.path.name]
    pandas_clean = clean_responses(exports, cfg)
    # tiny partitions: most duplicate pairs land in different partitions
    result = analyse(sources_from_exports(exports, rows_per_partition=97), cfg, client=client)
    kept = result.kept().compute()
    assert len(kept) == len(pandas_clean.frame)
    assert set(kept[S.RESPONSE_ID]) == set(pandas_clean.frame[S.RESPONSE_ID])


def test_last_month_is_found_even_when_the_fit_sample_misses_it(client, salt_env, tmp_path, monkeypatch):
    """``--month last`` is checked against every row, not only the partitions sampled to fit the tagger."""
    import shutil

    from feedbacklib import scale
    from feedbacklib.config import load_config
    from feedbacklib.pipeline import run_month

    for month in ("2026-09", MONTH):
        shutil.copy(SAMPLE / f"qualtrics_post_contact_survey_{month}.csv", tmp_path)
    real_sample = scale.fit_sample

    def sample_without_october(*args, **kwargs):
        sample = real_sample(*args, **kwargs)
        return sample[sample[S.MONTH] != MONTH].reset_index(drop=True)

    monkeypatch.setattr(scale, "fit_sample", sample_without_october)
    cfg = load_config(CONFIG)
    dask_month = scale.run_month_dask("last", tmp_path, cfg, scheduler=client, today=date(2026, 12, 6))
    pandas_month = run_month(MONTH, tmp_path, CONFIG)
    assert dask_month.month == MONTH
    assert len(dask_month.frame) == len(pandas_month.frame)
    pd.testing.assert_frame_equal(dask_month.theme_counts, pandas_month.theme_counts, check_dtype=False)


def test_months_the_store_holds_are_cleaned_but_not_tagged(salt_env):
    """``skip_months``: those rows keep their place (duplicates, counts) with no themes and no sentiment."""
    from feedbacklib.config import load_config
    from feedbacklib.io import read_exports
    from feedbacklib.scale import _source_dict, fit_sample, fit_tagger, process_partition, sources_from_exports

    cfg = load_config(CONFIG)
    exports = [e for e in read_exports(SAMPLE, cfg) if e.path.name.startswith("qualtrics")
               and ("2026-09" in e.path.name or MONTH in e.path.name)]
    raw = pd.concat([e.raw for e in exports], ignore_index=True)
    source = sources_from_exports([exports[0]])[0]
    tagger = fit_tagger(fit_sample([source], cfg), cfg, month="2026-09")
    both = [process_partition(raw, _source_dict(source), cfg, tagger, 0, skip_months=skip)
            for skip in (frozenset(), frozenset({"2026-09"}))]
    full, skipped = (b[b[S.QUARANTINE_REASON].isna()] for b in both)
    assert len(full) == len(skipped) and list(full.columns) == list(skipped.columns)
    assert (full.dtypes == skipped.dtypes).all()
    september = skipped[S.MONTH].eq("2026-09").to_numpy(dtype=bool)
    assert september.any() and (~september).any()
    theme_cols = [S.theme_column(t) for t in tagger.theme_ids_]
    assert not skipped.loc[september, theme_cols].any().any() and skipped.loc[september, S.SENTIMENT].isna().all()
    assert full.loc[september, theme_cols].any().any()  # they would have been tagged
    pd.testing.assert_frame_equal(skipped[~september], full[~september])
