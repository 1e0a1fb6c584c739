"""Speed of theme tagging + sentiment, against HashingVectorizer on the same texts.

    python benchmarks/bench_themes.py --rows 1000000 [--base 100000] [--json OUT]

``--base`` comments are generated with ``feedbacklib.sample.generate_comments`` (the
generator itself repeats texts, as real survey exports do: "Great service", "n/a") and
tiled to ``--rows``. Two figures are reported, both as rows/s and as a ratio to
``HashingVectorizer(n_features=2**20).transform`` timed on the same texts in the same run
(ratio > 1 = faster than hashing):

* ``tiled``: all ``--rows`` rows. Tagging and sentiment work once per distinct text, so
  repeated texts flatter them here;
* ``unique``: the distinct texts only, every one of them new to the tagger and VADER.

``--texts distinct`` first makes each generated comment 1-3 comments joined, so most of the
``--base`` texts differ (the generator alone repeats a pool of 4,000; bench_e2e's default).

Sentiment is ``score_sentiment`` with its default scorer, :mod:`feedbacklib.vader_fast`
(nltk's VADER re-implemented: the same compound scores, ~15x faster; each distinct text
scored once, two forked workers above ``PARALLEL_MIN_TEXTS`` distinct texts).
``--sentiment-method nltk`` times nltk's analyzer instead. Its agreement with nltk and
texts/s of both are measured by ``benchmarks/bench_sentiment.py``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sklearn.feature_extraction.text import HashingVectorizer  # noqa: E402

from feedbacklib.sample import generate_comments  # noqa: E402
from feedbacklib.sentiment import SENTIMENT_METHODS, score_sentiment  # noqa: E402
from feedbacklib.themes import ThemeTagger  # noqa: E402


def _time(fn, *args):
    t0 = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - t0


def measure(texts: pd.Series, tagger: ThemeTagger, sentiment_method: str = "fast") -> dict:
    hv = HashingVectorizer(n_features=2**20)
    _, t_hash = _time(hv.transform, texts.tolist())
    _, t_tag = _time(tagger.transform, texts)
    _, t_sent = _time(lambda t: score_sentiment(t, method=sentiment_method), texts)
    n = len(texts)
    both = t_tag + t_sent
    return {
        "rows": n,
        "distinct": int(texts.nunique()),
        "seconds": {"hashing": round(t_hash, 2), "tagging": round(t_tag, 2), "sentiment": round(t_sent, 2),
                    "tagging+sentiment": round(both, 2)},
        "rows_per_s": {"hashing": round(n / t_hash), "tagging": round(n / t_tag), "sentiment": round(n / t_sent),
                       "tagging+sentiment": round(n / both)},
        "ratio_to_hashing": {"tagging": round(t_hash / t_tag, 3), "sentiment": round(t_hash / t_sent, 3),
                             "tagging+sentiment": round(t_hash / both, 3)},
    }


def _join_comments(texts: pd.Series, *, seed: int) -> pd.Series:
    """Each substantive comment followed by 0-2 other generated comments (bench_e2e's recipe)."""
    from benchmarks.bench_e2e import join_comments

    return pd.Series(join_comments(texts.to_numpy(dtype=object), seed=seed), index=texts.index, dtype=object)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--base", type=int, default=100_000, help="comments generated, then tiled to --rows")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--texts", choices=("pool", "distinct"), default="pool",
                    help="distinct: each comment becomes 1-3 generated comments joined, as bench_e2e does "
                         "(most texts distinct, as in real exports); pool: the generator's texts")
    ap.add_argument("--sentiment-method", choices=SENTIMENT_METHODS, default="fast")
    ap.add_argument("--json", dest="json_out", default=None)
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    base = generate_comments(min(args.base, args.rows), seed=args.seed, month="2026-07")["text"]
    if args.texts == "distinct":
        base = _join_comments(base, seed=args.seed)
    t_gen = time.perf_counter() - t0
    reps = -(-args.rows // len(base))
    tiled = pd.Series(np.tile(base.to_numpy(dtype=object), reps)[: args.rows], dtype=object)
    unique = pd.Series(pd.unique(base.to_numpy(dtype=object)), dtype=object)

    t0 = time.perf_counter()
    tagger = ThemeTagger(random_state=0).fit(base)
    t_fit = time.perf_counter() - t0
    results = {
        "generate_seconds": round(t_gen, 2),
        "fit_seconds": round(t_fit, 2),
        "fit_rows": len(base),
        "sentiment_method": args.sentiment_method,
        "tiled": measure(tiled, tagger, args.sentiment_method),
        "unique": measure(unique, tagger, args.sentiment_method),
    }
    for name in ("tiled", "unique"):
        r = results[name]
        print(f"{name}: {r['rows']:,} rows ({r['distinct']:,} distinct)")
        for step in ("hashing", "tagging", "sentiment", "tagging+sentiment"):
            ratio = "" if step == "hashing" else f"  ratio to hashing {r['ratio_to_hashing'][step]:.3f}"
            print(f"  {step:<18}{r['seconds'][step]:>8.2f} s {r['rows_per_s'][step]:>10,} rows/s{ratio}")
    print(f"(tagger fitted on {len(base):,} rows in {t_fit:.1f} s; comments generated in {t_gen:.1f} s; "
          f"sentiment method {args.sentiment_method!r})")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
