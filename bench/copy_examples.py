"""Cost per line of the copy-examples check: the prepared matcher against the plain one.

    flock /tmp/bench.lock python bench/copy_examples.py [--lines 3000] [--per-draft 14]

Ranking asks, for every candidate line of every draft, how close it is to the nearest of
the prompt's example lines (``quality_examples.ExampleMatcher``). This times that on the
GPU stand-in's lines (``bench/stub_openai.py``'s vocabulary, the lines a campaign bench
scores) against the demo brand's examples (every subject-line recipe example and the
guide's do-examples), one matcher per ``--per-draft`` lines as in a campaign. The
baseline, in the same run, is the plain algorithm: one ``SequenceMatcher`` per (line,
example) pair, with the lift rule. Both must give the same closeness for every line; the
script stops if they do not. Prints CPU ms per line (process time) and the load.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from difflib import SequenceMatcher
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import stub_openai as stub  # noqa: E402

from genpersona.agent.quality_examples import (  # noqa: E402
    LIFT_MIN_WORDS,
    ExampleMatcher,
    _words,
    recipe_example_lines,
)
from genpersona.brands.loader import load_guide  # noqa: E402
from genpersona.settings import get_settings  # noqa: E402


def plain(text: str, examples: list[str]) -> float:
    """The check written plainly: every example, one ``SequenceMatcher`` each."""
    words = _words(text)
    best = 0.0
    for example in examples:
        other = _words(example)
        if not other or not words:
            continue
        n = len(words)
        lifted = n >= LIFT_MIN_WORDS and any(
            other[i : i + n] == words for i in range(len(other) - n + 1)
        )
        if other == words or lifted:
            return 1.0
        best = max(best, SequenceMatcher(None, words, other, autojunk=False).ratio())
    return round(best, 4)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=3000)
    ap.add_argument("--per-draft", type=int, default=14)
    args = ap.parse_args()
    settings = get_settings()
    guide = load_guide("giftloft", settings)
    do = guide.examples.get("subject_line")
    examples = recipe_example_lines(settings.prompts_dir, "subject_line") + (
        list(do.do) if do else []
    )
    rng = random.Random(3)
    lines = [
        f"{rng.choice(stub.OPENERS)} {rng.choice(stub.MIDDLES)} {rng.choice(stub.CLOSERS)}"
        for _ in range(args.lines)
    ]
    print(f"== {len(lines)} stub lines against {len(examples)} giftloft subject-line examples; "
          f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    t0 = time.process_time()
    base = [plain(line, examples) for line in lines]
    plain_ms = (time.process_time() - t0) / len(lines) * 1000
    t0 = time.process_time()
    got: list[float] = []
    for start in range(0, len(lines), args.per_draft):
        matcher = ExampleMatcher(examples)  # one per draft, as in scoring
        got += [matcher.closeness(line) for line in lines[start : start + args.per_draft]]
    prepared_ms = (time.process_time() - t0) / len(lines) * 1000
    if got != base:
        raise SystemExit("the prepared matcher and the plain one disagree")
    print(f"   plain, one SequenceMatcher per pair: {plain_ms:.3f} ms per line")
    print(f"   prepared matcher (ExampleMatcher):   {prepared_ms:.3f} ms per line; same values")
    print(f"== end; load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
