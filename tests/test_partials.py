"""Issue 19: the service tables, the volume and the few rows the report shows, from mergeable partials.

For each partial: the month split into 3 parts in different ways, the parts' partials added
up, and the table from the sum is the table of the whole month (``assert_frame_equal``).
Service KPIs (repeat contacts, FCR) need every row of a customer in one part: those splits
are customer buckets. The row-level functions are checked against what they gave before
where the algorithm did not change; the service bootstrap of medians and 90th percentiles
did change (multinomial counts of the distinct times), so its intervals are compared with
the old ones (``tests/reference/service_rows.py``) within bootstrap noise and everything
else exactly.
"""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from feedbacklib import actions as A
from feedbacklib import emerging as E
from feedbacklib import quotes as Q
from feedbacklib import schema as S
from feedbacklib import service as sv
from feedbacklib.history import uncovered_sample, uncovered_sample_of
from feedbacklib.parts import month_parts
from feedbacklib.result import emerging_from_parts, emerging_themes, month_tables_from_parts, previous_month
from feedbacklib.stats import breakdowns as B
from feedbacklib.themes.discovery import uncovered_texts

from feedbacklib.report.sections import RECOGNITION_SHOWN, _recognition_order

from .reference import recognition_rows as old_rec
from .reference import service_rows as old_sv

MONTH = "2026-10"


# --------------------------------------------------------------------------- #
# Months and splits
# --------------------------------------------------------------------------- #
def repeat_month(sample: pd.DataFrame, n: int = 3000, customers: int = 400, seed: int = 0) -> pd.DataFrame:
    """A generated month from the sample's rows: ``n`` rows drawn with replacement, new response ids,
    times spread over the month, ``customers`` customers (so most write several times, across parts),
    tickets and complaints mixed with surveys, some rows without a customer key."""
    rng = np.random.default_rng(seed)
    rows = sample.iloc[rng.integers(0, len(sample), n)].reset_index(drop=True)
    rows[S.RESPONSE_ID] = pd.array([f"g{seed}-{i}" for i in range(n)], dtype="string")
    start = pd.Timestamp(f"{MONTH}-01", tz="UTC")
    rows[S.RECEIVED_AT] = start + pd.to_timedelta(np.round(rng.uniform(0, 31, n), 3), unit="D")
    keys = pd.array([f"k{k:04d}" for k in rng.integers(0, customers, n)], dtype="string")
    keys[rng.random(n) < 0.03] = pd.NA
    rows[S.CUSTOMER_KEY] = keys
    rows[S.SOURCE] = pd.Categorical(rng.choice(["ticket", "complaint", "survey"], n, p=[0.5, 0.2, 0.3]),
                                    categories=rows[S.SOURCE].cat.categories)
    return rows


def history_contacts(month: pd.DataFrame, seed: int = 1) -> pd.DataFrame:
    """Earlier contacts of the same customers (the 40 days before the month), one duplicating a row of the month."""
    rng = np.random.default_rng(seed)
    keys = month[S.CUSTOMER_KEY].dropna().unique()
    n = 2 * len(keys)
    out = pd.DataFrame({
        S.RESPONSE_ID: pd.array([f"h{i}" for i in range(n)], dtype="string"),
        S.SOURCE: pd.Categorical(rng.choice(["ticket", "complaint"], n), categories=month[S.SOURCE].cat.categories),
        S.CUSTOMER_KEY: pd.array(rng.choice(keys, n), dtype="string"),
        S.RECEIVED_AT: pd.Timestamp(f"{MONTH}-01", tz="UTC") - pd.to_timedelta(rng.uniform(0, 40, n), unit="D"),
    })
    same = month[[S.RESPONSE_ID, S.SOURCE, S.CUSTOMER_KEY, S.RECEIVED_AT]].dropna().head(1)
    return pd.concat([out, same], ignore_index=True)


def row_splits(frame: pd.DataFrame) -> dict[str, list[pd.DataFrame]]:
    """Three ways to cut a month into 3 parts (any rows anywhere)."""
    rng = np.random.default_rng(7)
    perm = rng.permutation(len(frame))
    cuts = sorted(rng.choice(np.arange(1, len(frame)), 2, replace=False))
    return {
        "interleaved": [frame.iloc[i::3] for i in range(3)],
        "shuffled-uneven": [frame.iloc[perm[a:b]] for a, b in zip([0, *cuts], [*cuts, len(frame)])],
        "by-team": [frame[(frame[S.TEAM].astype(str).str.len() % 3 == i).to_numpy()] for i in range(3)],
    }


def customer_splits(frame: pd.DataFrame) -> dict[str, list[pd.DataFrame]]:
    """Three ways to cut a month into 3 customer buckets (every row of a customer in one part;
    rows without a customer key anywhere), as the Dask engine shuffles on the customer key."""
    key = frame[S.CUSTOMER_KEY].astype(object).fillna("-").astype(str)
    h = pd.util.hash_pandas_object(key, index=False).to_numpy()
    h2 = pd.util.hash_pandas_object(key, index=False, hash_key="another-16-bytes").to_numpy()
    unknown = frame[S.CUSTOMER_KEY].isna().to_numpy()
    spread = np.arange(len(frame)) % 3
    out = {}
    for name, bucket in (("hash", h % 3), ("other-hash", h2 % 3),
                         ("by-first-char", key.str[-1].map(ord).to_numpy() % 3)):
        bucket = np.where(unknown, spread, bucket.astype(np.int64))
        out[name] = [frame[bucket == b] for b in range(3)]
    return out


@pytest.fixture(scope="module")
def month(sample_result):
    return sample_result.frame


@pytest.fixture(scope="module")
def generated(sample_result):
    return repeat_month(sample_result.frame)


# --------------------------------------------------------------------------- #
# Service KPIs
# --------------------------------------------------------------------------- #
INTERVALS = [c for q in ("first_response", "resolution") for s in ("median", "p90") for c in
             (f"{q}_{s}_lo", f"{q}_{s}_hi")]


def test_service_tables_on_the_sample_are_the_old_ones(sample_result):
    """Counts, shares, medians and p-values unchanged; the bootstrap intervals of the times within noise."""
    r = sample_result
    sla, min_n = r.config.sla_first_response_hours, r.config.min_group_size
    old = old_sv.service_kpis(r.frame, r.history.contacts, sla_first_response_hours=sla, min_n=min_n)
    new = r.service
    pd.testing.assert_frame_equal(new.drop(columns=INTERVALS), old.drop(columns=INTERVALS))
    for col in INTERVALS:
        width = (old[col.replace("_lo", "_hi")] - old[col.replace("_hi", "_lo")]).to_numpy(dtype=float)
        diff = np.abs(new[col].to_numpy(dtype=float) - old[col].to_numpy(dtype=float))
        ok = np.isnan(diff) & np.isnan(width) | (diff <= 0.25 * width + 1e-9)
        assert ok.all(), (col, new[col].tolist(), old[col].tolist())
    old_c = old_sv.compare_service(r.frame, r.history.contacts, sla_first_response_hours=sla, min_n=min_n)
    boot = ["lo_a", "hi_a", "lo_b", "hi_b", "diff_lo", "diff_hi"]
    pd.testing.assert_frame_equal(r.service_comparison.drop(columns=boot), old_c.drop(columns=boot))
    shares = (old_c["kind"] == "proportion").to_numpy()
    pd.testing.assert_frame_equal(r.service_comparison.loc[shares, boot], old_c.loc[shares, boot])


def _service_parts(parts, history, **options):
    window = sum((sv.contact_window(p, None) for p in parts), sv.contact_window(parts[0].iloc[0:0], history))
    return sum(sv.service_partial(p, history, window=window, **options) for p in parts)


@pytest.mark.parametrize("which", ["sample", "generated"])
def test_service_partials_add_up_to_the_month(which, sample_result, generated):
    frame = sample_result.frame if which == "sample" else generated
    history = sample_result.history.contacts if which == "sample" else history_contacts(generated)
    whole = sv.service_kpis(frame, history, n_resamples=300)
    whole_cmp = sv.compare_service(frame, history, n_resamples=300)
    assert whole["repeat_7d_n"].iloc[-1] > 0 and whole["fcr_n"].iloc[-1] > 0
    for name, parts in customer_splits(frame).items():
        total = _service_parts(parts, history)
        pd.testing.assert_frame_equal(sv.service_kpis_from_partial(total, n_resamples=300), whole, obj=name)
        pd.testing.assert_frame_equal(sv.compare_service_from_partial(total, n_resamples=300), whole_cmp, obj=name)
        # each part may get only its own customers' history
        mine = [history[history[S.CUSTOMER_KEY].isin(p[S.CUSTOMER_KEY].dropna()).to_numpy()] for p in parts]
        window = sum((sv.contact_window(p, h) for p, h in zip(parts, mine)), sv.ContactWindow())
        window = window + sv.contact_window(frame.iloc[0:0], history)
        own = sum(sv.service_partial(p, h, window=window) for p, h in zip(parts, mine))
        pd.testing.assert_frame_equal(sv.service_kpis_from_partial(own, n_resamples=300), whole, obj=name)


def test_service_partial_by_team_and_with_resolution_sla(generated):
    history = history_contacts(generated)
    options = dict(sla_resolution_hours=36.0, repeat_days=(3, 14))
    whole = sv.service_kpis(generated, history, by=S.TEAM, n_resamples=200, **options)
    parts = customer_splits(generated)["hash"]
    total = _service_parts(parts, history, by=S.TEAM, **options)
    pd.testing.assert_frame_equal(sv.service_kpis_from_partial(total, n_resamples=200), whole)
    assert whole["resolution_sla_met_n"].iloc[-1] > 0 and "repeat_14d_share" in whole.columns


def test_service_partials_built_differently_do_not_add(generated):
    a = sv.service_partial(generated.iloc[:100])
    b = sv.service_partial(generated.iloc[100:], sla_first_response_hours=8.0)
    with pytest.raises(ValueError, match="same options"):
        a + b


def test_service_partial_is_small_and_pickles(generated):
    p = sv.service_partial(generated, history_contacts(generated))
    again = pickle.loads(pickle.dumps(p))
    pd.testing.assert_frame_equal(again.times, p.times)
    assert p.nbytes < 200_000 and len(p.counts) <= generated[S.SERVICE_MODEL].nunique() + 1


def test_quantile_bootstrap_from_counts_matches_numpy():
    """The replicate statistic read off cumulative counts is numpy's median / linear quantile of the resample."""
    rng = np.random.default_rng(3)
    levels = np.round(np.sort(rng.exponential(5, 40)), 1)
    levels = np.unique(levels)
    counts = rng.integers(1, 9, levels.size)
    draws = rng.multinomial(counts.sum(), counts / counts.sum(), size=50)
    for q, fn in ((0.5, np.median), (0.9, lambda v: np.quantile(v, 0.9))):
        got = sv._quantile_of_counts(np.cumsum(draws, axis=1), levels, int(counts.sum()), q)
        want = [fn(np.repeat(levels, d)) for d in draws]
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


# --------------------------------------------------------------------------- #
# Volume
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("which", ["sample", "generated"])
def test_volume_partials(which, sample_result, generated):
    frame = sample_result.frame if which == "sample" else generated
    whole = B.volume(frame)
    assert B.volume_from_partial(B.volume_partial(frame)) == whole
    if which == "sample":
        assert whole == sample_result.volume
    for name, parts in row_splits(frame).items():
        assert B.volume_from_partial(sum(B.volume_partial(p) for p in parts)) == whole, name
    for name, parts in customer_splits(frame).items():
        assert B.volume_from_partial(sum(B.volume_partial(p, bucketed=True) for p in parts)) == whole, name
    with pytest.raises(ValueError, match="bucket"):
        B.volume_partial(frame, bucketed=True) + B.volume_partial(frame)


# --------------------------------------------------------------------------- #
# The few rows: call list, quotes, fix first, uncovered sample, emerging themes
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("which", ["sample", "generated"])
def test_call_list_from_candidates(which, sample_result, generated):
    frame = sample_result.frame if which == "sample" else generated
    size = sample_result.config.call_list_size
    whole = A.select_call_list(frame, size)
    if which == "sample":
        assert len(whole) == size
    for name, parts in {**row_splits(frame), **customer_splits(frame)}.items():
        total = sum(A.call_list_partial(p, size) for p in parts)
        assert len(total.candidates) <= size
        pd.testing.assert_frame_equal(A.select_call_list_from_partial(total), whole, obj=name)
    # any order of the rows gives the same list (total order, not first-come)
    shuffled = frame.sample(frac=1.0, random_state=3)
    pd.testing.assert_frame_equal(A.select_call_list(shuffled, size), whole)


def test_recognition_shows_the_same_praise_as_before(sample_result):
    """The report's praise (per team counts, the clauses shown) is what every praising row gave."""
    old = old_rec.select_recognition(sample_result.frame)
    new = sample_result.recognition
    assert A.RECOGNITION_CANDIDATES >= RECOGNITION_SHOWN and len(new) < len(old)
    pd.testing.assert_frame_equal(_recognition_order(new).head(RECOGNITION_SHOWN).reset_index(drop=True),
                                  _recognition_order(old).head(RECOGNITION_SHOWN).reset_index(drop=True))
    pd.testing.assert_series_equal(new.groupby(S.TEAM, sort=False)["team_praise"].first(),
                                   old.groupby(S.TEAM, sort=False)["team_praise"].first())
    # the kept rows are the old table's rows, in its order
    at = old.reset_index().merge(new, on=list(new.columns), how="inner")["index"]
    assert len(at) == len(new) and at.is_monotonic_increasing


@pytest.mark.parametrize("which", ["sample", "generated"])
@pytest.mark.parametrize("size", [A.RECOGNITION_CANDIDATES, 2])
def test_recognition_from_candidates(which, size, sample_result, generated):
    frame = sample_result.frame if which == "sample" else generated
    whole = A.select_recognition(frame, candidates=size)
    assert len(whole)
    for name, parts in row_splits(frame).items():
        total = sum(A.recognition_partial(p, size) for p in parts)
        pd.testing.assert_frame_equal(A.select_recognition_from_partial(total), whole, obj=name)
    pd.testing.assert_frame_equal(A.select_recognition(frame.sample(frac=1.0, random_state=5), candidates=size),
                                  whole)


@pytest.mark.parametrize("which", ["sample", "generated"])
def test_quotes_from_candidates(which, sample_result, generated):
    frame = sample_result.frame if which == "sample" else generated
    themes = list(sample_result.taxonomy.ids)
    k = sample_result.config.quotes_per_theme
    counts, quotes = Q.theme_quotes(frame, themes, k)
    assert len(quotes) > 0
    for name, parts in row_splits(frame).items():
        a, b = Q.theme_quotes_from_partial(sum(Q.quote_partial(p, themes, k) for p in parts))
        pd.testing.assert_frame_equal(a, counts, obj=name)
        pd.testing.assert_frame_equal(b, quotes, obj=name)
    # a small pool: the bottom-k by hash is the same whatever the split
    small = Q.theme_quotes_from_partial(Q.quote_partial(frame, themes, k, max_pool=20))
    for name, parts in row_splits(frame).items():
        got = Q.theme_quotes_from_partial(sum(Q.quote_partial(p, themes, k, max_pool=20) for p in parts))
        pd.testing.assert_frame_equal(got[1], small[1], obj=name)


def test_quotes_fall_back_to_short_texts_when_few_read_well():
    texts = ["too short"] * 3 + ["short again", "brief", "a long enough comment about the bill"]
    frame = pd.DataFrame({S.TEXT: pd.array(texts, dtype="string"), "theme_billing": [True] * 6,
                          S.TEAM: pd.array(["A"] * 6, dtype="string"), S.SOURCE: ["survey"] * 6,
                          S.RESPONSE_ID: [f"r{i}" for i in range(6)]})
    whole = Q.theme_quotes(frame, ["billing"], 3)[1]
    # one text reads well (25-400 characters), fewer than k: every distinct text is a candidate
    assert len(whole) == 3 and len(set(whole[S.TEXT]) - {"a long enough comment about the bill"}) >= 2
    for parts in ([frame.iloc[:3], frame.iloc[3:]], [frame.iloc[[5]], frame.iloc[:5]]):
        got = Q.theme_quotes_from_partial(sum(Q.quote_partial(p, ["billing"], 3) for p in parts))[1]
        pd.testing.assert_frame_equal(got, whole)


@pytest.mark.parametrize("which", ["sample", "generated"])
def test_fix_first_from_counts(which, sample_result, generated):
    r = sample_result
    frame = r.frame if which == "sample" else generated
    whole = A.fix_first(r.impact, frame, r.theme_trend, min_n=r.config.min_group_size)
    assert len(whole)
    for name, parts in row_splits(frame).items():
        total = sum(A.fix_first_partial(p) for p in parts)
        got = A.fix_first_from_partial(r.impact, total, r.theme_trend, min_n=r.config.min_group_size)
        pd.testing.assert_frame_equal(got, whole, obj=name)


@pytest.mark.parametrize("which", ["sample", "generated"])
@pytest.mark.parametrize("k", [5_000, 50])
def test_uncovered_sample_is_a_bottom_k(which, k, sample_result, generated):
    frame = sample_result.frame if which == "sample" else generated
    whole = E.uncovered_partial(frame, k)
    assert whole.total == len(uncovered_texts(frame)) and len(whole.sample) == min(k, whole.total)
    for name, parts in row_splits(frame).items():
        total = sum(E.uncovered_partial(p, k) for p in parts)
        assert total.total == whole.total
        pd.testing.assert_frame_equal(total.sample, whole.sample, obj=name)
    if k == 5_000:
        pd.testing.assert_frame_equal(uncovered_sample_of(whole, MONTH), uncovered_sample(frame, MONTH))


def _emerging_in_parts(parts, history, month):
    """Two rounds: the sample added up and the models fitted on it, then each part counted with them."""
    past = history.uncovered[history.uncovered[S.MONTH] < month]
    texts, months = past[S.TEXT].astype(object), past[S.MONTH].astype(str)
    sample = sum(E.uncovered_partial(p) for p in parts)
    models = E.fit_emerging(sample.texts, sample.total, texts, months,
                            previous_month=previous_month(history, month))
    counts = sum(E.emerging_counts(uncovered_texts(p), models) for p in parts)
    return E.emerging_from_counts(models, counts, texts, months, month=month)


def test_emerging_themes_from_parts(sample_result, generated):
    r = sample_result
    candidates, growth = r.emerging
    assert candidates and "dial / dial tone / tone" in {c.label for c in candidates}
    for frame in (r.frame, generated):
        want = emerging_themes(frame, r.history, r.month)
        for name, parts in row_splits(frame).items():
            got = _emerging_in_parts(parts, r.history, r.month)
            assert got[0] == want[0], name
            pd.testing.assert_frame_equal(got[1], want[1], obj=name)


# --------------------------------------------------------------------------- #
# Through MonthParts: the month's tables from its parts
# --------------------------------------------------------------------------- #
SHOWN = ("service", "service_comparison", "call_list", "recognition", "fix_first", "quote_themes", "quotes", "kpi_tables",
         "kpi_trend")


def test_month_tables_from_parts_hold_the_shown_tables(sample_result):
    r = sample_result
    themes = list(r.taxonomy.ids)
    contacts = r.history.contacts
    for name, parts in customer_splits(r.frame).items():
        window = sum((sv.contact_window(p, None) for p in parts), sv.contact_window(r.frame.iloc[0:0], contacts))
        total = sum(month_parts(p, r.month, themes, r.config, contacts=contacts, window=window, customer_buckets=True)
                    for p in parts)
        tables = month_tables_from_parts(total, r.history, r.month, r.config, r.taxonomy)
        for field in SHOWN:
            pd.testing.assert_frame_equal(tables[field], getattr(r, field), obj=f"{name}: {field}")
        assert tables["volume"] == r.volume
        got = emerging_from_parts(total.shown.uncovered,
                                  lambda models, parts=parts: (E.emerging_counts(uncovered_texts(p), models)
                                                               for p in parts), r.history, r.month)
        assert got[0] == r.emerging[0]
        pd.testing.assert_frame_equal(got[1], r.emerging[1], obj=name)
        pd.testing.assert_frame_equal(uncovered_sample_of(total.shown.uncovered, r.month),
                                      r.aggregates()["uncovered"])
