"""The OpenMP wait policy default: applied when unset, never over a user's choice."""

from __future__ import annotations

import os
import subprocess
import sys

from genpersona.runtime import apply_runtime_defaults


def test_sets_passive_with_a_short_spin_when_unset() -> None:
    env: dict[str, str] = {}
    assert apply_runtime_defaults(env) == {"OMP_WAIT_POLICY": "PASSIVE", "GOMP_SPINCOUNT": "1000"}
    assert env == {"OMP_WAIT_POLICY": "PASSIVE", "GOMP_SPINCOUNT": "1000"}


def test_explicit_choice_wins() -> None:
    for env in ({"OMP_WAIT_POLICY": "ACTIVE"}, {"GOMP_SPINCOUNT": "0"}):
        before = dict(env)
        assert apply_runtime_defaults(env) == {}
        assert env == before


def test_import_applies_it_before_model_libraries() -> None:
    """A fresh interpreter: importing genpersona alone sets the policy for libgomp to read."""
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    code = (
        "import os, genpersona; print(os.environ['OMP_WAIT_POLICY'], os.environ['GOMP_SPINCOUNT'])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True, text=True, env=env, check=True,
    )  # fmt: skip
    assert out.stdout.strip() == "PASSIVE 1000"
