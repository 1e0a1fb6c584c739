"""Freshdesk tickets: the CSV ticket export and the API's JSON ticket list.

CSV (Tickets > Export): ``Ticket ID, Subject, Description, Status, Priority,
Source, Type, Agent, Group, Created time, Due by Time, Resolved time, Closed
time, Last update time, Initial response time, Time tracked, First response
time (in hrs), Resolution time (in hrs), Agent interactions, Customer
interactions, Resolution status, First response status, Tags, Survey results,
Product, Full name, Email, Contact ID, Company Name``.

JSON (``GET /api/v2/tickets``): a list of tickets with ``id, subject,
description_text, status, priority, source, type, group_id, requester_id,
responder_id, created_at, updated_at, due_by, fr_due_by, fr_escalated,
is_escalated, custom_fields {...}`` (numeric status and source codes). Only
Freshdesk writes ``fr_due_by`` / ``fr_escalated`` / ``Due by Time`` /
``First response time (in hrs)``: that is how it is told apart from Zendesk.

Satisfaction ("Survey results": Awesome / Just Okay / Not Good) becomes CSAT
5 / 3 / 1; spam and deleted tickets are quarantined.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from .. import schema as S
from ..settings import PlatformSettings
from ..errors import InputError, QuarantineKind
from .platform import Platform
from .zendesk import load_json
from ._common import (
    CUSTOMER_ID, STRING, VERSION, Export, Rejects, Staged, as_string_frame, find_column, looks_like_json, read_bytes,
)
from ._mapped import Spec, header_score, read_table, stage_mapped

__all__ = ["PLATFORM", "detect", "detect_json", "read", "stage", "CSV_SPEC", "JSON_SPEC"]

NAME = "freshdesk"
#: Keys only Freshdesk's ticket objects carry.
JSON_KEYS = {"fr_due_by", "fr_escalated", "responder_id", "email_config_id", "description_text", "is_escalated",
             "due_by", "fwd_emails", "reply_cc_emails", "to_emails", "spam", "product_id"}
SOURCES = {"1": "email", "2": "web", "3": "phone", "7": "chat", "8": "web", "9": "web", "10": "email",
           "email": "email", "portal": "web", "phone": "phone", "chat": "chat", "feedback widget": "web",
           "outbound email": "email", "mobihelp": "web", "forum": "web", "twitter": "social", "facebook": "social"}
STATUSES = {"2": "Open", "3": "Pending", "4": "Resolved", "5": "Closed"}
SURVEY = {"awesome": "5", "just okay": "3", "not good": "1", "extremely happy": "5", "happy": "4",
          "neutral": "3", "unhappy": "2", "extremely unhappy": "1"}


def _finish(raw: pd.DataFrame, frame: pd.DataFrame, settings: PlatformSettings) -> pd.DataFrame:
    frame = frame.copy()
    channel = frame[S.CHANNEL].str.strip().str.casefold()
    frame[S.CHANNEL] = channel.map(lambda v: SOURCES.get(v, v), na_action="ignore").astype(STRING)
    csat = frame[S.CSAT].str.strip().str.casefold()
    frame[S.CSAT] = csat.map(lambda v: SURVEY.get(v, v), na_action="ignore").astype(STRING)
    status = raw[find_column(list(raw.columns), "Status", "status")] if find_column(
        list(raw.columns), "Status", "status") else None
    if status is not None:
        named = status.str.strip().map(lambda v: STATUSES.get(v, v), na_action="ignore")
        frame[S.RESOLVED_REPORTED] = named.str.casefold().isin(["resolved", "closed"]).astype(str).str.lower().astype(
            STRING).where(named.notna())
    return frame


def _reject(raw: pd.DataFrame, frame: pd.DataFrame) -> Rejects:
    out = Rejects(raw.index)
    spam = find_column(list(raw.columns), "spam")
    if spam is not None:
        out.mark(raw[spam].str.strip().str.casefold() == "true", QuarantineKind.EXCLUDED_STATUS, "status spam")
    deleted = find_column(list(raw.columns), "deleted")
    if deleted is not None:
        out.mark(raw[deleted].str.strip().str.casefold() == "true", QuarantineKind.DELETED_TICKET)
    status = find_column(list(raw.columns), "Status")
    if status is not None:
        out.mark(raw[status].str.strip().str.casefold() == "deleted", QuarantineKind.DELETED_TICKET)
    return out


CSV_SPEC = Spec(
    name=NAME,
    columns={S.RESPONSE_ID: ("Ticket ID",), S.RECEIVED_AT: ("Created time",), "_title": ("Subject",),
             S.TEXT: ("Description",), S.TEAM: ("Group",), S.CHANNEL: ("Source",), S.CATEGORY: ("Type",),
             S.CSAT: ("Survey results",), S.FIRST_RESPONSE_HOURS: ("First response time (in hrs)",),
             S.RESOLUTION_HOURS: ("Resolution time (in hrs)",), CUSTOMER_ID: ("Contact ID", "Email"),
             VERSION: ("Last update time",)},
    signature=("Ticket ID", "Due by Time", "First response time (in hrs)", "Resolution time (in hrs)",
               "Agent interactions", "Customer interactions", "Resolution status", "First response status",
               "Initial response time", "Time tracked", "Created time", "Last update time", "Contact ID"),
    min_hits=4, required=("Ticket ID",), source="ticket", id_prefix="fd-", finish=_finish, reject=_reject,
)
JSON_SPEC = Spec(
    name=NAME,
    columns={S.RESPONSE_ID: ("id",), S.RECEIVED_AT: ("created_at",), "_title": ("subject",),
             S.TEXT: ("description_text", "description"), S.TEAM: ("group_name", "group_id"),
             S.CHANNEL: ("source",), S.CATEGORY: ("type",), CUSTOMER_ID: ("requester_id",),
             VERSION: ("updated_at",)},
    signature=tuple(JSON_KEYS), min_hits=3, source="ticket", id_prefix="fd-", timezone="UTC",
    finish=_finish, reject=_reject,
)


def _tickets(data: Any) -> list[dict[str, Any]] | None:
    if isinstance(data, dict):
        data = data.get("tickets", data.get("results"))
    if isinstance(data, list) and data and all(isinstance(t, dict) for t in data):
        return data
    return None


def detect_json(data: Any) -> float:
    tickets = _tickets(data)
    if not tickets:
        return 0.0
    share = sum(len(JSON_KEYS & set(t)) >= 3 for t in tickets[:20]) / len(tickets[:20])
    return round(0.6 + 0.39 * share, 2) if share >= 0.5 else 0.0


def detect(rows: list[list[str]]) -> float:
    return header_score(rows[0], CSV_SPEC) if rows else 0.0


def read(path: Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    data = read_bytes(path)
    if not looks_like_json(data):
        raw, meta = read_table(path)
        meta["layout"] = "csv"
        return raw, meta
    tickets = _tickets(load_json(path))
    if tickets is None:
        raise InputError(f"The export {path.name!r} is JSON but not a Freshdesk ticket list: expected a list of "
                         "tickets (objects with id, subject, status, created_at, fr_due_by ...).")
    rows = []
    for t in tickets:
        row = {k: v for k, v in t.items() if k != "custom_fields"}
        for k, v in (t.get("custom_fields") or {}).items() if isinstance(t.get("custom_fields"), dict) else ():
            row[f"custom_fields.{k}"] = v
        rows.append(row)
    return as_string_frame(pd.DataFrame.from_records(rows)), {"layout": "json"}


def stage(export: Export, config: Any) -> Staged:
    return stage_mapped(export, config, JSON_SPEC if export.meta.get("layout") == "json" else CSV_SPEC)


PLATFORM = Platform(
    name=NAME, how="Ticket ID, ..., Due by Time, First response time (in hrs), ... (or the API's JSON ticket list)",
    signature=CSV_SPEC.signature, read=read, stage=stage, detect=detect, detect_json=detect_json,
    columns=CSV_SPEC.columns,
)
