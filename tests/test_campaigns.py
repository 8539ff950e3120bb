"""Campaign jobs in process: segment selection, idempotent re-runs, failure capture, run record."""

from __future__ import annotations

import pytest
from api_support import make_draft
from campaign_support import seed_brand
from typer.testing import CliRunner

from genpersona.campaigns.runner import run_campaign
from genpersona.campaigns.segments import Segment, select_customers
from genpersona.campaigns.store import list_runs, run_items
from genpersona.errors import BrandNotFound, GenerationError, SegmentError, TaskEngineUnavailable
from genpersona.review.queue import submit_draft
from genpersona.settings import get_settings
from genpersona.types.content import ContentRequest, Draft


@pytest.fixture
def seeded() -> None:
    seed_brand()


def fake_generate(fail_for: set[str] | None = None, calls: list[str] | None = None):  # type: ignore[no-untyped-def]
    def generate(request: ContentRequest) -> Draft:
        if calls is not None:
            calls.append(request.customer_id or "")
        if fail_for and request.customer_id in fail_for:
            raise GenerationError("the model produced nothing usable", fix="retry later")
        return submit_draft(make_draft(request), get_settings())

    return generate


def test_segment_criteria(seeded: None) -> None:
    uk_xmas = select_customers("giftloft", Segment(country="United Kingdom", theme="christmas"))
    assert uk_xmas == ["c1", "c2", "c5"]  # highest spend first; theme matched case-insensitively
    recent = select_customers("giftloft", Segment(max_recency_days=30, min_frequency=5))
    assert recent == ["c1", "c4", "c3"]
    assert select_customers("giftloft", Segment(theme="christmas", limit=2)) == ["c1", "c4"]
    assert select_customers(
        "giftloft", Segment(require_email_consent=True, country="United Kingdom")
    ) == ["c1", "c3", "c5"]
    assert select_customers("giftloft", Segment(min_monetary=10_000)) == []
    with pytest.raises(BrandNotFound):
        select_customers("nosuchbrand", Segment())


def test_run_generates_then_rerun_skips_pending(seeded: None) -> None:
    calls: list[str] = []
    segment = Segment(country="United Kingdom", theme="christmas")
    first = run_campaign(
        "giftloft",
        "subject_line",
        segment,
        "Christmas gifts",
        "xmas-2026",
        n=2,
        generate=fake_generate(calls=calls),
    )
    assert first.status == "completed"
    assert (first.targeted, first.generated, first.skipped, first.failed) == (3, 3, 0, 0)
    assert len(set(first.draft_ids)) == 3
    second = run_campaign(
        "giftloft",
        "subject_line",
        segment,
        "Christmas gifts",
        "xmas-2026",
        n=2,
        generate=fake_generate(calls=calls),
    )
    assert (second.generated, second.skipped) == (0, 3)
    assert sorted(second.draft_ids) == sorted(first.draft_ids)
    assert calls == ["c1", "c2", "c5"]  # the re-run never called the generator
    runs = list_runs("giftloft")
    assert [r.id for r in runs] == [second.run_id, first.run_id]
    assert runs[0].skipped == 3 and runs[0].status == "completed"


def test_one_failing_customer_does_not_stop_the_run(seeded: None) -> None:
    report = run_campaign(
        "giftloft",
        "hero",
        Segment(),
        "Winter sale",
        "winter",
        n=1,
        generate=fake_generate(fail_for={"c3"}),
    )
    assert report.status == "partial"
    assert (report.generated, report.failed) == (4, 1)
    failed = [r for r in report.results if r.status == "failed"]
    assert failed[0].customer_id == "c3" and failed[0].error == "GenerationError"
    items = {i["customer_id"]: i for i in run_items(report.run_id)}
    assert items["c3"]["status"] == "failed" and items["c3"]["message"]
    assert items["c1"]["draft_id"] in report.draft_ids
    # the re-run retries only the failed customer
    calls: list[str] = []
    again = run_campaign(
        "giftloft",
        "hero",
        Segment(),
        "Winter sale",
        "winter",
        n=1,
        generate=fake_generate(calls=calls),
    )
    assert calls == ["c3"] and again.status == "completed"


def test_bad_inputs_are_refused_before_anything_runs(seeded: None) -> None:
    with pytest.raises(SegmentError):
        run_campaign("giftloft", "chat_answer", Segment(), "x", "c", generate=fake_generate())
    with pytest.raises(SegmentError):
        run_campaign("giftloft", "hero", Segment(), "x", "  ", generate=fake_generate())
    assert list_runs() == []


def test_distributed_without_broker_is_a_clear_error(seeded: None) -> None:
    with pytest.raises(TaskEngineUnavailable) as err:
        run_campaign("giftloft", "hero", Segment(limit=1), "x", "dist", distributed=True)
    assert "GENPERSONA_CELERY_BROKER_URL" in err.value.fix
    assert list_runs() == []  # refused before a run was recorded


def test_cli_list_and_bad_segment(seeded: None) -> None:
    from genpersona.cli.main import app

    run_campaign(
        "giftloft", "hero", Segment(limit=2), "Gifts", "cli-test", n=1, generate=fake_generate()
    )
    runner = CliRunner()
    out = runner.invoke(app, ["campaign", "list", "--json"])
    assert out.exit_code == 0, out.output
    assert '"name": "cli-test"' in out.output and '"generated": 2' in out.output
    bad = runner.invoke(app, ["campaign", "run", "--name", "x", "--brief", "b", "--limit", "0"])
    assert bad.exit_code == 2
    assert "limit" in bad.output


@pytest.mark.postgres
def test_campaign_on_postgres(monkeypatch: pytest.MonkeyPatch) -> None:
    """Segment SQL (NULLS LAST, JSON themes) and the run record on PostgreSQL."""
    import os
    import uuid

    from sqlalchemy import create_engine, text

    from genpersona.db.engine import dispose_engines

    admin_url = os.environ.get("GENPERSONA_TEST_PG_URL")
    if not admin_url:
        pytest.skip("GENPERSONA_TEST_PG_URL is not set; it names a PostgreSQL server for this test")
    name = f"gp_campaign_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        monkeypatch.setenv("GENPERSONA_DATABASE_URL", admin_url.rsplit("/", 1)[0] + f"/{name}")
        get_settings.cache_clear()
        seed_brand()
        segment = Segment(country="United Kingdom", theme="christmas")
        assert select_customers("giftloft", segment) == ["c1", "c2", "c5"]
        first = run_campaign(
            "giftloft", "hero", segment, "Gifts", "pg", n=1, generate=fake_generate()
        )
        second = run_campaign(
            "giftloft", "hero", segment, "Gifts", "pg", n=1, generate=fake_generate()
        )
        assert (first.generated, second.skipped) == (3, 3)
        assert [r.status for r in list_runs()] == ["completed", "completed"]
    finally:
        dispose_engines()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_campaign_with_the_real_pipeline_and_fake_llm(seeded: None) -> None:
    """No generator injected: the agent pipeline, guardrails and review queue all run."""
    from genpersona.review.queue import get_draft

    segment = Segment(country="United Kingdom", theme="christmas")
    report = run_campaign("giftloft", "subject_line", segment, "Christmas gifts", "xmas-real", n=2)
    assert (report.generated, report.failed) == (3, 0), report.results
    drafts = [get_draft(i) for i in report.draft_ids]
    assert {d.customer_id for d in drafts} == {"c1", "c2", "c5"}
    assert all(d.campaign == "xmas-real" and d.kind == "subject_line" for d in drafts)
    again = run_campaign("giftloft", "subject_line", segment, "Christmas gifts", "xmas-real", n=2)
    assert again.skipped == 3 and sorted(again.draft_ids) == sorted(report.draft_ids)


def test_unknown_brand_guide_fails_fast(seeded: None) -> None:
    with pytest.raises(BrandNotFound):
        run_campaign("nosuchbrand", "hero", Segment(), "x", "nobrand")
    assert list_runs() == []
