"""Shared fixtures: paths to the bundled sample, a network blocker, one rendered report."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: The date every test counts as today: no test reads the clock (the suite passes under faketime).
#: After the sample's last full month (2026-10) and its one late response (2026-11).
TODAY = "2026-12-06"
SAMPLE = ROOT / "data" / "sample"
CONFIG = ROOT / "feedback.toml"


class NetworkBlocked(RuntimeError):
    pass


@pytest.fixture
def no_network(monkeypatch):
    """Make every attempt to open a network connection fail loudly."""

    def refuse(*args, **kwargs):
        raise NetworkBlocked(f"network access attempted: {args!r}")

    class GuardedSocket(socket.socket):
        def connect(self, address):
            if self.family != socket.AF_UNIX:
                refuse(address)
            return super().connect(address)

        def connect_ex(self, address):
            if self.family != socket.AF_UNIX:
                refuse(address)
            return super().connect_ex(address)

    monkeypatch.setattr(socket, "socket", GuardedSocket)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    yield


@pytest.fixture(scope="session")
def salt_env():
    """A fixed PII salt, so tests never write a salt file into the checkout."""
    mp = pytest.MonkeyPatch()
    mp.setenv("FEEDBACK_PII_SALT", "test-salt-not-secret")
    yield
    mp.undo()


@pytest.fixture(scope="session")
def sample_result(salt_env):
    """``run_month`` on the latest sample month (computed once per session), every month's rows kept
    in ``.rows`` so tests can check figures against the rows they summarise."""
    from feedbacklib.pipeline import run_month

    return run_month("2026-10", SAMPLE, CONFIG, keep_rows=True)


@pytest.fixture(scope="session")
def rendered_report(tmp_path_factory, salt_env):
    """The monthly report rendered through the same function the CLI uses."""
    from feedbacklib.runner import run_report

    out = tmp_path_factory.mktemp("reports")
    outcome = run_report("last", SAMPLE, CONFIG, out, generated_at="2026-11-01 06:00 UTC", today=TODAY)
    return outcome
