"""Compute, then render: the layout rules of feedbacklib.stats and feedbacklib.report hold."""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path

import pytest

import feedbacklib
from feedbacklib import stats
from feedbacklib.result import MonthResult

PACKAGE = Path(feedbacklib.__file__).parent
STATISTICS = {"scipy", "sklearn", "statsmodels"}
STAT_FUNCTIONS = {"benjamini_hochberg", "two_proportion_test", "wilson_interval", "proportion_interval",
                  "newcombe_diff_interval", "mann_whitney", "bootstrap_interval", "kpi_table", "compare_groups",
                  "pooled_rates", "group_counts", "clear_change"}


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            names |= {node.module or ""} | {a.name for a in node.names}
    return names


@pytest.mark.parametrize("path", sorted((PACKAGE / "report").glob("*.py")), ids=lambda p: p.name)
def test_report_modules_only_format(path):
    imported = _imports(path)
    assert not {n.split(".")[0] for n in imported} & STATISTICS, f"{path.name} imports a statistics library"
    assert not imported & STAT_FUNCTIONS, f"{path.name} computes a statistic: {imported & STAT_FUNCTIONS}"


def test_month_result_is_frozen_and_fully_computed():
    assert dataclasses.is_dataclass(MonthResult) and MonthResult.__dataclass_params__.frozen
    lazy = [name for name, value in vars(MonthResult).items() if hasattr(value, "func") or
            type(value).__name__ == "cached_property"]
    assert lazy == []


def test_no_module_reaches_for_a_private_statistics_helper():
    pattern = re.compile(r"\b(?:C|stats|cmp)\._[a-z]\w*")
    offenders = [f"{p.relative_to(PACKAGE)}: {m}" for p in PACKAGE.rglob("*.py") if p.parent.name != "stats"
                 for m in pattern.findall(p.read_text(encoding="utf-8"))]
    assert offenders == []


def test_has_text_is_defined_once():
    defs = [p.relative_to(PACKAGE) for p in PACKAGE.rglob("*.py")
            if re.search(r"^def _?has_text\(", p.read_text(encoding="utf-8"), re.M)]
    assert [str(d) for d in defs] == [str(Path("stats") / "_frame.py")]


def test_defaults_are_declared_once():
    literal = re.compile(r"\b(?:min_n: int = \d|alpha: float = 0\.\d|confidence: float = 0\.\d)")
    offenders = [str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
                 if literal.search(p.read_text(encoding="utf-8"))]
    assert offenders == [] or set(offenders) <= {str(Path("themes") / "audit.py")}


def test_has_text_ignores_blank_comments():
    import pandas as pd

    frame = pd.DataFrame({"text": ["ok", "  ", "", None, " fine "]})
    assert stats.has_text(frame).tolist() == [True, False, False, False, True]
    assert stats.has_text(pd.DataFrame({"sentiment": [0.1, None]})).tolist() == [True, False]


def test_headline_change_is_clear_only_beyond_chance():
    import pandas as pd

    tables = pd.DataFrame({"month": ["2026-09", "2026-10"], "group": ["all", "all"],
                           "satisfied_share": [0.40, 0.60], "satisfied_share_lo": [0.35, 0.55],
                           "satisfied_share_hi": [0.45, 0.65], "negative_share": [0.20, 0.21],
                           "negative_share_lo": [0.15, 0.16], "negative_share_hi": [0.25, 0.26]})
    assert stats.headline_changes(tables, "2026-10", "2026-09") == {"satisfied_share": "better",
                                                                   "negative_share": "same"}
    assert stats.headline_changes(tables, "2026-10", None) == {}


#: What only :func:`feedbacklib.result.month_tables` may use: the month's raw rows and quarantine, the
#: quote chooser (a TF-IDF fit), the tagger's cross-validated error, and the statistics libraries.
RAW_FIELDS = {"frame", "quarantine", "rows"}
COMPUTING_MODULES = {"feedbacklib.quotes", "feedbacklib.themes.correction"}


def _absolute_imports(path: Path) -> set[str]:
    """Every module ``path`` imports, relative imports resolved (``from .. import quotes`` -> feedbacklib.quotes)."""
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([node.module] if node.module else []))
            names |= {base} | {f"{base}.{a.name}" for a in node.names}
    return names


@pytest.mark.parametrize("path", sorted((PACKAGE / "report").glob("*.py")), ids=lambda p: p.name)
def test_report_modules_read_no_raw_rows_and_fit_nothing(path):
    """Compute, then render (issue 14 item 2): a section formats fields of MonthResult, nothing more."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    raw = sorted({f"line {n.lineno}: .{n.attr}" for n in ast.walk(tree)
                  if isinstance(n, ast.Attribute) and n.attr in RAW_FIELDS}
                 | {f"line {n.lineno}: getattr(..., {n.args[1].value!r})" for n in ast.walk(tree)
                    if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "getattr"
                    and len(n.args) > 1 and isinstance(n.args[1], ast.Constant) and n.args[1].value in RAW_FIELDS})
    assert raw == [], f"{path.name} reads the month's raw rows: {raw}"
    imported = _absolute_imports(path)
    computing = sorted(n for n in imported if n.split(".")[0] in STATISTICS
                       or any(n == m or n.startswith(m + ".") for m in COMPUTING_MODULES))
    assert computing == [], f"{path.name} imports what computes: {computing}"


def test_the_layout_check_sees_relative_imports():
    sections = PACKAGE / "report" / "sections.py"  # resolved against its place in the package
    names = _absolute_imports(sections)
    assert "feedbacklib.report.html" in names and "feedbacklib.result.MonthResult" in names


def test_month_result_holds_what_the_report_used_to_compute(sample_result):
    from feedbacklib import schema as S

    r, frame = sample_result, sample_result.frame
    assert r.volume.responses == len(frame) and r.volume.customers == frame[S.CUSTOMER_KEY].nunique()
    assert r.source_counts == {k: int(v) for k, v in frame[S.SOURCE].value_counts().items()}
    assert set(r.team_models) == set(frame[S.TEAM].dropna())
    assert len(r.quote_themes) == 5 and r.quotes["theme"].isin(r.quote_themes["theme"]).all()
    assert set(r.quotes[S.TEXT]) <= set(frame[S.TEXT].dropna())  # the redacted text, as stored
    assert int(r.quarantine_reasons["rows"].sum()) == len(r.quarantine)
    assert r.theme_errors is None and not r.theme_errors_failed  # the sample points to no labels file
