"""Method notes on the theme tagger's own error (issue 13 item 4).

Where the taxonomy points to an analyst's labels file, :func:`theme_error_notes` states the
tagger's precision and recall per theme, measured by cross-validation on those labels
(:func:`feedbacklib.themes.correction.measured_error`), and the month's theme rates corrected
for that error (Rogan–Gladen) with 95% intervals that carry both the month's sampling error
and the error of the measured sensitivity and specificity
(:func:`feedbacklib.themes.correction.corrected_rates`). Without a labels file it says the rates
are uncorrected counts. The table is computed with the month (``MonthResult.theme_errors``, see
:func:`feedbacklib.result.month_tables`); this module only formats it.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .html import Html, fmt_interval, fmt_num, fmt_pct, paragraphs, table

__all__ = ["theme_error_notes", "theme_error_table"]


def theme_error_table(result) -> pd.DataFrame | None:
    """Per theme: measured precision/recall and the month's corrected rate (``result.theme_errors``), or
    None without labels or when the labels file could not be read (``result.theme_errors_failed``)."""
    return result.theme_errors


def theme_error_notes(result) -> Html:
    """The method-notes paragraph and table on the tagger's measured error (see the module)."""
    tax = result.taxonomy
    if not tax.labels:
        return paragraphs(["Theme rates are the tagger's counts, not corrected for its errors: the taxonomy "
                           "points to no analyst's labels file to measure them on."])
    if result.theme_errors_failed:  # the exception is in the log: its message names server paths
        return paragraphs([f"The tagger's error could not be measured on the analyst's labels file "
                           f"({Path(str(tax.labels)).name}); the log says why. Theme rates are the tagger's "
                           "counts, not corrected for its errors."])
    frame = result.theme_errors
    if frame is None:  # no labels file (checked above)
        return Html("")
    name = Path(str(tax.labels)).name
    n_labelled = int(frame[["positives", "negatives"]].sum(axis=1).max()) if len(frame) else 0
    intro = paragraphs([
        f"Tagger accuracy, measured on the analyst's {n_labelled:,} labelled comments ({name}) by 5-fold "
        "cross-validation: each fifth is tagged by a tagger that learned from the other four fifths. "
        "Precision is the share of tagged comments that carry the theme, recall the share of comments "
        "carrying the theme that are tagged.",
        "Corrected rate: the tagged rate corrected for the tagger's measured misses and false tags "
        "(Rogan–Gladen). Its 95% interval (a fixed-seed bootstrap) includes both the month's sampling "
        "error and the uncertainty of the measured accuracy, so it is wider where few comments were "
        "labelled. Where the tagger is no better than chance on a theme, or the labels hold no example "
        "of it, the tagged rate is shown uncorrected.",
    ])
    if frame is None or frame.empty:
        return intro

    def pct(v):
        return fmt_pct(v, 1)

    return intro + table(frame, [
        ("label", "Theme", None),
        ("positives", "Labelled with theme", lambda v: fmt_num(v, 0)),
        ("precision", "Precision", lambda v: fmt_pct(v)),
        ("recall", "Recall", lambda v: fmt_pct(v)),
        ("tagged_rate", "Tagged rate", pct),
        ("*", "Corrected rate (95% interval)",
         lambda r: (f"{100 * r['estimate']:.1f}% ({fmt_interval(r['low'], r['high'], 1, 100, '%')})"
                    + ("" if r["corrected"] else ", uncorrected"))),
    ], caption="Theme rates corrected for the tagger's measured error.")
