"""Both engines give the same month: the same tests run on pandas and Dask through the ``engine`` fixture.

The Dask runs share one in-process cluster (threads, no worker processes to start) for the
whole session; the pandas run of the sample is the session's ``sample_result``.
"""

from __future__ import annotations

import ast
import csv
import dataclasses
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


def _local_client(*, processes: bool):
    """A client of a LocalCluster of 2 single-threaded workers (threads or processes), closed after use."""
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=processes, dashboard_address=":0")
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


@pytest.fixture(scope="session")
def dask_client():
    yield from _local_client(processes=False)


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


# --------------------------------------------------------------------------- input from a URL

def _upload(fs, root: str, folder: Path) -> None:
    for path in sorted(folder.iterdir()):
        if path.is_file():
            fs.pipe(f"{root}/{path.name}", path.read_bytes())


def test_dask_reads_the_exports_from_an_object_store_url(generated, generated_pandas, dask_client, salt_env):
    """``memory://`` stands for ``s3://`` or ``gs://``: the client lists the URL, the workers (threads of the
    in-process cluster, which share the memory file system) open CSV, Parquet, XLSX and JSON through fsspec."""
    fsspec = pytest.importorskip("fsspec")
    folder, _ = generated
    fs, root = fsspec.filesystem("memory"), "/feedback-engines-test/exports"
    _upload(fs, root, folder)
    fs.pipe(f"{root}/notes.md", b"not an export")
    try:
        result = run_month(MONTH, f"memory://{root}", CONFIG, engine="dask", scheduler=dask_client)
    finally:
        fs.rm("/feedback-engines-test", recursive=True)
    assert {Path(f).suffix for f in result.quality["file"]} == {".csv", ".parquet", ".xlsx", ".json"}
    assert result.skipped == [("notes.md", "not an export (.md suffix)")]
    assert _json(dataclasses.replace(result, skipped=[])) == _json(generated_pandas)
    pd.testing.assert_frame_equal(result.frame, generated_pandas.frame)
    pd.testing.assert_frame_equal(result.quarantine, generated_pandas.quarantine)


def test_a_file_url_is_the_folder_on_both_engines(engine, generated, generated_pandas, salt_env):
    folder, _ = generated
    result = run_month(MONTH, folder.resolve().as_uri(), CONFIG, **engine)
    assert result.frame[S.RESPONSE_ID].tolist() == generated_pandas.frame[S.RESPONSE_ID].tolist()
    assert _json(result) == _json(generated_pandas)


def test_url_errors_say_what_to_do(dask_client, salt_env):
    from feedbacklib.errors import InputError

    with pytest.raises(InputError, match="does not exist"):
        run_month(MONTH, "memory://feedback-engines-test/nothing-here", CONFIG, engine="dask", scheduler=dask_client)
    with pytest.raises(InputError, match="dask engine"):
        run_month(MONTH, "memory://feedback-engines-test/x", CONFIG, engine="pandas")


# --------------------------------------------------------------------------- the fit sample

def test_the_fit_sample_is_the_same_whatever_the_partitioning():
    from feedbacklib.engines.base import fit_sample, merge_fit_samples

    texts = pd.Series([f"comment {i % 700} about the delivery" for i in range(2100)] + ["", "   ", None],
                      dtype=object)
    whole = fit_sample(texts, k=100)
    assert len(whole) == 100 and whole["text"].is_unique
    assert whole["text"].str.strip().ne("").all()
    assert list(whole["hash"]) == sorted(whole["hash"])  # the smallest hashes, in order
    for parts in (1, 3, 7, 40):
        shuffled = texts.sample(frac=1, random_state=parts)
        samples = [fit_sample(shuffled.iloc[i::parts], k=100) for i in range(parts)]
        assert all(len(s) <= 100 for s in samples)  # what a partition sends is bounded
        pd.testing.assert_frame_equal(merge_fit_samples(*samples, k=100), whole)
        # merged in a tree, as the Dask engine does
        tree = merge_fit_samples(merge_fit_samples(*samples[: parts // 2], k=100),
                                 merge_fit_samples(*samples[parts // 2:], k=100), k=100)
        pd.testing.assert_frame_equal(tree, whole)
    few = fit_sample(texts.iloc[:50], k=100)  # fewer distinct texts than k: all of them
    assert sorted(few["text"]) == sorted(set(texts.iloc[:50]))


def test_the_tagger_fitted_on_merged_samples_is_the_pandas_one():
    from feedbacklib.config import load_config
    from feedbacklib.engines.base import fit_on_sample, fit_sample, merge_fit_samples
    from feedbacklib.themes import load_taxonomy
    from feedbacklib.themes.tagger import tag_themes

    texts = pd.read_csv(SAMPLE / f"qualtrics_post_contact_survey_{MONTH}.csv", skiprows=[1, 2], dtype=str)["Q3"]
    taxonomy = load_taxonomy(load_config(CONFIG).taxonomy)
    k = 150
    whole = fit_on_sample(fit_sample(texts, k=k), taxonomy)
    parts = merge_fit_samples(*[fit_sample(texts.iloc[i::5], k=k) for i in range(5)], k=k)
    frame = pd.DataFrame({S.TEXT: texts.fillna("")})
    pd.testing.assert_frame_equal(tag_themes(frame, fit_on_sample(parts, taxonomy)), tag_themes(frame, whole))


def test_a_bounded_fit_sample_gives_both_engines_the_same_month(generated, dask_client, salt_env, monkeypatch):
    """With FIT_SAMPLE below the month's distinct comments the sample really bounds the fit: each
    partition sends its bottom-k, the merge is the pandas engine's sample, kpis.json is identical."""
    from feedbacklib.engines import base

    folder, _ = generated
    monkeypatch.setattr(base, "FIT_SAMPLE", 300)  # the in-process cluster's workers share this module
    pandas_run = run_month(MONTH, folder, CONFIG, engine="pandas")
    dask_run = run_month(MONTH, folder, CONFIG, engine="dask", scheduler=dask_client,
                         engine_options={"buckets": 3})
    distinct = pandas_run.frame[S.TEXT].dropna()
    assert distinct[distinct.str.strip() != ""].nunique() > 300
    assert _json(dask_run) == _json(pandas_run)
    pd.testing.assert_frame_equal(dask_run.frame, pandas_run.frame)


# --------------------------------------------------------------------------- the store written by the workers

@pytest.fixture(scope="module")
def two_months(tmp_path_factory, generated) -> Path:
    """September's sample survey and the generated October (six files)."""
    folder = tmp_path_factory.mktemp("two-months")
    gen, _ = generated
    for path in gen.iterdir():
        shutil.copy(path, folder / path.name)
    shutil.copy(SAMPLE / "qualtrics_post_contact_survey_2026-09.csv", folder)
    return folder


def test_workers_write_the_stores_rows_and_it_reads_as_the_pandas_store(two_months, dask_client, salt_env,
                                                                         tmp_path):
    from feedbacklib.history import AGGREGATES, HistoryStore

    paths = {name: tmp_path / name / "history" for name in ("pandas", "dask")}
    run_month(MONTH, two_months, CONFIG, engine="pandas", history_dir=paths["pandas"])
    run_month(MONTH, two_months, CONFIG, engine="dask", scheduler=dask_client, history_dir=paths["dask"])
    p, d = HistoryStore(paths["pandas"]), HistoryStore(paths["dask"])
    assert p.months() == d.months() == ["2026-09", MONTH]
    # October's rows are one part per input file holding October rows, written by the workers
    assert len(list(d.partition(MONTH).glob("part-*.parquet"))) > 1
    assert [q.name for q in p.partition(MONTH).iterdir()] == ["part-0.parquet"]
    for month in p.months():
        assert d.metadata(month) == p.metadata(month)
        pd.testing.assert_frame_equal(d.read_month(month), p.read_month(month))
        cols = [S.TEXT, S.CSAT, S.RECEIVED_AT]
        pd.testing.assert_frame_equal(d.read_month(month, cols), p.read_month(month, cols))
        for name in AGGREGATES:
            pd.testing.assert_frame_equal(d.read_aggregate(month, name), p.read_aggregate(month, name))
    assert not list(paths["dask"].glob(".stage-*")) and not (paths["dask"] / ".commit").exists()


def _files(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}


def test_an_error_after_the_workers_staged_commits_nothing(dask_client, salt_env, tmp_path, monkeypatch):
    from feedbacklib import pipeline
    from feedbacklib.history import HistoryStore

    folder = tmp_path / "in"
    folder.mkdir()
    for month in ("2026-09", MONTH):
        shutil.copy(SAMPLE / f"qualtrics_post_contact_survey_{month}.csv", folder)
    store = tmp_path / "history"
    staged: list[str] = []

    def fails(*args, store=None, **kwargs):
        staged.extend(sorted(str(p.relative_to(store.staging()))
                             for p in store.staging().glob("rows/month=*/part-*.parquet")))
        raise RuntimeError("the analysis failed")

    def run():
        return run_month(MONTH, folder, CONFIG, engine="dask", scheduler=dask_client, history_dir=store)

    with monkeypatch.context() as m:
        m.setattr(pipeline, "build_result", fails)
        with pytest.raises(RuntimeError, match="analysis failed"):
            run()
    assert staged == ["rows/month=2026-09/part-0.parquet", f"rows/month={MONTH}/part-1.parquet"]
    assert HistoryStore(store).months() == []
    assert not [p for p in store.rglob("*.parquet")]  # the staged parts went with the transaction
    run()
    before = _files(store)
    months = HistoryStore(store).months()
    assert months == ["2026-09", MONTH]
    with monkeypatch.context() as m:
        m.setattr(pipeline, "build_result", fails)
        with pytest.raises(RuntimeError):
            run()
    assert _files(store) == before  # the store is as the successful run left it


# --------------------------------------------------------------------------- summaries instead of rows

def test_rows_left_on_the_workers_give_the_pandas_tables_from_parts(generated, generated_pandas, dask_client,
                                                                     salt_env):
    """``collect_rows=False``: each partition's MonthParts, added up, give the tables of the pandas run."""
    from feedbacklib.config import load_config
    from feedbacklib.engines import MonthPartsStep, make_engine
    from feedbacklib.parts import MonthParts
    from feedbacklib.pipeline import tables_from_parts
    from feedbacklib.themes import load_taxonomy

    folder, _ = generated
    cfg = load_config(CONFIG)
    taxonomy = load_taxonomy(cfg.taxonomy)
    eng = make_engine("dask", dask_client, collect_rows=False)
    with eng.session():
        cleaned = eng.clean(folder, cfg, {})
        out = eng.annotate(cleaned, MONTH, taxonomy, timings={}, summary=MonthPartsStep(cfg))
    assert out.frame is None and isinstance(out.summary, MonthParts)
    assert out.summary.rows == len(generated_pandas.frame)
    tables = tables_from_parts(out.summary, MONTH, cfg, taxonomy, quarantine=cleaned.quarantine)
    for name in ("kpis", "vendor_kpis", "team_kpis", "comparison", "vendors", "gap", "impact", "adjusted", "drivers",
                 "theme_counts", "theme_trend", "channels", "team_praise", "pooled_teams", "sentiment",
                 "source_counts", "team_models", "quarantine_reasons", "recognition", "volume", "quote_themes",
                 "theme_errors"):
        assert name in tables, name
        got, want = tables[name], getattr(generated_pandas, name)
        if isinstance(want, pd.DataFrame):
            pd.testing.assert_frame_equal(got, want, obj=name)
        else:
            assert got == want, name
    # the few rows the report shows: the same rows and values (the Dask path's text columns come back as object)
    for name in ("call_list", "quotes"):
        assert len(getattr(generated_pandas, name)), name
        pd.testing.assert_frame_equal(tables[name].astype(object), getattr(generated_pandas, name).astype(object),
                                      check_dtype=False, obj=name)


@pytest.fixture(scope="module")
def dask_processes(salt_env):
    """A LocalCluster of 2 worker processes (the salt set before they start): every step of a run whose
    rows stay on the workers must pickle to another process."""
    yield from _local_client(processes=True)


NO_ROWS = {"collect_rows": False}
#: The report's sections, as the report notebook calls them.
SECTIONS = ("executive_summary", "headline_tiles", "vendor_table", "fix_first_section", "call_list", "recognition",
            "appendix_contents", "comparison_table", "vendor_detail", "team_section", "theme_chart",
            "sentiment_chart", "drivers_table", "perception_gap_table", "theme_trend_table", "emerging_themes",
            "quotes", "data_quality", "method_notes")


def _renders(result) -> None:
    from feedbacklib import report

    html = [report.title_block(result, "2026-11-02")] + [getattr(report, name)(result) for name in SECTIONS]
    text = "".join(str(getattr(h, "data", h)) for h in html)
    assert len(text) > 10_000 and "Traceback" not in text


def _sorted_rows(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path).sort_values(S.RESPONSE_ID, kind="stable").reset_index(drop=True)


def test_sample_with_rows_on_the_workers_is_the_pandas_month(dask_processes, sample_result, tmp_path):
    """The sample (July to October in the input: three earlier months built from parts) with the rows left
    on two worker processes: kpis.json, the history, the service tables, emerging themes and the few rows
    shown are the pandas run's; the client holds no row of the month; the report's sections render."""
    from feedbacklib.pipeline import save_outputs

    rows = tmp_path / "rows"
    result = run_month("2026-10", SAMPLE, CONFIG, engine="dask", scheduler=dask_processes,
                       engine_options={**NO_ROWS, "rows_dir": str(rows)})
    assert len(result.frame) == 0 and result.rows is None
    pd.testing.assert_series_equal(result.frame.dtypes, sample_result.frame.dtypes)
    assert _json(result) == _json(sample_result)
    assert result.history.months == sample_result.history.months == ["2026-07", "2026-08", "2026-09"]
    for name in ("theme_counts", "kpi_tables", "theme_trend", "kpi_trend", "service", "service_comparison",
                 "theme_movers", "fix_first", "recognition"):
        pd.testing.assert_frame_equal(getattr(result, name), getattr(sample_result, name), obj=name)
    pd.testing.assert_frame_equal(result.history.uncovered, sample_result.history.uncovered)
    assert result.headline_changes == sample_result.headline_changes
    assert result.volume == sample_result.volume
    assert result.emerging[0] == sample_result.emerging[0]
    pd.testing.assert_frame_equal(result.emerging[1], sample_result.emerging[1])
    for name in ("call_list", "quotes"):
        pd.testing.assert_frame_equal(getattr(result, name).astype(object), getattr(sample_result, name).astype(object),
                                      obj=name)
    for name, table in result.aggregates().items():
        pd.testing.assert_frame_equal(table, sample_result.aggregates()[name], obj=name)
    # feedback.parquet from the workers' part files: the month's rows (in input-file order)
    written = save_outputs(result, tmp_path / "out")
    pd.testing.assert_frame_equal(_sorted_rows(written["feedback"]),
                                  sample_result.frame.sort_values(S.RESPONSE_ID, kind="stable").reset_index(drop=True))
    _renders(result)


@pytest.fixture(scope="module")
def stored_august(tmp_path_factory, salt_env) -> Path:
    """A history store holding August (from the sample), written by a pandas run."""
    folder = tmp_path_factory.mktemp("august")
    for name in ("qualtrics_post_contact_survey_2026-08.csv", "zendesk_tickets_2026-08.json"):
        shutil.copy(SAMPLE / name, folder)
    store = tmp_path_factory.mktemp("store") / "history"
    run_month("2026-08", folder, CONFIG, engine="pandas", history_dir=store)
    return store


def test_generated_month_with_rows_on_the_workers_is_the_pandas_month(two_months, stored_august, dask_processes,
                                                                     tmp_path):
    """The generated October with September in the input and August in the store (read by the workers
    for the earlier contacts): kpis.json and the history are the pandas run's, the store gets the same
    aggregates, and feedback.parquet is written from the store's part files."""
    from feedbacklib.history import AGGREGATES, HistoryStore
    from feedbacklib.pipeline import save_outputs

    stores = {}
    for name in ("pandas", "dask"):
        stores[name] = tmp_path / name / "history"
        shutil.copytree(stored_august, stores[name])
    want = run_month(MONTH, two_months, CONFIG, engine="pandas", history_dir=stores["pandas"], keep_rows=True)
    got = run_month(MONTH, two_months, CONFIG, engine="dask", scheduler=dask_processes, history_dir=stores["dask"],
                    engine_options=NO_ROWS)
    assert want.history.months == got.history.months == ["2026-08", "2026-09"]
    assert len(got.frame) == 0 and got.row_parts
    assert _json(got) == _json(want)
    for name in ("kpi_tables", "theme_counts", "kpi_trend", "service", "service_comparison"):
        pd.testing.assert_frame_equal(getattr(got, name), getattr(want, name), obj=name)
    assert got.emerging[0] == want.emerging[0]
    p, d = HistoryStore(stores["pandas"]), HistoryStore(stores["dask"])
    assert p.months() == d.months() == ["2026-08", "2026-09", MONTH]
    for month in ("2026-09", MONTH):
        pd.testing.assert_frame_equal(d.read_month(month), p.read_month(month))
        for name in AGGREGATES:
            pd.testing.assert_frame_equal(d.read_aggregate(month, name), p.read_aggregate(month, name), obj=name)
    written = save_outputs(got, tmp_path / "out")
    month_rows = want.rows[want.rows[S.MONTH] == MONTH].sort_values(S.RESPONSE_ID, kind="stable")
    pd.testing.assert_frame_equal(_sorted_rows(written["feedback"]), month_rows.reset_index(drop=True))
    _renders(got)


def test_rows_left_on_the_workers_without_a_shared_folder_come_back_for_feedback_parquet(generated,
                                                                                        generated_pandas,
                                                                                        dask_client, caplog):
    folder, _ = generated
    with caplog.at_level("WARNING"):
        result = run_month(MONTH, folder, CONFIG, engine="dask", scheduler=dask_client, engine_options=NO_ROWS)
    assert "brought back to the client" in caplog.text
    pd.testing.assert_frame_equal(result.frame, generated_pandas.frame)
    assert _json(result) == _json(generated_pandas)


def test_the_environment_keeps_the_rows_on_the_workers(monkeypatch):
    from feedbacklib.engines import make_engine
    from feedbacklib.errors import ConfigError

    monkeypatch.setenv("FEEDBACK_DASK_COLLECT_ROWS", "0")
    assert make_engine("dask").collect_rows is False
    assert make_engine("dask", collect_rows=True).collect_rows is True
    monkeypatch.setenv("FEEDBACK_DASK_COLLECT_ROWS", "maybe")
    with pytest.raises(ConfigError, match="FEEDBACK_DASK_COLLECT_ROWS"):
        make_engine("dask")


def test_partition_results_are_added_up_in_a_tree_and_give_the_pandas_month(generated, generated_pandas,
                                                                            dask_client, monkeypatch, tmp_path):
    """With more partitions than ``FAN_IN`` the parts, the emerging counts and the customer shuffle's results
    are added up in a tree of tasks (so no worker holds every partition's parts at once); the sums, taken in
    partition order, give the pandas run's month."""
    from feedbacklib.engines import dask as dask_engine

    folder, _ = generated
    assert len([p for p in folder.iterdir() if not p.name.startswith(".")]) > 2
    monkeypatch.setattr(dask_engine, "FAN_IN", 2)
    result = run_month(MONTH, folder, CONFIG, engine="dask", scheduler=dask_client,
                       engine_options={**NO_ROWS, "rows_dir": str(tmp_path / "rows")})
    assert len(result.frame) == 0
    assert _json(result) == _json(generated_pandas)
    for name in ("kpi_tables", "theme_counts", "service", "service_comparison", "recognition"):
        pd.testing.assert_frame_equal(getattr(result, name), getattr(generated_pandas, name), obj=name)
    for name in ("call_list", "quotes"):
        pd.testing.assert_frame_equal(getattr(result, name).astype(object),
                                      getattr(generated_pandas, name).astype(object), obj=name)


def test_the_sum_of_partition_results_is_a_tree_of_fan_in_tasks_in_order(monkeypatch):
    """``DaskEngine._sum``: tasks of at most ``FAN_IN`` inputs, submitted as the results come, in partition
    order, one future out."""
    from feedbacklib.engines import dask as dask_engine

    class Recording:  # a client that runs each task at once and records its inputs
        def __init__(self):
            self.sizes: list[int] = []

        def submit(self, fn, *args, pure=True):
            self.sizes.append(len(args))
            return fn(*args)

    monkeypatch.setattr(dask_engine, "FAN_IN", 3)
    eng = dask_engine.DaskEngine.__new__(dask_engine.DaskEngine)
    eng.client = Recording()
    assert eng._sum([[n] for n in range(10)]) == list(range(10))  # list + list: the order is kept
    assert eng.client.sizes == [3, 3, 3, 3, 2]  # 1-3, 4-6, 7-9; (1-3)+(4-6)+(7-9); that + 10
    assert eng._sum([]) is None


# --------------------------------------------------------------------------- the pandas engine with a work folder

def test_work_folder_engine_is_chosen_by_option_environment_and_config(monkeypatch, tmp_path):
    from feedbacklib.config import load_config
    from feedbacklib.engines import PandasEngine, make_engine
    from feedbacklib import pipeline
    from feedbacklib.pipeline import choose_engine

    monkeypatch.delenv("FEEDBACK_WORK_DIR", raising=False)
    assert isinstance(make_engine("pandas"), PandasEngine)
    assert make_engine("pandas", work_dir=str(tmp_path)).folder == tmp_path
    monkeypatch.setenv("FEEDBACK_WORK_DIR", str(tmp_path / "env"))
    assert make_engine("pandas").folder == tmp_path / "env"
    with pytest.raises(TypeError, match="buckets"):
        make_engine("pandas", buckets=3)
    monkeypatch.delenv("FEEDBACK_WORK_DIR")
    toml = tmp_path / "feedback.toml"
    toml.write_text(Path(CONFIG).read_text(encoding="utf-8") + '\n[run]\nwork_dir = "scratch"\n', encoding="utf-8")
    cfg = load_config(toml)
    assert cfg.run.work_dir == str(tmp_path / "scratch")  # relative to the configuration's folder
    assert choose_engine(cfg).folder == tmp_path / "scratch"
    assert isinstance(choose_engine(load_config(CONFIG)), PandasEngine)
    assert choose_engine(cfg, "dask").work_dir is None  # the Dask engine has its own (FEEDBACK_DASK_WORK_DIR)
    # a month too large for memory goes to <output>/.work unless a folder is set
    monkeypatch.setattr(pipeline, "AUTO_WORK_DIR_BYTES", 10_000)
    default = load_config(CONFIG)
    assert choose_engine(default, folder=SAMPLE).folder == Path(default.output) / ".work"
    assert choose_engine(cfg, folder=SAMPLE).folder == tmp_path / "scratch"
    assert isinstance(choose_engine(default, folder=SAMPLE / "README.md"), PandasEngine)
    assert isinstance(choose_engine(default, options={"work_dir": ""}, folder=SAMPLE), PandasEngine)  # in memory
    assert isinstance(choose_engine(cfg, folder=SAMPLE, keep_rows=True), PandasEngine)  # the rows were asked for
    toml.write_text(Path(CONFIG).read_text(encoding="utf-8") + '\n[run]\nwork_dir = ""\n', encoding="utf-8")
    assert isinstance(choose_engine(load_config(toml), folder=SAMPLE), PandasEngine)


def test_in_process_client_runs_each_task_with_its_arguments_results():
    from feedbacklib.engines.local import InProcessClient

    client = InProcessClient()
    a = client.submit(sum, [1, 2, 3])
    b = client.submit(pow, a, 2)
    c = client.submit(dict, x=b, y=1)
    assert client.gather(b) == 36 and client.gather([a, b]) == [6, 36] and client.gather(c) == {"x": 36, "y": 1}


def test_sample_with_a_work_folder_is_the_pandas_month(sample_result, salt_env, tmp_path, monkeypatch):
    """The sample through the work folder: kpis.json, the history, the few rows shown and feedback.parquet
    are the in-memory run's, no row of the month is held, the report renders, and the run's files go
    when its result does."""
    import gc

    from feedbacklib.pipeline import save_outputs

    monkeypatch.delenv("FEEDBACK_WORK_DIR", raising=False)
    work = tmp_path / "work"
    result = run_month("2026-10", SAMPLE, CONFIG, engine="pandas", engine_options={"work_dir": str(work)})
    assert len(result.frame) == 0 and result.row_parts
    pd.testing.assert_series_equal(result.frame.dtypes, sample_result.frame.dtypes)
    assert _json(result) == _json(sample_result)
    for name in ("theme_counts", "kpi_tables", "theme_trend", "service", "fix_first", "recognition"):
        pd.testing.assert_frame_equal(getattr(result, name), getattr(sample_result, name), obj=name)
    for name in ("call_list", "quotes"):
        pd.testing.assert_frame_equal(getattr(result, name).astype(object), getattr(sample_result, name).astype(object),
                                      obj=name)
    pd.testing.assert_frame_equal(result.quarantine, sample_result.quarantine)
    (run,) = work.iterdir()
    assert not (run / "work").exists() and sorted(p.name for p in (run / "rows").iterdir())  # the rows' parts only
    written = save_outputs(result, tmp_path / "out")
    pd.testing.assert_frame_equal(_sorted_rows(written["feedback"]),
                                  sample_result.frame.sort_values(S.RESPONSE_ID, kind="stable").reset_index(drop=True))
    _renders(result)
    del result
    gc.collect()
    assert not run.exists()


def test_generated_month_with_a_work_folder_is_the_pandas_month(generated, generated_pandas, salt_env, tmp_path):
    """Duplicates and repeats planted across CSV, Parquet, XLSX and JSON files: the shuffles find them as
    the in-memory engine does."""
    folder, _ = generated
    result = run_month(MONTH, folder, CONFIG, engine="pandas", engine_options={"work_dir": str(tmp_path)})
    assert _json(result) == _json(generated_pandas)
    pd.testing.assert_frame_equal(result.quarantine, generated_pandas.quarantine)
    pd.testing.assert_frame_equal(result.quality, generated_pandas.quality)


def test_a_failed_run_leaves_nothing_in_the_work_folder(salt_env, tmp_path):
    from feedbacklib.errors import FeedbackError

    empty = tmp_path / "in"
    empty.mkdir()
    (empty / "notes.txt").write_text("not an export", encoding="utf-8")
    with pytest.raises(FeedbackError):
        run_month(MONTH, empty, CONFIG, engine="pandas", engine_options={"work_dir": str(tmp_path / "work")})
    assert list((tmp_path / "work").iterdir()) == []


def test_history_store_with_a_work_folder_gets_the_in_memory_months(salt_env, tmp_path):
    """As the report run does it (a store): the months the store gets, its aggregates, kpis.json and
    feedback.parquet are the in-memory engine's."""
    from feedbacklib.history import AGGREGATES, HistoryStore
    from feedbacklib.pipeline import save_outputs

    folder = tmp_path / "in"
    folder.mkdir()
    for month in ("2026-09", MONTH):
        shutil.copy(SAMPLE / f"qualtrics_post_contact_survey_{month}.csv", folder)
    runs, stores = {}, {}
    for name, work_dir in (("memory", ""), ("work", str(tmp_path / "work"))):
        stores[name] = HistoryStore(tmp_path / name / "history")
        runs[name] = run_month(MONTH, folder, CONFIG, engine="pandas", history_dir=stores[name].root,
                               engine_options={"work_dir": work_dir})
    assert len(runs["work"].frame) == 0 and _json(runs["work"]) == _json(runs["memory"])
    assert stores["work"].months() == stores["memory"].months() == ["2026-09", MONTH]
    for month in ("2026-09", MONTH):
        pd.testing.assert_frame_equal(stores["work"].read_month(month), stores["memory"].read_month(month))
        for name in AGGREGATES:
            pd.testing.assert_frame_equal(stores["work"].read_aggregate(month, name),
                                          stores["memory"].read_aggregate(month, name), obj=name)
    written = {name: save_outputs(run, tmp_path / name / "out")["feedback"] for name, run in runs.items()}
    pd.testing.assert_frame_equal(_sorted_rows(written["work"]), _sorted_rows(written["memory"]))
