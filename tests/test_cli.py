from __future__ import annotations

import subprocess
import sys

import pytest

from feedbacklib.cli import main

from .conftest import CONFIG, SAMPLE


def test_help_documents_every_option(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    for option in ("--month", "--input", "--config", "--output", "--notebook", "--cell-timeout", "exit codes"):
        assert option in out


def test_bad_month_exits_2_without_traceback(capsys, tmp_path):
    code = main(["run", "--month", "2026-13", "--input", str(SAMPLE), "--config", str(CONFIG), "--output", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback" not in err and "YYYY-MM" in err


def test_missing_config_exits_2(capsys, tmp_path):
    code = main(["run", "--config", str(tmp_path / "missing.toml")])
    assert code == 2
    assert "does not exist" in capsys.readouterr().err


def test_validate_prints_the_data_quality_summary(capsys, salt_env):
    code = main(["validate", "--input", str(SAMPLE), "--config", str(CONFIG)])
    out = capsys.readouterr().out
    assert code == 0
    assert "qualtrics" in out and "zendesk" in out and "quarantined" in out and "2026-10" in out


def test_console_script_is_installed():
    out = subprocess.run([sys.executable, "-m", "feedbacklib.cli", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "feedback-report" in out.stdout


def test_run_help_documents_timeouts_and_dry_run(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    out = capsys.readouterr().out
    assert "--timeout" in out and "--dry-run" in out and "timeout_seconds" in out


def test_run_settings_come_from_the_config_and_are_validated(tmp_path, capsys):
    from feedbacklib.config import load_config
    from feedbacklib.runner import run_limits

    cfg_path = tmp_path / "feedback.toml"
    cfg_path.write_text(CONFIG.read_text() + "\n[run]\ntimeout_seconds = 1200\ncell_timeout_seconds = 300\n")
    cfg = load_config(cfg_path)
    limits = run_limits(cfg)
    assert (limits.timeout, limits.cell_timeout) == (1200, 300)
    assert run_limits(cfg, timeout=60).timeout == 60  # the command line wins
    cfg_path.write_text(CONFIG.read_text() + "\n[run]\ntimeout_seconds = -1\ntimeuot = 3\n")
    code = main(["run", "--dry-run", "--config", str(cfg_path), "--input", str(SAMPLE), "--output", str(tmp_path),
                 "--today", "2026-12-06"])
    err = capsys.readouterr().err
    assert code == 2 and "timeout_seconds" in err and "timeuot" in err


def test_validate_and_dry_run_exit_codes(capsys, tmp_path, salt_env):
    assert main(["run", "--dry-run", "--month", "2025-01", "--input", str(SAMPLE), "--config", str(CONFIG),
                 "--output", str(tmp_path)]) == 3
    assert main(["run", "--dry-run", "--input", str(tmp_path / "nope"), "--config", str(CONFIG)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "nope" in err
