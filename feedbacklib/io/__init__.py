"""Reading exports: detect the platform, read the file faithfully.

>>> from feedbacklib.io import read_export
>>> export = read_export("tests/fixtures/io/qualtrics_small.csv")  # doctest: +SKIP
>>> export.platform, len(export.raw)                                # doctest: +SKIP
('qualtrics', 4)
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import Any

from ..errors import DetectionError, InputError
from . import cfpb, complaints, forms, generic, qualtrics, surveymonkey, zendesk
from ._common import Export, Staged
from .detect import PLATFORMS, detect_platform

__all__ = ["Export", "Staged", "read_export", "read_exports", "detect_platform", "stage_export",
           "READERS", "PLATFORMS", "EXPORT_SUFFIXES"]

#: One reader module per platform: ``read(path) -> (raw, meta)``, ``stage(export, config) -> Staged``.
class _Reader:
    """A ``read``/``stage`` pair for platforms that share a module (Google and Microsoft Forms)."""

    def __init__(self, read, stage):
        self.read, self.stage = read, stage


READERS: dict[str, Any] = {
    "qualtrics": qualtrics, "surveymonkey": surveymonkey, "cfpb": cfpb, "zendesk": zendesk,
    "microsoft_forms": _Reader(forms.read, forms.stage_microsoft),
    "google_forms": _Reader(forms.read, forms.stage_google),
    "complaints": complaints, "generic": generic,
}
EXPORT_SUFFIXES = (".csv", ".tsv", ".json", ".xlsx", ".parquet")


def read_export(path: str | os.PathLike[str], *, platform: str | None = None,
                config: Any = None) -> Export:
    """Read one export: detect (unless ``platform`` is given) and read every row as text.

    Raises ``InputError`` when the file cannot be read and ``DetectionError``
    when its layout is not recognised.
    """
    path = Path(path)
    if platform is None:
        platform, confidence = detect_platform(path, config=config)
        if platform not in READERS:
            raise InputError(
                f"Unknown platform {platform!r} for {path.name!r}: choose one of {', '.join(READERS)}."
            )
    else:
        if platform not in READERS:
            raise InputError(
                f"Unknown platform {platform!r} for {path.name!r}: choose one of {', '.join(READERS)}."
            )
        confidence = 1.0
    raw, meta = READERS[platform].read(path)
    if platform == "generic" and generic.resolve_columns(list(raw.columns), config).get("text") is None:
        from .detect import _unrecognised
        raise DetectionError(_unrecognised(path, path.suffix.lstrip(".") or "file", list(raw.columns)))
    return Export(path=path, platform=platform, confidence=confidence, raw=raw, meta=meta)


def read_exports(folder: str | os.PathLike[str], config: Any = None, *, platform: str | None = None) -> list[Export]:
    """Every ``*.csv``/``*.tsv``/``*.json``/``*.xlsx``/``*.parquet`` in ``folder``
    (not recursive, hidden files and Excel lock files skipped), sorted by name.

    ``platform`` forces one reader for every file (the command line's ``--platform``);
    otherwise each file is detected, with ``[input]`` overrides from the config."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"The input folder {str(folder)!r} does not exist or is not a folder.")
    files = sorted(p for p in folder.iterdir()
                   if p.is_file() and p.suffix.lower() in EXPORT_SUFFIXES and not p.name.startswith((".", "~$")))
    exports = []
    for p in files:
        try:
            exports.append(read_export(p, platform=platform, config=config))
        except (RecursionError, MemoryError) as exc:  # hostile input: deeply nested JSON, a huge record
            raise InputError(f"Cannot read the export {p.name!r}: it is too deeply nested or too large to read "
                             f"({type(exc).__name__}). Check that it is a genuine export.") from None
    return exports


def stage_export(export: Export, config: Any) -> Staged:
    """Map an export's raw columns onto canonical names (still text)."""
    return READERS[export.platform].stage(export, config)
