"""Embeddings of copy texts cached on disk, keyed by text hash and embedder version.

The click model embeds every headline it trains on; MiniLM does ~230 texts/s on
this machine, so re-embedding the Upworthy archive on each ``learn train`` or
eval run would cost minutes. Vectors are stored under the home directory in one
``.npz`` per embedder version; a different model version never reads another's
vectors because the version is part of the file name.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import numpy as np

from genpersona.embeddings.base import Embedder


def text_key(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=12).hexdigest()


def embedder_version(embedder: Embedder) -> str:
    return f"{embedder.name}-{embedder.dim}"


class EmbeddingCache:
    """Load-once, append-on-miss cache; writes are atomic (temp file + rename)."""

    def __init__(self, root: Path, embedder: Embedder) -> None:
        self.embedder = embedder
        self.path = root / f"{embedder_version(embedder)}.npz"
        self._lock = threading.Lock()
        self._index: dict[str, int] = {}
        self._vectors = np.zeros((0, embedder.dim), dtype=np.float32)
        if self.path.exists():
            with np.load(self.path, allow_pickle=False) as data:
                keys = [str(k) for k in data["keys"]]
                self._vectors = np.asarray(data["vectors"], dtype=np.float32)
            self._index = {k: i for i, k in enumerate(keys)}

    def __len__(self) -> int:
        return len(self._index)

    def embed(self, texts: list[str], *, batch: int = 2048) -> np.ndarray:
        keys = [text_key(t) for t in texts]
        with self._lock:
            missing: dict[str, str] = {}
            for key, text in zip(keys, texts, strict=True):
                if key not in self._index and key not in missing:
                    missing[key] = text
            if missing:
                items = list(missing.items())
                for start in range(0, len(items), batch):
                    chunk = items[start : start + batch]
                    vecs = self.embedder.embed([t for _, t in chunk])
                    base = len(self._vectors)
                    self._vectors = np.vstack([self._vectors, vecs.astype(np.float32)])
                    for offset, (key, _) in enumerate(chunk):
                        self._index[key] = base + offset
                    self._save()
            rows = np.fromiter((self._index[k] for k in keys), dtype=np.int64, count=len(keys))
            return self._vectors[rows]

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = np.array(sorted(self._index, key=self._index.__getitem__))
        tmp = self.path.with_suffix(".tmp.npz")
        np.savez(tmp, keys=keys, vectors=self._vectors)
        tmp.replace(self.path)
