"""Send-time: shrinkage toward the population, local zones, DST, the send window."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from genpersona.delivery.sendtime import (
    SendTimeProfile,
    best_hour,
    circular_distance,
    clamp_to_window,
    next_send_at,
    population_prior,
    profile_for,
)

TUE_10 = 24 + 10
THU_19 = 3 * 24 + 19


def test_thin_history_leans_on_the_population_and_rich_history_wins() -> None:
    prior = population_prior([THU_19] * 50 + [TUE_10] * 5)
    assert best_hour([], prior)[0] == THU_19  # nothing known: the population's best hour
    how, own = best_hour([TUE_10] * 6, prior)
    assert how == TUE_10 and own > 0.7
    assert circular_distance(0, 167) == 1 and circular_distance(10, 100) == 78


def test_order_times_are_read_in_the_customer_zone() -> None:
    prior = population_prior([])
    # 09:00 UTC in July is 11:00 in Paris
    orders = [datetime(2026, 7, d, 9, tzinfo=UTC) for d in (7, 14, 21)]  # Tuesdays
    assert profile_for(orders, prior, "Europe/Paris").hour_of_week == 24 + 11


def test_next_send_keeps_the_local_hour_across_dst() -> None:
    profile = SendTimeProfile(
        hour_of_week=TUE_10, orders=3, own_weight=0.6, timezone="Europe/London"
    )
    before = next_send_at(profile, datetime(2026, 3, 20, tzinfo=UTC))  # Tue 24 March, GMT
    after = next_send_at(profile, datetime(2026, 3, 30, tzinfo=UTC))  # Tue 31 March, BST
    assert (before.day, before.hour) == (24, 10)
    assert (after.day, after.hour) == (31, 9)
    assert after.astimezone(ZoneInfo("Europe/London")).hour == 10


def test_sends_outside_the_window_move_to_its_next_start() -> None:
    late = datetime(2026, 12, 1, 23, tzinfo=UTC)  # 23:00 London
    moved = clamp_to_window(late, "Europe/London", 8, 21)
    assert (moved.day, moved.hour) == (2, 8)
    early = datetime(2026, 12, 1, 3, tzinfo=UTC)
    assert clamp_to_window(early, "Europe/London", 8, 21).hour == 8
    inside = datetime(2026, 12, 1, 12, tzinfo=UTC)
    assert clamp_to_window(inside, "Europe/London", 8, 21) == inside
