"""Pipeline benchmark: rows/s per stage against the measured floor.

    python -m benchmarks --rows 100000 [1000000 ...] [--json benchmarks/results/latest.json]

For each size, a Qualtrics-layout CSV is generated with the sample generator
(realistic comments), then timed stage by stage in this process: read, clean,
tag (fit on up to 50k comments, transform all), sentiment, compare. The floor is
``pyarrow.csv.read_csv`` of the same file plus ``HashingVectorizer.transform`` of
its comments, measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _floor(path: Path) -> float:
    import pyarrow.csv as pacsv
    from sklearn.feature_extraction.text import HashingVectorizer

    t0 = time.perf_counter()
    table = pacsv.read_csv(path, parse_options=pacsv.ParseOptions(newlines_in_values=True),
                           read_options=pacsv.ReadOptions(skip_rows_after_names=2))
    texts = table.column("Q3").to_pylist()
    HashingVectorizer(n_features=2**20).transform([t or "" for t in texts])
    return time.perf_counter() - t0


def bench(rows: int, workdir: Path) -> dict:
    from feedbacklib import schema as S
    from feedbacklib.clean import clean_responses
    from feedbacklib.compare import compare_groups, kpi_table
    from feedbacklib.config import load_config
    from feedbacklib.io import read_export
    from feedbacklib.sample import write_qualtrics_csv
    from feedbacklib.sentiment import score_sentiment
    from feedbacklib.themes import ThemeTagger, load_taxonomy

    root = Path(__file__).resolve().parents[1]
    cfg = load_config(root / "feedback.toml")
    os.environ.setdefault(cfg.pii_salt_env, "benchmark-salt")
    path = workdir / f"qualtrics_{rows}.csv"
    if not path.exists():
        print(f"generating {rows:,} rows ...", file=sys.stderr)
        write_qualtrics_csv(path, rows, seed=7, month="2026-10")
    stages: dict[str, float] = {}

    t0 = time.perf_counter()
    export = read_export(path, config=cfg)
    stages["read"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    cleaned = clean_responses([export], cfg)
    stages["clean"] = time.perf_counter() - t0
    frame = cleaned.frame

    t0 = time.perf_counter()
    taxonomy = load_taxonomy()
    tagger = ThemeTagger(taxonomy, random_state=0)
    fit_texts = frame[S.TEXT].sample(min(len(frame), 50_000), random_state=0)
    tagger.fit(fit_texts)
    tags = tagger.transform(frame[S.TEXT])
    frame = frame.assign(**{S.theme_column(t): tags[t].to_numpy(dtype=bool) for t in tags.columns})
    stages["tag"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    scores = score_sentiment(frame[S.TEXT])
    frame = frame.assign(**{S.SENTIMENT: scores[S.SENTIMENT].to_numpy(),
                            S.SENTIMENT_LABEL: scores[S.SENTIMENT_LABEL].to_numpy()})
    stages["sentiment"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    kpi_table(frame, themes=list(taxonomy.ids))
    compare_groups(frame, themes=list(taxonomy.ids))
    stages["compare"] = time.perf_counter() - t0

    floor = _floor(path)
    analysis = sum(stages[s] for s in ("read", "clean", "tag", "sentiment"))
    return {
        "rows": rows,
        "rows_kept": int(len(frame)),
        "stages_s": {k: round(v, 3) for k, v in stages.items()},
        "rows_per_s": {k: round(rows / v) for k, v in stages.items() if v > 0},
        "floor_s": round(floor, 3),
        "analysis_s": round(analysis, 3),
        "ratio_to_floor": round(analysis / floor, 2),
        "peak_rss_mb": round(_peak_rss_mb(), 1),
        "end_to_end_s": None,  # the whole `feedback-report run` is measured in issue 7's benchmark
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000], help="sizes to run (default 100000)")
    parser.add_argument("--json", type=Path, default=Path("benchmarks/results/latest.json"), help="write results here")
    parser.add_argument("--workdir", type=Path, default=Path("benchmarks/data"), help="where generated inputs are cached")
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    runs = []
    for rows in args.rows:
        # each size in a fresh process would isolate peak memory; here sizes run in order, smallest first
        runs.append(bench(rows, args.workdir))
        r = runs[-1]
        print(f"\n{r['rows']:>10,} rows   floor {r['floor_s']:.2f} s   analysis {r['analysis_s']:.2f} s   "
              f"ratio {r['ratio_to_floor']:.1f}x   peak RSS {r['peak_rss_mb']:.0f} MB")
        for stage, secs in r["stages_s"].items():
            print(f"    {stage:<10} {secs:8.2f} s   {r['rows_per_s'][stage]:>10,} rows/s")
    doc = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
           "runs": runs}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"\nwritten {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
