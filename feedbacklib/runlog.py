"""``run.log``: plain text for cron mail, where nothing untrusted can forge a line.

File names, folder names, column headers and error messages may come from a
customer's export. A name holding a newline or an ANSI escape sequence must not
be able to start a fake log record or recolour the operator's terminal, so every
message is passed through :func:`sanitise` before it is written: control
characters become visible escapes (``\\n``, ``\\x1b``) and each record stays on
one line. Tracebacks (``--debug`` material) are indented under their record.
"""

from __future__ import annotations

import logging
import re
from importlib import metadata
from typing import Any

__all__ = ["sanitise", "SafeFormatter", "versions", "quality_lines", "LOG_FORMAT"]

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# C0 and C1 control characters, DEL, and the Unicode line/paragraph separators
# and bidi overrides that can reorder or break a line on a terminal.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\x1b": "\\x1b"}

#: Distributions whose versions a run records (the numbers behind the report).
VERSIONED = ("pandas", "numpy", "pyarrow", "scipy", "scikit-learn", "nltk", "matplotlib",
             "papermill", "nbclient", "nbconvert", "ipykernel")


def _escape(match: re.Match[str]) -> str:
    ch = match.group(0)
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def sanitise(value: object, *, keep_newlines: bool = False) -> str:
    """``value`` as text with every control character shown as an escape.

    With ``keep_newlines`` a newline survives (for multi-line messages on a
    terminal) but carriage returns, escapes and the rest are still escaped.

    >>> sanitise("evil\\n2026-01-01 INFO forged\\x1b[31m")
    'evil\\\\n2026-01-01 INFO forged\\\\x1b[31m'
    """
    text = str(value)
    if keep_newlines:
        return "\n".join(_CONTROL.sub(_escape, line) for line in text.split("\n"))
    return _CONTROL.sub(_escape, text)


class SafeFormatter(logging.Formatter):
    """A formatter that writes every record on one line, untrusted text escaped."""

    def __init__(self, fmt: str = LOG_FORMAT, datefmt: str | None = None):
        super().__init__(fmt, datefmt)

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's API
        record.message = sanitise(record.message)
        return super().formatMessage(record)

    def formatException(self, ei: Any) -> str:  # noqa: N802 - logging's API
        text = super().formatException(ei)
        return "\n".join("    | " + sanitise(line) for line in text.splitlines())

    def formatStack(self, stack_info: str) -> str:  # noqa: N802 - logging's API
        return "\n".join("    | " + sanitise(line) for line in stack_info.splitlines())


def versions() -> str:
    """``pandas 2.3.3, numpy 2.3.4, ...`` for the distributions in :data:`VERSIONED`."""
    parts = []
    for name in VERSIONED:
        try:
            parts.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{name} (not installed)")
    return ", ".join(parts)


def quality_lines(records: list[dict[str, Any]]) -> list[str]:
    """One line per input file from ``kpis.json``'s ``data_quality`` records."""
    lines = []
    for row in records:
        counts = {k: v for k, v in row.items()
                  if k not in ("file", "platform", "confidence", "rows_read", "rows_kept", "rows_quarantined")
                  and isinstance(v, int) and v}
        detail = "; " + ", ".join(f"{v} {k}" for k, v in counts.items()) if counts else ""
        lines.append(
            f"data quality {row.get('file')}: {row.get('platform')}, {row.get('rows_read')} read, "
            f"{row.get('rows_kept')} kept, {row.get('rows_quarantined')} quarantined{detail}"
        )
    return lines
