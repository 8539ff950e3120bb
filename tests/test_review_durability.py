"""Durability: a reviewer process killed with SIGKILL mid-decision loses no acknowledged
decision and leaves the SQLite database intact."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from genpersona.db.engine import dispose_engines
from genpersona.review.seed import seed_queue

pytestmark = pytest.mark.slow

WRITER = textwrap.dedent(
    """
    import sys
    from genpersona.review.queue import approve, reject, list_drafts
    from genpersona.review.models import QueueFilter

    ids = [int(x) for x in sys.argv[1:]]
    for n, draft_id in enumerate(ids):
        if n % 3 == 2:
            reject(draft_id, "off_brand", "durability test", "writer", expected_version=1)
        else:
            approve(draft_id, 0, "writer", expected_version=1)
        # acknowledged only after the decision's transaction committed
        print(f"ACK {draft_id}", flush=True)
    """
)


def test_sigkill_mid_decision_loses_no_acknowledged_decision(isolated_home: Path) -> None:
    ids = seed_queue(400, seed=21)
    with sqlite3.connect(isolated_home / "genpersona.db") as conn:
        # some seeded drafts break a blocking rule in variant 0; clear them so every
        # approval the writer attempts is allowed (the test is about durability)
        conn.execute("UPDATE drafts SET has_violations = 0")
        conn.execute("UPDATE draft_variants SET violations = '[]'")
    dispose_engines()
    env = {**os.environ, "GENPERSONA_HOME": str(isolated_home)}
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, *map(str, ids)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    acked: list[int] = []
    deadline = time.monotonic() + 240
    assert proc.stdout is not None
    while len(acked) < 40 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        if line.startswith("ACK "):
            acked.append(int(line.split()[1]))
    proc.send_signal(signal.SIGKILL)  # mid-way through the next decision
    rest, err = proc.communicate(timeout=30)
    acked += [int(x.split()[1]) for x in rest.splitlines() if x.startswith("ACK ")]
    assert proc.returncode == -signal.SIGKILL
    assert len(acked) >= 40, f"the writer acknowledged only {len(acked)} decisions: {err[-2000:]}"

    db = sqlite3.connect(isolated_home / "genpersona.db")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        rows = dict(
            db.execute(
                f"SELECT id, status FROM drafts WHERE id IN ({','.join(map(str, acked))})"
            ).fetchall()
        )
        for n, draft_id in enumerate(acked):
            assert rows[draft_id] == ("rejected" if n % 3 == 2 else "approved"), draft_id
        # every decided draft, acknowledged or not, is whole: one decision row, one audit entry
        decided = [r[0] for r in db.execute("SELECT id FROM drafts WHERE status != 'pending'")]
        assert set(acked) <= set(decided)
        assert len(decided) <= len(acked) + 1  # at most the one in flight at the kill
        for draft_id in decided:
            reviews = db.execute(
                "SELECT count(*) FROM reviews WHERE draft_id = ?", (draft_id,)
            ).fetchone()[0]
            audits = db.execute(
                "SELECT count(*) FROM audit_log WHERE draft_id = ? AND action != 'submitted'",
                (draft_id,),
            ).fetchone()[0]
            assert (reviews, audits) == (1, 1), draft_id
        pending = db.execute(
            "SELECT count(*) FROM drafts WHERE status = 'pending' AND version = 1"
        ).fetchone()[0]
        assert pending == 400 - len(decided)
    finally:
        db.close()
