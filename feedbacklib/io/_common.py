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
    "frame_from_rows", "as_string_frame", "find_column", "columns_override",
]

#: dtype of every raw and staged cell.
STRING = pd.StringDtype("pyarrow")
#: Staged-only column: the platform's customer id before hashing.
CUSTOMER_ID = "customer_id"
#: Staged-only column: a platform rule's quarantine reason (``<NA>`` = keep the row).
REJECT = "_reject"


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


def read_csv_text(text: str, path: Path, *, delimiter: str, header_rows: int = 1,
                  names: list[str] | None = None) -> pd.DataFrame:
    """Every record after ``header_rows`` as text; column names from ``names`` or the first record."""
    if names is None:
        first = head_rows(text, delimiter, 1)
        if not first:
            raise InputError(f"The export {path.name!r} is empty: it has no header row.")
        names = first[0]
    names = _unique_names(list(names))
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
                                    names=names, arrow_message=msg)
        raise InputError(f"Cannot parse the CSV export {path.name!r}: {msg}") from None
    return as_string_frame(table.to_pandas(types_mapper={pa.string(): STRING}.get))


def _read_csv_python(text: str, path: Path, *, delimiter: str, header_rows: int,
                     names: list[str], arrow_message: str) -> pd.DataFrame:
    """Slow path for ragged files: pad short records; refuse records with extra non-empty fields."""
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))[header_rows:]
    width = len(names)
    fixed = []
    for i, row in enumerate(rows):
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


def columns_override(config: Any, platform: str) -> dict[str, str]:
    """``[platforms.<platform>.columns]``: canonical name -> column in the export."""
    if config is None:
        return {}
    cols = config.platform(platform).get("columns", {})
    return {str(k): str(v) for k, v in cols.items()} if isinstance(cols, dict) else {}
