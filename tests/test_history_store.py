"""The history store as other tools see it, its commit protocol, and the old layout's migration."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from feedbacklib import schema as S
from feedbacklib.history import AGGREGATES, DATASETS, HistoryStore, StoreError, month_aggregates

MONTH = "2026-10"


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def store(sample_result, tmp_path_factory):
    """Every sample month with its aggregates, in one commit."""
    root = tmp_path_factory.mktemp("out") / "history"
    store = HistoryStore(root)
    rows = sample_result.rows
    with store.transaction():
        for month, part in rows.groupby(S.MONTH, observed=True, sort=True):
            aggs = month_aggregates(part, str(month), sample_result.theme_ids, rows, min_n=30)
            store.write_month(str(month), part.reset_index(drop=True), metadata={"taxonomy": "t"}, aggregates=aggs)
    return store


def _kept_per_month(sample_result) -> dict[str, int]:
    return {str(k): int(v) for k, v in sample_result.rows.groupby(S.MONTH, observed=True).size().items()}


def test_layout_is_one_dataset_per_table(store):
    assert sorted(p.name for p in store.root.iterdir()) == sorted(DATASETS)
    for name in DATASETS:
        assert sorted(p.name for p in (store.root / name).iterdir()) == [
            f"month={m}" for m in ["2026-07", "2026-08", "2026-09", MONTH]]
    # the partition key is in the path only, so readers cannot see two month columns
    assert S.MONTH not in pq.read_schema(store.partition(MONTH) / "part-0.parquet").names


def test_pandas_reads_exactly_the_kept_rows_per_month(store, sample_result):
    rows = pd.read_parquet(store.root / "rows")
    assert rows.groupby(S.MONTH, observed=True).size().to_dict() == _kept_per_month(sample_result)
    assert sorted(rows[S.RESPONSE_ID]) == sorted(sample_result.rows[S.RESPONSE_ID])


def test_pyarrow_dataset_reads_exactly_the_kept_rows_per_month(store, sample_result):
    table = ds.dataset(store.root / "rows", format="parquet", partitioning="hive").to_table(
        columns=[S.MONTH, S.RESPONSE_ID, S.CSAT])
    counts = table.group_by(S.MONTH).aggregate([(S.RESPONSE_ID, "count")]).to_pandas()
    assert dict(zip(counts[S.MONTH], counts[f"{S.RESPONSE_ID}_count"])) == _kept_per_month(sample_result)
    kpis = ds.dataset(store.root / "kpis", format="parquet", partitioning="hive").to_table().to_pandas()
    assert sorted(kpis[S.MONTH].unique()) == sorted(_kept_per_month(sample_result))


def test_duckdb_reads_exactly_the_kept_rows_per_month(store, sample_result):
    duckdb = pytest.importorskip("duckdb")  # an optional test dependency (pyproject's test extra)
    got = duckdb.sql(
        f"SELECT month, count(*) AS n FROM read_parquet('{store.root}/rows/*/*.parquet', "
        "hive_partitioning = true, union_by_name = true) GROUP BY month ORDER BY month").fetchall()
    assert dict(got) == _kept_per_month(sample_result)
    # the aggregates are their own datasets: the rows glob never counts them
    n_kpis = duckdb.sql(f"SELECT count(*) FROM read_parquet('{store.root}/kpis/*/*.parquet', "
                        "hive_partitioning = true)").fetchall()[0][0]
    assert n_kpis == sum(len(store.read_aggregate(m, "kpis")) for m in store.months())


def test_aggregates_come_back_as_written(store, sample_result):
    part = sample_result.rows[sample_result.rows[S.MONTH] == MONTH]
    want = month_aggregates(part, MONTH, sample_result.theme_ids, sample_result.rows, min_n=30)
    for name in AGGREGATES:
        pd.testing.assert_frame_equal(store.read_aggregate(MONTH, name), want[name].reset_index(drop=True))


def test_partitions_are_as_readable_as_the_reports(store):
    umask = os.umask(0)
    os.umask(umask)
    for p in [store.root / "rows", store.partition(MONTH), store.partition(MONTH, "kpis")]:
        assert p.stat().st_mode & 0o777 == 0o777 & ~umask, p


def test_an_error_inside_a_transaction_commits_nothing(store, sample_result):
    before = _tree(store.root)
    part = sample_result.rows[sample_result.rows[S.MONTH] == MONTH].head(3)
    with pytest.raises(RuntimeError):
        with store.transaction():
            store.write_month(MONTH, part)
            raise RuntimeError("the analysis failed after the month was written")
    assert _tree(store.root) == before
    assert not list(store.root.glob(".stage-*")) and not (store.root / ".commit").exists()


def test_a_staging_store_writes_only_into_its_stage(store, sample_result, tmp_path):
    before = _tree(store.root)
    staged = HistoryStore(store.root, stage=tmp_path / "history")
    staged.write_month(MONTH, sample_result.rows[sample_result.rows[S.MONTH] == MONTH].head(3))
    assert _tree(store.root) == before
    assert (tmp_path / "history" / "rows" / f"month={MONTH}" / "part-0.parquet").exists()
    HistoryStore(store.root, stage=False).write_month(MONTH, sample_result.rows.head(0))
    assert _tree(store.root) == before


def test_a_symlinked_store_is_refused(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "history").symlink_to(elsewhere)
    with pytest.raises(StoreError, match="symbolic link") as err:
        HistoryStore(tmp_path / "out" / "history").write_month(MONTH, pd.DataFrame({S.RESPONSE_ID: ["a"]}))
    assert err.value.exit_code == 2
    assert not any(elsewhere.iterdir())


# --------------------------------------------------------------------------- kill -9 inside a commit

KILLER = """
import sys
import pandas as pd
from feedbacklib.history import HistoryStore
store = HistoryStore(sys.argv[1])
with store.transaction():
    for month in ("2026-09", "2026-10"):
        store.write_month(month, pd.DataFrame({"response_id": ["new-" + month]}),
                          aggregates={"kpis": pd.DataFrame({"n": [2]})})
"""


def _small_store(root: Path) -> HistoryStore:
    store = HistoryStore(root)
    with store.transaction():
        for month in ("2026-09", "2026-10"):
            store.write_month(month, pd.DataFrame({S.RESPONSE_ID: [f"old-{month}"]}),
                              aggregates={"kpis": pd.DataFrame({"n": [1]})})
    return store


@pytest.mark.parametrize("point,committed", [("store_prepared", False), ("store_applying", True)])
def test_kill_9_in_a_commit_leaves_all_old_or_all_new(tmp_path, point, committed):
    store = _small_store(tmp_path / "out" / "history")
    before = _tree(store.root)
    env = {**os.environ, "FEEDBACKLIB_FAULT": f"{point}:kill"}
    proc = subprocess.run([sys.executable, "-c", KILLER, str(store.root)], env=env, capture_output=True, text=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert (store.root / ".commit").is_dir()  # the journal the kill left
    with store.transaction():  # the next writer recovers first, then commits nothing
        pass
    assert not (store.root / ".commit").exists()
    ids = {m: store.read_month(m)[S.RESPONSE_ID].tolist() for m in store.months()}
    if committed:
        assert ids == {"2026-09": ["new-2026-09"], "2026-10": ["new-2026-10"]}
        assert all(store.read_aggregate(m, "kpis")["n"].tolist() == [2] for m in store.months())
    else:
        assert _tree(store.root) == before


# --------------------------------------------------------------------------- the layout before the split

def _old_layout(root: Path, sample_result) -> dict[str, int]:
    """A store as the previous release wrote it: month=M/ holding rows and aggregates side by side."""
    counts = {}
    for month, part in sample_result.rows.groupby(S.MONTH, observed=True, sort=True):
        folder = root / f"month={month}"
        folder.mkdir(parents=True)
        import pyarrow as pa

        table = pa.Table.from_pandas(part.drop(columns=[S.MONTH]), preserve_index=False)
        meta = dict(table.schema.metadata or {})
        meta[b"feedbacklib.history"] = json.dumps({"month": month, "taxonomy": "t"}).encode()
        pq.write_table(table.replace_schema_metadata(meta), folder / "part-0.parquet")
        aggs = month_aggregates(part, str(month), sample_result.theme_ids, sample_result.rows, min_n=30)
        for name, agg in aggs.items():
            if month == "2026-07" and name == "uncovered":
                continue  # a month stored before the aggregates existed is rebuilt, not guessed
            pq.write_table(pa.Table.from_pandas(agg, preserve_index=False), folder / f"{name}.parquet")
        counts[str(month)] = len(part)
    (root / "month=2026-06").mkdir()
    (root / "month=2026-06" / "part-0.parquet").write_bytes(b"not parquet")
    return counts


def test_an_old_store_is_migrated_on_the_next_write(sample_result, tmp_path, caplog):
    root = tmp_path / "out" / "history"
    counts = _old_layout(root, sample_result)
    store = HistoryStore(root)
    assert store.months() == [] and store.legacy_months() == ["2026-06", "2026-07", "2026-08", "2026-09", MONTH]
    with caplog.at_level(logging.WARNING, logger="feedbacklib"), store.transaction():
        pass
    assert store.months() == sorted(counts)
    assert {m: len(store.read_month(m)) for m in store.months()} == counts
    assert store.metadata(MONTH)["taxonomy"] == "t"
    assert store.has_aggregates(MONTH) and not store.has_aggregates("2026-07")
    assert f"migrated {MONTH} to the row and aggregate datasets" in caplog.text
    assert "month=2026-06 is in the old layout and cannot be read" in caplog.text
    assert store.legacy_months() == ["2026-06"]  # left where it was, not used
    assert pd.read_parquet(root / "rows").groupby(S.MONTH, observed=True).size().to_dict() == counts
    part = sample_result.rows[sample_result.rows[S.MONTH] == MONTH]
    want = month_aggregates(part, MONTH, sample_result.theme_ids, sample_result.rows, min_n=30)
    for name in AGGREGATES:
        got = store.read_aggregate(MONTH, name)
        pd.testing.assert_frame_equal(got, want[name].reset_index(drop=True), check_dtype=False)
