import pandas as pd

from feedbacklib.quotes import representative_quotes


def test_representative_quotes_prefer_the_typical_comment():
    texts = pd.Series([
        "I was on hold for over an hour before anyone answered the phone",
        "on hold for an hour again, nobody answered the phone",
        "Waited on hold an hour, the phone just rang",
        "My cat likes the box the router came in, and the colour of the van was nice too",
        "on hold for an hour and nobody answered the phone",
    ])
    picked = representative_quotes(texts, 2, min_chars=10)
    assert len(picked) == 2
    assert 3 not in picked.index  # the off-topic comment is not representative
    # near-duplicates are not both chosen
    assert not {1, 4} <= set(picked.index)


def test_representative_quotes_is_deterministic_and_handles_edge_cases():
    texts = pd.Series(["slow reply", "slow reply again", "", None, "the reply was slow"])
    assert representative_quotes(texts, 2, min_chars=1).index.tolist() == representative_quotes(texts, 2, min_chars=1).index.tolist()
    assert representative_quotes(pd.Series([], dtype="string"), 3).empty
    assert representative_quotes(pd.Series(["the", "a"]), 2, min_chars=1).size == 2
