"""The report in a real browser: no console errors, no network request, no script runs.

Needs Debian's ``chromium`` and ``chromium-driver``. Skips when they are missing,
except under CI (``FEEDBACKLIB_REQUIRE_BROWSER=1``, set by ``.ci/run``), where a
missing browser fails.
"""

from __future__ import annotations

import json
import os
import shutil

import pytest

from .conftest import CONFIG, SAMPLE

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


@pytest.fixture(scope="module")
def browser():
    if not (CHROMIUM and CHROMEDRIVER):
        if os.environ.get("FEEDBACKLIB_REQUIRE_BROWSER") == "1":
            pytest.fail("headless Chromium is required here (FEEDBACKLIB_REQUIRE_BROWSER=1) but chromium "
                        "or chromedriver is not installed: apt-get install chromium chromium-driver")
        pytest.skip("chromium / chromedriver not installed")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                 "--no-first-run", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--window-size=1200,900", "--allow-file-access-from-files"):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    yield driver
    driver.quit()


def _requests(driver) -> list[str]:
    urls = []
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg.get("method") == "Network.requestWillBeSent":
            urls.append(msg["params"]["request"]["url"])
    return urls


def _load(driver, path):
    driver.get_log("performance")  # drain
    driver.get_log("browser")
    driver.get(path.as_uri())
    return driver.execute_script("return document.readyState")


def test_report_loads_without_errors_or_requests(browser, rendered_report, tmp_path):
    assert _load(browser, rendered_report.html) == "complete"
    errors = [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
    assert not errors, errors
    external = [u for u in _requests(browser) if not u.startswith(("file:", "data:"))]
    assert not external, external
    assert browser.find_element("css selector", "h1").text.startswith("Customer feedback report")
    # every chart is an embedded image that actually decoded
    widths = browser.execute_script("return [...document.images].map(i => i.naturalWidth)")
    assert widths and all(w > 0 for w in widths)
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1200, min(height + 100, 16000))
    shot = tmp_path / "report.png"
    browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000
    # readable on a phone: no horizontal page scroll at 390 px
    browser.set_window_size(390, 844)
    overflow = browser.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1


PAYLOADS = [
    "<script>window.__pwned = 1; alert('x')</script>",
    "<img src=x onerror=\"window.__pwned=2\">",
    "\"><svg onload=\"window.__pwned=3\">",
    "<iframe src=\"javascript:parent.__pwned=4\"></iframe>",
    "<a href=\"javascript:window.__pwned=5\" id=\"clickme\">click</a>",
]


FILE_PAYLOAD = "<img src=x onerror=\"window.__pwned=6\">.csv"
HEADER_PAYLOAD = "<script>window.__pwned=7</script>"


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory, salt_env):
    """A full report whose comments, team names and vendor names carry HTML/JS payloads."""
    import pandas as pd

    from feedbacklib.runner import run_report

    root = tmp_path_factory.mktemp("hostile")
    inputs = root / "in"
    shutil.copytree(SAMPLE, inputs)
    rows = []
    for i in range(120):
        rows.append({
            "response_id": f"h{i}",
            "received_at": f"2026-10-{1 + i % 28:02d}T10:00:00Z",
            "team": PAYLOADS[i % len(PAYLOADS)] if i % 3 == 0 else "Northwind Manila",
            "channel": "web",
            "csat": 1 + i % 5,
            "text": PAYLOADS[i % len(PAYLOADS)] + " I was charged twice and kept on hold, I will cancel.",
        })
    frame = pd.DataFrame(rows)
    frame[HEADER_PAYLOAD] = "extra column"  # a hostile column header (ignored by the generic reader)
    frame.to_csv(inputs / FILE_PAYLOAD, index=False)  # a hostile file name, shown in the data-quality table
    outcome = run_report("2026-10", inputs, CONFIG, root / "out", generated_at="x")
    return outcome


def test_payloads_render_as_text_and_never_execute(browser, hostile_report):
    from selenium.common.exceptions import NoAlertPresentException

    html = hostile_report.html.read_text(encoding="utf-8")
    assert "&lt;script&gt;" in html or "&lt;img" in html  # the payloads are there, as text
    assert "&lt;img src=x onerror=" in html  # the hostile file name, escaped in the data-quality table
    _load(browser, hostile_report.html)
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert  # noqa: B018 - raises when no dialog is open
    assert browser.execute_script("return window.__pwned === undefined")
    assert browser.execute_script("return document.scripts.length") == 0
    assert not browser.find_elements("css selector", "iframe, svg, #clickme")
    external = [u for u in _requests(browser) if not u.startswith(("file:", "data:"))]
    assert not external, external
