"""Issue 19: sizes and times of the mergeable partials (service, volume and the few rows the report shows).

    python -m benchmarks.bench_partials --rows 1000000 [--parts 8] [--json OUT]

The month is made from the sample month's tagged, scored rows (``data/sample``, run once
through ``run_month``): drawn with replacement up to ``--rows``, new response ids, times
spread over the month, customers drawn from a pool of ``rows / 2`` (so most customers
write more than once and land in any part), and each comment followed by 0-2 other
comments of the pool as ``bench_e2e`` does (most texts distinct). Theme flags stay those
of the drawn row (not re-tagged): the figures are about sizes and costs, not findings.

For each partial the script prints the CPU seconds (this process, rusage) to build it on
the whole month, to build it on ``--parts`` customer buckets and add them up, to compute
the table from the sum, its size in bytes (pickled) and the row-level function's CPU
seconds; for the service KPIs also the old row-level implementation
(``tests/reference/service_rows.py``).

Figures at 1,000,000 rows (535,734 distinct texts, 8 customer buckets; CPU seconds of this
process while other sessions shared the 2 cores, load average 12-19; bytes pickled):

==================  ==========  ===============  ==========  =========  ============  ==============
partial             build (1M)  8 parts + add    table       row-level  size (sum)    size (one part)
==================  ==========  ===============  ==========  =========  ============  ==============
service             3.53        2.98             0.67        8.11       33,309        33,309
volume (hashes)     0.94        1.68             0.00        0.23       3,457,791     433,021
volume (bucketed)   0.12        0.06             0.00        0.27       262           260
call list           0.56        0.64             0.00        0.52       9,200         9,370
recognition         3.04        3.48             0.01        3.13       23,156        22,767
quotes              3.62        4.02             0.52        6.30       14,358,390    9,286,377
fix first           1.91        1.05             0.03        1.30       4,861         4,867
uncovered sample    1.89        1.48             0.00        1.67       641,808       652,644
==================  ==========  ===============  ==========  =========  ============  ==============

Emerging themes: fit on the 5,000-comment sample 5.12 s, counts over the 8 parts (second round,
459,044 uncovered comments) 10.30 s, counts + sample 643,311 B. The old row-level
``service_kpis`` + ``compare_service`` (index bootstrap over rows): 171.83 s; the new row-level
pair 8.11 s (it builds the partial twice). Peak RSS of the run 1,972 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from feedbacklib import actions as A  # noqa: E402
from feedbacklib import emerging as E  # noqa: E402
from feedbacklib import quotes as Q  # noqa: E402
from feedbacklib import schema as S  # noqa: E402
from feedbacklib import service as sv  # noqa: E402
from feedbacklib.stats import breakdowns as B  # noqa: E402
from feedbacklib.themes.discovery import uncovered_texts  # noqa: E402

MONTH = "2026-10"


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def timed(fn, *args):
    c0, w0 = _cpu(), time.perf_counter()
    out = fn(*args)
    return out, round(_cpu() - c0, 2), round(time.perf_counter() - w0, 2)


def add_up(build, parts):
    return sum(build(p) for p in parts)


def count_parts(models, parts):
    return sum(E.emerging_counts(uncovered_texts(p), models) for p in parts)


def sample_month():
    from feedbacklib.pipeline import run_month

    os.environ.setdefault("FEEDBACK_PII_SALT", "bench-salt-not-secret")
    return run_month(MONTH, ROOT / "data" / "sample", ROOT / "feedback.toml")


def big_month(sample: pd.DataFrame, rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    out = sample.iloc[rng.integers(0, len(sample), rows)].reset_index(drop=True)
    out[S.RESPONSE_ID] = pd.array([f"b{i}" for i in range(rows)], dtype="string")
    out[S.RECEIVED_AT] = pd.Timestamp(f"{MONTH}-01", tz="UTC") + pd.to_timedelta(rng.uniform(0, 31, rows), unit="D")
    out[S.CUSTOMER_KEY] = pd.array([f"{k:016x}" for k in rng.integers(0, rows // 2, rows)], dtype="string")
    out[S.TEXT] = pd.array(join_comments(out[S.TEXT], seed=seed), dtype="string")
    return out


def join_comments(text: pd.Series, *, seed: int) -> list:
    """As ``bench_e2e.join_comments`` (each substantive comment followed by 0-2 other comments of the
    pool), on Python strings (numpy's fixed-width strings take gigabytes at a million rows)."""
    rng = np.random.default_rng(seed)
    values = text.astype(object).tolist()
    pool = sorted({t for t in values if isinstance(t, str) and len(t) > 12})
    extra = rng.choice([0, 1, 2], size=len(values), p=[0.15, 0.55, 0.30])
    a, b = rng.integers(0, len(pool), len(values)), rng.integers(0, len(pool), len(values))
    out = []
    for t, e, i, j in zip(values, extra, a, b):
        if isinstance(t, str) and len(t) > 12 and e:
            t = t + " " + pool[i] + (" " + pool[j] if e == 2 else "")
        out.append(t)
    return out


def buckets(frame: pd.DataFrame, parts: int) -> list[pd.DataFrame]:
    h = pd.util.hash_pandas_object(frame[S.CUSTOMER_KEY].astype(object), index=False).to_numpy()
    b = (h % np.uint64(parts)).astype(np.int64)
    return [frame[b == i] for i in range(parts)]


def bench_size(rows: int, args: argparse.Namespace, result) -> list[dict]:
    themes, cfg, contacts = list(result.taxonomy.ids), result.config, result.history.contacts
    report: list[dict] = []
    frame = big_month(result.frame, rows)
    parts = buckets(frame, args.parts)
    window = sum((sv.contact_window(p) for p in parts), sv.contact_window(frame.iloc[0:0], contacts))
    print(f"\n{rows:,} rows, {frame[S.TEXT].nunique():,} distinct texts, {args.parts} customer buckets; "
          f"load average {os.getloadavg()[0]:.1f}")
    builders = {
        "service": (lambda f: sv.service_partial(f, contacts, window=window,
                                                 sla_first_response_hours=cfg.sla_first_response_hours),
                    lambda p: (sv.service_kpis_from_partial(p, min_n=cfg.min_group_size),
                               sv.compare_service_from_partial(p, min_n=cfg.min_group_size)),
                    lambda: (sv.service_kpis(frame, contacts, min_n=cfg.min_group_size),
                             sv.compare_service(frame, contacts, min_n=cfg.min_group_size))),
        "volume": (lambda f: B.volume_partial(f), B.volume_from_partial, lambda: B.volume(frame)),
        "volume (bucketed)": (lambda f: B.volume_partial(f, bucketed=True), B.volume_from_partial,
                              lambda: B.volume(frame)),
        "call list": (lambda f: A.call_list_partial(f, cfg.call_list_size), A.select_call_list_from_partial,
                      lambda: A.select_call_list(frame, cfg.call_list_size)),
        "recognition": (lambda f: A.recognition_partial(f), A.select_recognition_from_partial,
                        lambda: A.select_recognition(frame)),
        "quotes": (lambda f: Q.quote_partial(f, themes, cfg.quotes_per_theme), Q.theme_quotes_from_partial,
                   lambda: Q.theme_quotes(frame, themes, cfg.quotes_per_theme)),
        "fix first": (lambda f: A.fix_first_partial(f, themes=themes),
                      lambda p: A.fix_first_from_partial(result.impact, p, result.theme_trend),
                      lambda: A.fix_first(result.impact, frame, result.theme_trend)),
        "uncovered sample": (lambda f: E.uncovered_partial(f), lambda p: p.texts,
                             lambda: E.uncovered_partial(frame).texts),
    }
    for name, (build, finish, rowlevel) in builders.items():
        if args.only and name not in args.only:
            continue
        whole, build_cpu, _ = timed(build, frame)
        summed, parts_cpu, _ = timed(add_up, build, parts)
        _, finish_cpu, _ = timed(finish, summed)
        _, row_cpu, _ = timed(rowlevel)
        size = len(pickle.dumps(summed, protocol=pickle.HIGHEST_PROTOCOL))
        part_size = max(len(pickle.dumps(build(p), protocol=pickle.HIGHEST_PROTOCOL)) for p in parts[:2])
        rec = {"rows": rows, "partial": name, "build_whole_cpu_s": build_cpu, "build_parts_and_add_cpu_s": parts_cpu,
               "table_from_partial_cpu_s": finish_cpu, "row_level_cpu_s": row_cpu, "bytes": size,
               "bytes_one_part": part_size}
        report.append(rec)
        print(f"[peak RSS so far {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB] ", end="")
        print(f"{name:18} build {build_cpu:6.2f} s | {args.parts} parts + add {parts_cpu:6.2f} s | "
              f"table {finish_cpu:6.2f} s | row-level {row_cpu:6.2f} s | {size:>11,} B (one part {part_size:,} B)")
    if args.only and "emerging" not in args.only:
        return report
    # emerging themes: sample, fit, second round over the parts
    sample = sum(E.uncovered_partial(p) for p in parts)
    models, fit_cpu, _ = timed(E.fit_emerging, sample.texts, sample.total)
    counts, count_cpu, _ = timed(count_parts, models, parts)
    size = len(pickle.dumps(counts)) + len(pickle.dumps(sample))
    print(f"{'emerging':18} fit {fit_cpu:6.2f} s | counts over {args.parts} parts {count_cpu:6.2f} s | "
          f"counts + sample {size:,} B; {sample.total:,} uncovered comments")
    report.append({"rows": rows, "partial": "emerging", "fit_cpu_s": fit_cpu, "count_cpu_s": count_cpu,
                   "bytes": size})
    if not args.skip_old:
        from tests.reference import service_rows as old

        _, old_cpu, _ = timed(lambda: (old.service_kpis(frame, contacts, min_n=cfg.min_group_size),
                                       old.compare_service(frame, contacts, min_n=cfg.min_group_size)))
        print(f"{'service (old rows)':18} row-level {old_cpu:6.2f} s")
        report.append({"rows": rows, "partial": "service (old row-level)", "row_level_cpu_s": old_cpu})
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--parts", type=int, default=8)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--skip-old", action="store_true", help="do not time the old row-level service functions")
    parser.add_argument("--only", nargs="+", help="time only these partials (e.g. recognition)")
    args = parser.parse_args(argv)
    result = sample_month()
    report: list[dict] = []
    for rows in args.rows:
        report += bench_size(rows, args, result)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
