"""Helpers shared by the API and campaign tests: hand-built drafts and fake services."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import uvicorn

from genpersona.agent.chat import ChatReply
from genpersona.api.services import Services
from genpersona.errors import CustomerNotFound
from genpersona.review.queue import submit_draft
from genpersona.settings import Settings
from genpersona.types.content import ContentRequest, Draft, Rationale, Variant, VariantContent


def make_draft(request: ContentRequest, text: str = "Cosy Christmas picks for you") -> Draft:
    variants = [
        Variant(index=i, content=VariantContent(subject=f"{text} #{i}", answer=f"{text} #{i}"))
        for i in range(request.n)
    ]
    return Draft(
        brand=request.brand,
        kind=request.kind,
        customer_id=request.customer_id,
        campaign=request.campaign,
        brief=request.brief,
        variants=variants,
        rationale=Rationale(customer_line="Because you often buy Christmas decorations"),
        idempotency_key=request.idempotency_key(),
    )


class FakeControls:
    """In-memory stand-in for genpersona.customers.rights and .records, recording every call."""

    def __init__(self, customers: set[tuple[str, str]]) -> None:
        self.customers = set(customers)
        self.opted_out: dict[tuple[str, str], bool] = {}
        self.events: list[tuple[str, str, str, dict[str, Any]]] = []

    def _check(self, brand: str, customer_id: str) -> None:
        if (brand, customer_id) not in self.customers:
            raise CustomerNotFound(
                f"customer {customer_id!r} does not exist for brand {brand!r}",
                fix="check the id",
                brand=brand,
                customer_id=customer_id,
            )

    def export(self, brand: str, customer_id: str, settings: Settings) -> dict[str, Any]:
        self._check(brand, customer_id)
        return {
            "customer_id": customer_id,
            "events": [e for e in self.events if e[1] == customer_id],
        }

    def erase(self, brand: str, customer_id: str, settings: Settings) -> dict[str, Any]:
        self._check(brand, customer_id)
        self.customers.discard((brand, customer_id))
        return {"customer_id": customer_id, "erased": True}

    def set_opt_out(
        self, brand: str, customer_id: str, opted_out: bool, settings: Settings
    ) -> None:
        self._check(brand, customer_id)
        self.opted_out[(brand, customer_id)] = opted_out

    def reset(self, brand: str, customer_id: str, settings: Settings) -> dict[str, int]:
        self._check(brand, customer_id)
        return {"facts_deleted": 2}

    def record_event(
        self, brand: str, customer_id: str, type_: str, fields: dict[str, Any], settings: Settings
    ) -> int:
        self.events.append((brand, customer_id, type_, fields))
        return len(self.events)


def fake_services(controls: FakeControls | None = None) -> Services:
    """Services whose generation builds a draft by hand and stores it in the real review queue."""
    controls = controls or FakeControls({("giftloft", "17850")})

    def generate(request: ContentRequest, settings: Settings) -> Draft:
        return submit_draft(make_draft(request), settings)

    def chat(brand, customer_id, conversation, message, anonymous, settings):  # type: ignore[no-untyped-def]
        request = ContentRequest(
            brand=brand,
            kind="chat_answer",
            customer_id=customer_id,
            conversation=[*conversation, {"role": "customer", "text": message}],
            n=1,
        )
        draft = submit_draft(make_draft(request, "Our advent calendars"), settings)
        return ChatReply(
            answer=draft.top.content.answer or "",
            rationale=draft.rationale.customer_line,
            draft_id=draft.id,
            draft=draft,
        )

    return Services(
        generate=generate,
        chat_reply=chat,
        export_customer=controls.export,
        erase_customer=controls.erase,
        set_opt_out=controls.set_opt_out,
        reset_customer=controls.reset,
        record_event=controls.record_event,
        ready_checks={"database": Services().ready_checks["database"]},
    )


# --- chat front ends: a fake chat with a known answer, and a real server on loopback -------
ANSWER = "Our advent calendars are back. Each door hides a small treat! Ask me about sizes."
FALLBACK = "Thanks for asking! A member of our team will help you shortly."


class ChatCalls:
    """What the fake chat was asked, so tests can check the conversation it got."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []


def chat_services(calls: ChatCalls | None = None, *, blocked_word: str = "forbidden") -> Services:
    """fake_services whose chat answers ANSWER (or FALLBACK, as the pipeline does for an answer
    it had to block, when the message contains ``blocked_word``); in chunk mode a sentence
    with "Ask me" is blocked."""
    calls = calls if calls is not None else ChatCalls()
    base = fake_services()

    def chat(brand, customer_id, conversation, message, anonymous, settings):  # type: ignore[no-untyped-def]
        calls.calls.append(
            {
                "brand": brand,
                "customer_id": customer_id,
                "conversation": [t.model_dump() for t in conversation],
                "message": message,
                "anonymous": anonymous,
            }
        )
        fallback = blocked_word in message
        request = ContentRequest(
            brand=brand,
            kind="chat_answer",
            customer_id=customer_id,
            conversation=[{"role": "customer", "text": message}],
            n=1,
        )
        draft = submit_draft(make_draft(request, "chat"), settings)
        return ChatReply(
            answer=FALLBACK if fallback else ANSWER,
            rationale="Because you asked about Christmas",
            personalized=customer_id is not None,
            is_fallback=fallback,
            draft_id=draft.id,
            draft=draft,
        )

    base.chat_reply = chat
    base.list_brands = lambda settings: ["giftloft", "teatime"]
    base.chunk_blocked = lambda brand, text, settings: "Ask me" in text
    base.fallback_answer = lambda brand, settings: FALLBACK
    return base


def free_port() -> int:
    """A port the OS just handed out on loopback (free unless something races for it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """A real uvicorn server on a free loopback port, in a thread (fast, shares the test's DB)."""

    def __init__(self, app: Any, lifespan: str = "off", log_level: str = "info") -> None:
        self.port = free_port()
        self.server = uvicorn.Server(
            uvicorn.Config(
                app, host="127.0.0.1", port=self.port, log_level=log_level, lifespan=lifespan
            )
        )
        self.url = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def seed_customer(
    brand: str = "giftloft", customer_id: str = "17850", *, chat_memory: bool = True
) -> None:
    """A brand and one customer in the real database (for stored conversations)."""
    from sqlalchemy import select

    from genpersona.data.tables import Brand, Customer
    from genpersona.db.engine import session_scope

    with session_scope() as session:
        row = session.scalar(select(Brand).where(Brand.slug == brand))
        if row is None:
            row = Brand(slug=brand, name=brand.title())
            session.add(row)
            session.flush()
        session.add(
            Customer(
                brand_id=row.id,
                external_id=customer_id,
                consent_personalization=True,
                consent_email=True,
                consent_chat_memory=chat_memory,
            )
        )
