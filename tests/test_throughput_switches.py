"""The A/B switches the campaign benchmark measures: each one really turns its path off,
and the copy-examples matcher gives the reference algorithm's closeness exactly."""

from __future__ import annotations

import random
from difflib import SequenceMatcher

import numpy as np
import pytest
from sqlalchemy.engine import Row

from genpersona.agent.quality_examples import ExampleMatcher, _words, copied_from
from genpersona.context.retrieval import _CUSTOMER_SQL
from genpersona.data.tables import Brand, Customer
from genpersona.db.engine import get_engine, session_scope
from genpersona.db.fast_read import FAST_READER
from genpersona.embeddings.factory import clear_embedder_cache, get_caching_embedder
from genpersona.embeddings.fake import FakeEmbedder
from genpersona.settings import get_settings


def _reference(text: str, examples: list[str]) -> float:
    """``copied_from`` written plainly: one SequenceMatcher per pair, and a run of four or
    more words found inside an example is a lift (1.0)."""
    words = _words(text)
    if not words or not examples:
        return 0.0
    best = 0.0
    for example in examples:
        other = _words(example)
        if not other:
            continue
        n = len(words)
        lifted = n >= 4 and any(other[i : i + n] == words for i in range(len(other) - n + 1))
        if other == words or lifted:
            return 1.0
        best = max(best, SequenceMatcher(None, words, other, autojunk=False).ratio())
    return round(best, 4)


def test_example_matcher_gives_the_reference_closeness_exactly() -> None:
    rng = random.Random(5)
    vocab = [
        "fresh",
        "bunting",
        "for",
        "your",
        "next",
        "garden",
        "party",
        "tea",
        "two",
        "cake",
        "stand",
        "soft",
        "light",
        "the",
        "a",
    ]
    examples = [" ".join(rng.choices(vocab, k=rng.randint(2, 9))) for _ in range(40)] + [""]
    matcher = ExampleMatcher(examples)
    lifts = []
    for example in examples[:40:4]:  # runs of 3-6 words from inside the examples
        w = example.split()
        i = rng.randint(0, max(0, len(w) - 3))
        lifts.append(" ".join(w[i : i + rng.randint(3, 6)]))
    lines = [" ".join(rng.choices(vocab, k=rng.randint(1, 10))) for _ in range(400)]
    for line in lines + lifts + ["zebra crossing", "the the the the"]:
        assert matcher.closeness(line) == _reference(line, examples), line
        assert copied_from(line, examples) == _reference(line, examples)
    assert any(_reference(line, examples) == 1.0 for line in lifts)  # the lift rule is hit
    assert matcher.closeness(examples[3].upper() + "!") == 1.0
    assert ExampleMatcher([]).closeness("anything") == 0.0


def _seed() -> int:
    with session_scope() as s:
        brand = Brand(slug="shop", name="shop")
        s.add(brand)
        s.flush()
        s.add(Customer(brand_id=brand.id, external_id="c1", country="France"))
        return int(brand.id)


@pytest.mark.parametrize("on", [True, False])
def test_fast_read_switch_picks_the_path(monkeypatch: pytest.MonkeyPatch, on: bool) -> None:
    brand_id = _seed()
    monkeypatch.setenv("GENPERSONA_FAST_READ", "true" if on else "false")
    get_settings.cache_clear()
    rows = FAST_READER.all(get_engine(), _CUSTOMER_SQL, {"brand_id": brand_id, "external_id": "c1"})
    assert len(rows) == 1
    assert isinstance(rows[0], Row) is (not on)  # Core rows only when the fast path is off


class Counting(FakeEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.embedded = 0

    def embed(self, texts: list[str]) -> np.ndarray:
        self.embedded += len(texts)
        return super().embed(texts)


@pytest.mark.parametrize("size", [0, 16])
def test_embed_cache_size_zero_embeds_every_time(
    monkeypatch: pytest.MonkeyPatch, size: int
) -> None:
    monkeypatch.setenv("GENPERSONA_EMBED_CACHE_SIZE", str(size))
    get_settings.cache_clear()
    clear_embedder_cache()
    inner = Counting()
    monkeypatch.setattr("genpersona.embeddings.factory.get_embedder", lambda *a, **k: inner)
    cached = get_caching_embedder()
    first = cached.embed(["tea for two", "cake"])
    again = cached.embed(["tea for two", "cake"])
    cached.remember(["lanterns"], [first[0]])
    cached.embed(["lanterns"])
    assert np.array_equal(first, again)
    assert inner.embedded == (5 if size == 0 else 2)
    clear_embedder_cache()


class _Result:
    def __init__(self, batch: list[dict]) -> None:
        self.batch = batch

    def get(self, timeout: float, propagate: bool) -> list[dict]:
        return [{"customer_id": r["customer_id"], "status": "generated"} for r in self.batch]

    def revoke(self) -> None:
        raise AssertionError("no task failed")


class _Client:
    def __init__(self) -> None:
        self.sizes: list[int] = []

    def send_task(self, name: str, args: list, queue: str) -> _Result:
        self.sizes.append(len(args[0]))
        return _Result(args[0])


@pytest.mark.parametrize(("task_batches", "sizes"), [(1, [4, 4, 2]), (2, [8, 2]), (4, [10])])
def test_celery_tasks_carry_task_batches_batches_of_customers(
    monkeypatch: pytest.MonkeyPatch, task_batches: int, sizes: list[int]
) -> None:
    from genpersona.campaigns import tasks
    from genpersona.types.content import ContentRequest

    client = _Client()
    monkeypatch.setattr(tasks, "ensure_ready", lambda settings: client)
    settings = get_settings().model_copy(
        update={"campaign_batch_size": 4, "campaign_task_batches": task_batches}
    )
    requests = [
        ContentRequest(brand="shop", kind="subject_line", customer_id=f"c{i}") for i in range(10)
    ]
    results = tasks.run_distributed(requests, settings=settings)
    assert client.sizes == sizes
    assert [r.customer_id for r in results] == [f"c{i}" for i in range(10)]
