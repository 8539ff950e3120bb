"""How long does checking one draft against a full brand guide take?

    python bench/guard.py

Prints p50/p95/max of ``genpersona.guard.engine.check`` (warm: matchers compiled
once per guide and cached), the one-off compile cost, and a baseline: the naive
approach of looping over every term with its own case-insensitive ``re.search``
(word lists only, precompiled, so the baseline does *less* work than the real check).
Target: p95 <= 1 ms per draft.
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
from genpersona.guard.engine import check  # noqa: E402
from genpersona.guard.lexicons import SENSITIVE, US_TO_GB  # noqa: E402
from genpersona.types.content import VariantContent  # noqa: E402

DAY = date(2026, 11, 22)
ROUNDS = 30


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


def main() -> None:
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


if __name__ == "__main__":
    main()
