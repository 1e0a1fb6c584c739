"""Reading exports: detect the platform, read the file faithfully.

>>> from feedbacklib.io import read_export
>>> export = read_export("tests/fixtures/io/qualtrics_small.csv")  # doctest: +SKIP
>>> export.platform, len(export.raw)                                # doctest: +SKIP
('qualtrics', 4)
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import DetectionError, InputError
from ._common import XLSX_LIMITS, Export, Staged, forget_bytes, input_settings, read_rows, xlsx_limits
from .detect import PLATFORMS, _unrecognised, closest_layout, detect_platform
from .platform import Platform, Registry
from .registry import REGISTRY

__all__ = ["Export", "Exports", "ExportStream", "Staged", "read_export", "read_exports", "strict_input", "detect_platform", "stage_export",
           "READERS", "PLATFORMS", "REGISTRY", "Platform", "Registry", "EXPORT_SUFFIXES"]

#: Each platform's record (``read(path) -> (raw, meta)``, ``stage(export, config) -> Staged``), by name.
READERS: dict[str, Platform] = {p.name: p for p in REGISTRY}
EXPORT_SUFFIXES = (".csv", ".tsv", ".json", ".xlsx", ".parquet")


def read_export(path: str | os.PathLike[str], *, platform: str | None = None,
                config: Any = None, registry: Registry | None = None) -> Export:
    """Read one export: detect (unless ``platform`` is given) and read every row as text.

    Raises ``InputError`` when the file cannot be read and ``DetectionError``
    when its layout is not recognised. ``registry``: the platforms to choose from
    (default: :data:`REGISTRY`, looked up when called).
    """
    path = Path(path)
    token = XLSX_LIMITS.set(xlsx_limits(config))
    try:
        return _read_export(path, platform, config, REGISTRY if registry is None else registry)
    finally:
        XLSX_LIMITS.reset(token)
        forget_bytes()  # detection and reading shared one read; the bytes are not kept beyond it


def _read_export(path: Path, platform: str | None, config: Any, registry: Registry) -> Export:
    if platform is None:
        platform, confidence = detect_platform(path, config=config, registry=registry)
    else:
        confidence = 1.0
    if platform not in registry:
        raise InputError(
            f"Unknown platform {platform!r} for {path.name!r}: choose one of {', '.join(registry.names)}."
        )
    record = registry[platform]
    raw, meta = record.read(path)
    if record.accepts is not None and not record.accepts(list(raw.columns), config):
        raise DetectionError(_unrecognised(path, path.suffix.lstrip(".") or "file", list(raw.columns), registry))
    return Export(path=path, platform=platform, confidence=confidence, raw=raw, meta=meta)


class Exports(list):
    """The exports read from a folder (a list of :class:`Export`), plus what was not read.

    ``skipped``: ``(file name, why)`` for every entry of the folder that is not
    read: unknown layouts (a stray ``notes.csv``), files that are not exports
    (``README.md``), sub-folders. ``errors``: ``(file name, message)`` for
    exports that could not be read, when the caller asked to collect them
    (``feedback-report validate``) instead of stopping at the first.
    """

    def __init__(self, items=(), skipped=None, errors=None):
        super().__init__(items)
        self.skipped: list[tuple[str, str]] = list(skipped or [])
        self.errors: list[tuple[str, str]] = list(errors or [])


#: Suffixes that are read without being detected first as something else; a file without a
#: suffix is tried too (its content decides). Anything else is listed as skipped.
TRIED_SUFFIXES = EXPORT_SUFFIXES + (".xlsm", "")


def strict_input(config: Any) -> bool:
    """``[input] strict = true``: an unknown file in the input folder is an error, not a warning."""
    return input_settings(config).strict


def read_exports(folder: str | os.PathLike[str], config: Any = None, *, platform: str | None = None,
                 collect_errors: bool = False) -> Exports:
    """Every export in ``folder`` (not recursive; hidden files and Excel lock files ignored), by name.

    ``*.csv``/``*.tsv``/``*.json``/``*.xlsx``/``*.xlsm``/``*.parquet`` and files
    without a suffix are detected by their content. A file of no known layout
    (a stray ``notes.csv``) is skipped with a warning naming it, unless
    ``[input] strict = true`` in feedback.toml, which makes it an error. Files
    with other suffixes (``README.md``, ``.pdf``) and sub-folders are skipped
    and listed too. A symlink whose target is missing (an unmounted share) is
    an error: its data would be missing from the report. Every skipped file is
    in the returned list's ``skipped`` (for the data-quality section).

    ``platform`` forces one reader for every file (the command line's ``--platform``);
    otherwise each file is detected, with ``[input]`` overrides from the config.
    ``collect_errors=True`` reads every file and lists the unreadable ones in
    ``errors`` instead of raising at the first.
    """
    out = Exports()
    out.extend(_each_export(_input_folder(folder), config, platform, collect_errors, out))
    return out


class ExportStream:
    """The exports of ``folder`` read one at a time, with :func:`read_exports`' rules (order, skipped files,
    errors), for a caller that lets each one go before the next is read (:func:`feedbacklib.clean.clean_exports`).

    Iterate once; ``skipped`` and ``errors`` are complete when the iteration ends. A folder that does not
    exist is an error at once.
    """

    def __init__(self, folder: str | os.PathLike[str], config: Any = None, *, platform: str | None = None,
                 collect_errors: bool = False):
        self.folder, self.config, self.platform, self.collect_errors = _input_folder(folder), config, platform, collect_errors
        self.skipped: list[tuple[str, str]] = []
        self.errors: list[tuple[str, str]] = []

    def __iter__(self) -> Iterator[Export]:
        return _each_export(self.folder, self.config, self.platform, self.collect_errors, self)


def _input_folder(folder: str | os.PathLike[str]) -> Path:
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"The input folder {str(folder)!r} does not exist or is not a folder.")
    return folder


def _each_export(folder: Path, config: Any, platform: str | None, collect_errors: bool,
                 out: Exports | ExportStream) -> Iterator[Export]:
    """:func:`read_exports`' loop: each export as it is read; skipped files and errors go to ``out``."""
    log = logging.getLogger("feedbacklib.io")
    strict = strict_input(config)

    def fail(p: Path, message: str) -> None:
        if not collect_errors:
            raise InputError(message)
        out.errors.append((p.name, message))

    for p in sorted(folder.iterdir(), key=lambda q: q.name):
        if p.name.startswith((".", "~$")):
            continue
        if p.is_symlink() and not p.exists():
            fail(p, f"The export {p.name!r} is a link to {os.readlink(p)!r}, which does not exist (an unmounted "
                    "share?): mount it or remove the link, so that no data is missing from the report.")
            continue
        if p.is_dir():
            out.skipped.append((p.name, "a folder (sub-folders are not read)"))
            log.info("input: %r skipped: a folder (sub-folders are not read)", p.name)
            continue
        if p.suffix.lower() not in TRIED_SUFFIXES:
            out.skipped.append((p.name, f"not an export ({p.suffix or 'no'} suffix)"))
            log.info("input: %r skipped: not an export (%s suffix)", p.name, p.suffix)
            continue
        try:
            export = read_export(p, platform=platform, config=config)
        except DetectionError as exc:
            if strict:
                fail(p, f"{exc} ([input] strict = true makes an unknown file an error.)")
                continue
            name, _ = _closest(p)
            why = f"unknown layout (closest: {name})" if name else "unknown layout"
            out.skipped.append((p.name, why))
            log.warning("input: %r skipped: its layout matches no known export (%s); set [input] strict = true "
                        "to make this an error, or map it with --platform / [input.platforms].", p.name, why)
        except InputError as exc:
            fail(p, str(exc))
        except (RecursionError, MemoryError) as exc:  # hostile input: deeply nested JSON, a huge record
            fail(p, f"Cannot read the export {p.name!r}: it is too deeply nested or too large to read "
                    f"({type(exc).__name__}). Check that it is a genuine export.")
        else:
            yield export
            del export  # not held while the next file is read


def _closest(path: Path) -> tuple[str | None, float]:
    """The closest known layout of an unrecognised file (for the warning), from its header."""
    try:
        _, rows, _ = read_rows(path, limit=1)
    except Exception:  # noqa: BLE001 - only a hint
        return None, 0.0
    if not rows:
        return None, 0.0
    name, missing, _ = closest_layout(rows[0])
    return (name, 0.0) if len(missing) < len(REGISTRY[name].signature) else (None, 0.0)


def stage_export(export: Export, config: Any, registry: Registry | None = None) -> Staged:
    """Map an export's raw columns onto canonical names (still text), with its platform's record."""
    return (REGISTRY if registry is None else registry)[export.platform].stage(export, config)
