"""Untrusted text stays text: parameters, logs, terminal messages, spreadsheets.

(The rendered HTML in a real browser is tested in tests/test_browser.py; kill -9
and the cron environment in tests/test_faults.py.)
"""

from __future__ import annotations

import ast
import logging
import os
import shutil

import pandas as pd
import pytest

from feedbacklib.cli import main
from feedbacklib.errors import ConfigError, FeedbackError, InputError
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
    captured = capsys.readouterr()
    # an unknown file is skipped with one warning line (not an error unless [input] strict = true),
    # and its name is escaped wherever it is printed
    assert code == 0
    for stream in (captured.err, captured.out):
        assert "\x1b" not in stream and "\\x1b[31m" in stream and "\nERROR forged" not in stream, stream
    assert captured.err.count("\n") == 1, captured.err


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


# --------------------------------------------------------------------------- symlinks and the salt (issue 16)

def test_a_symlinked_lock_is_refused_and_its_target_untouched(tmp_path):
    from feedbacklib.runner import OutputError, _lock

    target = tmp_path / "passwd"
    target.write_text("root:x:0:0:root:/root:/bin/bash\n")
    out = tmp_path / "reports"
    out.mkdir()
    (out / ".lock").symlink_to(target)
    with pytest.raises(OutputError, match="symbolic link") as err:
        with _lock(out):
            pass
    assert err.value.exit_code == 2
    assert target.read_text() == "root:x:0:0:root:/root:/bin/bash\n"
    (out / ".lock").unlink()
    os.mkfifo(out / ".lock")  # nor any other kind of file that is not a plain file
    with pytest.raises(OutputError, match="not a regular file"):
        with _lock(out):
            pass


def test_a_symlinked_history_store_fails_the_run_with_exit_2(tmp_path, salt_env):
    from feedbacklib.history import StoreError

    elsewhere = tmp_path / "etc"
    elsewhere.mkdir()
    out = tmp_path / "reports"
    out.mkdir()
    (out / "history").symlink_to(elsewhere)
    with pytest.raises(StoreError, match="symbolic link") as err:
        run_report("2026-10", SAMPLE, CONFIG, out)
    assert err.value.exit_code == 2
    assert not any(elsewhere.iterdir())
    assert "symbolic link" in (out / "last-failure.log").read_text()
    assert not list(out.glob(".staging-*")) and not (out / "2026-10").exists()


@pytest.fixture
def no_env_salt(monkeypatch):
    monkeypatch.delenv("FEEDBACK_PII_SALT", raising=False)


def test_short_or_empty_salts_are_refused(tmp_path, monkeypatch, no_env_salt):
    from feedbacklib.errors import ConfigError
    from feedbacklib.salt import pii_salt

    empty = tmp_path / "salt"
    empty.write_bytes(b"")  # what a first run killed between create and write used to leave
    with pytest.raises(ConfigError, match="holds 0 bytes; at least 16") as err:
        pii_salt(empty, "FEEDBACK_PII_SALT")
    assert err.value.exit_code == 2 and "delete" in str(err.value)
    empty.write_bytes(b"  short-salt \n")
    with pytest.raises(ConfigError, match="holds 10 bytes"):
        pii_salt(empty, "FEEDBACK_PII_SALT")
    monkeypatch.setenv("FEEDBACK_PII_SALT", "0123456789abcde")
    with pytest.raises(ConfigError, match="FEEDBACK_PII_SALT is 15 bytes long"):
        pii_salt(empty, "FEEDBACK_PII_SALT")
    monkeypatch.setenv("FEEDBACK_PII_SALT", "0123456789abcdef")
    assert pii_salt(empty, "FEEDBACK_PII_SALT") == b"0123456789abcdef"


def test_the_salt_is_created_once_atomically_and_warned_about(tmp_path, caplog, no_env_salt):
    from feedbacklib.salt import pii_salt

    path = tmp_path / "conf" / ".feedbacklib-salt"
    with caplog.at_level(logging.WARNING, logger="feedbacklib"):
        first = pii_salt(path, "FEEDBACK_PII_SALT")
        second = pii_salt(path, "FEEDBACK_PII_SALT")
    assert first == second and len(first) == 64 and int(first, 16) >= 0
    assert path.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == [".feedbacklib-salt"]  # no temporary file left
    created = [r for r in caplog.records if "Created a new PII salt" in r.getMessage()]
    assert len(created) == 1 and "Back this file up" in created[0].getMessage()


def test_a_symlinked_salt_file_is_neither_read_nor_written(tmp_path, no_env_salt):
    from feedbacklib.errors import ConfigError
    from feedbacklib.salt import pii_salt

    secret = tmp_path / "secret"
    secret.write_text("a-file-the-run-must-not-read-or-truncate")
    link = tmp_path / ".feedbacklib-salt"
    link.symlink_to(secret)
    with pytest.raises(ConfigError, match="symbolic link"):
        pii_salt(link, "FEEDBACK_PII_SALT")
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "would-be-created")
    with pytest.raises(ConfigError, match="symbolic link"):
        pii_salt(dangling, "FEEDBACK_PII_SALT")
    assert not (tmp_path / "would-be-created").exists()
    assert secret.read_text() == "a-file-the-run-must-not-read-or-truncate"


def test_a_new_salt_is_logged_in_the_run_log(tmp_path, no_env_salt):
    """The runner makes the salt before the kernel starts, so its creation is in this run's log."""
    text = CONFIG.read_text(encoding="utf-8")
    salt = tmp_path / "conf" / "salt"
    config = tmp_path / "feedback.toml"
    config.write_text(text.replace('salt_file = ".feedbacklib-salt"', f'salt_file = "{salt}"'), encoding="utf-8")
    broken = tmp_path / "broken.ipynb"
    broken.write_text("{}")
    with pytest.raises(ConfigError):  # fails before the kernel: nothing to wait for
        run_report("2026-10", SAMPLE, config, tmp_path / "out", notebook=broken)
    assert not salt.exists()  # a notebook that cannot run creates nothing
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    nb = new_notebook(cells=[new_code_cell('month = "last"\noutput_dir = ""', metadata={"tags": ["parameters"]}),
                             new_code_cell("raise SystemExit('stop here')")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "stop.ipynb")
    with pytest.raises(FeedbackError):
        run_report("2026-10", SAMPLE, config, tmp_path / "out", notebook=tmp_path / "stop.ipynb")
    log = (tmp_path / "out" / "last-failure.log").read_text()
    assert salt.exists() and "Created a new PII salt" in log and str(salt) in log and "Back this file up" in log


def test_detection_errors_never_quote_what_a_symlink_points_at(tmp_path, salt_env):
    """Issue 16.9: a link in the input folder to /etc/passwd must not put its first line in cron mail."""
    import dataclasses

    from feedbacklib.config import load_config
    from feedbacklib.errors import FeedbackError
    from feedbacklib.io import read_exports

    secret = tmp_path / "passwd"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1::/usr/sbin:/usr/sbin/nologin\n")
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "export.csv").symlink_to(secret)
    cfg = load_config(CONFIG)
    strict = dataclasses.replace(cfg, input_settings=dataclasses.replace(cfg.input_settings, strict=True))
    with pytest.raises(FeedbackError) as err:
        read_exports(folder, strict)
    assert "root:x" not in str(err.value) and "/bin/bash" not in str(err.value)
