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
                 if literal.search(p.read_text(encoding="utf-8")) and p.name != "impact.py"]
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
