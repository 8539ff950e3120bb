"""Units of the erasure design on fakes and small files: the home-file rewrite, the
in-memory store's rebuild filters, and the pending file."""

from __future__ import annotations

import json
import struct

import numpy as np

from genpersona.customers.compaction import mark_pending, read_pending, run_pending
from genpersona.customers.home_files import scrub_home_files
from genpersona.settings import get_settings
from genpersona.vectors.chroma_scrub import segment_has_heap_bytes
from genpersona.vectors.clean_child import clean_heap_env
from genpersona.vectors.memory import InMemoryVectorStore


def test_home_files_lose_the_customer_and_keep_everyone_else(tmp_path):
    (tmp_path / "chroma").mkdir()
    (tmp_path / "chroma" / "x.json").write_text(json.dumps({"customer_id": "42"}))  # a store's
    (tmp_path / "a.csv").write_text("customer_id,subject\n42,hi\n420,hello\n")
    (tmp_path / "b.jsonl").write_text(
        json.dumps({"customer_id": "42", "s": "x"}) + "\n" + json.dumps({"customer_id": "7"}) + "\n"
    )
    job = {"data": {"attributes": {"profiles": {"data": [
        {"type": "profile", "attributes": {"external_id": "42", "properties": {"p": 1}}},
        {"type": "profile", "attributes": {"external_id": "9", "properties": {"p": 2}}},
    ]}}}}  # fmt: skip
    (tmp_path / "k.jsonl").write_text(json.dumps(job) + "\n")
    (tmp_path / "mine.json").write_text(json.dumps({"customer": {"external_id": "42"}}))
    (tmp_path / "bad.jsonl").write_text("42 not json\n")
    (tmp_path / "other.csv").write_text("customer_id\n7\n")

    report = scrub_home_files(tmp_path, "42", skip=[tmp_path / "chroma"])

    assert sorted(report.rewritten) == ["a.csv", "b.jsonl", "k.jsonl"]
    assert report.deleted == ["mine.json"] and report.unreadable == ["bad.jsonl"]
    assert (tmp_path / "a.csv").read_text() == "customer_id,subject\n420,hello\n"
    assert [
        json.loads(x)["customer_id"] for x in (tmp_path / "b.jsonl").read_text().splitlines()
    ] == ["7"]
    profiles = json.loads((tmp_path / "k.jsonl").read_text())["data"]["attributes"]["profiles"]
    assert [p["attributes"]["external_id"] for p in profiles["data"]] == ["9"]
    assert (tmp_path / "chroma" / "x.json").exists()  # stores are scrubbed by their own code
    assert (tmp_path / "other.csv").read_text() == "customer_id\n7\n"


def test_rebuild_filters_dead_ids_and_metadata_on_the_fake():
    store = InMemoryVectorStore()
    vecs = np.eye(3, dtype=np.float32)
    store.upsert(
        "memory", ["mem:1", "mem:2", "mem:3"], vecs, [{"brand": "b", "customer_id": "x"}] * 3
    )
    report = store.rebuild(
        "memory",
        keep=lambda ids: {i for i in ids if i != "mem:2"},
        metadata_keys=frozenset({"brand"}),
    )
    assert (report.kept, report.dropped) == (2, 1)
    got = store.get("memory", ["mem:1", "mem:2", "mem:3"])
    assert got.ids == ["mem:1", "mem:3"] and got.metadatas == [{"brand": "b"}] * 2
    assert not store.keeps_deleted_bytes and store.scrub_files().done


def test_pending_file_names_no_customer_and_is_cleared():
    settings = get_settings()
    pending = mark_pending(settings, "shop", refit=True)
    mark_pending(settings, "shop", refit=True)
    stored = read_pending(settings)
    assert stored is not None and stored.erasures == 2 and stored.refit == ["shop"]
    assert "memory" in pending.collections
    run_pending(settings)
    assert read_pending(settings) is None


def test_heap_bytes_past_the_element_count_are_found(tmp_path):
    """The dirty check reads hnswlib's header and looks only past the element count."""
    seg = tmp_path / "seg"
    seg.mkdir()
    (seg / "header.bin").write_bytes(struct.pack("<iQQQQ", 1, 0, 4, 2, 8) + bytes(60))
    used = b"\x07" * 16  # two elements of 8 bytes: any bytes are fine there
    (seg / "length.bin").write_bytes(b"\x01" * 8 + bytes(8))
    (seg / "data_level0.bin").write_bytes(used + b"\x00" * 8 + b"\xff" * 8)
    assert not segment_has_heap_bytes(seg)
    (seg / "data_level0.bin").write_bytes(used + b"\x00" * 8 + b"4213\xff\xff\xff\xff")
    assert segment_has_heap_bytes(seg)
    (seg / "data_level0.bin").write_bytes(used + bytes(16))
    (seg / "length.bin").write_bytes(b"\x01" * 8 + b"abcd" + bytes(4))
    assert segment_has_heap_bytes(seg)


def test_clean_heap_env_keeps_other_tunables():
    env = clean_heap_env({"GLIBC_TUNABLES": "glibc.malloc.arena_max=2:glibc.malloc.tcache_count=7"})
    assert env["MALLOC_PERTURB_"] == "255"
    assert env["GLIBC_TUNABLES"] == "glibc.malloc.arena_max=2:glibc.malloc.tcache_count=0"
