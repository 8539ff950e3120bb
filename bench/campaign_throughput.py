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
is in its own process; it is printed too, as it shares this machine's cores). The load average is printed at start and end: on a shared
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REAL_HOME = Path("/tmp/gp-throughput/real")
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BRIEF = "Christmas gifts and decorations for the festive season"
#: the prompt style the backend is spoken to in (``--prompt-style``)
PROMPT_STYLE = ["completion"]
#: the stub's 1,000-line vocabulary instead of its 27,000 lines (``--canned-lines``)
CANNED_LINES = [False]
#: read each run's drafts back for their scores (``--quality``), after the clock stops
QUALITY = [False]


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.1f} {five:.1f} {fifteen:.1f} on {os.cpu_count()} cores"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def proc_cpu_s(pids: list[int]) -> float:
    """User + system CPU seconds of processes (and their reaped children) so far (/proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])
    return total / tick


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
             "--max-in-flight", str(self.in_flight), "--port", str(self.port),
             *(["--canned-lines"] if CANNED_LINES[0] else [])],
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

    def cpu_s(self) -> float:
        """User + system CPU seconds of the stub process so far (/proc): not ours, but on
        this machine it shares the two cores with us, so the bench prints it per draft."""
        return proc_cpu_s([self.proc.pid])

    def served(self) -> int:
        """Requests the stub has answered so far (its ``/stats``)."""
        return int(self.stats()["served"])

    def stats(self) -> dict[str, Any]:
        import httpx

        return dict(httpx.get(f"http://127.0.0.1:{self.port}/stats").json())

    def slot_s(self, since: dict[str, Any]) -> float:
        """Mean seconds a slot was held per request since ``since`` (a ``stats()``): the
        latency, plus however late the stub's event loop woke up."""
        now = self.stats()
        served = now["served"] - since["served"]
        return (now["held_s"] - since["held_s"]) / served if served else 0.0

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
    os.environ["GENPERSONA_LLM_PROMPT_STYLE"] = PROMPT_STYLE[0]
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
    upgrade(src)  # the copied home may predate the newest migrations: both sides at head
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


class Workers:
    """``n`` Celery workers (``--pool solo``: one process each, the production worker
    shape) on a private queue of the local Redis, with this process's GENPERSONA_* env."""

    def __init__(self, n: int, broker: str) -> None:
        import uuid

        self.n, self.broker, self.queue = n, broker, f"gp-bench-{uuid.uuid4().hex[:8]}"

    def __enter__(self) -> Workers:
        os.environ["GENPERSONA_CELERY_BROKER_URL"] = self.broker
        os.environ["GENPERSONA_CELERY_QUEUE"] = self.queue
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
        self.procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "genpersona.campaigns.tasks",
                    "worker",
                    "--pool",
                    "solo",
                    "-Q",
                    self.queue,
                    "-n",
                    f"w{i}-{self.queue}@%h",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                    "-l",
                    "warning",
                ],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )  # fmt: skip
            for i in range(self.n)
        ]
        from genpersona.campaigns.tasks import consumers_of, make_celery_app
        from genpersona.settings import get_settings

        get_settings.cache_clear()
        client = make_celery_app(get_settings())
        deadline = time.monotonic() + 120
        while len(consumers_of(client, self.queue)) < self.n:  # every worker consumes
            if time.monotonic() > deadline:
                raise SystemExit(f"{self.n} Celery workers did not start within 120 s")
            time.sleep(1)
        return self

    def cpu_s(self) -> float:
        """User + system CPU seconds of the worker processes so far (/proc)."""
        return proc_cpu_s([proc.pid for proc in self.procs])

    def __exit__(self, *_: object) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            proc.wait(timeout=30)
        os.environ.pop("GENPERSONA_CELERY_BROKER_URL", None)
        os.environ.pop("GENPERSONA_CELERY_QUEUE", None)


def run_distributed(workers: Workers, customers: int, name: str, stub: Stub) -> dict[str, Any]:
    """The Celery path (``campaign run --distributed``): drafts/s from dispatch to the last
    result, CPU per draft of the workers plus this dispatching process."""
    from genpersona.campaigns.batch_runner import run_campaign_batched
    from genpersona.campaigns.segments import Segment
    from genpersona.settings import get_settings

    get_settings.cache_clear()
    stats0, wcpu0, scpu0 = stub.stats(), workers.cpu_s(), stub.cpu_s()
    served0 = stats0["served"]
    usage0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    report = run_campaign_batched("giftloft", "subject_line", Segment(limit=customers), BRIEF,
                                  name, 3, distributed=True)  # fmt: skip
    wall = time.perf_counter() - t0
    usage1 = resource.getrusage(resource.RUSAGE_SELF)
    own = (usage1.ru_utime - usage0.ru_utime) + (usage1.ru_stime - usage0.ru_stime)
    done = max(1, report.generated)
    return {
        "generated": report.generated,
        "failed": report.failed,
        "why": failures(report),
        "wall": wall,
        "rate": report.generated / wall,
        "cpu_ms": (workers.cpu_s() - wcpu0 + own) / done * 1000,
        "requests_per_draft": (stub.served() - served0) / done,
        "stub_cpu_ms": (stub.cpu_s() - scpu0) / done * 1000,
        "slot_ms": stub.slot_s(stats0) * 1000,
    }


def failures(report: Any) -> str:
    """Why customers failed, each distinct error once with its count (a failed customer is
    a result, not an exception, so the rate alone would hide it)."""
    from collections import Counter

    seen = Counter(f"{r.error}: {r.message}"[:200] for r in report.results if r.status == "failed")
    return "; ".join(f"{n} x {why}" for why, n in seen.most_common(3))


def draft_quality(draft_ids: list[int]) -> dict[str, float]:
    """What the reviewer gets, read back from the queue (after the clock stops): the mean
    total score of each draft's top variant and of all its shown variants, the variants
    shown per draft, the candidates not re-asked per draft (``trace.not_reasked``), and of
    the shown variants their mean copy-quality score (the classifier's, a per-line figure;
    the total has terms relative to the other candidates) and the share written by a re-ask."""
    from genpersona.review.queue import get_draft

    top, shown, count, spared, quality, reasked = [], [], [], [], [], []
    for i in draft_ids:
        d = get_draft(i)
        scores = [v.scores.total for v in d.variants]
        top.append(scores[0])
        shown.extend(scores)
        count.append(len(scores))
        spared.append(d.trace.not_reasked)
        quality.extend(v.scores.quality for v in d.variants)
        reasked.extend(v.attempts > 1 for v in d.variants)
    n = max(1, len(draft_ids))
    return {
        "top_score": sum(top) / n,
        "shown_score": sum(shown) / max(1, len(shown)),
        "shown": sum(count) / n,
        "not_reasked": sum(spared) / n,
        "shown_quality": sum(quality) / max(1, len(quality)),
        "shown_reasked": sum(reasked) / max(1, len(reasked)),
    }


def run_once(
    runner: str, customers: int, name: str, cpu: Any, stub: Stub | None = None
) -> dict[str, Any]:
    from genpersona.campaigns.batch_runner import run_campaign_batched
    from genpersona.campaigns.runner import run_campaign
    from genpersona.campaigns.segments import Segment
    from genpersona.embeddings.factory import clear_cached_vectors

    clear_cached_vectors()  # each runner starts cold: no vectors left by the previous one
    segment = Segment(limit=customers)
    stats0 = stub.stats() if stub else {"served": 0}
    served0 = stats0["served"]
    scpu0 = stub.cpu_s() if stub else 0.0
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
    requests = ((stub.served() - served0) / done) if stub else 0.0
    return {
        "generated": report.generated,
        "failed": report.failed,
        "why": failures(report),
        "wall": wall,
        "rate": report.generated / wall,
        "cpu_ms": cpu_s / done * 1000,
        "requests_per_draft": requests,
        "stub_cpu_ms": ((stub.cpu_s() - scpu0) / done * 1000) if stub else 0.0,
        "slot_ms": stub.slot_s(stats0) * 1000 if stub else 0.0,
        **(draft_quality(report.draft_ids) if QUALITY[0] else {}),
    }


def forget_campaign(name: str) -> None:
    """Expire a run's pending drafts, so an A/B run under the same campaign name writes the
    same requests with the same seeds (a pending draft would be skipped): what differs
    between the two is the switch, not the candidates' luck. (Nothing is deleted: the
    audit log is append-only.)"""
    from sqlalchemy import update

    from genpersona.db.engine import session_scope
    from genpersona.review.tables import DraftRow

    with session_scope() as s:
        s.execute(
            update(DraftRow)
            .where(DraftRow.campaign == name, DraftRow.status == "pending")
            .values(status="expired")
        )


def with_env(assignments: list[str]) -> Callable[[], None]:
    """Set ``NAME=value`` pairs for an A/B run; returns the undo."""
    saved = {}
    for a in assignments:
        name, value = a.split("=", 1)
        saved[name] = os.environ.get(name)
        os.environ[name] = value

    def undo() -> None:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

    return undo


def fmt(label: str, got: dict[str, Any], ideal: float) -> str:
    line = (f"{label} {got['rate']:6.1f} drafts/s ({got['rate'] / ideal:5.1%} of ideal, "
            f"{got['generated']:.0f} drafts, {got['failed']:.0f} failed, "
            f"CPU {got['cpu_ms']:.1f} ms/draft, {got['requests_per_draft']:.2f} requests/draft, "
            f"stub CPU {got['stub_cpu_ms']:.1f} ms/draft, slot held {got['slot_ms']:.0f} ms")  # fmt: skip
    if got.get("why"):
        line += f"; failed: {got['why']}"
    if "top_score" in got:
        line += (f"; top score {got['top_score']:.4f}, shown {got['shown_score']:.4f}, "
                 f"{got['shown']:.2f} shown, {got['not_reasked']:.2f} not re-asked; shown: "
                 f"copy quality {got['shown_quality']:.4f}, {got['shown_reasked']:.1%} from a "
                 "re-ask")  # fmt: skip
    return line + ") "


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=2000)
    ap.add_argument("--baseline-customers", type=int, default=60)
    ap.add_argument("--scenarios", default="200:64,200:20")
    ap.add_argument("--real-home", type=Path, default=REAL_HOME)
    ap.add_argument("--pg-url", default=os.environ.get("GENPERSONA_TEST_PG_URL", PG_URL))
    ap.add_argument("--skip-pg", action="store_true")
    ap.add_argument("--skip-sqlite", action="store_true", help="PostgreSQL only")
    ap.add_argument("--skip-baseline", action="store_true")
    ap.add_argument("--embedder", default="minilm")
    ap.add_argument("--prompt-style", default="completion", choices=["completion", "chat"])
    ap.add_argument("--scoring-embedder", default=None, help="e.g. static (model2vec)")
    ap.add_argument("--static-dir", default="/tmp/gp-throughput/m2v-minilm")
    ap.add_argument("--canned-lines", action="store_true", help="the stub's 1,000 lines")
    ap.add_argument(
        "--workers",
        type=int,
        default=0,
        help="also run the Celery path (--distributed) with this many workers",
    )
    ap.add_argument("--only-workers", action="store_true", help="skip the in-process runner")
    ap.add_argument("--broker", default="redis://127.0.0.1:6379/15")
    ap.add_argument(
        "--ab",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="also run the batched runner with these settings (repeatable), printed beside",
    )
    ap.add_argument("--quality", action="store_true", help="print the drafts' mean scores")
    args = ap.parse_args()
    PROMPT_STYLE[0] = args.prompt_style
    CANNED_LINES[0] = args.canned_lines
    QUALITY[0] = args.quality
    if args.scoring_embedder:
        os.environ["GENPERSONA_SCORING_EMBEDDER"] = args.scoring_embedder
        os.environ["GENPERSONA_STATIC_EMBEDDER_DIR"] = args.static_dir
    print(f"== campaign throughput: {args.customers} customers, subject_line n=3, "
          f"embedder {args.embedder}, scoring {args.scoring_embedder or args.embedder}, "
          f"{args.prompt_style} prompts, {os.environ.get('GENPERSONA_COPY_CANDIDATES', '6')} "
          f"candidates per draft, stub lines {'canned (1,000)' if args.canned_lines else 'varied (27,000)'}; "
          f"{load()}")  # fmt: skip
    from genpersona.settings import get_settings

    knobs = get_settings()
    print(f"   switches: fast_read {knobs.fast_read}, embed_cache_size {knobs.embed_cache_size}, "
          f"copy_quality_vectors {knobs.copy_quality_vectors}, batch {knobs.campaign_batch_size}, "
          f"concurrency {knobs.campaign_concurrency}, batches per Celery task "
          f"{knobs.campaign_task_batches}")  # fmt: skip
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
    if args.skip_sqlite:
        dbs = [d for d in dbs if d[0] != "sqlite"]
    scenarios = [tuple(float(x) for x in s.split(":")) for s in args.scenarios.split(",")]
    rows: list[str] = []
    stages: dict[str, StageCpu] = {}
    for db, url in dbs:
        for latency, in_flight in scenarios:
            with Stub(latency, int(in_flight)) as stub:
                configure(home, url, stub, args.embedder)
                tag = f"{db}-{int(latency)}-{int(in_flight)}"
                new = old = dist = ab = None
                if not args.only_workers:
                    run_once("batched", 20, f"warm-{tag}", StageCpu())  # model load, caches
                    cpu = StageCpu()
                    new = run_once("batched", args.customers, f"new-{tag}", cpu, stub)
                    stages[tag] = cpu
                    if args.ab:  # same campaign name, so the same requests and seeds
                        forget_campaign(f"new-{tag}")
                        undo = with_env(args.ab)
                        configure(home, url, stub, args.embedder)
                        run_once("batched", 20, f"warm-ab-{tag}", StageCpu())
                        cpu = StageCpu()
                        ab = run_once("batched", args.customers, f"new-{tag}", cpu, stub)
                        stages[f"{tag} [{' '.join(args.ab)}]"] = cpu
                        undo()
                        configure(home, url, stub, args.embedder)
                if not args.skip_baseline:
                    old = run_once("current", args.baseline_customers, f"old-{tag}", None, stub)
                if args.workers:
                    with Workers(args.workers, args.broker) as workers:
                        # one batch per worker first: each loads its models and warms up
                        size = knobs.campaign_batch_size * knobs.campaign_task_batches
                        run_distributed(workers, size * args.workers, f"warm-celery-{tag}", stub)
                        dist = run_distributed(workers, args.customers, f"celery-{tag}", stub)
            ideal = stub.ideal / 1  # requests/s; one request per draft (n choices at once)
            line = f"{db:10s} stub {latency:.0f} ms x {in_flight:.0f} (ideal {ideal:.0f}/s): "
            labels = (("batched", new), (f"| batched [{' '.join(args.ab)}]", ab),
                      (f"| celery x{args.workers}", dist))  # fmt: skip
            for label, got in labels:
                if got:
                    line += fmt(label, got, ideal)
            if old and new:
                line += (f" | current {old['rate']:5.2f} drafts/s on {old['generated']:.0f} "
                         f"(CPU {old['cpu_ms']:.1f} ms/draft, {old['requests_per_draft']:.2f} requests/draft) -> x{new['rate'] / max(old['rate'], 1e-9):.0f}")  # fmt: skip
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
