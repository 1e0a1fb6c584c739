"""Cleaning: platform rows -> the canonical frame, plus a quarantine and a quality table.

``clean_responses`` maps every export onto the canonical columns (the
platform's ``stage`` in :mod:`feedbacklib.io`), then applies small pure
frame/series steps defined here: text repair and whitespace, dates to UTC and
the reporting month, scores, teams, channels, PII redaction, customer keys,
duplicates. A row that breaks a rule is not dropped: it goes to the quarantine
with its reason and its original values.

Quarantine layout: ``schema.QUARANTINE_COLUMNS`` (source_file, source_row,
platform, reason, reason_kind) followed by one column :data:`ORIGINAL` holding the row's
original cells as a JSON object (original column name -> text, ``null`` for an
empty cell). One JSON column keeps files with different columns in one table
and is safe to open in a spreadsheet (it always starts with ``{``).

Configuration (``feedback.toml``; every key optional)::

    [cleaning]
    duplicate_window_hours = 24      # same customer + same text within this window -> "repeat"; 0 = off
    csat_scale = [1, 5]              # numeric scale the exports use for satisfaction (e.g. [1, 10])
    nps_scale = [0, 10]
    [cleaning.csat_labels]           # added to CSAT_LABELS (case-insensitive)
    "Loved it" = 5
    [cleaning.nps_labels]
    "Definitely" = 10
    [platforms.surveymonkey]         # per-platform scale wins over [cleaning]
    csat_scale = [1, 10]

Duplicates: the same (platform, response_id) twice keeps the copy with the
newest version (Zendesk ``generated_timestamp`` / ``updated_at``; the older is
"superseded by a later copy of ..."), else the first ("duplicate of ...").

>>> from feedbacklib.io import read_exports                  # doctest: +SKIP
>>> result = clean_responses(read_exports(cfg.input, cfg), cfg)  # doctest: +SKIP
>>> result.quality[["file", "rows_read", "rows_kept", "rows_quarantined"]]  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import schema as S
from .errors import InputError, QuarantineKind, SchemaError
from .io import Export, read_export, stage_export
from .io._common import (CUSTOMER_ID, REJECT, REJECT_KIND, STRING, TRUNCATED_ROWS, VERSION, per_unique,
                         platform_settings)
from .arrowstr import arrow_strings, matches, put_rows, release_memory
from .validation import validate_frame
from .settings import CSAT_LABELS, NPS_LABELS, CleaningSettings, PlatformSettings
from .pii import MAY_HOLD_PII, personal_ids, pseudonym, redact_labels, redact_pii

__all__ = [
    "CleanResult", "clean_responses", "clean_exports", "map_exports", "clean_mapped", "Mapped", "validate_canonical", "ORIGINAL", "REASON_KINDS",
    "QUALITY_COLUMNS", "QuarantineKind", "reason_labels", "reason_counts", "repair_mojibake", "normalise_whitespace", "clean_text",
    "parse_timestamps", "reporting_month", "parse_score", "parse_bool", "lookup_teams",
    "normalise_channel", "customer_keys", "CSAT_LABELS", "NPS_LABELS", "cleaning_settings",
    "DEFAULT_DUPLICATE_WINDOW_HOURS",
]

#: The quarantine's column of original values (a JSON object per row).
ORIGINAL = "original"
#: Quarantine reason kinds (:class:`~feedbacklib.errors.QuarantineKind` values); the quality
#: table has one count column for each.
REASON_KINDS = tuple(kind.value for kind in QuarantineKind)
#: Same customer, same text, within this many hours: the later copy is quarantined as a repeat
#: (the default of ``[cleaning] duplicate_window_hours``).
DEFAULT_DUPLICATE_WINDOW_HOURS = CleaningSettings.duplicate_window_hours
QUALITY_COLUMNS = ("file", S.PLATFORM, "confidence", "rows_read", "rows_kept", "rows_quarantined")
#: Comments that say nothing: the row is kept with text "".
BLANK_TEXTS = ("n/a", "na", "-", "none", "nothing", ".", "nil", "--")
CHANNEL_SYNONYMS = {
    "phone": "phone", "telephone": "phone", "call": "phone", "voice": "phone", "tel": "phone",
    "email": "email", "e-mail": "email", "mail": "email",
    "chat": "chat", "live chat": "chat", "webchat": "chat", "web chat": "chat", "messaging": "chat",
    "web": "web", "web form": "web", "webform": "web", "website": "web", "online": "web",
    "form": "web", "api": "web", "app": "web",
    "social": "social", "twitter": "social", "facebook": "social", "instagram": "social",
    "social media": "social", "x": "social",
    "in_person": "in_person", "in person": "in_person", "in-person": "in_person",
    "store": "in_person", "branch": "in_person", "face to face": "in_person",
    "letter": "unknown", "post": "unknown",
}
_WS = "[ \t\r\n\f\v\u00a0]"
_MOJIBAKE_HINT = "Ã|Â|â€|â„"
_MAX_REASON_VALUE = 40


@dataclass(frozen=True)
class CleanResult:
    """What cleaning returns.

    frame : the canonical rows (``schema.CANONICAL_COLUMNS``), sorted by received_at, response_id.
    quarantine : rejected rows: ``schema.QUARANTINE_COLUMNS`` + :data:`ORIGINAL`.
    quality : one row per file: ``QUALITY_COLUMNS`` + one count per :data:`REASON_KINDS`.
    """

    frame: pd.DataFrame
    quarantine: pd.DataFrame
    quality: pd.DataFrame


# --------------------------------------------------------------------------- text

def repair_mojibake(texts: pd.Series) -> pd.Series:
    """Undo UTF-8 read as cp1252 ("donâ€™t" -> "don’t") where the round trip is exact."""
    out = texts.astype(STRING)
    arr = arrow_strings(out)
    hint = pc.invert(pc.string_is_ascii(arr)).fill_null(False).to_numpy(zero_copy_only=False)
    if hint.any():  # only non-ASCII text can hold mojibake: the pattern runs on those alone
        found = pc.match_substring_regex(arr.filter(pa.array(hint)), _MOJIBAKE_HINT)
        hint[hint] = found.fill_null(False).to_numpy(zero_copy_only=False)
    if hint.any():
        sub = out.loc[hint]
        fixes = {t: _unmojibake(t) for t in sub.unique()}  # repeated texts are fixed once
        out = put_rows(out, hint, sub.map(fixes).astype(STRING))
    return out


# A UTF-8 lead byte read as cp1252 (Â..ô) followed by 1-3 continuation bytes read as cp1252.
_CONT = "\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013\u2014\u2018-\u201a\u201c-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122"
_MOJIBAKE_RUN = re.compile(f"[\u00c2-\u00f4][{_CONT}]{{1,3}}")


def _unmojibake(text: str) -> str:
    """Repair each mojibake run on its own, so genuine non-ASCII text around it is kept."""

    def fix(match: re.Match[str]) -> str:
        run = match.group(0)
        try:
            return run.encode("cp1252").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            return run

    for _ in range(2):  # double-encoded text needs two rounds
        fixed = _MOJIBAKE_RUN.sub(fix, text)
        if fixed == text:
            return text
        text = fixed
    return text


def normalise_whitespace(texts: pd.Series) -> pd.Series:
    """Any whitespace run (and lone tab/newline) becomes one space; ends stripped.

    Only the texts :data:`_WS_MAY_CHANGE` matches are rewritten: most texts
    (and most ids) have nothing to change, and finding them is one cheap pass.
    """
    out = texts.astype(STRING)
    todo = matches(out, _WS_MAY_CHANGE)
    if not todo.any():
        return out
    return put_rows(out, todo, _collapse_whitespace(out[todo]))


def _collapse_whitespace(texts: pd.Series) -> pd.Series:
    """The rewrite itself, on every text given."""
    return texts.str.replace(f"{_WS}{{2,}}|[\t\r\n\f\v\u00a0]", " ", regex=True).str.strip()


# What normalise_whitespace can change: a control character (tab, newline, ...), two spaces,
# a no-break space, whitespace at an end (``str.strip`` trims ASCII whitespace, U+0085 and the
# Unicode separators \pZ; all control characters are included to be safe).
_WS_MAY_CHANGE = r"[\x00-\x1f\x{a0}]|  |^[\x00-\x20\x{85}\pZ]|[\x00-\x20\x{85}\pZ]$"
# What mojibake repair, whitespace clean-up or PII redaction can change, in one RE2 expression.
_TEXT_MAY_CHANGE = "|".join((_MOJIBAKE_HINT, _WS_MAY_CHANGE, MAY_HOLD_PII))


def clean_text(texts: pd.Series) -> pd.Series:
    """Mojibake repaired, whitespace normalised, empty answers ("n/a", "-") -> "", PII redacted.

    One pass over the column finds the texts that mojibake repair, whitespace
    clean-up or PII redaction could change (:data:`_TEXT_MAY_CHANGE`; most
    comments have none of it) and every step runs on these rows alone, put
    back in one copy of the column. Any other text is left as it is by those
    steps, so only empty answers remain to blank (blanking the rows already
    done again changes nothing): the result is the same as running every step
    on every text.
    """
    out = texts.astype(STRING)
    todo = matches(out, _TEXT_MAY_CHANGE)
    done = redact_pii(_blank_empty_answers(normalise_whitespace(repair_mojibake(out[todo]))))
    return _blank_empty_answers(put_rows(out, todo, done))


def _blank_empty_answers(texts: pd.Series) -> pd.Series:
    """Null and empty answers ("n/a", "-", ...: :data:`BLANK_TEXTS`, any case) -> ""."""
    blank = texts.isna().to_numpy(dtype=bool).copy()
    short = ~blank & (texts.str.len().fillna(0).to_numpy() <= max(map(len, BLANK_TEXTS)))
    if short.any():  # str.lower keeps the length (one code point for one), so longer texts cannot match
        blank[short] = texts[short].str.lower().isin(BLANK_TEXTS).fillna(False).to_numpy(dtype=bool)
    if not blank.any():
        return texts
    return put_rows(texts, blank, pd.Series([""] * int(blank.sum()), dtype=STRING))


# --------------------------------------------------------------------------- dates

_ISO = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M",
        "%Y-%m-%d", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d")
_DAYFIRST = ("%d/%m/%Y", "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%d.%m.%Y", "%d-%m-%Y",
             "%d/%m/%y", "%d/%m/%y %H:%M", "%d/%m/%y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y %H:%M:%S",
             "%d-%m-%Y %H:%M", "%d-%m-%Y %H:%M:%S", "%d/%m/%Y %I:%M:%S %p", "%d/%m/%Y %I:%M %p")
_MONTHFIRST = ("%m/%d/%Y", "%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S", "%m/%d/%y",
               "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %I:%M %p", "%m/%d/%y %H:%M",
               "%m/%d/%y %H:%M:%S", "%m/%d/%y %I:%M:%S %p", "%m/%d/%y %I:%M %p")
#: Month names: the order is in the text, so these serve either way.
_NAMED = ("%B %d, %Y %I:%M:%S %p", "%b %d, %Y %I:%M:%S %p", "%B %d, %Y %I:%M %p", "%b %d, %Y %I:%M %p",
          "%B %d, %Y %H:%M:%S", "%b %d, %Y %H:%M:%S", "%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%d %b %Y",
          "%d %B %Y %H:%M", "%d %b %Y %H:%M", "%d %B %Y %H:%M:%S", "%d %b %Y %H:%M:%S")
_AWARE = "(?:Z|[+-][0-9]{2}:?[0-9]{2})$"
_EXCEL_SERIAL = "^[0-9]{5}(?:[.][0-9]+)?$"
_LOW, _HIGH = pd.Timestamp("1970-01-01"), pd.Timestamp("2200-01-01")
_LOW_PA = pa.scalar(_LOW.to_pydatetime(), pa.timestamp("s"))
_HIGH_PA = pa.scalar(_HIGH.to_pydatetime(), pa.timestamp("s"))
_NUMERIC_DATE = r"^[ \t]*(?P<a>[0-9]{1,2})[/.-](?P<b>[0-9]{1,2})[/.-][0-9]{2,4}"
_DIRECTIVES = {"%Y": "[0-9]{4}", "%y": "[0-9]{2}", "%m": "[0-9]{1,2}", "%d": "(?P<d>[0-9]{1,2})",
               "%H": "[0-9]{1,2}", "%I": "[0-9]{1,2}", "%M": "[0-9]{1,2}", "%S": "[0-9]{1,2}",
               "%p": "[AaPp][Mm]", "%B": "[A-Za-z]+", "%b": "[A-Za-z]+"}


def _day_pattern(fmt: str) -> str:
    """A regex that captures, as ``d``, the day of the month in text written as ``fmt``."""
    parts = re.split("(%[A-Za-z])", fmt)
    return "^[ \t]*" + "".join(_DIRECTIVES.get(p, re.escape(p)) for p in parts if p)


def _impossible_days(arr: pa.Array, parsed: pa.Array, fmt: str) -> pa.Array:
    """``parsed`` with nulls where the text's day does not exist in its month.

    Arrow's strptime rolls 31/02/2026 over to 3 March; a rolled date lands on day
    1-3 with another day in the text, so only those rows are looked at again.
    """
    if "%d" not in fmt:
        return parsed
    day = pc.day(parsed)
    low = pc.fill_null(pc.less_equal(day, 3), False)
    if not pc.any(low).as_py():
        return parsed
    idx = pc.indices_nonzero(low)
    found = pc.extract_regex(pc.take(arr, idx), _day_pattern(fmt))
    text_day = pc.cast(pc.struct_field(found, [0]), pa.int64())
    wrong = pc.fill_null(pc.not_equal(text_day, pc.cast(pc.take(day, idx), pa.int64())), True)
    if not pc.any(wrong).as_py():
        return parsed
    mask = np.zeros(len(parsed), dtype=bool)
    mask[pc.filter(idx, wrong).to_numpy()] = True
    return pc.if_else(pa.array(mask), pa.scalar(None, pa.timestamp("s")), parsed)


def infer_dayfirst(values: pd.Series, default: bool) -> bool:
    """Day/month order of a column's numeric dates: ``True`` when some have a first number above 12
    and none a second one above 12 (28/04/2021), ``False`` for the reverse (4/28/21); else ``default``.
    Looks at the first 100,000 values."""
    arr = pa.array(values.iloc[:100_000].astype(STRING), type=pa.large_string())
    found = pc.extract_regex(pc.drop_null(arr), _NUMERIC_DATE)
    if len(found) == 0:
        return default
    first = pc.cast(pc.struct_field(found, [0]), pa.int64())
    second = pc.cast(pc.struct_field(found, [1]), pa.int64())
    day_first = pc.any(pc.greater(first, 12)).as_py()
    month_first = pc.any(pc.greater(second, 12)).as_py()
    if day_first and not month_first:
        return True
    if month_first and not day_first:
        return False
    return default


def _dateutil_parse(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    """The last resort for the few distinct values no format read: a real parser (dateutil), only
    for text with a four-digit year and words (``Mon, 05 Oct 2026 10:00:00 GMT``), with day and
    month checked (no rolling over). Numeric dates are left to the formats and the column's order."""
    from dateutil import parser as du

    default = pd.Timestamp("2000-01-01").to_pydatetime()
    out: dict[str, Any] = {}
    for u in text.dropna().unique()[:10_000]:
        # numeric dates are the formats' job (with the column's day/month order): words only here
        if not re.search(r"(?:19|20|21)[0-9]{2}", u) or not re.search(r"[A-Za-z]{3}", u):
            continue
        try:
            stamp = du.parse(u, default=default, fuzzy=False)
        except (ValueError, OverflowError, TypeError):
            continue
        out[u] = pd.Timestamp(stamp.replace(tzinfo=None)) if stamp.tzinfo is None else pd.Timestamp(stamp)
    if not out:
        return (pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]"),
                pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns, UTC]"))
    obj = text.astype(object)
    naive = pd.to_datetime(obj.map({k: v for k, v in out.items() if v.tzinfo is None}), errors="coerce")
    utc = pd.to_datetime(obj.map({k: v.tz_convert("UTC") for k, v in out.items() if v.tzinfo is not None}),
                         utc=True, errors="coerce")
    return naive.astype("datetime64[ns]"), utc.astype("datetime64[ns, UTC]")


def parse_timestamps(values: pd.Series, *, timezone: str, dayfirst: bool = True,
                     infer: bool = False) -> pd.Series:
    """Text -> ``datetime64[ns, UTC]``; unparseable, impossible or implausible -> NaT.

    Naive values are read in ``timezone`` (ISO, then dd/mm/yyyy or mm/dd/yyyy,
    month names, then Excel serial day numbers, then dateutil for the few
    distinct values left); values with ``Z`` or an offset are exact. A day that
    does not exist (31/02/2026, "31/09/2026 10:00") is NaT, never the next
    month. ``infer=True`` lets the column's own dates decide the day/month
    order when they are unambiguous (:func:`infer_dayfirst`).
    """
    text = values.astype(STRING).str.strip()
    n = len(text)
    result = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns, UTC]")
    if n == 0:
        return result
    if infer:
        dayfirst = infer_dayfirst(text, dayfirst)
    arr = pa.array(text, type=pa.large_string())
    naive = pa.nulls(n, pa.timestamp("s"))
    have_text = int(text.notna().sum())
    for fmt in _ISO + (_DAYFIRST if dayfirst else _MONTHFIRST) + _NAMED:
        if len(naive) - naive.null_count == have_text:
            break
        parsed = pc.strptime(arr, format=fmt, unit="s", error_is_null=True)
        if parsed.null_count == n:
            continue
        # "%Y" reads "25" as year 25: keep only plausible years so "%y" gets its turn
        plausible = pc.and_(pc.greater_equal(parsed, _LOW_PA), pc.less(parsed, _HIGH_PA))
        parsed = pc.if_else(plausible, parsed, pa.scalar(None, pa.timestamp("s")))
        parsed = _impossible_days(arr, parsed, fmt)
        naive = pc.coalesce(naive, parsed)
    local = _in_bounds(pd.Series(naive.to_pandas(), index=values.index)).astype("datetime64[ns]")
    todo = local.isna() & text.notna()
    if todo.any():
        serial = todo & text.str.match(_EXCEL_SERIAL).fillna(False)
        if serial.any():
            days = pd.to_numeric(text[serial], errors="coerce").astype("float64")
            days = days.where((days > 25569) & (days < 109575))  # 1970..2200
            local.loc[serial] = (pd.Timestamp("1899-12-30") + pd.to_timedelta(days.round(6), unit="D")
                                 ).astype("datetime64[ns]")
        todo &= ~serial
        aware = todo & text.str.contains(_AWARE, regex=True).fillna(False)
        if aware.any():
            parsed = pd.to_datetime(text[aware].astype(object), utc=True, format="ISO8601", errors="coerce")
            ok = parsed.notna() & (parsed >= _LOW.tz_localize("UTC")) & (parsed < _HIGH.tz_localize("UTC"))
            result.loc[aware] = parsed.where(ok).astype("datetime64[ns, UTC]")
        rest = todo & ~aware
        if rest.any():  # fractional seconds and other ISO variants
            parsed = pd.to_datetime(text[rest].astype(object), format="ISO8601", errors="coerce")
            if getattr(parsed.dt, "tz", None) is None:
                local.loc[rest] = _in_bounds(parsed).astype("datetime64[ns]")
        left = rest & local.isna()
        if left.any():
            naive_du, utc_du = _dateutil_parse(text[left])
            local.loc[left] = _in_bounds(naive_du).astype("datetime64[ns]")
            aware_du = utc_du.notna()
            if aware_du.any():
                result.loc[aware_du[aware_du].index] = utc_du[aware_du]
    local = _in_bounds(local)
    have = local.notna()
    if have.any():
        zoned = (local[have].astype("datetime64[ns]")
                 .dt.tz_localize(timezone, ambiguous=np.zeros(int(have.sum()), dtype=bool),
                                 nonexistent="shift_forward")
                 .dt.tz_convert("UTC"))
        result.loc[have] = zoned
    return result


def _in_bounds(stamps: pd.Series) -> pd.Series:
    """NaT outside 1970..2200 (implausible for feedback, and safe for nanoseconds)."""
    return stamps.where((stamps >= _LOW) & (stamps < _HIGH))


def reporting_month(received_at: pd.Series, timezone: str) -> pd.Series:
    """``YYYY-MM`` of each timestamp in ``timezone``."""
    local = received_at.dt.tz_convert(timezone)
    ym = (local.dt.year * 100 + local.dt.month).astype("Int64")
    codes, uniques = pd.factorize(ym)  # a month of data holds one or two distinct months
    names = [f"{v // 100}-{v % 100:02d}" for v in uniques] + [None]
    labels = pd.array(names, dtype=STRING).take(np.where(codes < 0, len(uniques), codes))
    return pd.Series(labels, index=received_at.index, dtype=STRING)


# --------------------------------------------------------------------------- values

def _short(values: pd.Series, quoted: pd.Series | None = None) -> pd.Series:
    """A value quoted in a quarantine reason: redacted first, then cut (a cut e-mail is not found).

    ``quoted``: where the value is quoted at all (no redaction needed when nowhere).
    """
    if quoted is not None and not quoted.to_numpy(dtype=bool).any():
        return values.str.slice(0, _MAX_REASON_VALUE)
    return redact_pii(values).str.slice(0, _MAX_REASON_VALUE)


_LEADING_NUMBER = "^[ \t]*([0-9]+(?:[.][0-9]+)?)(?:[ \t]*(?:[-(:=/]|[a-zA-Z]).*)?$"


def parse_score(values: pd.Series, *, low: int, high: int, name: str,
                labels: dict[str, int] | None = None,
                scale: tuple[float, float] | None = None) -> tuple[pd.Series, pd.Series]:
    """Scores as ``Int8`` and a reason per row (``<NA>`` when fine, blank included).

    :func:`score_reasons` gives the reasons' kinds too.

    Accepts numbers, a number with its label ("5 - Extremely satisfied",
    "10 (Extremely likely)") and bare labels found in ``labels`` (case-insensitive).
    ``scale = (lo, hi)`` declares the platform's numeric scale (e.g. 1-10): its
    numbers are mapped linearly onto ``low..high`` and rounded. Labels are
    already on the canonical scale.
    """
    scores, reason, _ = score_reasons(values, low=low, high=high, name=name, labels=labels, scale=scale)
    return scores, reason


def score_reasons(values: pd.Series, *, low: int, high: int, name: str,
                  labels: dict[str, int] | None = None,
                  scale: tuple[float, float] | None = None) -> tuple[pd.Series, pd.Series, pd.Series]:
    """:func:`parse_score`'s scores and reasons, plus each reason's :class:`QuarantineKind` value."""
    text = values.astype(STRING).str.strip()
    text = text.mask(text == "", None)
    number = pd.to_numeric(text, errors="coerce").astype("Float64")
    from_label = pd.Series(False, index=values.index)
    todo = (text.notna() & number.isna()).fillna(False).to_numpy(dtype=bool)
    if todo.any():
        sub = text[todo]
        lookup = {str(k).strip().casefold(): float(v) for k, v in (labels or {}).items()}
        lead = re.compile(_LEADING_NUMBER)
        found: dict[str, float] = {}
        labelled: set[str] = set()
        for u in sub.dropna().unique():  # per unique text, so a million rows cost a few lookups
            key = u.casefold().strip(" .!")
            if key in lookup:
                found[u] = lookup[key]
                labelled.add(u)
            elif (m := lead.match(u)) is not None:
                found[u] = float(m.group(1))
        if found:
            number = number.copy()
            number.loc[sub.index] = sub.map(found).astype("Float64")
            from_label.loc[sub.index] = sub.isin(list(labelled)).fillna(False).to_numpy(dtype=bool)
    if scale is not None and (float(scale[0]), float(scale[1])) != (float(low), float(high)):
        lo, hi = float(scale[0]), float(scale[1])
        on_scale = (number.notna() & (number >= lo) & (number <= hi)).fillna(False) & ~from_label
        rescaled = (low + (number - lo) * (high - low) / (hi - lo)).round()
        number = number.mask(on_scale, rescaled)
    return _scores_with_kinds(text, number, low=low, high=high, name=name)


#: The kinds of a score's reasons: (not a number, out of range), by canonical column.
_SCORE_KINDS = {S.CSAT: (QuarantineKind.CSAT_NOT_A_NUMBER, QuarantineKind.CSAT_OUT_OF_RANGE),
                S.NPS: (QuarantineKind.NPS_NOT_A_NUMBER, QuarantineKind.NPS_OUT_OF_RANGE)}


def _scores_with_kinds(text: pd.Series, number: pd.Series, *, low: int, high: int,
                       name: str) -> tuple[pd.Series, pd.Series, pd.Series]:
    not_number = text.notna() & number.isna()
    bad_range = number.notna() & ((number < low) | (number > high) | (number != number.round()))
    bad_range = bad_range.fillna(False)
    reason = pd.Series(pd.NA, index=text.index, dtype=STRING)
    quoted = _short(text, not_number | bad_range)
    reason = reason.mask(not_number, f"{name} not a number (" + quoted + ")")
    reason = reason.mask(bad_range, f"{name} out of range (" + quoted + ")")
    nan_kind, range_kind = _SCORE_KINDS[name]
    kind = pd.Series(pd.NA, index=text.index, dtype=STRING)
    kind = kind.mask(not_number, nan_kind.value).mask(bad_range, range_kind.value)
    good = number.where(~bad_range & number.notna())
    return good.round().astype("Int8"), reason, kind


def parse_hours(values: pd.Series) -> pd.Series:
    number = pd.to_numeric(values.astype(STRING).str.strip(), errors="coerce").astype("Float64")
    return number.where((number >= 0) & np.isfinite(number.fillna(0).to_numpy(dtype=float)))


_TRUE = ("true", "yes", "y", "1", "t")
_FALSE = ("false", "no", "n", "0", "f")


def parse_bool(values: pd.Series) -> pd.Series:
    """Text -> nullable boolean (true/yes/1 and false/no/0; anything else null)."""
    low = values.astype(STRING).str.strip().str.lower()
    out = pd.Series(pd.NA, index=values.index, dtype="boolean")
    out = out.mask(low.isin(_TRUE).fillna(False), True)
    return out.mask(low.isin(_FALSE).fillna(False), False)


def lookup_teams(teams: pd.Series, config: Any) -> pd.DataFrame:
    """Team, service_model and vendor through the config's team table (case-insensitive, aliases)."""
    given = normalise_whitespace(teams)
    given = given.mask(given.fillna("") == "", S.UNKNOWN)
    table = config.team_table() if config is not None else {}
    keys = given.str.casefold()
    uniq = keys.dropna().unique()
    name_map = {k: table[k].name for k in uniq if k in table}
    model_map = {k: table[k].service_model for k in uniq if k in table}
    vendor_map = {k: table[k].vendor for k in uniq if k in table and table[k].vendor}
    return pd.DataFrame({
        S.TEAM: keys.map(name_map).astype(STRING).fillna(given),
        S.SERVICE_MODEL: keys.map(model_map).astype(STRING).fillna(S.UNKNOWN),
        S.VENDOR: keys.map(vendor_map).astype(STRING),
    }, index=teams.index)


def normalise_channel(values: pd.Series) -> pd.Series:
    """Channel names onto ``schema.CHANNELS`` (anything unrecognised -> "unknown")."""
    low = normalise_whitespace(values).str.lower()
    uniq = low.dropna().unique()
    mapping = {v: CHANNEL_SYNONYMS.get(v, v if v in S.CHANNELS else S.UNKNOWN) for v in uniq}
    return low.map(mapping).astype(STRING).fillna(S.UNKNOWN)


def customer_keys(ids: pd.Series, config: Any) -> pd.Series:
    """Salted SHA-256 (``config.pii_salt()``) of each customer id, first 16 hex chars; null without id."""
    clean = ids.astype(STRING).str.strip()
    clean = clean.mask(clean == "", None)
    uniq = clean.dropna().unique()
    if len(uniq) == 0:
        return pd.Series(pd.NA, index=ids.index, dtype=STRING)
    salt = config.pii_salt()
    mapping = {u: hashlib.sha256(salt + u.encode("utf-8")).hexdigest()[:16] for u in uniq}
    return clean.map(mapping).astype(STRING)


def _row_hash_ids(raw: pd.DataFrame, rows: pd.Index, platform: str) -> list[str]:
    if len(rows) == 0:
        return []
    sub = raw.loc[rows]
    if sub.shape[1] == 0:
        return [f"{platform}-row{r}" for r in rows]
    hashes = pd.util.hash_pandas_object(sub.fillna("\x00"), index=False).to_numpy()
    return [f"{platform}-{h:016x}" for h in hashes]


# --------------------------------------------------------------------------- one export

def _canonical(export: Export, config: Any) -> pd.DataFrame:
    """One export -> canonical columns (+ ``reason``, ``reason_kind``), indexed 0..n-1 like the raw frame."""
    staged = stage_export(export, config)
    f = staged.frame
    index = export.raw.index
    empty = pd.Series(pd.NA, index=index, dtype=STRING)

    def col(name: str) -> pd.Series:
        return f[name] if name in f.columns else empty

    tz = staged.timezone or config.timezone
    settings = cleaning_settings(config, export.platform)
    received = parse_timestamps(repair_mojibake(col(S.RECEIVED_AT)), timezone=tz, dayfirst=staged.dayfirst,
                                infer=not staged.dayfirst_fixed)
    undated = received.isna()
    date_reason = empty.mask(undated, f"unparseable date in {staged.date_column}")
    date_kind = empty.mask(undated, QuarantineKind.UNPARSEABLE_DATE.value)
    csat, csat_reason, csat_kind = per_unique(col(S.CSAT), lambda v: score_reasons(
        v, low=1, high=5, name=S.CSAT, labels=settings["csat_labels"], scale=settings["csat_scale"]))
    nps, nps_reason, nps_kind = per_unique(col(S.NPS), lambda v: score_reasons(
        v, low=0, high=10, name=S.NPS, labels=settings["nps_labels"], scale=settings["nps_scale"]))
    truncated, truncated_kind = empty, empty
    cut = [r for r in export.meta.get(TRUNCATED_ROWS, ()) if 0 <= r < len(index)]
    if cut:
        truncated, truncated_kind = empty.copy(), empty.copy()
        truncated.iloc[cut] = "truncated record (the file ends inside it)"
        truncated_kind.iloc[cut] = QuarantineKind.TRUNCATED.value
    reject, reject_kind = col(REJECT).astype(STRING), col(REJECT_KIND).astype(STRING)
    if bool((reject.notna() & reject_kind.isna()).any()):
        raise SchemaError(f"The {export.platform} reader quarantines rows without a QuarantineKind "
                          f"({REJECT_KIND} is missing where {REJECT} is set): a bug in the reader.")
    # the first rule a row breaks is its reason; its kind comes from the same rule
    reason = truncated.fillna(reject).fillna(date_reason).fillna(csat_reason).fillna(nps_reason)
    kind = truncated_kind.fillna(reject_kind).fillna(date_kind).fillna(csat_kind).fillna(nps_kind)
    version = _versions(col(VERSION)) if VERSION in f.columns else pd.Series(np.nan, index=index)

    rid = normalise_whitespace(repair_mojibake(col(S.RESPONSE_ID)))
    missing = rid.isna() | (rid == "")
    missing = missing.fillna(True)
    if missing.any():
        rows = index[missing.to_numpy(dtype=bool)]
        rid = rid.copy()
        rid.loc[rows] = _row_hash_ids(export.raw, rows, export.platform)

    rid = _pseudonymise_ids(rid, col(CUSTOMER_ID), config)

    teams = per_unique(col(S.TEAM), lambda v: _redact_team_labels(lookup_teams(repair_mojibake(v), config).astype(
        {S.SERVICE_MODEL: S.CANONICAL_DTYPES[S.SERVICE_MODEL]}), config))
    category = per_unique(col(S.CATEGORY), lambda v: _redact_labels(normalise_whitespace(repair_mojibake(v)),
                                                                     config))
    source = staged.source if staged.source in S.SOURCES else "survey"
    out = pd.DataFrame({
        S.RESPONSE_ID: rid,
        S.SOURCE: pd.Categorical.from_codes(np.full(len(index), S.SOURCES.index(source), dtype=np.int8),
                                            dtype=S.CANONICAL_DTYPES[S.SOURCE]),
        S.PLATFORM: _constant(export.platform, len(index)),
        S.RECEIVED_AT: received,
        S.MONTH: reporting_month(received, config.timezone),
        S.TEAM: teams[S.TEAM],
        S.SERVICE_MODEL: teams[S.SERVICE_MODEL],
        S.VENDOR: teams[S.VENDOR],
        S.CHANNEL: per_unique(col(S.CHANNEL),
                              lambda v: normalise_channel(v).astype(S.CANONICAL_DTYPES[S.CHANNEL])),
        S.CSAT: csat,
        S.NPS: nps,
        S.TEXT: clean_text(col(S.TEXT)),
        S.FIRST_RESPONSE_HOURS: per_unique(col(S.FIRST_RESPONSE_HOURS), parse_hours),
        S.RESOLUTION_HOURS: per_unique(col(S.RESOLUTION_HOURS), parse_hours),
        S.RESOLVED_REPORTED: per_unique(col(S.RESOLVED_REPORTED), parse_bool),
        S.REOPENED: per_unique(col(S.REOPENED), parse_bool),
        S.CUSTOMER_KEY: per_unique(col(CUSTOMER_ID), lambda v: customer_keys(v, config)),
        S.CATEGORY: category.mask(category == "", None),
        S.SOURCE_FILE: _constant(export.path.name, len(index)),
        S.SOURCE_ROW: pd.Series(np.arange(len(index)), index=index, dtype="Int64"),
        S.QUARANTINE_REASON: reason,
        S.QUARANTINE_KIND: kind,
        VERSION: version.to_numpy(dtype="float64"),
    }, index=index)
    return out


# --------------------------------------------------------------------------- personal data per column
#: What cleaning does against personal data, per canonical column (every reader's rows pass here):
#:
#: - text: redacted (:func:`feedbacklib.pii.redact_pii`: placeholders such as ``[email]``);
#: - team, vendor, category: redacted, with a short salted pseudonym of the original added when
#:   something was redacted (``"[email] #3f9a1c"``), so agents named by e-mail stay apart;
#: - response_id: replaced by ``id-<salted hash>`` when it holds personal data (an e-mail, a
#:   phone, a card ...) or is the customer's own id; other ticket and response ids are kept;
#: - customer_key: the salted hash of the customer id (:func:`customer_keys`), never the id;
#: - channel, platform, source, scores, times: fixed vocabularies or numbers.
#:
#: The quarantine carries the row's position (file, row), its reason (values quoted in it are
#: redacted) and its original cells *redacted*: PII in any cell replaced, identity columns
#: (:data:`IDENTITY_COLUMNS`) blanked to ``[redacted]``, and the customer id replaced by its key.
PII_POLICY = {S.TEXT: "redact", S.TEAM: "redact+pseudonym", S.VENDOR: "redact+pseudonym",
              S.CATEGORY: "redact+pseudonym", S.RESPONSE_ID: "hash when personal", S.CUSTOMER_KEY: "hash"}
#: Raw columns (by name) that identify a person whatever they hold: never copied to the quarantine.
IDENTITY_COLUMNS = re.compile(
    r"ip.?address|^ip$|e.?mail|first.?name|last.?name|full.?name|^name$|recipient|respondent.?name|phone|"
    r"mobile|telephone|latitude|longitude|external.?(?:data.?)?ref|requester|submitter|assignee|"
    r"customer.?(?:id|name|email|number|ref)|user.?(?:id|name|agent)|account.?(?:id|number|no)|"
    r"street|address|post.?code|zip|birth|passport|national.?insurance|device", re.I)
REDACTED = "[redacted]"


def _salt(config: Any) -> bytes:
    return config.pii_salt() if config is not None else b""


def _redact_labels(values: pd.Series, config: Any) -> pd.Series:
    """Team, vendor or category labels through :func:`feedbacklib.pii.redact_labels`, same dtype."""
    return redact_labels(values, lambda: _salt(config)).astype(values.dtype)


def _redact_team_labels(teams: pd.DataFrame, config: Any) -> pd.DataFrame:
    return teams.assign(**{c: _redact_labels(teams[c], config) for c in (S.TEAM, S.VENDOR)})


def _pseudonymise_ids(rid: pd.Series, customer_ids: pd.Series, config: Any) -> pd.Series:
    """Response ids that hold personal data, or are the customer's own id, -> ``id-<salted hash>``."""
    personal = personal_ids(rid)
    same = (rid == customer_ids.astype(STRING).str.strip()).fillna(False).to_numpy(dtype=bool)
    personal |= same
    if not personal.any():
        return rid
    salt = _salt(config)
    sub = rid[personal]
    mapping = {v: "id-" + pseudonym(v, salt) for v in sub.dropna().unique()}
    return put_rows(rid.astype(STRING), personal, sub.map(mapping).astype(STRING))


def _id_columns(sub: pd.DataFrame, keys: pd.Series, salt: bytes, probe: int = 20) -> set[int]:
    """Positions of the raw columns that hold the customer id: a cell whose salted hash is the
    row's customer key, on the first ``probe`` rows that have a key (so the check stays cheap)."""
    rows = np.flatnonzero(keys.notna().to_numpy(dtype=bool))[:probe]
    found = set()
    for j in range(sub.shape[1]):
        cells = sub.iloc[rows, j]
        if any(isinstance(v, str) and pseudonym(v.strip(), salt) == k
               for v, k in zip(cells.tolist(), keys.iloc[rows].tolist())):
            found.add(j)
    return found


def _redacted_cells(sub: pd.DataFrame, keys: pd.Series, config: Any) -> list[list[Any]]:
    """The raw cells of quarantined rows as they may be published, column by column (:data:`PII_POLICY`).

    Every cell is redacted in one call (one pass of the patterns over all columns), identity
    columns are blanked, and the customer's own id becomes its key.
    """
    n, width = sub.shape
    if n == 0 or width == 0:
        return [[] for _ in range(width)]
    raw = [_python_values(sub.iloc[:, j]) for j in range(width)]
    identity = [IDENTITY_COLUMNS.search(str(c)) is not None for c in sub.columns]
    # identity columns are blanked whatever they hold: only the others need the patterns
    stacked = pd.Series(pd.array([None if v is None or identity[j] else str(v)
                                  for j, col in enumerate(raw) for v in col], dtype=STRING))
    redacted = pa.array(redact_pii(stacked).array).to_pylist()
    ids = _id_columns(sub, keys, _salt(config)) if keys.notna().any() else set()
    key_list = keys.tolist()
    out = []
    for j in range(width):
        cells = redacted[j * n:(j + 1) * n]
        if identity[j]:
            cells = [None if v is None else REDACTED for v in raw[j]]
        if j in ids:  # the customer's own id: its key instead
            salt = _salt(config)
            cells = ["[customer " + k + "]" if isinstance(v, str) and isinstance(k, str)
                     and pseudonym(v.strip(), salt) == k else c
                     for v, k, c in zip(raw[j], key_list, cells)]
        out.append(cells)
    return out


def _constant(value: str, n: int) -> pd.arrays.ArrowStringArray:
    """``n`` copies of ``value`` as ``string`` (no Python object per row)."""
    return pd.arrays.ArrowStringArray(pa.repeat(pa.scalar(value, pa.large_string()), n))


def _versions(values: pd.Series) -> pd.Series:
    """Epoch seconds of a record's version (a Unix time or a timestamp text); NaN when unknown."""
    number = pd.to_numeric(values, errors="coerce").astype("float64")
    todo = number.isna() & values.notna()
    if todo.any():
        stamps = parse_timestamps(values[todo], timezone="UTC", dayfirst=False)
        secs = (stamps - pd.Timestamp("1970-01-01", tz="UTC")).dt.total_seconds()
        number = number.copy()
        number.loc[todo] = secs.astype("float64").to_numpy()
    return number


def cleaning_settings(config: Any, platform: str | None = None) -> dict[str, Any]:
    """The ``[cleaning]`` table of feedback.toml with defaults, plus per-platform scales.

    Keys: ``duplicate_window_hours`` (default 24; 0 switches the repeat check off),
    ``csat_scale`` / ``nps_scale`` (``[low, high]`` of the numbers an export uses,
    default ``[1, 5]`` / ``[0, 10]``; ``[platforms.<name>] csat_scale`` wins for
    one platform), ``csat_labels`` / ``nps_labels`` (label -> score, added to
    :data:`CSAT_LABELS` / :data:`NPS_LABELS`).
    """
    table = config.cleaning if config is not None else CleaningSettings()
    per = platform_settings(config, platform) if platform else PlatformSettings()

    def labels(extra: Mapping[str, int], default: dict[str, int]) -> dict[str, int]:
        return {**default, **{str(k).casefold(): int(v) for k, v in extra.items()}}

    return {"duplicate_window_hours": float(table.duplicate_window_hours),
            "csat_scale": per.csat_scale or table.csat_scale, "nps_scale": per.nps_scale or table.nps_scale,
            "csat_labels": labels(table.csat_labels, CSAT_LABELS),
            "nps_labels": labels(table.nps_labels, NPS_LABELS)}


def _cast(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.astype({c: d for c, d in S.CANONICAL_DTYPES.items() if c in frame.columns})


# --------------------------------------------------------------------------- public

def reason_labels(quarantine: pd.DataFrame) -> pd.Series:
    """One label per quarantined row, for counting them in a table: the row's kind, except that an
    excluded status keeps its reason (``status Spam``, ``status Survey Preview``), which names the
    status. Read from the ``reason_kind`` column, never from the reason's text."""
    kind = quarantine[S.QUARANTINE_KIND].astype(STRING)
    return kind.mask(kind == QuarantineKind.EXCLUDED_STATUS.value, quarantine[S.QUARANTINE_REASON].astype(STRING))


def reason_counts(quarantine: pd.DataFrame) -> pd.DataFrame:
    """Quarantined rows per :func:`reason_labels` label, most frequent first: columns ``reason``, ``rows``
    (no row when nothing was quarantined)."""
    if not len(quarantine):
        return pd.DataFrame(columns=["reason", "rows"])
    return reason_labels(quarantine).value_counts().rename_axis("reason").reset_index(name="rows")


def clean_responses(exports: Sequence[Export], config: Any) -> CleanResult:
    """Map, normalise, de-duplicate and redact every export; quarantine rows that break a rule.

    Never modifies the exports. For every file ``rows_read == rows_kept + rows_quarantined``.
    :func:`clean_exports` gives the same result from exports read one at a time.

    Raises
    ------
    SchemaError
        The cleaned frame breaks the canonical schema (a bug: listed in full).
    """
    return clean_mapped(map_exports(exports, config, keep_raw=True), config)


def clean_exports(exports: Iterable[Export], config: Any) -> CleanResult:
    """:func:`clean_responses` file by file, for exports read one at a time (:class:`feedbacklib.io.ExportStream`).

    Each export is mapped onto the canonical columns as soon as it arrives, and its raw frame is let go:
    only the raw cells of its rows quarantined by a row-level rule are kept. Duplicates and repeats are
    known once every file is mapped; a file with such rows is read again (as the Dask engine does) for
    their raw cells, with the platform it was read as. The frame, quarantine and quality table are
    :func:`clean_responses`'s.
    """
    return clean_mapped(map_exports(exports, config), config)


@dataclass
class _File:
    """What cleaning keeps of one export once it is mapped: its quality-table facts and the raw cells the
    quarantine may need (the whole raw frame, or only ``held`` rows at the positions ``held_at``)."""

    path: Any
    platform: str
    confidence: float
    rows_read: int
    raw: pd.DataFrame | None = None
    held: pd.DataFrame | None = None
    held_at: np.ndarray | None = None

    def raw_rows(self, positions: np.ndarray, config: Any) -> pd.DataFrame:
        """The raw rows at ``positions`` (data row numbers, ascending), in that order."""
        if self.raw is not None:
            return self.raw.iloc[positions]
        assert self.held is not None and self.held_at is not None
        at = np.searchsorted(self.held_at, positions)
        if np.array_equal(self.held_at[at[at < len(self.held_at)]], positions):
            return self.held.iloc[at]
        raw = read_export(self.path, platform=self.platform, config=config).raw
        if len(raw) != self.rows_read:
            raise InputError(f"The export {self.path.name!r} changed while it was being read ({self.rows_read} rows "
                             f"at first, {len(raw)} now): run again once the file is complete.")
        return raw.iloc[positions]


@dataclass
class Mapped:
    """Every export mapped onto the canonical columns (:func:`map_exports`), before the month-wide rules."""

    parts: list[pd.DataFrame]
    files: list[_File]

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)


def map_exports(exports: Iterable[Export], config: Any, *, keep_raw: bool = False) -> Mapped:
    """The first step of :func:`clean_exports`: each export mapped as it arrives (normalised, parsed,
    redacted, row-level problems in ``quarantine_reason``). Its raw frame is kept with ``keep_raw``;
    otherwise, once the next export arrives, only its raw rows already quarantined are (the last
    export's raw frame is kept: nothing comes after it, and a single large export is not read again)."""
    parts: list[pd.DataFrame] = []
    files: list[_File] = []
    for export in exports:
        if files and not keep_raw:
            _let_go(files[-1])  # the previous export is not the last one: keep only its quarantined rows
        part = _cast(_canonical(export, config)).reset_index(drop=True).astype(
            {S.QUARANTINE_REASON: STRING, S.QUARANTINE_KIND: STRING})
        # the last export's raw frame is kept until the end (a single large export is not read twice)
        files.append(_File(path=export.path, platform=export.platform, confidence=float(export.confidence),
                           rows_read=len(export.raw), raw=export.raw,
                           held_at=np.flatnonzero(part[S.QUARANTINE_REASON].notna().to_numpy(dtype=bool))))
        parts.append(part)
        del export, part
    return Mapped(parts=parts, files=files)


def _let_go(info: _File) -> None:
    """Keep only the raw cells of the rows already quarantined (``held_at``); the rest of the raw frame goes."""
    if info.raw is not None and info.held_at is not None:
        info.held = info.raw.iloc[info.held_at]
        info.raw = None


def clean_mapped(mapped: Mapped, config: Any) -> CleanResult:
    """The second step of :func:`clean_exports`: the duplicate and repeat rules, the kept rows in time
    order, the quarantine and the quality table. Empties ``mapped.parts`` (the rows are held once)."""
    files = mapped.files
    sizes = [len(p) for p in mapped.parts]
    allrows = _concat_parts(mapped.parts)
    file_no = np.repeat(np.arange(len(sizes)), sizes)

    _mark_duplicates(allrows)
    _mark_repeats(allrows, cleaning_settings(config)["duplicate_window_hours"])

    bad = allrows[S.QUARANTINE_REASON].notna().to_numpy(dtype=bool)
    order = _time_order(allrows, np.flatnonzero(~bad))
    kinds = allrows[S.QUARANTINE_KIND]
    # the quarantine first: then no raw cells are held while the kept rows are put in time order
    quarantine = _quarantine_of(allrows.loc[bad], file_no[bad], lambda k, src: files[k].raw_rows(src, config), config)
    quality = _quality_table([(f.path.name, f.platform, f.confidence, f.rows_read) for f in files], file_no, bad, kinds)
    for f in files:
        f.raw = f.held = None
    columns = {c: allrows[c].array for c in S.CANONICAL_COLUMNS}
    del allrows
    release_memory()  # the rules' numpy transients: freed pages back before Arrow allocates the new order
    # kept rows in time order, each column let go once taken
    frame = _cast(_take_columns(columns, order))
    validate_canonical(frame)
    return CleanResult(frame=frame, quarantine=quarantine, quality=quality)


def _concat_parts(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """The canonical parts as one frame (cast as :func:`clean_responses` always did); ``parts`` is emptied.

    Arrow string columns are concatenated as chunks (no copy); the numeric columns are copied once.
    """
    if len(parts) == 1:  # the usual case: no copy through concat
        allrows = parts[0]
    elif parts:
        allrows = pd.concat(parts, ignore_index=True)
    else:
        allrows = S.empty_canonical_frame().assign(**{S.QUARANTINE_REASON: pd.Series(dtype=STRING),
                                                      S.QUARANTINE_KIND: pd.Series(dtype=STRING),
                                                      VERSION: pd.Series(dtype="float64")})
    parts.clear()
    return _cast(allrows.astype({S.QUARANTINE_REASON: STRING, S.QUARANTINE_KIND: STRING}))


def _take_columns(columns: dict[str, Any], positions: np.ndarray) -> pd.DataFrame:
    """The rows at ``positions`` of the columns in ``columns`` (arrays by name), with a fresh 0..n-1 index.

    Each column leaves ``columns`` when it is taken, so its rows in the old order are freed as soon as
    they are in the new one (the caller must hold no other reference). Arrow's take of a chunked array
    joins the chunks first: they are joined here, and let go, before the take. Columns are taken on
    two threads (Arrow's take releases the GIL; the text column is the largest copy of cleaning).
    """
    from concurrent.futures import ThreadPoolExecutor

    names = list(columns)
    indices = pa.array(positions)

    def take(name: str) -> Any:
        values = columns.pop(name)
        if values.dtype != STRING:
            return values.take(positions)
        arr = pa.array(values)
        del values
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        return pd.arrays.ArrowStringArray(arr.take(indices))

    with ThreadPoolExecutor(max_workers=2) as pool:
        taken = list(pool.map(take, names))
    return pd.DataFrame(dict(zip(names, taken)), index=pd.RangeIndex(len(positions)), copy=False)


def _time_order(frame: pd.DataFrame, rows: np.ndarray) -> np.ndarray:
    """``rows`` (positions in ``frame``) sorted by (received_at, response_id), stable.

    Arrow's multi-key sort compares response ids only where timestamps tie.
    """
    if len(rows) < 2:
        return rows
    stamps = frame[S.RECEIVED_AT].to_numpy(dtype="datetime64[ns]").view("int64")[rows]
    ids = pa.array(frame[S.RESPONSE_ID].array).take(pa.array(rows))
    table = pa.table({"at": stamps, "id": ids})
    order = pc.sort_indices(table, sort_keys=[("at", "ascending", "at_end"), ("id", "ascending", "at_end")])
    return rows[order.to_numpy()]


def _pair_codes(first: pd.Series, second: pd.Series) -> np.ndarray:
    """One int64 per row, equal exactly when both values are equal (nulls equal to nulls)."""
    a, _ = pd.factorize(first, use_na_sentinel=False)
    b, uniques = pd.factorize(second, use_na_sentinel=False)
    return a.astype(np.int64) * (len(uniques) + 1) + b


def _mark_duplicates(allrows: pd.DataFrame) -> None:
    """Same (platform, response_id): keep the newest version, else the first copy; mark the rest."""
    ok = allrows[S.QUARANTINE_REASON].isna().to_numpy(dtype=bool)
    if not ok.any():
        return
    key = _pair_codes(allrows[S.PLATFORM], allrows[S.RESPONSE_ID])
    rows = np.flatnonzero(ok)
    dup_any = pd.Series(key[rows]).duplicated(keep=False).to_numpy(dtype=bool)
    if not dup_any.any():
        return
    sub = allrows[[S.PLATFORM, S.RESPONSE_ID, VERSION]].iloc[rows[dup_any]].copy()
    sub["_order"] = np.arange(len(sub))
    sub["_neg_version"] = -sub[VERSION].fillna(-np.inf)
    sub = sub.sort_values([S.PLATFORM, S.RESPONSE_ID, "_neg_version", "_order"], kind="stable")
    later = sub.duplicated([S.PLATFORM, S.RESPONSE_ID], keep="first")
    losers = sub.loc[later.to_numpy(dtype=bool)]
    if losers.empty:
        return
    best = sub.loc[~later.to_numpy(dtype=bool)].set_index([S.PLATFORM, S.RESPONSE_ID])[VERSION]
    best_version = best.reindex(pd.MultiIndex.from_frame(losers[[S.PLATFORM, S.RESPONSE_ID]])).to_numpy()
    older = (losers[VERSION].to_numpy() < best_version)
    rid = allrows.loc[losers.index, S.RESPONSE_ID].astype(str).to_numpy()
    reasons = np.where(older, np.char.add("superseded by a later copy of ", rid.astype("U")),
                       np.char.add("duplicate of ", rid.astype("U")))
    kinds = np.where(older, QuarantineKind.SUPERSEDED.value, QuarantineKind.DUPLICATE.value)
    allrows.loc[losers.index, S.QUARANTINE_REASON] = pd.array(reasons, dtype=STRING)
    allrows.loc[losers.index, S.QUARANTINE_KIND] = pd.array(kinds, dtype=STRING)


def _mark_repeats(allrows: pd.DataFrame, window_hours: float) -> None:
    """Same customer, same non-empty text (case-insensitive, after whitespace clean-up) within
    ``window_hours`` of the previous copy: the later copy is a repeat.

    Tickets are left out: a ticketing system gives each contact its own ticket id,
    so distinct tickets are distinct contacts even with the same text (the same
    ticket twice is a duplicate, found by its id)."""
    if not window_hours or window_hours <= 0:
        return
    ticket = S.SOURCES.index("ticket")
    not_ticket = allrows[S.SOURCE].cat.codes.to_numpy() != ticket if isinstance(
        allrows[S.SOURCE].dtype, pd.CategoricalDtype) else (allrows[S.SOURCE] != "ticket").to_numpy(dtype=bool)
    # a comment: not null and not empty (its length, without a filled copy of the text column)
    lengths = allrows[S.TEXT].str.len().fillna(0).to_numpy(dtype=np.int64)
    ok = (allrows[S.QUARANTINE_REASON].isna() & allrows[S.CUSTOMER_KEY].notna()).to_numpy(dtype=bool)
    ok = ok & (lengths > 0) & not_ticket
    if not ok.any():
        return
    customer = _pair_codes(allrows[S.PLATFORM], allrows[S.CUSTOMER_KEY])
    rows = np.flatnonzero(ok)
    # Texts are compared (lower-cased) only where the same customer sent another text of the
    # same length within the window: str.lower keeps the length, so other rows cannot repeat
    # one, nor be repeated.
    length = lengths[rows]
    key = customer[rows] * (int(length.max(initial=0)) + 1) + length
    same_key = pd.Series(key).duplicated(keep=False).to_numpy(dtype=bool)
    rows, key = rows[same_key], key[same_key]
    stamps = allrows[S.RECEIVED_AT].to_numpy(dtype="datetime64[ns]").view("int64")[rows]
    rows = rows[_near_same_key(key, stamps, window_hours)]
    if len(rows) == 0:
        return
    sub = allrows[[S.TEXT, S.RECEIVED_AT, S.RESPONSE_ID]].iloc[rows]
    keys = pd.DataFrame({"c": customer[rows], "t": pd.factorize(sub[S.TEXT].str.lower())[0]},
                        index=sub.index)
    same = keys.duplicated(keep=False).to_numpy(dtype=bool)
    if not same.any():
        return
    cand = keys.loc[same].assign(at=sub.loc[same, S.RECEIVED_AT], rid=sub.loc[same, S.RESPONSE_ID])
    cand = cand.sort_values(["c", "t", "at"], kind="stable")
    prev_same = (cand["c"].eq(cand["c"].shift()) & cand["t"].eq(cand["t"].shift())).to_numpy(dtype=bool)
    gap = (cand["at"] - cand["at"].shift()).dt.total_seconds().to_numpy(dtype="float64", na_value=np.inf)
    repeat = prev_same & (gap <= window_hours * 3600)
    if not repeat.any():
        return
    first = cand["rid"].where(~pd.Series(repeat, index=cand.index)).ffill()
    rows = cand.index[repeat]
    allrows.loc[rows, S.QUARANTINE_REASON] = (
        "repeat of " + first.loc[rows].astype(str) + f" (same customer and text within {window_hours:g}h)"
    ).astype(STRING)
    allrows.loc[rows, S.QUARANTINE_KIND] = QuarantineKind.REPEAT.value


def _near_same_key(key: np.ndarray, stamps: np.ndarray, window_hours: float) -> np.ndarray:
    """Rows whose key another row shares at most ``window_hours`` (and a second) earlier or later.

    ``stamps`` are nanoseconds. A row without such a neighbour can neither be a
    repeat nor be repeated, and leaving it out changes no other row's verdict:
    the copies it sits between are further apart than the window. The extra
    second keeps rows the exact (floating-point seconds) test might still take.
    """
    order = np.lexsort((stamps, key))
    k, t = key[order], stamps[order]
    near = (k[1:] == k[:-1]) & (t[1:] - t[:-1] <= (window_hours * 3600 + 1) * 1e9)
    keep = np.zeros(len(key), dtype=bool)
    keep[order[1:][near]] = True
    keep[order[:-1][near]] = True
    return keep


def _python_values(column: pd.Series) -> list[Any]:
    """The column's cells as Python objects, ``None`` for missing ones (as ``to_dict`` gives)."""
    if column.dtype == STRING:
        return pa.array(column.array).to_pylist()
    obj = column.astype(object)
    return obj.where(obj.notna(), None).tolist()


def _quarantine(rows: pd.DataFrame, file_no: np.ndarray, exports: Sequence[Export],
                config: Any = None) -> pd.DataFrame:
    """The quarantined rows: position, reason (redacted) and their original cells, redacted."""
    return _quarantine_of(rows, file_no, lambda k, src: exports[k].raw.iloc[src], config)


def _quarantine_of(rows: pd.DataFrame, file_no: np.ndarray, raw_rows: Callable[[int, np.ndarray], pd.DataFrame],
                   config: Any = None) -> pd.DataFrame:
    """:func:`_quarantine` with ``raw_rows(k, positions)``: the raw rows at ``positions`` of export ``k``."""
    originals: list[str] = []
    encode = json.JSONEncoder(ensure_ascii=False).encode  # what json.dumps(..., ensure_ascii=False) does
    for k in np.unique(file_no):
        mine = file_no == k
        src = rows.loc[mine, S.SOURCE_ROW].to_numpy(dtype="int64")
        keys = rows.loc[mine, S.CUSTOMER_KEY].astype(STRING).reset_index(drop=True)
        sub = raw_rows(int(k), src).reset_index(drop=True)
        names = list(sub.columns)
        values = _redacted_cells(sub, keys, config)
        originals.extend(encode(dict(zip(names, cells))) for cells in zip(*values))
        if not names:
            originals.extend("{}" for _ in range(len(sub)))
    # np.unique sorts, and rows are already grouped by file in export order
    out = pd.DataFrame({
        S.SOURCE_FILE: rows[S.SOURCE_FILE].astype(STRING).to_numpy(),
        S.SOURCE_ROW: rows[S.SOURCE_ROW].astype("Int64").to_numpy(),
        S.PLATFORM: rows[S.PLATFORM].astype(STRING).to_numpy(),
        S.QUARANTINE_REASON: redact_pii(rows[S.QUARANTINE_REASON].astype(STRING)).to_numpy(),
        S.QUARANTINE_KIND: rows[S.QUARANTINE_KIND].astype(STRING).to_numpy(),
        ORIGINAL: pd.array(originals, dtype=STRING),
    })
    return out.astype({S.SOURCE_FILE: STRING, S.SOURCE_ROW: "Int64", S.PLATFORM: STRING,
                       S.QUARANTINE_REASON: STRING, S.QUARANTINE_KIND: STRING, ORIGINAL: STRING})


def _quality_table(files: Sequence[tuple[str, str, float, int]], file_no: np.ndarray, bad: np.ndarray,
                   kinds: pd.Series) -> pd.DataFrame:
    """One row per file (its name, platform, confidence and rows read): rows kept, quarantined, and the
    quarantined rows by kind."""
    kinds = kinds.dropna()
    extra = sorted(set(kinds.unique()) - set(REASON_KINDS))
    records = []
    for k, (name, platform, confidence, rows_read) in enumerate(files):
        mine = file_no == k
        counts = kinds[mine[kinds.index.to_numpy()]].value_counts() if len(kinds) else pd.Series(dtype=int)
        rec = {"file": name, S.PLATFORM: platform, "confidence": float(confidence),
               "rows_read": rows_read, "rows_kept": int((mine & ~bad).sum()),
               "rows_quarantined": int((mine & bad).sum())}
        for kind in (*REASON_KINDS, *extra):
            rec[kind] = int(counts.get(kind, 0))
        records.append(rec)
    columns = [*QUALITY_COLUMNS, *REASON_KINDS, *extra]
    quality = pd.DataFrame.from_records(records, columns=columns)
    return quality.astype({"file": STRING, S.PLATFORM: STRING, "confidence": "float64",
                           **{c: "int64" for c in columns[3:]}})


def validate_canonical(frame: pd.DataFrame) -> None:
    """Raise ``SchemaError`` listing every way ``frame`` breaks the canonical schema (pandera, lazy)."""
    validate_frame(frame)


# --------------------------------------------------------------------------- stepwise cleaning
# The steps of clean_responses, for an engine that runs them apart (the Dask engine runs the
# per-file step on workers, then the duplicate and repeat rules on rows shuffled by their key).

def canonical_rows(export: Export, config: Any) -> pd.DataFrame:
    """One export's rows in canonical form, every row kept, row-level problems in ``quarantine_reason``
    (what :func:`clean_responses` holds before its duplicate and repeat rules)."""
    return _cast(_cast(_canonical(export, config)).reset_index(drop=True).astype({S.QUARANTINE_REASON: STRING}))


def mark_duplicates(rows: pd.DataFrame) -> None:
    """The duplicate rule of :func:`clean_responses` on ``rows`` (in file order, then row order), in place."""
    _mark_duplicates(rows)


def mark_repeats(rows: pd.DataFrame, config: Any) -> None:
    """The repeat rule of :func:`clean_responses` on ``rows`` (in file order, then row order), in place."""
    _mark_repeats(rows, cleaning_settings(config)["duplicate_window_hours"])


def quarantine_rows(rows: pd.DataFrame, export: Export, config: Any) -> pd.DataFrame:
    """The quarantine frame (reason redacted, original cells redacted) of ``rows`` of one export."""
    return _quarantine(rows, np.zeros(len(rows), dtype=np.int64), [export], config)


def time_order(frame: pd.DataFrame) -> np.ndarray:
    """Positions of ``frame``'s rows in the cleaned frame's order (received_at, response_id; stable)."""
    return _time_order(frame, np.arange(len(frame)))
