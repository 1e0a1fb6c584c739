"""The Dask path on N rows (default 5,000,000) read from raw Parquet partitions, bounded memory.

    python -m benchmarks.bench_dask --rows 5000000 --out result.json [--workers 2] [--memory-limit 3GiB]

Setup (cached in ``benchmarks/data/raw-parquet-<N>/``): the 1M-row Qualtrics CSV of the
main benchmark is read once and landed as raw Parquet parts of 250,000 rows, repeated
with distinct response ids until N rows (``scale.write_raw_parquet``). The run then
starts a ``LocalCluster`` (worker processes, one thread each, a memory limit per worker),
fits the tagger on a 200k-row sample, cleans/tags/scores every partition and writes the
processed rows to Parquet, finds duplicates across partitions (keys shuffled on
response_id), and computes per-service-model KPIs with Dask aggregations. A sampler
records the peak RSS of the benchmark process and of each worker process.

Texts: the copies repeat the comments of the 1M input, and ``--texts pool`` (default
here) uses the sample generator's 4,000-comment pool, so this run shows bounded
memory and partition-wise correctness at 5M rows, not text throughput (that is
``bench_e2e``'s job: tagging/sentiment cost per distinct text is the same on Dask).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MONTH = "2026-10"


def land(rows: int, workdir: Path, texts: str) -> Path:
    from benchmarks.bench_e2e import input_folder
    from feedbacklib.config import load_config
    from feedbacklib.io import read_export
    from feedbacklib.scale import write_raw_parquet

    folder = workdir / f"raw-parquet-{rows}-{texts}"
    if (folder / "_feedbacklib_source.json").exists():
        return folder
    cfg = load_config(ROOT / "feedback.toml")
    base = 1_000_000 if rows >= 1_000_000 else rows
    src = next(input_folder(base, workdir, texts).glob("*.csv"))
    t0 = time.perf_counter()
    export = read_export(src, config=cfg)
    tmp = folder.with_name(folder.name + ".partial")
    per = 250_000
    done, copy = 0, 0
    while done < rows:
        take = min(len(export.raw), rows - done)
        raw = export.raw.iloc[:take].copy()
        raw["ResponseId"] = raw["ResponseId"].str.replace("R_", f"R{copy}", n=1, regex=False)
        e = type(export)(path=export.path, platform=export.platform, confidence=export.confidence,
                         raw=raw, meta=export.meta)
        write_raw_parquet(e, tmp, rows_per_partition=per, row_offset=done, part_offset=done // per)
        done += take
        copy += 1
    os.replace(tmp, folder)
    print(f"landed {rows:,} raw rows as Parquet in {time.perf_counter() - t0:.0f} s: {folder}", file=sys.stderr)
    return folder


class Sampler:
    def __init__(self, interval: float = 0.25):
        self.interval, self.peak_tree, self.peak_worker = interval, 0, 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        from benchmarks.bench_e2e import _tree_memory

        me = os.getpid()
        while not self._stop.wait(self.interval):
            self.peak_tree = max(self.peak_tree, _tree_memory(me)[0])
            for child in _children(me):
                self.peak_worker = max(self.peak_worker, _tree_memory(child)[0])

    def __enter__(self):
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()


def _children(pid: int) -> list[int]:
    out = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                out.extend(int(c) for c in fh.read().split())
    except OSError:
        pass
    return out


def bench(rows: int, workdir: Path, *, workers: int, memory_limit: str, texts: str) -> dict:
    from distributed import Client, LocalCluster

    from feedbacklib import schema as S
    from feedbacklib.config import load_config
    from feedbacklib.scale import analyse, read_raw_parquet

    os.environ.setdefault("FEEDBACK_PII_SALT", "benchmark-salt-not-secret")
    folder = land(rows, workdir, texts)
    cfg = load_config(ROOT / "feedback.toml")
    out: dict = {"rows": rows, "texts": texts, "workers": workers, "threads_per_worker": 1,
                 "memory_limit_per_worker": memory_limit}
    with Sampler() as mem, tempfile.TemporaryDirectory(prefix="bench-dask-", dir=workdir) as tmp:
        t0 = time.perf_counter()
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               memory_limit=memory_limit, dashboard_address=None)
        client = Client(cluster)
        out["cluster_start_s"] = round(time.perf_counter() - t0, 2)
        try:
            source = read_raw_parquet(folder)
            out["partitions"] = source.raw.npartitions
            t0 = time.perf_counter()
            result = analyse([source], cfg, month=MONTH, client=client, output=Path(tmp) / "processed")
            out["process_s"] = round(time.perf_counter() - t0, 2)  # fit + clean/tag/score + write + dedup
            t0 = time.perf_counter()
            kept = result.kept()
            themes = [S.theme_column(t) for t in result.tagger.theme_ids_]
            cur = kept[kept[S.MONTH] == MONTH]
            agg = cur.assign(
                satisfied=(cur[S.CSAT].astype("float64") >= 4).astype("float64").where(cur[S.CSAT].notnull()),
                negative=(cur[S.SENTIMENT_LABEL].astype(str) == "negative").astype("int64"),
            ).groupby(S.SERVICE_MODEL).agg({S.RESPONSE_ID: "count", "satisfied": "mean", "negative": "sum",
                                            **{c: "sum" for c in themes}}).compute()
            out["kpis_s"] = round(time.perf_counter() - t0, 2)
            out["rows_kept"] = int(agg[S.RESPONSE_ID].sum())
            out["duplicates_across_partitions"] = int(len(result.duplicates))
            out["quarantined"] = int(result.quarantine()[S.QUARANTINE_REASON].count().compute())
            out["kpis_by_service_model"] = json.loads(agg.reset_index().to_json(orient="records"))
        finally:
            client.close()
            cluster.close()
    out["total_s"] = round(out["process_s"] + out["kpis_s"], 2)
    out["rows_per_s"] = round(rows / out["total_s"])
    out["peak_rss_worker_mb"] = round(mem.peak_worker / 2**20, 1)
    out["peak_rss_all_mb"] = round(mem.peak_tree / 2**20, 1)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench_dask", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=5_000_000)
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--workdir", type=Path, default=ROOT / "benchmarks" / "data")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--memory-limit", default="3GiB")
    p.add_argument("--texts", choices=("distinct", "pool"), default="pool")
    args = p.parse_args(argv)
    result = bench(args.rows, args.workdir, workers=args.workers, memory_limit=args.memory_limit,
                   texts=args.texts)
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
