"""Cleaning: platform rows -> the canonical frame, plus a quarantine and a quality table.

``clean_responses`` maps every export onto the canonical columns (the
platform's ``stage`` in :mod:`feedbacklib.io`), then applies small pure
frame/series steps defined here: text repair and whitespace, dates to UTC and
the reporting month, scores, teams, channels, PII redaction, customer keys,
duplicates. A row that breaks a rule is not dropped: it goes to the quarantine
with its reason and its original values.

Quarantine layout: ``schema.QUARANTINE_COLUMNS`` (source_file, source_row,
platform, reason) followed by one column :data:`ORIGINAL` holding the row's
original cells as a JSON object (original column name -> text, ``null`` for an
empty cell). One JSON column keeps files with different columns in one table
and is safe to open in a spreadsheet (it always starts with ``{``).

>>> from feedbacklib.io import read_exports                  # doctest: +SKIP
>>> result = clean_responses(read_exports(cfg.input, cfg), cfg)  # doctest: +SKIP
>>> result.quality[["file", "rows_read", "rows_kept", "rows_quarantined"]]  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import schema as S
from .errors import SchemaError
from .io import Export, stage_export
from .io._common import CUSTOMER_ID, REJECT, STRING
from .pii import redact_pii

__all__ = [
    "CleanResult", "clean_responses", "validate_canonical", "ORIGINAL", "REASON_KINDS",
    "QUALITY_COLUMNS", "reason_kind", "repair_mojibake", "normalise_whitespace", "clean_text",
    "parse_timestamps", "reporting_month", "parse_score", "parse_bool", "lookup_teams",
    "normalise_channel", "customer_keys",
]

#: The quarantine's column of original values (a JSON object per row).
ORIGINAL = "original"
#: Quarantine reason kinds; the quality table has one count column for each.
REASON_KINDS = (
    "excluded status", "unfinished response", "deleted ticket", "unparseable date",
    "csat not a number", "csat out of range", "nps not a number", "nps out of range", "duplicate",
)
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
    hint = out.str.contains(_MOJIBAKE_HINT, regex=True).fillna(False).to_numpy(dtype=bool)
    if hint.any():
        sub = out.loc[hint]
        fixes = {t: _unmojibake(t) for t in sub.unique()}  # repeated texts are fixed once
        out.loc[hint] = sub.map(fixes).astype(STRING)
    return out


def _unmojibake(text: str) -> str:
    for _ in range(2):  # double-encoded text needs two rounds
        try:
            fixed = text.encode("cp1252").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            return text
        if fixed == text:
            return text
        text = fixed
    return text


def normalise_whitespace(texts: pd.Series) -> pd.Series:
    """Any whitespace run (and lone tab/newline) becomes one space; ends stripped."""
    out = texts.astype(STRING)
    out = out.str.replace(f"{_WS}{{2,}}|[\t\r\n\f\v\u00a0]", " ", regex=True)
    return out.str.strip()


def clean_text(texts: pd.Series) -> pd.Series:
    """Mojibake repaired, whitespace normalised, empty answers ("n/a", "-") -> "", PII redacted."""
    out = normalise_whitespace(repair_mojibake(texts))
    blank = out.str.lower().isin(BLANK_TEXTS).fillna(False) | out.isna()
    out = out.mask(blank, "")
    return redact_pii(out)


# --------------------------------------------------------------------------- dates

_ISO = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M",
        "%Y-%m-%d", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d")
_DAYFIRST = ("%d/%m/%Y", "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%d.%m.%Y", "%d-%m-%Y",
             "%d/%m/%y")
_MONTHFIRST = ("%m/%d/%Y", "%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S", "%m/%d/%y")
_AWARE = "(?:Z|[+-][0-9]{2}:?[0-9]{2})$"
_EXCEL_SERIAL = "^[0-9]{5}(?:[.][0-9]+)?$"
_LOW, _HIGH = pd.Timestamp("1970-01-01"), pd.Timestamp("2200-01-01")


def parse_timestamps(values: pd.Series, *, timezone: str, dayfirst: bool = True) -> pd.Series:
    """Text -> ``datetime64[ns, UTC]``; unparseable or implausible -> NaT.

    Naive values are read in ``timezone`` (ISO, then dd/mm/yyyy or mm/dd/yyyy,
    then Excel serial day numbers); values with ``Z`` or an offset are exact.
    """
    text = values.astype(STRING).str.strip()
    n = len(text)
    result = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns, UTC]")
    if n == 0:
        return result
    arr = pa.array(text, type=pa.large_string())
    naive = pa.nulls(n, pa.timestamp("s"))
    have_text = int(text.notna().sum())
    for fmt in _ISO + (_DAYFIRST if dayfirst else _MONTHFIRST):
        if len(naive) - naive.null_count == have_text:
            break
        naive = pc.coalesce(naive, pc.strptime(arr, format=fmt, unit="s", error_is_null=True))
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
    year = local.dt.year.astype("Int64").astype(STRING)
    month = local.dt.month.astype("Int64").astype(STRING).str.pad(2, fillchar="0")
    return (year + "-" + month).astype(STRING)


# --------------------------------------------------------------------------- values

def _short(values: pd.Series) -> pd.Series:
    return values.str.slice(0, _MAX_REASON_VALUE)


def parse_score(values: pd.Series, *, low: int, high: int, name: str) -> tuple[pd.Series, pd.Series]:
    """Scores as ``Int8`` and a reason per row (``<NA>`` when fine, blank included)."""
    text = values.astype(STRING).str.strip()
    text = text.mask(text == "", None)
    number = pd.to_numeric(text, errors="coerce").astype("Float64")
    not_number = text.notna() & number.isna()
    bad_range = number.notna() & ((number < low) | (number > high) | (number != number.round()))
    bad_range = bad_range.fillna(False)
    reason = pd.Series(pd.NA, index=values.index, dtype=STRING)
    reason = reason.mask(not_number, f"{name} not a number (" + _short(text) + ")")
    reason = reason.mask(bad_range, f"{name} out of range (" + _short(text) + ")")
    good = number.where(~bad_range & number.notna())
    return good.round().astype("Int8"), reason


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
    """One export -> canonical columns (+ ``reason``), indexed 0..n-1 like the raw frame."""
    staged = stage_export(export, config)
    f = staged.frame
    index = export.raw.index
    empty = pd.Series(pd.NA, index=index, dtype=STRING)

    def col(name: str) -> pd.Series:
        return f[name] if name in f.columns else empty

    tz = staged.timezone or config.timezone
    received = parse_timestamps(repair_mojibake(col(S.RECEIVED_AT)), timezone=tz, dayfirst=staged.dayfirst)
    date_reason = empty.mask(received.isna(), f"unparseable date in {staged.date_column}")
    csat, csat_reason = parse_score(col(S.CSAT), low=1, high=5, name=S.CSAT)
    nps, nps_reason = parse_score(col(S.NPS), low=0, high=10, name=S.NPS)
    reason = col(REJECT).astype(STRING).fillna(date_reason).fillna(csat_reason).fillna(nps_reason)

    rid = normalise_whitespace(repair_mojibake(col(S.RESPONSE_ID)))
    missing = rid.isna() | (rid == "")
    missing = missing.fillna(True)
    if missing.any():
        rows = index[missing.to_numpy(dtype=bool)]
        rid = rid.copy()
        rid.loc[rows] = _row_hash_ids(export.raw, rows, export.platform)

    teams = lookup_teams(repair_mojibake(col(S.TEAM)), config)
    category = normalise_whitespace(repair_mojibake(col(S.CATEGORY)))
    source = staged.source if staged.source in S.SOURCES else "survey"
    out = pd.DataFrame({
        S.RESPONSE_ID: rid,
        S.SOURCE: source,
        S.PLATFORM: export.platform,
        S.RECEIVED_AT: received,
        S.MONTH: reporting_month(received, config.timezone),
        S.TEAM: teams[S.TEAM],
        S.SERVICE_MODEL: teams[S.SERVICE_MODEL],
        S.VENDOR: teams[S.VENDOR],
        S.CHANNEL: normalise_channel(col(S.CHANNEL)),
        S.CSAT: csat,
        S.NPS: nps,
        S.TEXT: clean_text(col(S.TEXT)),
        S.FIRST_RESPONSE_HOURS: parse_hours(col(S.FIRST_RESPONSE_HOURS)),
        S.RESOLUTION_HOURS: parse_hours(col(S.RESOLUTION_HOURS)),
        S.RESOLVED_REPORTED: parse_bool(col(S.RESOLVED_REPORTED)),
        S.REOPENED: parse_bool(col(S.REOPENED)),
        S.CUSTOMER_KEY: customer_keys(col(CUSTOMER_ID), config),
        S.CATEGORY: category.mask(category == "", None),
        S.SOURCE_FILE: export.path.name,
        S.SOURCE_ROW: pd.Series(np.arange(len(index)), index=index, dtype="Int64"),
        S.QUARANTINE_REASON: reason,
    }, index=index)
    return out


def _cast(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.astype({c: d for c, d in S.CANONICAL_DTYPES.items() if c in frame.columns})


# --------------------------------------------------------------------------- public

def reason_kind(reason: str) -> str:
    """The reason's kind (quality column): the reason without its varying detail."""
    if reason.startswith("status "):
        return "excluded status"
    if reason.startswith("unparseable date"):
        return "unparseable date"
    if reason.startswith("duplicate of"):
        return "duplicate"
    return reason.split(" (", 1)[0]


def clean_responses(exports: Sequence[Export], config: Any) -> CleanResult:
    """Map, normalise, de-duplicate and redact every export; quarantine rows that break a rule.

    Never modifies the exports. For every file ``rows_read == rows_kept + rows_quarantined``.

    Raises
    ------
    SchemaError
        The cleaned frame breaks the canonical schema (a bug: listed in full).
    """
    parts = [_canonical(e, config) for e in exports]
    if parts:
        allrows = pd.concat([_cast(p) if len(p) else p for p in parts], ignore_index=True)
        allrows = allrows.astype({S.QUARANTINE_REASON: STRING})
    else:
        allrows = S.empty_canonical_frame().assign(**{S.QUARANTINE_REASON: pd.Series(dtype=STRING)})
    allrows = _cast(allrows)
    file_no = np.repeat(np.arange(len(parts)), [len(p) for p in parts])

    # Duplicates: the first clean copy of (platform, response_id) wins; later ones are quarantined.
    ok = allrows[S.QUARANTINE_REASON].isna().to_numpy(dtype=bool)
    if ok.any():
        keyed = allrows.loc[ok, [S.PLATFORM, S.RESPONSE_ID]]
        dup = keyed.duplicated(keep="first")
        dup_rows = keyed.index[dup.to_numpy(dtype=bool)]
        if len(dup_rows):
            allrows.loc[dup_rows, S.QUARANTINE_REASON] = (
                "duplicate of " + allrows.loc[dup_rows, S.RESPONSE_ID]
            ).astype(STRING)

    bad = allrows[S.QUARANTINE_REASON].notna().to_numpy(dtype=bool)
    frame = allrows.loc[~bad, list(S.CANONICAL_COLUMNS)]
    frame = frame.sort_values([S.RECEIVED_AT, S.RESPONSE_ID], kind="stable").reset_index(drop=True)
    frame = _cast(frame)
    validate_canonical(frame)

    quarantine = _quarantine(allrows.loc[bad], file_no[bad], exports)
    quality = _quality(exports, file_no, bad, allrows[S.QUARANTINE_REASON])
    return CleanResult(frame=frame, quarantine=quarantine, quality=quality)


def _quarantine(rows: pd.DataFrame, file_no: np.ndarray, exports: Sequence[Export]) -> pd.DataFrame:
    originals: list[str] = []
    for k in np.unique(file_no):
        raw = exports[int(k)].raw
        src = rows.loc[file_no == k, S.SOURCE_ROW].to_numpy(dtype="int64")
        sub = raw.iloc[src].astype(object)
        sub = sub.where(sub.notna(), None)
        originals.extend(json.dumps(r, ensure_ascii=False) for r in sub.to_dict("records"))
    # np.unique sorts, and rows are already grouped by file in export order
    out = pd.DataFrame({
        S.SOURCE_FILE: rows[S.SOURCE_FILE].astype(STRING).to_numpy(),
        S.SOURCE_ROW: rows[S.SOURCE_ROW].astype("Int64").to_numpy(),
        S.PLATFORM: rows[S.PLATFORM].astype(STRING).to_numpy(),
        S.QUARANTINE_REASON: rows[S.QUARANTINE_REASON].astype(STRING).to_numpy(),
        ORIGINAL: pd.array(originals, dtype=STRING),
    })
    return out.astype({S.SOURCE_FILE: STRING, S.SOURCE_ROW: "Int64", S.PLATFORM: STRING,
                       S.QUARANTINE_REASON: STRING, ORIGINAL: STRING})


def _quality(exports: Sequence[Export], file_no: np.ndarray, bad: np.ndarray,
             reasons: pd.Series) -> pd.DataFrame:
    kinds = reasons.dropna().map(reason_kind)
    extra = sorted(set(kinds.unique()) - set(REASON_KINDS))
    records = []
    for k, e in enumerate(exports):
        mine = file_no == k
        counts = kinds[mine[kinds.index.to_numpy()]].value_counts() if len(kinds) else pd.Series(dtype=int)
        rec = {"file": e.path.name, S.PLATFORM: e.platform, "confidence": float(e.confidence),
               "rows_read": len(e.raw), "rows_kept": int((mine & ~bad).sum()),
               "rows_quarantined": int((mine & bad).sum())}
        for kind in (*REASON_KINDS, *extra):
            rec[kind] = int(counts.get(kind, 0))
        records.append(rec)
    columns = [*QUALITY_COLUMNS, *REASON_KINDS, *extra]
    quality = pd.DataFrame.from_records(records, columns=columns)
    return quality.astype({"file": STRING, S.PLATFORM: STRING, "confidence": "float64",
                           **{c: "int64" for c in columns[3:]}})


def validate_canonical(frame: pd.DataFrame) -> None:
    """Raise ``SchemaError`` listing every way ``frame`` breaks the canonical schema."""
    problems: list[str] = []
    missing = [c for c in S.CANONICAL_COLUMNS if c not in frame.columns]
    extra = [c for c in frame.columns if c not in S.CANONICAL_COLUMNS]
    if missing:
        problems.append(f"missing columns: {missing}")
    if extra:
        problems.append(f"unexpected columns: {extra}")
    for col, dtype in S.CANONICAL_DTYPES.items():
        if col in frame.columns and str(frame[col].dtype) != str(pd.api.types.pandas_dtype(dtype)):
            problems.append(f"column {col!r} has dtype {frame[col].dtype}, expected {dtype}")
    if S.RESPONSE_ID in frame.columns and frame[S.RESPONSE_ID].isna().any():
        problems.append(f"{int(frame[S.RESPONSE_ID].isna().sum())} rows have no response_id")
    if S.RECEIVED_AT in frame.columns and frame[S.RECEIVED_AT].isna().any():
        problems.append(f"{int(frame[S.RECEIVED_AT].isna().sum())} rows have no received_at")
    for col, low, high in ((S.CSAT, 1, 5), (S.NPS, 0, 10)):
        if col in frame.columns:
            values = pd.to_numeric(frame[col], errors="coerce")
            out = ((values < low) | (values > high)).fillna(False)
            if out.any():
                problems.append(f"{int(out.sum())} rows have {col} outside {low}..{high}, "
                                f"e.g. {values[out].iloc[0]}")
    if S.MONTH in frame.columns:
        ok = frame[S.MONTH].astype(STRING).str.fullmatch("[0-9]{4}-(0[1-9]|1[0-2])").fillna(False)
        if not ok.all():
            problems.append(f"{int((~ok).sum())} rows have a month not shaped YYYY-MM")
    for col, cats in ((S.SOURCE, S.SOURCES), (S.SERVICE_MODEL, S.SERVICE_MODELS), (S.CHANNEL, S.CHANNELS)):
        if col in frame.columns:
            nulls = frame[col].isna()
            if nulls.any():
                problems.append(f"{int(nulls.sum())} rows have a {col} outside {', '.join(cats)}")
    if problems:
        raise SchemaError(
            f"The canonical frame breaks its schema in {len(problems)} way(s):\n  - "
            + "\n  - ".join(problems)
        )
