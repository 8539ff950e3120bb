"""End to end in a real headless Chromium (Debian's `chromium` + `chromedriver`, driven by
Selenium; nothing is downloaded): a link cannot sign anyone in, an approver signs in with a
password, sees the queue and approves a draft by clicking. The screenshot is kept under the
test's temp dir (and $GENPERSONA_ARTIFACTS_DIR)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from api_support import free_port

from genpersona.accounts.console_accounts import create_account
from genpersona.cli.console import streamlit_command
from genpersona.review.models import QueueFilter
from genpersona.review.queue import get_draft_detail, list_drafts
from genpersona.review.seed import seed_queue

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "correct-horse-battery"


def _chromium() -> tuple[str, str]:
    browser = os.environ.get("GENPERSONA_TEST_CHROMIUM") or shutil.which("chromium")
    driver = os.environ.get("GENPERSONA_TEST_CHROMEDRIVER") or shutil.which("chromedriver")
    if not browser or not Path(browser).exists() or not driver or not Path(driver).exists():
        pytest.skip(
            "no headless Chromium: install Debian's `chromium` and `chromium-driver` "
            "(apt-get install chromium chromium-driver) or set GENPERSONA_TEST_CHROMIUM and "
            "GENPERSONA_TEST_CHROMEDRIVER to their paths"
        )
    pytest.importorskip("selenium", reason="the browser test drives Chromium with selenium")
    return browser, driver


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


def test_sign_in_and_approve_a_draft_by_clicking(isolated_home: Path, tmp_path: Path) -> None:
    browser, driver_path = _chromium()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    ids = seed_queue(60, seed=11)
    assert len(ids) == 60
    create_account("ci-approver", PASSWORD, "approver")
    port = free_port()
    env = {**os.environ, "GENPERSONA_HOME": str(isolated_home)}
    log = (tmp_path / "streamlit.log").open("w")
    proc = subprocess.Popen(
        streamlit_command(port, "127.0.0.1", headless=True),
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1000"):
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'profile'}")
    driver = None
    try:
        _wait_healthy(f"http://127.0.0.1:{port}/_stcore/health", proc)
        driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
        wait = WebDriverWait(driver, 180)  # the first load pays for the server's imports
        text = lambda: driver.find_element(By.TAG_NAME, "body").text  # noqa: E731

        def button(label: str):  # type: ignore[no-untyped-def]
            return f"//button[not(@disabled)][.//p[normalize-space()='{label}']]"

        # a bookmark naming someone signs nobody in
        driver.get(f"http://127.0.0.1:{port}/?reviewer=ci-approver")
        wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "input[type=password]")))
        assert "Signed in as" not in text() and "Review queue" not in text()

        driver.find_element(By.CSS_SELECTOR, "input[aria-label='Account']").send_keys("ci-approver")
        driver.find_element(By.CSS_SELECTOR, "input[type=password]").send_keys(PASSWORD)
        driver.find_element(By.XPATH, button("Sign in")).click()
        wait.until(lambda d: "Page 1 of 3" in text())
        assert "Review queue" in text() and "Signed in as" in text()
        assert "ci-approver" in text()  # 60 pending drafts, 25 per page
        shot = tmp_path / "console-queue.png"
        driver.save_screenshot(str(shot))
        assert shot.stat().st_size > 30_000, "the screenshot is too small to show a rendered page"
        artifacts = os.environ.get("GENPERSONA_ARTIFACTS_DIR")
        if artifacts:
            Path(artifacts).mkdir(parents=True, exist_ok=True)
            shutil.copy(shot, Path(artifacts) / shot.name)

        # open drafts until one has an approvable variant, then approve it by clicking
        approved_id = None
        for attempt in range(5):
            wait.until(ec.element_to_be_clickable((By.XPATH, button("Open"))))
            driver.find_elements(By.XPATH, button("Open"))[attempt].click()
            wait.until(lambda d: "Draft #" in text())
            heading = next(line for line in text().splitlines() if line.startswith("Draft #"))
            draft_id = int(heading.removeprefix("Draft #"))
            approve = driver.find_elements(By.XPATH, button("Approve"))
            if approve:
                approve[0].click()
                done = f"Approved draft #{draft_id}"
                wait.until(lambda d, done=done: done in text())
                approved_id = draft_id
                break
            driver.find_element(By.XPATH, button("← Back to queue")).click()
            wait.until(lambda d: "Page 1 of" in text())
        assert approved_id is not None, "no approvable draft among the first five"
        detail = get_draft_detail(approved_id)
        assert detail.draft.status == "approved" and detail.decided_by == "ci-approver"
        assert "ci-approver" in {e.actor for e in detail.audit}
        assert list_drafts(QueueFilter()).total == 59
    finally:
        if driver is not None:
            driver.quit()
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
