"""CPU seconds of ``result.month_tables`` (every table of the report) on a generated, tagged month.

    python -m benchmarks.bench_month_tables --rows 200000 [--repeat 2]

The month (``benchmarks/data/qualtrics-<N>-distinct``, as :mod:`benchmarks.bench_e2e` makes it) is run
once through ``run_month`` and cached as ``benchmarks/data/month-<N>.pkl`` (rows, history, quarantine,
config, taxonomy); then ``month_tables`` is timed in this process (best of ``--repeat``, CPU seconds),
and with ``--parts`` also ``month_parts`` of three partitions added up and ``month_tables_from_parts``.
Run it from two checkouts (``PYTHONPATH=<checkout>``) on the same cache to compare them.
"""

from __future__ import annotations

import argparse
import os
import pickle
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_e2e import MONTH, input_folder  # noqa: E402


def cached_month(rows: int, workdir: Path) -> dict:
    path = workdir / f"month-{rows}.pkl"
    if not path.exists():
        from feedbacklib.pipeline import run_month

        os.environ.setdefault("FEEDBACK_PII_SALT", "bench-salt-not-secret")
        result = run_month(MONTH, input_folder(rows, workdir), ROOT / "feedback.toml")
        data = {"frame": result.frame, "history": result.history, "quarantine": result.quarantine,
                "config": result.config, "taxonomy": result.taxonomy, "month": result.month}
        path.with_suffix(".partial").write_bytes(pickle.dumps(data))
        os.replace(path.with_suffix(".partial"), path)
    return pickle.loads(path.read_bytes())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--parts", action="store_true", help="also time month_parts + month_tables_from_parts")
    ap.add_argument("--workdir", type=Path, default=ROOT / "benchmarks" / "data")
    args = ap.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    d = cached_month(args.rows, args.workdir)
    from feedbacklib import result as R

    def run():
        return R.month_tables(d["frame"], d["history"], d["month"], d["config"], d["taxonomy"],
                              quarantine=d["quarantine"])

    best = float("inf")
    for _ in range(args.repeat):
        c0 = time.process_time()
        run()
        best = min(best, time.process_time() - c0)
    print(f"{R.__file__}: month_tables on {len(d['frame']):,} rows: {best:.2f} CPU s (best of {args.repeat}; "
          f"load {os.getloadavg()[0]:.1f})")
    if args.parts:
        import numpy as np

        from feedbacklib.parts import month_parts

        themes = list(d["taxonomy"].ids)
        c0 = time.process_time()
        parts = sum(month_parts(d["frame"].iloc[i], d["month"], themes, d["config"])
                    for i in np.array_split(np.arange(len(d["frame"])), 3))
        c1 = time.process_time()
        tables = R.month_tables_from_parts(parts, d["history"], d["month"], d["config"], d["taxonomy"],
                                           quarantine=d["quarantine"])
        c2 = time.process_time()
        print(f"month_parts of 3 partitions + adding: {c1 - c0:.2f} CPU s; month_tables_from_parts "
              f"({len(tables)} tables): {c2 - c1:.2f} CPU s; {len(parts.summary.cells):,} cells")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
