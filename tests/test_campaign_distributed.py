"""A distributed campaign through a real broker and a real Celery worker subprocess.

Runs against Redis (GENPERSONA_TEST_REDIS_URL) and RabbitMQ (GENPERSONA_TEST_AMQP_URL),
which `.ci/run` sets; each is skipped with the reason when its URL is unset. Each run
uses its own queue name, so concurrent runs on one broker never take each other's tasks.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from campaign_support import seed_brand

from genpersona.campaigns.runner import run_campaign
from genpersona.campaigns.segments import Segment
from genpersona.campaigns.store import list_runs
from genpersona.campaigns.tasks import consumers_of, make_celery_app
from genpersona.errors import TaskEngineUnavailable
from genpersona.review.queue import get_draft
from genpersona.settings import FORBID_ENV, Settings, get_settings

BROKERS = {
    "redis": "GENPERSONA_TEST_REDIS_URL",
    "rabbitmq": "GENPERSONA_TEST_AMQP_URL",
}

pytestmark = pytest.mark.slow


@pytest.fixture(params=sorted(BROKERS))
def broker_env(request, monkeypatch: pytest.MonkeyPatch, isolated_home: Path) -> Iterator[Settings]:  # type: ignore[no-untyped-def]
    var = BROKERS[request.param]
    url = os.environ.get(var)
    if not url:
        pytest.skip(f"{var} is not set; it names a {request.param} broker for this test")
    queue = f"gp-test-{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv("GENPERSONA_CELERY_BROKER_URL", url)
    monkeypatch.setenv("GENPERSONA_CELERY_QUEUE", queue)
    monkeypatch.setenv("GENPERSONA_CELERY_TASK_TIMEOUT_S", "120")
    get_settings.cache_clear()
    settings = get_settings()
    yield settings
    delete_queue(settings)


def delete_queue(settings: Settings) -> None:
    """Leave the broker as we found it: drop this run's queue and its bindings."""
    from kombu import Queue

    with make_celery_app(settings).connection_for_write() as conn:
        Queue(settings.celery_queue).bind(conn.default_channel).delete()
    url = settings.celery_broker_url or ""
    if url.startswith("redis"):
        import redis

        client = redis.Redis.from_url(url)
        keys = list(client.scan_iter(match=f"*{settings.celery_queue}*"))
        if keys:
            client.delete(*keys)
        client.close()


def start_worker(
    settings: Settings, log: Path, app: str = "genpersona.campaigns.tasks", name: str = "w"
) -> subprocess.Popen[bytes]:
    env = {**os.environ}  # carries GENPERSONA_HOME, the fake LLM/embedder and the broker
    cmd = [
        sys.executable, "-m", "celery", "-A", app, "worker",
        "--pool=solo", "--concurrency=1", "-Q", settings.celery_queue,
        "-n", f"{name}@{settings.celery_queue}", "--without-gossip", "--without-mingle",
        "-l", "info",
    ]  # fmt: skip
    with log.open("wb") as out:
        return subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)


def wait_for_worker(settings: Settings, proc: subprocess.Popen[bytes], log: Path) -> None:
    client = make_celery_app(settings)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the worker exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        if consumers_of(client, settings.celery_queue, timeout=1.0):
            return
    pytest.fail(f"the worker never started consuming:\n{log.read_text()[-3000:]}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def test_no_worker_on_the_queue_is_a_clear_error(broker_env: Settings) -> None:
    seed_brand(broker_env)
    with pytest.raises(TaskEngineUnavailable) as err:
        run_campaign("giftloft", "subject_line", Segment(limit=1), "x", "nobody", distributed=True)
    assert broker_env.celery_queue in err.value.message


def test_distributed_campaign_lands_drafts(broker_env: Settings, tmp_path: Path) -> None:
    seed_brand(broker_env)
    log = tmp_path / "worker.log"
    proc = start_worker(broker_env, log)
    try:
        wait_for_worker(broker_env, proc, log)
        segment = Segment(country="United Kingdom")
        seen: list[str] = []
        report = run_campaign(
            "giftloft", "subject_line", segment, "Christmas gifts", "xmas-dist", n=2,
            distributed=True, on_result=lambda r: seen.append(r.customer_id),
        )  # fmt: skip
        assert report.distributed and report.targeted == 4
        assert report.failed == 0, report.results
        assert report.generated == 4 and sorted(seen) == ["c1", "c2", "c3", "c5"]
        for draft_id in report.draft_ids:
            draft = get_draft(draft_id)
            assert draft.campaign == "xmas-dist" and draft.status == "pending"
        again = run_campaign(
            "giftloft", "subject_line", segment, "Christmas gifts", "xmas-dist", n=2,
            distributed=True,
        )  # fmt: skip
        assert (again.generated, again.skipped) == (0, 4)
        assert sorted(again.draft_ids) == sorted(report.draft_ids)
        assert list_runs()[0].distributed is True
    finally:
        stop(proc)


def test_two_workers_one_killed_mid_batch_loses_and_duplicates_nothing(
    broker_env: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Worker A is SIGKILLed while its batch waits on a slow model; the broker hands the
    unacknowledged batch to worker B, which skips what A had stored and writes the rest."""
    import signal

    from sqlalchemy import func, select

    from bench.stub_openai import StubServer
    from genpersona.campaigns.tasks import BATCH_TASK_NAME
    from genpersona.db.engine import session_scope
    from genpersona.review.tables import DraftRow

    seed_brand(broker_env)
    with StubServer(latency_s=1.0, max_in_flight=8) as stub:
        monkeypatch.delenv(FORBID_ENV)  # the stub is no real model: it answers canned lines
        monkeypatch.setenv("GENPERSONA_LLM", "openai:stub")
        monkeypatch.setenv("GENPERSONA_OPENAI_BASE_URL", stub.base_url)
        monkeypatch.setenv("GENPERSONA_LLM_PROMPT_STYLE", "chat")
        monkeypatch.setenv("GENPERSONA_CAMPAIGN_BATCH_SIZE", "2")
        monkeypatch.setenv("GENPERSONA_CAMPAIGN_TASK_BATCHES", "1")  # a task is one batch of 2
        monkeypatch.setenv("GENPERSONA_CAMPAIGN_CONCURRENCY", "1")  # one customer at a time
        # one candidate per shown variant keeps a batch well under the visibility timeout, so
        # only the killed worker's batch is handed out again (a slow batch would be re-sent
        # while its worker still runs it)
        monkeypatch.setenv("GENPERSONA_COPY_CANDIDATES", "2")
        monkeypatch.setenv("GENPERSONA_CELERY_VISIBILITY_TIMEOUT_S", "20")
        get_settings.cache_clear()
        settings = get_settings()
        logs = [tmp_path / "a.log", tmp_path / "b.log"]
        a = start_worker(settings, logs[0], name="a")
        b = start_worker(settings, logs[1], name="b")
        killed = threading.Event()

        def kill_a_mid_batch() -> None:
            # a solo-pool worker answers no remote control while it works: watch its log
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                if f"{BATCH_TASK_NAME}[" in logs[0].read_text(errors="replace"):
                    time.sleep(1.5)  # its first customer stored, the second at the model
                    a.send_signal(signal.SIGKILL)
                    killed.set()
                    return
                time.sleep(0.05)

        try:
            wait_for_worker(settings, a, logs[0])
            wait_for_worker(settings, b, logs[1])
            deadline = time.monotonic() + 60
            while len(consumers_of(make_celery_app(settings), settings.celery_queue)) < 2:
                assert time.monotonic() < deadline, "both workers never consumed"
            killer = threading.Thread(target=kill_a_mid_batch)
            killer.start()
            report = run_campaign(
                "giftloft", "subject_line", Segment(), "Christmas gifts", "xmas-kill", n=2,
                distributed=True,
            )  # fmt: skip
            killer.join()
        finally:
            stop(a)
            stop(b)
        assert killed.is_set(), "worker A never took a batch"
        assert a.returncode == -signal.SIGKILL
        assert report.failed == 0, report.results
        assert report.generated + report.skipped == report.targeted == 5
        with session_scope(settings) as s:
            rows = s.execute(
                select(DraftRow.customer_id, func.count())
                .where(DraftRow.campaign == "xmas-kill")
                .group_by(DraftRow.customer_id)
            ).all()
        assert {str(c): int(n) for c, n in rows} == {f"c{i}": 1 for i in range(1, 6)}
