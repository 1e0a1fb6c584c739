"""PII redaction (feedbacklib.pii)."""

from __future__ import annotations

import pandas as pd
import pytest

from feedbacklib.pii import luhn_valid, redact_pii


def redact(text: str) -> str:
    return redact_pii(pd.Series([text], dtype="string")).iloc[0]


@pytest.mark.parametrize("text,expected", [
    ("write to ann.b+x@example.co.uk please", "write to [email] please"),
    ("UK mobile 07700 900123.", "UK mobile [phone]."),
    ("no spaces 07700900123", "no spaces [phone]"),
    ("London +44 20 7946 0958 today", "London [phone] today"),
    ("US (555) 123-4567 or 555-123-4567", "US [phone] or [phone]"),
    ("Paris +33 1 23 45 67 89!", "Paris [phone]!"),
    ("two: 07700 900123,07700 900124", "two: [phone],[phone]"),
    ("card 4111 1111 1111 1111 used", "card [card] used"),
    ("card 4111-1111-1111-1111", "card [card]"),
    ("amex 378282246310005", "amex [card]"),
])
def test_redacted(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize("text", [
    "order 4111 1111 1111 1112 placed",      # fails Luhn: an order number, kept
    "order #12345678 placed on 2026-07-03",
    "paid £1,299.99 and $45.00 on 03/07/2026 at 14:22",
    "ticket 1234567890123 reopened",
    "version 2.10.3, room 101, 50% off",
    "café 😀 — naïve",
])
def test_not_redacted(text):
    assert redact(text) == text


def test_nulls_index_and_input_untouched():
    s = pd.Series(["mail a@b.com", None, "ok"], index=[5, 7, 9], dtype="string")
    before = s.copy()
    out = redact_pii(s)
    assert list(out.index) == [5, 7, 9]
    assert out.iloc[0] == "mail [email]" and pd.isna(out.iloc[1])
    pd.testing.assert_series_equal(s, before)


def test_idempotent():
    s = pd.Series(["a@b.com 07700 900123 4111111111111111", "fine"], dtype="string")
    once = redact_pii(s)
    pd.testing.assert_series_equal(redact_pii(once), once)


def test_luhn():
    assert luhn_valid("4111111111111111")
    assert not luhn_valid("4111111111111112")


def test_object_and_str_dtype_inputs():
    out = redact_pii(pd.Series(["x@y.org"], dtype=object))
    assert out.iloc[0] == "[email]"
