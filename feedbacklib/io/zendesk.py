"""Zendesk incremental ticket export (JSON).

Accepted shapes: the API envelope ``{"tickets": [...], "groups": [...], ...}``,
a bare list of tickets, and a list of envelopes (pages). The raw frame has one
row per ticket; scalar fields keep their names, nested objects are flattened
with dots (``via.channel``, ``satisfaction_rating.score``), each custom field
becomes ``custom_fields.<id>``, and anything else nested is kept as JSON text.
Side-loaded groups go to ``Export.meta["groups"]`` (id -> name).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from .. import schema as S
from ..errors import InputError
from ._common import (
    CUSTOMER_ID, REJECT, STRING, Export, Staged, as_string_frame, decode, read_bytes,
)

__all__ = ["detect", "read", "stage", "load_json"]

NAME = "zendesk"
_TICKET_KEYS = {"id", "created_at", "via", "status", "requester_id", "description",
                "satisfaction_rating", "group_id", "custom_fields", "subject"}
CHANNELS = {
    "email": "email", "mail": "email", "web": "web", "web_form": "web", "api": "web",
    "chat": "chat", "native_messaging": "chat", "messaging": "chat", "voice": "phone",
    "phone": "phone", "twitter": "social", "facebook": "social", "instagram_dm": "social",
    "whatsapp": "social", "sms": "phone",
}


def load_json(path: Path) -> Any:
    text, _ = decode(read_bytes(path))
    try:
        return json.loads(text)
    except ValueError as exc:
        raise InputError(f"The export {path.name!r} is not valid JSON: {exc}.") from None


def _is_ticket(obj: Any) -> bool:
    return isinstance(obj, dict) and len(_TICKET_KEYS & set(obj)) >= 4


def _pages(data: Any) -> list[dict[str, Any]] | None:
    """The export as a list of envelopes, or None when it is not ticket-shaped."""
    if isinstance(data, dict) and isinstance(data.get("tickets"), list):
        return [data]
    if isinstance(data, list):
        if data and all(isinstance(p, dict) and isinstance(p.get("tickets"), list) for p in data):
            return data
        if data and _is_ticket(data[0]):
            return [{"tickets": data}]
    return None


def detect(data: Any) -> float:
    pages = _pages(data)
    if pages is None:
        return 0.0
    tickets = [t for p in pages for t in p["tickets"][:5]]
    if not tickets:
        return 0.7 if isinstance(data, dict) and "end_of_stream" in data else 0.5
    share = sum(_is_ticket(t) for t in tickets) / len(tickets)
    return round(0.6 + 0.39 * share, 2) if isinstance(data, dict) or share else 0.0


def _flatten(ticket: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for key, value in ticket.items():
        if key == "via" and isinstance(value, dict):
            row["via.channel"] = value.get("channel")
            row["via.source"] = value.get("source")
        elif key == "satisfaction_rating" and isinstance(value, dict):
            for k, v in value.items():
                row[f"satisfaction_rating.{k}"] = v
        elif key == "custom_fields" and isinstance(value, list):
            for item in value:
                if isinstance(item, dict) and "id" in item:
                    row[f"custom_fields.{item['id']}"] = item.get("value")
        else:
            row[key] = value
    return row


def read(path: Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    data = load_json(path)
    pages = _pages(data)
    if pages is None:
        raise InputError(
            f"The export {path.name!r} is JSON but not a Zendesk ticket export: expected "
            '{"tickets": [...]}, a list of tickets, or a list of such pages.'
        )
    groups: dict[str, str] = {}
    rows: list[dict[str, Any]] = []
    for page in pages:
        for group in page.get("groups") or []:
            if isinstance(group, dict) and "id" in group:
                groups[str(group["id"])] = str(group.get("name") or "")
        for ticket in page["tickets"]:
            rows.append(_flatten(ticket) if isinstance(ticket, dict) else {"value": ticket})
    columns: list[str] = []
    seen: set[str] = set()
    for row in rows:
        for key in row:
            if key not in seen:
                seen.add(key)
                columns.append(key)
    frame = pd.DataFrame.from_records(rows, columns=columns) if rows else pd.DataFrame(columns=columns)
    return as_string_frame(frame), {"groups": groups}


def stage(export: Export, config: Any) -> Staged:
    raw = export.raw
    settings = config.platform(NAME) if config is not None else {}
    empty = pd.Series(pd.NA, index=raw.index, dtype=STRING)

    def get(name: str) -> pd.Series:
        return raw[name] if name in raw.columns else empty

    def custom(key: str) -> pd.Series:
        field = settings.get(key)
        return get(f"custom_fields.{field}") if field is not None else empty

    score = get("satisfaction_rating.score").str.strip().str.lower()
    csat = pd.Series(pd.NA, index=raw.index, dtype=STRING)
    csat = csat.mask((score == "good").fillna(False), str(settings.get("good_csat", 5)))
    csat = csat.mask((score == "bad").fillna(False), str(settings.get("bad_csat", 1)))
    comment = get("satisfaction_rating.comment")
    has_comment = comment.str.strip().fillna("") != ""
    text = comment.where(has_comment, get("description"))

    groups = export.meta.get("groups", {})
    team = get("group_id").map(groups, na_action="ignore").astype(STRING)

    channel = get("via.channel").str.strip().str.lower()
    channel = channel.map(lambda v: CHANNELS.get(v, v), na_action="ignore").astype(STRING)

    ids = get("id")
    frame = pd.DataFrame({
        S.RESPONSE_ID: ("zd-" + ids).astype(STRING),
        S.RECEIVED_AT: get("created_at"),
        S.CSAT: csat,
        S.TEXT: text,
        S.TEAM: team,
        S.CHANNEL: channel,
        S.CATEGORY: custom("category_field"),
        S.FIRST_RESPONSE_HOURS: custom("first_response_hours_field"),
        S.RESOLUTION_HOURS: custom("resolution_hours_field"),
        S.RESOLVED_REPORTED: custom("resolved_reported_field"),
        S.REOPENED: custom("reopened_field"),
        CUSTOMER_ID: get("requester_id"),
    }, index=raw.index)
    deleted = get("status").str.strip().str.lower() == "deleted"
    frame[REJECT] = empty.mask(deleted.fillna(False), "deleted ticket")
    return Staged(frame=frame.astype(STRING), source="ticket", date_column="created_at",
                  timezone="UTC", dayfirst=False)
