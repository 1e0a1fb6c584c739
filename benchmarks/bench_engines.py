"""Both engines on one generated month: CPU (rusage, workers included), wall, load, memory, same answer.

    python -m benchmarks.bench_engines --rows 1000000 --engine pandas --out r.json
    python -m benchmarks.bench_engines --rows 1000000 --engine dask --workers 2 --memory-limit 2GiB --out r.json
    python -m benchmarks.bench_engines --rows 10000000 --engine dask --summaries-only --out r.json   # the 10M run
    python -m benchmarks.bench_engines --rows 10000000 --subset 1000000 --engine pandas   # its first 1M rows

Input (cached in ``benchmarks/data/split-<N>-<texts>-<rows per file>/``, made once in a separate
process so its memory is not counted): the month of ``bench_e2e.input_folder`` (one Qualtrics
export of N rows, ``--texts distinct`` by default: ~68% of comments distinct) split into files
of ``--per-file`` rows (100,000), as a month of daily or weekly exports would be. The Dask
engine reads one file per task, so the files are its partitions; both engines read the same
folder.

What one run measures (in a fresh process, ``make bench`` starts one per size and engine):

- ``run_month`` (read, clean, themes, sentiment, comparisons; no notebook) on the folder, or with
  ``--summaries-only`` the Dask engine with ``collect_rows=False`` (and ``work_dir``, ``rows_dir``):
  the rows stay on the workers, the client receives the per-file counts, the quarantine, each
  partition's ``RunParts``, the customer-key shuffle's ``CustomerParts`` and the emerging themes'
  counts, and makes the whole MonthResult from them (``kpis.json`` digest as for a full run;
  ``client_rows`` is 0);
- ``cpu_s``: user + system seconds of this process and of every child it waited for
  (``getrusage(RUSAGE_SELF)`` + ``getrusage(RUSAGE_CHILDREN)``, read after the local cluster
  is closed, so the Dask worker processes and the forked tagging/sentiment pools are in it),
  less the memory sampler thread's own CPU time (``instrument_cpu_s``, reported apart);
- ``wall_s`` and the 1-minute load average before and after (the machine is shared: a load above
  the core count means the wall time includes waiting for other people's work);
- ``client_peak_rss_mb`` (this process alone), ``worker_peak_rss_mb`` (the largest worker process
  with its children), ``tree_peak_pss_mb`` (everything, shared pages counted once), sampled every
  0.25 s;
- ``kpis_sha256``: the digest of ``kpis.json`` (``--summaries-only``: of the tables from the parts),
  compared across engines by ``python -m benchmarks`` ("same answer"); ``tables_sha256``: the digest
  of the tables the parts give (:data:`PARTS_TABLES`), on both kinds of run, so a summaries-only
  run can be compared with a full pandas run of the same folder;
- ``--subset N``: only the first N rows' files of the folder (a folder of the first files, linked),
  e.g. the first 1M rows of the 10M month, which are the 1M month itself.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
MONTH = "2026-10"
HEADER_ROWS = 3
#: Rows generated at once (a larger month is made of blocks of this size; see :func:`split_folder`).
GENERATE_ROWS = 1_000_000


# --------------------------------------------------------------------------- input

def split_folder(rows: int, workdir: Path, texts: str, per_file: int) -> Path:
    """``workdir/split-<rows>-<texts>-<per_file>/``: the generated month in files of ``per_file`` rows."""
    folder = workdir / f"split-{rows}-{texts}-{per_file}"
    if (folder / ".complete").exists():
        return folder
    from benchmarks.bench_e2e import input_folder

    tmp = folder.with_name(folder.name + ".partial")
    tmp.mkdir(parents=True, exist_ok=True)
    k = 0
    # Above GENERATE_ROWS the month is generated in blocks of that many rows (block b with seed 7 + b, so
    # its ids, customers and comment pool are its own): the first block is the GENERATE_ROWS input itself,
    # so the first GENERATE_ROWS / per_file files are the 1M month (the "1M subset" of the 10M run).
    for block in range(0, rows, GENERATE_ROWS):
        n = min(GENERATE_ROWS, rows - block)
        if block == 0 and n == rows:
            src = next(input_folder(rows, workdir, texts).glob("*.csv"))
        elif block == 0:
            src = next(input_folder(n, workdir, texts).glob("*.csv"))
        else:
            src = _block(workdir, n, texts, seed=7 + block // GENERATE_ROWS)
        with open(src, encoding="utf-8-sig", newline="") as fh:
            header = [fh.readline() for _ in range(HEADER_ROWS)]
        chunks = pd.read_csv(src, skiprows=HEADER_ROWS, header=None, dtype=str, keep_default_na=False,
                             encoding="utf-8-sig", chunksize=per_file)
        for chunk in chunks:
            with open(tmp / f"qualtrics_post_contact_survey_{MONTH}_part{k:03d}.csv", "w", encoding="utf-8-sig",
                      newline="") as out:
                out.write(header[0].lstrip("\ufeff"))
                out.writelines(header[1:])
                chunk.to_csv(out, header=False, index=False, lineterminator="\r\n")
            k += 1
        if block:
            src.unlink()
    (tmp / ".complete").write_text("")
    os.replace(tmp, folder)
    return folder


def subset_folder(folder: Path, rows: int, per_file: int) -> Path:
    """``folder/../<name>-first-<rows>/``: links to the first ``rows / per_file`` files of ``folder``."""
    files = sorted(folder.glob("*.csv"))[: max(1, rows // per_file)]
    sub = folder.with_name(f"{folder.name}-first-{rows}")
    sub.mkdir(exist_ok=True)
    for f in files:
        if not (sub / f.name).exists():
            os.symlink(f, sub / f.name)
    return sub


def _block(workdir: Path, rows: int, texts: str, seed: int) -> Path:
    """One generated block of the month (a temporary CSV, removed by the caller)."""
    from benchmarks.bench_e2e import _make_texts_distinct
    from feedbacklib.sample import write_qualtrics_csv

    path = workdir / f".block-{rows}-{texts}-{seed}.csv"
    write_qualtrics_csv(path, rows, seed=seed, month=MONTH)
    if texts == "distinct":
        _make_texts_distinct(path, seed=seed)
    return path


# --------------------------------------------------------------------------- measuring

def _cpu_s() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _children(pid: int) -> list[int]:
    out = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                out.extend(int(c) for c in fh.read().split())
    except OSError:
        pass
    return out


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 0


def _tree_cpu_s(pid: int) -> float:
    """User + system seconds of the live processes under ``pid`` (not ``pid`` itself), from /proc."""
    tick, total, todo = os.sysconf("SC_CLK_TCK"), 0.0, _children(pid)
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            total += sum(int(f) for f in fields[11:15]) / tick  # utime, stime, cutime, cstime
        except (OSError, ValueError, IndexError):
            pass
        todo.extend(_children(p))
    return total


class Sampler:
    """Peak RSS of this process, of its largest child tree (a worker), and PSS of the whole tree.

    With ``progress`` (a path), every ``every`` seconds the figures so far go there as JSON (with the
    CPU seconds of this process and of its live children, the load and the last step started), so a
    run stopped before its end still says how far it got and what it used. ``own_cpu_s``: the sampling
    thread's own CPU time (reading the tree's ``smaps_rollup`` is not free), left out of ``cpu_s``."""

    def __init__(self, interval: float = 0.25, progress: Path | None = None, every: float = 15.0):
        self.interval, self.client, self.worker, self.tree_pss = interval, 0, 0, 0
        self.own_cpu_s = 0.0
        self.progress, self.every, self.step = progress, every, ""
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t0 = time.perf_counter()

    def _run(self) -> None:
        from benchmarks.bench_e2e import _tree_memory

        me, last = os.getpid(), 0.0
        while not self._stop.wait(self.interval):
            self.client = max(self.client, _rss(me))
            self.tree_pss = max(self.tree_pss, _tree_memory(me)[1])
            for child in _children(me):
                self.worker = max(self.worker, _tree_memory(child)[0])
            if self.progress is not None and time.perf_counter() - last >= self.every:
                last = time.perf_counter()
                self._write_progress(me)
            self.own_cpu_s = time.thread_time()

    def _write_progress(self, me: int) -> None:
        state = {"elapsed_s": round(time.perf_counter() - self._t0, 1), "step": self.step,
                 "cpu_s_so_far": round(_cpu_s() + _tree_cpu_s(me), 1), "load_avg_1m": round(os.getloadavg()[0], 2),
                 "client_peak_rss_mb": round(self.client / 2**20, 1),
                 "worker_peak_rss_mb": round(self.worker / 2**20, 1),
                 "tree_peak_pss_mb": round(self.tree_pss / 2**20, 1)}
        assert self.progress is not None
        tmp = self.progress.with_name(self.progress.name + ".tmp")
        tmp.write_text(json.dumps(state, indent=2) + "\n")
        os.replace(tmp, self.progress)

    def __enter__(self):
        sampler = self

        class Steps(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                sampler.step = record.getMessage()

        self._handler = Steps(logging.INFO)
        logging.getLogger("feedbacklib.pipeline").addHandler(self._handler)
        logging.getLogger("feedbacklib.pipeline").setLevel(logging.INFO)
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()
        logging.getLogger("feedbacklib.pipeline").removeHandler(self._handler)


#: The report's tables that the month's parts give (``pipeline.tables_from_parts``): ``tables_sha256``
#: digests them, on a full run (from the MonthResult) and on a summaries-only run (from the parts), so
#: the two can be compared at one size ("identical results to pandas"). The two mappings (team models,
#: source counts) are compared as mappings: from parts their order is first appearance in partition
#: (file) order, from the rows first appearance in time order.
PARTS_TABLES = ("kpis", "vendor_kpis", "team_kpis", "comparison", "vendors", "gap", "impact", "adjusted", "drivers",
                "theme_counts", "theme_trend", "channels", "team_praise", "pooled_teams", "sentiment",
                "source_counts", "team_models")


def tables_digest(tables: dict, names: tuple[str, ...] = PARTS_TABLES) -> str:
    """sha256 of :data:`PARTS_TABLES` as ``kpis.json`` writes tables (records, floats rounded to 6 places)."""
    from feedbacklib.result import _records

    def records(table):
        if isinstance(table, pd.Series):
            table = table.to_frame()
        if isinstance(table, pd.DataFrame):
            named = table.index.name is not None or any(n is not None for n in table.index.names)
            return _records(table.reset_index() if named else table)
        if isinstance(table, dict):  # team models, source counts: compared as mappings, not in their order
            return {str(k): table[k] for k in sorted(table, key=str)}
        return table

    doc = {name: records(tables[name]) for name in names}
    return hashlib.sha256(json.dumps(doc, default=str).encode()).hexdigest()


#: What a run can measure: pandas in memory, pandas with a work folder, Dask.
ENGINES = ("pandas", "pandas-work", "dask")


def bench(rows: int, folder: Path, engine: str, *, workers: int, memory_limit: str, summaries_only: bool,
          progress: Path | None = None, kpis_out: Path | None = None) -> dict:
    from feedbacklib.pipeline import kpis_document, run_month

    config = ROOT / "feedback.toml"
    out: dict = {"rows": rows, "engine": engine, "files": len(list(folder.glob("*.csv"))),
                 "input_bytes": sum(p.stat().st_size for p in folder.glob("*.csv"))}
    if engine == "dask":
        out.update(workers=workers, threads_per_worker=1, memory_limit_per_worker=memory_limit)
    load0, cpu0, t0 = os.getloadavg()[0], _cpu_s(), time.perf_counter()
    with Sampler(progress=progress) as mem, tempfile.TemporaryDirectory(prefix="bench-engines-", dir=folder.parent) as tmp:
        client = cluster = None
        if engine == "dask":
            from distributed import Client, LocalCluster

            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                   memory_limit=memory_limit, dashboard_address=":0")
            client = Client(cluster)
            out["cluster_start_s"] = round(time.perf_counter() - t0, 2)
        try:
            if summaries_only:
                # the whole run_month with the rows left on the workers: the MonthResult (kpis.json) from the
                # partitions' parts, the customer-key shuffle and the emerging themes' second round
                options = {"collect_rows": False, "rows_dir": str(Path(tmp) / "rows"),
                           "work_dir": str(Path(tmp) / "work")}
                result = run_month(MONTH, folder, config, engine="dask", scheduler=client, engine_options=options)
                doc = json.dumps(kpis_document(result), indent=2, sort_keys=False, default=str)
                out["stages_s"] = dict(result.timings)
                out["rows_kept"] = int(sum(result.quality["rows_kept"]))
                out["rows_quarantined"] = int(len(result.quarantine))
                out["client_rows"] = int(len(result.frame))  # 0: the month's rows never reached the client
                out["kpis_sha256"] = hashlib.sha256(doc.encode()).hexdigest()
                tables = {name: getattr(result, name) for name in PARTS_TABLES}
                out["tables_sha256"] = tables_digest(tables)
                out["table_digests"] = {name: tables_digest(tables, (name,))[:12] for name in PARTS_TABLES}
                out["responses"] = int(result.volume.responses)
                if kpis_out is not None:
                    kpis_out.write_text(doc + "\n")
            else:
                # pandas-work: the pandas engine with a work folder (one file in memory at a time)
                # pandas: the month in memory whatever its size ("" turns the automatic work folder off)
                options = {"work_dir": str(Path(tmp) / "work-folder") if engine == "pandas-work" else ""} \
                    if engine.startswith("pandas") else None
                result = run_month(MONTH, folder, config, engine=engine.split("-")[0], scheduler=client,
                                   engine_options=options)
                doc = json.dumps(kpis_document(result), indent=2, sort_keys=False, default=str)
                out["stages_s"] = dict(result.timings)
                out["rows_kept"] = int(sum(result.quality["rows_kept"]))
                out["rows_quarantined"] = int(len(result.quarantine))
                out["kpis_sha256"] = hashlib.sha256(doc.encode()).hexdigest()
                tables = {name: getattr(result, name) for name in PARTS_TABLES}
                out["tables_sha256"] = tables_digest(tables)
                out["table_digests"] = {name: tables_digest(tables, (name,))[:12] for name in PARTS_TABLES}
                out["months_in_input"] = sorted(str(m) for m in result.kpi_tables["month"].unique())
                out["responses"] = int(result.volume.responses)
                if kpis_out is not None:
                    kpis_out.write_text(doc + "\n")
        finally:
            if client is not None:
                client.close()
                cluster.close()
    out["wall_s"] = round(time.perf_counter() - t0, 2)
    out["cpu_s"] = round(_cpu_s() - cpu0 - mem.own_cpu_s, 2)
    out["instrument_cpu_s"] = round(mem.own_cpu_s, 2)  # the memory sampler's thread, not in cpu_s
    out["load_avg_1m"] = [round(load0, 2), round(os.getloadavg()[0], 2)]
    out["client_peak_rss_mb"] = round(mem.client / 2**20, 1)
    out["worker_peak_rss_mb"] = round(mem.worker / 2**20, 1)
    out["tree_peak_pss_mb"] = round(mem.tree_pss / 2**20, 1)
    out["rows_per_s"] = round(rows / out["wall_s"])
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench_engines", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, required=True)
    p.add_argument("--engine", choices=ENGINES, required=True,
                   help="pandas-work: the pandas engine with a work folder (the month's rows on disk)")
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--workdir", type=Path, default=ROOT / "benchmarks" / "data")
    p.add_argument("--texts", choices=("distinct", "pool"), default="distinct")
    p.add_argument("--per-file", type=int, default=100_000, help="rows per export file (Dask partitions; default 100000)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--memory-limit", default="2GiB", help="per Dask worker (default 2GiB)")
    p.add_argument("--summaries-only", action="store_true",
                   help="Dask engine only, rows left on the workers, summaries to the client (the 10M run)")
    p.add_argument("--subset", type=int, default=None,
                   help="run on the first SUBSET rows' files only (e.g. the first 1M rows of the 10M month)")
    p.add_argument("--progress", type=Path, default=None,
                   help="write the figures so far to this JSON file every 15 s (a long run stopped early)")
    p.add_argument("--kpis-out", type=Path, default=None, help="also write the run's kpis.json there (to diff)")
    p.add_argument("--prepare", action="store_true", help="only make the input folder")
    args = p.parse_args(argv)
    os.environ.setdefault("FEEDBACK_PII_SALT", "benchmark-salt-not-secret")
    args.workdir.mkdir(parents=True, exist_ok=True)
    if args.prepare:
        print(split_folder(args.rows, args.workdir, args.texts, args.per_file))
        return 0
    # the input is made in its own process: its memory and CPU are not the run's
    subprocess.run([sys.executable, "-m", "benchmarks.bench_engines", "--prepare", "--rows", str(args.rows),
                    "--engine", args.engine, "--workdir", str(args.workdir), "--texts", args.texts,
                    "--per-file", str(args.per_file)], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    folder = split_folder(args.rows, args.workdir, args.texts, args.per_file)
    rows = args.rows
    if args.subset:
        folder, rows = subset_folder(folder, args.subset, args.per_file), args.subset
    result = bench(rows, folder, args.engine, workers=args.workers, memory_limit=args.memory_limit,
                   summaries_only=args.summaries_only, progress=args.progress, kpis_out=args.kpis_out)
    result["texts"] = args.texts
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
