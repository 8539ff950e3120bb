"""Review at campaign scale: share auto-approved / routed and the audit's rejection rate.

    python bench/review_scale.py [--customers 2000] [--home DIR] [--seed-exemplars 30]
        [--chunk 25] [--deadline HH:MM] [--out results.json]

The campaign runs in chunks of ``--chunk`` customers (one campaign name, so it
is still one campaign); the policy is applied after each chunk and the running
totals are written to ``--out`` after every chunk, so a run stopped at
``--deadline`` (UTC, no new chunk starts after it) still reports every draft it
finished. That is how the local model is measured on a shared 2-core machine:
as many drafts as fit, not 2,000.

Ingests UCI Online Retail as ``giftloft`` into a scratch home (once per --home),
runs a 2,000-customer campaign through the real pipeline with the configured
LLM (GENPERSONA_LLM; ``fake`` unless set: the local model is minutes per
hundred drafts on a shared machine) and the demo brand guide, then applies the
campaign's ``auto`` review policy. Before the campaign, ``--seed-exemplars``
drafts of an earlier campaign are judged by the reviewer rules below and the
passing ones approved, so "similarity to an approved exemplar" has exemplars.

Reviewer rules (what the audit's simulated reviewer applies to every audited
draft, documented in docs/guides/campaigns-automation.md): the approved
variant re-checked by the brand guard (``guard.engine``) has no block or warn
violation; it is not the generic fallback; its subject is 20-70 characters and
it does not repeat a word three times. Baseline in the same run: ``mode: all``
(everything routed to people).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--home", type=Path, default=None)
    parser.add_argument("--seed-exemplars", type=int, default=30)
    parser.add_argument("--audit-share", type=float, default=0.05)
    parser.add_argument("--campaign", default="scale-2000")
    parser.add_argument("--chunk", type=int, default=25)
    parser.add_argument("--deadline", default=None, help="HH:MM UTC: start no chunk after it")
    parser.add_argument("--out", type=Path, default=None, help="running totals as JSON")
    args = parser.parse_args()
    home = args.home or Path(tempfile.mkdtemp(prefix="gp-review-scale-"))
    os.environ["GENPERSONA_HOME"] = str(home)
    os.environ.setdefault("GENPERSONA_LLM", "fake")
    os.environ.setdefault("GENPERSONA_EMBEDDER", "fake")

    from genpersona.brands.loader import load_guide
    from genpersona.campaigns.definitions import CampaignDefinition, ReviewPolicy
    from genpersona.campaigns.review_policy import AUTO_ACTOR, apply_review_policy
    from genpersona.campaigns.runner import run_campaign
    from genpersona.campaigns.segments import Segment, select_customers
    from genpersona.cli.demo import ensure_demo_data
    from genpersona.guard.engine import check
    from genpersona.review.decisions import approve
    from genpersona.review.queue import get_draft
    from genpersona.settings import get_settings
    from genpersona.types.content import Draft

    settings = get_settings()
    t0 = time.perf_counter()
    ensure_demo_data("giftloft", settings, quiet=True)
    print(f"data ready in {time.perf_counter() - t0:.0f}s (home {home}, llm {settings.llm})")
    guide = load_guide("giftloft", settings)

    def reviewer_ok(draft: Draft, index: int | None) -> bool:
        variant = next((v for v in draft.variants if v.index == index), None)
        if variant is None or variant.is_fallback:
            return False
        if check(variant.content, guide, kind=draft.kind).violations:
            return False
        subject = variant.content.subject or variant.content.headline or ""
        words = Counter(w.lower() for w in subject.split())
        return 20 <= len(subject) <= 70 and max(words.values(), default=0) < 3

    customers = select_customers("giftloft", Segment(), settings)
    seed, target = customers[: args.seed_exemplars], customers[args.seed_exemplars :]
    target = target[: args.customers]
    seeded = run_campaign(
        "giftloft",
        "subject_line",
        Segment(customer_ids=seed),
        "our new season gift picks",
        "seed-exemplars",
        3,
        settings=settings,
    )
    approved_seed = 0
    for draft_id in seeded.draft_ids:
        d = get_draft(draft_id, settings)
        best = max(d.variants, key=lambda v: v.scores.total)
        if reviewer_ok(d, best.index):
            approve(draft_id, best.index, "bench-reviewer", d.version, settings)
            approved_seed += 1
    print(f"seed: {approved_seed}/{len(seeded.draft_ids)} drafts approved as exemplars")

    definition = CampaignDefinition(
        name=args.campaign,
        brand="giftloft",
        brief="our new season gift picks",
        review=ReviewPolicy(mode="auto", audit_share=args.audit_share, min_audits=1_000_000),
        schedule={"cron": "0 9 * * MON", "timezone": "Europe/London"},
    )
    baseline = apply_review_policy([], ReviewPolicy(mode="all"), "giftloft", "baseline")
    stop_at = None
    if args.deadline:
        hh, mm = (int(x) for x in args.deadline.split(":"))
        now = datetime.now(UTC)
        stop_at = now.replace(hour=hh, minute=mm, second=0, microsecond=0)
        if stop_at < now:
            stop_at += timedelta(days=1)

    totals: Counter[str] = Counter()
    by_rule: Counter[str] = Counter()
    auto_ids: list[int] = []
    gen_s = policy_s = 0.0
    print(f"baseline (mode all): 0.0% auto-approved, 100.0% routed ({baseline.mode})")
    for start in range(0, len(target), args.chunk):
        if stop_at is not None and datetime.now(UTC) >= stop_at:
            print(f"deadline {args.deadline} UTC reached: stopping after {totals['drafts']} drafts")
            break
        chunk = target[start : start + args.chunk]
        t1 = time.perf_counter()
        report = run_campaign(
            "giftloft",
            "subject_line",
            Segment(customer_ids=chunk),
            "our new season gift picks",
            args.campaign,
            3,
            settings=settings,
        )
        gen_s += time.perf_counter() - t1
        totals["generated"] += report.generated
        totals["failed"] += report.failed
        t2 = time.perf_counter()
        policy = apply_review_policy(
            report.draft_ids, definition.review, "giftloft", args.campaign, settings=settings
        )
        policy_s += time.perf_counter() - t2
        totals["drafts"] += policy.drafts
        totals["auto_approved"] += policy.auto_approved
        totals["routed"] += policy.routed
        by_rule.update(policy.by_rule)
        auto_ids += [
            i for i in report.draft_ids if get_draft(i, settings).status in ("approved", "edited")
        ]
        summary = _summary(totals, by_rule, gen_s, policy_s)
        summary["audit"] = _audit(args, auto_ids, settings, reviewer_ok)
        summary["llm"] = settings.llm
        summary["embedder"] = settings.embedder
        summary["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        print(json.dumps(summary), flush=True)
        if args.out:
            args.out.write_text(json.dumps(summary, indent=2), encoding="utf-8")
    n = max(totals["drafts"], 1)
    print(
        f"auto: {totals['auto_approved'] / n:.1%} auto-approved, {totals['routed'] / n:.1%} routed "
        f"of {totals['drafts']} drafts; by rule {dict(by_rule)}; generation {gen_s:.0f}s "
        f"({gen_s / max(totals['generated'], 1):.1f}s/draft), policy {policy_s:.0f}s"
    )
    audit = _audit(args, auto_ids, settings, reviewer_ok)
    print(
        f"audit: {audit['sampled']} sampled ({args.audit_share:.0%} share), {audit['rejected']} "
        f"rejected by the reviewer rules -> rejection rate {audit['rejection_rate']}; "
        f"every auto-approved draft judged: {audit['all_rejected']}/{audit['all_judged']} "
        f"rejected; actor {AUTO_ACTOR}"
    )
    return 0


def _summary(
    totals: Counter[str], by_rule: Counter[str], gen_s: float, policy_s: float
) -> dict[str, Any]:
    n = max(totals["drafts"], 1)
    return {
        **totals,
        "share_auto_approved": round(totals["auto_approved"] / n, 4),
        "share_routed": round(totals["routed"] / n, 4),
        "by_rule": dict(by_rule),
        "generation_s": round(gen_s, 1),
        "s_per_draft": round(gen_s / max(totals["generated"], 1), 2),
        "policy_s": round(policy_s, 1),
    }


def _audit(
    args: argparse.Namespace, auto_ids: list[int], settings: Any, reviewer_ok: Any
) -> dict[str, Any]:
    """The audit sample judged by the reviewer rules, and (because a 5% sample of a few
    hundred drafts is a handful) every auto-approved draft judged by the same rules."""
    from genpersona.campaigns.review_policy import audit_samples
    from genpersona.review.queue import get_draft, get_draft_detail

    sampled = {int(s["draft_id"]) for s in audit_samples("giftloft", args.campaign, settings)}  # type: ignore[call-overload]
    verdicts: dict[int, bool] = {}
    for draft_id in auto_ids:
        d = get_draft(draft_id, settings)
        verdicts[draft_id] = bool(
            reviewer_ok(d, get_draft_detail(draft_id, settings).chosen_variant)
        )
    rejected = sum(1 for i in sampled if not verdicts.get(i, True))
    all_rejected = sum(1 for ok in verdicts.values() if not ok)
    return {
        "sampled": len(sampled),
        "rejected": rejected,
        "rejection_rate": round(rejected / len(sampled), 4) if sampled else None,
        "all_judged": len(verdicts),
        "all_rejected": all_rejected,
        "all_rejection_rate": round(all_rejected / len(verdicts), 4) if verdicts else None,
    }


if __name__ == "__main__":
    raise SystemExit(main())
