import socket
import subprocess
import sys
import zipfile
from importlib import resources

import numpy as np
import pandas as pd
import pytest

from feedbacklib.schema import RESPONSE_ID, TEXT
from feedbacklib.sentiment import score_sentiment, theme_sentiment, vader_analyzer
from feedbacklib.themes import ThemeTagger, tag_themes

TEXTS = [
    "The agent was lovely but I was charged twice.",
    "no problems at all",
    "TERRIBLE service!!! never again :(",
    "It was fine.",
    "Brilliant, thank you so much!",
]


def test_lexicon_ships_as_package_data():
    ref = resources.files("feedbacklib").joinpath("data/nltk/sentiment/vader_lexicon.zip")
    with resources.as_file(ref) as path, zipfile.ZipFile(path) as z:
        assert z.namelist() == ["vader_lexicon/vader_lexicon.txt"]
        lines = z.read("vader_lexicon/vader_lexicon.txt").decode("utf-8").split("\n")
    assert len(lines) > 7000 and lines[-1]  # no trailing empty line (nltk would choke)


def test_agrees_exactly_with_nltk_vader():
    from nltk.sentiment.vader import SentimentIntensityAnalyzer

    sia = vader_analyzer()
    assert isinstance(sia, SentimentIntensityAnalyzer)
    got = score_sentiment(pd.Series(TEXTS))["sentiment"].tolist()
    assert got == [sia.polarity_scores(t)["compound"] for t in TEXTS]
    assert got[1] == pytest.approx(-0.5994, abs=1e-4)  # nltk's reading, not vaderSentiment's


def test_labels_index_and_empty_texts():
    s = pd.Series(["Brilliant!", "", None, "It is a chair.", "Awful.", "Brilliant!"], index=list("abcdef"))
    out = score_sentiment(s)
    assert list(out.index) == list("abcdef")
    assert list(out.columns) == ["sentiment", "sentiment_label"]
    assert np.isnan(out.loc["b", "sentiment"]) and np.isnan(out.loc["c", "sentiment"])
    assert out["sentiment_label"].isna().tolist() == [False, True, True, False, False, False]
    assert out["sentiment_label"].astype(object).tolist()[3:] == ["neutral", "negative", "positive"]
    assert out.loc["a", "sentiment"] == out.loc["f", "sentiment"]


def test_casing_matters():
    out = score_sentiment(pd.Series(["this is GREAT", "this is great"]))["sentiment"]
    assert out[0] > out[1]


def test_offline_with_sockets_blocked_and_empty_nltk_data(tmp_path):
    """Sentiment and tagging in a fresh process: no network, NLTK_DATA empty."""
    code = (
        "import socket\n"
        "class Blocked(socket.socket):\n"
        "    def __init__(self, *a, **k):\n"
        "        raise OSError('network blocked by test')\n"
        "def blocked(*a, **k):\n"
        "    raise OSError('network blocked by test')\n"
        "socket.socket = Blocked\n"
        "socket.create_connection = blocked\n"
        "import nltk\n"
        "nltk.download = blocked\n"
        "import pandas as pd\n"
        "from feedbacklib.sentiment import score_sentiment, theme_sentiment\n"
        "from feedbacklib.themes import tag_themes\n"
        "df = pd.DataFrame({'text': ['the agent was lovely but I was charged twice', 'on hold for an hour']})\n"
        "tagged = tag_themes(df)\n"
        "print(round(score_sentiment(df['text'])['sentiment'][0], 4))\n"
        "print(len(theme_sentiment(tagged)))\n"
    )
    empty = tmp_path / "nltk_data"
    empty.mkdir()
    env = {"NLTK_DATA": str(empty), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    score, n = res.stdout.split()
    assert int(n) == 3


def test_in_process_with_sockets_blocked(monkeypatch, tmp_path):
    class Blocked(socket.socket):
        def __init__(self, *args, **kwargs):
            raise OSError("network blocked by test")

    monkeypatch.setattr(socket, "socket", Blocked)
    monkeypatch.setenv("NLTK_DATA", str(tmp_path))
    out = score_sentiment(pd.Series(["Rude and slow."]))
    assert out["sentiment_label"][0] == "negative"
    assert tag_themes(pd.DataFrame({TEXT: ["Rude and slow."]}), ThemeTagger(learned=False))["theme_courtesy"][0]


def test_theme_sentiment_is_clause_level():
    frame = pd.DataFrame(
        {
            RESPONSE_ID: ["r1", "r2", "r3"],
            TEXT: ["the agent was lovely but I was charged twice", "nothing to report", "Rude. But they fixed it!"],
        },
        index=[5, 6, 7],
    )
    tagged = tag_themes(frame, ThemeTagger(learned=False))
    long = theme_sentiment(tagged)
    assert list(long.columns) == ["row", RESPONSE_ID, "theme", "sentiment", "sentiment_label", "clauses"]
    by = long.set_index(["row", "theme"])["sentiment"]
    assert by[(5, "courtesy")] > 0.05
    assert by[(5, "surprise_charges")] < -0.05
    assert by[(7, "courtesy")] < 0
    assert 6 not in set(long["row"])
    assert long.set_index(["row", "theme"]).loc[(5, "courtesy"), "clauses"] == "the agent was lovely"


def test_parallel_path_matches_serial(monkeypatch):
    import feedbacklib.sentiment as sent

    texts = pd.Series([f"{w} service number {i}" for i in range(60) for w in ("great", "awful", "okay")])
    serial = score_sentiment(texts)
    monkeypatch.setattr(sent, "PARALLEL_MIN_TEXTS", 10)
    parallel = score_sentiment(texts)
    pd.testing.assert_frame_equal(serial, parallel)


# --------------------------------------------------------------------------- the fast scorer
# feedbacklib.vader_fast re-implements nltk's VADER rule for rule; nltk stays the reference.

import math  # noqa: E402
import random  # noqa: E402
from pathlib import Path  # noqa: E402

from feedbacklib import vader_fast  # noqa: E402
from feedbacklib.sentiment import nltk_compound  # noqa: E402

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
CFPB = Path("/work/shared/real/cfpb")


def _norm(x: float) -> float:
    """VADER's normalisation (alpha = 15) and nltk's rounding."""
    return round(x / math.sqrt(x * x + 15), 4)


def _labels(v: np.ndarray) -> np.ndarray:
    return np.where(v > 0.05, 1, np.where(v < -0.05, -1, 0))


def _assert_agrees(texts: list[str], *, exact_share: float = 0.99) -> None:
    ref = np.array(nltk_compound(texts))
    got = np.array(vader_fast.compound_many(texts))
    assert np.mean(_labels(ref) == _labels(got)) >= 0.99
    assert np.mean(np.sign(ref) == np.sign(got)) >= 0.99
    assert np.mean(np.abs(ref - got) <= 1e-6) >= exact_share
    assert np.abs(ref - got).max() < 0.05


def test_constants_and_lexicon_are_nltks():
    from nltk.sentiment.vader import VaderConstants

    c = VaderConstants()
    assert vader_fast.load_lexicon() == vader_analyzer().lexicon
    assert vader_fast.BOOSTER_DICT == c.BOOSTER_DICT and vader_fast.NEGATE == c.NEGATE
    assert vader_fast.SPECIAL_CASE_IDIOMS == c.SPECIAL_CASE_IDIOMS and vader_fast.PUNC_LIST == c.PUNC_LIST
    assert (vader_fast.B_INCR, vader_fast.B_DECR, vader_fast.C_INCR, vader_fast.N_SCALAR) == (
        c.B_INCR, c.B_DECR, c.C_INCR, c.N_SCALAR)


GOOD, BAD, GREAT, SHIT = 1.9, -2.5, 3.1, -2.6  # lexicon values used below

# (rule, text, expected compound worked out by hand from nltk's rules)
HAND_CASES = [
    ("lexicon", "good", _norm(GOOD)),
    ("no lexicon word", "the parcel arrived on Tuesday", 0.0),
    ("empty", "", 0.0),
    ("whitespace only", "  \n\t ", 0.0),
    ("one-character tokens dropped", "a b c", 0.0),
    ("punctuation only", "!!! ???", 0.0),
    ("emoticon in the lexicon", ":)", _norm(2.0)),
    ("emoji is not in the lexicon", "\U0001F600 \U0001F44D", 0.0),
    ("trailing mark stripped", "good,", _norm(GOOD)),
    ("leading mark stripped", '"good', _norm(GOOD)),
    ("marks on both sides kept", "(good)", 0.0),
    ("four ! are no PUNC_LIST mark", "good!!!!", 0.0),
    ("negation", "not good", _norm(GOOD * -0.74)),
    ("n't negation", "wasn't good", _norm(GOOD * -0.74)),
    ("curly n't is no negation", "wasn\u2019t good", _norm(GOOD)),
    ("negation 3 words back", "not the service good", _norm(GOOD * -0.74)),
    ("negation 4 words back is out of the window", "not at the service good", _norm(GOOD)),
    ("booster", "very good", _norm(GOOD + 0.293)),
    ("booster 2 back damped", "very much good", _norm(GOOD + 0.293 * 0.95)),
    ("dampener", "slightly good", _norm(GOOD - 0.293)),
    ("booster on a negative word", "very bad", _norm(BAD - 0.293)),
    ("caps differential", "GOOD service", _norm(GOOD + 0.733)),
    ("all caps: no differential", "GOOD SERVICE", _norm(GOOD)),
    ("caps booster", "VERY good service", _norm(GOOD + 0.293 + 0.733)),
    ("but", "good but bad", _norm(GOOD * 0.5 + BAD * 1.5)),
    ("first but only", "good but bad but great", _norm(GOOD * 0.5 + BAD * 1.5 + GREAT * 1.5)),
    ("exclamation", "good!", _norm(GOOD + 0.292)),
    ("exclamations capped at 4", "good! ! ! ! ! !", _norm(GOOD + 4 * 0.292)),
    ("one ? adds nothing", "good?", _norm(GOOD)),
    ("two ?", "good??", _norm(GOOD + 2 * 0.18)),
    ("four ?", "good? ????", _norm(GOOD + 0.96)),
    ("punctuation pushes negatives down", "bad!", _norm(BAD - 0.292)),
    ("least", "least good", _norm(GOOD * -0.74)),
    ("at least", "at least good", _norm(GOOD)),
    ("never so", "never so good", _norm((GOOD + 0.293) * 1.5)),
    ("nltk's x1.25 after 'this'", "it is this good", _norm(GOOD * 1.25)),
    ("kind of scores 0", "kind of", 0.0),
    ("kind alone is positive", "kind staff", _norm(2.4)),
    ("kind of bigram damps", "it was kind of good", _norm(GOOD - 0.293)),
    ("idiom", "this is the shit", _norm(3)),
    ("idiom needs a non-lexicon 3rd word back", "the shit", _norm(SHIT)),
    ("first-occurrence quirk", "not good, good", _norm(2 * GOOD * -0.74)),
]


@pytest.mark.parametrize("rule,text,expected", HAND_CASES, ids=[c[0] for c in HAND_CASES])
def test_vader_rules_by_hand(rule, text, expected):
    assert vader_fast.compound(text) == pytest.approx(expected, abs=1e-9)
    assert vader_fast.compound(text) == nltk_compound([text])[0]


def test_tokens_are_nltks():
    from nltk.sentiment.vader import SentiText, VaderConstants

    c = VaderConstants()
    for text in ["Hello, world!! (ok) 'quoted' don't... ?!?wow a.b e-mail :-) #tag 100% \u2014 caf\u00e9,", *_fuzz(300)]:
        assert vader_fast.tokenize_vader(text) == SentiText(text, c.PUNC_LIST, c.REGEX_REMOVE_PUNCTUATION).words_and_emoticons


def _fuzz(n: int, seed: int = 0) -> list[str]:
    """Token soup dense in everything VADER's rules look at."""
    rng = random.Random(seed)
    lex = rng.sample(sorted(vader_fast.load_lexicon()), 200)
    special = ("but BUT least at very never so this kind Kind of sort just enough the shit bomb bad ass yeah "
               "right cut mustard kiss death hand to mouth not isn't don't NEVER no VERY extremely kinda "
               "barely a I :) :( :D <3 \U0001F600 ? ?? ???? !!! it\u2019s can't a.b e-mail").split()
    boosters = [b.split()[0] for b in vader_fast.BOOSTER_DICT]
    marks = ["", "", "", ".", "!", "?", ",", "!!", "!!!", "!!!!", "?!?", "...", "'", '"', "-", "(", ")", ":)"]

    def token() -> str:
        k = rng.random()
        w = rng.choice(lex) if k < 0.4 else rng.choice(special) if k < 0.8 else rng.choice(boosters)
        c = rng.random()
        w = w.upper() if c < 0.15 else w.capitalize() if c < 0.25 else w
        m = rng.random()
        return w + rng.choice(marks) if m < 0.2 else rng.choice(marks) + w if m < 0.3 else w

    return [" ".join(token() for _ in range(rng.randint(0, 14))) for _ in range(n)]


def test_fast_equals_nltk_on_rule_dense_fuzz():
    texts = _fuzz(3000, seed=1)
    assert vader_fast.compound_many(texts) == nltk_compound(texts)


def test_fast_agrees_with_nltk_on_generated_comments():
    from feedbacklib.sample import generate_comments

    texts = [t for t in pd.unique(generate_comments(3000, seed=3)["text"]) if t.strip()]
    _assert_agrees(texts, exact_share=1.0)


def test_fast_agrees_with_nltk_on_sample_data():
    """Every comment of data/sample (Qualtrics Q3, Zendesk description, register Description)."""
    from feedbacklib.config import default_config
    from feedbacklib.io import read_exports

    column = {"qualtrics": "Q3", "zendesk": "description", "complaints": "Description"}
    exports = read_exports(SAMPLE, default_config())
    assert {e.platform for e in exports} == set(column)
    col = pd.concat([e.raw[column[e.platform]] for e in exports], ignore_index=True).dropna().astype(str)
    texts = [t for t in pd.unique(col) if t.strip()]
    assert len(texts) > 1000
    _assert_agrees(texts)


@pytest.mark.skipif(not CFPB.is_dir(), reason="shared CFPB narratives not present")
def test_fast_agrees_with_nltk_on_cfpb_narratives():
    from feedbacklib.config import default_config
    from feedbacklib.io import read_export

    cfg = default_config()
    export = read_export(CFPB / "predatory_lending_small_sample_2023.csv", config=cfg)
    col = export.raw["Consumer complaint narrative"].dropna().astype(str)
    texts = [t for t in pd.unique(col) if t.strip() and t not in ("None", "N/A")][:400]
    assert len(texts) == 400
    _assert_agrees(texts)


def test_methods_give_the_same_frame():
    texts = pd.Series(TEXTS + _fuzz(200, seed=2) + ["", None], dtype=object)
    pd.testing.assert_frame_equal(score_sentiment(texts), score_sentiment(texts, method="nltk"))
    with pytest.raises(ValueError, match="Unknown sentiment method 'vader'"):
        score_sentiment(texts, method="vader")


def test_theme_sentiment_methods_agree():
    frame = pd.DataFrame({TEXT: ["the agent was lovely but I was charged twice", "Rude. But they fixed it!",
                                 "NOT happy: on hold for an hour!!"]})
    tagged = tag_themes(frame, ThemeTagger(learned=False))
    pd.testing.assert_frame_equal(theme_sentiment(tagged), theme_sentiment(tagged, method="nltk"))


def test_nltk_parallel_path_matches_serial(monkeypatch):
    import feedbacklib.sentiment as sent

    texts = pd.Series([f"{w} service number {i}" for i in range(20) for w in ("great", "awful", "okay")])
    serial = score_sentiment(texts, method="nltk")
    monkeypatch.setattr(sent, "NLTK_PARALLEL_MIN_TEXTS", 10)
    pd.testing.assert_frame_equal(serial, score_sentiment(texts, method="nltk"))
