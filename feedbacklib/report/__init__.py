"""Report building blocks: figures, tables and plain-language sentences.

Each public function takes a :class:`feedbacklib.pipeline.MonthResult` and
returns something a notebook displays (an object with ``_repr_html_``). All
customer-supplied text (comments, team and vendor names, file names, column
headers) is HTML-escaped here, at the one place where it is rendered.
"""

from .sections import (
    SECTIONS,
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
    theme_chart,
    theme_trend_table,
    title_block,
    vendor_table,
)

__all__ = [
    "SECTIONS",
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
    "theme_chart",
    "theme_trend_table",
    "title_block",
    "vendor_table",
]
