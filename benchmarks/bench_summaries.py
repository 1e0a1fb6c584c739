"""Issue 19 item 1: the report's statistics from summaries against the row-level versions they replace.

    python -m benchmarks.bench_summaries --rows 100000 1000000 [--json OUT]

For each size, the generated month (``benchmarks/data/qualtrics-<N>-distinct``, made by
:mod:`feedbacklib.sample` as ``bench_e2e`` makes it) is run once through ``run_month`` and
its tagged, scored rows cached as ``benchmarks/data/tagged-<N>.parquet``. Then, in this
process, each statistic is timed (CPU seconds of this process and wall seconds, best of
``--repeat``) with the row-level implementation kept in ``tests/reference`` ("before")
and the summary-based one in ``feedbacklib.stats`` ("after"), and the largest absolute
difference between the two tables' numeric columns is printed (texts, counts and flags
must be equal: any difference there is reported as ``MISMATCH``). ``summarise`` alone
is timed too: it is what an engine computes per partition.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_e2e import MONTH, input_folder  # noqa: E402


def tagged_frame(rows: int, workdir: Path) -> pd.DataFrame:
    path = workdir / f"tagged-{rows}.parquet"
    if not path.exists():
        from feedbacklib.pipeline import run_month

        os.environ.setdefault("FEEDBACK_PII_SALT", "bench-salt-not-secret")
        folder = input_folder(rows, workdir)
        t0 = time.perf_counter()
        result = run_month(MONTH, folder, ROOT / "feedback.toml")
        result.frame.to_parquet(path.with_suffix(".partial"), index=False)
        os.replace(path.with_suffix(".partial"), path)
        print(f"tagged {rows:,} rows in {time.perf_counter() - t0:.0f} s: {path}", file=sys.stderr)
    return pd.read_parquet(path)


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def timed(fn, repeat: int):
    best_cpu = best_wall = float("inf")
    out = None
    for _ in range(repeat):
        c0, w0 = _cpu(), time.perf_counter()
        out = fn()
        best_cpu = min(best_cpu, _cpu() - c0)
        best_wall = min(best_wall, time.perf_counter() - w0)
    return out, best_cpu, best_wall


def max_abs_diff(new: pd.DataFrame, old: pd.DataFrame) -> float | str:
    if list(new.columns) != list(old.columns) or len(new) != len(old):
        return "MISMATCH (shape)"
    worst = 0.0
    for col in old.columns:
        a, b = new[col], old[col]
        if pd.api.types.is_float_dtype(a) or pd.api.types.is_float_dtype(b):
            x, y = a.to_numpy(dtype=float), b.to_numpy(dtype=float)
            if not np.array_equal(np.isnan(x), np.isnan(y)):
                return f"MISMATCH (NaN in {col})"
            if (~np.isnan(x)).any():
                worst = max(worst, float(np.nanmax(np.abs(x - y))))
        elif a.astype(object).tolist() != b.astype(object).tolist():
            return f"MISMATCH ({col})"
    return worst


def cases(frame: pd.DataFrame, themes: list[str]):
    from feedbacklib import stats as C
    from feedbacklib.stats import casemix, drivers, impact, summaries
    from tests.reference import casemix_rows, drivers_rows, impact_rows

    raw = C.compare_groups(frame, themes=themes)
    raw_v = C.compare_vendors(frame, themes=themes)
    # the adjusted part only (the raw comparison is shared and not part of this change)
    yield ("case-mix adjusted (outsourced vs in-house)",
           lambda: casemix_rows._adjusted(frame, C._equals(frame, "service_model", "outsourced"),
                                          C._equals(frame, "service_model", "in_house"), raw,
                                          casemix_rows.DEFAULT_STRATA, themes, 30, 0.05)[
               list(casemix_rows.ADJUSTED_COLUMNS)].reset_index(drop=True),
           lambda: casemix.adjusted_from_summary(
               summaries.summarise(frame, themes=themes, keys=("service_model",), scores=()), raw))
    yield ("case-mix adjusted, per vendor",
           lambda: _old_vendors(frame, themes, raw_v, casemix_rows, C),
           lambda: casemix.adjusted_vendors_from_summary(
               summaries.summarise(frame, themes=themes, keys=("service_model", "vendor"), scores=()), raw_v))
    yield ("drivers (csat by service model)",
           lambda: drivers_rows.theme_drivers(frame, themes=themes),
           lambda: drivers.theme_drivers(frame, themes=themes))
    yield ("theme impact (csat)",
           lambda: impact_rows.theme_impact(frame, themes=themes),
           lambda: impact.theme_impact(frame, themes=themes))
    yield ("summarise (full summary, per partition)", None,
           lambda: summaries.summarise(frame, themes=themes))


def _old_vendors(frame, themes, raw_all, casemix_rows, C):
    in_b = C._equals(frame, "service_model", "in_house")
    vendor_rows = C._known(frame, "vendor") & ~in_b
    parts = []
    for vendor in C._vendors(frame):
        in_a = vendor_rows & C._equals(frame, "vendor", vendor)
        raw = raw_all[raw_all[C.VENDOR_COL] == vendor].drop(columns=[C.VENDOR_COL]).reset_index(drop=True)
        out = casemix_rows._adjusted(frame, in_a, in_b, raw, casemix_rows.DEFAULT_STRATA, themes, 30, 0.05)
        parts.append(out[list(casemix_rows.ADJUSTED_COLUMNS)].assign(**{C.VENDOR_COL: vendor}))
    return pd.concat(parts, ignore_index=True)[[C.VENDOR_COL, *casemix_rows.ADJUSTED_COLUMNS]]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--workdir", type=Path, default=ROOT / "benchmarks" / "data")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    report = {"load_avg": os.getloadavg(), "sizes": {}}
    for rows in args.rows:
        frame = tagged_frame(rows, args.workdir)
        themes = [c.removeprefix("theme_") for c in frame.columns
                  if c.startswith("theme_") and c != "theme_evidence"]
        print(f"\n{len(frame):,} rows, {len(themes)} themes (load {os.getloadavg()[0]:.1f})")
        print(f"{'statistic':45s} {'before cpu/wall s':>18s} {'after cpu/wall s':>18s}  max abs diff")
        size = {}
        for name, old, new in cases(frame, themes):
            after, cpu_a, wall_a = timed(new, args.repeat)
            if old is None:
                print(f"{name:45s} {'':>18s} {cpu_a:8.2f}/{wall_a:<8.2f}   "
                      f"({len(after.cells):,} cells, {sum(len(t) for t in after.scores.values()):,} score cells)")
                size[name] = {"after_cpu_s": cpu_a, "after_wall_s": wall_a}
                continue
            before, cpu_b, wall_b = timed(old, args.repeat)
            diff = max_abs_diff(after, before)
            shown = diff if isinstance(diff, str) else f"{diff:.3g}"
            print(f"{name:45s} {cpu_b:8.2f}/{wall_b:<8.2f}  {cpu_a:8.2f}/{wall_a:<8.2f}   {shown}")
            size[name] = {"before_cpu_s": cpu_b, "before_wall_s": wall_b, "after_cpu_s": cpu_a,
                          "after_wall_s": wall_a, "max_abs_diff": diff}
        report["sizes"][rows] = size
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
