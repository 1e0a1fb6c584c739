"""Months: one pattern, ``last`` = the latest full month, and a clock read only at the edges."""

from __future__ import annotations

import ast
import datetime as dt
import logging
from pathlib import Path

import pytest

from feedbacklib.errors import InputError, NoDataError
from feedbacklib.months import (
    THIN_SHARE, as_date, check_month, is_month, month_label, previous_month, resolve_month, thin_reason,
)

PACKAGE = Path(__file__).resolve().parents[1] / "feedbacklib"
DEC = dt.date(2026, 12, 6)
SAMPLE_VOLUMES = {"2026-07": 1495, "2026-08": 1495, "2026-09": 1496, "2026-10": 1495, "2026-11": 1}


def test_month_pattern():
    assert is_month("2026-10") and is_month("1999-01") and is_month("2099-12")
    for bad in ("2026-13", "2026-00", "26-10", "2026-1", " 2026-10", "2026-10\n", "__import__('os')", None, 202610):
        assert not is_month(bad)
    assert check_month("2026-10") == "2026-10"
    with pytest.raises(InputError):
        check_month("2026-10 ")  # a parameter that reaches the notebook is exactly what was checked
    assert check_month("last") == "last"
    with pytest.raises(InputError, match="YYYY-MM"):
        check_month("last", allow_last=False)
    with pytest.raises(InputError, match="--month must be YYYY-MM"):
        check_month("2026-13", what="--month")


def test_helpers():
    assert previous_month("2026-01") == "2025-12" and previous_month("2026-10") == "2026-09"
    assert month_label("2026-10") == "October 2026"
    assert as_date("2026-12-06") == DEC and as_date(DEC) == DEC
    assert as_date(dt.datetime(2026, 12, 6, 23, 0)) == DEC
    with pytest.raises(InputError, match="YYYY-MM-DD"):
        as_date("06/12/2026")


def test_last_is_the_latest_full_month_that_has_ended(caplog):
    # the sample: one late response in November must not make a one-row report
    with caplog.at_level(logging.INFO, logger="feedbacklib.months"):
        assert resolve_month("last", SAMPLE_VOLUMES, today=DEC, min_group_size=30) == "2026-10"
    skipped = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
    assert len(skipped) == 1 and "2026-11" in skipped[0] and "1 response" in skipped[0]
    assert "--month 2026-11" in skipped[0]
    # the unfinished current month is never "last", however full
    assert resolve_month("last", {**SAMPLE_VOLUMES, "2026-12": 900}, today=DEC, min_group_size=30) == "2026-10"
    # any later date: still October (nothing after it is full)
    assert resolve_month("last", SAMPLE_VOLUMES, today=dt.date(2027, 8, 15), min_group_size=30) == "2026-10"
    # a month is full again once it has its volume
    assert resolve_month("last", {**SAMPLE_VOLUMES, "2026-11": 1200}, today=DEC, min_group_size=30) == "2026-11"
    # before November ends, September is the latest ended month
    assert resolve_month("last", SAMPLE_VOLUMES, today=dt.date(2026, 10, 20), min_group_size=30) == "2026-09"


def test_thin_rule():
    assert thin_reason("2026-10", SAMPLE_VOLUMES, min_group_size=30) is None
    assert "fewer than the 30" in thin_reason("2026-11", SAMPLE_VOLUMES, min_group_size=30)
    # above min_group_size but under a quarter of the usual volume
    share = thin_reason("2026-11", {**SAMPLE_VOLUMES, "2026-11": 300}, min_group_size=30)
    assert share and f"{THIN_SHARE:.0%}" in share and "1,495" in share
    assert thin_reason("2026-11", {**SAMPLE_VOLUMES, "2026-11": 400}, min_group_size=30) is None
    # the first month has nothing to be measured against but min_group_size
    assert thin_reason("2026-07", {"2026-07": 31}, min_group_size=30) is None


def test_last_errors_say_what_to_do():
    with pytest.raises(NoDataError, match="Pass --month"):
        resolve_month("last", {"2026-12": 50}, today=DEC, min_group_size=30)
    with pytest.raises(NoDataError, match="too thin"):
        resolve_month("last", {"2026-10": 3, "2026-11": 2}, today=DEC, min_group_size=30)
    with pytest.raises(NoDataError):
        resolve_month("last", {}, today=DEC, min_group_size=30)
    with pytest.raises(InputError):
        resolve_month("__import__('os')", SAMPLE_VOLUMES, today=DEC, min_group_size=30)
    # a month asked for by name is taken as it is, thin or not
    assert resolve_month("2026-11", SAMPLE_VOLUMES, today=DEC, min_group_size=30) == "2026-11"


# Modules allowed to read the clock: the command (the edge; the notebooks' parameter cells are the other
# edge) and progress timestamps. Everything else takes ``today`` or ``now`` as a parameter.
CLOCK_READERS = {"cli.py",
                 "progress.py"}  # timestamps of progress events for the terminal, never a calendar decision
CLOCK_CALLS = {("datetime", "now"), ("date", "today"), ("datetime", "today"), ("datetime", "utcnow"),
               ("Timestamp", "now"), ("Timestamp", "today"), ("time", "time")}


def _clock_calls(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
            if (name, node.func.attr) in CLOCK_CALLS:
                found.append(f"{path.name}:{node.lineno}")
    return found


def test_only_the_edges_read_the_clock():
    offenders = [hit for path in PACKAGE.rglob("*.py") if path.name not in CLOCK_READERS
                 for hit in _clock_calls(path)]
    assert offenders == [], f"clock read below the edges: {offenders}"
    # the guard itself sees what it looks for
    assert _clock_calls(PACKAGE / "cli.py")
