"""Themes: the taxonomy (TOML) and the tagger that applies it to feedback texts."""

from feedbacklib.themes.taxonomy import Taxonomy, Theme, load_taxonomy
from feedbacklib.themes.tagger import THEME_EVIDENCE, ThemeTagger, tag_themes

__all__ = ["Taxonomy", "Theme", "load_taxonomy", "ThemeTagger", "tag_themes", "THEME_EVIDENCE"]
