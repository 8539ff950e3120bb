"""MiniLM runtimes on campaign-shaped input: CPU per draft's lines and closeness to torch.

    python bench/minilm_runtimes.py [--drafts 64] [--reps 5]

Embeds ``--drafts`` x 6 stub candidate lines (``bench/stub_openai.py``'s vocabulary) as
the copy-quality classifier's line pass does, with: torch (sentence-transformers, its
default threads), torch on one thread, ONNX Runtime fp32 (``GENPERSONA_MINILM_RUNTIME=onnx``,
one thread), ONNX Runtime int8 (dynamic quantisation of the same export) and torch int8
(``torch.ao.quantization.quantize_dynamic`` of the Linear layers). Printed per runtime:
process CPU ms per draft (6 lines), wall ms per call, and the cosine of its vectors to
torch's (min and mean); with ``--accuracy``, the copy-quality classifier's accuracy on
the labelled sets when it reads that runtime's vectors (``evals.copy.labelled``). Exports
go to a temp dir; nothing is downloaded. Only torch and ONNX fp32 are in the product
(``GENPERSONA_MINILM_RUNTIME``); the int8 ones are measured here and not kept
(campaign-throughput.md, session 7).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from stub_openai import line_for  # noqa: E402


def load() -> str:
    return "load average " + " ".join(f"{v:.1f}" for v in os.getloadavg())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--drafts", type=int, default=64)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--accuracy", action="store_true", help="also evals.copy.labelled per runtime")
    args = ap.parse_args()
    import onnxruntime as ort
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from genpersona.embeddings.minilm import MiniLMEmbedder
    from genpersona.embeddings.minilm_onnx import OnnxMiniLM

    print(f"== MiniLM runtimes: {args.drafts} drafts x 6 lines; {load()}")
    lines = [line_for(s, i) for s in range(args.drafts) for i in range(6)]
    base = MiniLMEmbedder()
    tmp = Path(tempfile.mkdtemp(prefix="gp-minilm-runtimes-"))
    fp32 = OnnxMiniLM(base.model_dir, tmp)
    int8_path = tmp / "minilm-int8.onnx"
    quantize_dynamic(str(fp32.path), str(int8_path), weight_type=QuantType.QInt8)
    int8 = OnnxMiniLM(base.model_dir, tmp)
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    int8.session = ort.InferenceSession(str(int8_path), options, providers=["CPUExecutionProvider"])
    tokenizer = base._model.tokenizer
    quantized = torch.ao.quantization.quantize_dynamic(
        base._model[0].auto_model, {torch.nn.Linear}, dtype=torch.qint8
    )

    def torch_int8(texts: list[str]) -> np.ndarray:
        enc = tokenizer(texts, padding=True, truncation=True, max_length=256, return_tensors="pt")
        with torch.inference_mode():
            hidden = quantized(**enc).last_hidden_state
        mask = enc["attention_mask"][..., None].float()
        v = ((hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)).numpy()
        return np.asarray(v / np.linalg.norm(v, axis=1, keepdims=True), dtype=np.float32)

    threads = torch.get_num_threads()

    def torch_one_thread(texts: list[str]) -> np.ndarray:
        torch.set_num_threads(1)
        try:
            return base.embed(texts)
        finally:
            torch.set_num_threads(threads)

    reference = base.embed(lines)
    runtimes: list[tuple[str, Callable[[list[str]], np.ndarray]]] = [
        (f"torch ({threads} threads)", base.embed),
        ("torch (1 thread)", torch_one_thread),
        ("onnxruntime fp32 (1 thread)", fp32.encode),
        ("onnxruntime int8 (1 thread)", int8.encode),
        (f"torch int8 ({threads} threads)", torch_int8),
    ]
    for name, fn in runtimes:
        fn(lines)  # warm
        cpu0, wall0 = time.process_time(), time.perf_counter()
        for _ in range(args.reps):
            vectors = fn(lines)
        cpu = (time.process_time() - cpu0) / args.reps
        wall = (time.perf_counter() - wall0) / args.reps
        cos = (vectors * reference).sum(axis=1)
        print(f"   {name:30s} CPU {cpu / args.drafts * 1000:6.2f} ms per draft's 6 lines, "
              f"wall {wall * 1000:6.0f} ms per {len(lines)} lines; cosine to torch min "
              f"{cos.min():.5f} mean {cos.mean():.5f}")  # fmt: skip
    if args.accuracy:
        accuracy(runtimes)
    print(f"== end; {load()}")


def accuracy(runtimes: list[tuple[str, Callable[[list[str]], np.ndarray]]]) -> None:
    """The copy-quality classifier's accuracy (``evals.copy.labelled``) when its semantic
    head (fitted on torch MiniLM vectors) reads each runtime's vectors."""
    from evals.copy import labelled
    from genpersona.embeddings.base import Embedder

    class Runtime(Embedder):
        name = "minilm"  # the head's embedder: the vectors are meant to be MiniLM's
        dim = 384

        def __init__(self, fn: Callable[[list[str]], np.ndarray]) -> None:
            self.fn = fn

        def embed(self, texts: list[str]) -> np.ndarray:
            return self.fn(texts)

    print("== copy-quality accuracy % per set (scorer alone, scorer + guard)")
    for name, fn in runtimes:
        got = labelled.report(False, Runtime(fn))
        parts = ", ".join(
            f"{k} {v['scorer']['accuracy_pct']} / {v['scorer+guard']['accuracy_pct']}"
            for k, v in got.items()
        )
        print(f"   {name:30s} {parts}", flush=True)


if __name__ == "__main__":
    main()
