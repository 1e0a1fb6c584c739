"""Audit the theme tagger against reader-judged labels, and correct theme rates for its errors.

* :func:`read_labels` reads a labelled file (CSV: ``id`` or ``complaint_id``, ``text``, one 0/1
  column per theme id; other columns ignored): the gold file of ``feedback-report themes
  evaluate`` and the analyst's labels file a taxonomy points to (``labels = "file.csv"``).
* :func:`score_tags` compares tags with labels: per theme support, tagged, precision, recall,
  F1, gold and tagged rate; micro precision/recall/F1, macro F1 and the mean absolute rate error.
* :func:`evaluate_file` tags a gold file's texts exactly as the monthly run tags a month
  (:func:`feedbacklib.engines.base.tag_frame`: fitted on those texts) and scores the tags.
* :func:`corrected_rate` (from :mod:`feedbacklib.themes.correction`, where the bootstrap version
  and the cross-validated measurement on an analyst's labels live) turns a tagged share into an
  estimate of the true share with the tagger's measured sensitivity and specificity
  (Rogan–Gladen), with an interval that carries both the sampling error of the month and the
  error of the measured sensitivity/specificity.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from feedbacklib import schema as S
from feedbacklib.engines.base import tag_frame
from feedbacklib.themes.labels import LabelledTexts, read_labels
from feedbacklib.themes.taxonomy import Taxonomy, load_taxonomy

__all__ = [
    "LabelledTexts",
    "read_labels",
    "score_tags",
    "evaluate_file",
    "format_table",
    "error_rates",
    "MACRO_MIN_SUPPORT",
]

log = logging.getLogger(__name__)

#: Themes with fewer gold positives than this are left out of ``macro_f1`` (their F1 is noise).
MACRO_MIN_SUPPORT = 15
def _ratio(a: float, b: float) -> float:
    return float(a) / float(b) if b else 0.0


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def score_tags(pred: pd.DataFrame, gold: pd.DataFrame, *, min_support: int = MACRO_MIN_SUPPORT) -> dict:
    """Scores of boolean tags ``pred`` against boolean labels ``gold`` (same rows, theme columns).

    Scored over the themes that are columns of ``gold``. Returns
    ``{"themes": {id: {support, tagged, precision, recall, f1, gold_rate, tag_rate}},
    "micro": {precision, recall, f1}, "macro_f1", "rate_mae", "docs"}``; rates are fractions;
    ``macro_f1`` averages the themes with at least ``min_support`` gold positives (all themes
    when none has that many); ``rate_mae`` is the mean over the themes of |tag_rate - gold_rate|.
    """
    if len(pred) != len(gold):
        raise ValueError(f"score_tags: {len(pred)} tagged rows but {len(gold)} labelled rows")
    n = len(gold)
    themes, tp_all, fp_all, fn_all = {}, 0, 0, 0
    for t in gold.columns:
        g = gold[t].to_numpy(dtype=bool)
        p = pred[t].to_numpy(dtype=bool)
        tp, fp, fn = int((g & p).sum()), int((~g & p).sum()), int((g & ~p).sum())
        tp_all, fp_all, fn_all = tp_all + tp, fp_all + fp, fn_all + fn
        prec, rec = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
        themes[t] = {"support": int(g.sum()), "tagged": int(p.sum()), "precision": prec, "recall": rec,
                     "f1": _f1(prec, rec), "gold_rate": _ratio(g.sum(), n), "tag_rate": _ratio(p.sum(), n)}
    mp, mr = _ratio(tp_all, tp_all + fp_all), _ratio(tp_all, tp_all + fn_all)
    big = [v["f1"] for v in themes.values() if v["support"] >= min_support] or [v["f1"] for v in themes.values()]
    return {
        "themes": themes,
        "micro": {"precision": mp, "recall": mr, "f1": _f1(mp, mr)},
        "macro_f1": float(np.mean(big)) if big else 0.0,
        "rate_mae": float(np.mean([abs(v["tag_rate"] - v["gold_rate"]) for v in themes.values()])) if themes else 0.0,
        "docs": n,
    }


def evaluate_file(gold: str | Path, *, train: str | Path | None = None, taxonomy=None) -> dict:
    """Tag the texts of the labelled file ``gold`` as the monthly run tags a month, and score them.

    The tagger is built and fitted exactly as :func:`feedbacklib.engines.base.tag_frame` does on a
    month's comments (here: the gold texts). ``train`` (a labels file) replaces the analyst's
    labels the taxonomy points to, so the tagger learns from it first. ``taxonomy``: a
    :class:`~feedbacklib.themes.Taxonomy`, a path, or None for the default. Returns the dict of
    :func:`score_tags` plus ``seconds`` (tagging and scoring wall time).
    """

    tax = taxonomy if isinstance(taxonomy, Taxonomy) else load_taxonomy(taxonomy)
    if train is not None:
        tax = replace(tax, labels=str(Path(train).resolve()))
    data = read_labels(gold, tax.ids)
    if tax.labels:
        taught = read_labels(tax.labels, tax.ids)
        both = int(data.texts.isin(set(taught.texts)).sum())
        if both:
            log.warning("%d of the %d gold texts are also in the labels file the tagger learns from (%s): "
                        "their scores are optimistic. Score on texts the tagger did not learn from.",
                        both, len(data.texts), taught.source)
    start = time.perf_counter()
    tagged = tag_frame(pd.DataFrame({S.TEXT: data.texts.to_numpy(dtype=object)}), tax)
    pred = pd.DataFrame({t: tagged[S.theme_column(t)].to_numpy(dtype=bool) for t in data.labels.columns})
    out = score_tags(pred, data.labels)
    out["seconds"] = round(time.perf_counter() - start, 3)
    return out


def format_table(result: dict) -> str:
    """A plain-text table of :func:`score_tags`'s result (percentages)."""
    head = f"{'theme':<18}{'support':>8}{'tagged':>8}{'prec':>7}{'recall':>8}{'F1':>7}{'gold %':>8}{'tag %':>8}"
    lines = [head, "-" * len(head)]
    for t, v in result["themes"].items():
        lines.append(f"{t:<18}{v['support']:>8}{v['tagged']:>8}{v['precision']:>7.2f}{v['recall']:>8.2f}"
                     f"{v['f1']:>7.2f}{100 * v['gold_rate']:>8.1f}{100 * v['tag_rate']:>8.1f}")
    m = result["micro"]
    lines.append("-" * len(head))
    lines.append(f"micro precision {m['precision']:.3f}  recall {m['recall']:.3f}  F1 {m['f1']:.3f}; "
                 f"macro F1 {result['macro_f1']:.3f} (themes with >= {MACRO_MIN_SUPPORT} positives); "
                 f"rate MAE {100 * result['rate_mae']:.2f} points; {result['docs']} texts"
                 + (f"; {result['seconds']:.1f} s" if "seconds" in result else ""))
    return "\n".join(lines)


# -- rates corrected for the tagger's error ----------------------------------------------------
def error_rates(theme_scores: dict) -> tuple[float, float, int, int]:
    """(sensitivity, specificity, positives, negatives) of one theme's entry of :func:`score_tags`."""
    pos = int(theme_scores["support"])
    docs = round(pos / theme_scores["gold_rate"]) if theme_scores["gold_rate"] else None
    tagged = int(theme_scores["tagged"])
    tp = round(theme_scores["recall"] * pos)
    if docs is None:
        raise ValueError("error_rates: the theme has no gold positive; sensitivity is unknown")
    neg = docs - pos
    fp = tagged - tp
    return _ratio(tp, pos), _ratio(neg - fp, neg), pos, neg
