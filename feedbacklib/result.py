"""The result of one month: what the report shows, computed before anything renders.

:func:`build_result` turns a month's tagged, scored rows into a :class:`MonthResult`;
:func:`kpis_document` and :func:`save_outputs` write it out. The orchestration that
produces the rows (read, clean, themes, sentiment) lives in :mod:`feedbacklib.pipeline`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from . import schema as S
from .emerging import UncoveredPartial, emerging_from_counts, find_emerging, fit_emerging, uncovered_partial
from .stats import headline_changes, top_movers
from .actions import fix_first_from_partial, select_call_list_from_partial, select_recognition_from_partial
from .clean import reason_counts
from .errors import InputError
from .quotes import theme_quotes_from_partial
from .stats.breakdowns import (
    Volume, channel_satisfaction_from_summary, pooled_team_rates_from_summary, sentiment_shares_from_summary,
    source_counts_from_summary, team_praise_from_summary, team_service_models_from_summary,
    volume_from_partial,
)
from .stats.casemix import adjusted_from_summary
from .stats.impact import impact_from_summary
from .stats.summaries import collapse
from .stats.tables import (
    compare_groups_from_summary, compare_vendors_from_summary, kpi_table_from_summary, perception_gap_from_summary,
)
from .config import Config
from .forking import Forked
from .parts import FORK_MIN_ROWS, CustomerParts, MonthParts, RunParts, ShownParts, month_parts
from .stats.drivers import drivers_from_summary
from .service import compare_service_from_partial, service_kpis_from_partial
from .history import (
    History, HistoryStore, build_history, monthly_theme_rates_from_counts, taxonomy_fingerprint,
    theme_counts_from_summary,
    uncovered_sample,
    theme_trends_from_counts, UNCOVERED_SAMPLE, AGGREGATES, uncovered_sample_of,
)
from .trends import kpi_trends_from_tables, month_kpi_table_from_summary
from .months import thin_reason
from .progress import StepTimer
from .safety import neutralise_formulas
from .themes import Taxonomy
from .themes.correction import theme_error_table
from .themes.discovery import uncovered_texts

__all__ = ["MonthResult", "build_result", "month_tables", "month_tables_from_parts", "kpis_document", "save_outputs",
           "TIMINGS_FILE"]

log = logging.getLogger(__name__)

TIMINGS_FILE = ".timings.json"


@dataclass(frozen=True)
class MonthResult:
    """Everything the monthly report shows, computed once by :func:`build_result` before anything renders.

    Frozen: the report and the notebooks only read it. Every table is a plain field (no
    statistic runs on first use), so the "compare" timing covers all of them.
    """

    month: str
    config: Config
    taxonomy: Taxonomy
    frame: pd.DataFrame            # the month's cleaned, tagged, scored rows
    history: History               # earlier months as aggregates (theme counts, KPI tables, contacts)
    quarantine: pd.DataFrame       # every rejected row of the input, with its reason
    quality: pd.DataFrame          # rows read / kept / quarantined per file
    kpis: pd.DataFrame             # kpi_table by service model
    vendor_kpis: pd.DataFrame      # kpi_table by vendor
    comparison: pd.DataFrame       # compare_groups outsourced vs in-house
    vendors: pd.DataFrame          # compare_vendors: each vendor vs in-house
    gap: pd.DataFrame              # perception_gap
    impact: pd.DataFrame           # theme_impact on CSAT
    #: Comments with text and theme hits by month and service model, this month included.
    theme_counts: pd.DataFrame
    #: Each theme this month against last month and the recent average (spikes).
    theme_trend: pd.DataFrame
    #: Per month (up to this one) the KPI table by service model: what the trend charts read.
    kpi_tables: pd.DataFrame
    #: Service KPIs (times, SLA met, reopen, repeat contact, FCR) by service model.
    service: pd.DataFrame
    #: Outsourced against in-house on the service KPIs, with tests.
    service_comparison: pd.DataFrame
    #: The headline KPIs (with intervals) per team.
    team_kpis: pd.DataFrame
    #: Outsourced against in-house adjusted for channel and contact reason, next to the raw figures.
    adjusted: pd.DataFrame
    #: Regression effect of each theme on CSAT, per service model.
    drivers: pd.DataFrame
    call_list: pd.DataFrame
    recognition: pd.DataFrame
    #: (candidates, growth): candidate themes among the month's comments no taxonomy theme covers.
    emerging: tuple[list, pd.DataFrame]
    fix_first: pd.DataFrame
    #: Satisfied share by channel and side (:func:`~feedbacklib.stats.channel_satisfaction`).
    channels: pd.DataFrame
    #: Praise rate per team against the other teams (:func:`~feedbacklib.stats.team_praise`).
    team_praise: pd.DataFrame
    #: Satisfied share per team, partially pooled (:func:`~feedbacklib.stats.pooled_team_rates`).
    pooled_teams: pd.DataFrame
    #: Sentiment shares per provider (:func:`~feedbacklib.stats.sentiment_shares`).
    sentiment: pd.DataFrame
    #: Monthly rates of the three themes that moved most against the recent average.
    theme_movers: pd.DataFrame
    #: KPI series by month and service model over the last 12 months (:func:`~feedbacklib.trends.kpi_trends_from_tables`).
    kpi_trend: pd.DataFrame
    #: Headline figure -> "better" / "worse" / "same" against the previous month (empty on a thin month).
    headline_changes: dict[str, str]
    #: Rows of the month, and distinct customers where known (:func:`~feedbacklib.stats.breakdowns.volume`).
    volume: Volume
    #: Rows per source, most frequent first (:func:`~feedbacklib.stats.breakdowns.source_counts`).
    source_counts: dict[str, int]
    #: Each named team's service model (:func:`~feedbacklib.stats.breakdowns.team_service_models`).
    team_models: dict[str, str]
    #: The most frequent themes (praise aside) with their comment counts, and their representative,
    #: PII-redacted quotes (theme, text, team, source) (:func:`~feedbacklib.quotes.theme_quotes`).
    quote_themes: pd.DataFrame
    quotes: pd.DataFrame
    #: Per theme the tagger's measured error and the month's corrected rate
    #: (:func:`~feedbacklib.themes.correction.theme_error_table`); None without a labels file.
    theme_errors: pd.DataFrame | None
    #: The taxonomy's labels file could not be read (logged): the tagger's error is not measured.
    theme_errors_failed: bool
    #: Quarantined rows per reason label (:func:`~feedbacklib.clean.reason_counts`): ``reason``, ``rows``.
    quarantine_reasons: pd.DataFrame
    timings: dict[str, float] = field(default_factory=dict)
    #: Why the month is too thin to compare (plain words, with its count), or None for a full month.
    #: A thin month's report shows what there is and states no findings; it is never stored.
    thin: str | None = None
    #: ``(file name, why)`` for every entry of the input folder that was not read (data-quality section).
    skipped: list[tuple[str, str]] = field(default_factory=list)
    #: Every month's rows processed in this run (the month included), only with
    #: ``run_month(..., keep_rows=True)`` (analysts' multi-month frames); None in the report.
    rows: pd.DataFrame | None = None
    #: The month's :class:`~feedbacklib.emerging.UncoveredPartial` (the store's uncovered sample).
    uncovered: UncoveredPartial | None = None
    #: With the rows left on the Dask workers (``frame`` then has no rows, only the columns): the Parquet
    #: files that hold the month's rows (the history store's part files, or the engine's ``rows_dir``),
    #: from which :func:`save_outputs` writes ``feedback.parquet``.
    row_parts: tuple[str, ...] = ()

    @property
    def theme_ids(self) -> list[str]:
        return list(self.taxonomy.ids)

    @property
    def previous_month(self) -> str | None:
        return previous_month(self.history, self.month)

    def aggregates(self) -> dict[str, pd.DataFrame]:
        """What the history store keeps of this month (see :func:`~feedbacklib.history.month_aggregates`),
        taken from the tables already computed for the report."""
        def this_month(table: pd.DataFrame) -> pd.DataFrame:
            return table[(table[S.MONTH] == self.month).to_numpy(dtype=bool)].reset_index(drop=True)

        if self.uncovered is not None and self.uncovered.k >= UNCOVERED_SAMPLE:
            top = self.uncovered.sample.head(UNCOVERED_SAMPLE)  # in hash order: the bottom-k of a bottom-k
            uncovered = uncovered_sample_of(UncoveredPartial(UNCOVERED_SAMPLE, self.uncovered.total, top), self.month)
        else:
            uncovered = uncovered_sample(self.frame, self.month)
        return {"theme_counts": this_month(self.theme_counts), "kpis": this_month(self.kpi_tables),
                "uncovered": uncovered}


def previous_month(history: History, month: str) -> str | None:
    """The latest month of ``history`` before ``month``, or None."""
    months = [m for m in history.months if m < month]
    return months[-1] if months else None


#: Emerging themes already found, by a digest of their inputs: a discovery fit costs seconds,
#: and the same month is often analysed again in one process (notebooks, tests).
_EMERGING_CACHE: dict[str, tuple[list, pd.DataFrame]] = {}
_EMERGING_CACHE_SIZE = 4


def _digest(*parts: pd.Series | str | None) -> str:
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, pd.Series):
            h.update(pd.util.hash_pandas_object(part.astype(str), index=False).to_numpy().tobytes())
        h.update(b"\0" + str(None if isinstance(part, pd.Series) else part).encode() + b"\1")
    return h.hexdigest()


def emerging_themes(frame: pd.DataFrame, history: History, month: str) -> tuple[list, pd.DataFrame]:
    """Candidate themes among ``frame``'s comments that no taxonomy theme covers, with their growth.

    Returns (candidates, growth); both empty when fewer than 30 comments are uncovered.
    One function for the report and the notebooks (:func:`feedbacklib.emerging.find_emerging`):
    fitted on a fixed-seed sample, non-themes ("ok", "yes") dropped, no quote twice, last
    month's labels kept.
    """
    key, (candidates, growth) = _emerging_entry(frame, history, month)
    _remember_emerging(key, (candidates, growth))
    return list(candidates), growth.copy()


def _emerging_entry(frame: pd.DataFrame, history: History, month: str) -> tuple[str, tuple[list, pd.DataFrame]]:
    """(cache key, :func:`find_emerging`'s result) of :func:`emerging_themes`, from the cache when there."""
    past = history.uncovered
    past = past[past[S.MONTH] < month]
    current = uncovered_texts(frame)
    fit_on = uncovered_partial(frame).texts     # the same sample as the month's parts added up
    texts, months = past[S.TEXT].astype(object), past[S.MONTH].astype(str)
    before = previous_month(history, month)
    key = _digest(current, fit_on, texts, months, month, before)
    if key in _EMERGING_CACHE:
        return key, _EMERGING_CACHE[key]
    return key, find_emerging(current, texts, months, month=month, previous_month=before, fit_on=fit_on)


def _remember_emerging(key: str, found: tuple[list, pd.DataFrame]) -> None:
    if key not in _EMERGING_CACHE:
        while len(_EMERGING_CACHE) >= _EMERGING_CACHE_SIZE:
            _EMERGING_CACHE.pop(next(iter(_EMERGING_CACHE)))
        _EMERGING_CACHE[key] = found


def build_result(month: str, cfg: Config, taxonomy: Taxonomy, rows: pd.DataFrame, quarantine: pd.DataFrame,
                 quality: pd.DataFrame, timings: dict[str, float], bar=None, *,
                 store: HistoryStore | None = None, stored_months: list[str] | tuple = (),
                 history: History | None = None, volumes: dict[str, int] | None = None) -> MonthResult:
    """The comparisons of one month on rows already tagged and scored (pandas and Dask paths alike).

    ``rows`` holds the report month and any earlier months processed in this run; the
    earlier ones are reduced to aggregates (:class:`~feedbacklib.history.History`) together
    with ``stored_months`` read from ``store``, and every month of ``rows`` is written to the
    store, in one commit when everything here has succeeded (see ``HistoryStore.transaction``).
    A ready ``history`` replaces all that (``rows`` must then hold only the month).
    ``volumes`` (kept responses per month of the input) decides whether the month is thin;
    a thin month is never written to the store, so it cannot replace a full one.
    """
    # The store's new partitions are committed together when the block ends (or staged for the
    # report run to commit with the report folder); an error anywhere here commits nothing.
    with (store.transaction() if store is not None else contextlib.nullcontext()):
        return _build_result(month, cfg, taxonomy, rows, quarantine, quality, timings, bar, store=store,
                             stored_months=stored_months, history=history, volumes=volumes)


def _build_result(month, cfg, taxonomy, rows, quarantine, quality, timings, bar, *, store, stored_months, history,
                  volumes):
    in_month = (rows[S.MONTH] == month).fillna(False).to_numpy(dtype=bool)
    # every row in the month (the usual run): the same rows without a copy of the month (copy-on-write)
    current = (rows if in_month.all() else rows[in_month]).reset_index(drop=True)
    volumes = {**(volumes or {}), month: int(in_month.sum())}
    thin = thin_reason(month, volumes, min_group_size=cfg.min_group_size)
    if thin:
        log.info("month %s is thin (%s): the report states no findings and the history store keeps it out",
                 month, thin)
    themes = list(taxonomy.ids)
    with StepTimer(timings, "compare", bar):
        if history is None:
            past = rows[~in_month & (rows[S.MONTH] < month).fillna(False).to_numpy(dtype=bool)]
            history, fresh = build_history(past, current, themes, store=store, stored_months=list(stored_months),
                                           min_n=cfg.min_group_size,
                                           sla_first_response_hours=cfg.sla_first_response_hours)
            del past
            if store is not None:
                _store_months(store, rows, fresh, taxonomy, volumes, cfg.min_group_size)
        tables = month_tables(current, history, month, cfg, taxonomy, quarantine=quarantine)
    result = MonthResult(month=month, config=cfg, taxonomy=taxonomy, frame=current, history=history,
                         quarantine=quarantine, quality=quality, timings=timings, thin=thin, **tables)
    if store is not None and not thin:
        t0 = time.perf_counter()
        _store_months(store, current, {month: result.aggregates()}, taxonomy)
        timings["history"] = round(time.perf_counter() - t0, 3)
    return result


def month_tables(current: pd.DataFrame, history: History, month: str, cfg: Config,
                 taxonomy: Taxonomy, *, quarantine: pd.DataFrame | None = None) -> dict[str, Any]:
    """Every table of :class:`MonthResult` for the month's rows ``current`` and the earlier months' ``history``
    (and the input's rejected rows ``quarantine``, for the reason counts).

    The tables a summary of the rows gives come from :func:`month_tables_from_parts` on the rows'
    :func:`~feedbacklib.parts.month_parts`; the emerging themes still read the rows (two rounds:
    :func:`emerging_from_parts`).
    """
    themes = list(taxonomy.ids)
    # the emerging themes (a model fitted on the uncovered comments) in a forked child meanwhile
    with Forked(_emerging_entry, current, history, month, fork=len(current) >= FORK_MIN_ROWS) as later:
        parts = month_parts(current, month, themes, cfg, contacts=history.contacts)
        out = month_tables_from_parts(parts, history, month, cfg, taxonomy, quarantine=quarantine)
        key, found = later.result()
    _remember_emerging(key, found)  # as if found here: a notebook asking again reads it from the cache
    out["emerging"] = list(found[0]), found[1].copy()
    out["uncovered"] = parts.shown.uncovered  # the store's uncovered sample (MonthResult.aggregates)
    return out


def month_tables_from_parts(parts: MonthParts, history: History, month: str, cfg: Config, taxonomy: Taxonomy, *,
                            quarantine: pd.DataFrame | None = None,
                            service: pd.DataFrame | None = None) -> dict[str, Any]:
    """The tables of :class:`MonthResult` that the month's additive :class:`~feedbacklib.parts.MonthParts`
    give, identical to :func:`month_tables` on the rows the parts were built from.

    ``service`` is the month's :func:`~feedbacklib.service.service_kpis` by service model (it needs the
    customers' contacts across months); with it, ``kpi_tables``, ``kpi_trend`` and ``headline_changes``
    are included too; without it, from the parts' :class:`~feedbacklib.parts.ShownParts` when they hold
    the service partial. From the shown parts too: ``service``, ``service_comparison``, ``call_list``,
    ``recognition``, ``fix_first``, ``volume``, ``quote_themes`` and ``quotes``. Not included (it needs a
    second pass over the parts): ``emerging`` (:func:`emerging_from_parts`).
    """
    themes = list(taxonomy.ids)
    min_n = cfg.min_group_size
    summary = parts.summary
    kw: dict[str, Any] = dict(themes=themes, min_n=min_n)
    out: dict[str, Any] = {
        "kpis": kpi_table_from_summary(summary, S.SERVICE_MODEL, **kw),
        "vendor_kpis": kpi_table_from_summary(summary, S.VENDOR, **kw),
        "comparison": compare_groups_from_summary(summary, **kw),
        "vendors": compare_vendors_from_summary(summary, **kw),
        "gap": perception_gap_from_summary(summary, min_n=min_n),
        "impact": impact_from_summary(summary, score=S.CSAT),
        "team_kpis": kpi_table_from_summary(summary, S.TEAM, **kw),
    }
    now = theme_counts_from_summary(summary, themes, by=S.SERVICE_MODEL, month=month)
    out["theme_counts"] = pd.concat([history.theme_counts, now], ignore_index=True)
    out["theme_trend"] = theme_trends_from_counts(out["theme_counts"], month, themes, min_n=min_n)
    shown = parts.shown
    if service is None and shown.service is not None:
        service = service_kpis_from_partial(shown.service, min_n=min_n)
    if service is not None:
        now = month_kpi_table_from_summary(summary, service, month, themes=themes, min_n=min_n)
        out["kpi_tables"] = pd.concat([history.kpis, now], ignore_index=True)
        out["kpi_trend"] = kpi_trends_from_tables(out["kpi_tables"], month, months=12, themes=[], min_n=min_n)
        out["headline_changes"] = headline_changes(out["kpi_tables"], month, previous_month(history, month))
    # case-mix adjusted next to the raw comparison above (not computed again)
    out["adjusted"] = adjusted_from_summary(collapse(summary, (S.SERVICE_MODEL,), scores=False),
                                            out["comparison"], group_col=S.SERVICE_MODEL, a=S.OUTSOURCED,
                                            b=S.IN_HOUSE, min_n=min_n)
    out["drivers"] = drivers_from_summary(collapse(summary, (S.SERVICE_MODEL,), ()), S.CSAT, S.SERVICE_MODEL,
                                          min_n=min_n)
    out["channels"] = channel_satisfaction_from_summary(summary)
    out["team_praise"] = team_praise_from_summary(summary, min_n=min_n)
    out["pooled_teams"] = pooled_team_rates_from_summary(summary)
    out["sentiment"] = sentiment_shares_from_summary(summary)
    out["theme_movers"] = monthly_theme_rates_from_counts(out["theme_counts"], top_movers(out["theme_trend"]))
    out["source_counts"] = source_counts_from_summary(summary)
    out["team_models"] = team_service_models_from_summary(summary)
    out.update(theme_errors(taxonomy, out["theme_counts"], month))
    out["quarantine_reasons"] = reason_counts(quarantine if quarantine is not None else pd.DataFrame())
    out.update(shown_tables(shown, out, min_n=min_n, service=service))
    return out


__all__ += ["shown_tables", "emerging_from_parts"]


def shown_tables(shown: ShownParts, out: dict[str, Any], *, min_n: int,
                 service: pd.DataFrame | None = None) -> dict[str, Any]:
    """The tables of :class:`MonthResult` that the month's :class:`~feedbacklib.parts.ShownParts` give
    (those it holds): service KPIs and comparison, call list, fix first (reading ``out``'s impact and
    theme trend), recognition, volume and quotes."""
    tables: dict[str, Any] = {}
    if shown.service is not None:
        tables["service"] = service if service is not None else service_kpis_from_partial(shown.service,
                                                                                          min_n=min_n)
        tables["service_comparison"] = compare_service_from_partial(shown.service, min_n=min_n)
    if shown.call_list is not None:
        tables["call_list"] = select_call_list_from_partial(shown.call_list)
    if shown.recognition is not None:
        tables["recognition"] = select_recognition_from_partial(shown.recognition)
    if shown.fix_first is not None:
        tables["fix_first"] = fix_first_from_partial(out["impact"], shown.fix_first, out["theme_trend"], min_n=min_n)
    if shown.volume is not None:
        tables["volume"] = volume_from_partial(shown.volume)
    if shown.quotes is not None:
        tables["quote_themes"], tables["quotes"] = theme_quotes_from_partial(shown.quotes)
    return tables


def emerging_from_parts(uncovered: UncoveredPartial, part_texts: Iterable | Callable, history: History,
                        month: str, *, fit: Callable = fit_emerging) -> tuple[list, pd.DataFrame]:
    """:func:`emerging_themes` in two rounds over the parts of a month: the discovery is fitted on the
    sample of the parts' added-up :class:`~feedbacklib.emerging.UncoveredPartial` (``uncovered``), then
    ``part_texts(models)`` (an iterable, or a function of the fitted models that returns one) gives each
    part's :class:`~feedbacklib.emerging.EmergingCounts` (``emerging_counts(uncovered_texts(part), models)``,
    computed where the part is), which are added up. ``fit``: :func:`~feedbacklib.emerging.fit_emerging`,
    or a function that runs it elsewhere with the same arguments (a Dask worker: the fit's memory is then
    not the client's)."""
    past = history.uncovered
    past = past[past[S.MONTH] < month]
    texts, months = past[S.TEXT].astype(object), past[S.MONTH].astype(str)
    models = fit(uncovered.texts, uncovered.total, texts, months, previous_month=previous_month(history, month))
    if models is None:
        return [], pd.DataFrame()
    counts = part_texts(models) if callable(part_texts) else part_texts
    return emerging_from_counts(models, sum(counts), texts, months, month=month)


def theme_errors(taxonomy: Taxonomy, theme_counts: pd.DataFrame, month: str) -> dict[str, Any]:
    """The ``theme_errors`` and ``theme_errors_failed`` fields of :class:`MonthResult`: a labels file
    that cannot be read is logged (its message names server paths) and leaves the table None."""
    try:
        return {"theme_errors": theme_error_table(taxonomy, theme_counts, month), "theme_errors_failed": False}
    except (InputError, ValueError) as exc:
        log.warning("theme error notes: %s", exc)
        return {"theme_errors": None, "theme_errors_failed": True}


def _store_months(store: HistoryStore, rows: pd.DataFrame, aggregates: dict[str, dict[str, pd.DataFrame]],
                  taxonomy: Taxonomy, volumes: dict[str, int] | None = None, min_group_size: int = 0) -> None:
    """Write each month of ``aggregates`` (its rows from ``rows``) into the history store; thin
    months (see :func:`~feedbacklib.months.thin_reason`) are left out."""
    meta = {"taxonomy": taxonomy_fingerprint(taxonomy)}
    for month, parts in aggregates.items():
        if volumes and thin_reason(month, volumes, min_group_size=min_group_size):
            log.info("history: %s not stored (too thin to stand for the month)", month)
            continue
        part = rows[(rows[S.MONTH] == month).fillna(False).to_numpy(dtype=bool)]
        store.write_month(month, part.reset_index(drop=True), metadata=meta, aggregates=parts)
        log.info("history: %s %s %s (%d rows)", month, "staged for" if store.stage else "stored in", store.root,
                 len(part))


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
        "responses": int(result.volume.responses),
        "thin": result.thin is not None,
        "thin_reason": result.thin,
        "min_group_size": result.config.min_group_size,
        "by_service_model": _records(result.kpis),
        "by_vendor": _records(result.vendor_kpis),
        "by_team": _records(result.team_kpis),
        "outsourced_vs_in_house": _records(result.comparison),
        "vendors_vs_in_house": _records(result.vendors),
        "service_by_service_model": _records(result.service),
        "service_outsourced_vs_in_house": _records(result.service_comparison),
        "adjusted_outsourced_vs_in_house": _records(result.adjusted),
        "perception_gap": _records(result.gap),
        "csat_drivers": _records(result.impact),
        "csat_theme_effects": _records(result.drivers),
        "theme_trends": _records(result.theme_trend),
        "data_quality": _records(result.quality),
        "skipped_files": [{"file": name, "why": why} for name, why in result.skipped],
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
    if result.row_parts:
        _feedback_from_parts(result, paths["feedback"])
    else:
        result.frame.to_parquet(paths["feedback"], index=False)
    paths["kpis"].write_text(json.dumps(kpis_document(result), indent=2, sort_keys=False) + "\n", encoding="utf-8")
    neutralise_formulas(result.quarantine).to_csv(paths["quarantine"], index=False, encoding="utf-8")
    (out / TIMINGS_FILE).write_text(json.dumps(result.timings), encoding="utf-8")
    return paths


def _feedback_from_parts(result: MonthResult, path: Path) -> None:
    """``feedback.parquet`` from the Parquet parts holding the month's rows (``result.row_parts``), one part
    in memory at a time: the month's rows (a part may hold other months'), the columns and dtypes of
    ``result.frame``; rows in part order (input file order), each part in time order."""
    like = result.frame
    schema = pa.Schema.from_pandas(like, preserve_index=False)
    with pq.ParquetWriter(path, schema) as writer:
        for part in result.row_parts:
            rows = pq.read_table(part).to_pandas()
            if S.MONTH in rows.columns:
                rows = rows[(rows[S.MONTH].astype("string") == result.month).fillna(False).to_numpy(dtype=bool)]
            else:  # a history store part: the month is the partition's
                rows = rows.assign(**{S.MONTH: result.month})
            rows = rows.reindex(columns=like.columns).astype(like.dtypes.to_dict())
            writer.write_table(pa.Table.from_pandas(rows, schema=schema, preserve_index=False))


__all__ += ["history_from_parts", "result_from_parts"]


def history_from_parts(run: RunParts, customers: CustomerParts, themes: list[str], *, store: HistoryStore | None,
                       stored_months: Sequence[str], min_n: int,
                       month_dtype: Any = "string") -> tuple[History, dict[str, dict[str, pd.DataFrame]]]:
    """:func:`~feedbacklib.history.build_history` from the parts of a run whose rows stay on the workers:
    the earlier months of the input (``run.earlier``, their service partials in ``customers.earlier``)
    as the aggregates :func:`~feedbacklib.history.month_aggregates` makes of their rows, plus the stored
    months' aggregates. The earlier contacts stay on the workers (they were used there, in the
    customer-key shuffle): ``History.contacts`` is empty. ``month_dtype``: the rows' month column's
    (the theme counts of rows keep it)."""
    stored = {m: {name: store.read_aggregate(m, name) for name in AGGREGATES} for m in stored_months} \
        if store is not None else {}
    fresh: dict[str, dict[str, pd.DataFrame]] = {}
    for m, parts in sorted(run.earlier.items()):
        service = customers.earlier.get(m)
        if service is None:
            raise ValueError(f"The customer-key shuffle returned no service partial for the earlier month {m}.")
        kpis = month_kpi_table_from_summary(parts.summary, service_kpis_from_partial(service, min_n=min_n), m,
                                            themes=themes, min_n=min_n)
        counts = theme_counts_from_summary(parts.summary, themes, by=S.SERVICE_MODEL, month=m)
        fresh[m] = {"theme_counts": counts.astype({S.MONTH: month_dtype}),
                    "kpis": kpis, "uncovered": uncovered_sample_of(parts.shown.uncovered, m)}
    return History.of_months({**stored, **fresh}), fresh


def result_from_parts(month: str, cfg: Config, taxonomy: Taxonomy, run: RunParts, customers: CustomerParts,
                      emerging_counts: Callable, frame: pd.DataFrame, quarantine: pd.DataFrame,
                      quality: pd.DataFrame, timings: dict[str, float], *, store: HistoryStore | None = None,
                      stored_months: Sequence[str] = (), volumes: dict[str, int] | None = None,
                      row_parts: Sequence[str] = (), fit_emerging_with: Callable = fit_emerging) -> MonthResult:
    """:func:`build_result` for a run whose rows stay on the engine's workers: every table from the
    partitions' :class:`~feedbacklib.parts.RunParts` and the customer-key shuffle's
    :class:`~feedbacklib.parts.CustomerParts`; the emerging themes' discovery is fitted by
    ``fit_emerging_with`` (``fit`` of :func:`emerging_from_parts`) and their second round is
    ``emerging_counts(models)`` (the partitions' counts, added up where they are). ``frame``: the
    month's columns without rows. The earlier months' and the month's aggregates go to ``store`` (their
    rows were staged there by the workers)."""
    themes = list(taxonomy.ids)
    min_n = cfg.min_group_size
    volumes = {**(volumes or {}), month: run.rows}
    thin = thin_reason(month, volumes, min_group_size=min_n)
    history, fresh = history_from_parts(run, customers, themes, store=store, stored_months=stored_months,
                                        min_n=min_n, month_dtype=frame[S.MONTH].dtype)
    shown = replace(run.month.shown, service=customers.service, volume=customers.volume)
    parts = replace(run.month, shown=shown)
    tables = month_tables_from_parts(parts, history, month, cfg, taxonomy, quarantine=quarantine)
    uncovered = shown.uncovered if shown.uncovered is not None else uncovered_partial(frame)
    tables["emerging"] = emerging_from_parts(uncovered, lambda models: [emerging_counts(models)], history, month,
                                             fit=fit_emerging_with)
    result = MonthResult(month=month, config=cfg, taxonomy=taxonomy, frame=frame, history=history,
                         quarantine=quarantine, quality=quality, timings=timings, thin=thin,
                         row_parts=tuple(row_parts), uncovered=uncovered, **tables)
    if store is not None:
        meta = {"taxonomy": taxonomy_fingerprint(taxonomy)}
        months = {**fresh, **({} if thin else {month: result.aggregates()})}
        for m, aggregates in months.items():
            if thin_reason(m, volumes, min_group_size=min_n):
                continue
            store.write_month(m, None, metadata=meta, aggregates=aggregates)
    return result
