"""The monthly command: atomic publication, lock, clear errors."""

from __future__ import annotations

import hashlib
import json
import os
import shutil

import pytest

from feedbacklib.errors import ConfigError, InputError, LockError, NoDataError
from feedbacklib.runner import _lock, _publish, _recover, run_report

from .conftest import CONFIG, SAMPLE

pytestmark = pytest.mark.slow


def _digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture
def published(tmp_path, rendered_report):
    """An output root holding a copy of a rendered 2026-10 report."""
    root = tmp_path / "reports"
    shutil.copytree(rendered_report.folder, root / "2026-10")
    return root


def test_failed_run_leaves_previous_report_untouched(published, salt_env):
    before = _digest(published / "2026-10")
    with pytest.raises(NoDataError) as err:
        run_report("2025-01", SAMPLE, CONFIG, published)
    assert err.value.exit_code == 3
    assert "2025-01" in str(err.value)
    assert _digest(published / "2026-10") == before
    assert (published / "last-failure.log").is_file()
    assert not list(published.glob(".staging-*"))


def test_corrupt_notebook_is_a_clear_error(published, tmp_path, salt_env):
    bad = tmp_path / "broken.ipynb"
    bad.write_text("{not json")
    before = _digest(published / "2026-10")
    with pytest.raises(ConfigError, match="not a valid notebook"):
        run_report("2026-10", SAMPLE, CONFIG, published, notebook=bad)
    assert _digest(published / "2026-10") == before


def test_bad_month_and_missing_input_fail_before_execution(tmp_path):
    with pytest.raises(InputError, match="YYYY-MM"):
        run_report("__import__('os').system('true')", SAMPLE, CONFIG, tmp_path)
    with pytest.raises(InputError, match="does not exist"):
        run_report("last", tmp_path / "nope", CONFIG, tmp_path)
    assert not any(tmp_path.iterdir())


def test_lock_refuses_a_second_run_and_clears_a_stale_one(tmp_path):
    with _lock(tmp_path):
        with pytest.raises(LockError) as err:
            with _lock(tmp_path):
                pass
        assert err.value.exit_code == 4
    assert not (tmp_path / ".lock").exists()
    # a lock left by a process that no longer exists is stale
    (tmp_path / ".lock").write_text(json.dumps({"pid": 2**22 + 12345, "host": os.uname().nodename}))
    with _lock(tmp_path):
        pass
    assert not (tmp_path / ".lock").exists()


def test_locked_output_gives_exit_code_4(published, salt_env):
    with _lock(published):
        with pytest.raises(LockError):
            run_report("2026-10", SAMPLE, CONFIG, published)


def test_publish_swaps_and_recover_restores_an_interrupted_swap(tmp_path):
    root = tmp_path
    (root / "2026-10").mkdir()
    (root / "2026-10" / "report.html").write_text("old")
    staging = root / ".staging-x"
    staging.mkdir()
    (staging / "report.html").write_text("new")
    _publish(staging, root / "2026-10")
    assert (root / "2026-10" / "report.html").read_text() == "new"
    # simulate a kill between the two renames
    os.replace(root / "2026-10", root / ".old-2026-10-999")
    (root / ".staging-y").mkdir()
    _recover(root)
    assert (root / "2026-10" / "report.html").read_text() == "new"
    assert not list(root.glob(".old-*")) and not list(root.glob(".staging-*"))


def test_a_kill_9_releases_the_lock_and_the_message_names_the_holder(tmp_path):
    """The lock is an flock: a holder killed with SIGKILL loses it with its file descriptors."""
    import signal
    import subprocess
    import sys
    import time

    code = ("import sys, time; from pathlib import Path; from feedbacklib.runner import _lock\n"
            "with _lock(Path(sys.argv[1])):\n    print('locked', flush=True); time.sleep(120)\n")
    holder = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(LockError) as err:
            with _lock(tmp_path):
                pass
        assert f"pid {holder.pid}" in str(err.value)
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        assert (tmp_path / ".lock").exists()  # left behind, but no longer held
        t0 = time.monotonic()
        with _lock(tmp_path):
            assert json.loads((tmp_path / ".lock").read_text())["pid"] == os.getpid()
        assert time.monotonic() - t0 < 5
    finally:
        holder.kill()
        holder.wait()


def test_publish_is_one_atomic_exchange(tmp_path):
    from feedbacklib.runner import _exchange

    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "f").write_text("a")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "f").write_text("b")
    if not _exchange(tmp_path / "a", tmp_path / "b"):
        pytest.skip("renameat2(RENAME_EXCHANGE) is not supported here; the two-rename fallback is tested above")
    assert (tmp_path / "a" / "f").read_text() == "b" and (tmp_path / "b" / "f").read_text() == "a"


def test_a_config_error_writes_last_failure_log(tmp_path):
    from feedbacklib.errors import ConfigError

    out = tmp_path / "reports"
    out.mkdir()
    bad = tmp_path / "feedback.toml"
    bad.write_text(f'[project]\ninput = "{SAMPLE}"\noutput = "reports"\nmin_group_size = [\n', encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        run_report("2026-10", SAMPLE, bad, out)
    assert err.value.exit_code == 2
    log = (out / "last-failure.log").read_text(encoding="utf-8")
    assert "outcome: failed before the run started (exit code 2)" in log and "feedback.toml" in log
    assert log.count("\n") == 1  # one record, like run.log's
    # without --output, the folder comes from [project] output of the file, as far as it can be read
    (out / "last-failure.log").unlink()
    with pytest.raises(ConfigError):
        run_report("2026-10", SAMPLE, bad, None)
    assert (out / "last-failure.log").is_file()


def test_the_kernel_gets_the_allocator_settings_unless_the_environment_has_its_own(monkeypatch):
    from pathlib import Path

    from feedbacklib.runner import KERNEL_MALLOC_ENV, KERNEL_NAME, _project_kernel

    def kernel_env() -> dict:
        with _project_kernel() as name:
            spec = Path(os.environ["JUPYTER_PATH"].split(os.pathsep)[0]) / "kernels" / name / "kernel.json"
            return json.loads(spec.read_text())["env"]

    for key in KERNEL_MALLOC_ENV:
        monkeypatch.delenv(key, raising=False)
    env = kernel_env()
    assert {k: env[k] for k in KERNEL_MALLOC_ENV} == KERNEL_MALLOC_ENV
    assert int(env["MALLOC_MMAP_THRESHOLD_"]) <= 32 * 2**20  # glibc ignores a larger one
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "131072")
    assert "MALLOC_TRIM_THRESHOLD_" not in kernel_env()  # the environment's own value reaches the kernel
    assert KERNEL_NAME == "feedbacklib"


def test_the_command_leaves_out_jsonschemas_iri_grammar_and_still_reads_the_notebook():
    import subprocess
    import sys

    from feedbacklib.runner import default_notebook

    code = ("import sys; from feedbacklib.cli import _skip_iri_grammar; _skip_iri_grammar(); "
            "import nbformat; nb = nbformat.read(sys.argv[1], as_version=4); nbformat.validate(nb); "
            "print(sys.modules.get('rfc3987_syntax', 'absent'), 'lark' in sys.modules, len(nb.cells) > 5)")
    out = subprocess.run([sys.executable, "-c", code, str(default_notebook())], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["None", "False", "True"]
