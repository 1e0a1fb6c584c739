"""Cleaning (feedbacklib.clean): canonical frame, quarantine, quality, invariants."""

from __future__ import annotations

import json
from pathlib import Path

import hypothesis.strategies as st
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings

from feedbacklib import schema as S
from feedbacklib.clean import (
    ORIGINAL, REASON_KINDS, CleanResult, clean_responses, clean_text, customer_keys, normalise_channel,
    normalise_whitespace, parse_timestamps, repair_mojibake, validate_canonical,
)
from feedbacklib.config import load_config
from feedbacklib.errors import FeedbackError, SchemaError
from feedbacklib.io import Export, read_export

from .test_io import CONFIG_TOML as TOML  # one test configuration for readers and cleaning

FIX = Path(__file__).parent / "fixtures" / "io"
FILES = ("qualtrics_small.csv", "zendesk_small.json", "complaints_small.csv", "generic_small.csv",
         "qualtrics_ldi_layout_own.csv", "qualtrics_real_sample.csv", "qualtrics_real_legacy.csv",
         "zendesk_api_layout_own.json")


def make_config(tmp_path: Path, extra: str = ""):
    path = tmp_path / "feedback.toml"
    path.write_text(TOML + extra, encoding="utf-8")
    return load_config(path)


@pytest.fixture
def config(tmp_path, monkeypatch):
    monkeypatch.setenv("FEEDBACK_PII_SALT", "test-salt-not-secret")
    return make_config(tmp_path)


@pytest.fixture(scope="module")
def exports():
    return [read_export(FIX / name) for name in FILES]


@pytest.fixture
def result(exports, config) -> CleanResult:
    return clean_responses(exports, config)


def by_id(result: CleanResult) -> pd.DataFrame:
    return result.frame.set_index(S.RESPONSE_ID)


def reasons(result: CleanResult, file: str) -> dict[int, str]:
    q = result.quarantine[result.quarantine[S.SOURCE_FILE] == file]
    return dict(zip(q[S.SOURCE_ROW].astype(int), q[S.QUARANTINE_REASON]))


# --------------------------------------------------------------------------- shape

def test_frame_matches_schema(result):
    frame = result.frame
    assert tuple(frame.columns) == S.CANONICAL_COLUMNS
    for col, dtype in S.CANONICAL_DTYPES.items():
        assert str(frame[col].dtype) == str(pd.api.types.pandas_dtype(dtype)), col
    assert isinstance(frame.index, pd.RangeIndex) and frame.index.start == 0
    ordered = frame.sort_values([S.RECEIVED_AT, S.RESPONSE_ID]).reset_index(drop=True)
    pd.testing.assert_frame_equal(frame, ordered)
    validate_canonical(frame)


def test_rows_in_equal_kept_plus_quarantined(result, exports):
    q = result.quality
    assert (q["rows_read"] == q["rows_kept"] + q["rows_quarantined"]).all()
    assert len(result.frame) + len(result.quarantine) == sum(len(e.raw) for e in exports)
    assert list(q["file"]) == list(FILES)
    kinds = q[list(REASON_KINDS)].sum(axis=1)
    assert (kinds == q["rows_quarantined"]).all()


def test_quarantine_layout_and_original_values(result, exports, config):
    qu = result.quarantine
    assert tuple(qu.columns) == (*S.QUARANTINE_COLUMNS, ORIGINAL)
    row = qu[(qu[S.SOURCE_FILE] == "qualtrics_small.csv") & (qu[S.SOURCE_ROW] == 5)].iloc[0]
    original = json.loads(row[ORIGINAL])
    assert original["Q1"] == "7" and original["ResponseId"] == "R_006"
    assert original["RecipientEmail"] is None
    # the original cells, redacted: identity columns blanked, the customer id replaced by its key
    raw = {k: (None if pd.isna(v) else v) for k, v in exports[0].raw.loc[5].items()}
    redacted = {"IPAddress", "LocationLatitude", "LocationLongitude"}
    assert {k: v for k, v in original.items() if k not in redacted | {"customer_id"}} == {
        k: v for k, v in raw.items() if k not in redacted | {"customer_id"}}
    assert all(original[k] == "[redacted]" for k in redacted) and raw["IPAddress"] == "203.0.113.5"
    assert original["customer_id"] == f"[customer {customer_keys(pd.Series([raw['customer_id']]), config).iloc[0]}]"


# --------------------------------------------------------------------------- rules

def test_quarantine_reasons(result):
    assert reasons(result, "qualtrics_small.csv") == {
        2: "status Survey Preview", 3: "status Spam", 5: "csat out of range (7)",
        6: "duplicate of R_001",
    }
    assert reasons(result, "zendesk_small.json") == {3: "deleted ticket"}
    assert reasons(result, "complaints_small.csv") == {2: "unparseable date in Date received"}
    assert reasons(result, "generic_small.csv") == {2: "unparseable date in received_at"}
    assert reasons(result, "qualtrics_ldi_layout_own.csv") == {
        2: "status Survey Preview", 3: "status Survey Preview"}
    # two tickets from one requester with the same text are two contacts (issue 15.6): not a repeat
    assert reasons(result, "zendesk_api_layout_own.json") == {2: "deleted ticket"}


def test_unfinished_policy(exports, tmp_path, monkeypatch):
    monkeypatch.setenv("FEEDBACK_PII_SALT", "test-salt-not-secret")
    cfg = make_config(tmp_path, '\n[platforms.qualtrics]\nunfinished = "quarantine"\n')
    res = clean_responses(exports[:1], cfg)
    assert reasons(res, "qualtrics_small.csv")[4] == "unfinished response"
    assert res.quality.loc[0, "unfinished response"] == 1


def test_values_mapped(result):
    f = by_id(result)
    r1 = f.loc["R_001"]
    assert (r1[S.SOURCE], r1[S.PLATFORM], r1[S.CSAT], r1[S.NPS]) == ("survey", "qualtrics", 5, 10)
    assert (r1[S.TEAM], r1[S.SERVICE_MODEL], r1[S.CHANNEL], r1[S.CATEGORY]) == (
        "Customer Care London", "in_house", "phone", "billing")
    assert r1[S.MONTH] == "2026-07"
    r2 = f.loc["R_002"]
    assert (r2[S.TEAM], r2[S.SERVICE_MODEL], r2[S.VENDOR]) == ("Northwind Manila", "outsourced", "Northwind BPO")
    assert r2[S.TEXT] == "Line 1 of complaint line 2: they don\u2019t listen. Email me at [email]"
    assert f.loc["R_005", S.TEXT] == ""                      # "n/a" keeps the row, empty text
    assert f.loc["R_008", S.TEXT] == "Quick and easy"
    assert (f.loc["R_008", S.TEAM], f.loc["R_008", S.SERVICE_MODEL]) == ("Mystery Team", "unknown")
    assert f.loc["R_008", S.CHANNEL] == "unknown"
    assert pd.isna(f.loc["R_008", S.CUSTOMER_KEY])


def test_zendesk_values(result):
    f = by_id(result)
    t = f.loc["zd-101"]
    assert (t[S.SOURCE], t[S.CSAT], t[S.TEAM], t[S.SERVICE_MODEL]) == ("ticket", 5, "Northwind Manila", "outsourced")
    assert (t[S.FIRST_RESPONSE_HOURS], t[S.RESOLUTION_HOURS]) == (1.5, 20.0)
    assert bool(t[S.RESOLVED_REPORTED]) is True and bool(t[S.REOPENED]) is False
    assert t[S.CATEGORY] == "billing"
    assert t[S.RECEIVED_AT] == pd.Timestamp("2026-07-01 08:00", tz="UTC")
    assert f.loc["zd-102", S.MONTH] == "2026-07"
    assert f.loc["zd-103", S.TEAM] == "unknown" and pd.isna(f.loc["zd-103", S.CSAT])
    assert f.loc["zd-105", S.CHANNEL] == "web"
    # same requester -> same key; key is 16 hex chars of the salted hash
    assert f.loc["zd-101", S.CUSTOMER_KEY] == f.loc["zd-105", S.CUSTOMER_KEY]
    assert len(f.loc["zd-101", S.CUSTOMER_KEY]) == 16


def test_complaints_values(result):
    f = by_id(result)
    c = f.loc["CMP-0001"]
    assert c[S.TEXT] == "Charged twice for one order; card [card] was used"
    assert f.loc["CMP-0002", S.TEXT] == "Parcel never arrived, order 4111 1111 1111 1112"
    assert c[S.RECEIVED_AT] == pd.Timestamp("2026-07-01 23:00", tz="UTC")  # 02/07 London midnight
    assert c[S.TEAM] == "Billing Team" and c[S.CHANNEL] == "unknown"
    assert f.loc["CMP-0004", S.TEXT] == "" and f.loc["CMP-0004", S.TEAM] == "Customer Care London"
    assert pd.isna(c[S.CSAT]) and pd.isna(c[S.NPS])


def test_generic_row_without_id_gets_hash(result):
    generic = result.frame[result.frame[S.PLATFORM] == "generic"]
    ids = set(generic[S.RESPONSE_ID])
    assert "G1" in ids
    hashed = [i for i in ids if i != "G1"]
    assert len(hashed) == 1 and hashed[0].startswith("generic-")


def test_duplicates_across_files(exports, config):
    res = clean_responses([exports[1], exports[1]], config)
    assert len(res.frame) == 4
    dup = res.quarantine[res.quarantine[S.QUARANTINE_REASON].str.startswith("duplicate of")]
    assert set(dup[S.QUARANTINE_REASON]) == {"duplicate of zd-101", "duplicate of zd-102",
                                             "duplicate of zd-103", "duplicate of zd-105"}


def test_input_not_mutated(exports, config):
    before = [e.raw.copy(deep=True) for e in exports]
    clean_responses(exports, config)
    for e, b in zip(exports, before):
        pd.testing.assert_frame_equal(e.raw, b)


def test_deterministic(exports, config):
    a = clean_responses(exports, config)
    b = clean_responses(exports, config)
    pd.testing.assert_frame_equal(a.frame, b.frame)
    pd.testing.assert_frame_equal(a.quarantine, b.quarantine)


def test_cleaning_the_clean_frame_changes_nothing(result, config, tmp_path):
    """Feed the cleaned frame back as a generic export: the canonical values survive."""
    frame = result.frame
    raw = frame.astype({S.RECEIVED_AT: "string"}).astype("string")
    raw[S.RECEIVED_AT] = frame[S.RECEIVED_AT].dt.strftime("%Y-%m-%dT%H:%M:%SZ").astype("string")
    raw = raw.drop(columns=[S.CUSTOMER_KEY])
    export = Export(path=tmp_path / "again.csv", platform="generic", confidence=1.0, raw=raw)
    again = clean_responses([export], config).frame
    assert len(again) == len(frame)
    keep = [S.RESPONSE_ID, S.RECEIVED_AT, S.MONTH, S.TEAM, S.SERVICE_MODEL, S.VENDOR, S.CHANNEL,
            S.CSAT, S.NPS, S.TEXT, S.RESOLVED_REPORTED, S.REOPENED, S.CATEGORY]
    pd.testing.assert_frame_equal(again[keep], frame[keep])


def test_text_steps_idempotent():
    s = pd.Series(["  donâ€™t   like\tit ", "n/a", "NONE", None, "call 07700 900123", "ok 😀"], dtype="string")
    once = clean_text(s)
    assert once.tolist() == ["don\u2019t like it", "", "", "", "call [phone]", "ok 😀"]
    pd.testing.assert_series_equal(clean_text(once), once)
    assert repair_mojibake(pd.Series(["cafÃ©"], dtype="string")).iloc[0] == "café"
    assert normalise_whitespace(pd.Series(["a \n\n b"], dtype="string")).iloc[0] == "a b"


def test_channels():
    s = pd.Series(["Phone", " EMAIL", "Live Chat", "Web form", "Letter", "twitter", None, "fax"], dtype="string")
    assert normalise_channel(s).tolist() == ["phone", "email", "chat", "web", "unknown", "social",
                                             "unknown", "unknown"]


def test_parse_timestamps():
    s = pd.Series(["2026-01-15 08:00:00", "2026-07-03T14:22:10Z", "03/07/2026", "46206",
                   "2026-07-03 14:22:10.5", "rubbish", None, "9999-01-01"], dtype="string")
    out = parse_timestamps(s, timezone="Europe/London")
    assert out.iloc[0] == pd.Timestamp("2026-01-15 08:00", tz="UTC")        # GMT in winter
    assert out.iloc[1] == pd.Timestamp("2026-07-03 14:22:10", tz="UTC")     # explicit Z
    assert out.iloc[2] == pd.Timestamp("2026-07-02 23:00", tz="UTC")        # dd/mm, BST
    assert out.iloc[3].date().isoformat() == "2026-07-02"                   # Excel serial
    assert out.iloc[4] == pd.Timestamp("2026-07-03 13:22:10.5", tz="UTC")
    assert out.iloc[5:].isna().all()


def test_schema_error_lists_every_problem(result):
    broken = result.frame.copy()
    broken[S.CSAT] = broken[S.CSAT].astype("Int64")
    broken.loc[0, S.RESPONSE_ID] = None
    broken.loc[0, S.MONTH] = "July"
    with pytest.raises(SchemaError) as info:
        validate_canonical(broken)
    msg = str(info.value)
    assert "csat" in msg and "response_id" in msg and "YYYY-MM" in msg and "3 way" in msg


def test_no_exports(config):
    res = clean_responses([], config)
    assert tuple(res.frame.columns) == S.CANONICAL_COLUMNS and len(res.frame) == 0
    assert len(res.quarantine) == 0 and len(res.quality) == 0


# --------------------------------------------------------------------------- property

CELL = st.one_of(
    st.none(), st.just(""), st.just("=cmd()"), st.just("n/a"), st.just("😀🔥"),
    st.just("2026-07-03 14:22:10"), st.just("31/02/2026"), st.just("07700 900123"),
    st.sampled_from(["1", "5", "7", "-1", "4.5", "nan", "inf", "1e400", "10"]),
    st.text(max_size=30),
    st.integers(1_000, 50_000).map(lambda n: ("ab 😀\n\"'" * n)[:n * 3]),  # huge strings
)
COLUMNS = {
    "generic": [S.RESPONSE_ID, S.RECEIVED_AT, S.TEAM, S.CHANNEL, S.CSAT, S.NPS, S.TEXT, "customer_id"],
    "complaints": ["Reference", "Date received", "Category", "Description", "Handled by", "Outcome",
                   "Channel", "Customer ID"],
    "qualtrics": ["RecordedDate", "EndDate", "Status", "Finished", "ResponseId", "Q1", "Q2", "Q3",
                  "team", "channel", "customer_id", "contact_reason"],
    "zendesk": ["id", "created_at", "via.channel", "status", "group_id", "requester_id", "description",
                "satisfaction_rating.score", "satisfaction_rating.comment"],
}


@st.composite
def random_exports(draw):
    out = []
    for i in range(draw(st.integers(1, 3))):
        platform = draw(st.sampled_from(sorted(COLUMNS)))
        cols = COLUMNS[platform]
        n = draw(st.integers(0, 6))
        rows = [[draw(CELL) for _ in cols] for _ in range(n)]
        raw = pd.DataFrame(rows, columns=cols, dtype="object").astype("string")
        raw.index = pd.RangeIndex(n)
        out.append(Export(path=Path(f"f{i}.csv"), platform=platform, confidence=1.0, raw=raw))
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(random_exports())
def test_property_invariant(config, exps):
    before = [e.raw.copy(deep=True) for e in exps]
    try:
        res = clean_responses(exps, config)
    except FeedbackError:
        return
    assert len(res.frame) + len(res.quarantine) == sum(len(e.raw) for e in exps)
    q = res.quality
    assert (q["rows_read"] == q["rows_kept"] + q["rows_quarantined"]).all()
    assert tuple(res.frame.columns) == S.CANONICAL_COLUMNS
    validate_canonical(res.frame)
    for e, b in zip(exps, before):
        pd.testing.assert_frame_equal(e.raw, b)


# --------------------------------------------------------------------------- issue 3

def test_rating_labels_and_scales(config):
    from feedbacklib.clean import parse_score, CSAT_LABELS, NPS_LABELS
    s = pd.Series(["Very satisfied", "5 - Extremely satisfied", "neutral", "2", "Awful", None,
                   "10 (Extremely likely)"], dtype="string")
    csat, reason = parse_score(s, low=1, high=5, name="csat", labels=CSAT_LABELS)
    assert csat.tolist()[:5] == [5, 5, 3, 2, pd.NA] and reason.iloc[4].startswith("csat not a number")
    assert reason.iloc[6].startswith("csat out of range")
    ten = pd.Series(["1", "10", "6", "Very satisfied"], dtype="string")
    csat10, _ = parse_score(ten, low=1, high=5, name="csat", labels=CSAT_LABELS, scale=(1, 10))
    assert csat10.tolist() == [1, 5, 3, 5]
    nps, _ = parse_score(pd.Series(["10 (Extremely likely)", "Not at all likely", "7"], dtype="string"),
                         low=0, high=10, name="nps", labels=NPS_LABELS)
    assert nps.tolist() == [10, 0, 7]


def test_cleaning_settings_from_toml(tmp_path, monkeypatch):
    from feedbacklib.clean import cleaning_settings
    monkeypatch.setenv("FEEDBACK_PII_SALT", "test-salt-not-secret")
    toml = tmp_path / "feedback.toml"
    toml.write_text('[cleaning]\nduplicate_window_hours = 2\ncsat_scale = [0, 10]\n'
                    '[cleaning.csat_labels]\n"Loved it" = 5\n[platforms.generic]\ncsat_scale = [1, 7]\n',
                    encoding="utf-8")
    cfg = load_config(toml)
    s = cleaning_settings(cfg)
    assert s["duplicate_window_hours"] == 2 and s["csat_scale"] == (0.0, 10.0)
    assert s["csat_labels"]["loved it"] == 5 and s["csat_labels"]["very satisfied"] == 5
    assert cleaning_settings(cfg, "generic")["csat_scale"] == (1.0, 7.0)


def _generic(tmp_path, name, rows):
    path = tmp_path / name
    pd.DataFrame(rows).to_csv(path, index=False)
    return read_export(path, platform="generic")


def test_repeat_within_window_is_quarantined(tmp_path, config):
    rows = {"response_id": ["a", "b", "c", "d"],
            "received_at": ["2026-07-01 10:00", "2026-07-01 20:00", "2026-07-03 10:00", "2026-07-01 11:00"],
            "customer_id": ["C1", "C1", "C1", "C2"],
            "text": ["Still broken", "still  broken", "Still broken", "Still broken"]}
    res = clean_responses([_generic(tmp_path, "g.csv", rows)], config)
    assert sorted(res.frame[S.RESPONSE_ID]) == ["a", "c", "d"]
    assert res.quarantine["reason"].tolist() == ["repeat of a (same customer and text within 24h)"]
    assert res.quality["repeat"].tolist() == [1]


def test_repeats_chain_within_the_window(tmp_path, config):
    """Each copy is compared with the customer's previous copy of the same text (ends of the
    window included); a copy more than the window after it starts a new chain. Texts of the
    same length but other words, and other customers, never repeat one."""
    rows = {"response_id": list("abcdefg"),
            "received_at": ["2026-07-01 10:00", "2026-07-02 08:00", "2026-07-03 08:00", "2026-07-04 09:00",
                            "2026-07-04 10:00", "2026-07-05 08:00", "2026-07-01 11:00"],
            "customer_id": ["C1"] * 6 + ["C2"],
            "text": ["Still broken", "still broken", "STILL BROKEN", "Still broken", "Still brokes",
                     "Still broken", "Still broken"]}
    res = clean_responses([_generic(tmp_path, "g.csv", rows)], config)
    assert sorted(res.frame[S.RESPONSE_ID]) == ["a", "d", "e", "g"]
    reasons = dict(zip(res.quarantine[S.SOURCE_ROW], res.quarantine["reason"]))
    assert reasons == {1: "repeat of a (same customer and text within 24h)",
                       2: "repeat of a (same customer and text within 24h)",
                       5: "repeat of d (same customer and text within 24h)"}


def test_newest_copy_of_a_ticket_wins_across_files(tmp_path, config):
    base = json.loads((FIX / "zendesk_small.json").read_text(encoding="utf-8"))
    newer = json.loads(json.dumps(base))
    for t in newer["tickets"]:
        t["updated_at"] = "2026-12-01T00:00:00Z"
        t["generated_timestamp"] = 1796083200
        t["description"] = "newer state"
    (tmp_path / "a.json").write_text(json.dumps(newer), encoding="utf-8")
    (tmp_path / "b.json").write_text(json.dumps(base), encoding="utf-8")
    exports = [read_export(tmp_path / "a.json", config=config), read_export(tmp_path / "b.json", config=config)]
    res = clean_responses(exports, config)
    reasons_b = res.quarantine[res.quarantine[S.SOURCE_FILE] == "b.json"]["reason"]
    assert reasons_b.str.startswith("superseded by a later copy of zd-").sum() == 4
    assert (res.frame[S.SOURCE_FILE] == "a.json").sum() == 4


def test_sample_month_keeps_the_later_ticket_state(config):
    from feedbacklib.io import read_export as rx
    sample = Path(__file__).resolve().parents[1] / "data" / "sample" / "zendesk_tickets_2026-10.json"
    res = clean_responses([rx(sample, config=config)], config)
    q = res.quarantine
    assert q["reason"].str.startswith("superseded by a later copy of zd-493511").sum() == 1
    assert q["reason"].str.startswith("duplicate of zd-494486").sum() == 1


def test_truncated_and_mojibake_mixed(tmp_path, config):
    path = tmp_path / "g.csv"
    path.write_text('response_id,received_at,text\nr1,2026-07-01,"caf\u00c3\u00a9 \u2014 ok"\n'
                    'r2,2026-07-02,"cut off', encoding="utf-8")
    res = clean_responses([read_export(path, platform="generic")], config)
    assert res.frame[S.TEXT].tolist() == ["caf\u00e9 \u2014 ok"]
    assert res.quality["truncated record"].tolist() == [1]
