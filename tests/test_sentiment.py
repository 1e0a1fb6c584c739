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
