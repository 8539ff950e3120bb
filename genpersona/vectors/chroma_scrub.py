"""Scrub a Chroma directory's files: remove segment directories no collection references
(Chroma leaves a dropped collection's HNSW files on disk, even after ``chroma vacuum``) and
VACUUM ``chroma.sqlite3`` so freed pages keep no deleted metadata or log entries.

Always in a child process (``python -m genpersona.vectors.chroma_scrub DIR``): the embedded
client links its own SQLite, and a second SQLite library opening the same file in the same
process breaks POSIX locking (closing our connection drops Chroma's locks; SQLite's docs,
"How To Corrupt An SQLite Database File", 2.2.1). Measured: doing it in-process made
concurrent Chroma reads fail with "database disk image is malformed".

``dirty_collections`` (``--dirty DIR``, same child) finds the collections whose HNSW files
hold uninitialised heap in their unused element slots: hnswlib writes an index's whole
capacity when it creates it, and only a clean child's fill is 0x00/0xff
(``clean_child.py``). Compaction rebuilds those.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import struct
import subprocess
import sys
from pathlib import Path

from genpersona.errors import VectorStoreError
from genpersona.vectors.base import ScrubReport

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def scrub_directory(path: Path) -> ScrubReport:
    """The scrub itself; call it only from a process with no Chroma client on ``path`` (the
    child below, or an operator's shell on a server's machine)."""
    db = path / "chroma.sqlite3"
    if not db.exists():
        return ScrubReport(done=True, note="no chroma.sqlite3")
    con = sqlite3.connect(db, timeout=60, isolation_level=None)
    try:
        live = {row[0] for row in con.execute("SELECT id FROM segments")}
        removed = 0
        for child in path.iterdir():
            if child.is_dir() and _UUID.match(child.name) and child.name not in live:
                shutil.rmtree(child)
                removed += 1
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        con.execute("VACUUM")
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        con.close()
    return ScrubReport(done=True, removed_dirs=removed, vacuumed=True)


def segment_has_heap_bytes(segment: Path) -> bool:
    """Bytes other than 0x00/0xff in the slots past the header's element count of
    ``data_level0.bin`` or ``length.bin`` (hnswlib's ``persistHeader``: int version, then
    size_t offsetLevel0, max_elements, cur_element_count, size_data_per_element)."""
    header = (segment / "header.bin").read_bytes()
    _, _, _, count, size = struct.unpack_from("<iQQQQ", header)
    for name, start in (("data_level0.bin", count * size), ("length.bin", count * 4)):
        file = segment / name
        if file.exists() and file.read_bytes()[start:].translate(None, b"\x00\xff"):
            return True
    return False


def dirty_collections(path: Path) -> list[str]:
    """Names of the collections (physical) with an HNSW segment that holds heap bytes."""
    db = path / "chroma.sqlite3"
    if not db.exists():
        return []
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=60)
    try:
        rows = con.execute(
            "SELECT s.id, c.name FROM segments s JOIN collections c ON c.id = s.collection "
            "WHERE s.scope = 'VECTOR'"
        ).fetchall()
    finally:
        con.close()
    return sorted(
        {
            name
            for seg, name in rows
            if (path / seg / "header.bin").exists() and segment_has_heap_bytes(path / seg)
        }
    )


def dirty_in_subprocess(path: Path, timeout: float = 600) -> list[str]:
    """``dirty_collections`` in a child process (same reason as the scrub)."""
    proc = subprocess.run(
        [sys.executable, "-m", "genpersona.vectors.chroma_scrub", "--dirty", str(path)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        raise VectorStoreError(
            f"checking {path} for heap bytes failed: {proc.stderr.strip()[-500:]}",
            fix="fix the cause shown, then re-run `genpersona customer compact`",
            path=str(path),
        )
    return [str(n) for n in json.loads(proc.stdout.strip().splitlines()[-1])]


def scrub_in_subprocess(path: Path, timeout: float = 600) -> ScrubReport:
    proc = subprocess.run(
        [sys.executable, "-m", "genpersona.vectors.chroma_scrub", str(path)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        return ScrubReport(done=False, note=f"scrub failed: {proc.stderr.strip()[-500:]}")
    return ScrubReport.model_validate_json(proc.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    if sys.argv[1] == "--dirty":
        print(json.dumps(dirty_collections(Path(sys.argv[2]))))
    else:
        print(scrub_directory(Path(sys.argv[1])).model_dump_json())
