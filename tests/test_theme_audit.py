"""Issue 13: the theme audit (labels files, scores, `themes evaluate`, Rogan–Gladen rates)."""

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from feedbacklib.cli import main
from feedbacklib.errors import ConfigError, InputError
from feedbacklib.themes import ThemeTagger, load_taxonomy
from feedbacklib.themes.audit import corrected_rate, error_rates, read_labels, score_tags
from feedbacklib.themes.supervised import shipped_examples

FIXTURES = Path(__file__).parent / "fixtures" / "themes"
GOLD = FIXTURES / "cfpb_gold_small.csv"
IDS = load_taxonomy().ids
THEME_KEYS = {"support", "tagged", "precision", "recall", "f1", "gold_rate", "tag_rate"}


def labels_csv(tmp_path, rows, name="labels.csv", themes=IDS):
    frame = pd.DataFrame([{"id": i, "text": t, **{th: int(th in on) for th in themes}} for i, (t, on) in enumerate(rows)])
    p = tmp_path / name
    frame.to_csv(p, index=False)
    return p


# -- reading labels ---------------------------------------------------------------------------
def test_read_labels_fixture():
    data = read_labels(GOLD, IDS, require_all=True)
    assert len(data.texts) == 24 and list(data.labels.columns) == list(IDS)
    assert data.labels.dtypes.eq(bool).all()
    assert data.ids.iloc[0].isdigit()  # complaint_id accepted as the id column
    assert data.labels["not_fixed"].sum() == 8


@pytest.mark.parametrize("body, needle", [
    ("text,responsiveness\nhello,1\n", "no id (or complaint_id)"),
    ("id,responsiveness\n1,1\n", "no text"),
    ("id,text,other\n1,hello,1\n", "no column for the theme"),
    ("id,text,responsiveness\n1,hello,2\n", "column 'responsiveness': 1 cell(s) are not 0 or 1 (data rows 1)"),
    ("id,text,responsiveness\n1,hello,\n", "not 0 or 1"),
    ("id,text,responsiveness\n1,  ,1\n", "empty text (data rows 1)"),
])
def test_read_labels_errors_say_what_and_where(tmp_path, body, needle):
    p = tmp_path / "bad.csv"
    p.write_text(body, encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_labels(p, IDS)
    assert needle in str(err.value) and "bad.csv" in str(err.value)


def test_read_labels_missing_file(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        read_labels(tmp_path / "nope.csv", IDS)


def test_read_labels_subset_of_themes(tmp_path):
    p = labels_csv(tmp_path, [("on hold for an hour", {"responsiveness"})], themes=("responsiveness",))
    assert list(read_labels(p, IDS).labels.columns) == ["responsiveness"]
    with pytest.raises(InputError, match="praise"):
        read_labels(p, IDS, require_all=True)


# -- scores -----------------------------------------------------------------------------------
def test_score_tags_by_hand():
    gold = pd.DataFrame({"a": [1, 1, 0, 0, 0], "b": [0, 0, 0, 0, 1]}).astype(bool)
    pred = pd.DataFrame({"a": [1, 0, 1, 0, 0], "b": [0, 0, 0, 0, 1]}).astype(bool)
    r = score_tags(pred, gold, min_support=2)
    a = r["themes"]["a"]
    assert (a["support"], a["tagged"], a["precision"], a["recall"], a["f1"]) == (2, 2, 0.5, 0.5, 0.5)
    assert a["gold_rate"] == 0.4 and a["tag_rate"] == 0.4
    assert r["themes"]["b"]["f1"] == 1.0
    assert r["micro"] == {"precision": 2 / 3, "recall": 2 / 3, "f1": pytest.approx(2 / 3)}
    assert r["macro_f1"] == 0.5  # only "a" has >= 2 positives
    assert r["rate_mae"] == 0.0 and r["docs"] == 5
    with pytest.raises(ValueError):
        score_tags(pred.iloc[:2], gold)


def test_error_rates_from_scores():
    gold = pd.DataFrame({"a": [1, 1, 1, 1, 0, 0, 0, 0, 0, 0]}).astype(bool)
    pred = pd.DataFrame({"a": [1, 1, 1, 0, 1, 0, 0, 0, 0, 0]}).astype(bool)
    se, sp, pos, neg = error_rates(score_tags(pred, gold)["themes"]["a"])
    assert (se, pos, neg) == (0.75, 4, 6) and sp == pytest.approx(5 / 6)


# -- Rogan–Gladen -------------------------------------------------------------------------------
def test_corrected_rate_inverts_the_tagger_error():
    # true rate 0.10, sensitivity 0.8, specificity 0.95: expected tagged share 0.08 + 0.045
    r = corrected_rate(125, 1000, 0.8, 0.95, n_positive=80, n_negative=240)
    assert r.observed == 0.125 and r.corrected
    assert r.estimate == pytest.approx(0.10)
    assert r.low < 0.10 < r.high and 0 <= r.low and r.high <= 1
    # more labelled examples or more texts: a narrower interval
    wide = corrected_rate(125, 1000, 0.8, 0.95, n_positive=20, n_negative=60)
    exact = corrected_rate(125, 1000, 0.8, 0.95)
    assert (exact.high - exact.low) < (r.high - r.low) < (wide.high - wide.low)


def test_corrected_rate_perfect_tagger_and_edges():
    r = corrected_rate(30, 100, 1.0, 1.0)
    assert r.estimate == pytest.approx(0.3)
    assert r.high - r.low == pytest.approx(2 * 1.959964 * math.sqrt(0.3 * 0.7 / 100), rel=1e-4)
    zero = corrected_rate(0, 100, 0.9, 0.9, n_positive=50, n_negative=50)
    assert zero.estimate == 0.0 and zero.low == 0.0 and zero.high > 0  # clipped, never negative
    useless = corrected_rate(40, 100, 0.5, 0.4)
    assert not useless.corrected and useless.estimate == 0.4
    for bad in [dict(tagged=5, n=0), dict(tagged=101, n=100), dict(tagged=5, n=100, sensitivity=1.2)]:
        args = dict(tagged=5, n=100, sensitivity=0.8, specificity=0.9) | bad
        with pytest.raises(ValueError):
            corrected_rate(**args)


# -- the supervised model never learns from the texts it is fitted on ----------------------------
def test_gold_texts_are_left_out_of_training():
    gold = read_labels(GOLD, IDS)
    shipped = shipped_examples()
    assert gold.texts.isin(shipped["text"]).all()
    tagger = ThemeTagger(random_state=0).fit(gold.texts)
    assert tagger.supervised_.n_train == len(shipped) - len(gold.texts)
    other = ThemeTagger(random_state=0).fit(["on hold for an hour"])
    assert other.supervised_.n_train == len(shipped)


def test_supervised_tags_carry_evidence_and_are_deterministic():
    gold = read_labels(GOLD, IDS)
    a = ThemeTagger(random_state=0).fit(gold.texts)
    b = ThemeTagger(random_state=0).fit(gold.texts)
    ta, tb = a.transform(gold.texts), b.transform(gold.texts)
    pd.testing.assert_frame_equal(ta, tb)
    ev = a.evidence(gold.texts)
    pd.testing.assert_series_equal(ev, b.evidence(gold.texts))
    for r in range(len(ta)):
        tagged = [t for t in IDS if ta.loc[r, t]]
        assert [part.split(":")[0] for part in ev[r].split("; ")] == tagged if tagged else ev[r] == ""


# -- the analyst's labels ------------------------------------------------------------------------
def test_taxonomy_points_to_labels_file(tmp_path):
    labels = labels_csv(tmp_path, [("x", set())])
    body = (Path(__file__).parents[1] / "feedbacklib" / "data" / "themes.toml").read_text(encoding="utf-8")
    p = tmp_path / "mine.toml"
    p.write_text(body.replace("version = 1", 'version = 1\nlabels = "labels.csv"', 1), encoding="utf-8")
    assert load_taxonomy(p).labels == str(labels)
    p.write_text(body.replace("version = 1", 'version = 1\nlabels = "missing.csv"', 1), encoding="utf-8")
    with pytest.raises(ConfigError, match="missing.csv' does not exist"):
        load_taxonomy(p)


def test_analyst_labels_change_the_model(tmp_path):
    rows = [(f"the zorblax screen froze again number {i}", {"not_fixed"}) for i in range(12)]
    rows += [(f"lovely quiet evening number {i}", set()) for i in range(12)]
    p = labels_csv(tmp_path, rows)
    from dataclasses import replace

    tax = replace(load_taxonomy(), labels=str(p))
    probe = ["zorblax " * 70 + "froze"]  # long enough for the model (not the seeds) to decide
    plain = ThemeTagger(random_state=0).fit(probe)
    taught = ThemeTagger(tax, random_state=0).fit(probe)
    assert taught.supervised_.n_analyst == 24 and plain.supervised_.n_analyst == 0
    assert taught.transform(probe).loc[0, "not_fixed"] and not plain.transform(probe).loc[0, "not_fixed"]
    assert taught.evidence(probe)[0].startswith("not_fixed: learned: zorblax")


# -- the command ---------------------------------------------------------------------------------
def test_themes_evaluate_command(tmp_path, capsys, no_network):
    out = tmp_path / "audit" / "scores.json"
    assert main(["themes", "evaluate", "--gold", str(GOLD), "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "not_fixed" in printed and "micro precision" in printed and "scores written to" in printed
    result = json.loads(out.read_text(encoding="utf-8"))
    assert set(result) == {"themes", "micro", "macro_f1", "rate_mae", "docs", "seconds"}
    assert list(result["themes"]) == list(IDS)
    assert all(set(v) == THEME_KEYS for v in result["themes"].values())
    assert set(result["micro"]) == {"precision", "recall", "f1"}
    assert result["docs"] == 24 and result["seconds"] >= 0
    nf = result["themes"]["not_fixed"]
    assert nf["support"] == 8 and nf["gold_rate"] == pytest.approx(8 / 24)
    assert 0 <= nf["tag_rate"] <= 1 and nf["tagged"] == round(nf["tag_rate"] * 24)
    # the JSON equals the library's result on the same file
    from feedbacklib.themes.audit import evaluate_file

    again = evaluate_file(GOLD)
    again.pop("seconds"), result.pop("seconds")
    assert json.loads(json.dumps(again)) == result


def test_themes_evaluate_with_train_and_taxonomy(tmp_path, capsys):
    train = labels_csv(tmp_path, [("I was on hold for two hours", {"responsiveness"}),
                                  ("the agent was rude", {"courtesy"})])
    tax = Path(__file__).parents[1] / "feedbacklib" / "data" / "themes.toml"
    assert main(["themes", "evaluate", "--gold", str(GOLD), "--train", str(train), "--taxonomy", str(tax)]) == 0
    assert "micro precision" in capsys.readouterr().out


def test_themes_evaluate_bad_gold_is_a_clear_error(tmp_path, capsys):
    bad = tmp_path / "gold.csv"
    bad.write_text("id,text,praise\n1,great,yes please\n", encoding="utf-8")
    assert main(["themes", "evaluate", "--gold", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "gold.csv" in err and "'praise'" in err and "not 0 or 1" in err
    assert main(["themes", "evaluate", "--gold", str(tmp_path / "none.csv")]) == 2


def test_evaluate_warns_when_gold_texts_were_learned(tmp_path, caplog):
    from feedbacklib.themes.audit import evaluate_file

    gold = pd.read_csv(GOLD, dtype=str, keep_default_na=False).head(6)
    gold_file = tmp_path / "gold.csv"
    gold.to_csv(gold_file, index=False)
    with caplog.at_level("WARNING", logger="feedbacklib.themes.audit"):
        evaluate_file(gold_file, train=gold_file)
    assert "6 of the 6 gold texts are also in the labels file" in caplog.text


def test_custom_taxonomy_without_examples_keeps_seeds_and_expansion():
    from feedbacklib.themes import Taxonomy, Theme

    tax = Taxonomy((Theme("late", "Late", "", "negative", ("late delivery",), ()),))
    texts = ["a late delivery again " + "word " * 80, "late delivery", "all fine"] * 4
    tagger = ThemeTagger(tax, random_state=0).fit(texts)
    assert tagger.supervised_ is None  # no labelled examples for "late"
    assert tagger.transform(texts)["late"].tolist() == [True, True, False] * 4
    assert tagger.get_params()["supervised"] is True
