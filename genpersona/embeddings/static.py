"""A static embedder distilled locally from the shipped MiniLM (model2vec).

Why: in a campaign, scoring embeds a few new texts per draft and MiniLM costs ~40 ms of
CPU per draft on a small machine, the largest cost that is ours. A static model is a
token -> vector table distilled from MiniLM's own outputs: embedding is a lookup and a
mean, microseconds per text. Distilled on this machine from the packaged MiniLM, so
nothing is downloaded (``distill_from_minilm``; ~80 s on 2 cores).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from genpersona.embeddings.base import Embedder, normalize
from genpersona.embeddings.minilm import packaged_model_dir
from genpersona.errors import EmbedderModelMissing


def distill_from_minilm(out_dir: Path, pca_dims: int = 256) -> Path:
    """Distil the packaged MiniLM into a static model under ``out_dir``."""
    from model2vec.distill import distill  # heavy optional dependency (torch, skeletoken)

    model = distill(model_name=str(packaged_model_dir()), pca_dims=pca_dims, device="cpu")
    model.save_pretrained(str(out_dir))
    return out_dir


def fingerprint(table: np.ndarray) -> str:
    """Eight hex digits of the token table's SHA-256: the name says which distilled table
    it is, so what was trained on one table's vectors (the copy-quality classifier's
    semantic head, ``quality_head_<name>.json``) is never fed another's."""
    return hashlib.sha256(np.ascontiguousarray(table).tobytes()).hexdigest()[:8]


class StaticEmbedder(Embedder):
    name = "static-minilm"

    def __init__(self, model_dir: Path) -> None:
        from model2vec import StaticModel  # optional dependency: only when chosen

        if not (model_dir / "config.json").is_file():
            raise EmbedderModelMissing(
                f"no static embedding model under {model_dir}",
                fix="distil one from the shipped MiniLM: python -c 'from pathlib import Path; "
                "from genpersona.embeddings.static import distill_from_minilm; "
                f'distill_from_minilm(Path("{model_dir}"))\'',
                path=str(model_dir),
            )
        self.model = StaticModel.from_pretrained(str(model_dir))
        self.dim = int(self.model.dim)
        self.name = f"static-minilm-{self.dim}-{fingerprint(self.model.embedding)}"

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return normalize(self.model.encode(texts))

    def runtime_version(self) -> str | None:
        from importlib.metadata import version

        return f"model2vec {version('model2vec')}"
