"""Redact personal data from free text: emails, phones, cards, IBANs, US SSNs, street addresses.

All patterns use ASCII classes (``[0-9]``, ``[ \\t]``) and no look-arounds, so
pandas keeps the Arrow/RE2 fast path on Arrow-backed strings. Card numbers are
confirmed with the Luhn checksum, in Python, only for the few texts that hold a
13-19 digit candidate; digit runs that fail Luhn (order numbers) survive.
IBANs are confirmed with the ISO 13616 mod-97 check the same way. US social
security numbers need the ``AAA-GG-SSSS`` shape with a valid area and group (or
the words "SSN" / "social security" before nine digits). Street addresses are
caught when a house number is followed by up to three words and a street type
("12 Baker Street", "1600 Pennsylvania Ave"): cheap, and no more than that.

>>> import pandas as pd
>>> redact_pii(pd.Series(["mail me: ann@example.com or 07700 900123"], dtype="string")).iloc[0]
'mail me: [email] or [phone]'
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pandas as pd

from .arrowstr import matches, put_rows

__all__ = ["redact_pii", "luhn_valid", "iban_valid", "EMAIL", "PHONE", "CARD", "IBAN", "SSN",
           "ADDRESS", "MAY_HOLD_PII"]

EMAIL = "[email]"
PHONE = "[phone]"
CARD = "[card]"
IBAN = "[iban]"
SSN = "[ssn]"
ADDRESS = "[address]"

_IBAN_CANDIDATE = r"[A-Z]{2}[0-9]{2}[ ]?[A-Z0-9]{4}"
_IBAN_PY = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}[0-9]{2}(?:[ ]?[A-Z0-9]){11,30}(?![A-Za-z0-9])")
_SSN_RE = (r"(^|[^0-9A-Za-z-])(?:(?:00[1-9]|0[1-9][0-9]|[1-5][0-9]{2}|6[0-57-9][0-9]|66[0-57-9]|"
           r"[78][0-9]{2})[- ](?:0[1-9]|[1-9][0-9])[- ](?:000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})"
           r"|(?i:ssn|social security(?: number)?|soc sec)[ :#.-]{0,3}(?:no[ .:]{0,2})?[0-9]{9})([^0-9-]|$)")
_STREET_TYPES = (
    "street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|pl|terrace|"
    "close|crescent|square|sq|parkway|pkwy|highway|hwy|gardens|grove|row|mews|circle|cir"
)
_ADDRESS_RE = (r"(^|[^0-9A-Za-z])[0-9]{1,5}[A-Za-z]?,?[ ](?:[A-Z][A-Za-z'.-]*[ ]){1,3}"
               r"(?i:" + _STREET_TYPES + r")[.]?([^A-Za-z]|$)")

_EMAIL_RE = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"

_SEP = r"[ .-]?"
_PHONE_BODY = "|".join([
    # international: +44 20 7946 0958, +33 1 23 45 67 89, +1 (555) 123-4567
    r"\+[0-9]{1,3}(?:" + _SEP + r"\(?[0-9]{1,4}\)?){2,6}",
    # US with area code in brackets: (555) 123-4567
    r"\([0-9]{3}\)[ ]?[0-9]{3}[ .-]?[0-9]{4}",
    # US/CA: 555-123-4567, 555.123.4567, 555 123 4567
    r"[0-9]{3}[ .-][0-9]{3}[ .-][0-9]{4}",
    # international with a 00 prefix: 0044 20 7946 0958, 0033 1 23 45 67 89
    # (separators required, so an order number like 0012345 survives)
    r"00[1-9][0-9]{0,2}(?:[ .-]\(?[0-9]{1,4}\)?){2,6}",
    # UK with the area code in brackets: (0113) 496 0000, (020) 7946 0958
    r"\(0[0-9]{2,4}\)[ ]?[0-9]{3,4}[ -]?[0-9]{3,4}",
    # UK national: 07700 900123, 020 7946 0958, 0161 496 0000, 07700900123
    r"0[0-9]{2,4}[ -]?[0-9]{3,4}[ -]?[0-9]{3,4}",
])
# The phone must not sit inside a longer run of digits or a word: the character
# before and after are captured and put back (RE2 has no look-arounds).
_PHONE_RE = r"(^|[^0-9A-Za-z+])(?:" + _PHONE_BODY + r")([^0-9]|$)"

# A card candidate: 13-19 digits, single spaces or dashes between groups.
_CARD_CANDIDATE = r"[0-9](?:[ -]?[0-9]){12,18}"
_CARD_PY = re.compile(r"(?<![0-9])[0-9](?:[ -]?[0-9]){12,18}(?![0-9])")


#: Any of the patterns above, as one RE2 expression: no step of the redaction changes a text
#: this does not match, so one pass over a column finds every text the patterns must run on.
MAY_HOLD_PII = "|".join(f"(?:{p})" for p in (_EMAIL_RE, _IBAN_CANDIDATE, _SSN_RE, _ADDRESS_RE,
                                               _CARD_CANDIDATE, _PHONE_RE))


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


def iban_valid(text: str) -> bool:
    """True when ``text`` (spaces allowed) passes the IBAN mod-97 check."""
    s = text.replace(" ", "").upper()
    if not 15 <= len(s) <= 34 or not s[:2].isalpha() or not s[2:4].isdigit():
        return False
    moved = s[4:] + s[:4]
    digits = "".join(str(int(ch, 36)) for ch in moved)
    return int(digits) % 97 == 1


def _redact_ibans(text: str) -> str:
    def repl(match: re.Match[str]) -> str:
        found = match.group(0)
        if iban_valid(found):
            return IBAN
        # the match may have swallowed a following word ("GB82 WEST ... 32 PLEASE"):
        # drop one trailing group of letters, nothing else (each extra try is a 1-in-97 false hit)
        head, _, last = found.rpartition(" ")
        if head and last.isalpha() and iban_valid(head):
            return IBAN + " " + last
        return found

    return _IBAN_PY.sub(repl, text)


# Issuer prefixes and lengths of the card schemes (Visa, Mastercard, Amex, Discover,
# JCB, Diners, UnionPay, Maestro): a 14-digit order number that happens to pass
# Luhn is not a card.
_CARD_SCHEMES = re.compile(
    r"^(?:4[0-9]{12}(?:[0-9]{3}){0,2}|5[1-5][0-9]{14}|2(?:2[2-9][1-9]|2[3-9][0-9]|[3-6][0-9]{2}|7[01][0-9]|720)[0-9]{12}"
    r"|3[47][0-9]{13}|6(?:011|5[0-9]{2}|4[4-9][0-9])[0-9]{12,15}|35(?:2[89]|[3-8][0-9])[0-9]{12,15}"
    r"|3(?:0[0-5]|[689][0-9])[0-9]{11,16}|62[0-9]{14,17}|(?:5[06-9]|6[0-9])[0-9]{10,17})$")


def _card_shaped(digits: str) -> bool:
    return 13 <= len(digits) <= 19 and _CARD_SCHEMES.match(digits) is not None


def _redact_cards(text: str) -> str:
    def repl(match: re.Match[str]) -> str:
        digits = re.sub(r"[^0-9]", "", match.group(0))
        return CARD if _card_shaped(digits) and luhn_valid(digits) else match.group(0)

    return _CARD_PY.sub(repl, text)


def redact_pii(texts: pd.Series) -> pd.Series:
    """A new series with emails, IBANs, SSNs, street addresses, cards and phones replaced.

    Placeholders are ``[email]``, ``[iban]``, ``[ssn]``, ``[address]``, ``[card]``
    and ``[phone]``; nulls stay null;
    the input is not modified. Redacting twice changes nothing more.
    """
    out = texts.astype(pd.StringDtype("pyarrow"))
    # Most comments hold no personal data: one pass finds the texts that may, and the
    # patterns run one after the other on those alone. A text that no pattern matches
    # is left as it is by every step, so the result is the same as on every text.
    hits = matches(out, MAY_HOLD_PII)
    if not hits.any():
        return out
    return put_rows(out, hits, _redact_all(out[hits]))


def _replace(out: pd.Series, pattern: str, repl: str) -> pd.Series:
    """``out.str.replace(pattern, repl)``, run only on the texts the pattern matches."""
    hits = matches(out, pattern)
    if not hits.any():
        return out
    return put_rows(out, hits, out[hits].str.replace(pattern, repl, regex=True))


def _fix_matching(out: pd.Series, pattern: str, fix: Callable[[str], str]) -> pd.Series:
    """``fix`` (Python) applied to the texts ``pattern`` matches, once per distinct text."""
    hits = matches(out, pattern)
    if not hits.any():
        return out
    sub = out[hits]
    fixes = {t: fix(t) for t in sub.unique()}
    return put_rows(out, hits, sub.map(fixes).astype(out.dtype))


def _redact_all(out: pd.Series) -> pd.Series:
    """Every pattern in turn; each step sees the previous steps' placeholders."""
    out = _replace(out, _EMAIL_RE, EMAIL)
    out = _fix_matching(out, _IBAN_CANDIDATE, _redact_ibans)
    out = _replace(out, _SSN_RE, r"\1" + SSN + r"\2")
    out = _replace(out, _ADDRESS_RE, r"\1" + ADDRESS + r"\2")
    out = _fix_matching(out, _CARD_CANDIDATE, _redact_cards)
    hits = matches(out, _PHONE_RE)
    if not hits.any():
        return out
    before = out[hits]
    after = before.str.replace(_PHONE_RE, r"\1" + PHONE + r"\2", regex=True)
    # Two phones separated by one character share that character as boundary;
    # a second pass over the texts that changed catches the second phone.
    changed = (after != before).fillna(False).to_numpy(dtype=bool)
    if changed.any():
        after = put_rows(after, changed, after[changed].str.replace(_PHONE_RE, r"\1" + PHONE + r"\2", regex=True))
    return put_rows(out, hits, after)
