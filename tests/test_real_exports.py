"""Every real export layout parses into the canonical frame with the expected row counts.

Fixtures: tests/fixtures/real (see its README for sources and licences). When the full
real files are present (``../shared/real``), one more test reads each of them.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from feedbacklib import schema as S
from feedbacklib.clean import clean_responses
from feedbacklib.config import default_config
from feedbacklib.io import detect_platform, read_export

REAL = Path(__file__).parent / "fixtures" / "real"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "real"

# file -> (platform, rows read, rows kept, {reason kind: count})
EXPECTED = {
    "cfpb_website_export.csv": ("cfpb", 6, 6, {}),
    "cfpb_with_preamble.csv": ("cfpb", 5, 5, {}),
    "cfpb_truncated.csv": ("cfpb", 4, 3, {"truncated record": 1}),
    "google_forms_responses.csv": ("google_forms", 8, 8, {}),
    "microsoft_forms_responses.csv": ("microsoft_forms", 7, 7, {}),
    "surveymonkey_own.csv": ("surveymonkey", 4, 4, {}),
    "surveymonkey_own.xlsx": ("surveymonkey", 4, 4, {}),
    "zendesk_view_own.csv": ("zendesk", 4, 2, {"superseded": 1, "deleted ticket": 1}),
    "qualtrics_own.xlsx": ("qualtrics", 3, 2, {"excluded status": 1}),
    "qualtrics_own_utf16.tsv": ("qualtrics", 3, 2, {"excluded status": 1}),
}


@pytest.fixture
def config(tmp_path, monkeypatch):
    monkeypatch.setenv("FEEDBACK_PII_SALT", "test-salt-not-secret")
    return default_config(tmp_path, timezone="Europe/London")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_layout_parses(name, config):
    platform, read, kept, reasons = EXPECTED[name]
    export = read_export(REAL / name, config=config)
    assert export.platform == platform and export.confidence >= 0.5
    result = clean_responses([export], config)
    q = result.quality.iloc[0]
    assert (q["rows_read"], q["rows_kept"], q["rows_quarantined"]) == (read, kept, read - kept)
    for kind, count in reasons.items():
        assert q[kind] == count, kind
    frame = result.frame
    assert tuple(frame.columns) == S.CANONICAL_COLUMNS
    assert frame[S.RECEIVED_AT].notna().all() and frame[S.TEXT].notna().all()


def test_cfpb_mapping(config):
    res = clean_responses([read_export(REAL / "cfpb_website_export.csv", config=config)], config)
    f = res.frame
    assert set(f[S.SOURCE]) == {"complaint"} and set(f[S.PLATFORM]) == {"cfpb"}
    assert set(f[S.CHANNEL]) == {"web"} and (f[S.TEAM] == S.UNKNOWN).all()
    assert f[S.RECEIVED_AT].dt.year.eq(2023).all()                  # MM/DD/YY
    assert not f[S.CATEGORY].str.contains("None").any()              # placeholder dropped
    assert f[S.RESOLVED_REPORTED].notna().all()
    assert f[S.TEXT].str.len().min() > 20
    assert not f[S.TEXT].str.contains("\n").any()                    # embedded LF normalised


def test_cfpb_truncated_record_keeps_original(config):
    export = read_export(REAL / "cfpb_truncated.csv", config=config)
    res = clean_responses([export], config)
    q = res.quarantine
    assert list(q[S.SOURCE_ROW]) == [3] and q["reason"].iloc[0].startswith("truncated record")
    assert "Credit reporting" in q["original"].iloc[0]


def test_forms_mapping(config):
    g = clean_responses([read_export(REAL / "google_forms_responses.csv", config=config)], config).frame
    assert g[S.TEXT].str.len().gt(0).all()                             # the "rationale" question
    assert g[S.RECEIVED_AT].min() == pd.Timestamp("2025-01-15 21:53:05", tz="UTC")
    m_export = read_export(REAL / "microsoft_forms_responses.csv", config=config)
    assert any("\u2019" in str(v) for v in m_export.raw.stack())       # cp1252 0x92 decoded
    m = clean_responses([m_export], config).frame
    assert m[S.RESPONSE_ID].str.startswith("microsoft_forms-").all()
    assert m[S.CUSTOMER_KEY].isna().all()                              # "anonymous" is no customer


def test_surveymonkey_mapping(config):
    for name in ("surveymonkey_own.csv", "surveymonkey_own.xlsx"):
        f = clean_responses([read_export(REAL / name, config=config)], config).frame
        f = f.set_index(S.RESPONSE_ID)
        assert f.loc["sm-11482019001", S.CSAT] == 5 and f.loc["sm-11482019001", S.NPS] == 10
        assert f.loc["sm-11482019003", S.CSAT] == 5                    # "5 - Extremely satisfied"
        assert f.loc["sm-11482019002", S.TEAM] == "NW Manila"          # Other (please specify)
        assert "[phone]" in f.loc["sm-11482019002", S.TEXT]
        assert f.loc["sm-11482019003", S.TEXT] == ""                   # "n/a"
        assert f.loc["sm-11482019001", S.RECEIVED_AT] == pd.Timestamp("2026-10-01 08:15:02", tz="UTC")


def test_qualtrics_xlsx_and_utf16_agree(config):
    a = clean_responses([read_export(REAL / "qualtrics_own.xlsx", config=config)], config).frame
    b = clean_responses([read_export(REAL / "qualtrics_own_utf16.tsv", config=config)], config).frame
    cols = [S.RESPONSE_ID, S.RECEIVED_AT, S.CSAT, S.NPS, S.TEXT, S.TEAM]
    pd.testing.assert_frame_equal(a[cols], b[cols])
    assert a[S.TEXT].iloc[1] == "Nobody listened \u2014 don\u2019t bother"  # mojibake repaired
    assert a[S.RECEIVED_AT].iloc[1] == pd.Timestamp("2026-11-01 02:33", tz="UTC")  # New York time
    assert list(a[S.MONTH]) == ["2026-10", "2026-11"]


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared/real is not present")
def test_every_shared_real_file(config):
    expected = {
        "aravindsriraj_complaints_truncated_1MiB.csv": ("cfpb", 1484, {"truncated record": 1}),
        "nyu_bdm_hw3_complaints_sample.csv": ("cfpb", 4671, {}),
        "predatory_lending_raw_2025.csv": ("cfpb", 90, {}),
        "predatory_lending_small_sample_2023.csv": ("cfpb", 1964, {}),
        "riskguard_complaints_sample.csv": ("cfpb", 209, {"truncated record": 1}),
        "ujjwal260_complaints_sample.csv": ("cfpb", 676, {}),
        "hot_dog_survey_spring25_form_responses_1.csv": ("google_forms", 64, {}),
        "hot_dog_form_fa24.csv": ("microsoft_forms", 187, {}),
        "ldi_testing_preservation_export.csv": ("qualtrics", 25, {"excluded status": 2}),
        "qualtRics_sample.csv": ("qualtrics", 1, {}),
        "qualtRics_sample_legacy.csv": ("qualtrics", 1, {}),
        "survey_monkey_output.xlsx": ("surveymonkey", 198, {}),
        "zendesk_incremental_tickets_page1.json": ("zendesk", 1000, {"deleted ticket": 515}),
    }
    for path in sorted(SHARED.glob("*/*")):
        if path.name not in expected:
            continue
        platform, rows, reasons = expected[path.name]
        assert detect_platform(path, config=config)[0] == platform, path.name
        export = read_export(path, config=config)
        res = clean_responses([export], config)
        q = res.quality.iloc[0]
        assert q["rows_read"] == rows == q["rows_kept"] + q["rows_quarantined"], path.name
        for kind, count in reasons.items():
            assert q[kind] == count, (path.name, kind)
