from feedbacklib.text import (
    clause_spans,
    is_negator,
    negated_positions,
    scope_breaks,
    split_clauses,
    stem_tokens,
    token_spans,
    tokenize,
    tokenize_many,
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


# -- tokenize_many: the per-text functions, vectorised ------------------------------------
TRICKY = [
    "The agent was lovely but I was charged twice.",
    "Lovely, but charged twice", None, "", "   ", "No!", "x - but y", "a,but b", "BUT_x but\u00b2 c",
    "x but\u2019s y", "He said \"no\" (fine) - ok; but, however", "didn\u2019t wait\n\nnot rude at all",
    "Très bien 👍 façade, although slow", "On XX/XX/XXXX I was charged {$25.00} twice",
    "no, I was on hold — for ages", "Butter is fine. However: slow",
]


def _reference(text):
    """Tokens, clause starts and (within a clause) scope breaks from the per-text functions."""
    toks, starts, breaks = [], [], []
    for s, e in clause_spans(text) if isinstance(text, str) else []:
        prev_end = None
        for k, (tok, a, b) in enumerate(token_spans(text[s:e])):
            toks.append((tok, a + s, b + s))
            starts.append(k == 0)
            breaks.append(prev_end is not None and bool(scope_breaks(text, prev_end, a + s)))
            prev_end = b + s
    return toks, starts, breaks


def test_tokenize_many_equals_per_text_functions():
    from feedbacklib.sample import generate_comments

    texts = TRICKY + generate_comments(300, seed=11)["text"].tolist()
    ta = tokenize_many(texts)
    assert len(ta.offsets) == len(texts) + 1
    for j, text in enumerate(texts):
        a, b = ta.offsets[j], ta.offsets[j + 1]
        toks, starts, breaks = _reference(text)
        got = [(ta.vocabulary[w], int(s), int(e)) for w, s, e in zip(ta.words[a:b], ta.starts[a:b], ta.ends[a:b])]
        assert got == toks, text
        assert ta.clause_start[a:b].tolist() == starts, text
        assert (ta.scope_break[a:b] & ~ta.clause_start[a:b]).tolist() == breaks, text
        assert (ta.doc[a:b] == j).all()


def test_tokenize_many_empty_input():
    ta = tokenize_many([])
    assert ta.offsets.tolist() == [0] and len(ta.words) == 0
    ta = tokenize_many(["", None])
    assert ta.offsets.tolist() == [0, 0, 0] and ta.vocabulary == []
