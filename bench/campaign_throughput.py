"""Campaign throughput against a GPU-like backend: current runner vs the batched one.

    python bench/campaign_throughput.py [--customers 2000] [--baseline-customers 60]
        [--scenarios 200:64,200:20] [--skip-pg] [--embedder minilm]

A subject-line campaign (n=3, real guard, the chosen embedder) over real UCI customers
(the home ``bench/ingest.py`` builds, copied so nothing accumulates), against
``bench/stub_openai.py`` run as a separate process at each (latency ms : in-flight)
scenario, on SQLite and on PostgreSQL (the same rows copied into a fresh database).

Printed per database and scenario: drafts/s of the batched runner, next to the stub's
ideal (in-flight / latency) and to the current one-by-one runner measured in the same
run on ``--baseline-customers`` customers (it runs at a few drafts/s, so 2,000 of them
would take many minutes; its rate does not depend on the campaign's size). Then the
CPU milliseconds per draft by stage (thread CPU time, summed over threads) and the
whole process's CPU per draft, which is everything that is ours (the stub's own CPU
is in its own process). The load average is printed at start and end: on a shared
machine, figures move with it.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REAL_HOME = Path("/tmp/gp-throughput/real")
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BRIEF = "Christmas gifts and decorations for the festive season"


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.1f} {five:.1f} {fifteen:.1f} on {os.cpu_count()} cores"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Stub:
    """``bench/stub_openai.py`` in its own process (its CPU is not ours)."""

    def __init__(self, latency_ms: float, in_flight: int) -> None:
        self.latency_ms, self.in_flight, self.port = latency_ms, in_flight, free_port()

    @property
    def ideal(self) -> float:
        return self.in_flight / (self.latency_ms / 1000)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> Stub:
        script = Path(__file__).with_name("stub_openai.py")
        self.proc = subprocess.Popen(
            [sys.executable, str(script), "--latency-ms", str(self.latency_ms),
             "--max-in-flight", str(self.in_flight), "--port", str(self.port)],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.1)
        raise SystemExit("the stub server did not start")

    def __exit__(self, *_: object) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def configure(home: Path, db_url: str | None, stub: Stub | None, embedder: str) -> None:
    from genpersona.context.retrieval import clear_context_caches
    from genpersona.db.engine import dispose_engines
    from genpersona.llm.factory import clear_llm_cache
    from genpersona.settings import get_settings

    os.environ["GENPERSONA_HOME"] = str(home)
    os.environ["GENPERSONA_EMBEDDER"] = embedder
    os.environ["GENPERSONA_LLM_PROMPT_STYLE"] = (
        "chat"  # main's completion plan has 5 stops; OpenAI allows 4
    )
    if db_url:
        os.environ["GENPERSONA_DATABASE_URL"] = db_url
    else:
        os.environ.pop("GENPERSONA_DATABASE_URL", None)
    if stub:
        os.environ["GENPERSONA_LLM"] = "openai:stub"
        os.environ["GENPERSONA_OPENAI_BASE_URL"] = stub.url
        os.environ["GENPERSONA_LOCAL_PARALLEL"] = "3"  # the current runner's n candidates at once
    get_settings.cache_clear()
    dispose_engines()
    clear_llm_cache()
    clear_context_caches()


def copy_to_postgres(sqlite_home: Path, pg_admin_url: str) -> str:
    """A fresh PostgreSQL database holding the same rows as the SQLite home."""
    from sqlalchemy import create_engine, insert, select, text

    from genpersona.campaigns import tables as _c  # noqa: F401  (registers tables)
    from genpersona.data import tables as _d  # noqa: F401
    from genpersona.db.base import Base
    from genpersona.db.engine import make_engine
    from genpersona.db.migrate import upgrade
    from genpersona.delivery import tables as _dl  # noqa: F401
    from genpersona.learning import tables as _l  # noqa: F401
    from genpersona.review import tables as _r  # noqa: F401

    name = "gp_bench_throughput"
    admin = create_engine(pg_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = pg_admin_url.rsplit("/", 1)[0] + f"/{name}"
    src = make_engine(f"sqlite:///{sqlite_home / 'genpersona.db'}")
    dst = make_engine(url)
    upgrade(dst)
    with src.connect() as s, dst.begin() as d:
        for table in Base.metadata.sorted_tables:
            rows = [dict(r._mapping) for r in s.execute(select(table))]
            for start in range(0, len(rows), 5000):
                d.execute(insert(table), rows[start : start + 5000])
            if rows and "id" in table.c:
                d.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                               f"(SELECT max(id) FROM {table.name}))"))  # fmt: skip
    src.dispose()
    dst.dispose()
    return url


def run_once(runner: str, customers: int, name: str, cpu: Any) -> dict[str, float]:
    from genpersona.campaigns.batch_runner import run_campaign_batched
    from genpersona.campaigns.runner import run_campaign
    from genpersona.campaigns.segments import Segment
    from genpersona.embeddings.factory import clear_cached_vectors

    clear_cached_vectors()  # each runner starts cold: no vectors left by the previous one
    segment = Segment(limit=customers)
    usage0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    if runner == "batched":
        report = run_campaign_batched("giftloft", "subject_line", segment, BRIEF, name, 3, cpu=cpu)
    else:
        report = run_campaign("giftloft", "subject_line", segment, BRIEF, name, 3)
    wall = time.perf_counter() - t0
    usage1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu_s = (usage1.ru_utime - usage0.ru_utime) + (usage1.ru_stime - usage0.ru_stime)
    done = max(1, report.generated)
    return {
        "generated": report.generated,
        "failed": report.failed,
        "wall": wall,
        "rate": report.generated / wall,
        "cpu_ms": cpu_s / done * 1000,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=2000)
    ap.add_argument("--baseline-customers", type=int, default=60)
    ap.add_argument("--scenarios", default="200:64,200:20")
    ap.add_argument("--real-home", type=Path, default=REAL_HOME)
    ap.add_argument("--pg-url", default=os.environ.get("GENPERSONA_TEST_PG_URL", PG_URL))
    ap.add_argument("--skip-pg", action="store_true")
    ap.add_argument("--skip-baseline", action="store_true")
    ap.add_argument("--embedder", default="minilm")
    ap.add_argument("--scoring-embedder", default=None, help="e.g. static (model2vec)")
    ap.add_argument("--static-dir", default="/tmp/gp-throughput/m2v-minilm")
    args = ap.parse_args()
    if args.scoring_embedder:
        os.environ["GENPERSONA_SCORING_EMBEDDER"] = args.scoring_embedder
        os.environ["GENPERSONA_STATIC_EMBEDDER_DIR"] = args.static_dir
    print(f"== campaign throughput: {args.customers} customers, subject_line n=3, "
          f"embedder {args.embedder}, scoring {args.scoring_embedder or args.embedder}; {load()}")  # fmt: skip
    if not (args.real_home / "genpersona.db").exists():
        raise SystemExit(
            f"build the real home first: python bench/ingest.py --home {args.real_home}"
        )

    from genpersona.agent.batch import StageCpu

    work = Path(tempfile.mkdtemp(prefix="gp-bench-throughput-"))
    home = work / "home"
    shutil.copytree(args.real_home, home)
    dbs: list[tuple[str, str | None]] = [("sqlite", None)]
    if not args.skip_pg:
        configure(home, None, None, args.embedder)
        dbs.append(("postgresql", copy_to_postgres(home, args.pg_url)))
    scenarios = [tuple(float(x) for x in s.split(":")) for s in args.scenarios.split(",")]
    rows: list[str] = []
    stages: dict[str, StageCpu] = {}
    for db, url in dbs:
        for latency, in_flight in scenarios:
            with Stub(latency, int(in_flight)) as stub:
                configure(home, url, stub, args.embedder)
                tag = f"{db}-{int(latency)}-{int(in_flight)}"
                run_once("batched", 20, f"warm-{tag}", StageCpu())  # model load, caches
                cpu = StageCpu()
                new = run_once("batched", args.customers, f"new-{tag}", cpu)
                stages[tag] = cpu
                old = None
                if not args.skip_baseline:
                    old = run_once("current", args.baseline_customers, f"old-{tag}", None)
            ideal = stub.ideal / 1  # requests/s; one request per draft (n choices at once)
            line = (f"{db:10s} stub {latency:.0f} ms x {in_flight:.0f} (ideal {ideal:.0f}/s): "
                    f"batched {new['rate']:6.1f} drafts/s ({new['rate'] / ideal:5.1%} of ideal, "
                    f"{new['generated']:.0f} drafts, {new['failed']:.0f} failed, "
                    f"CPU {new['cpu_ms']:.1f} ms/draft)")  # fmt: skip
            if old:
                line += (f" | current {old['rate']:5.2f} drafts/s on {old['generated']:.0f} "
                         f"(CPU {old['cpu_ms']:.1f} ms/draft) -> x{new['rate'] / max(old['rate'], 1e-9):.0f}")  # fmt: skip
            print(line, flush=True)
            rows.append(line)
    print("== CPU ms per draft by stage (batched runner, thread CPU summed over threads)")
    for tag, cpu in stages.items():
        n = args.customers
        parts = ", ".join(f"{k} {v / n * 1000:.2f}" for k, v in sorted(cpu.seconds.items()))
        print(f"   {tag}: {parts}; sum {sum(cpu.seconds.values()) / n * 1000:.2f}")
    print(f"== end; {load()}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
