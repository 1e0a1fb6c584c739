"""The whole flow for one month, used by the report notebook and the CLI alike.

``run_month`` reads every export in the input folder, cleans it into the
canonical frame (quarantining what it must), tags themes, scores sentiment and
computes the comparisons the report shows. It returns a :class:`MonthResult`
that the report functions render and :func:`save_outputs` writes to disk.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from . import schema as S
from .clean import CleanResult, clean_responses
from .compare import (
    compare_groups,
    compare_vendors,
    kpi_table,
    perception_gap,
    theme_impact,
)
from .config import Config, load_config
from .errors import InputError, NoDataError
from .io import read_exports
from .safety import neutralise_formulas
from .sentiment import score_sentiment
from .themes import Taxonomy, ThemeTagger, load_taxonomy

__all__ = ["MonthResult", "run_month", "save_outputs", "resolve_month", "MONTH_PATTERN"]

log = logging.getLogger(__name__)

MONTH_PATTERN = re.compile(r"^(19|20)[0-9]{2}-(0[1-9]|1[0-2])$")
THEME_EVIDENCE = S.THEME_EVIDENCE
TIMINGS_FILE = ".timings.json"


@dataclass
class MonthResult:
    """Everything the monthly report shows, computed once."""

    month: str
    config: Config
    taxonomy: Taxonomy
    frame: pd.DataFrame            # the month's cleaned, tagged, scored rows
    history: pd.DataFrame          # every month read (same columns), for trends
    quarantine: pd.DataFrame       # every rejected row of the input, with its reason
    quality: pd.DataFrame          # rows read / kept / quarantined per file
    kpis: pd.DataFrame             # kpi_table by service model
    vendor_kpis: pd.DataFrame      # kpi_table by vendor
    comparison: pd.DataFrame       # compare_groups outsourced vs in-house
    vendors: pd.DataFrame          # compare_vendors: each vendor vs in-house
    gap: pd.DataFrame              # perception_gap
    impact: pd.DataFrame           # theme_impact on CSAT
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def theme_ids(self) -> list[str]:
        return list(self.taxonomy.ids)

    @property
    def previous_month(self) -> str | None:
        months = sorted(m for m in self.history[S.MONTH].dropna().unique() if m < self.month)
        return months[-1] if months else None


def resolve_month(month: str, months_present: list[str], *, current_month: str | None = None) -> str:
    """Turn ``"last"`` into the latest month that has ended; validate ``YYYY-MM``.

    ``"last"`` skips the current (unfinished) month and any later one, so the
    few responses that arrive after the export cut-off never make a one-row
    report. ``current_month`` defaults to today's month.
    """
    if month == "last":
        current = current_month or _dt.date.today().strftime("%Y-%m")
        ended = [m for m in months_present if m < current]
        if not ended:
            raise NoDataError(
                "The input holds no feedback for a month that has ended"
                + (f" (it has only {', '.join(months_present)})" if months_present else "")
                + ", so there is no latest month to report. Pass --month YYYY-MM."
            )
        return max(ended)
    if not isinstance(month, str) or not MONTH_PATTERN.match(month):
        raise InputError(f"The month must be YYYY-MM (for example 2026-10) or 'last'; got {month!r}.")
    return month


def _current_month(cfg: Config) -> str:
    from zoneinfo import ZoneInfo

    return _dt.datetime.now(ZoneInfo(cfg.timezone)).strftime("%Y-%m")


class _Timer:
    def __init__(self, timings: dict[str, float], name: str):
        self.timings, self.name = timings, name

    def __enter__(self):
        self.start = time.perf_counter()
        log.info("%s ...", self.name)
        return self

    def __exit__(self, *exc):
        self.timings[self.name] = round(time.perf_counter() - self.start, 3)
        if exc[0] is None:
            log.info("%s done in %.2f s", self.name, self.timings[self.name])


def run_month(
    month: str = "last",
    input_dir: str | Path | None = None,
    config: Config | str | Path = "feedback.toml",
) -> MonthResult:
    """Run the whole analysis for one month.

    Parameters
    ----------
    month : str
        ``YYYY-MM`` or ``"last"`` for the latest month present in the data.
    input_dir : path, optional
        Folder of raw exports; defaults to the configured input folder.
    config : Config or path
        A loaded configuration or the path of ``feedback.toml``.

    Examples
    --------
    >>> result = run_month("2026-10", "data/sample", "feedback.toml")  # doctest: +SKIP
    >>> result.comparison[["metric", "diff", "significant"]]            # doctest: +SKIP
    """
    cfg = config if isinstance(config, Config) else load_config(config)
    folder = Path(input_dir) if input_dir is not None else cfg.input
    timings: dict[str, float] = {}

    with _Timer(timings, "read"):
        exports = read_exports(folder, cfg)
    with _Timer(timings, "clean"):
        cleaned: CleanResult = clean_responses(exports, cfg)
    frame = cleaned.frame
    months_present = sorted(frame[S.MONTH].dropna().unique().tolist())
    month = resolve_month(month, months_present, current_month=_current_month(cfg))
    if month not in months_present:
        raise NoDataError(
            f"No feedback for {month} in {folder}: the input holds "
            + (f"{', '.join(months_present)}." if months_present else "no dated rows.")
            + " Check --month or add that month's exports to the input folder."
        )

    # Never analyse future months against a report month: history is up to the month.
    frame = frame[frame[S.MONTH] <= month].reset_index(drop=True)
    taxonomy = load_taxonomy(cfg.taxonomy)
    with _Timer(timings, "themes"):
        tagger = ThemeTagger(taxonomy, random_state=0)
        tagger.fit(frame[S.TEXT])
        tags = tagger.transform(frame[S.TEXT])
        frame = frame.assign(
            **{S.theme_column(t): tags[t].to_numpy(dtype=bool) for t in tags.columns},
            **{THEME_EVIDENCE: tagger.evidence(frame[S.TEXT]).to_numpy()},
        )
    with _Timer(timings, "sentiment"):
        scores = score_sentiment(frame[S.TEXT])
        frame = frame.assign(**{S.SENTIMENT: scores[S.SENTIMENT].to_numpy(), S.SENTIMENT_LABEL: scores[S.SENTIMENT_LABEL].to_numpy()})

    current = frame[frame[S.MONTH] == month].reset_index(drop=True)
    themes = list(taxonomy.ids)
    with _Timer(timings, "compare"):
        kpis = kpi_table(current, by=S.SERVICE_MODEL, themes=themes, min_n=cfg.min_group_size)
        vendor_kpis = kpi_table(current, by=S.VENDOR, themes=themes, min_n=cfg.min_group_size)
        comparison = compare_groups(current, themes=themes, min_n=cfg.min_group_size)
        vendors = compare_vendors(current, themes=themes, min_n=cfg.min_group_size)
        gap = perception_gap(current, min_n=cfg.min_group_size)
        impact = theme_impact(current, score=S.CSAT, themes=themes)
    return MonthResult(
        month=month,
        config=cfg,
        taxonomy=taxonomy,
        frame=current,
        history=frame,
        quarantine=cleaned.quarantine,
        quality=cleaned.quality,
        kpis=kpis,
        vendor_kpis=vendor_kpis,
        comparison=comparison,
        vendors=vendors,
        gap=gap,
        impact=impact,
        timings=timings,
    )


def _jsonable(value: Any) -> Any:
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float):
        return None if value != value else round(value, 6)
    if hasattr(value, "item"):
        return _jsonable(value.item())
    return value


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: _jsonable(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


def kpis_document(result: MonthResult) -> dict[str, Any]:
    """The machine-readable headline figures (``kpis.json``); no timestamps, so reruns match."""
    return {
        "schema_version": 1,
        "month": result.month,
        "responses": int(len(result.frame)),
        "min_group_size": result.config.min_group_size,
        "by_service_model": _records(result.kpis),
        "by_vendor": _records(result.vendor_kpis),
        "outsourced_vs_in_house": _records(result.comparison),
        "vendors_vs_in_house": _records(result.vendors),
        "perception_gap": _records(result.gap),
        "csat_drivers": _records(result.impact),
        "data_quality": _records(result.quality),
    }


def save_outputs(result: MonthResult, output_dir: str | Path | None) -> dict[str, Path]:
    """Write ``feedback.parquet``, ``kpis.json`` and ``quarantine.csv`` into ``output_dir``.

    An empty ``output_dir`` writes nothing (interactive use of the report notebook).
    The step timings go to ``.timings.json``, which the runner moves into ``run.log``.
    """
    if not output_dir:
        return {}
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "feedback": out / "feedback.parquet",
        "kpis": out / "kpis.json",
        "quarantine": out / "quarantine.csv",
    }
    result.frame.to_parquet(paths["feedback"], index=False)
    paths["kpis"].write_text(json.dumps(kpis_document(result), indent=2, sort_keys=False) + "\n", encoding="utf-8")
    neutralise_formulas(result.quarantine).to_csv(paths["quarantine"], index=False, encoding="utf-8")
    (out / TIMINGS_FILE).write_text(json.dumps(result.timings), encoding="utf-8")
    return paths
