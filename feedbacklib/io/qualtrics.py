"""Qualtrics exports: the current 3-header-row layout and the legacy 2-row one.

Read from CSV (UTF-8 with or without BOM), the TSV export (UTF-16) and XLSX.

Current layout: row 1 column ids, row 2 question text, row 3 ``{"ImportId": ...}``
JSON (date columns may add ``"timeZone"``). Legacy (before 2017): row 1
``V1..Vn``/``Qn``, row 2 labels such as ``ResponseID``; a ``Vn`` column takes
its label as name.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pandas as pd

from .. import schema as S
from ..errors import QuarantineKind
from .platform import Platform
from ._common import (
    platform_settings,
    dayfirst_setting,
    CUSTOMER_ID, REJECT, REJECT_KIND, STRING, Rejects, Export, Staged, columns_override, find_column,
    frame_from_rows, head_rows, per_unique, read_bytes, read_csv_bytes, read_xlsx_rows,
    sniff_delimiter, _text,
)

from .roles import choose_roles, describe

__all__ = ["PLATFORM", "detect", "read", "stage"]

NAME = "qualtrics"
_KNOWN = {
    "startdate", "enddate", "status", "ipaddress", "progress", "duration (in seconds)",
    "finished", "recordeddate", "responseid", "distributionchannel", "userlanguage",
    "recipientemail", "externalreference",
}
_LEGACY = re.compile(r"^V[0-9]+$")
# Numeric Status codes of older exports.
_STATUS_CODES = {
    "0": "IP Address", "1": "Survey Preview", "2": "Survey Test", "4": "Imported",
    "8": "Spam", "9": "Survey Preview Spam", "12": "Imported Spam", "16": "Offline",
    "17": "Offline Survey Preview",
}
_TEXT_ID = re.compile(r"^QID[0-9]+_TEXT$")
_EXCLUDED_STATUS = re.compile(r"preview|test|spam", re.IGNORECASE)


def _is_import_row(row: list[str]) -> bool:
    """The third header row: ``{"ImportId": ...}`` JSON, or the 2016 "Insights" export's
    Python-style ``{'ImportId': ...}``."""
    cells = [c for c in row if c.strip()]
    return bool(cells) and sum('"ImportId"' in c or "'ImportId'" in c for c in cells) >= max(1, len(cells) // 2)


def _import_info(cell: str) -> Any:
    try:
        return json.loads(cell)
    except ValueError:
        pass
    if "'ImportId'" in cell and len(cell) < 2000:
        import ast

        try:
            return ast.literal_eval(cell)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            return {}
    return {}


def detect(rows: list[list[str]]) -> float:
    """Confidence that the first CSV records are a Qualtrics export."""
    if not rows:
        return 0.0
    if len(rows) >= 3 and _is_import_row(rows[2]):
        return 0.99
    first = {c.strip().casefold() for c in rows[0]}
    if len(rows) >= 2 and sum(bool(_LEGACY.match(c.strip())) for c in rows[0]) >= 5:
        second = {c.strip().casefold() for c in rows[1]}
        if {"responseid", "startdate"} <= second:
            return 0.9
    hits = len(first & _KNOWN)
    if "responseid" in first and hits >= 4:
        return 0.8
    return 0.0


def _layout(rows: list[list[str]], meta: dict[str, Any]) -> tuple[list[str] | None, int]:
    """Column names and number of header rows, filling ``meta`` from the header rows."""
    if len(rows) >= 3 and _is_import_row(rows[2]):
        names = rows[0]
        for name, question, imp in zip(names, rows[1], rows[2]):
            meta["questions"][name] = question
            info = _import_info(imp)
            if isinstance(info, dict):
                if "ImportId" in info:
                    meta["import_ids"][name] = str(info["ImportId"])
                if info.get("timeZone"):
                    meta["timezones"][name] = str(info["timeZone"])
        meta["layout"] = "insights-2016" if any("'ImportId'" in c for c in rows[2]) else "current"
        return names, 3
    if len(rows) >= 2 and sum(bool(_LEGACY.match(c.strip())) for c in rows[0]) >= 5:
        names = [lab if _LEGACY.match(col.strip()) and lab.strip() else col
                 for col, lab in zip(rows[0], rows[1] + [""] * len(rows[0]))]
        meta["questions"] = dict(zip(names, rows[1]))
        meta["layout"] = "legacy"
        return names, 2
    meta["layout"] = "single-header"
    return None, 1


def read(path: Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    data = read_bytes(path)
    meta: dict[str, Any] = {"questions": {}, "import_ids": {}, "timezones": {}}
    if data.startswith(b"PK\x03\x04"):
        sheet, cells = read_xlsx_rows(path)
        rows = [[_text(c) or "" for c in r] for r in cells]
        while rows and not any(rows[-1]):
            rows.pop()
        names, skip = _layout(rows[:3], meta)
        names = names or (rows[0] if rows else [])
        meta["sheet"] = sheet
        return frame_from_rows(cells[skip:len(rows)], names), meta

    def layout(text: str) -> tuple[str, int, list[str] | None]:
        meta.update(questions={}, import_ids={}, timezones={})
        delimiter = sniff_delimiter(text[: text.find("\n") + 1 or None], path.suffix.lower())
        names, skip = _layout(head_rows(text, delimiter, 3), meta)
        return delimiter, skip, names

    raw = read_csv_bytes(data, path, layout, meta)
    return raw, meta


def _by_question(meta: dict[str, Any], columns: list[str]) -> dict[str, str]:
    """Bonus mapping from question text / ImportId when the ids are not Q1/Q2/Q3."""
    found: dict[str, str] = {}
    questions = meta.get("questions", {})
    import_ids = meta.get("import_ids", {})
    for col in columns:
        q = str(questions.get(col, "")).casefold()
        if S.NPS not in found and "recommend" in q:
            found[S.NPS] = col
        elif S.CSAT not in found and ("satisf" in q or "csat" in q):
            found[S.CSAT] = col
        elif S.TEXT not in found and _TEXT_ID.match(import_ids.get(col, "")) and (
            "comment" in q or "tell us" in q or "why" in q or "feedback" in q
        ):
            found[S.TEXT] = col
    return found


def _free_text_column(raw: pd.DataFrame, meta: dict[str, Any]) -> str | None:
    """Legacy layout: the question column whose answers are words, not codes."""
    best, best_len = None, 0.0
    for col in raw.columns:
        if not re.match(r"^Q[0-9]+", col) and "free text" not in str(meta["questions"].get(col, "")).lower():
            continue
        values = raw[col].dropna()
        if values.empty:
            continue
        numeric = pd.to_numeric(values, errors="coerce").notna().mean()
        mean_len = float(values.str.len().mean())
        if numeric < 0.5 and mean_len > best_len:
            best, best_len = col, mean_len
    return best


def _status_reasons(status: pd.Series) -> pd.Series:
    """``status <value>`` for previews, tests and spam (numeric codes named); ``<NA>`` otherwise."""
    status = status.str.strip().replace(_STATUS_CODES)
    bad = status.str.contains(_EXCLUDED_STATUS.pattern, case=False, regex=True).fillna(False)
    return pd.Series(pd.NA, index=status.index, dtype=STRING).mask(bad, "status " + status)


#: Meta columns and embedded data that are never a question (and so never a score or the comment).
_NOT_QUESTIONS = _KNOWN | {"recipientlastname", "recipientfirstname", "locationlatitude", "locationlongitude",
                           "team", "channel", "customer_id", "contact_reason", "ticket_id", "q_url",
                           "q_recaptchascore", "q_relevantidduplicate"}
_ISO_DAY = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}"


def _response_dates(recorded: pd.Series, end: pd.Series) -> tuple[pd.Series, pd.Series]:
    """The response's date: RecordedDate, except where EndDate (when the respondent finished) is an
    ISO date on another day: imported responses and responses recorded later carry the import or
    recording day in RecordedDate. Also returns which rows took EndDate."""
    import pyarrow as pa
    import pyarrow.compute as pc

    rec = pa.array(recorded, type=pa.large_string())
    fin = pa.array(end, type=pa.large_string())
    other_day = pc.fill_null(pc.not_equal(pc.utf8_slice_codeunits(rec, 0, 10),
                                          pc.utf8_slice_codeunits(fin, 0, 10)), False)
    if not pc.any(other_day).as_py():
        return recorded.fillna(end), pd.Series(False, index=recorded.index)
    both_iso = pc.and_(pc.fill_null(pc.match_substring_regex(rec, _ISO_DAY), False),
                       pc.fill_null(pc.match_substring_regex(fin, _ISO_DAY), False))
    use_end = pd.Series(pc.and_(other_day, both_iso).to_numpy(zero_copy_only=False), index=recorded.index)
    return recorded.mask(use_end, end).fillna(end), use_end


def stage(export: Export, config: Any) -> Staged:
    raw = export.raw
    cols = list(raw.columns)
    meta = dict(export.meta)
    override = columns_override(config, NAME)

    import_ids = meta.get("import_ids", {})
    text_columns = [c for c in cols if _TEXT_ID.match(import_ids.get(c, ""))]
    questions = [c for c in cols if c.strip().casefold() not in _NOT_QUESTIONS and c not in override.values()
                 and (meta.get("layout") != "legacy" or re.match(r"^Q[0-9]+", c))]
    chosen = choose_roles(raw, questions, meta.get("questions", {}), text_hint=text_columns)

    def col(canonical: str, *defaults: str) -> str | None:
        if canonical in override:
            return find_column(cols, override[canonical])
        if canonical in (S.CSAT, S.NPS, S.TEXT):
            return chosen[canonical][0] if canonical in chosen else None
        return find_column(cols, *defaults)

    empty = pd.Series(pd.NA, index=raw.index, dtype=STRING)

    def get(name: str | None) -> pd.Series:
        return raw[name] if name is not None else empty

    recorded = col(S.RECEIVED_AT, "RecordedDate")
    end = find_column(cols, "EndDate")
    fixed: dict[str, str] = {}
    if recorded and end and S.RECEIVED_AT not in override:
        received, took_end = _response_dates(raw[recorded], raw[end])
        moved = int(took_end.sum())
        fixed[S.RECEIVED_AT] = (f"{recorded!r} (the response date)" if not moved else
                                f"{recorded!r}, or {end!r} in {moved} rows where the response ended on "
                                "another day (imported or recorded later)")
    else:
        received = get(recorded).fillna(get(end)) if recorded else get(end)
        fixed[S.RECEIVED_AT] = f"{recorded or end!r} (the response date)"
    date_column = recorded or end or "RecordedDate"
    tz = meta.get("timezones", {}).get(date_column) or meta.get("timezones", {}).get(end or "")

    rid = col(S.RESPONSE_ID, "ResponseId", "ResponseID", "_recordId")
    frame = pd.DataFrame({
        S.RESPONSE_ID: get(rid),
        S.RECEIVED_AT: received,
        S.CSAT: get(col(S.CSAT)),
        S.NPS: get(col(S.NPS)),
        S.TEXT: get(col(S.TEXT)),
        S.TEAM: get(col(S.TEAM, "team")),
        S.CHANNEL: get(col(S.CHANNEL, "channel")),
        S.CATEGORY: get(col(S.CATEGORY, "contact_reason")),
        CUSTOMER_ID: get(col(CUSTOMER_ID, "customer_id")),
    }, index=raw.index)
    for canonical, name in ((S.RESPONSE_ID, rid), (S.TEAM, col(S.TEAM, "team")), (S.CHANNEL, col(S.CHANNEL, "channel")),
                            (S.CATEGORY, col(S.CATEGORY, "contact_reason")), (CUSTOMER_ID, col(CUSTOMER_ID, "customer_id"))):
        if name is not None and canonical not in override:
            fixed[canonical] = f"{name!r} (named so)"

    rejects = Rejects(raw.index)
    status_col = find_column(cols, "Status")
    if status_col is not None:
        status = per_unique(raw[status_col], _status_reasons)
        rejects.mark(status.notna(), QuarantineKind.EXCLUDED_STATUS, status)
    finished_col = find_column(cols, "Finished")
    settings = platform_settings(config, NAME)
    if finished_col is not None and settings.unfinished == "quarantine":
        unfinished = raw[finished_col].str.strip().str.lower().isin(["false", "0", "no"])
        rejects.mark(unfinished & rejects.kind.isna(), QuarantineKind.UNFINISHED)
    frame[REJECT], frame[REJECT_KIND] = rejects.detail, rejects.kind
    return Staged(frame=frame.astype(STRING), source="survey", date_column=date_column,
                  timezone=tz or settings.timezone, **dayfirst_setting(settings, False),
                  roles=describe(chosen, override, fixed))


PLATFORM = Platform(
    name=NAME, how="three header rows, the third with ImportId JSON (or legacy V1..Vn + labels)",
    signature=("StartDate", "EndDate", "Status", "IPAddress", "Progress", "Duration (in seconds)",
               "Finished", "RecordedDate", "ResponseId", "DistributionChannel", "UserLanguage"),
    read=read, stage=stage, detect=detect, settings=("unfinished",),
)
