"""Which platform wrote this file? Decided from the content, never the file name."""

from __future__ import annotations

import fnmatch
import json
import os
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from ..errors import DetectionError, InputError
from ..pii import redact_pii
from ._common import decode, decode_head, head_rows, input_settings, read_bytes, read_rows, sniff_delimiter
from .generic import records_of
from .registry import REGISTRY, Registry

__all__ = ["detect_platform", "PLATFORMS", "MIN_CONFIDENCE", "SIGNATURES", "closest_layout"]

#: The layouts this package can read, in the order they are tried (ties go to the first):
#: the registry's order (:mod:`feedbacklib.io.registry`).
PLATFORMS = REGISTRY.names
#: Below this confidence a file is not recognised.
MIN_CONFIDENCE = 0.3
_ZIP = b"PK\x03\x04"
_PARQUET = b"PAR1"
#: Each layout's tell-tale columns, for the "closest match" in a detection error.
SIGNATURES: dict[str, tuple[str, ...]] = REGISTRY.signatures


def _header_of(path: Path, data: bytes, registry: Registry) -> tuple[str, list[str], dict[str, float]]:
    """The file's kind, its header as shown to a person, and the platform scores."""
    stripped = data.lstrip()
    if data.startswith(_ZIP):
        _, rows, _ = read_rows(path, data, limit=10)
        scores = registry.scores_for_rows(rows)
        header = rows[0] if rows else []
        # a platform that keeps its data on a named sheet (the complaints register) is scored on it
        for p in registry:
            if p.sheet is None or p.detect is None:
                continue
            _, sheet_rows, _ = read_rows(path, data, limit=10, sheet=p.sheet)
            first = next((r for r in sheet_rows if any(c.strip() for c in r)), [])
            scores[p.name] = float(p.detect([first]))
            if scores[p.name]:
                header = first
        return "xlsx", header, scores
    if data.startswith(_PARQUET):
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
            scores = registry.scores_for_json(obj)
            records = records_of(obj)
            header = list(records[0]) if records else (list(obj)[:20] if isinstance(obj, dict) else [])
            return "json", [str(h) for h in header], scores
    delimiter = sniff_delimiter(text[: text.find("\n") + 1 or None], path.suffix.lower())
    rows = head_rows(text, delimiter, 10)
    return "csv", registry.header_of(rows), registry.scores_for_rows(rows)


def _override(path: Path, config: Any) -> str | None:
    """``[input] platform`` or the first matching ``[input.platforms]`` glob, if any."""
    settings = input_settings(config)
    for pattern, name in settings.platforms.items():
        if fnmatch.fnmatch(path.name, pattern) or fnmatch.fnmatch(str(path), pattern):
            return str(name)
    return settings.platform or None


def detect_platform(path: str | os.PathLike[str], *, config: Any = None,
                    registry: Registry = REGISTRY) -> tuple[str, float]:
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
    forced = _override(path, config)
    if forced is not None:
        if forced not in registry:
            raise InputError(
                f"feedback.toml names the platform {forced!r} for {path.name!r}: choose one of "
                f"{', '.join(registry.names)}."
            )
        read_bytes(path)
        return forced, 1.0
    data = read_bytes(path)
    if not data or data.isspace() or (len(data) < 64 and not decode(data)[0].strip("\ufeff \t\r\n\x00")):
        raise InputError(f"The export {path.name!r} is empty.")
    kind, header, scores = _header_of(path, data, registry)
    scores.update(registry.scores_for_header(header, config))
    order = registry.names
    best = max(scores, key=lambda k: (scores[k], -order.index(k)))
    if scores[best] < MIN_CONFIDENCE:
        raise DetectionError(_unrecognised(path, kind, header, registry))
    return best, float(scores[best])


def closest_layout(header: list[str], registry: Registry = REGISTRY) -> tuple[str, list[str], list[str]]:
    """The known layout sharing most columns with ``header``: ``(name, missing, extra)``."""
    have = {str(h).strip().casefold(): str(h) for h in header if str(h).strip()}
    signatures = registry.signatures
    order = registry.names

    def score(name: str) -> float:
        sig = {c.casefold() for c in signatures[name]}
        return len(sig & set(have)) / len(sig | set(have)) if sig | set(have) else 0.0

    name = max(signatures, key=lambda k: (score(k), -order.index(k)))
    sig = signatures[name]
    missing = [c for c in sig if c.casefold() not in have]
    extra = [v for k, v in have.items() if k not in {c.casefold() for c in sig}]
    return name, missing, extra


def _unrecognised(path: Path, kind: str, header: list[str], registry: Registry = REGISTRY) -> str:
    """A short message: the header seen, the closest layout and what it lacks, and how to go on."""
    # a file without a header row shows a data row here: never print what redaction would hide
    cells = redact_pii(pd.Series([str(h) for h in header[:8]], dtype="string")).tolist() if header else []
    shown = [c[:40] for c in cells] + (["..."] if len(header) > 8 else [])
    if path.is_symlink():  # a link can point anywhere (/etc/passwd): what it holds stays out of cron mail
        shown = ["(not shown: the file is a symbolic link)"]
    name, missing, _ = closest_layout(header, registry)
    lacks = [str(c) for c in missing[:4]] + (["..."] if len(missing) > 4 else [])
    closest = (f"Closest: {name} ({registry[name].how}), which would also need {lacks!r}."
               if len(missing) < len(registry[name].signature) else "Closest: none (no layout shares a column with it).")
    return (
        f"Could not detect the export platform of {path.name!r}: its {kind} header {shown!r} matches no "
        f"known layout ({', '.join(registry.names)}). {closest} Pass --platform NAME (--platform generic with the columns mapped in feedback.toml under "
        "[platforms.generic.columns], e.g. text = \"Comment\"), or name the platform for such files under "
        "[input.platforms] (e.g. \"may*.csv\" = \"qualtrics\")."
    )
