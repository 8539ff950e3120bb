"""Scoped API keys over HTTP: every route x every scope, revocation, the deprecated single
key, auth's auto mode, secrets never in logs, and the keys/accounts/serve commands."""

from __future__ import annotations

import logging

import pytest
from api_support import chat_services
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from genpersona.accounts.keys import create_key, list_keys, revoke_key
from genpersona.accounts.scopes import ALL_SCOPES
from genpersona.api.app import create_app
from genpersona.api.scopes import UNSCOPED_PATHS
from genpersona.cli.main import app as cli
from genpersona.settings import Settings

C = "/v1/customers/giftloft/17850"
CHAT = {"brand": "giftloft", "customer_id": "17850", "message": "hi"}
OAI = {"model": "giftloft", "messages": [{"role": "user", "content": "hi"}]}
EVENTS = {"brand": "giftloft", "customer_id": "17850", "events": [{"type": "email_open"}]}
OUTCOMES = {"outcomes": [{"draft_id": 1, "variant_index": 0, "type": "sent"}]}

#: (method, path, body, the scope it needs) -- the table in docs/guides/security.md
ROUTES = [
    ("POST", "/v1/generate", {"brand": "giftloft", "kind": "hero"}, "content:write"),
    ("GET", "/v1/drafts/1", None, "content:read"),
    ("POST", "/v1/chat", CHAT, "chat"),
    ("POST", "/v1/chat/completions", OAI, "chat"),
    ("GET", "/v1/models", None, "chat"),
    ("POST", "/v1/events", EVENTS, "events:write"),
    ("POST", "/v1/outcomes", OUTCOMES, "outcomes:write"),
    ("GET", f"{C}/export", None, "customers:admin"),
    ("POST", f"{C}/opt-out", None, "customers:admin"),
    ("POST", f"{C}/opt-in", None, "customers:admin"),
    ("POST", f"{C}/reset", None, "customers:admin"),
    ("DELETE", C, None, "customers:admin"),
    ("GET", "/v1/content/giftloft/xmas/anonymous", None, "content:read"),
    ("GET", "/v1/content/giftloft/xmas/17850", None, "content:read"),
    ("GET", "/v1/review/drafts", None, "review"),
    ("GET", "/v1/review/drafts/1", None, "review"),
    ("POST", "/v1/review/drafts/1/approve", None, "review"),
    ("POST", "/v1/review/drafts/1/reject", None, "review"),
    ("POST", "/v1/review/drafts/1/edit", None, "review"),
]


def _app(**settings: object) -> TestClient:
    services = chat_services()
    services.record_outcomes = lambda outcomes, settings: [1]
    return TestClient(create_app(Settings(**settings), services=services))


def _call(client: TestClient, method: str, path: str, body: object, key: str | None):  # type: ignore[no-untyped-def]
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return client.request(method, path, json=body, headers=headers)


def _template(path: str) -> str:
    if path.startswith("/v1/content/"):
        return path.replace("giftloft/xmas", "{brand}/{campaign}").replace(
            "/17850", "/{customer_id}"
        )
    return path.replace("giftloft/17850", "{brand}/{customer_id}").replace("/1", "/{draft_id}")


def test_the_table_covers_every_route_of_the_app() -> None:
    """A new route must be added to ROUTES (and docs/guides/security.md), and so gets tested
    by every scope below; only probes, docs and signed webhooks may stay unscoped."""
    spec = create_app(Settings(), services=chat_services()).openapi()
    mounted = {
        (method.upper(), path)
        for path, ops in spec["paths"].items()
        for method in ops
        if not path.startswith(UNSCOPED_PATHS)
    }
    assert mounted == {(m, _template(p)) for m, p, _, _ in ROUTES}


def test_every_route_by_every_scope() -> None:
    # routes x scopes requests from one address: the per-address limit has its own tests
    client = _app(api_auth="on", api_rate_per_minute=0)
    keys = {scope: create_key(f"only-{scope}", [scope]).secret for scope in ALL_SCOPES}
    for method, path, body, needed in ROUTES:
        for scope, key in keys.items():
            resp = _call(client, method, path, body, key)
            if scope == needed:
                assert resp.status_code not in (401, 403), (method, path, scope, resp.text)
            else:
                assert resp.status_code == 403, (method, path, scope, resp.text)
                text = resp.text
                assert needed in text and "genpersona keys create" in text
        assert _call(client, method, path, body, None).status_code == 401


def test_403_names_the_scope_in_genpersona_shape() -> None:
    client = _app(api_auth="on")
    key = create_key("chatbot", ["chat"]).secret
    resp = client.delete(C, headers={"Authorization": f"Bearer {key}"})
    assert resp.status_code == 403
    err = resp.json()
    assert err["error"] == "Forbidden" and err["data"]["needed_scope"] == "customers:admin"
    assert err["data"]["key_scopes"] == ["chat"]


def test_revoked_key_fails_at_once_and_revoking_the_last_key_keeps_auth_on() -> None:
    client = _app()  # auto: open until a key exists
    assert client.get("/v1/models").status_code == 200
    new = create_key("chatbot", ["chat"])
    assert client.get("/v1/models").status_code == 401  # the same running app
    auth = {"Authorization": f"Bearer {new.secret}"}
    assert client.get("/v1/models", headers=auth).status_code == 200
    revoke_key(new.info.id)
    assert client.get("/v1/models", headers=auth).status_code == 401
    assert client.get("/v1/models").status_code == 401  # never back to open
    assert [k.active for k in list_keys()] == [False]
    assert client.get("/healthz").status_code == 200


def test_malformed_and_wrong_keys_are_401() -> None:
    client = _app(api_auth="on")
    good = create_key("chatbot", ["chat"]).secret
    for header in ("Bearer", "Basic abc", f"Bearer {good[:-1]}x", "Bearer gpk_nope", good):
        resp = client.get("/v1/models", headers={"Authorization": header})
        assert resp.status_code == 401, header
        assert resp.headers["www-authenticate"] == "Bearer"


def test_deprecated_single_key_is_an_all_scopes_admin(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="genpersona.api"):
        client = _app(api_key="s3cret-legacy-key")
    assert "deprecated" in caplog.text
    for method, path, body, _ in ROUTES:
        resp = _call(client, method, path, body, "s3cret-legacy-key")
        assert resp.status_code not in (401, 403), (path, resp.text)
    assert _call(client, "GET", "/v1/models", None, "wrong").status_code == 401


def test_webhooks_need_no_key_but_are_not_open_routes() -> None:
    """Vendors sign webhooks; the key check lets /v1/webhooks/ through to the route, which
    then checks the platform's signature (here: no SendGrid key configured, so 503)."""
    client = _app(api_auth="on")
    resp = client.post("/v1/webhooks/sendgrid", content=b"[]")
    assert resp.status_code == 503 and resp.json()["error"] == "WebhookNotConfigured"
    assert client.post("/v1/webhooksX").status_code == 401


def test_auth_off_opens_everything() -> None:
    create_key("chatbot", ["chat"])
    client = _app(api_auth="off")
    assert client.delete(C).status_code == 200


def test_keys_never_appear_in_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client = _app(api_auth="on")
    good = create_key("chatbot", ["chat"])
    wrong = good.secret[:-4] + "abcd"
    revoked = create_key("old", ["chat"])
    revoke_key(revoked.info.id)
    for key in (good.secret, wrong, revoked.secret):
        for method, path, body, _ in ROUTES[:6]:
            resp = _call(client, method, path, body, key)
            assert key not in resp.text
    logging.getLogger("genpersona.test").info("request with key id %s", good.info.id)
    assert good.info.id in caplog.text  # the public id may be logged (and was)
    for key in (good.secret, wrong, revoked.secret):
        assert key not in caplog.text
        assert key.rsplit("_", 1)[1] not in caplog.text


def test_keys_cli_create_list_revoke() -> None:
    runner = CliRunner()
    made = runner.invoke(cli, ["keys", "create", "--name", "shop", "--scope", "chat,events:write"])
    assert made.exit_code == 0, made.output
    secret = next(w for w in made.output.split() if w.startswith("gpk_"))
    key_id = secret.split("_")[1]
    listed = runner.invoke(cli, ["keys", "list", "--json"])
    assert key_id in listed.output and secret not in listed.output
    assert '"chat"' in listed.output and '"events:write"' in listed.output
    assert runner.invoke(cli, ["keys", "revoke", key_id]).exit_code == 0
    assert list_keys()[0].revoked_at is not None
    bad = runner.invoke(cli, ["keys", "create", "--name", "x", "--scope", "root"])
    assert bad.exit_code == 2 and "unknown scope" in bad.output
    missing = runner.invoke(cli, ["keys", "revoke", "ffffffffffff"])
    assert missing.exit_code == 5


def test_accounts_cli_lifecycle() -> None:
    from genpersona.accounts.console_accounts import authenticate
    from genpersona.errors import Unauthorized

    runner = CliRunner()
    args = ["accounts", "create", "alice", "--role", "approver", "--password-stdin"]
    assert runner.invoke(cli, args, input="a long passphrase\n").exit_code == 0
    again = runner.invoke(cli, args, input="a long passphrase\n")
    assert again.exit_code == 2 and "already exists" in again.output
    short = runner.invoke(cli, ["accounts", "create", "bob", "--password-stdin"], input="short\n")
    assert short.exit_code == 2 and "shorter than" in short.output
    assert authenticate("alice", "a long passphrase").role == "approver"
    assert runner.invoke(cli, ["accounts", "set-role", "alice", "admin"]).exit_code == 0
    change = ["accounts", "set-password", "alice", "--password-stdin"]
    assert runner.invoke(cli, change, input="another passphrase\n").exit_code == 0
    with pytest.raises(Unauthorized):
        authenticate("alice", "a long passphrase")
    assert authenticate("alice", "another passphrase").role == "admin"
    assert runner.invoke(cli, ["accounts", "disable", "alice"]).exit_code == 0
    with pytest.raises(Unauthorized):
        authenticate("alice", "another passphrase")
    listed = runner.invoke(cli, ["accounts", "list", "--json"])
    assert '"disabled": true' in listed.output and "passphrase" not in listed.output
    from genpersona.accounts.tables import ConsoleAccountRow
    from genpersona.db.engine import session_scope

    with session_scope() as session:
        stored = session.get(ConsoleAccountRow, "alice")
        assert stored is not None and stored.password_hash.startswith("$argon2id$")


def test_serve_refuses_a_public_host_without_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    runs: list[dict] = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: runs.append(kw))
    runner = CliRunner()
    refused = runner.invoke(cli, ["serve", "--host", "0.0.0.0"])
    assert refused.exit_code == 2 and "refusing" in refused.output and not runs
    assert runner.invoke(cli, ["serve", "--host", "0.0.0.0", "--insecure"]).exit_code == 0
    assert runner.invoke(cli, ["serve", "--host", "127.0.0.1"]).exit_code == 0
    create_key("chatbot", ["chat"])
    assert runner.invoke(cli, ["serve", "--host", "0.0.0.0"]).exit_code == 0
    assert len(runs) == 3 and runs[-1]["host"] == "0.0.0.0"
