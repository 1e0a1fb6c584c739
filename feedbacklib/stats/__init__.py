"""Every statistic of the report, computed before anything renders.

Modules, in the order data flows through them:

- :mod:`~feedbacklib.stats.settings`: defaults declared once (minimum group size, alpha, confidence).
- :mod:`~feedbacklib.stats.columns`: result column and metric names, declared once.
- :mod:`~feedbacklib.stats._frame`: the frame toolkit (the one :func:`has_text`, flags, numbers).
- :mod:`~feedbacklib.stats.intervals`: estimates with intervals (Wilson, Newcombe, t, Welch, bootstrap).
- :mod:`~feedbacklib.stats.significance`: tests, effect sizes, Benjamini-Hochberg.
- :mod:`~feedbacklib.stats.findings`: the sentence of one compared row.
- :mod:`~feedbacklib.stats.tables`: KPI tables, two-group comparisons, the perception gap.
- :mod:`~feedbacklib.stats.impact`: what each theme costs the overall score.
- :mod:`~feedbacklib.stats.breakdowns`: the smaller tables the report's charts and sentences show.

Public names of every module are re-exported here; sibling modules use
``from . import stats as C`` (or the submodules), never a private helper.
"""

from . import columns
from .settings import (  # noqa: F401
    MIN_N, ALPHA, CONFIDENCE, PROPORTION_METHOD, DEFAULT_RESAMPLES,
)
from .columns import (  # noqa: F401
    NEGATIVE_LABEL, SATISFIED_SHARE, CSAT_MEAN, NPS_SCORE, NEGATIVE_SHARE, RATE_PREFIX, SATISFIED_MIN_CSAT,
    LOW_RATING_MAX_CSAT, PROMOTER_MIN, DETRACTOR_MAX, GROUP, ALL, N, N_TEXT, CSAT_N, NPS_N, REPORTABLE, METRIC,
    THEME, KIND, UNIT, A, B, N_A, N_B, VALUE_A, LO_A, HI_A, VALUE_B, LO_B, HI_B, DIFF, DIFF_LO, DIFF_HI, P_VALUE,
    Q_VALUE, EFFECT_SIZE, EFFECT_KIND, SIGNIFICANT, FINDING, VENDOR_COL, KIND_PROPORTION, KIND_MEAN, KIND_NPS,
    EFFECT_COHEN_H, EFFECT_RANK_BISERIAL, COMPARE_COLUMNS, PROVIDER, IN_HOUSE_LABEL, N_REPORTED_SOLVED,
    GAP_NOT_FIXED, GAP_LOW_RATING, GAP_REOPENED, GAP_SLOW, GAP_ANY, GAP_MEASURES, NOT_FIXED_THEME, SLOW_THEME,
    N_SCORED, N_WITH, SCORE_WITH, SCORE_WITHOUT, SCORE_OVERALL, IMPACT, IMPACT_LO, IMPACT_HI, lo, hi, rate_column,
    theme_of_rate,
)
from ._frame import (  # noqa: F401
    as_float, finite, nps_points, themes_of, numeric, bool_flags, known_mask, has_text, text_mask, equals_mask,
    require_column, group_values, vendor_rows, vendor_names,
)
from .intervals import (  # noqa: F401
    z_value, wilson_interval, proportion_interval, newcombe_diff_interval, nps_score, index_blocks, few_levels,
    bootstrap_means, percentile_interval, bootstrap_interval, bootstrap_mean_diff, mean_interval,
    welch_diff_interval, share_interval, nps_interval,
)
from .significance import (  # noqa: F401
    two_proportion_test, cohen_h, permutation_pvalue, benjamini_hochberg, mann_whitney, rank_biserial,
)
from .findings import (  # noqa: F401
    CI, THEME_NOUNS, subject, against, verb, compared_row_sentence, gap_sentence,
)
from .tables import (  # noqa: F401
    kpi_table, compare_groups, compare_vendors, perception_gap, proportion_row,
)
from .impact import (  # noqa: F401
    theme_impact,
)
from .breakdowns import (  # noqa: F401
    CHANNEL_MIN_RATED, CHANNEL_COLUMNS, TEAM_PRAISE_COLUMNS, SENTIMENT_PARTS, HEADLINE_METRICS,
    channel_satisfaction, team_praise, pooled_team_rates, sentiment_shares, clear_change, headline_changes,
    top_movers,
)

__all__ = [
    "columns", "MIN_N", "ALPHA", "CONFIDENCE", "PROPORTION_METHOD", "DEFAULT_RESAMPLES", "NEGATIVE_LABEL",
    "SATISFIED_SHARE", "CSAT_MEAN", "NPS_SCORE", "NEGATIVE_SHARE", "RATE_PREFIX", "SATISFIED_MIN_CSAT",
    "LOW_RATING_MAX_CSAT", "PROMOTER_MIN", "DETRACTOR_MAX", "GROUP", "ALL", "N", "N_TEXT", "CSAT_N", "NPS_N",
    "REPORTABLE", "METRIC", "THEME", "KIND", "UNIT", "A", "B", "N_A", "N_B", "VALUE_A", "LO_A", "HI_A", "VALUE_B",
    "LO_B", "HI_B", "DIFF", "DIFF_LO", "DIFF_HI", "P_VALUE", "Q_VALUE", "EFFECT_SIZE", "EFFECT_KIND",
    "SIGNIFICANT", "FINDING", "VENDOR_COL", "KIND_PROPORTION", "KIND_MEAN", "KIND_NPS", "EFFECT_COHEN_H",
    "EFFECT_RANK_BISERIAL", "COMPARE_COLUMNS", "PROVIDER", "IN_HOUSE_LABEL", "N_REPORTED_SOLVED", "GAP_NOT_FIXED",
    "GAP_LOW_RATING", "GAP_REOPENED", "GAP_SLOW", "GAP_ANY", "GAP_MEASURES", "NOT_FIXED_THEME", "SLOW_THEME",
    "N_SCORED", "N_WITH", "SCORE_WITH", "SCORE_WITHOUT", "SCORE_OVERALL", "IMPACT", "IMPACT_LO", "IMPACT_HI", "lo",
    "hi", "rate_column", "theme_of_rate", "as_float", "finite", "nps_points", "themes_of", "numeric", "bool_flags",
    "known_mask", "has_text", "text_mask", "equals_mask", "require_column", "group_values", "vendor_rows",
    "vendor_names", "z_value", "wilson_interval", "proportion_interval", "newcombe_diff_interval", "nps_score",
    "index_blocks", "few_levels", "bootstrap_means", "percentile_interval", "bootstrap_interval",
    "bootstrap_mean_diff", "mean_interval", "welch_diff_interval", "share_interval", "nps_interval",
    "two_proportion_test", "cohen_h", "permutation_pvalue", "benjamini_hochberg", "mann_whitney", "rank_biserial",
    "CI", "THEME_NOUNS", "subject", "against", "verb", "compared_row_sentence", "gap_sentence", "kpi_table",
    "compare_groups", "compare_vendors", "perception_gap", "proportion_row", "theme_impact", "CHANNEL_MIN_RATED",
    "CHANNEL_COLUMNS", "TEAM_PRAISE_COLUMNS", "SENTIMENT_PARTS", "HEADLINE_METRICS", "channel_satisfaction",
    "team_praise", "pooled_team_rates", "sentiment_shares", "clear_change", "headline_changes", "top_movers",
]
