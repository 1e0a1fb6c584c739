"""Fault injection on the command cron runs, through the installed console script.

Every run here is a subprocess of ``<venv>/bin/feedback-report`` started the way
cron starts it: ``PATH=/usr/bin:/bin``, no virtualenv activated, another working
directory, and (where ``unshare -n`` works) no network at all. Runs are killed
with SIGKILL at named points (``FEEDBACKLIB_FAULT``, test-only, see runner.py)
and the previous reports must stay byte-for-byte intact, and the next run must
succeed. Full renders are expensive (~15 s), so the module shares one output
folder and runs its tests in order.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from feedbacklib.cli import main

from .conftest import CONFIG, SAMPLE

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
SCRIPT = BIN / "feedback-report"
MONTH = "2026-10"
# A folder name that would break out of a naively quoted Python string literal.
EVIL_DIR = 'in "quoted" \'single\' \\ $(touch PWNED)\nnext line"); open("PWNED", "w"); ("'
# A file name that would forge a run.log line and colour the operator's terminal.
EVIL_FILE = "notes\n2026-01-01 00:00:00,000 INFO feedbacklib.run: outcome: success\x1b[31m.txt"
SALT = "test-salt-not-secret"


def _unshare_works() -> bool:
    if not (shutil.which("unshare") and shutil.which("ip")):
        return False
    probe = subprocess.run(["unshare", "-n", "sh", "-c", "ip link set lo up"], capture_output=True)
    return probe.returncode == 0


OFFLINE = _unshare_works()


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


class Cron:
    """Runs ``feedback-report`` as cron would."""

    def __init__(self, root: Path):
        self.root = root
        self.home = root / "home"
        self.home.mkdir()
        self.cwd = root / "cwd"
        self.cwd.mkdir()
        self.input = root / EVIL_DIR
        self.input.mkdir()
        for p in SAMPLE.glob(f"*{MONTH}*"):
            shutil.copy(p, self.input / p.name)
        (self.input / EVIL_FILE).write_text("not an export, ignored by the readers but checksummed in run.log")
        self.output = root / "reports"
        self.faults = root / "faults"
        self.faults.mkdir()

    def env(self, **extra: str) -> dict[str, str]:
        env = {"PATH": "/usr/bin:/bin", "HOME": str(self.home), "LOGNAME": "root", "SHELL": "/bin/sh",
               "FEEDBACK_PII_SALT": SALT, "FEEDBACKLIB_FAULT_DIR": str(self.faults)}
        env.update(extra)
        return env

    def argv(self, *extra: str, month: str = MONTH) -> list[str]:
        cmd = [str(SCRIPT), "run", "--month", month, "--input", str(self.input), "--config", str(CONFIG),
               "--output", str(self.output), *extra]
        if OFFLINE:  # a private network namespace with only loopback (the kernel talks to us over it)
            cmd = ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$@"', "sh", *cmd]
        return cmd

    def start(self, *extra: str, fault: str | None = None, **env_extra: str) -> subprocess.Popen:
        env = self.env(**({"FEEDBACKLIB_FAULT": fault} if fault else {}), **env_extra)
        return subprocess.Popen(self.argv(*extra), cwd=self.cwd, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, start_new_session=True)

    def run(self, *extra: str, fault: str | None = None, timeout: float = 240,
            **env_extra: str) -> subprocess.CompletedProcess:
        proc = self.start(*extra, fault=fault, **env_extra)
        try:
            out, err = proc.communicate(timeout=timeout)
        finally:
            _kill_group(proc)
        return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _kill_group(proc: subprocess.Popen) -> None:
    """Kill whatever the run left (an orphaned kernel) so nothing outlives the test."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


@pytest.fixture(scope="module")
def cron(tmp_path_factory):
    return Cron(tmp_path_factory.mktemp("cron"))


STUB = """\
import json, pathlib, time
out = pathlib.Path(output_dir)
out.mkdir(parents=True, exist_ok=True)
for name in ("feedback.parquet", "quarantine.csv"):
    (out / name).write_text("stub")
(out / "kpis.json").write_text(json.dumps({"month": "2026-10", "data_quality": []}))
time.sleep(2)
print("a stub report for", month)
"""


@pytest.fixture(scope="module")
def stub_notebook(cron):
    """A notebook that writes what the real one writes, in a second instead of ~15.

    The kill points after kernel start (executing, export, publish, swapped) are
    runner code, independent of what the notebook computes; the real notebook is
    rendered by the first and the last runs of this module.
    """
    return _notebook(cron.root / "stub.ipynb", STUB)


@pytest.fixture(scope="module")
def first(cron):
    """The first run: the cron environment, offline, a hostile input path; plus a previous month."""
    previous = cron.output / "2026-09"
    previous.mkdir(parents=True)
    (previous / "report.html").write_text("<p>September, published last month</p>")
    (previous / "kpis.json").write_text('{"month": "2026-09"}')
    result = cron.run()
    assert result.returncode == 0, result.stderr
    saved = cron.root / "first-2026-10"
    shutil.copytree(cron.output / MONTH, saved)
    return result, saved


def test_cron_environment_offline_and_quiet(cron, first):
    result, saved = first
    # one line on stdout, nothing on stderr: nothing for cron to mail on success
    assert result.stdout.count("\n") == 1 and "written to" in result.stdout
    assert result.stderr == ""
    assert sorted(p.name for p in saved.iterdir()) == sorted(
        ["report.html", "report.ipynb", "feedback.parquet", "kpis.json", "quarantine.csv", "run.log"])
    assert not (cron.cwd / "PWNED").exists() and not (cron.root / "PWNED").exists()
    assert not list(cron.cwd.iterdir()), "the run wrote into its working directory"


def test_run_log_records_everything_and_cannot_be_forged(first):
    _, saved = first
    log = (saved / "run.log").read_text(encoding="utf-8")
    for needle in ("versions: pandas", "scikit-learn", "nltk", "papermill", "sha256", "step read",
                   "step themes", "step export_html", "data quality qualtrics_post_contact_survey_2026-10.csv",
                   "read,", "kept,", "quarantined", "outcome: success"):
        assert needle in log, needle
    assert "\x1b" not in log and "\r" not in log
    stamp = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (INFO|WARNING|ERROR) ")
    assert all(stamp.match(line) for line in log.splitlines()), "every line is one record"
    records = [line for line in log.splitlines() if re.match(stamp.pattern + r"feedbacklib\.run: outcome: success", line)]
    assert len(records) == 1, "a file name forged a log line"
    assert "notes\\n2026-01-01" in log and "\\x1b[31m" in log
    assert "%|" not in log and "it/s" not in log, "progress-bar noise"


def test_parameters_are_literals_not_code(first, cron):
    _, saved = first
    import ast

    nb = json.loads((saved / "report.ipynb").read_text(encoding="utf-8"))
    injected = [c for c in nb["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
    assert len(injected) == 1
    tree = ast.parse("".join(injected[0]["source"]))
    values = {}
    for node in tree.body:
        assert isinstance(node, ast.Assign), ast.dump(node)  # nothing but assignments
        values[node.targets[0].id] = ast.literal_eval(node.value)
    assert values["input_dir"] == str(cron.input)
    assert values["month"] == MONTH


def test_running_a_published_report_ipynb_again_leaves_the_store_alone(cron, first, tmp_path, salt_env):
    """An analyst re-executes report.ipynb: its parameters name the run's (deleted) staging folder."""
    import papermill as pm

    from feedbacklib.runner import _project_kernel, default_notebook

    _, saved = first
    store = cron.output / "history"
    before = _digest(store)
    nb = json.loads((saved / "report.ipynb").read_text(encoding="utf-8"))
    injected = next(c for c in nb["cells"] if "injected-parameters" in c["metadata"].get("tags", []))
    import ast

    values = {n.targets[0].id: ast.literal_eval(n.value) for n in ast.parse("".join(injected["source"])).body}
    staging = Path(values["output_dir"])
    assert values["history_dir"] == str(store) and not staging.exists()
    try:
        with _project_kernel() as kernel:
            pm.execute_notebook(str(saved / "report.ipynb"), str(tmp_path / "again.ipynb"), kernel_name=kernel,
                                cwd=str(default_notebook().parent), progress_bar=False, log_output=False)
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # save_outputs writes the files it was asked to
    assert _digest(store) == before
    assert "only feedback-report run writes the store" in (tmp_path / "again.ipynb").read_text(encoding="utf-8")


# --------------------------------------------------------------------------- the history store commits with the report

STORE_STUB = """\
import json, os, pathlib
import pandas as pd
from feedbacklib.history import write_partitions
out = pathlib.Path(output_dir)
token = os.environ.get("STUB_TOKEN", "stub")
for name in ("feedback.parquet", "quarantine.csv"):
    (out / name).write_text("stub")
# what run_month(..., history_out=output_dir) stages: this month's rows and aggregates
write_partitions(out / "history", "2026-10", pd.DataFrame({"response_id": [token]}),
                 aggregates={"kpis": pd.DataFrame({"token": [token]})})
if os.environ.get("STUB_ENOSPC"):  # the disk fills up while the kernel writes
    raise OSError(28, "No space left on device", str(out / "history"))
if os.environ.get("STUB_FAIL"):
    raise RuntimeError("the notebook failed after staging the store")
(out / "kpis.json").write_text(json.dumps({"month": "2026-10", "data_quality": [], "token": token}))
print("a stub report for", month, token)
"""


@pytest.fixture(scope="module")
def store_stub(cron):
    """A notebook that stages a history partition (a one-row month carrying a token) like the real one."""
    return _notebook(cron.root / "store-stub.ipynb", STORE_STUB)


def _state(cron) -> tuple[str | None, list[str], dict, dict]:
    """(token of the published report, ids in the store's month partition, report digest, store digest)."""
    report, store = cron.output / MONTH, cron.output / "history"
    token = json.loads((report / "kpis.json").read_text()).get("token")
    ids = pd.read_parquet(store / "rows" / f"month={MONTH}")["response_id"].tolist()
    return token, ids, _digest(report), _digest(store)


def _next_run_recovers(cron) -> None:
    """What the next run does first, under the lock: finish or undo an interrupted publication."""
    from feedbacklib.history import HistoryStore
    from feedbacklib.runner import _lock, _recover

    with _lock(cron.output):
        _recover(cron.output)
        HistoryStore(cron.output / "history").recover()
    assert not (cron.output / "history" / ".commit").exists()


STORE_KILLS = [("store_prepared", False), ("publish", False), ("swapped", True), ("store_applying", True)]


@pytest.mark.parametrize("point,committed", STORE_KILLS)
def test_kill_9_publishes_report_and_store_together_or_neither(cron, first, store_stub, point, committed):
    token = f"kill-{point}"
    _next_run_recovers(cron)  # what earlier kills in this module left
    old_token, old_ids, report_before, store_before = _state(cron)
    others = {k: v for k, v in store_before.items() if f"month={MONTH}" not in k}
    result = cron.run("--notebook", str(store_stub), fault=f"{point}:kill", STUB_TOKEN=token)
    assert result.returncode == -signal.SIGKILL, (result.returncode, result.stderr)
    _next_run_recovers(cron)
    new_token, new_ids, report_after, store_after = _state(cron)
    if committed:
        assert (new_token, new_ids) == (token, [token])  # both new
        assert pd.read_parquet(cron.output / "history" / "kpis" / f"month={MONTH}")["token"].tolist() == [token]
    else:
        assert (report_after, store_after) == (report_before, store_before)  # both old, byte for byte
    assert {k: v for k, v in store_after.items() if f"month={MONTH}" not in k} == others
    KILLED.append(f"store:{point}")


@pytest.mark.parametrize("case", ["notebook-fails", "disk-full-in-kernel", "disk-full-at-publish",
                                  "read-only-history"])
def test_a_failed_run_changes_neither_report_nor_store(cron, first, store_stub, case):
    _next_run_recovers(cron)
    before = _state(cron)
    env, fault, code, expect = {"STUB_TOKEN": case}, None, 2, "unchanged"
    if case == "notebook-fails":
        env["STUB_FAIL"], code, expect = "1", 1, "RuntimeError"
    elif case == "disk-full-in-kernel":
        env["STUB_ENOSPC"], expect = "1", "No space left on device"
    elif case == "disk-full-at-publish":
        fault, expect = "publish:enospc", "No space left on device"
    else:
        fault, expect = "store_check:erofs", "Read-only file system"
    result = cron.run("--notebook", str(store_stub), fault=fault, **env)
    assert result.returncode == code, (result.returncode, result.stderr)
    assert expect in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert _state(cron) == before
    assert not (cron.output / "history" / ".commit").exists() and not list(cron.output.glob(".staging-*"))
    FAILED_CLEANLY.append(case)


def _mount_namespace_works() -> bool:
    if not (shutil.which("unshare") and shutil.which("mount")):
        return False
    probe = subprocess.run(["unshare", "-m", "sh", "-c", "mount --bind / / && mount -o remount,bind,ro / /"],
                           capture_output=True)
    return probe.returncode == 0


@pytest.mark.skipif(not _mount_namespace_works(), reason="needs unshare -m and mount (root in a private namespace)")
def test_a_read_only_history_mount_is_exit_2_and_changes_nothing(cron, first, store_stub):
    """history/ on a read-only mount (a real EROFS, in a private mount namespace): exit 2, nothing published."""
    _next_run_recovers(cron)
    before = _state(cron)
    store = cron.output / "history"
    script = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"'
    cmd = ["unshare", "-m", "sh", "-c", script, "sh", str(store), *cron.argv("--notebook", str(store_stub))]
    proc = subprocess.run(cmd, cwd=cron.cwd, env=cron.env(STUB_TOKEN="read-only-mount"), capture_output=True,
                          text=True, timeout=240)
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "Read-only file system" in proc.stderr and "unchanged" in proc.stderr and "Traceback" not in proc.stderr
    assert _state(cron) == before
    assert not list(cron.output.glob(".staging-*"))
    FAILED_CLEANLY.append("read-only-mount")


FAILED_CLEANLY: list[str] = []
KILLED: list[str] = []


@pytest.mark.parametrize("point", ["locked", "reading", "staging", "executing", "export", "publish"])
def test_kill_9_leaves_every_report_intact(cron, first, stub_notebook, point):
    before = _digest(cron.output / MONTH)
    before_previous = _digest(cron.output / "2026-09")
    result = cron.run("--notebook", str(stub_notebook), fault=f"{point}:kill")
    assert result.returncode == -signal.SIGKILL, (result.returncode, result.stderr)
    assert _digest(cron.output / MONTH) == before
    assert _digest(cron.output / "2026-09") == before_previous
    KILLED.append(point)




def test_kill_9_right_after_the_swap_publishes_a_complete_report(cron, first, stub_notebook):
    before_previous = _digest(cron.output / "2026-09")
    result = cron.run("--notebook", str(stub_notebook), fault="swapped:kill")
    assert result.returncode == -signal.SIGKILL
    folder = cron.output / MONTH
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        ["report.html", "report.ipynb", "feedback.parquet", "kpis.json", "quarantine.csv", "run.log"])
    assert json.loads((folder / "kpis.json").read_text())["month"] == MONTH
    assert "outcome: success" in (folder / "run.log").read_text()
    assert "a stub report" in (folder / "report.html").read_text()  # the new one, whole
    assert _digest(cron.output / "2026-09") == before_previous
    KILLED.append("swapped")


def test_two_concurrent_runs_one_report_one_exit_4_and_runs_recover(cron, first):
    """After all the kills: one run holds the lock, a second gets exit code 4, the first succeeds."""
    holder = cron.start(fault="locked:pause")
    try:
        reached = cron.faults / "locked.reached"
        deadline = time.monotonic() + 60
        while not reached.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert reached.exists(), "the first run never took the lock"
        second = cron.run()
        assert second.returncode == 4, second.stderr
        assert "holds the lock" in second.stderr and f"pid {reached.read_text()}" in second.stderr
        assert "Traceback" not in second.stderr and second.stderr.count("\n") == 1
        (cron.faults / "locked.go").touch()
        out, err = holder.communicate(timeout=240)
    finally:
        _kill_group(holder)
    assert holder.returncode == 0, err
    assert "stale lock" in err  # the killed runs' lock was recognised as stale and cleared
    assert not list(cron.output.glob(".staging-*")) and not list(cron.output.glob(".old-*"))
    listing = sorted(p.name for p in cron.output.iterdir() if not p.name.startswith("."))
    assert listing in (["2026-09", MONTH, "history", "last-failure.log"], ["2026-09", MONTH, "history"]), listing
    # the run wrote its month into the history store beside the reports
    assert (cron.output / "history" / "rows" / f"month={MONTH}" / "part-0.parquet").exists()
    assert not (cron.output / "history" / ".commit").exists()


def _pngs(html: str) -> list[str]:
    return [hashlib.sha256(base64.b64decode(m)).hexdigest()
            for m in re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", html)]


def test_same_month_twice_gives_the_same_outputs(cron, first):
    _, saved = first
    now = cron.output / MONTH
    assert (saved / "kpis.json").read_bytes() == (now / "kpis.json").read_bytes()
    left, right = pd.read_parquet(saved / "feedback.parquet"), pd.read_parquet(now / "feedback.parquet")
    evidence = "theme_evidence"
    pd.testing.assert_frame_equal(left.drop(columns=[evidence]), right.drop(columns=[evidence]))
    # the learned evidence terms are the same; their order among ties is tested strictly below
    assert [sorted(re.split(r"[;,] ", v)) for v in left[evidence].fillna("")] == [
        sorted(re.split(r"[;,] ", v)) for v in right[evidence].fillna("")]
    assert (saved / "quarantine.csv").read_bytes() == (now / "quarantine.csv").read_bytes()
    a, b = (saved / "report.html").read_text(), (now / "report.html").read_text()
    assert _pngs(a) == _pngs(b) and len(_pngs(a)) >= 1, "charts are not byte-for-byte deterministic"
    stamp = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d [A-Za-z0-9+-]+")  # local time in the configured zone
    assert stamp.sub("<generated-at>", a) == stamp.sub("<generated-at>", b)


def test_same_month_twice_gives_an_identical_parquet(cron, first):
    _, saved = first
    pd.testing.assert_frame_equal(pd.read_parquet(saved / "feedback.parquet"),
                                  pd.read_parquet(cron.output / MONTH / "feedback.parquet"))


# --------------------------------------------------------------------------- cheap failures, in-process

@pytest.fixture
def published(cron, first, tmp_path):
    root = tmp_path / "reports"
    shutil.copytree(first[1], root / MONTH)
    return root


def _cli(capsys, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


def _notebook(path: Path, code: str) -> Path:
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    params = new_code_cell('month = "last"\ninput_dir = ""\nconfig_path = ""\noutput_dir = ""\ngenerated_at = ""',
                           metadata={"tags": ["parameters"]})
    nb = new_notebook(cells=[params, new_code_cell(code)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


@pytest.mark.parametrize("case", ["dead-kernel", "overall-timeout", "cell-timeout"])
def test_dead_or_slow_kernel_is_reported_not_hung(case, cron, published, tmp_path, capsys, salt_env):
    before = _digest(published / MONTH)
    if case == "dead-kernel":  # what the OOM killer does
        nb, extra, expect = "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)", [], "kernel died"
    elif case == "overall-timeout":
        nb, extra, expect = "import time\ntime.sleep(300)", ["--timeout", "6"], "overall time limit of 6 s"
    else:
        nb, extra, expect = "import time\ntime.sleep(300)", ["--cell-timeout", "2"], "per-cell time limit of 2 s"
    started = time.monotonic()
    code, err = _cli(capsys, "run", "--month", MONTH, "--input", str(cron.input), "--config", str(CONFIG),
                     "--output", str(published), "--notebook", str(_notebook(tmp_path / "nb.ipynb", nb)), *extra)
    assert time.monotonic() - started < 90
    assert code == 1 and expect in err and "last-failure.log" in err, err
    assert err.count("\n") == 1, err  # one paragraph, no kernel noise
    assert _digest(published / MONTH) == before
    assert expect.split()[0] in (published / "last-failure.log").read_text()


def test_missing_kernel_is_a_clear_error(cron, published, capsys, monkeypatch, salt_env):
    monkeypatch.setenv("FEEDBACKLIB_FAULT", "kernel:missing")
    before = _digest(published / MONTH)
    code, err = _cli(capsys, "run", "--month", MONTH, "--input", str(cron.input), "--config", str(CONFIG),
                     "--output", str(published))
    assert code == 1 and "kernel could not be started" in err and "ipykernel" in err, err
    assert _digest(published / MONTH) == before


@pytest.mark.parametrize("content", ["{not json", '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'])
def test_corrupt_notebook_is_a_clear_error_before_anything_runs(cron, published, tmp_path, capsys, content):
    bad = tmp_path / "broken.ipynb"
    bad.write_text(content)
    before = _digest(published / MONTH)
    code, err = _cli(capsys, "run", "--month", MONTH, "--input", str(cron.input), "--config", str(CONFIG),
                     "--output", str(published), "--notebook", str(bad))
    assert code == 2 and "broken.ipynb" in err and ("not a valid notebook" in err or "parameters" in err), err
    assert _digest(published / MONTH) == before


def test_output_folder_that_cannot_be_written(cron, tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    # root ignores permission bits, so "read-only" is simulated with a path under a file
    code, err = _cli(capsys, "run", "--month", MONTH, "--input", str(cron.input), "--config", str(CONFIG),
                     "--output", str(blocker / "reports"))
    assert code == 2 and "is a file" in err and "--output" in err, err
    code, err = _cli(capsys, "run", "--dry-run", "--month", MONTH, "--input", str(cron.input), "--config",
                     str(CONFIG), "--output", str(blocker / "reports"))
    assert code == 2 and "is a file" in err


def test_full_disk_is_a_clear_error(cron, published, capsys, monkeypatch, salt_env):
    monkeypatch.setenv("FEEDBACKLIB_FAULT", "staging:enospc")
    before = _digest(published / MONTH)
    code, err = _cli(capsys, "run", "--month", MONTH, "--input", str(cron.input), "--config", str(CONFIG),
                     "--output", str(published))
    assert code == 2 and "No space left on device" in err, err
    assert _digest(published / MONTH) == before
    assert not list(published.glob(".staging-*"))


def test_dry_run_reports_what_would_be_produced_and_writes_nothing(cron, published, capsys, salt_env):
    before = _digest(published)
    code = main(["run", "--dry-run", "--month", "last", "--input", str(cron.input), "--config", str(CONFIG),
                 "--output", str(published), "--today", "2026-12-06"])
    out = capsys.readouterr().out
    assert code == 0
    assert f"month: {MONTH}" in out and "replace the report in" in out and "report.html" in out
    assert "qualtrics" in out and "quarantined" in out
    assert _digest(published) == before
    code = main(["run", "--dry-run", "--month", "2025-01", "--input", str(cron.input), "--config", str(CONFIG),
                 "--output", str(published)])
    assert code == 3


def test_zz_fault_summary(capsys):
    with capsys.disabled():
        print(f"\nkill -9 injected at {len(KILLED)} points and survived: {', '.join(KILLED)}; "
              f"offline (unshare -n): {OFFLINE}")
        print(f"failed runs that left report and history store unchanged: {len(FAILED_CLEANLY)}: "
              f"{', '.join(FAILED_CLEANLY)}")
