"""Queue page speed at 10,000 pending drafts: the indexed page query and the rendered console page,
against two baselines measured in the same run (same data, same machine).

    python bench/console.py [--drafts 10000] [--runs 30]

Baselines: (a) the same page query on a copy of the database without the
queue's indexes, (b) loading every pending draft and filtering/sorting in
Python (what a naive console would do). The render figure is a full
``streamlit.testing`` run of the queue page (script + library + query).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _report(name: str, samples: list[float]) -> tuple[float, float]:
    p50, p95 = statistics.median(samples), _pct(samples, 0.95)
    print(f"  {name:<58} p50 {p50:8.2f} ms   p95 {p95:8.2f} ms   (n={len(samples)})")
    return p50, p95


def _time(fn, runs: int) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--drafts", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="gp-bench-console-"))
    os.environ.update(GENPERSONA_HOME=str(home), GENPERSONA_EMBEDDER="fake", GENPERSONA_LLM="fake")
    from genpersona.db.engine import dispose_engines, session_scope
    from genpersona.review.convert import draft_from_rows
    from genpersona.review.models import QueueFilter
    from genpersona.review.queue import list_drafts
    from genpersona.review.seed import seed_queue
    from genpersona.review.tables import DraftRow, DraftVariantRow
    from genpersona.settings import Settings, get_settings

    try:
        t = time.perf_counter()
        seed_queue(args.drafts, seed=1, brands=("giftloft", "northbank", "teahouse"))
        print(
            f"seeded {args.drafts:,} pending drafts in {time.perf_counter() - t:.1f} s (SQLite, {home})"
        )
        settings = get_settings()
        last = -(-args.drafts // 25)
        cases = {
            "page 1, oldest first": (QueueFilter(), "oldest", 1),
            "page 1, highest score first": (QueueFilter(), "score_desc", 1),
            f"last page ({last}), oldest first": (QueueFilter(), "oldest", last),
            "brand + has violations, by score": (
                QueueFilter(brand="northbank", has_violations=True),
                "score_desc",
                1,
            ),
        }

        print("\nindexed queue query (list_drafts: counts per status + one page of 25)")
        indexed: dict[str, float] = {}
        for name, (flt, sort, page) in cases.items():
            list_drafts(flt, sort, page, 25, settings)  # warm
            indexed[name] = _report(
                name,
                _time(lambda f=flt, s=sort, p=page: list_drafts(f, s, p, 25, settings), args.runs),
            )[0]

        print("\nbaseline (a): the same query without the queue's indexes")
        bare = home / "noindex" / "genpersona.db"
        bare.parent.mkdir()
        dispose_engines()
        shutil.copy(home / "genpersona.db", bare)
        with sqlite3.connect(bare) as conn:
            names = [
                r[0]
                for r in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type='index' AND tbl_name='drafts' "
                    "AND sql IS NOT NULL"
                )
            ]
            for name in names:
                conn.execute(f'DROP INDEX "{name}"')
        bare_settings = Settings(home=home, database_url=f"sqlite:///{bare}")
        for name, (flt, sort, page) in cases.items():
            list_drafts(flt, sort, page, 25, bare_settings)
            p50, _ = _report(
                name,
                _time(
                    lambda f=flt, s=sort, p=page: list_drafts(f, s, p, 25, bare_settings), args.runs
                ),
            )
            print(f"  {'':<58} -> indexed is {p50 / max(indexed[name], 1e-6):.1f}x faster")

        print("\nbaseline (b): load all pending drafts, filter and sort in Python")

        def naive() -> None:
            from sqlalchemy import select

            with session_scope(settings) as session:
                rows = list(session.scalars(select(DraftRow).where(DraftRow.status == "pending")))
                variants: dict[int, list] = {}
                for v in session.scalars(select(DraftVariantRow)):
                    variants.setdefault(v.draft_id, []).append(v)
                drafts = [draft_from_rows(r, variants.get(r.id, [])) for r in rows]
            drafts.sort(key=lambda d: -d.top.scores.total)
            _ = drafts[:25]

        naive_p50, _ = _report("all drafts -> Python sort -> first 25", _time(naive, 3))
        print(
            f"  {'':<58} -> indexed page 1 is {naive_p50 / max(indexed['page 1, highest score first'], 1e-6):.0f}x faster"
        )

        print("\nconsole queue page, full render (streamlit.testing AppTest)")
        from streamlit.testing.v1 import AppTest

        at = AppTest.from_file(str(ROOT / "app" / "console.py"), default_timeout=120)
        at.session_state["reviewer"] = "bench"
        at.run()
        assert not at.exception, at.exception
        assert at.title[0].value == "Review queue"
        renders = []
        for _ in range(max(5, args.runs // 3)):
            t = time.perf_counter()
            at.run()
            renders.append((time.perf_counter() - t) * 1000)
        _report(f"queue page at {args.drafts:,} pending drafts (25 rows)", renders)
        print(f"  on-page figure: {at.caption[-1].value}")
    finally:
        dispose_engines()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
