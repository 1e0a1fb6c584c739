"""Work done in forked children while the process goes on (feedbacklib.forking) gives what the same
work gives in one process: the month's tables, the sentiment scores and the shipped-examples model."""

from __future__ import annotations

import dataclasses
import multiprocessing
import os

import numpy as np
import pandas as pd
import pytest

from feedbacklib import parts, result
from feedbacklib.engines import base
from feedbacklib.forking import Forked, can_fork
from feedbacklib.pipeline import kpis_document, run_month
from feedbacklib.themes import supervised

from .conftest import CONFIG, SAMPLE

needs_fork = pytest.mark.skipif(not can_fork(), reason="the fork start method is not available here")


def _square(x: int) -> int:
    return x * x


def _fail(message: str) -> None:
    raise ValueError(message)


def _pid_and(x: int) -> tuple[int, int]:
    return os.getpid(), x


def _die_in_a_child(parent: int) -> str:
    if os.getpid() != parent:
        os._exit(3)  # as a child killed for memory would
    return "computed here"


def _sleep_long() -> None:
    import time

    time.sleep(60)


@needs_fork
def test_forked_runs_in_a_child_and_returns_its_result():
    later = Forked(_pid_and, 7)
    pid, x = later.result()
    assert x == 7 and pid != os.getpid()
    assert later.result() == (pid, 7)  # asked again: the same result, no second child


@needs_fork
def test_forked_runs_here_when_memory_is_short(monkeypatch, caplog):
    from feedbacklib import forking

    monkeypatch.setattr(forking, "FORK_MIN_AVAILABLE", 1 << 62)
    with caplog.at_level("INFO", logger="feedbacklib.forking"):
        assert Forked(_pid_and, 3).result() == (os.getpid(), 3)
    assert "runs in this process, not in a forked child" in caplog.text
    monkeypatch.setattr(base, "SCORE_AHEAD_MIN_ROWS", 0)
    assert base.score_ahead(pd.DataFrame({"text": pd.Series(["fine"], dtype="string")})) is None


@needs_fork
def test_a_fork_that_fails_leaves_the_work_to_this_process(monkeypatch):
    from multiprocessing.process import BaseProcess

    def refuse(self):
        raise OSError(12, "Cannot allocate memory")

    monkeypatch.setattr(BaseProcess, "start", refuse)
    later = Forked(_pid_and, 9)
    assert not later.forked
    assert later.result() == (os.getpid(), 9)


@needs_fork
def test_a_forked_child_forks_no_workers_of_its_own():
    """Its tagging and sentiment run in one process: a cancelled child leaves nothing behind."""
    assert can_fork()
    assert Forked(can_fork).result() is False


def test_available_memory_is_a_positive_number_of_bytes_where_known():
    from feedbacklib.forking import available_memory

    free = available_memory()
    assert free is None or free > 0


def test_forked_without_fork_runs_here():
    later = Forked(_pid_and, 5, fork=False)
    assert later.result() == (os.getpid(), 5)
    assert Forked(_square, 4, fork=False).result() == 16


@needs_fork
def test_forked_raises_what_the_function_raised():
    later = Forked(_fail, "no such column 'x'")
    with pytest.raises(ValueError, match="no such column 'x'"):
        later.result()


@needs_fork
def test_a_child_that_dies_is_logged_and_its_work_done_here(caplog):
    later = Forked(_die_in_a_child, os.getpid())
    with caplog.at_level("WARNING", logger="feedbacklib.forking"):
        assert later.result() == "computed here"
    assert "ended without a result (exit code 3)" in caplog.text


@needs_fork
def test_cancel_stops_the_child():
    later = Forked(_sleep_long)
    process = later._process
    later.cancel()
    assert not process.is_alive()
    with pytest.raises(RuntimeError, match="cancelled"):
        later.result()


@needs_fork
def test_leaving_the_block_on_an_error_stops_the_child():
    with pytest.raises(KeyError):
        with Forked(_sleep_long) as later:
            process = later._process
            raise KeyError("a step meanwhile failed")
    assert not process.is_alive() and not multiprocessing.active_children()


@needs_fork
def test_a_failed_step_beside_a_forked_one_leaves_no_child(sample_result, monkeypatch):
    """month_tables with the emerging themes and recognition forked: an error in the month's parts
    stops both children."""
    from feedbacklib.history import History

    monkeypatch.setattr(parts, "FORK_MIN_ROWS", 0)
    monkeypatch.setattr(result, "FORK_MIN_ROWS", 0)
    monkeypatch.setattr(parts, "quote_partial", lambda *a, **k: _fail("the quotes broke"))
    frame = sample_result.frame
    with pytest.raises(ValueError, match="the quotes broke"):
        result.month_tables(frame, History(), "2026-10", sample_result.config, sample_result.taxonomy)
    assert not multiprocessing.active_children()


def _frames(res) -> dict[str, pd.DataFrame]:
    return {f.name: getattr(res, f.name) for f in dataclasses.fields(res)
            if isinstance(getattr(res, f.name), pd.DataFrame) and f.name != "rows"}


@needs_fork
def test_the_sample_month_with_every_step_forked_is_the_one_process_month(sample_result, salt_env, monkeypatch):
    """Recognition and the emerging themes forked in month_tables, the sentiment scored ahead of the
    themes, the shipped-examples model fitted while the month is read: the same month, to the byte."""
    monkeypatch.setattr(parts, "FORK_MIN_ROWS", 0)
    monkeypatch.setattr(result, "FORK_MIN_ROWS", 0)
    monkeypatch.setattr(base, "SCORE_AHEAD_MIN_ROWS", 0)
    monkeypatch.setattr(result, "_EMERGING_CACHE", {})  # the child finds the emerging themes itself
    monkeypatch.setattr(supervised, "_MODELS", {})  # the model is fitted ahead, in a child
    started = []
    real = supervised.Forked
    monkeypatch.setattr(supervised, "Forked", lambda *a, **k: started.append(a[0].__name__) or real(*a, **k))

    forked = run_month("2026-10", SAMPLE, CONFIG, keep_rows=True)

    assert started == ["_fit"]
    assert kpis_document(forked) == kpis_document(sample_result)
    mine, theirs = _frames(forked), _frames(sample_result)
    assert mine.keys() == theirs.keys()
    for name in mine:
        pd.testing.assert_frame_equal(mine[name], theirs[name], obj=name)
    candidates, growth = forked.emerging
    assert candidates == sample_result.emerging[0]
    pd.testing.assert_frame_equal(growth, sample_result.emerging[1])
    pd.testing.assert_frame_equal(forked.rows, sample_result.rows)  # flags, evidence and sentiment alike
    assert result._EMERGING_CACHE, "the child's emerging themes are cached here as if found here"
    assert not multiprocessing.active_children()


@needs_fork
def test_sentiment_scored_ahead_is_the_sentiment_scored_after(monkeypatch):
    texts = ["The agent was lovely", "charged twice, awful", "", None, "The agent was lovely", "ok"] * 5
    frame = pd.DataFrame({"text": pd.Series(texts, dtype="string")})
    plain = base.add_sentiment(frame)
    monkeypatch.setattr(base, "SCORE_AHEAD_MIN_ROWS", 0)
    ahead = base.score_ahead(frame)
    assert ahead is not None
    scored = base.add_sentiment(frame, ahead=ahead)
    pd.testing.assert_frame_equal(scored, plain)
    assert np.isnan(scored["sentiment"].iloc[2]) and np.isnan(scored["sentiment"].iloc[3])


@needs_fork
def test_a_model_fitted_ahead_but_not_asked_for_is_stopped(monkeypatch):
    from feedbacklib.config import load_config
    from feedbacklib.themes import load_taxonomy

    monkeypatch.setattr(supervised, "_MODELS", {})
    monkeypatch.setattr(supervised, "_AHEAD", {})
    taxonomy = load_taxonomy(load_config(CONFIG).taxonomy)
    with supervised.fitting_ahead(taxonomy):
        assert len(supervised._AHEAD) == 1
    assert not supervised._AHEAD and not multiprocessing.active_children()
    with supervised.fitting_ahead(taxonomy):
        model = supervised.fit_supervised(taxonomy, frozenset(), 0)  # waits for the child's model
    direct = supervised._fit(taxonomy, frozenset(), 0, supervised._fingerprint(taxonomy.labels))
    np.testing.assert_array_equal(model.W, direct.W)
    np.testing.assert_array_equal(model.thresholds, direct.thresholds)
    assert model.themes == direct.themes
