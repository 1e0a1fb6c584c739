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
from . import complaints, generic, qualtrics, zendesk
from ._common import Export, Staged
from .detect import PLATFORMS, detect_platform

__all__ = ["Export", "Staged", "read_export", "read_exports", "detect_platform", "stage_export",
           "READERS", "PLATFORMS", "EXPORT_SUFFIXES"]

#: One reader module per platform: ``read(path) -> (raw, meta)``, ``stage(export, config) -> Staged``.
READERS: dict[str, ModuleType] = {
    "qualtrics": qualtrics, "zendesk": zendesk, "complaints": complaints, "generic": generic,
}
EXPORT_SUFFIXES = (".csv", ".tsv", ".json", ".xlsx")


def read_export(path: str | os.PathLike[str], *, platform: str | None = None,
                config: Any = None) -> Export:
    """Read one export: detect (unless ``platform`` is given) and read every row as text.

    Raises ``InputError`` when the file cannot be read and ``DetectionError``
    when its layout is not recognised.
    """
    path = Path(path)
    if platform is None:
        platform, confidence = detect_platform(path, config=config)
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


def read_exports(folder: str | os.PathLike[str], config: Any = None) -> list[Export]:
    """Every ``*.csv``/``*.tsv``/``*.json``/``*.xlsx`` in ``folder`` (not recursive), sorted by name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"The input folder {str(folder)!r} does not exist or is not a folder.")
    files = sorted(p for p in folder.iterdir()
                   if p.is_file() and p.suffix.lower() in EXPORT_SUFFIXES and not p.name.startswith((".", "~$")))
    return [read_export(p, config=config) for p in files]


def stage_export(export: Export, config: Any) -> Staged:
    """Map an export's raw columns onto canonical names (still text)."""
    return READERS[export.platform].stage(export, config)
