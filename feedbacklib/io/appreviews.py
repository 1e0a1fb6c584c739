"""App-store review exports: Google Play Console's monthly reviews report, and Appbot's review export.

Google Play Console (``reviews_<package>_<YYYYMM>.csv`` from the console's Cloud
Storage bucket) is UTF-16 with a BOM: ``Package Name, App Version Code, App
Version Name, Reviewer Language, Device, Review Submit Date and Time, Review
Submit Millis Since Epoch, Review Last Update Date and Time, Review Last Update
Millis Since Epoch, Star Rating, Review Title, Review Text, Developer Reply Date
and Time, Developer Reply Millis Since Epoch, Developer Reply Text, Review
Link``. Times are UTC (``2026-10-05T10:00:00Z``). A review edited later comes
back in a later month's file with the same link: the newest copy is kept.

Appbot (CSV or XLSX): one review per row with its date, star rating, title,
body, store, app, version and country (column names matched case-insensitively
from the common spellings below; map others in ``[platforms.appbot.columns]``).
The layout here is taken from Appbot's help pages, not from a real export.

Both: the star rating (1-5) is the CSAT, title and text are joined as the
comment, and the source is ``review``.
"""

from __future__ import annotations

import pandas as pd

from .. import schema as S
from ..settings import PlatformSettings
from ._common import STRING, VERSION
from ._mapped import Spec, mapped_platform, spec_score

__all__ = ["detect_appbot", "GOOGLE_PLAY", "APPBOT", "GOOGLE_PLAY_PLATFORM", "APPBOT_PLATFORM"]

GOOGLE_PLAY_HEADER = (
    "Package Name", "App Version Code", "App Version Name", "Reviewer Language", "Device",
    "Review Submit Date and Time", "Review Submit Millis Since Epoch", "Review Last Update Date and Time",
    "Review Last Update Millis Since Epoch", "Star Rating", "Review Title", "Review Text",
    "Developer Reply Date and Time", "Developer Reply Millis Since Epoch", "Developer Reply Text", "Review Link")


def _play_finish(raw: pd.DataFrame, frame: pd.DataFrame, settings: PlatformSettings) -> pd.DataFrame:
    """The review id from its link (``...&reviewId=<id>``); the link itself when it has none."""
    link = frame[S.RESPONSE_ID]
    review_id = link.str.extract(r"reviewId=([^&#\s]+)", expand=False)
    frame = frame.copy()
    frame[S.RESPONSE_ID] = ("gp-" + review_id.fillna(link)).astype(STRING)
    return frame


GOOGLE_PLAY = Spec(
    name="google_play",
    columns={S.RESPONSE_ID: ("Review Link",), S.RECEIVED_AT: ("Review Submit Date and Time",),
             S.CSAT: ("Star Rating",), "_title": ("Review Title",), S.TEXT: ("Review Text",),
             VERSION: ("Review Last Update Millis Since Epoch", "Review Last Update Date and Time")},
    signature=GOOGLE_PLAY_HEADER, min_hits=6, required=("Star Rating", "Review Text"), source="review",
    timezone="UTC", finish=_play_finish,
)

APPBOT = Spec(
    name="appbot",
    columns={S.RESPONSE_ID: ("id", "Review ID", "review_id"),
             S.RECEIVED_AT: ("published_at", "Date", "Published At", "Review Date"),
             S.CSAT: ("rating", "Rating", "Stars"), "_title": ("subject", "Subject", "Title"),
             S.TEXT: ("body", "Body", "Review", "Text"), S.CATEGORY: ("topics", "Topics"),
             S.CHANNEL: ("store", "Store")},
    signature=("published_at", "rating", "subject", "body", "translated_subject", "translated_body", "store",
               "app_name", "version", "country", "language", "author", "sentiment", "topics", "reply_text",
               "App Name", "Translated Body", "Sentiment", "Author", "Store", "Version", "Country"),
    min_hits=5, required=(), source="review", id_prefix="ab-", dayfirst=False,
)


def detect_appbot(rows: list[list[str]]) -> float:
    """Appbot's columns are common words: a rating and a review text column must be there too."""
    if not rows:
        return 0.0
    names = {str(h).strip().casefold() for h in rows[0]}
    if not names & {"rating", "stars"} or not names & {"body", "review", "text"}:
        return 0.0
    return spec_score(rows, APPBOT)


GOOGLE_PLAY_PLATFORM = mapped_platform(
    GOOGLE_PLAY, how="Package Name, ..., Review Submit Date and Time, Star Rating, Review Title, Review Text, ...")
APPBOT_PLATFORM = mapped_platform(
    APPBOT, how="published_at, rating, subject, body, store, app_name, version, country, ...",
    detect=detect_appbot, signature=APPBOT.signature[:15])
