"""A NumPy encoder for BERT sentence-transformers models with mean pooling: the query path.

Answering a question needs one short text embedded. Importing sentence-transformers (and
torch) for that costs 6–7 s at every start; this reads the same weights (safetensors) and
tokenizer (tokenizers) and runs the same 6-layer forward pass in NumPy, in milliseconds,
with vectors equal to sentence-transformers' to ~1e-6 (tested). Building an index still
uses sentence-transformers, which is faster for thousands of passages.

Only models it can reproduce exactly are accepted (``supports``): a BertModel, absolute
positions, GELU, mean pooling, then normalisation. Anything else uses sentence-transformers.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np


def supports(folder: Path) -> bool:
    try:
        config = json.loads((folder / "config.json").read_text())
        modules = [m["type"].rsplit(".", 1)[-1] for m in json.loads((folder / "modules.json").read_text())]
        pooling = json.loads((folder / "1_Pooling" / "config.json").read_text())
    except (OSError, ValueError, KeyError, TypeError):
        return False
    mean_only = pooling.get("pooling_mode_mean_tokens") and not any(
        pooling.get(k) for k in ("pooling_mode_cls_token", "pooling_mode_max_tokens",
                                 "pooling_mode_mean_sqrt_len_tokens"))
    return (config.get("model_type") == "bert" and config.get("hidden_act") == "gelu"
            and config.get("position_embedding_type", "absolute") == "absolute"
            and modules == ["Transformer", "Pooling", "Normalize"] and bool(mean_only)
            and (folder / "model.safetensors").is_file() and (folder / "tokenizer.json").is_file())


class NumpyBertEmbedder:
    """Implements ``kzqa.embed.embedding.Embedder`` for a model folder that ``supports`` accepts."""

    def __init__(self, name: str, folder: Path):
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        self.name = name
        config = json.loads((folder / "config.json").read_text())
        st_config = json.loads((folder / "sentence_bert_config.json").read_text())
        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.max_tokens = int(st_config.get("max_seq_length", 256))
        w = {k.removeprefix("bert."): v.astype(np.float32)
             for k, v in load_file(str(folder / "model.safetensors")).items()}
        for n in range(self.layers):  # query, key and value as one product
            p = f"encoder.layer.{n}.attention.self."
            for part in ("weight", "bias"):
                w[p + "qkv." + part] = np.concatenate([w.pop(p + m + "." + part)
                                                       for m in ("query", "key", "value")])
        # Weights stored transposed and contiguous: x @ W is a plain row-major product,
        # ~1.6x faster here than x @ W.T on a view.
        self.w = {k: np.ascontiguousarray(v.T) if k.endswith(".weight") and v.ndim == 2
                  and not k.startswith("embeddings.") else v for k, v in w.items()}
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=self.max_tokens)
        self.tokenizer.enable_padding(pad_id=int(config.get("pad_token_id", 0)))
        self._dim = int(config["hidden_size"])

    @property
    def dimension(self) -> int:
        return self._dim

    def warm_up(self) -> None:
        pass

    def encode(self, texts: Sequence[str], batch_size: int = 32,
               progress: Callable[[int], None] | None = None) -> np.ndarray:
        out = []
        for i in range(0, len(texts), batch_size):
            batch = list(texts[i : i + batch_size])
            out.append(self._forward(batch))
            if progress:
                progress(len(batch))
        return np.vstack(out) if out else np.zeros((0, self._dim), np.float32)

    def _forward(self, texts: list[str]) -> np.ndarray:
        w = self.w
        enc = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in enc], dtype=np.int64)
        mask = np.array([e.attention_mask for e in enc], dtype=np.float32)
        batch, length = ids.shape
        x = (w["embeddings.word_embeddings.weight"][ids]
             + w["embeddings.position_embeddings.weight"][:length][None]
             + w["embeddings.token_type_embeddings.weight"][0][None, None])
        x = self._norm(x, "embeddings.LayerNorm")
        bias = (1.0 - mask)[:, None, None, :] * np.float32(-1e9)  # padding gets no attention
        d = self._dim // self.heads
        for n in range(self.layers):
            p = f"encoder.layer.{n}."

            qkv = self._linear(x, p + "attention.self.qkv").reshape(batch, length, 3, self.heads, d)
            q, k, v = qkv.transpose(2, 0, 3, 1, 4)  # each (batch, heads, length, d)
            scores = q @ k.transpose(0, 1, 3, 2) / np.float32(math.sqrt(d)) + bias
            scores -= scores.max(axis=-1, keepdims=True)
            probs = np.exp(scores)
            probs /= probs.sum(axis=-1, keepdims=True)
            ctx = (probs @ v).transpose(0, 2, 1, 3).reshape(batch, length, self._dim)
            x = self._norm(self._linear(ctx, p + "attention.output.dense") + x, p + "attention.output.LayerNorm")
            inner = _gelu(self._linear(x, p + "intermediate.dense"))
            x = self._norm(self._linear(inner, p + "output.dense") + x, p + "output.LayerNorm")
        summed = (x * mask[:, :, None]).sum(axis=1)
        pooled = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
        pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return np.asarray(pooled, dtype=np.float32)

    def _linear(self, x: np.ndarray, name: str) -> np.ndarray:
        # One 2-D product for the whole batch: a 3-D one runs a product per text and reads
        # the weights (the bulk of the cost for short texts) once per text.
        flat = x.reshape(-1, x.shape[-1]) @ self.w[name + ".weight"] + self.w[name + ".bias"]
        return np.reshape(flat, (*x.shape[:-1], flat.shape[-1]))

    def _norm(self, x: np.ndarray, name: str) -> np.ndarray:
        mean = x.mean(axis=-1, keepdims=True)
        var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
        out: np.ndarray = (x - mean) / np.sqrt(var + self.eps) * self.w[name + ".weight"] + self.w[name + ".bias"]
        return out


def _gelu(x: np.ndarray) -> np.ndarray:
    """Exact GELU, 0.5·x·(1 + erf(x/√2)), with erf to ~1e-7 (Abramowitz & Stegun 7.1.26):
    ``tail`` is erfc(|x|/√2), so 1 + erf is 2 - tail for x ≥ 0 and tail below."""
    c = np.float32  # keeps every step in float32
    a = np.abs(x) * c(1 / math.sqrt(2.0))
    t = 1.0 / (1.0 + c(0.3275911) * a)
    poly = t * (c(0.254829592) + t * (c(-0.284496736) + t * (c(1.421413741)
                + t * (c(-1.453152027) + t * c(1.061405429)))))
    tail = poly * np.exp(-a * a)
    return np.asarray(0.5 * x * np.where(x >= 0, 2.0 - tail, tail), dtype=np.float32)
