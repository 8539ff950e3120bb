"""Ingest throughput: events/s of the event-load stage, apart from profiles and fact embedding.

Usage:
  python bench/ingest.py [--files uci,synth] [--backends sqlite,postgres] [--loaders bulk,rows]
                         [--synth-events 5000000] [--embedder fake|minilm] [--vectors memory|chroma]
                         [--rerun] [--recs] [--pg-url URL]

Each case (file x backend x loader) runs in its own subprocess, home and database
(a PostgreSQL database created for the case and dropped after it), so peak RSS
and engine caches do not leak between cases. ``bulk`` is the current loader
(executemany on SQLite, COPY on PostgreSQL); ``rows`` is the old dict-per-event
loader, the baseline. The UCI file is ../shared/data/online_retail.parquet; the
synthetic file is made by bench/synth_retail.py under the temp dir.

Stages printed (wall seconds, from the ingest report):
  event load = read_validate + prepare (catalog rows, customers, event frame) + write_events
               (diff against stored keys + bulk write): file -> rows in the open transaction
  write      = write_events alone
  catalog    = catalog embedding + themes; profiles; facts (wording + rows);
  embed      = fact embedding (distinct texts only); commit; vectors (vector-store upserts)
Run timed figures under ``flock /tmp/bench.lock``; the load average is printed with each case.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: GENPERSONA_DATA_DIR (the setting ``data_dir``) overrides ../shared/data, e.g. from a git worktree
UCI = (
    Path(os.environ.get("GENPERSONA_DATA_DIR", ROOT.parent / "shared" / "data"))
    / "online_retail.parquet"
)
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
LOAD_STEPS = ("read_validate", "prepare", "write_events")


def load_average() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def run_case(args: argparse.Namespace) -> None:
    """One ingest (plus an optional re-run) in this process; prints one JSON line."""
    home = Path(tempfile.mkdtemp(prefix="gp-bench-ingest-"))
    os.environ.update(
        GENPERSONA_HOME=str(home),
        GENPERSONA_EMBEDDER=args.embedder,
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
    )
    admin = None
    if args.case_backend == "postgres":
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        name = f"gp_bench_ingest_{uuid.uuid4().hex[:10]}"
        admin = create_engine(args.pg_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        os.environ["GENPERSONA_DATABASE_URL"] = (
            make_url(args.pg_url).set(database=name).render_as_string(hide_password=False)
        )
    try:
        from genpersona.data import ingest_online_retail as module
        from genpersona.recs.store import fit_recommender

        if args.vectors == "memory":  # the bench measures SQL ingest; vectors are timed apart
            from genpersona.vectors.memory import InMemoryVectorStore

            store = InMemoryVectorStore()
            module.get_vector_store = lambda settings=None: store  # type: ignore[assignment]
        if args.skip_derive:  # event load only: profiles and facts are not built (bench only)
            from genpersona.data.derive import DeriveStats, PendingVectors

            module.derive = lambda session, brand, embedder, progress=None: (  # type: ignore[assignment]
                DeriveStats(),
                PendingVectors(brand.slug),
            )
        out = []
        for label in ("first", "rerun") if args.rerun else ("first",):
            start = time.perf_counter()
            report = module.ingest_online_retail(
                args.case_file,
                "bench",
                loader=args.case_loader,
                fit_recs=fit_recommender if args.recs else None,
            )
            out.append(
                {
                    "run": label,
                    "wall": round(time.perf_counter() - start, 1),
                    "rows": report.rows,
                    "written": report.events_written,
                    "customers": report.customers,
                    "facts": report.memory_facts,
                    "facts_new": report.memory_facts_new,
                    "seconds": report.seconds,
                }
            )
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps({"runs": out, "peak_mb": round(peak)}))
    finally:
        if admin is not None:
            from sqlalchemy import text

            from genpersona.db.engine import dispose_engines

            dispose_engines()
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def build_home(home: Path, embedder: str) -> None:
    os.environ.update(
        GENPERSONA_HOME=str(home),
        GENPERSONA_EMBEDDER=embedder,
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
    )
    from genpersona.data.ingest_online_retail import ingest_online_retail
    from genpersona.recs.store import fit_recommender

    start = time.perf_counter()
    report = ingest_online_retail(UCI, "giftloft", fit_recs=fit_recommender)
    print(f"built {home} in {time.perf_counter() - start:.0f} s: {report.seconds}")


def show(file_label: str, backend: str, loader: str, result: dict, load: str) -> None:
    for run in result["runs"]:
        sec = run["seconds"]
        load_s = sum(sec.get(k, 0.0) for k in LOAD_STEPS)
        write_s = sec.get("write_events", 0.0)
        n = run["rows"]
        rate = f"{n / load_s:,.0f}" if load_s else "-"
        wrate = f"{run['written'] / write_s:,.0f}" if write_s and run["written"] else "-"
        print(
            f"{file_label:<6} {backend:<8} {loader:<5} {run['run']:<6} rows {n:>9,} written "
            f"{run['written']:>9,} | event load {load_s:7.1f} s = {rate:>7} events/s | write "
            f"{write_s:6.1f} s = {wrate:>7} events/s | total {run['wall']:7.1f} s | "
            f"peak {result['peak_mb']:,} MB | load avg {load}"
        )
        rest = {k: v for k, v in sec.items() if k not in LOAD_STEPS}
        print("       stages (s): " + ", ".join(f"{k} {v}" for k, v in rest.items()))
        print(
            f"       customers {run['customers']:,} facts {run['facts']:,} (new {run['facts_new']:,})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--files", default="uci,synth")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--loaders", default="bulk,rows", help="rows is run on the UCI file only")
    parser.add_argument("--synth-events", type=int, default=5_000_000)
    parser.add_argument("--synth-customers", type=int, default=50_000)
    parser.add_argument("--embedder", default=None, choices=["fake", "minilm"], help="default fake")
    parser.add_argument("--vectors", default="memory", choices=["memory", "chroma"])
    parser.add_argument("--rerun", action="store_true", help="also time an idempotent re-run")
    parser.add_argument("--recs", action="store_true", help="also fit the recommender")
    parser.add_argument(
        "--skip-derive",
        action="store_true",
        help="do not build profiles and facts (times the load)",
    )
    parser.add_argument("--pg-url", default=os.environ.get("GENPERSONA_TEST_PG_URL", PG_DEFAULT))
    parser.add_argument("--case-file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--case-backend", help=argparse.SUPPRESS)
    parser.add_argument("--case-loader", help=argparse.SUPPRESS)
    parser.add_argument(
        "--home", type=Path, help="instead: build a real UCI home there (MiniLM, Chroma, recs)"
    )
    args = parser.parse_args()
    home_embedder, args.embedder = args.embedder or "minilm", args.embedder or "fake"
    if args.case_file:
        run_case(args)
        return
    if args.home:  # bench/context.py builds its real home this way
        build_home(args.home, home_embedder)
        return
    files: list[tuple[str, Path]] = []
    for name in args.files.split(","):
        if name == "uci":
            if not UCI.exists():
                print(f"skipped uci: {UCI} is absent (see ../shared/data/README.md)")
                continue
            files.append(("uci", UCI))
        elif name == "synth":
            sys.path.insert(0, str(Path(__file__).parent))
            from synth_retail import ensure

            files.append(("synth", ensure(args.synth_events, args.synth_customers, seed=7)))
    print(
        f"embedder {args.embedder}, vectors {args.vectors}, derive "
        f"{'skipped' if args.skip_derive else 'run'}; event load = "
        f"{' + '.join(LOAD_STEPS)}; rates are file rows / seconds"
    )
    for label, path in files:
        for backend in args.backends.split(","):
            for loader in args.loaders.split(","):
                if loader == "rows" and label != "uci":
                    continue
                cmd = [
                    sys.executable, __file__, "--case-file", str(path), "--case-backend", backend,
                    "--case-loader", loader, "--embedder", args.embedder, "--vectors", args.vectors,
                    "--pg-url", args.pg_url, *(["--rerun"] if args.rerun else []),
                    *(["--recs"] if args.recs else []),
                    *(["--skip-derive"] if args.skip_derive else []),
                ]  # fmt: skip
                done = subprocess.run(cmd, capture_output=True, text=True, check=False)
                if done.returncode != 0:
                    print(f"{label} {backend} {loader}: FAILED\n{done.stderr[-2000:]}")
                    continue
                show(
                    label,
                    backend,
                    loader,
                    json.loads(done.stdout.strip().splitlines()[-1]),
                    load_average(),
                )


if __name__ == "__main__":
    main()
