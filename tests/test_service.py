"""Known-answer tests for feedbacklib.service: times, SLA, reopens, repeat contacts, FCR."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from feedbacklib import schema as S
from feedbacklib import service as sv

T0 = pd.Timestamp("2026-10-01", tz="UTC")


def contacts(rows):
    """rows: (id, customer, day, source, resolved, reopened)."""
    f = pd.DataFrame(rows, columns=[S.RESPONSE_ID, S.CUSTOMER_KEY, "day", S.SOURCE, S.RESOLVED_REPORTED, S.REOPENED])
    f[S.RECEIVED_AT] = T0 + pd.to_timedelta(f.pop("day"), unit="D")
    f[S.RESOLVED_REPORTED] = f[S.RESOLVED_REPORTED].astype("boolean")
    f[S.REOPENED] = f[S.REOPENED].astype("boolean")
    f[S.SERVICE_MODEL] = pd.Categorical([S.IN_HOUSE] * len(f), categories=S.SERVICE_MODELS)
    return f


@pytest.fixture
def history():
    return contacts([
        ("h0", "x", -60, "ticket", True, False),    # opens the observation window
        ("a0", "x", 0, "ticket", True, False),      # followed 5 days later -> not FCR
        ("a1", "x", 5, "ticket", True, False),      # repeat within 7 (and 30)
        ("a2", "x", 40, "ticket", True, False),     # 35 days after a1: repeat within neither
        ("b0", "y", 10, "ticket", True, True),      # reopened -> not FCR
        ("c0", "z", 12, "ticket", True, None),      # resolved, reopen unknown, alone -> FCR
        ("c1", "z", 20, "survey", None, None),      # a survey is not a contact
        ("d0", "w", 14, "complaint", False, None),  # not resolved -> not FCR
        ("e0", "v", 70, "ticket", True, False),     # closes the window at day 70
    ])


def test_repeat_contacts_before(history):
    flags = sv.contact_flags(history, history).set_index(history[S.RESPONSE_ID])
    assert flags.loc["a1", "repeat_7d"] and flags.loc["a1", "repeat_30d"]
    assert not flags.loc["a0", "repeat_7d"] and not flags.loc["a2", "repeat_30d"]
    assert flags.loc["a1", "days_since_previous"] == pytest.approx(5)
    assert pd.isna(flags.loc["h0", "repeat_7d"])          # look-back window not observed
    assert not flags.loc["c1", "is_contact"] and pd.isna(flags.loc["c1", "repeat_7d"])
    assert flags.loc["c0", "days_to_next"] != flags.loc["c0", "days_to_next"]  # survey not counted: NaN


def test_repeat_contacts_after_and_fcr(history):
    after = sv.contact_flags(history, history, direction="after").set_index(history[S.RESPONSE_ID])
    assert after.loc["a0", "repeat_7d"] and not after.loc["a1", "repeat_7d"]
    assert pd.isna(after.loc["e0", "repeat_7d"])          # follow-up window not observed
    fcr = after["fcr"]
    assert not fcr["a0"] and not fcr["b0"] and not fcr["d0"]
    assert fcr["c0"] and fcr["a1"]
    assert pd.isna(fcr["e0"]) and pd.isna(fcr["c1"])


def test_month_frame_uses_history(history):
    month = history[history[S.RECEIVED_AT] >= T0].reset_index(drop=True)
    with_history = sv.contact_flags(month, history)
    alone = sv.contact_flags(month)
    assert with_history["repeat_7d"].notna().sum() > alone["repeat_7d"].notna().sum()


def service_frame(rng, n, *, model, vendor=None, frt_scale=4.0, reopen_p=0.05):
    frt = rng.exponential(frt_scale, n)
    frt[rng.random(n) < 0.1] = np.nan
    return pd.DataFrame({
        S.RESPONSE_ID: [f"{model}-{i}" for i in range(n)],
        S.SOURCE: pd.Categorical(["ticket"] * n, categories=S.SOURCES),
        S.RECEIVED_AT: T0 + pd.to_timedelta(rng.uniform(0, 30, n), unit="D"),
        S.CUSTOMER_KEY: pd.array([f"c{k}" for k in rng.integers(0, 3 * n, n)], dtype="string"),
        S.SERVICE_MODEL: pd.Categorical([model] * n, categories=S.SERVICE_MODELS),
        S.VENDOR: pd.array([vendor] * n, dtype="string"),
        S.TEAM: pd.array([f"{model} team"] * n, dtype="string"),
        S.FIRST_RESPONSE_HOURS: pd.array(frt, dtype="Float64"),
        S.RESOLUTION_HOURS: pd.array(rng.exponential(24, n), dtype="Float64"),
        S.RESOLVED_REPORTED: pd.array(rng.random(n) < 0.8, dtype="boolean"),
        S.REOPENED: pd.array(rng.random(n) < reopen_p, dtype="boolean"),
    })


def test_service_kpis_columns_and_planted_values():
    rng = np.random.default_rng(1)
    frame = pd.concat([service_frame(rng, 600, model=S.OUTSOURCED, vendor="Acme", frt_scale=10, reopen_p=0.2),
                       service_frame(rng, 600, model=S.IN_HOUSE)], ignore_index=True)
    table = sv.service_kpis(frame, n_resamples=300).set_index("group")
    assert list(table.index) == [S.IN_HOUSE, S.OUTSOURCED, S.UNKNOWN, "all"]
    out = table.loc[S.OUTSOURCED]
    true_median = 10 * np.log(2)
    assert out["first_response_median_lo"] < true_median < out["first_response_median_hi"]
    assert out["first_response_p90_lo"] < 10 * np.log(10) < out["first_response_p90_hi"]
    assert out["sla_met_share"] == pytest.approx(np.mean(frame.loc[frame[S.SERVICE_MODEL] == S.OUTSOURCED,
                                                                   S.FIRST_RESPONSE_HOURS].dropna() <= 24))
    assert out["reopen_share_lo"] < 0.2 < out["reopen_share_hi"]
    assert not table.loc[S.UNKNOWN, "reportable"] and np.isnan(table.loc[S.UNKNOWN, "sla_met_share"])
    assert {"repeat_7d_share", "repeat_30d_share_hi", "fcr_share_lo", "contact_n"} <= set(table.columns)
    again = sv.service_kpis(frame, n_resamples=300).set_index("group")
    pd.testing.assert_frame_equal(table, again)


def test_compare_service_finds_planted_and_not_null():
    rng = np.random.default_rng(2)
    planted = pd.concat([service_frame(rng, 400, model=S.OUTSOURCED, frt_scale=8, reopen_p=0.15),
                         service_frame(rng, 400, model=S.IN_HOUSE)], ignore_index=True)
    table = sv.compare_service(planted, n_resamples=300).set_index("metric")
    assert table.loc["first_response_median", "significant"]
    assert table.loc["first_response_median", "diff_lo"] > 0
    assert table.loc["reopen_share", "significant"] and "reopened" in table.loc["reopen_share", "finding"]
    assert not table.loc["first_response_p90", "significant"]   # intervals only, never tested
    for seed in (3, 4, 5):
        rng = np.random.default_rng(seed)
        null = pd.concat([service_frame(rng, 400, model=S.OUTSOURCED),
                          service_frame(rng, 400, model=S.IN_HOUSE)], ignore_index=True)
        assert not sv.compare_service(null, n_resamples=300)["significant"].any()


def test_min_n_blocks_findings():
    rng = np.random.default_rng(6)
    small = pd.concat([service_frame(rng, 20, model=S.OUTSOURCED, frt_scale=40),
                       service_frame(rng, 20, model=S.IN_HOUSE)], ignore_index=True)
    assert not sv.compare_service(small, n_resamples=200, min_n=30)["significant"].any()


def test_group_kpis_merges_both_tables():
    rng = np.random.default_rng(7)
    frame = service_frame(rng, 100, model=S.IN_HOUSE)
    frame[S.CSAT] = pd.array(rng.integers(1, 6, 100), dtype="Int8")
    frame[S.TEXT] = pd.array(["fine"] * 100, dtype="string")
    table = sv.group_kpis(frame, by=S.TEAM, n_resamples=100, themes=[])
    assert list(table["group"]) == ["in_house team", "all"]
    assert {"csat_mean", "satisfied_share", "sla_met_share", "fcr_share"} <= set(table.columns)
