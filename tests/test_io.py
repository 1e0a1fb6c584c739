"""Readers and platform detection (feedbacklib.io)."""

from __future__ import annotations

import codecs
import json
import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from feedbacklib import schema as S
from feedbacklib.config import load_config
from feedbacklib.errors import ConfigError, DetectionError, InputError
from feedbacklib.io import Export, detect_platform, read_export, read_exports, stage_export

FIX = Path(__file__).parent / "fixtures" / "io"

CONFIG_TOML = """
[project]
timezone = "Europe/London"
salt_file = "salt.txt"

[[teams]]
name = "Customer Care London"
service_model = "in_house"
aliases = ["CC London"]

[[teams]]
name = "Billing Team"
service_model = "in_house"
aliases = ["Billing"]

[[teams]]
name = "Northwind Manila"
service_model = "outsourced"
vendor = "Northwind BPO"
aliases = ["NW Manila"]

[[teams]]
name = "Sunrise Cape Town"
service_model = "outsourced"
vendor = "Sunrise Contact Services"
aliases = ["Sunrise CPT"]

[platforms.zendesk]
first_response_hours_field = 360001001
resolution_hours_field = 360001002
resolved_reported_field = 360001003
reopened_field = 360001004
category_field = 360001005
good_csat = 5
bad_csat = 1
"""


@pytest.fixture
def config(tmp_path, monkeypatch):
    monkeypatch.setenv("FEEDBACK_PII_SALT", "test-salt-not-secret")
    path = tmp_path / "feedback.toml"
    path.write_text(CONFIG_TOML, encoding="utf-8")
    return load_config(path)


def write_complaints_xlsx(path: Path, rows: list[list[object]], sheet: str = "Complaints") -> Path:
    book = openpyxl.Workbook()
    book.active.title = "Notes"
    book.active["A1"] = "Register exported from the complaints tool"
    ws = book.create_sheet(sheet)
    for row in rows:
        ws.append(row)
    book.save(path)
    return path


COMPLAINT_HEADER = ["Reference", "Date received", "Category", "Description", "Handled by",
                    "Outcome", "Channel", "Customer ID"]


# --------------------------------------------------------------------------- qualtrics

def test_qualtrics_three_header_rows(config):
    export = read_export(FIX / "qualtrics_small.csv", config=config)
    assert export.platform == "qualtrics" and export.confidence > 0.9
    raw = export.raw
    assert len(raw) == 8
    assert list(raw.index) == list(range(8))
    assert raw.columns[0] == "StartDate" and "Q3" in raw.columns  # BOM stripped from the first name
    assert raw.loc[0, "ResponseId"] == "R_001"
    assert raw.loc[1, "Q3"].startswith("Line 1 of complaint\nline 2")  # quoted newline kept
    assert all(str(dt) == "string" for dt in raw.dtypes)
    assert export.meta["timezones"]["RecordedDate"] == "Europe/London"
    assert export.meta["questions"]["Q2"].startswith("How likely")


def test_qualtrics_time_zone_to_utc(config):
    staged = stage_export(read_export(FIX / "qualtrics_small.csv"), config)
    assert staged.timezone == "Europe/London"
    from feedbacklib.clean import clean_responses

    frame = clean_responses([read_export(FIX / "qualtrics_small.csv")], config).frame
    row = frame.set_index(S.RESPONSE_ID).loc["R_001"]
    assert row[S.RECEIVED_AT] == pd.Timestamp("2026-07-03 13:22:10", tz="UTC")  # BST = UTC+1


def test_qualtrics_real_exports_parse(config):
    sample = read_export(FIX / "qualtrics_real_sample.csv")
    assert sample.platform == "qualtrics" and len(sample.raw) == 1
    assert sample.raw.loc[0, "ResponseId"] == "R_2YPOQ602ER1jkf1"
    staged = stage_export(sample, config).frame
    assert staged.loc[0, S.TEXT] == "Hello World!"      # QID2_TEXT: a comment, not a score
    assert pd.isna(staged.loc[0, S.NPS])

    legacy = read_export(FIX / "qualtrics_real_legacy.csv")
    assert legacy.platform == "qualtrics" and len(legacy.raw) == 1
    assert legacy.raw.loc[0, "ResponseID"] == "R_2YPOQ602ER1jkf1"

    ldi = read_export(FIX / "qualtrics_ldi_layout_own.csv")
    assert len(ldi.raw) == 5
    assert ldi.meta["timezones"]["RecordedDate"] == "America/New_York"
    assert (ldi.raw["Status"] == "Survey Preview").sum() == 2


def test_qualtrics_column_override(config, tmp_path):
    text = (FIX / "qualtrics_small.csv").read_bytes().decode("utf-8-sig")
    renamed = text.replace("Q1,Q2,Q3", "Sat,Rec,Why", 1)
    path = tmp_path / "renamed.csv"
    path.write_text(renamed, encoding="utf-8")
    toml = (tmp_path / "feedback.toml")
    toml.write_text(CONFIG_TOML + '\n[platforms.qualtrics.columns]\ncsat = "Sat"\n', encoding="utf-8")
    cfg = load_config(toml)
    staged = stage_export(read_export(path, config=cfg), cfg).frame
    assert staged.loc[0, S.CSAT] == "5"
    # nps and text found from the question wording ("recommend", "tell us why")
    assert staged.loc[0, S.NPS] == "10"
    assert staged.loc[0, S.TEXT].startswith("Great help")


# --------------------------------------------------------------------------- zendesk

def test_zendesk_envelope(config):
    export = read_export(FIX / "zendesk_small.json")
    assert export.platform == "zendesk"
    assert len(export.raw) == 5
    assert export.meta["groups"] == {"9001": "NW Manila", "9002": "Customer Care London"}
    assert export.raw.loc[0, "via.channel"] == "email"
    assert export.raw.loc[0, "custom_fields.360001001"] == "1.5"
    staged = stage_export(export, config).frame
    assert staged.loc[0, S.RESPONSE_ID] == "zd-101"
    assert staged.loc[0, S.CSAT] == "5" and staged.loc[1, S.CSAT] == "1"
    assert pd.isna(staged.loc[2, S.CSAT]) and pd.isna(staged.loc[4, S.CSAT])  # offered / unoffered
    assert staged.loc[0, S.TEXT] == "Sorted quickly, thanks!"
    assert staged.loc[1, S.TEXT] == "Router broken again"  # empty comment -> description
    assert staged.loc[0, S.TEAM] == "NW Manila" and pd.isna(staged.loc[2, S.TEAM])
    assert list(staged[S.CHANNEL]) == ["email", "phone", "chat", "social", "web"]


def test_zendesk_bare_list_and_pages():
    bare = read_export(FIX / "zendesk_bare_list.json")
    assert bare.platform == "zendesk" and len(bare.raw) == 3
    pages = read_export(FIX / "zendesk_pages.json")
    assert pages.platform == "zendesk" and len(pages.raw) == 5
    assert list(pages.raw["id"]) == ["101", "102", "103", "104", "105"]


def test_zendesk_real_tickets(config):
    export = read_export(FIX / "zendesk_api_layout_own.json")
    assert export.platform == "zendesk" and len(export.raw) == 3
    assert set(export.raw["status"]) == {"new", "deleted"}


# --------------------------------------------------------------------------- complaints

def test_complaints_csv():
    export = read_export(FIX / "complaints_small.csv")
    assert export.platform == "complaints" and len(export.raw) == 4
    assert list(export.raw.columns) == COMPLAINT_HEADER
    assert export.raw.loc[0, "Date received"] == "02/07/2026"


def test_complaints_xlsx_with_real_dates(tmp_path, config):
    import datetime as dt

    path = write_complaints_xlsx(tmp_path / "register.xlsx", [
        COMPLAINT_HEADER,
        ["CMP-1", "02/07/2026", "Billing", "Charged twice", " billing ", "Upheld", "Letter", "C-1"],
        ["CMP-2", dt.datetime(2026, 7, 15), "Delivery", "Late", "NW MANILA", "Open", "Web form", 42],
        ["CMP-3", dt.datetime(2026, 7, 16, 9, 30), "Staff", "Rude", "Nobody", None, "Email", None],
    ])
    export = read_export(path)
    assert export.platform == "complaints" and len(export.raw) == 3
    assert export.raw.loc[1, "Customer ID"] == "42"
    from feedbacklib.clean import clean_responses

    frame = clean_responses([export], config).frame.set_index(S.RESPONSE_ID)
    assert frame.loc["CMP-1", S.RECEIVED_AT] == pd.Timestamp("2026-07-01 23:00", tz="UTC")
    assert frame.loc["CMP-2", S.MONTH] == "2026-07"
    assert frame.loc["CMP-1", S.TEAM] == "Billing Team"
    assert frame.loc["CMP-2", S.TEAM] == "Northwind Manila"
    assert frame.loc["CMP-2", S.SERVICE_MODEL] == "outsourced"
    assert frame.loc["CMP-3", S.SERVICE_MODEL] == "unknown" and frame.loc["CMP-3", S.TEAM] == "Nobody"
    assert frame.loc["CMP-1", S.CHANNEL] == "unknown" and frame.loc["CMP-2", S.CHANNEL] == "web"
    assert bool(frame.loc["CMP-1", S.RESOLVED_REPORTED]) is True
    assert bool(frame.loc["CMP-2", S.RESOLVED_REPORTED]) is False
    assert pd.isna(frame.loc["CMP-3", S.RESOLVED_REPORTED])
    assert frame[S.SOURCE].eq("complaint").all()


# --------------------------------------------------------------------------- generic, encodings

def test_generic_csv():
    export = read_export(FIX / "generic_small.csv")
    assert export.platform == "generic" and len(export.raw) == 3


@pytest.mark.parametrize("encoding,bom", [
    ("utf-8", b""), ("utf-8", codecs.BOM_UTF8), ("utf-16-le", codecs.BOM_UTF16_LE), ("cp1252", b""),
])
def test_encodings(tmp_path, encoding, bom):
    text = "response_id,text\r\n1,\"Café – naïve\r\nsecond line\"\r\n2,plain\r\n"
    path = tmp_path / "f.csv"
    path.write_bytes(bom + text.encode(encoding))
    export = read_export(path)
    assert export.platform == "generic"
    assert list(export.raw.columns) == ["response_id", "text"]
    assert export.raw.loc[0, "text"] == "Café – naïve\r\nsecond line"
    assert len(export.raw) == 2


def test_tsv_and_json_generic(tmp_path):
    tsv = tmp_path / "a.tsv"
    tsv.write_text("text\tcsat\nhello, world\t4\n", encoding="utf-8")
    assert read_export(tsv).raw.loc[0, "text"] == "hello, world"
    js = tmp_path / "b.json"
    js.write_text(json.dumps([{"text": "hi", "csat": 5}, {"text": None, "csat": None}]), encoding="utf-8")
    export = read_export(js)
    assert export.platform == "generic" and export.raw.loc[0, "csat"] == "5"


# --------------------------------------------------------------------------- detection

@pytest.mark.parametrize("fixture,platform", [
    ("qualtrics_small.csv", "qualtrics"),
    ("qualtrics_real_sample.csv", "qualtrics"),
    ("qualtrics_real_legacy.csv", "qualtrics"),
    ("qualtrics_ldi_layout_own.csv", "qualtrics"),
    ("zendesk_small.json", "zendesk"),
    ("zendesk_bare_list.json", "zendesk"),
    ("zendesk_pages.json", "zendesk"),
    ("complaints_small.csv", "complaints"),
    ("generic_small.csv", "generic"),
])
def test_detection_ignores_file_name(tmp_path, fixture, platform):
    renamed = tmp_path / "export_from_somewhere.csv"
    shutil.copy(FIX / fixture, renamed)
    found, confidence = detect_platform(renamed)
    assert found == platform
    assert 0 < confidence <= 1


def test_detection_error_message(tmp_path):
    path = tmp_path / "may.csv"
    path.write_text("Resp ID,Comment\n1,hello\n", encoding="utf-8")
    with pytest.raises(DetectionError) as info:
        read_export(path)
    msg = str(info.value)
    assert "'may.csv'" in msg
    assert "['Resp ID', 'Comment']" in msg
    for name in ("qualtrics", "zendesk", "complaints", "generic"):
        assert name in msg
    assert "[platforms.generic.columns]" in msg and "--platform generic" in msg


def test_generic_mapping_from_config(tmp_path, monkeypatch):
    monkeypatch.setenv("FEEDBACK_PII_SALT", "test-salt-not-secret")
    path = tmp_path / "may.csv"
    path.write_text("Resp ID,Comment\n1,hello\n", encoding="utf-8")
    toml = tmp_path / "feedback.toml"
    toml.write_text('[platforms.generic.columns]\ntext = "Comment"\nresponse_id = "Resp ID"\n')
    cfg = load_config(toml)
    export = read_export(path, platform="generic", config=cfg)
    staged = stage_export(export, cfg).frame
    assert staged.loc[0, S.TEXT] == "hello" and staged.loc[0, S.RESPONSE_ID] == "1"
    assert detect_platform(path, config=cfg)[0] == "generic"


def test_input_errors(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        read_export(tmp_path / "missing.csv")
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="empty.csv"):
        read_export(empty)
    bad = tmp_path / "bad.json"
    bad.write_text('{"tickets": [', encoding="utf-8")
    with pytest.raises(InputError, match="bad.json"):
        read_export(bad, platform="zendesk")
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(InputError, match="broken.xlsx"):
        read_export(broken)
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("text,csat\nok,1\nbad,2,extra,more\n", encoding="utf-8")
    with pytest.raises(InputError, match="ragged.csv"):
        read_export(ragged)
    with pytest.raises(InputError, match="Unknown platform"):
        read_export(FIX / "generic_small.csv", platform="surveyplanet")


def test_read_exports_sorted_by_name(tmp_path):
    for name in ("b.csv", "a.json", "c.txt", "d.xlsx"):
        src = {"b.csv": "generic_small.csv", "a.json": "zendesk_small.json", "c.txt": "generic_small.csv"}
        if name == "d.xlsx":
            write_complaints_xlsx(tmp_path / name, [COMPLAINT_HEADER, ["R1", "01/07/2026", "x", "y", "z", "Open", "Phone", "1"]])
        else:
            shutil.copy(FIX / src[name], tmp_path / name)
    exports = read_exports(tmp_path)
    assert [e.path.name for e in exports] == ["a.json", "b.csv", "d.xlsx"]
    assert [e.platform for e in exports] == ["zendesk", "generic", "complaints"]
    assert all(isinstance(e, Export) for e in exports)
    with pytest.raises(InputError):
        read_exports(tmp_path / "nope")


# --------------------------------------------------------------------------- issue 3: more layouts

def test_detection_error_names_closest_layout(tmp_path):
    path = tmp_path / "may.csv"
    path.write_text("Respondent,Started,Finished,Comment\n1,2026-05-01,2026-05-01,ok\n", encoding="utf-8")
    with pytest.raises(DetectionError) as info:
        read_export(path)
    msg = str(info.value)
    assert "may.csv" in msg and "'Respondent'" in msg and "Closest:" in msg
    assert "[platforms.generic.columns]" in msg and "[input.platforms]" in msg
    for name in ("qualtrics", "surveymonkey", "cfpb", "zendesk", "google_forms", "microsoft_forms"):
        assert name in msg


def test_platform_override_in_config(tmp_path, monkeypatch):
    monkeypatch.setenv("FEEDBACK_PII_SALT", "test-salt-not-secret")
    data = tmp_path / "may.csv"
    data.write_text("Comment,When\nslow reply,2026-05-01\n", encoding="utf-8")
    toml = tmp_path / "feedback.toml"
    toml.write_text('[input.platforms]\n"may*.csv" = "generic"\n'
                    '[platforms.generic.columns]\ntext = "Comment"\nreceived_at = "When"\n',
                    encoding="utf-8")
    cfg = load_config(toml)
    assert detect_platform(data, config=cfg) == ("generic", 1.0)
    assert read_export(data, config=cfg).platform == "generic"
    toml.write_text('[input]\nplatform = "surveyplanet"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="surveyplanet"):  # caught when the file is loaded
        load_config(toml)


def test_read_exports_picks_up_parquet(tmp_path):
    pd.DataFrame({"text": ["fine", "slow"], "received_at": ["2026-07-01", "2026-07-02"]}).to_parquet(
        tmp_path / "z.parquet")
    shutil.copy(FIX / "generic_small.csv", tmp_path / "a.csv")
    exports = read_exports(tmp_path)
    assert [e.path.name for e in exports] == ["a.csv", "z.parquet"]
    assert exports[1].platform == "generic" and len(exports[1].raw) == 2


def test_legacy_qualtrics_free_text_is_the_comment(config):
    from feedbacklib.clean import clean_responses
    res = clean_responses([read_export(FIX / "qualtrics_real_legacy.csv")], config)
    assert res.frame[S.TEXT].tolist() == ["Hello World!"]


def test_utf16_without_bom_and_truncated_unquoted_record(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes("text,received_at\nhello,2026-07-01\nbye,2026-07-0".encode("utf-16-le"))
    export = read_export(path)
    assert len(export.raw) == 2 and export.raw.loc[0, "text"] == "hello"
    cut = tmp_path / "cut.csv"
    cut.write_text("text,received_at,team\nhello,2026-07-01,A\nbye,2026-07-02", encoding="utf-8")
    export = read_export(cut)
    assert len(export.raw) == 2 and export.meta.get("truncated_rows") == [1]
