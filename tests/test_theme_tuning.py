"""Issue 13: the analyst's labels loop (sample to label, labels file, before/after)."""

from pathlib import Path

import pandas as pd
import pytest

from feedbacklib.errors import InputError
from feedbacklib.themes import load_taxonomy
from feedbacklib.themes.audit import read_labels
from feedbacklib.themes.tuning import before_after, labelling_sample, write_labels_file

FIXTURES = Path(__file__).parent / "fixtures" / "themes"
IDS = load_taxonomy().ids


@pytest.fixture(scope="module")
def texts():
    gold = pd.read_csv(FIXTURES / "cfpb_gold_small.csv", dtype=str, keep_default_na=False)
    return gold["text"].tolist() + ["I was on hold for an hour", "Lovely staff, thank you so much", "  ", None]


def test_labelling_sample_least_sure_first(texts):
    s = labelling_sample(texts, n=10)
    assert list(s.columns) == ["id", "text", *IDS, "margin"]
    assert len(s) == 10 and s["id"].tolist() == [f"c{i}" for i in range(1, 11)]
    assert s["margin"].is_monotonic_increasing
    assert s[list(IDS)].isin([0, 1]).all().all()
    assert s["text"].str.strip().ne("").all()
    pd.testing.assert_frame_equal(s, labelling_sample(texts, n=10))  # deterministic
    assert labelling_sample(["", None]).empty


def test_write_labels_file_is_safe(tmp_path):
    sample = pd.DataFrame({"id": ["c1", "c2"], "text": ["=HYPERLINK(\"x\")", "mail me at ann@example.com"],
                           **{t: [0, 1] for t in IDS}, "margin": [0.1, 0.2]})
    p = write_labels_file(sample, tmp_path / "sub" / "labels.csv")
    back = pd.read_csv(p, dtype=str, keep_default_na=False)
    assert "margin" not in back.columns
    assert back.loc[0, "text"].startswith("'=")  # formula neutralised
    assert "ann@example.com" not in back.loc[1, "text"]  # PII redacted
    assert read_labels(p, IDS, require_all=True).labels["praise"].tolist() == [False, True]
    with pytest.raises(InputError, match="already exists"):
        write_labels_file(sample, p)
    p.write_text("id,text,praise\nc1,mine,1\n", encoding="utf-8")
    assert write_labels_file(sample, p, if_exists="keep") == p and "mine" in p.read_text()
    write_labels_file(sample, p, if_exists="overwrite")
    assert "mine" not in p.read_text()


def test_before_after_cross_validates(tmp_path):
    rows = [(f"the zorblax screen froze again, ticket {i} " + "words " * 70, 1) for i in range(10)]
    rows += [(f"a quiet evening at home number {i} " + "words " * 70, 0) for i in range(10)]
    frame = pd.DataFrame({"id": range(20), "text": [t for t, _ in rows],
                          **{t: [y if t == "not_fixed" else 0 for _, y in rows] for t in IDS}})
    p = tmp_path / "labels.csv"
    frame.to_csv(p, index=False)
    table = before_after(p, folds=5)
    assert list(table["Theme"])[-1] == "All themes (micro)" and len(table) == len(IDS) + 1
    nf = table.set_index("Theme").loc[load_taxonomy().label("not_fixed")]
    assert nf["Positives"] == 10
    assert nf["F1 after"] > nf["F1 before"]  # learned "zorblax ... froze" from the other folds
