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
    browser.set_window_size(1200, 900)


#: What a leader reads first, in order, before the "Appendix" heading.
LEADER_ANCHORS = ("summary", "headline", "vendors", "fix-first", "call-list", "recognition")
JARGON = ("Mantel", "Benjamini", "Adjusted p", "adjusted p", "p-value")

_LAYOUT = """
const W = document.documentElement.clientWidth;
const small = [], shrunk = [], broken = [], unboxed = [], loose = [];
for (const el of document.querySelectorAll('main *')) {
  if (el.closest('.fb-sr')) continue;
  const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
  const r = el.getBoundingClientRect();
  if (own && r.width > 0 && r.height > 0) {
    const fs = parseFloat(getComputedStyle(el).fontSize);
    if (fs < 11) small.push([el.tagName, fs, el.textContent.trim().slice(0, 30)]);
  }
}
for (const img of document.images) {
  const shown = img.getBoundingClientRect().width;
  if (shown < 0.75 * img.naturalWidth - 1) shrunk.push([img.naturalWidth, shown]);
}
for (const cell of document.querySelectorAll('td, th')) {
  const cs = getComputedStyle(cell);
  if (cs.wordBreak === 'break-all' || cs.overflowWrap === 'anywhere' || cs.overflowWrap === 'break-word')
    broken.push(cell.textContent.slice(0, 30));
}
for (const t of document.querySelectorAll('main table')) {
  const box = t.closest('.fb-scroll');
  if (!box || !['auto', 'scroll'].includes(getComputedStyle(box).overflowX)) unboxed.push(t.className);
  const first = t.querySelector('tbody tr > :first-child');
  if (first && getComputedStyle(first).position !== 'sticky') loose.push(t.className);
}
const app = document.getElementById('appendix');
const tops = Object.fromEntries(LEADER.map(a => [a, document.getElementById(a).getBoundingClientRect().top + scrollY]));
let leaderText = '';
for (let n = document.querySelector('main').firstElementChild; n; n = n.nextElementSibling) {
  if (n.contains(app)) break;
  leaderText += n.innerText + ' ';
}
return {overflow: document.documentElement.scrollWidth - W, width: window.innerWidth, small, shrunk, broken, unboxed, loose,
        appendix: app.getBoundingClientRect().top + scrollY, tops, leaderText};
"""


@pytest.mark.parametrize("width", [390, 1280])
def test_leader_part_first_and_readable_on_a_phone(browser, rendered_report, width):
    """At 390 px (a phone) and 1280 px: no sideways page scroll, no text under 11 px, charts at 75% of their size or
    more, tables scroll in their own box with the first column fixed and never break words; the leader's part
    comes first, free of statistical jargon, and at 1280 px fits within three 900 px screens."""
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600})
    try:
        _load(browser, rendered_report.html)
        out = browser.execute_script(f"const LEADER = {list(LEADER_ANCHORS)!r};" + _LAYOUT)
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    assert out["width"] == width
    assert out["overflow"] <= 1, out["overflow"]
    assert not out["small"], out["small"][:5]
    assert not out["shrunk"], out["shrunk"]
    assert not out["broken"], out["broken"][:5]
    assert not out["unboxed"] and not out["loose"], (out["unboxed"], out["loose"])
    tops = [out["tops"][a] for a in LEADER_ANCHORS]
    assert tops == sorted(tops) and tops[-1] < out["appendix"]
    for word in JARGON:
        assert word not in out["leaderText"], word
    for needle in ("Northwind BPO", "Sunrise Contact Services", "Customer Care London", "Surprise charges"):
        assert needle in out["leaderText"], needle
    if width == 1280:
        assert out["appendix"] <= 3 * 900, out["appendix"]


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
    # the report's own sparklines are the only SVG (numbers only); no payload became an element
    assert not browser.find_elements("css selector", "iframe, svg:not(.fb-spark), #clickme")
    assert not browser.find_elements("css selector", "[onload], [onerror]")
    external = [u for u in _requests(browser) if not u.startswith(("file:", "data:"))]
    assert not external, external
