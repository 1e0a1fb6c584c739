"""The platforms this package reads, in detection order (a tie goes to the first).

The one list of :class:`~feedbacklib.io.platform.Platform` records. Reading
(:data:`feedbacklib.io.READERS`), detection (:data:`feedbacklib.io.detect.PLATFORMS`,
``SIGNATURES``, the scores), the platform names and keys ``feedback.toml`` accepts and the
command line's ``--platform`` help all derive from it. A new platform is one module with its
record, plus one line here (docs/platforms.md).
"""

from __future__ import annotations

from . import alchemer, appreviews, cfpb, complaints, delighted, forms, freshdesk, generic, qualtrics
from . import surveymonkey, typeform, zendesk
from .platform import Platform, Registry

__all__ = ["REGISTRY", "Platform", "Registry"]

REGISTRY = Registry([
    qualtrics.PLATFORM,
    surveymonkey.PLATFORM,
    cfpb.PLATFORM,
    zendesk.PLATFORM,
    freshdesk.PLATFORM,
    forms.MICROSOFT,
    forms.GOOGLE,
    typeform.PLATFORM,
    alchemer.PLATFORM,
    delighted.PLATFORM,
    appreviews.GOOGLE_PLAY_PLATFORM,
    appreviews.APPBOT_PLATFORM,
    complaints.PLATFORM,
    generic.PLATFORM,   # last: any file with a text column
])
