"""Static word vectors for the supervised theme model (issue 13).

The vectors ship in the package (``data/word_vectors.npz``): one per word piece of the
all-MiniLM-L6-v2 vocabulary, distilled from that sentence model the model2vec way by
``tools/build_word_vectors.py`` (the 6-layer encoder run on ``[CLS] piece [SEP]``, mean-pooled,
PCA, int8 with a per-row scale). The model's weights are Apache-2.0 (see ``data/NOTICE``); the
model itself is never loaded or downloaded here.

A word's vector is the mean of its pieces' vectors (BERT's greedy longest-match WordPiece over
the shipped pieces, after lower-casing, stripping accents and splitting at punctuation); a
text's vector is the mean of its content words' vectors (stop words, one-letter tokens, numbers
and the CFPB's ``XXXX`` redactions left out), L2-normalised. Everything is numpy, deterministic
and offline.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from feedbacklib.text import STOP_WORDS, TokenArrays

__all__ = ["WordVectors", "load_vectors", "doc_vectors", "VECTORS_RESOURCE"]

#: Package resource holding the word-piece vectors.
VECTORS_RESOURCE = "data/word_vectors.npz"
_MAX_WORD = 100  # BERT's max_input_chars_per_word: longer words have no vector
_PUNCT = re.compile(r"[^\w\s]|_")
_REDACTED = re.compile(r"x{2,}$")


@dataclass(frozen=True)
class WordVectors:
    """Word-piece vectors: ``index`` maps a piece (``##`` for a continuation) to a row of ``matrix``."""

    index: dict
    matrix: np.ndarray  # float32 (n pieces, dims)
    cache: dict = field(default_factory=dict, compare=False, repr=False)  # word -> its piece rows

    @property
    def dims(self) -> int:
        return int(self.matrix.shape[1])

    def pieces(self, word: str) -> list[int]:
        """Rows of the pieces of one lower-cased word (BERT's basic + WordPiece tokenisation);
        [] when any part has no piece (BERT's ``[UNK]``: such a part is left out)."""
        return list(_pieces(self, word))


@lru_cache(maxsize=4)
def load_vectors(resource: str | Path = VECTORS_RESOURCE) -> WordVectors:
    """The shipped vectors (dequantised to float32), read once (a ``Path``: that file instead)."""
    source = resource if isinstance(resource, Path) else resources.files("feedbacklib").joinpath(resource)
    with source.open("rb") as fh:
        data = np.load(fh, allow_pickle=False)
        pieces = str(data["pieces"]).split("\n")
        matrix = data["vectors"].astype(np.float32) * data["scale"].astype(np.float32)[:, None]
    return WordVectors(index={p: i for i, p in enumerate(pieces)}, matrix=matrix)


def _strip_accents(word: str) -> str:
    if word.isascii():
        return word
    return "".join(ch for ch in unicodedata.normalize("NFD", word) if unicodedata.category(ch) != "Mn")


def _wordpiece(index: dict, word: str) -> list[int]:
    if len(word) > _MAX_WORD:
        return []
    rows, start = [], 0
    while start < len(word):
        end = len(word)
        found = -1
        while start < end:
            piece = word[start:end] if start == 0 else "##" + word[start:end]
            found = index.get(piece, -1)
            if found >= 0:
                break
            end -= 1
        if found < 0:
            return []
        rows.append(found)
        start = end
    return rows


def _pieces(vectors: WordVectors, word: str) -> tuple[int, ...]:
    hit = vectors.cache.get(word)
    if hit is None:
        rows: list[int] = []
        for part in _PUNCT.sub(lambda m: f" {m.group()} ", _strip_accents(word)).split():
            rows += _wordpiece(vectors.index, part)
        hit = vectors.cache[word] = tuple(rows)
    return hit


def word_matrix(vectors: WordVectors, vocabulary: list) -> tuple[sp.csr_matrix, np.ndarray]:
    """(words x pieces matrix averaging each word's pieces, mask of the words that count in a
    text's vector): ``word_matrix(...)[0] @ vectors.matrix`` are the words' vectors."""
    indptr = np.zeros(len(vocabulary) + 1, dtype=np.int64)
    cols: list[int] = []
    for i, w in enumerate(vocabulary):
        if not (len(w) < 2 or w in STOP_WORDS or w.isdigit() or _REDACTED.match(w)):
            cols += _pieces(vectors, w)
        indptr[i + 1] = len(cols)
    n_pieces = np.diff(indptr)
    data = np.repeat(1.0 / np.maximum(n_pieces, 1), n_pieces).astype(np.float32)
    W2P = sp.csr_matrix((data, np.asarray(cols, dtype=np.int64), indptr), shape=(len(vocabulary), len(vectors.matrix)))
    return W2P, n_pieces > 0


def doc_vectors(tokens: TokenArrays, vectors: WordVectors | None = None, rows: np.ndarray | None = None) -> np.ndarray:
    """The L2-normalised mean vector of each text's content words (zeros for a text with none;
    ``rows``, a boolean mask of the texts: only those get a vector, the others zeros)."""
    vectors = load_vectors() if vectors is None else vectors
    n_docs = len(tokens.offsets) - 1
    doc, word = tokens.doc, tokens.words
    if rows is not None:
        on = np.asarray(rows, dtype=bool)[doc]
        doc, word = doc[on], word[on]
    # only the words these texts use are looked up
    used, word = np.unique(word, return_inverse=True)
    W2P, use = word_matrix(vectors, [tokens.vocabulary[w] for w in used.tolist()])
    keep = use[word]
    doc = doc[keep]
    counts = sp.csr_matrix((np.ones(len(doc), dtype=np.float32), (doc, word[keep])),
                           shape=(n_docs, len(used)))
    D = np.asarray((counts @ W2P) @ vectors.matrix, dtype=np.float64)
    norm = np.linalg.norm(D, axis=1)
    norm[norm == 0] = 1.0
    return D / norm[:, None]
