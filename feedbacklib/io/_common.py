"""Shared reading machinery: the Export record, decoding, CSV/XLSX/JSON to string frames.

Every reader returns the file's rows as text (``string`` dtype, empty cells are
``<NA>``), with the original column names and a 0..n-1 index that is the data
row number (after any header rows).  Nothing is dropped or converted here; the
platform-specific mapping onto the canonical columns is each reader's
``stage`` function, and normalisation is :mod:`feedbacklib.clean`.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from ..errors import InputError

__all__ = [
    "Export", "Staged", "STRING", "CUSTOMER_ID", "REJECT",
    "read_bytes", "decode", "sniff_delimiter", "read_csv_text", "read_xlsx_rows",
    "frame_from_rows", "as_string_frame", "find_column", "columns_override", "split_truncated",
    "TRUNCATED_ROWS", "settings_table", "VERSION", "PLACEHOLDERS", "read_rows",
]

#: dtype of every raw and staged cell.
STRING = pd.StringDtype("pyarrow")
#: Staged-only column: the platform's customer id before hashing.
CUSTOMER_ID = "customer_id"
#: Staged-only column: a platform rule's quarantine reason (``<NA>`` = keep the row).
REJECT = "_reject"
#: Staged-only column: which copy of a record is newest (a timestamp); the newest is kept.
VERSION = "_version"
#: ``Export.meta`` key: data rows that were cut off by the end of the file (quarantined).
TRUNCATED_ROWS = "truncated_rows"
#: More columns than this in a CSV's first line is not an export (a million-column line).
MAX_COLUMNS = 10_000
#: Cells some platforms write for "no value" (CFPB: ``None``, ``N/A``).
PLACEHOLDERS = ("None", "N/A", "n/a", "NA", "null", "NULL")


@dataclass(frozen=True)
class Export:
    """One export file, read faithfully.

    Attributes
    ----------
    path : Path
        The file.
    platform : str
        ``"qualtrics"``, ``"zendesk"``, ``"complaints"`` or ``"generic"``.
    confidence : float
        How sure detection was (1.0 when the platform was given).
    raw : DataFrame
        The data rows as text, original column names, index 0..n-1.
    meta : Mapping
        What the header rows or side-loads said (Qualtrics question texts,
        ImportIds and time zones; Zendesk group names). Not part of equality.
    """

    path: Path
    platform: str
    confidence: float
    raw: pd.DataFrame = field(repr=False)
    meta: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class Staged:
    """A platform's rows mapped onto canonical names, still as text.

    ``frame`` holds string columns named by the schema constants (any subset),
    plus :data:`CUSTOMER_ID` and :data:`REJECT`; its index is the source row.
    """

    frame: pd.DataFrame
    source: str
    date_column: str
    timezone: str | None = None   # zone of naive timestamps; None = the config time zone
    dayfirst: bool = True


def read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"The export {str(path)!r} does not exist.") from None
    except IsADirectoryError:
        raise InputError(f"The export {str(path)!r} is a folder, not a file.") from None
    except OSError as exc:
        raise InputError(f"Cannot read the export {str(path)!r}: {exc.strerror or exc}.") from None


def decode(data: bytes) -> tuple[str, str]:
    """Text and encoding name: UTF-8 (BOM or not), UTF-16 with BOM, else cp1252."""
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace"), "utf-16"
    head = data[:4096]
    if len(head) >= 4 and head.count(0) * 3 >= len(head):  # UTF-16 without a BOM
        odd_zero = head[1::2].count(0) >= head[0::2].count(0)
        enc = "utf-16-le" if odd_zero else "utf-16-be"
        return data[: len(data) // 2 * 2].decode(enc, errors="replace"), enc
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        # cp1252 leaves five bytes undefined; latin-1 maps them so nothing is lost.
        return data.decode("cp1252", errors="replace"), "cp1252"


def sniff_delimiter(first_line: str, suffix: str = "") -> str:
    if suffix == ".tsv":
        return "\t"
    counts = {d: first_line.count(d) for d in (",", "\t", ";")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _unique_names(names: list[str]) -> list[str]:
    out: list[str] = []
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        name = name if name.strip() else f"Unnamed: {i}"
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        seen.setdefault(name, 0)
        out.append(name)
    return out


def head_rows(text: str, delimiter: str, n: int = 4) -> list[list[str]]:
    """The first ``n`` CSV records (quoted newlines respected)."""
    reader = csv.reader(io.StringIO(text[: 1 << 16]), delimiter=delimiter)
    rows = []
    try:
        for row in reader:
            rows.append(row)
            if len(rows) >= n:
                break
    except csv.Error:
        pass
    return rows


def split_truncated(text: str) -> tuple[str, str]:
    """``(complete records, cut-off last record)``: a file cut inside a quoted field.

    An odd number of ``"`` means the last record never closed its quote; the
    record starts after the last newline that has an even number of quotes before it.
    """
    total = text.count('"')
    if total % 2 == 0:
        return text, ""
    pos = len(text)
    after = 0
    while True:
        nl = text.rfind("\n", 0, pos)
        if nl < 0:
            return text, ""
        after += text.count('"', nl + 1, pos)
        if (total - after) % 2 == 0:
            return text[: nl + 1], text[nl + 1:]
        pos = nl


def read_csv_text(text: str, path: Path, *, delimiter: str, header_rows: int = 1,
                  names: list[str] | None = None, meta: dict[str, Any] | None = None) -> pd.DataFrame:
    """Every record after ``header_rows`` as text; column names from ``names`` or the first record.

    A last record cut off by the end of the file is kept as a row (cells padded)
    and its row number is listed in ``meta[TRUNCATED_ROWS]`` so cleaning
    quarantines it with that reason instead of failing.
    """
    first_line = text[: text.find("\n") if "\n" in text else len(text)]
    if first_line.count(delimiter) >= MAX_COLUMNS:  # a hostile or binary file: refuse before parsing
        raise InputError(f"The export {path.name!r} has {first_line.count(delimiter) + 1} columns in its first "
                         f"line, more than the {MAX_COLUMNS} any export has: check that it is a genuine export "
                         "and that its delimiter is right.")
    if names is None:
        first = head_rows(text, delimiter, 1)
        if not first:
            raise InputError(f"The export {path.name!r} is empty: it has no header row.")
        names = first[0]
    names = _unique_names(list(names))
    text, tail = split_truncated(text)
    frame = _read_csv_body(text, path, delimiter=delimiter, header_rows=header_rows, names=names,
                           meta=meta)
    if tail.strip():
        row = next(csv.reader(io.StringIO(tail + '"'), delimiter=delimiter), [])
        row = (row + [""] * len(names))[: len(names)]
        extra = frame_from_rows([row], names)
        extra.index = pd.RangeIndex(len(frame), len(frame) + 1)
        frame = pd.concat([frame, extra]) if len(frame) else extra
        frame.index = pd.RangeIndex(len(frame))
        if meta is not None:
            meta.setdefault(TRUNCATED_ROWS, []).append(len(frame) - 1)
    return frame


def _read_csv_body(text: str, path: Path, *, delimiter: str, header_rows: int,
                   names: list[str], meta: dict[str, Any] | None) -> pd.DataFrame:
    if len(head_rows(text, delimiter, header_rows + 1)) <= header_rows:
        return frame_from_rows([], names)
    body = text.encode("utf-8")
    try:
        table = pacsv.read_csv(
            io.BytesIO(body),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=header_rows,
                                           block_size=1 << 24),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names}, strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
    except pa.ArrowInvalid as exc:
        msg = str(exc)
        if "Expected" in msg and "columns" in msg:
            # Trailing empty fields (common in legacy exports) or ragged rows.
            return _read_csv_python(text, path, delimiter=delimiter, header_rows=header_rows,
                                    names=names, arrow_message=msg, meta=meta)
        raise InputError(f"Cannot parse the CSV export {path.name!r}: {msg}") from None
    # strings_can_be_null already turned empty cells into nulls: no per-column pass needed
    frame = table.to_pandas(types_mapper={pa.string(): STRING, pa.large_string(): STRING}.get)
    if all(frame[c].dtype == STRING for c in frame.columns):
        frame.index = pd.RangeIndex(len(frame))
        return frame
    return as_string_frame(frame)


def _read_csv_python(text: str, path: Path, *, delimiter: str, header_rows: int,
                     names: list[str], arrow_message: str,
                     meta: dict[str, Any] | None = None) -> pd.DataFrame:
    """Slow path for ragged files: pad short records; refuse records with extra non-empty fields.

    A short last record in a file that does not end with a newline was cut off:
    it is padded and listed in ``meta[TRUNCATED_ROWS]``.
    """
    try:
        rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))[header_rows:]
    except csv.Error as exc:
        raise InputError(f"Cannot parse the CSV export {path.name!r}: {exc}.") from None
    width = len(names)
    cut = not text.endswith(("\n", "\r"))
    fixed = []
    for i, row in enumerate(rows):
        if cut and i == len(rows) - 1 and 0 < len(row) < width and meta is not None:
            meta.setdefault(TRUNCATED_ROWS, []).append(len(fixed))
        if len(row) > width:
            if any(cell.strip() for cell in row[width:]):
                raise InputError(
                    f"Cannot parse the CSV export {path.name!r}: data row {i + 1} has {len(row)} "
                    f"fields but the header has {width} ({arrow_message}). Check the delimiter "
                    "and quoting, or re-export the file."
                )
            row = row[:width]
        elif len(row) < width:
            if not row:
                continue  # a blank line is not a record
            row = row + [""] * (width - len(row))
        fixed.append(row)
    return frame_from_rows(fixed, names)


def frame_from_rows(rows: list[list[Any]], names: list[str]) -> pd.DataFrame:
    names = _unique_names([str(n) for n in names])
    columns = {n: [r[j] if j < len(r) else None for r in rows] for j, n in enumerate(names)}
    return as_string_frame(pd.DataFrame(columns, columns=names))


def as_string_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Every column as ``string``; empty strings become ``<NA>``; index 0..n-1."""
    out = {}
    for name in frame.columns:
        col = frame[name]
        if col.dtype != STRING:
            col = col.astype("object").where(col.notna(), None)
            col = pd.Series([_text(v) for v in col], dtype=STRING) if len(col) else col.astype(STRING)
        col = col.where(col != "", None) if len(col) else col
        out[str(name)] = col.reset_index(drop=True).astype(STRING)
    result = pd.DataFrame(out, columns=[str(c) for c in frame.columns])
    result.index = pd.RangeIndex(len(frame))
    return result


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value != value:
            return None
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, pd.Timestamp) or hasattr(value, "isoformat"):
        return value.isoformat(sep=" ") if hasattr(value, "hour") else value.isoformat()
    return str(value)


def read_xlsx_rows(path: Path, sheet: str | None = None) -> tuple[str, list[list[Any]]]:
    """All rows of one sheet (``sheet`` if present, else the first) as Python values."""
    try:
        from python_calamine import CalamineWorkbook
    except ImportError as exc:  # pragma: no cover - dependency declared
        raise InputError("Reading XLSX needs the python-calamine package (pip install python-calamine).") from exc
    try:
        book = CalamineWorkbook.from_path(str(path))
        names = book.sheet_names
        chosen = sheet if sheet in names else (
            next((n for n in names if sheet and n.strip().casefold() == sheet.casefold()), names[0])
        )
        rows = book.get_sheet_by_name(chosen).to_python(skip_empty_area=False)
    except Exception as exc:  # calamine raises its own error types
        raise InputError(f"Cannot read the workbook {path.name!r}: {exc}") from None
    return chosen, rows


def find_column(columns: list[str], *candidates: str) -> str | None:
    """The first column whose name matches a candidate (case- and space-insensitive)."""
    folded = {c.strip().casefold(): c for c in columns}
    for cand in candidates:
        hit = folded.get(cand.strip().casefold())
        if hit is not None:
            return hit
    return None


def read_rows(path: Path, data: bytes | None = None, *, limit: int | None = None,
              sheet: str | None = None) -> tuple[str, list[list[str]], str]:
    """``(kind, rows, delimiter)``: the records of a CSV/TSV or the first sheet of a workbook, as text."""
    data = read_bytes(path) if data is None else data
    if data.startswith(b"PK\x03\x04"):
        _, rows = read_xlsx_rows(path, sheet)
        rows = rows[:limit] if limit else rows
        return "xlsx", [[_text(c) or "" for c in r] for r in rows], ""
    text, _ = decode(data if limit is None else data[: 1 << 20])
    delimiter = sniff_delimiter(text[: text.find("\n") + 1 or None], path.suffix.lower())
    return "csv", head_rows(text, delimiter, limit or 10), delimiter


_SETTINGS_CACHE: dict[tuple[str, float], dict[str, Any]] = {}


def settings_table(config: Any, name: str) -> dict[str, Any]:
    """A top-level table of feedback.toml that ``Config`` does not model yet (``[input]``, ``[cleaning]``).

    Taken from ``config.<name>`` when the config carries it, else re-read from
    ``config.source_path``; empty when there is no file.
    """
    if config is None:
        return {}
    value = getattr(config, name, None)
    if isinstance(value, dict):
        return dict(value)
    source = getattr(config, "source_path", None)
    if source is None:
        return {}
    try:
        key = (str(source), Path(source).stat().st_mtime)
    except OSError:
        return {}
    if key not in _SETTINGS_CACHE:
        import tomllib
        try:
            _SETTINGS_CACHE[key] = tomllib.loads(Path(source).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            _SETTINGS_CACHE[key] = {}
    table = _SETTINGS_CACHE[key].get(name, {})
    return dict(table) if isinstance(table, dict) else {}


def columns_override(config: Any, platform: str) -> dict[str, str]:
    """``[platforms.<platform>.columns]``: canonical name -> column in the export."""
    if config is None:
        return {}
    cols = config.platform(platform).get("columns", {})
    return {str(k): str(v) for k, v in cols.items()} if isinstance(cols, dict) else {}
