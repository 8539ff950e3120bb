"""Full ingest of the UCI Online Retail parquet: wall time per step and peak memory.

Usage: python bench/ingest.py [--home DIR] [--embedder minilm|fake] [--rerun]
Runs in its own GENPERSONA_HOME (default /tmp/genpersona-bench/real) so it
never touches your data; bench/context.py reuses that home.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import time
from pathlib import Path

DEFAULT_HOME = Path("/tmp/genpersona-bench/real")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--home", type=Path, default=DEFAULT_HOME)
    parser.add_argument("--embedder", default="minilm", choices=["minilm", "fake"])
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--keep", action="store_true", help="re-ingest into the existing home")
    args = parser.parse_args()
    if args.home.exists() and not args.keep:
        shutil.rmtree(args.home)
    os.environ["GENPERSONA_HOME"] = str(args.home)
    os.environ["GENPERSONA_EMBEDDER"] = args.embedder
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

    from genpersona.data.ingest_online_retail import ingest_online_retail
    from genpersona.recs.store import fit_recommender
    from genpersona.settings import get_settings

    settings = get_settings()
    data = args.data or settings.data_dir / "online_retail.parquet"
    if not data.exists():
        raise SystemExit(f"skipped: {data} is absent (see ../shared/data/README.md)")
    for label in ("first ingest", "re-run (idempotent)"):
        start = time.perf_counter()
        report = ingest_online_retail(
            data, "giftloft", show_progress=False, fit_recs=fit_recommender
        )
        wall = time.perf_counter() - start
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"== {label}: {wall:.1f} s wall, peak RSS {peak_mb:.0f} MB (embedder {args.embedder})"
        )
        print(
            f"   rows {report.rows:,}  customers {report.customers:,}  guest rows "
            f"{report.guest_rows:,}  products {report.products:,}  events written "
            f"{report.events_written:,}  profiles {report.profiles:,}  memory facts "
            f"{report.memory_facts:,} (new {report.memory_facts_new:,})"
        )
        print(f"   themes {report.themes}")
        print("   steps (s): " + ", ".join(f"{k} {v}" for k, v in report.seconds.items()))


if __name__ == "__main__":
    main()
