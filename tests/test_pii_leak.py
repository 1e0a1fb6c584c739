"""PII planted in a month of feedback never reaches an output a person reads.

A generic CSV export with 264 PII items in varied formats (e-mails, UK, US and
international phone numbers, Luhn-valid card numbers; in the comment text and as
customer ids) is added to the October sample and rendered once through the same
function the command uses. No item may appear in report.html, report.ipynb
(quotes, call list, kudos included), kpis.json, run.log or feedback.parquet (whose
customer keys are salted hashes), quarantine.csv (positions, reasons and redacted
cells) or the history store.

A second file plants the categories of issue 16 (IDN and obfuscated e-mails, dotted and
bare phones, dotted cards, lower-case IBANs, postcodes after a street, NI and passport
numbers, dates of birth, IP addresses, names with account numbers and sort codes) in the
comments, agents' e-mails and phones as team ("handled by") and category, e-mails as
response ids, and an IP-address column; a third of its rows carry a rating that is not a
number, so they and their raw cells reach the quarantine.
"""

from __future__ import annotations

import random
import re
import shutil

import pandas as pd
import pytest

from .conftest import CONFIG, SAMPLE

pytestmark = pytest.mark.slow

# Formats the redactor is known to miss, as {family: description}; each is marked xfail
# so the corpus keeps them. Empty since pii.py learnt "(0113) 496 0000" and "0044 20 ...".
KNOWN_GAPS: dict[str, str] = {}


def _luhn(prefix: str, length: int, seed: int) -> str:
    rnd = random.Random(seed)
    digits = [int(c) for c in prefix] + [rnd.randrange(10) for _ in range(length - len(prefix) - 1)]
    for check in range(10):
        total = 0
        for i, d in enumerate(reversed(digits + [check])):
            if i % 2:
                d = d * 2 - 9 if d * 2 > 9 else d * 2
            total += d
        if total % 10 == 0:
            return "".join(map(str, digits + [check]))
    raise AssertionError


def _group(number: str, sep: str, sizes=(4, 4, 4, 4)) -> str:
    out, i = [], 0
    for n in sizes:
        out.append(number[i:i + n])
        i += n
    return sep.join(p for p in out if p)


def planted(n_each: int = 11) -> list[tuple[str, str]]:
    rnd = random.Random(2026)
    items: list[tuple[str, str]] = []
    for i in range(n_each):
        a, b, c = rnd.randrange(201, 989), rnd.randrange(1000, 9999), rnd.randrange(100000, 999999)
        b2, b3 = rnd.randrange(1000, 9999), rnd.randrange(1000, 9999)  # distinct digits per format
        items += [
            ("email", f"jane.doe{i}@example.com"),
            ("email_plus", f"j.smith+tag{i}@mail.example.co.uk"),
            ("email_upper", f"JOHN_{i}@EXAMPLE.ORG"),
            ("uk_mobile", f"07700 {c}"),
            ("uk_mobile_nospace", f"07700{c}"),
            ("uk_intl", f"+44 7700 {c}"),
            ("uk_landline", f"020 7946 {b}"),
            ("uk_intl_zero", f"+44 (0)20 7946 {b}"),
            ("uk_brackets", f"(0113) 496 {b2}"),
            ("us_brackets", f"({a}) 555-{b}"),
            ("us_dashes", f"{a}-555-{b}"),
            ("us_dots", f"{a}.555.{b}"),
            ("us_intl", f"+1 {a} 555 {b}"),
            ("fr_intl", f"+33 1 {rnd.randrange(10, 99)} {rnd.randrange(10, 99)} {rnd.randrange(10, 99)} "
                        f"{rnd.randrange(10, 99)}"),
            ("de_intl", f"+49 30 {rnd.randrange(1000000, 9999999)}"),
            ("in_intl", f"+91 {rnd.randrange(70000, 99999)} {rnd.randrange(10000, 99999)}"),
            ("intl_00", f"0044 20 7946 {b3}"),
            ("card_spaces", _group(_luhn("4" + str(i).zfill(3), 16, i), " ")),
            ("card_dashes", _group(_luhn("51" + str(i).zfill(2), 16, 100 + i), "-")),
            ("card_plain", _luhn("4539" + str(i).zfill(2), 16, 200 + i)),
            ("card_amex", _group(_luhn("37" + str(i).zfill(2), 15, 300 + i), " ", (4, 6, 5))),
            ("customer_id_email", f"customer.{i}@example.net"),
            ("customer_id_phone", f"+44 7700 9{c}"[:16]),
            ("email_in_word", f"(mail:ann{i}@example.io)"),
        ]
    return items


ITEMS = planted()


def _issue16_items() -> list[tuple[str, str, str]]:
    """(family, text, value that must not appear) from the unit tests' generator, one value per item."""
    from .test_pii import issue16_planted

    out = []
    for kind, text, secret in issue16_planted():
        parts = secret.split("|")
        if kind == "postcode_town":
            parts = parts[1:]  # town names also name teams ("Customer Care London"): the postcode
        if kind == "email_obfuscated":
            parts = [text.split("email me: ", 1)[1].rsplit(" if needed", 1)[0]]
        out += [(f"i16_{kind}", text, part) for part in parts]
    return out


ISSUE16 = _issue16_items()
#: Other fields that carry personal data (issue 15, item 9): (family, value).
FIELDS = [("team_email", f"agent.{i}@support.example.com") for i in range(6)] + \
         [("category_phone", f"+44 7700 90{i:04d}") for i in range(4)] + \
         [("response_id_email", f"resp{i}@example.net") for i in range(6)] + \
         [("ip_column", f"198.51.100.{10 + i}") for i in range(6)]
FAMILIES = sorted({kind for kind, _ in ITEMS} | {k for k, _, _ in ISSUE16} | {k for k, _ in FIELDS})
ALL_ITEMS = ITEMS + [(k, v) for k, _, v in ISSUE16] + FIELDS


@pytest.fixture(scope="module")
def outputs(tmp_path_factory, salt_env):
    from feedbacklib.runner import run_report

    root = tmp_path_factory.mktemp("pii")
    inputs = root / "in"
    inputs.mkdir()
    for p in SAMPLE.glob("*2026-10*"):
        shutil.copy(p, inputs / p.name)
    rows = []
    templates = ["Please call me back on {v}, the engineer never came and I was charged twice.",
                 "Terrible wait. My details: {v}. I will cancel if nobody calls.",
                 "Brilliant help from Sam, thank you! Reach me at {v} if you need anything.",
                 "{v} is my number / address, the refund is still missing and the bill was wrong."]
    for i, (kind, value) in enumerate(ITEMS):
        is_id = kind.startswith("customer_id")
        rows.append({
            "response_id": f"pii-{i}",
            "received_at": f"2026-10-{1 + i % 28:02d}T09:{i % 60:02d}:00Z",
            "team": ["Northwind Manila", "Customer Care London", "Sunrise Cebu"][i % 3],
            "channel": "email",
            "csat": 1 + i % 5,
            "customer_id": value if is_id else f"C{i:05d}",
            "text": templates[i % 4].format(v="(see account)" if is_id else value),
        })
    pd.DataFrame(rows).to_csv(inputs / "web_feedback_2026-10.csv", index=False)
    more = []
    for i, (_kind, text, _) in enumerate(ISSUE16):
        team = FIELDS[i % 6][1] if i % 5 == 0 else "Customer Care London"
        more.append({
            "response_id": FIELDS[10 + i % 6][1] if i % 7 == 0 else f"i16-{i}",
            "received_at": f"2026-10-{1 + i % 28:02d}T10:{i % 60:02d}:00Z",
            "team": team, "channel": "chat",
            "category": FIELDS[6 + i % 4][1] if i % 4 == 0 else "billing",
            "csat": f"not sure, {text}" if i % 3 == 0 else 1 + i % 5,
            "customer_id": f"K{i:05d}", "ip_address": FIELDS[16 + i % 6][1],
            "text": text,
        })
    pd.DataFrame(more).to_csv(inputs / "chat_feedback_2026-10.csv", index=False)
    outcome = run_report("2026-10", inputs, CONFIG, root / "out", generated_at="2026-11-02 06:00 UTC")
    folder = outcome.folder
    texts = {}
    for name in ("report.html", "report.ipynb", "kpis.json", "run.log", "quarantine.csv"):
        text = (folder / name).read_text(encoding="utf-8")
        texts[name] = re.sub(r"[A-Za-z0-9+/=]{200,}", "<base64>", text)  # embedded images are not text
    frame = pd.read_parquet(folder / "feedback.parquet")
    texts["feedback.parquet"] = "\n".join(
        "\n".join(frame[c].astype("string").fillna("")) for c in frame.columns
        if pd.api.types.is_string_dtype(frame[c]) or frame[c].dtype == object)
    assert len(frame) > len(ITEMS) // 2
    for part in sorted((root / "out" / "history").rglob("*.parquet")):
        stored = pd.read_parquet(part)
        texts[f"history/{part.parent.name}/{part.name}"] = "\n".join(
            "\n".join(stored[c].astype("string").fillna("")) for c in stored.columns
            if pd.api.types.is_string_dtype(stored[c]) or stored[c].dtype == object)
    assert any(k.startswith("history/") for k in texts), "no history store written"
    quarantine = pd.read_csv(folder / "quarantine.csv", dtype=str)
    assert (quarantine["source_file"] == "chat_feedback_2026-10.csv").sum() >= len(ISSUE16) // 3
    return texts


def _pattern(value: str) -> re.Pattern[str]:
    if "@" in value:
        return re.compile(re.escape(value.strip("()").split(":")[-1]), re.I)
    # the same letters and digits with any short separators between them, not inside a longer
    # word or number ("gb82 west 1234 ..." for "gb82west1234...", "AB 12 34 56 C" for "AB123456C")
    chars = re.sub(r"[^0-9A-Za-z]", "", value)
    return re.compile(r"(?<![0-9A-Za-z])" + r"[^0-9A-Za-z]{0,3}".join(map(re.escape, chars))
                      + r"(?![0-9A-Za-z])", re.I)


def _leaks(texts: dict[str, str], family: str) -> list[str]:
    found = []
    for kind, value in ALL_ITEMS:
        if kind != family:
            continue
        pat = _pattern(value)
        for name, text in texts.items():
            if pat.search(text):
                found.append(f"{value!r} in {name}")
    return found


LEAKED: dict[str, int] = {}
LEAKED_INTO: set[str] = set()


@pytest.mark.parametrize("family", [
    pytest.param(f, marks=pytest.mark.xfail(strict=False, reason=f"pii.py misses {KNOWN_GAPS[f]}"))
    if f in KNOWN_GAPS else f for f in FAMILIES])
def test_no_planted_pii_in_any_output(outputs, family):
    leaks = _leaks(outputs, family)
    LEAKED[family] = len({leak.split(" in ")[0] for leak in leaks})
    LEAKED_INTO.update(leak.rsplit(" in ", 1)[1] for leak in leaks)
    assert not leaks, leaks[:5]


def test_zz_pii_summary(capsys):
    if not LEAKED:
        pytest.skip("run with the leak test")
    with capsys.disabled():
        leaked = {k: v for k, v in LEAKED.items() if v}
        print(f"\nPII planted: {len(ALL_ITEMS)} items in {len(FAMILIES)} formats; leaked: {sum(leaked.values())} "
              f"({leaked or 'none'}){' into ' + ', '.join(sorted(LEAKED_INTO)) if LEAKED_INTO else ''}")
