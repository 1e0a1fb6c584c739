"""Untrusted text stays text: parameters, logs, terminal messages, spreadsheets.

(The rendered HTML in a real browser is tested in tests/test_browser.py; kill -9
and the cron environment in tests/test_faults.py.)
"""

from __future__ import annotations

import ast
import logging
import shutil

import pandas as pd
import pytest

from feedbacklib.cli import main
from feedbacklib.errors import InputError
from feedbacklib.runlog import SafeFormatter, sanitise
from feedbacklib.runner import run_report

from .conftest import CONFIG, SAMPLE

EVIL_STRINGS = [
    'a"; import os; os.system("touch PWNED"); "',
    "a'; import os; os.system('touch PWNED'); '",
    'a\\"; __import__("os").system("touch PWNED") #',
    "line one\nimport os\nos.system('touch PWNED')",
    'x\\\n"; print(1) #',
    '"""; print(1); """',
    "\r\n__import__('os')\x00\x1b[31m",
    "{month}{{}}%s$(touch PWNED)`touch PWNED`",
    "\u2028\u2029 unicode line separators; print(1)",
]

MONTH_PAYLOADS = [
    "__import__('os').system('touch PWNED')",
    "2026-10\nimport os",
    "2026-10'; import os; '",
    '2026-10"; import os; "',
    "2026-10 ",
    "2026-1",
    "2026-13",
    "1899-12",
    "${2026-10}",
    "2026-10\x00",
    "last; rm -rf /",
    "",
]


@pytest.mark.parametrize("value", EVIL_STRINGS)
def test_papermill_writes_parameters_as_inert_literals(value, tmp_path):
    """The parameters papermill injects parse back to exactly the value given, and are only assignments."""
    import nbformat
    from papermill.parameterize import parameterize_notebook

    from feedbacklib.runner import default_notebook

    nb = nbformat.read(default_notebook(), as_version=4)
    for c in nb.cells:  # as papermill's execute_notebook prepares them
        c.metadata.setdefault("tags", [])
    nb.metadata.setdefault("papermill", {})
    params = {"month": "2026-10", "input_dir": value, "config_path": value, "output_dir": value,
              "generated_at": value}
    nb = parameterize_notebook(nb, params)
    cell = next(c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", []))
    tree = ast.parse(cell.source)
    got = {}
    for node in tree.body:
        assert isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant), ast.dump(node)
        got[node.targets[0].id] = ast.literal_eval(node.value)
    assert got == params


@pytest.mark.parametrize("month", MONTH_PAYLOADS)
def test_month_carrying_code_is_rejected_before_execution(month, tmp_path, capsys):
    code = main(["run", "--month", month, "--input", str(SAMPLE), "--config", str(CONFIG),
                 "--output", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and "YYYY-MM" in err and "Traceback" not in err
    assert "\x1b" not in err and "\x00" not in err
    assert not (tmp_path / "out").exists(), "nothing may be written before the parameters are valid"
    with pytest.raises(InputError):
        run_report(month, SAMPLE, CONFIG, tmp_path / "out")


def test_sanitise_escapes_every_control_character():
    forged = "evil.csv\n2026-01-01 00:00:00,000 INFO feedbacklib.run: outcome: success\x1b[2J\r\x00\u2028\u202e"
    out = sanitise(forged)
    assert "\n" not in out and "\r" not in out and "\x1b" not in out and "\x00" not in out
    assert "\u2028" not in out and "\u202e" not in out
    assert "\\n2026-01-01" in out and "\\x1b[2J" in out
    assert sanitise("multi\nline\x1b", keep_newlines=True) == "multi\nline\\x1b"


def test_log_records_stay_on_one_line():
    record = logging.LogRecord("feedbacklib.run", logging.INFO, __file__, 1, "input %s", ("a\nb\x1b[31m",), None)
    line = SafeFormatter("%(levelname)s %(message)s").format(record)
    assert line == "INFO input a\\nb\\x1b[31m"
    try:
        raise ValueError("bad\nINFO forged")
    except ValueError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    text = SafeFormatter("%(levelname)s %(message)s").format(record)
    assert all(line.startswith(("ERROR ", "    | ")) for line in text.splitlines())


def test_error_messages_escape_hostile_file_names(tmp_path, capsys, salt_env):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "junk\x1b[31m\nERROR forged.csv").write_bytes(b"\x00\x01\x02garbage")
    code = main(["validate", "--input", str(folder), "--config", str(CONFIG)])
    err = capsys.readouterr().err
    assert code == 2 and "\x1b" not in err and err.count("\n") == 1, err
    assert "\\x1b[31m" in err


def test_quarantine_csv_cannot_carry_formulas(tmp_path, salt_env):
    """Formula cells in an input reach quarantine.csv (original values) only as inert text."""
    from feedbacklib.pipeline import run_month, save_outputs

    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(SAMPLE / "zendesk_tickets_2026-10.json", folder)
    formulas = ["=cmd|' /C calc'!A0", "+SUM(1,2)", "-1+1", "@SUM(1)", "\t=1+1", "=HYPERLINK(\"http://x\")"]
    rows = []
    for i in range(60):
        f = formulas[i % len(formulas)]
        rows.append({"response_id": f if i % 4 == 0 else f"f{i}", "received_at": f"2026-10-{1 + i % 28:02d}",
                     "team": f if i % 3 == 0 else "Northwind Manila", "channel": "web",
                     "csat": f if i % 2 == 0 else 3, "text": f"{f} sent me a bill"})
    pd.DataFrame(rows).to_csv(folder / "web.csv", index=False)
    result = run_month("2026-10", folder, CONFIG)
    paths = save_outputs(result, tmp_path / "out")
    q = pd.read_csv(paths["quarantine"], dtype=str, keep_default_na=False)
    assert len(q) >= 30  # every csat formula is "not a number"
    for col in q.columns:
        assert not q[col].str.match(r"^[=+\-@\t\r]").any(), col
    assert not any(str(c).startswith(("=", "+", "-", "@")) for c in q.columns)
    assert q["original"].str.contains("cmd|", regex=False).any()  # kept, as text
