"""The dashboard in a real headless Chromium, driven by Selenium with Debian's `chromium` and `chromium-driver`.

One browser for the module; each test works in a namespace of its own on one live fake. Every wait is an
explicit WebDriverWait on what the page shows, never a sleep. Without the two packages the module is skipped
with one line saying how to get them, except under CI, where it fails: CI installs them (.ci/run).
Screenshots of each view go to $QOLABA_MOCK_SCREENSHOTS, or a temporary directory.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mockserver import Config, LiveServer
from tests.conftest import valid_body
from tests.mockserver.dashboard.conftest import SUBMIT, XSS_PROMPTS

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
WAIT_SECONDS = 30  # a ceiling for a busy machine, never a measurement

if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
    missing = (
        "browser tests need Debian's chromium and chromium-driver: sudo apt-get install -y chromium chromium-driver"
    )
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(missing, pytrace=False)
    pytest.skip(missing, allow_module_level=True)

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.support import expected_conditions as shown  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

SECRET = "browser-admin-token"


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(argument)
    options.add_argument("--window-size=1400,900")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def fake() -> Iterator[LiveServer]:
    with LiveServer(Config(seed=1, clock="virtual")) as server:
        yield server


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = os.environ.get("QOLABA_MOCK_SCREENSHOTS")
    path = Path(where) if where else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _wait(driver: WebDriver) -> WebDriverWait[WebDriver]:
    return WebDriverWait(driver, WAIT_SECONDS)


def _call(fake: LiveServer, namespace: str, path: str, body: Any) -> httpx.Response:
    headers = {"Authorization": "Bearer app-token", "X-Mock-Namespace": namespace}
    return httpx.post(fake.url + path, json=body, headers=headers, timeout=WAIT_SECONDS)


def _rows(driver: WebDriver) -> list[str]:
    return [row.get_attribute("data-seq") or "" for row in driver.find_elements(By.CSS_SELECTOR, "#rows tr")]


def _verdicts(driver: WebDriver) -> list[str]:
    return [cell.text.partition(" ")[0] for cell in driver.find_elements(By.CSS_SELECTOR, "#rows td.verdict")]


def _open_live(driver: WebDriver, url: str) -> None:
    driver.get(url)
    _wait(driver).until(shown.text_to_be_present_in_element((By.ID, "live-state"), "live"))


def test_a_request_sent_to_the_fake_appears_in_the_open_page(
    browser: WebDriver, fake: LiveServer, screenshots: Path
) -> None:
    _open_live(browser, f"{fake.url}/__admin/ui/?namespace=arrivals")
    _call(fake, "arrivals", SUBMIT, valid_body(batch=99))
    row = _wait(browser).until(shown.presence_of_element_located((By.CSS_SELECTOR, "#rows tr")))
    assert "getImagetoImage" in row.text and "422" in row.text and "refused" in row.text
    browser.save_screenshot(str(screenshots / "journal.png"))
    row.find_element(By.CSS_SELECTOR, "a").click()
    why = _wait(browser).until(shown.presence_of_element_located((By.ID, "why")))
    assert "batch" in why.text
    browser.save_screenshot(str(screenshots / "exchange.png"))


def test_a_filter_hides_what_it_should_now_and_as_rows_arrive(browser: WebDriver, fake: LiveServer) -> None:
    _call(fake, "filters", SUBMIT, valid_body())
    _call(fake, "filters", SUBMIT, valid_body(batch=99))
    browser.get(f"{fake.url}/__admin/ui/?namespace=filters")
    Select(browser.find_element(By.NAME, "verdict")).select_by_value("refused")
    browser.find_element(By.ID, "apply").click()
    _wait(browser).until(shown.url_contains("verdict=refused"))
    assert _verdicts(browser) == ["refused"]
    first = _rows(browser)[0]
    _call(fake, "filters", SUBMIT, valid_body())  # accepted: filtered out
    _call(fake, "filters", SUBMIT, valid_body(height=7))  # refused: shown, on top
    _wait(browser).until(lambda driver: _rows(driver)[0] != first)
    assert _verdicts(browser) == ["refused", "refused"]
    assert int(_rows(browser)[0]) > int(first)


def test_adding_a_fault_from_the_page_changes_the_next_answer(
    browser: WebDriver, fake: LiveServer, screenshots: Path
) -> None:
    assert _call(fake, "faults", SUBMIT, valid_body()).status_code == 200
    browser.get(f"{fake.url}/__admin/ui/controls?namespace=faults")
    browser.find_element(By.NAME, "fault").send_keys("http_500")
    browser.find_element(By.CSS_SELECTOR, "form[data-action=add-fault] button").click()
    answer = _wait(browser).until(shown.visibility_of_element_located((By.ID, "answer")))
    assert "HTTP 200" in answer.text and "http_500" in browser.find_element(By.ID, "faults").text
    browser.save_screenshot(str(screenshots / "controls.png"))
    assert _call(fake, "faults", SUBMIT, valid_body()).status_code == 500


def test_a_bad_fault_shows_the_admin_apis_refusal(browser: WebDriver, fake: LiveServer) -> None:
    browser.get(f"{fake.url}/__admin/ui/controls?namespace=badfault")
    browser.find_element(By.NAME, "fault").send_keys("no_such_fault")
    browser.find_element(By.CSS_SELECTOR, "form[data-action=add-fault] button").click()
    answer = _wait(browser).until(shown.visibility_of_element_located((By.ID, "answer")))
    assert "HTTP 422" in answer.text and "names no known fault" in answer.text


def test_advancing_the_clock_from_the_page_moves_a_task_to_success(
    browser: WebDriver, fake: LiveServer, screenshots: Path
) -> None:
    headers = {"X-Mock-Namespace": "tasks"}
    httpx.put(fake.url + "/__admin/latency", json={"latency": "fixed:30s"}, headers=headers).raise_for_status()
    task_id = _call(fake, "tasks", SUBMIT, valid_body(celery=True)).json()["task_id"]
    browser.get(f"{fake.url}/__admin/ui/tasks?namespace=tasks")
    state = (By.CSS_SELECTOR, f"#task-{task_id} .state")
    assert browser.find_element(*state).text == "PENDING"
    browser.find_element(By.CSS_SELECTOR, f"#task-{task_id} .advance-until").click()
    _wait(browser).until(shown.text_to_be_present_in_element(state, "SUCCESS"))
    _call(fake, "tasks", "/api/v1/studio/getImage", {"id": task_id})
    browser.refresh()
    thumb = _wait(browser).until(shown.presence_of_element_located((By.CSS_SELECTOR, f"#task-{task_id} img.thumb")))
    _wait(browser).until(lambda driver: driver.execute_script("return arguments[0].complete", thumb))
    assert browser.execute_script("return arguments[0].naturalWidth", thumb) > 0  # the image arrived
    recorded = httpx.get(fake.url + "/__admin/journal", params={"namespace": "default", "limit": 1000}).json()
    assert not [entry for entry in recorded["entries"] if entry["path"].startswith("/outputs/")]
    browser.save_screenshot(str(screenshots / "tasks.png"))


def test_attacker_prompts_render_as_text_and_run_nothing(browser: WebDriver, fake: LiveServer) -> None:
    browser.get_log("browser")  # what earlier tests logged is theirs
    _open_live(browser, f"{fake.url}/__admin/ui/?namespace=xss")
    for prompt in XSS_PROMPTS:
        _call(fake, "xss", SUBMIT, valid_body(prompt=prompt))  # arrives over the live stream
    _wait(browser).until(lambda driver: len(_rows(driver)) == 2)
    browser.get(f"{fake.url}/__admin/ui/exchange/{_rows(browser)[0]}?namespace=xss")
    body = browser.find_element(By.ID, "request-body").text
    assert XSS_PROMPTS[1].replace('"', '\\"') in body
    browser.get(f"{fake.url}/__admin/ui/?namespace=xss&q=pwned")
    assert len(_rows(browser)) == 2
    assert browser.execute_script("return window.pwned === undefined")
    assert browser.find_elements(By.CSS_SELECTOR, "img[src=x]") == []
    logged = [entry["message"] for entry in browser.get_log("browser") if entry["level"] in ("SEVERE", "WARNING")]
    assert logged == []


def test_the_one_time_link_logs_in_and_the_address_bar_loses_it(browser: WebDriver) -> None:
    with LiveServer(Config(seed=1, tokens=frozenset({SECRET}))) as fake:
        code = fake.app.state.admin_sessions.one_time_code(fake.config.tokens)
        browser.get(f"{fake.url}/__admin/ui/login?code={code}")
        _wait(browser).until(shown.presence_of_element_located((By.ID, "journal")))
        assert browser.current_url == f"{fake.url}/__admin/ui/"
        assert code not in browser.page_source and SECRET not in browser.page_source
        cookie = browser.get_cookie("qolaba_mock_admin")
        assert cookie is not None and SECRET not in cookie["value"]
        assert (cookie["httpOnly"], cookie["sameSite"], cookie["path"]) == (True, "Strict", "/__admin")
        assert "qolaba_mock_admin" not in browser.execute_script("return document.cookie")  # no script reads it
        browser.get(f"{fake.url}/__admin/ui/controls")
        assert browser.find_elements(By.ID, "faults")


def test_switching_the_profile_from_the_page_changes_how_the_fake_refuses(browser: WebDriver, fake: LiveServer) -> None:
    browser.get(f"{fake.url}/__admin/ui/controls?namespace=profile")
    Select(browser.find_element(By.NAME, "fidelity")).select_by_value("production")
    browser.find_element(By.CSS_SELECTOR, "form[data-action=fidelity] button").click()
    try:
        _wait(browser).until(shown.text_to_be_present_in_element((By.ID, "profile"), "production"))
        refused = _call(fake, "profile", SUBMIT, valid_body(batch=99))
        assert refused.json()["error"] == "Internal Error"  # the backend's dialect, not the contract's 422
    finally:
        httpx.patch(fake.url + "/__admin/config", json={"fidelity": "contract"}, timeout=WAIT_SECONDS)


def test_pause_stops_the_live_rows_and_resume_catches_up(browser: WebDriver, fake: LiveServer) -> None:
    _open_live(browser, f"{fake.url}/__admin/ui/?namespace=paused")
    pause = browser.find_element(By.ID, "pause")
    pause.click()
    _wait(browser).until(shown.text_to_be_present_in_element((By.ID, "live-state"), "paused"))
    _call(fake, "paused", SUBMIT, valid_body(batch=99))
    assert _rows(browser) == []  # paused: the page took nothing (the row waits in the journal)
    pause.click()
    _wait(browser).until(lambda driver: len(_rows(driver)) == 1)
    assert _verdicts(browser) == ["refused"] and pause.text == "Pause"
