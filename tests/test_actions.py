"""Known-answer tests for feedbacklib.actions: call list, recognition, fix first."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from feedbacklib import schema as S
from feedbacklib.actions import (
    CALL_LIST_COLUMNS,
    FIX_FIRST_COLUMNS,
    RECOGNITION_COLUMNS,
    call_reasons,
    detect_agent,
    fix_first,
    praise_clause,
    select_call_list,
    select_recognition,
)
from feedbacklib.stats.impact import theme_impact
from feedbacklib.trends import theme_trends

T0 = pd.Timestamp("2026-10-01", tz="UTC")


def rows(spec):
    """spec: (id, customer, day, csat, label, churn, not_fixed, resolved, praise, text, team)."""
    f = pd.DataFrame(spec, columns=[S.RESPONSE_ID, S.CUSTOMER_KEY, "day", S.CSAT, S.SENTIMENT_LABEL, "churn",
                                    "nf", S.RESOLVED_REPORTED, "praise", S.TEXT, S.TEAM])
    f[S.RECEIVED_AT] = T0 + pd.to_timedelta(f.pop("day"), unit="D")
    f[S.CSAT] = f[S.CSAT].astype("Int8")
    f[S.RESOLVED_REPORTED] = f[S.RESOLVED_REPORTED].astype("boolean")
    f[S.theme_column("churn_risk")] = f.pop("churn").astype(bool)
    f[S.theme_column("not_fixed")] = f.pop("nf").astype(bool)
    f[S.theme_column("praise")] = f.pop("praise").astype(bool)
    f[S.VENDOR] = pd.array([None] * len(f), dtype="string")
    f[S.SERVICE_MODEL] = pd.Categorical([S.IN_HOUSE] * len(f), categories=S.SERVICE_MODELS)
    f[S.CHANNEL] = "phone"
    return f


def test_call_list_priority_order_and_filters():
    f = rows([
        ("old-churn", "c1", 1, 3, "neutral", True, False, True, False, "I will leave", "A"),
        ("new-unres", "c2", 9, 1, "negative", False, True, None, False, "still broken", "A"),
        ("new-churn", "c3", 8, None, None, True, False, None, False, "switching", "B"),
        ("happy", "c4", 9, 5, "positive", False, False, True, False, "great", "B"),
        ("unhappy-only", "c5", 9, 1, "negative", False, False, True, False, "meh", "B"),
        ("no-text", "c6", 9, 1, "negative", True, True, False, False, "", "B"),
        ("dup-churn", "c3", 2, 1, "negative", True, False, None, False, "leaving", "B"),
        ("unres-reported", "c7", 3, 2, None, False, False, False, False, "not done", "A"),
    ])
    out = select_call_list(f, size=10)
    assert tuple(out.columns) == CALL_LIST_COLUMNS
    # c3's most urgent row (dup-churn: churn + unhappy = 5) beats its other row (new-churn: 4)
    assert out[S.RESPONSE_ID].tolist() == ["dup-churn", "new-churn"][:1] + ["old-churn", "new-unres", "unres-reported"]
    # each row says its own reasons, in words
    reasons = out.set_index(S.RESPONSE_ID)["reasons"]
    assert reasons["new-unres"] == "says it is not fixed; rated 1 of 5"
    assert reasons["old-churn"] == "talks of leaving"
    assert reasons["unres-reported"] == "case still open; rated 2 of 5"
    assert reasons["dup-churn"] == "talks of leaving; rated 1 of 5"
    assert select_call_list(f, size=2).shape[0] == 2
    assert len(select_call_list(f, one_per_customer=False)) == 5
    assert select_call_list(f.iloc[0:0]).empty


@pytest.mark.parametrize(("text", "name"), [
    ("Excellent service, Sarah was a star.", "Sarah"),
    ("Amazing help from Pieter, please pass on my thanks.", "Pieter"),
    ("Thabo went above and beyond!", "Thabo"),
    ("Outstanding service, big thanks to Mary Jones.", "Mary Jones"),
    ("Thank you so much, the agent was great", ""),
    ("The agent was brilliant", ""),
    ("Everyone was lovely", ""),
    (None, ""),
])
def test_detect_agent(text, name):
    assert detect_agent(text) == name


def test_recognition_grouped_by_team_with_agents():
    f = rows([
        ("p1", "a", 1, 5, "positive", False, False, True, True, "Fantastic service from Tom.", "London"),
        ("p2", "b", 2, 5, "positive", False, False, True, True, "Superb.", "London"),
        ("p3", "c", 3, 5, "positive", False, False, True, True, "Great, Priya was a star", "Leeds"),
        ("p4", "d", 4, 2, "negative", False, False, True, True, "Not great service at all, awful.", "Leeds"),
        ("p5", "e", 5, 5, "positive", False, False, True, False, "ok", "Leeds"),
    ])
    out = select_recognition(f)
    assert tuple(out.columns) == RECOGNITION_COLUMNS
    assert out[S.RESPONSE_ID].tolist() == ["p1", "p2", "p3"]  # p4's praise word is negated: its clause is negative
    assert out["agent"].tolist() == ["Tom", "", "Priya"]
    assert out["team_praise"].tolist() == [2, 2, 1]
    assert len(select_recognition(f, per_team=1)) == 2


def test_recognition_quotes_only_the_praising_clause():
    """The praised clause's own sentiment decides, not the comment's: a complaint after "but" is not quoted."""
    f = rows([
        ("q1", "a", 1, 2, "negative", False, False, True, True,
         "Fantastic service from Priya but there was an unexpected fee of £35 on my bill.", "London"),
        ("q2", "b", 2, 1, "negative", False, True, True, True,
         "The app kept logging me out. Fantastic service from Liam but closed my ticket without fixing anything!!!",
         "Leeds"),
        ("q3", "c", 3, 1, "negative", False, False, True, True, "Tom was rude and the fee is awful.", "Leeds"),
    ])
    out = select_recognition(f).set_index(S.RESPONSE_ID)
    assert out.loc["q1", "clause"] == "Fantastic service from Priya"
    assert out.loc["q2", "clause"] == "Fantastic service from Liam"
    assert "q3" not in out.index
    for clause in out["clause"]:
        assert "fee" not in clause and "without fixing" not in clause


@pytest.mark.parametrize(("text", "agent", "clause"), [
    ("Amazing help from Tom, please pass on my thanks but in the end I fixed it myself.", "Tom",
     "Amazing help from Tom, please pass on my thanks"),
    ("Excellent service, Aisha was a star. Felt like a sales pitch.", "Aisha", "Excellent service, Aisha was a star."),
    ("I rang about my order. Superb.", "", "Superb."),
    ("It was fine.", "", ""),
    (None, "", ""),
])
def test_praise_clause(text, agent, clause):
    assert praise_clause(text, agent) == clause


def test_call_reasons_in_words():
    nan = float("nan")
    assert call_reasons(True, True, True, False, False, 1.0, True) == \
        "talks of leaving; marked solved but not fixed; rated 1 of 5"
    assert call_reasons(False, False, False, True, True, nan, True) == "case still open; case reopened; negative comment"
    assert call_reasons(True, False, False, False, False, 4.0, False) == "talks of leaving"


def fix_frame(seed=0, n=300):
    rng = np.random.default_rng(seed)
    vendors = ["Acme", "Beta", None]
    vendor = np.array(vendors * n, dtype=object)
    bad = (rng.random(3 * n) < np.where(vendor == "Acme", 0.30, 0.05))
    mild = rng.random(3 * n) < 0.10
    csat = np.clip(np.round(4.2 - 2.0 * bad - 0.0 * mild + rng.normal(0, 0.5, 3 * n)), 1, 5)
    f = pd.DataFrame({
        S.VENDOR: pd.array(vendor, dtype="string"),
        S.SERVICE_MODEL: pd.Categorical(np.where(pd.isna(vendor), S.IN_HOUSE, S.OUTSOURCED), categories=S.SERVICE_MODELS),
        S.TEAM: pd.array(np.where(pd.isna(vendor), "Home", vendor.astype(str) + " team"), dtype="string"),
        S.CHANNEL: rng.choice(["phone", "chat"], 3 * n),
        S.TEXT: pd.array(["comment"] * (3 * n), dtype="string"),
        S.CSAT: pd.array(csat, dtype="Int8"),
        S.theme_column("bad"): bad, S.theme_column("mild"): mild,
    })
    return f


def test_fix_first_finds_theme_and_where_it_concentrates():
    f = fix_frame()
    impact = theme_impact(f, n_resamples=300)
    hist = pd.concat([f.assign(**{S.MONTH: "2026-09", S.theme_column("bad"): False}), f.assign(**{S.MONTH: "2026-10"})])
    trend = theme_trends(hist, "2026-10", ["bad", "mild"])
    out = fix_first(impact, f, trend)
    assert tuple(out.columns) == FIX_FIRST_COLUMNS
    assert set(out["theme"]) == {"bad"}                      # 'mild' costs nothing: not listed
    by_dim = out.set_index("dimension")
    assert by_dim.loc[S.VENDOR, "where"] == "Acme" and by_dim.loc[S.VENDOR, "concentrated"]
    assert by_dim.loc[S.TEAM, "where"] == "Acme team"
    assert not by_dim.loc[S.CHANNEL, "concentrated"]
    assert by_dim.loc[S.VENDOR, "moved"] == "up" and by_dim.loc[S.VENDOR, "spike"]
    no_trend = fix_first(impact, f)
    assert (no_trend["moved"] == "").all() and no_trend["rate"].isna().all()
    assert fix_first(impact.iloc[0:0], f).empty


def test_fix_first_min_n_and_null():
    f = fix_frame(1, n=20)
    out = fix_first(theme_impact(f, n_resamples=200), f, min_n=100)
    assert (out["where"] == "").all() and not out["concentrated"].any()
    rng = np.random.default_rng(2)
    null = fix_frame(2)
    null[S.CSAT] = pd.array(rng.integers(1, 6, len(null)), dtype="Int8")
    assert fix_first(theme_impact(null, n_resamples=300), null).empty
