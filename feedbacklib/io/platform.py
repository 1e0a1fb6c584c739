"""One record per platform: everything the package knows about a layout, in one place.

Each reader module declares its :class:`Platform` record(s) next to the code they point at;
:mod:`feedbacklib.io.registry` lists the records in detection order. Everything else derives
from that list: the readers used by :func:`feedbacklib.io.read_export`, the names and the
detection order of :mod:`feedbacklib.io.detect` (scores, "closest layout" hints), the
platform names ``feedback.toml`` accepts and each platform's own ``[platforms.<name>]`` keys,
and the ``--platform`` help of the command line.

Adding a platform: write ``feedbacklib/io/<name>.py`` with its reader and its record, add the
record to the list in ``registry.py``, add its tests (docs/platforms.md walks through it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ._common import Export, Staged

__all__ = ["Platform", "Registry"]

Rows = list[list[str]]


@dataclass(frozen=True)
class Platform:
    """How one platform's exports are recognised, read and mapped onto the canonical columns."""

    #: the name in feedback.toml, ``--platform`` and the ``platform`` column
    name: str
    #: the layout in one line, for detection errors and the command line's help
    how: str
    #: tell-tale columns of the layout: the "closest layout" of an unrecognised file
    signature: tuple[str, ...]
    #: ``read(path) -> (raw frame of text, meta)``: every row, every cell as text
    read: Callable[[Path], tuple[pd.DataFrame, dict[str, Any]]]
    #: ``stage(export, config) -> Staged``: raw columns onto the canonical names (still text)
    stage: Callable[[Export, Any], Staged]
    #: confidence 0..1 from the first records of a CSV or the first sheet (header first)
    detect: Callable[[Rows], float] | None = None
    #: confidence 0..1 from a parsed JSON document
    detect_json: Callable[[Any], float] | None = None
    #: confidence 0..1 from any file's header and the config (the generic layout)
    detect_header: Callable[[list[str], Any], float] | None = None
    #: the workbook sheet holding the data, when it is not the first (scored on its own)
    sheet: str | None = None
    #: where the header is among the first records, when a preamble may come first
    header_index: Callable[[Rows], int | None] | None = None
    #: canonical column -> the platform's column names for it (first found wins), when fixed
    columns: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: ``[platforms.<name>]`` keys of its own, beyond the common ones (fields of
    #: :class:`feedbacklib.config.PlatformSettings`)
    settings: tuple[str, ...] = ()
    #: ``accepts(columns, config)``: False when the file read cannot be staged (its layout is
    #: not this platform's after all); the read is then a detection error
    accepts: Callable[[list[str], Any], bool] | None = None


class Registry:
    """The platforms in detection order (ties go to the first), looked up by name."""

    def __init__(self, platforms: Iterable[Platform]):
        self._by_name: dict[str, Platform] = {}
        for p in platforms:
            if p.name in self._by_name:
                raise ValueError(f"Two platforms are named {p.name!r}.")
            self._by_name[p.name] = p

    def __iter__(self) -> Iterator[Platform]:
        return iter(self._by_name.values())

    def __len__(self) -> int:
        return len(self._by_name)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __getitem__(self, name: str) -> Platform:
        return self._by_name[name]

    def with_platform(self, platform: Platform, *, before: str | None = None) -> Registry:
        """A new registry with ``platform`` added (before the one named ``before``, else last)."""
        items = list(self)
        at = next((i for i, p in enumerate(items) if p.name == before), len(items))
        return Registry([*items[:at], platform, *items[at:]])

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._by_name)

    @property
    def signatures(self) -> dict[str, tuple[str, ...]]:
        return {p.name: p.signature for p in self}

    @property
    def how(self) -> dict[str, str]:
        return {p.name: p.how for p in self}

    @property
    def settings(self) -> dict[str, tuple[str, ...]]:
        """Each platform's own ``[platforms.<name>]`` keys."""
        return {p.name: p.settings for p in self if p.settings}

    def scores_for_rows(self, rows: Rows) -> dict[str, float]:
        """Every row-detecting platform's confidence for the first records of a CSV or sheet."""
        return {p.name: float(p.detect(rows)) for p in self if p.detect is not None}

    def scores_for_json(self, obj: Any) -> dict[str, float]:
        return {p.name: float(p.detect_json(obj)) for p in self if p.detect_json is not None}

    def scores_for_header(self, header: list[str], config: Any) -> dict[str, float]:
        return {p.name: float(p.detect_header(header, config)) for p in self if p.detect_header is not None}

    def header_of(self, rows: Rows) -> list[str]:
        """The header among the first records: where a platform finds it after a preamble, else the first."""
        for p in self:
            if p.header_index is not None and (i := p.header_index(rows)) is not None:
                return rows[i]
        return rows[0] if rows else []

    def help_list(self) -> str:
        """``name: layout`` for every platform, one per line (the command line's help)."""
        return "\n".join(f"  {p.name}: {p.how}" for p in self)
