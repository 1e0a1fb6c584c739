"""File-by-file cleaning (issue 19 item 3, memory): ``clean_exports`` over an ``ExportStream`` lets each
export's raw frame go once it is mapped, and must give what ``clean_responses`` gave before over the whole
list of exports (tests/reference/clean_rows.py): the same frame, quarantine (raw cells included) and
quality table, with duplicates, repeats and superseded versions across files, also when the quarantined
copy sits in an earlier file than the copy that is kept (that file is read again for its raw cells)."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

import feedbacklib.clean as clean_mod
from feedbacklib import schema as S
from feedbacklib.clean import clean_exports, clean_responses
from feedbacklib.engines.pandas import PandasEngine
from feedbacklib.errors import InputError
from feedbacklib.io import ExportStream, read_exports
from feedbacklib.sample import write_qualtrics_csv

from .reference.clean_rows import clean_responses as clean_before
from .test_clean import make_config

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
FIX = Path(__file__).parent / "fixtures" / "io"
HEADER_ROWS = 3


@pytest.fixture
def config(tmp_path, monkeypatch):
    monkeypatch.setenv("FEEDBACK_PII_SALT", "test-salt-not-secret")
    return make_config(tmp_path)


def _shift(stamp: str, hours: int) -> str:
    return (pd.Timestamp(stamp) + pd.Timedelta(hours=hours)).strftime("%Y-%m-%d %H:%M:%S")


@pytest.fixture
def folder(tmp_path) -> Path:
    """A month in several files, not in time order, with every cross-file case planted:

    - ``q_a.csv``: 1,500 generated rows, 20 copies of ``q_b`` rows (new response id, same customer and
      text, one hour later: repeats that sit in the earlier file) and one row with an unparseable date;
    - ``q_b.csv``: 1,500 generated rows and 10 rows of ``q_a`` again (same response id: duplicates);
    - ``q_c.csv``: 1,000 generated rows and one unparseable date (quarantined at once, its raw cells kept);
    - ``z1_tickets.json`` / ``z2_tickets.json``: Zendesk tickets, the second file holding a later version of
      one ticket of the first (the first file's copy is superseded).
    """
    src = tmp_path / "generated.csv"
    write_qualtrics_csv(src, 4000, seed=11, month="2026-10")
    with open(src, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    header, data = rows[:HEADER_ROWS], rows[HEADER_ROWS:]
    col = {name: j for j, name in enumerate(header[0])}
    a, b, c = data[:1500], data[1500:3000], data[3000:]
    for n, row in enumerate(b[:20]):
        copy = list(row)
        copy[col["ResponseId"]] = f"R_planted_repeat_{n:03d}"
        for name in ("StartDate", "EndDate", "RecordedDate"):
            copy[col[name]] = _shift(row[col[name]], 1)
        a.append(copy)
    b.extend(list(row) for row in a[100:110])
    for part in (a, c):
        bad = list(part[5])
        bad[col["ResponseId"]] = f"R_bad_date_{len(part)}"
        for name in ("StartDate", "EndDate", "RecordedDate"):
            bad[col[name]] = "not a date"
        part.append(bad)
    out = tmp_path / "input"
    out.mkdir()
    for name, part in (("q_a.csv", a), ("q_b.csv", b), ("q_c.csv", c)):
        with open(out / name, "w", encoding="utf-8", newline="") as fh:
            csv.writer(fh, lineterminator="\r\n").writerows([*header, *part])
    doc = json.loads((FIX / "zendesk_small.json").read_text(encoding="utf-8"))
    shutil.copy(FIX / "zendesk_small.json", out / "z1_tickets.json")
    later = dict(doc["tickets"][0])
    later["updated_at"] = "2026-07-03T09:00:00Z"
    later["satisfaction_rating"] = {"score": "good", "comment": "Sorted in the end, thanks"}
    (out / "z2_tickets.json").write_text(json.dumps({"tickets": [later]}), encoding="utf-8")
    return out


def _same(got, want) -> None:
    pd.testing.assert_frame_equal(got.frame, want.frame, check_exact=True)
    pd.testing.assert_frame_equal(got.quarantine, want.quarantine, check_exact=True)
    pd.testing.assert_frame_equal(got.quality, want.quality, check_exact=True)


def _rereads(monkeypatch) -> list[str]:
    """The files the file-by-file path reads again (for the raw cells of duplicates and repeats)."""
    seen: list[str] = []
    original = clean_mod.read_export

    def counting(path, **kwargs):
        seen.append(Path(path).name)
        return original(path, **kwargs)

    monkeypatch.setattr(clean_mod, "read_export", counting)
    return seen


def test_cross_file_cases_are_planted(folder, config):
    """The folder holds what the comparison is about (else the next test would prove little)."""
    want = clean_before(read_exports(folder, config), config)
    kinds = {f: set(k) for f, k in want.quarantine.groupby(S.SOURCE_FILE)[S.QUARANTINE_KIND]}
    assert {"repeat", "unparseable date"} <= kinds["q_a.csv"]
    assert "duplicate" in kinds["q_b.csv"]
    assert kinds["q_c.csv"] == {"unparseable date"}
    assert "superseded" in kinds["z1_tickets.json"]
    # the planted repeats are the copies in the earlier file
    planted = want.quarantine[want.quarantine[S.QUARANTINE_KIND] == "repeat"]
    assert (planted[S.SOURCE_FILE] == "q_a.csv").sum() >= 20


def test_file_by_file_equals_before(folder, config, monkeypatch):
    want = clean_before(read_exports(folder, config), config)
    _same(clean_responses(read_exports(folder, config), config), want)
    rereads = _rereads(monkeypatch)
    stream = ExportStream(folder, config)
    _same(clean_exports(stream, config), want)
    # read again: the files with rows quarantined after mapping (duplicates, repeats, superseded), only those
    late = {"duplicate", "repeat", "superseded"}
    need = sorted(f for f, k in want.quarantine.groupby(S.SOURCE_FILE)[S.QUARANTINE_KIND] if late & set(k))
    assert sorted(rereads) == need
    assert "q_c.csv" not in rereads  # its unparseable date came from the cells kept when it was mapped


def test_pandas_engine_cleans_file_by_file(folder, config):
    want = clean_before(read_exports(folder, config), config)
    timings: dict[str, float] = {}
    cleaned = PandasEngine().clean(folder, config, timings)
    pd.testing.assert_frame_equal(cleaned.rows, want.frame, check_exact=True)
    pd.testing.assert_frame_equal(cleaned.quarantine, want.quarantine, check_exact=True)
    pd.testing.assert_frame_equal(cleaned.quality, want.quality, check_exact=True)
    assert set(timings) == {"read", "clean"}


def test_sample_month_equals_before(config):
    """The sample input (CSV, XLSX and JSON exports; duplicates and updated tickets) through both paths."""
    want = clean_before(read_exports(SAMPLE, config), config)
    _same(clean_exports(ExportStream(SAMPLE, config), config), want)


def test_stream_lists_skipped_files_like_read_exports(folder, config):
    (folder / "notes.md").write_text("not an export")
    (folder / "sub").mkdir()
    stream = ExportStream(folder, config)
    names = [e.path.name for e in stream]
    listed = read_exports(folder, config)
    assert names == [e.path.name for e in listed]
    assert stream.skipped == listed.skipped


def test_stream_of_missing_folder_is_an_error(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        ExportStream(tmp_path / "nope")


def test_file_changed_before_it_is_read_again(folder, config, monkeypatch):
    """A file that lost rows between its first read and the second: a clear error, not wrong raw cells."""
    exports = iter(ExportStream(folder, config))
    first = next(exports)  # q_a.csv, read and mapped ...
    rest = list(exports)
    path = first.path
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines[:-50]), encoding="utf-8")  # ... then cut short before it is read again
    with pytest.raises(InputError, match="changed while it was being read"):
        clean_exports([first, *rest], config)


def test_single_export_is_not_read_again(folder, config, monkeypatch, tmp_path):
    """One export (the last one of its stream) keeps its raw frame: its duplicates and repeats need no second read."""
    one = tmp_path / "one"
    one.mkdir()
    rows = []
    for name in ("q_a.csv", "q_b.csv"):  # both in one file: its own duplicates and repeats
        with open(folder / name, encoding="utf-8", newline="") as fh:
            rows.extend(list(csv.reader(fh))[HEADER_ROWS if rows else 0:])
    with open(one / "q_ab.csv", "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\r\n").writerows(rows)
    want = clean_before(read_exports(one, config), config)
    assert {"duplicate", "repeat", "unparseable date"} <= set(want.quarantine[S.QUARANTINE_KIND])
    rereads = _rereads(monkeypatch)
    _same(clean_exports(ExportStream(one, config), config), want)
    assert rereads == []
