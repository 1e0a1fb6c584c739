"""Redact personal data from free text: emails, phone numbers, payment card numbers.

All patterns use ASCII classes (``[0-9]``, ``[ \\t]``) and no look-arounds, so
pandas keeps the Arrow/RE2 fast path on Arrow-backed strings. Card numbers are
confirmed with the Luhn checksum, in Python, only for the few texts that hold a
13-19 digit candidate; digit runs that fail Luhn (order numbers) survive.

>>> import pandas as pd
>>> redact_pii(pd.Series(["mail me: ann@example.com or 07700 900123"], dtype="string")).iloc[0]
'mail me: [email] or [phone]'
"""

from __future__ import annotations

import re

import pandas as pd

__all__ = ["redact_pii", "luhn_valid", "EMAIL", "PHONE", "CARD"]

EMAIL = "[email]"
PHONE = "[phone]"
CARD = "[card]"

_EMAIL_RE = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"

_SEP = r"[ .-]?"
_PHONE_BODY = "|".join([
    # international: +44 20 7946 0958, +33 1 23 45 67 89, +1 (555) 123-4567
    r"\+[0-9]{1,3}(?:" + _SEP + r"\(?[0-9]{1,4}\)?){2,6}",
    # US with area code in brackets: (555) 123-4567
    r"\([0-9]{3}\)[ ]?[0-9]{3}[ .-]?[0-9]{4}",
    # US/CA: 555-123-4567, 555.123.4567, 555 123 4567
    r"[0-9]{3}[ .-][0-9]{3}[ .-][0-9]{4}",
    # UK national: 07700 900123, 020 7946 0958, 0161 496 0000, 07700900123
    r"0[0-9]{2,4}[ -]?[0-9]{3,4}[ -]?[0-9]{3,4}",
])
# The phone must not sit inside a longer run of digits or a word: the character
# before and after are captured and put back (RE2 has no look-arounds).
_PHONE_RE = r"(^|[^0-9A-Za-z+])(?:" + _PHONE_BODY + r")([^0-9]|$)"

# A card candidate: 13-19 digits, single spaces or dashes between groups.
_CARD_CANDIDATE = r"[0-9](?:[ -]?[0-9]){12,18}"
_CARD_PY = re.compile(r"(?<![0-9])[0-9](?:[ -]?[0-9]){12,18}(?![0-9])")


def luhn_valid(digits: str) -> bool:
    """True when the digit string passes the Luhn checksum."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _redact_cards(text: str) -> str:
    def repl(match: re.Match[str]) -> str:
        digits = re.sub(r"[^0-9]", "", match.group(0))
        return CARD if 13 <= len(digits) <= 19 and luhn_valid(digits) else match.group(0)

    return _CARD_PY.sub(repl, text)


def redact_pii(texts: pd.Series) -> pd.Series:
    """A new series with emails, phone numbers and Luhn-valid card numbers replaced.

    Placeholders are ``[email]``, ``[phone]`` and ``[card]``; nulls stay null;
    the input is not modified. Redacting twice changes nothing more.
    """
    out = texts.astype(pd.StringDtype("pyarrow"))
    out = out.str.replace(_EMAIL_RE, EMAIL, regex=True)
    candidates = out.str.contains(_CARD_CANDIDATE, regex=True).fillna(False).to_numpy(dtype=bool)
    if candidates.any():
        idx = out.index[candidates]
        sub = out.loc[idx]
        fixes = {t: _redact_cards(t) for t in sub.unique()}  # repeated texts are checked once
        out.loc[idx] = sub.map(fixes).astype(out.dtype)
    before = out
    out = out.str.replace(_PHONE_RE, r"\1" + PHONE + r"\2", regex=True)
    # Two phones separated by one character share that character as boundary;
    # a second pass over the texts that changed catches the second phone.
    changed = (out != before).fillna(False).to_numpy(dtype=bool)
    if changed.any():
        out.loc[changed] = out.loc[changed].str.replace(_PHONE_RE, r"\1" + PHONE + r"\2", regex=True)
    return out
