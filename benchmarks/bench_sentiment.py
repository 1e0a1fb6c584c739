"""Speed and faithfulness of the fast VADER scorer against nltk's own analyzer.

    python benchmarks/bench_sentiment.py --rows 100000 [--nltk-texts 20000] [--texts distinct|pool] [--json OUT]

Rows are made as ``benchmarks/bench_e2e.py --texts distinct`` makes them: comments from
``feedbacklib.sample.generate_comments`` (a pool), each substantive comment joined with 0-2
more pool comments, so most rows are distinct (mean ~130 characters). Reported:

* ``fast``: :func:`feedbacklib.vader_fast.compound_many` over the distinct texts on one core,
  with an empty token cache (``cold``) and again (``warm``), in texts/s;
* ``nltk``: ``SentimentIntensityAnalyzer.polarity_scores`` on one core over the first
  ``--nltk-texts`` distinct texts (nltk is ~15x slower), in texts/s, and the speed-up;
* ``score_sentiment``: the public function over all ``--rows`` rows (each distinct text
  scored once; a fork Pool(2) above ``PARALLEL_MIN_TEXTS`` distinct texts), serial and pooled;
* agreement with nltk (same label at +/-0.05, same sign, share within 1e-6, largest
  difference) on those generated texts, on the comments of ``data/sample`` and on the CFPB
  narratives of ``/work/shared/real/cfpb`` (or ``--real``) when present.

Timings are wall-clock on a shared machine: compare the ratios within one run.
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

import feedbacklib.sentiment as sentiment  # noqa: E402
from feedbacklib import vader_fast  # noqa: E402
from feedbacklib.sample import generate_comments  # noqa: E402

REAL_CFPB = Path("/work/shared/real/cfpb")


def make_rows(rows: int, *, texts: str = "distinct", base: int = 20_000, seed: int = 7) -> pd.Series:
    """``rows`` comments: the generator's pool, or pool comments joined as bench_e2e does."""
    pool_texts = generate_comments(min(base, rows), seed=seed, month="2026-10")["text"].to_numpy(dtype=object)
    rng = np.random.default_rng(seed)
    text = pool_texts[rng.integers(0, len(pool_texts), rows)]
    if texts == "distinct":
        substantive = np.array([len(t) > 12 for t in text])
        pool = np.unique(text[substantive])
        extra = rng.choice([0, 1, 2], size=rows, p=[0.15, 0.55, 0.30])
        a, b = rng.integers(0, len(pool), rows), rng.integers(0, len(pool), rows)
        one = substantive & (extra >= 1)
        text = text.copy()
        text[one] = text[one] + " " + pool[a[one]]
        two = substantive & (extra == 2)
        text[two] = text[two] + " " + pool[b[two]]
    return pd.Series(text, dtype=object)


def agreement(reference, fast) -> dict:
    """Label / sign agreement and closeness of two arrays of compound scores."""
    ref, got = np.asarray(reference, dtype=float), np.asarray(fast, dtype=float)

    def label(v):
        return np.where(v > sentiment.POSITIVE_AT, 1, np.where(v < sentiment.NEGATIVE_AT, -1, 0))

    diff = np.abs(ref - got)
    return {
        "texts": len(ref),
        "same_label_pct": round(100 * float(np.mean(label(ref) == label(got))), 3) if len(ref) else None,
        "same_sign_pct": round(100 * float(np.mean(np.sign(ref) == np.sign(got))), 3) if len(ref) else None,
        "within_1e-6_pct": round(100 * float(np.mean(diff <= 1e-6)), 3) if len(ref) else None,
        "max_abs_diff": float(diff.max()) if len(ref) else None,
    }


#: The free-text column of each platform's raw export (read as the export has it, before cleaning).
RAW_TEXT_COLUMNS = {"qualtrics": "Q3", "zendesk": "description", "complaints": "Description",
                    "cfpb": "Consumer complaint narrative"}


def real_texts(folder: Path | None = None) -> dict[str, list[str]]:
    """Distinct non-blank comments of ``data/sample`` and CFPB narratives, as the readers return them."""
    from feedbacklib.config import default_config
    from feedbacklib.io import read_export, read_exports

    cfg = default_config()

    def texts_of(exports) -> list[str]:
        cols = [e.raw[RAW_TEXT_COLUMNS[e.platform]] for e in exports if RAW_TEXT_COLUMNS.get(e.platform) in e.raw]
        col = pd.concat(cols, ignore_index=True).dropna().astype(str)
        return [t for t in pd.unique(col) if t.strip() and t not in ("None", "N/A")]

    out = {"sample": texts_of(read_exports(ROOT / "data" / "sample", cfg))}
    folder = folder or REAL_CFPB
    files = sorted(folder.glob("*.csv")) if folder.is_dir() else []
    if files:
        out["cfpb"] = texts_of([read_export(p, config=cfg) for p in files])
    return out


def _timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--texts", choices=("distinct", "pool"), default="distinct")
    ap.add_argument("--nltk-texts", type=int, default=20_000, help="distinct texts nltk scores (it is slow)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--real", type=Path, default=None, help=f"CFPB folder (default {REAL_CFPB})")
    ap.add_argument("--no-real", dest="with_real", action="store_false", help="skip data/sample and CFPB")
    ap.add_argument("--json", dest="json_out", default=None)
    args = ap.parse_args(argv)

    rows, t_gen = _timed(make_rows, args.rows, texts=args.texts, seed=args.seed)
    uniq = list(pd.unique(rows[rows.map(lambda v: bool(v.strip()))]))
    sentiment.vader_analyzer()
    vader_fast.load_lexicon()

    vader_fast._cache.clear()
    fast, t_cold = _timed(vader_fast.compound_many, uniq)
    _, t_warm = _timed(vader_fast.compound_many, uniq)
    sub = uniq[: args.nltk_texts]
    ref, t_nltk = _timed(sentiment.nltk_compound, sub)
    vader_fast._cache.clear()
    _, t_cold_sub = _timed(vader_fast.compound_many, sub)

    vader_fast._cache.clear()
    threshold = sentiment.PARALLEL_MIN_TEXTS
    sentiment.PARALLEL_MIN_TEXTS = len(rows) + 1
    serial, t_serial = _timed(sentiment.score_sentiment, rows)
    sentiment.PARALLEL_MIN_TEXTS = 0
    vader_fast._cache.clear()
    pooled, t_pooled = _timed(sentiment.score_sentiment, rows)
    sentiment.PARALLEL_MIN_TEXTS = threshold
    assert serial.equals(pooled)

    n, nu, ns = len(rows), len(uniq), len(sub)
    res = {
        "rows": n,
        "distinct_texts": nu,
        "mean_chars": round(float(np.mean([len(t) for t in uniq])), 1),
        "generate_s": round(t_gen, 2),
        "texts_per_s": {
            "fast_cold": round(nu / t_cold), "fast_warm": round(nu / t_warm),
            "fast_cold_on_nltk_subset": round(ns / t_cold_sub), "nltk": round(ns / t_nltk),
        },
        "speedup_vs_nltk": round(t_nltk / t_cold_sub, 1),
        "score_sentiment_s": {"serial": round(t_serial, 2), "pool2": round(t_pooled, 2)},
        "score_sentiment_rows_per_s": {"serial": round(n / t_serial), "pool2": round(n / t_pooled)},
        "parallel_min_texts": threshold,
        "agreement": {"generated": agreement(ref, fast[:ns])},
    }
    if args.with_real:
        for name, texts in real_texts(args.real).items():
            ref_r, t_r = _timed(sentiment.nltk_compound, texts)
            vader_fast._cache.clear()
            got_r, t_f = _timed(vader_fast.compound_many, texts)
            res["agreement"][name] = agreement(ref_r, got_r)
            res["agreement"][name]["texts_per_s"] = {"fast_cold": round(len(texts) / t_f),
                                                     "nltk": round(len(texts) / t_r)}
            res["agreement"][name]["mean_chars"] = round(float(np.mean([len(t) for t in texts])), 1)

    tp = res["texts_per_s"]
    print(f"{n:,} rows ({args.texts}), {nu:,} distinct texts, mean {res['mean_chars']} chars "
          f"(generated in {t_gen:.1f} s)")
    print(f"  fast scorer, 1 core : {tp['fast_cold']:>9,} texts/s cold cache, {tp['fast_warm']:,} warm")
    print(f"  nltk VADER, 1 core  : {tp['nltk']:>9,} texts/s on {ns:,} texts "
          f"(fast on the same, cold: {tp['fast_cold_on_nltk_subset']:,}/s, x{res['speedup_vs_nltk']})")
    print(f"  score_sentiment({n:,} rows): serial {t_serial:.2f} s ({n / t_serial:,.0f} rows/s), "
          f"Pool(2) {t_pooled:.2f} s ({n / t_pooled:,.0f} rows/s); pool used above {threshold:,} distinct")
    for name, a in res["agreement"].items():
        speed = ""
        if "texts_per_s" in a:
            speed = f"  [fast {a['texts_per_s']['fast_cold']:,}/s vs nltk {a['texts_per_s']['nltk']:,}/s]"
        print(f"  agreement {name:<10}: {a['texts']:>6,} texts  same label {a['same_label_pct']}%  "
              f"same sign {a['same_sign_pct']}%  within 1e-6 {a['within_1e-6_pct']}%  "
              f"max |diff| {a['max_abs_diff']:.2g}{speed}")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(res, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
