"""Compaction in the background: a deferred erase queues work that names no person, the
worker's beat task finishes it (real embedded Chroma and SQLite, through Celery's task
machinery), one compaction runs at a time, and an erase recorded during a compaction is
not lost when that compaction clears the queue."""

from __future__ import annotations

import pytest

from genpersona.api import services
from genpersona.campaigns import beat
from genpersona.customers import compaction
from genpersona.customers.compaction import (
    compact_lock,
    compaction_due,
    mark_pending,
    pending_path,
    read_pending,
    run_pending,
)
from genpersona.customers.rights import erase_customer, export_customer
from genpersona.errors import CustomerNotFound
from genpersona.settings import get_settings
from tests.erasure_support import files_with
from tests.test_erasure_complete import (  # noqa: F401 - `home` is a fixture
    ERASED,
    _assert_hnsw_tails_clean,
    _assert_other_untouched,
    _populate,
    home,
)


def test_deferred_erase_is_finished_by_the_beat_task(home, tmp_path):  # noqa: F811
    state = _populate(tmp_path)
    needles: dict[str, bytes] = state["needles"]  # type: ignore[assignment]
    settings = get_settings()

    report = erase_customer("shop", ERASED, compact=False)

    assert report.compaction_pending and report.vectors_rebuilt == []
    with pytest.raises(CustomerNotFound):
        export_customer("shop", ERASED)  # gone for every reader at once
    assert compaction_due(settings)
    queued = pending_path(settings).read_bytes()
    assert [name for name, n in needles.items() if n in queued] == []  # the queue names no one
    assert files_with(home, needles)  # ...but the bytes are still in the stores' files

    entry = beat.app.conf.beat_schedule["erasure-compact"]
    assert entry["task"] == beat.COMPACT_TASK and entry["schedule"] == (
        settings.erasure_compact_every_s
    )
    assert beat.COMPACT_TASK in beat.app.tasks

    with compaction._flock(compact_lock(settings)):  # another worker is compacting this home
        busy = beat.compact_task.apply().get()
    assert busy["skipped"] and compaction_due(settings)

    done = beat.compact_task.apply().get()

    assert done["due"] and not done["skipped"] and not done["more_pending"]
    assert {"memory__g1", "exemplars__g1"} <= set(done["rebuilt"])
    assert not compaction_due(settings)
    assert files_with(home, needles) == []
    _assert_hnsw_tails_clean(home / "chroma")
    _assert_other_untouched(state)
    assert beat.compact_task.apply().get() == {"due": False}


def test_an_erase_recorded_during_a_compaction_stays_pending(home, monkeypatch):  # noqa: F811
    settings = get_settings()
    mark_pending(settings, "shop", refit=False)

    def another_erase_arrives(name: str) -> None:
        if name == "rebuilt":
            mark_pending(settings, "shop", refit=False)

    monkeypatch.setattr(compaction, "checkpoint", another_erase_arrives)
    first = run_pending(settings)

    assert first.more_pending
    pending = read_pending(settings)
    assert pending is not None and pending.erasures == 2
    monkeypatch.setattr(compaction, "checkpoint", lambda name: None)
    second = run_pending(settings)
    assert not second.more_pending and read_pending(settings) is None


def test_background_erase_setting_defers_and_sends_nothing_without_a_broker(
    home,  # noqa: F811
    tmp_path,
    monkeypatch,
):
    _populate(tmp_path)
    monkeypatch.setenv("GENPERSONA_ERASE_COMPACTION", "background")
    get_settings.cache_clear()
    settings = get_settings()
    assert not beat.send_compaction(settings)  # no broker: the beat entry will run it

    report = services._erase("shop", "10003", settings)  # what DELETE /v1/customers/... runs

    assert report.compaction_pending and report.vectors_rebuilt == []
    assert compaction_due(settings)
