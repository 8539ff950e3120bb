"""Scheduler measure: real Celery beat + a real worker on Redis, an every-minute campaign.

    python bench/scheduler.py [--minutes 10] [--customers 30] [--redis URL] [--home DIR]
        [--kill-after 7] [--stale-s 180] [--no-kill] [--out results.json]

What runs (all real processes, nothing simulated):

- a scratch home with ``--customers`` French customers of ``giftloft`` (the demo guide),
  the fake LLM and fake embedder (``GENPERSONA_LLM=fake``: this measures the scheduling,
  not the copy);
- ``genpersona campaign apply`` of a definition with ``schedule: {cron: "* * * * *"}``;
- ``celery -A genpersona.worker worker --pool=solo`` and ``celery -A genpersona.worker
  beat``: beat's own timer sends the ``campaigns-tick`` entry every 60 s, the worker runs
  the tick (which looks 5 minutes back and sends one ``fire_period`` per due minute) and
  the fires;
- once, after ``--kill-after`` periods have finished, the worker is SIGKILLed while a
  period's run is part-way (some drafts stored, not all), then started again. The
  period's claim stays ``running``; it is resumed when a later fire of the same period
  (the next ticks' look-back, or Redis re-delivering the unacknowledged task) finds the
  claim without a heartbeat for ``GENPERSONA_CAMPAIGN_CLAIM_STALE_S`` (``--stale-s``,
  default 180 as in the settings; the Redis visibility timeout is set 30 s above it).

After ``--minutes``, beat is stopped, the worker drains the queue and stops, and the
script prints, from the database: one line per period (claim status, campaign runs,
drafts, distinct customers), missing minutes between the first and last period,
duplicate drafts, and drafts per (customer, period). Exit 0 when every minute between
the first and last period has exactly one claim, no claim is left running and no
customer has two drafts in a period; 1 otherwise.

Redis: ``--redis URL`` as given; else the highest-numbered empty database on the host
of GENPERSONA_TEST_REDIS_URL (else 127.0.0.1:6379). At the end the run's queue is
deleted with the stored results of the tasks its workers received (ids from their logs);
nothing else is touched, since another process may start using the database meanwhile.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BRAND = "giftloft"
NAME = "minutely"
DEFINITION = f"""
name: {NAME}
brand: {BRAND}
brief: Minute picks
kind: subject_line
n: 2
review: {{mode: all}}
segment: {{country: France}}
schedule: {{cron: "* * * * *", timezone: Europe/Paris}}
"""
#: seconds to wait for the worker to drain the queue after beat stops
DRAIN_S = 300.0


def free_redis_url(near: str | None = None) -> str:
    """The highest-numbered database with no keys (ours alone for the run), on the host
    and port of ``near`` (a redis:// URL), else 127.0.0.1:6379."""
    from urllib.parse import urlparse

    import redis

    parsed = urlparse(near or "redis://127.0.0.1:6379/0")
    host, port = parsed.hostname or "127.0.0.1", parsed.port or 6379

    client = redis.Redis(host=host, port=port, socket_connect_timeout=2)
    try:
        count = int(client.config_get("databases").get("databases", 16))
        for db in range(count - 1, 0, -1):
            if not redis.Redis(host=host, port=port, db=db).dbsize():
                return f"redis://{host}:{port}/{db}"
    finally:
        client.close()
    raise SystemExit(f"no empty Redis database on {host}:{port}; pass --redis URL")


def seed(customers: int) -> None:
    """One brand, ``customers`` French customers with a profile (the segment), 2 others."""
    from genpersona.data.tables import Brand, Customer, CustomerProfile
    from genpersona.db.engine import session_scope

    as_of = datetime(2011, 12, 9)
    with session_scope() as session:
        brand = Brand(slug=BRAND, name="Giftloft")
        session.add(brand)
        session.flush()
        people = [(f"fr{i:03d}", "France") for i in range(customers)]
        people += [("uk001", "United Kingdom"), ("uk002", "United Kingdom")]
        for ext, country in people:
            customer = Customer(
                brand_id=brand.id,
                external_id=ext,
                country=country,
                consent_personalization=True,
                consent_email=True,
                consent_chat_memory=False,
            )
            session.add(customer)
            session.flush()
            session.add(
                CustomerProfile(
                    customer_id=customer.id,
                    brand_id=brand.id,
                    as_of=as_of,
                    recency_days=10,
                    frequency=4,
                    monetary=200.0,
                    favourite_themes=["christmas"],
                )
            )


class Processes:
    """The worker and beat subprocesses, with their logs."""

    def __init__(self, env: dict[str, str], home: Path, queue: str) -> None:
        self.env = env
        self.home = home
        self.queue = queue
        self.worker: subprocess.Popen[bytes] | None = None
        self.beat: subprocess.Popen[bytes] | None = None
        self.worker_logs: list[Path] = []
        self.beat_log = home / "beat.log"

    def _celery(self, *args: str, log: Path) -> subprocess.Popen[bytes]:
        cmd = [sys.executable, "-m", "celery", "-A", "genpersona.worker", *args]
        with log.open("wb") as out:
            return subprocess.Popen(cmd, env=self.env, stdout=out, stderr=subprocess.STDOUT)

    def start_worker(self, timeout: float = 120.0) -> float:
        log = self.home / f"worker-{len(self.worker_logs) + 1}.log"
        self.worker_logs.append(log)
        t0 = time.monotonic()
        self.worker = self._celery(
            "worker", "--pool=solo", "--concurrency=1", "-Q", self.queue,
            "-n", f"w{len(self.worker_logs)}@{self.queue}", "--without-gossip",
            "--without-mingle", "-l", "info", log=log,
        )  # fmt: skip
        while time.monotonic() - t0 < timeout:
            if self.worker.poll() is not None:
                raise SystemExit(f"the worker exited:\n{log.read_text()[-3000:]}")
            if " ready." in log.read_text(errors="replace"):
                return time.monotonic() - t0
            time.sleep(0.2)
        raise SystemExit(f"the worker did not get ready in {timeout:.0f} s:\n{log.read_text()}")

    def start_beat(self, timeout: float = 120.0) -> None:
        """Start beat and wait until its scheduler runs (its 60 s timer starts there)."""
        self.beat = self._celery(
            "beat", "-s", str(self.home / "celerybeat-schedule"), "-l", "info", log=self.beat_log
        )
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if self.beat.poll() is not None:
                raise SystemExit(f"beat exited:\n{self.beat_log.read_text()[-3000:]}")
            if "beat: Starting..." in self.beat_log.read_text(errors="replace"):
                return
            time.sleep(0.2)
        raise SystemExit(f"beat did not start in {timeout:.0f} s:\n{self.beat_log.read_text()}")

    def kill_worker(self) -> None:
        assert self.worker is not None
        os.kill(self.worker.pid, signal.SIGKILL)
        self.worker.wait(timeout=30)

    @staticmethod
    def stop(proc: subprocess.Popen[bytes] | None) -> None:
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)

    def stop_all(self) -> None:
        self.stop(self.beat)
        self.stop(self.worker)


def _state() -> dict[str, dict[str, Any]]:
    """Per period: claim status, drafts and distinct customers so far."""
    from sqlalchemy import func, select

    from genpersona.campaigns.automation import period_campaign
    from genpersona.campaigns.automation_tables import CampaignPeriodRunRow
    from genpersona.campaigns.tables import CampaignRunRow
    from genpersona.db.engine import session_scope
    from genpersona.review.tables import DraftRow

    with session_scope() as session:
        claims = session.execute(
            select(CampaignPeriodRunRow.period, CampaignPeriodRunRow.status).where(
                CampaignPeriodRunRow.brand == BRAND, CampaignPeriodRunRow.name == NAME
            )
        ).all()
        drafts = dict(
            session.execute(
                select(DraftRow.campaign, func.count())
                .where(DraftRow.brand == BRAND)
                .group_by(DraftRow.campaign)
            ).all()
        )
        customers = dict(
            session.execute(
                select(DraftRow.campaign, func.count(func.distinct(DraftRow.customer_id)))
                .where(DraftRow.brand == BRAND)
                .group_by(DraftRow.campaign)
            ).all()
        )
        runs: Counter[str] = Counter()
        run_status: dict[str, list[str]] = {}
        for name, status in session.execute(
            select(CampaignRunRow.name, CampaignRunRow.status)
            .where(CampaignRunRow.brand == BRAND)
            .order_by(CampaignRunRow.id)
        ):
            runs[name] += 1
            run_status.setdefault(name, []).append(status)
    out: dict[str, dict[str, Any]] = {}
    claim_count = Counter(p for p, _s in claims)
    for period, status in claims:
        campaign = period_campaign(NAME, period)
        out[period] = {
            "campaign": campaign,
            "claims": claim_count[period],
            "status": status,
            "campaign_runs": runs.get(campaign, 0),
            "run_statuses": run_status.get(campaign, []),
            "drafts": int(drafts.get(campaign, 0)),
            "customers": int(customers.get(campaign, 0)),
        }
    return out


def _fire_outcomes(logs: list[Path]) -> Counter[str]:
    """``fire_period`` results the workers logged (ran / duplicate / empty)."""
    outcomes: Counter[str] = Counter()
    pattern = re.compile(
        r"genpersona\.campaigns\.fire_period\[[^\]]+\] succeeded.*'outcome': '(\w+)'"
    )
    for log in logs:
        if log.exists():
            outcomes.update(pattern.findall(log.read_text(errors="replace")))
    return outcomes


def _beat_ticks(log: Path) -> list[str]:
    pattern = re.compile(
        r"\[([0-9-]+ [0-9:]+),\d+: INFO/MainProcess\] Scheduler: Sending due task campaigns-tick"
    )
    return pattern.findall(log.read_text(errors="replace")) if log.exists() else []


def _minutes_between(first: str, last: str) -> list[str]:
    a, b = datetime.fromisoformat(first), datetime.fromisoformat(last)
    out = []
    while a <= b:
        out.append(a.isoformat(timespec="minutes"))
        a += timedelta(minutes=1)
    return out


def _queue_length(url: str, queue: str) -> int:
    import redis

    client = redis.Redis.from_url(url)
    try:
        return int(client.llen(queue))
    finally:
        client.close()


_TASK_ID = re.compile(r"Task [\w.]+\[([0-9a-f-]{36})\] received")


def _cleanup_redis(url: str, queue: str, logs: list[Path]) -> int:
    """Delete what this run put in Redis and can prove is its own: the run's queue keys
    and the stored results of the tasks its workers received (ids from their logs).
    Nothing else: another process may start using the same database meanwhile."""
    import redis

    ids = set()
    for log in logs:
        if log.exists():
            ids.update(_TASK_ID.findall(log.read_text(errors="replace")))
    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"*{queue}*"))
        keys += [f"celery-task-meta-{i}" for i in sorted(ids)]
        removed = int(client.delete(*keys)) if keys else 0
        # a killed or stopped worker's unacknowledged messages for this queue (kombu keeps
        # them in the shared ``unacked`` hash, [message, exchange, routing key]) and its
        # entries in the shared pidbox binding: only the members that name this run's queue
        for tag, raw in client.hscan_iter("unacked"):
            try:
                routing_key = json.loads(raw)[2]
            except (ValueError, IndexError, TypeError):
                continue
            if routing_key == queue:
                removed += int(client.hdel("unacked", tag))
                client.zrem("unacked_index", tag)
        for member in client.smembers("_kombu.binding.celery.pidbox"):
            if queue.encode() in member:
                removed += int(client.srem("_kombu.binding.celery.pidbox", member))
        if not client.exists("_kombu.binding.celery.pidbox"):  # no pidbox binding left at all
            removed += int(client.zrem("_kombu.binding_deadlines", "celery.pidbox"))
        return removed
    finally:
        client.close()


def run(
    minutes: float,
    customers: int,
    redis_url: str,
    home: Path,
    *,
    kill_after: int | None = 7,
    stale_s: float = 180.0,
    ticks: int | None = None,
    say: Any = print,
) -> dict[str, Any]:
    """Run beat for ``minutes`` (or, with ``ticks``, until beat has sent that many
    ``campaigns-tick``, ``minutes`` being the upper bound); see the module docstring."""
    queue = f"gp-sched-{uuid.uuid4().hex[:10]}"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
        "GENPERSONA_HOME": str(home),
        "GENPERSONA_LLM": "fake",
        "GENPERSONA_EMBEDDER": "fake",
        "GENPERSONA_CELERY_BROKER_URL": redis_url,
        "GENPERSONA_CELERY_QUEUE": queue,
        "GENPERSONA_CAMPAIGN_CLAIM_STALE_S": str(stale_s),
        "GENPERSONA_CELERY_VISIBILITY_TIMEOUT_S": str(stale_s + 30),
    }
    env.pop("GENPERSONA_DATABASE_URL", None)
    env.pop("GENPERSONA_CONFIG", None)
    from genpersona.settings import get_settings

    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)  # this process reads the same home as the workers
    get_settings.cache_clear()
    try:
        result = _run(env, queue, minutes, customers, redis_url, home, kill_after, ticks, say)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        get_settings.cache_clear()
    result["kill_requested"] = kill_after is not None
    result["redis"] = redis_url
    result["stale_s"] = stale_s
    return result


def _run(
    env: dict[str, str],
    queue: str,
    minutes: float,
    customers: int,
    redis_url: str,
    home: Path,
    kill_after: int | None,
    ticks: int | None,
    say: Any,
) -> dict[str, Any]:

    seed(customers)
    definition = home / "minutely.yaml"
    definition.write_text(DEFINITION)
    applied = subprocess.run(
        [sys.executable, "-m", "genpersona.cli.main", "campaign", "apply", str(definition)],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if applied.returncode:
        raise SystemExit(f"campaign apply failed:\n{applied.stdout}\n{applied.stderr}")
    say(f"applied: {applied.stdout.strip()}")
    procs = Processes(env, home, queue)
    kill: dict[str, Any] = {}
    try:
        ready = procs.start_worker()
        say(f"worker ready in {ready:.1f} s; starting beat for {minutes:g} min (queue {queue})")
        procs.start_beat()
        started = utcnow_iso()
        t_start = time.monotonic()
        end = t_start + minutes * 60
        while time.monotonic() < end:
            if ticks is not None and len(_beat_ticks(procs.beat_log)) >= ticks:
                time.sleep(2.0)  # let the worker take the last tick off the queue
                break
            if kill_after is not None and not kill:
                state = _state()
                done = sum(1 for s in state.values() if s["status"] != "running")
                part_way = [
                    (p, s)
                    for p, s in state.items()
                    if s["status"] == "running" and 0 < s["drafts"] < customers
                ]
                if done >= kill_after and part_way:
                    period, s = part_way[0]
                    procs.kill_worker()
                    kill = {
                        "at": utcnow_iso(),
                        "period": period,
                        "drafts_at_kill": _state()[period]["drafts"],
                        "of": customers,
                    }
                    say(f"SIGKILL worker during period {period} ({kill['drafts_at_kill']} of "
                        f"{customers} drafts stored)")  # fmt: skip
                    time.sleep(3)
                    ready = procs.start_worker()
                    kill["restarted_at"] = utcnow_iso()
                    say(f"worker restarted (ready in {ready:.1f} s)")
                    continue
                time.sleep(0.1)
            else:
                time.sleep(1.0)
        procs.stop(procs.beat)
        stopped = utcnow_iso()
        say(f"beat stopped after {(time.monotonic() - t_start) / 60:.1f} min; draining the queue")
        deadline = time.monotonic() + DRAIN_S
        while time.monotonic() < deadline:
            state = _state()
            if not any(s["status"] == "running" for s in state.values()) and not _queue_length(
                redis_url, queue
            ):
                time.sleep(3)  # a task taken off the queue may still be running
                if not _queue_length(redis_url, queue) and not any(
                    s["status"] == "running" for s in _state().values()
                ):
                    break
            time.sleep(1.0)
    finally:
        procs.stop_all()
        _cleanup_redis(redis_url, queue, procs.worker_logs)
    return report(procs, kill, started, stopped, customers, minutes)


def utcnow_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def report(
    procs: Processes,
    kill: dict[str, Any],
    started: str,
    stopped: str,
    customers: int,
    minutes: float,
) -> dict[str, Any]:
    from sqlalchemy import func, select

    from genpersona.db.engine import session_scope
    from genpersona.review.tables import DraftRow

    state = _state()
    periods = sorted(state)
    expected = _minutes_between(periods[0], periods[-1]) if periods else []
    with session_scope() as session:
        per_pair = Counter(
            n
            for _c, _k, n in session.execute(
                select(DraftRow.campaign, DraftRow.customer_id, func.count())
                .where(DraftRow.brand == BRAND)
                .group_by(DraftRow.campaign, DraftRow.customer_id)
            )
        )
    duplicates = sum(s["drafts"] - s["customers"] for s in state.values())
    return {
        "minutes": minutes,
        "customers_in_segment": customers,
        "beat_started": started,
        "beat_stopped": stopped,
        "beat_ticks_sent": len(_beat_ticks(procs.beat_log)),
        "worker_starts": len(procs.worker_logs),
        "kill": kill,
        "fire_outcomes": dict(_fire_outcomes(procs.worker_logs)),
        "periods": {p: state[p] for p in periods},
        "period_count": len(periods),
        "missing_minutes": [m for m in expected if m not in state],
        "periods_with_more_than_one_claim": [p for p in periods if state[p]["claims"] != 1],
        "claims_left_running": [p for p in periods if state[p]["status"] == "running"],
        "periods_short_of_customers": [p for p in periods if state[p]["customers"] != customers],
        "duplicate_drafts": duplicates,
        "drafts_per_customer_period": {str(k): v for k, v in sorted(per_pair.items())},
    }


def print_report(r: dict[str, Any]) -> bool:
    print(
        f"\nbeat ran {r['beat_started']} .. {r['beat_stopped']} ({r['minutes']:g} min), "
        f"{r['beat_ticks_sent']} campaigns-tick sent by beat; worker started "
        f"{r['worker_starts']} time(s)"
    )
    if r["kill"]:
        k = r["kill"]
        print(
            f"killed: SIGKILL at {k['at']} during period {k['period']} "
            f"({k['drafts_at_kill']} of {k['of']} drafts stored), restarted {k['restarted_at']}"
        )
    print(f"fire_period outcomes logged by the workers: {r['fire_outcomes']}")
    print(f"{'period':28s} {'claims':>6s} {'status':>8s} {'runs':>4s} {'drafts':>6s} {'cust':>5s}")
    for p, s in r["periods"].items():
        mark = "  <- killed here, resumed" if r["kill"] and p == r["kill"]["period"] else ""
        print(
            f"{p:28s} {s['claims']:6d} {s['status']:>8s} {s['campaign_runs']:4d} "
            f"{s['drafts']:6d} {s['customers']:5d}  {','.join(s['run_statuses'])}{mark}"
        )
    if r["kill_requested"] and not r["kill"]:
        print("no run was caught part-way, so the worker was never killed (raise --customers)")
    ok = not (
        (r["kill_requested"] and not r["kill"])
        or r["missing_minutes"]
        or r["periods_with_more_than_one_claim"]
        or r["claims_left_running"]
        or r["duplicate_drafts"]
        or set(r["drafts_per_customer_period"]) - {"1"}
        or r["periods_short_of_customers"]
    )
    print(
        f"periods: {r['period_count']}; missing minutes between first and last: "
        f"{len(r['missing_minutes'])}; periods with != 1 claim: "
        f"{len(r['periods_with_more_than_one_claim'])}; claims left running: "
        f"{len(r['claims_left_running'])}; periods short of customers: "
        f"{len(r['periods_short_of_customers'])}"
    )
    print(
        f"duplicate drafts: {r['duplicate_drafts']}; drafts per (customer, period): "
        f"{r['drafts_per_customer_period']}  -> {'OK' if ok else 'FAILED'}"
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--customers", type=int, default=30)
    parser.add_argument("--redis", default=None)
    parser.add_argument("--home", type=Path, default=None)
    parser.add_argument(
        "--kill-after",
        type=int,
        default=7,
        help="finished periods before the kill (7: past the first tick's five look-back "
        "periods, so the killed period is a fresh one that the next ticks re-fire)",
    )
    parser.add_argument("--no-kill", action="store_true")
    parser.add_argument("--stale-s", type=float, default=180.0)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    import redis

    try:
        url = args.redis or free_redis_url(os.environ.get("GENPERSONA_TEST_REDIS_URL"))
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError as exc:
        print(f"skipped: no Redis server to run beat and the worker on ({exc}); pass --redis URL")
        return 0
    home = args.home or Path(tempfile.mkdtemp(prefix="gp-scheduler-"))
    home.mkdir(parents=True, exist_ok=True)
    print(f"home {home}, redis {url}, load average {os.getloadavg()}")
    result = run(
        args.minutes,
        args.customers,
        url,
        home,
        kill_after=None if args.no_kill else args.kill_after,
        stale_s=args.stale_s,
    )
    ok = print_report(result)
    print(f"load average {os.getloadavg()}")
    if args.out:
        args.out.write_text(json.dumps(result, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
