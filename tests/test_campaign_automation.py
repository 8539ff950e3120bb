"""Campaign automation: definition files, schedules, triggers, caps, review policy, erasure."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from api_support import make_draft
from campaign_support import seed_brand
from delivery_support import approved
from sqlalchemy import func, select

from genpersona.campaigns import automation, schedule, triggers
from genpersona.campaigns.automation_tables import (
    AutoReviewRow,
    CampaignDefinitionRow,
    TriggerFireRow,
)
from genpersona.campaigns.definition_store import apply_definitions, get_definition
from genpersona.campaigns.definitions import (
    CampaignDefinition,
    ReviewPolicy,
    Schedule,
    load_path,
)
from genpersona.campaigns.review_policy import (
    apply_review_policy,
    judge,
    record_audit_verdict,
)
from genpersona.customers.hooks import RecordedEvent
from genpersona.customers.records import record_event
from genpersona.customers.rights import erase_customer
from genpersona.db.engine import get_engine, session_scope
from genpersona.delivery.caps import CAPPED_REASON, recent_messages
from genpersona.delivery.service import deliver_to_customer
from genpersona.errors import CampaignDefinitionError
from genpersona.review.queue import get_draft, submit_draft
from genpersona.review.tables import AuditRow
from genpersona.settings import get_settings
from genpersona.types.content import ContentRequest, Draft, Scores, Variant, VariantContent
from genpersona.types.violations import Violation

GOOD = """
name: weekly-picks
brand: giftloft
brief: This week's picks
segment: {country: United Kingdom}
schedule: {cron: "0 9 * * MON", timezone: Europe/London}
"""


def _write(folder: Path, name: str, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(body)
    return path


def _count_definitions() -> int:
    with session_scope() as session:
        return int(session.scalar(select(func.count()).select_from(CampaignDefinitionRow)) or 0)


# --- definitions ---------------------------------------------------------------------------
def test_valid_definitions_are_versioned_only_when_changed(tmp_path: Path) -> None:
    path = _write(tmp_path, "weekly.yaml", GOOD)
    first = apply_definitions(load_path(tmp_path))
    again = apply_definitions(load_path(tmp_path))
    assert (first[0].version, first[0].changed) == (1, True)
    assert (again[0].version, again[0].changed) == (1, False)
    path.write_text(GOOD.replace("This week's picks", "New picks"))
    changed = apply_definitions(load_path(path))
    assert (changed[0].version, changed[0].changed) == (2, True)
    assert get_definition("giftloft", "weekly-picks").definition.brief == "New picks"
    assert get_definition("giftloft", "weekly-picks", version=1).definition.brief == (
        "This week's picks"
    )


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        (GOOD.replace("brief: This week's picks\n", ""), "brief", "Field required"),
        (GOOD.replace("0 9 * * MON", "0 25 * * MON"), "schedule.cron", "5-field cron"),
        (GOOD.replace("Europe/London", "Mars/Olympus"), "schedule.timezone", "unknown time zone"),
        (GOOD + "colour: red\n", "colour", "Extra inputs"),
        (GOOD + "trigger: {flow: welcome}\n", "(file)", "exactly one of schedule"),
        (GOOD.replace("{country: United Kingdom}", "{rfm_tier: gold}"), "segment.rfm_tier", ""),
        ("name: [unclosed", "(file)", "not valid YAML"),
    ],
)
def test_malformed_definitions_name_file_and_field_and_store_nothing(
    tmp_path: Path, body: str, field: str, words: str
) -> None:
    _write(tmp_path, "a-good.yaml", GOOD.replace("weekly-picks", "other"))
    bad = _write(tmp_path, "b-bad.yaml", body)
    with pytest.raises(CampaignDefinitionError) as err:
        apply_definitions(load_path(tmp_path))
    assert err.value.data["file"] == str(bad)
    assert err.value.data["field"] == field
    assert words in err.value.message and str(bad) in err.value.message
    assert err.value.fix
    assert _count_definitions() == 0  # the good file in the same folder was not stored either


# --- schedules -----------------------------------------------------------------------------
def test_cron_in_a_time_zone_across_dst() -> None:
    s = Schedule(cron="0 9 * * *", timezone="Europe/London")
    fires = schedule.fires_between(
        s, datetime(2026, 3, 27, 12, tzinfo=UTC), datetime(2026, 3, 31, 12, tzinfo=UTC)
    )
    # 09:00 London every day: 09:00 UTC before the change on 29 March, 08:00 UTC after it
    assert [f.astimezone(UTC).hour for f in fires] == [9, 8, 8, 8]
    assert all(f.astimezone(ZoneInfo("Europe/London")).hour == 9 for f in fires)
    # a fire inside the skipped hour (01:30 on the spring-forward day) still fires once
    night = Schedule(cron="30 1 * * *", timezone="Europe/London")
    spring = schedule.fires_between(
        night, datetime(2026, 3, 28, 12, tzinfo=UTC), datetime(2026, 3, 30, 12, tzinfo=UTC)
    )
    assert len(spring) == 2
    assert len({schedule.period_key(f) for f in spring}) == 2


def _seed_weekly(tmp_path: Path, cron: str = "* * * * *") -> None:
    seed_brand()
    body = GOOD.replace("0 9 * * MON", cron)
    apply_definitions(load_path(_write(tmp_path, "w.yaml", body)))


def _fake_generate(request: ContentRequest) -> Draft:
    return submit_draft(make_draft(request), get_settings())


def test_beat_logic_fires_each_period_once_and_a_duplicate_adds_nothing(tmp_path: Path) -> None:
    """Ten minutes of one-a-minute beat ticks with overlapping windows: one run per period."""
    _seed_weekly(tmp_path)
    stored = get_definition("giftloft", "weekly-picks")
    start = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    fired: list[str] = []
    for minute in range(10):
        now = start + timedelta(minutes=minute)
        for due in schedule.due_fires([stored], now - timedelta(minutes=5), now):
            run = automation.run_definition(stored, period=due.period, generate=_fake_generate)
            if run.outcome == "ran":
                fired.append(due.period)
    assert len(fired) == len(set(fired)) == 14  # 09:00 and the 4 minutes before it, + 9 more
    runs = automation.period_runs("giftloft", "weekly-picks")
    assert len(runs) == 14
    duplicate = automation.run_definition(stored, period=fired[0], generate=_fake_generate)
    assert duplicate.outcome == "duplicate" and duplicate.report is None
    uk = 4  # c1, c2, c3, c5
    with session_scope() as session:
        from genpersona.review.tables import DraftRow

        assert session.scalar(select(func.count()).select_from(DraftRow)) == 14 * uk


# --- triggers ------------------------------------------------------------------------------
FLOW = """
name: browse
brand: giftloft
brief: Still thinking it over?
trigger: {flow: browse_abandonment, wait_hours: 4, debounce_hours: 24}
"""


def _fires() -> list[tuple[str, str, str]]:
    with session_scope() as session:
        return [
            (r.customer_id, r.event_key, r.status)
            for r in session.scalars(select(TriggerFireRow).order_by(TriggerFireRow.id))
        ]


def test_triggers_are_debounced_idempotent_and_cancelled_by_a_purchase(tmp_path: Path) -> None:
    seed_brand()
    apply_definitions(load_path(_write(tmp_path, "f.yaml", FLOW)))
    t0 = datetime(2026, 12, 1, 10)
    view = RecordedEvent("giftloft", "c1", "view", 101, t0, "22423", None)
    assert triggers.on_event(view) == {"browse": "booked"}
    assert triggers.on_event(view) == {"browse": "duplicate"}  # the same event delivered twice
    later = RecordedEvent("giftloft", "c1", "view", 102, t0 + timedelta(hours=1), None, None)
    assert triggers.on_event(later) == {"browse": "debounced"}
    other = RecordedEvent("giftloft", "c3", "view", 103, t0, None, None)
    assert triggers.on_event(other) == {"browse": "booked"}
    assert triggers.process_due(t0 + timedelta(hours=1), generate=_fake_generate) == 0  # not due
    record_event("giftloft", "c3", "purchase", ts=t0 + timedelta(hours=2), stock_code="22423")
    assert triggers.process_due(t0 + timedelta(hours=5), generate=_fake_generate) == 2
    statuses = {(c, s) for c, _k, s in _fires()}
    assert statuses == {("c1", "done"), ("c1", "debounced"), ("c3", "cancelled")}


def test_the_event_write_path_calls_the_registered_hook(tmp_path: Path) -> None:
    seed_brand()
    welcome = FLOW.replace("name: browse", "name: welcome").replace(
        "{flow: browse_abandonment, wait_hours: 4, debounce_hours: 24}", "{flow: welcome}"
    )
    apply_definitions(load_path(_write(tmp_path, "w.yaml", welcome)))
    triggers.install()
    try:
        record_event("giftloft", "c2", "purchase", stock_code="22423", order_id="o1")
        record_event("giftloft", "c2", "purchase", stock_code="85123A", order_id="o2")
    finally:
        from genpersona.customers.hooks import unregister_event_hook

        unregister_event_hook(triggers.HOOK_NAME)
    assert _fires() == [("c2", "order:o1", "pending")]  # only the first purchase welcomes


# --- caps ----------------------------------------------------------------------------------
def test_cap_across_two_campaigns_and_two_channels(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENPERSONA_DELIVERY_FREQUENCY_CAP", "3")
    monkeypatch.setenv("GENPERSONA_DELIVERY_HOLDOUT_SHARE", "0")
    get_settings.cache_clear()
    seed_brand()
    approved("c1", "spring")
    approved("c1", "summer")
    assert not deliver_to_customer("giftloft", "spring", "c1", "email").fallback
    assert not deliver_to_customer("giftloft", "spring", "c1", "web").fallback
    assert not deliver_to_customer("giftloft", "summer", "c1", "email").fallback
    capped = deliver_to_customer("giftloft", "summer", "c1", "web")
    assert capped.fallback and capped.reason == CAPPED_REASON
    assert capped.subject is None and capped.headline is None  # no message at all
    again = deliver_to_customer("giftloft", "summer", "c1", "web")
    assert again.reason == CAPPED_REASON  # the capped decision is logged, so it is stable
    ledger = recent_messages("giftloft", "c1", engine=get_engine())
    assert [(m.campaign, m.channel, m.reason) for m in ledger][0] == (
        "summer",
        "web",
        CAPPED_REASON,
    )
    assert len(ledger) == 4
    approved("c3", "summer")  # another customer is not affected
    assert not deliver_to_customer("giftloft", "summer", "c3", "web").fallback


def test_an_export_skips_a_capped_customer_and_records_why(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import csv

    from genpersona.delivery.export import export_campaign

    monkeypatch.setenv("GENPERSONA_DELIVERY_FREQUENCY_CAP", "2")
    monkeypatch.setenv("GENPERSONA_DELIVERY_HOLDOUT_SHARE", "0")
    get_settings.cache_clear()
    seed_brand()
    for campaign in ("spring", "summer"):  # c1 reaches the cap of 2 through two other campaigns
        approved("c1", campaign)
        assert not deliver_to_customer("giftloft", campaign, "c1", "web").fallback
    approved("c1", "autumn")
    approved("c3", "autumn")  # c3 was sent nothing yet
    out = tmp_path / "autumn.csv"
    report = export_campaign("giftloft", "autumn", "csv", out)
    assert report.skipped == {CAPPED_REASON: 1}
    assert report.rows == 1
    with out.open(newline="") as fh:
        assert [r["customer_id"] for r in csv.DictReader(fh)] == ["c3"]
    ledger = recent_messages("giftloft", "c1", engine=get_engine())
    newest = ledger[0]
    assert (newest.campaign, newest.channel, newest.reason) == ("autumn", "email", CAPPED_REASON)
    assert newest.fallback
    # the capped decision is stable: a second export skips c1 again and logs no second row
    again = export_campaign("giftloft", "autumn", "csv", tmp_path / "again.csv")
    assert again.skipped == {CAPPED_REASON: 1} and again.rows == 1
    assert len(recent_messages("giftloft", "c1", engine=get_engine())) == len(ledger)
    # and the pull endpoint's answer for c1 says the same
    assert deliver_to_customer("giftloft", "autumn", "c1", "email").reason == CAPPED_REASON


# --- review policy -------------------------------------------------------------------------
def _scored(score: float, violations: list[Violation] | None = None) -> Draft:
    return Draft(
        brand="giftloft",
        kind="subject_line",
        customer_id="c1",
        variants=[
            Variant(
                index=0,
                content=VariantContent(subject="Cosy picks"),
                scores=Scores(total=score),
                violations=violations or [],
            )
        ],
        rationale=make_draft(
            ContentRequest(brand="giftloft", kind="subject_line", customer_id="c1", n=1)
        ).rationale,
        idempotency_key="k",
    )


def test_auto_approval_rules() -> None:
    policy = ReviewPolicy(mode="auto", min_score=0.6, min_similarity=0.5)
    assert judge(_scored(0.9), policy, 0.8, paused=False).rule == "all_rules_passed"
    assert judge(_scored(0.5), policy, 0.8, paused=False).rule == "score"
    assert judge(_scored(0.9), policy, 0.3, paused=False).rule == "similarity"
    assert judge(_scored(0.9), policy, None, paused=False).rule == "similarity"  # no exemplar
    warn = [Violation(rule_id="length", severity="warn", message="long")]
    assert judge(_scored(0.9, warn), policy, 0.8, paused=False).rule == "violations"
    claim = Draft.model_validate(
        _scored(0.9).model_dump()
        | {
            "variants": [
                _scored(0.9).variants[0].model_dump(),
                _scored(
                    0.9, [Violation(rule_id="claim.unregistered", severity="block", message="x")]
                )
                .variants[0]
                .model_dump()
                | {"index": 1},
            ]
        }
    )
    assert judge(claim, policy, 0.8, paused=False).rule == "claims"
    assert judge(_scored(0.9), policy, 0.8, paused=True).rule == "paused"


def test_auto_approval_audit_and_automatic_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    seed_brand()
    monkeypatch.setattr("genpersona.campaigns.review_policy._similarity", lambda *_a: 0.9)
    policy = ReviewPolicy(
        mode="auto", min_score=0.5, audit_share=1.0, min_audits=2, pause_rejection_rate=0.4
    )
    ids = []
    for cid, score in (("c1", 0.9), ("c3", 0.9), ("c4", 0.2), ("c5", 0.9)):
        draft = _scored(score).model_copy(
            update={"customer_id": cid, "campaign": "auto", "idempotency_key": f"k{cid}"}
        )
        ids.append(submit_draft(draft).id)
    report = apply_review_policy(ids[:3], policy, "giftloft", "auto")
    assert (report.auto_approved, report.routed, report.audit_sampled) == (2, 1, 2)
    assert report.by_rule == {"all_rules_passed": 2, "score": 1}
    assert get_draft(ids[0]).status == "approved" and get_draft(ids[2]).status == "pending"
    again = apply_review_policy(ids[:3], policy, "giftloft", "auto")  # a resumed run
    assert (again.auto_approved, again.routed) == (0, 0)  # each draft is decided once
    with session_scope() as session:
        audit = [
            (a.actor, a.action, a.payload.get("rule"))
            for a in session.scalars(select(AuditRow).where(AuditRow.actor == "auto:policy-v1"))
        ]
    assert ("auto:policy-v1", "auto_routed", "score") in audit
    assert audit.count(("auto:policy-v1", "auto_approved", "all_rules_passed")) == 2
    assert record_audit_verdict(ids[0], False, "ann", policy) is False  # 1 judged < min_audits
    assert record_audit_verdict(ids[1], True, "ann", policy) is True  # 1/2 rejected > 40%
    paused = apply_review_policy([ids[3]], policy, "giftloft", "auto")
    assert paused.paused and paused.by_rule == {"paused": 1}
    assert get_draft(ids[3]).status == "pending"


# --- erasure -------------------------------------------------------------------------------
def test_erase_removes_ledger_triggers_and_auto_review_rows(tmp_path: Path) -> None:
    seed_brand()
    apply_definitions(load_path(_write(tmp_path, "f.yaml", FLOW)))
    triggers.on_event(RecordedEvent("giftloft", "c1", "view", 7, datetime(2026, 12, 1), None, None))
    approved("c1", "spring")
    deliver_to_customer("giftloft", "spring", "c1", "email")
    with session_scope() as session:
        session.add(
            AutoReviewRow(
                draft_id=999,
                brand="giftloft",
                campaign="x",
                customer_id="c1",
                decision="routed",
                rule="score",
                detail={},
                audit_sampled=False,
            )
        )
    assert recent_messages("giftloft", "c1", engine=get_engine())
    erase_customer("giftloft", "c1")
    assert recent_messages("giftloft", "c1", engine=get_engine()) == []
    assert _fires() == []
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(AutoReviewRow)) == 0


def test_example_campaign_folder_is_valid() -> None:
    folder = Path(__file__).resolve().parents[1] / "campaigns" / "giftloft"
    names = {d.name for d in load_path(folder)}
    assert {"weekly-picks", "welcome", "win-back", "browse-abandonment", "cross-sell"} <= names
    assert all(isinstance(d, CampaignDefinition) for d in load_path(folder))


def test_a_run_killed_mid_period_resumes_without_duplicates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A claim left 'running' by a dead worker: a fresh duplicate is refused, a stale one resumes."""
    _seed_weekly(tmp_path)
    stored = get_definition("giftloft", "weekly-picks")
    period = "2026-12-07T09:00+00:00"
    calls: list[str] = []

    def dies_after_two(request: ContentRequest) -> Draft:
        if len(calls) == 2:
            raise KeyboardInterrupt  # the worker is killed mid-run
        calls.append(request.customer_id or "")
        return _fake_generate(request)

    with pytest.raises(KeyboardInterrupt):
        automation.run_definition(stored, period=period, generate=dies_after_two)
    with session_scope() as session:  # a kill leaves the claim running (no finally runs)
        from genpersona.campaigns.automation_tables import CampaignPeriodRunRow

        row = session.scalars(select(CampaignPeriodRunRow)).one()
        row.status = "running"
        from genpersona.campaigns.tables import CampaignRunRow

        dead = session.scalars(select(CampaignRunRow)).one()
        dead.status = "running"  # a SIGKILL leaves the run's record running too
    assert automation.run_definition(stored, period=period, generate=_fake_generate).outcome == (
        "duplicate"
    )  # still fresh: another worker may be on it
    monkeypatch.setenv("GENPERSONA_CAMPAIGN_CLAIM_STALE_S", "0.05")
    get_settings.cache_clear()
    time.sleep(0.1)  # no heartbeat for longer than the stale time: the worker is dead
    resumed = automation.run_definition(stored, period=period, generate=_fake_generate)
    assert resumed.outcome == "ran" and resumed.report is not None
    assert (resumed.report.skipped, resumed.report.generated) == (2, 2)  # only the missing two
    with session_scope() as session:
        from genpersona.review.tables import DraftRow

        assert session.scalar(select(func.count()).select_from(DraftRow)) == 4
        statuses = session.scalars(select(CampaignRunRow.status).order_by(CampaignRunRow.id))
        assert list(statuses) == ["interrupted", "completed"]  # the dead run is marked


def test_a_live_run_longer_than_the_stale_time_keeps_its_claim(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The heartbeat, not the run's length, decides: a second fire of the period while a
    slow run is still going (past the stale time) is a duplicate, not a takeover."""
    import threading

    monkeypatch.setenv("GENPERSONA_CAMPAIGN_CLAIM_STALE_S", "1.0")  # heartbeat every 0.5 s
    get_settings.cache_clear()
    _seed_weekly(tmp_path)
    stored = get_definition("giftloft", "weekly-picks")
    period = "2026-12-07T09:00+00:00"

    def slow(request: ContentRequest) -> Draft:
        time.sleep(0.7)  # four customers: about 2.8 s in all
        return _fake_generate(request)

    first: list[automation.DefinitionRun] = []
    worker = threading.Thread(
        target=lambda: first.append(automation.run_definition(stored, period=period, generate=slow))
    )
    worker.start()
    time.sleep(2.0)  # the claim is 2 s old, the stale time 1 s
    second = automation.run_definition(stored, period=period, generate=_fake_generate)
    worker.join(timeout=30)
    assert second.outcome == "duplicate"
    assert first and first[0].outcome == "ran" and first[0].report is not None
    assert first[0].report.generated == 4
    with session_scope() as session:
        from genpersona.campaigns.tables import CampaignRunRow
        from genpersona.review.tables import DraftRow

        assert session.scalar(select(func.count()).select_from(DraftRow)) == 4
        assert list(session.scalars(select(CampaignRunRow.status))) == ["completed"]


def test_send_time_distribution_and_send_at_follow_the_customer_orders() -> None:
    from genpersona.delivery.send_times import campaign_send_distribution

    seed_brand()
    for day in (1, 8, 15):  # Tuesdays 2026-12, 10:00 UTC = 10:00 London; c4 is in France
        record_event("giftloft", "c4", "purchase", ts=datetime(2026, 12, day, 10), stock_code="X")
    approved("c4", "spring")
    approved("c1", "spring")
    rows = campaign_send_distribution(
        "giftloft", "spring", after=datetime(2026, 12, 20, tzinfo=UTC)
    )
    assert sum(r["recipients"] for r in rows) == 2
    # c4: Tuesday 11:00 Paris time; c1 has no orders, so the brand's (local-hour) prior: the same
    assert rows == [{"weekday": 1, "hour": 11, "recipients": 2}]
    pulled = deliver_to_customer("giftloft", "spring", "c4")
    assert pulled.send_at is not None and pulled.body()["send_at"] == pulled.send_at
