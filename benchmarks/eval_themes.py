"""Evaluate theme tagging and discovery on real CFPB complaint narratives.

    python benchmarks/eval_themes.py --data ../shared/real/cfpb/*.csv [--json OUT]

Tagging: each narrative's CFPB ``Issue`` / ``Sub-issue`` is mapped to themes with
``shared/labels/cfpb_issue_theme_map.csv`` (``primary`` = the label states the theme,
``secondary`` = related). Per theme: recall on primary-labelled narratives, precision
against primary + secondary labels, F1, n (primary-labelled narratives).

Never tuned on what is reported: the narratives are split 50/50 by a fixed seed
(``SPLIT_SEED``) on their Complaint ID. The taxonomy's seeds were revised by reading the
errors of the TUNE half only; the figures reported (and written to JSON) are those of the
REPORT half. The tagger's own thresholds are chosen inside ``ThemeTagger.fit`` from seed
matches, without any CFPB label.

Discovery: ``ThemeDiscovery`` with k = the number of ``Issue`` values that have at least 20
narratives, over ALL evaluated narratives (discovery uses no label, so nothing is tuned on
them here), against scikit-learn's LDA (on counts) and NMF (on TF-IDF) with the same k, all
timed in this run; NMI and ARI against ``Issue``; stability = ARI between two runs with
different seeds (``svd_seed_ari``: also a different ``svd_random_state``). The NMI of the same
clustering restricted to each half is printed too: discovery's settings were compared on the
TUNE half's NMI only (n_components 100/150/200/300: 0.303/0.309/0.311/0.309, min_df 2/3/5:
0.298/0.309/0.297, max_df 0.3/0.5: 0.300/0.309; the defaults 150, 3, 0.5 kept).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import multiprocessing
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sklearn.decomposition import NMF, LatentDirichletAllocation  # noqa: E402
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer  # noqa: E402
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score  # noqa: E402

from feedbacklib.text import STOP_WORDS  # noqa: E402
from feedbacklib.themes import ThemeTagger, load_taxonomy  # noqa: E402
from feedbacklib.themes.discovery import ThemeDiscovery, clean_for_discovery  # noqa: E402

DEFAULT_LABELS = ROOT.parent / "shared" / "labels" / "cfpb_issue_theme_map.csv"
#: label-file theme -> taxonomy theme id
THEME_OF_LABEL = {
    "fees_surprise_charges": "surprise_charges",
    "slow_or_no_response": "responsiveness",
    "not_resolved_poor_service": "not_fixed",
    "misled_dishonesty": "honest_guidance",
    "cancellation_churn": "churn_risk",
    "rudeness": "courtesy",
}
SPLIT_SEED = 20261123
NARRATIVE, ISSUE, SUBISSUE, CID = "Consumer complaint narrative", "Issue", "Sub-issue", "Complaint ID"
_MISSING = {"", "None", "N/A", "nan"}


# -- reading ----------------------------------------------------------------------------------
def read_cfpb(path: str | Path) -> pd.DataFrame:
    """Rows of one CFPB export, robust to the real quirks.

    Skips preamble lines before the ``Date received`` header (unzip output), keeps line
    breaks inside quoted narratives (CRLF records with bare LF inside), drops a truncated
    last record (wrong field count), and turns ``None`` / ``N/A`` placeholders into "".
    """
    raw = Path(path).read_bytes().decode("utf-8", errors="replace")
    start = raw.find("Date received,")
    if start < 0:
        raise ValueError(f"{path}: no CFPB header ('Date received,...') found")
    rows = list(csv.reader(io.StringIO(raw[start:], newline="")))
    header = rows[0]
    good = [r for r in rows[1:] if len(r) == len(header)]
    frame = pd.DataFrame(good, columns=header, dtype=object)
    return frame.apply(lambda col: col.map(lambda v: "" if v.strip() in _MISSING else v))


def load_narratives(paths: list[str]) -> pd.DataFrame:
    frame = pd.concat([read_cfpb(p) for p in paths], ignore_index=True)
    frame = frame[frame[NARRATIVE].str.strip().ne("")]
    return frame.drop_duplicates(CID).reset_index(drop=True)


def label_matrix(frame: pd.DataFrame, labels_csv: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(primary, primary-or-secondary) boolean frames, one column per taxonomy theme id."""
    rules = pd.read_csv(labels_csv, dtype=str, keep_default_na=False)
    ids = list(THEME_OF_LABEL.values())
    primary = pd.DataFrame(False, index=frame.index, columns=ids)
    anylab = primary.copy()
    for rule in rules.itertuples(index=False):
        tid = THEME_OF_LABEL[rule.theme]
        hit = np.ones(len(frame), dtype=bool)
        if rule.Issue != "*":
            hit &= frame[ISSUE].eq(rule.Issue).to_numpy()
        if getattr(rule, "_3") != "*":
            hit &= frame[SUBISSUE].eq(getattr(rule, "_3")).to_numpy()
        anylab.loc[hit, tid] = True
        if rule.level == "primary":
            primary.loc[hit, tid] = True
    return primary, anylab


def split_halves(frame: pd.DataFrame) -> np.ndarray:
    """True = REPORT half, False = TUNE half (fixed seed, on the sorted Complaint IDs)."""
    ids = np.sort(frame[CID].astype(np.int64).unique())
    rng = np.random.RandomState(SPLIT_SEED)
    report = set(ids[rng.permutation(len(ids))[: len(ids) // 2]].tolist())
    return frame[CID].astype(np.int64).isin(report).to_numpy()


def theme_scores(pred: pd.DataFrame, primary: pd.DataFrame, anylab: pd.DataFrame) -> dict:
    out = {}
    for tid in primary.columns:
        p, y1, y2 = pred[tid].to_numpy(), primary[tid].to_numpy(), anylab[tid].to_numpy()
        n = int(y1.sum())
        recall = float((p & y1).sum() / n) if n else float("nan")
        precision = float((p & y2).sum() / p.sum()) if p.sum() else float("nan")
        f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
        out[tid] = {"recall": round(recall, 4), "precision": round(precision, 4), "f1": round(f1, 4),
                    "n": n, "tagged": int(p.sum())}
    return out


# -- discovery baselines ------------------------------------------------------------------------
def _baseline_docs(texts):
    return [clean_for_discovery(t) for t in texts]


def run_nmf(texts, k, seed=0):
    vec = TfidfVectorizer(sublinear_tf=True, min_df=3, max_df=0.5, stop_words=sorted(STOP_WORDS))
    M = vec.fit_transform(_baseline_docs(texts))
    W = NMF(k, init="nndsvda", random_state=seed, max_iter=300).fit_transform(M)
    return W.argmax(axis=1)


def run_lda(texts, k, seed=0):
    vec = CountVectorizer(min_df=3, max_df=0.5, stop_words=sorted(STOP_WORDS))
    M = vec.fit_transform(_baseline_docs(texts))
    W = LatentDirichletAllocation(k, learning_method="batch", max_iter=20, random_state=seed).fit_transform(M)
    return W.argmax(axis=1)


def _cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _timed_lda(texts, k) -> tuple:
    t0 = time.perf_counter()
    lda = run_lda(texts, k)
    return lda, time.perf_counter() - t0


def _start_lda(texts, k):
    """Run the LDA baseline in a forked process; returns a function that waits for (labels, seconds)."""
    if "fork" not in multiprocessing.get_all_start_methods():
        result = _timed_lda(texts, k)
        return lambda: result
    pool = multiprocessing.get_context("fork").Pool(1)
    job = pool.apply_async(_timed_lda, (texts, k))

    def wait():
        try:
            return job.get()
        finally:
            pool.close()
            pool.join()
    return wait


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", nargs="+", required=True, help="CFPB-format CSV files")
    ap.add_argument("--labels", default=str(DEFAULT_LABELS), help="cfpb_issue_theme_map.csv")
    ap.add_argument("--taxonomy", default=None, help="taxonomy TOML (default: built-in)")
    ap.add_argument("--json", dest="json_out", default=None, help="write results as JSON here")
    ap.add_argument("--min-issue-docs", type=int, default=20)
    args = ap.parse_args(argv)

    seconds: dict[str, float] = {}
    t_all = time.perf_counter()
    cpu_all = _cpu()
    t0 = time.perf_counter()
    frame = load_narratives(args.data)
    seconds["read"] = time.perf_counter() - t0
    texts = frame[NARRATIVE].tolist()
    primary, anylab = label_matrix(frame, Path(args.labels))
    report = split_halves(frame)
    tax = load_taxonomy(args.taxonomy)
    counts = frame[ISSUE].value_counts()
    k = int((counts >= args.min_issue_docs).sum())
    # the LDA baseline (the slowest step) runs in a forked process meanwhile (2 cores), timed there
    lda_result = _start_lda(texts, k)

    # -- tagging: fit (no labels used) on all narratives, score each half --------------------
    t0 = time.perf_counter()
    tagger = ThemeTagger(tax, random_state=0).fit(texts)
    tags, evidence = tagger._tag(texts)
    seconds["tagger"] = time.perf_counter() - t0
    # seeds only = the same tags minus those the learned model added
    seed_tags = tags.copy()
    for tid in tags.columns:
        learned = evidence.str.contains(f"{tid}: learned: ", regex=False).fillna(False).to_numpy(dtype=bool)
        seed_tags[tid] = tags[tid].to_numpy() & ~learned
    res_report = theme_scores(tags[report], primary[report], anylab[report])
    res_tune = theme_scores(tags[~report], primary[~report], anylab[~report])
    res_seed = theme_scores(seed_tags[report], primary[report], anylab[report])

    # -- discovery ---------------------------------------------------------------------------
    y = frame[ISSUE].to_numpy()
    t0 = time.perf_counter()
    disc = ThemeDiscovery(k_min=k, k_max=k, random_state=0).fit(texts)
    seconds["discovery"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    # stability: both seeds changed (random_state and svd_random_state)
    disc2 = ThemeDiscovery(k_min=k, k_max=k, random_state=1, svd_random_state=1).fit(texts)
    seconds["discovery_seed1"] = time.perf_counter() - t0
    disc3 = disc2
    t0 = time.perf_counter()
    nmf = run_nmf(texts, k)
    seconds["nmf"] = time.perf_counter() - t0
    nmf2 = run_nmf(texts, k, seed=1)
    lda, seconds["lda"] = lda_result()
    discovery = {
        "k": k,
        "nmi": round(float(normalized_mutual_info_score(y, disc.labels_)), 4),
        "ari": round(float(adjusted_rand_score(y, disc.labels_)), 4),
        "lda_nmi": round(float(normalized_mutual_info_score(y, lda)), 4),
        "lda_ari": round(float(adjusted_rand_score(y, lda)), 4),
        "nmf_nmi": round(float(normalized_mutual_info_score(y, nmf)), 4),
        "nmf_ari": round(float(adjusted_rand_score(y, nmf)), 4),
        "stability_ari": round(float(adjusted_rand_score(disc.labels_, disc2.labels_)), 4),
        "svd_seed_ari": round(float(adjusted_rand_score(disc.labels_, disc3.labels_)), 4),
        "nmf_stability_ari": round(float(adjusted_rand_score(nmf, nmf2)), 4),
        "nmi_tune_half": round(float(normalized_mutual_info_score(y[~report], disc.labels_[~report])), 4),
        "nmi_report_half": round(float(normalized_mutual_info_score(y[report], disc.labels_[report])), 4),
    }
    seconds["total"] = time.perf_counter() - t_all
    seconds["total_cpu"] = _cpu() - cpu_all  # this process and its children (robust to other jobs)
    seconds = {m: round(t, 2) for m, t in seconds.items()}

    # -- print ---------------------------------------------------------------------------------
    print(f"{len(frame)} narratives ({int(report.sum())} REPORT half / {int((~report).sum())} TUNE half, "
          f"fixed split seed {SPLIT_SEED} on Complaint ID)")
    print("Theme tagging, REPORT half (seeds were revised on the TUNE half only; these rows were not read):")
    print(f"  {'theme':<18}{'recall':>8}{'prec':>8}{'F1':>8}{'n':>6}{'tagged':>8}   seeds-only R/P/F1     tune-half R/P/F1")
    for tid, r in res_report.items():
        s, t = res_seed[tid], res_tune[tid]
        print(f"  {tid:<18}{r['recall']:>8.3f}{r['precision']:>8.3f}{r['f1']:>8.3f}{r['n']:>6}{r['tagged']:>8}"
              f"   {s['recall']:.3f}/{s['precision']:.3f}/{s['f1']:.3f}    {t['recall']:.3f}/{t['precision']:.3f}/{t['f1']:.3f}")
    print(f"Discovery over all {len(frame)} narratives, k = {k} (Issues with >= {args.min_issue_docs} narratives):")
    print(f"  ThemeDiscovery NMI {discovery['nmi']:.3f} ARI {discovery['ari']:.3f}  "
          f"({seconds['discovery']:.1f} s; stability ARI random_state 0 vs 1: {discovery['stability_ari']:.3f};"
          f" ARI svd_random_state 0 vs 1: {discovery['svd_seed_ari']:.3f})")
    print(f"  (same clustering, NMI within the TUNE half {discovery['nmi_tune_half']:.3f}, "
          f"within the REPORT half {discovery['nmi_report_half']:.3f})")
    print(f"  NMF            NMI {discovery['nmf_nmi']:.3f} ARI {discovery['nmf_ari']:.3f}  ({seconds['nmf']:.1f} s; "
          f"stability ARI {discovery['nmf_stability_ari']:.3f})")
    print(f"  LDA            NMI {discovery['lda_nmi']:.3f} ARI {discovery['lda_ari']:.3f}  ({seconds['lda']:.1f} s)")
    print("Seconds:", ", ".join(f"{m} {t}" for m, t in seconds.items()))

    if args.json_out:
        out = {
            "themes": {tid: {key: r[key] for key in ("recall", "precision", "f1", "n")} for tid, r in res_report.items()},
            "discovery": discovery,
            "docs": int(len(frame)),
            "seconds": seconds,
            "split": {"seed": SPLIT_SEED, "reported": "REPORT half", "report_docs": int(report.sum()),
                      "tune_docs": int((~report).sum())},
            "themes_tune_half": res_tune,
            "themes_seeds_only": res_seed,
        }
        Path(args.json_out).write_text(json.dumps(out, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
