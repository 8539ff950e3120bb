"""Cost per line of the copy-quality reading, previous scorer against the current one.

    flock /tmp/bench.lock python bench/copy_quality_cost.py [--repeat 5]

Ranking reads every candidate of every campaign draft with ``quality.assess``; this times
that call on the labelled copy lines (dev and held-out sets, with their contexts), once
with the previous version's weights (``quality.PREVIOUS_MODEL_PATH``) and once with the
shipped ones, the lines' MiniLM vectors computed beforehand (both versions read the same
vector, so the embedder's cost is the same for both and is printed apart, once). Prints
microseconds per line (median of ``--repeat`` passes) and the machine load.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from evals.copy.labelled import SETS, load, vectors
from genpersona.agent.quality import PREVIOUS_MODEL_PATH, QUALITY_VERSION, assess, load_model
from genpersona.agent.quality_structure import load_structure


def _pass(rows: list[dict], vecs: list, model: object) -> float:
    start = time.perf_counter()
    for r, v in zip(rows, vecs, strict=True):
        assess(r["text"], r.get("context") or [], vector=v, model=model)  # type: ignore[arg-type]
    return (time.perf_counter() - start) / len(rows) * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    rows = [r for s in SETS for r in load(s)]
    print(f"load before: {os.getloadavg()}")
    start = time.perf_counter()
    vecs = vectors(rows)
    embed_us = (time.perf_counter() - start) / len(rows) * 1e6
    previous, current = load_model(PREVIOUS_MODEL_PATH), load_model()
    load_structure()  # loaded once per process, as in ranking
    for model in (previous, current):  # warm-up: numpy conversions, caches
        _pass(rows[:50], vecs[:50], model)
    for label, model in (("previous", previous), ("current", current)):
        times = [_pass(rows, vecs, model) for _ in range(args.repeat)]
        print(f"{label} {model.version}: {statistics.median(times):.0f} us/line "
              f"(median of {args.repeat} passes over {len(rows)} lines; "
              f"min {min(times):.0f}, max {max(times):.0f})")  # fmt: skip
    print(f"MiniLM vectors, both versions, one batch: {embed_us:.0f} us/line")
    print(f"shipped version: {QUALITY_VERSION}; load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
