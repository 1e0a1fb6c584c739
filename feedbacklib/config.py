"""Configuration: frozen dataclasses loaded from ``feedback.toml``.

Example
-------
>>> from feedbacklib.config import load_config
>>> cfg = load_config("feedback.toml")          # doctest: +SKIP
>>> cfg.team_table()["Northwind Manila"].vendor  # doctest: +SKIP
'Northwind BPO'
"""

from __future__ import annotations

import os
import secrets
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import ConfigError
from .schema import SERVICE_MODELS

__all__ = ["Team", "Config", "load_config", "default_config", "ENGINES", "SECTION_KEYS"]

#: Where cleaning, tagging and sentiment run (``[run] engine``; see docs/scale.md).
ENGINES = ("pandas", "dask")
#: The optional tables of feedback.toml and the keys each accepts (README, "Configuration").
SECTION_KEYS: dict[str, tuple[str, ...]] = {
    "input": ("platform", "platforms"),
    "cleaning": ("duplicate_window_hours", "csat_scale", "nps_scale", "csat_labels", "nps_labels"),
    "run": ("timeout_seconds", "cell_timeout_seconds", "engine", "scheduler"),
}


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
    platforms: dict[str, dict[str, Any]] = field(default_factory=dict)
    sections: dict[str, dict[str, Any]] = field(default_factory=dict)
    source_path: Path | None = None

    def team_table(self) -> dict[str, Team]:
        """Map every team name and alias (case-insensitive key) to its :class:`Team`."""
        table: dict[str, Team] = {}
        for team in self.teams:
            for name in (team.name, *team.aliases):
                table[name.strip().casefold()] = team
        return table

    def platform(self, name: str) -> dict[str, Any]:
        """The settings of one platform (an empty dict when none are configured)."""
        return dict(self.platforms.get(name, {}))

    def section(self, name: str) -> dict[str, Any]:
        """One of the optional tables (``[input]``, ``[cleaning]``, ``[run]``), validated; empty when absent."""
        return dict(self.sections.get(name, {}))

    def pii_salt(self) -> bytes:
        """The salt for customer-key hashes: environment first, then the salt file.

        The salt is never hard-coded. When neither is set, a random salt is
        written once to ``salt_file`` so customer keys stay stable across months.
        See :func:`feedbacklib.salt.pii_salt` (at least 16 bytes, created atomically).
        """
        from .salt import pii_salt

        return pii_salt(self.salt_file, self.pii_salt_env)


def _resolve(root: Path, value: str | None) -> Path | None:
    if not value:
        return None
    path = Path(value).expanduser()
    return path if path.is_absolute() else (root / path)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_scale(where: str, value: Any) -> str | None:
    if isinstance(value, list) and len(value) == 2 and all(_is_number(v) for v in value) and value[0] < value[1]:
        return None
    if _is_number(value) and value > 1:
        return None
    return f"{where} must be [low, high] with low < high (e.g. [1, 10]), found {value!r}"


def _check_labels(where: str, value: Any, low: int, high: int) -> str | None:
    if isinstance(value, dict) and all(isinstance(v, int) and not isinstance(v, bool) and low <= v <= high
                                       for v in value.values()):
        return None
    return f"{where} must map labels to whole scores from {low} to {high}, e.g. \"Loved it\" = {high}; found {value!r}"


def _section_problems(name: str, table: dict[str, Any]) -> list[str]:
    """What is wrong with one optional table: unknown keys and values of the wrong kind."""
    from .io.detect import PLATFORMS

    known = SECTION_KEYS[name]
    problems = [f"[{name}] has an unknown key {key!r} (known: {', '.join(known)})"
                for key in sorted(set(table) - set(known))]
    platforms = ", ".join(PLATFORMS)
    checks: list[str | None] = []
    if name == "input":
        if "platform" in table and table["platform"] not in PLATFORMS:
            checks.append(f"[input] platform {table['platform']!r} is not one of {platforms}")
        globs = table.get("platforms", {})
        if not isinstance(globs, dict):
            checks.append('[input.platforms] must map file-name patterns to platforms, e.g. "nps_*.csv" = "surveymonkey"')
        else:
            checks += [f"[input.platforms] {pattern!r} names platform {value!r}, not one of {platforms}"
                       for pattern, value in globs.items() if value not in PLATFORMS]
    elif name == "cleaning":
        window = table.get("duplicate_window_hours", 0)
        if not _is_number(window) or window < 0:
            checks.append(f"[cleaning] duplicate_window_hours must be a number of hours >= 0 (0 = off), found {window!r}")
        checks += [_check_scale(f"[cleaning] {key}", table[key]) for key in ("csat_scale", "nps_scale") if key in table]
        checks += [_check_labels(f"[cleaning.{key}]", table[key], low, high)
                   for key, low, high in (("csat_labels", 1, 5), ("nps_labels", 0, 10)) if key in table]
    elif name == "run":
        checks += [f"[run] {key} must be a positive whole number of seconds, found {table[key]!r}"
                   for key in ("timeout_seconds", "cell_timeout_seconds")
                   if key in table and (not isinstance(table[key], int) or isinstance(table[key], bool)
                                        or table[key] <= 0)]
        if "engine" in table and str(table["engine"]).strip().lower() not in ENGINES:
            checks.append(f"[run] engine {table['engine']!r} must be one of {', '.join(ENGINES)}")
        if "scheduler" in table and not isinstance(table["scheduler"], str):
            checks.append(f"[run] scheduler must be an address such as \"tcp://host:8786\", found {table['scheduler']!r}")
    return problems + [c for c in checks if c]


#: The top-level tables of feedback.toml.
TABLES = ("project", "teams", "platforms", *SECTION_KEYS)


def _parse(data: dict[str, Any], root: Path, source: Path | None) -> Config:
    problems = [f"[{name}] is not a table feedbacklib knows (known: {', '.join(TABLES)})"
                for name in sorted(set(data) - set(TABLES))]
    project = data.get("project", {})
    if not isinstance(project, dict):
        problems.append("[project] must be a table")
        project = {}
    known = {
        "input", "output", "timezone", "taxonomy", "min_group_size", "call_list_size",
        "quotes_per_theme", "pii_salt_env", "salt_file", "sla_first_response_hours",
    }
    for key in sorted(set(project) - known):
        problems.append(f"[project] has an unknown key {key!r} (known: {', '.join(sorted(known))})")
    tz = str(project.get("timezone", "UTC"))
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"[project] timezone {tz!r} is not a known IANA time zone, e.g. 'Europe/London'")
    ints = {}
    for key, default in (("min_group_size", 30), ("call_list_size", 15), ("quotes_per_theme", 3)):
        value = project.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            problems.append(f"[project] {key} must be a non-negative integer, found {value!r}")
            value = default
        ints[key] = value

    teams: list[Team] = []
    seen: dict[str, str] = {}
    for i, raw in enumerate(data.get("teams", [])):
        where = f"[[teams]] entry {i + 1}"
        if not isinstance(raw, dict) or not str(raw.get("name", "")).strip():
            problems.append(f"{where} needs a non-empty name")
            continue
        name = str(raw["name"]).strip()
        model = str(raw.get("service_model", "unknown"))
        if model not in SERVICE_MODELS:
            problems.append(
                f"{where} ({name!r}): service_model {model!r} must be one of {', '.join(SERVICE_MODELS)}"
            )
            model = "unknown"
        vendor = raw.get("vendor")
        if model == "outsourced" and not vendor:
            problems.append(f"{where} ({name!r}) is outsourced but names no vendor")
        aliases = tuple(str(a).strip() for a in raw.get("aliases", []) if str(a).strip())
        for label in (name, *aliases):
            key = label.casefold()
            if key in seen and seen[key] != name:
                problems.append(f"{where}: {label!r} is also used by team {seen[key]!r}")
            seen[key] = name
        teams.append(Team(name=name, service_model=model, vendor=str(vendor) if vendor else None, aliases=aliases))

    sla = project.get("sla_first_response_hours", 24)
    if isinstance(sla, bool) or not isinstance(sla, (int, float)) or sla <= 0:
        problems.append(f"[project] sla_first_response_hours must be a positive number of hours, found {sla!r}")
        sla = 24
    platforms = data.get("platforms", {})
    if not isinstance(platforms, dict):
        problems.append("[platforms] must be a table of tables")
        platforms = {}
    sections: dict[str, dict[str, Any]] = {}
    for name in SECTION_KEYS:
        table = data.get(name, {})
        if not isinstance(table, dict):
            problems.append(f"[{name}] must be a table")
            continue
        problems += _section_problems(name, table)
        sections[name] = dict(table)
    if problems:
        where = f" in {source}" if source else ""
        raise ConfigError(
            f"The configuration{where} has {len(problems)} problem(s):\n  - " + "\n  - ".join(problems)
        )
    return Config(
        root=root,
        input=_resolve(root, project.get("input", "data/sample")),
        output=_resolve(root, project.get("output", "reports")),
        timezone=tz,
        taxonomy=_resolve(root, project.get("taxonomy")),
        pii_salt_env=str(project.get("pii_salt_env", "FEEDBACK_PII_SALT")),
        salt_file=_resolve(root, project.get("salt_file", ".feedbacklib-salt")),
        teams=tuple(teams),
        platforms={k: dict(v) for k, v in platforms.items() if isinstance(v, dict)},
        sections=sections,
        source_path=source,
        sla_first_response_hours=float(sla),
        **ints,
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
