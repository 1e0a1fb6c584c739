"""Report building blocks: figures, tables and plain-language sentences.

Each public function takes a :class:`feedbacklib.result.MonthResult` and
returns something a notebook displays (an object with ``_repr_html_``). All
customer-supplied text (comments, team and vendor names, file names, column
headers) is HTML-escaped here, at the one place where it is rendered.
"""

from .sections import (
    APPENDIX_SECTIONS,  # noqa: F401  (importable from here; __all__ lists the section functions)
    LEADER_SECTIONS,  # noqa: F401
    SECTIONS,
    appendix_contents,
    call_list,
    casemix_table,
    comparison_table,
    data_quality,
    drivers_table,
    emerging_themes,
    executive_summary,
    fix_first_section,
    headline_tiles,
    method_notes,
    perception_gap_table,
    quotes,
    recognition,
    sentiment_chart,
    team_section,
    theme_chart,
    theme_trend_table,
    title_block,
    vendor_detail,
    vendor_table,
)

# LEADER_SECTIONS and APPENDIX_SECTIONS are importable from here too; __all__ lists SECTIONS and
# the section functions only (tests call every other name in it with a MonthResult).
__all__ = [
    "SECTIONS",
    "appendix_contents",
    "call_list",
    "casemix_table",
    "comparison_table",
    "data_quality",
    "drivers_table",
    "emerging_themes",
    "executive_summary",
    "fix_first_section",
    "headline_tiles",
    "method_notes",
    "perception_gap_table",
    "quotes",
    "recognition",
    "sentiment_chart",
    "team_section",
    "theme_chart",
    "theme_trend_table",
    "title_block",
    "vendor_detail",
    "vendor_table",
]
