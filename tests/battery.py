"""The adversarial battery: every hostile-input, fault, leak and security test, with a table of what held.

``make battery`` (or ``python -m tests.battery``) runs the suites below with pytest and prints, per
area, how many cases were tried and how many held (passed). A case is one test or one parametrised
instance of it: the bad-input corpus, the kill -9 points, the planted personal data, the XSS payloads.
Exit code: pytest's (0 when everything held).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Area -> the test files that attack it.
AREAS: dict[str, tuple[str, ...]] = {
    "malformed and hostile inputs": ("tests/test_bad_inputs.py", "tests/test_io_exports.py"),
    "faults (kill -9, disk full, read-only, locks)": ("tests/test_faults.py",),
    "history store (atomic commit, readers)": ("tests/test_history_store.py",),
    "personal data (redaction, look-alikes)": ("tests/test_pii.py", "tests/test_pii_leak.py"),
    "escaping, CSP, formulas, symlinks, salts": ("tests/test_security.py", "tests/test_safety.py"),
    "configuration typos": ("tests/test_config.py",),
    "sparse data and thin months": ("tests/test_sparse_report.py",),
}


def _area_of(classname: str) -> str | None:
    module = classname.split(".")[1] if classname.startswith("tests.") else classname.split(".")[0]
    for area, files in AREAS.items():
        if any(Path(f).stem == module for f in files):
            return area
    return None


def main(argv: list[str] | None = None) -> int:
    files = [f for fs in AREAS.values() for f in fs if (ROOT / f).exists()]
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "battery.xml"
        code = subprocess.call([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                f"--junitxml={report}", *files, *(argv or [])], cwd=ROOT)
        if not report.exists():
            print("battery: pytest wrote no results", file=sys.stderr)
            return code or 1
        tried, held, skipped = Counter(), Counter(), Counter()
        for case in ET.parse(report).getroot().iter("testcase"):
            area = _area_of(case.get("classname", ""))
            if area is None:
                continue
            if case.find("skipped") is not None:
                skipped[area] += 1
                continue
            tried[area] += 1
            if case.find("failure") is None and case.find("error") is None:
                held[area] += 1
    width = max(len(a) for a in AREAS)
    print(f"\n{'area':<{width}}  {'tried':>6}  {'held':>6}  {'skipped':>7}")
    for area in AREAS:
        print(f"{area:<{width}}  {tried[area]:>6}  {held[area]:>6}  {skipped[area]:>7}")
    print(f"{'all':<{width}}  {sum(tried.values()):>6}  {sum(held.values()):>6}  {sum(skipped.values()):>7}")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
