"""The static word vectors the supervised theme model uses (issue 13, ``themes/vectors.py``)."""

from __future__ import annotations

import fnmatch
import importlib.util
import json
import struct
import tomllib
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from feedbacklib.text import tokenize_many
from feedbacklib.themes import load_taxonomy, supervised
from feedbacklib.themes import matching as tg
from feedbacklib.themes.vectors import VECTORS_RESOURCE, doc_vectors, load_vectors

ROOT = Path(__file__).resolve().parents[1]


def _builder():
    spec = importlib.util.spec_from_file_location("build_word_vectors", ROOT / "tools" / "build_word_vectors.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_the_shipped_vectors_are_small_and_carry_their_notice():
    data = resources.files("feedbacklib").joinpath("data")
    path = Path(str(data.joinpath("word_vectors.npz")))
    size = path.stat().st_size
    assert size < 4_000_000
    notice = " ".join(data.joinpath("NOTICE").read_text(encoding="utf-8").split())
    assert "all-MiniLM-L6-v2" in notice and "Apache License, Version 2.0" in notice
    assert "Apache License" in data.joinpath("LICENSE-Apache-2.0.txt").read_text(encoding="utf-8")
    v = load_vectors()
    assert v.matrix.dtype == np.float32 and v.matrix.shape == (len(v.index), 128)
    assert len(v.index) > 25_000 and "[unused0]" not in v.index and np.isfinite(v.matrix).all()


def test_the_wheel_ships_the_vectors_with_their_notice_and_licence():
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"][
        "package-data"]["feedbacklib"]
    for name in ("data/word_vectors.npz", "data/NOTICE", "data/LICENSE-Apache-2.0.txt"):
        assert (ROOT / "feedbacklib" / name).is_file()
        assert any(fnmatch.fnmatch(name, p) for p in patterns), name


def test_word_pieces_follow_bert_wordpiece():
    v = load_vectors()
    assert v.pieces("the") == [v.index["the"]]
    assert v.pieces("café") == v.pieces("cafe")  # accents stripped, as the uncased model does
    assert v.pieces("don't") == [v.index["don"], v.index["'"], v.index["t"]]  # split at punctuation
    long = v.pieces("unprofessionally")
    assert len(long) > 1 and all(p in v.index.values() for p in long)
    inverse = {i: p for p, i in v.index.items()}
    assert "".join(inverse[p].removeprefix("##") for p in long) == "unprofessionally"
    assert v.pieces("日本") == []  # no piece: no vector (BERT's [UNK])
    assert v.pieces("a" * 101) == []


def test_doc_vectors_are_unit_means_of_content_words_and_deterministic(no_network):
    texts = ["The agent was rude and hung up on me", "Staff were impolite and yelled at me",
             "They charged me an overdraft fee", "", "XXXX XXXX 12 the and", "THE AGENT WAS RUDE, hung up on me!"]
    tokens = tokenize_many(texts)
    D = doc_vectors(tokens)
    assert D.shape == (len(texts), 128)
    assert np.allclose(np.linalg.norm(D[[0, 1, 2, 5]], axis=1), 1.0)
    assert not D[3].any() and not D[4].any()  # no content word: zeros (redactions, numbers, stop words)
    assert np.allclose(D[0], D[5])  # case and punctuation do not matter
    sim = D @ D.T
    assert sim[0, 1] > sim[0, 2] + 0.2 and sim[0, 1] > sim[1, 2] + 0.2  # rude ~ impolite, not ~ fees
    again = doc_vectors(tokenize_many(list(reversed(texts))))
    assert np.allclose(again[::-1], D, atol=1e-7)  # a text's vector does not depend on its neighbours
    rows = np.array([True, False, True, False, False, False])
    part = doc_vectors(tokens, rows=rows)  # the tagger asks only for the texts its model decides
    assert np.allclose(part[rows], D[rows], atol=1e-7) and not part[~rows].any()


def test_the_supervised_model_learns_from_the_vectors():
    assert supervised.VECTOR_WEIGHT > 0 and supervised.VECTORS == VECTORS_RESOURCE
    tax = load_taxonomy()
    model = supervised.fit_supervised(tax, frozenset())
    assert model is not None
    n_words = len(model.space.names)
    dims = load_vectors().dims
    seeds = 4 * len(tax.ids) + 2  # per theme: phrase and single-word hits, short and long text; 2 more
    # word features, then the seed features, then the vector block
    assert model.W.shape[0] == n_words + seeds + dims
    assert np.abs(model.W[n_words + seeds:]).sum() > 0
    texts = ["I was on hold for an hour and nobody answered my letters, again and again"]
    matcher = tg._matcher_for(tax)
    tokens = tokenize_many(texts)
    words = tg._word_table(tokens.vocabulary)
    X = supervised.features(tokens, words, matcher.match_many(tokens, words), matcher, model.space)
    block = X[:, n_words + seeds:].toarray()
    assert np.allclose(block, supervised.VECTOR_WEIGHT * doc_vectors(tokens))


def _tiny_bert(tmp_path: Path, vocab: list[str]) -> Path:
    """A random 2-layer BERT in safetensors format, with its config and vocabulary."""
    rng = np.random.RandomState(0)
    hidden, inter, heads, layers = 8, 16, 2, 2
    shapes = {"embeddings.word_embeddings.weight": (len(vocab), hidden),
              "embeddings.position_embeddings.weight": (16, hidden),
              "embeddings.token_type_embeddings.weight": (2, hidden),
              "embeddings.LayerNorm.weight": (hidden,), "embeddings.LayerNorm.bias": (hidden,)}
    for i in range(layers):
        p = f"encoder.layer.{i}."
        for name in ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"):
            shapes[p + name + ".weight"] = (hidden, hidden)
            shapes[p + name + ".bias"] = (hidden,)
        shapes[p + "intermediate.dense.weight"] = (inter, hidden)
        shapes[p + "intermediate.dense.bias"] = (inter,)
        shapes[p + "output.dense.weight"] = (hidden, inter)
        shapes[p + "output.dense.bias"] = (hidden,)
        for ln in ("attention.output.LayerNorm", "output.LayerNorm"):
            shapes[p + ln + ".weight"] = (hidden,)
            shapes[p + ln + ".bias"] = (hidden,)
    header, blobs, offset = {}, [], 0
    for name, shape in shapes.items():
        blob = rng.normal(size=shape).astype(np.float32).tobytes()
        header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    head = json.dumps(header).encode()
    (tmp_path / "model.safetensors").write_bytes(struct.pack("<Q", len(head)) + head + b"".join(blobs))
    (tmp_path / "config.json").write_text(json.dumps({
        "layer_norm_eps": 1e-12, "num_attention_heads": heads, "num_hidden_layers": layers, "hidden_size": hidden}))
    (tmp_path / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    return tmp_path


def test_the_build_script_is_deterministic_and_keeps_only_latin_pieces(tmp_path):
    build = _builder()
    vocab = ["[PAD]", "[unused0]", "[CLS]", "[SEP]", "[UNK]", "the", "rude", "##ly", "fee", "café", "日", "!"]
    model = _tiny_bert(tmp_path, vocab)
    a = build.build(model, 4, "distilled")
    b = build.build(model, 4, "distilled")
    assert str(a["pieces"]).split("\n") == ["the", "rude", "##ly", "fee", "café", "!"]
    assert np.array_equal(a["vectors"], b["vectors"]) and a["vectors"].dtype == np.int8
    assert a["vectors"].shape == (6, 4)
    W = build.read_safetensors(model / "model.safetensors")
    cfg = json.loads((model / "config.json").read_text())
    # the encoder is BERT's: rows of one batch do not affect each other
    one = build.encode(W, cfg, np.array([[2, 6, 3]]))
    two = build.encode(W, cfg, np.array([[2, 6, 3], [2, 8, 3]]))
    assert np.allclose(one[0], two[0]) and not np.allclose(two[0], two[1])
    out = tmp_path / "v.npz"
    np.savez_compressed(out, **a)
    v = load_vectors(out)
    assert v.pieces("rudely") == [v.index["rude"], v.index["##ly"]]
    assert np.allclose(np.abs(v.matrix).max(axis=1), np.abs(a["vectors"]).max(axis=1) * a["scale"].astype(np.float32),
                       rtol=1e-6)


@pytest.mark.parametrize("mode", ["input"])
def test_the_input_embedding_baseline_builds(tmp_path, mode):
    build = _builder()
    model = _tiny_bert(tmp_path, ["[CLS]", "[SEP]", "the", "fee", "rude"])
    out = build.build(model, 2, mode)
    assert out["vectors"].shape == (3, 2)
