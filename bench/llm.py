"""LLM runtime figures on this machine: the local backend and the same model over HTTP.

Prints, for the local backend (packaged Gemma 3 270M GGUF, llama.cpp in-process):
model load time, prefill and decode tokens/s (llama.cpp's own timings), and the
p50/p95 latency of a one-line subject-line completion from a ~150-token few-shot
prompt over ``--runs`` runs. The same completion then goes through the ``openai``
backend to llama.cpp's OpenAI-compatible server on loopback, which serves the very
same loaded model, so the HTTP overhead shows as a ratio. Runs alternate between the
two paths with the same seeds, so both do identical work and share any load from
other processes. A third row shows the local path with llama.cpp's prompt cache on
(faster for a repeated few-shot prefix, not reproducible; off by default).

    python bench/llm.py [--runs 20] [--threads 0] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

FEW_SHOT = """You write email subject lines for GiftLoft, a UK gift and homeware shop.
Voice: warm, playful, never pushy. At most 60 characters. No ALL CAPS.

Customer: bought scented candles and a ceramic mug in November; likes cosy homeware.
Campaign: winter gifts for the home, 10% off this weekend.
Subject: Cosy nights in? Your new favourite candle awaits

Customer: bought a children's tea set and party bunting; shops before birthdays.
Campaign: party season, free delivery over £30.
Subject: Party planning just got easier (and delivery's on us)

Customer: bought a hot water bottle and knitted throw last January; lives in Scotland.
Campaign: winter gifts for the home, 10% off this weekend.
Subject:"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def summary(latencies: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 1),
        "p95_ms": round(percentile(latencies, 0.95) * 1000, 1),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="completions per path (>= 20)")
    parser.add_argument("--threads", type=int, default=0, help="llama.cpp threads; 0 = all cores")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be positive")

    os.environ["GENPERSONA_HOME"] = tempfile.mkdtemp(prefix="gp-bench-llm-")
    load_before = round(os.getloadavg()[0], 2)  # other processes on shared cores skew figures
    os.environ.pop("GENPERSONA_FORBID_REAL_MODELS", None)

    from genpersona.llm.base import GenerationParams
    from genpersona.llm.gguf import resolve_model_path
    from genpersona.llm.local import LocalLLM
    from genpersona.llm.openai_backend import OpenAILLM
    from genpersona.settings import Settings

    settings = Settings(llm="local", local_threads=args.threads)
    t0 = time.perf_counter()
    model_path = resolve_model_path(settings)
    locate_s = time.perf_counter() - t0

    local = LocalLLM(settings, model_path=model_path)
    t0 = time.perf_counter()
    server = local.load()
    load_s = time.perf_counter() - t0

    # prefill / decode speed from llama.cpp's own timings (prompt cache off)
    prefill, decode = [], []
    for i in range(3):
        raw = server.completions(
            {
                "prompt": FEW_SHOT,
                "max_tokens": 64,
                "temperature": 0.8,
                "seed": 100 + i,
                "ignore_eos": True,  # decode a fixed 64 tokens
                "cache_prompt": False,
            }
        )
        prefill.append(raw["timings"]["prompt_per_second"])
        decode.append(raw["timings"]["predicted_per_second"])
        prompt_tokens = raw["usage"]["prompt_tokens"]

    http = OpenAILLM(model=None, base_url=server.openai_base_url, timeout_s=120, max_retries=0)
    _ = http.model  # resolve the served model name once, outside the timed loop

    def params(seed: int) -> GenerationParams:
        return GenerationParams(max_tokens=24, temperature=0.7, stop=["\n"], seed=seed)

    def cached(seed: int) -> None:
        body = {"prompt": FEW_SHOT, "max_tokens": 24, "temperature": 0.7, "stop": ["\n"]}
        server.completions({**body, "seed": seed, "cache_prompt": True})

    paths: dict[str, Callable[[int], object]] = {
        "local (in-process)": lambda s: local.complete(FEW_SHOT, params(s)),
        "openai -> loopback llama.cpp server": lambda s: http.complete(FEW_SHOT, params(s)),
        "local, prompt cache on": cached,
    }
    for call in paths.values():  # one untimed warm-up each
        call(0)
    latencies: dict[str, list[float]] = {name: [] for name in paths}
    samples: list[str] = []
    for run in range(args.runs):  # interleaved so both paths see the same machine load
        for name, call in paths.items():
            t0 = time.perf_counter()
            out = call(1000 + run)
            latencies[name].append(time.perf_counter() - t0)
            if name.startswith("local (") and len(samples) < 3:
                samples.append(out.text.strip())  # type: ignore[attr-defined]
    http.close()
    local.close()

    stats = {name: summary(values) for name, values in latencies.items()}
    local_p50 = stats["local (in-process)"]["p50_ms"]
    http_p50 = stats["openai -> loopback llama.cpp server"]["p50_ms"]
    report = {
        "model": model_path.name,
        "threads": server.threads,
        "cpu_count": os.cpu_count(),
        "load_avg_1m_before_after": [load_before, round(os.getloadavg()[0], 2)],
        "locate_model_s": round(locate_s, 3),
        "load_s": round(load_s, 3),
        "prompt_tokens": prompt_tokens,
        "prefill_tok_s": round(statistics.median(prefill), 1),
        "decode_tok_s": round(statistics.median(decode), 1),
        "runs": args.runs,
        "latency": stats,
        "http_overhead_ratio_p50": round(http_p50 / local_p50, 3),
        "sample_subjects": samples,
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(
        f"model {report['model']} on {report['threads']} of {report['cpu_count']} cores "
        f"(1-min load average before/after: {load_before} / {report['load_avg_1m_before_after'][1]})"
    )
    print(f"locate/verify GGUF      {report['locate_model_s']:.2f} s")
    print(f"model load (+warm-up)   {report['load_s']:.2f} s")
    print(
        f"prefill                 {report['prefill_tok_s']:.0f} tokens/s ({prompt_tokens}-token prompt)"
    )
    print(f"decode                  {report['decode_tok_s']:.0f} tokens/s")
    print(
        f"one-line subject from the {prompt_tokens}-token few-shot prompt, {args.runs} runs each:"
    )
    for name, s in stats.items():
        print(f"  {name:38s} p50 {s['p50_ms']:7.1f} ms   p95 {s['p95_ms']:7.1f} ms")
    print(f"HTTP overhead (p50 openai / p50 local)  x{report['http_overhead_ratio_p50']:.3f}")
    print("samples: " + " | ".join(samples))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
