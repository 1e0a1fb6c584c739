"""Notebooks stay thin: parameters, headings, and one or two calls into the package."""

from __future__ import annotations

import ast
import os
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from feedbacklib.report import SECTIONS

from .conftest import CONFIG, SAMPLE

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_has_no_outputs_and_no_logic(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        assert not cell.get("outputs"), f"{path.name}: committed with outputs"
        tree = ast.parse(cell.source)
        for node in ast.walk(tree):
            assert not isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.For, ast.While, ast.Lambda,
                                         ast.ListComp, ast.DictComp, ast.If)), f"{path.name}: logic in a cell"
        if "parameters" not in cell.metadata.get("tags", []):  # the parameters cell is only assignments
            assert len(tree.body) <= 5
        else:
            assert all(isinstance(n, ast.Assign) for n in tree.body)


def test_report_notebook_parameters_and_sections():
    nb = nbformat.read(NOTEBOOKS[0].parent / "monthly_report.ipynb", as_version=4)
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1
    names = {t.id for n in ast.parse(params[0].source).body if isinstance(n, ast.Assign) for t in n.targets}
    assert names == {"month", "input_dir", "config_path", "output_dir", "history_dir", "generated_at", "today"}
    anchors = re.findall(r'<h2 id="([a-z-]+)">', "\n".join(c.source for c in nb.cells if c.cell_type == "markdown"))
    assert anchors == [a for a, _ in SECTIONS]


# --------------------------------------------------------------------------------------------
# The analyst notebooks run top to bottom on the sample data, through the project's kernel
# (pinned to this interpreter, as the monthly command does), both at once to save time.
# --------------------------------------------------------------------------------------------
ANALYST_NOTEBOOKS = ("explore.ipynb", "tune_themes.ipynb")
# Anything that would make the browser fetch from the network: scripts, styles, images, ES imports.
EXTERNAL_FETCH = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//|@import|url\(\s*["']?\s*(?:https?:)?//"""
                            r"""|\bfrom\s+["']https?://|import\(\s*["']https?://""", re.I)


@pytest.fixture(scope="module")
def executed_analyst_notebooks(tmp_path_factory, salt_env):
    from concurrent.futures import ThreadPoolExecutor

    import papermill as pm

    from feedbacklib.runner import _project_kernel

    out = tmp_path_factory.mktemp("analyst-notebooks")
    folder = NOTEBOOKS[0].parent
    # The last two sample months: trends still have two points, and the run takes half the time.
    inputs = out / "input"
    inputs.mkdir()
    for path in SAMPLE.iterdir():
        if path.stem.endswith(("2026-09", "2026-10")):
            shutil.copy(path, inputs / path.name)

    def run(name):
        pm.execute_notebook(str(folder / name), str(out / name), kernel_name=kernel, progress_bar=False,
                            parameters={"input_dir": str(inputs), "config_path": str(CONFIG), "today": "2026-12-06"},
                            log_output=False, cwd=str(folder), execution_timeout=300, start_timeout=120)
        return nbformat.read(out / name, as_version=4)

    # papermill's cwd= is a process-wide chdir saved and restored per call: two threads interleave and
    # can leave the process in notebooks/ (a later test then misses ./feedback.toml). Restore it here.
    here = os.getcwd()
    try:
        with _project_kernel() as kernel, ThreadPoolExecutor(len(ANALYST_NOTEBOOKS)) as pool:
            return dict(zip(ANALYST_NOTEBOOKS, pool.map(run, ANALYST_NOTEBOOKS)))
    finally:
        os.chdir(here)


def _outputs(nb, mime):
    texts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if mime == "stream":
                texts.append(output.get("text", "") if output.output_type == "stream" else "")
            else:
                texts.append(str(output.get("data", {}).get(mime, "")))
    return "\n".join(texts)


@pytest.mark.parametrize("name", ANALYST_NOTEBOOKS)
def test_analyst_notebook_runs_offline_and_shows_results(executed_analyst_notebooks, name):
    nb = executed_analyst_notebooks[name]
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    html = _outputs(nb, "text/html")
    assert "<table" in html and "itables" in html  # styled tables and the interactive comment table
    assert "dt_src" in html or "_itables_2_" in html  # the DataTables library is embedded, not fetched
    assert not EXTERNAL_FETCH.search(html), EXTERNAL_FETCH.search(html).group(0)
    assert "Loading ITables" not in html or "init_notebook_mode" in html


def test_explore_notebook_shows_figures_and_progress(executed_analyst_notebooks):
    nb = executed_analyst_notebooks["explore.ipynb"]
    assert _outputs(nb, "image/png").count("iVBOR") >= 3  # theme rates, sentiment, trend (PNG base64)
    # the progress bar of load_result: a widget with the lab extra (ipywidgets), else text on stderr
    widget = _outputs(nb, "application/vnd.jupyter.widget-view+json")
    assert "model_id" in widget or "Analysing feedback" in _outputs(nb, "stream")
    if "model_id" in widget:
        assert "Analysing feedback" not in _outputs(nb, "stream")  # no pink stderr block


def test_explore_notebook_embeds_the_library_once_and_small(executed_analyst_notebooks):
    nb = executed_analyst_notebooks["explore.ipynb"]
    html = _outputs(nb, "text/html")
    assert html.count("async function injectModule(") == 1  # ITables' init_notebook_mode output, once
    library = max((str(o.get("data", {}).get("text/html", "")) for c in nb.cells for o in c.get("outputs", [])
                   if "async function injectModule(" in str(o.get("data", {}).get("text/html", ""))), key=len)
    assert len(library) < 400_000, f"the embedded table library is {len(library):,} bytes"  # ITables' own: ~970 KB
    assert "<NA>" not in html and "&lt;NA&gt;" not in html


# --------------------------------------------------------------------------------------------
# explore.ipynb's exported HTML in a real browser at 1400 px: nothing wider than the page.
# --------------------------------------------------------------------------------------------
def test_explore_html_fits_1400_px(executed_analyst_notebooks, tmp_path):
    from nbconvert import HTMLExporter

    from .test_browser import CHROMEDRIVER, CHROMIUM

    if not (CHROMIUM and CHROMEDRIVER):
        if os.environ.get("FEEDBACKLIB_REQUIRE_BROWSER") == "1":
            pytest.fail("headless Chromium is required here (FEEDBACKLIB_REQUIRE_BROWSER=1): "
                        "apt-get install chromium chromium-driver")
        pytest.skip("chromium / chromedriver not installed")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.support.ui import WebDriverWait

    body, _ = HTMLExporter().from_notebook_node(executed_analyst_notebooks["explore.ipynb"])  # File > Export > HTML
    page = tmp_path / "explore.html"
    page.write_text(body, encoding="utf-8")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--window-size=1400,1000",
                 "--allow-file-access-from-files"):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    try:
        driver.set_page_load_timeout(60)
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": 1400, "height": 1000, "deviceScaleFactor": 1, "mobile": False})
        driver.get(page.as_uri())
        WebDriverWait(driver, 60).until(  # the comment tables are drawn by DataTables
            lambda d: d.execute_script("return document.querySelectorAll('.fb-itable .dt-container').length") >= 2)
        report = driver.execute_script("""
            const width = document.documentElement.clientWidth;  // the viewport less its scroll bar
            const wide = [];
            for (const el of document.querySelectorAll('.fb-itable, .fb-itable table, .fb-itable td, .jp-OutputArea-output, table')) {
                const r = el.getBoundingClientRect();
                if (r.width && (r.right > width + 1 || el.scrollWidth > el.clientWidth + 1))
                    wide.push(el.tagName + '.' + el.className + ' right=' + Math.round(r.right)
                              + ' scroll=' + el.scrollWidth + ' client=' + el.clientWidth);
            }
            const cells = [...document.querySelectorAll('.fb-itable table.dataTable tbody td')].filter(td => td.offsetParent !== null);
            return {viewport: window.innerWidth, width: width, page: document.documentElement.scrollWidth, wide: wide.slice(0, 10),
                    cells: cells.length,
                    right: cells.filter(td => getComputedStyle(td).textAlign === 'right').length,
                    nowrap: cells.filter(td => getComputedStyle(td).whiteSpace === 'nowrap').length,
                    na: cells.filter(td => td.textContent.trim() === '<NA>').length};
        """)
        driver.save_screenshot(str(tmp_path / "explore-1400.png"))
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE" and "file://" in e.get("message", "")
                  and "itables" in e.get("message", "").lower()]
    finally:
        driver.quit()
    assert report["viewport"] == 1400
    assert report["page"] <= report["width"], report  # no horizontal scrolling of the page
    assert not report["wide"], report["wide"]  # no table or output wider than its box
    assert report["cells"] > 0 and report["right"] == 0 and report["nowrap"] == 0 and report["na"] == 0, report
    assert not errors, errors


def test_tune_notebook_shows_changes_and_evaluation(executed_analyst_notebooks):
    html = _outputs(executed_analyst_notebooks["tune_themes.ipynb"], "text/html")
    assert "comments change their themes" in html
    assert "Precision" in html and "Recall" in html
