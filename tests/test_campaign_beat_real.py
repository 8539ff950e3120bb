"""Real Celery beat and a real worker on Redis, an every-minute campaign, a SIGKILLed worker.

Unlike test_campaign_beat_redis.py (which sends the tick itself), beat's own timer
sends ``campaigns-tick`` here: two ticks, about 60 s apart, so about 125 s plus the
drain. The worker is SIGKILLed while a period's run is part-way and started again;
the claim goes stale 20 s after its last heartbeat (``GENPERSONA_CAMPAIGN_CLAIM_STALE_S``)
and the second tick's look-back fires that period again, which resumes it. The whole procedure is
``bench/scheduler.py`` (whose 10-minute run is in docs/experiments/). Skipped unless
GENPERSONA_TEST_REDIS_URL names a Redis server (an empty database on it is used).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def test_real_beat_fires_each_minute_once_and_a_killed_worker_resumes(
    isolated_home: Path,
) -> None:
    url = os.environ.get("GENPERSONA_TEST_REDIS_URL")
    if not url:
        pytest.skip("GENPERSONA_TEST_REDIS_URL is not set; it names a Redis server for this test")
    from bench.scheduler import free_redis_url, run

    said: list[str] = []
    result = run(
        2.5,  # at most; beat ticks about 60 s and 120 s after its scheduler starts
        30,
        free_redis_url(url),
        isolated_home,
        kill_after=1,
        stale_s=20.0,
        ticks=2,
        say=said.append,
    )
    periods = result["periods"]
    assert result["beat_ticks_sent"] == 2, said
    # the first tick looks 5 minutes back (5 periods), the second adds its minute
    assert len(periods) >= 6, periods
    assert result["missing_minutes"] == []
    assert all(p["claims"] == 1 for p in periods.values())
    assert result["claims_left_running"] == []
    assert result["duplicate_drafts"] == 0
    assert result["drafts_per_customer_period"] == {"1": 30 * len(periods)}
    kill = result["kill"]
    assert kill, f"no run was caught part-way: {said}"
    assert 0 < kill["drafts_at_kill"] < 30
    killed = periods[kill["period"]]
    assert killed["status"] == "completed" and killed["customers"] == 30
    assert killed["run_statuses"] == ["interrupted", "completed"]  # the dead run, the resume
    assert result["worker_starts"] == 2
    # the second tick re-fires the 4 minutes it shares with the first: the killed one
    # resumes, the 3 finished ones are refused as duplicates
    assert result["fire_outcomes"].get("duplicate", 0) >= 3
