from feedbacklib.text import (
    is_negator,
    negated_positions,
    split_clauses,
    stem_tokens,
    tokenize,
)


def test_tokenize_keeps_contractions_and_lowercases():
    assert tokenize("I DIDN'T get a call-back!") == ["i", "didn't", "get", "a", "call", "back"]
    assert tokenize("didn\u2019t") == ["didn't"]


def test_tokenize_missing_and_non_string():
    assert tokenize(None) == []
    assert tokenize("") == []
    assert tokenize(float("nan")) == []


def test_tokenize_non_ascii():
    assert tokenize("Très bien 👍 façade") == ["très", "bien", "façade"]


def test_stem_tokens():
    assert stem_tokens(["charged", "charges", "waiting"]) == ["charg", "charg", "wait"]
    assert stem_tokens(["the", "fee", "was", "not", "back"], drop_stopwords=True) == ["fee", "not", "back"]


def test_split_clauses_on_punctuation_and_contrast():
    assert split_clauses("The agent was lovely but I was charged twice.") == [
        "The agent was lovely",
        "but I was charged twice",
    ]
    assert split_clauses("Slow. Rude; awful!\nNever again") == ["Slow", "Rude", "awful", "Never again"]
    assert split_clauses("") == []


def test_negators_and_scope():
    assert is_negator("didn't") and is_negator("never") and not is_negator("note")
    toks = ["no", "hidden", "fees", "thankfully"]
    assert negated_positions(toks) == [False, True, True, True]
    # a comma (scope break before token 1) stops the reach of "no"
    assert negated_positions(["no", "i", "was", "on", "hold"], breaks=[1]) == [False] * 5
    # the window is three tokens
    assert negated_positions(["not", "a", "b", "c", "d"]) == [False, True, True, True, False]
