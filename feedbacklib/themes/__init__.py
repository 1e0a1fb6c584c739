"""Themes: the taxonomy (TOML), the tagger that applies it, and discovery of new themes."""

from feedbacklib.themes.taxonomy import Taxonomy, Theme, load_taxonomy
from feedbacklib.themes.tagger import THEME_EVIDENCE, ThemeTagger, tag_themes
from feedbacklib.themes.discovery import (
    Candidate,
    ThemeDiscovery,
    candidate_growth,
    promote_candidate,
    uncovered_texts,
)

__all__ = [
    "Taxonomy",
    "Theme",
    "load_taxonomy",
    "ThemeTagger",
    "tag_themes",
    "THEME_EVIDENCE",
    "Candidate",
    "ThemeDiscovery",
    "candidate_growth",
    "promote_candidate",
    "uncovered_texts",
]
