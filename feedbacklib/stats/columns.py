"""Names of the statistics' result columns and metrics, declared once.

Every table the statistics return (:func:`~feedbacklib.stats.kpi_table`,
:func:`~feedbacklib.stats.compare_groups`, :func:`~feedbacklib.stats.perception_gap`,
:func:`~feedbacklib.stats.theme_impact`, ...) names its columns with these
constants; the report reads them through the same constants, never as literals.
Also here: the definitions behind the metrics (what counts as satisfied, a
promoter, a low rating).
"""

from __future__ import annotations

__all__ = [
    "NEGATIVE_LABEL", "SENTIMENT_PARTS", "SATISFIED_SHARE", "CSAT_MEAN", "NPS_SCORE", "NEGATIVE_SHARE", "RATE_PREFIX", "SATISFIED_MIN_CSAT", "LOW_RATING_MAX_CSAT",
    "PROMOTER_MIN", "DETRACTOR_MAX", "GROUP", "ALL", "N", "N_TEXT", "CSAT_N", "NPS_N",
    "REPORTABLE", "METRIC", "THEME", "KIND", "UNIT", "A", "B", "N_A",
    "N_B", "VALUE_A", "LO_A", "HI_A", "VALUE_B", "LO_B", "HI_B", "DIFF",
    "DIFF_LO", "DIFF_HI", "P_VALUE", "Q_VALUE", "EFFECT_SIZE", "EFFECT_KIND", "SIGNIFICANT", "FINDING",
    "VENDOR_COL", "KIND_PROPORTION", "KIND_MEAN", "KIND_NPS", "EFFECT_COHEN_H", "EFFECT_RANK_BISERIAL", "COMPARE_COLUMNS", "PROVIDER",
    "IN_HOUSE_LABEL", "N_REPORTED_SOLVED", "GAP_NOT_FIXED", "GAP_LOW_RATING", "GAP_REOPENED", "GAP_SLOW", "GAP_ANY", "GAP_MEASURES",
    "NOT_FIXED_THEME", "SLOW_THEME", "N_SCORED", "N_WITH", "SCORE_WITH", "SCORE_WITHOUT", "SCORE_OVERALL", "IMPACT",
    "IMPACT_LO", "IMPACT_HI",
    "lo", "hi", "rate_column", "theme_of_rate",
]

NEGATIVE_LABEL = "negative"
#: The sentiment labels (:mod:`feedbacklib.sentiment`), in the order the sentiment chart stacks them.
SENTIMENT_PARTS = ("negative", "neutral", "positive")

# --------------------------------------------------------------------------- #
# Metric names (rows of the long comparison frames, columns of kpi_table).
# --------------------------------------------------------------------------- #
SATISFIED_SHARE = "satisfied_share"   # csat >= 4 among rated rows, 0..1
CSAT_MEAN = "csat_mean"               # mean csat, 1..5
NPS_SCORE = "nps"                     # %promoters - %detractors, -100..100
NEGATIVE_SHARE = "negative_share"     # sentiment_label == "negative" among texts, 0..1
RATE_PREFIX = "rate_"                 # rate_<theme>: per 100 texts
SATISFIED_MIN_CSAT = 4
LOW_RATING_MAX_CSAT = 2
PROMOTER_MIN = 9
DETRACTOR_MAX = 6

# kpi_table columns
GROUP = "group"
ALL = "all"
N = "n"
N_TEXT = "n_text"
CSAT_N = "csat_n"
NPS_N = "nps_n"
REPORTABLE = "reportable"

# compare_groups / compare_vendors columns
METRIC = "metric"
THEME = "theme"
KIND = "kind"
UNIT = "unit"
A = "a"
B = "b"
N_A = "n_a"
N_B = "n_b"
VALUE_A = "value_a"
LO_A = "lo_a"
HI_A = "hi_a"
VALUE_B = "value_b"
LO_B = "lo_b"
HI_B = "hi_b"
DIFF = "diff"
DIFF_LO = "diff_lo"
DIFF_HI = "diff_hi"
P_VALUE = "p_value"
Q_VALUE = "q_value"
EFFECT_SIZE = "effect_size"
EFFECT_KIND = "effect_kind"
SIGNIFICANT = "significant"
FINDING = "finding"
VENDOR_COL = "vendor"

KIND_PROPORTION = "proportion"
KIND_MEAN = "mean"
KIND_NPS = "nps"
EFFECT_COHEN_H = "cohen_h"
EFFECT_RANK_BISERIAL = "rank_biserial"

COMPARE_COLUMNS = (
    METRIC, THEME, KIND, UNIT, A, B, N_A, N_B,
    VALUE_A, LO_A, HI_A, VALUE_B, LO_B, HI_B, DIFF, DIFF_LO, DIFF_HI,
    P_VALUE, Q_VALUE, EFFECT_SIZE, EFFECT_KIND, SIGNIFICANT, FINDING,
)

# perception_gap columns
PROVIDER = "provider"
IN_HOUSE_LABEL = "In-house"
N_REPORTED_SOLVED = "n_reported_solved"
GAP_NOT_FIXED = "not_fixed"     # theme_not_fixed among texts
GAP_LOW_RATING = "low_rating"   # csat <= 2 among rated rows
GAP_REOPENED = "reopened"       # reopened among rows where it is known
GAP_SLOW = "slow"               # theme_responsiveness among texts
GAP_ANY = "any"                 # any of the above, among all reported-solved rows
GAP_MEASURES = (GAP_NOT_FIXED, GAP_LOW_RATING, GAP_REOPENED, GAP_SLOW, GAP_ANY)
NOT_FIXED_THEME = "not_fixed"
SLOW_THEME = "responsiveness"

# theme_impact columns
N_SCORED = "n_scored"
N_WITH = "n_with"
SCORE_WITH = "score_with"
SCORE_WITHOUT = "score_without"
SCORE_OVERALL = "score_overall"
IMPACT = "impact"
IMPACT_LO = "impact_lo"
IMPACT_HI = "impact_hi"


def lo(name: str) -> str:
    """Column of the lower interval bound of ``name``."""
    return f"{name}_lo"


def hi(name: str) -> str:
    """Column of the upper interval bound of ``name``."""
    return f"{name}_hi"


def rate_column(theme_id: str) -> str:
    """Column (kpi_table) / metric name (compare_*) of a theme's rate per 100 texts."""
    return f"{RATE_PREFIX}{theme_id}"


def theme_of_rate(metric: str) -> str:
    """The theme id of a ``rate_<theme>`` metric (the inverse of :func:`rate_column`)."""
    return metric.removeprefix(RATE_PREFIX)
