"""Pipeline benchmark: rows/s and peak memory per stage, the floor, and the whole `feedback-report run`.

    python -m benchmarks                                   # 100,000 and 1,000,000 rows
    python -m benchmarks --rows 100000 --json out.json     # one size
    python -m benchmarks --rows 100000 --plan              # say what would run and how long, run nothing
    python -m benchmarks --rows 100000 --no-e2e            # stages only, no notebook run
    python -m benchmarks --engines pandas pandas-work dask # run_month on these engines per size (bench_engines;
                                                           # pandas-work: pandas with a work folder)
    python -m benchmarks --big                             # also the 10M-row Dask run (long: 15-30 min here)
    make bench ROWS=100000                                 # the size(s) to run (default 100000 1000000)

Before it starts it says what it will run and roughly how long each size takes: the wall time of
the last run of that size on this machine (``benchmarks/results/latest.json``) when there is one,
else an estimate from the targets below.

Each size runs in a fresh subprocess (``benchmarks.bench_e2e``) so peak memory
is per size. Inside it: the real ``feedback-report run`` (CLI, papermill kernel,
HTML export) on a folder holding the generated month, then the floor
(``pyarrow.csv.read_csv`` + ``HashingVectorizer.transform`` of the same comments),
then ``run_month`` stage by stage with a memory sampler, then every report
section rendered in-process. Generated inputs are cached in ``benchmarks/data/``.

Targets (2 cores): at 1M rows read+clean+themes+sentiment within 5x the floor,
peak memory < 4 GB, the whole run < 3 min; at 100k rows the whole run < 45 s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STAGES = ("read", "clean", "themes", "sentiment", "compare", "render")


def _run_size(rows: int, args: argparse.Namespace) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        out = Path(tmp) / "result.json"
        cmd = [sys.executable, "-m", "benchmarks.bench_e2e", "--rows", str(rows), "--out", str(out),
               "--workdir", str(args.workdir), "--texts", args.texts]
        if not args.e2e:
            cmd.append("--no-e2e")
        proc = subprocess.run(cmd, cwd=ROOT)
        if proc.returncode != 0 or not out.exists():
            return {"rows": rows, "error": f"benchmark subprocess exited {proc.returncode}"}
        return json.loads(out.read_text())


def _run_engine(rows: int, engine: str, args: argparse.Namespace, *, summaries_only: bool = False) -> dict:
    """One size on one engine in a fresh process (``benchmarks.bench_engines``)."""
    with tempfile.TemporaryDirectory(prefix="bench-engine-") as tmp:
        out = Path(tmp) / "result.json"
        cmd = [sys.executable, "-m", "benchmarks.bench_engines", "--rows", str(rows), "--engine", engine,
               "--out", str(out), "--workdir", str(args.workdir), "--texts", args.texts,
               "--workers", str(args.workers), "--memory-limit", args.memory_limit]
        if summaries_only:
            cmd.append("--summaries-only")
        proc = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL)
        if proc.returncode != 0 or not out.exists():
            return {"rows": rows, "engine": engine, "error": f"engine benchmark subprocess exited {proc.returncode}"}
        return json.loads(out.read_text())


def print_engines(runs: list[dict]) -> None:
    """The engines table: CPU from rusage (workers included), wall, load, memory, same answer."""
    print(f"\n{'rows':>12} {'engine':<12} {'wall s':>8} {'CPU s':>8} {'load 1m':>11} {'client MB':>10} "
          f"{'worker MB':>10} {'tree PSS MB':>12} {'responses':>10}  kpis.json")
    digests: dict[int, set] = {}
    for r in runs:
        if "error" in r:
            print(f"{r['rows']:>12,} {r['engine']:<12} {r['error']}")
            continue
        if not r.get("summaries_only"):
            digests.setdefault(r["rows"], set()).add(r["kpis_sha256"])
        load = "{:.1f}->{:.1f}".format(*r["load_avg_1m"])
        print(f"{r['rows']:>12,} {r['engine'] + ('*' if r.get('summaries_only') else ''):<12} {r['wall_s']:>8.1f} "
              f"{r['cpu_s']:>8.1f} {load:>11} {r['client_peak_rss_mb']:>10.0f} {r['worker_peak_rss_mb']:>10.0f} "
              f"{r['tree_peak_pss_mb']:>12.0f} {r['responses']:>10,}  {r['kpis_sha256'][:12]}")
    for rows, seen in sorted(digests.items()):
        print(f"{rows:>12,} rows: kpis.json {'identical on every engine' if len(seen) == 1 else 'DIFFERS between engines'}")
    for line in growth_lines(runs):
        print(line)
    if any(r.get("summaries_only") for r in runs):
        print("  * summaries only: the rows stay on the workers; the client receives counts, the quarantine and "
              "the summary")


def growth_lines(runs: list[dict]) -> list[str]:
    """Per engine, how much the peak memory (client process; tree PSS for Dask) grows per extra million
    rows between its two largest sizes (target: < 0.5 GB; docs/scale.md)."""
    lines = []
    for engine in dict.fromkeys(r["engine"] for r in runs if "error" not in r and not r.get("summaries_only")):
        sizes = sorted((r for r in runs if r["engine"] == engine and "error" not in r and not r.get("summaries_only")),
                       key=lambda r: r["rows"])
        if len(sizes) < 2 or sizes[-1]["rows"] == sizes[-2]["rows"]:
            continue
        a, b = sizes[-2], sizes[-1]
        key = "tree_peak_pss_mb" if engine == "dask" else "client_peak_rss_mb"
        per_m = (b[key] - a[key]) / 1024 / ((b["rows"] - a["rows"]) / 1e6)
        lines.append(f"  {engine}: peak memory grows {per_m:.2f} GB per extra million rows ({a['rows']:,} -> "
                     f"{b['rows']:,}: {a[key]:,.0f} -> {b[key]:,.0f} MB, {key})")
    return lines


#: Without an earlier run: seconds ~ fixed + per_million * rows / 1e6 for one size (generating the input
#: the first time, the end-to-end run, the floor, run_month stage by stage, the report sections), from
#: the targets above (1M: run < 3 min; 100k: run < 45 s) and the stage timings measured on 2 cores.
_FIXED_S, _PER_MILLION_S = 40.0, 380.0


def _human(seconds: float) -> str:
    if seconds < 90:
        return f"{max(10, round(seconds, -1)):.0f} s"
    return f"{seconds / 60:.0f} min"


def estimate(rows: int, previous: dict | None = None, *, e2e: bool = True) -> tuple[float, str]:
    """Roughly how long one size takes, and where the figure comes from."""
    for run in (previous or {}).get("runs", []):
        if run.get("rows") == rows and isinstance(run.get("wall_s"), (int, float)) and "error" not in run:
            return float(run["wall_s"]), "as the last run of this size on this machine took"
    seconds = _FIXED_S + _PER_MILLION_S * rows / 1e6
    if not e2e:
        seconds *= 0.55
    return seconds, "estimated from the targets: no earlier run of this size here"


def plan_lines(sizes: list[int], args: argparse.Namespace, previous: dict | None = None) -> list[str]:
    """What ``make bench`` is about to do, said before it starts."""
    lines = [f"benchmark plan: {len(sizes)} size{'s' if len(sizes) != 1 else ''}, each in a fresh process, "
             f"{args.texts} texts; results to {args.json}"]
    total = 0.0
    for rows in sizes:
        seconds, source = estimate(rows, previous, e2e=args.e2e)
        total += seconds
        lines.append(f"  {rows:>12,} rows: about {_human(seconds)} ({source})")
    steps = ("generate the input once (cached in benchmarks/data/), "
             + ("the real feedback-report run, " if args.e2e else "")
             + "the floor (read + hashing), run_month stage by stage, every report section")
    lines.append(f"  each size: {steps}")
    if args.engines:
        lines.append(f"  then run_month on the {' and '.join(args.engines)} engine(s) for each size "
                     "(input split into files of 100,000 rows; about as long again)")
    if args.big:
        lines.append("  then the Dask engine on 10,000,000 rows, 2 workers of 2 GiB, rows left on the workers "
                     "(15-30 min here)")
    lines.append(f"  in all about {_human(total)}. Ctrl-C stops it; a smaller run: make bench ROWS=100000")
    return lines


def _fmt(v, spec: str, none: str = "–") -> str:
    return none if v is None else format(v, spec)


def print_table(runs: list[dict]) -> None:
    ok = [r for r in runs if "error" not in r]
    for r in runs:
        if "error" in r:
            print(f"{r['rows']:>10,} rows: {r['error']}")
    if not ok:
        return
    head = f"{'stage':<12}" + "".join(f"{r['rows']:>14,} rows          " for r in ok)
    print("\n" + head)
    print(f"{'':<12}" + "".join(f"{'s':>9} {'rows/s':>10} {'PSS MB':>8} " for _ in ok))
    for stage in STAGES:
        cells = []
        for r in ok:
            s = r["stages_s"].get(stage)
            cells.append(f"{_fmt(s, '9.2f'):>9} {_fmt(r['rows_per_s'].get(stage), ',d'):>10} "
                         f"{_fmt(r.get('stage_peak_pss_mb', r['stage_peak_rss_mb']).get(stage), '8.0f'):>8} ")
        print(f"{stage:<12}" + "".join(cells))
    lines = [
        ("floor", lambda r: f"{r['floor_s']:.2f} s (read {r['floor_read_s']:.2f} + hashing {r['floor_hashing_s']:.2f})"),
        ("analysis", lambda r: f"{r['analysis_s']:.2f} s = {r['ratio_to_floor']:.1f}x floor"),
        ("peak", lambda r: f"PSS {r.get('peak_pss_mb', 0):.0f} MB (RSS sum {r['peak_rss_mb']:.0f}) in-process"),
        ("e2e run", lambda r: (f"{r['end_to_end_s']:.1f} s = {r.get('end_to_end_ratio_to_floor', 0):.1f}x floor, "
                               f"PSS {r.get('end_to_end_peak_pss_mb', 0):.0f} MB"
                               + ("" if r.get("end_to_end_ok") else " FAILED")) if r.get("end_to_end_s") else "–"),
        ("report.html", lambda r: f"{r['html_bytes'] / 1024:.0f} KiB" if r.get("html_bytes") else "–"),
        ("distinct", lambda r: f"{r['distinct_texts']:,} texts"),
    ]
    for name, fn in lines:
        print(f"{name:<12}" + "".join(f"{fn(r):<39}" for r in ok))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000],
                        help="sizes to run, each in a fresh process (default 100000 1000000)")
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "latest.json",
                        help="write results here (default benchmarks/results/latest.json)")
    parser.add_argument("--workdir", type=Path, default=ROOT / "benchmarks" / "data",
                        help="where generated inputs are cached")
    parser.add_argument("--texts", choices=("distinct", "pool"), default="distinct",
                        help="distinct: ~every comment differs, as in real exports (default); "
                             "pool: the sample generator's 4,000 comments repeated")
    parser.add_argument("--no-e2e", dest="e2e", action="store_false", help="skip the feedback-report run")
    parser.add_argument("--engines", nargs="*", choices=("pandas", "pandas-work", "dask"),
                        default=["pandas", "pandas-work", "dask"],
                        help="also time run_month on these engines at each size (default: pandas pandas-work dask; "
                             "--engines alone: none)")
    parser.add_argument("--workers", type=int, default=2, help="Dask workers of the local cluster (default 2)")
    parser.add_argument("--memory-limit", default="2GiB", help="per Dask worker (default 2GiB)")
    parser.add_argument("--big", nargs="?", type=int, const=10_000_000, default=None, metavar="ROWS",
                        help="opt-in: also the Dask engine on ROWS (default 10000000) rows, summaries only")
    parser.add_argument("--plan", action="store_true", help="print what would run and how long, and stop")
    args = parser.parse_args(argv)
    if any(n <= 0 for n in args.rows):
        parser.error("--rows takes positive numbers of rows, e.g. --rows 100000")
    previous = None
    try:
        previous = json.loads(args.json.read_text())
    except (OSError, ValueError):
        pass
    for line in plan_lines(args.rows, args, previous):
        print(line, file=sys.stderr, flush=True)
    if args.plan:
        return 0
    args.workdir.mkdir(parents=True, exist_ok=True)
    runs = []
    for rows in args.rows:
        print(f"--- {rows:,} rows", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        runs.append(_run_size(rows, args))
        runs[-1]["wall_s"] = round(time.perf_counter() - t0, 1)
        print(f"--- {rows:,} rows done in {_human(runs[-1]['wall_s'])}", file=sys.stderr, flush=True)
    print_table(runs)
    doc = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                       "platform": platform.platform(), "load_avg": os.getloadavg()},
           "runs": runs}
    engine_runs = []
    for rows in args.rows:
        for engine in args.engines:
            print(f"--- {rows:,} rows on the {engine} engine", file=sys.stderr, flush=True)
            engine_runs.append(_run_engine(rows, engine, args))
    if args.big:
        print(f"--- {args.big:,} rows on the dask engine, summaries only", file=sys.stderr, flush=True)
        engine_runs.append({**_run_engine(args.big, "dask", args, summaries_only=True), "summaries_only": True})
    if engine_runs:
        print_engines(engine_runs)
        doc["engines"] = engine_runs
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"\nwritten {args.json}")
    return 0 if all("error" not in r for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
