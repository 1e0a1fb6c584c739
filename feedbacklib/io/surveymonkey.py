"""SurveyMonkey "All responses" export, CSV or XLSX, with two header rows.

Row 1: ``Respondent ID, Collector ID, Start Date, End Date, IP Address, Email
Address, First Name, Last Name, Custom Data 1`` then one cell per question
(blank over the continuation columns of a multi-column question). Row 2: the
sub-header (``Response``, ``Open-Ended Response``, ``Other (please specify)``,
``Response 1`` ...). A column is named by its question (forward-filled), with
`` - <sub-header>`` added unless the sub-header is ``Response`` or empty.

The comment is the first ``Open-Ended Response`` column (or the question that
reads like a comment), scores are guessed from the question text; all of it can
be set in ``[platforms.surveymonkey.columns]``. Dates are month-first
(``10/04/2026 09:12:33 AM``) or real Excel dates.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from .. import schema as S
from .platform import Platform
from ._common import (
    platform_settings,
    dayfirst_setting,
    CUSTOMER_ID, REJECT, STRING, Export, Staged, columns_override, find_column,
    frame_from_rows, head_rows, read_bytes, read_csv_bytes, read_xlsx_rows, sniff_delimiter, _text,
)
from .roles import choose_roles, describe

__all__ = ["PLATFORM", "detect", "read", "stage", "HEADER", "column_names"]

NAME = "surveymonkey"
HEADER = ("Respondent ID", "Collector ID", "Start Date", "End Date", "IP Address", "Email Address",
          "First Name", "Last Name", "Custom Data 1")
_FOLDED = {h.casefold() for h in HEADER}
#: The older CSV export writes the same columns without spaces (RespondentID, CollectorID, StartDate, ...).
_SQUEEZED = {h.replace(" ", "").casefold() for h in HEADER}


def _squeeze(name: str) -> str:
    return name.replace(" ", "").strip().casefold()
_SUBS = ("response", "open-ended response", "other (please specify)")
OPEN_ENDED = "Open-Ended Response"


def detect(rows: list[list[str]]) -> float:
    if len(rows) < 2:
        return 0.0
    first = {_squeeze(c) for c in rows[0]}
    if "respondentid" not in first or len(first & _SQUEEZED) < 3:
        return 0.0
    second = [c.strip().casefold() for c in rows[1]]
    if any(c in _SUBS or c.startswith("response ") for c in second):
        return 0.97
    return 0.5


def column_names(questions: list[str], subs: list[str]) -> list[str]:
    """One name per column from the two header rows (questions forward-filled)."""
    names: list[str] = []
    current = ""
    for i in range(max(len(questions), len(subs))):
        q = (questions[i] if i < len(questions) else "").strip()
        sub = (subs[i] if i < len(subs) else "").strip()
        if q:
            current = q
        if not current:
            names.append(sub or f"Unnamed: {i}")
        elif q and (not sub or sub.casefold() == "response"):
            names.append(current)
        else:
            names.append(f"{current} - {sub}" if sub else current)
    return names


def read(path: Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    data = read_bytes(path)
    meta: dict[str, Any] = {}
    if data.startswith(b"PK\x03\x04"):
        sheet, rows = read_xlsx_rows(path)
        rows = [list(r) for r in rows]
        while rows and not any(_text(c) for c in rows[-1]):
            rows.pop()
        head = [[_text(c) or "" for c in r] for r in rows[:2]] + [[], []]
        names = column_names(head[0], head[1])
        meta.update(sheet=sheet, questions=head[0], subs=head[1])
        return frame_from_rows(rows[2:], names), meta

    def layout(text: str) -> tuple[str, int, list[str] | None]:
        delimiter = sniff_delimiter(text[: text.find("\n") + 1 or None], path.suffix.lower())
        head = head_rows(text, delimiter, 2) + [[], []]
        meta.update(questions=head[0], subs=head[1])
        return delimiter, 2, column_names(head[0], head[1])

    return read_csv_bytes(data, path, layout, meta), meta


def stage(export: Export, config: Any) -> Staged:
    raw = export.raw
    cols = list(raw.columns)
    override = columns_override(config, NAME)
    settings = platform_settings(config, NAME)
    skip = {c for c in cols if _squeeze(c) in _SQUEEZED}
    chosen = choose_roles(raw, [c for c in cols if c not in skip], text_hint=[
        c for c in cols if c.endswith(f" - {OPEN_ENDED}")])
    guessed = {k: v[0] for k, v in chosen.items()}
    open_ended = [c for c in cols if c.endswith(f" - {OPEN_ENDED}") and raw[c].notna().any()]
    if S.TEXT not in guessed and open_ended:
        guessed[S.TEXT] = open_ended[0]
        chosen[S.TEXT] = (open_ended[0], "the first open-ended question with answers")
    empty = pd.Series(pd.NA, index=raw.index, dtype=STRING)

    def get(canonical: str, *defaults: str) -> pd.Series:
        if canonical in override:
            hit = find_column(cols, override[canonical])
        else:
            hit = (find_column(cols, *defaults) if defaults else None) or guessed.get(canonical)
        return raw[hit] if hit is not None else empty

    team = get(S.TEAM)
    other = f"{guessed.get(S.TEAM)} - Other (please specify)"
    if S.TEAM not in override and other in raw.columns:
        # "Other" with the team written in: take what the respondent wrote
        is_other = team.str.strip().str.casefold().isin(["other", ""]).fillna(True)
        team = team.mask(is_other & raw[other].notna(), raw[other])
    rid = get(S.RESPONSE_ID, "Respondent ID", "RespondentID")
    if S.RESPONSE_ID not in override:
        rid = ("sm-" + rid.str.strip()).astype(STRING)
    date_col = override.get(S.RECEIVED_AT) or find_column(cols, "End Date", "EndDate") or "End Date"
    frame = pd.DataFrame({
        S.RESPONSE_ID: rid,
        S.RECEIVED_AT: get(S.RECEIVED_AT, "End Date", "EndDate").fillna(get("_start", "Start Date", "StartDate")),
        S.CSAT: get(S.CSAT),
        S.NPS: get(S.NPS),
        S.TEXT: get(S.TEXT),
        S.TEAM: team,
        S.CHANNEL: get(S.CHANNEL),
        S.CATEGORY: get(S.CATEGORY),
        CUSTOMER_ID: get(CUSTOMER_ID, "Email Address", "EmailAddress"),
        REJECT: empty,
    }, index=raw.index)
    return Staged(frame=frame.astype(STRING), source=settings.source or "survey",
                  date_column=date_col, timezone=settings.timezone,
                  **dayfirst_setting(settings, False),
                  roles=describe(chosen, override, {S.RECEIVED_AT: f"{date_col!r} (the response date)"}))


PLATFORM = Platform(name=NAME, how="two header rows: questions, then Response / Open-Ended Response",
                    signature=HEADER, read=read, stage=stage, detect=detect)
