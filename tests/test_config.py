"""feedback.toml: every documented table is read once, validated, and problems are listed together."""

from __future__ import annotations

import re

import pytest

from feedbacklib.clean import cleaning_settings
from feedbacklib.config import SECTION_KEYS, load_config
from feedbacklib.errors import ConfigError
from feedbacklib.io.detect import detect_platform
from feedbacklib.runner import run_limits
from feedbacklib.scale import resolve_engine

from .conftest import CONFIG, ROOT


def _write(tmp_path, extra: str):
    path = tmp_path / "feedback.toml"
    path.write_text(CONFIG.read_text() + "\n" + extra)
    return path


def test_the_readme_example_of_the_optional_tables_loads_and_is_used(tmp_path, monkeypatch):
    """The optional-tables block in the README is valid and each setting reaches its reader."""
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"```toml\n(\[input\].*?)```", readme, re.S).group(1)
    cfg = load_config(_write(tmp_path, block))
    monkeypatch.delenv("FEEDBACK_ENGINE", raising=False)
    assert resolve_engine(cfg) == ("pandas", None)  # [run] engine next to the time limits
    assert run_limits(cfg).timeout == 3600
    assert cleaning_settings(cfg)["duplicate_window_hours"] == 24
    assert cleaning_settings(cfg)["csat_scale"] == (1.0, 5.0)
    export = tmp_path / "nps_march.csv"
    export.write_text("a,b\n1,2\n")
    assert detect_platform(export, config=cfg) == ("surveymonkey", 1.0)
    assert set(cfg.sections) == set(SECTION_KEYS)


def test_run_table_holds_engine_and_time_limits_together(tmp_path, monkeypatch):
    monkeypatch.delenv("FEEDBACK_ENGINE", raising=False)
    monkeypatch.delenv("FEEDBACK_DASK_SCHEDULER", raising=False)
    cfg = load_config(_write(tmp_path, '[run]\nengine = "dask"\nscheduler = "tcp://sched:8786"\n'
                                       "timeout_seconds = 1800\n"))
    assert resolve_engine(cfg) == ("dask", "tcp://sched:8786")
    assert run_limits(cfg).timeout == 1800


def test_every_problem_in_the_optional_tables_is_listed_in_one_error(tmp_path):
    extra = ('[input]\nplatform = "qualtrix"\n[input.platforms]\n"*.csv" = "zendesk"\n"x*" = "mailchimp"\n'
             '[cleaning]\nduplicate_window_hours = -2\ncsat_scale = [5, 1]\nwindow = 3\n'
             '[cleaning.nps_labels]\n"Loved it" = 11\n'
             '[run]\nengine = "spark"\ntimeout_seconds = "1h"\n'
             '[clening]\nduplicate_window_hours = 1\n')
    with pytest.raises(ConfigError) as err:
        load_config(_write(tmp_path, extra))
    message = str(err.value)
    for expected in ("'qualtrix'", "'mailchimp'", "duplicate_window_hours", "csat_scale", "'window'",
                     "nps_labels", "'spark'", "timeout_seconds", "[clening]", "feedback.toml"):
        assert expected in message, expected
    assert "'*.csv'" not in message  # a valid glob is not reported
    assert message.count("\n  - ") == 9


def test_a_table_of_the_wrong_kind_is_reported(tmp_path):
    path = tmp_path / "feedback.toml"
    path.write_text('cleaning = 3\n[project]\ninput = "data"\n')
    with pytest.raises(ConfigError, match=r"\[cleaning\] must be a table"):
        load_config(path)
