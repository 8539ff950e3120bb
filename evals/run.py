"""Run the offline eval suites in turn and print each one's report.

``python -m evals.run`` runs all of them; name suites to run a subset, e.g.
``python -m evals.run guard recs``. Each suite is a dataset plus versioned
scorers of its own (see ``evals/<suite>/run.py``); this only sequences them and
returns non-zero if any suite failed to run or missed its own targets.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from evals.agent.run import main as agent_main
from evals.chat.run import main as chat_main
from evals.copy.run import main as copy_main
from evals.guard.run import main as guard_main
from evals.learning.run import main as learning_main
from evals.recs.run import main as recs_main
from evals.sendtime.run import main as sendtime_main

SUITES: dict[str, tuple[Callable[[list[str] | None], int], list[str]]] = {
    "guard": (guard_main, []),  # labelled rule set, seconds
    "recs": (recs_main, []),  # UCI temporal split, about a minute
    "sendtime": (sendtime_main, []),  # UCI order times, seconds
    "learning": (learning_main, []),  # Upworthy replay + click model + OPE, a few minutes
    "chat": (chat_main, []),  # grounded chat + injections, local model, about a minute
    "agent": (agent_main, ["--customers", "100"]),  # local model, several minutes
    "copy": (copy_main, ["--customers", "100"]),  # local model, two prompt versions
}


def main(argv: list[str] | None = None) -> int:
    names = (argv if argv is not None else sys.argv[1:]) or list(SUITES)
    unknown = [n for n in names if n not in SUITES]
    if unknown:
        print(f"unknown suite(s) {', '.join(unknown)}; choose from {', '.join(SUITES)}")
        return 2
    worst = 0
    for name in names:
        run, args = SUITES[name]
        print(f"\n=== evals/{name} ===", flush=True)
        started = time.perf_counter()
        code = run(args)
        print(f"=== evals/{name}: exit {code} in {time.perf_counter() - started:.0f}s ===")
        worst = max(worst, code)
    return worst


if __name__ == "__main__":
    raise SystemExit(main())
