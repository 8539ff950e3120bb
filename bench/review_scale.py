"""Review at campaign scale: share auto-approved / routed and the audit's rejection rate.

    python bench/review_scale.py [--customers 2000] [--home DIR] [--seed-exemplars 30]

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
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--home", type=Path, default=None)
    parser.add_argument("--seed-exemplars", type=int, default=30)
    parser.add_argument("--audit-share", type=float, default=0.05)
    parser.add_argument("--campaign", default="scale-2000")
    args = parser.parse_args()
    home = args.home or Path(tempfile.mkdtemp(prefix="gp-review-scale-"))
    os.environ["GENPERSONA_HOME"] = str(home)
    os.environ.setdefault("GENPERSONA_LLM", "fake")
    os.environ.setdefault("GENPERSONA_EMBEDDER", "fake")

    from genpersona.brands.loader import load_guide
    from genpersona.campaigns.definitions import CampaignDefinition, ReviewPolicy
    from genpersona.campaigns.review_policy import (
        AUTO_ACTOR,
        apply_review_policy,
        audit_samples,
    )
    from genpersona.campaigns.runner import run_campaign
    from genpersona.campaigns.segments import Segment, select_customers
    from genpersona.cli.demo import ensure_demo_data
    from genpersona.guard.engine import check
    from genpersona.review.decisions import approve
    from genpersona.review.queue import get_draft, get_draft_detail
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

    t1 = time.perf_counter()
    report = run_campaign(
        "giftloft",
        "subject_line",
        Segment(customer_ids=target),
        "our new season gift picks",
        args.campaign,
        3,
        settings=settings,
    )
    gen_s = time.perf_counter() - t1
    print(f"campaign: {report.generated} drafts generated, {report.failed} failed in {gen_s:.0f}s")

    definition = CampaignDefinition(
        name=args.campaign,
        brand="giftloft",
        brief="our new season gift picks",
        review=ReviewPolicy(mode="auto", audit_share=args.audit_share, min_audits=1_000_000),
        schedule={"cron": "0 9 * * MON", "timezone": "Europe/London"},
    )
    baseline = apply_review_policy([], ReviewPolicy(mode="all"), "giftloft", "baseline")
    t2 = time.perf_counter()
    policy = apply_review_policy(
        report.draft_ids, definition.review, "giftloft", args.campaign, settings=settings
    )
    n = max(policy.drafts, 1)
    print(f"policy applied in {time.perf_counter() - t2:.0f}s")
    print(f"baseline (mode all): 0.0% auto-approved, 100.0% routed ({baseline.mode})")
    print(
        f"auto: {policy.auto_approved / n:.1%} auto-approved, {policy.routed / n:.1%} routed "
        f"of {policy.drafts} drafts; by rule {policy.by_rule}"
    )
    samples = audit_samples("giftloft", args.campaign, settings)
    rejected = 0
    for s in samples:
        d = get_draft(int(s["draft_id"]), settings)  # type: ignore[call-overload]
        chosen = get_draft_detail(d.id or 0, settings).chosen_variant
        rejected += not reviewer_ok(d, chosen)
    rate = rejected / len(samples) if samples else 0.0
    print(
        f"audit: {len(samples)} sampled ({args.audit_share:.0%} share), {rejected} rejected by "
        f"the reviewer rules -> rejection rate {rate:.1%}; actor {AUTO_ACTOR}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
