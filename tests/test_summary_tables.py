"""The headline tables from additive summaries (issue 19 item 1): the same tables as from rows.

- ``kpi_table`` (by service model, vendor, team), ``compare_groups``, ``compare_vendors``,
  ``perception_gap``, the breakdowns (channel, team praise, pooled teams, sentiment, sources,
  team models), ``theme_counts_of`` and ``month_kpi_table`` computed from a
  :class:`~feedbacklib.stats.summaries.Summary` equal the row-level implementations they
  replace (kept verbatim in ``tests/reference``), on the sample month and on a generated month
  with edge cases (an empty category, missing vendors and teams, groups under ``min_n``, a
  theme whose column is absent, tied source counts);
- the same from the summaries of three partitions added up;
- :class:`~feedbacklib.parts.MonthParts` adds up, pickles, and ``month_tables_from_parts`` on
  the parts of three partitions gives the tables ``month_tables`` gives on the rows.
"""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedbacklib import schema as S
from feedbacklib import trends
from feedbacklib.history import theme_counts_from_summary
from feedbacklib.parts import MonthParts, month_parts
from feedbacklib.result import month_tables, month_tables_from_parts
from feedbacklib.service import service_kpis
from feedbacklib.stats import breakdowns as B
from feedbacklib.stats import summaries as su
from feedbacklib.stats import tables as T

from .reference import breakdowns_rows as old_b
from .reference import history_rows as old_h
from .reference import tables_rows as old_t
from .test_compare import THEMES, make_frame, make_group

MONTH = "2026-10"
ABSENT = "follow_up"          # a taxonomy theme whose column the generated month lacks
#: Float columns may differ from the row-level tables by the order of a floating-point sum
#: (Welch's interval reads the ratings in value order, not row order): a few ULPs.
RTOL = 1e-12


def edge_month(seed: int = 0) -> pd.DataFrame:
    """A tagged month with the edge cases: no ``unknown`` service model rows (an empty category),
    a vendor under ``min_n``, outsourced rows without a vendor, rows without a team, a theme column
    missing, tied source counts, reported-good rows by SLA."""
    rng = np.random.default_rng(seed)
    frame = make_frame(
        make_group(rng, 900, model=S.OUTSOURCED, vendor="Acme", theme_p={"responsiveness": 0.2},
                   csat_shift={"not_fixed": -2}),
        make_group(rng, 400, model=S.OUTSOURCED, vendor="Globex", theme_p={"praise": 0.3}),
        make_group(rng, 7, model=S.OUTSOURCED, vendor="Tiny"),
        make_group(rng, 60, model=S.OUTSOURCED, vendor=None),
        make_group(rng, 900, model=S.IN_HOUSE, csat_shift={"praise": 1}),
    )
    n = len(frame)
    frame = frame.drop(columns=[S.theme_column(ABSENT)])
    frame[S.CHANNEL] = pd.Categorical(rng.choice(["phone", "chat", "email", "web", None], n,
                                                 p=[0.4, 0.3, 0.2, 0.05, 0.05]), categories=S.CHANNELS)
    frame[S.CATEGORY] = pd.array(rng.choice(["Billing", "billing", "Technical fault", None], n), dtype="string")
    teams = rng.choice(["North", "South", "East", "West", "Solo", None], n, p=[0.3, 0.3, 0.2, 0.14, 0.01, 0.05])
    frame[S.TEAM] = pd.array(teams, dtype="string")
    sources = np.resize(["survey", "complaint"], n)
    sources[-1] = "ticket" if n % 2 else sources[-1]                   # survey and complaint tie
    frame[S.SOURCE] = pd.Categorical(sources, categories=S.SOURCES)
    frame[S.FIRST_RESPONSE_HOURS] = pd.array(rng.exponential(10, n), dtype="Float64")
    frame[S.SENTIMENT_LABEL] = frame[S.SENTIMENT_LABEL].astype("str")   # as the sentiment step types it
    frame[S.MONTH] = MONTH
    return frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)


def edge_themes() -> list[str]:
    return list(THEMES)


def split3(frame: pd.DataFrame) -> list[pd.DataFrame]:
    bounds = [0, len(frame) // 5, len(frame) // 2, len(frame)]
    return [frame.iloc[a:b] for a, b in zip(bounds, bounds[1:])]


def summaries_of(frame: pd.DataFrame, themes: list[str]) -> dict[str, su.Summary]:
    """The month's summary (as ``month_parts`` builds it) of all rows and of three partitions added up."""
    whole = month_parts(frame, MONTH, themes, None).summary           # type: ignore[arg-type]
    added = sum(month_parts(p, MONTH, themes, None) for p in split3(frame)).summary   # type: ignore[arg-type,union-attr]
    return {"whole": whole, "parts": added}


def assert_same(new, old, rtol: float = RTOL) -> None:
    if isinstance(old, pd.DataFrame):
        pd.testing.assert_frame_equal(new, old, check_exact=False, rtol=rtol, atol=0)
    else:
        assert new == old
        assert list(new) == list(old)      # same order too


# --------------------------------------------------------------------------- #
# The table functions: (from a summary, from rows as before)
# --------------------------------------------------------------------------- #
def _cases(themes: list[str]):
    kw = dict(themes=themes)
    return {
        "kpi_by_model": (lambda s: T.kpi_table_from_summary(s, S.SERVICE_MODEL, **kw),
                         lambda f: old_t.kpi_table(f, S.SERVICE_MODEL, **kw)),
        "kpi_by_vendor": (lambda s: T.kpi_table_from_summary(s, S.VENDOR, **kw),
                          lambda f: old_t.kpi_table(f, S.VENDOR, **kw)),
        "kpi_by_team": (lambda s: T.kpi_table_from_summary(s, S.TEAM, min_n=30, **kw),
                        lambda f: old_t.kpi_table(f, S.TEAM, min_n=30, **kw)),
        "compare_groups": (lambda s: T.compare_groups_from_summary(s, **kw),
                           lambda f: old_t.compare_groups(f, **kw)),
        "compare_vendors": (lambda s: T.compare_vendors_from_summary(s, min_n=30, **kw),
                            lambda f: old_t.compare_vendors(f, min_n=30, **kw)),
        "perception_gap": (lambda s: T.perception_gap_from_summary(s, min_n=30),
                           lambda f: old_t.perception_gap(f, min_n=30)),
        "channels": (B.channel_satisfaction_from_summary, old_b.channel_satisfaction),
        "team_praise": (lambda s: B.team_praise_from_summary(s, min_n=30),
                        lambda f: old_b.team_praise(f, min_n=30)),
        "pooled_teams": (B.pooled_team_rates_from_summary, old_b.pooled_team_rates),
        "sentiment": (B.sentiment_shares_from_summary, old_b.sentiment_shares),
        "source_counts": (B.source_counts_from_summary, old_b.source_counts),
        "team_models": (B.team_service_models_from_summary, old_b.team_service_models),
        "theme_counts": (lambda s: theme_counts_from_summary(s, themes, by=S.SERVICE_MODEL, month=MONTH),
                         lambda f: old_h.theme_counts_of(_with_columns(f, themes).assign(**{S.MONTH: MONTH}),
                                                         themes, by=S.SERVICE_MODEL)),
    }


def _with_columns(frame: pd.DataFrame, themes: list[str]) -> pd.DataFrame:
    """The row-level theme counts need every theme's column: an absent one has no hits."""
    return frame.assign(**{S.theme_column(t): False for t in themes if S.theme_column(t) not in frame.columns})


CASES = list(_cases([]))


@pytest.fixture(scope="module")
def sample_month(sample_result):
    frame, themes = sample_result.frame, sample_result.theme_ids
    return frame, themes, summaries_of(frame, themes)


@pytest.fixture(scope="module")
def edge():
    frame, themes = edge_month(), edge_themes()
    return frame, themes, summaries_of(frame, themes)


@pytest.mark.parametrize("how", ["whole", "parts"])
@pytest.mark.parametrize("case", CASES)
def test_sample_month_tables_from_summaries_equal_the_row_level_tables(sample_month, case, how):
    frame, themes, summaries = sample_month
    from_summary, from_rows = _cases(themes)[case]
    new, old = from_summary(summaries[how]), from_rows(frame)
    assert len(new) > 0
    assert_same(new, old)


@pytest.mark.parametrize("how", ["whole", "parts"])
@pytest.mark.parametrize("case", CASES)
def test_generated_month_tables_from_summaries_equal_the_row_level_tables(edge, case, how):
    frame, themes, summaries = edge
    from_summary, from_rows = _cases(themes)[case]
    assert_same(from_summary(summaries[how]), from_rows(frame))


def test_the_edge_cases_are_there(edge):
    """The generated month exercises what it claims to (so the equalities above mean something)."""
    frame, themes, summaries = edge
    kpis = T.kpi_table_from_summary(summaries["parts"], S.SERVICE_MODEL, themes=themes).set_index("group")
    assert kpis.loc[S.UNKNOWN, "n"] == 0 and np.isnan(kpis.loc[S.UNKNOWN, "csat_mean"])   # empty category
    assert np.isnan(kpis.loc["all", f"rate_{ABSENT}"])                  # a theme without its column
    vendors = T.kpi_table_from_summary(summaries["parts"], S.VENDOR, themes=themes).set_index("group")
    assert not vendors.loc["Tiny", "reportable"] and vendors.loc["Acme", "reportable"]
    assert vendors.loc["all", "n"] == len(frame) > vendors.drop("all")["n"].sum()          # missing vendor
    teams = T.kpi_table_from_summary(summaries["parts"], S.TEAM, themes=themes)
    assert teams.loc[teams.group != "all", "n"].sum() < len(frame)                          # missing team
    counts = B.source_counts_from_summary(summaries["parts"])
    assert len(set(list(counts.values())[:2])) == 1                                          # a tie
    assert T.compare_groups_from_summary(summaries["parts"], themes=themes)["significant"].any()


def test_row_level_functions_are_the_summary_functions(edge):
    """The public row-level functions compute through the summary: identical, not only close."""
    frame, themes, summaries = edge
    whole = summaries["whole"]
    pairs = [
        (T.kpi_table(frame, S.TEAM, themes=themes), T.kpi_table_from_summary(whole, S.TEAM, themes=themes)),
        (T.compare_groups(frame, themes=themes), T.compare_groups_from_summary(whole, themes=themes)),
        (T.compare_vendors(frame, themes=themes), T.compare_vendors_from_summary(whole, themes=themes)),
        (T.perception_gap(frame), T.perception_gap_from_summary(whole)),
        (B.channel_satisfaction(frame), B.channel_satisfaction_from_summary(whole)),
        (B.team_praise(frame), B.team_praise_from_summary(whole)),
        (B.pooled_team_rates(frame), B.pooled_team_rates_from_summary(whole)),
        (B.sentiment_shares(frame), B.sentiment_shares_from_summary(whole)),
    ]
    for row_level, from_summary in pairs:
        pd.testing.assert_frame_equal(row_level, from_summary, check_exact=True)


def test_perception_gap_with_an_sla(edge):
    frame, _, _ = edge
    parts = [su.summarise(p, themes=[], keys=(S.SERVICE_MODEL, S.VENDOR), strata=(), scores=(),
                          sla_first_response_hours=4.0) for p in split3(frame)]
    new = T.perception_gap_from_summary(sum(parts), min_n=30, sla_first_response_hours=4.0)  # type: ignore[arg-type]
    old = old_t.perception_gap(frame, min_n=30, sla_first_response_hours=4.0)
    assert_same(new, old)
    assert new["n_reported_solved"].sum() > old_t.perception_gap(frame, min_n=30)["n_reported_solved"].sum()
    with pytest.raises(ValueError, match="SLA"):
        T.perception_gap_from_summary(sum(parts), sla_first_response_hours=None)  # type: ignore[arg-type]


def test_month_kpi_table_from_summary(edge):
    """The history store's KPI table: the headline KPIs from the summary, the service KPIs (which need
    the contacts) beside them."""
    frame, themes, summaries = edge
    service = service_kpis(frame, None, by=S.SERVICE_MODEL, sla_first_response_hours=24)
    ref = old_t.kpi_table(frame, S.SERVICE_MODEL, themes=themes).merge(
        service.drop(columns=["n", "reportable"]), on="group", how="left", validate="one_to_one")
    ref = ref.assign(group=ref["group"].astype("string"))
    ref.insert(0, S.MONTH, MONTH)
    rows = trends.month_kpi_table(frame, None, MONTH, themes=themes, sla_first_response_hours=24)
    new = trends.month_kpi_table_from_summary(summaries["parts"], service, MONTH, themes=themes)
    assert_same(rows, ref)
    assert_same(new, ref)
    whole = trends.month_kpi_table(frame, None, MONTH, by=None, themes=themes, sla_first_response_hours=24)
    all_service = service_kpis(frame, None, by=S.MONTH, sla_first_response_hours=24)
    assert_same(trends.month_kpi_table_from_summary(summaries["parts"], all_service, MONTH, by=None, themes=themes),
                whole)


# --------------------------------------------------------------------------- #
# MonthParts and month_tables_from_parts
# --------------------------------------------------------------------------- #
def _assert_same_value(key, new, old):
    if isinstance(old, pd.DataFrame):
        pd.testing.assert_frame_equal(new, old, check_exact=False, rtol=RTOL, atol=0, obj=key)
    else:
        assert new == old, key


def test_month_tables_from_parts_of_partitions_equal_month_tables(sample_result):
    r = sample_result
    cfg, taxonomy = r.config, r.taxonomy
    full = month_tables(r.frame, r.history, r.month, cfg, taxonomy, quarantine=r.quarantine)
    parts = [month_parts(p, r.month, r.theme_ids, cfg) for p in split3(r.frame)]
    shipped = [pickle.loads(pickle.dumps(p)) for p in parts]            # what workers send the client
    total = sum(shipped)
    assert isinstance(total, MonthParts) and total.rows == len(r.frame)
    tables = month_tables_from_parts(total, r.history, r.month, cfg, taxonomy, quarantine=r.quarantine,
                                     service=full["service"])
    assert {"kpis", "vendor_kpis", "team_kpis", "comparison", "vendors", "gap", "impact", "drivers", "adjusted",
            "theme_counts", "theme_trend", "kpi_tables", "kpi_trend", "headline_changes", "channels",
            "team_praise", "pooled_teams", "sentiment", "source_counts", "team_models"} <= set(tables)
    for key, value in tables.items():
        _assert_same_value(key, value, full[key])
    # and the same as the MonthResult the pipeline built (kpis.json's tables)
    for key in ("kpis", "vendor_kpis", "team_kpis", "comparison", "vendors", "gap", "adjusted", "kpi_tables"):
        _assert_same_value(key, tables[key], getattr(r, key))
    without = month_tables_from_parts(total, r.history, r.month, cfg, taxonomy)
    assert "kpi_tables" not in without and "kpis" in without


def test_month_parts_refuses_rows_of_another_month(edge):
    frame, themes, _ = edge
    wrong = frame.assign(**{S.MONTH: np.where(np.arange(len(frame)) < 3, "2026-09", MONTH)})
    with pytest.raises(ValueError, match="2026-09"):
        month_parts(wrong, MONTH, themes, None)  # type: ignore[arg-type]


def test_summaries_built_differently_do_not_add_up(edge):
    frame, _, _ = edge
    a = su.summarise(frame, themes=[], values=(S.CSAT,))
    b = su.summarise(frame, themes=[], values=())
    c = su.summarise(frame, themes=[], values=(S.CSAT,), sla_first_response_hours=24)
    for other in (b, c):
        with pytest.raises(ValueError, match="same themes"):
            su.combine(a, other)
    with pytest.raises(ValueError, match="values"):
        T.kpi_table_from_summary(b)
    with pytest.raises(ValueError, match="themes"):
        T.kpi_table_from_summary(a, themes=["praise"])


def test_collapse_is_summarise_with_fewer_keys(edge):
    frame, themes, summaries = edge
    direct = su.summarise(frame, themes=themes, keys=(S.SERVICE_MODEL,), values=su.SCORES)
    regrouped = su.collapse(summaries["parts"], (S.SERVICE_MODEL,))
    pd.testing.assert_frame_equal(regrouped.cells, direct.cells, check_exact=True)
    for score in su.SCORES:
        pd.testing.assert_frame_equal(regrouped.values[score], direct.values[score], check_exact=True)
        pd.testing.assert_frame_equal(regrouped.scores[score], direct.scores[score], check_exact=True)
    with pytest.raises(ValueError, match="keyed by"):
        su.collapse(direct, (S.TEAM,))


# --------------------------------------------------------------------------- #
# Property: any split of any month adds up to the same tables
# --------------------------------------------------------------------------- #
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), n=st.integers(0, 200), cuts=st.lists(st.floats(0, 1), max_size=4))
def test_any_split_adds_up_to_the_tables_of_the_whole(seed, n, cuts):
    rng = np.random.default_rng(seed)
    frame = make_frame(
        make_group(rng, n, model=S.OUTSOURCED, vendor="Acme"),
        make_group(rng, n // 3, model=S.OUTSOURCED, vendor=None),
        make_group(rng, n // 2, model=S.IN_HOUSE),
    )
    frame[S.TEAM] = pd.array(rng.choice(["North", "South", None], len(frame)), dtype="string")
    frame[S.CHANNEL] = pd.Categorical(rng.choice(["phone", "chat", None], len(frame)), categories=S.CHANNELS)
    frame[S.SENTIMENT_LABEL] = frame[S.SENTIMENT_LABEL].astype("str")
    frame[S.MONTH] = MONTH
    themes = ["responsiveness", "praise", "not_fixed"]
    bounds = sorted({0, len(frame), *(int(c * len(frame)) for c in cuts)})
    pieces = [frame.iloc[a:b] for a, b in zip(bounds, bounds[1:])] or [frame]
    total = sum(su.summarise(p, themes=themes, values=su.SCORES) for p in pieces)
    assert total.rows == len(frame)  # type: ignore[union-attr]
    kw = dict(themes=themes, n_resamples=200)
    for by in (S.SERVICE_MODEL, S.VENDOR, S.TEAM):
        assert_same(T.kpi_table_from_summary(total, by, **kw), old_t.kpi_table(frame, by, **kw))  # type: ignore[arg-type]
    assert_same(T.compare_vendors_from_summary(total, **kw), old_t.compare_vendors(frame, **kw))  # type: ignore[arg-type]
    assert_same(T.perception_gap_from_summary(total), old_t.perception_gap(frame))  # type: ignore[arg-type]
    assert_same(B.sentiment_shares_from_summary(total), old_b.sentiment_shares(frame))  # type: ignore[arg-type]
    assert_same(B.channel_satisfaction_from_summary(total), old_b.channel_satisfaction(frame))  # type: ignore[arg-type]
    assert_same(B.team_service_models_from_summary(total), old_b.team_service_models(frame))  # type: ignore[arg-type]
