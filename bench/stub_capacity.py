"""What the GPU stand-in serves when nothing else is in the way: its requests/s under a
bare load generator, to tell the stub's own cap from genpersona's.

    python bench/stub_capacity.py [--latency-ms 200] [--in-flight 20] [--requests 1500]
        [--threads 64,128] [--prompts 6] [--prompt-kb 8]

``bench/stub_openai.py`` runs in its own process; one process sends completions requests
shaped like a campaign draft's (``--prompts`` prompts of ``--prompt-kb`` KB each, one
request per draft) through the official ``openai`` client from a thread pool, and does
nothing else with the answers. Printed per thread count: requests/s next to the stub's
ideal (in-flight / latency). If this reaches the ideal and a campaign does not, the
campaign's own side holds it back.
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import openai

sys.path.insert(0, str(Path(__file__).resolve().parent))

from campaign_throughput import Stub, load  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--latency-ms", type=float, default=200)
    ap.add_argument("--in-flight", type=int, default=20)
    ap.add_argument("--requests", type=int, default=1500)
    ap.add_argument("--threads", default="64,128")
    ap.add_argument("--prompts", type=int, default=6)
    ap.add_argument("--prompt-kb", type=float, default=8)
    args = ap.parse_args()
    line = "Subject: a few words about tea and cake for the weekend\n"
    prompt = line * max(1, int(args.prompt_kb * 1024 / len(line)))
    with Stub(args.latency_ms, args.in_flight) as stub:
        client = openai.OpenAI(base_url=stub.url, api_key="bench", max_retries=0)

        def one(i: int) -> None:
            client.completions.create(
                model="stub",
                prompt=[f"{prompt}{k}" for k in range(args.prompts)],
                max_tokens=40,
                seed=i,
                stop=["\n\n"],
            )

        print(f"== stub {args.latency_ms:.0f} ms x {args.in_flight} (ideal {stub.ideal:.0f}/s), "
              f"{args.prompts} prompts of {args.prompt_kb:g} KB per request; {load()}")  # fmt: skip
        for threads in (int(t) for t in args.threads.split(",")):
            with ThreadPoolExecutor(threads) as pool:
                list(pool.map(one, range(50)))  # connections opened, warm
                t0 = time.perf_counter()
                list(pool.map(one, range(args.requests)))
                rate = args.requests / (time.perf_counter() - t0)
            print(f"   {threads} threads: {rate:.1f} requests/s ({rate / stub.ideal:.1%} of ideal)")
    print(f"== end; {load()}")


if __name__ == "__main__":
    main()
