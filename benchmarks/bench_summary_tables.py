"""Issue 19 item 1, headline family: the KPI tables, comparisons and breakdowns from a summary.

    python -m benchmarks.bench_summary_tables --rows 200000 1000000 [--tagged PATH.parquet] [--json OUT]

For each size, a tagged, scored month (``--tagged``: a parquet of ``MonthResult.frame``, e.g.
``benchmarks/data/tagged-<N>.parquet`` written by :mod:`benchmarks.bench_summaries`, or the
``month-<N>.pkl`` cache of :mod:`benchmarks.bench_month_tables`, resampled to the size; else a synthetic month: 4 vendors, 24 teams, 6 channels, 30 contact-reason
spellings, 11 independent themes) is timed in this process, CPU seconds (best of
``--repeat``):

- ``month_parts`` (what each partition computes), the summary's size (cells, score and
  value rows, pickled bytes) and adding three partitions' parts;
- each table three ways: the row-level implementation of before (``tests/reference``),
  today's row-level function (which summarises the rows itself) and the table from the
  month's summary; with the largest relative difference of the float columns against before
  (counts, texts and flags must be equal, else ``MISMATCH``).
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from feedbacklib import schema as S  # noqa: E402
from feedbacklib.history import theme_counts_from_summary, theme_counts_of  # noqa: E402
from feedbacklib.parts import month_parts  # noqa: E402
from feedbacklib.stats import breakdowns as B  # noqa: E402
from feedbacklib.stats import tables as T  # noqa: E402
from tests.reference import breakdowns_rows as old_b  # noqa: E402
from tests.reference import history_rows as old_h  # noqa: E402
from tests.reference import tables_rows as old_t  # noqa: E402

MONTH = "2026-10"
THEMES = ("responsiveness", "surprise_charges", "listening", "not_fixed", "courtesy", "knowledge",
          "honest_guidance", "protection", "follow_up", "churn_risk", "praise")


def synthetic(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    model = rng.choice([S.IN_HOUSE, S.OUTSOURCED, S.UNKNOWN], rows, p=[0.45, 0.5, 0.05])
    vendor = np.where(model == S.OUTSOURCED, rng.choice(["Acme", "Globex", "Initech", "Umbrella"], rows), None)
    has_text = rng.random(rows) < 0.7
    csat = rng.choice(np.arange(1, 6), rows, p=[0.1, 0.1, 0.2, 0.3, 0.3]).astype(float)
    csat[rng.random(rows) < 0.15] = np.nan
    nps = rng.integers(0, 11, rows).astype(float)
    nps[rng.random(rows) < 0.4] = np.nan
    label = np.where(has_text, rng.choice(["negative", "neutral", "positive"], rows, p=[0.3, 0.2, 0.5]), None)
    frame = pd.DataFrame({
        S.MONTH: pd.array([MONTH] * rows, dtype="string"),
        S.SOURCE: pd.Categorical(rng.choice(["survey", "complaint", "ticket"], rows), categories=S.SOURCES),
        S.TEAM: pd.array(rng.choice([f"Team {i:02d}" for i in range(24)], rows), dtype="string"),
        S.SERVICE_MODEL: pd.Categorical(model, categories=S.SERVICE_MODELS),
        S.VENDOR: pd.array(vendor, dtype="string"),
        S.CHANNEL: pd.Categorical(rng.choice(["phone", "email", "chat", "web", "social", "in_person"], rows),
                                  categories=S.CHANNELS),
        S.CSAT: pd.array(csat, dtype="Float64").astype("Int8"),
        S.NPS: pd.array(nps, dtype="Float64").astype("Int8"),
        S.TEXT: pd.array(np.where(has_text, "a comment", None), dtype="string"),
        S.FIRST_RESPONSE_HOURS: pd.array(rng.exponential(12, rows), dtype="Float64"),
        S.RESOLVED_REPORTED: pd.array(rng.random(rows) < 0.7, dtype="boolean"),
        S.REOPENED: pd.array(rng.random(rows) < 0.08, dtype="boolean"),
        S.CATEGORY: pd.array(rng.choice([f"Reason {i}" for i in range(30)], rows), dtype="string"),
        S.SENTIMENT_LABEL: pd.array(label, dtype="str"),
    })
    for i, t in enumerate(THEMES):
        frame[S.theme_column(t)] = has_text & (rng.random(rows) < 0.03 + 0.015 * i)
    return frame


def month_frame(rows: int, tagged: Path | None) -> pd.DataFrame:
    if tagged is None:
        return synthetic(rows)
    frame = pickle.loads(tagged.read_bytes())["frame"] if tagged.suffix == ".pkl" else pd.read_parquet(tagged)
    if rows != len(frame):
        frame = frame.sample(n=rows, replace=rows > len(frame), random_state=0).reset_index(drop=True)
    return frame.assign(**{S.MONTH: MONTH})


def cpu_best(fn, repeat: int):
    best = float("inf")
    out = None
    for _ in range(repeat):
        c0 = time.process_time()
        out = fn()
        best = min(best, time.process_time() - c0)
    return out, best


def rel_diff(new, old) -> float | str:
    if not isinstance(old, pd.DataFrame):
        return 0.0 if new == old else "MISMATCH"
    if list(new.columns) != list(old.columns) or len(new) != len(old):
        return "MISMATCH (shape)"
    worst = 0.0
    for col in old.columns:
        a, b = new[col], old[col]
        if pd.api.types.is_float_dtype(a) or pd.api.types.is_float_dtype(b):
            x, y = a.to_numpy(dtype=float, na_value=np.nan), b.to_numpy(dtype=float, na_value=np.nan)
            if not np.array_equal(np.isnan(x), np.isnan(y)):
                return f"MISMATCH (NaN in {col})"
            ok = ~np.isnan(x)
            if ok.any():
                worst = max(worst, float(np.max(np.abs(x[ok] - y[ok]) / np.maximum(np.abs(y[ok]), 1e-300))))
        elif a.astype(object).tolist() != b.astype(object).tolist():
            return f"MISMATCH ({col})"
    return worst


def cases(frame: pd.DataFrame, themes: list[str]):
    kw = dict(themes=themes)
    month = frame.assign(**{S.MONTH: MONTH})
    for by in (S.SERVICE_MODEL, S.VENDOR, S.TEAM):
        yield (f"kpi_table by {by}", lambda by=by: old_t.kpi_table(frame, by, **kw),
               lambda by=by: T.kpi_table(frame, by, **kw), lambda s, by=by: T.kpi_table_from_summary(s, by, **kw))
    yield ("compare_groups", lambda: old_t.compare_groups(frame, **kw), lambda: T.compare_groups(frame, **kw),
           lambda s: T.compare_groups_from_summary(s, **kw))
    yield ("compare_vendors", lambda: old_t.compare_vendors(frame, **kw), lambda: T.compare_vendors(frame, **kw),
           lambda s: T.compare_vendors_from_summary(s, **kw))
    yield ("perception_gap", lambda: old_t.perception_gap(frame), lambda: T.perception_gap(frame),
           T.perception_gap_from_summary)
    for name in ("channel_satisfaction", "team_praise", "pooled_team_rates", "sentiment_shares"):
        yield (name, lambda name=name: getattr(old_b, name)(frame), lambda name=name: getattr(B, name)(frame),
               getattr(B, f"{name}_from_summary"))
    yield ("source_counts", lambda: old_b.source_counts(frame), lambda: B.source_counts(frame),
           B.source_counts_from_summary)
    yield ("team_service_models", lambda: old_b.team_service_models(frame), lambda: B.team_service_models(frame),
           B.team_service_models_from_summary)
    yield ("theme_counts_of", lambda: old_h.theme_counts_of(month, themes, by=S.SERVICE_MODEL),
           lambda: theme_counts_of(month, themes, by=S.SERVICE_MODEL),
           lambda s: theme_counts_from_summary(s, themes, by=S.SERVICE_MODEL, month=MONTH))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, nargs="+", default=[200_000, 1_000_000])
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--tagged", type=Path, help="a tagged month to resample (default: synthetic): a parquet of "
                    "MonthResult.frame, or the month-<N>.pkl cache of benchmarks.bench_month_tables")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    report: dict = {"load_avg": os.getloadavg(), "tagged": str(args.tagged or "synthetic"), "sizes": {}}
    for rows in args.rows:
        frame = month_frame(rows, args.tagged)
        themes = [c.removeprefix("theme_") for c in frame.columns
                  if c.startswith("theme_") and c != S.THEME_EVIDENCE]
        parts, cpu_parts = cpu_best(partial(month_parts, frame, MONTH, themes, None), args.repeat)  # type: ignore[arg-type]
        s = parts.summary
        thirds = np.array_split(np.arange(len(frame)), 3)
        pieces = [month_parts(frame.iloc[i], MONTH, themes, None) for i in thirds]  # type: ignore[arg-type]
        _, cpu_add = cpu_best(partial(sum, pieces), args.repeat)
        size = {"rows": len(frame), "cells": len(s.cells), "score_rows": {k: len(t) for k, t in s.scores.items()},
                "value_rows": {k: len(t) for k, t in s.values.items()}, "pickled_bytes": len(pickle.dumps(parts)),
                "month_parts_cpu_s": cpu_parts, "add_three_parts_cpu_s": cpu_add, "tables": {}}
        print(f"\n{len(frame):,} rows, {len(themes)} themes ({report['tagged']}; load {os.getloadavg()[0]:.1f})")
        print(f"month_parts {cpu_parts:.2f} CPU s; {size['cells']:,} cells, score rows {size['score_rows']}, "
              f"value rows {size['value_rows']}, pickled {size['pickled_bytes'] / 1e6:.1f} MB; "
              f"adding 3 parts {cpu_add:.2f} CPU s")
        print(f"{'table':32s} {'before':>8s} {'row-level':>10s} {'from summary':>13s}  max rel diff")
        total = [0.0, 0.0, 0.0]
        for name, old, new_rows, from_summary in cases(frame, themes):
            before, cpu_b = cpu_best(old, args.repeat)
            now, cpu_r = cpu_best(new_rows, args.repeat)
            summ, cpu_s = cpu_best(partial(from_summary, s), args.repeat)
            diff = rel_diff(summ, before)
            same = rel_diff(now, summ)
            shown = diff if isinstance(diff, str) else f"{diff:.1e}"
            if same != 0.0:
                shown += f" (row-level vs summary: {same})"
            print(f"{name:32s} {cpu_b:8.3f} {cpu_r:10.3f} {cpu_s:13.3f}  {shown}")
            size["tables"][name] = {"before_cpu_s": cpu_b, "row_level_cpu_s": cpu_r, "from_summary_cpu_s": cpu_s,
                                    "max_rel_diff": diff}
            total = [total[0] + cpu_b, total[1] + cpu_r, total[2] + cpu_s]
        print(f"{'all of the above':32s} {total[0]:8.3f} {total[1]:10.3f} {total[2]:13.3f}  "
              f"(+ month_parts {cpu_parts:.2f} once)")
        size["total_cpu_s"] = {"before": total[0], "row_level": total[1], "from_summary": total[2]}
        report["sizes"][rows] = size
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
