"""The package as users get it: one-way imports, and a wheel that runs a month on its own.

* The import graph of ``feedbacklib`` has no cycle, and no module imports the package
  inside a function (which is how cycles hide), except the command line, which imports
  late to keep ``--help`` fast.
* ``pip install .`` without extras gives a ``feedback-report run`` that finds its report
  notebook: the wheel carries ``feedbacklib/report/monthly_report.ipynb`` (in a checkout a
  link to ``notebooks/monthly_report.ipynb``) and the ``py.typed`` marker.
"""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from tests.conftest import CONFIG, SAMPLE

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "feedbacklib"
#: Modules allowed to import the package inside a function.
LATE_IMPORTERS = {"feedbacklib.cli"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _targets(module: str, node: ast.Import | ast.ImportFrom, is_package: bool) -> list[str]:
    """The package's modules an import statement loads (a name that is a submodule counts as it)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.split(".")[0] == "feedbacklib"]
    if node.level:
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    if target.split(".")[0] != "feedbacklib":
        return []
    return [f"{target}.{a.name}" if f"{target}.{a.name}" in MODULES else target for a in node.names]


def _imports(module: str) -> tuple[set[str], list[tuple[str, int]]]:
    """``(modules imported at load time, [(module, line) imported inside a function])``."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top: set[str] = set()
    late: list[tuple[str, int]] = []

    def walk(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                walk(child, True)
                continue
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue  # annotations only: never executed
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                for target in _targets(module, child, path.name == "__init__.py"):
                    if in_function:
                        late.append((target, child.lineno))
                    else:
                        top.add(target)
            walk(child, in_function)

    walk(tree, False)
    return top, late


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), or a module importing itself."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in edges:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in edges.get(v, ()):
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


GRAPH = {m: _imports(m) for m in MODULES}


def _with_packages(importer: str, targets: set[str]) -> set[str]:
    """Importing ``a.b.c`` runs ``a.b``'s ``__init__`` first: count those packages (not the importer's own)."""
    own = {".".join(importer.split(".")[:k]) for k in range(1, importer.count(".") + 2)}
    out = set(targets)
    for target in targets:
        parts = target.split(".")
        out.update(p for p in (".".join(parts[:k]) for k in range(1, len(parts))) if p not in own and p in MODULES)
    return out


def test_the_import_graph_has_no_cycle():
    edges = {m: _with_packages(m, top) for m, (top, _) in GRAPH.items()}
    assert _cycles(edges) == []


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_module_imports_the_package_inside_a_function():
    late = {m: lines for m, (_, lines) in GRAPH.items() if lines and m not in LATE_IMPORTERS}
    assert late == {}, ("import the package at the top of the module; a function-level import hides a cycle: "
                        f"{late}")


def test_runtime_dependencies_leave_the_tools_to_the_extras():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = {d.split(">")[0].split("=")[0].split("<")[0].split("[")[0].strip().lower()
               for d in project["dependencies"]}
    for tool in ("jupyterlab", "itables", "pytest", "selenium", "hypothesis", "dask", "ruff", "mypy"):
        assert tool not in runtime, f"{tool} belongs in an extra, not on the cron machine"
    assert {"papermill", "nbconvert", "ipykernel"} <= runtime  # what `feedback-report run` needs
    extras = project["optional-dependencies"]
    assert {"lab", "test", "dask"} <= set(extras)
    assert any(d.startswith("jupyterlab") for d in extras["lab"])


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel ``pip install .`` would install, built offline from a copy of the checkout."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    for folder in ("feedbacklib", "notebooks"):
        shutil.copytree(ROOT / folder, source / folder, symlinks=True,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints"))
    dist = work / "dist"
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                           "--disable-pip-version-check", "-q", "-w", str(dist), str(source)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    (built,) = dist.glob("feedbacklib-*.whl")
    return built


def test_the_wheel_carries_the_report_notebook_and_the_type_marker(wheel):
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        assert "feedbacklib/py.typed" in names
        assert "feedbacklib/report/monthly_report.ipynb" in names
        notebook = json.loads(zf.read("feedbacklib/report/monthly_report.ipynb"))  # a file, not a link
    checkout = json.loads((ROOT / "notebooks" / "monthly_report.ipynb").read_text(encoding="utf-8"))
    assert notebook == checkout
    assert any("parameters" in c.get("metadata", {}).get("tags", []) for c in notebook["cells"])


def test_an_installed_wheel_plans_a_month_with_its_own_notebook(wheel, tmp_path):
    site = tmp_path / "site"
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q",
                           "--disable-pip-version-check", "--target", str(site), str(wheel)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    config = tmp_path / "feedback.toml"  # the cron machine's own configuration
    shutil.copy2(CONFIG, config)
    exports = tmp_path / "exports"  # one month of one platform is enough to find the notebook
    exports.mkdir()
    shutil.copy2(SAMPLE / "qualtrics_post_contact_survey_2026-10.csv", exports)
    env = {"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONNOUSERSITE": "1"}
    run = subprocess.run([sys.executable, "-I", "-c",
                          "import sys; sys.path.insert(0, sys.argv[1]); from feedbacklib.cli import main; "
                          "sys.exit(main(sys.argv[2:]))", str(site),
                          "run", "--dry-run", "--month", "2026-10", "--today", "2026-12-06",
                          "--input", str(exports), "--config", str(config), "--output", str(tmp_path / "reports")],
                         capture_output=True, text=True, cwd=tmp_path, env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    notebook = next(line for line in run.stdout.splitlines() if line.startswith("notebook: "))
    assert str(site / "feedbacklib" / "report" / "monthly_report.ipynb") in notebook


def test_a_missing_notebook_is_a_configuration_error(tmp_path, capsys):
    from feedbacklib.cli import main

    code = main(["run", "--dry-run", "--month", "2026-10", "--today", "2026-12-06", "--input", str(SAMPLE),
                 "--config", str(CONFIG), "--output", str(tmp_path / "reports"),
                 "--notebook", str(tmp_path / "gone.ipynb")])
    err = capsys.readouterr().err
    assert code == 2 and "gone.ipynb is missing" in err and "--notebook" in err, err
