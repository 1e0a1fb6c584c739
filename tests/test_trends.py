"""Known-answer tests for feedbacklib.trends: theme spikes, KPI history, month-over-month changes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from feedbacklib import compare as cmp
from feedbacklib import schema as S
from feedbacklib.trends import TREND_COLUMNS, kpi_changes, kpi_trends, theme_trends

from .test_compare import make_frame, make_group

MONTHS = ["2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"]


def history_frame(seed=0, *, spike=None, csat_drop=False, n=400):
    rng = np.random.default_rng(seed)
    parts = []
    for _i, month in enumerate(MONTHS):
        last = month == MONTHS[-1]
        theme_p = {spike: 0.30} if (spike and last) else None
        csat_p = (0.3, 0.2, 0.2, 0.15, 0.15) if (csat_drop and last) else (0.08, 0.07, 0.15, 0.35, 0.35)
        f = make_frame(make_group(rng, n, model=S.OUTSOURCED, vendor="Acme", theme_p=theme_p, csat_p=csat_p),
                       make_group(rng, n, model=S.IN_HOUSE, theme_p=theme_p, csat_p=csat_p))
        start = pd.Timestamp(f"{month}-01", tz="UTC")
        f[S.MONTH] = month
        f[S.RECEIVED_AT] = start + pd.to_timedelta(rng.uniform(0, 28, len(f)), unit="D")
        f[S.RESPONSE_ID] = [f"{month}-{k}" for k in range(len(f))]
        parts.append(f)
    return pd.concat(parts, ignore_index=True)


def test_theme_spike_found_and_null_has_none():
    trend = theme_trends(history_frame(spike="courtesy"), MONTHS[-1], ["courtesy", "knowledge"])
    row = trend.set_index("theme")
    assert row.loc["courtesy", "spike"] and not row.loc["knowledge", "spike"]
    for seed in (1, 2, 3):
        null = theme_trends(history_frame(seed), MONTHS[-1], list(cmp._themes_of(history_frame(seed), None)))
        assert not (null["spike"] | null["drop"]).any()


def test_kpi_trends_long_format_matches_kpi_table():
    hist = history_frame()
    out = kpi_trends(hist, MONTHS[-1], months=4, themes=["courtesy"], n_resamples=100)
    assert tuple(out.columns) == TREND_COLUMNS
    assert sorted(out["month"].unique()) == MONTHS[-4:]
    assert set(out["group"]) == {S.IN_HOUSE, S.OUTSOURCED, S.UNKNOWN, "all"}
    assert {"csat_mean", "nps", "rate_courtesy", "fcr_share", "first_response_median"} <= set(out["series"])
    kpis = cmp.kpi_table(hist[hist[S.MONTH] == MONTHS[-2]], themes=["courtesy"], n_resamples=100).set_index("group")
    got = out[(out["month"] == MONTHS[-2]) & (out["group"] == S.OUTSOURCED)].set_index("series")
    assert got.loc["csat_mean", "value"] == pytest.approx(kpis.loc[S.OUTSOURCED, "csat_mean"])
    assert got.loc["rate_courtesy", "hi"] == pytest.approx(kpis.loc[S.OUTSOURCED, "rate_courtesy_hi"])
    assert got.loc["csat_mean", "reportable"]
    only_all = kpi_trends(hist, MONTHS[-1], months=2, by=None, themes=[], n_resamples=100)
    assert set(only_all["group"]) == {"all"} and only_all["month"].nunique() == 2


def test_kpi_changes_finds_planted_drop_only():
    out = kpi_changes(history_frame(csat_drop=True), MONTHS[-1], n_resamples=200).set_index("metric")
    assert out.loc["satisfied_share", "significant"] and out.loc["satisfied_share", "diff"] < 0
    assert "fell" in out.loc["satisfied_share", "finding"]
    assert out["prev_month"].iloc[0] == MONTHS[-2]
    null = kpi_changes(history_frame(4), MONTHS[-1], n_resamples=200)
    assert not null["significant"].any()
    by_group = kpi_changes(history_frame(csat_drop=True), MONTHS[-1], group_col=S.SERVICE_MODEL,
                           group=S.OUTSOURCED, n_resamples=200)
    assert by_group.set_index("metric").loc["csat_mean", "n_a"] < 400
    assert kpi_changes(history_frame(), MONTHS[0]).empty
