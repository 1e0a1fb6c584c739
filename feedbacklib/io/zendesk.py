"""Zendesk tickets: the incremental ticket export (JSON) and the CSV view export.

Accepted shapes: the API envelope ``{"tickets": [...], "groups": [...], ...}``,
a bare list of tickets, and a list of envelopes (pages). The raw frame has one
row per ticket; scalar fields keep their names, nested objects are flattened
with dots (``via.channel``, ``satisfaction_rating.score``), each custom field
becomes ``custom_fields.<id>``, and anything else nested is kept as JSON text.
Side-loaded groups go to ``Export.meta["groups"]`` (id -> name).

The same ticket can appear twice (an incremental export lists a ticket again
each time it changes): the copy with the highest ``generated_timestamp`` (else
``updated_at``) is kept and older copies are quarantined as superseded.

CSV view export: ``ID, Subject, Requester, Group, Assignee, Status, Created /
Requested, Updated, Via, Satisfaction, Satisfaction Comment, Description ...``
(the view's columns; ``[platforms.zendesk.columns]`` maps others).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from .. import schema as S
from ..errors import InputError, QuarantineKind
from .platform import Platform
from ._common import (
    platform_settings,
    dayfirst_setting,
    CUSTOMER_ID, REJECT, REJECT_KIND, STRING, Rejects, VERSION, Export, Staged, as_string_frame, columns_override,
    decode, find_column, looks_like_json, read_bytes, read_csv_text, sniff_delimiter,
)

__all__ = ["PLATFORM", "detect", "detect_csv", "read", "stage", "load_json", "CSV_HEADER"]

CSV_HEADER = ("ID", "Subject", "Requester", "Requester email", "Group", "Assignee", "Status",
              "Created", "Updated", "Via", "Satisfaction", "Satisfaction Comment", "Description")
_CSV_FOLDED = {h.casefold() for h in CSV_HEADER} | {"requested", "request date", "priority", "type",
                                                    "ticket id", "channel", "satisfaction score"}

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
        return json.loads(text.lstrip("\ufeff"))
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


#: What only Zendesk writes: the envelope of the incremental export, and ticket fields.
_ENVELOPE_KEYS = {"end_of_stream", "next_page", "after_cursor", "after_url", "end_time", "previous_page"}
_ZENDESK_KEYS = {"submitter_id", "brand_id", "generated_timestamp", "via", "satisfaction_rating",
                 "organization_id", "collaborator_ids", "has_incidents", "allow_channelback", "ticket_form_id",
                 "raw_subject", "recipient", "problem_id", "sharing_agreement_ids", "follower_ids"}
#: What only other ticketing tools write (Freshdesk): a list holding these is not Zendesk.
_FOREIGN_KEYS = {"fr_due_by", "fr_escalated", "responder_id", "email_config_id", "description_text", "is_escalated"}


def _zendesk_marks(ticket: Any) -> int:
    if not isinstance(ticket, dict):
        return 0
    marks = len(_ZENDESK_KEYS & set(ticket))
    if "/api/v2/tickets/" in str(ticket.get("url", "")):
        marks += 2
    if isinstance(ticket.get("via"), dict) and "channel" in ticket["via"]:
        marks += 1
    if isinstance(ticket.get("custom_fields"), list):
        marks += 1
    return marks


def detect(data: Any) -> float:
    """Confidence that ``data`` is a Zendesk ticket export: ticket-shaped records are not enough
    (Freshdesk's have id/created_at/status/subject too); Zendesk's own fields must be there."""
    pages = _pages(data)
    if pages is None:
        return 0.0
    tickets = [t for p in pages for t in p["tickets"][:20]]
    envelope = any(_ENVELOPE_KEYS & set(p) for p in pages)
    if not tickets:
        return 0.7 if envelope else 0.0
    if any(isinstance(t, dict) and len(_FOREIGN_KEYS & set(t)) >= 2 for t in tickets):
        return 0.0
    share = sum(_zendesk_marks(t) >= 3 for t in tickets) / len(tickets)
    if share >= 0.5:
        return round(0.8 + 0.19 * share, 2)
    return 0.6 if envelope and share > 0 else 0.0


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


def detect_csv(rows: list[list[str]]) -> float:
    """Confidence that a CSV header is a Zendesk view export."""
    if not rows:
        return 0.0
    names = {c.strip().casefold() for c in rows[0]}
    if not names & {"id", "ticket id"}:
        return 0.0
    if not names & {"requester", "requester email", "assignee", "via", "satisfaction", "satisfaction comment",
                    "requested", "satisfaction score"}:
        return 0.0  # columns every ticketing tool has are not enough: Zendesk's own must be there
    if names & {"due by time", "first response time (in hrs)", "resolution status", "contact id"}:
        return 0.0  # Freshdesk's export
    hits = len(names & _CSV_FOLDED)
    return round(min(0.9, 0.3 + 0.1 * hits), 2) if hits >= 4 else 0.0


def read(path: Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    data_bytes = read_bytes(path)
    if not looks_like_json(data_bytes):
        text, encoding = decode(data_bytes)
        delimiter = sniff_delimiter(text[: text.find("\n") + 1 or None], path.suffix.lower())
        meta: dict[str, Any] = {"layout": "csv", "encoding": encoding}
        return read_csv_text(text, path, delimiter=delimiter, meta=meta), meta
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


def _stage_csv(export: Export, config: Any) -> Staged:
    raw = export.raw
    cols = list(raw.columns)
    override = columns_override(config, NAME)
    settings = platform_settings(config, NAME)
    empty = pd.Series(pd.NA, index=raw.index, dtype=STRING)

    def get(canonical: str, *defaults: str) -> pd.Series:
        hit = find_column(cols, override[canonical]) if canonical in override else find_column(cols, *defaults)
        return raw[hit] if hit is not None else empty

    score = get(S.CSAT, "Satisfaction", "Satisfaction Score", "Satisfaction rating").str.strip().str.lower()
    csat = score.mask((score == "good").fillna(False), str(settings.good_csat))
    csat = csat.mask((score == "bad").fillna(False), str(settings.bad_csat))
    csat = csat.mask(score.isin(["offered", "unoffered", "not offered"]).fillna(False), None)
    comment = get("_comment", "Satisfaction Comment", "Satisfaction comment")
    text = comment.where(comment.str.strip().fillna("") != "", get(S.TEXT, "Description", "Subject"))
    ids = get(S.RESPONSE_ID, "ID", "Ticket ID").str.strip().str.lstrip("#")
    created = find_column(cols, override.get(S.RECEIVED_AT, "Created"), "Requested", "Request date",
                          "Created at")
    frame = pd.DataFrame({
        S.RESPONSE_ID: ("zd-" + ids).astype(STRING),
        S.RECEIVED_AT: raw[created] if created else empty,
        S.CSAT: csat,
        S.TEXT: text,
        S.TEAM: get(S.TEAM, "Group"),
        S.CHANNEL: get(S.CHANNEL, "Via", "Channel"),
        S.CATEGORY: get(S.CATEGORY, "Type", "Category"),
        S.FIRST_RESPONSE_HOURS: get(S.FIRST_RESPONSE_HOURS, "First reply time in hours"),
        S.RESOLUTION_HOURS: get(S.RESOLUTION_HOURS, "Full resolution time in hours"),
        CUSTOMER_ID: get(CUSTOMER_ID, "Requester email", "Requester ID", "Requester"),
        VERSION: get(VERSION, "Updated", "Updated at"),
    }, index=raw.index)
    deleted = get("_status", "Status").str.strip().str.lower() == "deleted"
    rejects = Rejects(raw.index).mark(deleted, QuarantineKind.DELETED_TICKET)
    frame[REJECT], frame[REJECT_KIND] = rejects.detail, rejects.kind
    return Staged(frame=frame.astype(STRING), source="ticket", date_column=created or "Created",
                  timezone=settings.timezone, **dayfirst_setting(settings, False))  # type: ignore[arg-type]


def stage(export: Export, config: Any) -> Staged:
    if export.meta.get("layout") == "csv":
        return _stage_csv(export, config)
    raw = export.raw
    settings = platform_settings(config, NAME)
    empty = pd.Series(pd.NA, index=raw.index, dtype=STRING)

    def get(name: str) -> pd.Series:
        return raw[name] if name in raw.columns else empty

    def custom(key: str) -> pd.Series:
        field = getattr(settings, key)
        return get(f"custom_fields.{field}") if field is not None else empty

    score = get("satisfaction_rating.score").str.strip().str.lower()
    csat = pd.Series(pd.NA, index=raw.index, dtype=STRING)
    csat = csat.mask((score == "good").fillna(False), str(settings.good_csat))
    csat = csat.mask((score == "bad").fillna(False), str(settings.bad_csat))
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
        VERSION: get("generated_timestamp").fillna(get("updated_at")),
    }, index=raw.index)
    deleted = get("status").str.strip().str.lower() == "deleted"
    rejects = Rejects(raw.index).mark(deleted, QuarantineKind.DELETED_TICKET)
    frame[REJECT], frame[REJECT_KIND] = rejects.detail, rejects.kind
    return Staged(frame=frame.astype(STRING), source="ticket", date_column="created_at",
                  timezone="UTC", dayfirst=False)


PLATFORM = Platform(
    name=NAME, how="JSON with \"tickets\", or a CSV view export with ID, Subject, Requester, Group, ...",
    signature=CSV_HEADER, read=read, stage=stage, detect=detect_csv, detect_json=detect,
    settings=("good_csat", "bad_csat", "first_response_hours_field", "resolution_hours_field",
              "resolved_reported_field", "reopened_field", "category_field"),
)
