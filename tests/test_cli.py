from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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


# -- issue 18: per-command help, global flags anywhere, -q/-v, plurals, progress a person sees --------------
def _help(capsys, *argv: str) -> str:
    with pytest.raises(SystemExit) as exit_:
        main([*argv, "--help"])
    assert exit_.value.code == 0
    return capsys.readouterr().out


def test_each_command_lists_its_own_exit_codes(capsys):
    validate = _help(capsys, "validate")
    assert "exit codes:" in validate and "every export in the folder was read" in validate
    assert "the report was written" not in validate and "lock" not in validate  # run's codes, not validate's
    run = _help(capsys, "run")
    assert "the report was written" in run and "holds the lock" in run and "130" in run
    assert "every export" not in run
    for text in (validate, run):
        assert "-q, --quiet" in text and "-v, --verbose" in text and "before or after the command" in text
    top = _help(capsys)
    assert "-q, --quiet" in top and "Each command's --help lists its own exit codes" in top


@pytest.mark.parametrize("argv", [["--version", "validate"], ["validate", "--version"]])
def test_version_before_or_after_the_command(capsys, argv):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 0 and capsys.readouterr().out.startswith("feedbacklib ")


@pytest.mark.parametrize("where", ["before", "after"])
def test_quiet_and_verbose_before_or_after_the_command(capsys, tmp_path, where, salt_env):
    def call(flag):
        tail = ["--month", "2026-13", "--output", str(tmp_path)]  # a usage error: no kernel is started
        return main([flag, "run", *tail] if where == "before" else ["run", *tail, flag])

    assert call("-q") == 2 and "YYYY-MM" in capsys.readouterr().err  # errors still reach a quiet run
    assert call("--verbose") == 2
    with pytest.raises(SystemExit) as exit_:
        main(["-q", "validate", "-v"] if where == "before" else ["validate", "-q", "-v"])
    assert exit_.value.code == 2 and "cannot be combined" in capsys.readouterr().err


def test_verbosity_levels():
    from feedbacklib.cli import _verbosity, _parser

    parser = _parser()
    from feedbacklib.cli import _conventions, _output_flags

    _output_flags(parser, top=True)
    _conventions(parser)
    assert _verbosity(parser.parse_args(["validate", "-q"]), parser) == -1
    assert _verbosity(parser.parse_args(["-v", "validate"]), parser) == 1
    assert _verbosity(parser.parse_args(["validate", "--debug"]), parser) == 1
    assert _verbosity(parser.parse_args(["validate"]), parser) == 0


def test_plurals():
    from feedbacklib.cli import _plural
    from feedbacklib.progress import plural

    assert _plural(1, "response") == "1 response" and _plural(2, "response") == "2 responses"
    assert plural(1, "export") == "1 export" and plural(0, "export") == "0 exports"
    assert plural(1_495, "row") == "1,495 rows" and plural(2, "candidate theme") == "2 candidate themes"


def test_dry_run_says_exports_in_good_english(capsys, tmp_path, salt_env):
    code = main(["run", "--dry-run", "--month", "2026-10", "--today", "2026-12-06", "--input", str(SAMPLE),
                 "--config", str(CONFIG), "--output", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0 and "12 exports)" in out and "(s)" not in out and "1,495 responses" in out


class _Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_stage_lines_on_a_terminal(tmp_path):
    import io

    from feedbacklib.progress import STAGES, StageProgress

    clock, out = _Clock(), io.StringIO()
    stages = StageProgress(out, live=True, clock=clock,
                           estimates={"themes": {"seconds": 10.0, "rows": 1000}, "render": {"seconds": 8.0}})
    clock.now += 3
    stages.feed({"stage": "read", "event": "start"})
    clock.now += 1
    stages.feed({"stage": "read", "event": "end", "seconds": 0.5, "rows": 6048})
    stages.feed({"stage": "clean", "event": "start", "rows": 6048})
    stages.feed({"stage": "clean", "event": "end", "seconds": 2.0})
    stages.feed({"stage": "themes", "event": "start", "rows": 2000})
    clock.now += 5
    stages._draw()  # what the ticker does a few times a second
    assert "about 15 s left" in out.getvalue()  # 10 s per 1,000 rows last time, 2,000 rows now, 5 s gone
    stages.feed({"stage": "themes", "event": "end", "seconds": 20.0})
    for stage in ("sentiment", "compare"):
        stages.feed({"stage": stage, "event": "start", "rows": 2000 if stage == "sentiment" else None})
        stages.feed({"stage": stage, "event": "end", "seconds": 1.0})
    assert stages._current == "render"  # the notebook's sections follow the kernel's last stage
    clock.now += 2
    stages.finish("render")
    stages.close()
    finished = [line.split("\x1b[K")[-1] for line in out.getvalue().split("\n") if line]
    assert finished[0].startswith("starting the report kernel: 3.0 s")
    assert [line.split()[1] for line in finished[1:]] == list(STAGES)  # one line per stage, in order
    assert "6,048 rows" in finished[1] and "12,096 rows/s" in finished[1]
    assert "3,024 rows/s" in finished[2] and "100 rows/s" in finished[3]
    assert stages.timings["render"] == {"seconds": 2.0}
    assert stages.summary()[0] == "stage read: 0.50 s, 6,048 rows (12,096 rows/s)"


def test_stage_lines_stay_silent_without_a_terminal():
    import io

    from feedbacklib.progress import StageProgress

    out = io.StringIO()
    stages = StageProgress(out, live=False)
    stages.feed({"stage": "read", "event": "start"})
    stages.feed({"stage": "read", "event": "end", "seconds": 1.0, "rows": 10})
    stages.feed({"stage": "clean", "event": "start", "rows": 10})
    stages.close(failed=True)
    assert out.getvalue() == ""  # cron: nothing but the final line (printed by the CLI)
    assert stages.timings["read"] == {"seconds": 1.0, "rows": 10} and "clean" in stages.timings


def test_stage_events_reach_the_file_only_when_asked(tmp_path, monkeypatch):
    import json

    from feedbacklib.progress import STAGE_FILE_ENV, StageProgress, stage_event

    monkeypatch.delenv(STAGE_FILE_ENV, raising=False)
    stage_event("read", "start")  # no file named: nothing happens, nothing fails
    path = tmp_path / "events.jsonl"
    monkeypatch.setenv(STAGE_FILE_ENV, str(path))
    stage_event("read", "start")
    stage_event("read", "end", rows=5, seconds=0.25)
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(r["stage"], r["event"]) for r in records] == [("read", "start"), ("read", "end")]
    assert records[1]["rows"] == 5 and set(records[1]) == {"stage", "event", "t", "rows", "seconds"}
    stages = StageProgress(None, live=False)
    stages._path = path
    stages._poll()
    assert stages.timings == {"read": {"seconds": 0.25, "rows": 5}}
    monkeypatch.setenv(STAGE_FILE_ENV, str(tmp_path / "missing" / "x.jsonl"))
    stage_event("read", "start")  # an unwritable file never fails the run


def test_kernel_stderr_keeps_messages_and_drops_progress_frames(caplog):
    import logging
    import os

    from feedbacklib.runner import _stderr_to_log

    with caplog.at_level(logging.INFO, logger="feedbacklib.run"), _stderr_to_log():
        os.write(2, b"Executing:   3%|3         | 1/30 [00:00<00:05]\rExecuting:  40%|####      | 12/30\n")
        os.write(2, b"a real warning from the kernel\n")
    logged = [r.getMessage() for r in caplog.records]
    assert "kernel stderr: a real warning from the kernel" in logged
    assert not any("%|" in m for m in logged)
    assert "kernel stderr: 2 progress-bar frames not logged" in logged


@pytest.mark.slow
def test_run_on_a_terminal_shows_stages_and_cron_sees_one_line(tmp_path, salt_env):
    """The real command twice: in a pseudo-terminal (one line per stage), then as cron runs it."""
    import os
    import pty
    import re

    args = [sys.executable, "-m", "feedbacklib.cli", "run", "--month", "2026-10", "--today", "2026-12-06",
            "--input", str(SAMPLE), "--config", str(CONFIG), "--output", str(tmp_path)]
    env = {**os.environ, "FEEDBACK_PII_SALT": "test-salt-not-secret"}
    env.pop("FEEDBACKLIB_PROGRESS", None)
    leader, follower = pty.openpty()
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=follower, env=env)
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 4096)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    out, _ = proc.communicate(timeout=300)
    os.close(leader)
    assert proc.returncode == 0, b"".join(chunks)[-2000:]
    screen = b"".join(chunks).decode("utf-8", "replace")
    finished = [line.split("\x1b[K")[-1].strip() for line in screen.replace("\r\n", "\n").split("\n")]
    stage_lines = [line for line in finished if re.match(r"\[\d/6\] ", line)]
    assert [line.split()[1] for line in stage_lines] == ["read", "clean", "themes", "sentiment", "compare", "render"]
    assert re.search(r"\[1/6\] read +[\d,]+ rows +[\d.]+ s +[\d,]+ rows/s", stage_lines[0])
    assert out.decode().startswith("Report for 2026-10 written to")

    cron = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env, timeout=300)
    assert cron.returncode == 0
    assert cron.stderr == "" and cron.stdout.count("\n") == 1 and "Report for 2026-10 written" in cron.stdout
    log = (tmp_path / "2026-10" / "run.log").read_text()
    for stage in ("read", "clean", "themes", "sentiment", "compare", "render"):
        assert f"stage {stage}: " in log
    assert "%|" not in log and "Executing" not in log  # no progress frames in run.log
    assert not (tmp_path / "2026-10" / ".stages.jsonl").exists()  # the event file is not published
    assert (tmp_path / ".stage-timings.json").exists()  # the next run's "time left"


def test_make_bench_says_what_it_runs_and_how_long(tmp_path):
    """`make bench ROWS=N` passes the size on; the benchmark says its plan (and runs nothing with --plan)."""
    from .conftest import ROOT

    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "--rows $(ROWS)" in makefile and "ROWS ?=" in makefile
    out = subprocess.run([sys.executable, "-m", "benchmarks", "--rows", "100000", "--plan", "--json",
                          str(tmp_path / "none.json")], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "100,000 rows: about" in out.stderr and "estimated from the targets" in out.stderr
    assert "feedback-report run" in out.stderr and not (tmp_path / "none.json").exists()
    earlier = tmp_path / "latest.json"
    earlier.write_text('{"runs": [{"rows": 100000, "wall_s": 125.0}]}')
    out = subprocess.run([sys.executable, "-m", "benchmarks", "--rows", "100000", "--plan", "--json", str(earlier)],
                         capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert "about 2 min (as the last run of this size on this machine took)" in out.stderr


def test_the_engines_table_says_how_memory_grows_per_million_rows():
    from benchmarks.__main__ import growth_lines

    run = {"cpu_s": 1.0, "wall_s": 1.0, "worker_peak_rss_mb": 0.0, "tree_peak_pss_mb": 0.0}
    runs = [{**run, "rows": 1_000_000, "engine": "pandas", "client_peak_rss_mb": 1536.0},
            {**run, "rows": 2_000_000, "engine": "pandas", "client_peak_rss_mb": 3072.0},
            {**run, "rows": 1_000_000, "engine": "pandas-work", "client_peak_rss_mb": 1024.0},
            {**run, "rows": 2_000_000, "engine": "pandas-work", "error": "exited 1"}]
    (line,) = growth_lines(runs)  # an engine with one size measured says nothing
    assert line.startswith("  pandas: peak memory grows 1.50 GB per extra million rows (1,000,000 -> 2,000,000")


def test_a_log_line_clears_the_progress_line_first():
    import io

    from feedbacklib import progress as P

    clock, out = _Clock(), io.StringIO()
    stages = P.StageProgress(out, live=True, clock=clock)
    stages.watch(Path("/nonexistent/events.jsonl"))
    try:
        stages.start("render")
        assert P._ACTIVE is stages and out.getvalue().endswith("running")
        P.clear_line()  # what the CLI's console handler does before printing a record
        assert out.getvalue().endswith("\r\x1b[K") and stages._shown is None
    finally:
        stages.close()
    assert P._ACTIVE is None
