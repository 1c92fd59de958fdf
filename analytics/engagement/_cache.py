"""Text embeddings cached per text hash (SQLite under ``var/cache``), so each text is encoded once."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Sequence
from contextlib import closing
from pathlib import Path

import numpy as np

from analytics.embeddings import EMBEDDING_DIM, ENCODER_NAME, encode


def _key(text: str) -> str:
    return hashlib.sha256(f"{ENCODER_NAME}\x00{text}".encode()).hexdigest()


class EmbeddingCache:
    """MiniLM embeddings keyed by ``sha256(encoder name, text)``.

    Args:
        path: The SQLite file; ``None`` keeps nothing (every call encodes).
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path

    def _connect(self) -> sqlite3.Connection:
        assert self.path is not None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path, timeout=30.0)
        con.execute("CREATE TABLE IF NOT EXISTS emb (key TEXT PRIMARY KEY, vec BLOB NOT NULL)")
        return con

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Embeddings of ``texts``: float32 array of shape (n_texts, 384), input order."""
        out = np.zeros((len(texts), EMBEDDING_DIM), dtype=np.float32)
        if not texts:
            return out
        keys = [_key(t) for t in texts]
        found: dict[str, np.ndarray] = {}
        if self.path is not None:
            with closing(self._connect()) as con, con:
                unique = list(set(keys))
                for start in range(0, len(unique), 500):
                    chunk = unique[start : start + 500]
                    marks = ",".join("?" * len(chunk))
                    for key, blob in con.execute(
                        f"SELECT key, vec FROM emb WHERE key IN ({marks})", chunk
                    ):
                        found[key] = np.frombuffer(blob, dtype=np.float32)
        todo: dict[str, str] = {}
        for key, text in zip(keys, texts, strict=True):
            if key not in found:
                todo.setdefault(key, text)
        if todo:
            vectors = encode(list(todo.values()), batch_size=batch_size)
            fresh = dict(zip(todo, vectors, strict=True))
            found.update(fresh)
            if self.path is not None:
                with closing(self._connect()) as con, con:
                    con.executemany(
                        "INSERT OR IGNORE INTO emb VALUES (?, ?)",
                        [(k, v.astype(np.float32).tobytes()) for k, v in fresh.items()],
                    )
        for row, key in enumerate(keys):
            out[row] = found[key]
        return out
