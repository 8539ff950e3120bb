"""How long does checking one draft against a full brand guide take?

    python bench/guard.py

Prints p50/p95/max of ``genpersona.guard.engine.check`` (warm: matchers compiled
once per guide and cached), the one-off compile cost, and a baseline: the naive
approach of looping over every term with its own case-insensitive ``re.search``
(word lists only, precompiled, so the baseline does *less* work than the real check).
Then the same drafts with the semantic creepy-line check (real MiniLM): with the draft's
embedding shared (precomputed once, as the pipeline's scoring stage does) and with the
guard embedding each draft itself. ``--no-semantic`` skips that part (no model load).
Targets: p95 <= 1 ms per draft without the semantic check, <= 5 ms with it (shared).
"""

from __future__ import annotations

import re
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evals.guard.run import load_cases  # noqa: E402
from genpersona.brands.guide import BrandGuide  # noqa: E402
from genpersona.brands.loader import clear_guide_cache, load_guide  # noqa: E402
from genpersona.embeddings.factory import get_embedder  # noqa: E402
from genpersona.guard.engine import as_content, check  # noqa: E402
from genpersona.guard.lexicons import SENSITIVE, US_TO_GB  # noqa: E402
from genpersona.guard.semantic import SemanticGuard  # noqa: E402
from genpersona.types.content import VariantContent  # noqa: E402

DAY = date(2026, 11, 22)
ROUNDS = 30
INSIDE_DRAFTS = 60  # per guide, for the pass that embeds inside the guard (a model call each)


def naive_terms(g: BrandGuide) -> list[str]:
    terms = [t.term for t in g.banned_terms if t.term]
    terms += [w for p in g.preferred_terms for w in p.instead_of]
    terms += list(g.competitors) + list(g.claims.triggers)
    terms += [w for c in g.claims.registry for w in c.wordings]
    terms += [t for words in SENSITIVE.values() for t in words] + list(US_TO_GB)
    return terms


def naive_compile(terms: list[str]) -> list[re.Pattern[str]]:
    return [re.compile(r"\b" + re.escape(t) + r"\b", re.IGNORECASE) for t in terms]


def naive_check(text: str, patterns: list[re.Pattern[str]]) -> int:
    """The obvious implementation: one precompiled regex per term, each searched in turn."""
    return sum(1 for p in patterns if p.search(text))


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1]


def semantic_part(
    drafts: dict[str, list[tuple[VariantContent | str, dict]]], full: VariantContent
) -> None:
    sg = SemanticGuard(get_embedder("minilm"))
    _ = sg.model  # load the shipped weights before the clock
    print(
        f"\nwith the semantic check (MiniLM), p50/p95 ms per draft; 'shared' = the scoring"
        f" stage's embedding passed in ({ROUNDS // 3} rounds), 'added' = shared minus words"
        f" for the same draft back to back, 'inside' = the guard embeds"
        f" (first {INSIDE_DRAFTS} drafts, 1 round)"
    )
    print(f"{'guide':<17}{'drafts':>7}{'words p50':>10}{'p95':>8}{'| shared p50':>12}{'p95':>8}"
          f"{'| added p50':>11}{'p95':>8}{'| inside p50':>12}{'p95':>8}")  # fmt: skip
    worst = 0.0
    for gid in sorted(drafts):
        guide = load_guide(gid)
        items = drafts[gid] + (
            [(full, {"kind": "hero", "send_date": DAY})] if gid == "giftloft" else []
        )
        texts = [as_content(c, kw["kind"]).all_text() or " " for c, kw in items]
        vecs = sg.embed(texts)
        words: list[float] = []
        shared: list[float] = []
        added: list[float] = []
        for _ in range(ROUNDS // 3):
            for (content, kw), vec in zip(items, vecs, strict=True):
                t = time.perf_counter()
                check(content, guide, **kw)
                words.append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                check(content, guide, **kw, semantic=sg, embedding=vec)
                shared.append((time.perf_counter() - t) * 1000)
                added.append(shared[-1] - words[-1])  # paired: machine load mostly cancels
        inside: list[float] = []
        for content, kw in items[:INSIDE_DRAFTS]:
            t = time.perf_counter()
            check(content, guide, **kw, semantic=sg)
            inside.append((time.perf_counter() - t) * 1000)
        worst = max(worst, pct(shared, 95))
        print(
            f"{gid:<17}{len(items):>7}{pct(words, 50):>10.3f}{pct(words, 95):>8.3f}"
            f"{pct(shared, 50):>12.3f}{pct(shared, 95):>8.3f}{pct(added, 50):>11.3f}"
            f"{pct(added, 95):>8.3f}{pct(inside, 50):>12.2f}"
            f"{pct(inside, 95):>8.2f}"
        )
    verdict = "MET" if worst <= 5.0 else "NOT MET"
    print(
        f"target p95 <= 5 ms per draft with the shared embedding: {verdict} (worst {worst:.3f} ms)"
    )


def main() -> None:
    with_semantic = "--no-semantic" not in sys.argv[1:]
    cases = load_cases("all")
    drafts: dict[str, list[tuple[VariantContent | str, dict]]] = {}
    for c in cases:
        drafts.setdefault(c.guide.id, []).append((c.content, c.kwargs))
    full = VariantContent(
        subject="Your favorite e-mail about Xmas!! 20% off Christmas decorations",
        preheader="We noticed you were browsing at 2am; call 07700 900123",
        headline="The BEST gifts, cheaper than John Lewis",
        subheadline="<b>Free</b> delivery, guaranteed, for {first_name}",
        cta="Buy now",
    )
    print(
        f"guard check timing, {ROUNDS} rounds over the eval drafts (warm), python {sys.version.split()[0]}"
    )
    print(
        f"{'guide':<17}{'drafts':>7}{'compile ms':>11}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}"
        f"{'| naive terms':>14}{'p50 ms':>9}{'p95 ms':>9}{'speed-up p95':>14}"
    )
    worst_p95 = 0.0
    for gid in sorted(drafts):
        clear_guide_cache()
        guide = load_guide(gid)
        t0 = time.perf_counter()
        check("warm up", guide, kind="subject_line", send_date=DAY)
        compile_ms = (time.perf_counter() - t0) * 1000
        items = drafts[gid] + (
            [(full, {"kind": "hero", "send_date": DAY})] if gid == "giftloft" else []
        )
        ours: list[float] = []
        for _ in range(ROUNDS):
            for content, kw in items:
                t = time.perf_counter()
                check(content, guide, **kw)
                ours.append((time.perf_counter() - t) * 1000)
        terms = naive_terms(guide)
        patterns = naive_compile(terms)
        naive: list[float] = []
        for _ in range(max(3, ROUNDS // 10)):
            for content, _kw in items:
                text = content if isinstance(content, str) else content.all_text()
                t = time.perf_counter()
                naive_check(text, patterns)
                naive.append((time.perf_counter() - t) * 1000)
        p95 = pct(ours, 95)
        worst_p95 = max(worst_p95, p95)
        print(
            f"{gid:<17}{len(items):>7}{compile_ms:>11.2f}{pct(ours, 50):>9.3f}{p95:>9.3f}"
            f"{max(ours):>9.3f}{len(terms):>14}{pct(naive, 50):>9.3f}{pct(naive, 95):>9.3f}"
            f"{pct(naive, 95) / p95:>13.1f}x"
        )
    gift = load_guide("giftloft")
    check(full, gift, kind="hero", send_date=DAY)  # compile
    rep = check(full, gift, kind="hero", send_date=DAY)
    print(f"a 5-field draft breaking {len(rep.violations)} rules: {rep.elapsed_ms:.3f} ms")
    verdict = "MET" if worst_p95 <= 1.0 else "NOT MET"
    print(f"target p95 <= 1 ms per draft: {verdict} (worst guide p95 {worst_p95:.3f} ms)")
    if with_semantic:
        semantic_part(drafts, full)


if __name__ == "__main__":
    main()
