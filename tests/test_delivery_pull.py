"""The pull endpoint and the exposure log on real components (SQLite, PostgreSQL when set).

Through the app (TestClient) for the behaviour, and through uvicorn on loopback
with the httpx client for the real-server path, including two concurrent GETs
for one recipient writing one exposure.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import httpx
import pytest
from api_support import LiveServer
from delivery_support import (  # noqa: F401 - fixtures
    approved,
    db,
    edited,
    exposure_count,
    no_holdout,
    set_personalization,
)
from fastapi.testclient import TestClient
from review_support import pg_database_url  # noqa: F401 - fixture
from sqlalchemy import select

from genpersona.api.app import create_app
from genpersona.customers.rights import erase_customer, export_customer
from genpersona.db.engine import get_engine, session_factory
from genpersona.delivery.eligibility import latest_for_customer
from genpersona.delivery.exposures import choose_and_log
from genpersona.delivery.policy import UniformPolicy
from genpersona.delivery.service import deliver_to_customer
from genpersona.delivery.tables import ExposureRow
from genpersona.settings import get_settings
from genpersona.types.audience import AnonymousContext

URL = "/v1/content/giftloft/xmas"


@pytest.fixture
def client(db: str, no_holdout: None) -> TestClient:  # noqa: F811
    return TestClient(create_app(get_settings()))


def rows() -> list[ExposureRow]:
    with session_factory()() as session:
        return list(session.scalars(select(ExposureRow).order_by(ExposureRow.id)))


def test_approved_copy_same_bytes_etag_and_one_exposure(client: TestClient) -> None:
    draft = approved("c1", blocked=(2,))
    first = client.get(f"{URL}/c1?channel=email")
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["fallback"] is False and body["holdout"] is False
    assert body["draft_id"] == draft.id and body["variant"] in (0, 1)  # 2 breaks a rule
    assert body["subject"] == f"Cosy picks for c1 #{body['variant']}"
    assert body["featured_items"][0]["stock_code"] == "85123A"
    assert len(body["tag"]) == 12 and "c1" not in body["tag"]
    assert "customer_id" not in body
    assert first.headers["cache-control"].startswith("private, max-age=")

    again = client.get(f"{URL}/c1?channel=email")
    assert again.content == first.content and again.headers["etag"] == first.headers["etag"]
    cached = client.get(f"{URL}/c1", headers={"If-None-Match": first.headers["etag"]})
    assert cached.status_code == 304 and cached.content == b""

    (row,) = rows()
    assert (row.customer_id, row.recipient_key, row.channel) == ("c1", "c1", "email")
    assert (row.policy_name, row.policy_version) == ("uniform", "1")
    assert [p["variant_index"] for p in row.probabilities] == [0, 1]
    assert math.isclose(math.fsum(p["p"] for p in row.probabilities), 1.0)
    assert row.propensity == 0.5 and row.variant_index == body["variant"]
    assert row.recipe_id == "subject_line.completion@3" and row.tag == body["tag"]

    web = client.get(f"{URL}/c1?channel=web")  # another channel is another exposure
    assert web.status_code == 200 and web.json()["tag"] != body["tag"]
    assert exposure_count() == 2


def test_edited_draft_delivers_the_edited_text_with_propensity_one(client: TestClient) -> None:
    edited("c3", subject="Ann's own words")
    body = client.get(f"{URL}/c3").json()
    assert body["subject"] == "Ann's own words" and body["variant"] == 1
    (row,) = rows()
    assert row.propensity == 1.0 and row.probabilities[0]["variant_index"] == 1


def test_no_approved_draft_is_404_with_generic_copy_and_nothing_logged(
    client: TestClient,
) -> None:
    resp = client.get(f"{URL}/c4")
    assert resp.status_code == 404
    body = resp.json()
    assert body["fallback"] is True and body["reason"] == "not_approved"
    assert body["subject"] == "A little something from The Gift Loft"
    assert body["error"] == "ContentNotFound" and body["fix"]
    assert client.get(f"{URL}/nobody").json()["reason"] == "unknown_customer"
    assert exposure_count() == 0
    unknown = client.get("/v1/content/no-such-brand/xmas/c1")
    assert unknown.status_code == 404 and unknown.json()["error"] == "BrandNotFound"


def test_bad_channel_is_a_422_in_the_api_error_shape(client: TestClient) -> None:
    resp = client.get(f"{URL}/c1?channel=sms")
    assert resp.status_code == 422 and resp.json()["data"]["fields"][0]["field"] == "query.channel"


def test_opted_out_customer_gets_generic_copy(client: TestClient) -> None:
    approved("c1")
    set_personalization("c1", False)
    body = client.get(f"{URL}/c1").json()
    assert body["fallback"] is True and body["reason"] == "opted_out"
    assert "c1" not in body["subject"] and body["variant"] is None
    (row,) = rows()
    assert row.fallback and row.reason == "opted_out" and row.propensity == 1.0


def test_opt_out_after_a_personalized_pull_turns_repeats_generic(client: TestClient) -> None:
    approved("c1")
    assert client.get(f"{URL}/c1").json()["fallback"] is False
    set_personalization("c1", False)
    repeat = client.get(f"{URL}/c1").json()
    assert repeat["fallback"] is True and repeat["reason"] == "opted_out"
    assert "c1" not in (repeat["subject"] or "")


def test_holdout_gets_generic_copy_and_is_logged(
    db: str,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GENPERSONA_DELIVERY_HOLDOUT_OVERRIDES", '{"xmas": 1.0}')
    get_settings.cache_clear()
    approved("c1")
    approved("c1", "spring")
    content = deliver_to_customer("giftloft", "xmas", "c1")
    assert content.holdout and content.fallback and content.reason == "holdout"
    assert content.subject == "A little something from The Gift Loft"
    assert not deliver_to_customer("giftloft", "spring", "c1").holdout  # default share 10%...
    held = {r.campaign: r.holdout for r in rows()}
    assert held == {"xmas": True, "spring": False}  # ...and c1 is not in spring's 10%


def test_anonymous_visitor_gets_matching_contextual_copy(client: TestClient) -> None:
    approved(None, anonymous=AnonymousContext(country="France"), kind="hero", text_="Bonjour")
    approved(None, anonymous=AnonymousContext(), kind="hero", text_="Hello")
    approved(
        None,
        anonymous=AnonymousContext(referrer="https://www.pinterest.com/x"),
        kind="hero",
        text_="Pinned it",
    )
    anon = f"{URL}/anonymous?channel=web"
    france = client.get(f"{anon}&country=France&hour=9&visitor_id=v1").json()
    assert france["headline"].startswith("Bonjour") and france["fallback"] is False
    uk = client.get(f"{anon}&country=United%20Kingdom&visitor_id=v2").json()
    assert uk["headline"].startswith("Hello")
    pin = client.get(f"{anon}&referrer=pinterest.com&visitor_id=v3").json()
    assert pin["headline"].startswith("Pinned it")
    again = client.get(f"{anon}&country=France&hour=9&visitor_id=v1")
    assert again.json() == france  # same visitor, same logged choice
    keys = [r.recipient_key for r in rows()]
    assert len(keys) == 3 and all(k.startswith("anon:") and "v1" not in k for k in keys)
    assert all(r.customer_id is None for r in rows())
    client.get(f"{anon}&country=France")  # no visitor id: still logged, under a fresh key
    assert exposure_count() == 4


def test_anonymous_without_contextual_drafts_is_generic(client: TestClient) -> None:
    body = client.get(f"{URL}/anonymous?channel=web&country=France").json()
    assert body["fallback"] is True and body["reason"] == "no_contextual_copy"
    assert body["headline"] == "Thoughtful gifts for every occasion"


def test_erase_removes_exposures_and_export_includes_them(client: TestClient) -> None:
    approved("c1")
    approved("c3")
    tag = client.get(f"{URL}/c1").json()["tag"]
    client.get(f"{URL}/c3")
    exported = export_customer("giftloft", "c1")["other"]["delivery"]["exposures"]
    assert [e["tag"] for e in exported] == [tag] and exported[0]["campaign"] == "xmas"
    report = erase_customer("giftloft", "c1", refit=False)
    assert report.rows["delivery"] == 1
    assert [r.customer_id for r in rows()] == ["c3"]


def test_concurrent_choices_for_one_recipient_write_one_row(db: str, no_holdout: None) -> None:  # noqa: F811
    approved("c1")
    with session_factory()() as session:
        draft = latest_for_customer(session, "giftloft", "xmas", "c1")
    assert draft is not None
    barrier = threading.Barrier(8)

    def one(_: int):  # type: ignore[no-untyped-def]
        barrier.wait()
        return choose_and_log(
            get_engine(),
            brand="giftloft",
            campaign="xmas",
            channel="email",
            recipient_key="c1",
            customer_id="c1",
            draft=draft,
            policy=UniformPolicy(),
        )

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(one, range(8)))
    assert len({r.tag for r in results}) == 1 and len({r.variant_index for r in results}) == 1
    assert sum(r.created for r in results) == 1
    assert exposure_count() == 1


# --- a real server on loopback --------------------------------------------------------------
@pytest.fixture
def server(db: str, no_holdout: None) -> Iterator[str]:  # noqa: F811
    with LiveServer(create_app(get_settings()), lifespan="auto", log_level="warning") as live:
        yield live.url


def test_over_uvicorn_concurrent_gets_share_one_exposure(server: str) -> None:
    approved("c1")
    approved("c3")
    with httpx.Client(base_url=server, timeout=30) as http:
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda _: http.get(f"{URL}/c1?channel=email"), range(8)))
        assert {a.status_code for a in answers} == {200}
        assert len({a.content for a in answers}) == 1  # same bytes for every concurrent GET
        etag = answers[0].headers["etag"]
        assert http.get(f"{URL}/c1", headers={"If-None-Match": etag}).status_code == 304
        missing = http.get(f"{URL}/c4")
        assert missing.status_code == 404 and missing.json()["fallback"] is True
        assert http.get(f"{URL}/c3").json()["draft_id"] is not None
    assert exposure_count() == 2


class _Skewed:
    """A learned policy stand-in: what the learning issue will plug in."""

    name, version = "skewed", "7"

    def probabilities(self, variants, context):  # type: ignore[no-untyped-def]
        weights = [2.0**-i for i in range(len(variants))]
        return [w / sum(weights) for w in weights]


def test_a_plugged_in_policy_is_logged_with_its_exact_probabilities(
    db: str,  # noqa: F811
    no_holdout: None,  # noqa: F811
) -> None:
    approved("c1")
    content = deliver_to_customer("giftloft", "xmas", "c1", policy=_Skewed())
    (row,) = rows()
    assert (row.policy_name, row.policy_version) == ("skewed", "7")
    assert [p["p"] for p in row.probabilities] == [4 / 7, 2 / 7, 1 / 7]
    assert row.propensity == row.probabilities[content.variant]["p"]  # type: ignore[index]


def test_draft_cache_never_serves_a_changed_or_reused_draft(db: str) -> None:  # noqa: F811
    from sqlalchemy import update

    from genpersona.db.engine import session_scope
    from genpersona.delivery import lookup
    from genpersona.review.tables import DraftRow, DraftVariantRow

    draft = approved("c1")
    engine = get_engine()
    first = lookup.latest_draft(engine, "giftloft", "xmas", "c1")
    assert first is not None and first.variants[0].content["subject"].startswith("Cosy")
    with session_scope() as session:  # as if the id were handed out again to another draft
        session.execute(
            update(DraftVariantRow)
            .where(DraftVariantRow.draft_id == draft.id)
            .values(content={"subject": "Someone else's copy"})
        )
        session.execute(
            update(DraftRow).where(DraftRow.id == draft.id).values(decided_at=datetime(2030, 1, 1))
        )
    again = lookup.latest_draft(engine, "giftloft", "xmas", "c1")
    assert again is not None and again.variants[0].content["subject"] == "Someone else's copy"
