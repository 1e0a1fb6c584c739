"""Shared reading machinery: the Export record, decoding, CSV/XLSX/JSON to string frames.

Every reader returns the file's rows as text (``string`` dtype, empty cells are
``<NA>``), with the original column names and a 0..n-1 index that is the data
row number (after any header rows).  Nothing is dropped or converted here; the
platform-specific mapping onto the canonical columns is each reader's
``stage`` function, and normalisation is :mod:`feedbacklib.clean`.
"""

from __future__ import annotations

import codecs
import contextlib
import contextvars
import csv
import io
import json
import os
import re
import shutil
import tempfile
from zlib import error as zlib_error
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from ..errors import InputError, QuarantineKind
from ..settings import InputSettings, PlatformSettings

__all__ = [
    "Export", "Staged", "STRING", "CUSTOMER_ID", "REJECT", "REJECT_KIND", "Rejects",
    "read_bytes", "decode", "sniff_delimiter", "read_csv_text", "read_xlsx_rows",
    "frame_from_rows", "as_string_frame", "find_column", "columns_override", "split_truncated",
    "TRUNCATED_ROWS", "settings_table", "platform_settings", "input_settings", "VERSION", "PLACEHOLDERS", "read_rows", "decode_head",
    "read_csv_bytes", "sniff_layout", "Layout", "per_unique", "dayfirst_setting", "zone_from_name",
    "is_workbook", "looks_like_json", "check_workbook", "is_url", "local_path", "local_file", "list_url",
]

#: dtype of every raw and staged cell.
STRING = pd.StringDtype("pyarrow")
#: Staged-only column: the platform's customer id before hashing.
CUSTOMER_ID = "customer_id"
#: Staged-only column: a platform rule's quarantine reason for a person (``<NA>`` = keep the row).
REJECT = "_reject"
#: Staged-only column: that reason's :class:`~feedbacklib.errors.QuarantineKind` (its value).
REJECT_KIND = "_reject_kind"
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


class Rejects:
    """A platform rule's quarantine marks, per row: a kind and a detail (``<NA>`` = keep the row).

    >>> rejects = Rejects(raw.index).mark(partial, QuarantineKind.UNFINISHED)  # doctest: +SKIP
    >>> frame = frame.assign(**rejects.columns())                              # doctest: +SKIP
    """

    def __init__(self, index: pd.Index):
        self.kind = pd.Series(pd.NA, index=index, dtype=STRING)
        self.detail = pd.Series(pd.NA, index=index, dtype=STRING)

    def mark(self, where: pd.Series, kind: QuarantineKind, detail: str | pd.Series | None = None) -> Rejects:
        """Rows ``where`` is true get ``kind`` and ``detail`` (default: the kind's words), over any earlier mark."""
        where = where.fillna(False).astype(bool)
        self.kind = self.kind.mask(where, kind.value)
        self.detail = self.detail.mask(where, kind.value if detail is None else detail)
        return self

    def columns(self) -> dict[str, pd.Series]:
        """The staged columns :data:`REJECT` and :data:`REJECT_KIND`."""
        return {REJECT: self.detail, REJECT_KIND: self.kind}


@dataclass(frozen=True)
class Staged:
    """A platform's rows mapped onto canonical names, still as text.

    ``frame`` holds string columns named by the schema constants (any subset),
    plus :data:`CUSTOMER_ID`, :data:`REJECT` and :data:`REJECT_KIND`; its index is the source row.
    """

    frame: pd.DataFrame
    source: str
    date_column: str
    timezone: str | None = None   # zone of naive timestamps; None = the config time zone
    dayfirst: bool = True
    #: canonical name -> "column (why it was chosen)", for ``feedback-report validate``
    roles: Mapping[str, str] = field(default_factory=dict, compare=False)
    #: True when ``dayfirst`` was set in feedback.toml; otherwise the dates' own order may override it
    dayfirst_fixed: bool = False


#: The last file read, so detection and the reader that follows it share one read of a large export:
#: ((path, mtime_ns, size), bytes). Cleared by :func:`forget_bytes` when the export is read.
_LAST_READ: list = [None, None]


def forget_bytes() -> None:
    _LAST_READ[:] = [None, None]


def read_bytes(path: Path) -> bytes:
    try:
        st = path.stat()
        key = (str(path), st.st_mtime_ns, st.st_size)
        if _LAST_READ[0] == key:
            return _LAST_READ[1]
        data = path.read_bytes()
        _LAST_READ[:] = [key, data]
        return data
    except FileNotFoundError:
        raise InputError(f"The export {str(path)!r} does not exist.") from None
    except IsADirectoryError:
        raise InputError(f"The export {str(path)!r} is a folder, not a file.") from None
    except OSError as exc:
        raise InputError(f"Cannot read the export {str(path)!r}: {exc.strerror or exc}.") from None


def is_url(path: Any) -> bool:
    """``path`` is an fsspec URL (``s3://``, ``gs://``, ``file://``, ``memory://``...), not a local path."""
    return isinstance(path, str) and "://" in path


def _filesystem(url: str) -> tuple[Any, str]:
    """fsspec's file system and path for ``url``; a clear error when its protocol is not installed."""
    try:
        import fsspec
        return fsspec.core.url_to_fs(url)
    except ImportError as exc:  # fsspec names the package, e.g. "Install s3fs to access S3"
        raise InputError(f"Cannot open {url!r}: {exc} Install it on the machine that runs the report and on "
                         "every Dask worker (see docs/scale.md).") from None
    except ValueError as exc:  # an unknown protocol
        raise InputError(f"Cannot open {url!r}: {exc}. Use a local path or an fsspec URL such as s3://bucket/"
                         "folder (docs/scale.md).") from None


def local_path(path: str | os.PathLike[str]) -> Path | None:
    """The local path of ``path`` (a path, or a URL of the local file system such as ``file:///data``);
    None for an object-store URL."""
    if not is_url(path):
        return Path(path)
    fs, remote = _filesystem(str(path))
    protocols = fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,)
    return Path(remote) if "file" in protocols or "local" in protocols else None


def list_url(url: str) -> list[tuple[str, str, bool]]:
    """``(name, url, is_folder)`` for every entry of the folder at ``url``, in name order."""
    fs, root = _filesystem(url)
    try:
        entries = fs.ls(root, detail=True)
    except FileNotFoundError:
        raise InputError(f"The input folder {url!r} does not exist or is not a folder.") from None
    except OSError as exc:
        raise InputError(f"Cannot list the input folder {url!r}: {exc}.") from None
    out = []
    for entry in entries:
        name = str(entry["name"]).rstrip("/").rsplit("/", 1)[-1]
        if str(entry["name"]).rstrip("/") == root.rstrip("/"):
            continue  # some file systems list the folder itself
        out.append((name, fs.unstrip_protocol(str(entry["name"]).rstrip("/")), entry.get("type") == "directory"))
    return sorted(out)


@contextlib.contextmanager
def local_file(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A local path to read ``path`` from: ``path`` itself when it is local (or a ``file://`` URL),
    else a copy of the object (fsspec: ``s3://``, ``gs://``, ``memory://``...) under the same name
    in a temporary folder, removed after the block. Every reader then opens it as a local file."""
    local = local_path(path)
    if local is not None:
        yield local
        return
    url = str(path)
    fs, remote = _filesystem(url)
    with tempfile.TemporaryDirectory(prefix="feedback-export-") as tmp:
        local = Path(tmp) / (remote.rstrip("/").rsplit("/", 1)[-1] or "export")
        try:
            with fs.open(remote, "rb") as src, open(local, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
        except FileNotFoundError:
            raise InputError(f"The export {url!r} does not exist.") from None
        except OSError as exc:
            raise InputError(f"Cannot read the export {url!r}: {exc}.") from None
        yield local


def is_workbook(path: Path) -> bool:
    """The file starts like a zip (an .xlsx/.xlsm workbook), whatever its name."""
    try:
        with open(path, "rb") as fh:
            return fh.read(4) == b"PK\x03\x04"
    except OSError:
        return False


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


#: ``layout(text) -> (delimiter, header_rows, names)``: a reader's reading of the header rows at the
#: start of ``text`` (``names=None``: the first record); it may fill the reader's ``meta``.
Layout = Callable[[str], tuple[str, int, "list[str] | None"]]


#: How much of a file :func:`decode_head` decodes (header rows, delimiter sniffing, detection): a
#: wide Qualtrics export (2,000 questions) has about 450 KB of header rows.
HEAD_BYTES = 4 << 20
_UTF8 = ("utf-8", "utf-8-sig")


def _maybe_utf8(data: bytes) -> bool:
    """False when :func:`decode` would read ``data`` as UTF-16 (a BOM, or NUL bytes)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    head = data[:4096]
    return not (len(head) >= 4 and head.count(0) * 3 >= len(head))


def decode_head(data: bytes, limit: int = HEAD_BYTES) -> tuple[str, str]:
    """About the first ``limit`` bytes as text, and the encoding they suggest.

    Like :func:`decode` on the first ``limit`` bytes, except that a character cut
    by the limit is left out. A file whose head is UTF-8 may still turn out not
    to be UTF-8 further on: :func:`read_csv_bytes` handles that.
    """
    if len(data) <= limit or not _maybe_utf8(data):
        text, encoding = decode(data)
        return text[:limit], encoding
    bom = data.startswith(codecs.BOM_UTF8)
    try:
        text = codecs.getincrementaldecoder("utf-8")().decode(data[3 if bom else 0: limit], final=False)
    except UnicodeDecodeError:
        return decode(data[:limit])[0], "cp1252"
    return text, "utf-8-sig" if bom else "utf-8"


def looks_like_json(data: bytes) -> bool:
    """The file's first character (after any BOM, in any encoding :func:`decode` knows) is ``{`` or ``[``."""
    head, _ = decode(data[:4096] if _maybe_utf8(data) else data[:4096 // 2 * 2])
    return head.lstrip("\ufeff \t\r\n")[:1] in ("{", "[")


def sniff_delimiter(first_line: str, suffix: str = "") -> str:
    if suffix == ".tsv":
        return "\t"
    counts = {d: first_line.count(d) for d in (",", "\t", ";")}
    best = max(counts, key=lambda d: counts[d])
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


def sniff_layout(path: Path) -> Layout:
    """The :data:`Layout` of a CSV with one header row and a sniffed delimiter."""

    def layout(text: str) -> tuple[str, int, list[str] | None]:
        return sniff_delimiter(text[: text.find("\n") + 1 or None], path.suffix.lower()), 1, None

    return layout


def head_rows(text: str, delimiter: str, n: int = 4) -> list[list[str]]:
    """The first ``n`` CSV records (quoted newlines respected, a bare CR inside a field kept).

    Reads 64 KB of ``text`` first and more (up to all of it) while that holds
    fewer than ``n`` complete records: wide exports have header rows of hundreds
    of kilobytes.
    """
    window = 1 << 16
    while True:
        part = protect_bare_cr(text[:window])[0]
        rows = _first_rows(part, delimiter, n + 1)
        # n + 1 records read: the n-th is complete; else read more unless the window was all
        if len(rows) > n or window >= len(text):
            return [[c.replace(_CR_MARK, "\r") for c in r] for r in rows[:n]]
        window *= 8


def _first_rows(text: str, delimiter: str, n: int) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows = []
    try:
        for row in reader:
            rows.append(row)
            if len(rows) >= n:
                break
    except csv.Error:
        pass
    return rows


#: Stands in for a bare CR (not followed by LF) while a file whose records end in LF is parsed:
#: ``DataFrame.to_csv`` writes text pasted from old forms with bare CRs, unquoted.
_CR_MARK = "\ue000"


def protect_bare_cr(text: str) -> tuple[str, bool]:
    """``text`` with each bare CR replaced by :data:`_CR_MARK` when its records end in LF.

    A file without any LF (classic Mac line ends) is left alone. ``True`` when
    something was replaced (:func:`restore_bare_cr` puts the CRs back).
    """
    crs = text.count("\r")
    if not crs or crs == text.count("\r\n") or "\n" not in text:
        return text, False
    return re.sub("\r(?!\n)", _CR_MARK, text), True


def restore_bare_cr(frame: pd.DataFrame) -> pd.DataFrame:
    """Put back the bare CRs :func:`protect_bare_cr` replaced (the cells and column names)."""
    for name in frame.columns:
        col = frame[name]
        if col.dtype == STRING and col.str.contains(_CR_MARK, regex=False).fillna(False).any():
            frame[name] = col.str.replace(_CR_MARK, "\r", regex=False)
    frame.columns = [str(c).replace(_CR_MARK, "\r") for c in frame.columns]
    return frame


def split_truncated(text: Any) -> tuple[Any, Any]:
    """``(complete records, cut-off last record)``: a file cut inside a quoted field.

    An even number of ``"`` cannot leave a quoted field open. Otherwise the text
    is scanned as a CSV parser reads it: a quote opens a quoted field only at the
    start of a field (after a delimiter, a line end or the start), so a stray
    quote inside a field (``5" screen``, ``He said "hi``) is a literal character
    and cuts nothing. The cut-off record starts after the last line end outside
    quotes before the quote that never closes. Works on ``str`` and on UTF-8 ``bytes``.
    """
    quote = '"' if isinstance(text, str) else b'"'
    if text.count(quote) % 2 == 0:
        return text, text[:0]
    if isinstance(text, str):
        start = _open_record_start(text)
    else:
        try:
            decoded = text.decode("utf-8")
        except UnicodeDecodeError:
            return text, text[:0]
        start = _open_record_start(decoded)
        start = None if start is None else len(decoded[:start].encode("utf-8"))
    if start is None:
        return text, text[:0]
    return text[:start], text[start:]


_FIELD_STARTS = ",;\t|\n\r"


def _open_record_start(text: str) -> int | None:
    """Start of the record whose quoted field runs to the end of ``text``; ``None`` if none does."""
    pos, record_start = 0, 0
    while True:
        q = text.find('"', pos)
        if q < 0:
            return None
        if q > 0 and text[q - 1] not in _FIELD_STARTS:
            pos = q + 1  # a literal quote inside an unquoted field
            continue
        nl = text.rfind("\n", pos, q)
        if nl >= 0:
            record_start = nl + 1
        i = q + 1
        while True:
            c = text.find('"', i)
            if c < 0:
                return record_start
            if text.startswith('"', c + 1):
                i = c + 2
                continue
            pos = c + 1
            break


def _check_width(first_line: str, path: Path, delimiter: str) -> None:
    if first_line.count(delimiter) >= MAX_COLUMNS:  # a hostile or binary file: refuse before parsing
        raise InputError(f"The export {path.name!r} has {first_line.count(delimiter) + 1} columns in its first "
                         f"line, more than the {MAX_COLUMNS} any export has: check that it is a genuine export "
                         "and that its delimiter is right.")


def _header_names(head: str, path: Path, delimiter: str, names: list[str] | None) -> list[str]:
    if names is None:
        first = head_rows(head, delimiter, 1)
        if not first:
            raise InputError(f"The export {path.name!r} is empty: it has no header row.")
        names = first[0]
    return _unique_names(list(names))


def _append_truncated(frame: pd.DataFrame, tail: str, names: list[str], delimiter: str,
                      meta: dict[str, Any] | None) -> pd.DataFrame:
    """The cut-off last record as one more row (cells padded), listed in ``meta[TRUNCATED_ROWS]``."""
    row = next(csv.reader(io.StringIO(tail + '"'), delimiter=delimiter), [])
    row = (row + [""] * len(names))[: len(names)]
    extra = frame_from_rows([row], names)
    extra.index = pd.RangeIndex(len(frame), len(frame) + 1)
    frame = pd.concat([frame, extra]) if len(frame) else extra
    frame.index = pd.RangeIndex(len(frame))
    if meta is not None:
        meta.setdefault(TRUNCATED_ROWS, []).append(len(frame) - 1)
    return frame


def read_csv_text(text: str, path: Path, *, delimiter: str, header_rows: int = 1,
                  names: list[str] | None = None, meta: dict[str, Any] | None = None) -> pd.DataFrame:
    """Every record after ``header_rows`` as text; column names from ``names`` or the first record.

    A last record cut off by the end of the file is kept as a row (cells padded)
    and its row number is listed in ``meta[TRUNCATED_ROWS]`` so cleaning
    quarantines it with that reason instead of failing.
    """
    text, marked = protect_bare_cr(text)
    _check_width(text[: text.find("\n") if "\n" in text else len(text)], path, delimiter)
    names = _header_names(text, path, delimiter, names)
    text, tail = split_truncated(text)
    if len(head_rows(text, delimiter, header_rows + 1)) <= header_rows:
        frame = frame_from_rows([], names)
    else:
        try:
            frame = _read_csv_body(pa.py_buffer(text.encode("utf-8")), path, delimiter=delimiter,
                                   header_rows=header_rows, names=names)
        except _Ragged as exc:
            frame = _read_csv_python(text, path, delimiter=delimiter, header_rows=header_rows,
                                     names=names, arrow_message=str(exc), meta=meta)
    if tail.strip():
        frame = _append_truncated(frame, tail, names, delimiter, meta)
    return restore_bare_cr(frame) if marked else frame


def read_csv_bytes(data: bytes, path: Path, layout: Layout,
                   meta: dict[str, Any] | None = None) -> pd.DataFrame:
    """:func:`read_csv_text` of ``decode(data)``, without decoding a UTF-8 file in Python.

    ``layout`` reads the header rows from the decoded start of the file. A UTF-8
    file (with or without BOM) goes to Arrow's CSV reader as bytes, and Arrow
    checks that every cell is UTF-8. Any other encoding, or a file that turns
    out not to be UTF-8 after its first megabyte, is decoded whole by
    :func:`decode` and ``layout`` is asked again, exactly as if read as text.
    ``meta["encoding"]`` is set to the encoding used.
    """
    if _maybe_utf8(data):
        head, encoding = decode_head(data)
        if encoding in _UTF8:
            delimiter, header_rows, names = layout(head)
            frame = _read_utf8_csv(data, head, path, bom=encoding == "utf-8-sig", delimiter=delimiter,
                                   header_rows=header_rows, names=names, meta=meta)
            if frame is not None:
                if meta is not None:
                    meta["encoding"] = encoding
                return frame
    text, encoding = decode(data)
    delimiter, header_rows, names = layout(text)
    if meta is not None:
        meta["encoding"] = encoding
    return read_csv_text(text, path, delimiter=delimiter, header_rows=header_rows, names=names, meta=meta)


_BARE_CR = re.compile(rb"\r(?!\n)")


def _read_utf8_csv(data: bytes, head: str, path: Path, *, bom: bool, delimiter: str, header_rows: int,
                   names: list[str] | None, meta: dict[str, Any] | None) -> pd.DataFrame | None:
    """The fast path of :func:`read_csv_bytes`; ``None`` when the file is not UTF-8 after all."""
    if b"\r" in data and _BARE_CR.search(data) and b"\n" in data:
        return None  # bare CRs inside fields: read as text (protect_bare_cr)
    _check_width(head[: head.find("\n") if "\n" in head else len(head)], path, delimiter)
    names = _header_names(head, path, delimiter, names)
    body = memoryview(data)[3 if bom else 0:]
    complete, tail_bytes = _split_truncated_view(body)
    try:
        tail = bytes(tail_bytes).decode("utf-8")
    except UnicodeDecodeError:
        return None
    start = codecs.getincrementaldecoder("utf-8")(errors="replace").decode(bytes(complete[:HEAD_BYTES]))
    if len(head_rows(start, delimiter, header_rows + 1)) <= header_rows:
        frame = frame_from_rows([], names)
    else:
        try:
            frame = _read_csv_body(pa.py_buffer(complete), path, delimiter=delimiter,
                                   header_rows=header_rows, names=names)
        except _NotUtf8:
            return None
        except _Ragged as exc:
            try:
                text = bytes(complete).decode("utf-8")
            except UnicodeDecodeError:
                return None
            frame = _read_csv_python(text, path, delimiter=delimiter, header_rows=header_rows,
                                     names=names, arrow_message=str(exc), meta=meta)
    if tail.strip():
        frame = _append_truncated(frame, tail, names, delimiter, meta)
    return frame


def _split_truncated_view(body: memoryview) -> tuple[memoryview, memoryview]:
    """:func:`split_truncated` on a memoryview of UTF-8 bytes (the end of ``body.obj``), no copy
    unless the quotes are unbalanced."""
    data = cast(bytes, body.obj)
    start = len(data) - body.nbytes
    if data.count(b'"', start) % 2 == 0:
        return body, body[body.nbytes:]
    complete, _ = split_truncated(bytes(body))
    return body[: len(complete)], body[len(complete):]


class _Ragged(Exception):
    """Arrow refused the CSV for its number of fields (trailing empty fields or ragged rows)."""


class _NotUtf8(Exception):
    """Arrow found bytes that are not UTF-8."""


def _read_csv_body(body: pa.Buffer, path: Path, *, delimiter: str, header_rows: int,
                   names: list[str]) -> pd.DataFrame:
    """Arrow's CSV reader on the file's bytes (UTF-8): every column as ``string`` text."""
    try:
        table = pacsv.read_csv(
            pa.BufferReader(body),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=header_rows,
                                           block_size=1 << 24),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.large_string() for n in names}, strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
    except pa.ArrowInvalid as exc:
        msg = str(exc)
        if "Expected" in msg and "columns" in msg:
            raise _Ragged(msg) from None
        if "UTF8" in msg:
            raise _NotUtf8(msg) from None
        raise InputError(f"Cannot parse the CSV export {path.name!r}: {msg}") from None
    # One chunk per column: later takes and filters need not stitch chunks together (3x
    # faster); 64-bit offsets let a column past 2 GiB be one chunk too. Column by column, each
    # column's chunks freed once copied: the peak grows by one column instead of doubling
    # (about 150 MB less at a million rows).
    columns = []
    while table.num_columns:
        columns.append(table.column(0).combine_chunks())
        table = table.remove_column(0)
    # ``large_string`` is what a ``string`` column holds: read as such, the table becomes a frame
    # without a copy (read as ``string``, every column would be cast: about 0.5 s per million rows).
    # strings_can_be_null already turned empty cells into nulls: no per-column pass needed.
    frame = pa.Table.from_arrays(columns, names=names).to_pandas(types_mapper={pa.large_string(): STRING}.get)
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
    fixed: list[Any] = []
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


#: What a workbook may expand to, unless ``[input] max_xlsx_mb`` / ``max_xlsx_cells`` say otherwise:
#: the worksheets' XML once unzipped, and the cells of the sheet's used area (rows x columns,
#: which the reader holds in memory at once). A full-height 1,048,576-row export of 20 columns
#: is 21 million cells and about 300 MB of XML.
MAX_XLSX_MB = InputSettings.max_xlsx_mb           # the defaults of [input] max_xlsx_mb / max_xlsx_cells
MAX_XLSX_CELLS = InputSettings.max_xlsx_cells
XLSX_LIMITS: contextvars.ContextVar[tuple[int, int]] = contextvars.ContextVar(
    "xlsx_limits", default=(MAX_XLSX_MB, MAX_XLSX_CELLS))
_ROW_REF = re.compile(rb'<row[^>]*? r="([0-9]{1,8})"')
_WIDE_REF = re.compile(rb'<c r="([A-Z]{2,3})[0-9]')


def xlsx_limits(config: Any) -> tuple[int, int]:
    """``(max MB unzipped, max cells)`` from ``[input] max_xlsx_mb`` / ``max_xlsx_cells`` (checked when loaded)."""
    table = input_settings(config)
    return table.max_xlsx_mb, table.max_xlsx_cells


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def _column_letters(n: int) -> str:
    out = ""
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


def check_workbook(path: Path) -> None:
    """Refuse a workbook that would expand beyond :data:`XLSX_LIMITS` before the reader expands it.

    Streams each worksheet's XML out of the zip (never more than the limit, so a
    zip-bomb costs a bounded read) and finds the last row and column used: one
    stray cell at XFD1048576 makes the used area 17 billion cells.
    """
    import zipfile

    max_mb, max_cells = XLSX_LIMITS.get()
    cap = max_mb << 20
    try:
        book = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"Cannot read the workbook {path.name!r}: it is not a valid .xlsx file ({exc}).") from None
    total = 0
    with book:
        for info in book.infolist():
            name = info.filename
            if not (name.startswith("xl/worksheets/") and name.endswith(".xml")) and name != "xl/sharedStrings.xml":
                continue
            last_row, last_col, tail = 0, 0, b""
            try:
                with book.open(info) as part:
                    while chunk := part.read(1 << 22):
                        total += len(chunk)
                        if total > cap:
                            raise InputError(
                                f"The workbook {path.name!r} unzips to more than {max_mb} MB of sheet data "
                                f"(stopped reading {name}): it is not a genuine export, or it is larger than "
                                "an export should be. Save it as CSV, or raise [input] max_xlsx_mb in feedback.toml.")
                        if name.startswith("xl/worksheets/"):
                            window = tail + chunk
                            rows = _ROW_REF.findall(window)
                            if rows:
                                last_row = max(last_row, max(int(r) for r in rows))
                            wide = _WIDE_REF.findall(window)
                            if wide:
                                last_col = max(last_col, max(_column_number(c) for c in set(wide)))
                            tail = chunk[-64:]
            except InputError:
                raise
            except (zipfile.BadZipFile, OSError, EOFError, zlib_error) as exc:
                raise InputError(f"Cannot read the workbook {path.name!r}: {exc}.") from None
            cells = last_row * max(last_col, 26)
            if last_row and last_col and cells > max_cells:
                raise InputError(
                    f"The workbook {path.name!r} has a used area of {last_row:,} rows x {last_col:,} columns "
                    f"(up to cell {_column_letters(last_col)}{last_row} in {name}), more than the {max_cells:,} "
                    "cells an export may expand to. Delete the stray cells far from the data (Ctrl+End in Excel "
                    "shows the last one) and save again, export CSV, or raise [input] max_xlsx_cells.")


def read_xlsx_rows(path: Path, sheet: str | None = None) -> tuple[str, list[list[Any]]]:
    """All non-blank rows of one sheet (``sheet`` if present, else the first) as Python values.

    A row with no value in any cell is not a record (spreadsheet padding, or the
    rows above one value typed far down) and is left out, as blank lines in a CSV
    are. The workbook is checked first (:func:`check_workbook`).
    """
    try:
        from python_calamine import CalamineWorkbook
    except ImportError as exc:  # pragma: no cover - dependency declared
        raise InputError("Reading XLSX needs the python-calamine package (pip install python-calamine).") from exc
    check_workbook(path)
    try:
        book = CalamineWorkbook.from_path(str(path))
        names = book.sheet_names
        chosen = sheet if sheet in names else (
            next((n for n in names if sheet and n.strip().casefold() == sheet.casefold()), names[0])
        )
        rows = book.get_sheet_by_name(chosen).to_python(skip_empty_area=False)
    except Exception as exc:  # calamine raises its own error types
        raise InputError(f"Cannot read the workbook {path.name!r}: {exc}") from None
    return chosen, [r for r in rows if any(c is not None and c != "" for c in r)]


def per_unique(values: pd.Series, fn: Any) -> Any:
    """``fn`` applied to the distinct values only, spread back to every row (same index).

    Team names, channels, scores, statuses and customer ids repeat a lot: a
    million rows often hold a few thousand distinct values, so the work shrinks
    accordingly. ``fn`` may return a series, a tuple of series or a frame.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    if len(uniques) > len(values) // 2:
        return fn(values)
    distinct = pd.Series(pd.array(list(uniques) + [pd.NA], dtype=values.dtype))
    result = fn(distinct)
    take = np.where(codes < 0, len(uniques), codes)

    def spread(col: pd.Series) -> pd.Series:
        out = col.take(take)
        out.index = values.index
        return out

    if isinstance(result, tuple):
        return tuple(spread(r) for r in result)
    if isinstance(result, pd.DataFrame):
        out = result.take(take)
        out.index = values.index
        return out
    return spread(result)


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
    text, _ = decode(data) if limit is None else decode_head(data)
    delimiter = sniff_delimiter(text[: text.find("\n") + 1 or None], path.suffix.lower())
    return "csv", head_rows(text, delimiter, limit or 10), delimiter


def input_settings(config: Any) -> InputSettings:
    """``[input]`` of the configuration (the defaults without one)."""
    return config.input_settings if config is not None else InputSettings()


def platform_settings(config: Any, name: str) -> PlatformSettings:
    """``[platforms.<name>]`` of the configuration (the defaults without one)."""
    return config.platform(name) if config is not None else PlatformSettings()


def settings_table(config: Any, name: str) -> dict[str, Any]:
    """One optional table of feedback.toml (``[input]``, ``[cleaning]``, ``[run]``), as validated by ``load_config``.

    Empty when there is no configuration or the table is absent.
    """
    section = getattr(config, "section", None)
    return section(name) if callable(section) else {}


def dayfirst_setting(settings: PlatformSettings, default: bool) -> dict[str, bool]:
    """``Staged`` keywords for the day/month order: ``[platforms.<name>] dayfirst`` when set (then
    fixed), else ``default``, which the column's own unambiguous dates may override."""
    value = settings.dayfirst
    if isinstance(value, bool):
        return {"dayfirst": value, "dayfirst_fixed": True}
    return {"dayfirst": default, "dayfirst_fixed": False}


_ZONE_IN_NAME = re.compile(r"\((UTC|GMT|[A-Z][A-Za-z_]+/[A-Za-z_/+-]+)\)|\b(UTC|GMT)\b")


def zone_from_name(column: str | None) -> str | None:
    """The time zone a column's name states: ``Submit Date (UTC)`` -> ``"UTC"``,
    ``Created (America/Denver)`` -> ``"America/Denver"``; ``None`` when it states none."""
    if not column:
        return None
    m = _ZONE_IN_NAME.search(str(column))
    if not m:
        return None
    zone = m.group(1) or m.group(2)
    return "UTC" if zone in ("UTC", "GMT") else zone


def columns_override(config: Any, platform: str) -> dict[str, str]:
    """``[platforms.<platform>.columns]``: canonical name -> column in the export."""
    return dict(platform_settings(config, platform).columns)
