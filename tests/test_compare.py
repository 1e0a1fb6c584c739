"""Known-answer tests for feedbacklib.stats: textbook values and planted effects."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from feedbacklib import stats as cmp
from feedbacklib.schema import (
    CSAT,
    IN_HOUSE,
    NPS,
    OUTSOURCED,
    REOPENED,
    RESOLVED_REPORTED,
    SENTIMENT,
    SENTIMENT_LABEL,
    SERVICE_MODEL,
    SERVICE_MODELS,
    TEXT,
    VENDOR,
    theme_column,
)

THEMES = (
    "responsiveness", "surprise_charges", "listening", "not_fixed", "courtesy", "knowledge",
    "honest_guidance", "protection", "follow_up", "churn_risk", "praise",
)
BASE_THEME_P = 0.08
CSAT_P = (0.08, 0.07, 0.15, 0.35, 0.35)             # P(csat = 1..5)
NPS_P = np.full(11, 1 / 11)


# --------------------------------------------------------------------------- #
# Synthetic canonical frames
# --------------------------------------------------------------------------- #
def make_group(rng, n, *, model, vendor=None, theme_p=None, csat_p=CSAT_P, text_p=0.8,
               negative_p=0.25, resolved_p=0.7, reopened_p=0.05, csat_shift=None):
    """One group of ``n`` tagged rows with nullable dtypes and missing values."""
    theme_p = {t: BASE_THEME_P for t in THEMES} | (theme_p or {})
    has_text = rng.random(n) < text_p
    csat = rng.choice(np.arange(1, 6), size=n, p=csat_p).astype(float)
    flags = {t: (rng.random(n) < p) & has_text for t, p in theme_p.items()}
    for t, shift in (csat_shift or {}).items():
        csat = np.where(flags[t], np.clip(csat + shift, 1, 5), csat)
    csat[rng.random(n) < 0.1] = np.nan
    nps = rng.choice(np.arange(11), size=n, p=NPS_P).astype(float)
    nps[rng.random(n) < 0.3] = np.nan
    reopened = pd.array(rng.random(n) < reopened_p, dtype="boolean")
    reopened[rng.random(n) < 0.2] = pd.NA
    frame = pd.DataFrame({
        SERVICE_MODEL: pd.Categorical([model] * n, categories=SERVICE_MODELS),
        VENDOR: pd.array([vendor] * n, dtype="string"),
        TEXT: pd.array(np.where(has_text, "some comment", ""), dtype="string"),
        CSAT: pd.array(csat, dtype="Float64").astype("Int8"),
        NPS: pd.array(nps, dtype="Float64").astype("Int8"),
        RESOLVED_REPORTED: pd.array(rng.random(n) < resolved_p, dtype="boolean"),
        REOPENED: reopened,
        SENTIMENT: np.where(has_text, rng.normal(size=n), np.nan),
        SENTIMENT_LABEL: pd.array(
            np.where(has_text, np.where(rng.random(n) < negative_p, "negative", "positive"), None),
            dtype="string"),
    })
    for t, f in flags.items():
        frame[theme_column(t)] = pd.array(f, dtype="boolean")
    return frame


def make_frame(*groups):
    return pd.concat(groups, ignore_index=True)


@pytest.fixture(scope="module")
def planted():
    """Outsourced (vendor Acme) at 24% responsiveness against 12% in-house, n=600 each."""
    rng = np.random.default_rng(7)
    return make_frame(
        make_group(rng, 600, model=OUTSOURCED, vendor="Acme", theme_p={"responsiveness": 0.24}),
        make_group(rng, 600, model=IN_HOUSE, theme_p={"responsiveness": 0.12}),
    )


def by_metric(table, metric):
    return table.set_index(cmp.METRIC).loc[metric]


# --------------------------------------------------------------------------- #
# Textbook values
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize(("x", "n", "expected"), [
    (8, 10, (0.4902, 0.9433)),
    (0, 10, (0.0, 0.2775)),
    (10, 10, (0.7225, 1.0)),
    (81, 263, (0.2553, 0.3662)),     # Newcombe 1998, table I
    (1, 29, (0.0061, 0.1718)),
])
def test_wilson_textbook(x, n, expected):
    assert cmp.wilson_interval(x, n) == pytest.approx(expected, abs=5e-5)


def test_wilson_vectorised_and_empty():
    low, high = cmp.wilson_interval(np.array([8, 0, 0]), np.array([10, 10, 0]))
    assert low[:2] == pytest.approx([0.4902, 0.0], abs=5e-5)
    assert high[:2] == pytest.approx([0.9433, 0.2775], abs=5e-5)
    assert np.isnan(low[2]) and np.isnan(high[2])
    assert all(math.isnan(v) for v in cmp.wilson_interval(0, 0))


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 5000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_contains_estimate(xn):
    x, n = xn
    low, high = cmp.wilson_interval(x, n)
    assert 0.0 <= low <= x / n <= high <= 1.0


def test_newcombe_worked_example():
    # Newcombe (1998), example (a): 56/70 - 48/80, method 10.
    assert cmp.newcombe_diff_interval(56, 70, 48, 80) == pytest.approx((0.0524, 0.3339), abs=5e-5)
    # example (d): 5/56 - 0/29 -> -0.0381 to 0.1926
    assert cmp.newcombe_diff_interval(5, 56, 0, 29) == pytest.approx((-0.0381, 0.1926), abs=5e-5)
    assert all(math.isnan(v) for v in cmp.newcombe_diff_interval(1, 0, 3, 10))


def test_two_proportion_test():
    # pooled z test equals the chi-square test without continuity correction
    table = [[144, 456], [72, 528]]
    expected = stats.chi2_contingency(table, correction=False).pvalue
    assert cmp.two_proportion_test(144, 600, 72, 600) == pytest.approx(expected, rel=1e-9)
    # small expected counts -> Fisher exact
    fisher = stats.fisher_exact([[1, 9], [4, 6]]).pvalue
    assert cmp.two_proportion_test(1, 10, 4, 10) == pytest.approx(fisher)
    assert cmp.two_proportion_test(0, 50, 0, 50) == pytest.approx(1.0)
    assert math.isnan(cmp.two_proportion_test(0, 0, 3, 10))


def test_benjamini_hochberg_hand_computed():
    p = [0.01, 0.04, 0.03, 0.005, np.nan]
    # sorted: 0.005, 0.01, 0.03, 0.04 (m=4): 0.02, 0.02, 0.04, 0.04
    q = cmp.benjamini_hochberg(p)
    assert q[:4] == pytest.approx([0.02, 0.04, 0.04, 0.02])
    assert np.isnan(q[4])
    assert np.isnan(cmp.benjamini_hochberg([np.nan, np.nan])).all()
    assert cmp.benjamini_hochberg(pd.Series([0.5, None], dtype="Float64"))[0] == pytest.approx(0.5)


def test_benjamini_hochberg_matches_scipy():
    if not hasattr(stats, "false_discovery_control"):
        pytest.skip("scipy without false_discovery_control")
    p = np.random.default_rng(3).uniform(0, 0.2, size=40)
    assert cmp.benjamini_hochberg(p) == pytest.approx(stats.false_discovery_control(p))


@pytest.mark.parametrize(("values", "expected"), [
    ([10, 9, 8, 7, 0], 20.0),
    ([9, 10], 100.0),
    ([0, 6, 7, 8], -50.0),
    ([7, 8], 0.0),
    (pd.array([10, pd.NA, 3, 9], dtype="Int8"), 100 * (2 - 1) / 3),
])
def test_nps_score(values, expected):
    assert cmp.nps_score(values) == pytest.approx(expected)


def test_nps_score_empty_is_nan():
    assert math.isnan(cmp.nps_score([]))
    assert math.isnan(cmp.nps_score(pd.array([pd.NA], dtype="Int8")))


def test_mann_whitney_and_rank_biserial():
    a, b = [1, 2, 3, 4, 5], [3, 4, 5, 6, 7]
    assert cmp.mann_whitney(a, b) == pytest.approx(
        stats.mannwhitneyu(a, b, alternative="two-sided").pvalue)
    assert cmp.rank_biserial([5, 6], [1, 2]) == pytest.approx(1.0)
    assert cmp.rank_biserial([1, 2], [5, 6]) == pytest.approx(-1.0)
    assert cmp.mann_whitney([3, 3], [3, 3]) == 1.0
    assert math.isnan(cmp.mann_whitney([], [1, 2]))


def test_bootstrap_is_deterministic_and_sensible():
    values = np.random.default_rng(1).integers(0, 11, size=300)
    first = cmp.bootstrap_interval(values, cmp.nps_score)
    assert first == cmp.bootstrap_interval(values, cmp.nps_score)
    assert first[0] < cmp.nps_score(values) < first[1]
    # the mean of few distinct values is resampled through multinomial counts: a
    # different random stream, the same distribution -> about the same interval
    points = np.where(values >= 9, 100.0, np.where(values <= 6, -100.0, 0.0))
    assert cmp.bootstrap_interval(points, np.mean) == pytest.approx(first, abs=3.0)
    assert cmp.bootstrap_interval(points, np.mean) == cmp.bootstrap_interval(points, np.mean)
    assert cmp.bootstrap_interval(values, np.mean, random_state=1) != cmp.bootstrap_interval(
        values, np.mean, random_state=2)
    assert all(math.isnan(v) for v in cmp.bootstrap_interval([], np.mean))


# --------------------------------------------------------------------------- #
# kpi_table
# --------------------------------------------------------------------------- #
def test_kpi_table_columns_and_values(planted):
    table = cmp.kpi_table(planted, themes=["responsiveness", "praise"])
    assert table[cmp.GROUP].tolist() == [IN_HOUSE, OUTSOURCED, "unknown", cmp.ALL]
    expected = [
        "group", "n", "n_text", "csat_n", "csat_mean", "csat_mean_lo", "csat_mean_hi",
        "satisfied_share", "satisfied_share_lo", "satisfied_share_hi", "nps_n", "nps", "nps_lo",
        "nps_hi", "negative_share", "negative_share_lo", "negative_share_hi",
        "rate_responsiveness", "rate_responsiveness_lo", "rate_responsiveness_hi",
        "rate_praise", "rate_praise_lo", "rate_praise_hi", "reportable",
    ]
    assert table.columns.tolist() == expected
    rows = table.set_index(cmp.GROUP)
    out = planted[planted[SERVICE_MODEL] == OUTSOURCED]
    texts = out[TEXT].str.len() > 0
    assert rows.loc[OUTSOURCED, "n"] == 600
    assert rows.loc[OUTSOURCED, "n_text"] == texts.sum()
    assert rows.loc[OUTSOURCED, "rate_responsiveness"] == pytest.approx(
        100 * out.loc[texts, theme_column("responsiveness")].mean())
    assert rows.loc[OUTSOURCED, "csat_mean"] == pytest.approx(out[CSAT].astype("float64").mean())
    assert rows.loc[OUTSOURCED, "nps"] == pytest.approx(cmp.nps_score(out[NPS]))
    assert rows.loc[cmp.ALL, "n"] == 1200
    # the empty "unknown" category: NaN values, not reportable, no exception
    assert rows.loc["unknown", "n"] == 0
    assert np.isnan(rows.loc["unknown", ["csat_mean", "nps", "rate_praise_lo"]].astype(float)).all()
    assert not rows.loc["unknown", "reportable"]
    for metric in ("csat_mean", "satisfied_share", "nps", "negative_share", "rate_responsiveness"):
        assert (rows.loc[[IN_HOUSE, OUTSOURCED], f"{metric}_lo"]
                <= rows.loc[[IN_HOUSE, OUTSOURCED], metric]).all()
        assert (rows.loc[[IN_HOUSE, OUTSOURCED], metric]
                <= rows.loc[[IN_HOUSE, OUTSOURCED], f"{metric}_hi"]).all()


def test_kpi_table_is_deterministic_and_pure(planted):
    before = planted.copy()
    first = cmp.kpi_table(planted, themes=["responsiveness"])
    pd.testing.assert_frame_equal(first, cmp.kpi_table(planted, themes=["responsiveness"]))
    pd.testing.assert_frame_equal(planted, before)


def test_missing_group_column_is_an_actionable_error(planted):
    from feedbacklib.errors import SchemaError

    with pytest.raises(SchemaError, match="no such column"):
        cmp.kpi_table(planted, by="region")


# --------------------------------------------------------------------------- #
# compare_groups / compare_vendors
# --------------------------------------------------------------------------- #
def test_planted_responsiveness_gap_is_found(planted):
    table = cmp.compare_groups(planted)
    assert table.columns.tolist() == list(cmp.COMPARE_COLUMNS)
    assert table[cmp.METRIC].tolist()[:4] == ["satisfied_share", "csat_mean", "nps", "negative_share"]
    row = by_metric(table, "rate_responsiveness")
    assert row[cmp.SIGNIFICANT]
    assert row[cmp.DIFF_LO] > 0 and 6 < row[cmp.DIFF] < 18
    assert row[cmp.VALUE_A] == pytest.approx(row[cmp.DIFF] + row[cmp.VALUE_B])
    assert row[cmp.EFFECT_SIZE] > 0.2
    finding = row[cmp.FINDING]
    assert finding.startswith("Outsourced teams get responsiveness complaints at ")
    assert f"{row[cmp.VALUE_A]:.1f} per 100 comments against {row[cmp.VALUE_B]:.1f} in-house" in finding
    assert f"95% CI {row[cmp.DIFF_LO]:.1f} to {row[cmp.DIFF_HI]:.1f}" in finding
    # nothing else was planted
    others = table[table[cmp.METRIC] != "rate_responsiveness"]
    assert not others[cmp.SIGNIFICANT].any()
    assert (others[cmp.FINDING] == "").all()


def test_findings_only_when_significant(planted):
    table = cmp.compare_groups(planted)
    assert ((table[cmp.FINDING] != "") == table[cmp.SIGNIFICANT]).all()
    assert (table.loc[table[cmp.SIGNIFICANT], cmp.Q_VALUE] < 0.05).all()


def test_same_distribution_gives_no_findings():
    # 15 tests per seed; BH at 5% keeps the chance of any finding per seed near 5%,
    # so at most one of ten seeds may show one.
    with_findings = []
    for seed in range(10):
        rng = np.random.default_rng(1000 + seed)
        frame = make_frame(make_group(rng, 600, model=OUTSOURCED, vendor="Acme"),
                           make_group(rng, 600, model=IN_HOUSE))
        table = cmp.compare_groups(frame, n_resamples=500)
        assert ((table[cmp.FINDING] != "") == table[cmp.SIGNIFICANT]).all()
        with_findings.append(bool(table[cmp.SIGNIFICANT].any()))
    assert sum(with_findings) <= 1, with_findings


def test_small_group_never_gives_a_finding():
    rng = np.random.default_rng(11)
    frame = make_frame(
        make_group(rng, 20, model=OUTSOURCED, theme_p={"responsiveness": 0.9},
                   csat_p=(0.9, 0.1, 0, 0, 0), negative_p=0.95),
        make_group(rng, 600, model=IN_HOUSE, theme_p={"responsiveness": 0.05}),
    )
    table = cmp.compare_groups(frame, min_n=30)
    assert by_metric(table, "rate_responsiveness")[cmp.P_VALUE] < 0.001   # huge, but too small
    assert not table[cmp.SIGNIFICANT].any()
    assert (table[cmp.FINDING] == "").all()
    assert table[cmp.Q_VALUE].isna().all()


def test_empty_group_gives_nan_not_exception(planted):
    table = cmp.compare_groups(planted, a="unknown")
    assert (table[cmp.N_A] == 0).all()
    assert table[cmp.VALUE_A].isna().all() and table[cmp.P_VALUE].isna().all()
    assert not table[cmp.SIGNIFICANT].any()


def test_compare_groups_deterministic(planted):
    pd.testing.assert_frame_equal(cmp.compare_groups(planted), cmp.compare_groups(planted))


def test_compare_vendors_finds_the_bad_vendor():
    rng = np.random.default_rng(5)
    frame = make_frame(
        make_group(rng, 600, model=OUTSOURCED, vendor="Acme", theme_p={"surprise_charges": 0.25}),
        make_group(rng, 600, model=OUTSOURCED, vendor="Globex"),
        make_group(rng, 25, model=OUTSOURCED, vendor="Tiny", theme_p={"surprise_charges": 0.9}),
        make_group(rng, 800, model=IN_HOUSE),
    )
    table = cmp.compare_vendors(frame)
    assert table.columns.tolist() == [cmp.VENDOR_COL, *cmp.COMPARE_COLUMNS]
    assert sorted(table[cmp.VENDOR_COL].unique()) == ["Acme", "Globex", "Tiny"]
    found = table[table[cmp.SIGNIFICANT]]
    assert found[[cmp.VENDOR_COL, cmp.METRIC]].values.tolist() == [["Acme", "rate_surprise_charges"]]
    assert found[cmp.FINDING].iloc[0].startswith("Acme gets surprise charges complaints at ")
    assert (table[cmp.B] == IN_HOUSE).all()


# --------------------------------------------------------------------------- #
# perception_gap
# --------------------------------------------------------------------------- #
def test_perception_gap_planted_at_one_vendor():
    rng = np.random.default_rng(21)
    frame = make_frame(
        make_group(rng, 700, model=OUTSOURCED, vendor="Acme", theme_p={"not_fixed": 0.30}),
        make_group(rng, 700, model=OUTSOURCED, vendor="Globex"),
        make_group(rng, 700, model=IN_HOUSE),
    )
    gap = cmp.perception_gap(frame)
    measures = [f"{m}_{s}" for m in cmp.GAP_MEASURES
                for s in ("n", "share", "share_lo", "share_hi")]
    assert gap.columns.tolist() == [
        "provider", "n_reported_solved", *measures, "any_diff", "any_diff_lo", "any_diff_hi",
        "p_value", "q_value", "reportable", "significant", "finding"]
    rows = gap.set_index(cmp.PROVIDER)
    assert rows.index.tolist() == [cmp.IN_HOUSE_LABEL, "Acme", "Globex"]
    solved_acme = frame[(frame[VENDOR] == "Acme") & frame[RESOLVED_REPORTED]]
    assert rows.loc["Acme", "n_reported_solved"] == len(solved_acme)
    assert rows.loc["Acme", "significant"] and rows.loc["Acme", "any_diff_lo"] > 0
    assert rows.loc["Acme", "not_fixed_share"] > 2 * rows.loc[cmp.IN_HOUSE_LABEL, "not_fixed_share"]
    assert "Acme reported solved" in rows.loc["Acme", "finding"]
    assert not rows.loc["Globex", "significant"] and rows.loc["Globex", "finding"] == ""
    assert np.isnan(rows.loc[cmp.IN_HOUSE_LABEL, "p_value"])
    for m in cmp.GAP_MEASURES:
        assert (rows[f"{m}_share_lo"] <= rows[f"{m}_share"]).all()
        assert (rows[f"{m}_share"] <= rows["any_share"]).all()


def test_perception_gap_without_vendors_or_rows():
    empty = cmp.perception_gap(make_group(np.random.default_rng(0), 0, model=IN_HOUSE))
    assert empty[cmp.PROVIDER].tolist() == [cmp.IN_HOUSE_LABEL]
    assert empty.loc[0, "n_reported_solved"] == 0 and np.isnan(empty.loc[0, "any_share"])


def test_perception_gap_counts_within_sla_as_reported_good():
    rng = np.random.default_rng(11)
    frame = make_frame(
        make_group(rng, 300, model=OUTSOURCED, vendor="Acme", resolved_p=0.0),
        make_group(rng, 300, model=IN_HOUSE, resolved_p=0.0),
    )
    frame["first_response_hours"] = pd.array(np.where(rng.random(600) < 0.5, 2.0, 48.0), dtype="Float64")
    plain = cmp.perception_gap(frame).set_index("provider")
    assert (plain["n_reported_solved"] == 0).all()
    sla = cmp.perception_gap(frame, sla_first_response_hours=24).set_index("provider")
    within = frame["first_response_hours"] <= 24
    assert sla.loc["Acme", "n_reported_solved"] == int((within & frame[VENDOR].eq("Acme").fillna(False)).sum())
    assert sla.loc["In-house", "n_reported_solved"] == int((within & (frame[SERVICE_MODEL] == IN_HOUSE)).sum())


def test_theme_columns_ignore_theme_evidence():
    frame = pd.DataFrame({TEXT: ["a"], theme_column("x"): [True], "theme_evidence": ["x: a"],
                          SERVICE_MODEL: [IN_HOUSE]})
    assert list(cmp.kpi_table(frame).filter(like="rate_").columns) == ["rate_x", "rate_x_lo", "rate_x_hi"]
