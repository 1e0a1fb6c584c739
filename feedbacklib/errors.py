"""The feedbacklib error hierarchy.

Every error the library raises on purpose derives from :class:`FeedbackError`,
so the command line can print a message a person can act on, without a
traceback, and choose the exit code from the error's class.
"""

from __future__ import annotations

__all__ = [
    "FeedbackError",
    "ConfigError",
    "InputError",
    "DetectionError",
    "SchemaError",
    "NoDataError",
    "LockError",
    "RenderError",
    "OutputError",
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


class OutputError(FeedbackError):
    """The output folder cannot be written (read-only, full, not a folder)."""

    exit_code = 2
