"""Theme rates corrected for the tagger's own error, measured on an analyst's labels (issue 13).

A tagged share ``p`` is not the true share ``pi``: the tagger misses some mentions (sensitivity
``se`` < 1) and tags some comments wrongly (specificity ``sp`` < 1), so on average
``p = se * pi + (1 - sp) * (1 - pi)``. Inverting that gives the Rogan–Gladen estimate

    pi_hat = (p + sp - 1) / (se + sp - 1),   clipped to [0, 1].

* :func:`measured_error`: the tagger's error per theme on the analyst's labels file (the
  taxonomy's ``labels``), by ``folds``-fold cross-validation: each fold is tagged by a tagger
  fitted on that fold's texts (as a month is) that learned from the OTHER folds' labels, so the
  counts describe the tagger the month is tagged with and no text is scored by a model trained
  on it. Cached per labels file content and taxonomy.
* :func:`rogan_gladen`: the point estimate.
* :func:`bootstrap_rate`: the estimate with a percentile interval from a fixed-seed parametric
  bootstrap that carries three independent errors: the month's share (``n`` comments), the
  sensitivity (measured on the labelled positives) and the specificity (on the labelled
  negatives). Each is drawn from its Jeffreys posterior, Beta(k + 1/2, n - k + 1/2), so a
  perfect measured sensitivity (say 12 of 12) still carries its uncertainty. Deterministic.
* :func:`corrected_rate` (re-exported by :mod:`feedbacklib.themes.audit`): the same estimate with
  a delta-method normal interval (no simulation).
* :func:`corrected_rates`: one row per theme for a month's counts: measured precision and
  recall, tagged rate, corrected rate and interval.

When ``se + sp <= 1`` the tagger is no better than chance on that theme and no correction is
possible: the tagged share is returned with its sampling interval only, flagged ``corrected=False``.
"""

from __future__ import annotations

import hashlib
import math
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from ..stats.settings import CONFIDENCE
from feedbacklib.themes.taxonomy import Taxonomy, load_taxonomy
from feedbacklib.themes.audit import read_labels
from feedbacklib.themes.tagger import ThemeTagger

__all__ = [
    "ErrorCounts",
    "RateEstimate",
    "rogan_gladen",
    "corrected_rate",
    "bootstrap_rate",
    "measured_error",
    "corrected_rates",
    "theme_error_table",
    "N_BOOT",
]

#: Bootstrap draws per theme (the percentile bounds move by < 0.2 points between seeds at 4000).
N_BOOT = 4000


@dataclass(frozen=True)
class ErrorCounts:
    """A theme's confusion counts on labelled texts (tagged vs labelled)."""

    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def positives(self) -> int:
        return self.tp + self.fn

    @property
    def negatives(self) -> int:
        return self.tn + self.fp

    @property
    def sensitivity(self) -> float:
        """Recall: the share of labelled positives the tagger tags (nan without positives)."""
        return self.tp / self.positives if self.positives else float("nan")

    @property
    def specificity(self) -> float:
        """The share of labelled negatives the tagger leaves untagged (nan without negatives)."""
        return self.tn / self.negatives if self.negatives else float("nan")

    @property
    def precision(self) -> float:
        tagged = self.tp + self.fp
        return self.tp / tagged if tagged else float("nan")

    @property
    def recall(self) -> float:
        return self.sensitivity


@dataclass(frozen=True)
class RateEstimate:
    """A theme rate corrected for tagging error: ``estimate`` in [low, high] (fractions)."""

    observed: float  # tagged share of the month
    estimate: float  # Rogan–Gladen corrected share, clipped to [0, 1]
    low: float
    high: float
    corrected: bool  # False: sensitivity + specificity <= 1, no correction possible (observed returned)


def _check_rate(name: str, v: float) -> None:
    if v is None or math.isnan(v) or not 0.0 <= v <= 1.0:
        raise ValueError(f"{name} must be in [0, 1] (got {v})")


def rogan_gladen(p: float, sensitivity: float, specificity: float, *, clip: bool = True) -> float:
    """``(p + specificity - 1) / (sensitivity + specificity - 1)``, clipped to [0, 1] unless ``clip=False``.

    Raises ``ValueError`` for a rate outside [0, 1] or when ``sensitivity + specificity <= 1``
    (a tagger no better than chance: the true share cannot be recovered).

    >>> round(rogan_gladen(0.2, 0.8, 0.9), 6)
    0.142857
    """
    for name, v in (("rogan_gladen: p", p), ("rogan_gladen: sensitivity", sensitivity),
                    ("rogan_gladen: specificity", specificity)):
        _check_rate(name, v)
    j = sensitivity + specificity - 1.0
    if j <= 0:
        raise ValueError(f"rogan_gladen: sensitivity + specificity must exceed 1 (got {sensitivity} + {specificity}); "
                         "the tagger is no better than chance on this theme")
    est = (p + specificity - 1.0) / j
    return min(max(est, 0.0), 1.0) if clip else est


def corrected_rate(tagged: int, n: int, sensitivity: float, specificity: float, *,
                   n_positive: int | None = None, n_negative: int | None = None,
                   confidence: float = CONFIDENCE) -> RateEstimate:
    """The true share of a theme from its tagged share, with the tagger's measured error.

    Rogan–Gladen (:func:`rogan_gladen`) with ``p = tagged / n``. The interval is the delta-method
    normal interval of that estimate with three independent binomial errors: the month's share
    ``p`` (``n`` texts), the sensitivity (measured on ``n_positive`` labelled positives) and the
    specificity (``n_negative`` labelled negatives); when ``n_positive`` / ``n_negative`` are
    None, those are taken as exact. Deterministic.

    Raises ``ValueError`` for counts out of range or rates outside [0, 1].

    Examples
    --------
    >>> r = corrected_rate(120, 1000, 0.8, 0.95, n_positive=80, n_negative=240)
    >>> round(r.estimate, 4), r.low < r.estimate < r.high
    (0.0933, True)
    """
    if n <= 0 or not 0 <= tagged <= n:
        raise ValueError(f"corrected_rate: need 0 <= tagged <= n and n > 0 (got tagged={tagged}, n={n})")
    for name, v in (("corrected_rate: sensitivity", sensitivity), ("corrected_rate: specificity", specificity)):
        _check_rate(name, v)
    if not 0 < confidence < 1:
        raise ValueError(f"corrected_rate: confidence must be in (0, 1) (got {confidence})")
    from scipy.stats import norm

    z = float(norm.ppf(0.5 + confidence / 2))
    p = tagged / n
    j = sensitivity + specificity - 1.0
    if j <= 0:
        half = z * math.sqrt(p * (1 - p) / n)
        return RateEstimate(p, p, max(0.0, p - half), min(1.0, p + half), corrected=False)
    est = (p + specificity - 1.0) / j
    var_p = p * (1 - p) / n
    var_se = sensitivity * (1 - sensitivity) / n_positive if n_positive else 0.0
    var_sp = specificity * (1 - specificity) / n_negative if n_negative else 0.0
    pi = min(max(est, 0.0), 1.0)
    var = (var_p + pi ** 2 * var_se + (1 - pi) ** 2 * var_sp) / j ** 2
    # a floor for the sampling term when p is 0 or 1 (a Wilson-like half count)
    var = max(var, (0.5 / n) ** 2 / j ** 2)
    half = z * math.sqrt(var)
    # centred on the clipped estimate: an observed share below the false-positive rate reads as 0
    return RateEstimate(p, pi, max(0.0, pi - half), min(1.0, pi + half), corrected=True)


def bootstrap_rate(tagged: int, n: int, counts: ErrorCounts, *, confidence: float = CONFIDENCE,
                   n_boot: int = N_BOOT, seed: int = 0) -> RateEstimate:
    """Rogan–Gladen estimate of a theme's share with a parametric-bootstrap percentile interval.

    ``tagged`` of ``n`` comments of the month were tagged; ``counts`` is the tagger's confusion on
    labelled texts. Each draw takes the month's share, the sensitivity and the specificity from
    their Jeffreys posteriors (``Beta(k + 1/2, m - k + 1/2)``) and computes the clipped estimate;
    a draw where ``se + sp <= 1`` keeps its drawn share uncorrected. The point estimate uses the
    observed values. Deterministic for a given ``seed``.

    Without labelled positives or negatives (sensitivity or specificity unknown) or with a
    measured ``se + sp <= 1``, the tagged share is returned with its Jeffreys interval and
    ``corrected=False``.
    """
    if n <= 0 or not 0 <= tagged <= n:
        raise ValueError(f"bootstrap_rate: need 0 <= tagged <= n and n > 0 (got tagged={tagged}, n={n})")
    if not 0 < confidence < 1:
        raise ValueError(f"bootstrap_rate: confidence must be in (0, 1) (got {confidence})")
    if min(counts.tp, counts.fp, counts.fn, counts.tn) < 0:
        raise ValueError(f"bootstrap_rate: confusion counts must be >= 0 (got {counts})")
    if n_boot < 100:
        raise ValueError(f"bootstrap_rate: n_boot must be at least 100 (got {n_boot})")
    rng = np.random.default_rng(seed)
    alpha = (1.0 - confidence) / 2
    p = tagged / n
    p_draw = rng.beta(tagged + 0.5, n - tagged + 0.5, size=n_boot)
    se, sp = counts.sensitivity, counts.specificity
    if not counts.positives or not counts.negatives or se + sp <= 1.0:
        lo, hi = np.quantile(p_draw, [alpha, 1 - alpha])
        return RateEstimate(p, p, float(min(lo, p)), float(max(hi, p)), corrected=False)
    se_draw = rng.beta(counts.tp + 0.5, counts.fn + 0.5, size=n_boot)
    sp_draw = rng.beta(counts.tn + 0.5, counts.fp + 0.5, size=n_boot)
    j = se_draw + sp_draw - 1.0
    ok = j > 1e-9
    est_draw = p_draw.copy()
    est_draw[ok] = np.clip((p_draw[ok] + sp_draw[ok] - 1.0) / j[ok], 0.0, 1.0)
    est = rogan_gladen(p, se, sp)
    lo, hi = np.quantile(est_draw, [alpha, 1 - alpha])
    return RateEstimate(p, est, float(min(lo, est)), float(max(hi, est)), corrected=True)


# -- measuring the tagger's error on the analyst's labels ---------------------------------------
def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def measured_error(taxonomy, labels_path: str | Path | None = None, *, folds: int = 5,
                   random_state: int = 0) -> dict[str, ErrorCounts]:
    """Per theme the tagger's confusion counts on the analyst's labels, cross-validated.

    ``labels_path`` defaults to the taxonomy's ``labels``. Each of ``folds`` folds (a fixed
    permutation) is tagged by a tagger fitted on that fold's texts, as a month is tagged, with the
    taxonomy's labels replaced by the other folds' rows: the tagger the month uses, minus the
    labels of the texts it scores. Themes without a column in the file are left out.

    Raises ``InputError`` (from :func:`feedbacklib.themes.audit.read_labels`) for a bad file and
    ``ValueError`` when there is no labels file.
    """

    tax = taxonomy if isinstance(taxonomy, Taxonomy) else load_taxonomy(taxonomy)
    path = labels_path if labels_path is not None else tax.labels
    if not path:
        raise ValueError("measured_error: the taxonomy points to no labels file and none was given")
    p = Path(path)

    read_labels(p, tax.ids)  # clear errors before the cache
    return dict(_measured_cached(replace(tax, labels=None), str(p), _digest(p), folds, random_state))


@lru_cache(maxsize=4)
def _measured_cached(tax, path: str, _digest: str, folds: int, random_state: int) -> tuple:

    data = read_labels(path, tax.ids)
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    n = len(data.texts)
    k = max(2, min(folds, n))
    fold = np.random.RandomState(random_state).permutation(n) % k
    cols = list(data.labels.columns)
    pred = pd.DataFrame(False, index=range(n), columns=cols)
    with tempfile.TemporaryDirectory() as tmp:
        for f in range(k):
            test = np.flatnonzero(fold == f)
            if not len(test):
                continue
            train = Path(tmp) / f"labels_{f}.csv"
            raw[fold != f].to_csv(train, index=False)
            texts = data.texts.iloc[test].tolist()
            tagger = ThemeTagger(replace(tax, labels=str(train)), random_state=random_state).fit(texts)
            pred.iloc[test] = tagger.transform(texts)[cols].to_numpy()
    gold = data.labels.to_numpy(dtype=bool)
    tag = pred.to_numpy(dtype=bool)
    out = []
    for i, t in enumerate(cols):
        g, h = gold[:, i], tag[:, i]
        out.append((t, ErrorCounts(tp=int((g & h).sum()), fp=int((~g & h).sum()),
                                   fn=int((g & ~h).sum()), tn=int((~g & ~h).sum()))))
    return tuple(out)


def corrected_rates(hits: Mapping[str, int], n: int | Mapping[str, int], errors: Mapping[str, ErrorCounts], *,
                    confidence: float = CONFIDENCE, seed: int = 0) -> pd.DataFrame:
    """One row per theme of ``hits``: the month's tagged rate corrected with the measured error.

    ``n``: comments with text (one number, or one per theme). Columns: ``theme``, ``positives``
    and ``negatives`` (labelled), ``precision``, ``recall``, ``specificity``, ``hits``, ``n``,
    ``tagged_rate``, ``estimate``, ``low``, ``high``, ``corrected`` (False: no labelled errors
    for the theme, or a tagger no better than chance on it). Themes without measured errors get
    the tagged rate and its sampling interval.
    """
    rows = []
    for k, (theme, h) in enumerate(hits.items()):
        m = int(n[theme] if isinstance(n, Mapping) else n)
        c = errors.get(theme)
        if m <= 0:
            continue
        r = bootstrap_rate(int(h), m, c if c is not None else ErrorCounts(0, 0, 0, 0), confidence=confidence,
                           seed=seed + k)
        rows.append({"theme": theme,
                     "positives": c.positives if c else 0, "negatives": c.negatives if c else 0,
                     "precision": c.precision if c else float("nan"),
                     "recall": c.recall if c else float("nan"),
                     "specificity": c.specificity if c else float("nan"),
                     "hits": int(h), "n": m, "tagged_rate": r.observed, "estimate": r.estimate,
                     "low": r.low, "high": r.high, "corrected": r.corrected})
    cols = ["theme", "positives", "negatives", "precision", "recall", "specificity", "hits", "n",
            "tagged_rate", "estimate", "low", "high", "corrected"]
    return pd.DataFrame(rows, columns=cols)


def _month_counts(theme_counts: pd.DataFrame, month: str, themes: list[str]) -> tuple[dict[str, int], int]:
    now = theme_counts[theme_counts["month"] == month]
    hits = now.groupby("theme", sort=False)["hits"].sum()
    n_by_theme = now.groupby("theme", sort=False)["n"].sum()
    n = int(n_by_theme.max()) if len(n_by_theme) else 0
    return {t: int(hits.get(t, 0)) for t in themes}, n


def theme_error_table(taxonomy: Taxonomy, theme_counts: pd.DataFrame, month: str) -> pd.DataFrame | None:
    """Per theme: measured precision/recall and ``month``'s corrected rate, or None without labels.

    ``theme_counts``: comments with text and theme hits by month (and service model), as
    :func:`feedbacklib.history.theme_counts_of` counts them. Columns: those of
    :func:`corrected_rates` with ``label`` second; empty when the month has no comment with text.
    Raises ``InputError`` (or ``ValueError``) when the labels file cannot be read.
    """
    if not taxonomy.labels:
        return None
    errors = measured_error(taxonomy)
    hits, n = _month_counts(theme_counts, month, list(taxonomy.ids))
    if n <= 0:
        return pd.DataFrame()
    out = corrected_rates(hits, n, errors)
    out.insert(1, "label", [taxonomy.label(t) for t in out["theme"]])
    return out
