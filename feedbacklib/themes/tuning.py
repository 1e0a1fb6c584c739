"""Learning from an analyst's labels: what to label, the labels file, and what it changed.

The analyst labels comments in a CSV (``id, text``, one 0/1 column per theme id) and points the
taxonomy at it (``labels = "my_labels.csv"`` at the top of the taxonomy TOML); the tagger's
supervised model then learns from it on top of the seeds and the shipped examples
(:mod:`feedbacklib.themes.supervised`). ``notebooks/tune_themes.ipynb`` calls:

* :func:`labelling_sample`: comments to label, those the model is least sure about first,
  pre-filled with the model's current answer (0/1) so the analyst corrects rather than types;
* :func:`write_labels_file`: writes that sample (PII redacted again, formula-neutralised) to CSV,
  without overwriting an existing file unless asked;
* :func:`before_after`: per theme F1, precision, recall and rate error, by cross-validation over
  the analyst's file, without and with learning from the analyst's labels.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from feedbacklib.errors import InputError
from feedbacklib.themes.audit import read_labels, score_tags
from feedbacklib.themes.taxonomy import Taxonomy, load_taxonomy
from feedbacklib.themes.tagger import ThemeTagger
from feedbacklib.text import tokenize_many
from feedbacklib.themes import tagger as tg
from feedbacklib.themes.supervised import features
from feedbacklib.pii import redact_pii
from feedbacklib.safety import neutralise_formulas

__all__ = ["labelling_sample", "write_labels_file", "before_after", "try_out_path"]


def try_out_path() -> Path:
    """A labels file path in a new temporary folder (for trying the notebook out)."""
    return Path(tempfile.mkdtemp(prefix="feedbacklib-labels-")) / "labels.csv"


def _tax(taxonomy) -> Taxonomy:
    return taxonomy if isinstance(taxonomy, Taxonomy) else load_taxonomy(taxonomy)


def labelling_sample(texts, taxonomy=None, *, n: int = 50, random_state: int = 0) -> pd.DataFrame:
    """Up to ``n`` distinct non-blank comments to label, the least sure first.

    Sureness is the smallest distance, over the themes, between the supervised model's
    log-odds and its decision threshold (a comment near any theme's threshold comes first).
    Columns: ``id`` (``c1``, ``c2`` ... in that order), ``text``, then one 0/1 column per theme
    holding the tagger's current answer, and ``margin`` (smaller = less sure).
    Deterministic for the same texts.
    """

    tax = _tax(taxonomy)
    series = pd.Series(list(texts), dtype=object)
    uniq = pd.Series(sorted({t for t in series if isinstance(t, str) and t.strip()}), dtype=object)
    cols = ["id", "text", *tax.ids, "margin"]
    if uniq.empty:
        return pd.DataFrame(columns=cols)
    tagger = ThemeTagger(tax, random_state=random_state).fit(uniq)
    tags = tagger.transform(uniq)
    margin = np.full(len(uniq), np.inf)
    sup = tagger.supervised_
    if sup is not None:

        matcher = tg._matcher_for(tax)
        tokens = tokenize_many(uniq.tolist())
        words = tg._word_table(tokens.vocabulary)
        P = sup.proba(features(tokens, words, matcher.match_many(tokens, words), matcher, sup.space))
        eps = 1e-9
        logit = np.log(P + eps) - np.log(1 - P + eps)
        thr = np.log(sup.thresholds + eps) - np.log(1 - sup.thresholds + eps)
        margin = np.abs(logit - thr).min(axis=1)
    # ties (and no model) in a fixed random order
    tie = np.random.RandomState(random_state).permutation(len(uniq))
    order = np.lexsort((tie, margin))[:n]
    out = pd.DataFrame({"id": [f"c{i + 1}" for i in range(len(order))], "text": uniq.iloc[order].to_numpy()})
    for t in tax.ids:
        out[t] = tags[t].to_numpy(dtype=int)[order]
    out["margin"] = np.round(margin[order], 3)
    return out


def write_labels_file(sample: pd.DataFrame, path: str | Path, *, if_exists: str = "error") -> Path:
    """Write a labelling sample as the analyst's labels CSV (``margin`` dropped); returns the path.

    Texts are PII-redacted again and every cell is formula-neutralised. An existing file may
    hold the analyst's work: ``if_exists="error"`` raises an ``InputError`` saying so, ``"keep"``
    leaves it as it is (and returns its path), ``"overwrite"`` replaces it.
    """

    if if_exists not in ("error", "keep", "overwrite"):
        raise ValueError(f"write_labels_file: if_exists must be 'error', 'keep' or 'overwrite' (got {if_exists!r})")
    p = Path(path)
    if p.exists() and if_exists == "keep":
        return p
    if p.exists() and if_exists == "error":
        raise InputError(f"The labels file '{p}' already exists and may hold your labels; it was not "
                         "overwritten. Choose another path, or pass if_exists='keep' or 'overwrite'.")
    frame = sample.drop(columns=["margin"], errors="ignore").copy()
    frame["text"] = redact_pii(frame["text"].astype("string")).astype(object)
    p.parent.mkdir(parents=True, exist_ok=True)
    neutralise_formulas(frame).to_csv(p, index=False, encoding="utf-8")
    return p


def before_after(labels_path: str | Path, taxonomy=None, *, folds: int = 5, random_state: int = 0) -> pd.DataFrame:
    """Per theme: scores on the analyst's labels without and with learning from them.

    ``folds``-fold cross-validation over the labels file: each fold is tagged by a tagger
    fitted on that fold's texts, first with the taxonomy as it is ("before": seeds and shipped
    examples only), then learning from the other folds' labels ("after"). Rows: one per theme
    and "All themes" (micro); columns: positives, then F1, precision, recall and the error of the
    tagged rate (points) before and after.
    """
    tax = replace(_tax(taxonomy), labels=None)
    data = read_labels(labels_path, tax.ids)
    raw = pd.read_csv(labels_path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    n = len(data.texts)
    k = max(2, min(folds, n))
    fold = np.random.RandomState(random_state).permutation(n) % k
    before = pd.DataFrame(False, index=range(n), columns=list(data.labels.columns))
    after = before.copy()

    with tempfile.TemporaryDirectory() as tmp:
        for f in range(k):
            test = np.flatnonzero(fold == f)
            texts = data.texts.iloc[test].tolist()
            train = Path(tmp) / f"labels_{f}.csv"
            raw[fold != f].to_csv(train, index=False)
            cols = list(before.columns)
            before.iloc[test] = ThemeTagger(tax, random_state=random_state).fit(texts).transform(texts)[cols].to_numpy()
            taught = replace(tax, labels=str(train))
            after.iloc[test] = ThemeTagger(taught, random_state=random_state).fit(texts).transform(texts)[cols].to_numpy()
    sb, sa = score_tags(before, data.labels), score_tags(after, data.labels)
    rows = []
    for t in data.labels.columns:
        b, a = sb["themes"][t], sa["themes"][t]
        rows.append({"Theme": tax.label(t), "Positives": b["support"],
                     "F1 before": b["f1"], "F1 after": a["f1"],
                     "Precision before": b["precision"], "Precision after": a["precision"],
                     "Recall before": b["recall"], "Recall after": a["recall"],
                     "Rate error before (pts)": 100 * (b["tag_rate"] - b["gold_rate"]),
                     "Rate error after (pts)": 100 * (a["tag_rate"] - a["gold_rate"])})
    rows.append({"Theme": "All themes (micro)", "Positives": int(data.labels.to_numpy().sum()),
                 "F1 before": sb["micro"]["f1"], "F1 after": sa["micro"]["f1"],
                 "Precision before": sb["micro"]["precision"], "Precision after": sa["micro"]["precision"],
                 "Recall before": sb["micro"]["recall"], "Recall after": sa["micro"]["recall"],
                 "Rate error before (pts)": 100 * sb["rate_mae"], "Rate error after (pts)": 100 * sa["rate_mae"]})
    return pd.DataFrame(rows).round(3)
