"""The statistics as they were computed from rows before issue 19 (statistics from summaries).

Kept verbatim (imports aside) as the reference the summary-based implementations in
``feedbacklib.stats`` are tested against (tests/test_summaries.py): same tables on
the sample, same figures within rounding on generated months.
"""
