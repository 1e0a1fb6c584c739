"""Deterministic sample exports with planted effects.

The generator writes, for each month, the three raw exports the pipeline reads
(a Qualtrics post-contact survey CSV, a Zendesk incremental ticket export page
and a complaints register workbook).  The data are synthetic but shaped like
the real platforms' files, carry deliberately dirty rows, and hide known
effects that the statistics must find (see ``data/sample/README.md``).

Everything is driven by ``numpy.random.default_rng`` seeded from ``(seed,
month)``: the same seed gives the same bytes (CSV, JSON) or the same cell
values (XLSX).

Example
-------
>>> from feedbacklib.sample import generate_month
>>> files = generate_month("2026-07")                 # doctest: +SKIP
>>> sorted(files)                                     # doctest: +SKIP
['complaints_register_2026-07.xlsx', 'qualtrics_post_contact_survey_2026-07.csv',
 'zendesk_tickets_2026-07.json']

Command line: ``python -m feedbacklib.sample --out data/sample``.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

__all__ = [
    "DEFAULT_MONTHS",
    "DEFAULT_SEED",
    "TEAMS",
    "THEMES",
    "survey_theme_rate",
    "generate_comments",
    "generate_month",
    "write_sample",
    "write_qualtrics_csv",
    "main",
]

DEFAULT_SEED = 2026
DEFAULT_MONTHS = ("2026-07", "2026-08", "2026-09", "2026-10")
LATEST_MONTH = "2026-10"
LONDON = ZoneInfo("Europe/London")
UTC = dt.timezone.utc

# name -> (service model, vendor, share of volume)
TEAMS: dict[str, tuple[str, str | None, float]] = {
    "Customer Care London": ("in_house", None, 0.20),
    "Billing Team": ("in_house", None, 0.15),
    "Tech Support Leeds": ("in_house", None, 0.15),
    "Northwind Manila": ("outsourced", "Northwind BPO", 0.28),
    "Sunrise Cape Town": ("outsourced", "Sunrise Contact Services", 0.22),
}
TEAM_NAMES = tuple(TEAMS)
_TEAM_P = np.array([t[2] for t in TEAMS.values()])
_TEAM_P = _TEAM_P / _TEAM_P.sum()
TEAM_ALIASES = {
    "Customer Care London": ["CC London", "customer care - london"],
    "Billing Team": ["Billing"],
    "Tech Support Leeds": ["Technical Support Leeds"],
    "Northwind Manila": ["NW Manila"],
    "Sunrise Cape Town": ["Sunrise CPT"],
}
AGENTS = {
    "Customer Care London": ["Priya", "Tom"],
    "Billing Team": ["Sarah", "Dev", "Helen"],
    "Tech Support Leeds": ["Gareth", "Aisha", "Liam"],
    "Northwind Manila": ["Joy", "Mark", "Angel", "Rica"],
    "Sunrise Cape Town": ["Thabo", "Lerato", "Pieter", "Zanele"],
}

THEMES = (
    "responsiveness", "surprise_charges", "listening", "not_fixed", "courtesy",
    "knowledge", "honest_guidance", "protection", "follow_up", "churn_risk", "praise",
)

# ---------------------------------------------------------------------------
# Planted rates: share of non-blank survey comments (real, finished responses)
# that carry each theme, by team.  Quotas, not coin flips: the generator gives
# exactly round(rate * n) comments of a team the theme in each month.
# ---------------------------------------------------------------------------
_BASE_RATES = {
    "responsiveness": 0.12,
    "surprise_charges": 0.06,
    "listening": 0.06,
    "not_fixed": 0.08,
    "courtesy": 0.06,
    "knowledge": 0.06,
    "honest_guidance": 0.04,
    "protection": 0.03,
    "follow_up": 0.05,
    "churn_risk": 0.04,
    "praise": 0.10,
}
_TEAM_RATES = {
    ("responsiveness", "Northwind Manila"): 0.24,   # effect 1
    ("not_fixed", "Sunrise Cape Town"): 0.18,       # effect 3 (surveys)
    ("praise", "Customer Care London"): 0.25,       # effect 4
    ("churn_risk", "Northwind Manila"): 0.07,
    ("churn_risk", "Sunrise Cape Town"): 0.07,
}
SURPRISE_CHARGES_LATEST = 0.16                        # effect 2, all teams, 2026-10
# Share of positive mentions for themes that can go either way.
_POSITIVE_SHARE = {
    "courtesy": 0.5, "knowledge": 0.4, "honest_guidance": 0.5,
    "protection": 0.8, "follow_up": 0.4, "listening": 0.2, "praise": 1.0,
}

# Zendesk: among provider-solved tickets (360001003 true) of each team.
ZENDESK_NOT_FIXED_BAD = {"Sunrise Cape Town": 0.35, "Northwind Manila": 0.08, "_in_house": 0.08}
ZENDESK_REOPENED = {"Sunrise Cape Town": 0.25, "Northwind Manila": 0.06, "_in_house": 0.06}
# Zendesk descriptions that are a surprise-charge query.
ZENDESK_SURPRISE = {"default": 0.08, LATEST_MONTH: 0.20}
# Complaints register: primary-theme weights (surprise charges jump in 2026-10).
_COMPLAINT_WEIGHTS = {
    "responsiveness": 0.20, "surprise_charges": 0.14, "listening": 0.08, "not_fixed": 0.20,
    "courtesy": 0.10, "knowledge": 0.10, "honest_guidance": 0.06, "protection": 0.05,
    "follow_up": 0.07,
}
COMPLAINT_SURPRISE_LATEST = 0.35
# Effect 6, case mix (Simpson's paradox in channel mix). Outsourced teams take
# mostly chat, in-house teams mostly phone (for survey rows not linked to a
# ticket). Phone contacts are the hard ones and rate lower in every team, and
# outsourced customers rate lower than in-house customers *within* every
# channel; the raw comparison then flatters the vendors, the like-for-like one
# does not. Shifts are added to the CSAT score before rounding.
SURVEY_CHANNEL_MIX = {
    "in_house": {"Phone": 0.65, "Email": 0.15, "Chat": 0.05, "Web": 0.15},
    "outsourced": {"Phone": 0.05, "Email": 0.15, "Chat": 0.65, "Web": 0.15},
}
CHANNEL_CSAT_SHIFT = {"Phone": -1.4, "Email": -0.4, "Web": 0.0, "Chat": 0.2}
OUTSOURCED_CSAT_SHIFT = -0.35


def survey_theme_rate(theme: str, team: str, month: str) -> float:
    """Planted share of a team's non-blank survey comments that carry ``theme``."""
    if theme == "surprise_charges" and month == LATEST_MONTH:
        return SURPRISE_CHARGES_LATEST
    return _TEAM_RATES.get((theme, team), _BASE_RATES[theme])


# ---------------------------------------------------------------------------
# Text: templates per theme, slot fillers, decoys (negated mentions), styling.
# ---------------------------------------------------------------------------
_SLOTS = {
    "hold": ["45 minutes", "over an hour", "40 mins", "nearly two hours", "an hour and a half", "25 minutes"],
    "days": ["3 days", "a week", "two weeks", "5 days", "over a fortnight", "10 days"],
    "n": ["three", "four", "5", "six", "3"],
    "amount": ["£12.50", "£35", "£89.99", "£25", "£60", "£7.99", "£140"],
    "fee": ["admin fee", "late payment charge", "call-out fee", "early exit fee", "paper bill fee", "engineer visit fee"],
    "item": ["router", "broadband", "landline", "TV box", "phone", "wifi", "account", "order"],
    "device": ["router", "broadband", "landline", "TV box", "wifi", "phone line"],
    "product": ["the new tariff", "the app", "the router setup", "the fibre upgrade", "the refund process"],
    "diy": ["resetting the router", "watching a YouTube video", "swapping the cable", "asking my neighbour"],
    "weekday": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"],
    "years": ["3", "5", "8", "12", "twenty"],
    "other": ["another provider", "a competitor", "someone cheaper", "a different company"],
}

_T: dict[str, dict[str, list[str]]] = {
    "responsiveness": {"neg": [
        "I was on hold for {hold} before anyone picked up.",
        "Waited {days} for a reply to my email.",
        "No reply to my emails for {days}, I had to chase them {n} times.",
        "They promised a callback that never came.",
        "still waiting for the callback i was promised {days} ago",
        "The queue was ridiculous, {hold} on hold just to speak to someone.",
        "Took ages to get through to anyone.",
        "The chat said 2 minutes wait and it was {hold}.",
        "Far too long on hold.",
        "I sent {n} emails and got no response at all.",
        "Nobody answers the phone, I waited {hold} then gave up.",
        "Had to keep chasing for an answer.",
        "the wait times are a joke",
        "Getting a response took forever.",
        "On hold for {hold} AGAIN.",
    ]},
    "surprise_charges": {"neg": [
        "I was charged twice for the same month.",
        "There was an unexpected fee of {amount} on my bill that nobody mentioned.",
        "Hidden charges everywhere, a {amount} {fee} I was never told about.",
        "Got billed twice this month and had to ring up to get it refunded.",
        "They sent me an invoice for a repair that didn't even work!",
        "why am i paying {amount} for a {fee}?? nobody told me about any fee",
        "My bill went up by {amount} with no warning.",
        "I was charged a {fee} I never agreed to.",
        "Extra charges on my account that I didn't agree to.",
        "an invoice for {amount} for the failed repair, unbelievable",
        "Double charged. Again.",
        "The {fee} of {amount} came out of nowhere.",
    ]},
    "listening": {"neg": [
        "I had to repeat myself {n} times.",
        "Had to explain the whole thing again to each person.",
        "The agent didn't understand what I was asking.",
        "felt like nobody was listening to me",
        "They just read from a script and ignored what I actually said.",
        "I told them {n} times it was the {item} and they still didn't get it.",
        "didn't listen, just kept talking over me",
    ], "pos": [
        "She really listened and understood the problem straight away.",
        "Felt like I was actually listened to for once.",
    ]},
    "not_fixed": {"neg": [
        "The problem came back {days} later.",
        "Still not working.",
        "They marked it as resolved but my {device} is still not working.",
        "In the end I fixed it myself by {diy}.",
        "The engineer had to come back twice.",
        "Same fault a week later, so not fixed at all.",
        "closed my ticket without fixing anything",
        "told me it was sorted, it wasn't. still not working",
        "My {device} broke again the next day.",
        "issue not resolved after {n} calls",
        "They said it was fixed but it's not fixed.",
        "The fault came back the same evening.",
    ]},
    "courtesy": {"neg": [
        "The agent was rude and dismissive.",
        "very rude man on the phone",
        "No please or thank you, and then hung up on me.",
        "She was short with me and quite sarcastic.",
        "Spoke to me like I was stupid. Rude.",
    ], "pos": [
        "Very polite and patient.",
        "The lady on the phone was so polite, said please and thank you throughout.",
        "courteous and friendly from start to finish",
        "Polite and respectful, thank you.",
    ]},
    "knowledge": {"neg": [
        "The agent didn't know the answer and had to ask someone.",
        "I was transferred {n} times.",
        "Passed from pillar to post between departments.",
        "Nobody seemed to know how {product} works.",
        "Clearly not trained on {product}.",
        "got transferred around and ended up back where I started",
    ], "pos": [
        "Really knowledgeable, knew exactly what to do.",
        "Well trained staff who knew their stuff.",
        "He knew {product} inside out.",
    ]},
    "honest_guidance": {"neg": [
        "Tried to upsell me a more expensive package when I just wanted my {item} fixed.",
        "Felt like a sales pitch.",
        "They pushed an upgrade I didn't need.",
    ], "pos": [
        "She pointed me to a cheaper option, which I didn't expect.",
        "Honest advice, told me I didn't need the upgrade.",
        "He said I'd be better off on the basic plan, really appreciated the honesty.",
    ]},
    "protection": {"neg": [
        "Nobody noticed the address on my order was wrong even though I'd told them.",
        "They sent the wrong item and didn't catch it.",
    ], "pos": [
        "The agent caught a mistake in my order before it went out.",
        "She noticed I'd ordered the wrong size and changed it for me.",
        "He warned me about a scam text going round, very helpful.",
        "Spotted a duplicate order and stopped it for me.",
    ]},
    "follow_up": {"neg": [
        "Never heard back.",
        "Was promised an update and nobody got in touch.",
        "Nobody followed up like they said they would.",
        "heard nothing since",
    ], "pos": [
        "They rang me a few days later to check everything was OK, nice touch.",
        "Got a follow-up email to make sure it was all working.",
    ]},
    "churn_risk": {"neg": [
        "I'm going to cancel my contract.",
        "Looking at alternatives now.",
        "Seriously thinking about switching provider.",
        "If this happens again I'm leaving for {other}.",
        "will be moving to {other} when my contract ends",
        "Cancelling my subscription after {years} years.",
    ]},
    "praise": {"pos": [
        "{agent} went above and beyond!",
        "Fantastic service from {agent}.",
        "Brilliant, couldn't ask for more.",
        "Excellent service, {agent} was a star.",
        "great service!!",
        "Amazing help from {agent}, please pass on my thanks.",
        "Best customer service I've had in years.",
        "Superb.",
        "{agent} is a credit to your company.",
        "Outstanding service, big thanks to {agent}.",
        "Honestly brilliant service",
    ]},
}
# Negated mentions: they name a theme's words but do not carry the theme.
_DECOYS = [
    "I didn't have to wait long.",
    "Wasn't kept waiting at all.",
    "No hidden fees, thankfully.",
    "no surprise charges this time",
    "Not rude at all, just a bit rushed.",
    "The problem hasn't come back since.",
    "not great service tbh but not bad either",
]
_CONTEXT = [
    "I rang about my {item}.",
    "I contacted you on {weekday} about my {item}.",
    "Been a customer for {years} years.",
    "This was my first time contacting you.",
    "The app kept logging me out so I rang instead.",
    "I used the online chat.",
    "My query was about moving house.",
]
_GENERIC = [
    "ok", "fine", "Sorted.", "all good", "Nothing to add.", "It was fine thanks", "Did the job",
    "average", "got there in the end", "okay I guess", "Quick and easy.", "No complaints.",
    "Resolved my query.", "good", "Good thanks 👍", "Satisfactory.", "yes", "It was ok, nothing special.",
]
_BLANKS = ["", "", "", "n/a", "N/A", "-", "none", "None", "nothing", "."]
_TYPOS = [
    ("received", "recieved"), ("definitely", "definately"), ("didn't", "didnt"),
    ("don't", "dont"), ("I'm", "im"), ("wasn't", "wasnt"), ("can't", "cant"),
    ("until", "untill"), ("really", "realy"), ("their", "there"), ("because", "becuase"),
    ("I've", "ive"), ("it's", "its"), ("Thanks", "thnaks"),
]
_EMOJI_NEG = ["😡", "🙁", "😤", "👎"]
_EMOJI_POS = ["🙂", "👍", "😊", "⭐⭐⭐⭐⭐"]
_SLOT_RE = re.compile(r"\{(\w+)\}")


def _pick(rng: np.random.Generator, seq: Sequence | np.ndarray):
    return seq[int(rng.integers(len(seq)))]


def _fill(rng: np.random.Generator, template: str, team: str) -> str:
    def repl(m: re.Match) -> str:
        slot = m.group(1)
        if slot == "agent":
            return _pick(rng, AGENTS[team]) if rng.random() < 0.6 else _pick(rng, ["the agent", "the lady", "the guy on the phone", "your colleague"])
        return _pick(rng, _SLOTS[slot])
    out = _SLOT_RE.sub(repl, template)
    return out[:1].upper() + out[1:] if out[:1].islower() and template[:1] == "{" else out


def _sentence(rng: np.random.Generator, theme: str, positive: bool, team: str) -> str:
    pool = _T[theme]["pos" if positive else "neg"]
    return _fill(rng, _pick(rng, pool), team)


def _join(sentences: list[str], rng: np.random.Generator, contrast: bool) -> str:
    if contrast and len(sentences) == 2 and rng.random() < 0.6:
        a, b = sentences
        a = a.rstrip(".!")
        return f"{a} but {b[:1].lower() + b[1:]}"
    return " ".join(s if s[-1:] in ".!?" else s + "." for s in sentences)


def _style(rng: np.random.Generator, text: str, negative: bool, positive: bool) -> str:
    if rng.random() < 0.2:
        for right, wrong in (_TYPOS[i] for i in rng.permutation(len(_TYPOS))):
            if right in text:
                text = text.replace(right, wrong, 1)
                break
    r = rng.random()
    if r < 0.10:
        text = text.lower()
    elif r < 0.14 and negative:
        parts = text.split(". ")
        k = int(rng.integers(len(parts)))
        parts[k] = parts[k].upper()
        text = ". ".join(parts)
    if rng.random() < 0.06:
        text = f"{text} {_pick(rng, _EMOJI_NEG if negative else _EMOJI_POS)}"
    if rng.random() < 0.05 and negative:
        text = text.rstrip(".") + "!!!"
    return text


@dataclass
class _Comment:
    text: str
    themes: tuple[str, ...] = ()
    n_neg: int = 0
    n_pos: int = 0
    blank: bool = False


def _compose(rng: np.random.Generator, themes: Iterable[str], team: str, *, long: bool = False,
             decoys: bool = True) -> _Comment:
    themes = list(themes)
    if not themes:
        text = _pick(rng, _GENERIC)
        if rng.random() < 0.25:
            text = f"{_fill(rng, _pick(rng, _CONTEXT), team)} {text[:1].upper() + text[1:]}"
        if rng.random() < 0.08:
            text = f"{text} {_pick(rng, _DECOYS)}"
        return _Comment(text)
    order = rng.permutation(len(themes))
    parts, n_neg, n_pos = [], 0, 0
    for i in order:
        theme = themes[i]
        positive = "neg" not in _T[theme] or (theme in _POSITIVE_SHARE and rng.random() < _POSITIVE_SHARE[theme])
        parts.append((not positive, _sentence(rng, theme, positive, team)))
        n_pos += positive
        n_neg += not positive
    contrast = n_neg > 0 and n_pos > 0
    if contrast:
        # "The agent was lovely but I was charged twice": positive first.
        parts.sort(key=lambda p: p[0])
    sentences = [s for _, s in parts]
    text = _join(sentences, rng, contrast)
    if rng.random() < 0.35 or long:
        text = f"{_fill(rng, _pick(rng, _CONTEXT), team)} {text}"
    if rng.random() < 0.10 and decoys:
        text = f"{text} {_pick(rng, _DECOYS)}"
    if long:
        extra = [_fill(rng, _pick(rng, _CONTEXT), team) for _ in range(3)]
        filler = (" I have been a loyal customer and I expect better than this. "
                  "I explained the situation in full to everyone I spoke to, gave my account number, "
                  "my address and my date of birth each time, and I kept notes of every conversation.")
        while len(text) < 3000:
            text = f"{text} {' '.join(extra)}{filler}"
        text = text[:3000].rsplit(" ", 1)[0] + "."
    text = _style(rng, text, n_neg > 0, n_pos > 0)
    return _Comment(text, tuple(themes), n_neg, n_pos)


def _scores(rng: np.random.Generator, c: _Comment, csat_shift: float = 0.0) -> tuple[int, int]:
    mu = 4.25 - 1.15 * c.n_neg + 0.55 * c.n_pos + csat_shift
    csat = int(np.clip(np.rint(mu + rng.normal(0, 0.6)), 1, 5))
    nps = int(np.clip(np.rint(8.4 - 2.4 * c.n_neg + 1.1 * c.n_pos + rng.normal(0, 1.3)), 0, 10))
    return csat, nps


def _assign_themes(rng: np.random.Generator, teams: np.ndarray, month: str, rate=survey_theme_rate) -> list[list[str]]:
    """Exact quotas: round(rate * n_team) rows of each team get each theme."""
    out: list[list[str]] = [[] for _ in range(len(teams))]
    for team in TEAM_NAMES:
        idx = np.flatnonzero(teams == team)
        for theme in THEMES:
            k = int(round(rate(theme, team, month) * len(idx)))
            for i in rng.choice(idx, size=k, replace=False):
                out[i].append(theme)
    return out


def generate_comments(n: int, *, seed: int = DEFAULT_SEED, month: str = "2026-07") -> pd.DataFrame:
    """``n`` synthetic survey comments with their planted themes and scores.

    Returns a frame with columns ``team``, ``text``, ``themes`` (comma-separated
    ground truth, empty for none), ``csat`` and ``nps``.  About 8% of texts are
    blank or a placeholder such as ``"n/a"``.
    """
    rng = np.random.default_rng([seed, _month_key(month), 7])
    teams = rng.choice(np.array(TEAM_NAMES), size=n, p=_TEAM_P)
    blank = rng.random(n) < 0.08
    themes = _assign_themes(rng, np.where(blank, "", teams), month)
    rows = []
    for i in range(n):
        c = _Comment(_pick(rng, _BLANKS), blank=True) if blank[i] else _compose(rng, themes[i], teams[i])
        csat, nps = _scores(rng, c)
        rows.append((teams[i], c.text, ",".join(c.themes), csat, nps))
    return pd.DataFrame(rows, columns=["team", "text", "themes", "csat", "nps"])


# ---------------------------------------------------------------------------
# Shared helpers: months, times, customers.
# ---------------------------------------------------------------------------
def _month_key(month: str) -> int:
    y, m = (int(x) for x in month.split("-"))
    return y * 12 + m - 1


def _month_bounds(month: str) -> tuple[dt.date, int]:
    y, m = (int(x) for x in month.split("-"))
    start = dt.date(y, m, 1)
    nxt = dt.date(y + (m == 12), m % 12 + 1, 1)
    return start, (nxt - start).days


_HOUR_P = np.array([0, 0, 0, 0, 0, 0, 1, 3, 6, 9, 10, 10, 9, 9, 9, 8, 7, 6, 5, 4, 3, 2, 1, 1], float)
_HOUR_P /= _HOUR_P.sum()


def _local_times(rng: np.random.Generator, month: str, n: int) -> list[dt.datetime]:
    start, ndays = _month_bounds(month)
    days = rng.integers(0, ndays, n)
    hours = rng.choice(24, size=n, p=_HOUR_P)
    secs = rng.integers(0, 3600, n)
    return [dt.datetime.combine(start + dt.timedelta(days=int(d)), dt.time(int(h), int(s) // 60, int(s) % 60))
            for d, h, s in zip(days, hours, secs)]


def _to_utc(local: dt.datetime) -> dt.datetime:
    return local.replace(tzinfo=LONDON).astimezone(UTC)


def _customer_pool(seed: int, size: int = 6000) -> np.ndarray:
    rng = np.random.default_rng([seed, 424242])
    nums = rng.choice(np.arange(10_000, 9_999_999), size=size, replace=False)
    return np.array([f"C{x:07d}" for x in nums])


def _requester_id(customer_id: str) -> int:
    # Stable across months: the Zendesk user id of a customer.
    return 372_000_000_000 + int(customer_id[1:]) * 37


def _draw_customers(rng: np.random.Generator, pool: np.ndarray, n: int) -> np.ndarray:
    # Skewed draw: a minority of customers contact often (repeat contacts).
    w = 1.0 / (np.arange(len(pool)) + 50.0) ** 0.6
    return rng.choice(pool, size=n, p=w / w.sum())


def _cap_sentence(s: str) -> str:
    return s[:1].upper() + s[1:]


# PII planted in free text (fictitious ranges: Ofcom drama numbers, 555, test card).
_PII_SENTENCES = [
    "You can reach me on 07700 900123.",
    "my email is jane.doe@example.com if you need it",
    "Please call me back on +44 20 7946 0958.",
    "My number is (555) 123-4567, I'm on holiday in the US.",
    "The card I used was 4111 1111 1111 1111 if that helps.",
    "Email me at r.patel84@example.co.uk",
    "mobile 07700 900456",
]
_MOJIBAKE = "Thanks, I donâ€™t have anything else to add."


# ---------------------------------------------------------------------------
# Qualtrics
# ---------------------------------------------------------------------------
QUALTRICS_COLUMNS = [
    ("StartDate", "Start Date", '{"ImportId":"startDate","timeZone":"Europe/London"}'),
    ("EndDate", "End Date", '{"ImportId":"endDate","timeZone":"Europe/London"}'),
    ("Status", "Response Type", '{"ImportId":"status"}'),
    ("IPAddress", "IP Address", '{"ImportId":"ipAddress"}'),
    ("Progress", "Progress", '{"ImportId":"progress"}'),
    ("Duration (in seconds)", "Duration (in seconds)", '{"ImportId":"duration"}'),
    ("Finished", "Finished", '{"ImportId":"finished"}'),
    ("RecordedDate", "Recorded Date", '{"ImportId":"recordedDate","timeZone":"Europe/London"}'),
    ("ResponseId", "Response ID", '{"ImportId":"_recordId"}'),
    ("RecipientLastName", "Recipient Last Name", '{"ImportId":"recipientLastName"}'),
    ("RecipientFirstName", "Recipient First Name", '{"ImportId":"recipientFirstName"}'),
    ("RecipientEmail", "Recipient Email", '{"ImportId":"recipientEmail"}'),
    ("ExternalReference", "External Data Reference", '{"ImportId":"externalDataReference"}'),
    ("LocationLatitude", "Location Latitude", '{"ImportId":"locationLatitude"}'),
    ("LocationLongitude", "Location Longitude", '{"ImportId":"locationLongitude"}'),
    ("DistributionChannel", "Distribution Channel", '{"ImportId":"distributionChannel"}'),
    ("UserLanguage", "User Language", '{"ImportId":"userLanguage"}'),
    ("Q1", "Overall, how satisfied were you with the service you received?", '{"ImportId":"QID1"}'),
    ("Q2", "How likely are you to recommend us to a friend or colleague?", '{"ImportId":"QID2"}'),
    ("Q3", "Tell us about your experience. What could we have done better?", '{"ImportId":"QID3_TEXT"}'),
    ("team", "team", '{"ImportId":"team"}'),
    ("channel", "channel", '{"ImportId":"channel"}'),
    ("ticket_id", "ticket_id", '{"ImportId":"ticket_id"}'),
    ("customer_id", "customer_id", '{"ImportId":"customer_id"}'),
    ("contact_reason", "contact_reason", '{"ImportId":"contact_reason"}'),
]
_REASONS = ["Billing", "Technical fault", "Order", "Account", "Cancellation"]
_REASON_TAG = {"Billing": "billing", "Technical fault": "technical_fault", "Order": "order",
               "Account": "account", "Cancellation": "cancellation"}
_TEAM_REASON_P = {
    "Customer Care London": [0.2, 0.2, 0.3, 0.2, 0.1],
    "Billing Team": [0.75, 0.02, 0.08, 0.1, 0.05],
    "Tech Support Leeds": [0.03, 0.85, 0.04, 0.06, 0.02],
    "Northwind Manila": [0.25, 0.3, 0.2, 0.15, 0.1],
    "Sunrise Cape Town": [0.15, 0.45, 0.2, 0.12, 0.08],
}
_CHANNELS_Q = ["Phone", "Email", "Chat", "Web"]
_B62 = np.array(list("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"))
_FIRST = ["Jane", "Mohammed", "Olivia", "David", "Grace", "Rob"]
_LAST = ["Smith", "Khan", "Jones", "Okafor", "Williams", "Brown"]
_DIRTY_TEAM = {
    "Customer Care London": "customer care london ",
    "Northwind Manila": " NORTHWIND MANILA",
    "Sunrise Cape Town": "Sunrise  Cape Town",
}


def _response_id(rng: np.random.Generator) -> str:
    return "R_" + "".join(rng.choice(_B62, 15))


def _fmt_local(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S")


@dataclass
class _MonthState:
    month: str
    rng: np.random.Generator
    pool: np.ndarray
    ticket_ids: np.ndarray = field(default_factory=lambda: np.array([], int))
    tickets_for_survey: list = field(default_factory=list)   # (ticket_id, customer, team, utc time, channel, reason)
    customers_seen: list = field(default_factory=list)
    seed: int = DEFAULT_SEED


def _survey_channels(st: _MonthState, teams: np.ndarray) -> np.ndarray:
    """Channel of each survey row by its team's service model (effect 6), from a stream of its own
    so that every other value the generator draws stays as it was before the effect was planted."""
    crng = np.random.default_rng([st.seed, _month_key(st.month), 6])
    out = np.empty(len(teams), dtype=object)
    for model, mix in SURVEY_CHANNEL_MIX.items():
        rows = np.flatnonzero([TEAMS[str(t)][0] == model for t in teams])
        out[rows] = crng.choice(np.array(list(mix)), size=len(rows), p=np.array(list(mix.values())))
    return out


def _csat_shift(team: str, channel: str) -> float:
    return CHANNEL_CSAT_SHIFT.get(channel, 0.0) + (OUTSOURCED_CSAT_SHIFT if TEAMS[team][0] == "outsourced" else 0.0)


def _qualtrics_rows(st: _MonthState, n: int = 800) -> tuple[list[list[str]], dict]:
    rng, month = st.rng, st.month
    teams = rng.choice(np.array(TEAM_NAMES), size=n, p=_TEAM_P)
    customers = _draw_customers(rng, st.pool, n)
    # About 30% of surveys follow a ticket that is in the Zendesk export.
    links = [None] * n
    if st.tickets_for_survey:
        for i in rng.choice(n, size=int(0.3 * n), replace=False):
            links[i] = st.tickets_for_survey[int(rng.integers(len(st.tickets_for_survey)))]
            teams[i] = links[i][2]
            customers[i] = links[i][1]
    unfinished = rng.random(n) < 0.03
    blank = (rng.random(n) < 0.08) | unfinished
    themes = _assign_themes(rng, np.where(blank, "", teams), month)
    starts = _local_times(rng, month, n)
    long_i = int(rng.choice([i for i in range(n) if themes[i] and not blank[i]]))
    planned_channels = _survey_channels(st, teams)
    email_rows = set(rng.choice(n, size=4, replace=False).tolist())
    truth: dict = {"themes": {}, "team": {}}
    rows = []
    free_ids = np.setdiff1d(np.arange(st.ticket_ids.min() - 5000, st.ticket_ids.max()), st.ticket_ids) \
        if len(st.ticket_ids) else np.arange(100000, 200000)
    for i in range(n):
        team = str(teams[i])
        if blank[i]:
            c = _Comment("" if unfinished[i] else _pick(rng, _BLANKS), blank=True)
        else:
            c = _compose(rng, themes[i], team, long=(i == long_i))
        link = links[i]
        csat, nps = _scores(rng, c, _csat_shift(team, link[4] if link is not None else planned_channels[i]))
        if link is not None:
            start = link[3].astimezone(LONDON).replace(tzinfo=None) + dt.timedelta(hours=float(rng.uniform(2, 60)))
            mstart, nd = _month_bounds(month)
            end_of_month = dt.datetime.combine(mstart + dt.timedelta(days=nd), dt.time()) - dt.timedelta(minutes=5)
            start = min(start, end_of_month).replace(microsecond=0)
            channel, reason, tid = link[4], link[5], link[0]
        else:
            start = starts[i]
            _ = _pick(rng, _CHANNELS_Q) if rng.random() < 0.6 else "Phone"  # the draw of old, kept for the stream
            channel = str(planned_channels[i])
            reason = _REASONS[int(rng.choice(5, p=_TEAM_REASON_P[team]))]
            tid = int(_pick(rng, free_ids))
        dur = int(rng.gamma(2.0, 60)) + 15 + len(c.text) // 3
        progress = 100
        q1, q2, q3 = str(csat), str(nps), c.text
        if unfinished[i]:
            progress = int(rng.choice([33, 50, 67]))
            q2 = "" if progress < 67 else q2
            q3 = ""
            dur = int(dur * rng.uniform(2, 40))  # abandoned, closed later
        end = start + dt.timedelta(seconds=dur)
        recorded = end + dt.timedelta(seconds=int(rng.integers(0, 2)))
        first = last = email = ""
        dist = "anonymous"
        if i in email_rows:
            first, last = _pick(rng, _FIRST), _pick(rng, _LAST)
            email = f"{first.lower()}.{last.lower()}{int(rng.integers(1, 99))}@example.com"
            dist = "email"
        rows.append([
            _fmt_local(start), _fmt_local(end), "IP Address",
            f"{int(rng.choice([81, 86, 90, 109, 151, 212]))}.{rng.integers(0, 256)}.{rng.integers(0, 256)}.{rng.integers(1, 255)}",
            str(progress), str(dur), "False" if unfinished[i] else "True", _fmt_local(recorded),
            _response_id(rng), last, first, email, "",
            f"{rng.uniform(50.2, 55.8):.4f}", f"{rng.uniform(-4.5, 1.3):.4f}", dist, "EN",
            q1, q2, q3, team, channel, str(tid), str(customers[i]), reason,
        ])
        truth["themes"][rows[-1][8]] = c.themes
    return rows, truth


def _qualtrics_month(st: _MonthState) -> tuple[bytes, dict]:
    rng = st.rng
    rows, truth = _qualtrics_rows(st)
    dirty: dict[str, object] = {}
    real = [r for r in rows if r[19] and r[19].lower() not in {"n/a", "-", "none", "nothing", "."}]
    neutral = [r for r in real if not truth["themes"][r[8]]]
    # PII in comments (appended to comments without themes, so theme rates are untouched).
    pii_targets = rng.choice(len(neutral), size=len(_PII_SENTENCES) + 1, replace=False)
    for k, s in zip(pii_targets[:-1], _PII_SENTENCES):
        neutral[k][19] = f"{neutral[k][19]} {s}"
    neutral[pii_targets[-1]][19] = f"{neutral[pii_targets[-1]][19]} {_MOJIBAKE}"
    dirty["pii_in_comments"] = len(_PII_SENTENCES)
    dirty["mojibake_comments"] = 1
    dirty["recipient_email_filled"] = sum(1 for r in rows if r[11])
    # Out-of-range rating.
    k_oor = 1 + int(rng.integers(2))
    for k in rng.choice(len(rows), size=k_oor, replace=False):
        rows[k][17] = "7"
    dirty["q1_out_of_range"] = k_oor
    # Team name with odd case / whitespace.
    k_team = 0
    for team, bad in _DIRTY_TEAM.items():
        cand = [r for r in rows if r[20] == team]
        for r in (cand[j] for j in rng.choice(len(cand), size=2, replace=False)):
            r[20] = bad
            k_team += 1
    dirty["team_name_variants"] = k_team
    # Unparseable dates.
    k_bad = 1 + int(rng.integers(2))
    for j, k in enumerate(rng.choice(len(rows), size=k_bad, replace=False)):
        if j == 0:
            rows[k][0] = "not a date"
        else:
            rows[k][7] = rows[k][7][8:10] + "/" + rows[k][7][5:7] + rows[k][7][:4] + " ??"
    dirty["unparseable_dates"] = k_bad
    rows.sort(key=lambda r: r[7])
    # Survey previews and spam.
    start, _ = _month_bounds(st.month)
    extra = []
    n_prev = 4 + int(rng.integers(3))
    for _ in range(n_prev):
        t = dt.datetime.combine(start, dt.time(9, 0)) + dt.timedelta(days=int(rng.integers(0, 3)), minutes=int(rng.integers(0, 600)))
        extra.append([_fmt_local(t), _fmt_local(t + dt.timedelta(seconds=31)), "Survey Preview", "", "100", "31", "True",
                      _fmt_local(t + dt.timedelta(seconds=31)), _response_id(rng), "", "", "", "", "", "", "preview", "EN",
                      str(int(rng.integers(1, 6))), str(int(rng.integers(0, 11))), _pick(rng, ["test", "testing 123", "asdf", "TEST - please ignore", ""]),
                      _pick(rng, TEAM_NAMES), "Web", "", "", "Billing"])
    n_spam = 1 + int(rng.integers(2))
    for _ in range(n_spam):
        t = _local_times(rng, st.month, 1)[0]
        extra.append([_fmt_local(t), _fmt_local(t + dt.timedelta(seconds=3)), "Spam", "185.220.101.4", "100", "3", "True",
                      _fmt_local(t + dt.timedelta(seconds=3)), _response_id(rng), "", "", "", "", "", "", "anonymous", "EN",
                      "5", "10", "Great deals on followers visit http://cheap-followers.example.biz now!!!",
                      "", "", "", "", ""])
    rows = sorted(rows + extra, key=lambda r: r[7])
    dirty["survey_preview"] = n_prev
    dirty["spam"] = n_spam
    # Exact duplicates (an export merged twice).
    k_dup = 2 + int(rng.integers(3))
    for k in sorted(rng.choice(len(rows), size=k_dup, replace=False), reverse=True):
        rows.insert(k + 1, list(rows[k]))
    dirty["exact_duplicates"] = k_dup
    dirty["blank_or_placeholder_comments"] = sum(1 for r in rows if r[2] == "IP Address" and r[19].strip().lower() in {"", "n/a", "-", "none", "nothing", "."})
    dirty["unfinished"] = sum(1 for r in rows if r[6] == "False")
    dirty["rows"] = len(rows)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    for h in range(3):
        w.writerow([c[h] for c in QUALTRICS_COLUMNS])
    w.writerows(rows)
    return buf.getvalue().encode("utf-8-sig"), {"dirty": dirty, "truth": truth}


# ---------------------------------------------------------------------------
# Zendesk
# ---------------------------------------------------------------------------
ZENDESK_BASE = "https://acmehome.zendesk.com/api/v2"
GROUP_IDS = {name: 360000101 + i for i, name in enumerate(TEAM_NAMES)}
FIELD_FIRST_RESPONSE, FIELD_RESOLUTION, FIELD_SOLVED, FIELD_REOPENED, FIELD_CATEGORY = (
    360001001, 360001002, 360001003, 360001004, 360001005)
_DESCRIPTIONS = {
    "billing": ["Hi, I have a question about my latest bill.", "Can you tell me when my direct debit comes out?",
                "I'd like to change my payment date please.", "Please can you send me a copy of my last statement.",
                "I think my discount has ended, can you check?"],
    "technical_fault": ["My {device} keeps dropping out every evening.",
                        "The {device} has stopped working completely, lights are flashing orange.",
                        "Internet is really slow since {weekday}.", "No dial tone on the landline.",
                        "The {device} won't connect after the update."],
    "order": ["Where is my order? It was due on {weekday}.", "I received the wrong size, can I swap it?",
              "My parcel arrived damaged.", "Can I change the delivery address on my order?"],
    "account": ["I can't log in to my account.", "Please update my address, we've moved.",
                "How do I add my partner to the account?", "I need to change the email on my account."],
    "cancellation": ["I want to end my contract, what's the notice period?", "Please close my account.",
                     "How much is it to leave before the end of my contract?"],
}
_SUBJECTS = {"billing": ["Question about my bill", "Bill query", "Payment"], "technical_fault": ["Broadband not working", "Fault", "Connection problems", "help!!"],
             "order": ["Order query", "Where is my order", "Wrong item"], "account": ["Account help", "Login problem", "Change of address"],
             "cancellation": ["Cancellation", "Leaving", "Contract end"]}
_VIA = ["email", "web", "chat", "voice", "api", "twitter"]
_VIA_P = [0.38, 0.25, 0.2, 0.12, 0.03, 0.02]
_BAD_REASONS = [(1, "The issue took too long to resolve"), (2, "The issue was not resolved"),
                (3, "The agent's knowledge is unsatisfactory"), (4, "The agent's attitude was unsatisfactory"),
                (100, "Some other reason")]


def _iso(t: dt.datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _provider(team: str, table: dict) -> float:
    return table.get(team, table["_in_house"])


def _zendesk_month(st: _MonthState, n: int = 550) -> tuple[bytes, dict]:
    rng, month = st.rng, st.month
    mk = _month_key(month)
    base = 480_000 + (mk - _month_key("2026-07")) * 4_000
    ids = np.sort(rng.choice(np.arange(base, base + 3_000), size=n, replace=False))
    st.ticket_ids = ids
    teams = rng.choice(np.array(TEAM_NAMES), size=n, p=_TEAM_P)
    customers = _draw_customers(rng, st.pool, n)
    local = sorted(_local_times(rng, month, n))
    # Repeat contacts: ~6% come back within 7 days, ~4% within 8-30 days (same month where possible).
    for i in range(n):
        r = rng.random()
        if r < 0.10 and i > 0:
            gap = rng.uniform(0.5, 7) if r < 0.06 else rng.uniform(8, 30)
            earlier = [j for j in range(i) if dt.timedelta(days=gap - 1) <= local[i] - local[j] <= dt.timedelta(days=gap + 1)]
            if earlier:
                customers[i] = customers[earlier[0]]
    # One ticket created just after local midnight on the 1st: the previous day in UTC.
    mstart, _ = _month_bounds(month)
    local[0] = dt.datetime.combine(mstart, dt.time(0, 20, 5))
    created = [_to_utc(t) for t in local]
    reasons = np.array([_REASON_TAG[_REASONS[int(rng.choice(5, p=_TEAM_REASON_P[str(t)]))]] for t in teams])
    status = rng.choice(np.array(["solved", "closed", "pending", "open", "new"]), size=n, p=[0.47, 0.28, 0.08, 0.12, 0.05])
    solved = np.isin(status, ["solved", "closed"])
    # Planted: among provider-solved tickets, bad rating with a not-fixed comment, and reopened.
    nf_bad = np.zeros(n, bool)
    reopened = np.zeros(n, bool)
    other_bad = np.zeros(n, bool)
    for team in TEAM_NAMES:
        idx = np.flatnonzero(solved & (teams == team))
        k = int(round(_provider(team, ZENDESK_NOT_FIXED_BAD) * len(idx)))
        nf = rng.choice(idx, size=k, replace=False)
        nf_bad[nf] = True
        kr = int(round(_provider(team, ZENDESK_REOPENED) * len(idx)))
        from_nf = min(int(round(0.6 * kr)), k)
        rest = np.setdiff1d(idx, nf)
        reopened[np.concatenate([rng.choice(nf, size=from_nf, replace=False),
                                 rng.choice(rest, size=kr - from_nf, replace=False)])] = True
        rest = np.setdiff1d(idx, nf)
        other_bad[rng.choice(rest, size=int(round(0.07 * len(idx))), replace=False)] = True
    surprise_p = ZENDESK_SURPRISE.get(month, ZENDESK_SURPRISE["default"])
    surprise = np.zeros(n, bool)
    surprise[rng.choice(n, size=int(round(surprise_p * n)), replace=False)] = True
    chaser = rng.random(n) < 0.05
    pii_rows = set(rng.choice(n, size=3, replace=False).tolist())
    tickets: list[dict] = []
    truth: dict[str, dict] = {"nf_bad": {}, "reopened": {}, "solved": {}, "surprise": {}}
    agents = {t: [381_000_000_000 + GROUP_IDS[t] % 1000 * 100 + j for j in range(len(AGENTS[t]))] for t in TEAM_NAMES}
    for i in range(n):
        team, tid, cat = str(teams[i]), int(ids[i]), str(reasons[i])
        if surprise[i]:
            desc = _cap_sentence(_sentence(rng, "surprise_charges", False, team))
            desc = f"Hi, {desc[:1].lower() + desc[1:]} Can someone explain?" if rng.random() < 0.5 else desc
            cat = "billing" if rng.random() < 0.8 else cat
        else:
            desc = _fill(rng, _pick(rng, _DESCRIPTIONS[cat]), team)
        if chaser[i]:
            desc = f"I've been waiting {_pick(rng, _SLOTS['days'])} for a reply to my last email. {desc}"
        if i in pii_rows:
            desc = f"{desc} {_pick(rng, _PII_SENTENCES)}"
        frh = None if rng.random() < 0.06 else round(float(rng.gamma(2.0, 4.5 if team == "Northwind Manila" else 2.0)), 1)
        res = None
        if solved[i]:
            scale = 8 if team == "Sunrise Cape Town" else 14  # Sunrise closes fast
            res = round(float((frh or 1.0) + rng.gamma(2.0, scale)), 1)
        sat = None
        if solved[i]:
            sid = 394_000_000_000 + tid
            if nf_bad[i]:
                comment = _compose(rng, ["not_fixed"], team).text
                sat = {"id": sid, "score": "bad", "comment": comment, "reason": "The issue was not resolved", "reason_id": 2}
            elif other_bad[i]:
                th = _pick(rng, ["responsiveness", "courtesy", "knowledge", "listening", "surprise_charges"])
                rid, rtext = _pick(rng, _BAD_REASONS[:1] + _BAD_REASONS[2:])
                sat = {"id": sid, "score": "bad", "comment": _compose(rng, [th], team).text if rng.random() < 0.8 else "",
                       "reason": rtext, "reason_id": rid}
            else:
                r = rng.random()
                if r < 0.5:
                    c = _compose(rng, ["praise"], team).text if rng.random() < 0.4 else (_pick(rng, _GENERIC) if rng.random() < 0.5 else "")
                    sat = {"id": sid, "score": "good", "comment": c, "reason": None, "reason_id": None}
                elif r < 0.65:
                    sat = {"id": sid, "score": "offered", "comment": "", "reason": None, "reason_id": None}
                elif r < 0.8:
                    sat = {"id": sid, "score": "unoffered", "comment": "", "reason": None, "reason_id": None}
        elapsed = (res if res is not None else (frh or 2.0)) + float(rng.uniform(0, 48))
        updated = created[i] + dt.timedelta(hours=elapsed)
        via = str(rng.choice(_VIA, p=_VIA_P))
        cf: list[dict] = [
            {"id": FIELD_FIRST_RESPONSE, "value": None if frh is None else f"{frh}"},
            {"id": FIELD_RESOLUTION, "value": None if res is None else f"{res}"},
            {"id": FIELD_SOLVED, "value": bool(solved[i])},
            {"id": FIELD_REOPENED, "value": bool(reopened[i])},
            {"id": FIELD_CATEGORY, "value": cat},
        ]
        tags = sorted({cat, via, team.lower().replace(" ", "_")} | ({"reopened"} if reopened[i] else set()))
        subject = _pick(rng, _SUBJECTS[cat])
        req = _requester_id(str(customers[i]))
        tickets.append({
            "url": f"{ZENDESK_BASE}/tickets/{tid}.json", "id": tid, "external_id": None,
            "via": {"channel": via, "source": {"from": {}, "to": {}, "rel": None}},
            "created_at": _iso(created[i]), "updated_at": _iso(updated),
            "type": _pick(rng, ["question", "incident", "problem", "task", None]),
            "subject": subject, "raw_subject": subject, "description": desc,
            "priority": _pick(rng, ["low", "normal", "normal", "high", "urgent", None]),
            "status": str(status[i]), "recipient": None,
            "requester_id": req, "submitter_id": req, "assignee_id": _pick(rng, agents[team]),
            "organization_id": None, "group_id": GROUP_IDS[team],
            "collaborator_ids": [], "follower_ids": [], "email_cc_ids": [], "forum_topic_id": None,
            "problem_id": None, "has_incidents": False, "is_public": True, "due_at": None,
            "tags": tags, "custom_fields": cf, "satisfaction_rating": sat, "sharing_agreement_ids": [],
            "custom_status_id": 360009000 + ["new", "open", "pending", "solved", "closed"].index(str(status[i])),
            "fields": [dict(f) for f in cf], "followup_ids": [], "ticket_form_id": 360000555001,
            "brand_id": 360000444001, "allow_channelback": False, "allow_attachments": True,
            "from_messaging_channel": via == "chat", "generated_timestamp": int(updated.timestamp()),
        })
        truth["nf_bad"][tid] = bool(nf_bad[i])
        truth["reopened"][tid] = bool(reopened[i])
        truth["solved"][tid] = bool(solved[i])
        truth["surprise"][tid] = bool(surprise[i])
        if via in ("email", "web", "chat") and rng.random() < 0.7:
            st.tickets_for_survey.append((tid, str(customers[i]), team, created[i],
                                          {"email": "Email", "web": "Web", "chat": "Chat"}[via],
                                          {v: k for k, v in _REASON_TAG.items()}[cat]))
    tickets.sort(key=lambda t: (t["generated_timestamp"], t["id"]))
    # Dirty: one exact duplicate, and one ticket exported twice (second copy updated later).
    exact = dict(tickets[int(rng.integers(n))])
    tickets.insert(int(rng.integers(n)), json.loads(json.dumps(exact)))
    cand = [t for t in tickets if t["status"] == "solved"]
    upd = json.loads(json.dumps(cand[int(rng.integers(len(cand)))]))
    later = dt.datetime.strptime(upd["updated_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC) + dt.timedelta(days=4)
    upd["status"], upd["updated_at"], upd["generated_timestamp"] = "closed", _iso(later), int(later.timestamp())
    upd["custom_status_id"] = 360009004
    tickets.append(upd)
    end_time = max(t["generated_timestamp"] for t in tickets)
    groups = [{"url": f"{ZENDESK_BASE}/groups/{gid}.json", "id": gid, "is_public": True, "name": name,
               "description": "", "default": False, "deleted": False,
               "created_at": "2019-03-04T10:00:00Z", "updated_at": "2024-01-15T09:30:00Z"}
              for name, gid in GROUP_IDS.items()]
    page = {"tickets": tickets, "groups": groups, "count": len(tickets), "end_of_stream": True,
            "next_page": None, "end_time": end_time}
    dirty = {"duplicate_ids": 2, "exact_duplicate": exact["id"], "updated_duplicate": upd["id"],
             "pii_in_descriptions": len(pii_rows), "utc_previous_day": tickets and _iso(created[0]),
             "first_response_null": sum(1 for t in tickets if t["custom_fields"][0]["value"] is None),
             "tickets": len(tickets)}
    text = json.dumps(page, ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8"), {"dirty": dirty, "truth": truth}


# ---------------------------------------------------------------------------
# Complaints register (Excel)
# ---------------------------------------------------------------------------
COMPLAINT_COLUMNS = ["Reference", "Date received", "Category", "Description", "Handled by",
                     "Outcome", "Channel", "Customer ID"]
_COMPLAINT_CATEGORY = {
    "responsiveness": "Delays / no response", "surprise_charges": "Charges and fees",
    "listening": "Communication", "not_fixed": "Unresolved fault", "courtesy": "Staff conduct",
    "knowledge": "Poor advice", "honest_guidance": "Mis-selling", "protection": "Order error",
    "follow_up": "Communication",
}
_COMPLAINT_PREFIX = ["Customer states: ", "Cust says ", "", "", "Complaint received: ", "Customer unhappy - "]


def complaint_theme_weights(team: str, month: str) -> dict[str, float]:
    """Planted primary-theme probabilities of a complaint."""
    w = dict(_COMPLAINT_WEIGHTS)
    if team == "Northwind Manila":
        w["responsiveness"] *= 2
    if team == "Sunrise Cape Town":
        w["not_fixed"] *= 1.6
    total_other = sum(v for k, v in w.items() if k != "surprise_charges")
    s = COMPLAINT_SURPRISE_LATEST if month == LATEST_MONTH else _COMPLAINT_WEIGHTS["surprise_charges"]
    return {k: (s if k == "surprise_charges" else v / total_other * (1 - s)) for k, v in w.items()}


def _complaint_rows(st: _MonthState, n: int = 150) -> tuple[list[list], dict]:
    rng, month = st.rng, st.month
    teams = rng.choice(np.array(TEAM_NAMES), size=n, p=_TEAM_P)
    customers = _draw_customers(rng, st.pool, n)
    if st.customers_seen:
        for i in rng.choice(n, size=int(0.25 * n), replace=False):
            customers[i] = _pick(rng, st.customers_seen)
    dates = sorted(t.date() for t in _local_times(rng, month, n))
    y, m = month.split("-")
    rows, truth = [], {}
    for i in range(n):
        team = str(teams[i])
        w = complaint_theme_weights(team, month)
        keys = list(w)
        primary = keys[int(rng.choice(len(keys), p=np.array(list(w.values())) / sum(w.values())))]
        themes = [primary]
        if rng.random() < 0.3:
            second = _pick(rng, ["churn_risk", "follow_up", "listening", "courtesy"])
            if second != primary:
                themes.append(second)
        c = _compose(rng, themes, team, decoys=False)
        # complaints carry only negative mentions
        while c.n_pos:
            c = _compose(rng, themes, team, decoys=False)
        desc = _pick(rng, _COMPLAINT_PREFIX) + c.text
        r = rng.random()
        handled = team if r < 0.8 else (_pick(rng, TEAM_ALIASES[team]) if r < 0.9 else _pick(rng, [team.upper(), team.lower(), team + " ", " " + team + "  "]))
        ref = f"CMP-{y}-{m}-{i + 1:04d}"
        outcome = _pick(rng, ["Upheld", "Upheld", "Partially upheld", "Not upheld", "Open"])
        if dates[i].day > 24 and rng.random() < 0.6:
            outcome = "Open"
        rows.append([ref, dates[i].strftime("%d/%m/%Y"), _COMPLAINT_CATEGORY[primary], desc, handled, outcome,
                     _pick(rng, ["Phone", "Email", "Email", "Letter", "Web form"]), str(customers[i])])
        truth[ref] = tuple(themes)
    bad = rng.choice(n, size=2, replace=False)
    rows[bad[0]][1] = f"31/13/{y}"
    rows[bad[1]][1] = "TBC"
    blank = int(rng.integers(n))
    while blank in bad:
        blank = int(rng.integers(n))
    rows[blank][3] = ""
    truth[rows[blank][0]] = ()
    dirty = {"unparseable_dates": 2, "blank_description": 1,
             "handled_by_not_canonical": sum(1 for r in rows if r[4] not in TEAMS), "rows": n}
    return rows, {"dirty": dirty, "truth": truth}


def _xlsx_bytes(rows: list[list]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "Complaints"
    ws.append(COMPLAINT_COLUMNS)
    for c in ws[1]:
        c.font = Font(bold=True)
    for r in rows:
        ws.append(r)
    for col, width in zip("ABCDEFGH", [18, 14, 20, 80, 24, 16, 10, 12]):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = "A2"
    fixed = dt.datetime(2026, 1, 1)
    wb.properties.creator = "Complaints Team"
    wb.properties.created = fixed
    wb.properties.modified = fixed
    buf = io.BytesIO()
    wb.save(buf)
    # openpyxl stamps zip entries with the current time: rewrite them with a fixed
    # one so the workbook bytes, not only its cells, are reproducible.
    src, out = zipfile.ZipFile(buf), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed_info = zipfile.ZipInfo(info.filename, date_time=(2026, 1, 1, 0, 0, 0))
            fixed_info.compress_type = zipfile.ZIP_DEFLATED
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl sets "modified" to now on save
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2026-01-01T00:00:00Z", data)
            dst.writestr(fixed_info, data)
    return out.getvalue()


# ---------------------------------------------------------------------------
# Public entry points
# ---------------------------------------------------------------------------
def _file_names(month: str) -> tuple[str, str, str]:
    return (f"qualtrics_post_contact_survey_{month}.csv", f"zendesk_tickets_{month}.json",
            f"complaints_register_{month}.xlsx")


def _generate(month: str, seed: int) -> tuple[dict[str, bytes], dict]:
    _month_bounds(month)  # validates
    st = _MonthState(month, np.random.default_rng([seed, _month_key(month)]), _customer_pool(seed), seed=seed)
    zd, zmeta = _zendesk_month(st)
    q, qmeta = _qualtrics_month(st)
    reader = csv.reader(io.StringIO(q.decode("utf-8-sig")))
    st.customers_seen = [r[23] for r in list(reader)[3:] if len(r) > 23 and r[23]]
    rows, cmeta = _complaint_rows(st)
    qname, zname, cname = _file_names(month)
    files = {qname: q, zname: zd, cname: _xlsx_bytes(rows)}
    return files, {"qualtrics": qmeta, "zendesk": zmeta, "complaints": cmeta}


def generate_month(month: str, *, seed: int = DEFAULT_SEED) -> dict[str, bytes]:
    """The three raw exports of one month, as ``{file name: bytes}``.

    Parameters
    ----------
    month : str
        ``"YYYY-MM"``.
    seed : int
        Same seed and month give the same CSV and JSON bytes and the same XLSX cells.
    """
    return _generate(month, seed)[0]


def write_sample(out_dir: str | Path, months: Sequence[str] = DEFAULT_MONTHS, seed: int = DEFAULT_SEED) -> list[Path]:
    """Write the sample exports of ``months`` into ``out_dir``; return the paths written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for month in months:
        for name, data in generate_month(month, seed=seed).items():
            path = out / name
            path.write_bytes(data)
            written.append(path)
    return written


def write_qualtrics_csv(path: str | Path, n_rows: int, *, seed: int = DEFAULT_SEED, month: str = "2026-07") -> Path:
    """Write a large Qualtrics-layout CSV quickly (vectorised), for benchmarks.

    Comments are drawn from a pool of 4,000 generated comments; dates, ids and
    scores are vectorised.  One million rows take a few seconds.
    """
    rng = np.random.default_rng([seed, _month_key(month), 99])
    pool = generate_comments(4000, seed=seed, month=month)
    pick = rng.integers(0, len(pool), n_rows)
    start, ndays = _month_bounds(month)
    t0 = np.datetime64(start.isoformat() + "T00:00:00", "s")
    starts = t0 + (rng.integers(0, ndays, n_rows) * 86400 + rng.choice(24, n_rows, p=_HOUR_P) * 3600
                   + rng.integers(0, 3600, n_rows)).astype("timedelta64[s]")
    dur = rng.integers(20, 900, n_rows)
    ends = starts + dur.astype("timedelta64[s]")

    def fmt(a: np.ndarray) -> np.ndarray:
        return np.char.replace(np.datetime_as_string(a, unit="s"), "T", " ")

    chars = _B62[rng.integers(0, 62, (n_rows, 15))]
    rid = np.char.add("R_", chars.view("<U15").ravel()) if chars.flags.c_contiguous else None
    teams = np.array(TEAM_NAMES)[rng.choice(len(TEAM_NAMES), n_rows, p=_TEAM_P)]
    df = pd.DataFrame({
        "StartDate": fmt(starts), "EndDate": fmt(ends), "Status": "IP Address",
        "IPAddress": pd.Series(rng.integers(1, 255, n_rows)).astype(str).radd("81.2.").to_numpy(),
        "Progress": 100, "Duration (in seconds)": dur, "Finished": "True", "RecordedDate": fmt(ends),
        "ResponseId": rid, "RecipientLastName": "", "RecipientFirstName": "", "RecipientEmail": "",
        "ExternalReference": "", "LocationLatitude": "", "LocationLongitude": "",
        "DistributionChannel": "anonymous", "UserLanguage": "EN",
        "Q1": pool["csat"].to_numpy()[pick], "Q2": pool["nps"].to_numpy()[pick],
        "Q3": pool["text"].to_numpy()[pick], "team": teams,
        "channel": np.array(_CHANNELS_Q)[rng.integers(0, 4, n_rows)],
        "ticket_id": rng.integers(100_000, 999_999, n_rows),
        "customer_id": _customer_pool(seed)[rng.integers(0, 6000, n_rows)],
        "contact_reason": np.array(_REASONS)[rng.integers(0, 5, n_rows)],
    })
    path = Path(path)
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh, lineterminator="\r\n")
        for h in range(3):
            w.writerow([c[h] for c in QUALTRICS_COLUMNS])
        df.to_csv(fh, header=False, index=False, lineterminator="\r\n")
    return path


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: write the sample exports."""
    p = argparse.ArgumentParser(
        prog="python -m feedbacklib.sample",
        description="Write deterministic sample exports (Qualtrics CSV, Zendesk JSON, complaints XLSX) "
                    "with planted effects and dirty rows, one file per platform per month.")
    p.add_argument("--out", default="data/sample", help="output folder (default: %(default)s)")
    p.add_argument("--months", nargs="+", default=list(DEFAULT_MONTHS), metavar="YYYY-MM",
                   help="months to generate (default: %(default)s)")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (default: %(default)s)")
    p.add_argument("--qualtrics-rows", type=int, metavar="N",
                   help="instead, write one large Qualtrics CSV of N rows (benchmarks) to --out/FILE")
    args = p.parse_args(argv)
    if args.qualtrics_rows:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        path = write_qualtrics_csv(out / f"qualtrics_bench_{args.qualtrics_rows}.csv", args.qualtrics_rows, seed=args.seed)
        print(f"wrote {path} ({path.stat().st_size:,} bytes)")
        return 0
    for path in write_sample(args.out, args.months, args.seed):
        print(f"wrote {path} ({path.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
