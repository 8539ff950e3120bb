"""Review from scripts: `genpersona review ...` (CliRunner) and /v1/review/... (HTTP)."""

# ruff: noqa: F811  (pytest fixtures imported from review_support are used as arguments)
from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from review_support import backend, draft_factory, memory_vectors, pg_database_url  # noqa: F401
from typer.testing import CliRunner

from genpersona.api.app import create_app
from genpersona.db.engine import session_scope
from genpersona.review.approved import approved_variants
from genpersona.review.queue import get_draft_detail, submit_draft
from genpersona.settings import get_settings
from genpersona.types.violations import Violation

runner = CliRunner()


@pytest.fixture
def cli():  # type: ignore[no-untyped-def]
    from genpersona.cli.main import app

    def run(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(app, ["review", *args])

    return run


def _offered(draft_id: int) -> list[int]:
    with session_scope() as session:
        return [v.variant_index for v in approved_variants(session, draft_id)]


def test_cli_list_and_show_as_json(cli, backend, draft_factory) -> None:
    a = submit_draft(draft_factory(kind="subject_line", campaign="spring"))
    submit_draft(draft_factory(kind="hero", campaign="autumn"))
    listed = cli("list", "--campaign", "spring", "--json")
    assert listed.exit_code == 0, listed.output
    page = json.loads(listed.stdout)
    assert [r["id"] for r in page["rows"]] == [a.id] and page["counts"]["pending"] == 1
    shown = json.loads(cli("show", str(a.id), "--json").stdout)
    assert shown["draft"]["version"] == 1 and len(shown["draft"]["variants"]) == 3
    assert shown["approved_variants"] == []
    table = cli("show", str(a.id))
    assert table.exit_code == 0 and f"draft {a.id} [pending] version 1" in table.output
    bad = cli("list", "--kind", "poem")
    assert bad.exit_code == 2 and "--kind" in bad.output


def test_cli_approve_a_set_and_leave_a_variant_out(
    cli, backend, draft_factory, memory_vectors
) -> None:
    d = submit_draft(draft_factory(kind="subject_line"))
    out = cli(
        "approve", str(d.id), "--reviewer", "alice", "--version", "1", "--variants", "2,0", "--json"
    )
    assert out.exit_code == 0, out.output
    [result] = json.loads(out.stdout)["approved"]
    assert result["variant_indexes"] == [0, 2] and result["variant_index"] == 2
    assert _offered(d.id) == [0, 2]
    shown = cli("show", str(d.id))
    assert "approved" in shown.output and shown.output.count("yes") == 2
    audit = get_draft_detail(d.id).audit
    assert audit[0].actor == "alice" and audit[0].payload["variant_indexes"] == [0, 2]


def test_cli_stale_version_is_a_conflict_and_changes_nothing(
    cli, backend, draft_factory, memory_vectors
) -> None:
    d = submit_draft(draft_factory(kind="subject_line"))
    assert cli("approve", str(d.id), "--reviewer", "alice").exit_code == 0
    second = cli("approve", str(d.id), "--reviewer", "bob", "--version", "1")
    assert second.exit_code == 8
    assert "already approved by alice" in second.output
    assert get_draft_detail(d.id).decided_by == "alice"


def test_cli_bulk_approve_a_campaign_reports_each_skip(
    cli, backend, draft_factory, memory_vectors
) -> None:
    clean = [submit_draft(draft_factory(kind="subject_line", campaign="bulk")) for _ in range(3)]
    blocked = draft_factory(kind="subject_line", campaign="bulk")
    for v in blocked.variants:
        v.violations = [Violation(rule_id="claim", severity="block", message="unapproved claim")]
    bad = submit_draft(blocked)
    out = cli("approve", "--campaign", "bulk", "--reviewer", "carol", "--json")
    assert out.exit_code == 8
    data = json.loads(out.stdout)
    assert sorted(r["draft_id"] for r in data["approved"]) == sorted(d.id for d in clean)
    assert [f["draft_id"] for f in data["failed"]] == [bad.id]
    assert "every variant" in data["failed"][0]["message"]
    assert all(_offered(d.id) == [0, 1, 2] for d in clean)


def test_cli_reject_needs_a_known_reason(cli, backend, draft_factory) -> None:
    d = submit_draft(draft_factory(kind="subject_line"))
    wrong = cli("reject", str(d.id), "--reason", "meh", "--reviewer", "dan")
    assert wrong.exit_code == 2 and "unknown rejection reason" in wrong.output
    ok = cli("reject", str(d.id), "--reason", "off_brand", "--reviewer", "dan", "--json")
    assert ok.exit_code == 0 and json.loads(ok.stdout)["status"] == "rejected"
    assert _offered(d.id) == []


# --- HTTP ----------------------------------------------------------------------------------
@pytest.fixture
def api(backend, monkeypatch) -> TestClient:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("GENPERSONA_API_KEY", "k")
    get_settings.cache_clear()
    return TestClient(create_app(get_settings()), headers={"Authorization": "Bearer k"})


def test_api_list_show_approve_and_409_on_a_stale_version(
    api, draft_factory, memory_vectors
) -> None:
    d = submit_draft(draft_factory(kind="subject_line", campaign="web"))
    page = api.get("/v1/review/drafts", params={"campaign": "web"}).json()
    assert [r["id"] for r in page["rows"]] == [d.id]
    shown = api.get(f"/v1/review/drafts/{d.id}").json()
    version = shown["draft"]["version"]
    first = api.post(
        f"/v1/review/drafts/{d.id}/approve",
        json={"reviewer": "alice", "expected_version": version, "variants": [1]},
    )
    assert first.status_code == 200, first.text
    assert first.json()["variant_indexes"] == [1] and first.json()["version"] == version + 1
    late = api.post(
        f"/v1/review/drafts/{d.id}/approve",
        json={"reviewer": "bob", "expected_version": version},
    )
    assert late.status_code == 409
    body = late.json()
    assert body["error"] == "DraftConflict" and body["data"]["decided_by"] == "alice"
    assert _offered(d.id) == [1]
    assert api.get("/v1/review/drafts", params={"status": "approved"}).json()["total"] == 1


def test_api_edit_approves_the_edited_text_and_reject(api, draft_factory, memory_vectors) -> None:
    d = submit_draft(draft_factory(kind="subject_line"))
    content = d.variants[0].content.model_dump(mode="json") | {"subject": "Tea sets, gently priced"}
    edited = api.post(
        f"/v1/review/drafts/{d.id}/edit",
        json={"reviewer": "erin", "expected_version": 1, "variant_index": 0, "content": content},
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["status"] == "edited" and edited.json()["variant_indexes"] == [0]
    with session_scope() as session:
        [only] = approved_variants(session, d.id)
    assert only.edited and only.content.subject == "Tea sets, gently priced"
    other = submit_draft(draft_factory(kind="subject_line"))
    no_reason = api.post(
        f"/v1/review/drafts/{other.id}/reject",
        json={"reviewer": "erin", "expected_version": 1, "reason_code": "nope"},
    )
    assert no_reason.status_code == 422
    rejected = api.post(
        f"/v1/review/drafts/{other.id}/reject",
        json={"reviewer": "erin", "expected_version": 1, "reason_code": "irrelevant"},
    )
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"


def test_api_errors_are_clear(api, draft_factory, memory_vectors) -> None:
    assert api.get("/v1/review/drafts/999").status_code == 404
    d = submit_draft(draft_factory(kind="subject_line"))
    unknown = api.post(
        f"/v1/review/drafts/{d.id}/approve",
        json={"reviewer": "a", "expected_version": 1, "variants": [9]},
    )
    assert unknown.status_code == 422 and "no variant 9" in unknown.json()["message"]
    missing = api.post(f"/v1/review/drafts/{d.id}/approve", json={"reviewer": "a"})
    assert missing.status_code == 422 and "expected_version" in missing.json()["message"]
    assert TestClient(create_app(get_settings())).get("/v1/review/drafts").status_code == 401


def test_api_two_reviewers_at_once_exactly_one_wins(api, draft_factory, memory_vectors) -> None:
    from concurrent.futures import ThreadPoolExecutor

    d = submit_draft(draft_factory(kind="subject_line"))

    def decide(who: str) -> int:
        body = {"reviewer": who, "expected_version": 1}
        return api.post(f"/v1/review/drafts/{d.id}/approve", json=body).status_code

    with ThreadPoolExecutor(4) as pool:
        codes = sorted(pool.map(decide, ["ann", "bob", "cat", "dan"]))
    assert codes == [200, 409, 409, 409]
    detail = get_draft_detail(d.id)
    assert [a.action for a in detail.audit].count("approved") == 1
    assert len(detail.reviews) == 1
