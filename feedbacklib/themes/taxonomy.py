"""The theme taxonomy: which themes exist, their seed phrases and exclusions (TOML).

The default taxonomy ships as ``feedbacklib/data/themes.toml``; analysts can
point ``taxonomy`` in ``feedback.toml`` at their own copy. The file format is
documented at the top of the default file.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from feedbacklib.errors import ConfigError

__all__ = ["Theme", "Taxonomy", "load_taxonomy", "toml_string", "POLARITIES", "DEFAULT_TAXONOMY"]

POLARITIES = ("negative", "positive")
#: Resource name of the built-in taxonomy inside the package.
DEFAULT_TAXONOMY = "data/themes.toml"

_THEME_KEYS = {"id", "label", "description", "polarity", "seeds", "exclusions"}
_TOP_KEYS = {"version", "theme", "labels"}


@dataclass(frozen=True)
class Theme:
    """One theme of the taxonomy.

    Attributes
    ----------
    id : stable identifier, used in column names (``theme_<id>``)
    label : human label for the report
    description : one sentence saying what counts
    polarity : "negative" (a pain point) or "positive" (a strength); the
        default reading of a mention, see the taxonomy file header
    seeds : phrases that signal the theme (matched on stems)
    exclusions : phrases that veto the theme in the clause where they occur
    """

    id: str
    label: str
    description: str
    polarity: str
    seeds: tuple[str, ...]
    exclusions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Taxonomy:
    """An ordered, immutable collection of :class:`Theme`."""

    themes: tuple[Theme, ...]
    source: str = "<in memory>"
    #: the analyst's labels file (CSV: id, text, one 0/1 column per theme id) the tagger learns
    #: from on top of the seeds and the shipped examples; a path, resolved against the TOML's folder
    labels: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "themes", tuple(self.themes))

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(t.id for t in self.themes)

    def __iter__(self) -> Iterator[Theme]:
        return iter(self.themes)

    def __len__(self) -> int:
        return len(self.themes)

    def __getitem__(self, theme_id: str) -> Theme:
        for t in self.themes:
            if t.id == theme_id:
                return t
        raise KeyError(f"No theme {theme_id!r} in the taxonomy ({', '.join(self.ids)}).")

    def __contains__(self, theme_id: object) -> bool:
        return theme_id in self.ids

    def label(self, theme_id: str) -> str:
        """The report label of ``theme_id``."""
        return self[theme_id].label


def _str_list(value: object) -> tuple[str, ...] | None:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return None
    return tuple(v.strip() for v in value if v.strip())


def _parse(data: dict, source: str, folder: Path | None = None) -> Taxonomy:
    problems: list[str] = []
    labels = data.get("labels")
    if labels is not None and (not isinstance(labels, str) or not labels.strip()):
        problems.append("labels must be the path of a CSV file (id, text, one 0/1 column per theme id)")
        labels = None
    elif labels is not None:
        lp = Path(labels.strip()).expanduser()
        if not lp.is_absolute() and folder is not None:
            lp = folder / lp
        if not lp.is_file():
            problems.append(f"labels file '{lp}' does not exist (labels is resolved against the taxonomy's folder)")
        labels = str(lp)
    for key in sorted(set(data) - _TOP_KEYS):
        problems.append(f"unknown top-level key {key!r} (expected {sorted(_TOP_KEYS)})")
    raw_themes = data.get("theme", [])
    if not isinstance(raw_themes, list) or not raw_themes:
        problems.append("no [[theme]] tables found")
        raw_themes = []
    themes: list[Theme] = []
    seen: dict[str, int] = {}
    for n, raw in enumerate(raw_themes, start=1):
        if not isinstance(raw, dict):
            problems.append(f"theme #{n}: expected a [[theme]] table")
            continue
        theme_id = raw.get("id")
        name = f"theme #{n}" + (f" ({theme_id!r})" if isinstance(theme_id, str) else "")
        if not isinstance(theme_id, str) or not theme_id.strip():
            problems.append(f"{name}: missing id (add id = \"short_name\")")
            theme_id = None
        elif not theme_id.isidentifier() or theme_id != theme_id.lower():
            problems.append(f"{name}: id must be lower_case_with_underscores")
        elif theme_id in seen:
            problems.append(f"{name}: duplicate id {theme_id!r} (first used by theme #{seen[theme_id]})")
        else:
            seen[theme_id] = n
        for key in sorted(set(raw) - _THEME_KEYS):
            problems.append(f"{name}: unknown key {key!r} (expected one of {sorted(_THEME_KEYS)})")
        polarity = raw.get("polarity", "negative")
        if polarity not in POLARITIES:
            problems.append(f"{name}: bad polarity {polarity!r} (expected 'negative' or 'positive')")
        seeds = _str_list(raw.get("seeds", []))
        if seeds is None:
            problems.append(f"{name}: seeds must be a list of strings")
        elif not seeds:
            problems.append(f"{name}: empty seeds (give at least one seed phrase)")
        exclusions = _str_list(raw.get("exclusions", []))
        if exclusions is None:
            problems.append(f"{name}: exclusions must be a list of strings")
        label = raw.get("label", theme_id or "")
        description = raw.get("description", "")
        if not isinstance(label, str) or not isinstance(description, str):
            problems.append(f"{name}: label and description must be strings")
        if theme_id and seeds and exclusions is not None and polarity in POLARITIES:
            themes.append(
                Theme(
                    id=theme_id.strip(),
                    label=str(label).strip() or theme_id,
                    description=str(description).strip(),
                    polarity=polarity,
                    seeds=seeds,
                    exclusions=exclusions,
                )
            )
    if problems:
        listing = "\n  - ".join(problems)
        raise ConfigError(
            f"The theme taxonomy {source} is invalid ({len(problems)} problem"
            f"{'s' if len(problems) > 1 else ''}):\n  - {listing}\n"
            "Fix the file (its format is described at the top of the built-in "
            "feedbacklib/data/themes.toml) or leave `taxonomy` empty to use the default."
        )
    return Taxonomy(themes=tuple(themes), source=source, labels=labels)


def toml_string(value: str) -> str:
    """``value`` as a TOML basic string: backslash, quote and every control character escaped, so
    any text (a label an analyst typed, a discovered term) reads back unchanged."""
    out = []
    for ch in value:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch in _TOML_ESCAPES:
            out.append(_TOML_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


_TOML_ESCAPES = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def load_taxonomy(path: str | Path | None = None) -> Taxonomy:
    """Load a theme taxonomy from a TOML file; ``None`` loads the built-in default.

    Raises
    ------
    ConfigError
        When the file is missing, is not TOML, or breaks the format; the message
        lists every problem and names the theme concerned.

    Examples
    --------
    >>> tax = load_taxonomy()
    >>> tax.ids[:2]
    ('responsiveness', 'surprise_charges')
    """
    if path is None or str(path) == "":
        source = "<built-in themes.toml>"
        folder = None
        text = resources.files("feedbacklib").joinpath(DEFAULT_TAXONOMY).read_text(encoding="utf-8")
    else:
        p = Path(path)
        source = f"'{p}'"
        folder = p.resolve().parent
        try:
            text = p.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(
                f"The theme taxonomy file '{p}' does not exist. Check `taxonomy` in "
                "feedback.toml, or leave it empty to use the built-in default."
            ) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"Cannot read the theme taxonomy file '{p}': {exc}") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"The theme taxonomy {source} is not valid TOML: {exc}") from exc
    return _parse(data, source, folder)
