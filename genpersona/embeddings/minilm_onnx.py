"""The shipped all-MiniLM-L6-v2 on ONNX Runtime (``GENPERSONA_MINILM_RUNTIME=onnx``).

The same model, not another one: its transformer is exported on this machine from the
packaged weights (``torch.onnx.export``, a few seconds, once per home) and run by ONNX
Runtime on one thread, with the same tokenizer, mean pooling and normalisation as
sentence-transformers. Its vectors match the torch ones to float precision, so stored
vectors, the copy-quality classifier's semantic head and every threshold fitted on
MiniLM vectors stay valid. Nothing is downloaded.

Why: a campaign embeds every candidate line for the classifier; on this 2-core machine
ONNX Runtime does that for less CPU per line than torch (figures in
docs/guides/campaign-throughput.md, session 7).

Optional: needs ``onnxruntime`` to run and ``onnx`` to export (``pip install
'genpersona[onnx]'``); without them the embedder says so and how to fix it.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from genpersona.embeddings.batching import encode_by_length
from genpersona.errors import EmbedderError, OptionalDependencyMissing

INPUTS = ("input_ids", "attention_mask", "token_type_ids")
#: sentence-transformers' max_seq_length for all-MiniLM-L6-v2
MAX_TOKENS = 256
EXTRA = "onnx"


def _require(module: str) -> Any:
    try:
        return __import__(module)
    except ImportError as exc:
        raise OptionalDependencyMissing(
            f"GENPERSONA_MINILM_RUNTIME=onnx needs the Python package {module}, which is not "
            f"installed ({exc})",
            fix=f"pip install 'genpersona[{EXTRA}]' (onnxruntime and onnx), or unset "
            "GENPERSONA_MINILM_RUNTIME to embed with torch",
            package=module,
        ) from exc


def weights_fingerprint(model_dir: Path) -> str:
    """Eight hex digits of the packaged weights' SHA-256: an export is reused only for the
    weights it was made from."""
    digest = hashlib.sha256()
    for path in sorted(model_dir.glob("*.safetensors")):
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:8]


def export_onnx(model_dir: Path, out: Path) -> Path:
    """Export the packaged MiniLM's transformer to ``out`` (the last hidden state, dynamic
    batch and length). Written to a temporary file first, then renamed, so two processes
    exporting at once never read half a file."""
    _require("onnx")
    import torch
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)
    model = AutoModel.from_pretrained(str(model_dir), local_files_only=True).eval()

    class Hidden(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    sample = tokenizer(["a sample line", "and a longer sample line"], padding=True,
                       return_tensors="pt")  # fmt: skip
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, suffix=".onnx.tmp")
    os.close(fd)
    try:
        with torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the TorchScript exporter's notes on tracing
            torch.onnx.export(
                Hidden(model),
                tuple(sample[k] for k in INPUTS),
                tmp,
                input_names=list(INPUTS),
                output_names=["last_hidden_state"],
                dynamic_axes={k: {0: "batch", 1: "tokens"} for k in (*INPUTS, "last_hidden_state")},
                opset_version=17,
                dynamo=False,
            )
        os.replace(tmp, out)
    except Exception as exc:
        Path(tmp).unlink(missing_ok=True)
        raise EmbedderError(
            f"could not export MiniLM from {model_dir} to ONNX: {exc}",
            fix="unset GENPERSONA_MINILM_RUNTIME to embed with torch",
            path=str(out),
        ) from exc
    return out


def quantize_int8(fp32: Path, out: Path) -> Path:
    """ONNX Runtime's dynamic int8 quantisation of an export (weights int8, activations
    quantised per batch), written beside it through a temporary file like the export."""
    _require("onnx")
    from onnxruntime.quantization import QuantType, quantize_dynamic

    fd, tmp = tempfile.mkstemp(dir=out.parent, suffix=".onnx.tmp")
    os.close(fd)
    try:
        quantize_dynamic(str(fp32), tmp, weight_type=QuantType.QInt8)
        os.replace(tmp, out)
    except Exception as exc:
        Path(tmp).unlink(missing_ok=True)
        raise EmbedderError(
            f"could not quantise the MiniLM export {fp32} to int8: {exc}",
            fix="unset GENPERSONA_COPY_QUALITY_EMBEDDER to read lines with MiniLM itself",
            path=str(out),
        ) from exc
    return out


class OnnxMiniLM:
    """texts -> unit vectors, as ``SentenceTransformer.encode(normalize_embeddings=True)``.

    ``int8``: the export quantised to int8 weights. Its vectors are close to MiniLM's, not
    the same (cosine 0.94-1.0 on candidate lines), so it never writes stored vectors; it
    reads candidate lines for the copy-quality classifier at less than half the CPU."""

    def __init__(
        self, model_dir: Path, cache_dir: Path, batch_size: int = 64, *, int8: bool = False
    ) -> None:
        ort = _require("onnxruntime")
        from tokenizers import Tokenizer

        self.batch_size = batch_size
        fp32 = cache_dir / f"minilm-{weights_fingerprint(model_dir)}.onnx"
        if not fp32.is_file():
            export_onnx(model_dir, fp32)
        self.path = fp32.with_name(fp32.stem + "-int8.onnx") if int8 else fp32
        if not self.path.is_file():
            quantize_int8(fp32, self.path)
        options = ort.SessionOptions()
        # one thread: campaign workers scale by processes, and on 2 shared cores a second
        # intra-op thread cost more CPU than it saved wall time
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(
            str(self.path), options, providers=["CPUExecutionProvider"]
        )
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.enable_padding()
        self.version = f"onnxruntime {ort.__version__}"

    def encode(self, texts: list[str]) -> np.ndarray:
        return encode_by_length(texts, self.batch_size, self._batch)

    def _batch(self, texts: list[str]) -> np.ndarray:
        encs = self.tokenizer.encode_batch(texts)
        feed = {
            "input_ids": np.array([e.ids for e in encs], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encs], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encs], dtype=np.int64),
        }
        hidden = self.session.run(None, feed)[0]  # ONNX Runtime's Run is thread-safe
        mask = feed["attention_mask"][..., None].astype(np.float32)
        pooled = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)
