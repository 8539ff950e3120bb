"""Scrub a Chroma directory's files: remove segment directories no collection references
(Chroma leaves a dropped collection's HNSW files on disk, even after ``chroma vacuum``) and
VACUUM ``chroma.sqlite3`` so freed pages keep no deleted metadata or log entries.

Always in a child process (``python -m genpersona.vectors.chroma_scrub DIR``): the embedded
client links its own SQLite, and a second SQLite library opening the same file in the same
process breaks POSIX locking (closing our connection drops Chroma's locks; SQLite's docs,
"How To Corrupt An SQLite Database File", 2.2.1). Measured: doing it in-process made
concurrent Chroma reads fail with "database disk image is malformed".
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

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
    print(scrub_directory(Path(sys.argv[1])).model_dump_json())
