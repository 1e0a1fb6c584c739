"""Shared reading and staging for exports whose columns are fixed by the platform (ticket lists,
app-store reviews) or whose questions follow fixed metadata columns (Typeform, Alchemer).

Each platform module describes its layout with a :class:`Spec`; this module reads the file
(CSV in any encoding :func:`decode` knows, XLSX) and maps it onto the canonical columns,
with the roles of question columns chosen by :func:`feedbacklib.io.roles.choose_roles`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

from .. import schema as S
from ..settings import PlatformSettings
from ._common import (
    CUSTOMER_ID, REJECT, REJECT_KIND, STRING, Rejects, VERSION, Export, Staged, columns_override, dayfirst_setting, find_column,
    frame_from_rows, is_workbook, platform_settings, read_bytes, read_csv_bytes, read_xlsx_rows, sniff_layout, zone_from_name, _text,
)
from .platform import Platform
from .roles import choose_roles, describe

__all__ = ["Spec", "read_table", "stage_mapped", "header_score", "mapped_platform"]


@dataclass(frozen=True)
class Spec:
    """How one platform's export maps onto the canonical columns."""

    name: str
    #: canonical name (or ``_title``, ``_status``) -> the platform's column names for it, first found wins
    columns: Mapping[str, tuple[str, ...]]
    #: columns only this platform writes (case-insensitive): detection needs ``min_hits`` of them
    signature: tuple[str, ...]
    min_hits: int
    #: columns that must all be present for detection
    required: tuple[str, ...] = ()
    source: str = "survey"
    id_prefix: str = ""
    timezone: str | None = None       # the zone the platform writes naive times in (None: the column name's, else config)
    dayfirst: bool = False
    #: metadata columns that are never questions (for role choice among the rest)
    meta: tuple[str, ...] = ()
    #: ``(raw, frame) -> Rejects``: platform rules (statuses to quarantine)
    reject: Callable[[pd.DataFrame, pd.DataFrame], Rejects] | None = None
    #: ``(raw, frame, settings) -> frame``: last platform-specific touches (score scales, channel codes)
    finish: Callable[[pd.DataFrame, pd.DataFrame, PlatformSettings], pd.DataFrame] | None = None
    questions: bool = False           # choose text / scores among the question columns
    extra: Mapping[str, Any] = field(default_factory=dict)


def header_score(header: list[str], spec: Spec) -> float:
    """Confidence that ``header`` is ``spec``'s layout: every required column and ``min_hits`` of the signature."""
    names = {str(h).strip().casefold() for h in header}
    if not all(r.casefold() in names for r in spec.required):
        return 0.0
    hits = sum(s.casefold() in names for s in spec.signature)
    if hits < spec.min_hits:
        return 0.0
    return round(min(0.98, 0.7 + 0.28 * hits / max(len(spec.signature), 1)), 2)


def spec_score(rows: list[list[str]], spec: Spec) -> float:
    """:func:`header_score` of the first record (0 for an empty file)."""
    return header_score(rows[0], spec) if rows else 0.0


def mapped_platform(spec: Spec, how: str, *, detect: Callable[[list[list[str]]], float] | None = None,
                    signature: tuple[str, ...] | None = None, settings: tuple[str, ...] = ()) -> Platform:
    """The :class:`Platform` record of a one-header-row export described by ``spec``: read by
    :func:`read_table`, staged by :func:`stage_mapped`, detected by :func:`header_score`
    (unless ``detect`` is given)."""
    return Platform(name=spec.name, how=how, signature=spec.signature if signature is None else signature,
                    read=read_table, stage=partial(stage_mapped, spec=spec),
                    detect=detect or partial(spec_score, spec=spec), columns=spec.columns, settings=settings)


def read_table(path: Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """A one-header-row export: CSV (any encoding :func:`decode` knows, UTF-16 included) or XLSX."""
    if is_workbook(path):
        sheet, rows = read_xlsx_rows(path)
        if not rows:
            return frame_from_rows([], ["empty"]), {"sheet": sheet}
        return frame_from_rows(rows[1:], [_text(c) or "" for c in rows[0]]), {"sheet": sheet}
    meta: dict[str, Any] = {}
    return read_csv_bytes(read_bytes(path), path, sniff_layout(path), meta), meta


def stage_mapped(export: Export, config: Any, spec: Spec) -> Staged:
    raw = export.raw
    cols = list(raw.columns)
    override = columns_override(config, spec.name)
    settings = platform_settings(config, spec.name)
    empty = pd.Series(pd.NA, index=raw.index, dtype=STRING)
    fixed: dict[str, str] = {}
    used: dict[str, str] = {}
    for canonical, names in spec.columns.items():
        if canonical in override:
            continue
        hit = find_column(cols, *names)
        if hit is not None:
            used[canonical] = hit
            if not canonical.startswith("_"):
                fixed[canonical] = f"{hit!r} (the {spec.name} column for it)"
    chosen: dict[str, tuple[str, str]] = {}
    if spec.questions:
        skip = {c.casefold() for c in spec.meta} | {c.casefold() for c in used.values()}
        candidates = [c for c in cols if c.strip().casefold() not in skip and c not in override.values()]
        chosen = {k: v for k, v in choose_roles(raw, candidates).items() if k not in used and k not in override}

    def get(canonical: str) -> pd.Series:
        if canonical in override:
            hit = find_column(cols, override[canonical])
        else:
            hit = used.get(canonical) or (chosen[canonical][0] if canonical in chosen else None)
        return raw[hit] if hit is not None else empty

    canon = (S.RESPONSE_ID, S.RECEIVED_AT, S.CSAT, S.NPS, S.TEXT, S.TEAM, S.CHANNEL, S.CATEGORY,
             S.FIRST_RESPONSE_HOURS, S.RESOLUTION_HOURS, S.RESOLVED_REPORTED, S.REOPENED, CUSTOMER_ID, VERSION)
    frame = pd.DataFrame({c: get(c) for c in canon}, index=raw.index)
    if "_title" in used and S.TEXT not in override:
        title = raw[used["_title"]].str.strip()
        body = frame[S.TEXT].str.strip()
        both = title.notna() & body.notna() & (title != "") & (body != "")
        frame[S.TEXT] = body.fillna(title).mask(both.fillna(False), title + ". " + body)
        fixed[S.TEXT] = f"{used['_title']!r} and {used.get(S.TEXT, '')!r} (title and text of the review)"
    if spec.id_prefix and S.RESPONSE_ID not in override:
        frame[S.RESPONSE_ID] = (spec.id_prefix + frame[S.RESPONSE_ID].str.strip()).astype(STRING)
    if spec.finish is not None:
        frame = spec.finish(raw, frame, settings)
    rejects = spec.reject(raw, frame) if spec.reject is not None else Rejects(raw.index)
    frame[REJECT], frame[REJECT_KIND] = rejects.detail, rejects.kind
    date_col = (find_column(cols, override[S.RECEIVED_AT]) if S.RECEIVED_AT in override
                else used.get(S.RECEIVED_AT)) or next(iter(spec.columns.get(S.RECEIVED_AT, ("date",))))
    zone = settings.timezone or zone_from_name(date_col) or spec.timezone
    return Staged(frame=frame.astype(STRING), source=settings.source or spec.source,
                  date_column=date_col, timezone=zone, **dayfirst_setting(settings, spec.dayfirst),
                  roles=describe(chosen, override, fixed))
