"""Which platform wrote this file? Decided from the content, never the file name."""

from __future__ import annotations

import fnmatch
import json
import os
from pathlib import Path
from typing import Any

from ..errors import DetectionError, InputError
from . import alchemer, appreviews, cfpb, complaints, delighted, forms, freshdesk, generic, qualtrics, surveymonkey, typeform, zendesk
from ._common import decode, decode_head, head_rows, read_rows, sniff_delimiter

__all__ = ["detect_platform", "PLATFORMS", "MIN_CONFIDENCE", "SIGNATURES", "closest_layout"]

#: The layouts this package can read, in the order they are tried (ties go to the first).
PLATFORMS = ("qualtrics", "surveymonkey", "cfpb", "zendesk", "freshdesk", "microsoft_forms", "google_forms",
             "typeform", "alchemer", "delighted", "google_play", "appbot", "complaints", "generic")
#: Below this confidence a file is not recognised.
MIN_CONFIDENCE = 0.3
_ZIP = b"PK\x03\x04"
_PARQUET = b"PAR1"
#: Each layout's tell-tale columns, for the "closest match" in a detection error.
SIGNATURES: dict[str, tuple[str, ...]] = {
    "qualtrics": ("StartDate", "EndDate", "Status", "IPAddress", "Progress", "Duration (in seconds)",
                  "Finished", "RecordedDate", "ResponseId", "DistributionChannel", "UserLanguage"),
    "surveymonkey": surveymonkey.HEADER,
    "cfpb": cfpb.HEADER,
    "zendesk": zendesk.CSV_HEADER,
    "microsoft_forms": forms.MICROSOFT_HEADER,
    "google_forms": forms.GOOGLE_HEADER,
    "complaints": complaints.HEADER,
    "freshdesk": freshdesk.CSV_SPEC.signature,
    "typeform": typeform.SPEC.signature,
    "alchemer": alchemer.SPEC.signature,
    "delighted": delighted.SPEC.signature,
    "google_play": appreviews.GOOGLE_PLAY.signature,
    "appbot": appreviews.APPBOT.signature[:15],
    "generic": ("text", "response_id", "received_at", "team", "channel", "csat", "nps", "customer_id"),
}
_HOW = {
    "qualtrics": "three header rows, the third with ImportId JSON (or legacy V1..Vn + labels)",
    "surveymonkey": "two header rows: questions, then Response / Open-Ended Response",
    "cfpb": "the CFPB complaint database columns",
    "zendesk": "JSON with \"tickets\", or a CSV view export with ID, Subject, Requester, Group, ...",
    "microsoft_forms": "Id, Start time, Completion time, Email, Name, then one column per question",
    "google_forms": "Timestamp, then one column per question",
    "complaints": "the complaints register columns",
    "freshdesk": "Ticket ID, ..., Due by Time, First response time (in hrs), ... (or the API's JSON ticket list)",
    "typeform": "#, the questions, Start Date (UTC), Submit Date (UTC), Network ID",
    "alchemer": "Response ID, Time Started, Date Submitted, Status, Contact ID, Legacy Comments, ...",
    "delighted": "Response ID, Email, Name, Score, Comment, Response timestamp, Delighted Source, ...",
    "google_play": "Package Name, ..., Review Submit Date and Time, Star Rating, Review Title, Review Text, ...",
    "appbot": "published_at, rating, subject, body, store, app_name, version, country, ...",
    "generic": "a 'text' column (or one mapped in [platforms.generic.columns])",
}


def _scores_for_rows(rows: list[list[str]]) -> dict[str, float]:
    header = rows[0] if rows else []
    return {
        "qualtrics": qualtrics.detect(rows),
        "surveymonkey": surveymonkey.detect(rows),
        "cfpb": cfpb.detect(rows),
        "zendesk": zendesk.detect_csv(rows),
        "microsoft_forms": forms.detect_microsoft(rows),
        "google_forms": forms.detect_google(rows),
        "complaints": complaints.detect(header),
        "freshdesk": freshdesk.detect(rows),
        "typeform": typeform.detect(rows),
        "alchemer": alchemer.detect(rows),
        "delighted": delighted.detect(rows),
        "google_play": appreviews.detect_google_play(rows),
        "appbot": appreviews.detect_appbot(rows),
    }


def _header_of(path: Path, data: bytes) -> tuple[str, list[str], dict[str, float]]:
    """The file's kind, its header as shown to a person, and the platform scores."""
    stripped = data.lstrip()
    if data.startswith(_ZIP):
        _, rows, _ = read_rows(path, data, limit=10)
        scores = _scores_for_rows(rows)
        # the complaints register keeps its data on the "Complaints" sheet
        _, sheet_rows, _ = read_rows(path, data, limit=10, sheet=complaints.SHEET)
        first = next((r for r in sheet_rows if any(c.strip() for c in r)), [])
        scores["complaints"] = complaints.detect(first)
        header = first if scores["complaints"] else (rows[0] if rows else [])
        return "xlsx", header, scores
    if data.startswith(_PARQUET):
        import pyarrow.parquet as pq
        try:
            header = list(pq.read_schema(path).names)
        except Exception as exc:
            raise InputError(f"Cannot read the Parquet export {path.name!r}: {exc}") from None
        return "parquet", header, {}
    text, _ = decode_head(data)
    body = text.lstrip("\ufeff \t\r\n")
    if body[:1] in ("{", "[") or stripped[:1] in (b"{", b"["):
        try:
            obj: Any = json.loads(decode(data)[0].lstrip("\ufeff"))
        except ValueError as exc:
            if path.suffix.lower() == ".json":  # an export, broken: an error, not a stray file
                raise InputError(f"The export {path.name!r} is not valid JSON: {exc}. Export it again, or check "
                                 "that it was not cut off or edited.") from None
            obj = None
        if obj is not None:
            scores = {"zendesk": zendesk.detect(obj), "freshdesk": freshdesk.detect_json(obj)}
            records = generic._records(obj)
            header = list(records[0]) if records else (list(obj)[:20] if isinstance(obj, dict) else [])
            return "json", [str(h) for h in header], scores
    delimiter = sniff_delimiter(text[: text.find("\n") + 1 or None], path.suffix.lower())
    rows = head_rows(text, delimiter, 10)
    scores = _scores_for_rows(rows)
    i = cfpb.header_index(rows)
    header = rows[i] if i is not None else (rows[0] if rows else [])
    return "csv", header, scores


def _override(path: Path, config: Any) -> str | None:
    """``[input] platform`` or the first matching ``[input.platforms]`` glob, if any."""
    from ._common import settings_table

    settings = settings_table(config, "input")
    table = settings.get("platforms", {})
    if isinstance(table, dict):
        for pattern, name in table.items():
            if fnmatch.fnmatch(path.name, pattern) or fnmatch.fnmatch(str(path), pattern):
                return str(name)
    value = settings.get("platform")
    return str(value) if value else None


def detect_platform(path: str | os.PathLike[str], *, config: Any = None) -> tuple[str, float]:
    """The platform that wrote ``path`` and a confidence between 0 and 1.

    Looks at the first bytes (BOM, JSON, zip, Parquet) and the first records
    (Qualtrics' ImportId row, SurveyMonkey's sub-header row, the CFPB columns
    after any preamble, Forms' first columns, Zendesk tickets, canonical-like
    column names) — never at the file name. A platform named in feedback.toml
    (``[input] platform`` or ``[input.platforms] "<glob>" = "<name>"``) wins,
    with confidence 1.0.

    Raises
    ------
    InputError
        The file cannot be read.
    DetectionError
        No known layout matches; the message shows the header, the closest
        layout with its missing and extra columns, and how to map the columns.

    Examples
    --------
    >>> detect_platform("tests/fixtures/io/qualtrics_small.csv")  # doctest: +SKIP
    ('qualtrics', 0.99)
    """
    path = Path(path)
    from ._common import read_bytes

    forced = _override(path, config)
    if forced is not None:
        if forced not in PLATFORMS:
            raise InputError(
                f"feedback.toml names the platform {forced!r} for {path.name!r}: choose one of "
                f"{', '.join(PLATFORMS)}."
            )
        read_bytes(path)
        return forced, 1.0
    data = read_bytes(path)
    if not data or data.isspace() or (len(data) < 64 and not decode(data)[0].strip("\ufeff \t\r\n\x00")):
        raise InputError(f"The export {path.name!r} is empty.")
    kind, header, scores = _header_of(path, data)
    scores["generic"] = generic.detect(header, config)
    best = max(scores, key=lambda k: (scores[k], -PLATFORMS.index(k)))
    if scores[best] < MIN_CONFIDENCE:
        raise DetectionError(_unrecognised(path, kind, header))
    return best, float(scores[best])


def closest_layout(header: list[str]) -> tuple[str, list[str], list[str]]:
    """The known layout sharing most columns with ``header``: ``(name, missing, extra)``."""
    have = {str(h).strip().casefold(): str(h) for h in header if str(h).strip()}

    def score(name: str) -> float:
        sig = {c.casefold() for c in SIGNATURES[name]}
        return len(sig & set(have)) / len(sig | set(have)) if sig | set(have) else 0.0

    name = max(SIGNATURES, key=lambda k: (score(k), -PLATFORMS.index(k)))
    sig = SIGNATURES[name]
    missing = [c for c in sig if c.casefold() not in have]
    extra = [v for k, v in have.items() if k not in {c.casefold() for c in sig}]
    return name, missing, extra


def _unrecognised(path: Path, kind: str, header: list[str]) -> str:
    """A short message: the header seen, the closest layout and what it lacks, and how to go on."""
    import pandas as pd

    from ..pii import redact_pii

    # a file without a header row shows a data row here: never print what redaction would hide
    cells = redact_pii(pd.Series([str(h) for h in header[:8]], dtype="string")).tolist() if header else []
    shown = [c[:40] for c in cells] + (["..."] if len(header) > 8 else [])
    if path.is_symlink():  # a link can point anywhere (/etc/passwd): what it holds stays out of cron mail
        shown = ["(not shown: the file is a symbolic link)"]
    name, missing, _ = closest_layout(header)
    lacks = [str(c) for c in missing[:4]] + (["..."] if len(missing) > 4 else [])
    closest = (f"Closest: {name} ({_HOW[name]}), which would also need {lacks!r}."
               if len(missing) < len(SIGNATURES[name]) else "Closest: none (no layout shares a column with it).")
    return (
        f"Could not detect the export platform of {path.name!r}: its {kind} header {shown!r} matches no "
        f"known layout ({', '.join(PLATFORMS)}). {closest} Pass --platform NAME (--platform generic with the columns mapped in feedback.toml under "
        "[platforms.generic.columns], e.g. text = \"Comment\"), or name the platform for such files under "
        "[input.platforms] (e.g. \"may*.csv\" = \"qualtrics\")."
    )
