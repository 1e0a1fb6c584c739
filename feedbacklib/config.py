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

__all__ = ["Team", "Config", "load_config", "default_config"]


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

    def pii_salt(self) -> bytes:
        """The salt for customer-key hashes: environment first, then the salt file.

        The salt is never hard-coded. When neither is set, a random salt is
        written once to ``salt_file`` so customer keys stay stable across months.
        """
        value = os.environ.get(self.pii_salt_env)
        if value:
            return value.encode("utf-8")
        if self.salt_file is None:
            raise ConfigError(
                f"No PII salt: set the environment variable {self.pii_salt_env} "
                "or salt_file under [project] in feedback.toml."
            )
        path = self.salt_file
        if not path.exists():
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass
            except OSError as exc:
                raise ConfigError(
                    f"Cannot create the PII salt file {path}: {exc.strerror}. "
                    f"Set {self.pii_salt_env} in the environment instead."
                ) from exc
            else:
                with os.fdopen(fd, "w") as fh:
                    fh.write(secrets.token_hex(32))
        return path.read_text(encoding="utf-8").strip().encode("utf-8")


def _resolve(root: Path, value: str | None) -> Path | None:
    if not value:
        return None
    path = Path(value).expanduser()
    return path if path.is_absolute() else (root / path)


def _parse(data: dict[str, Any], root: Path, source: Path | None) -> Config:
    problems: list[str] = []
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
