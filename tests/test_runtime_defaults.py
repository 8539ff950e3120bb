"""The OpenMP wait policy default: applied when unset, never over a user's choice."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

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


def _fresh_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    env["GENPERSONA_HOME"] = str(tmp_path / "home")
    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    return env


def _run(code: str, env: dict[str, str]) -> str:
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    return out.stdout.strip().splitlines()[-1]


_SHOW = "print(os.environ.get('OMP_WAIT_POLICY'), os.environ.get('GOMP_SPINCOUNT'))"


def test_importing_the_library_changes_nothing(tmp_path: Path) -> None:
    """A process that embeds genpersona keeps its environment, even with the entry modules."""
    code = (
        "import os, genpersona, genpersona.agent.pipeline, genpersona.api.app, "
        f"genpersona.cli.main, genpersona.campaigns.tasks; {_SHOW}"
    )
    assert _run(code, _fresh_env(tmp_path)) == "None None"


def test_the_cli_applies_it_before_a_command_runs(tmp_path: Path) -> None:
    code = (
        "import os; from typer.testing import CliRunner; from genpersona.cli.main import app; "
        "r = CliRunner().invoke(app, ['serve', '--help']); assert r.exit_code == 0, r.output; "
        + _SHOW
    )
    assert _run(code, _fresh_env(tmp_path)) == "PASSIVE 1000"


def test_the_server_factory_applies_it(tmp_path: Path) -> None:
    code = f"import os; from genpersona.api.app import serve_app; serve_app(); {_SHOW}"
    assert _run(code, _fresh_env(tmp_path)) == "PASSIVE 1000"


def test_the_celery_worker_start_applies_it(tmp_path: Path) -> None:
    env = _fresh_env(tmp_path)
    env["GENPERSONA_CELERY_BROKER_URL"] = "memory://"
    code = (
        "import os; from celery import signals; import genpersona.campaigns.tasks as t; "
        f"signals.worker_init.send(sender=t.app); {_SHOW}"
    )
    assert _run(code, env) == "PASSIVE 1000"


def test_a_users_choice_survives_the_entry_points(tmp_path: Path) -> None:
    env = _fresh_env(tmp_path)
    env["OMP_WAIT_POLICY"] = "ACTIVE"
    code = f"import os; from genpersona.api.app import serve_app; serve_app(); {_SHOW}"
    assert _run(code, env) == "ACTIVE None"
