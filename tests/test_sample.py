"""The sample-data generator: determinism, planted effects, dirty rows.

Planted effects are measured here with plain keyword counts on the raw
generated records (no other feedbacklib module), so the known answers do not
depend on the tagger under test elsewhere.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
from openpyxl import load_workbook

from feedbacklib import sample

MONTHS = sample.DEFAULT_MONTHS
SAMPLE_DIR = Path(__file__).resolve().parents[1] / "data" / "sample"
IN_HOUSE = ("Customer Care London", "Billing Team", "Tech Support Leeds")
PLACEHOLDERS = {"", "n/a", "-", "none", "nothing", "."}

# Keyword markers of the planted themes, and the negated phrases that must not count.
MARKERS = {
    "responsiveness": r"on hold|\bwait(ed|ing)?\b|no reply|no response|\bchas(e|ing)\b|call ?back|took ages|took forever",
    "surprise_charges": r"charged|billed twice|\bfees?\b|hidden charges|extra charges|invoice for|bill went up|out of nowhere",
    "not_fixed": r"came back|come back|still not working|fixed it myself|not fixed|not resolved|broke again|without fixing",
    "praise": r"above and beyond|fantastic|brilliant|excellent|great service|amazing|a star\b|superb|a credit to"
              r"|best customer service|outstanding",
}
DECOYS = (r"did ?n'?t have to wait long|was ?n'?t kept waiting at all|no hidden fees|no surprise charges"
          r"|has ?n'?t come back since|not great service")


def has_theme(text: str, theme: str) -> bool:
    text = re.sub(DECOYS, " ", text, flags=re.IGNORECASE)
    return re.search(MARKERS[theme], text, flags=re.IGNORECASE) is not None


def canonical_team(name: str) -> str:
    key = " ".join(name.split()).casefold()
    for team, aliases in {**{t: [] for t in sample.TEAMS}, **sample.TEAM_ALIASES}.items():
        if key in {team.casefold(), *(a.casefold() for a in aliases)}:
            return team
    return name


@lru_cache(maxsize=None)
def month_files(month: str) -> dict[str, bytes]:
    return sample.generate_month(month)


@lru_cache(maxsize=None)
def month_truth(month: str) -> dict:
    return sample._generate(month, sample.DEFAULT_SEED)[1]


def qualtrics_rows(month: str) -> list[dict]:
    raw = month_files(month)[f"qualtrics_post_contact_survey_{month}.csv"]
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    header = rows[0]
    return [dict(zip(header, r)) for r in rows[3:]]


def real_comments(month: str) -> list[dict]:
    """Real, finished, de-duplicated responses with a non-placeholder comment."""
    seen, out = set(), []
    for r in qualtrics_rows(month):
        key = tuple(r.values())
        if key in seen or r["Status"] != "IP Address" or r["Finished"] != "True":
            continue
        seen.add(key)
        if r["Q3"].strip().lower() in PLACEHOLDERS:
            continue
        out.append({**r, "team": canonical_team(r["team"])})
    return out


def rate(rows: list[dict], theme: str, teams: tuple[str, ...] | None = None) -> float:
    sel = [r for r in rows if teams is None or r["team"] in teams]
    return sum(has_theme(r["Q3"], theme) for r in sel) / len(sel)


def zendesk(month: str) -> dict:
    return json.loads(month_files(month)[f"zendesk_tickets_{month}.json"])


def latest_tickets(month: str) -> list[dict]:
    by_id: dict[int, dict] = {}
    for t in zendesk(month)["tickets"]:
        if t["id"] not in by_id or t["generated_timestamp"] >= by_id[t["id"]]["generated_timestamp"]:
            by_id[t["id"]] = t
    return list(by_id.values())


def field(ticket: dict, field_id: int):
    return next(f["value"] for f in ticket["custom_fields"] if f["id"] == field_id)


def complaints(month: str) -> list[dict]:
    wb = load_workbook(io.BytesIO(month_files(month)[f"complaints_register_{month}.xlsx"]), read_only=True)
    rows = list(wb["Complaints"].iter_rows(values_only=True))
    return [dict(zip(rows[0], r)) for r in rows[1:]]


# --------------------------------------------------------------------------- determinism
def test_same_seed_same_bytes_and_cells():
    a = sample.generate_month("2026-08", seed=7)
    b = sample.generate_month("2026-08", seed=7)
    for name in a:
        if name.endswith(".xlsx"):
            cells = [list(load_workbook(io.BytesIO(x[name])).active.iter_rows(values_only=True)) for x in (a, b)]
            assert cells[0] == cells[1]
        assert a[name] == b[name], name  # XLSX too: zip entries carry a fixed timestamp


def test_different_seed_differs():
    a = sample.generate_month("2026-08", seed=7)
    b = sample.generate_month("2026-08", seed=8)
    assert a["zendesk_tickets_2026-08.json"] != b["zendesk_tickets_2026-08.json"]


@pytest.mark.parametrize("month", MONTHS)
def test_committed_sample_matches_generator(month):
    for name, data in month_files(month).items():
        path = SAMPLE_DIR / name
        assert path.exists(), f"{path} missing: run python -m feedbacklib.sample --out data/sample"
        assert path.read_bytes() == data, f"{name} is stale: regenerate data/sample"


def test_sample_folder_is_small():
    assert sum(p.stat().st_size for p in SAMPLE_DIR.iterdir()) < 5_500_000


# --------------------------------------------------------------------------- formats
def test_qualtrics_layout():
    raw = month_files("2026-07")["qualtrics_post_contact_survey_2026-07.csv"]
    assert raw.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in raw and raw.count(b"\n") >= raw.count(b"\r\n")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert rows[0][:3] == ["StartDate", "EndDate", "Status"]
    assert rows[0][17:] == ["Q1", "Q2", "Q3", "team", "channel", "ticket_id", "customer_id", "contact_reason"]
    assert rows[1][17] == "Overall, how satisfied were you with the service you received?"
    assert json.loads(rows[2][0]) == {"ImportId": "startDate", "timeZone": "Europe/London"}
    assert json.loads(rows[2][19]) == {"ImportId": "QID3_TEXT"}
    assert json.loads(rows[2][20]) == {"ImportId": "team"}
    assert all(len(r) == len(rows[0]) for r in rows)


def test_zendesk_layout():
    page = zendesk("2026-09")
    assert page["end_of_stream"] is True and page["next_page"] is None
    assert page["count"] == len(page["tickets"])
    assert {g["name"] for g in page["groups"]} == set(sample.TEAMS)
    t = page["tickets"][0]
    for key in ("url", "id", "via", "created_at", "updated_at", "subject", "description", "status",
                "requester_id", "group_id", "tags", "custom_fields", "fields", "satisfaction_rating",
                "generated_timestamp"):
        assert key in t
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", t["created_at"])
    ids = {f["id"] for f in t["custom_fields"]}
    assert ids == {360001001, 360001002, 360001003, 360001004, 360001005}
    assert all(isinstance(field(x, 360001003), bool) for x in page["tickets"])
    assert {x["via"]["channel"] for x in page["tickets"]} <= {"email", "web", "chat", "voice", "api", "twitter"}


def test_complaints_layout():
    rows = complaints("2026-07")
    assert list(rows[0]) == sample.COMPLAINT_COLUMNS
    assert rows[0]["Reference"] == "CMP-2026-07-0001"

    def parses(text):
        try:
            dt.datetime.strptime(text, "%d/%m/%Y")
        except ValueError:
            return False
        return True

    assert sum(parses(r["Date received"]) for r in rows) == len(rows) - 2


@pytest.mark.parametrize("month", MONTHS)
def test_volume_about_1500_per_month(month):
    n = len(qualtrics_rows(month)) + len(zendesk(month)["tickets"]) + len(complaints(month))
    assert 1400 <= n <= 1600
    assert 780 <= len(qualtrics_rows(month)) <= 830


def test_customers_shared_across_sources_and_months():
    q = {r["customer_id"] for m in MONTHS for r in qualtrics_rows(m)}
    c = {r["Customer ID"] for m in MONTHS for r in complaints(m)}
    assert len(q & c) > 50
    req = {}
    for m in MONTHS:
        for r in qualtrics_rows(m):
            req.setdefault(r["customer_id"], set()).add(m)
    assert sum(len(v) > 1 for v in req.values()) > 100


# --------------------------------------------------------------------------- planted effects
def test_keyword_markers_agree_with_ground_truth():
    """The keyword counts used below measure the planted themes exactly."""
    for month in MONTHS:
        truth = month_truth(month)["qualtrics"]["truth"]["themes"]
        for r in real_comments(month):
            for theme in MARKERS:
                assert has_theme(r["Q3"], theme) == (theme in truth[r["ResponseId"]]), (theme, r["Q3"])


@pytest.mark.parametrize("month", MONTHS)
def test_effect1_northwind_responsiveness_twice_in_house(month):
    rows = real_comments(month)
    nw = rate(rows, "responsiveness", ("Northwind Manila",))
    ih = rate(rows, "responsiveness", IN_HOUSE)
    sr = rate(rows, "responsiveness", ("Sunrise Cape Town",))
    assert nw == pytest.approx(0.24, abs=0.01)
    assert ih == pytest.approx(0.12, abs=0.01)
    assert sr == pytest.approx(0.12, abs=0.01)


def test_effect2_surprise_charges_jump_in_latest_month():
    for month in MONTHS:
        expected = 0.16 if month == "2026-10" else 0.06
        assert rate(real_comments(month), "surprise_charges") == pytest.approx(expected, abs=0.01)
        desc = [has_theme(t["description"], "surprise_charges") for t in latest_tickets(month)]
        assert np.mean(desc) == pytest.approx(0.20 if month == "2026-10" else 0.08, abs=0.01)
        comp = [has_theme(r["Description"] or "", "surprise_charges") for r in complaints(month)]
        assert np.mean(comp) == pytest.approx(0.35 if month == "2026-10" else 0.14, abs=0.08)


@pytest.mark.parametrize("month", MONTHS)
def test_effect3_sunrise_solved_but_not_fixed(month):
    groups = {g["id"]: g["name"] for g in zendesk(month)["groups"]}
    solved = [t for t in latest_tickets(month) if field(t, 360001003) is True]
    assert all(t["status"] in ("solved", "closed") for t in solved)

    def rates(teams):
        sel = [t for t in solved if groups[t["group_id"]] in teams]
        bad_nf = [t["satisfaction_rating"] is not None and t["satisfaction_rating"]["score"] == "bad"
                  and has_theme(t["satisfaction_rating"]["comment"], "not_fixed") for t in sel]
        return np.mean(bad_nf), np.mean([field(t, 360001004) for t in sel])

    sr_bad, sr_reopen = rates(("Sunrise Cape Town",))
    ih_bad, ih_reopen = rates(IN_HOUSE)
    assert sr_bad == pytest.approx(0.35, abs=0.01) and sr_reopen == pytest.approx(0.25, abs=0.01)
    assert ih_bad == pytest.approx(0.08, abs=0.01) and ih_reopen == pytest.approx(0.06, abs=0.01)
    rows = real_comments(month)
    assert rate(rows, "not_fixed", ("Sunrise Cape Town",)) == pytest.approx(0.18, abs=0.01)
    assert rate(rows, "not_fixed", IN_HOUSE) == pytest.approx(0.08, abs=0.01)


@pytest.mark.parametrize("month", MONTHS)
def test_effect4_customer_care_london_praise(month):
    rows = real_comments(month)
    ccl = rate(rows, "praise", ("Customer Care London",))
    others = rate(rows, "praise", tuple(t for t in sample.TEAMS if t != "Customer Care London"))
    assert ccl == pytest.approx(0.25, abs=0.01) and others == pytest.approx(0.10, abs=0.01)
    named = [r for r in rows if r["team"] == "Customer Care London" and re.search(r"\b(Priya|Tom)\b", r["Q3"], re.I)]
    assert len(named) >= 5


def _rated_by_channel(month: str) -> dict[tuple[str, str], list[int]]:
    scores: dict[tuple[str, str], list[int]] = {}
    for r in real_comments(month):
        if r["Q1"] in {"1", "2", "3", "4", "5"}:
            side = "in" if r["team"] in IN_HOUSE else "out"
            scores.setdefault((side, r["channel"]), []).append(int(r["Q1"]))
    return scores


def test_effect5_in_house_csat_higher_than_outsourced_within_channels():
    """Like for like (same channel), in-house comments rate higher in every month."""
    for month in MONTHS:
        scores = _rated_by_channel(month)
        pooled_in = [s for (side, _), v in scores.items() if side == "in" for s in v]
        pooled_out = [s for (side, _), v in scores.items() if side == "out" for s in v]
        within = [np.mean(scores[("in", ch)]) - np.mean(scores[("out", ch)])
                  for ch in ("Chat", "Email", "Web") if len(scores.get(("out", ch), [])) >= 20]
        assert len(within) == 3 and np.mean(within) > 0.25, (month, within)
        # ... while the raw (pooled) gap is smaller: the channel mix hides part of it (effect 6).
        assert np.mean(pooled_in) - np.mean(pooled_out) < np.mean(within) - 0.2, month


def test_effect6_channel_mix_differs_by_service_model():
    for month in MONTHS:
        scores = _rated_by_channel(month)
        n = {side: sum(len(v) for (s, _), v in scores.items() if s == side) for side in ("in", "out")}
        phone = {side: len(scores.get((side, "Phone"), [])) / n[side] for side in ("in", "out")}
        chat = {side: len(scores.get((side, "Chat"), [])) / n[side] for side in ("in", "out")}
        assert phone["in"] > 0.35 and phone["out"] < 0.1, (month, phone)
        assert chat["out"] > 0.4 and chat["in"] < 0.2, (month, chat)
        # phone contacts are the hard ones on both sides
        assert np.mean(scores[("in", "Phone")]) < np.mean(scores[("in", "Chat")]) - 0.5


def test_effect6_leaves_the_other_exports_unchanged():
    """The channel plant draws from a stream of its own: tickets and complaints do not move."""
    import hashlib

    files = month_files("2026-10")
    # the hash of the ticket export generated before effect 6 was planted
    assert hashlib.sha256(files[sample._file_names("2026-10")[1]]).hexdigest() == "56d99d9bf2d59f8e28449afa38b00f1aa5aa355a663220d59243473efea8d3c0"


def test_scores_follow_themes():
    rows = [r for m in MONTHS for r in real_comments(m) if r["Q1"] in set("12345")]
    neg = [int(r["Q1"]) for r in rows if has_theme(r["Q3"], "not_fixed")]
    pos = [int(r["Q1"]) for r in rows if has_theme(r["Q3"], "praise") and not has_theme(r["Q3"], "not_fixed")]
    assert np.mean(pos) - np.mean(neg) > 1.0


# --------------------------------------------------------------------------- dirty rows
@pytest.mark.parametrize("month", MONTHS)
def test_qualtrics_dirty_rows(month):
    rows = qualtrics_rows(month)
    keys = [tuple(r.values()) for r in rows]
    assert 2 <= len(keys) - len(set(keys)) <= 4
    status = [r["Status"] for r in rows]
    assert 4 <= status.count("Survey Preview") <= 6 and 1 <= status.count("Spam") <= 2
    assert any(r["StartDate"] == "not a date" for r in rows)
    assert 1 <= sum(r["Q1"] == "7" for r in rows) <= 2
    assert sum(r["RecipientEmail"] != "" for r in rows) >= 3
    text = "\n".join(r["Q3"] for r in rows)
    for pattern in (r"07700 900\d{3}", r"\+44 20 7946 0958", r"\(555\) 123-4567", r"4111 1111 1111 1111",
                    r"[\w.]+@example\.(com|co\.uk)", "â€™"):
        assert re.search(pattern, text), pattern
    assert max(len(r["Q3"]) for r in rows) >= 2800
    teams = {r["team"] for r in rows if r["Status"] == "IP Address"}
    assert teams - set(sample.TEAMS), "a team name with odd case/whitespace"
    real = [r for r in rows if r["Status"] == "IP Address"]
    blank = sum(r["Q3"].strip().lower() in PLACEHOLDERS for r in real) / len(real)
    assert 0.07 <= blank <= 0.14
    assert any(r["Finished"] == "False" and int(r["Progress"]) < 100 and r["Q3"] == "" for r in rows)


@pytest.mark.parametrize("month", MONTHS)
def test_zendesk_dirty_rows(month):
    tickets = zendesk(month)["tickets"]
    ids = [t["id"] for t in tickets]
    assert len(ids) - len(set(ids)) == 2
    assert any(field(t, 360001001) is None for t in tickets)
    assert any(t["satisfaction_rating"] is None for t in tickets)
    # one ticket created just after local midnight on the 1st is on the previous day in UTC
    assert any(t["created_at"] < f"{month}-01" for t in tickets)


@pytest.mark.parametrize("month", MONTHS)
def test_complaints_dirty_rows(month):
    rows = complaints(month)
    dates = [r["Date received"] for r in rows]
    assert "TBC" in dates and any(d.startswith("31/13/") for d in dates)
    assert any(r["Handled by"] not in sample.TEAMS for r in rows)
    assert all(canonical_team(r["Handled by"]) in sample.TEAMS for r in rows)
    assert 140 <= len(rows) <= 160


# --------------------------------------------------------------------------- helpers for benchmarks
def test_write_qualtrics_csv(tmp_path):
    path = sample.write_qualtrics_csv(tmp_path / "big.csv", 2000, seed=1)
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))
    assert len(rows) == 3 + 2000
    assert rows[0] == [c[0] for c in sample.QUALTRICS_COLUMNS]
    assert all(len(r) == len(rows[0]) for r in rows)
    assert rows[3][8].startswith("R_") and len(rows[3][8]) == 17


def test_generate_comments():
    df = sample.generate_comments(500, seed=3)
    assert len(df) == 500 and list(df.columns) == ["team", "text", "themes", "csat", "nps"]
    assert df.equals(sample.generate_comments(500, seed=3))


def test_cli_help(capsys):
    with pytest.raises(SystemExit) as exc:
        sample.main(["--help"])
    assert exc.value.code == 0
    assert "--out" in capsys.readouterr().out
