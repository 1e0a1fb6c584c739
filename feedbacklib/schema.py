"""The canonical frame: one row per piece of feedback, declared once.

Every reader maps its platform's columns onto these names, and every later
step (themes, sentiment, comparison, report) reads them through the constants
below rather than through string literals.
"""

from __future__ import annotations

import pandas as pd

__all__ = [
    "RESPONSE_ID", "SOURCE", "PLATFORM", "RECEIVED_AT", "MONTH", "TEAM",
    "SERVICE_MODEL", "VENDOR", "CHANNEL", "CSAT", "NPS", "TEXT",
    "FIRST_RESPONSE_HOURS", "RESOLUTION_HOURS", "RESOLVED_REPORTED", "REOPENED",
    "CUSTOMER_KEY", "CATEGORY", "SENTIMENT", "SENTIMENT_LABEL", "THEME_EVIDENCE", "SOURCE_FILE", "SOURCE_ROW",
    "CANONICAL_COLUMNS", "CANONICAL_DTYPES", "SOURCES", "SERVICE_MODELS", "CHANNELS",
    "IN_HOUSE", "OUTSOURCED", "UNKNOWN",
    "QUARANTINE_REASON", "QUARANTINE_KIND", "QUARANTINE_COLUMNS",
    "empty_canonical_frame", "theme_column",
]

RESPONSE_ID = "response_id"
SOURCE = "source"
PLATFORM = "platform"
RECEIVED_AT = "received_at"
MONTH = "month"
TEAM = "team"
SERVICE_MODEL = "service_model"
VENDOR = "vendor"
CHANNEL = "channel"
CSAT = "csat"
NPS = "nps"
TEXT = "text"
FIRST_RESPONSE_HOURS = "first_response_hours"
RESOLUTION_HOURS = "resolution_hours"
RESOLVED_REPORTED = "resolved_reported"
REOPENED = "reopened"
CUSTOMER_KEY = "customer_key"
# Contact reason / complaint category as the platform states it (case-mix adjustment).
CATEGORY = "category"
# Added by the sentiment step (not part of the cleaned canonical frame).
SENTIMENT = "sentiment"
SENTIMENT_LABEL = "sentiment_label"
# Added by the theme step: the phrases or terms that made each theme fire.
THEME_EVIDENCE = "theme_evidence"
# Lineage: which file and which data row (0-based, after the header rows) a row came from.
SOURCE_FILE = "source_file"
SOURCE_ROW = "source_row"

IN_HOUSE = "in_house"
OUTSOURCED = "outsourced"
UNKNOWN = "unknown"

SOURCES = ("survey", "complaint", "ticket", "review")
SERVICE_MODELS = (IN_HOUSE, OUTSOURCED, UNKNOWN)
CHANNELS = ("phone", "email", "chat", "web", "social", "in_person", "unknown")

CANONICAL_DTYPES: dict[str, object] = {
    RESPONSE_ID: "string",
    SOURCE: pd.CategoricalDtype(SOURCES),
    PLATFORM: "string",
    RECEIVED_AT: "datetime64[ns, UTC]",
    MONTH: "string",
    TEAM: "string",
    SERVICE_MODEL: pd.CategoricalDtype(SERVICE_MODELS),
    VENDOR: "string",
    CHANNEL: pd.CategoricalDtype(CHANNELS),
    CSAT: "Int8",
    NPS: "Int8",
    TEXT: "string",
    FIRST_RESPONSE_HOURS: "Float64",
    RESOLUTION_HOURS: "Float64",
    RESOLVED_REPORTED: "boolean",
    REOPENED: "boolean",
    CUSTOMER_KEY: "string",
    CATEGORY: "string",
    SOURCE_FILE: "string",
    SOURCE_ROW: "Int64",
}
CANONICAL_COLUMNS: tuple[str, ...] = tuple(CANONICAL_DTYPES)

# The quarantine keeps the original cell values (as text) plus these columns.
QUARANTINE_REASON = "reason"
#: the reason's kind: a :class:`feedbacklib.errors.QuarantineKind` value (what the quality table counts)
QUARANTINE_KIND = "reason_kind"
QUARANTINE_COLUMNS = (SOURCE_FILE, SOURCE_ROW, PLATFORM, QUARANTINE_REASON, QUARANTINE_KIND)


def theme_column(theme_id: str) -> str:
    """Name of the boolean column that flags ``theme_id`` in a tagged frame."""
    return f"theme_{theme_id}"


def empty_canonical_frame() -> pd.DataFrame:
    """A frame with the canonical columns and dtypes and no rows."""
    return pd.DataFrame({c: pd.Series(dtype=d) for c, d in CANONICAL_DTYPES.items()})
