"""Where a campaign draft's CPU goes: cProfile of the batched path, on one thread.

    python bench/campaign_profile.py [--customers 200] [--scoring-embedder static]
        [--top 40] [--sort tottime] [--out prof.pstats]

The batched runner's stages (``agent.batch.prepare`` per customer, then
``agent.batch.finish`` and the batch store per ``campaign_batch_size`` customers),
run here on the main thread so cProfile sees all of them (it profiles one thread),
against ``bench/stub_openai.py`` at 1 ms latency in its own process, on a copy of the
real home ``bench/ingest.py --home`` builds (SQLite). Waiting on the stub is in the
profile as socket reads; everything else is ours. A warm-up of 20 customers runs
first (model load, caches), outside the profile. Not a throughput figure: the
profiler roughly doubles CPU time; read it for shares and call counts.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from campaign_throughput import BRIEF, REAL_HOME, Stub, configure, load  # noqa: E402


def run(customers: int, name: str) -> float:
    from genpersona.agent.batch import StageCpu, finish, prepare
    from genpersona.agent.deps import default_deps
    from genpersona.campaigns.batching import _submit
    from genpersona.campaigns.runner import start_campaign
    from genpersona.campaigns.segments import Segment
    from genpersona.settings import get_settings

    settings = get_settings()
    deps = default_deps(None, settings)
    _, requests, _ = start_campaign(
        "giftloft", "subject_line", Segment(limit=customers), BRIEF, name, 3,
        distributed=False, settings=settings,
    )  # fmt: skip
    cpu = StageCpu()
    t0 = time.process_time()
    size = settings.campaign_batch_size
    for start in range(0, len(requests), size):
        prepared = [prepare(r, deps, cpu) for r in requests[start : start + size]]
        drafts = [d for d in finish(prepared, deps, cpu) if not isinstance(d, Exception)]
        _submit(drafts, settings)
    spent = time.process_time() - t0
    per = {k: round(v / max(1, len(requests)) * 1000, 2) for k, v in sorted(cpu.seconds.items())}
    print(f"{name}: {len(requests)} customers, process CPU {spent / len(requests) * 1000:.1f} "
          f"ms/draft; by stage (ms/draft) {per}")  # fmt: skip
    return spent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=200)
    ap.add_argument("--real-home", type=Path, default=REAL_HOME)
    ap.add_argument("--embedder", default="minilm")
    ap.add_argument("--scoring-embedder", default=None)
    ap.add_argument("--static-dir", default="/tmp/gp-throughput/m2v-minilm")
    ap.add_argument("--top", type=int, default=40)
    ap.add_argument("--sort", default="tottime")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--no-profile", action="store_true", help="only the StageCpu split")
    args = ap.parse_args()
    if args.scoring_embedder:
        os.environ["GENPERSONA_SCORING_EMBEDDER"] = args.scoring_embedder
        os.environ["GENPERSONA_STATIC_EMBEDDER_DIR"] = args.static_dir
    print(f"== campaign profile: {args.customers} customers, scoring "
          f"{args.scoring_embedder or args.embedder}; {load()}")  # fmt: skip
    work = Path(tempfile.mkdtemp(prefix="gp-bench-profile-"))
    home = work / "home"
    shutil.copytree(args.real_home, home)
    try:
        with Stub(1, 64) as stub:
            configure(home, None, stub, args.embedder)
            run(20, "warm")
            if args.no_profile:
                run(args.customers, "measured")
            else:
                prof = cProfile.Profile()
                prof.enable()
                run(args.customers, "profiled")
                prof.disable()
                if args.out:
                    prof.dump_stats(str(args.out))
                stats = pstats.Stats(prof).strip_dirs().sort_stats(args.sort)
                stats.print_stats(args.top)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"== end; {load()}")


if __name__ == "__main__":
    main()
