"""Known-answer tests: the statistics find the effects planted in the sample data."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from feedbacklib import schema as S
from feedbacklib.errors import NoDataError
from feedbacklib.pipeline import kpis_document, run_month, save_outputs
from feedbacklib.report.narrative import summary_sentences, team_praise
from feedbacklib.trends import theme_trends

from .conftest import CONFIG, SAMPLE


def test_rows_in_equal_rows_kept_plus_quarantined(sample_result):
    q = sample_result.quality
    assert (q["rows_read"] == q["rows_kept"] + q["rows_quarantined"]).all()
    assert int(q["rows_quarantined"].sum()) == len(sample_result.quarantine)
    assert set(sample_result.quarantine[S.QUARANTINE_REASON]) and sample_result.quarantine[S.QUARANTINE_REASON].notna().all()


def test_month_frame_is_canonical_and_only_the_month(sample_result):
    frame = sample_result.frame
    assert set(S.CANONICAL_COLUMNS) <= set(frame.columns)
    assert (frame[S.MONTH] == "2026-10").all()
    assert 1000 <= len(frame) <= 2000
    assert {S.IN_HOUSE, S.OUTSOURCED} <= set(frame[S.SERVICE_MODEL].astype(str))


def test_planted_vendor_responsiveness_is_found(sample_result):
    v = sample_result.vendors
    row = v[(v["vendor"] == "Northwind BPO") & (v["metric"] == "rate_responsiveness")].iloc[0]
    assert row["significant"]
    assert row["diff_lo"] > 0  # the 95% interval of the difference excludes zero
    assert row["value_a"] > 1.5 * row["value_b"]
    assert "Northwind BPO" in row["finding"]


def test_planted_surprise_charge_jump_is_found(sample_result):
    trend = sample_result.theme_trend  # from the stored-count history
    on_rows = theme_trends(sample_result.rows, "2026-10", sample_result.theme_ids)
    pd.testing.assert_frame_equal(trend[on_rows.columns], on_rows, check_dtype=False)
    row = trend.set_index("theme").loc["surprise_charges"]
    assert row["spike"] and row["rate"] > 2 * row["baseline_rate"]


def test_planted_perception_gap_is_found(sample_result):
    gap = sample_result.gap.set_index("provider")
    assert gap.loc["Sunrise Contact Services", "significant"]
    assert gap.loc["Sunrise Contact Services", "any_share"] > 1.5 * gap.loc["In-house", "any_share"]
    assert gap.loc["Sunrise Contact Services", "any_diff_lo"] > 0


def test_planted_praise_team_is_found(sample_result):
    praise = team_praise(sample_result).set_index("team")
    assert praise.loc["Customer Care London", "significant"]
    assert praise["significant"].sum() == 1


def test_summary_states_the_planted_effects(sample_result):
    text = " ".join(summary_sentences(sample_result))
    assert 3 <= len(summary_sentences(sample_result)) <= 6
    for needle in ("Northwind BPO", "Sunrise Contact Services", "Customer Care London"):
        assert needle in text
    assert sample_result.taxonomy.label("surprise_charges") in text
    # effect 6: the raw satisfaction comparison hides a like-for-like gap (Simpson's paradox in channel mix)
    assert "the mix of contacts each side handles hides a real difference" in text
    assert "Satisfaction does not differ clearly" not in text


def test_planted_case_mix_effect_is_found_like_for_like(sample_result):
    adj = sample_result.adjusted.set_index("metric")
    for metric in ("satisfied_share", "csat_mean"):
        row = adj.loc[metric]
        assert not row["raw_significant"] and row["adj_significant"], metric
        assert row["raw_diff"] > 0 > row["adj_diff_hi"], metric  # raw flatters outsourced; like for like it is lower
        assert row["disagreement"] == "adjusted_only"
    assert "outsourced teams come out lower" in adj.loc["csat_mean", "finding"]


def test_a_month_without_planted_vendor_effect_makes_no_claim_about_sunrise_rates(sample_result):
    v = sample_result.vendors
    sunrise = v[(v["vendor"] == "Sunrise Contact Services") & (v["metric"] == "rate_responsiveness")].iloc[0]
    assert not sunrise["significant"] and sunrise["finding"] in ("", None) or pd.isna(sunrise["finding"])


def test_outputs_are_written_and_reproducible(sample_result, tmp_path):
    a = save_outputs(sample_result, tmp_path / "a")
    b = save_outputs(sample_result, tmp_path / "b")
    assert a["kpis"].read_bytes() == b["kpis"].read_bytes()
    doc = json.loads(a["kpis"].read_text())
    assert doc["month"] == "2026-10" and doc["responses"] == len(sample_result.frame)
    back = pd.read_parquet(a["feedback"])
    assert len(back) == len(sample_result.frame)
    assert save_outputs(sample_result, "") == {}


def test_kpis_document_has_intervals_and_n(sample_result):
    doc = kpis_document(sample_result)
    row = next(r for r in doc["by_service_model"] if r["group"] == S.OUTSOURCED)
    assert row["n"] > 0 and row["satisfied_share_lo"] <= row["satisfied_share"] <= row["satisfied_share_hi"]


def test_missing_month_is_no_data(salt_env):
    with pytest.raises(NoDataError, match="2025-01"):
        run_month("2025-01", SAMPLE, CONFIG)


def test_pipeline_runs_offline(no_network, salt_env, tmp_path, monkeypatch):
    """The whole analysis with sockets blocked and no nltk_data anywhere on the machine."""
    monkeypatch.setenv("NLTK_DATA", str(tmp_path))
    result = run_month("2026-09", SAMPLE, CONFIG)
    assert len(result.frame) > 1000
    assert result.frame["sentiment"].notna().sum() > 500


def test_a_month_with_no_real_difference_claims_none(sample_result):
    """Shuffle which team served each row: every team difference is then chance, and the
    summary must not claim one (the month-wide surprise-charge spike is real and may stay)."""
    import dataclasses

    import numpy as np

    from feedbacklib.pipeline import build_result

    rng = np.random.default_rng(7)
    history = sample_result.rows.copy()
    cols = [S.TEAM, S.SERVICE_MODEL, S.VENDOR]
    for _month, idx in history.groupby(S.MONTH).groups.items():
        shuffled = history.loc[idx, cols].sample(frac=1.0, random_state=int(rng.integers(1 << 30)))
        history.loc[idx, cols] = shuffled.to_numpy()
    null = build_result(sample_result.month, sample_result.config, sample_result.taxonomy, history,
                        sample_result.quarantine, sample_result.quality, {})
    text = " ".join(summary_sentences(null))
    for name in ("Northwind BPO", "Sunrise Contact Services", "Customer Care London", "Outsourced teams",
                 "outsourced teams", "mix of contacts"):
        assert name not in text, text
    assert not null.vendors["significant"].fillna(False).any()
    assert not null.comparison["significant"].fillna(False).any()
    assert dataclasses.is_dataclass(null)


def test_kpis_json_matches_its_documented_schema(sample_result):
    import re
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[1] / "docs" / "kpis.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", doc, re.M))
    assert documented == set(kpis_document(sample_result))


def test_skipped_files_are_named_in_the_report_and_kpis(tmp_path, salt_env):
    """A stray file in the input folder is not read, and the data-quality section and kpis.json say so."""
    import shutil

    from feedbacklib.report import data_quality

    shutil.copy(SAMPLE / "qualtrics_post_contact_survey_2026-10.csv", tmp_path)
    (tmp_path / "notes.csv").write_text("who,what\nana,call the vendor\n", encoding="utf-8")
    (tmp_path / "old").mkdir()
    result = run_month("2026-10", tmp_path, CONFIG, today="2026-12-06")
    names = {name for name, _ in result.skipped}
    assert names == {"notes.csv", "old"}
    assert {r["file"] for r in kpis_document(result)["skipped_files"]} == names
    shown = data_quality(result)._repr_html_()
    assert "Not read: notes.csv" in shown and "Not read: old" in shown
