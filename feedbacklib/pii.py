"""Redact personal data from free text, and decide what other columns may publish.

What is found (placeholders in :data:`PLACEHOLDERS`): e-mail addresses (plain,
internationalised such as ``jörg.müller@exämple.de``, and obfuscated: ``ann @ example . com``,
``ann(at)example(dot)com``, ``ann [at] example [dot] com``, ``ann at example dot com``);
IBANs in any case, confirmed by the ISO 13616 mod-97 check and the country's length; UK
National Insurance numbers; US social security numbers (``AAA-GG-SSSS`` with a valid area
and group, or "SSN" before nine digits); numbers that are personal because of the word
before them (passport, account, sort code, date of birth); names after a title ("Mrs Jane
Doe") or "my name is"; IPv4/IPv6 addresses (checked with :mod:`ipaddress`; not after
"version"); street addresses ("12 Baker Street", "1600 Pennsylvania Ave") with the towns
and postcode after them; UK postcodes; card numbers with spaces, dashes or dots (issuer
prefix and Luhn checksum); phone numbers (international, UK, US, with dots; ten bare
digits unless the words before call them an order, ticket or reference).

Speed: every pattern that runs on all texts is RE2 (pyarrow) with ASCII classes and no
look-arounds; one union of the steps' patterns (:data:`MAY_HOLD_PII`) finds the few texts
that may hold personal data, and only those go through the steps. Checks that need Python
(checksums, IP parsing, the words before a number) run once per distinct candidate text.

:func:`personal_ids`, :func:`redact_labels` and :func:`pseudonym` are what cleaning applies
to response ids and to team, vendor and category labels (``clean.PII_POLICY``).

>>> import pandas as pd
>>> redact_pii(pd.Series(["mail me: ann@example.com or 07700 900123"], dtype="string")).iloc[0]
'mail me: [email] or [phone]'
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections.abc import Callable

import numpy as np
import pandas as pd

from .arrowstr import matches, put_rows

__all__ = ["redact_pii", "luhn_valid", "iban_valid", "EMAIL", "PHONE", "CARD", "IBAN", "SSN",
           "ADDRESS", "POSTCODE", "NI_NUMBER", "PASSPORT", "DOB", "IP", "ACCOUNT", "SORT_CODE", "NAME",
           "PLACEHOLDERS", "MAY_HOLD_PII", "STEPS", "IBAN_LENGTHS", "personal_ids", "pseudonym",
           "redact_labels"]

EMAIL = "[email]"
PHONE = "[phone]"
CARD = "[card]"
IBAN = "[iban]"
SSN = "[ssn]"
ADDRESS = "[address]"
POSTCODE = "[postcode]"
NI_NUMBER = "[ni-number]"
PASSPORT = "[passport]"
DOB = "[dob]"
IP = "[ip]"
ACCOUNT = "[account]"
SORT_CODE = "[sort-code]"
NAME = "[name]"
#: Every placeholder redaction writes (a text made only of these and punctuation holds no PII).
PLACEHOLDERS = (EMAIL, PHONE, CARD, IBAN, SSN, ADDRESS, POSTCODE, NI_NUMBER, PASSPORT, DOB, IP,
                ACCOUNT, SORT_CODE, NAME)

# ---------------------------------------------------------------- e-mail addresses
# Plain, internationalised (jörg.müller@exämple.de: \p{L} letters, RE2 only) and obfuscated:
# "ann @ example . com", "ann(at)example(dot)com", "ann [at] example [dot] com" and
# "ann at example dot com" (the last one only before a known top-level domain, and confirmed
# in Python: "looked at amazon dot com" is not an address).
_LOCAL = r"[A-Za-z0-9._%+\p{L}\p{M}-]+"
_LABEL = r"[A-Za-z0-9\p{L}\p{M}-]+"
_EMAIL_RE = _LOCAL + "@" + _LABEL + r"(?:\." + _LABEL + r")*\.[A-Za-z\p{L}]{2,}"
_SPACED_DOT = r"(?:[.]|[ ][.][ ]?)"
_EMAIL_SPACED_RE = (r"[A-Za-z0-9._%+-]+[ ]?@[ ]?[A-Za-z0-9-]+(?:" + _SPACED_DOT + r"[A-Za-z0-9-]+)*"
                    + _SPACED_DOT + r"[A-Za-z]{2,}")
_B_AT = r"[ ]?[(\[{<][ ]?(?i:at)[ ]?[)\]}>][ ]?"
_B_DOT = r"(?:[ ]?[(\[{<][ ]?(?i:dot)[ ]?[)\]}>][ ]?|[.])"
_EMAIL_BRACKET_RE = (r"[A-Za-z0-9_%+-]+(?:" + _B_DOT + r"[A-Za-z0-9_%+-]+)*" + _B_AT + r"[A-Za-z0-9-]+(?:"
                     + _B_DOT + r"[A-Za-z0-9-]+)*" + _B_DOT + r"[A-Za-z]{2,}")
_TLDS = ("com|org|net|edu|gov|io|co|uk|de|fr|es|it|nl|be|ch|at|ie|eu|info|biz|me|us|ca|au|in|jp|"
         "cn|ru|br|za|nz|se|no|dk|fi|pl|pt|mil|int|ac")
_EMAIL_WORDS_RE = (r"[A-Za-z0-9_%+-]+(?:[ ](?i:dot)[ ][A-Za-z0-9_%+-]+)*[ ](?i:at)[ ][A-Za-z0-9-]+"
                   r"(?:[ ](?i:dot)[ ][A-Za-z0-9-]+)*[ ](?i:dot)[ ](?i:" + _TLDS + r")([^A-Za-z0-9]|$)")
_EMAIL_WORDS_PY = re.compile(
    r"(?<![A-Za-z0-9_%+-])([A-Za-z0-9_%+-]+)((?:[ ]dot[ ][A-Za-z0-9_%+-]+)*[ ]at[ ][A-Za-z0-9-]+"
    r"(?:[ ]dot[ ][A-Za-z0-9-]+)*[ ]dot[ ](?:" + _TLDS + r"))(?![A-Za-z0-9])", re.I)
# "at" after one of these words is a preposition, not an obfuscated "@"
_NOT_A_MAILBOX = frozenset(
    "look looked looking looks arrived arrive arrives me us you him her them it this that there here "
    "home work least all first once last best worst shop shopped order ordered bought buy sign signed "
    "log logged go went gone visit visited check checked find found see seen stay stayed is was are "
    "were be been available online site website store app met meet meeting stuck wait waited waiting "
    "booked book sold listed posted shopping browsing browsed ordering sent".split())


def _redact_word_emails(text: str) -> str:
    def repl(match: re.Match[str]) -> str:
        return match.group(0) if match.group(1).casefold() in _NOT_A_MAILBOX else EMAIL

    return _EMAIL_WORDS_PY.sub(repl, text)


# ---------------------------------------------------------------- IBANs (any case)
_IBAN_CANDIDATE = r"(?:^|[^A-Za-z0-9])[A-Za-z]{2}[0-9]{2}[ ]?[A-Za-z0-9]{4}"
_IBAN_PY = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}[0-9]{2}(?:[ ]?[A-Za-z0-9]){11,30}(?![A-Za-z0-9])")
#: ISO 13616 lengths by country (registry of SWIFT); a candidate is cut to its country's length.
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29,
    "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24,
    "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21,
    "HU": 28, "IE": 22, "IL": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LI": 21,
    "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30,
    "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24,
    "SE": 24, "SI": 19, "SK": 24, "SM": 27, "TN": 24, "TR": 26, "UA": 29, "VG": 24, "XK": 20,
}

# ---------------------------------------------------------------- national ids, keyword ids
# UK National Insurance number: two prefix letters (not D, F, I, Q, U, V; O not second),
# six digits, suffix A-D; spaces between pairs allowed, any case.
_NI_RE = (r"(^|[^A-Za-z0-9])(?i:[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z][ ]?[0-9]{2}[ ]?[0-9]{2}[ ]?[0-9]{2}[ ]?[A-D])"
          r"([^A-Za-z0-9]|$)")
_SSN_RE = (r"(^|[^0-9A-Za-z-])(?:(?:00[1-9]|0[1-9][0-9]|[1-5][0-9]{2}|6[0-57-9][0-9]|66[0-57-9]|"
           r"[78][0-9]{2})[- ](?:0[1-9]|[1-9][0-9])[- ](?:000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})"
           r"|(?i:ssn|social security(?: number)?|soc sec)[ :#.-]{0,3}(?:no[ .:]{0,2})?[0-9]{9})([^0-9-]|$)")
# Numbers that are personal only because of the word before them: passport, account, sort code.
_NUMBER_WORD = r"(?:[ ](?i:number|no[.]?|num[.]?|#))?[ ]?[:#.-]?[ ]?(?:(?i:is)[ ])?"
_PASSPORT_RE = r"((?i:passport)" + _NUMBER_WORD + r")[A-Za-z]{0,2}[0-9]{6,9}([^A-Za-z0-9]|$)"
_ACCOUNT_RE = (r"((?:^|[^A-Za-z])(?i:account|acct|acc|a/c|bank account)" + _NUMBER_WORD
               + r")[0-9]{6,12}([^0-9]|$)")
_SORT_CODE_RE = (r"((?:^|[^A-Za-z])(?i:sort[ -]?code|s/c)" + _NUMBER_WORD
                 + r")[0-9]{2}[ .-]?[0-9]{2}[ .-]?[0-9]{2}([^0-9]|$)")
# A sort code written next to an 8-digit account number: "20-32-06 43219876"
_SORT_ACCOUNT_RE = r"(^|[^0-9])[0-9]{2}-[0-9]{2}-[0-9]{2}[ ,;/]{1,3}[0-9]{8}([^0-9]|$)"
_MONTH = (r"(?i:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
          r"sep(?:t|tember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)[.]?")
_DATE = ("(?:[0-9]{1,2}[/.-][0-9]{1,2}[/.-](?:[0-9]{4}|[0-9]{2})|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}"
         r"|[0-9]{1,2}(?i:st|nd|rd|th)?[ ](?:(?i:of)[ ])?" + _MONTH + r",?[ ][0-9]{4}"
         r"|" + _MONTH + r"[ ][0-9]{1,2}(?i:st|nd|rd|th)?,?[ ][0-9]{4})")
_DOB_RE = (r"((?:^|[^A-Za-z])(?i:date of birth|d[.]?o[.]?b[.]?|born(?: on)?|birth ?date|birthday)"
           r"[ :,-]{0,3}(?:(?i:is|was|on|of)[ ]){0,2})" + _DATE + r"([^0-9]|$)")
# Names: after a title ("Mrs Jane Doe", "Dr. Patel") or an announcing phrase ("my name is Jane Doe").
_NAME_WORD = r"[A-Z][a-z'\p{Ll}-]+"
_TITLE_NAME_RE = (r"((?:^|[^A-Za-z])(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof)[.]?[ ])(?:[A-Z][.][ ]?)?" + _NAME_WORD
                  + r"(?:[ ]" + _NAME_WORD + r"){0,2}")
_SAID_NAME_RE = (r"((?:^|[^A-Za-z])(?i:my name is|my name's|name:|account (?:holder|name)(?: is)?:?|"
                 r"name on the (?:account|card)(?: is)?:?|signed:?)[ ])" + _NAME_WORD
                 + r"(?:[ ]" + _NAME_WORD + r"){0,2}")

# ---------------------------------------------------------------- IP addresses
_IPV4_CANDIDATE = r"[0-9]{1,3}[.][0-9]{1,3}[.][0-9]{1,3}[.][0-9]{1,3}"
_IPV6_CANDIDATE = r"[0-9A-Fa-f]::|::[0-9A-Fa-f]|[0-9A-Fa-f]{1,4}:[0-9A-Fa-f]{1,4}:[0-9A-Fa-f]{1,4}:[0-9A-Fa-f]{1,4}"
_IP_CANDIDATE = _IPV4_CANDIDATE + "|" + _IPV6_CANDIDATE
_IPV4_PY = re.compile(r"(?<![0-9A-Za-z.])(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?![0-9]|\.[0-9])")
_IPV6_PY = re.compile(r"(?<![0-9A-Za-z:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![0-9A-Za-z:])")
_VERSION_BEFORE = re.compile(r"(?i)(?:version|ver|v|build|release|firmware|update)[ .:]*$")


def _redact_ips(text: str) -> str:
    def repl(match: re.Match[str]) -> str:
        found = match.group(0)
        if _VERSION_BEFORE.search(text[max(0, match.start() - 12):match.start()]):
            return found
        try:
            ipaddress.ip_address(found)
        except ValueError:
            return found
        return IP

    return _IPV6_PY.sub(repl, _IPV4_PY.sub(repl, text))


# ---------------------------------------------------------------- street addresses and postcodes
_STREET_TYPES = (
    "street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|pl|terrace|"
    "close|crescent|square|sq|parkway|pkwy|highway|hwy|gardens|grove|row|mews|circle|cir"
)
_ADDRESS_RE = (r"(^|[^0-9A-Za-z])[0-9]{1,5}[A-Za-z]?,?[ ](?:[A-Z][A-Za-z'.-]*[ ]){1,3}"
               r"(?i:" + _STREET_TYPES + r")[.]?([^A-Za-z]|$)")
# UK postcodes, upper case ("NW1 6XE", "SW1A 1AA", "M1 1AE"), anywhere in a text.
_POSTCODE_RE = r"(^|[^A-Za-z0-9])(?:[A-Z]{1,2}[0-9][A-Z0-9]?|GIR)[ ]?[0-9][A-Z]{2}([^A-Za-z0-9]|$)"
# What follows a redacted street: towns, a redacted postcode, "IL 62704", "10115 Berlin".
_PLACE = (r"(?:[A-Z][A-Za-z'\p{Ll}-]+(?:[ ][A-Z][A-Za-z'\p{Ll}-]+){0,2}|\[postcode\]"
          r"|[A-Z]{2}[ ][0-9]{5}(?:-[0-9]{4})?|[0-9]{4,5})")
_ADDRESS_TAIL_RE = r"\[address\](?:,?[ ]" + _PLACE + r"){1,4}"

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
    # UK national: 07700 900123, 020 7946 0958, 0161 496 0000, 07700900123, 07700.900.456
    r"0[0-9]{2,4}[ .-]?[0-9]{3,4}[ .-]?[0-9]{3,4}",
])
# The phone must not sit inside a longer run of digits or a word: the character
# before and after are captured and put back (RE2 has no look-arounds).
_PHONE_RE = r"(^|[^0-9A-Za-z+])(?:" + _PHONE_BODY + r")([^0-9]|$)"
# Ten bare digits (5551234567, or 15551234567): a North American number unless the words
# before it call it an order, a ticket or a reference (confirmed in Python).
_BARE_PHONE_CANDIDATE = r"(?:^|[^0-9A-Za-z#+])1?[2-9][0-9]{9}(?:[^0-9]|$)"
_BARE_PHONE_PY = re.compile(r"(?<![0-9A-Za-z#+])1?[2-9][0-9]{9}(?![0-9])")
_REFERENCE_BEFORE = re.compile(
    r"(?i)(?:order|ref|reference|ticket|invoice|case|tracking|confirmation|booking|policy|claim|serial|"
    r"transaction|txn|id|po|sku|item|product|parcel|consignment)[ .:#-]*(?:no[.]?|number|num[.]?|is)?[ .:#-]*$")


def _redact_bare_phones(text: str) -> str:
    def repl(match: re.Match[str]) -> str:
        if _REFERENCE_BEFORE.search(text[max(0, match.start() - 24):match.start()]):
            return match.group(0)
        return PHONE

    return _BARE_PHONE_PY.sub(repl, text)


# A card candidate: 13-19 digits, single spaces, dashes or dots between groups.
_CARD_CANDIDATE = r"[0-9](?:[ .-]?[0-9]){12,18}"
_CARD_PY = re.compile(r"(?<![0-9])[0-9](?:[ .-]?[0-9]){12,18}(?![0-9])")


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
        country = found[:2].upper()
        length = IBAN_LENGTHS.get(country)
        if length is None:
            return found
        # the match may run on into the words after the IBAN ("... 32 please"): the IBAN is the
        # first ``length`` letters and digits, the rest is put back as it was
        seen = 0
        for end, ch in enumerate(found):
            if ch != " ":
                seen += 1
                if seen == length:
                    head, rest = found[:end + 1], found[end + 1:]
                    if rest and rest[0] != " ":
                        return found  # the IBAN would end inside a word
                    return IBAN + rest if iban_valid(head) else found
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
    """A new series with the personal data in each text replaced by a placeholder.

    Placeholders (:data:`PLACEHOLDERS`): ``[email]`` (plain, internationalised and
    obfuscated addresses), ``[iban]``, ``[ni-number]``, ``[ssn]``, ``[passport]``,
    ``[account]``, ``[sort-code]``, ``[dob]``, ``[name]``, ``[ip]``, ``[address]``
    (with the towns and postcode after it), ``[postcode]``, ``[card]`` and
    ``[phone]``; nulls stay null; the input is not modified. Redacting twice
    changes nothing more.
    """
    out = texts.astype(pd.StringDtype("pyarrow"))
    # Most comments hold no personal data: one pass finds the texts that may, and the
    # patterns run one after the other on those alone. A text that no pattern matches
    # is left as it is by every step, so the result is the same as on every text.
    hits = matches(out, MAY_HOLD_PII)
    if not hits.any():
        return out
    return put_rows(out, hits, _redact_all(out[hits]))


def _replace(out: pd.Series, pattern: str, repl: str, *, twice: bool = False) -> pd.Series:
    """``out.str.replace(pattern, repl)`` (RE2), run only on the texts the pattern matches.

    ``twice``: patterns that capture the character before and after their match
    (RE2 has no look-arounds) miss the second of two items one character apart,
    which shared that character; a second pass over the texts that changed finds it.
    """
    hits = matches(out, pattern)
    if not hits.any():
        return out
    before = out[hits]
    after = before.str.replace(pattern, repl, regex=True)
    if twice:
        changed = (after != before).fillna(False).to_numpy(dtype=bool)
        if changed.any():
            after = put_rows(after, changed, after[changed].str.replace(pattern, repl, regex=True))
    return put_rows(out, hits, after)


def _fix_matching(out: pd.Series, pattern: str, fix: Callable[[str], str]) -> pd.Series:
    """``fix`` (Python) applied to the texts ``pattern`` matches, once per distinct text."""
    hits = matches(out, pattern)
    if not hits.any():
        return out
    sub = out[hits]
    fixes = {t: fix(t) for t in sub.unique()}
    return put_rows(out, hits, sub.map(fixes).astype(out.dtype))


_KEEP = r"\1{}\2"

#: The steps of the redaction, in order: ``(candidate RE2 pattern, replacement or Python fix)``.
#: Each step sees the placeholders of the steps before it (so "[address]" can take its town).
STEPS: tuple[tuple[str, str | Callable[[str], str]], ...] = (
    (_EMAIL_RE, EMAIL),
    (_EMAIL_BRACKET_RE, EMAIL),
    (_EMAIL_SPACED_RE, EMAIL),
    (_EMAIL_WORDS_RE, _redact_word_emails),
    (_IBAN_CANDIDATE, _redact_ibans),
    (_NI_RE, _KEEP.format(NI_NUMBER)),
    (_SSN_RE, _KEEP.format(SSN)),
    (_PASSPORT_RE, _KEEP.format(PASSPORT)),
    (_SORT_CODE_RE, _KEEP.format(SORT_CODE)),
    (_SORT_ACCOUNT_RE, r"\1" + SORT_CODE + " " + ACCOUNT + r"\2"),
    (_ACCOUNT_RE, _KEEP.format(ACCOUNT)),
    (_DOB_RE, _KEEP.format(DOB)),
    (_TITLE_NAME_RE, r"\1" + NAME),
    (_SAID_NAME_RE, r"\1" + NAME),
    (_IP_CANDIDATE, _redact_ips),
    (_POSTCODE_RE, _KEEP.format(POSTCODE)),
    (_ADDRESS_RE, _KEEP.format(ADDRESS)),
    (_ADDRESS_TAIL_RE, ADDRESS),  # prefilter: _ADDRESS_TAIL_HINT
    (_CARD_CANDIDATE, _redact_cards),
    (_PHONE_RE, _KEEP.format(PHONE)),
    (_BARE_PHONE_CANDIDATE, _redact_bare_phones),
)

#: Any of the steps' patterns, as one RE2 expression: no step of the redaction changes a text
#: this does not match, so one pass over a column finds every text the patterns must run on.
#: (The town-after-an-address step is represented by a cheap superset of its pattern, whose
#: repetitions of capitalised words would blow up RE2's automaton for the union.)
_ADDRESS_TAIL_HINT = r"\[address\],?[ ]"
MAY_HOLD_PII = "|".join(f"(?:{_ADDRESS_TAIL_HINT if pattern == _ADDRESS_TAIL_RE else pattern})"
                        for pattern, _ in STEPS)


def _redact_all(out: pd.Series) -> pd.Series:
    """Every step in turn (:data:`STEPS`)."""
    for pattern, action in STEPS:
        if callable(action):
            out = _fix_matching(out, pattern, action)
        else:
            out = _replace(out, pattern, action, twice=r"\2" in action)
    return out


# --------------------------------------------------------------------------- other columns

#: The steps that decide whether an identifier (a response id) is personal data: every step but
#: the bare ten-digit phone, which would take most numeric ticket ids for phone numbers.
ID_STEPS = tuple(step for step in STEPS if step[1] is not _redact_bare_phones)
_ID_HINT = r"@|[0-9](?:[^A-Za-z0-9]{0,2}[0-9]){5}"
_MAY_BE_PERSONAL_ID = "|".join(f"(?:{_ADDRESS_TAIL_HINT if p == _ADDRESS_TAIL_RE else p})" for p, _ in ID_STEPS)


def personal_ids(ids: pd.Series) -> np.ndarray:
    """Where an identifier holds personal data (an e-mail, a phone, a card, an IBAN, ...): bool array.

    >>> personal_ids(pd.Series(["R_001", "ann@example.com", "zd-1234", "+44 20 7946 0958"])).tolist()
    [False, True, False, True]
    """
    out = ids.astype(pd.StringDtype("pyarrow"))
    # Every kind of personal data an id can hold has an "@" or six digits with at most
    # separators between them: a cheap pass keeps the big expression for those ids alone.
    hits = matches(out, _ID_HINT)
    if hits.any():
        hits[hits] = matches(out[hits], _MAY_BE_PERSONAL_ID)
    if not hits.any():
        return hits
    sub = out[hits]
    redacted = sub
    for pattern, action in ID_STEPS:
        redacted = (_fix_matching(redacted, pattern, action) if callable(action)
                    else _replace(redacted, pattern, action, twice=r"\2" in action))
    hits[hits] = (redacted != sub).fillna(False).to_numpy(dtype=bool)
    return hits


def pseudonym(value: str, salt: bytes, length: int = 16) -> str:
    """The first ``length`` hex digits of the salted SHA-256 of ``value`` (a stable pseudonym)."""
    return hashlib.sha256(salt + value.encode("utf-8")).hexdigest()[:length]


def redact_labels(values: pd.Series, salt: Callable[[], bytes]) -> pd.Series:
    """Group labels (team, vendor, category) with their personal data redacted, groups kept apart.

    A label that holds personal data ("ann.lee@example.com" as the team that handled
    a ticket) becomes its redacted text plus a short salted pseudonym of the original
    ("[email] #3f9a1c"): two agents stay two groups, and neither name is published.
    ``salt`` is called only when some label needs it.
    """
    out = values.astype(pd.StringDtype("pyarrow"))
    hits = matches(out, MAY_HOLD_PII)
    if not hits.any():
        return out
    before = out[hits]
    after = _redact_all(before)
    changed = (after != before).fillna(False).to_numpy(dtype=bool)
    if not changed.any():
        return out
    key = salt()
    originals = before[changed]
    tags = {v: pseudonym(v, key, 6) for v in originals.dropna().unique()}
    tagged = after[changed] + " #" + originals.map(tags).astype(after.dtype)
    after = put_rows(after, changed, tagged)
    return put_rows(out, hits, after)
