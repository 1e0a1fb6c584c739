"""Notebooks stay thin: parameters, headings, and one or two calls into the package."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest

from feedbacklib.report import SECTIONS

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
        assert len(tree.body) <= 5


def test_report_notebook_parameters_and_sections():
    nb = nbformat.read(NOTEBOOKS[0].parent / "monthly_report.ipynb", as_version=4)
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1
    names = {t.id for n in ast.parse(params[0].source).body for t in n.targets}
    assert names == {"month", "input_dir", "config_path", "output_dir", "generated_at"}
    anchors = re.findall(r'<h2 id="([a-z-]+)">', "\n".join(c.source for c in nb.cells if c.cell_type == "markdown"))
    assert anchors == [a for a, _ in SECTIONS]
