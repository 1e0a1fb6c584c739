"""Which platform wrote this file? Decided from the content, never the file name."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..errors import DetectionError, InputError
from . import complaints, generic, qualtrics, zendesk
from ._common import decode, head_rows, read_xlsx_rows, sniff_delimiter

__all__ = ["detect_platform", "PLATFORMS", "MIN_CONFIDENCE"]

#: The layouts this package can read, in the order they are tried.
PLATFORMS = ("qualtrics", "zendesk", "complaints", "generic")
#: Below this confidence a file is not recognised.
MIN_CONFIDENCE = 0.3
_ZIP = b"PK\x03\x04"
_PARQUET = b"PAR1"


def _header_of(path: Path, data: bytes) -> tuple[str, list[str], dict[str, float]]:
    """The file's kind, its header as shown to a person, and the platform scores."""
    stripped = data.lstrip()
    if data.startswith(_ZIP):
        _, rows = read_xlsx_rows(path, complaints.SHEET)
        first = next((r for r in rows if any(str(c).strip() for c in r)), [])
        header = [str(c) for c in first]
        return "xlsx", header, {"complaints": complaints.detect(header)}
    if data.startswith(_PARQUET):
        import pyarrow.parquet as pq
        try:
            header = list(pq.read_schema(path).names)
        except Exception as exc:
            raise InputError(f"Cannot read the Parquet export {path.name!r}: {exc}") from None
        return "parquet", header, {}
    text, _ = decode(data[: 1 << 20])
    body = text.lstrip()
    if body[:1] in ("{", "[") or stripped[:1] in (b"{", b"["):
        try:
            obj: Any = json.loads(decode(data)[0])
        except ValueError:
            obj = None
        if obj is not None:
            scores = {"zendesk": zendesk.detect(obj)}
            records = generic._records(obj)
            header = list(records[0]) if records else (list(obj)[:20] if isinstance(obj, dict) else [])
            return "json", [str(h) for h in header], scores
    delimiter = sniff_delimiter(text[: text.find("\n") + 1 or None], path.suffix.lower())
    rows = head_rows(text, delimiter, 3)
    header = rows[0] if rows else []
    scores = {"qualtrics": qualtrics.detect(rows), "complaints": complaints.detect(header)}
    return "csv", header, scores


def detect_platform(path: str | os.PathLike[str], *, config: Any = None) -> tuple[str, float]:
    """The platform that wrote ``path`` and a confidence between 0 and 1.

    Looks at the first bytes (BOM, JSON, zip), the header rows (Qualtrics'
    three rows with ImportId JSON, the complaints register's columns, Zendesk
    ticket objects, canonical-like column names) — never at the file name.

    Raises
    ------
    InputError
        The file cannot be read.
    DetectionError
        No known layout matches; the message shows the header and how to map it.

    Examples
    --------
    >>> detect_platform("tests/fixtures/io/qualtrics_small.csv")  # doctest: +SKIP
    ('qualtrics', 0.99)
    """
    path = Path(path)
    from ._common import read_bytes

    data = read_bytes(path)
    if not data.strip():
        raise InputError(f"The export {path.name!r} is empty.")
    kind, header, scores = _header_of(path, data)
    scores["generic"] = generic.detect(header, config)
    best = max(scores, key=lambda k: (scores[k], -PLATFORMS.index(k)))
    if scores[best] < MIN_CONFIDENCE:
        raise DetectionError(_unrecognised(path, kind, header))
    return best, float(scores[best])


def _unrecognised(path: Path, kind: str, header: list[str]) -> str:
    shown = header[:12] + (["..."] if len(header) > 12 else [])
    return (
        f"Could not detect the export platform of {path.name!r}: its {kind} header {shown!r} "
        f"matches no known layout ({', '.join(PLATFORMS)}). Known layouts: qualtrics (three "
        "header rows, the third with ImportId JSON), zendesk (JSON with \"tickets\"), complaints "
        f"(columns {', '.join(complaints.HEADER)}), generic (a 'text' column, optionally "
        "response_id, received_at, team, channel, csat, nps, customer_id). Pass --platform generic "
        "(platform=\"generic\") and map the columns in feedback.toml under [platforms.generic.columns], "
        "e.g. text = \"Comment\"."
    )
