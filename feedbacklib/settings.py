"""The typed tables of ``feedback.toml``: one frozen dataclass per table, and their defaults.

The only place a setting's default is written. :mod:`feedbacklib.config` checks a file's
tables and builds these (:func:`feedbacklib.config.load_config`); the readers
(:mod:`feedbacklib.io`) and cleaning read them, and use the defaults here when there is
no configuration. This module imports nothing of the package, so every layer can use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["CSAT_LABELS", "NPS_LABELS", "InputSettings", "CleaningSettings", "RunSettings", "PlatformSettings", "ENGINES", "SALT_FILE"]

#: Where cleaning, tagging and sentiment run (``[run] engine``; see docs/scale.md).
ENGINES = ("pandas", "dask")
#: ``[project] salt_file``: where the PII salt is kept when no environment variable holds it.
SALT_FILE = ".feedbacklib-salt"
#: Rating labels -> canonical score, declared once (cleaning parses scores with them, the readers
#: recognise rating columns by them). ``[cleaning.csat_labels]`` and ``[cleaning.nps_labels]`` in
#: feedback.toml add to or override them (keys case-insensitive).
CSAT_LABELS: dict[str, int] = {
    "very satisfied": 5, "extremely satisfied": 5, "completely satisfied": 5, "satisfied": 4,
    "somewhat satisfied": 4, "mostly satisfied": 4, "neutral": 3,
    "neither satisfied nor dissatisfied": 3, "somewhat dissatisfied": 2, "dissatisfied": 2,
    "very dissatisfied": 1, "extremely dissatisfied": 1, "completely dissatisfied": 1,
    "excellent": 5, "very good": 4, "good": 4, "average": 3, "fair": 3, "poor": 2, "very poor": 1,
    "terrible": 1,
}
NPS_LABELS: dict[str, int] = {
    "extremely likely": 10, "very likely": 9, "not at all likely": 0, "extremely unlikely": 0,
    "not likely at all": 0,
}


@dataclass(frozen=True)
class InputSettings:
    """``[input]``: platform detection overrides."""

    platform: str | None = None                       # force one platform for every file
    platforms: Mapping[str, str] = field(default_factory=dict)  # file-name glob -> platform
    strict: bool = False                              # an unknown file in the input folder is an error
    max_xlsx_mb: int = 512                            # what one workbook may expand to, unzipped
    max_xlsx_cells: int = 30_000_000                  # ... and in cells (rows x columns of its used range)


@dataclass(frozen=True)
class CleaningSettings:
    """``[cleaning]``: the repeat window and the rating scales."""

    duplicate_window_hours: float = 24.0              # 0 = off
    csat_scale: tuple[float, float] | None = None     # [low, high] the exports use; None = 1-5
    nps_scale: tuple[float, float] | None = None      # None = 0-10
    csat_labels: Mapping[str, int] = field(default_factory=dict)
    nps_labels: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class RunSettings:
    """``[run]``: time limits and the engine."""

    timeout_seconds: int | None = None
    cell_timeout_seconds: int | None = None
    engine: str | None = None
    scheduler: str | None = None
    work_dir: str | None = None             # pandas engine: the month's rows wait on disk here


@dataclass(frozen=True)
class PlatformSettings:
    """``[platforms.<name>]``: one platform's settings (the common ones, then each platform's own,
    which its record names in ``Platform.settings``)."""

    timezone: str | None = None             # zone of naive dates in this platform's exports
    dayfirst: bool | None = None            # 03/04 = 3 April (True) or March 4 (False)
    source: str | None = None               # survey | complaint | ticket | review
    columns: Mapping[str, str] = field(default_factory=dict)  # canonical column -> export column
    csat_scale: tuple[float, float] | None = None
    nps_scale: tuple[float, float] | None = None
    good_csat: int = 5                      # Zendesk "good" on the 1-5 scale
    bad_csat: int = 1                       # Zendesk "bad"
    first_response_hours_field: int | None = None   # Zendesk custom field ids
    resolution_hours_field: int | None = None
    resolved_reported_field: int | None = None
    reopened_field: int | None = None
    category_field: int | None = None
    unfinished: str = "keep"                # Qualtrics Finished = False: keep | quarantine
    score: str | None = None                # Delighted: what the score column measures, nps | csat
