"""Which column plays which role (comment, CSAT, NPS, team, channel): from the question text
and the answers, never from a column's position or the length of its answers alone.

A survey export names its questions freely, so each question column is described by
what it asks (its question text) and what it holds (:func:`column_kind`: free text,
ratings on a 0-10 scale, choice lists such as ``Pricing;Brand``, e-mail addresses,
plain numbers). A role goes to a column whose question asks for it *and* whose answers
fit it; the comment is the free-text column that asks for comments, else the free-text
column with the most words. ``feedback.toml`` overrides any choice
(``[platforms.<name>.columns] text = "..."``). Every choice carries its reason, which
``feedback-report validate`` prints.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import pandas as pd

from .. import schema as S
from ..settings import CSAT_LABELS, NPS_LABELS

__all__ = ["column_kind", "choose_roles", "NPS_Q", "CSAT_Q", "TEXT_Q", "TEAM_Q", "CHANNEL_Q"]

NPS_Q = re.compile(r"recommend|how likely|\bnps\b|net promoter", re.IGNORECASE)
CSAT_Q = re.compile(r"satisf|how would you rate|overall rating|rate your|rate the|\bcsat\b|star rating|^rating$|"
                    r"^score$|^stars?$", re.IGNORECASE)
TEXT_Q = re.compile(
    r"comment|feedback|why|rationale|tell us|suggest|improve|anything else|explain|reason|"
    r"what could|describe|experience|review|^text$|^body$|^message$|in your own words|free[ -]text|open[ -]ended",
    re.IGNORECASE)
TEAM_Q = re.compile(r"^(team|queue|department|agent team|group)$|which (team|department|queue)", re.IGNORECASE)
CHANNEL_Q = re.compile(r"^(channel|contact channel|source|how did you contact us.*)$", re.IGNORECASE)
_EMAIL = r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$"
_LABELLED = r"^[ \t]*[0-9]+(?:[.][0-9]+)?[ \t]*(?:[-(:=/]|[A-Za-z])"
_SAMPLE = 5000


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _sample(values: pd.Series) -> pd.Series:
    """Up to :data:`_SAMPLE` non-empty answers as Python strings, never a copy of the whole column
    (a million-row export has a million comments)."""
    head = values.iloc[: _SAMPLE * 4].dropna()
    if len(head) < _SAMPLE and len(values) > _SAMPLE * 4:
        head = values.dropna().iloc[:_SAMPLE]
    return head.iloc[:_SAMPLE].astype(str)


def column_kind(values: pd.Series) -> tuple[str, str]:
    """``(kind, description)`` of a column's answers (the first 5,000 non-empty ones).

    Kinds: ``empty``, ``rating`` (whole numbers within 0-10, or rating labels),
    ``number``, ``email``, ``choice list`` (several options joined by ``;``),
    ``choice`` (a few distinct short answers), ``free text``, ``short answers``.
    """
    v = _sample(values).str.strip()
    v = v[v != ""].iloc[:_SAMPLE]
    if v.empty:
        return "empty", "no answers"
    number = pd.to_numeric(v, errors="coerce")
    labels = {k.casefold() for k in (*CSAT_LABELS, *NPS_LABELS)}
    labelled = v.str.match(_LABELLED) | v.str.casefold().str.strip(" .!").isin(labels)
    numeric = float(number.notna().mean())
    rating_like = float((number.notna() | labelled).mean())
    if numeric >= 0.5 or rating_like >= 0.8:
        nums = number.dropna()
        if len(nums) and (nums % 1 == 0).all() and nums.min() >= 0 and nums.max() <= 10:
            return "rating", f"answers {nums.min():g}-{nums.max():g}"
        if rating_like >= 0.8 and not len(nums):
            return "rating", "rating labels"
        if numeric >= 0.5:
            return "number", f"numbers {nums.min():g}-{nums.max():g}" if len(nums) else "numbers"
    if v.str.match(_EMAIL).mean() >= 0.5:
        return "email", "e-mail addresses"
    multi = v.str.contains(";", regex=False)
    if multi.mean() >= 0.2:
        tokens = v.str.split(";").explode().str.strip()
        tokens = tokens[tokens != ""]
        if tokens.nunique() <= max(25, len(v) // 5) and tokens.str.len().mean() < 40:
            return "choice list", f"lists of {tokens.nunique()} options joined by ';'"
    words = float(v.str.split().str.len().mean())
    distinct = v.nunique()
    if len(v) >= 20 and distinct <= max(12, len(v) // 10) and words < 6:
        return "choice", f"{distinct} distinct answers"
    if words >= 3 or float(v.str.len().mean()) >= 15:
        return "free text", f"free text, {words:.0f} words on average"
    return "short answers", f"short answers, {distinct} distinct"


def choose_roles(raw: pd.DataFrame, columns: Iterable[str], questions: Mapping[str, str] | None = None,
                 *, positions: Mapping[str, str] | None = None, text_hint: Iterable[str] = ()
                 ) -> dict[str, tuple[str, str]]:
    """Canonical name -> ``(column, why)`` for the roles the question columns can play.

    ``questions``: column -> question text (default: the column name).
    ``positions``: canonical -> the column a platform's fixed layout puts there
    (Qualtrics' Q1/Q2/Q3), used only when no question asks for the role and the
    answers fit it. ``text_hint``: columns the platform marks as text entry.
    """
    questions = dict(questions or {})
    cols = [c for c in columns if c in raw.columns]
    kinds = {c: column_kind(raw[c]) for c in cols}
    hinted = set(text_hint)
    found: dict[str, tuple[str, str]] = {}

    def asked(c: str) -> str:
        return str(questions.get(c) or c)

    def take(role: str, pattern: re.Pattern[str], ok: tuple[str, ...]) -> None:
        for c in cols:
            if c in {v[0] for v in found.values()}:
                continue
            q = asked(c)
            if pattern.search(q) or pattern.search(c):
                kind, desc = kinds[c]
                if kind in ok:
                    found[role] = (c, f'question "{_short(q)}", {desc}')
                    return

    take(S.NPS, NPS_Q, ("rating",))
    take(S.CSAT, CSAT_Q, ("rating",))
    for role, pattern in ((S.TEAM, TEAM_Q), (S.CHANNEL, CHANNEL_Q)):
        for c in cols:
            if role not in found and c not in {v[0] for v in found.values()} and (
                    pattern.search(asked(c).strip()) or pattern.search(c.strip())) and " - " not in c:
                if kinds[c][0] in ("choice", "short answers", "free text"):
                    found[role] = (c, f'question "{_short(asked(c))}", {kinds[c][1]}')
    used = {v[0] for v in found.values()}
    free = [c for c in cols if c not in used and kinds[c][0] == "free text"]
    lengths = {c: float(_sample(raw[c]).str.len().mean()) for c in free}
    asked_text = [c for c in free if TEXT_Q.search(asked(c)) or c in hinted]
    if asked_text:
        best = max(asked_text, key=lambda c: lengths[c])
        found[S.TEXT] = (best, f'question "{_short(asked(best))}" asks for comments, {kinds[best][1]}')
    elif free:
        best = max(free, key=lambda c: lengths[c])
        found[S.TEXT] = (best, f'the free-text question with the longest answers ("{_short(asked(best))}", '
                               f"{kinds[best][1]})")
    else:
        short = [c for c in cols if c not in used and kinds[c][0] == "short answers" and TEXT_Q.search(asked(c))]
        if short:
            found[S.TEXT] = (short[0], f'question "{_short(asked(short[0]))}" asks for comments, {kinds[short[0]][1]}')
    for role, col in (positions or {}).items():
        if role in found or col not in kinds or col in {v[0] for v in found.values()}:
            continue
        kind, desc = kinds[col]
        fits = kind == "rating" if role in (S.CSAT, S.NPS) else kind in ("free text", "short answers")
        if fits:
            found[role] = (col, f"the layout's position for it ({col}; no question asked for it), {desc}")
    return found


def describe(roles: Mapping[str, tuple[str, str]], override: Mapping[str, str] | None = None,
             fixed: Mapping[str, str] | None = None) -> dict[str, str]:
    """``Staged.roles``: canonical -> ``"column (why)"`` for ``validate``; configured columns first."""
    out: dict[str, str] = {}
    for role, col in (override or {}).items():
        out[role] = f"{col!r} (set in feedback.toml)"
    for role, (col, why) in roles.items():
        out.setdefault(role, f"{col!r} ({why})")
    for role, how in (fixed or {}).items():
        out.setdefault(role, how)
    return out
