"""Reporting months: the one place that knows what a month is and which one ``last`` means.

A month is the string ``YYYY-MM``. Nothing in the package reads the clock: the
edges (the CLI and the notebooks' parameter cells) pass ``today`` (or the moment,
``now``) in, and everything below takes it as a parameter.

``last`` is the latest *full* month: the latest month that has ended (before
``today``'s month) and is not *thin*. A month is thin when it holds fewer
responses than the smallest group a finding is stated for (``min_group_size``),
or less than :data:`THIN_SHARE` of the median volume of the months before it.
Late responses that arrive after an export's cut-off therefore never make a
one-row report: such months are skipped by ``last`` with one log line that names
them, and can still be asked for by name, which renders a short report that states
no findings (see :func:`thin_reason`).

>>> resolve_month("last", {"2026-09": 1500, "2026-10": 1495, "2026-11": 1}, today=_dt.date(2026, 12, 6),
...               min_group_size=30)
'2026-10'
>>> thin_reason("2026-11", {"2026-09": 1500, "2026-10": 1495, "2026-11": 1}, min_group_size=30)
'1 response, fewer than the 30 a finding needs'
"""

from __future__ import annotations

import datetime as _dt
import logging
import re
import statistics
from collections.abc import Mapping

from .errors import InputError, NoDataError
from .runlog import sanitise

__all__ = [
    "MONTH_PATTERN", "THIN_SHARE", "is_month", "check_month", "month_of", "as_date", "previous_month",
    "thin_reason", "resolve_month", "month_label",
]

log = logging.getLogger(__name__)

#: ``YYYY-MM`` from 1900-01 to 2099-12.
MONTH_PATTERN = re.compile(r"(19|20)[0-9]{2}-(0[1-9]|1[0-2])")
#: A month with less than this share of the median volume of the months before it is thin.
THIN_SHARE = 0.25


def is_month(value: object) -> bool:
    """True for a string shaped ``YYYY-MM`` (a real month)."""
    return isinstance(value, str) and MONTH_PATTERN.fullmatch(value) is not None


def check_month(value: object, *, what: str = "The month", allow_last: bool = True) -> str:
    """``value`` when it is exactly ``YYYY-MM`` (or ``"last"`` when allowed); else :class:`InputError`.

    Nothing is stripped or coerced: a parameter that reaches a notebook is exactly what was checked.
    """
    if allow_last and value == "last":
        return "last"
    if isinstance(value, str) and is_month(value):
        return value
    also = " or 'last'" if allow_last else ""
    raise InputError(f"{what} must be YYYY-MM (for example 2026-10){also}; got {sanitise(repr(value))[:80]}.")


def month_of(day: _dt.date | _dt.datetime) -> str:
    """``YYYY-MM`` of a date."""
    return f"{day.year:04d}-{day.month:02d}"


def as_date(value: _dt.date | str | None, timezone: str = "UTC") -> _dt.date | None:
    """``value`` as a date: a date, ``"YYYY-MM-DD"``, an aware datetime (its date in ``timezone``),
    or None for None / ``""``. Nothing here reads the clock: the edges (the CLI, the notebooks'
    parameter cells) pass the date or the moment in."""
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            return value.date()
        from zoneinfo import ZoneInfo

        return value.astimezone(ZoneInfo(timezone)).date()
    if isinstance(value, _dt.date):
        return value
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return _dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise InputError(f"today must be a date YYYY-MM-DD (for example 2026-11-02); "
                         f"got {sanitise(repr(value))[:80]}.") from None


def previous_month(month: str) -> str:
    """The month before ``month``."""
    year, mon = int(month[:4]), int(month[5:7])
    return f"{year - 1:04d}-12" if mon == 1 else f"{year:04d}-{mon - 1:02d}"


def month_label(month: str) -> str:
    """``"October 2026"`` for ``"2026-10"``."""
    return _dt.date(int(month[:4]), int(month[5:7]), 1).strftime("%B %Y")


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def thin_reason(month: str, volumes: Mapping[str, int], *, min_group_size: int,
                share: float = THIN_SHARE, baseline: Mapping[str, int] | None = None) -> str | None:
    """Why ``month`` is too thin to compare, in plain words, or None when it is a full month.

    ``volumes`` maps months to their number of responses (kept rows); the months
    before ``month`` give the median it is measured against, together with
    ``baseline`` (for example the months a history store holds but the input does not).
    """
    n = int(volumes.get(month, 0))
    if n < min_group_size:
        return f"{_plural(n, 'response')}, fewer than the {min_group_size} a finding needs"
    known = {**(baseline or {}), **volumes}
    before = [int(v) for m, v in known.items() if m < month and v]
    if before:
        median = statistics.median(before)
        if n < share * median:
            return (f"{_plural(n, 'response')}, less than {share:.0%} of the usual {median:,.0f} "
                    "a month (the median of the months before)")
    return None


def resolve_month(month: str, volumes: Mapping[str, int], *, today: _dt.date | None, min_group_size: int,
                  share: float = THIN_SHARE, baseline: Mapping[str, int] | None = None) -> str:
    """The report month: ``month`` itself when it is ``YYYY-MM``, else the latest full month.

    ``"last"`` skips the month of ``today`` and any later one (they have not ended),
    then any thin month after the latest full one, logging one line per skipped
    month with its count and how to force it. Only months of ``volumes`` are candidates;
    ``baseline`` adds earlier months' volumes to the thin rule's median. Raises
    :class:`NoDataError` when no month qualifies.
    """
    month = check_month(month)
    if month != "last":
        return month
    if today is None:
        raise InputError("'last' needs today's date to know which months have ended: pass --today YYYY-MM-DD "
                         "(the command passes today's date itself) or today=\"YYYY-MM-DD\", or name the month.")
    current = month_of(today)
    ended = sorted(m for m, n in volumes.items() if m < current and n)
    if not ended:
        present = sorted(m for m, n in volumes.items() if n)
        raise NoDataError(
            f"The input holds no feedback for a month that has ended (today is {today.isoformat()}"
            + (f"; it has only {', '.join(present)})" if present else ")")
            + ", so there is no latest month to report. Pass --month YYYY-MM."
        )
    for candidate in reversed(ended):
        reason = thin_reason(candidate, volumes, min_group_size=min_group_size, share=share, baseline=baseline)
        if reason is None:
            return candidate
        log.info("month %s skipped by 'last': %s; pass --month %s to report it anyway", candidate, reason,
                 candidate)
    raise NoDataError(
        "Every month in the input that has ended is too thin to report ("
        + "; ".join(f"{m}: {int(volumes[m])}" for m in ended)
        + f" responses; a finding needs {min_group_size}). Pass --month YYYY-MM to report one anyway."
    )
