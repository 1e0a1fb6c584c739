"""CFPB Consumer Complaint Database CSV (the website's and the API's export).

Quirks handled: console lines before the header (``Archive: ...``), the
literal placeholders ``None`` / ``N/A`` for empty cells, ISO and ``MM/DD/YY``
dates, CRLF records with bare LF inside narratives, and a last record cut off
by the end of the file (kept as a row and quarantined as ``truncated record``).

Mapping: Complaint ID -> response_id; Date received -> received_at (a date, read
in ``[platforms.cfpb] timezone``, default America/New_York); Issue / Sub-issue ->
category; Consumer complaint narrative -> text; Submitted via -> channel;
Company response to consumer -> resolved_reported (``Closed*`` true, ``In
progress`` / ``Untimely response`` false); Consumer disputed? -> reopened.
Company is the firm complained about, not a team that served the customer, so
team stays unknown (map it with ``[platforms.cfpb.columns] team = "Company"``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from .. import schema as S
from .platform import Platform
from ._common import (
    platform_settings,
    CUSTOMER_ID, PLACEHOLDERS, REJECT, STRING, Export, Staged, columns_override, decode,
    find_column, read_bytes, read_csv_text,
)

__all__ = ["PLATFORM", "detect", "read", "stage", "HEADER", "header_index"]

NAME = "cfpb"
#: The zone of the complaint dates, unless ``[platforms.cfpb] timezone`` says otherwise.
TIMEZONE = "America/New_York"
HEADER = ("Date received", "Product", "Sub-product", "Issue", "Sub-issue",
          "Consumer complaint narrative", "Company public response", "Company", "State",
          "ZIP code", "Tags", "Consumer consent provided?", "Submitted via",
          "Date sent to company", "Company response to consumer", "Timely response?",
          "Consumer disputed?", "Complaint ID")
_FOLDED = {h.casefold() for h in HEADER}
#: Company responses that mean the company reported the complaint as closed.
_RESOLVED_FALSE = ("in progress", "untimely response")


def header_index(rows: list[list[str]]) -> int | None:
    """Index of the header record among the first rows (CFPB files may carry console output first)."""
    for i, row in enumerate(rows[:10]):
        names = {str(c).strip().casefold() for c in row}
        if "complaint id" in names and len(names & _FOLDED) >= 6:
            return i
    return None


def detect(rows: list[list[str]]) -> float:
    i = header_index(rows)
    if i is None:
        return 0.0
    hits = len({str(c).strip().casefold() for c in rows[i]} & _FOLDED)
    return round(0.6 + 0.39 * hits / len(HEADER), 2)


def read(path: Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    text, encoding = decode(read_bytes(path))
    meta: dict[str, Any] = {"encoding": encoding, "preamble": []}
    # Skip console output before the header line ("Archive: ...", "  inflating: ...").
    start = 0
    for _ in range(10):
        end = text.find("\n", start)
        line = text[start: end if end >= 0 else len(text)]
        if "Complaint ID" in line or "Date received" in line or end < 0:
            break
        meta["preamble"].append(line.rstrip("\r"))
        start = end + 1
    body = text[start:] if "Complaint ID" in text[start: start + 4096] else text
    if body is text:
        meta["preamble"] = []
    delimiter = "\t" if body[: body.find("\n") + 1].count("\t") > body[: body.find("\n") + 1].count(",") else ","
    raw = read_csv_text(body, path, delimiter=delimiter, meta=meta)
    meta["header_line"] = len(meta["preamble"]) + 1
    return raw, meta


def _blank_placeholders(values: pd.Series) -> pd.Series:
    stripped = values.str.strip()
    return values.mask(stripped.isin(PLACEHOLDERS).fillna(False) | (stripped == ""), None)


def stage(export: Export, config: Any) -> Staged:
    raw = export.raw
    cols = list(raw.columns)
    override = columns_override(config, NAME)
    settings = platform_settings(config, NAME)
    empty = pd.Series(pd.NA, index=raw.index, dtype=STRING)

    def get(canonical: str, default: str | None) -> pd.Series:
        name = find_column(cols, override[canonical]) if canonical in override else (
            find_column(cols, default) if default else None)
        return _blank_placeholders(raw[name]) if name is not None else empty

    issue = get(S.CATEGORY, "Issue")
    sub = get("_sub_issue", "Sub-issue")
    category = (issue + " / " + sub).fillna(issue).astype(STRING)
    response = get(S.RESOLVED_REPORTED, "Company response to consumer").str.strip().str.lower()
    resolved = empty.mask(response.str.startswith("closed").fillna(False), "true")
    resolved = resolved.mask(response.isin(_RESOLVED_FALSE).fillna(False), "false")
    frame = pd.DataFrame({
        S.RESPONSE_ID: get(S.RESPONSE_ID, "Complaint ID"),
        S.RECEIVED_AT: get(S.RECEIVED_AT, "Date received"),
        S.CATEGORY: category,
        S.TEXT: get(S.TEXT, "Consumer complaint narrative"),
        S.TEAM: get(S.TEAM, None),
        S.CHANNEL: get(S.CHANNEL, "Submitted via"),
        S.RESOLVED_REPORTED: resolved,
        S.REOPENED: get(S.REOPENED, "Consumer disputed?"),
        CUSTOMER_ID: get(CUSTOMER_ID, None),
        REJECT: empty,
    }, index=raw.index)
    return Staged(frame=frame.astype(STRING), source="complaint",
                  date_column=override.get(S.RECEIVED_AT, "Date received"),
                  timezone=settings.timezone or TIMEZONE, dayfirst=False)


PLATFORM = Platform(name=NAME, how="the CFPB complaint database columns", signature=HEADER, read=read,
                    stage=stage, detect=detect, header_index=header_index)
