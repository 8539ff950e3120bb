"""A distributed campaign through a real broker and a real Celery worker subprocess.

Runs against Redis (GENPERSONA_TEST_REDIS_URL) and RabbitMQ (GENPERSONA_TEST_AMQP_URL),
which `.ci/run` sets; each is skipped with the reason when its URL is unset. Each run
uses its own queue name, so concurrent runs on one broker never take each other's tasks.
"""

from __future__ import annotations

import os
import subprocess
import sys
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
from genpersona.settings import Settings, get_settings

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
    settings: Settings, log: Path, app: str = "genpersona.campaigns.tasks"
) -> subprocess.Popen[bytes]:
    env = {**os.environ}  # carries GENPERSONA_HOME, the fake LLM/embedder and the broker
    cmd = [
        sys.executable, "-m", "celery", "-A", app, "worker",
        "--pool=solo", "--concurrency=1", "-Q", settings.celery_queue,
        "-n", f"{settings.celery_queue}@%h", "--without-gossip", "--without-mingle",
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
