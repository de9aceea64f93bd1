"""/dashboard in a real headless Chromium against a real `atelier serve`: it takes an admin
token and shows the workload the test made (queue depth, a failure's reason, a user near the
hourly limit); a wrong or expired token gets a clear message; the console stays clean (a CSP
violation or a script error would show there); a screenshot is kept under the test's tmp_path.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait

from tests.conftest import SettingsFactory
from tests.support.builders import admin, bearer, generation_body
from tests.support.servers import Server, atelier_server
from tests.support.stores import settings_env

pytestmark = pytest.mark.slow

WAIT_SECONDS = 30
REASON = "upstream refused the edit"


def browser_binaries() -> tuple[str, str]:
    """Debian's chromium and chromium-driver; skipped without them, failed under CI=true."""
    browser, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if browser and driver:
        return browser, driver
    why = "the browser test needs Debian's chromium and chromium-driver (see .ci/run)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true: {why}")
    pytest.skip(why)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    binary, driver_path = browser_binaries()
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(argument)
    options.add_argument("--window-size=1280,1600")
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = webdriver.ChromeService(executable_path=driver_path)
    driver = webdriver.Chrome(options=options, service=service)
    try:
        yield driver
    finally:
        driver.quit()


def make_workload(base_url: str) -> None:
    """alice: 4 accepted (limit 5, so near it); bob: 1; one of alice's fails with REASON."""
    with httpx.Client(base_url=base_url, timeout=30) as http:
        for user, tokens in (("alice", 20), ("bob", 5)):
            opened = http.post(
                "/api/admin/accounts", json={"userId": user, "tokens": tokens}, headers=admin()
            )
            assert opened.status_code == 201, opened.text
        for user in ("alice", "alice", "alice", "alice", "bob"):
            submitted = http.post("/api/generate", json=generation_body(), headers=bearer(user))
            assert submitted.status_code == 201, submitted.text
        worker = bearer("fleet", "worker")
        claimed = http.post("/api/worker/claim", json={"workerId": "w1"}, headers=worker)
        assert claimed.status_code == 200, claimed.text
        failed = http.post(
            f"/api/worker/generations/{claimed.json()['data']['_id']}/fail",
            json={"workerId": "w1", "reason": REASON},
            headers=worker,
        )
        assert failed.status_code == 200, failed.text


def text_of(driver: Any, element_id: str) -> str:
    text: str = driver.find_element(By.ID, element_id).text
    return text


def sign_in(driver: Any, token: str) -> None:
    WebDriverWait(driver, WAIT_SECONDS).until(
        lambda d: d.find_element(By.ID, "token-input").is_displayed()
    )
    driver.find_element(By.ID, "token-input").send_keys(token)
    driver.find_element(By.ID, "token-submit").click()


def severe(entries: list[dict[str, Any]]) -> list[str]:
    return [entry["message"] for entry in entries if entry["level"] == "SEVERE"]


@pytest.fixture
def server(sqlite_only: SettingsFactory) -> Iterator[Server]:
    settings = sqlite_only(max_requests_per_hour=5, queue_max_size=7)
    with atelier_server(settings_env(settings)) as served:
        make_workload(served.base_url)
        yield served


def test_the_dashboard_shows_the_workload_to_an_admin(
    browser: Any, server: Server, tmp_path: Path
) -> None:
    browser.get(f"{server.base_url}/dashboard")
    assert "Atelier" in browser.title
    sign_in(browser, admin()["Authorization"].removeprefix("Bearer "))
    wait = WebDriverWait(browser, WAIT_SECONDS)
    wait.until(lambda d: d.find_element(By.ID, "board").is_displayed())
    wait.until(lambda d: text_of(d, "queue-depth") == "4")
    assert text_of(browser, "queue-capacity") == "7"
    assert text_of(browser, "queue-processing") == "0"
    assert REASON in text_of(browser, "failures-table")
    near = text_of(browser, "limit-table")
    assert "alice" in near
    assert "4 / 5" in near
    assert "bob" not in near
    top = text_of(browser, "top-table").splitlines()
    assert top[1:] == ["alice 4 0", "bob 1 0"]
    assert "pending 4" in text_of(browser, "status-table")
    assert "failed 1" in text_of(browser, "status-table")
    assert "In the hour: 5 submitted, 0 completed, 1 failed" in text_of(browser, "activity-totals")
    assert browser.find_elements(By.CSS_SELECTOR, "#activity-chart svg rect")
    assert text_of(browser, "webhooks") == "0 pending, 0 succeeded, 0 failed"  # no endpoint yet
    assert text_of(browser, "generator") == "dry-run: circuit closed"
    assert "activity" in text_of(browser, "projections-table")
    assert browser.execute_script("return sessionStorage.length") == 1
    screenshot = tmp_path / "dashboard.png"
    assert browser.save_screenshot(str(screenshot))
    assert screenshot.stat().st_size > 0
    assert severe(browser.get_log("browser")) == []


@pytest.mark.parametrize(
    "token",
    [
        "not-a-token",
        bearer("root", "admin", ttl_seconds=-60)["Authorization"].removeprefix("Bearer "),
    ],
    ids=["wrong", "expired"],
)
def test_a_wrong_or_expired_token_gets_a_clear_message(
    browser: Any, server: Server, tmp_path: Path, token: str
) -> None:
    browser.get(f"{server.base_url}/dashboard")
    sign_in(browser, token)
    wait = WebDriverWait(browser, WAIT_SECONDS)
    wait.until(lambda d: d.find_element(By.ID, "auth-message").is_displayed())
    message = text_of(browser, "auth-message")
    assert "refused" in message
    assert "wrong or has expired" in message
    assert not browser.find_element(By.ID, "board").is_displayed()
    assert browser.execute_script("return sessionStorage.length") == 0
    browser.save_screenshot(str(tmp_path / "refused.png"))
    # The only console errors: the browser's own line for each refused (401) admin request.
    for line in severe(browser.get_log("browser")):
        assert "/api/admin/" in line
        assert "401" in line


def test_a_user_token_is_told_it_is_not_an_admin_token(browser: Any, server: Server) -> None:
    browser.get(f"{server.base_url}/dashboard")
    sign_in(browser, bearer("alice")["Authorization"].removeprefix("Bearer "))
    wait = WebDriverWait(browser, WAIT_SECONDS)
    wait.until(lambda d: d.find_element(By.ID, "auth-message").is_displayed())
    assert "not an admin token" in text_of(browser, "auth-message")
