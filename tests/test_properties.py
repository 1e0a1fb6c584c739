"""Property tests (hypothesis) for reading and cleaning invariants.

- any bytes shaped like an export (random cells, header noise, encodings,
  truncation) raise nothing but FeedbackError subclasses;
- rows read = rows kept + rows quarantined, always;
- cleaning the canonical output again (through the generic reader) changes nothing material;
- inputs (export frames, series) are never modified.
"""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedbacklib import clean
from feedbacklib import schema as S
from feedbacklib.arrowstr import matches
from feedbacklib.clean import clean_responses, clean_text
from feedbacklib.config import default_config
from feedbacklib.errors import FeedbackError
from feedbacklib.io import read_export
from feedbacklib.pii import _redact_all, redact_pii

SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

HEADERS = [
    ["response_id", "received_at", "text", "csat", "nps", "team", "customer_id"],
    ["Date received", "Product", "Sub-product", "Issue", "Sub-issue", "Consumer complaint narrative",
     "Company public response", "Company", "State", "ZIP code", "Tags", "Consumer consent provided?",
     "Submitted via", "Date sent to company", "Company response to consumer", "Timely response?",
     "Consumer disputed?", "Complaint ID"],
    ["Id", "Start time", "Completion time", "Email", "Name", "How satisfied were you?", "Why?"],
    ["Timestamp", "How likely are you to recommend us?", "Any comments?"],
    ["ID", "Subject", "Requester", "Group", "Assignee", "Status", "Created", "Updated", "Satisfaction"],
]
cell = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["", "n/a", "None", "N/A", "5", "10 (Extremely likely)", "Very satisfied",
                     "2026-07-01 10:00", "07/04/26", "46206", "=cmd()", "a\nb", '"', "ann@example.com",
                     "4111 1111 1111 1111", "GB82 WEST 1234 5698 7654 32", "donâ€™t", "\u00a0"]),
)


@st.composite
def export_bytes(draw):
    header = list(draw(st.sampled_from(HEADERS)))
    if draw(st.booleans()):  # header noise
        i = draw(st.integers(0, len(header) - 1))
        header[i] = draw(st.sampled_from([header[i].upper(), " " + header[i] + " ", header[i] + "?", ""]))
    rows = draw(st.lists(st.lists(cell, min_size=len(header), max_size=len(header)), max_size=6))
    delim = draw(st.sampled_from([",", "\t", ";"]))

    def quote(v: str) -> str:
        return '"' + v.replace('"', '""') + '"' if any(c in v for c in (delim, '"', "\n", "\r")) else v

    eol = draw(st.sampled_from(["\n", "\r\n"]))
    preamble = draw(st.sampled_from(["", "Archive:  complaints.zip\n"]))
    text = preamble + eol.join(delim.join(quote(c) for c in r) for r in [header, *rows]) + eol
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]))
    data = text.encode(encoding, errors="replace")
    if draw(st.booleans()):  # truncation
        data = data[: draw(st.integers(0, len(data)))]
    return data


@pytest.fixture
def config(tmp_path, monkeypatch):
    monkeypatch.setenv("FEEDBACK_PII_SALT", "prop-salt-not-secret")
    return default_config(tmp_path, timezone="Europe/London")


@SETTINGS
@given(data=export_bytes(), platform=st.sampled_from([None, None, "generic", "cfpb", "google_forms"]))
def test_any_export_reads_or_fails_with_feedback_error(tmp_path, config, data, platform):
    path = tmp_path / "x.csv"
    path.write_bytes(data)
    try:
        export = read_export(path, platform=platform, config=config)
    except FeedbackError:
        return
    before = export.raw.copy()
    try:
        result = clean_responses([export], config)
    except FeedbackError:
        return
    q = result.quality.iloc[0]
    assert q["rows_read"] == len(export.raw) == q["rows_kept"] + q["rows_quarantined"]
    assert len(result.frame) + len(result.quarantine) == len(export.raw)
    pd.testing.assert_frame_equal(export.raw, before)  # input never modified


comment = st.one_of(
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=60),
    st.sampled_from(["call me on 07700 900123", "n/a", "card 4111 1111 1111 1111 pls", "fine",
                     "caf\u00e9 \u2014 ok", "  spaced   out  ", "IBAN DE89 3704 0044 0532 0130 00"]),
)


@settings(SETTINGS, max_examples=12)
@given(texts=st.lists(comment, min_size=1, max_size=8),
       scores=st.lists(st.sampled_from(["", "1", "3", "5", "Very satisfied", "9"]), min_size=8, max_size=8))
def test_cleaning_is_idempotent(tmp_path, config, texts, scores):
    n = len(texts)
    raw = pd.DataFrame({
        "response_id": [f"r{i}" for i in range(n)],
        "received_at": [f"2026-07-{i + 1:02d} 10:00:00" for i in range(n)],
        "text": texts, "csat": scores[:n], "team": ["Billing"] * n,
    })
    first_path = tmp_path / "first.csv"
    raw.to_csv(first_path, index=False)
    first = clean_responses([read_export(first_path, platform="generic", config=config)], config)
    again_path = tmp_path / "again.parquet"
    first.frame.to_parquet(again_path)
    again = clean_responses([read_export(again_path, platform="generic", config=config)], config)
    cols = [S.RESPONSE_ID, S.RECEIVED_AT, S.MONTH, S.TEAM, S.SERVICE_MODEL, S.CHANNEL, S.CSAT, S.NPS, S.TEXT]
    a = first.frame[cols].reset_index(drop=True)
    b = again.frame[cols].reset_index(drop=True)
    assert len(again.quarantine) == 0
    pd.testing.assert_frame_equal(a, b)


@SETTINGS
@given(texts=st.lists(st.one_of(st.none(), comment), max_size=10))
def test_text_steps_do_not_mutate_and_are_idempotent(texts):
    s = pd.Series(texts, dtype="string")
    before = s.copy()
    once = clean_text(s)
    pd.testing.assert_series_equal(s, before)
    pd.testing.assert_series_equal(clean_text(once), once)
    pd.testing.assert_series_equal(redact_pii(once), once)


@SETTINGS
@given(texts=st.lists(st.one_of(comment, cell), min_size=1, max_size=10))
def test_text_prefilter_skips_only_texts_no_step_changes(texts):
    """clean_text runs its steps only on the texts one RE2 pass flags: any other text must be
    one that mojibake repair, whitespace clean-up and every PII pattern leave as it is."""
    s = pd.Series(texts, dtype="string")
    skipped = s[~matches(s, clean._TEXT_MAY_CHANGE)]
    pd.testing.assert_series_equal(clean.repair_mojibake(skipped), skipped)
    pd.testing.assert_series_equal(clean._collapse_whitespace(skipped), skipped)
    pd.testing.assert_series_equal(_redact_all(skipped), skipped)
