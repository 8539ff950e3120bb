"""A campaign definition's recipes, send window, cross-sell pick and the audit pause's resume,
wired into generation and delivery (issue 17, the parts that were stored but not used)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from agent_support import World
from api_support import make_draft
from campaign_support import seed_brand
from delivery_support import approved
from sqlalchemy import select
from test_campaign_automation import _scored, _write
from test_recs import fit
from typer.testing import CliRunner

from genpersona.agent.context_stage import feature_first
from genpersona.agent.pipeline import generate
from genpersona.agent.recipes import Recipe, load_recipes
from genpersona.campaigns import automation, triggers
from genpersona.campaigns.automation_tables import TriggerFireRow
from genpersona.campaigns.definition_store import apply_definitions, get_definition
from genpersona.campaigns.definitions import ReviewPolicy, load_path
from genpersona.campaigns.review_pause import pause_state, resume_auto_approval
from genpersona.campaigns.review_policy import apply_review_policy, record_audit_verdict
from genpersona.cli.main import app
from genpersona.customers.hooks import RecordedEvent
from genpersona.customers.records import record_event
from genpersona.db.engine import session_scope
from genpersona.delivery.send_times import campaign_send_distribution
from genpersona.delivery.sendtime import (
    SendTimeProfile,
    allowed_hours,
    best_hour,
    population_prior,
    send_at_for,
)
from genpersona.delivery.service import deliver_to_customer
from genpersona.errors import CampaignDefinitionError, InputError, UnknownRecipeError
from genpersona.llm.fake import FakeLLM
from genpersona.review.queue import get_draft, submit_draft
from genpersona.review.tables import AuditRow
from genpersona.settings import get_settings
from genpersona.types.content import ChatTurn, ContentRequest, Draft

WEEKLY = """
name: weekly-picks
brand: giftloft
brief: This week's picks
segment: {country: France}
recipes: [product_spotlight, gift_idea]
send_window: {start: "12:00", end: "14:00"}
review: {mode: auto, min_score: 0.5, audit_share: 1.0, min_audits: 2, pause_rejection_rate: 0.4}
schedule: {cron: "0 9 * * MON", timezone: Europe/London}
"""


def _capture() -> tuple[list[ContentRequest], object]:
    seen: list[ContentRequest] = []

    def gen(request: ContentRequest) -> Draft:
        seen.append(request)
        return submit_draft(make_draft(request), get_settings())

    return seen, gen


# --- recipes -------------------------------------------------------------------------------
def test_definition_recipes_reach_the_request_and_the_variants() -> None:
    world = World(FakeLLM(["Rose teapots for your spring table"]))
    request = ContentRequest(
        brand="teashop",
        kind="subject_line",
        customer_id="c1",
        brief="spring tea party",
        n=3,
        recipes=["product_spotlight", "gift_idea"],
    )
    draft = generate(request, deps=world.deps())
    book = load_recipes(get_settings().prompts_dir)
    wanted = [book.recipes[n] for n in ("product_spotlight", "gift_idea")]
    angles = {p.split("Angle: ")[-1].split("\n")[0] for p in world.llm.prompts}

    def from_recipe(angle: str, r: Recipe) -> bool:
        # the angle line is the recipe's focus about one of the customer's interests
        head, _, tail = r.focus.partition("{interest}")
        return angle == r.brief or (angle.startswith(head) and angle.endswith(tail))

    # every candidate was written from one of the two, and both were used
    assert all(any(from_recipe(a, r) for r in wanted) for a in angles)
    assert all(any(from_recipe(a, r) for a in angles) for r in wanted)
    stored = get_draft(draft.id or 0)
    assert {(v.content.recipe_id or "").split("/")[0] for v in stored.variants} <= {
        "product_spotlight",
        "gift_idea",
    }
    # without recipes the key is what it always was; with them it differs
    plain = request.model_copy(update={"recipes": []})
    assert plain.idempotency_key() != request.idempotency_key()


def test_recipe_choice_for_a_customer_without_history_and_unknown_names() -> None:
    book = load_recipes(get_settings().prompts_dir)
    history_only = [n for n, r in book.recipes.items() if r.needs_history][:1]
    chosen = book.for_candidates(3, personalized=False, only=history_only)
    assert chosen and all(not r.needs_history for r in chosen)  # general recipes instead
    assert {r.angle for r in book.for_candidates(4, True, only=["gift_idea"])} == {"gift_idea"}
    with pytest.raises(UnknownRecipeError) as err:
        book.for_candidates(3, True, only=["no_such_angle"])
    assert "no_such_angle" in err.value.message and "gift_idea" in err.value.fix


def test_run_definition_passes_recipes_and_refuses_unknown_ones(tmp_path: Path) -> None:
    seed_brand()
    apply_definitions(load_path(_write(tmp_path, "w.yaml", WEEKLY)))
    seen, gen = _capture()
    run = automation.run_definition(get_definition("giftloft", "weekly-picks"), generate=gen)  # type: ignore[arg-type]
    assert run.report is not None and run.report.generated == 1  # c4, the French customer
    assert [r.recipes for r in seen] == [["product_spotlight", "gift_idea"]]
    bad = tmp_path / "bad"
    apply_definitions(load_path(_write(bad, "w.yaml", WEEKLY.replace("gift_idea", "gift_ideaz"))))
    with pytest.raises(UnknownRecipeError):
        automation.run_definition(get_definition("giftloft", "weekly-picks"), generate=gen)  # type: ignore[arg-type]
    assert len(seen) == 1  # nobody was generated for


def test_apply_refuses_a_file_naming_an_unknown_recipe(tmp_path: Path) -> None:
    from genpersona.campaigns.definitions import check_recipe_names

    path = _write(tmp_path, "w.yaml", WEEKLY.replace("gift_idea", "gift_ideaz"))
    with pytest.raises(CampaignDefinitionError) as err:
        check_recipe_names(load_path(path), [str(path)], {"product_spotlight", "gift_idea"})
    assert err.value.data["field"] == "recipes" and err.value.data["file"] == str(path)
    assert "gift_ideaz" in err.value.message and "gift_idea" in err.value.fix


# --- send window ---------------------------------------------------------------------------
def test_best_hour_is_chosen_inside_the_window_not_pushed_to_its_edge() -> None:
    tue = 24
    prior = population_prior([tue + 23] * 50 + [tue + 15] * 20)  # late night, then 15:00
    allowed = allowed_hours((time(8), time(20)))
    assert best_hour([], prior)[0] == tue + 23
    # the best hour the window allows, not the window's edge (08:00 or 19:00)
    assert best_hour([], prior, allowed=allowed)[0] == tue + 15
    assert allowed_hours((time(8, 30), time(9, 15))).nonzero()[0][:2].tolist() == [8, 9]


@pytest.mark.parametrize("zone", ["Europe/London", "America/New_York"])
def test_send_at_stays_in_the_local_window_across_dst(zone: str) -> None:
    window = (time(9, 30), time(11, 0))
    profile = SendTimeProfile(hour_of_week=24 + 9, orders=3, own_weight=0.6, timezone=zone)
    # New York changes on 8 March 2026, London on 29 March: one week on each side of both
    for after in (datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 30, tzinfo=UTC)):
        local = send_at_for(profile, after, window).astimezone(ZoneInfo(zone))
        assert local.weekday() == 1 and (local.hour, local.minute) == (9, 30)
    before = send_at_for(profile, datetime(2026, 3, 2, tzinfo=UTC), window)
    later = send_at_for(profile, datetime(2026, 3, 30, tzinfo=UTC), window)
    assert before.astimezone(UTC).hour - later.astimezone(UTC).hour == 1  # the offset moved


def test_the_definitions_send_window_applies_to_pull_and_the_distribution(
    tmp_path: Path,
) -> None:
    seed_brand()
    apply_definitions(load_path(_write(tmp_path, "w.yaml", WEEKLY)))
    for day in (1, 8, 15):  # Tuesdays 10:00 UTC = 11:00 Paris: outside the 12-14 window
        record_event("giftloft", "c4", "purchase", ts=datetime(2026, 12, day, 10), stock_code="X")
    period = "weekly-picks-202612070900"
    approved("c4", period)
    approved("c4", "ad-hoc")
    paris = ZoneInfo("Europe/Paris")
    pulled = deliver_to_customer("giftloft", period, "c4")
    assert pulled.send_at is not None
    local = datetime.fromisoformat(pulled.send_at).astimezone(paris)
    assert 12 <= local.hour < 14
    adhoc = deliver_to_customer("giftloft", "ad-hoc", "c4")  # no definition: 08:00-21:00
    assert datetime.fromisoformat(adhoc.send_at or "").astimezone(paris).hour == 11
    rows = campaign_send_distribution("giftloft", period, after=datetime(2026, 12, 20, tzinfo=UTC))
    assert rows and all(12 <= r["hour"] < 14 for r in rows)


# --- cross-sell from the co-purchase model -------------------------------------------------
def test_bought_with_reads_the_co_purchase_table() -> None:
    model = fit("cosine")
    partners = model.bought_with("MUG", k=2)
    assert partners[0].stock_code == "SAUCER" and partners[0].reason == "co_purchase"
    assert partners[0].evidence_stock_codes == ["MUG"]
    assert all(p.stock_code != "SAUCER" for p in model.bought_with("MUG", exclude={"SAUCER"}))
    assert model.bought_with("NOPE") == []


CROSS = """
name: cross-sell
brand: giftloft
brief: Goes well with what you just bought
trigger: {flow: cross_sell, debounce_hours: 0}
"""


def test_cross_sell_features_the_co_purchase_partner(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_brand()
    apply_definitions(load_path(_write(tmp_path, "x.yaml", CROSS)))
    model = fit("cosine")
    monkeypatch.setattr(triggers, "get_recommender", lambda brand, s: SimpleNamespace(model=model))
    t0 = datetime(2026, 12, 1, 10)
    record_event("giftloft", "c1", "purchase", ts=t0, stock_code="MUG", order_id="o1")
    assert triggers.on_event(RecordedEvent("giftloft", "c1", "purchase", 1, t0, "MUG", "o1")) == {
        "cross-sell": "booked"
    }
    # c3 already owns the saucer: the next partner (or none) is featured, never the saucer
    record_event("giftloft", "c3", "purchase", ts=t0, stock_code="SAUCER", order_id="o2")
    record_event("giftloft", "c3", "purchase", ts=t0, stock_code="MUG", order_id="o3")
    triggers.on_event(RecordedEvent("giftloft", "c3", "purchase", 2, t0, "MUG", "o3"))
    seen, gen = _capture()
    assert triggers.process_due(t0, generate=gen) == 2  # type: ignore[arg-type]
    by_customer = {r.customer_id: r.feature_items for r in seen}
    assert by_customer["c1"] == ["SAUCER"]
    assert "SAUCER" not in by_customer["c3"]
    with session_scope() as session:
        picks = {
            r.customer_id: r.payload.get("featured")
            for r in session.scalars(select(TriggerFireRow))
        }
    assert picks["c1"] == "SAUCER"


def test_feature_items_lead_the_prompt_and_the_hero() -> None:
    world = World(FakeLLM(["Birds in your garden"]))
    deps = world.deps()
    request = ContentRequest(
        brand="teashop", kind="hero", customer_id="c1", brief="garden", feature_items=["G300"]
    )
    bundle = feature_first(request, world.context_for("teashop", "c1", "garden"), deps)
    assert bundle.recommendations[0].stock_code == "G300"
    draft = generate(request, deps=deps)
    assert all(v.content.featured_items[0].stock_code == "G300" for v in draft.variants)
    world.opted_out.add("c9")  # no personalisation: the trigger's pick is not used
    anon = feature_first(
        request.model_copy(update={"customer_id": "c9"}),
        world.context_for("teashop", "c9", "garden"),
        deps,
    )
    assert all(r.stock_code != "G300" for r in anon.recommendations)


# --- resuming auto-approval the audit paused -----------------------------------------------
def _auto_draft(cid: str, key: str) -> int:
    draft = _scored(0.9).model_copy(
        update={"customer_id": cid, "campaign": "weekly-picks", "idempotency_key": key}
    )
    return submit_draft(draft).id or 0


def test_resume_after_the_automatic_pause_is_audited_and_counts_only_new_audits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_brand()
    apply_definitions(load_path(_write(tmp_path, "w.yaml", WEEKLY)))
    monkeypatch.setattr("genpersona.campaigns.review_policy._similarity", lambda *_a: 0.9)
    policy = get_definition("giftloft", "weekly-picks").definition.review
    ids = [_auto_draft(c, f"k{c}") for c in ("c1", "c3")]
    apply_review_policy(ids, policy, "giftloft", "weekly-picks")
    with pytest.raises(InputError):  # not paused yet: nothing to resume
        resume_auto_approval("giftloft", "weekly-picks", policy, "ann")
    record_audit_verdict(ids[0], False, "ann", policy)
    assert record_audit_verdict(ids[1], False, "ann", policy) is True
    with pytest.raises(InputError):
        resume_auto_approval("giftloft", "weekly-picks", policy, "auto:me")  # people only
    runner = CliRunner()
    status = runner.invoke(app, ["campaign", "review-policy", "status", "weekly-picks", "--json"])
    assert status.exit_code == 0, status.output
    assert json.loads(status.stdout)["paused"] is True
    args = ["campaign", "review-policy", "resume", "weekly-picks", "--reviewer", "bob"]
    resumed = runner.invoke(app, [*args, "--note", "prompt fixed", "--json"])
    assert resumed.exit_code == 0, resumed.output
    body = json.loads(resumed.stdout)
    assert body["paused"] is False and body["judged"] == 0 and body["resumed_by"] == "bob"
    with session_scope() as session:
        entry = session.scalars(select(AuditRow).where(AuditRow.action == "auto_resumed")).one()
        assert entry.actor == "bob" and entry.payload["judged"] == 2
        assert entry.payload["note"] == "prompt fixed"
    later = [_auto_draft(c, f"later{c}") for c in ("c4", "c5")]
    report = apply_review_policy(later, policy, "giftloft", "weekly-picks")
    assert report.auto_approved == 2 and not report.paused
    record_audit_verdict(later[0], False, "ann", policy)
    assert not pause_state("giftloft", "weekly-picks", policy).paused  # 1 audit < min_audits
    assert record_audit_verdict(later[1], False, "ann", policy) is True  # pauses again


def test_scheduled_periods_share_one_pause_and_one_audit_list(tmp_path: Path) -> None:
    seed_brand()
    apply_definitions(load_path(_write(tmp_path, "w.yaml", WEEKLY)))
    stored = get_definition("giftloft", "weekly-picks")
    _seen, gen = _capture()
    run = automation.run_definition(stored, period="2026-12-07T09:00+00:00", generate=gen)  # type: ignore[arg-type]
    assert run.campaign == "weekly-picks-202612070900"
    policy = ReviewPolicy.model_validate(stored.definition.review.model_dump())
    assert pause_state("giftloft", "weekly-picks", policy).campaign == "weekly-picks"
    from genpersona.campaigns.automation_tables import AutoReviewRow

    with session_scope() as session:
        scopes = set(session.scalars(select(AutoReviewRow.campaign)))
    assert scopes == {"weekly-picks"}  # `campaign audit --name weekly-picks` finds them


# --- the ledger reaches the chat and hero paths --------------------------------------------
def test_the_ledger_shows_what_the_email_said_to_hero_and_chat_prompts() -> None:
    from genpersona.agent.context_stage import build_context
    from genpersona.agent.prompting import get_library
    from genpersona.agent.variables import prompt_variables
    from genpersona.customers.ledger import SentMessage, sent_messages
    from genpersona.delivery.caps import sent_copy

    seed_brand()
    settings = get_settings()
    draft = approved("c1", "spring")
    delivered = deliver_to_customer("giftloft", "spring", "c1", "email")
    texts = [m.text for m in sent_messages("giftloft", "c1", settings)]  # delivery's reader
    assert texts == [m.text for m in sent_copy("giftloft", "c1", settings)]
    assert texts and texts[0] in {v.content.subject for v in draft.variants}
    assert delivered.subject == texts[0]
    assert sent_messages("giftloft", "c3", settings) == []  # nothing sent to c3

    line = "20% off teapots until Sunday"
    world = World(FakeLLM(["Teapots for your table"]))
    ledger = lambda brand, cid, s: [SentMessage("spring", "email", line, datetime(2026, 12, 1))]  # noqa: E731
    deps = world.deps(sent_messages=ledger)
    generate(ContentRequest(brand="teashop", kind="hero", customer_id="c1", brief="tea"), deps=deps)
    assert world.llm.prompts and all(line in p for p in world.llm.prompts)
    world.llm.calls.clear()
    generate(ContentRequest(brand="teashop", kind="subject_line", customer_id="c1"), deps=deps)
    assert not any(line in p for p in world.llm.prompts)  # an email need not repeat itself
    world.opted_out.add("c2")
    generate(ContentRequest(brand="teashop", kind="hero", customer_id="c2", brief="x"), deps=deps)
    assert not any(line in p for p in world.llm.prompts)  # no personalisation, no ledger
    world.llm.calls.clear()
    chat = ContentRequest(
        brand="teashop",
        kind="chat_answer",
        customer_id="c1",
        conversation=[ChatTurn(role="customer", text="Is there a discount on teapots?")],
    )
    actx = build_context(chat, deps)
    assert actx.sent == [line]
    library = get_library(settings.prompts_dir)
    for style in ("completion", "chat"):
        rendered = library.render("chat_answer", style, prompt_variables(actx))  # type: ignore[arg-type]
        assert line in (rendered.text or str(rendered.messages))
