"""Configuration: frozen dataclasses loaded from ``feedback.toml``, every value type-checked once.

Each TOML table has one frozen dataclass (:class:`Config` for ``[project]``, :class:`Team`,
and :mod:`feedbacklib.settings`' :class:`InputSettings`, :class:`CleaningSettings`,
:class:`RunSettings`, :class:`PlatformSettings`) whose field defaults are the only defaults.
The platforms and each platform's own keys come from the platforms' records
(:mod:`feedbacklib.io.registry`). :func:`load_config`
checks every key of every table when the file is read: an unknown table or key (``timezon``,
``csat_scal``, an unknown platform under ``[platforms.*]``) or a value of the wrong kind
(``input = 5``, ``good_csat = "five"``, ``aliases = "NW Manila"``, ``csat_scale = [1, inf]``,
``unfinished = "maybe"``) is refused with one message per problem, naming the key and what
is expected; all problems are listed in one :class:`~feedbacklib.errors.ConfigError`
(exit 2 on the command line).

Example
-------
>>> from feedbacklib.config import load_config
>>> cfg = load_config("feedback.toml")          # doctest: +SKIP
>>> cfg.team_table()["Northwind Manila"].vendor  # doctest: +SKIP
'Northwind BPO'
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import ConfigError
from .io.registry import REGISTRY
from .salt import pii_salt
from .schema import CANONICAL_COLUMNS, SERVICE_MODELS, SOURCES
from .settings import ENGINES, SALT_FILE, CleaningSettings, InputSettings, PlatformSettings, RunSettings

__all__ = ["Team", "Config", "InputSettings", "CleaningSettings", "RunSettings", "PlatformSettings",
           "load_config", "default_config", "ENGINES", "SECTION_KEYS", "PLATFORM_KEYS", "TABLES"]

@dataclass(frozen=True)
class Team:
    """One team or queue, and how it is staffed."""

    name: str
    service_model: str = "unknown"
    vendor: str | None = None
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Config:
    """Everything a monthly run needs to know; built by :func:`load_config`."""

    root: Path = field(default_factory=Path.cwd)
    input: Path = Path("data/sample")
    output: Path = Path("reports")
    timezone: str = "UTC"
    taxonomy: Path | None = None
    min_group_size: int = 30
    call_list_size: int = 15
    quotes_per_theme: int = 3
    sla_first_response_hours: float = 24.0
    pii_salt_env: str = "FEEDBACK_PII_SALT"
    salt_file: Path | None = None
    teams: tuple[Team, ...] = ()
    source_path: Path | None = None
    input_settings: InputSettings = field(default_factory=InputSettings)
    cleaning: CleaningSettings = field(default_factory=CleaningSettings)
    run: RunSettings = field(default_factory=RunSettings)
    platform_settings: Mapping[str, PlatformSettings] = field(default_factory=dict)

    def team_table(self) -> dict[str, Team]:
        """Map every team name and alias (case-insensitive key) to its :class:`Team`."""
        table: dict[str, Team] = {}
        for team in self.teams:
            for name in (team.name, *team.aliases):
                table[name.strip().casefold()] = team
        return table

    def platform(self, name: str) -> PlatformSettings:
        """The typed settings of one platform (defaults when none are configured)."""
        return self.platform_settings.get(name, PlatformSettings())

    platform_typed = platform

    def section(self, name: str) -> dict[str, Any]:
        """The values set in one of the optional tables (``[input]``, ``[cleaning]``, ``[run]``),
        read from its typed table: the fields that differ from their defaults. Prefer the typed
        tables (``cfg.input_settings``, ``cfg.cleaning``, ``cfg.run``)."""
        tables: dict[str, InputSettings | CleaningSettings | RunSettings] = {
            "input": self.input_settings, "cleaning": self.cleaning, "run": self.run}
        table = tables[name]
        default = type(table)()
        return {f.name: getattr(table, f.name) for f in fields(table)
                if getattr(table, f.name) != getattr(default, f.name)}

    def pii_salt(self) -> bytes:
        """The salt for customer-key hashes: environment first, then the salt file.

        The salt is never hard-coded. When neither is set, a random salt is
        written once to ``salt_file`` so customer keys stay stable across months.
        See :func:`feedbacklib.salt.pii_salt` (at least 16 bytes, created atomically).
        """
        return pii_salt(self.salt_file, self.pii_salt_env)


def _resolve(root: Path, value: str | None) -> Path | None:
    if not value:
        return None
    path = Path(value).expanduser()
    return path if path.is_absolute() else (root / path)


# --------------------------------------------------------------------------- checking values

def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _kind(value: Any) -> str:
    """What a TOML value is, for messages: ``5 (a whole number)``."""
    names = {bool: "true/false", int: "a whole number", float: "a number", str: "text", list: "a list",
             dict: "a table"}
    kind = next((n for t, n in names.items() if isinstance(value, t)), type(value).__name__)
    return f"{value!r} ({kind})"


def _is_zone(value: Any) -> bool:
    if not isinstance(value, str) or not value:
        return False
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _is_scale(value: Any) -> bool:
    if isinstance(value, list) and len(value) == 2 and all(_is_number(v) for v in value):
        return value[0] < value[1]
    return _is_number(value) and value > 1  # legacy: the top of a 1..N scale


def _as_scale(value: Any) -> tuple[float, float] | None:
    if value is None:
        return None
    if isinstance(value, list):
        return float(value[0]), float(value[1])
    return 1.0, float(value)


def _labels(low: int, high: int) -> Key:
    score = Key(f"a whole score from {low} to {high}", lambda s: _is_int(s) and low <= s <= high)
    return Key(f'a table of labels to whole scores from {low} to {high}, e.g. "Loved it" = {high}',
               lambda v: isinstance(v, dict) and all(score.check(s) for s in v.values()), entry=score)


def _platform_names() -> tuple[str, ...]:
    """The platforms' names, from their records (:mod:`feedbacklib.io.registry`)."""
    return REGISTRY.names


def _is_platform(value: Any) -> bool:
    return isinstance(value, str) and value in _platform_names()


def _is_field_id(value: Any) -> bool:
    return (_is_int(value) and value > 0) or (isinstance(value, str) and value.strip().isdigit())


def _is_columns(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(v, str) and v.strip() for v in value.values())


@dataclass(frozen=True)
class Key:
    """One key of a table: what it must be (a check and its description for the message).

    ``entry``: the key is a table whose every entry must pass this check (each bad entry is
    one problem, named ``[table.key] 'entry'``).
    """

    expected: str
    check: Callable[[Any], bool]
    entry: Key | None = None


_TEXT = Key("text in quotes", lambda v: isinstance(v, str))
_PATH = Key('a path in quotes, e.g. "data/sample"', lambda v: isinstance(v, str))
_COUNT = Key("a whole number >= 0", lambda v: _is_int(v) and v >= 0)
_SECONDS = Key("a positive whole number of seconds", lambda v: _is_int(v) and v > 0)
_SCALE = Key("[low, high] with finite numbers and low < high, e.g. [1, 10]", _is_scale)
_ZONE = Key("an IANA time zone in quotes, e.g. \"Europe/London\"", _is_zone)
_BOOL = Key("true or false", lambda v: isinstance(v, bool))
_FIELD_ID = Key("the numeric id of a Zendesk custom field, e.g. 360001001 (Admin > Ticket fields)", _is_field_id)

#: Every key of every table, with what it must be.
PROJECT_KEYS: dict[str, Key] = {
    "input": _PATH, "output": _PATH, "taxonomy": Key('a path in quotes ("" = the built-in taxonomy)',
                                                     lambda v: isinstance(v, str)),
    "timezone": _ZONE,
    "min_group_size": _COUNT, "call_list_size": _COUNT, "quotes_per_theme": _COUNT,
    "sla_first_response_hours": Key("a positive number of hours", lambda v: _is_number(v) and v > 0),
    "pii_salt_env": Key("the name of an environment variable in quotes", lambda v: isinstance(v, str) and bool(v.strip())),
    "salt_file": _PATH,
}
TEAM_KEYS: dict[str, Key] = {
    "name": Key("a non-empty name in quotes", lambda v: isinstance(v, str) and bool(v.strip())),
    "service_model": Key(f"one of {', '.join(SERVICE_MODELS)}", lambda v: v in SERVICE_MODELS),
    "vendor": Key("the vendor's name in quotes", lambda v: isinstance(v, str)),
    "aliases": Key('a list of names, e.g. aliases = ["NW Manila"]',
                   lambda v: isinstance(v, list) and all(isinstance(a, str) for a in v)),
}


def _section_keys() -> dict[str, dict[str, Key]]:
    platforms = f"one of {', '.join(_platform_names())}"
    return {
        "input": {
            "platform": Key(platforms, _is_platform),
            "platforms": Key(f'a table of file-name patterns to platforms ({platforms}), e.g. "nps_*.csv" = "surveymonkey"',
                             lambda v: isinstance(v, dict) and all(_is_platform(x) for x in v.values()),
                             entry=Key(f"a platform, {platforms}", _is_platform)),
            "strict": _BOOL,
            "max_xlsx_mb": Key("a positive whole number of megabytes", lambda v: _is_int(v) and v > 0),
            "max_xlsx_cells": Key("a positive whole number of cells", lambda v: _is_int(v) and v > 0),
        },
        "cleaning": {
            "duplicate_window_hours": Key("a number of hours >= 0 (0 = off)", lambda v: _is_number(v) and v >= 0),
            "csat_scale": _SCALE, "nps_scale": _SCALE,
            "csat_labels": _labels(1, 5),
            "nps_labels": _labels(0, 10),
        },
        "run": {
            "timeout_seconds": _SECONDS, "cell_timeout_seconds": _SECONDS,
            "engine": Key(f"one of {', '.join(ENGINES)}", lambda v: isinstance(v, str) and v.strip().lower() in ENGINES),
            "scheduler": Key('an address such as "tcp://host:8786"', lambda v: isinstance(v, str)),
            "work_dir": Key('a folder such as "/var/tmp/feedback", or "" (the month in memory)', lambda v: isinstance(v, str)),
        },
    }


#: The optional tables of feedback.toml and the keys each accepts (README, "Configuration"):
#: the fields of their dataclasses.
SECTION_KEYS: dict[str, tuple[str, ...]] = {
    name: tuple(f.name for f in fields(cls))
    for name, cls in (("input", InputSettings), ("cleaning", CleaningSettings), ("run", RunSettings))
}
_COLUMN_NAMES = Key("a table of canonical column -> the export's column name (text)", _is_columns,
                    entry=Key("the export's column name in quotes", lambda v: isinstance(v, str) and bool(v.strip())))
_COMMON_PLATFORM_KEYS: dict[str, Key] = {
    "timezone": _ZONE, "dayfirst": _BOOL,
    "source": Key(f"one of {', '.join(SOURCES)}", lambda v: v in SOURCES),
    "columns": _COLUMN_NAMES, "csat_scale": _SCALE, "nps_scale": _SCALE,
}
#: How each platform-specific key of :class:`PlatformSettings` is checked; which platform
#: accepts which of them is declared by the platform's record (``Platform.settings``).
_OWN_PLATFORM_KEYS: dict[str, Key] = {
    "good_csat": Key("a whole score from 1 to 5", lambda v: _is_int(v) and 1 <= v <= 5),
    "bad_csat": Key("a whole score from 1 to 5", lambda v: _is_int(v) and 1 <= v <= 5),
    **{f"{name}_field": _FIELD_ID for name in ("first_response_hours", "resolution_hours",
                                                "resolved_reported", "reopened", "category")},
    "unfinished": Key('"keep" or "quarantine"', lambda v: v in ("keep", "quarantine")),
    "score": Key('"nps" or "csat" (what the 0-10 or 1-5 score column measures)', lambda v: v in ("nps", "csat")),
}
#: The keys each ``[platforms.<name>]`` table accepts beyond the common ones: its record's own.
PLATFORM_KEYS: dict[str, dict[str, Key]] = {
    name: {key: _OWN_PLATFORM_KEYS[key] for key in keys} for name, keys in REGISTRY.settings.items()
}
#: Keys of ``[platforms.<name>.columns]`` besides the canonical columns (readers' own roles).
_COLUMN_ROLES = ("customer_id",)
#: The top-level tables of feedback.toml.
TABLES = ("project", "teams", "platforms", *SECTION_KEYS)


def _check_table(where: str, table: dict[str, Any], keys: Mapping[str, Key]) -> list[str]:
    """One message per unknown key and per value of the wrong kind, in key order."""
    problems = []
    for key in table:
        spec = keys.get(key)
        if spec is None:
            close = _closest(key, keys)
            problems.append(f"{where} has an unknown key {key!r} "
                            + (f"(did you mean {close!r}?)" if close else f"(known: {', '.join(keys)})"))
        elif spec.entry is not None and isinstance(table[key], dict):
            inner = f"{where[:-1]}.{key}]" if where.endswith("]") else f"{where} {key}"
            problems += [f"{inner} {name!r} must be {spec.entry.expected}; found {_kind(value)}"
                         for name, value in table[key].items() if not spec.entry.check(value)]
        elif not spec.check(table[key]):
            problems.append(f"{where} {key} must be {spec.expected}; found {_kind(table[key])}")
    return problems


def _closest(word: str, candidates: Mapping[str, Any] | tuple[str, ...]) -> str | None:
    import difflib

    found = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.75)
    return found[0] if found else None


def _table(data: dict[str, Any], name: str, problems: list[str]) -> dict[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        problems.append(f"[{name}] must be a table")
        return {}
    return value


def _init_kwargs(cls: type, table: Mapping[str, Any]) -> dict[str, Any]:
    """The table's values for the dataclass ``cls`` (absent keys keep the dataclass defaults)."""
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in table.items() if k in names}


def _platform_settings(table: dict[str, Any]) -> PlatformSettings:
    values = _init_kwargs(PlatformSettings, table)
    for key in ("csat_scale", "nps_scale"):
        if key in values:
            values[key] = _as_scale(values[key])
    for key in [k for k in values if k.endswith("_field")]:
        values[key] = int(str(values[key]).strip())
    if "columns" in values:
        values["columns"] = {str(k): str(v) for k, v in values["columns"].items()}
    return PlatformSettings(**values)


def _parse(data: dict[str, Any], root: Path, source: Path | None) -> Config:
    problems = [f"[{name}] is not a table feedbacklib knows"
                + (f" (did you mean [{_closest(name, TABLES)}]?)" if _closest(name, TABLES)
                   else f" (known: {', '.join(TABLES)})")
                for name in data if name not in TABLES]
    project = _table(data, "project", problems)
    problems += _check_table("[project]", project, PROJECT_KEYS)
    ok = {k: v for k, v in project.items() if k in PROJECT_KEYS and PROJECT_KEYS[k].check(v)}

    teams: list[Team] = []
    seen: dict[str, str] = {}
    raw_teams = data.get("teams", [])
    if not isinstance(raw_teams, list):
        problems.append("[[teams]] must be a list of tables, each starting with [[teams]]")
        raw_teams = []
    for i, raw in enumerate(raw_teams):
        where = f"[[teams]] entry {i + 1}"
        if not isinstance(raw, dict):
            problems.append(f"{where} must be a table with a name")
            continue
        name = raw.get("name")
        label = f"{where} ({name.strip()!r})" if isinstance(name, str) and name.strip() else where
        if not (isinstance(name, str) and name.strip()):
            problems.append(f"{where} needs a non-empty name")
        problems += _check_table(label, {k: v for k, v in raw.items() if k != "name"}, TEAM_KEYS)
        if not (isinstance(name, str) and name.strip()):
            continue
        name = name.strip()
        model = raw.get("service_model", "unknown")
        model = model if model in SERVICE_MODELS else "unknown"
        vendor = raw.get("vendor") if isinstance(raw.get("vendor"), str) else None
        if model == "outsourced" and not vendor:
            problems.append(f"{label} is outsourced but names no vendor")
        aliases_raw = raw.get("aliases", [])
        aliases_raw = aliases_raw if TEAM_KEYS["aliases"].check(aliases_raw) else []
        aliases = tuple(a.strip() for a in aliases_raw if a.strip())
        for alias in (name, *aliases):
            key = alias.casefold()
            if key in seen and seen[key] != name:
                problems.append(f"{where}: {alias!r} is also used by team {seen[key]!r}")
            seen[key] = name
        teams.append(Team(name=name, service_model=model, vendor=vendor.strip() if vendor else None,
                          aliases=aliases))

    platforms = _table(data, "platforms", problems)
    known_platforms = _platform_names()
    typed_platforms: dict[str, PlatformSettings] = {}
    for name, table in platforms.items():
        where = f"[platforms.{name}]"
        if name not in known_platforms:
            close = _closest(name, known_platforms)
            problems.append(f"{where} names no platform feedbacklib reads"
                            + (f" (did you mean {close!r}?)" if close else f" (known: {', '.join(known_platforms)})"))
            continue
        if not isinstance(table, dict):
            problems.append(f"{where} must be a table")
            continue
        keys = {**_COMMON_PLATFORM_KEYS, **PLATFORM_KEYS.get(name, {})}
        found = _check_table(where, table, keys)
        columns = table.get("columns")
        if isinstance(columns, dict):
            allowed = (*CANONICAL_COLUMNS, *_COLUMN_ROLES)
            found += [f"[platforms.{name}.columns] has an unknown column {c!r}"
                      + (f" (did you mean {_closest(c, allowed)!r}?)" if _closest(c, allowed)
                         else f" (known: {', '.join(allowed)})")
                      for c in columns if c not in allowed and not str(c).startswith("_")]
        problems += found
        if not found:
            typed_platforms[name] = _platform_settings(table)

    sections: dict[str, dict[str, Any]] = {}
    section_keys = _section_keys()
    for name in SECTION_KEYS:
        table = data.get(name, {})
        if not isinstance(table, dict):
            problems.append(f"[{name}] must be a table")
            continue
        problems += _check_table(f"[{name}]", table, section_keys[name])
        sections[name] = dict(table)
    if problems:
        where = f" in {source}" if source else ""
        raise ConfigError(
            f"The configuration{where} has {len(problems)} problem(s):\n  - " + "\n  - ".join(problems)
        )
    cleaning = sections["cleaning"]
    run = sections["run"]
    defaults = {f.name: f.default for f in fields(Config)}
    cleaning_kwargs: dict[str, Any] = _init_kwargs(CleaningSettings, cleaning)
    cleaning_kwargs.update({k: _as_scale(cleaning[k]) for k in ("csat_scale", "nps_scale") if k in cleaning})
    if "duplicate_window_hours" in cleaning:
        cleaning_kwargs["duplicate_window_hours"] = float(cleaning["duplicate_window_hours"])
    return Config(
        root=root,
        input=_resolve(root, ok.get("input", str(defaults["input"]))) or root / str(defaults["input"]),
        output=_resolve(root, ok.get("output", str(defaults["output"]))) or root / str(defaults["output"]),
        timezone=ok.get("timezone", defaults["timezone"]),
        taxonomy=_resolve(root, ok.get("taxonomy")),
        pii_salt_env=ok.get("pii_salt_env", defaults["pii_salt_env"]),
        salt_file=_resolve(root, ok.get("salt_file", SALT_FILE)),
        teams=tuple(teams),
        source_path=source,
        sla_first_response_hours=float(ok.get("sla_first_response_hours", defaults["sla_first_response_hours"])),
        min_group_size=ok.get("min_group_size", defaults["min_group_size"]),
        call_list_size=ok.get("call_list_size", defaults["call_list_size"]),
        quotes_per_theme=ok.get("quotes_per_theme", defaults["quotes_per_theme"]),
        input_settings=InputSettings(**_init_kwargs(InputSettings, sections["input"])),
        cleaning=CleaningSettings(**cleaning_kwargs),
        run=RunSettings(**{**_init_kwargs(RunSettings, run),
                           **({"engine": run["engine"].strip().lower()} if "engine" in run else {}),
                           **({"work_dir": str(_resolve(root, run["work_dir"]) or "")} if "work_dir" in run else {})}),
        platform_settings=typed_platforms,
    )


def load_config(path: str | os.PathLike[str]) -> Config:
    """Read and validate ``feedback.toml``; every problem is listed in one error."""
    path = Path(path).expanduser().resolve()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"The configuration file {path} does not exist. Pass --config with the path of "
            "your feedback.toml (the repository root has an example)."
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Cannot read the configuration file {path}: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"The configuration file {path} is not valid TOML: {exc}") from None
    return _parse(data, path.parent, path)


def default_config(root: str | os.PathLike[str] | None = None, **overrides: Any) -> Config:
    """A configuration with no teams, for tests and quick exploration."""
    data = {"project": {k: v for k, v in overrides.items()}}
    return _parse(data, Path(root or Path.cwd()).resolve(), None)
