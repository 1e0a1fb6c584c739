"""What every per-partition partial shares: ``sum(parts)`` works.

The partials (:class:`~feedbacklib.stats.summaries.Summary`, :class:`~feedbacklib.parts.MonthParts`
and the service, volume, call-list, quote, recognition, fix-first and emerging pieces) each define
``a + b``; Python's ``sum`` starts from ``0``, so ``0 + part`` must give the part back.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Additive"]


class Additive:
    """Mixin: ``0 + part`` is ``part`` (so the builtin ``sum`` adds partials); anything else is not added."""

    __slots__ = ()

    def __radd__(self, other: Any) -> Any:
        if isinstance(other, int) and other == 0:   # sum(parts) starts from 0
            return self
        return NotImplemented
