"""Embeddings of copy texts cached on disk, keyed by text hash and embedder version.

The click model embeds every headline it trains on; MiniLM does ~230 texts/s on
this machine, so re-embedding the Upworthy archive on each ``learn train`` or
eval run would cost minutes. Vectors are stored under the home directory in one
``.npz`` per embedder version; a different model version never reads another's
vectors because the version is part of the file name.

The cache may hold vectors of a customer's personalised copy (``learn train
--outcomes`` embeds the brand's sent texts), and its keys are hashes of whatever was
embedded, so it cannot tell whose entries are whose: erasing a customer drops the
cache files whole (``clickmodel.erasure``). A cache object loaded before that notices
on its next ``embed`` that its file was removed or replaced (by any process) and
reloads from disk, so it never writes the dropped vectors back.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import numpy as np

from genpersona.embeddings.base import Embedder


def text_key(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=12).hexdigest()


def embedder_version(embedder: Embedder) -> str:
    return f"{embedder.name}-{embedder.dim}"


def _stamp(path: Path) -> tuple[int, int, int] | None:
    """What identifies the file's current content: (inode, mtime, size); None if absent."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


class EmbeddingCache:
    """Load-once, append-on-miss cache; writes are atomic (temp file + rename)."""

    def __init__(self, root: Path, embedder: Embedder) -> None:
        self.embedder = embedder
        self.path = root / f"{embedder_version(embedder)}.npz"
        self._lock = threading.Lock()
        self._index: dict[str, int] = {}
        self._vectors = np.zeros((0, embedder.dim), dtype=np.float32)
        self._loaded: tuple[int, int, int] | None = None
        self._load()

    def _load(self) -> None:
        """(Re)read the file; an absent file is an empty cache."""
        self._index = {}
        self._vectors = np.zeros((0, self.embedder.dim), dtype=np.float32)
        self._loaded = _stamp(self.path)
        if self._loaded is None:
            return
        try:
            with np.load(self.path, allow_pickle=False) as data:
                keys = [str(k) for k in data["keys"]]
                self._vectors = np.asarray(data["vectors"], dtype=np.float32)
        except FileNotFoundError:  # dropped between the stat and the read
            self._loaded = None
            return
        self._index = {k: i for i, k in enumerate(keys)}

    def forget(self) -> None:
        """Drop what this object holds in memory (the file is someone else's business)."""
        with self._lock:
            self._index = {}
            self._vectors = np.zeros((0, self.embedder.dim), dtype=np.float32)
            self._loaded = None

    def __len__(self) -> int:
        return len(self._index)

    def embed(self, texts: list[str], *, batch: int = 2048) -> np.ndarray:
        keys = [text_key(t) for t in texts]
        with self._lock:
            if _stamp(self.path) != self._loaded:  # dropped by an erase, or another writer
                self._load()
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
        self._loaded = _stamp(self.path)
