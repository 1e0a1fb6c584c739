"""Notebooks stay thin: parameters, headings, and one or two calls into the package."""

from __future__ import annotations

import ast
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
    names = {t.id for n in ast.parse(params[0].source).body for t in n.targets}
    assert names == {"month", "input_dir", "config_path", "output_dir", "history_dir", "generated_at"}
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

    with _project_kernel() as kernel, ThreadPoolExecutor(len(ANALYST_NOTEBOOKS)) as pool:
        return dict(zip(ANALYST_NOTEBOOKS, pool.map(run, ANALYST_NOTEBOOKS)))


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
    assert "Analysing feedback" in _outputs(nb, "stream")  # the progress bar of load_result


def test_tune_notebook_shows_changes_and_evaluation(executed_analyst_notebooks):
    html = _outputs(executed_analyst_notebooks["tune_themes.ipynb"], "text/html")
    assert "comments change their themes" in html
    assert "Precision" in html and "Recall" in html
