"""No report section crashes on sparse data, and a thin month gets a short report with no findings."""

from __future__ import annotations

import json
import re

import nbformat
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedbacklib import report
from feedbacklib import schema as S
from feedbacklib.history import History, HistoryStore
from feedbacklib.pipeline import build_result, kpis_document, run_month
from feedbacklib.runner import failed_section, run_report

from .conftest import CONFIG, SAMPLE, TODAY

SECTIONS = [name for name in report.__all__ if name != "SECTIONS"]
TWEAKS = ("none", "one_team", "no_text", "no_ratings", "one_channel", "no_vendor", "in_house_only",
          "outsourced_only", "no_channel")


def _tweak(sub: pd.DataFrame, tweak: str) -> pd.DataFrame:
    def blank(column: str) -> pd.DataFrame:
        return sub.assign(**{column: pd.Series([pd.NA] * len(sub), dtype=sub[column].dtype, index=sub.index)})

    if tweak == "one_team" and len(sub):
        return sub[sub[S.TEAM] == sub[S.TEAM].iloc[0]]
    if tweak == "one_channel" and len(sub):
        return sub[sub[S.CHANNEL] == sub[S.CHANNEL].iloc[0]]
    if tweak == "no_text":
        return blank(S.TEXT)
    if tweak == "no_ratings":
        return blank(S.NPS).pipe(lambda f: f.assign(**{S.CSAT: pd.Series([pd.NA] * len(f), dtype=sub[S.CSAT].dtype,
                                                                            index=f.index)}))
    if tweak == "no_vendor":
        return blank(S.VENDOR)
    if tweak == "no_channel":
        return blank(S.CHANNEL)
    if tweak in ("in_house_only", "outsourced_only"):
        return sub[sub[S.SERVICE_MODEL] == tweak.removesuffix("_only")]
    return sub


def _visible_text(html: str) -> str:
    html = re.sub(r"<(style|script)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _render_all(result) -> dict[str, str]:
    shown = {}
    for name in SECTIONS:
        out = getattr(report, name)(result)
        shown[name] = out._repr_html_() if out is not None and hasattr(out, "_repr_html_") else ""
    return shown


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(size=st.sampled_from([0, 1, 2, 3, 5, 8, 15, 29, 31, 60, 200]), seed=st.integers(0, 10_000),
       tweak=st.sampled_from(TWEAKS), empty_history=st.booleans())
def test_every_section_renders_on_any_subset(sample_result, size, seed, tweak, empty_history):
    month = sample_result.frame
    sub = _tweak(month.sample(min(size, len(month)), random_state=seed), tweak).reset_index(drop=True)
    history = History() if empty_history else sample_result.history
    result = build_result(sample_result.month, sample_result.config, sample_result.taxonomy, sub,
                          sample_result.quarantine, sample_result.quality, {}, history=history,
                          volumes={"2026-09": 1496, sample_result.month: len(sub)})
    shown = _render_all(result)
    assert set(shown) == set(SECTIONS)
    if len(sub) < sample_result.config.min_group_size:  # thin: nothing compared, ranked or trended
        assert result.thin and "Too little feedback to compare" in shown["title_block"]
        assert "Not shown" in shown["comparison_table"] and "Not shown" in shown["vendor_table"]
        assert "vs last month" not in shown["headline_tiles"]
    json.dumps(kpis_document(result))  # the machine-readable figures stay serialisable


def test_whole_month_without_comments_or_text_column(sample_result):
    """Ratings but no comments: theme sections say so instead of failing (discovery, trends)."""
    month = sample_result.frame
    no_text = month.assign(**{S.TEXT: pd.Series([pd.NA] * len(month), dtype=month[S.TEXT].dtype)})
    result = build_result(sample_result.month, sample_result.config, sample_result.taxonomy, no_text,
                          sample_result.quarantine, sample_result.quality, {}, history=History())
    assert result.thin is None
    shown = _render_all(result)
    assert "Not shown" not in shown["theme_trend_table"]
    assert result.emerging[0] == []  # no comment to look for new themes in


@pytest.fixture(scope="module")
def thin_run(rendered_report, salt_env):
    """November (one late response) asked for by name, next to the session's October report and store."""
    out = rendered_report.folder.parent
    thin = run_report("2026-11", SAMPLE, CONFIG, out, generated_at="2026-12-01 06:00 GMT", today=TODAY)
    return out, rendered_report, thin


def test_thin_month_by_name_renders_a_short_report_with_no_findings(thin_run):
    out, full, thin = thin_run
    kpis = json.loads((thin.folder / "kpis.json").read_text())
    assert kpis["month"] == "2026-11" and kpis["responses"] == 1
    assert kpis["thin"] is True and "fewer than the 30" in kpis["thin_reason"]
    assert json.loads((full.folder / "kpis.json").read_text())["thin"] is False
    html = thin.html.read_text(encoding="utf-8")
    text = _visible_text(html)
    assert "Too little feedback to compare" in text and "1 response, fewer than the 30" in text
    assert "states no findings" in text
    assert "vs last month" not in text and "<img" not in html  # no change, no chart
    assert text.count("Not shown: November 2026 has 1 response") >= 8
    # shorter than a full month's report
    assert len(html) < 0.5 * len(full.html.read_text(encoding="utf-8"))


def test_thin_month_never_enters_the_history_store(thin_run):
    out, full, thin = thin_run
    store = HistoryStore(out / "history")
    assert "2026-11" not in store.months()
    assert "2026-10" in store.months()
    assert len(store.read_month("2026-10")) == json.loads((full.folder / "kpis.json").read_text())["responses"]


def test_a_partial_reexport_does_not_replace_a_full_stored_month(thin_run, tmp_path, salt_env):
    """A later run whose input holds a fraction of October (a partial export) leaves the stored October."""
    out, full, _ = thin_run
    store = HistoryStore(out / "history")
    before = len(store.read_month("2026-10"))
    partial = tmp_path / "partial"
    partial.mkdir()
    rows = (SAMPLE / "qualtrics_post_contact_survey_2026-10.csv").read_text(encoding="utf-8-sig").splitlines(True)
    (partial / "qualtrics_post_contact_survey_2026-10.csv").write_text("".join(rows[:3 + 150]), encoding="utf-8")
    result = run_month("2026-10", partial, CONFIG, history_dir=out / "history", today=TODAY)
    assert result.thin and "less than 25%" in result.thin
    assert len(store.read_month("2026-10")) == before


def test_last_resolves_to_the_latest_full_month_on_any_date(salt_env):
    from feedbacklib.runner import plan_report

    assert plan_report("last", SAMPLE, CONFIG, "/tmp/feedbacklib-never-written", today="2027-08-15").month == "2026-10"
    plan = plan_report("2026-11", SAMPLE, CONFIG, "/tmp/feedbacklib-never-written", today=TODAY)
    assert plan.thin and plan.responses == 1


def test_failed_section_is_named_from_the_notebook_headings(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("month = 'last'"), nbformat.v4.new_code_cell("run()"),
                nbformat.v4.new_markdown_cell('<h2 id="call-list">Call list</h2>'),
                nbformat.v4.new_code_cell("report.call_list(result)"),
                nbformat.v4.new_markdown_cell("## Data &amp; quality"), nbformat.v4.new_code_cell("x")]
    path = tmp_path / "executed.ipynb"
    nbformat.write(nb, path)
    assert failed_section(path, 3) == "Call list"
    assert failed_section(path, 5) == "Data & quality"
    assert "before the first section" in failed_section(path, 1)
    assert failed_section(path, None) is None and failed_section(tmp_path / "missing.ipynb", 2) is None
