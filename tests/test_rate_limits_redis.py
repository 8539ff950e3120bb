"""Rate limits shared by two uvicorn workers through Redis: the combined rate stays within
the limit, per API key and per client address. Needs GENPERSONA_TEST_REDIS_URL."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
from api_support import free_port

from genpersona.accounts.keys import create_key

pytestmark = pytest.mark.slow


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("GENPERSONA_TEST_REDIS_URL")
    if not url:
        pytest.skip("set GENPERSONA_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/0) to run")
    return url


def _serve_two_workers(home: Path, log: Path, **env: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    cmd = [sys.executable, "-m", "uvicorn", "genpersona.api.app:create_app", "--factory"]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--workers", "2"]
    full_env = {**os.environ, "GENPERSONA_HOME": str(home), **env}
    proc = subprocess.Popen(cmd, env=full_env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()[-3000:]
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.3)
    # both workers must be up before counting (each logs its own startup)
    while log.read_text().count("Application startup complete") < 2:
        assert time.monotonic() < deadline and proc.poll() is None, log.read_text()[-3000:]
        time.sleep(0.3)
    return proc, url


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _codes(url: str, n: int, headers: dict[str, str]) -> list[httpx.Response]:
    out = []
    for _ in range(n):  # a new connection each time, so the kernel spreads them over workers
        with httpx.Client(timeout=10) as client:
            out.append(client.get(f"{url}/v1/models", headers=headers))
    return out


def test_two_workers_share_the_per_key_limit(redis_url, isolated_home, tmp_path) -> None:  # type: ignore[no-untyped-def]
    key = create_key("chatbot", ["chat"]).secret
    proc, url = _serve_two_workers(
        isolated_home,
        tmp_path / "uvicorn.log",
        GENPERSONA_API_RATE_LIMIT_URL=redis_url,
        GENPERSONA_API_RATE_LIMIT_NAMESPACE=f"test-{uuid.uuid4().hex}",
        GENPERSONA_API_KEY_RATE_PER_MINUTE="8",
        GENPERSONA_API_RATE_PER_MINUTE="1000",
    )
    try:
        responses = _codes(url, 30, {"Authorization": f"Bearer {key}"})
    finally:
        _stop(proc)
    codes = [r.status_code for r in responses]
    assert codes.count(200) == 8, codes  # per worker it would be up to 16
    assert set(codes) == {200, 429}
    limited = next(r for r in responses if r.status_code == 429)
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.json()["error"]["type"] == "rate_limit_exceeded"
    assert key not in (tmp_path / "uvicorn.log").read_text()


def test_two_workers_share_the_per_address_limit(redis_url, isolated_home, tmp_path) -> None:  # type: ignore[no-untyped-def]
    proc, url = _serve_two_workers(
        isolated_home,
        tmp_path / "uvicorn.log",
        GENPERSONA_API_RATE_LIMIT_URL=redis_url,
        GENPERSONA_API_RATE_LIMIT_NAMESPACE=f"test-{uuid.uuid4().hex}",
        GENPERSONA_API_RATE_PER_MINUTE="10",
        GENPERSONA_API_AUTH="off",
    )
    try:
        codes = [r.status_code for r in _codes(url, 30, {})]
    finally:
        _stop(proc)
    assert codes.count(200) == 10 and codes.count(429) == 20, codes
