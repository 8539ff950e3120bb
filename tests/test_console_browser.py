"""End to end in a real headless Chromium: the console loads against a seeded database and
shows the queue; the screenshot is kept under the test's temp dir (and $GENPERSONA_ARTIFACTS_DIR)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from genpersona.cli.console import streamlit_command
from genpersona.review.seed import seed_queue

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def _chromium() -> str:
    found = os.environ.get("GENPERSONA_TEST_CHROMIUM") or shutil.which("chromium")
    if not found or not Path(found).exists():
        pytest.skip(
            "no headless Chromium: install Debian's `chromium` (apt-get install chromium) "
            "or set GENPERSONA_TEST_CHROMIUM to its path"
        )
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"streamlit exited early with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"the console did not become healthy at {url} within {timeout:.0f}s")


def _chromium_run(binary: str, args: list[str], profile: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_console_loads_and_shows_the_queue_in_chromium(isolated_home: Path, tmp_path: Path) -> None:
    chromium = _chromium()
    ids = seed_queue(60, seed=11)
    assert len(ids) == 60
    port = _free_port()
    env = {**os.environ, "GENPERSONA_HOME": str(isolated_home)}
    log = (tmp_path / "streamlit.log").open("w")
    proc = subprocess.Popen(
        streamlit_command(port, "127.0.0.1", headless=True),
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_healthy(f"http://127.0.0.1:{port}/_stcore/health", proc)
        url = f"http://127.0.0.1:{port}/?reviewer=ci-reviewer"
        # the first page load pays for the server's imports; Chromium's virtual time
        # does not wait for the server, so load until the queue is in the DOM
        # (on a busy 2-core machine the first loads can come back empty: retry for up to
        # three minutes, pausing between tries so the server can finish starting)
        dom, attempt, deadline = "", 0, time.monotonic() + 180
        while time.monotonic() < deadline:
            dom = _chromium_run(
                chromium,
                ["--dump-dom", "--virtual-time-budget=30000", url],
                tmp_path / f"profile-dom-{attempt}",
            ).stdout
            if "Page 1 of" in dom:
                break
            attempt += 1
            time.sleep(3)
        assert "Review queue" in dom
        assert "Signed in as" in dom and "ci-reviewer" in dom
        assert "Page 1 of 3" in dom  # 60 pending drafts, 25 per page

        # as with the DOM, a loaded machine may need another load before the page is painted
        shot = tmp_path / "console-queue.png"
        for attempt in range(4):
            result = _chromium_run(
                chromium,
                [
                    f"--screenshot={shot}",
                    "--window-size=1400,1000",
                    "--virtual-time-budget=30000",
                    "--hide-scrollbars",
                    url,
                ],
                tmp_path / f"profile-shot-{attempt}",
            )
            if shot.exists() and shot.stat().st_size > 30_000:
                break
        assert shot.exists(), f"no screenshot: {result.stderr[-2000:]}"
        assert shot.stat().st_size > 30_000, "the screenshot is too small to show a rendered page"
        artifacts = os.environ.get("GENPERSONA_ARTIFACTS_DIR")
        if artifacts:
            Path(artifacts).mkdir(parents=True, exist_ok=True)
            shutil.copy(shot, Path(artifacts) / shot.name)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
