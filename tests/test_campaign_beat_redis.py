"""Scheduled campaigns through a real Redis broker and a real Celery worker subprocess.

Beat's own timer fires every 60 s; to keep the test bounded the test sends the
beat entry's ``tick`` task itself, once per simulated minute over ten minutes
(and every tick twice, as two beats would), and the worker runs the tick and the
``fire_period`` tasks it sends. Exactly one run per period must come out.
Skipped unless GENPERSONA_TEST_REDIS_URL is set.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from campaign_support import seed_brand
from sqlalchemy import func, select
from test_campaign_distributed import delete_queue, start_worker, stop, wait_for_worker

from genpersona.campaigns import automation
from genpersona.campaigns.beat import TICK_TASK
from genpersona.campaigns.definition_store import apply_definitions
from genpersona.campaigns.definitions import load_path
from genpersona.campaigns.tasks import make_celery_app
from genpersona.db.engine import session_scope
from genpersona.review.tables import DraftRow
from genpersona.settings import Settings, get_settings

pytestmark = pytest.mark.slow

EVERY_MINUTE = """
name: minutely
brand: giftloft
brief: Minute picks
segment: {country: France}
schedule: {cron: "* * * * *", timezone: Europe/Paris}
"""


@pytest.fixture
def redis_env(monkeypatch: pytest.MonkeyPatch, isolated_home: Path) -> Iterator[Settings]:
    url = os.environ.get("GENPERSONA_TEST_REDIS_URL")
    if not url:
        pytest.skip("GENPERSONA_TEST_REDIS_URL is not set; it names a Redis broker for this test")
    monkeypatch.setenv("GENPERSONA_CELERY_BROKER_URL", url)
    monkeypatch.setenv("GENPERSONA_CELERY_QUEUE", f"gp-beat-{uuid.uuid4().hex[:12]}")
    monkeypatch.setenv("GENPERSONA_CELERY_TASK_TIMEOUT_S", "120")
    get_settings.cache_clear()
    settings = get_settings()
    yield settings
    delete_queue(settings)


def test_ten_minutes_of_ticks_make_one_run_per_period(redis_env: Settings, tmp_path: Path) -> None:
    seed_brand(redis_env)
    folder = tmp_path / "campaigns"
    folder.mkdir()
    (folder / "m.yaml").write_text(EVERY_MINUTE)
    apply_definitions(load_path(folder), settings=redis_env)
    log = tmp_path / "worker.log"
    proc = start_worker(redis_env, log, app="genpersona.campaigns.beat")
    try:
        wait_for_worker(redis_env, proc, log)
        client = make_celery_app(redis_env)
        start = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
        results = []
        for minute in range(10):
            now = (start + timedelta(minutes=minute)).isoformat()
            for _ in range(2):  # two beats (or a restarted one) tick the same minute
                results.append(
                    client.send_task(TICK_TASK, args=[now], queue=redis_env.celery_queue)
                )
        for r in results:
            r.get(timeout=120)
        expected = 10 + 4  # each tick looks 5 minutes back: 08:56..09:09
        deadline = time.monotonic() + 180
        runs: list[dict[str, object]] = []
        while time.monotonic() < deadline:
            runs = automation.period_runs("giftloft", "minutely", redis_env)
            if len(runs) >= expected and all(r["status"] != "running" for r in runs):
                break
            time.sleep(1)
    finally:
        stop(proc)
    periods = [r["period"] for r in runs]
    assert len(periods) == len(set(periods)) == expected, log.read_text()[-3000:]
    with session_scope(redis_env) as session:
        drafts = session.scalar(select(func.count()).select_from(DraftRow))
    assert drafts == expected  # one French customer (c4), one draft per period, no doubles
