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
