"""Exports as users really have them (issues 15 and 16.2/16.3/16.5): every case is a fixture of
our own (tests/io_builders.py), and every count is checked against the file's own records."""

from __future__ import annotations

import codecs
import json
import re

import pandas as pd
import pytest

from feedbacklib.clean import clean_responses
from feedbacklib.config import PlatformSettings, load_config
from feedbacklib.errors import InputError
from feedbacklib.io import detect_platform, read_export, read_exports, stage_export

from . import io_builders as B
from .conftest import CONFIG

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\.[A-Za-z]{2,}")


@pytest.fixture
def cfg(salt_env):
    return load_config(CONFIG)


def _accounted(result, rows_in_file: int) -> None:
    q = result.quality
    assert int(q["rows_read"].sum()) == rows_in_file
    assert (q["rows_read"] == q["rows_kept"] + q["rows_quarantined"]).all()
    assert len(result.frame) + len(result.quarantine) == rows_in_file


# --------------------------------------------------------------------------- 15.1 wide Qualtrics

def test_wide_qualtrics_is_detected_past_64kb_and_every_row_is_read(tmp_path, cfg):
    data, n = B.wide_qualtrics()
    assert data.index(b"\n", data.index(b"\n", data.index(b"\n") + 1) + 1) > 400_000  # 3 header rows > 400 KB
    path = tmp_path / "wide.csv"
    path.write_bytes(data)
    platform, confidence = detect_platform(path)
    assert platform == "qualtrics" and confidence > 0.9
    export = read_export(path)
    assert len(export.raw) == n and export.raw.shape[1] == 17 + 2000
    result = clean_responses([export], cfg)
    _accounted(result, n)
    assert len(result.frame) == n, result.quarantine["reason"].value_counts()


def test_no_quarantine_reason_carries_personal_data(tmp_path, cfg):
    """An e-mail question mapped (by configuration) onto NPS: the reasons name the problem, not the address."""
    from feedbacklib.config import Config  # noqa: F401  (the accessor below is the config's own)

    data, n = B.wide_qualtrics(n_rows=12, n_questions=10)
    path = tmp_path / "survey.csv"
    path.write_bytes(data)
    toml = CONFIG.read_text(encoding="utf-8") + '\n[platforms.qualtrics.columns]\nnps = "Q1"\n'
    cfg_path = tmp_path / "feedback.toml"
    cfg_path.write_text(toml.replace('input = "data/sample"', f'input = "{tmp_path}"'), encoding="utf-8")
    result = clean_responses([read_export(path)], load_config(cfg_path))
    reasons = result.quarantine["reason"].astype(str)
    assert len(reasons) == n and reasons.str.startswith("nps not a number").all()
    assert not reasons.str.contains(EMAIL).any(), reasons.tolist()[:3]
    assert reasons.str.contains("[email]", regex=False).all()


# --------------------------------------------------------------------------- 16.2 silent row loss (CSV/JSON)

@pytest.mark.parametrize("where", [0, 7])
def test_bare_cr_in_a_comment_loses_no_row(tmp_path, cfg, where):
    rows = B.generic_rows(20)
    rows[where][5] = "line one of an old form\rline two"
    frame = pd.DataFrame(rows, columns=B.GENERIC_HEADER)
    text = frame.to_csv(index=False)  # pandas writes the CR bare and unquoted
    assert "\rline two" in text and '"line one' not in text
    path = tmp_path / "export.csv"
    path.write_text(text, encoding="utf-8")
    export = read_export(path)
    assert len(export.raw) == 20
    assert export.raw.loc[where, "text"] == "line one of an old form\rline two"
    _accounted(clean_responses([export], cfg), 20)


def test_utf16_zendesk_json_is_read(tmp_path, cfg):
    path = tmp_path / "tickets.json"
    path.write_bytes(codecs.BOM_UTF16_LE + json.dumps(B.zendesk_tickets(5), indent=2).encode("utf-16-le"))
    assert detect_platform(path)[0] == "zendesk"
    export = read_export(path)
    assert len(export.raw) == 5
    result = clean_responses([export], cfg)
    _accounted(result, 5)
    assert len(result.frame) == 5


def test_a_stray_quote_swallows_no_records(tmp_path, cfg):
    rows = B.generic_rows(20)
    lines = B.csv_text([B.GENERIC_HEADER] + rows, lineterminator="\n").splitlines(keepends=True)
    lines[10] = lines[10].replace("the agent", 'the 5" screen agent')  # record 10: a literal quote
    path = tmp_path / "export.csv"
    path.write_text("".join(lines), encoding="utf-8")
    export = read_export(path)
    assert len(export.raw) == 20 and not export.meta.get("truncated_rows")
    assert export.raw.loc[9, "text"].endswith('the 5" screen agent was helpful')
    result = clean_responses([export], cfg)
    _accounted(result, 20)
    assert len(result.frame) == 20


def test_a_file_cut_inside_a_quoted_field_is_still_one_truncated_record(tmp_path, cfg):
    rows = B.generic_rows(6)
    rows[5][5] = "a long comment, with a comma, that the export cut"
    text = B.csv_text([B.GENERIC_HEADER] + rows, lineterminator="\n")
    path = tmp_path / "export.csv"
    path.write_text(text[: text.rindex("that")], encoding="utf-8")
    result = clean_responses([read_export(path)], cfg)
    _accounted(result, 6)
    assert result.quarantine["reason"].tolist() == ["truncated record (the file ends inside it)"]


# --------------------------------------------------------------------------- 15.8 / 16.2 the input folder

def _folder_with_stray_files(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    rows = B.generic_rows(12)
    (folder / "survey.csv").write_text(B.csv_text([B.GENERIC_HEADER] + rows), encoding="utf-8")
    (folder / "notes.csv").write_text("meeting,owner\nbuy milk,ann@example.com\n" * 3, encoding="utf-8")
    (folder / "register.xlsm").write_bytes(B.xlsx([B.GENERIC_HEADER] + B.generic_rows(5, start=100)))
    (folder / "export_no_suffix").write_text(B.csv_text([B.GENERIC_HEADER] + B.generic_rows(3, start=200)),
                                             encoding="utf-8")
    (folder / "README.md").write_text("# what is in this folder\n", encoding="utf-8")
    return folder


def test_a_stray_file_is_skipped_and_named(tmp_path, cfg, caplog):
    folder = _folder_with_stray_files(tmp_path)
    with caplog.at_level("INFO", logger="feedbacklib"):
        exports = read_exports(folder, cfg)
    assert [e.path.name for e in exports] == ["export_no_suffix", "register.xlsm", "survey.csv"]
    assert [len(e.raw) for e in exports] == [3, 5, 12]
    assert dict(exports.skipped) == {"README.md": "not an export (.md suffix)",
                                     "notes.csv": "unknown layout"}
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and "'notes.csv' skipped" in warnings[0]
    assert "ann@example.com" not in " ".join(r.getMessage() for r in caplog.records)


def test_strict_input_makes_a_stray_file_an_error(tmp_path, cfg):
    import dataclasses

    folder = _folder_with_stray_files(tmp_path)
    strict = dataclasses.replace(cfg, input_settings=dataclasses.replace(cfg.input_settings, strict=True))
    with pytest.raises(InputError, match="notes.csv"):
        read_exports(folder, strict)


def test_a_dangling_symlink_is_an_error_not_a_silent_skip(tmp_path, cfg):
    folder = _folder_with_stray_files(tmp_path)
    (folder / "share.csv").symlink_to(tmp_path / "unmounted" / "october.csv")
    with pytest.raises(InputError, match="share.csv.*does not exist"):
        read_exports(folder, cfg)
    collected = read_exports(folder, cfg, collect_errors=True)
    assert [name for name, _ in collected.errors] == ["share.csv"] and len(collected) == 3


def test_validate_reports_every_file(tmp_path, capsys, salt_env):
    from feedbacklib.cli import main

    folder = _folder_with_stray_files(tmp_path)
    (folder / "share.csv").symlink_to(tmp_path / "unmounted" / "october.csv")
    code = main(["validate", "--input", str(folder), "--config", str(CONFIG)])
    out, err = capsys.readouterr()
    assert code == 2
    lines = out.splitlines()
    assert lines[0].endswith("6 file(s) in " + str(folder) + ": 3 read, 2 skipped, 1 unreadable") or "3 read, 2 skipped, 1 unreadable" in lines[0]
    for name in ("README.md", "export_no_suffix", "notes.csv", "register.xlsm", "share.csv", "survey.csv"):
        assert any(line.startswith(f"  {name}: ") for line in lines), (name, out)
    assert "ann@example.com" not in out + err
    assert len(err) < 600, err


# --------------------------------------------------------------------------- 16.2 / 16.5 workbooks

def test_one_value_far_down_a_sheet_is_one_row_not_a_hundred_thousand(tmp_path, cfg):
    cells = {(r + 1, c + 1): v for r, row in enumerate([B.GENERIC_HEADER] + B.generic_rows(11))
             for c, v in enumerate(row)}
    cells[(100_000, 6)] = "typed here by mistake"
    path = tmp_path / "register.xlsx"
    path.write_bytes(B.xlsx(cells))
    export = read_export(path)
    assert len(export.raw) == 12
    result = clean_responses([export], cfg)
    _accounted(result, 12)
    assert len(result.quarantine) == 1 and len(result.frame) == 11


def test_a_stray_cell_at_xfd1048576_is_refused_before_reading(tmp_path):
    cells = {(r + 1, c + 1): v for r, row in enumerate([B.GENERIC_HEADER] + B.generic_rows(3)) for c, v in enumerate(row)}
    cells[(1_048_576, 16_384)] = "x"
    path = tmp_path / "register.xlsx"
    path.write_bytes(B.xlsx(cells))
    with pytest.raises(InputError, match=r"register.xlsx.*XFD1048576.*max_xlsx_cells"):
        read_export(path)


def test_a_zip_bomb_workbook_is_refused_within_the_limit(tmp_path, cfg):
    """40 MB of sheet XML in a ~100 KB file, against [input] max_xlsx_mb = 16 (the default is 512)."""
    import dataclasses

    path = tmp_path / "bomb.xlsx"
    B.xlsx_bomb(path, rows=20_000, cell_chars=2000)
    assert path.stat().st_size < 1_000_000
    limited = dataclasses.replace(cfg, input_settings=dataclasses.replace(cfg.input_settings, max_xlsx_mb=16))
    with pytest.raises(InputError, match=r"bomb.xlsx.*more than 16 MB"):
        read_export(path, platform="generic", config=limited)
    with pytest.raises(InputError, match=r"bomb.xlsx.*more than 16 MB"):
        read_export(path, config=limited)  # detection reads the workbook too


def test_validate_exits_2_on_a_workbook_too_large(tmp_path, capsys, salt_env):
    from feedbacklib.cli import main

    folder = tmp_path / "in"
    folder.mkdir()
    cells = {(1, 1): "text", (2, 1): "fine", (1_048_576, 16_384): "x"}
    (folder / "stray.xlsx").write_bytes(B.xlsx(cells))
    assert main(["validate", "--input", str(folder), "--config", str(CONFIG)]) == 2
    out, err = capsys.readouterr()
    assert "stray.xlsx: NOT READ" in out and "XFD1048576" in out


# --------------------------------------------------------------------------- 15.4 / 16.3 dates

def _generic(tmp_path, dates: list[str], name: str = "export.csv", date_header: str = "received_at"):
    rows = B.generic_rows(len(dates))
    for row, d in zip(rows, dates):
        row[1] = d
    path = tmp_path / name
    path.write_text(B.csv_text([[date_header if h == "received_at" else h for h in B.GENERIC_HEADER]] + rows),
                    encoding="utf-8")
    return path


def test_impossible_dates_are_quarantined_not_moved_to_next_month(tmp_path, cfg):
    dates = ["31/02/2026", "31/09/2026 10:00", "30/09/2026 10:00", "2026-09-31 10:00:00", "29/02/2026",
             "28/02/2026", "2026-09-31T10:00:00Z", "01/10/2026"]
    result = clean_responses([read_export(_generic(tmp_path, dates))], cfg)
    _accounted(result, len(dates))
    quarantined = set(result.quarantine["source_row"].tolist())
    assert quarantined == {0, 1, 3, 4, 6}, result.quarantine[["source_row", "reason"]]
    assert set(result.quarantine["reason"]) == {"unparseable date in received_at"}
    kept = result.frame.set_index("source_row")["received_at"]
    assert kept[2] == pd.Timestamp("2026-09-30 09:00", tz="UTC")  # BST
    assert kept[5] == pd.Timestamp("2026-02-28", tz="Europe/London")
    assert set(result.frame["month"]) == {"2026-02", "2026-09", "2026-10"}


def test_two_digit_years_with_seconds_and_month_names(tmp_path, cfg):
    dates = ["4/28/21 11:22:58", "5/1/21 09:05:00", "12/31/21 23:59:59"]
    result = clean_responses([read_export(_generic(tmp_path, dates))], cfg)
    assert len(result.frame) == 3  # month-first, inferred from 4/28 (the generic default is day-first)
    assert result.frame["received_at"].min() == pd.Timestamp("2021-04-28 10:22:58", tz="UTC")
    named = ["May 1, 2018 5:17:57 AM", "May 12, 2018 11:02:00 PM", "June 3, 2018 12:00:01 PM"]
    result = clean_responses([read_export(_generic(tmp_path, named, "named.csv"))], cfg)
    assert result.frame["received_at"].tolist() == [
        pd.Timestamp("2018-05-01 04:17:57", tz="UTC"), pd.Timestamp("2018-05-12 22:02:00", tz="UTC"),
        pd.Timestamp("2018-06-03 11:00:01", tz="UTC")]


def test_day_month_order_is_inferred_per_column_unless_configured(tmp_path, cfg):
    import dataclasses

    path = _generic(tmp_path, ["03/04/2026", "13/04/2026", "02/05/2026"])
    result = clean_responses([read_export(path)], cfg)
    assert result.frame["month"].tolist() == ["2026-04", "2026-04", "2026-05"]  # day-first (13/04)
    path = _generic(tmp_path, ["04/03/2026", "04/13/2026", "05/02/2026"], "us.csv")
    result = clean_responses([read_export(path)], cfg)
    assert result.frame["month"].tolist() == ["2026-04", "2026-04", "2026-05"]  # month-first (04/13)
    fixed = dataclasses.replace(cfg, platform_settings={**cfg.platform_settings,
                                                        "generic": PlatformSettings(dayfirst=True)})
    result = clean_responses([read_export(path)], fixed)
    assert len(result.quarantine) == 1 and result.quarantine["source_row"].tolist() == [1]  # 04/13: no month 13


def test_the_zone_in_a_column_name_wins_over_the_config_zone(tmp_path, cfg):
    path = _generic(tmp_path, ["2026-07-01 23:30:00"], date_header="Submit Date (UTC)")
    toml = CONFIG.read_text(encoding="utf-8") + '\n[platforms.generic.columns]\nreceived_at = "Submit Date (UTC)"\n'
    cfg_path = tmp_path / "feedback.toml"
    cfg_path.write_text(toml.replace('input = "data/sample"', f'input = "{tmp_path}"'), encoding="utf-8")
    result = clean_responses([read_export(path)], load_config(cfg_path))
    assert result.frame["received_at"].tolist() == [pd.Timestamp("2026-07-01 23:30", tz="UTC")]
    assert result.frame["month"].tolist() == ["2026-07"]  # read as local London time it would be 22:30 UTC


# --------------------------------------------------------------------------- 15.3 column roles

def test_qualtrics_roles_come_from_question_text_and_answers(tmp_path, cfg):
    data, n = B.wide_qualtrics(n_rows=30, n_questions=10)
    path = tmp_path / "survey.csv"
    path.write_bytes(data)
    staged = stage_export(read_export(path), cfg)
    # not Q1 (the first QID*_TEXT: e-mail addresses), not positional Q2 (household sizes)
    assert staged.roles["nps"].startswith("'Q3' (question \"How likely")
    assert staged.roles["csat"].startswith("'Q4' (question \"Overall, how satisfied")
    assert staged.roles["text"].startswith("'Q5' (question \"Why did you give")
    result = clean_responses([read_export(path)], cfg)
    _accounted(result, n)
    assert len(result.frame) == n
    assert result.frame["text"].str.startswith("Response ").all()
    assert result.frame["nps"].notna().all() and result.frame["csat"].notna().all()


def test_a_free_text_q2_is_not_read_as_nps(tmp_path, cfg):
    rows = [B.QUALTRICS_META + ["Q1", "Q2"], B.QUALTRICS_META + ["How satisfied were you?", "What could we do better?"],
            [f'{{"ImportId":"{c}"}}' for c in B.QUALTRICS_META] + ['{"ImportId":"QID1"}', '{"ImportId":"QID2_TEXT"}']]
    for i in range(12):
        rows.append(["2026-10-01 09:00:00", "2026-10-01 09:05:00", "IP Address", "", "100", "300", "True",
                     "2026-10-01 09:05:01", f"R_{i}", "", "", "", "", "", "", "anonymous", "EN", str(1 + i % 5),
                     f"Answer {i}: shorter queues please"])
    path = tmp_path / "survey.csv"
    path.write_text(B.csv_text(rows), encoding="utf-8")
    staged = stage_export(read_export(path), cfg)
    assert "nps" not in staged.roles and staged.frame["nps"].isna().all()
    assert staged.roles["text"].startswith("'Q2'") and staged.roles["csat"].startswith("'Q1'")


def test_microsoft_forms_comment_is_not_a_choice_list(tmp_path, cfg):
    path = tmp_path / "forms.csv"
    path.write_bytes(B.microsoft_forms())
    export = read_export(path)
    assert export.platform == "microsoft_forms"
    staged = stage_export(export, cfg)
    assert staged.roles["text"].startswith("'Any other comments?'"), staged.roles
    assert staged.roles["csat"].startswith("'How satisfied are you with our service?'")
    result = clean_responses([export], cfg)
    _accounted(result, 30)
    assert len(result.frame) == 30  # 4/28/21 11:22:58: two-digit years with seconds, month-first


def test_configured_columns_override_the_choice(tmp_path, cfg):
    import dataclasses

    path = tmp_path / "forms.csv"
    path.write_bytes(B.microsoft_forms())
    over = dataclasses.replace(cfg, platform_settings={**cfg.platform_settings, "microsoft_forms": PlatformSettings(
        columns={"text": "Which of these matter most to you when you choose a supplier?"})})
    staged = stage_export(read_export(path), over)
    assert staged.roles["text"] == "'Which of these matter most to you when you choose a supplier?' (set in feedback.toml)"
    assert staged.frame["text"].str.contains(";").all()


def test_validate_says_which_column_became_what(tmp_path, capsys, salt_env):
    from feedbacklib.cli import main

    folder = tmp_path / "in"
    folder.mkdir()
    data, _ = B.wide_qualtrics(n_rows=20, n_questions=2000)
    (folder / "wide.csv").write_bytes(data)
    (folder / "notes.csv").write_text("meeting,owner\nbuy milk,ann@example.com\n", encoding="utf-8")
    assert main(["validate", "--input", str(folder), "--config", str(CONFIG)]) == 0
    out, err = capsys.readouterr()
    assert "wide.csv: qualtrics (confidence 0.99); 20 read, 20 kept, 0 quarantined" in out
    assert "    nps <- 'Q3' (question \"How likely are you to recommend" in out
    assert "    text <- 'Q5'" in out
    assert "notes.csv: skipped: unknown layout" in out
    assert not EMAIL.search(out + err)


# --------------------------------------------------------------------------- 15.2 layout variants

def test_qualtrics_2016_insights_single_quoted_import_row(tmp_path, cfg):
    data, n = B.wide_qualtrics(n_rows=9, n_questions=8, quote="'")
    assert b"{'ImportId': 'QID1_TEXT'}" in data
    path = tmp_path / "insights.csv"
    path.write_bytes(data)
    platform, confidence = detect_platform(path)
    assert platform == "qualtrics" and confidence > 0.9
    export = read_export(path)
    assert len(export.raw) == n and export.meta["layout"] == "insights-2016"
    assert export.meta["timezones"]["RecordedDate"] == "America/Denver"
    result = clean_responses([export], cfg)
    _accounted(result, n)
    assert len(result.frame) == n
    assert result.frame["received_at"].iloc[0] == pd.Timestamp("2026-10-01 15:12:01", tz="UTC")  # MDT = UTC-6


@pytest.mark.parametrize("forced", [None, "surveymonkey"])
def test_older_surveymonkey_respondentid_layout(tmp_path, cfg, forced):
    path = tmp_path / "sm.csv"
    path.write_bytes(B.surveymonkey_old(15))
    if forced is None:
        assert detect_platform(path)[0] == "surveymonkey"
    export = read_export(path, platform=forced)
    staged = stage_export(export, cfg)
    assert staged.date_column == "EndDate"
    assert staged.roles["nps"].startswith("'How likely is it")
    assert staged.roles["text"].startswith("'Please tell us why you gave that score. - Open-Ended Response'")
    result = clean_responses([export], cfg)
    _accounted(result, 15)
    assert len(result.frame) == 15
    assert result.frame["received_at"].min() == pd.Timestamp("2015-11-01 22:09:10", tz="Europe/London")
    assert result.frame["response_id"].iloc[0] == "sm-4400000000"


# --------------------------------------------------------------------------- 15.5 detection, 15.7 readers

def _write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_a_freshdesk_ticket_list_is_not_zendesk(tmp_path, cfg):
    path = _write(tmp_path, "tickets.json", B.freshdesk_json(6))
    assert detect_platform(path) == ("freshdesk", 0.99)
    result = clean_responses([read_export(path)], cfg)
    _accounted(result, 6)
    assert result.quarantine["reason"].tolist() == ["status spam"]
    frame = result.frame.set_index("response_id")
    assert list(frame.index) == [f"fd-{500 + i}" for i in range(5)]
    assert frame.loc["fd-500", "channel"] == "email" and frame.loc["fd-501", "channel"] == "phone"
    assert frame.loc["fd-500", "text"] == "Order 0 late. My order 0 has not arrived after two weeks."
    # and Zendesk still is Zendesk
    assert detect_platform(_write(tmp_path, "zd.json", json.dumps(B.zendesk_tickets(3)).encode()))[0] == "zendesk"


def test_a_freshdesk_csv_is_not_a_zendesk_view(tmp_path, cfg):
    path = _write(tmp_path, "tickets.csv", B.freshdesk_csv(10))
    platform, confidence = detect_platform(path)
    assert platform == "freshdesk" and confidence > 0.9
    result = clean_responses([read_export(path)], cfg)
    _accounted(result, 10)
    assert len(result.frame) == 10
    assert result.frame["first_response_hours"].tolist() == [1.5] * 10
    assert sorted(result.frame["csat"].dropna().astype(int).tolist()) == [1, 1, 1, 5, 5, 5, 5]


def test_distinct_tickets_are_distinct_contacts(tmp_path, cfg):
    """Ten tickets from one customer with the same text within a day: none is a 'repeat'."""
    path = _write(tmp_path, "tickets.csv", B.freshdesk_csv(10))
    result = clean_responses([read_export(path)], cfg)
    assert len(result.frame) == 10 and result.quality["repeat"].tolist() == [0]


def test_unknown_file_suggests_the_closest_layout_briefly(tmp_path):
    from feedbacklib.errors import DetectionError

    path = _write(tmp_path, "notes.csv", b"meeting,owner,when\nbuy milk,ann,today\n")
    with pytest.raises(DetectionError) as info:
        read_export(path)
    assert "notes.csv" in str(info.value) and "Closest:" in str(info.value)
    assert len(str(info.value)) < 900


def test_typeform_dates_are_utc_and_partials_unfinished(tmp_path, cfg):
    path = _write(tmp_path, "responses.csv", B.typeform(12))
    assert detect_platform(path)[0] == "typeform"
    export = read_export(path)
    staged = stage_export(export, cfg)
    assert staged.timezone == "UTC"
    assert staged.roles["nps"].startswith("'How likely are you to recommend")
    assert staged.roles["text"].startswith("'What is the main reason for your score?'")
    result = clean_responses([export], cfg)
    _accounted(result, 12)
    assert result.quarantine["reason"].tolist() == ["unfinished response"]
    first = result.frame.set_index("response_id").loc["tf-tok0000abcd"]
    # 23:40 UTC on 30 June is 00:40 on 1 July in London: read as UTC it stays in June
    assert first["received_at"] == pd.Timestamp("2026-06-30 23:40", tz="UTC") and first["month"] == "2026-07"


def test_google_play_console_reviews_in_utf16(tmp_path, cfg):
    path = _write(tmp_path, "reviews_com.northwind.app_202610.csv", B.google_play(8))
    assert detect_platform(path)[0] == "google_play"
    result = clean_responses([read_export(path)], cfg)
    _accounted(result, 8)
    frame = result.frame.set_index("response_id")
    assert list(frame.index) == [f"gp-gp{i}" for i in range(8)]
    assert frame.loc["gp-gp0", "text"] == "Title 0. The app crashes when I pay (0)"
    assert frame.loc["gp-gp1", "text"] == "The app crashes when I pay (1)"
    assert frame["csat"].tolist() == [1 + i % 5 for i in range(8)] and set(frame["source"]) == {"review"}


def test_alchemer_statuses_and_the_internal_comments_column(tmp_path, cfg):
    path = _write(tmp_path, "alchemer.csv", B.alchemer(10))
    assert detect_platform(path)[0] == "alchemer"
    export = read_export(path)
    staged = stage_export(export, cfg)
    assert staged.roles["text"].startswith("'Please explain your rating.'")  # not "Comments" (staff notes)
    result = clean_responses([export], cfg)
    _accounted(result, 10)
    assert sorted(result.quarantine["reason"].tolist()) == ["status Disqualified"] * 2 + ["unfinished response"] * 2


@pytest.mark.parametrize("nps", [True, False])
def test_delighted_score_is_nps_or_csat_from_the_answers(tmp_path, cfg, nps):
    path = _write(tmp_path, "delighted.csv", B.delighted(10, nps=nps))
    assert detect_platform(path)[0] == "delighted"
    result = clean_responses([read_export(path)], cfg)
    _accounted(result, 10)
    assert len(result.frame) == 10
    filled, empty = ("nps", "csat") if nps else ("csat", "nps")
    assert result.frame[filled].notna().all() and result.frame[empty].isna().all()
    assert result.frame["received_at"].iloc[0] == pd.Timestamp("2026-10-01 10:00", tz="UTC")


def test_appbot_reviews(tmp_path, cfg):
    path = _write(tmp_path, "appbot.csv", B.appbot(6))
    assert detect_platform(path)[0] == "appbot"
    result = clean_responses([read_export(path)], cfg)
    _accounted(result, 6)
    assert result.frame["text"].iloc[0] == "Subject 0. Body 0: login fails after the update"
