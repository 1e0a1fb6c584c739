"""Known-answer tests for feedbacklib.stats.imp.theme_impact (moved from test_compare)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from feedbacklib import stats as cmp
from feedbacklib.schema import IN_HOUSE, NPS, OUTSOURCED
from feedbacklib.stats import impact as imp

from .test_compare import make_frame, make_group


def test_theme_impact_ranks_planted_theme_first():
    rng = np.random.default_rng(3)
    frame = make_frame(
        make_group(rng, 800, model=OUTSOURCED, csat_shift={"surprise_charges": -3, "courtesy": -1}),
        make_group(rng, 800, model=IN_HOUSE, csat_shift={"surprise_charges": -3, "praise": 1}),
    )
    impact = imp.theme_impact(frame)
    assert impact.columns.tolist() == [
        "theme", "n_scored", "n_with", "score_with", "score_without", "score_overall",
        "impact", "impact_lo", "impact_hi"]
    first = impact.iloc[0]
    assert first[cmp.THEME] == "surprise_charges"
    assert first[cmp.IMPACT_HI] < 0 and first[cmp.SCORE_WITH] < first[cmp.SCORE_WITHOUT]
    assert impact[cmp.IMPACT].is_monotonic_increasing
    assert impact.iloc[-1][cmp.THEME] == "praise"
    assert (impact[cmp.IMPACT_LO] <= impact[cmp.IMPACT_HI]).all()
    pd.testing.assert_frame_equal(impact, imp.theme_impact(frame))   # deterministic
    nps = imp.theme_impact(frame, score=NPS, themes=["surprise_charges"])
    assert nps.loc[0, cmp.SCORE_OVERALL] == pytest.approx(cmp.nps_score(frame[NPS]))


def test_theme_impact_cell_bootstrap_matches_row_bootstrap(monkeypatch):
    """Resampling (score, theme pattern) cell counts is the row bootstrap in distribution."""
    rng = np.random.default_rng(5)
    frame = make_frame(
        make_group(rng, 700, model=OUTSOURCED, csat_shift={"surprise_charges": -2, "courtesy": -1}),
        make_group(rng, 700, model=IN_HOUSE, csat_shift={"praise": 1}),
    )
    cells = imp.theme_impact(frame, n_resamples=4000)
    monkeypatch.setattr(imp, "_MAX_IMPACT_CELLS", 0)  # force the raw-row resampling
    rows = imp.theme_impact(frame, n_resamples=4000)
    pd.testing.assert_frame_equal(cells.drop(columns=[cmp.IMPACT_LO, cmp.IMPACT_HI]),
                                  rows.drop(columns=[cmp.IMPACT_LO, cmp.IMPACT_HI]))
    width = (rows[cmp.IMPACT_HI] - rows[cmp.IMPACT_LO]).to_numpy()
    assert np.allclose(cells[cmp.IMPACT_LO], rows[cmp.IMPACT_LO], atol=0.15 * width.max())
    assert np.allclose(cells[cmp.IMPACT_HI], rows[cmp.IMPACT_HI], atol=0.15 * width.max())




def test_blocked_multinomial_draws_are_the_single_draw():
    """Drawing the resamples in memory-sized blocks consumes the generator as one call does."""
    p = np.random.default_rng(0).dirichlet(np.ones(300))
    one = np.random.default_rng(1).multinomial(5000, p, size=700).astype(float)
    imp_blocks = list(imp._draws(np.random.default_rng(1), 5000, p, 700))
    assert len(imp_blocks) == 1
    blocks = []
    rng = np.random.default_rng(1)
    for r in (250, 250, 200):
        blocks.append(rng.multinomial(5000, p, size=r).astype(float))
    assert np.array_equal(np.vstack(blocks), one)


def test_impact_from_summary_drawn_in_small_blocks_equals_theme_impact(monkeypatch):
    from feedbacklib.stats import summaries as su

    rng = np.random.default_rng(9)
    frame = make_frame(make_group(rng, 900, model=OUTSOURCED, csat_shift={"surprise_charges": -2}),
                       make_group(rng, 900, model=IN_HOUSE))
    expected = imp.theme_impact(frame, n_resamples=600)
    monkeypatch.setattr(imp.I, "_MAX_BLOCK", 5_000)            # force many small blocks
    got = imp.impact_from_summary(su.summarise(frame), n_resamples=600)
    pd.testing.assert_frame_equal(got, expected)
