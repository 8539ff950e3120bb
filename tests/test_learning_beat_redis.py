"""The learning beat entry's task through a real Redis broker and a real Celery worker.

The worker is started on ``genpersona.worker``, the documented Celery app (the campaign
beat's app plus the learning entry), the test sends the entry's task as beat would, twice (two beats, or a
restarted one), and both runs must store allocations for every seeded campaign.
Skipped unless GENPERSONA_TEST_REDIS_URL is set.
"""

# ruff: noqa: F811  (the redis_env fixture imported from the campaign beat test is an argument)
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from test_campaign_beat_redis import redis_env  # noqa: F401 - fixture
from test_campaign_distributed import start_worker, stop, wait_for_worker
from test_learning_update import _seed_campaign

from genpersona.campaigns.tasks import make_celery_app
from genpersona.db.engine import session_scope
from genpersona.learning.beat import LEARN_TASK
from genpersona.learning.tables import AllocationRow
from genpersona.settings import Settings

pytestmark = pytest.mark.slow


def test_the_beat_task_updates_every_campaign_on_a_real_worker(
    redis_env: Settings, tmp_path: Path
) -> None:
    _seed_campaign(n_customers=90, campaign="xmas")
    _seed_campaign(n_customers=90, campaign="spring", seed=1)
    log = tmp_path / "worker.log"
    proc = start_worker(redis_env, log, app="genpersona.worker")
    try:
        wait_for_worker(redis_env, proc, log)
        client = make_celery_app(redis_env)
        results = [
            client.send_task(LEARN_TASK, queue=redis_env.celery_queue).get(timeout=120)
            for _ in range(2)
        ]
    finally:
        stop(proc)
    assert [sorted(a["campaign"] for a in r["giftloft"]["allocations"]) for r in results] == [
        ["spring", "xmas"],
        ["spring", "xmas"],
    ], log.read_text()[-3000:]
    with session_scope(redis_env) as s:
        versions = sorted(r.version for r in s.scalars(select(AllocationRow)))
    assert versions == [1, 2, 3, 4]
