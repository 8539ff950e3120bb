"""Erase reaches every byte: every file under the home is scanned for the customer's id (in
every encoding a store uses), their fact's text and its vector's raw bytes; another
customer's data and vectors are untouched. Real embedded Chroma and SQLite, fake embedder;
the same against a Chroma server on loopback; and a SIGKILL in the middle of an erase."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from genpersona.clickmodel.embed_cache import EmbeddingCache, text_key
from genpersona.clickmodel.train import embedding_cache, embeddings_root
from genpersona.context.retrieval import clear_context_caches, context_for
from genpersona.customers.compaction import read_pending, run_pending
from genpersona.customers.records import add_memory_fact, record_event, set_consent
from genpersona.customers.rights import erase_customer, export_customer
from genpersona.data.ingest_online_retail import ingest_online_retail
from genpersona.data.tables import Brand
from genpersona.db.engine import session_scope
from genpersona.delivery.export import export_campaign
from genpersona.embeddings.factory import get_embedder
from genpersona.errors import CustomerNotFound
from genpersona.recs.store import clear_recommender_cache, fit_recommender
from genpersona.settings import get_settings
from genpersona.vectors.base import EXEMPLARS, MEMORY, RebuildSpec
from genpersona.vectors.chroma_scrub import scrub_directory
from genpersona.vectors.clean_child import clean_heap_env
from genpersona.vectors.factory import clear_vector_store_cache, get_vector_store
from tests._data_fixtures import retail_frame, write_parquet
from tests.erasure_support import (
    files_with,
    hnsw_segments,
    id_needles,
    text_needles,
    vector_needles,
)

ERASED = "918273645"  # numeric, so the packed-integer forms are checked too
FACT = "Keeps a zq-7f3a9c51 lilac teapot collection in the greenhouse"
DRAFT_WORDS = "zq-4be21 violet kettle"
OTHER_FACT = "Bakes zq-0c55d2 rye loaves for the village fete"
ARCHIVE_LINE = "This zq-upw-77 headline comes from the public archive"
_EXT = {"jsonl": "jsonl", "csv": "csv", "klaviyo": "jsonl"}
SMALL_HNSW = {"hnsw:space": "cosine", "hnsw:batch_size": 2, "hnsw:sync_threshold": 2}


def _precreate_collections() -> None:
    """Tiny HNSW batch/sync thresholds: every vector reaches the segment files at once, so the
    scan really checks them (the default 1000 would keep a small test's vectors in the log)."""
    store = get_vector_store()
    client = store._client  # type: ignore[attr-defined]
    for name in (MEMORY, EXEMPLARS):
        client.get_or_create_collection(name, metadata=SMALL_HNSW, embedding_function=None)


def _reset_caches() -> None:
    clear_context_caches()
    clear_recommender_cache()
    clear_vector_store_cache()


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    guides = tmp_path / "guides"
    guides.mkdir()  # review edits are checked against the brand's guide: give 'shop' the demo one
    shutil.copy(get_settings().brand_guides_dir / "giftloft.yaml", guides / "shop.yaml")
    monkeypatch.setenv("GENPERSONA_BRAND_GUIDES_DIR", str(guides))
    get_settings.cache_clear()
    _reset_caches()
    yield get_settings().home_dir
    _reset_caches()


def _populate(tmp_path: Path) -> dict[str, object]:
    """Shop with the erased customer (purchase, unique fact, reviewed draft) and another."""
    from genpersona.review.queue import edit_and_approve, submit_draft
    from genpersona.review.seed import make_draft
    from genpersona.types.content import VariantContent

    _precreate_collections()
    ingest_online_retail(
        write_parquet(retail_frame(), tmp_path / "r.parquet"), "shop", fit_recs=fit_recommender
    )
    home = get_settings().home_dir
    needles = {f"id {k}": v for k, v in id_needles(ERASED).items()}
    needles |= {f"fact {k}": v for k, v in text_needles(FACT).items()}
    needles |= {f"draft {k}": v for k, v in text_needles(DRAFT_WORDS).items()}
    needles |= {f"vector {k}": v for k, v in vector_needles(get_embedder().embed_one(FACT)).items()}
    copy_vector = get_embedder().embed_one(f"Your {DRAFT_WORDS} picks")
    needles |= {f"copy vector {k}": v for k, v in vector_needles(copy_vector).items()}
    needles["copy cache key"] = text_key(f"Your {DRAFT_WORDS} picks").encode(
        "utf-32-le"
    )  # numpy str
    coincidental = {name for _, name in files_with(home, needles)}  # before the customer exists
    needles = {k: v for k, v in needles.items() if k not in coincidental}

    record_event(
        "shop", ERASED, "purchase", stock_code="22423", quantity=2, unit_price=12.75,
        order_id="Z-1", create_customer=True,
    )  # fmt: skip
    set_consent("shop", ERASED, personalization=True, chat_memory=True)
    add_memory_fact("shop", ERASED, FACT, "chat", True)
    set_consent("shop", ERASED, email=True)
    set_consent("shop", "10002", email=True)
    for cid, seed, words in ((ERASED, 7, DRAFT_WORDS), ("10002", 8, "sunny tea towels")):
        draft = make_draft(
            random.Random(seed), brand="shop", kind="subject_line", customer_id=cid,
            campaign="spring", violation_rate=0.0, fallback_rate=0.0,
        )  # fmt: skip
        draft.brief = f"about {words}"
        stored = submit_draft(draft)
        edit_and_approve(
            stored.id, 0, VariantContent(subject=f"Your {words} picks"), "alice", stored.version
        )
    exports = home / "exports"  # campaign exports written under the home (each logs exposures)
    exports.mkdir()
    for fmt in ("jsonl", "csv", "klaviyo"):
        report = export_campaign("shop", "spring", fmt, exports / f"spring.{fmt}.{_EXT[fmt]}")
        assert report.rows == 2
    (exports / "mine.json").write_text(json.dumps(export_customer("shop", ERASED)))
    # the click model's embedding cache, as `learn train --outcomes` fills it with the
    # brand's sent copy (both customers' subjects) and an archive headline
    cache = embedding_cache(get_settings(), get_embedder())
    cache.embed([f"Your {DRAFT_WORDS} picks", "Your sunny tea towels picks", ARCHIVE_LINE])
    other = add_memory_fact("shop", "10002", OTHER_FACT, "chat", True)
    with session_scope() as session:
        fit_recommender(session, session.scalar(select(Brand)), get_vector_store())
    other_id = f"mem:{other.fact_id}"
    return {
        "needles": needles,
        "other_id": other_id,
        "other_vector": get_vector_store().get(MEMORY, [other_id]).vectors[0].copy(),
        "other_export": export_customer("shop", "10002"),
    }


def _assert_written(home: Path, needles: dict[str, bytes]) -> None:
    found = {name for _, name in files_with(home, needles)}
    for name in ("id utf-8", "id utf-32-le", "fact utf-8", "draft utf-8", "vector float32"):
        assert name in found, f"{name} was never written: the scan would prove nothing"
    in_cache = {name for _, name in files_with(home / "learning" / "embeddings", needles)}
    assert {"copy vector float32", "copy cache key"} <= in_cache, "the cache check proves nothing"
    segment_files = files_with(home / "chroma", needles)
    assert any("/" in path and name.startswith("vector unit") for path, name in segment_files), (
        "the fact's vector never reached an HNSW segment file"
    )


def _assert_other_untouched(state: dict[str, object]) -> None:
    store = get_vector_store()
    got = store.get(MEMORY, [str(state["other_id"])])
    assert got.ids == [state["other_id"]]
    np.testing.assert_array_equal(got.vectors[0], state["other_vector"])
    after = export_customer("shop", "10002")
    before = state["other_export"]
    for key in ("customer", "consent", "profile", "events", "memory_facts", "other"):
        assert after[key] == before[key]  # type: ignore[index]
    bundle = context_for("shop", "10002", "rye loaves fete")
    assert OTHER_FACT in [m.text for m in bundle.memories]


def _assert_hnsw_tails_clean(chroma_dir: Path) -> None:
    """Every HNSW segment's unused element slots (past the header's element count) hold
    only the clean child's fill bytes, never old heap."""
    segments = hnsw_segments(chroma_dir)
    assert segments, "no HNSW segment was written: the check would prove nothing"
    for seg in segments:
        assert seg.tail_bytes() <= {0x00, 0xFF}, f"heap bytes in the unused slots of {seg}"


def _assert_no_customer_metadata() -> None:
    store = get_vector_store()
    metas = store.get(MEMORY, store.ids(MEMORY)).metadatas
    assert metas and all(set(m) <= {"brand"} for m in metas)


def _soil_segment_tails(chroma_dir: Path) -> None:
    """Put bytes that look like heap into the last unused slot of every HNSW segment (what
    an index created by an ordinary process may hold), so the dirty check has work."""
    for seg in hnsw_segments(chroma_dir):
        _, count, size = seg.header()
        level0 = seg.path / "data_level0.bin"
        if level0.stat().st_size // size - 1 >= count:
            with open(level0, "r+b") as fh:
                fh.seek(level0.stat().st_size - 16)
                fh.write(b"zq-junk-heap-000")


def test_erase_leaves_no_byte_of_the_customer_under_the_home(home, tmp_path):
    state = _populate(tmp_path)
    needles: dict[str, bytes] = state["needles"]  # type: ignore[assignment]
    _assert_written(home, needles)
    _soil_segment_tails(home / "chroma")

    # another process's cache object, loaded before the erase (this process's are forgotten)
    stale_cache = EmbeddingCache(embeddings_root(home), get_embedder())
    assert len(stale_cache) == 3
    report = erase_customer("shop", ERASED)

    assert report.rows["customers"] == 1 and report.rows["review_queue"] >= 3
    assert report.caches_dropped == {"clickmodel.embeddings": 1}
    # a cache object loaded before the erase does not write the dropped vectors back
    stale_cache.embed(["A headline embedded after the erase"])
    assert len(stale_cache) == 1
    assert report.recommender_refitted and report.vacuumed
    # every needle, in every file: the rebuilt HNSW files were written by a clean child
    # process, so their unused slots hold no heap bytes of this one (vectors/clean_child.py)
    assert files_with(home, needles) == []
    _assert_hnsw_tails_clean(home / "chroma")
    # the catalog too: its files (created by this process) held "heap" bytes
    assert sorted(report.vectors_rebuilt) == ["catalog__g1", "exemplars__g1", "memory__g1"]
    assert read_pending(get_settings()) is None
    assert report.files is not None and report.files.deleted == ["exports/mine.json"]
    assert len(report.files.rewritten) == 3 and not report.files.unreadable
    for path in (home / "exports").iterdir():
        assert "10002" in path.read_text()  # the other recipient is still in every export
    with pytest.raises(CustomerNotFound):
        export_customer("shop", ERASED)
    _assert_no_customer_metadata()
    _assert_other_untouched(state)
    # the next erase rebuilds again, from the new generation
    again = erase_customer("shop", "10003")
    assert {"exemplars__g2", "memory__g2"} <= set(again.vectors_rebuilt)
    _assert_other_untouched(state)


def test_an_older_home_is_rekeyed_by_compact(home, tmp_path):
    """Homes written before this design carry customer ids in memory metadata: ``compact
    --force`` (the migration) rewrites the collection without them."""
    state = _populate(tmp_path)
    store = get_vector_store()
    other_id = str(state["other_id"])
    store.upsert(
        MEMORY, [other_id], np.asarray([state["other_vector"]]),
        [{"brand": "shop", "customer_id": "10002"}],
    )  # fmt: skip
    assert store.get(MEMORY, [other_id]).metadatas[0]["customer_id"] == "10002"
    orphan = "mem:999999"  # a vector whose row never committed (a crashed writer)
    store.upsert(MEMORY, [orphan], np.asarray([state["other_vector"]]), [{"brand": "shop"}])

    report = run_pending(force=True)

    memory = next(r for r in report.rebuilt if r.collection == MEMORY)
    assert memory.dropped >= 1 and store.get(MEMORY, [orphan]).ids == []
    _assert_no_customer_metadata()
    assert files_with(home / "chroma", {"k+v": b"customer_id10002"}) == []
    _assert_other_untouched(state)


def test_rebuilt_hnsw_files_hold_no_heap_bytes(home):
    """The mechanism on its own: this process's heap has held a marker (as Python buffers
    and as Chroma documents), a collection is written here, and the rebuild writes its next
    generation in the clean child: the new files' unused slots are fill bytes only, no file
    under the Chroma directory holds the marker, and the vectors are intact."""
    marker = "zq-heap-5e1f0b-"
    store = get_vector_store()
    client = store._client  # type: ignore[attr-defined]
    junk = [(marker * 4000).encode() for _ in range(50)]  # 60 KB each, through malloc
    poison = client.get_or_create_collection("poison", metadata=SMALL_HNSW)
    rng = np.random.default_rng(3)
    poison.upsert(
        ids=[f"p{i}" for i in range(200)],
        embeddings=rng.standard_normal((200, 8)).astype(np.float32),
        documents=[marker * 40] * 200,
    )
    client.delete_collection("poison")
    del junk
    vecs = rng.standard_normal((30, 8)).astype(np.float32)
    ids = [f"mem:{i}" for i in range(30)]
    client.get_or_create_collection(MEMORY, metadata=SMALL_HNSW, embedding_function=None)
    store.upsert(MEMORY, ids, vecs, [{"brand": "shop"}] * 30)  # generation 0, written here
    chroma_dir = get_settings().chroma_path
    before = {p.name for p in chroma_dir.iterdir()}

    (report,) = store.rebuild_many([RebuildSpec(MEMORY)])
    assert store.scrub_files().done

    assert (report.physical, report.kept) == ("memory__g1", 30)
    rebuilt = hnsw_segments(chroma_dir, exclude=before)
    assert len(rebuilt) == 1 and rebuilt[0].tail_size() > 0  # there are unused slots
    assert rebuilt[0].tail_bytes() <= {0x00, 0xFF}
    assert files_with(chroma_dir, {"marker": marker.encode()}) == []
    got = store.get(MEMORY, ids)
    unit = vecs / np.linalg.norm(vecs, axis=1, keepdims=True)
    np.testing.assert_allclose(
        got.vectors / np.linalg.norm(got.vectors, axis=1, keepdims=True), unit, atol=1e-6
    )


# --- a Chroma server by URL ------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def chroma_server(tmp_path, monkeypatch):
    exe = Path(sys.executable).parent / "chroma"
    if not exe.exists():
        pytest.skip(f"no chroma CLI next to {sys.executable}: install chromadb into that venv")
    path, port = tmp_path / "chroma-server", _free_port()
    proc = subprocess.Popen(  # started as the guide tells operators: glibc fills and wipes
        [str(exe), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=clean_heap_env(),
    )  # fmt: skip
    import httpx

    for _ in range(100):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).is_success:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            pytest.skip("chroma run exited at start")
        time.sleep(0.2)
    else:
        proc.kill()
        pytest.skip("chroma run did not answer within 20 s")
    monkeypatch.setenv("GENPERSONA_CHROMA_URL", f"http://127.0.0.1:{port}")
    get_settings.cache_clear()
    clear_vector_store_cache()
    yield proc, path
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def test_erase_on_a_chroma_server(home, tmp_path, chroma_server):
    """Over HTTP genpersona rebuilds the collections and strips metadata; the server's disk is
    the operator's: after ``scrub_directory`` (what `genpersona vectors scrub-dir` runs on the
    server's machine, server stopped) nothing of the customer is left there either."""
    proc, server_dir = chroma_server
    state = _populate(tmp_path)
    needles: dict[str, bytes] = state["needles"]  # type: ignore[assignment]
    assert files_with(server_dir, needles)  # the server really holds the vector

    report = erase_customer("shop", ERASED)

    assert sorted(report.vectors_rebuilt) == ["exemplars__g1", "memory__g1"]
    scrub = get_vector_store().scrub_files()
    assert not scrub.done and "chroma vacuum" in scrub.note
    assert files_with(home, needles) == []  # nothing in the home (SQL, recs, pending file)
    _assert_no_customer_metadata()
    _assert_other_untouched(state)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    assert scrub_directory(server_dir).done
    assert files_with(server_dir, needles) == []
    _assert_hnsw_tails_clean(server_dir)  # the server ran with the guide's glibc settings


# --- a crash in the middle ---------------------------------------------------------------
_CRASHING_ERASE = """
import pathlib, time
from genpersona.customers import compaction
from genpersona.customers.rights import erase_customer
from genpersona.vectors import chroma

def stop_here(name):
    if name == {at!r}:
        pathlib.Path({flag!r}).write_text(name)
        time.sleep(600)

compaction.checkpoint = stop_here
if {at!r} == "in-rebuild-child":  # the child stops after its first page and writes the flag
    chroma._REBUILD_CHILD = "tests.erasure_slow_child"
erase_customer("shop", {cid!r})
"""


def _erase_and_kill(tmp_path: Path, at: str) -> None:
    flag = tmp_path / f"reached-{at}"
    script = _CRASHING_ERASE.format(at=at, flag=str(flag), cid=ERASED)
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    env["GENPERSONA_TEST_SLOW_CHILD_FLAG"] = str(flag)
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(script)], env=env)
    try:
        for _ in range(1200):
            if flag.exists() or proc.poll() is not None:
                break
            time.sleep(0.1)
        assert flag.exists(), f"the erase never reached {at} (exit {proc.poll()})"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    if at == "in-rebuild-child":  # the child dies with its parent (PR_SET_PDEATHSIG)
        child = int(flag.read_text())
        for _ in range(100):
            if not Path(f"/proc/{child}").exists():
                break
            time.sleep(0.1)
        assert not Path(f"/proc/{child}").exists(), "the rebuild child outlived its parent"
    _reset_caches()


@pytest.mark.parametrize("at", ["rows-deleted", "committed", "in-rebuild-child", "rebuilt"])
def test_a_killed_erase_is_whole_or_gone_and_a_rerun_finishes_it(home, tmp_path, at):
    state = _populate(tmp_path)
    needles: dict[str, bytes] = state["needles"]  # type: ignore[assignment]
    _reset_caches()  # the subprocess must not race this process's open Chroma client
    _erase_and_kill(tmp_path, at)

    if at == "rows-deleted":  # killed inside the SQL transaction: rolled back, still whole
        exported = export_customer("shop", ERASED)
        assert [f["text"] for f in exported["memory_facts"]] == [FACT]
        assert exported["other"]["review_queue"]["drafts"]
    else:  # killed after the commit: gone, and the leftovers are listed as pending work
        with pytest.raises(CustomerNotFound):
            export_customer("shop", ERASED)
    assert read_pending(get_settings()) is not None

    report = erase_customer("shop", ERASED)

    assert report.resumed == (at != "rows-deleted")
    assert files_with(home, needles) == []
    _assert_hnsw_tails_clean(home / "chroma")
    assert read_pending(get_settings()) is None
    assert not [c for c in get_vector_store().list_collections() if "__build" in c]
    _assert_no_customer_metadata()
    _assert_other_untouched(state)


# --- PostgreSQL as the relational store ------------------------------------------------------
@pytest.fixture
def postgres(monkeypatch):
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from genpersona.db.engine import dispose_engines

    server = os.environ.get("GENPERSONA_TEST_PG_URL")
    if not server:
        pytest.skip("GENPERSONA_TEST_PG_URL is not set: it names a PostgreSQL server")
    name = f"gp_erase_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    monkeypatch.setenv("GENPERSONA_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    dispose_engines()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_erase_with_postgresql_vacuums_and_leaves_nothing_in_the_home(home, tmp_path, postgres):
    """The home then holds Chroma, the recommender and exports: all scrubbed; PostgreSQL gets
    VACUUM (and VACUUM FULL from ``compact --full``) — what that guarantees is in the docs."""
    state = _populate(tmp_path)
    needles: dict[str, bytes] = state["needles"]  # type: ignore[assignment]

    report = erase_customer("shop", ERASED)

    assert report.vacuumed and {"exemplars__g1", "memory__g1"} <= set(report.vectors_rebuilt)
    assert files_with(home, needles) == []
    with pytest.raises(CustomerNotFound):
        export_customer("shop", ERASED)
    assert run_pending(force=True, full=True).database_vacuumed
    _assert_other_untouched(state)
