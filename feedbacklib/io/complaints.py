"""The complaints register: XLSX (sheet "Complaints") or CSV.

Header: Reference, Date received (dd/mm/yyyy text or a real Excel date),
Category, Description, Handled by, Outcome, Channel, Customer ID.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from .. import schema as S
from .platform import Platform
from ._common import (
    is_workbook,
    CUSTOMER_ID, REJECT, STRING, Export, Staged, columns_override, find_column,
    frame_from_rows, read_bytes, read_csv_bytes, read_xlsx_rows, sniff_layout,
)

__all__ = ["PLATFORM", "detect", "read", "stage", "HEADER", "SHEET"]

NAME = "complaints"
SHEET = "Complaints"
HEADER = ("Reference", "Date received", "Category", "Description", "Handled by", "Outcome",
          "Channel", "Customer ID")
_FOLDED = {h.casefold() for h in HEADER}
CHANNELS = {"letter": "unknown", "post": "unknown", "web form": "web", "webform": "web",
            "telephone": "phone", "in person": "in_person", "in branch": "in_person"}


def detect(header: list[str]) -> float:
    names = {str(h).strip().casefold() for h in header}
    hits = len(names & _FOLDED)
    if "description" not in names or hits < 4:
        return 0.0
    return round(0.5 + 0.49 * hits / len(HEADER), 2)


def read(path: Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    if is_workbook(path):
        sheet, rows = read_xlsx_rows(path, SHEET)
        start = next((i for i, r in enumerate(rows) if any(str(c).strip() for c in r)), None)
        if start is None:
            return frame_from_rows([], list(HEADER)), {"sheet": sheet}
        header = [str(c) for c in rows[start]]
        body = [r for r in rows[start + 1:]]
        # trailing rows with no value at all are spreadsheet padding, not records
        while body and not any(str(c).strip() for c in body[-1]):
            body.pop()
        return frame_from_rows(body, header), {"sheet": sheet}
    data = read_bytes(path)
    meta: dict[str, Any] = {}
    return read_csv_bytes(data, path, sniff_layout(path), meta), meta


def stage(export: Export, config: Any) -> Staged:
    raw = export.raw
    cols = list(raw.columns)
    override = columns_override(config, NAME)
    empty = pd.Series(pd.NA, index=raw.index, dtype=STRING)

    def get(canonical: str, default: str) -> pd.Series:
        name = find_column(cols, override.get(canonical, default))
        return raw[name] if name is not None else empty

    outcome = get(S.RESOLVED_REPORTED, "Outcome").str.strip().str.lower()
    resolved = pd.Series(pd.NA, index=raw.index, dtype=STRING)
    resolved = resolved.mask((outcome.notna() & (outcome != "")).fillna(False), "true")
    resolved = resolved.mask((outcome == "open").fillna(False), "false")
    channel = get(S.CHANNEL, "Channel").str.strip().str.lower()
    channel = channel.map(lambda v: CHANNELS.get(v, v), na_action="ignore").astype(STRING)
    frame = pd.DataFrame({
        S.RESPONSE_ID: get(S.RESPONSE_ID, "Reference"),
        S.RECEIVED_AT: get(S.RECEIVED_AT, "Date received"),
        S.CATEGORY: get(S.CATEGORY, "Category"),
        S.TEXT: get(S.TEXT, "Description"),
        S.TEAM: get(S.TEAM, "Handled by"),
        S.CHANNEL: channel,
        S.RESOLVED_REPORTED: resolved,
        CUSTOMER_ID: get(CUSTOMER_ID, "Customer ID"),
        REJECT: empty,
    }, index=raw.index)
    return Staged(frame=frame.astype(STRING), source="complaint",
                  date_column=override.get(S.RECEIVED_AT, "Date received"), timezone=None,
                  dayfirst=True)


def _detect_rows(rows: list[list[str]]) -> float:
    return detect(rows[0] if rows else [])


PLATFORM = Platform(name=NAME, how="the complaints register columns", signature=HEADER, read=read, stage=stage,
                    detect=_detect_rows, sheet=SHEET)
