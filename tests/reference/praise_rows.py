"""praise_clause and recognition_partial's per-row loop as they were before issue 19 item 3, kept verbatim
(imports aside) as the reference of tests/test_cpu_paths.py."""

from __future__ import annotations

import re

from feedbacklib.actions import _CLAUSE_SPLIT, _PRAISE_WORDS


def praise_clause(text, agent: str = "") -> str:
    if not isinstance(text, str) or not text.strip():
        return ""
    clauses = [c.strip(" ,") for c in _CLAUSE_SPLIT.split(text) if c and c.strip(" ,")]
    if agent:
        first = agent.split()[0]
        named = [c for c in clauses if re.search(rf"\b{re.escape(first)}\b", c)]
        if named:
            return named[0]
    return next((c for c in clauses if _PRAISE_WORDS.search(c)), "")
