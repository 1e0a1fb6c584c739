"""Google Forms and Microsoft Forms response sheets (CSV or XLSX).

Both write one column per question, named by the full question text.

- Google Forms: first column ``Timestamp`` (``M/D/YYYY H:MM:SS`` in the sheet's
  locale), optionally ``Email Address``; no response id (a row hash is used).
- Microsoft Forms: ``Id, Start time, Completion time, Email, Name, ...``; the
  CSV saved from Excel is usually cp1252 (decoded by :func:`_common.decode`).

Which question is the comment, the satisfaction score or the recommendation
score is guessed from the question text (:func:`guess_questions`), and can be
set in ``[platforms.google_forms.columns]`` / ``[platforms.microsoft_forms.columns]``
(``text = "What could we do better?"``). Dates are month-first unless
``[platforms.<name>] dayfirst = true``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from .. import schema as S
from .platform import Platform
from ._common import (
    platform_settings,
    zone_from_name,
    dayfirst_setting,
    CUSTOMER_ID, REJECT, STRING, Export, Staged, columns_override, find_column,
    frame_from_rows, read_bytes, read_csv_bytes, read_xlsx_rows, sniff_layout, _text,
)

from .roles import choose_roles, describe

__all__ = ["MICROSOFT", "GOOGLE", "detect_google", "detect_microsoft", "read", "stage_google", "stage_microsoft",
           "guess_questions", "GOOGLE_HEADER", "MICROSOFT_HEADER"]

GOOGLE_HEADER = ("Timestamp", "Email Address")
MICROSOFT_HEADER = ("Id", "Start time", "Completion time", "Email", "Name")
_MS_FOLDED = {h.casefold() for h in MICROSOFT_HEADER}



def guess_questions(raw: pd.DataFrame, skip: set[str]) -> dict[str, str]:
    """Canonical name -> question column, from the question text and the answers
    (:func:`feedbacklib.io.roles.choose_roles`)."""
    return {k: v[0] for k, v in choose_roles(raw, [c for c in raw.columns if c not in skip]).items()}


def detect_google(rows: list[list[str]]) -> float:
    if not rows or len(rows[0]) < 2 or rows[0][0].strip() != "Timestamp":
        return 0.0
    return 0.8 if "Email Address" in [c.strip() for c in rows[0]] else 0.7


def detect_microsoft(rows: list[list[str]]) -> float:
    if not rows:
        return 0.0
    hits = len({c.strip().casefold() for c in rows[0][:6]} & _MS_FOLDED)
    return 0.95 if hits >= 4 else 0.0


def read(path: Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    data = read_bytes(path)
    if data.startswith(b"PK\x03\x04"):
        sheet, rows = read_xlsx_rows(path)
        while rows and not any(_text(c) for c in rows[-1]):
            rows = rows[:-1]
        if not rows:
            return frame_from_rows([], ["Timestamp"]), {"sheet": sheet}
        return frame_from_rows(rows[1:], [_text(c) or "" for c in rows[0]]), {"sheet": sheet}
    meta: dict[str, Any] = {}
    return read_csv_bytes(data, path, sniff_layout(path), meta), meta


def _stage(export: Export, config: Any, name: str, *, id_col: str | None, date_cols: tuple[str, ...],
           email_cols: tuple[str, ...], meta_cols: set[str]) -> Staged:
    raw = export.raw
    cols = list(raw.columns)
    override = columns_override(config, name)
    settings = platform_settings(config, name)
    chosen = choose_roles(raw, [c for c in cols if c.strip().casefold() not in meta_cols])
    guessed = {k: v[0] for k, v in chosen.items()}
    empty = pd.Series(pd.NA, index=raw.index, dtype=STRING)

    def get(canonical: str, *defaults: str) -> pd.Series:
        if canonical in override:
            hit = find_column(cols, override[canonical])
        else:
            hit = find_column(cols, *defaults) if defaults else None
            hit = hit or guessed.get(canonical)
        return raw[hit] if hit is not None else empty

    date_col = override.get(S.RECEIVED_AT) or next((c for c in date_cols if find_column(cols, c)), date_cols[0])
    email = get(CUSTOMER_ID, *email_cols)
    email = email.mask(email.str.strip().str.casefold().isin(["anonymous", ""]).fillna(False), None)
    rid = get(S.RESPONSE_ID, id_col) if id_col else get(S.RESPONSE_ID)
    if id_col and S.RESPONSE_ID not in override:
        rid = (f"{name}-" + rid.str.strip()).astype(STRING)
    frame = pd.DataFrame({
        S.RESPONSE_ID: rid,
        S.RECEIVED_AT: get(S.RECEIVED_AT, date_col),
        S.CSAT: get(S.CSAT),
        S.NPS: get(S.NPS),
        S.TEXT: get(S.TEXT),
        S.TEAM: get(S.TEAM),
        S.CHANNEL: get(S.CHANNEL),
        S.CATEGORY: get(S.CATEGORY),
        CUSTOMER_ID: email,
        REJECT: empty,
    }, index=raw.index)
    return Staged(frame=frame.astype(STRING), source=settings.source or "survey",
                  date_column=date_col, timezone=settings.timezone or zone_from_name(date_col),
                  **dayfirst_setting(settings, False),
                  roles=describe(chosen, override, {S.RECEIVED_AT: f"{date_col!r} (the response date)"}))


def stage_google(export: Export, config: Any) -> Staged:
    return _stage(export, config, "google_forms", id_col=None, date_cols=("Timestamp",),
                  email_cols=("Email Address", "Email"), meta_cols={"timestamp", "email address", "score"})


def stage_microsoft(export: Export, config: Any) -> Staged:
    return _stage(export, config, "microsoft_forms", id_col="Id",
                  date_cols=("Completion time", "Start time"), email_cols=("Email",),
                  meta_cols={"id", "start time", "completion time", "email", "name",
                             "last modified time", "total points", "quiz feedback"})


MICROSOFT = Platform(name="microsoft_forms",
                     how="Id, Start time, Completion time, Email, Name, then one column per question",
                     signature=MICROSOFT_HEADER, read=read, stage=stage_microsoft, detect=detect_microsoft)
GOOGLE = Platform(name="google_forms", how="Timestamp, then one column per question", signature=GOOGLE_HEADER,
                  read=read, stage=stage_google, detect=detect_google)
