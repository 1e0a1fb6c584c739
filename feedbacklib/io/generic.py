"""Generic exports: columns already named like the canonical ones, or mapped in config.

CSV/TSV, XLSX (first sheet), JSON (a list of records, or an object holding one
such list) and Parquet. At least a text column is needed: ``text`` (any case),
or the column named by ``[platforms.generic.columns] text = "..."``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from .. import schema as S
from ..errors import InputError
from .platform import Platform
from ._common import (
    platform_settings,
    zone_from_name,
    dayfirst_setting,
    is_workbook,
    CUSTOMER_ID, REJECT, STRING, Export, Staged, as_string_frame, columns_override,
    find_column, frame_from_rows, looks_like_json, read_bytes, read_csv_bytes, read_xlsx_rows, sniff_layout,
)
from .zendesk import load_json

__all__ = ["PLATFORM", "detect", "read", "stage", "resolve_columns", "records_of", "SYNONYMS"]

NAME = "generic"
#: Column names accepted for each canonical field (case-insensitive); config overrides win.
SYNONYMS: dict[str, tuple[str, ...]] = {
    name: (name,) for name in (
        S.TEXT, S.RESPONSE_ID, S.RECEIVED_AT, S.TEAM, S.CHANNEL, S.CSAT, S.NPS, S.CATEGORY,
        S.FIRST_RESPONSE_HOURS, S.RESOLUTION_HOURS, S.RESOLVED_REPORTED, S.REOPENED, CUSTOMER_ID,
    )
}


def resolve_columns(columns: list[str], config: Any = None) -> dict[str, str]:
    """Canonical name -> export column, config overrides first."""
    override = columns_override(config, NAME)
    found: dict[str, str] = {}
    for canonical, names in SYNONYMS.items():
        if canonical in override:
            hit = find_column(columns, override[canonical])
        else:
            hit = find_column(columns, *names)
        if hit is not None:
            found[canonical] = hit
    return found


def detect(header: list[str], config: Any = None) -> float:
    found = resolve_columns([str(h) for h in header], config)
    if S.TEXT not in found:
        return 0.0
    return round(min(0.9, 0.4 + 0.05 * len(found)), 2)


def records_of(data: Any) -> list[dict[str, Any]] | None:
    if isinstance(data, list) and all(isinstance(r, dict) for r in data):
        return data
    if isinstance(data, dict):
        lists = [v for v in data.values() if isinstance(v, list) and all(isinstance(r, dict) for r in v)]
        if len(lists) == 1:
            return lists[0]
    return None


def read(path: Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    suffix = path.suffix.lower()
    if is_workbook(path):
        _, rows = read_xlsx_rows(path)
        if not rows:
            return frame_from_rows([], [S.TEXT]), {}
        return frame_from_rows(rows[1:], [str(c) for c in rows[0]]), {}
    if suffix == ".parquet" or read_bytes(path)[:4] == b"PAR1":
        try:
            return as_string_frame(pd.read_parquet(path)), {}
        except Exception as exc:
            raise InputError(f"Cannot read the Parquet export {path.name!r}: {exc}") from None
    if looks_like_json(read_bytes(path)) or suffix == ".json":
        records = records_of(load_json(path))
        if records is None:
            raise InputError(
                f"The JSON export {path.name!r} is not a list of records (objects with one key per column)."
            )
        frame = pd.DataFrame.from_records(records) if records else pd.DataFrame(columns=[S.TEXT])
        return as_string_frame(frame), {}
    data = read_bytes(path)
    meta: dict[str, Any] = {}
    return read_csv_bytes(data, path, sniff_layout(path), meta), meta


def stage(export: Export, config: Any) -> Staged:
    raw = export.raw
    found = resolve_columns(list(raw.columns), config)
    empty = pd.Series(pd.NA, index=raw.index, dtype=STRING)
    frame = pd.DataFrame({c: raw[found[c]] if c in found else empty for c in SYNONYMS}, index=raw.index)
    frame[REJECT] = empty
    settings = platform_settings(config, NAME)
    return Staged(frame=frame.astype(STRING), source=settings.source or "survey",
                  date_column=found.get(S.RECEIVED_AT, S.RECEIVED_AT),
                  timezone=settings.timezone or zone_from_name(found.get(S.RECEIVED_AT)),
                  **dayfirst_setting(settings, True),
                  roles={c: f"{found[c]!r} ({'set in feedback.toml' if c in columns_override(config, NAME) else 'named so'})"
                         for c in found})


def _has_text_column(columns: list[str], config: Any) -> bool:
    """The generic layout needs a text column (named so, or mapped in feedback.toml)."""
    return resolve_columns(columns, config).get(S.TEXT) is not None


PLATFORM = Platform(
    name=NAME, how="a 'text' column (or one mapped in [platforms.generic.columns])",
    signature=("text", "response_id", "received_at", "team", "channel", "csat", "nps", "customer_id"),
    read=read, stage=stage, detect_header=detect, columns=SYNONYMS, accepts=_has_text_column,
)
