"""The OpenMP wait policy default: applied when unset, never over a user's choice."""

from __future__ import annotations

import os
import subprocess
import sys

from genpersona.runtime import DEFAULT_OMP_WAIT_POLICY, apply_runtime_defaults


def test_sets_passive_when_unset() -> None:
    env: dict[str, str] = {}
    assert apply_runtime_defaults(env) == {"OMP_WAIT_POLICY": DEFAULT_OMP_WAIT_POLICY}
    assert env["OMP_WAIT_POLICY"] == "PASSIVE"


def test_explicit_choice_wins() -> None:
    env = {"OMP_WAIT_POLICY": "ACTIVE"}
    assert apply_runtime_defaults(env) == {}
    assert env["OMP_WAIT_POLICY"] == "ACTIVE"


def test_import_applies_it_before_model_libraries() -> None:
    """A fresh interpreter: importing genpersona alone sets the policy for libgomp to read."""
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    out = subprocess.run(
        [sys.executable, "-c", "import os, genpersona; print(os.environ['OMP_WAIT_POLICY'])"],
        capture_output=True, text=True, env=env, check=True,
    )  # fmt: skip
    assert out.stdout.strip() == "PASSIVE"
