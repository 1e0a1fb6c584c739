"""The analyst API (feedbacklib.explore) and the progress rule (feedbacklib.progress)."""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from matplotlib.figure import Figure

from feedbacklib import explore as fx
from feedbacklib import progress as P
from feedbacklib import schema as S
from feedbacklib.errors import InputError, NoDataError
from feedbacklib.pipeline import run_month
from feedbacklib.themes import load_taxonomy

from .conftest import CONFIG, ROOT, SAMPLE

LABELLED = ROOT / "tests" / "fixtures" / "themes" / "cfpb_sample.csv"
EXTERNAL_FETCH = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//|\bfrom\s+["']https?://""", re.I)


# -- progress --------------------------------------------------------------------------------
def test_progress_rule(monkeypatch):
    monkeypatch.delenv(P.PROGRESS_ENV, raising=False)
    monkeypatch.setattr(P, "_stderr_is_tty", lambda: False)
    assert P.progress_enabled(False) is False
    assert P.progress_enabled(True) is True
    assert P.progress_enabled(None) is False  # cron: no terminal, no kernel
    monkeypatch.setattr(P, "_stderr_is_tty", lambda: True)
    assert P.progress_enabled(None) is True  # a person at a terminal
    monkeypatch.setenv(P.PROGRESS_ENV, "0")
    assert P.progress_enabled(None) is False and P.progress_enabled(True) is False  # the kill switch wins
    monkeypatch.setenv(P.PROGRESS_ENV, "1")
    monkeypatch.setattr(P, "_stderr_is_tty", lambda: False)
    assert P.progress_enabled(None) is True and P.progress_enabled(False) is False


def test_progress_bar_draws_only_when_enabled(monkeypatch, capsys):
    monkeypatch.delenv(P.PROGRESS_ENV, raising=False)
    assert list(P.progress_bar(range(3), desc="quiet", progress=False)) == [0, 1, 2]
    assert capsys.readouterr().err == ""
    assert list(P.progress_bar(range(3), desc="loud", progress=True)) == [0, 1, 2]
    assert "loud" in capsys.readouterr().err


def test_report_never_shows_progress():
    """run_month is quiet unless asked, and the report notebook never asks."""
    assert inspect.signature(run_month).parameters["progress"].default is False
    report = json.loads((ROOT / "notebooks" / "monthly_report.ipynb").read_text(encoding="utf-8"))
    assert "progress" not in "".join("".join(c["source"]) for c in report["cells"] if c["cell_type"] == "code")


# -- loading ---------------------------------------------------------------------------------
@pytest.fixture
def fake_run(monkeypatch, sample_result):
    """run_month replaced by the session's sample result (2026-10, history 2026-07..10); counts calls."""
    calls = []

    def fake(month, folder, cfg, *, progress=False, keep_rows=False, today=None):
        assert keep_rows  # load_months reads result.rows
        assert today is None or hasattr(today, "isoformat")  # a date passed in, never read from the clock
        calls.append(month)
        return sample_result

    fx.clear_cache()
    monkeypatch.setattr(fx, "run_month", fake)
    yield calls
    fx.clear_cache()


def test_load_months_selects_months_and_caches(fake_run):
    one = fx.load_months("2026-10", SAMPLE, CONFIG)
    assert one.attrs["feedbacklib_timezone"] == "Europe/London"  # comment tables show local times
    assert set(one[S.MONTH]) == {"2026-10"}
    assert fx.theme_labels(one)["responsiveness"] == "Waiting and slow replies"
    assert set(fx.load_months("2026-08:2026-10", SAMPLE, CONFIG)[S.MONTH]) == {"2026-08", "2026-09", "2026-10"}
    assert set(fx.load_months(["2026-07", "2026-09"], SAMPLE, CONFIG)[S.MONTH]) == {"2026-07", "2026-09"}
    assert fake_run == ["2026-10", "2026-09"]  # a month asked for again is served from memory
    assert set(fx.load_months("all", SAMPLE, CONFIG)[S.MONTH]) == {"2026-07", "2026-08", "2026-09", "2026-10"}
    assert fx.load_result("2026-10", SAMPLE, CONFIG).month == "2026-10"


def test_load_months_explains_bad_requests(fake_run):
    with pytest.raises(NoDataError, match="2026-05.*2026-07, 2026-08"):
        fx.load_months(["2026-05", "2026-07"], SAMPLE, CONFIG)
    with pytest.raises(InputError, match="YYYY-MM"):
        fx.load_months("October", SAMPLE, CONFIG)
    with pytest.raises(InputError, match="ends before it starts"):
        fx.load_months("2026-10:2026-08", SAMPLE, CONFIG)


# -- looking ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def frame(sample_result):
    return sample_result.frame


def test_filter_feedback(frame):
    before = frame.copy()
    sub = fx.filter_feedback(frame, service_model="outsourced", theme=["responsiveness", "not_fixed"],
                             sentiment="negative")
    assert len(sub) > 0
    assert (sub[S.SERVICE_MODEL] == "outsourced").all() and (sub[S.SENTIMENT_LABEL] == "negative").all()
    assert (sub["theme_responsiveness"] | sub["theme_not_fixed"]).all()
    uncovered = fx.filter_feedback(frame, theme="none")
    assert len(uncovered) == len(fx.uncovered_comments(frame))
    assert not uncovered[[S.theme_column(t) for t in fx.theme_ids(frame)]].any(axis=None)
    assert fx.filter_feedback(frame, contains="ON HOLD")[S.TEXT].str.lower().str.contains("on hold").all()
    assert (fx.filter_feedback(frame, max_csat=2)[S.CSAT] <= 2).all()
    pd.testing.assert_frame_equal(frame, before)  # input untouched
    with pytest.raises(ValueError, match="Expected one of: .*Northwind BPO"):
        fx.filter_feedback(frame, vendor="Northwnd BPO")
    with pytest.raises(ValueError, match="no theme 'waiting'"):
        fx.filter_feedback(frame, theme="waiting")


def test_comments_table_has_readable_columns_themes_and_evidence(frame):
    table = fx.comments_table(frame)
    assert {"Id", "Team", "Service model", "Sentiment", "Themes", "Evidence", "Comment"} <= set(table.columns)
    tagged = table[table["Evidence"].str.contains("responsiveness:", regex=False)]
    assert tagged["Themes"].str.contains("Waiting and slow replies", regex=False).all()
    assert set(table["Service model"].dropna()) <= {"In-house", "Outsourced", "Unknown"}


def test_show_comments_is_offline_and_escaped(frame, monkeypatch):
    import itables

    calls = []
    monkeypatch.setattr(itables, "init_notebook_mode", lambda **kw: calls.append(kw))
    monkeypatch.setattr(fx, "_load_library", fx._load_library)  # the real one, with a fake notebook below
    import IPython

    monkeypatch.setattr(IPython, "get_ipython", lambda: object())
    hostile = frame.head(3).copy()
    hostile[S.TEXT] = hostile[S.TEXT].astype("object")
    hostile.loc[0, S.TEXT] = "<script>alert('x')</script> <img src=https://evil.example/x.png>"
    fx._OFFLINE_READY = False
    html = fx.show_comments(hostile)._repr_html_()
    assert "<script>alert" not in html and "<img" not in html  # customer text is escaped
    second = fx.show_comments(frame.head(5))._repr_html_()
    # the library is embedded once, before the first table, through ITables' public offline API
    assert len(calls) == 1 and calls[0]["connected"] is False and calls[0]["all_interactive"] is False
    assert Path(calls[0]["dt_bundle"]).name == "dt_bundle.js"
    for part in (html.replace("&lt;img src=https://evil", ""), second):
        assert not EXTERNAL_FETCH.search(part), EXTERNAL_FETCH.search(part).group(0)
        assert "dt_src" not in part and len(part) < 40_000  # tables carry their rows, not the library
    fx._OFFLINE_READY = False


def test_the_embedded_library_is_small_and_complete():
    import base64
    import gzip
    import re as _re

    import itables

    bundle = fx.small_bundle()
    original = Path(itables.options.dt_bundle)
    text = bundle.read_text()
    embedded = 4 / 3 * (len(text) + len(bundle.with_suffix(".css").read_text()))  # ITables base64-encodes it
    assert embedded < 400_000  # about 0.34 MB, instead of about 0.97 MB for ITables' bundle as it is
    packed = _re.findall(r'unzip\("([A-Za-z0-9+/=]+)"\)', text)
    assert len(packed) == 2  # the CSS and the JavaScript, both the library's own, byte for byte
    assert gzip.decompress(base64.b64decode(packed[1])).decode() == original.read_text()
    assert gzip.decompress(base64.b64decode(packed[0])).decode() == original.with_suffix(".css").read_text()
    assert "export const { " in text and "ITable" in text and "jQuery" in text
    assert not EXTERNAL_FETCH.search(text)


def test_comment_table_reads_like_text(frame):
    frame = frame.copy()
    frame.attrs["feedbacklib_timezone"] = "Europe/London"  # what load_months records
    table = fx.comments_table(frame)
    assert not table.isin(["<NA>", "nan", "NaT", "None"]).any().any() and not table.isna().any().any()
    in_house = table[table["Service model"] == "In-house"]
    assert len(in_house) and (in_house["Vendor"] == "").all()  # no vendor: an empty cell, not <NA>
    # times in the configured zone (Europe/London in feedback.toml): a complaint received on
    # 1 October at 00:00 local time is stored as 2026-09-30 23:00 UTC
    stored = frame.loc[fx._has_text(frame), S.RECEIVED_AT].reset_index(drop=True)
    first = stored.iloc[0]
    assert table["Received"].iloc[0] == first.tz_convert("Europe/London").strftime("%Y-%m-%d %H:%M")
    assert (table["Received"].str[:7] == table["Month"]).all()  # local dates fall in their own month
    utc = fx.comments_table(frame, timezone="UTC")
    assert utc["Received"].iloc[0] == first.tz_convert("UTC").strftime("%Y-%m-%d %H:%M")
    note = fx.show_comments(frame).caption
    assert "times in Europe/London" in note


def test_comment_table_fits_the_page(frame):
    html = fx.show_comments(frame.head(30)).to_html()
    assert "text-align:left!important" in html and "white-space:normal" in html and "table-layout:fixed" in html
    assert '"autoWidth": false' in html
    table = fx.show_comments(frame.head(30))
    widths = {table.frame.columns[d["targets"]]: float(d["width"].rstrip("%")) for d in table._column_defs()}
    assert max(widths, key=widths.get) == "Comment" and abs(sum(widths.values()) - 100) < 0.5
    assert "Month" not in table.frame.columns  # the received time carries the date


def test_discovery_shows_each_quote_once():
    assert fx.distinct_quotes(["yes", "Yes.", " yes ", "Too slow!", "too slow"]) == [("yes", 3), ("Too slow!", 2)]
    candidate = type("C", (), {"label": "yes / ok", "size": 3, "quotes": ["yes", "yes", "Yes"]})()
    shown = fx.CandidateThemes(table=pd.DataFrame({"Candidate": ["yes / ok"], "Comments": [3],
                                                   "Share of uncovered": [1.0]}),
                               candidates=[candidate], discovery=type("D", (), {"labels_": [0, 0, 0]})(),
                               n_uncovered=3)._repr_html_()
    assert shown.count("<blockquote>") == 1 and "(3 comments say this)" in shown
    assert "1 candidate theme among 3 comments" in shown


def test_styled_tables(frame, sample_result):
    seg = fx.segment_table(frame, "service_model").to_html()
    assert "Mean CSAT (95% CI)" in seg and "Outsourced" in seg and "%" in seg
    comp = fx.comparison_table(frame)
    assert "Clear difference" in comp.data.columns and (comp.data["Clear difference"] == "yes").any()
    assert "Waiting and slow replies (per 100 comments)" in comp.data["Measure"].tolist()
    vendors = fx.comparison_table(frame, "Northwind BPO", "Sunrise Contact Services", by="vendor").data
    assert {"Northwind BPO (95% CI)", "Sunrise Contact Services (95% CI)"} <= set(vendors.columns)
    assert "Quarantined share" in fx.quality_summary(sample_result).to_html()
    counts = fx.theme_counts(frame).data
    assert counts["Theme"].iloc[-1] == "(no theme)" and counts["Comments"].iloc[-1] == len(fx.uncovered_comments(frame))
    assert "With comment" in fx.completeness_table(frame).to_html()


def test_plots_return_figures(frame):
    for fig in (fx.theme_rates_plot(frame), fx.sentiment_plot(frame, "vendor"), fx.trend_plot(frame)):
        assert isinstance(fig, Figure) and fig.axes[0].get_title(loc="left")


def test_setup_notebook_outside_jupyter_does_nothing():
    assert fx.setup_notebook() is None


# -- tuning the taxonomy -----------------------------------------------------------------------
def test_edit_theme_returns_a_changed_copy():
    tax = load_taxonomy()
    new = fx.edit_theme(tax, "responsiveness", add_seeds=["got there in the end"], remove_seeds=["on hold"])
    assert "got there in the end" in new["responsiveness"].seeds and "on hold" not in new["responsiveness"].seeds
    assert "on hold" in tax["responsiveness"].seeds  # the original is untouched
    assert new["courtesy"] == tax["courtesy"]
    with pytest.raises(KeyError, match="has no seed 'nope'"):
        fx.edit_theme(tax, "responsiveness", remove_seeds=["nope"])
    with pytest.raises(ValueError, match="no seed phrase left"):
        fx.edit_theme(tax, "courtesy", seeds=[])


def test_save_taxonomy_round_trips(tmp_path):
    new = fx.edit_theme(load_taxonomy(), "courtesy", add_seeds=['said "cheers"'], label="Courtesy & manners")
    path = fx.save_taxonomy(new, tmp_path / "themes.toml")
    assert fx.read_taxonomy(path).themes == new.themes
    assert fx.read_taxonomy("", default=new) is new


def test_compare_taxonomies_shows_counts_and_changed_comments():
    texts = pd.Series(["We got there in the end.", "Lovely staff, thank you", "I was on hold for an hour"])
    old = load_taxonomy()
    new = fx.edit_theme(old, "responsiveness", add_seeds=["got there in the end"])
    comparison = fx.compare_taxonomies(texts, old, new, progress=False)
    row = comparison.summary.set_index("Theme").loc["responsiveness"]
    assert (row["Before"], row["After"], row["Gained"], row["Lost"]) == (1, 2, 1, 0)
    assert comparison.changed["Comment"].tolist() == ["We got there in the end."]
    assert comparison.changed["Gained"].tolist() == ["Waiting and slow replies"]
    assert "1 of 3 comments change" in comparison._repr_html_()


def test_evaluate_themes_on_the_labelled_fixture():
    labelled = fx.read_labelled(LABELLED)
    expected = pd.read_csv(LABELLED, dtype=str, keep_default_na=False)["expected_themes"]
    evaluation = fx.evaluate_themes(LABELLED, load_taxonomy(), progress=False)
    scores = evaluation.scores.set_index("Id")
    assert scores.loc["surprise_charges", "Expected"] == expected.str.contains("surprise_charges").sum()
    pooled = evaluation.scores.iloc[-1]
    assert pooled["Theme"] == "All themes" and 0 <= pooled["Precision"] <= 1 and 0 <= pooled["Recall"] <= 1
    assert pooled["Expected"] == sum(len(e) for e in labelled["expected"])
    assert "Precision" in evaluation._repr_html_()
    assert "No labelled comments" in repr(fx.evaluate_themes(""))


def test_discover_themes_finds_candidates_with_quotes(frame):
    pytest.importorskip("feedbacklib.themes.discovery")
    part = frame.head(500)
    found = fx.discover_themes(part, k_min=3, k_max=4, drop_non_themes=False)  # every group, for the accounting
    assert 3 <= len(found.candidates) <= 4
    # every uncovered comment is in a candidate, or has no usable word (label -1)
    assert found.table["Comments"].sum() + found.n_unclustered == len(fx.uncovered_comments(part)) == found.n_uncovered
    html = found._repr_html_()
    assert "Suggested seeds" in html and html.count("<blockquote>") >= 3
