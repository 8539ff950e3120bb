"""Send-time: shrinkage toward the population, local zones, DST, the send window."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from genpersona.delivery.sendtime import (
    EVIDENCE_WEIGHTS,
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
    moved = clamp_to_window(late, "Europe/London", time(8), time(21))
    assert (moved.day, moved.hour) == (2, 8)
    early = datetime(2026, 12, 1, 3, tzinfo=UTC)
    assert clamp_to_window(early, "Europe/London", time(8), time(21)).hour == 8
    inside = datetime(2026, 12, 1, 12, tzinfo=UTC)
    assert clamp_to_window(inside, "Europe/London", time(8), time(21)) == inside


# --- opens and clicks as evidence ---------------------------------------------------------
def test_an_open_or_a_click_counts_less_than_an_order() -> None:
    prior = population_prior([])
    weights = [EVIDENCE_WEIGHTS["order"]] + [EVIDENCE_WEIGHTS["clicked"]] * 3
    how, own = best_hour([TUE_10] + [THU_19] * 3, prior, own_weights=weights)
    assert how == THU_19  # three clicks (1.5 orders) outweigh one order
    how, _ = best_hour([TUE_10, THU_19], prior, own_weights=[1.0, EVIDENCE_WEIGHTS["clicked"]])
    assert how == TUE_10
    # shrinkage uses the weighted total: 1 order + 1.5 in clicks against 2 pseudo-orders
    assert own == pytest.approx(2.5 / 4.5)
    monday = datetime(2026, 12, 7, 9, tzinfo=UTC)
    p = profile_for([], prior, "UTC", engagement=[(monday, "opened"), (monday, "sent")])
    assert (p.orders, p.engagements, p.hour_of_week) == (0, 1, 9)  # "sent" is not evidence


def _outcome(customer: str, kind: str, ts: datetime, campaign: str, machine: bool = False) -> None:
    from genpersona.campaigns.tables import OutcomeRow
    from genpersona.db.engine import session_scope

    with session_scope() as session:
        session.add(
            OutcomeRow(
                brand="giftloft",
                campaign=campaign,
                customer_id=customer,
                type=kind,
                ts=ts.replace(tzinfo=None),
                machine_open=machine,
            )
        )


def test_human_opens_and_clicks_move_send_at_but_stay_shrunk_toward_the_brand() -> None:
    from campaign_support import seed_brand

    from genpersona.customers.records import record_event
    from genpersona.db.engine import get_engine
    from genpersona.delivery.send_times import send_time_for, send_times

    seed_brand()
    # the brand's orders: c1 buys on Tuesdays at 10:00 London (GMT in December)
    for day in (1, 8, 15, 22):
        record_event("giftloft", "c1", "purchase", ts=datetime(2026, 12, day, 10), stock_code="X")
    engine = get_engine()
    after = datetime(2026, 12, 28, tzinfo=UTC)  # a Monday

    def best(customer: str) -> tuple[int, int]:
        when = send_time_for(engine, "giftloft", customer, after)
        assert when is not None
        assert send_times(engine, "giftloft", [customer], after)[customer] == when  # export path
        return when.weekday(), when.hour

    assert best("c3") == (1, 10)  # c3 never ordered: the brand's hour
    # machine opens (proxy prefetch) say nothing about c3, however many
    for i in range(20):
        _outcome("c3", "opened", datetime(2026, 12, 2, 12), f"m{i}", machine=True)
    # one message clicked five times is one click (0.5 of an order), not five
    for minute in range(5):
        _outcome("c3", "clicked", datetime(2026, 12, 3, 19, minute), "thu3")
    assert best("c3") == (1, 10)
    # three messages clicked on Thursdays 19:00 (1.5 orders' worth) do not beat the prior
    for day in (10, 17):
        _outcome("c3", "clicked", datetime(2026, 12, day, 19), f"thu{day}")
    assert best("c3") == (1, 10)
    # five (2.5 orders' worth) do
    for day in (19, 26):
        _outcome("c3", "clicked", datetime(2026, 11, day, 19), f"thu-nov{day}")
    assert best("c3") == (3, 19)
    assert best("c1") == (1, 10)  # another customer's clicks do not move c1
