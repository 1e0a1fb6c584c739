"""Defaults of every statistic, declared once.

A signature that takes ``min_n``, ``alpha``, ``confidence`` or ``n_resamples``
defaults to the constant here; the configured ``min_group_size`` of
``feedback.toml`` is what the pipeline passes.
"""

from __future__ import annotations

__all__ = ["MIN_N", "ALPHA", "CONFIDENCE", "PROPORTION_METHOD", "DEFAULT_RESAMPLES"]

#: Smallest group (responses, ratings or comments) a finding may rest on.
MIN_N = 30
#: A difference is "clear" when its Benjamini-Hochberg adjusted p-value is below this.
ALPHA = 0.05
#: Two-sided confidence level of every interval.
CONFIDENCE = 0.95
#: How the interval of a proportion is computed (see :func:`feedbacklib.stats.proportion_interval`).
PROPORTION_METHOD = "wilson"
#: Bootstrap resamples and permutations (seeded).
DEFAULT_RESAMPLES = 2000
