"""The compare stage's functions as they were before the compare-stage CPU work of issue 19 item 3 (branch
``cmp``), kept verbatim (imports aside; the recognition, call-list and emerging-count helpers they call
are the package's) as the reference of tests/test_compare_cpu.py."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from feedbacklib import schema as S
from feedbacklib import stats as C
from feedbacklib.actions import (CALL_LIST_COLUMNS, CHURN_THEME, NOT_FIXED_THEME, PRAISE_THEME,
                                 RECOGNITION_CANDIDATES, CallListPartial, FixFirstPartial, RecognitionPartial,
                                 _PRAISE_KEY, _call_candidates, _col, _praise_candidates, _praising, call_reasons,
                                 detect_agent)
from feedbacklib.emerging import EmergingCounts, EmergingModels, has_content_word

_CLAUSE_SPLIT = re.compile(
    r"(?<=[.!?])\s+|\s*[;\n]\s*|\s+-\s+|,?\s+\b(?:but|however|although|though|except|yet|unfortunately)\b\s*,?\s*",
    re.IGNORECASE)
_PRAISE_WORDS = re.compile(
    r"\b(?:thanks?|thank you|great|excellent|amazing|fantastic|brilliant|superb|a star|above and beyond|extra mile|"
    r"helpful|lovely|wonderful|outstanding|a credit|best|kind|patient|friendly|pleasure|sorted it|well done)\b",
    re.IGNORECASE)


def praise_clause(text, agent: str = "") -> str:
    """The clause of ``text`` that praises: the one naming ``agent``, else the first with a praise word.

    Clauses are split at sentence ends, semicolons and contrast words ("but",
    "however", "although"), so a complaint after the praise is left out.

    Examples
    --------
    >>> praise_clause("Fantastic service from Priya but there was an unexpected fee of £35.", "Priya")
    'Fantastic service from Priya'
    >>> praise_clause("Felt rushed. Thank you anyway, lovely people!")
    'Thank you anyway, lovely people!'
    """
    if not isinstance(text, str) or not text.strip():
        return ""
    # the clauses of _CLAUSE_SPLIT.split(text), read one at a time up to the one that decides
    # (the first naming the agent, else the first with a praise word): at 1M rows splitting
    # every praising comment whole cost seconds
    named = re.compile(rf"\b{re.escape(agent.split()[0])}\b") if agent else None
    praising = ""
    for clause in _clauses(text):
        if named is not None and named.search(clause):
            return clause
        if not praising and _PRAISE_WORDS.search(clause):
            if named is None:
                return clause
            praising = clause
    return praising


def _clauses(text: str):
    """The non-empty clauses of ``text`` (``_CLAUSE_SPLIT``), stripped of spaces and commas, lazily."""
    start = 0
    for m in _CLAUSE_SPLIT.finditer(text):
        clause = text[start:m.start()].strip(" ,")
        start = m.end()
        if clause:
            yield clause
    clause = text[start:].strip(" ,")
    if clause:
        yield clause


def recognition_partial(frame: pd.DataFrame, size: int = RECOGNITION_CANDIDATES) -> RecognitionPartial:
    """The :class:`RecognitionPartial` of ``frame`` (a month, or one part of it)."""
    columns = [S.TEAM, S.VENDOR, "agent", S.RESPONSE_ID, S.RECEIVED_AT, S.TEXT, "clause", S.PLATFORM]
    col = S.theme_column(PRAISE_THEME)
    if frame.empty or col not in frame.columns:
        empty = pd.DataFrame({c: pd.Series(dtype=object) for c in [*columns, _PRAISE_KEY, "_named", "_t"]})
        return RecognitionPartial(int(size), {}, empty)
    praise = C.bool_flags(frame, col) & C.has_text(frame)
    # only the columns read below: a copy of every column of the praising rows cost seconds at 1M
    out = frame.loc[praise, [c for c in (S.TEAM, S.VENDOR, S.RESPONSE_ID, S.RECEIVED_AT, S.TEXT, S.PLATFORM)
                             if c in frame.columns]].copy()
    for column in (S.TEAM, S.VENDOR, S.RESPONSE_ID, S.RECEIVED_AT, S.PLATFORM):
        if column not in out.columns:
            out[column] = pd.NA
    out[S.TEAM] = out[S.TEAM].astype("string").fillna("unknown team")
    # the agent and the clause of each distinct text, and the verdict on each distinct clause, spread
    # back to the rows (each depends only on its text): the same columns, computed once per text
    codes, texts = pd.factorize(out[S.TEXT].astype(object), use_na_sentinel=False)
    agents = [detect_agent(t) for t in texts]
    clauses = [praise_clause(t, a) for t, a in zip(texts, agents)]
    out["agent"] = pd.Series(np.array(agents, dtype=object)[codes], index=out.index, dtype="str")
    out["clause"] = pd.Series(np.array(clauses, dtype=object)[codes], index=out.index, dtype="str")
    clause_codes, distinct = pd.factorize(np.array(clauses, dtype=object))
    verdict = np.zeros(len(distinct), dtype=bool)
    said = np.array([c != "" for c in distinct], dtype=bool)
    verdict[said] = _praising([c for c in distinct if c != ""])
    keep = verdict[clause_codes][codes] if len(codes) else np.zeros(0, dtype=bool)
    out = out.loc[keep, columns]
    counts = {str(t): int(n) for t, n in out[S.TEAM].value_counts(sort=False).items()}
    out = out.assign(**{_PRAISE_KEY: out["clause"].astype(str).str.casefold().str.strip(" .!"),
                        "_named": (out["agent"] == "").astype(bool),
                        "_t": pd.to_datetime(out[S.RECEIVED_AT], utc=True),
                        S.RESPONSE_ID: out[S.RESPONSE_ID].astype("string"),
                        S.PLATFORM: out[S.PLATFORM].astype("string")})
    return RecognitionPartial(int(size), counts, _praise_candidates(out, int(size)))


def fix_first_partial(frame: pd.DataFrame, *, dimensions: Sequence[str] = (S.VENDOR, S.TEAM, S.CHANNEL),
                      themes: Sequence[str] | None = None) -> FixFirstPartial:
    """The :class:`FixFirstPartial` of ``frame`` (a month, or one part of it)."""
    text = C.has_text(frame)
    theme_ids = C.themes_of(frame, themes)
    hits = {f"hit:{t}": C.bool_flags(frame, S.theme_column(t)) & text for t in theme_ids}
    measures = pd.DataFrame({"n": text.astype(np.int64), **{k: v.astype(np.int64) for k, v in hits.items()}})
    with_text = measures[text]  # once, not once per dimension
    parts = []
    for dim in dimensions:
        if dim not in frame.columns:
            continue
        labels = frame[dim].astype("string")
        if dim == S.VENDOR and S.SERVICE_MODEL in frame.columns:
            in_house = C.equals_mask(frame, S.SERVICE_MODEL, S.IN_HOUSE)
            labels = labels.mask(labels.isna() & in_house, C.IN_HOUSE_LABEL)
        rows = with_text.assign(where=labels[text].to_numpy()).dropna(subset=["where"])
        parts.append(rows.groupby("where", sort=True).sum().reset_index().assign(dimension=dim))
    columns = ["dimension", "where", *measures.columns]
    counts = pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)
    totals = with_text.sum().astype(np.int64)
    return FixFirstPartial(tuple(dimensions), counts.astype({c: np.int64 for c in measures.columns}), totals)


def call_list_partial(frame: pd.DataFrame, size: int = 15, *, one_per_customer: bool = True) -> CallListPartial:
    """The :class:`CallListPartial` of ``frame`` (a month, or one part of it)."""
    rows = _listed(frame)
    columns = list(dict.fromkeys([*CALL_LIST_COLUMNS, S.CUSTOMER_KEY, S.PLATFORM]))
    rows = rows.assign(**{c: pd.NA for c in columns if c not in rows.columns})[columns]
    rows = rows.assign(_t=pd.to_datetime(rows[S.RECEIVED_AT], utc=True))
    return CallListPartial(int(size), bool(one_per_customer), _call_candidates(rows, size, one_per_customer))


def _listed(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``frame`` the call list may take, with their ``priority`` and ``reasons``."""
    if frame.empty:
        return frame.assign(priority=pd.Series(dtype=int), reasons=pd.Series(dtype=object))
    churn = C.bool_flags(frame, S.theme_column(CHURN_THEME))
    not_fixed = C.bool_flags(frame, S.theme_column(NOT_FIXED_THEME))
    reported_known = C.known_mask(frame, S.RESOLVED_REPORTED)
    reported_solved = reported_known & C.bool_flags(frame, S.RESOLVED_REPORTED)
    reported_unresolved = reported_known & ~C.bool_flags(frame, S.RESOLVED_REPORTED)
    reopened = C.known_mask(frame, S.REOPENED) & C.bool_flags(frame, S.REOPENED)
    unresolved = reported_unresolved | not_fixed
    csat = C.numeric(frame, S.CSAT)
    negative = np.array(_col(frame, S.SENTIMENT_LABEL).astype("string").eq(C.NEGATIVE_LABEL).fillna(False),
                        dtype=bool)
    low = csat <= C.LOW_RATING_MAX_CSAT
    unhappy = low | negative
    priority = 4 * churn.astype(int) + 2 * unresolved.astype(int) + unhappy.astype(int)
    keep = (priority >= 3) & C.has_text(frame)
    reasons = [call_reasons(*flags) for flags in zip(churn[keep], not_fixed[keep], reported_solved[keep],
                                                     reported_unresolved[keep], reopened[keep], csat[keep],
                                                     negative[keep])]
    return frame.loc[keep].assign(priority=priority[keep], reasons=reasons)


def _nonempty(texts) -> pd.Series:
    texts = pd.Series(list(texts), dtype=object)
    return texts[texts.map(lambda t: isinstance(t, str) and bool(t.strip()))].reset_index(drop=True)


def emerging_counts(texts, models: EmergingModels) -> EmergingCounts:
    """The :class:`EmergingCounts` of ``texts`` (uncovered comments of a month, or of one part of it)."""
    texts = _nonempty(texts)
    now = np.asarray(models.discovery.predict(texts), dtype=np.int64) if len(texts) else np.zeros(0, np.int64)
    before = (np.asarray(models.before.predict(texts), dtype=np.int64) if models.before is not None and len(texts)
              else np.full(len(texts), -2, dtype=np.int64))
    content = np.array([has_content_word(t) for t in texts], dtype=bool)
    table = pd.DataFrame({"now": now, "before": before, "content": content, "n": np.ones(len(texts), np.int64)})
    table = table.groupby(["now", "before", "content"], sort=True)["n"].sum().reset_index()
    return EmergingCounts(len(texts), table)
