"""feedback.toml: every documented table is read once, validated, and problems are listed together."""

from __future__ import annotations

import re

import pytest

from feedbacklib.clean import cleaning_settings
from feedbacklib.config import SECTION_KEYS, load_config
from feedbacklib.errors import ConfigError
from feedbacklib.io.detect import detect_platform
from feedbacklib.runner import run_limits
from feedbacklib.engines import resolve_engine

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
    assert cfg.run.work_dir == "/var/tmp/feedback"  # the pandas engine's work folder (pipeline.choose_engine)
    assert cleaning_settings(cfg)["duplicate_window_hours"] == 24
    assert cleaning_settings(cfg)["csat_scale"] == (1.0, 5.0)
    export = tmp_path / "nps_march.csv"
    export.write_text("a,b\n1,2\n")
    assert detect_platform(export, config=cfg) == ("surveymonkey", 1.0)
    assert set(SECTION_KEYS) == {"input", "cleaning", "run"}
    assert cfg.section("cleaning")["csat_scale"] == (1.0, 5.0)  # the values set, from the typed table


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


# --------------------------------------------------------------------------- issue 16 item 8, issue 14 item 4

@pytest.mark.parametrize("table,line,key,expected", [
    ("project", "input = 5", "input", "a path in quotes"),
    ("platforms.zendesk", 'good_csat = "five"', "good_csat", "a whole score from 1 to 5"),
    ("platforms.zendesk", 'first_response_hours_field = "abc"', "first_response_hours_field",
     "numeric id of a Zendesk custom field"),
    ("cleaning", "csat_scale = [1, inf]", "csat_scale", "finite numbers"),
    ("platforms.surveymonkey", "csat_scale = [1, nan]", "csat_scale", "finite numbers"),
    ("platforms.qualtrics", 'unfinished = "maybe"', "unfinished", '"keep" or "quarantine"'),
    ("platforms.generic", "dayfirst = 1", "dayfirst", "true or false"),
    ("platforms.generic", 'source = "tweet"', "source", "one of survey"),
    ("platforms.generic", 'timezone = "Mars/Base"', "timezone", "IANA time zone"),
    ("project", "sla_first_response_hours = inf", "sla_first_response_hours", "positive number"),
    ("project", 'min_group_size = "30"', "min_group_size", "whole number"),
    ("project", "timezon = \"UTC\"", "timezon", "did you mean 'timezone'"),
    ("platforms.surveymonkey", "csat_scal = [1, 10]", "csat_scal", "did you mean 'csat_scale'"),
    ("platforms.qualtrics.columns", 'txt = "Q3"', "txt", "did you mean 'text'"),
    ("platforms.qualtrics.columns", "text = 3", "'text'", "the export's column name in quotes"),
])
def test_every_value_is_type_checked_and_the_message_names_the_key(tmp_path, table, line, key, expected):
    text = re.sub(rf"(?m)^{re.escape(line.split(' = ')[0])} = .*$", "", CONFIG.read_text())
    header = f"[{table}]"
    if header + "\n" in text:  # add the line to the existing table
        text = text.replace(header + "\n", f"{header}\n{line}\n", 1)
    else:
        text += f"\n{header}\n{line}\n"
    path = tmp_path / "feedback.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    assert key in message and expected in message, message
    assert message.count("\n  - ") == 1, message


def test_a_string_where_a_list_is_expected_is_refused(tmp_path):
    path = tmp_path / "feedback.toml"
    path.write_text(CONFIG.read_text().replace('aliases = ["NW Manila"]', 'aliases = "NW Manila"'))
    with pytest.raises(ConfigError, match=r"\[\[teams\]\] entry 4 \('Northwind Manila'\) aliases must be a list"):
        load_config(path)


def test_unknown_platform_and_team_keys_are_refused(tmp_path):
    extra = '[platforms.qualtrix]\nunfinished = "keep"\n[[teams]]\nname = "X"\nalias = ["Y"]\nvendor = 3\n'
    with pytest.raises(ConfigError) as err:
        load_config(_write(tmp_path, extra))
    message = str(err.value)
    assert "[platforms.qualtrix] names no platform" in message and "'qualtrics'" in message
    assert "unknown key 'alias'" in message and "did you mean 'aliases'" in message
    assert "vendor must be the vendor's name in quotes; found 3" in message
    assert message.count("\n  - ") == 3


def test_a_key_of_another_platform_is_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"\[platforms.surveymonkey\] has an unknown key 'good_csat'"):
        load_config(_write(tmp_path, "[platforms.surveymonkey]\ngood_csat = 5\n"))


def test_typed_tables_hold_the_validated_values_and_defaults_once(tmp_path):
    from feedbacklib.config import CleaningSettings, PlatformSettings

    cfg = load_config(_write(tmp_path, "[cleaning]\ncsat_scale = [1, 10]\n[platforms.generic]\ndayfirst = false\n"))
    assert cfg.cleaning.csat_scale == (1.0, 10.0) and cfg.cleaning.duplicate_window_hours == 24.0
    assert cfg.platform_typed("zendesk").first_response_hours_field == 360001001
    assert cfg.platform_typed("zendesk").good_csat == 5 and cfg.platform_typed("qualtrics").unfinished == "keep"
    assert cfg.platform_typed("generic") == PlatformSettings(dayfirst=False)
    assert cfg.platform_typed("cfpb") == PlatformSettings()
    assert cleaning_settings(cfg)["duplicate_window_hours"] == CleaningSettings().duplicate_window_hours
    with pytest.raises(AttributeError):
        cfg.cleaning.csat_scale = (1, 5)  # frozen


def test_config_errors_exit_2_naming_the_key(tmp_path, capsys):
    from feedbacklib.cli import main

    path = tmp_path / "feedback.toml"
    path.write_text(CONFIG.read_text().replace('input = "data/sample"', "input = 5"))
    code = main(["validate", "--config", str(path)])
    err = capsys.readouterr().err
    assert code == 2 and "[project] input must be a path in quotes" in err and "found 5" in err, err
