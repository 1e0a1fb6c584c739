"""Cleaning benchmark: read_export + clean_responses (incl. validation) against the floor.

    python benchmarks/bench_clean.py --rows 1000000 --json OUT.json [--texts distinct|pool]

Generates N rows in the Qualtrics layout with ``feedbacklib.sample.write_qualtrics_csv``,
the same cached input as ``bench_e2e`` (``benchmarks/data/qualtrics-<N>-<texts>/``,
git-ignored): ``--texts distinct`` (default) joins 1-3 pool comments so that about 68% of
comments differ, as in real exports (mean ~133 characters); ``--texts pool`` keeps the
generator's 4,000 comments. Then, each in a fresh child process so the peak memory
figures do not mix:

- clean: ``read_export`` + ``clean_responses`` (normalise, dedupe, PII redaction, pandera
  validation): read and clean timed apart, in wall-clock and CPU seconds (CPU seconds, all
  threads, vary less on a shared machine); rows/s and peak RSS (``resource.getrusage``);
  ``--steps`` also times the sub-steps listed in :data:`STEPS`;
- floor: ``pyarrow.csv.read_csv`` (``newlines_in_values``) of the same file plus
  ``HashingVectorizer(n_features=2**20).transform`` of its comments (one process).

Targets (issue 3): >= 100,000 rows/s, <= half the floor's time, peak memory < 3 GB.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "data"


#: Sub-steps ``--steps`` times: (module that calls the function, function, label). A step called
#: inside another is part of that one's time too (the label says "of which").
STEPS = (
    ("feedbacklib.io._common", "_read_csv_body", "read: Arrow CSV parse to a frame"),
    ("feedbacklib.clean", "stage_export", "clean: platform columns -> canonical"),
    ("feedbacklib.clean", "parse_timestamps", "clean: dates"),
    ("feedbacklib.clean", "per_unique", "clean: scores, teams, channels, customer keys"),
    ("feedbacklib.clean", "clean_text", "clean: text (mojibake, space, blanks, PII)"),
    ("feedbacklib.clean", "redact_pii", "  of which PII redaction"),
    ("feedbacklib.clean", "_mark_duplicates", "clean: duplicates"),
    ("feedbacklib.clean", "_mark_repeats", "clean: repeats"),
    ("feedbacklib.clean", "_time_order", "clean: sort kept rows by time"),
    ("feedbacklib.clean", "_take_rows", "clean: take kept rows"),
    ("feedbacklib.clean", "validate_canonical", "clean: validation (pandera)"),
    ("feedbacklib.clean", "_quarantine", "clean: quarantine"),
)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_s() -> float:
    """CPU seconds of this process so far, every thread (Arrow reads and sorts on several)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _time_steps() -> dict[str, dict[str, float]]:
    """Wrap each of :data:`STEPS` with a timer; the returned dict fills in as they run."""
    timings: dict[str, dict[str, float]] = {}
    for module_name, name, label in STEPS:
        module = importlib.import_module(module_name)
        fn = getattr(module, name, None)
        if fn is None:  # an older or newer version of the code without this step
            continue

        @functools.wraps(fn)
        def timed(*args, _fn=fn, _label=label, **kwargs):
            w0, c0 = time.perf_counter(), _cpu_s()
            try:
                return _fn(*args, **kwargs)
            finally:
                entry = timings.setdefault(_label, {"wall_s": 0.0, "cpu_s": 0.0, "calls": 0})
                entry["wall_s"] += time.perf_counter() - w0
                entry["cpu_s"] += _cpu_s() - c0
                entry["calls"] += 1

        setattr(module, name, timed)
    return timings


def data_file(rows: int, texts: str = "distinct") -> Path:
    """The cached Qualtrics export of ``rows`` rows that ``bench_e2e`` also uses."""
    sys.path.insert(0, str(ROOT))
    from benchmarks.bench_e2e import input_folder

    folder = input_folder(rows, DATA, texts)
    return next(folder.glob("*.csv"))


def run_clean(path: Path, steps: bool = False) -> dict:
    os.environ.setdefault("FEEDBACK_PII_SALT", "benchmark-salt-not-secret")
    sys.path.insert(0, str(ROOT))
    from feedbacklib.clean import clean_responses
    from feedbacklib.config import default_config
    from feedbacklib.io import read_export
    from feedbacklib.schema import empty_canonical_frame
    from feedbacklib.validation import canonical_schema, validate_frame

    # Import pandera (about 1-3 s) and let it register its pandas backends (which imports
    # hypothesis, about 0.6 s) before the clock starts: both are paid once per process.
    canonical_schema()
    validate_frame(empty_canonical_frame())
    cfg = default_config(ROOT, timezone="Europe/London")
    timings = _time_steps() if steps else {}
    load = os.getloadavg()[0]
    t0, c0 = time.perf_counter(), _cpu_s()
    export = read_export(path, config=cfg)
    t1, c1 = time.perf_counter(), _cpu_s()
    result = clean_responses([export], cfg)
    t2, c2 = time.perf_counter(), _cpu_s()
    return {"read_s": t1 - t0, "clean_s": t2 - t1, "total_s": t2 - t0,
            "read_cpu_s": c1 - c0, "clean_cpu_s": c2 - c1, "total_cpu_s": c2 - c0,
            "peak_rss_mb": _peak_mb(), "load_avg_1m": load,
            "rows_read": len(export.raw), "rows_kept": len(result.frame),
            "rows_quarantined": len(result.quarantine), "steps": timings}


def run_floor(path: Path) -> dict:
    import pyarrow.csv as pacsv
    from sklearn.feature_extraction.text import HashingVectorizer

    t0 = time.perf_counter()
    # The header is 3 rows: read the names from the first, skip all three.
    with open(path, encoding="utf-8-sig") as fh:
        names = fh.readline().rstrip("\r\n").split(",")
    table = pacsv.read_csv(
        path, read_options=pacsv.ReadOptions(column_names=names, skip_rows=3, block_size=1 << 24),
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
    )
    t1 = time.perf_counter()
    texts = table.column("Q3").to_pylist()
    HashingVectorizer(n_features=2 ** 20).transform(t if t is not None else "" for t in texts)
    t2 = time.perf_counter()
    return {"read_s": t1 - t0, "hash_s": t2 - t1, "total_s": t2 - t0, "peak_rss_mb": _peak_mb()}


def _child(stage: str, path: Path, steps: bool = False) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", stage, "--file", str(path),
                          *(["--steps"] if steps else [])],
                         cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each; the median is reported")
    parser.add_argument("--texts", choices=("distinct", "pool"), default="distinct",
                        help="distinct: most comments differ, as in real exports (default); "
                             "pool: the generator's 4,000 comments repeated")
    parser.add_argument("--steps", action="store_true",
                        help="also time the sub-steps of reading and cleaning (STEPS)")
    parser.add_argument("--child", choices=("clean", "floor"), help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        figures = run_clean(args.file, args.steps) if args.child == "clean" else run_floor(args.file)
        print(json.dumps(figures))
        return 0

    t0 = time.perf_counter()
    path = data_file(args.rows, args.texts)
    gen_s = time.perf_counter() - t0
    cleans = [_child("clean", path, args.steps) for _ in range(args.repeat)]
    floors = [_child("floor", path) for _ in range(args.repeat)]
    clean = sorted(cleans, key=lambda r: r["total_s"])[len(cleans) // 2]
    floor = sorted(floors, key=lambda r: r["total_s"])[len(floors) // 2]
    result = {
        "rows": args.rows, "texts": args.texts, "file_mb": round(path.stat().st_size / 2**20, 1),
        "generate_s": round(gen_s, 2),
        "clean": clean, "floor": floor,
        "clean_rows_per_s": round(args.rows / clean["total_s"]),
        "floor_rows_per_s": round(args.rows / floor["total_s"]),
        "clean_over_floor": round(clean["total_s"] / floor["total_s"], 3),
        "targets": {"rows_per_s>=100k": args.rows / clean["total_s"] >= 100_000,
                    "clean<=half_floor": clean["total_s"] <= floor["total_s"] / 2,
                    "peak<3GB": clean["peak_rss_mb"] < 3072},
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "platform": platform.platform(), "load_avg": os.getloadavg()},
    }
    print(f"{args.rows:,} rows, {args.texts} texts ({result['file_mb']} MB)")
    print(f"  clean: {clean['total_s']:.2f} s (read {clean['read_s']:.2f} + clean {clean['clean_s']:.2f}) "
          f"= {result['clean_rows_per_s']:,} rows/s, peak {clean['peak_rss_mb']:.0f} MB; "
          f"CPU {clean['total_cpu_s']:.2f} s (read {clean['read_cpu_s']:.2f} "
          f"+ clean {clean['clean_cpu_s']:.2f}), load {clean['load_avg_1m']:.1f}")
    for label, step in clean["steps"].items():
        print(f"    {label:48s} {step['wall_s']:6.2f} s  CPU {step['cpu_s']:6.2f} s")
    print(f"  floor: {floor['total_s']:.2f} s (read {floor['read_s']:.2f} + hash {floor['hash_s']:.2f}), "
          f"peak {floor['peak_rss_mb']:.0f} MB")
    print(f"  clean / floor = {result['clean_over_floor']:.2f}; targets: {result['targets']}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
