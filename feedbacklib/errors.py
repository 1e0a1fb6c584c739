"""The feedbacklib error hierarchy.

Every error the library raises on purpose derives from :class:`FeedbackError`,
so the command line can print a message a person can act on, without a
traceback, and choose the exit code from the error's class.

A row that breaks a rule is not an exception: it is quarantined with a
:class:`QuarantineKind` (what rule it broke, counted in the data-quality table)
and a detail for a person (``"csat out of range ('7')"``). The kind travels
with the row; it is never read back out of the detail.
"""

from __future__ import annotations

from enum import Enum

__all__ = [
    "QuarantineKind",
    "FeedbackError",
    "ConfigError",
    "InputError",
    "DetectionError",
    "SchemaError",
    "NoDataError",
    "LockError",
    "RenderError",
    "StoreError",
    "OutputError",
    "SymlinkError",
]


class FeedbackError(Exception):
    """Base class of every error raised by feedbacklib on purpose."""

    exit_code = 1


class ConfigError(FeedbackError):
    """The configuration file or a taxonomy file is missing or invalid."""

    exit_code = 2


class InputError(FeedbackError):
    """An input file cannot be read (missing, unreadable, malformed)."""

    exit_code = 2


class DetectionError(InputError):
    """The platform that wrote an export cannot be recognised."""


class SchemaError(FeedbackError):
    """The canonical frame breaks its schema; the message lists every problem."""

    exit_code = 1


class NoDataError(FeedbackError):
    """There is no feedback for the requested month."""

    exit_code = 3


class LockError(FeedbackError):
    """Another run holds the lock on the output folder."""

    exit_code = 4


class RenderError(FeedbackError):
    """Executing the report notebook or exporting it to HTML failed."""

    exit_code = 1


class StoreError(FeedbackError):
    """The history store cannot be read or written safely (a symlink, a read-only or full disk)."""

    exit_code = 2


class OutputError(FeedbackError):
    """The output folder cannot be written (read-only, full, not a folder)."""

    exit_code = 2


class SymlinkError(OSError):
    """A path the run writes to is a symbolic link (or not the kind of file expected).

    An ``OSError`` (raised where the file system is touched); callers turn it into a
    :class:`StoreError` or :class:`OutputError` that names the path.
    """


class QuarantineKind(str, Enum):
    """Why a row was quarantined; the value names the data-quality table's count column."""

    EXCLUDED_STATUS = "excluded status"          # a preview, test, spam or disqualified response
    UNFINISHED = "unfinished response"           # never submitted
    DELETED_TICKET = "deleted ticket"
    UNPARSEABLE_DATE = "unparseable date"
    CSAT_NOT_A_NUMBER = "csat not a number"
    CSAT_OUT_OF_RANGE = "csat out of range"
    NPS_NOT_A_NUMBER = "nps not a number"
    NPS_OUT_OF_RANGE = "nps out of range"
    DUPLICATE = "duplicate"                      # the same response id twice
    SUPERSEDED = "superseded"                    # an older version of a record read again
    REPEAT = "repeat"                            # same customer and text within the window
    TRUNCATED = "truncated record"               # the file ends inside the record

    def __str__(self) -> str:
        return self.value
