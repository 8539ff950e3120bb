"""Webhook ingestion: events/s through POST /v1/webhooks/sendgrid, signed vs unchecked.

Two uvicorn servers on loopback in this process, on the same SQLite database:
one runs the real route (ECDSA P-256 signature checked on every batch), the
other the same app with ``ingest_webhook(..., verify=False)`` swapped in
through ``Services`` — the baseline without checks. Both get the same batches
(SendGrid-shaped events naming seeded exposures by ``gp_tag``; fresh
``sg_event_id``s per side so nothing is a duplicate), alternating rounds so
neither side always runs on a warmer database. Also prints the cost of one
signature check in process. Target: >= 2,000 events/s with checks.

    python bench/webhooks.py [--batches 20] [--batch-size 500] [--rounds 4]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

With ``--postgres SERVER_URL`` the same runs go to a fresh database created on
that server (and dropped afterwards) instead of SQLite.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import socket
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TYPES = ("processed", "delivered", "open", "open", "click", "deferred")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=20, help="batches per side per round")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--exposures", type=int, default=5000)
    parser.add_argument("--postgres", default=None, help="PostgreSQL server URL (optional)")
    args = parser.parse_args()
    database = "SQLite"
    dropper = None
    if args.postgres:
        import uuid

        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        name = f"gp_bench_webhooks_{uuid.uuid4().hex[:8]}"
        admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(args.postgres).set(database=name)
        os.environ["GENPERSONA_DATABASE_URL"] = url.render_as_string(hide_password=False)
        database = "PostgreSQL"

        def dropper() -> None:
            from genpersona.db.engine import dispose_engines

            dispose_engines()
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    os.environ["GENPERSONA_HOME"] = tempfile.mkdtemp(prefix="gp-bench-webhooks-")
    os.environ["GENPERSONA_LLM"] = "fake"
    os.environ["GENPERSONA_EMBEDDER"] = "fake"
    sys.path.insert(0, ROOT)

    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    os.environ["GENPERSONA_SENDGRID_WEBHOOK_PUBLIC_KEY"] = base64.b64encode(public).decode()

    import httpx
    import uvicorn
    from sqlalchemy import func, insert, select

    from genpersona.api.app import create_app
    from genpersona.api.services import Services
    from genpersona.campaigns.tables import OutcomeRow
    from genpersona.db.base import utcnow
    from genpersona.db.engine import session_scope
    from genpersona.delivery.tables import ExposureRow
    from genpersona.delivery.webhooks.ingest import ingest_webhook
    from genpersona.delivery.webhooks.signatures import verify_sendgrid
    from genpersona.settings import get_settings

    settings = get_settings()
    tags = [f"t{i:07d}" for i in range(args.exposures)]
    with session_scope(settings) as session:
        session.execute(
            insert(ExposureRow),
            [
                {"brand": "giftloft", "campaign": "bench", "customer_id": f"C{i}",
                 "recipient_key": f"C{i}", "channel": "email", "draft_id": None,
                 "variant_index": None, "recipe_id": None, "policy_name": "uniform",
                 "policy_version": "1", "propensity": 1.0, "probabilities": [], "seed": i,
                 "holdout": False, "fallback": True, "reason": "bench", "tag": tag,
                 "created_at": utcnow()}
                for i, tag in enumerate(tags)
            ],
        )  # fmt: skip

    rng = random.Random(1)

    def batch(side: str, round_: int, b: int) -> bytes:
        events = [
            {"email": "x@example.com", "timestamp": 1700000000 + j, "event": rng.choice(TYPES),
             "sg_event_id": f"{side}-{round_}-{b}-{j}", "sg_message_id": "m",
             "useragent": "Mozilla/5.0 (Windows NT 10.0) Chrome/120", "gp_tag": rng.choice(tags)}
            for j in range(args.batch_size)
        ]  # fmt: skip
        return json.dumps(events).encode()

    def signed_headers(body: bytes) -> dict[str, str]:
        ts = str(int(time.time()))
        sig = base64.b64encode(key.sign(ts.encode() + body, ec.ECDSA(hashes.SHA256()))).decode()
        return {
            "Content-Type": "application/json",
            "X-Twilio-Email-Event-Webhook-Signature": sig,
            "X-Twilio-Email-Event-Webhook-Timestamp": ts,
        }

    unchecked = Services(ingest_webhook=lambda raw, s: ingest_webhook(raw, s, verify=False))
    servers = {}
    for side, services in (("signed", Services()), ("unchecked", unchecked)):
        port = free_port()
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(settings, services=services),
                host="127.0.0.1",
                port=port,
                log_level="warning",
            )
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        servers[side] = (
            server,
            thread,
            httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120),
        )

    totals = {"signed": [0, 0.0], "unchecked": [0, 0.0]}
    try:
        for round_ in range(args.rounds):
            order = ("signed", "unchecked") if round_ % 2 == 0 else ("unchecked", "signed")
            for side in order:
                plain = {"Content-Type": "application/json"}
                requests = [
                    (body, signed_headers(body) if side == "signed" else plain)
                    for body in (batch(side, round_, b) for b in range(args.batches))
                ]  # signing is the sender's work: done before the clock starts
                client = servers[side][2]
                start = time.perf_counter()
                for body, headers in requests:
                    resp = client.post("/v1/webhooks/sendgrid", content=body, headers=headers)
                    if resp.status_code != 200:
                        raise SystemExit(f"{side}: HTTP {resp.status_code}: {resp.text[:300]}")
                totals[side][1] += time.perf_counter() - start
                totals[side][0] += args.batches * args.batch_size
    finally:
        for server, thread, client in servers.values():
            client.close()
            server.should_exit = True
            thread.join(timeout=10)

    body = batch("verify", 0, 0)
    headers = signed_headers(body)
    n = 500
    start = time.perf_counter()
    for _ in range(n):
        verify_sendgrid(
            os.environ["GENPERSONA_SENDGRID_WEBHOOK_PUBLIC_KEY"],
            headers["X-Twilio-Email-Event-Webhook-Signature"],
            headers["X-Twilio-Email-Event-Webhook-Timestamp"],
            body,
        )
    verify_ms = (time.perf_counter() - start) / n * 1000
    with session_scope(settings) as session:
        stored = session.scalar(select(func.count()).select_from(OutcomeRow))
    if dropper is not None:
        dropper()

    print(
        f"POST /v1/webhooks/sendgrid via uvicorn on loopback, {database}, "
        f"{args.exposures} exposures, "
        f"batches of {args.batch_size} events, {args.rounds} rounds x {args.batches} batches per side"
    )
    print(f"{'side':>10} {'events':>8} {'seconds':>8} {'events/s':>9}")
    rates = {}
    for side in ("signed", "unchecked"):
        events, seconds = totals[side]
        rates[side] = events / seconds
        print(f"{side:>10} {events:>8} {seconds:8.2f} {rates[side]:9.0f}")
    print(f"signed / unchecked: {rates['signed'] / rates['unchecked']:.3f}")
    print(f"one ECDSA P-256 check of a {len(body)} B batch in process: {verify_ms:.3f} ms")
    print(f"outcome rows stored: {stored} (deferred events are counted, not stored)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
