"""Both engines give the same month: the same tests run on pandas and Dask through the ``engine`` fixture.

The Dask runs share one in-process cluster (threads, no worker processes to start) for the
whole session; the pandas run of the sample is the session's ``sample_result``.
"""

from __future__ import annotations

import ast
import csv
import json
import shutil
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from feedbacklib import schema as S
from feedbacklib.pipeline import kpis_document, run_month

from .conftest import CONFIG, SAMPLE, TODAY

MONTH = "2026-10"
ENGINE_DIR = Path(__file__).resolve().parents[1] / "feedbacklib" / "engines"


@pytest.fixture(scope="session")
def dask_client():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0")
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


@pytest.fixture(params=["pandas", "dask"])
def engine(request) -> dict:
    """``run_month`` keywords selecting one engine (Dask: the session's cluster)."""
    if request.param == "dask":
        return {"engine": "dask", "scheduler": request.getfixturevalue("dask_client")}
    return {"engine": "pandas"}


_RUNS: dict = {}


def _cached(key, make):
    if key not in _RUNS:
        _RUNS[key] = make()
    return _RUNS[key]


@pytest.fixture
def sample_run(engine, sample_result, salt_env):
    """The sample's last month on this engine (``month="last"``, resolved against every row)."""
    if engine["engine"] == "pandas":
        return sample_result
    return _cached("sample-dask", lambda: run_month("last", SAMPLE, CONFIG, keep_rows=True, today=TODAY, **engine))


def _json(result) -> str:
    return json.dumps(kpis_document(result), indent=2, default=str)


# --------------------------------------------------------------------------- the sample

def test_sample_kpis_json_is_the_pandas_one(sample_run, sample_result):
    assert sample_run.month == MONTH
    assert _json(sample_run) == _json(sample_result)


def test_sample_rows_quarantine_and_quality_are_the_pandas_ones(sample_run, sample_result):
    pd.testing.assert_frame_equal(sample_run.frame, sample_result.frame)
    pd.testing.assert_frame_equal(sample_run.rows, sample_result.rows)
    pd.testing.assert_frame_equal(sample_run.quarantine, sample_result.quarantine)
    pd.testing.assert_frame_equal(sample_run.quality, sample_result.quality)
    assert sample_run.skipped == sample_result.skipped == [("README.md", "not an export (.md suffix)")]


def test_every_row_read_is_kept_or_quarantined(sample_run):
    q = sample_run.quality
    assert (q["rows_read"] == q["rows_kept"] + q["rows_quarantined"]).all()
    assert int(q["rows_quarantined"].sum()) == len(sample_run.quarantine)
    kinds = [c for c in q.columns[6:]]
    assert (q[kinds].sum(axis=1) == q["rows_quarantined"]).all()
    assert sample_run.quarantine["original"].notna().all()
    reasons = sample_run.quarantine[S.QUARANTINE_REASON].astype(str)
    assert reasons.str.startswith("duplicate of").any()


# --------------------------------------------------------------------------- a generated month

def _write_qualtrics(path: Path, header: pd.DataFrame, body: pd.DataFrame) -> None:
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh, lineterminator="\r\n")
        for row in pd.concat([header, body]).itertuples(index=False):
            w.writerow(row)


def _later(stamps: pd.Series, hours: int) -> pd.Series:
    return (pd.to_datetime(stamps) + pd.Timedelta(hours=hours)).dt.strftime("%Y-%m-%d %H:%M:%S")


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> tuple[Path, dict[str, list[str]]]:
    """October: 2,400 generated Qualtrics rows in two CSVs, 600 as generic rows in a Parquet and a
    CSV, with duplicates and same-customer repeats planted *across* files, plus the sample's
    October complaints (XLSX) and tickets (JSON). Returns the folder and the planted ids."""
    from feedbacklib.sample import write_qualtrics_csv

    folder = tmp_path_factory.mktemp("generated")
    src = write_qualtrics_csv(folder / ".all.csv", 3000, seed=11, month=MONTH)
    raw = pd.read_csv(src, header=None, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    src.unlink()
    header, body = raw.iloc[:3], raw.iloc[3:].reset_index(drop=True)
    names = header.iloc[0].tolist()
    body.columns = header.columns = names
    body = body[pd.to_datetime(body["StartDate"]).dt.day.between(2, 27).to_numpy()].reset_index(drop=True)
    body = body[body["Q3"].str.strip() != ""].reset_index(drop=True)
    a, b, g = body.iloc[0:1200:2], body.iloc[1:1200:2], body.iloc[1200:1800]
    dups, reps = a.iloc[:15], a.iloc[15:30].copy()
    reps["ResponseId"] = reps["ResponseId"].str.replace("R_", "R_rep", regex=False)
    for col in ("StartDate", "EndDate", "RecordedDate"):
        reps[col] = _later(reps[col], 3)
    _write_qualtrics(folder / "qualtrics_a.csv", header, a)
    _write_qualtrics(folder / "qualtrics_b.csv", header, pd.concat([b, dups, reps]))
    generic = pd.DataFrame({"response_id": g["ResponseId"].str.replace("R_", "G_", regex=False).to_numpy(),
                            "received_at": g["RecordedDate"].to_numpy(), "team": g["team"].to_numpy(),
                            "channel": g["channel"].to_numpy(), "csat": g["Q1"].to_numpy(), "nps": g["Q2"].to_numpy(),
                            "text": g["Q3"].to_numpy(), "customer_id": g["customer_id"].to_numpy()})
    g_reps = generic.iloc[:10].assign(response_id=lambda f: f["response_id"] + "r",
                                      received_at=lambda f: _later(f["received_at"], 5))
    generic.to_parquet(folder / "generic_c.parquet", index=False)
    pd.concat([generic.iloc[300:], generic.iloc[:12], g_reps]).to_csv(folder / "generic_d.csv", index=False)
    for name in (f"complaints_register_{MONTH}.xlsx", f"zendesk_tickets_{MONTH}.json"):
        shutil.copy(SAMPLE / name, folder / name)
    planted = {"duplicate": dups["ResponseId"].tolist() + generic["response_id"].iloc[:12].tolist(),
               "repeat": reps["ResponseId"].tolist() + g_reps["response_id"].tolist()}
    return folder, planted


@pytest.fixture
def generated_run(engine, generated, salt_env):
    folder, _ = generated
    return _cached(("generated", engine["engine"]), lambda: run_month(MONTH, folder, CONFIG, **engine))


@pytest.fixture(scope="module")
def generated_pandas(generated, salt_env):
    folder, _ = generated
    return _cached(("generated", "pandas"), lambda: run_month(MONTH, folder, CONFIG, engine="pandas"))


def test_generated_month_kpis_json_is_the_pandas_one(generated_run, generated_pandas):
    assert _json(generated_run) == _json(generated_pandas)
    pd.testing.assert_frame_equal(generated_run.frame, generated_pandas.frame)
    pd.testing.assert_frame_equal(generated_run.quarantine, generated_pandas.quarantine)


def test_dask_work_dir_keeps_rows_on_disk_and_gives_the_same_month(generated, generated_pandas, dask_client,
                                                                    salt_env, tmp_path):
    """``work_dir``: cleaned rows go to Parquet between the steps (bounded worker memory), same answer."""
    folder, _ = generated
    work = tmp_path / "work"
    result = run_month(MONTH, folder, CONFIG, engine="dask", scheduler=dask_client,
                       engine_options={"work_dir": str(work), "rows_dir": str(tmp_path / "rows")})
    assert sorted(p.name for p in work.glob("cleaned-*.parquet"))  # the rows really went through disk
    assert len(list((tmp_path / "rows").glob("part-*.parquet"))) == len(result.quality)
    assert _json(result) == _json(generated_pandas)
    pd.testing.assert_frame_equal(result.frame, generated_pandas.frame)
    pd.testing.assert_frame_equal(result.quarantine, generated_pandas.quarantine)


def test_duplicates_and_repeats_across_files_are_found(generated_run, generated):
    folder, planted = generated
    q = generated_run.quarantine
    formats = {Path(f).suffix for f in generated_run.quality["file"]}
    assert formats == {".csv", ".parquet", ".xlsx", ".json"}
    for kind, ids in planted.items():
        found = q[q[S.QUARANTINE_REASON].astype(str).str.startswith(f"{kind} of")]
        later_files = set(found[S.SOURCE_FILE].astype(str))
        assert later_files & {"qualtrics_b.csv", "generic_d.csv"}, kind
        kept = set(generated_run.frame[S.RESPONSE_ID].astype(str))
        # a planted copy is never kept twice: duplicates keep one row, repeats keep the first
        assert len(found) >= len(ids), kind
        if kind == "repeat":
            assert not (kept & set(ids)), "a planted repeat was kept"
    assert len(generated_run.frame) == int(generated_run.quality["rows_kept"].sum())


# --------------------------------------------------------------------------- history store

def test_history_store_is_filled_then_read(engine, salt_env, tmp_path):
    from feedbacklib.history import HistoryStore

    folder = tmp_path / "in"
    folder.mkdir()
    for month in ("2026-09", MONTH):
        shutil.copy(SAMPLE / f"qualtrics_post_contact_survey_{month}.csv", folder)
    store = tmp_path / "history"
    first = run_month(MONTH, folder, CONFIG, history_dir=store, **engine)
    assert HistoryStore(store).months() == ["2026-09", MONTH]
    again = run_month(MONTH, folder, CONFIG, history_dir=store, keep_rows=True, **engine)
    assert set(again.rows[S.MONTH].astype(str)) == {MONTH}  # September came from the store
    pd.testing.assert_frame_equal(again.kpi_tables, first.kpi_tables)
    pd.testing.assert_frame_equal(again.theme_trend, first.theme_trend)


# --------------------------------------------------------------------------- the seam

def test_engines_never_import_the_pipeline_and_import_at_top():
    """Engines are below the orchestrator; the package's modules are imported at module level."""
    for path in sorted(ENGINE_DIR.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                target = ("." * node.level) + (node.module or "")
                assert "pipeline" not in target, f"{path.name} imports {target}"
        for fn in (n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))):
            for node in ast.walk(fn):
                if isinstance(node, ast.ImportFrom):
                    assert node.level == 0 and not (node.module or "").startswith("feedbacklib"), \
                        f"{path.name}:{fn.name} imports the package inside a function"


def _counts(rows: pd.DataFrame, month: str, themes) -> Counter:
    """A summary that adds up: responses, CSAT answers, CSAT sum and sum of squares per service model."""
    csat = rows[S.CSAT].astype("float64")
    frame = pd.DataFrame({"group": rows[S.SERVICE_MODEL].astype(str), "n": 1, "csat_n": csat.notna().astype(int),
                          "csat_sum": csat.fillna(0), "csat_sq": csat.fillna(0) ** 2})
    return Counter({key: float(v) for key, v in frame.groupby("group").sum().stack().items()})


def test_summary_step_adds_up_to_the_whole_month(engine, generated, salt_env):
    """The pluggable per-partition summary, added up by the engine, is the summary of every row."""
    from feedbacklib.config import load_config
    from feedbacklib.engines import make_engine
    from feedbacklib.themes import load_taxonomy

    folder, _ = generated
    cfg = load_config(CONFIG)
    eng = make_engine(engine["engine"], engine.get("scheduler"))
    with eng.session():
        cleaned = eng.clean(folder, cfg, {})
        assert cleaned.volumes == {MONTH: sum(cleaned.volumes.values())}
        out = eng.annotate(cleaned, MONTH, load_taxonomy(cfg.taxonomy), timings={}, summary=_counts)
    whole = +_counts(out.frame, MONTH, ())
    assert set(out.summary) == set(whole)
    for key, value in whole.items():
        assert out.summary[key] == pytest.approx(value, rel=1e-12), key
    assert sum(v for (g, stat), v in out.summary.items() if stat == "n") == len(out.frame)
