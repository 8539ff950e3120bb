"""Run a vector-store job in a fresh child process whose C heap cannot leak old bytes.

Why a child, and why these two variables: hnswlib (inside Chroma) creates an index by
``malloc``-ing its level-0 block and length array for the index's whole capacity and
writing them to ``data_level0.bin`` / ``length.bin`` as they are, so every element slot
not yet used holds whatever that memory held before. In the process that erased a
customer (it read their rows to delete them) that can be their id or text; measured on
chromadb 1.5: 80 of the 200 unused bytes of a fresh ``length.bin`` were old heap.

- A **fresh process** never held the erased customer's rows. The rebuild child reads
  only Chroma (opaque ids, brand/kind metadata, vectors) and the list of ids to drop
  that the parent computed; it never opens the relational store.
- ``MALLOC_PERTURB_=255`` makes glibc fill every block it hands out with 0x00 and
  overwrite every block it takes back with 0xff, and ``glibc.malloc.tcache_count=0``
  turns off the per-thread cache, the one path that skips both. So uninitialised memory
  in the child is only ever 0x00 or 0xff, never a byte that was data — not even the
  deleted vectors of the old generation the child copies from. (The Chroma bindings
  allocate through glibc's malloc: ``nm -D`` lists malloc/free as imported from GLIBC.)

The two together make the scan in ``tests/test_erasure_complete.py`` deterministic
instead of lucky. On a non-glibc libc the variables are ignored and only the first
argument holds. See docs/guides/privacy-erasure.md, "Why the rebuilt files hold no heap".
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import sys
from typing import Any

from genpersona.errors import VectorStoreError

#: glibc settings under which uninitialised heap holds only 0x00 / 0xff (see module doc)
CLEAN_HEAP_ENV = {"MALLOC_PERTURB_": "255"}
_NO_TCACHE = "glibc.malloc.tcache_count=0"


def clean_heap_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: this process's environment) plus the clean-heap settings."""
    env = dict(os.environ if base is None else base)
    env.update(CLEAN_HEAP_ENV)
    tunables = [t for t in env.get("GLIBC_TUNABLES", "").split(":") if t]
    tunables = [t for t in tunables if not t.startswith("glibc.malloc.tcache_count=")]
    env["GLIBC_TUNABLES"] = ":".join([*tunables, _NO_TCACHE])
    return env


_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # pragma: no cover - runs in the forked child
    """Linux: the child gets SIGKILL when its parent dies, so a killed erase never leaves
    an orphan rebuild racing the re-run (the half-built generation is started over)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def run_clean_child(module: str, job: dict[str, Any], *, timeout: float) -> str:
    """Run ``python -m module`` with ``job`` as JSON on stdin; return its last stdout line."""
    try:
        proc = subprocess.run(
            [sys.executable, "-m", module],
            input=json.dumps(job),
            capture_output=True,
            text=True,
            timeout=timeout,
            env=clean_heap_env(),
            preexec_fn=_die_with_parent,  # noqa: PLW1509 - only a prctl call, no locks taken
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise VectorStoreError(
            f"{module} did not finish within {timeout:.0f} s",
            fix="re-run `genpersona customer compact` (the pending work is kept, and a "
            "half-built generation is started over); look for what slowed the machine",
            module=module,
        ) from exc
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        raise VectorStoreError(
            f"{module} failed (exit {proc.returncode}): {proc.stderr.strip()[-800:]}",
            fix="fix the cause shown, then re-run `genpersona customer compact` (the pending "
            "work is kept, and a half-built generation is started over)",
            module=module,
            returncode=proc.returncode,
        )
    return lines[-1]
