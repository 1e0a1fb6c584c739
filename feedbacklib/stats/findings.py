"""One home for the sentence of one compared row: how a finding reads.

:func:`compared_row_sentence` turns a row of :func:`~feedbacklib.stats.compare_groups`
(or of any table in its long format) into the plain-language finding; the
perception gap's sentence is :func:`gap_sentence`.
"""

from __future__ import annotations

from feedbacklib.schema import IN_HOUSE, OUTSOURCED, UNKNOWN

from .columns import (
    A, ALL, B, CSAT_MEAN, DIFF, DIFF_HI, DIFF_LO, GAP_ANY, METRIC, N_REPORTED_SOLVED, NEGATIVE_SHARE, NPS_SCORE,
    PROVIDER, SATISFIED_SHARE, THEME, VALUE_A, VALUE_B,
)
from .settings import CONFIDENCE

#: The confidence level in words ("95%") and how an interval is named in a sentence ("95% CI").
CI_LEVEL = f"{CONFIDENCE:.0%}"
CI = f"{CI_LEVEL} CI"

__all__ = ["CI_LEVEL", "CI", "THEME_NOUNS", "subject", "against", "verb", "compared_row_sentence", "gap_sentence"]

THEME_NOUNS: dict[str, str] = {
    "praise": "praise",
    "churn_risk": "signs of leaving",
}


def subject(label: str) -> tuple[str, bool]:
    """How a group starts a sentence, and whether the verb is plural."""
    return {
        OUTSOURCED: ("Outsourced teams", True),
        IN_HOUSE: ("In-house teams", True),
        UNKNOWN: ("Teams of unknown service model", True),
        ALL: ("All teams", True),
    }.get(label, (label, False))


def against(label: str) -> str:
    """How the comparison group ends a sentence ("against 11.9 in-house")."""
    return {
        IN_HOUSE: "in-house",
        OUTSOURCED: "at outsourced teams",
        UNKNOWN: "at teams of unknown service model",
        ALL: "across all teams",
    }.get(label, f"at {label}")


def verb(base: str, plural: bool) -> str:
    if plural:
        return base
    return {"have": "has"}.get(base, base + "s")


def compared_row_sentence(row: dict) -> str:
    """The plain-language finding of one compared row (long format of :func:`~feedbacklib.stats.compare_groups`)."""
    who, plural = subject(str(row[A]))
    than = against(str(row[B]))
    metric = row[METRIC]
    ci = (row[DIFF], row[DIFF_LO], row[DIFF_HI])
    if metric == SATISFIED_SHARE:
        d, l, h = (100 * v for v in ci)
        return (f"{who} {verb('satisfy', plural)} {100 * row[VALUE_A]:.1f}% of customers who "
                f"give a rating (4 or 5 out of 5) against {100 * row[VALUE_B]:.1f}% {than} "
                f"(difference {d:.1f} points, {CI} {l:.1f} to {h:.1f}).")
    if metric == CSAT_MEAN:
        d, l, h = ci
        return (f"{who} {verb('average', plural)} a satisfaction rating of {row[VALUE_A]:.2f} "
                f"out of 5 against {row[VALUE_B]:.2f} {than} "
                f"(difference {d:.2f}, {CI} {l:.2f} to {h:.2f}).")
    if metric == NPS_SCORE:
        d, l, h = ci
        return (f"{who} {verb('have', plural)} a Net Promoter Score of {row[VALUE_A]:.0f} "
                f"against {row[VALUE_B]:.0f} {than} "
                f"(difference {d:.0f} points, {CI} {l:.0f} to {h:.0f}).")
    if metric == NEGATIVE_SHARE:
        d, l, h = (100 * v for v in ci)
        return (f"{who} {verb('receive', plural)} negative comments in "
                f"{100 * row[VALUE_A]:.1f}% of comments against {100 * row[VALUE_B]:.1f}% "
                f"{than} (difference {d:.1f} points, {CI} {l:.1f} to {h:.1f}).")
    theme = str(row[THEME])
    noun = THEME_NOUNS.get(theme, f"{theme.replace('_', ' ')} complaints")
    d, l, h = ci
    return (f"{who} {verb('get', plural)} {noun} at {row[VALUE_A]:.1f} per 100 comments "
            f"against {row[VALUE_B]:.1f} {than} "
            f"(difference {d:.1f} points, {CI} {l:.1f} to {h:.1f}).")


def gap_sentence(row: dict, inhouse_share: float) -> str:
    """The finding of one provider's row of :func:`~feedbacklib.stats.perception_gap` against in-house."""
    share = f"{GAP_ANY}_share"
    return (f"Of the {row[N_REPORTED_SOLVED]} cases {row[PROVIDER]} reported solved, {100 * row[share]:.1f}% "
            f"show the customer disagrees (not fixed, rated 1-2, reopened or still complaining of "
            f"slowness) against {100 * inhouse_share:.1f}% in-house (difference "
            f"{100 * row[f'{GAP_ANY}_diff']:.1f} points, {CI} {100 * row[f'{GAP_ANY}_diff_lo']:.1f} to "
            f"{100 * row[f'{GAP_ANY}_diff_hi']:.1f}).")
