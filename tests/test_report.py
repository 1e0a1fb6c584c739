"""The rendered report: self-contained, no code, expected sections, no PII, escaped text."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from feedbacklib.report import SECTIONS
from feedbacklib.report.html import table

pytestmark = pytest.mark.slow

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
PHONE = re.compile(r"(?:\+44 ?20 ?7946 ?0958|07700 ?900[0-9]{3}|\(555\) ?[0-9]{3}-[0-9]{4})")
CARD = re.compile(r"4111[ -]?1111[ -]?1111[ -]?1111")


@pytest.fixture(scope="module")
def html(rendered_report):
    return rendered_report.html.read_text(encoding="utf-8")


def test_run_writes_every_output(rendered_report):
    folder = rendered_report.folder
    assert folder.name == "2026-10"
    for name in ("report.html", "report.ipynb", "feedback.parquet", "kpis.json", "quarantine.csv", "run.log"):
        assert (folder / name).is_file(), name
    assert not (folder / ".timings.json").exists()
    assert not list(folder.parent.glob(".staging-*"))
    log = (folder / "run.log").read_text()
    assert "outcome: success" in log and "sha256" in log and "step themes" in log


def test_html_has_no_code_and_every_section(html):
    assert "run_month(" not in html and "import " not in html and "jp-InputArea-editor" not in html
    assert "In&nbsp;[" not in html
    for anchor, _heading in SECTIONS:
        assert f'id="{anchor}"' in html, anchor
        assert f'href="#{anchor}"' in html
    assert "Customer feedback report — October 2026" in html


def test_html_is_self_contained(html):
    assert "<script" not in html.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html, re.I)
    assert "@import" not in html and "url(http" not in html
    assert html.count("data:image/png;base64,") >= 3


def test_no_pii_in_any_output(rendered_report):
    for name in ("report.html", "report.ipynb", "kpis.json", "run.log"):
        text = (rendered_report.folder / name).read_text(encoding="utf-8")
        # the only e-mail-like strings allowed are none at all
        assert not EMAIL.search(text), (name, EMAIL.search(text))
        assert not PHONE.search(text), name
        assert not CARD.search(text), name
    frame = pd.read_parquet(rendered_report.folder / "feedback.parquet")
    joined = "\n".join(frame["text"].fillna(""))
    assert not EMAIL.search(joined) and not PHONE.search(joined) and not CARD.search(joined)


def test_quarantine_csv_cannot_carry_formulas(rendered_report):
    q = pd.read_csv(rendered_report.folder / "quarantine.csv", dtype=str, keep_default_na=False)
    assert len(q) > 0 and "reason" in q.columns
    for col in q.columns:
        assert not q[col].str.match(r"^[=+\-@\t\r]").any(), col


def test_kpis_json_matches_the_report(rendered_report, html):
    doc = json.loads((rendered_report.folder / "kpis.json").read_text())
    assert doc["month"] == "2026-10"
    assert f"{doc['responses']:,} pieces of feedback" in html


def test_planted_effects_appear_in_the_rendered_summary(html):
    summary = html.split('id="summary"', 1)[1].split('id="headline"', 1)[0]
    for needle in ("Northwind BPO", "Sunrise Contact Services", "Customer Care London", "Surprise",
                   "mix of contacts each side handles hides a real difference"):
        assert needle in summary, needle
    assert "Satisfied customers by channel" in html or "share of satisfied customers by channel" in html


def test_html_table_escapes_untrusted_text():
    frame = pd.DataFrame({"team": ["<img src=x onerror=alert(1)>"], "text": ["<script>alert('x')</script>"]})
    out = table(frame, [("team", "Team <b>", None), ("text", "Text", None)]).markup
    assert "<script>" not in out and "<img" not in out and "Team &lt;b&gt;" in out


PAYLOADS = [
    "<script>alert('x')</script>",
    "<img src=x onerror=alert(1)>",
    "\"><svg onload=alert(1)>",
    "<a href=\"javascript:alert(1)\">click</a>",
    "<iframe src=//evil.example></iframe>",
]


def test_hostile_text_in_every_section_renders_as_text(sample_result):
    import dataclasses

    from feedbacklib import report
    from feedbacklib import schema as S

    frame = sample_result.frame.copy()
    n = len(frame)
    frame[S.TEXT] = [PAYLOADS[i % len(PAYLOADS)] + " I was charged twice and I will cancel" for i in range(n)]
    frame[S.TEAM] = frame[S.TEAM].where(frame.index % 2 == 0, PAYLOADS[1])
    frame[S.VENDOR] = frame[S.VENDOR].where(frame[S.VENDOR].isna(), PAYLOADS[2])
    hostile = dataclasses.replace(sample_result, frame=frame)
    for name in report.__all__:
        if name == "SECTIONS":
            continue
        out = getattr(report, name)(hostile)._repr_html_()
        low = out.lower()
        assert "<script" not in low and "<img src=x" not in low and "<svg onload" not in low, name
        # the only SVG the report draws itself is the headline sparkline (numbers only)
        assert low.count("<svg") == low.count('<svg class="fb-spark"'), name
        assert "<iframe" not in low and 'href="javascript' not in low, name


def test_times_are_read_in_the_configured_zone():
    from feedbacklib.report.sections import _local

    # 23:00 UTC on 21 October is midnight in London (BST): a date-only source shows no time
    assert _local(pd.Timestamp("2026-10-21 23:00", tz="UTC"), "Europe/London") == "22 Oct"
    assert _local(pd.Timestamp("2026-10-10 12:00", tz="UTC"), "Europe/London") == "10 Oct 13:00"
    assert _local(pd.Timestamp("2026-11-10 12:00", tz="UTC"), "Europe/London") == "10 Nov 12:00"
    assert _local(None, "Europe/London") == ""


def test_change_against_last_month_is_coloured_only_when_clear():
    from feedbacklib.report.leader import change_class, sparkline

    assert change_class(0.60, 0.40, 0.55, 0.65, 0.35, 0.45, True) == "better"
    assert change_class(0.60, 0.40, 0.55, 0.65, 0.35, 0.45, False) == "worse"
    assert change_class(0.47, 0.49, 0.44, 0.50, 0.46, 0.52, True) == "same"   # overlapping: no clear change
    assert change_class(0.47, None, 0.44, 0.50, None, None, True) == "same"
    svg = sparkline([1, 2, float("nan"), 3], label="<b>x</b>")
    assert svg.startswith('<svg class="fb-spark"') and "&lt;b&gt;" in svg and "<b>" not in svg
    assert sparkline([1], label="x") == ""


def test_leader_sections_state_the_planted_effects_in_words(sample_result):
    from feedbacklib import report

    vendors = report.vendor_table(sample_result)._repr_html_()
    # Sunrise's perception gap and Northwind's waiting complaints are marked clearly worse, in words too
    assert vendors.count("clearly worse than in-house") >= 4 and "fb-worse" in vendors
    calls = sample_result.call_list
    assert calls["reasons"].nunique() > 1 and not calls["reasons"].str.contains("churn risk").any()
    rec = report.recognition(sample_result)._repr_html_()
    for complaint in ("unexpected fee", "without fixing", "transferred around"):
        assert complaint not in rec, complaint
    assert "Comments praising each team this month" in rec


def test_chart_warnings_stay_out_of_the_report(monkeypatch, caplog):
    """Issue 16.9: a matplotlib UserWarning naming a server path never reaches the notebook output."""
    import logging
    import warnings

    from matplotlib.figure import Figure

    from feedbacklib.report.plots import FigureImage

    fig = Figure()
    fig.add_subplot().plot([0, 1], [0, 1])
    real = fig.savefig

    def noisy(*args, **kwargs):
        warnings.warn("/srv/feedbacklib/.venv/lib/python3.11/site-packages/matplotlib/layout.py: not applied",
                      UserWarning, stacklevel=2)
        return real(*args, **kwargs)

    monkeypatch.setattr(fig, "savefig", noisy)
    with warnings.catch_warnings(record=True) as escaped, caplog.at_level(logging.INFO, "feedbacklib.report"):
        warnings.simplefilter("always")
        image = FigureImage(fig, alt="a chart")
    assert image.png and not escaped
    assert any("UserWarning" in r.getMessage() and "/srv" not in r.getMessage() for r in caplog.records)


def test_an_unknown_place_is_never_named_as_if_it_were_one():
    from feedbacklib.report.narrative import where_phrase

    assert where_phrase("channel", "unknown", preposition=True) == "in contacts whose channel is not recorded"
    assert where_phrase("channel", "phone") == "the phone channel"
    assert where_phrase("vendor", "Northwind BPO", preposition=True) == "at Northwind BPO"
