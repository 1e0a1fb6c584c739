"""What a leader does with the report: whom to call, whom to thank, what to fix first.

Pure functions over the month's tagged frame (and the statistics already
computed for it); the report's sections only format what they return.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .additive import Additive
from . import stats as C
from . import schema as S
from .sentiment import score_sentiment

__all__ = ["select_call_list", "call_reasons", "select_recognition", "praise_clause", "detect_agent", "fix_first",
           "CallListPartial", "call_list_partial", "select_call_list_from_partial",
           "FixFirstPartial", "fix_first_partial", "fix_first_from_partial",
           "RecognitionPartial", "recognition_partial", "select_recognition_from_partial", "RECOGNITION_CANDIDATES",
           "CALL_LIST_COLUMNS", "RECOGNITION_COLUMNS", "FIX_FIRST_COLUMNS"]

CHURN_THEME = "churn_risk"
NOT_FIXED_THEME = "not_fixed"
PRAISE_THEME = "praise"
#: The call list's reasons, in the words a leader reads (see :func:`call_reasons`).
REASON_CHURN = "talks of leaving"
REASON_SOLVED_NOT_FIXED = "marked solved but not fixed"
REASON_NOT_FIXED = "says it is not fixed"
REASON_OPEN = "case still open"
REASON_REOPENED = "case reopened"
REASON_NEGATIVE = "negative comment"

CALL_LIST_COLUMNS = (S.RESPONSE_ID, S.RECEIVED_AT, S.TEAM, S.VENDOR, S.SERVICE_MODEL, S.CHANNEL,
                     "priority", "reasons", S.TEXT)
RECOGNITION_COLUMNS = (S.TEAM, S.VENDOR, "team_praise", "agent", S.RESPONSE_ID, S.RECEIVED_AT, S.TEXT, "clause")
FIX_FIRST_COLUMNS = (
    "rank", "theme", "impact", "impact_lo", "impact_hi", "n_with",
    "dimension", "where", "where_n", "where_rate", "where_rate_lo", "where_rate_hi", "rest_rate",
    "where_p_value", "where_q_value", "concentrated",
    "rate", "prev_rate", "change", "q_prev", "moved", "spike",
)


def _col(frame: pd.DataFrame, column: str, default=None) -> pd.Series:
    if column in frame.columns:
        return frame[column]
    return pd.Series(default, index=frame.index)


# =========================================================================== #
# Call list
# =========================================================================== #
def call_reasons(churn: bool, not_fixed: bool, reported_solved: bool, reported_unresolved: bool,
                 reopened: bool, csat: float, negative: bool) -> str:
    """Why one customer is on the call list, in words ("talks of leaving; marked solved but not fixed; rated 1").

    Examples
    --------
    >>> call_reasons(True, True, True, False, False, 1.0, True)
    'talks of leaving; marked solved but not fixed; rated 1 of 5'
    >>> call_reasons(False, False, False, True, True, float("nan"), True)
    'case still open; case reopened; negative comment'
    """
    words = []
    if churn:
        words.append(REASON_CHURN)
    if not_fixed:
        words.append(REASON_SOLVED_NOT_FIXED if reported_solved else REASON_NOT_FIXED)
    elif reported_unresolved:
        words.append(REASON_OPEN)
    if reopened:
        words.append(REASON_REOPENED)
    if csat == csat and csat <= C.LOW_RATING_MAX_CSAT:  # NaN != NaN: no rating
        words.append(f"rated {int(csat)} of 5")
    elif negative:
        words.append(REASON_NEGATIVE)
    return "; ".join(words)


def select_call_list(frame: pd.DataFrame, size: int = 15, *, one_per_customer: bool = True) -> pd.DataFrame:
    """Up to ``size`` customers a leader should call personally, most urgent first.

    Signals per row (all need a non-empty comment, so the leader knows what
    the call is about):

    - churn risk: the ``churn_risk`` theme (weight 4);
    - not resolved: ``resolved_reported`` is False, or the ``not_fixed`` theme
      (weight 2);
    - unhappy: CSAT 1-2, or a negative comment (weight 1).

    A row is listed when its priority (sum of weights) is at least 3, i.e.
    churn risk, or not resolved *and* unhappy. Order: priority, then most
    recent first, then response id and platform (a total order: the same list
    however the month's rows are ordered or split, see :class:`CallListPartial`);
    with ``one_per_customer`` only the most urgent row of a ``customer_key`` is
    kept (no customer is called twice).

    Returns
    -------
    pandas.DataFrame
        Columns ``response_id, received_at, team, vendor, service_model,
        channel, priority`` (int 3..7), ``reasons`` (this row's own reasons in
        words, e.g. ``"talks of leaving; marked solved but not fixed; rated 1 of 5"``,
        see :func:`call_reasons`), ``text``. No contact
        details: the id is enough to look the customer up.
    """
    if frame.empty:
        return pd.DataFrame(columns=list(CALL_LIST_COLUMNS))
    return select_call_list_from_partial(call_list_partial(frame, size, one_per_customer=one_per_customer))


#: The call list's order: most urgent, then most recent, then response id and platform (so the choice
#: does not depend on the order or the split of the rows).
_CALL_ORDER = ["priority", "_t", S.RESPONSE_ID, S.PLATFORM]
_CALL_ASCENDING = [False, False, True, True]


@dataclass(frozen=True, eq=False)
class CallListPartial(Additive):
    """The candidates of a set of rows for :func:`select_call_list`; add two to pool their rows.

    ``candidates`` holds at most ``size`` rows (one per customer with ``one_per_customer``,
    rows without a customer key each their own): every row of the month's call list is among
    the candidates of the part that holds it, so the list chosen from the pooled candidates
    is the month's, however the rows were split.
    """

    size: int
    one_per_customer: bool
    candidates: pd.DataFrame

    def __add__(self, other: CallListPartial) -> CallListPartial:
        if (self.size, self.one_per_customer) != (other.size, other.one_per_customer):
            raise ValueError(f"Cannot add call-list partials of different sizes or rules: {self.size}, "
                             f"{self.one_per_customer} against {other.size}, {other.one_per_customer}.")
        both = pd.concat([self.candidates, other.candidates], ignore_index=True)
        return CallListPartial(self.size, self.one_per_customer, _call_candidates(both, self.size,
                                                                                  self.one_per_customer))


    @property
    def nbytes(self) -> int:
        return int(self.candidates.memory_usage(deep=True).sum())


def _call_candidates(rows: pd.DataFrame, size: int, one_per_customer: bool) -> pd.DataFrame:
    out = rows.sort_values(_CALL_ORDER, ascending=_CALL_ASCENDING, kind="mergesort", na_position="last")
    if one_per_customer:
        known = out[S.CUSTOMER_KEY].notna()
        out = pd.concat([out[known].drop_duplicates(S.CUSTOMER_KEY), out[~known]]).sort_values(
            _CALL_ORDER, ascending=_CALL_ASCENDING, kind="mergesort", na_position="last")
    return out.head(size).reset_index(drop=True)


def call_list_partial(frame: pd.DataFrame, size: int = 15, *, one_per_customer: bool = True) -> CallListPartial:
    """The :class:`CallListPartial` of ``frame`` (a month, or one part of it)."""
    if len(frame) > size:
        # the candidates are chosen on the columns that order them, and only their rows are listed
        # (reasons in words, every column): listing every urgent row cost ~1 s at 1M. The same rows:
        # the order and the rule depend on those columns only, and ties keep the frame's order.
        priority, keep, _ = _urgency(frame)
        urgent = np.flatnonzero(keep)
        order = frame[[c for c in (S.RECEIVED_AT, S.RESPONSE_ID, S.PLATFORM, S.CUSTOMER_KEY)
                       if c in frame.columns]].iloc[urgent]
        order = order.assign(**{c: pd.NA for c in (S.RECEIVED_AT, S.RESPONSE_ID, S.PLATFORM, S.CUSTOMER_KEY)
                                if c not in order.columns})
        order = order.assign(priority=priority[urgent], _t=pd.to_datetime(order[S.RECEIVED_AT], utc=True),
                             _row=urgent)
        chosen = _call_candidates(order, size, one_per_customer)["_row"].to_numpy(dtype=np.int64)
        if len(chosen):  # (none: the full frame's empty list, with its dtypes)
            frame = frame.iloc[np.sort(chosen)]
    rows = _listed(frame)
    columns = list(dict.fromkeys([*CALL_LIST_COLUMNS, S.CUSTOMER_KEY, S.PLATFORM]))
    rows = rows.assign(**{c: pd.NA for c in columns if c not in rows.columns})[columns]
    rows = rows.assign(_t=pd.to_datetime(rows[S.RECEIVED_AT], utc=True))
    return CallListPartial(int(size), bool(one_per_customer), _call_candidates(rows, size, one_per_customer))


def _listed(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``frame`` the call list may take, with their ``priority`` and ``reasons``."""
    if frame.empty:
        return frame.assign(priority=pd.Series(dtype=int), reasons=pd.Series(dtype=object))
    priority, keep, flags = _urgency(frame)
    reasons = [call_reasons(*row) for row in zip(*(flag[keep] for flag in flags))]
    return frame.loc[keep].assign(priority=priority[keep], reasons=reasons)


def _urgency(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, ...]]:
    """Each row's priority, whether the call list may take it, and the flags :func:`call_reasons` reads."""
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
    return priority, keep, (churn, not_fixed, reported_solved, reported_unresolved, reopened, csat, negative)


def select_call_list_from_partial(partial: CallListPartial) -> pd.DataFrame:
    """:func:`select_call_list` from a :class:`CallListPartial` (of the month, or added up from its parts)."""
    return partial.candidates[list(CALL_LIST_COLUMNS)].reset_index(drop=True)


# =========================================================================== #
# Recognition
# =========================================================================== #
_NAME = r"([A-Z][a-z]{1,20}(?:[ -][A-Z][a-z]{1,20})?)"
_AFTER = re.compile(
    r"\b(?:agent|advisor|adviser|representative|rep|colleague|engineer|thanks to|thank you to|"
    r"thank you|thanks|help from|service from|shout[- ]?out to|kudos to|spoke (?:to|with)|"
    r"dealt with by|helped by)\s*,?\s+" + _NAME)
_BEFORE = re.compile(
    _NAME + r"\s+(?:was (?:a star|brilliant|amazing|fantastic|great|excellent|so helpful|very helpful|lovely|"
    r"wonderful|patient|superb)|went above and beyond|is a credit|deserves|really helped|sorted)")
# Python's ``\s`` (every code point ``re`` counts as white space), as an RE2 class for Arrow: RE2's ``\s``
# is ASCII only. Used to build supersets of ``_AFTER`` and ``_BEFORE`` that Arrow tests on every text at once.
# (tests/test_compare_cpu.py checks it against every code point)
_PY_SPACE = r"[\x{9}-\x{d}\x{1c}-\x{20}\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]"
# _AFTER and _BEFORE without their word boundaries and with Python's white space: every text either one
# matches, these match too (RE2's ASCII ``\b`` aside, every other token means the same in both engines).
_MAY_NAME = (_AFTER.pattern.replace(r"\b", "").replace(r"\s", _PY_SPACE) + "|"
             + _BEFORE.pattern.replace(r"\s", _PY_SPACE))
_NOT_NAMES = frozenset("""
The A An I He She They We You Your It This That These Those My Our His Her Their Everyone Everybody
Someone Team Staff Customer Service Support Agent Thanks Thank Great Brilliant Amazing Fantastic
Excellent Superb Very So All Best Honestly Outstanding Wonderful Lovely Nothing Nobody Mr Mrs Ms Dr
Phone Email Chat Web Monday Tuesday Wednesday Thursday Friday Saturday Sunday Today Yesterday
""".split())


def detect_agent(text) -> str:
    """The staff member a comment names, when it names one ("thanks to Sarah", "Thabo went above and beyond").

    Case-sensitive (a name is capitalised); common capitalised words that are
    not names ("The", "Everyone", weekdays) are ignored. ``""`` when none.

    Examples
    --------
    >>> detect_agent("Excellent service, Sarah was a star.")
    'Sarah'
    >>> detect_agent("Thank you so much, the agent was great")
    ''
    """
    if not isinstance(text, str) or not text:
        return ""
    for pattern in (_AFTER, _BEFORE):
        for match in pattern.finditer(text):
            words = [w for w in re.split(r"[ -]", match.group(1))]
            if words[0] in _NOT_NAMES:
                continue
            name = " ".join(w for w in words if w not in _NOT_NAMES)
            if name:
                return name
    return ""


# Every alternative starts with white space, ";" or ",": the lookahead (the same matches) lets the
# search skip every other position at once (30% less CPU at 1M rows).
_CLAUSE_SPLIT = re.compile(
    r"(?=[\s;,])(?:(?<=[.!?])\s+|\s*[;\n]\s*|\s+-\s+|,?\s+\b(?:but|however|although|though|except|yet|unfortunately)\b\s*,?\s*)",
    re.IGNORECASE)
# The lookahead (each alternative's first letter; the same matches) lets the search skip most positions at once.
_PRAISE_WORDS = re.compile(
    r"(?=[tgeafbshlwokp])\b(?:thanks?|thank you|great|excellent|amazing|fantastic|brilliant|superb|a star|above and beyond|extra mile|"
    r"helpful|lovely|wonderful|outstanding|a credit|best|kind|patient|friendly|pleasure|sorted it|well done)\b",
    re.IGNORECASE)
#: A praising clause must score at least this (VADER compound) on its own, or name a praise word and not be negative.
PRAISE_MIN_SENTIMENT = 0.05


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
    first = agent.split()[0] if agent else ""
    if first.casefold() not in _CONTRAST_WORDS:
        # The first clause naming the agent (else with a praise word) is the clause holding the text's
        # first such match: a match is one or more whole words none of which is a contrast word, so no
        # split falls inside it and the clause's edges are word boundaries in the text too. One search
        # of the text, then the splits up to that clause (at 1M rows, searching clause by clause cost ~4 s).
        hit = re.search(rf"\b{re.escape(first)}\b", text) if first else None
        hit = hit or _PRAISE_WORDS.search(text)
        return "" if hit is None else _clause_at(text, hit.start())
    # a name that is also a contrast word ("Yet was a star") may fall inside a split: clause by clause
    named = re.compile(rf"\b{re.escape(first)}\b")
    praising = ""
    for clause in _clauses(text):
        if named is not None and named.search(clause):
            return clause
        if not praising and _PRAISE_WORDS.search(clause):
            if named is None:
                return clause
            praising = clause
    return praising


_CONTRAST_WORDS = frozenset(("but", "however", "although", "though", "except", "yet", "unfortunately"))


def _clause_at(text: str, pos: int) -> str:
    """The clause of ``text`` (``_CLAUSE_SPLIT``, stripped of spaces and commas) holding the character at
    ``pos``, which no split covers.

    The splits are searched from the last sentence end (".", "!" or "?") before ``pos``: no split
    covers that character, so the splits after it are the same as when searching from the start
    (lookbehinds and word boundaries see the whole text); from the start when none is found there."""
    after = max(text.rfind(".", 0, pos), text.rfind("!", 0, pos), text.rfind("?", 0, pos)) + 1
    for origin in ((after, 0) if after else (0,)):
        start, end = origin, len(text)
        for m in _CLAUSE_SPLIT.finditer(text, origin):
            if m.start() > pos:
                end = m.start()
                break
            start = m.end()
        if start != origin or not origin:  # a split before pos (or the text's start) begins the clause
            return text[start:end].strip(" ,")
    raise AssertionError("unreachable: the search from the start always returns")


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


def _detect_agents(texts) -> list[str]:
    """:func:`detect_agent` of each text, run only on the texts Arrow finds may name someone (``_MAY_NAME``)."""
    agents = [""] * len(texts)
    if not len(texts):
        return agents
    values = list(texts)
    strings = np.array([isinstance(t, str) for t in values], dtype=bool)
    may = np.zeros(len(values), dtype=bool)
    if strings.any():
        arrow = pa.array([t for t, ok in zip(values, strings) if ok], type=pa.large_string())
        may[strings] = pc.match_substring_regex(arrow, _MAY_NAME).to_numpy(zero_copy_only=False)
    for i in np.flatnonzero(may):
        agents[i] = detect_agent(values[i])
    return agents


def _praising(clauses: list[str]) -> np.ndarray:
    """Which clauses praise on their own: positive sentiment, or a praise word and not negative."""

    if not clauses:
        return np.zeros(0, dtype=bool)
    score = score_sentiment(pd.Series(clauses, dtype="string"))[S.SENTIMENT].to_numpy(dtype=float, na_value=np.nan)
    has_word = np.array([bool(_PRAISE_WORDS.search(c)) for c in clauses], dtype=bool)
    score = np.nan_to_num(score, nan=-1.0)
    return (score >= PRAISE_MIN_SENTIMENT) | (has_word & (score > -PRAISE_MIN_SENTIMENT))


#: Praising rows kept per team (distinct clauses, and named staff members): at least what the report shows.
RECOGNITION_CANDIDATES = 8


def select_recognition(frame: pd.DataFrame, *, per_team: int | None = None,
                       candidates: int = RECOGNITION_CANDIDATES) -> pd.DataFrame:
    """Praise worth recognising at the next team meeting, grouped by team.

    Praise = a comment with the ``praise`` theme whose *praising clause*
    (:func:`praise_clause`: the clause naming the staff member, else the first
    with a praise word) praises on its own: positive VADER sentiment, or a praise
    word and not negative. The comment's overall sentiment does not decide, so
    "Fantastic service from Priya but there was an unexpected fee" is kept and
    only "Fantastic service from Priya" is quoted, while "Thanks for nothing"
    is left out. ``agent`` is the staff member named (:func:`detect_agent`).

    Per team, the rows kept are the first ``candidates`` distinct praising clauses
    (case and end punctuation aside) and the first row of each of the first
    ``candidates`` staff members named, in the order below: what the report can show
    (at most :data:`RECOGNITION_CANDIDATES`), the same whatever the order or the
    split of the rows (:class:`RecognitionPartial`). ``team_praise`` counts all of them.

    Returns
    -------
    pandas.DataFrame
        Columns ``team, vendor, team_praise`` (the team's praising comments this
        month), ``agent, response_id, received_at, text, clause`` (the praising
        clause, what the report quotes). Teams in order of praise count (then
        name), named agents first within a team, then most recent first (then
        response id and platform); at most ``per_team`` rows per team when given.
    """
    if frame.empty or S.theme_column(PRAISE_THEME) not in frame.columns:
        return pd.DataFrame(columns=list(RECOGNITION_COLUMNS))
    return select_recognition_from_partial(recognition_partial(frame, candidates), per_team=per_team)


_PRAISE_KEY = "_key"
_ROW = "_row"  # the candidate's position in the frame (to take its text), dropped once chosen
_TEAM_ORDER = [S.TEAM, "_named", "_t", S.RESPONSE_ID, S.PLATFORM]
_TEAM_ASCENDING = [True, True, False, True, True]


@dataclass(frozen=True, eq=False)
class RecognitionPartial(Additive):
    """What :func:`select_recognition` needs of a set of rows; add two to pool their rows.

    ``counts``: praising comments per team (additive). ``candidates``: per team the first
    ``size`` distinct praising clauses and the first row of each of the first ``size`` named
    staff members (in the team's order: named first, most recent, response id, platform).
    Taking the first of each key is decided by the key's first row, so the candidates of the
    pooled candidates are the candidates of the pooled rows.
    """

    size: int
    counts: dict[str, int]
    candidates: pd.DataFrame

    def __add__(self, other: RecognitionPartial) -> RecognitionPartial:
        if self.size != other.size:
            raise ValueError(f"Cannot add recognition partials of {self.size} and {other.size} candidates per "
                             "team: build every part with the same number.")
        counts = {t: self.counts.get(t, 0) + other.counts.get(t, 0) for t in dict.fromkeys([*self.counts,
                                                                                             *other.counts])}
        frames = [c for c in (self.candidates, other.candidates) if len(c)] or [self.candidates]
        both = pd.concat(frames, ignore_index=True)
        return RecognitionPartial(self.size, counts, _praise_candidates(both, self.size))


    @property
    def nbytes(self) -> int:
        return int(self.candidates.memory_usage(deep=True).sum())


def _praise_candidates(rows: pd.DataFrame, size: int) -> pd.DataFrame:
    rows = rows.sort_values(_TEAM_ORDER, ascending=_TEAM_ASCENDING, kind="mergesort", na_position="last")
    clauses = rows.drop_duplicates([S.TEAM, _PRAISE_KEY]).groupby(S.TEAM, sort=False).head(size)
    named = rows[(rows["agent"] != "").to_numpy(dtype=bool)]
    agents = named.drop_duplicates([S.TEAM, "agent"]).groupby(S.TEAM, sort=False).head(size)
    both = pd.concat([clauses, agents]).drop_duplicates([S.TEAM, S.RESPONSE_ID, S.PLATFORM, "clause", "_t"])
    return both.sort_values(_TEAM_ORDER, ascending=_TEAM_ASCENDING, kind="mergesort",
                            na_position="last").reset_index(drop=True)


def recognition_partial(frame: pd.DataFrame, size: int = RECOGNITION_CANDIDATES) -> RecognitionPartial:
    """The :class:`RecognitionPartial` of ``frame`` (a month, or one part of it)."""
    columns = [S.TEAM, S.VENDOR, "agent", S.RESPONSE_ID, S.RECEIVED_AT, S.TEXT, "clause", S.PLATFORM]
    col = S.theme_column(PRAISE_THEME)
    if frame.empty or col not in frame.columns:
        empty = pd.DataFrame({c: pd.Series(dtype=object) for c in [*columns, _PRAISE_KEY, "_named", "_t"]})
        return RecognitionPartial(int(size), {}, empty)
    praise = np.flatnonzero(C.bool_flags(frame, col) & C.has_text(frame))
    # only the columns read below, and not the texts (the candidates' texts are taken at the end, by
    # row): copying every column, then the texts, of the praising rows cost seconds at 1M
    out = frame[[c for c in (S.TEAM, S.VENDOR, S.RESPONSE_ID, S.RECEIVED_AT, S.PLATFORM)
                 if c in frame.columns]].iloc[praise]
    for column in (S.TEAM, S.VENDOR, S.RESPONSE_ID, S.RECEIVED_AT, S.PLATFORM):
        if column not in out.columns:
            out[column] = pd.NA
    out[S.TEAM] = out[S.TEAM].astype("string").fillna("unknown team")
    out[_ROW] = praise
    # the agent and the clause of each distinct text, and the verdict on each distinct clause, spread
    # back to the rows (each depends only on its text): the same columns, computed once per text
    codes, distinct_texts = pd.factorize(frame[S.TEXT].iloc[praise], use_na_sentinel=False)
    texts = np.asarray(distinct_texts, dtype=object)
    agents = _detect_agents(texts)
    clauses = [praise_clause(t, a) for t, a in zip(texts, agents)]
    out["agent"] = pd.Series(np.array(agents, dtype=object)[codes], index=out.index, dtype="str")
    out["clause"] = pd.Series(np.array(clauses, dtype=object)[codes], index=out.index, dtype="str")
    clause_codes, distinct = pd.factorize(np.array(clauses, dtype=object))
    verdict = np.zeros(len(distinct), dtype=bool)
    said = np.array([c != "" for c in distinct], dtype=bool)
    verdict[said] = _praising([c for c in distinct if c != ""])
    keep = verdict[clause_codes][codes] if len(codes) else np.zeros(0, dtype=bool)
    out = out.loc[keep, [c for c in columns if c != S.TEXT] + [_ROW]]
    counts = {str(t): int(n) for t, n in out[S.TEAM].value_counts(sort=False).items()}
    out = out.assign(**{_PRAISE_KEY: out["clause"].astype(str).str.casefold().str.strip(" .!"),
                        "_named": (out["agent"] == "").astype(bool),
                        "_t": pd.to_datetime(out[S.RECEIVED_AT], utc=True),
                        S.RESPONSE_ID: out[S.RESPONSE_ID].astype("string"),
                        S.PLATFORM: out[S.PLATFORM].astype("string")})
    chosen = _praise_candidates(out, int(size))
    text = frame[S.TEXT].iloc[chosen[_ROW].to_numpy(dtype=np.int64)].reset_index(drop=True)
    chosen = chosen.assign(**{S.TEXT: text})[[*columns, _PRAISE_KEY, "_named", "_t"]]
    return RecognitionPartial(int(size), counts, chosen)


def select_recognition_from_partial(partial: RecognitionPartial, *, per_team: int | None = None) -> pd.DataFrame:
    """:func:`select_recognition` from a :class:`RecognitionPartial` (of the month, or added up from its parts)."""
    out = partial.candidates
    if out.empty:
        return pd.DataFrame(columns=list(RECOGNITION_COLUMNS))
    out = out.assign(team_praise=out[S.TEAM].map(partial.counts).astype(int))
    out = out.sort_values(["team_praise", *_TEAM_ORDER], ascending=[False, *_TEAM_ASCENDING], kind="mergesort",
                          na_position="last")
    if per_team is not None:
        out = out.groupby(S.TEAM, sort=False).head(per_team)
    return out[list(RECOGNITION_COLUMNS)].reset_index(drop=True)


# =========================================================================== #
# Fix first
# =========================================================================== #
def fix_first(
    impact: pd.DataFrame,
    frame: pd.DataFrame,
    trend: pd.DataFrame | None = None,
    *,
    size: int = 3,
    dimensions: Sequence[str] = (S.VENDOR, S.TEAM, S.CHANNEL),
    min_n: int = C.MIN_N,
    alpha: float = C.ALPHA,
    exclude: Sequence[str] = (PRAISE_THEME,),
) -> pd.DataFrame:
    """The ``size`` themes that cost the score most, where they concentrate and how they moved.

    Parameters
    ----------
    impact : DataFrame
        :func:`feedbacklib.stats.theme_impact` output. Only themes whose
        impact interval lies wholly below zero (``impact_hi < 0``) qualify,
        most negative first.
    frame : DataFrame
        The month's tagged rows, to locate each theme.
    trend : DataFrame, optional
        :func:`feedbacklib.trends.theme_trends` output for the month.
    dimensions : columns to search (vendor, team, channel by default).

    For each theme and dimension, ``where`` is the group (with at least
    ``min_n`` comments) with the highest theme rate, tested against all other
    comments (two-proportion test; BH across every theme x dimension row);
    ``concentrated`` is True when that test is significant *and* the group's
    rate is higher than the rest.

    Returns
    -------
    pandas.DataFrame
        One row per theme x dimension: ``rank`` (1 = fix first), ``theme``,
        ``impact, impact_lo, impact_hi, n_with`` (from ``impact``),
        ``dimension``, ``where`` (group or ``""`` if none is large enough),
        ``where_n`` (comments), ``where_rate, where_rate_lo, where_rate_hi``
        (per 100 comments, Wilson), ``rest_rate``, ``where_p_value``,
        ``where_q_value``, ``concentrated``; from ``trend`` (NaN / False
        without it): ``rate, prev_rate, change`` (per 100), ``q_prev``,
        ``moved`` (``"up"``, ``"down"`` or ``""``: significant change since
        last month, q < alpha, both months >= min_n) and ``spike``.
    """
    return fix_first_from_partial(impact, fix_first_partial(frame, dimensions=dimensions), trend, size=size,
                                  min_n=min_n, alpha=alpha, exclude=exclude)


@dataclass(frozen=True, eq=False)
class FixFirstPartial(Additive):
    """What :func:`fix_first` needs of a set of rows; add two to pool their rows.

    ``counts``: per ``dimension`` and group (``where``; the vendor of an in-house row without one
    is "in-house") the comments with text (``n``) and per theme the comments mentioning it
    (``hit:<theme>``); ``totals``: the same over every comment (``n`` and ``hit:<theme>``).
    """

    dimensions: tuple[str, ...]
    counts: pd.DataFrame
    totals: pd.Series

    def __add__(self, other: FixFirstPartial) -> FixFirstPartial:
        if self.dimensions != other.dimensions:
            raise ValueError(f"Cannot add fix-first partials of dimensions {self.dimensions} and "
                             f"{other.dimensions}: build every part with the same dimensions.")
        both = pd.concat([self.counts, other.counts], ignore_index=True)
        counts = both.groupby(["dimension", "where"], sort=True).sum().reset_index()
        return FixFirstPartial(self.dimensions, counts, self.totals.add(other.totals, fill_value=0).astype(np.int64))


    @property
    def nbytes(self) -> int:
        return int(self.counts.memory_usage(deep=True).sum() + self.totals.memory_usage(deep=True))


def fix_first_partial(frame: pd.DataFrame, *, dimensions: Sequence[str] = (S.VENDOR, S.TEAM, S.CHANNEL),
                      themes: Sequence[str] | None = None) -> FixFirstPartial:
    """The :class:`FixFirstPartial` of ``frame`` (a month, or one part of it)."""
    text = C.has_text(frame)
    theme_ids = C.themes_of(frame, themes)
    # per row with text: counted (n) and each theme's hit; counted per group below with bincount on the
    # group's codes, then the few groups go through the same groupby as before (same labels and dtypes):
    # a 1M-row frame of counts grouped by string labels cost ~2 s
    flags = {"n": np.ones(int(text.sum()), dtype=bool),
             **{f"hit:{t}": C.bool_flags(frame, S.theme_column(t))[text] for t in theme_ids}}
    parts = []
    for dim in dimensions:
        if dim not in frame.columns:
            continue
        labels = frame[dim].astype("string")
        if dim == S.VENDOR and S.SERVICE_MODEL in frame.columns:
            in_house = C.equals_mask(frame, S.SERVICE_MODEL, S.IN_HOUSE)
            labels = labels.mask(labels.isna() & in_house, C.IN_HOUSE_LABEL)
        codes, groups = pd.factorize(labels)
        codes = codes[text]
        seen = codes >= 0
        sums = {name: np.bincount(codes[seen & f], minlength=len(groups)).astype(np.int64) for name, f in flags.items()}
        present = sums["n"] > 0  # a group with rows only outside the text rows is not one of them
        rows = pd.DataFrame({name: v[present] for name, v in sums.items()}).assign(
            where=np.asarray(groups, dtype=object)[present])
        parts.append(rows.groupby("where", sort=True).sum().reset_index().assign(dimension=dim))
    columns = ["dimension", "where", *flags]
    counts = pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)
    totals = pd.DataFrame({name: [int(np.count_nonzero(f))] for name, f in flags.items()}).sum().astype(np.int64)
    return FixFirstPartial(tuple(dimensions), counts.astype({c: np.int64 for c in flags}), totals)


def fix_first_from_partial(
    impact: pd.DataFrame,
    partial: FixFirstPartial,
    trend: pd.DataFrame | None = None,
    *,
    size: int = 3,
    min_n: int = C.MIN_N,
    alpha: float = C.ALPHA,
    exclude: Sequence[str] = (PRAISE_THEME,),
) -> pd.DataFrame:
    """:func:`fix_first` from a :class:`FixFirstPartial` (of the month, or added up from its parts)."""
    if impact is None or impact.empty:
        return pd.DataFrame(columns=list(FIX_FIRST_COLUMNS))
    chosen = impact[(impact["impact"] < 0) & (impact["impact_hi"] < 0) & ~impact["theme"].isin(list(exclude))]
    chosen = chosen.sort_values("impact", kind="mergesort").head(size)
    trend_by_theme = trend.set_index("theme") if trend is not None and not trend.empty else None
    n_text = int(partial.totals.get("n", 0))
    rows = []
    for rank, rec in enumerate(chosen.to_dict("records"), start=1):
        hit = f"hit:{rec['theme']}"
        for dim in partial.dimensions:
            row = {"rank": rank, "theme": rec["theme"], "impact": rec["impact"], "impact_lo": rec["impact_lo"],
                   "impact_hi": rec["impact_hi"], "n_with": rec.get("n_with", np.nan), "dimension": dim,
                   "where": "", "where_n": 0, "where_rate": np.nan, "where_rate_lo": np.nan,
                   "where_rate_hi": np.nan, "rest_rate": np.nan, "where_p_value": np.nan}
            table = partial.counts[(partial.counts["dimension"] == dim).to_numpy(dtype=bool)]
            if len(table):
                sums = (table[hit] if hit in table.columns else pd.Series(0, index=table.index)).to_numpy()
                counts = pd.DataFrame({"sum": sums, "size": table["n"].to_numpy()},
                                      index=pd.Index(table["where"].to_numpy(), name="g"))
                counts = counts[counts["size"] >= min_n]
                if not counts.empty:
                    rate = counts["sum"] / counts["size"]
                    best = rate.sort_values(ascending=False, kind="mergesort").index[0]
                    x, n = int(counts.loc[best, "sum"]), int(counts.loc[best, "size"])
                    xr, nr = int(partial.totals.get(hit, 0)) - x, n_text - n
                    low, high = C.proportion_interval(x, n)
                    row.update({"where": str(best), "where_n": n, "where_rate": 100 * x / n,
                                "where_rate_lo": 100 * low, "where_rate_hi": 100 * high,
                                "rest_rate": 100 * xr / nr if nr else np.nan,
                                "where_p_value": C.two_proportion_test(x, n, xr, nr) if nr else np.nan})
            t = trend_by_theme.loc[rec["theme"]] if trend_by_theme is not None and rec["theme"] in trend_by_theme.index else None
            if t is not None:
                big = t["n"] >= min_n and t.get("prev_n", 0) >= min_n
                q = t.get("q_prev", np.nan)
                moved = "up" if t["change"] > 0 else "down"
                row.update({"rate": t["rate"], "prev_rate": t["prev_rate"], "change": t["change"], "q_prev": q,
                            "moved": moved if big and pd.notna(q) and q < alpha else "",
                            "spike": bool(t.get("spike", False))})
            else:
                row.update({"rate": np.nan, "prev_rate": np.nan, "change": np.nan, "q_prev": np.nan,
                            "moved": "", "spike": False})
            rows.append(row)
    out = pd.DataFrame(rows, columns=[c for c in FIX_FIRST_COLUMNS if c not in ("where_q_value", "concentrated")])
    out["where_q_value"] = C.benjamini_hochberg(out["where_p_value"].to_numpy(dtype=float))
    out["concentrated"] = ((out["where_q_value"] < alpha) & (out["where_rate"] > out["rest_rate"])).fillna(False).astype(bool)
    return out[list(FIX_FIRST_COLUMNS)]
