"""The whole flow for one month, used by the report notebook and the CLI alike.

``run_month`` reads every export in the input folder, cleans it into the
canonical frame (quarantining what it must), tags themes, scores sentiment and
computes the comparisons the report shows. It returns a :class:`MonthResult`
that the report functions render and :func:`save_outputs` writes to disk.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import logging
import time
from dataclasses import dataclass, field
from functools import cached_property
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
)
from .actions import fix_first, select_call_list, select_recognition
from .stats.casemix import adjusted_compare
from .config import Config, load_config
from .stats.drivers import theme_drivers
from .stats.impact import theme_impact
from .service import compare_service, service_kpis
from .history import (
    HISTORY_DIR, History, HistoryStore, build_history, taxonomy_fingerprint, theme_counts_of, uncovered_sample,
    theme_trends_from_counts,
)
from .trends import month_kpi_table
from .errors import NoDataError
from .months import as_date, resolve_month, thin_reason
from .io import read_exports
from .progress import progress_bar, stage_event
from .safety import neutralise_formulas
from .sentiment import score_sentiment
from .themes import Taxonomy, ThemeTagger, load_taxonomy
from .themes.tagger import tag_themes

__all__ = ["MonthResult", "run_month", "save_outputs", "month_volumes", "report_month"]

log = logging.getLogger(__name__)

THEME_EVIDENCE = S.THEME_EVIDENCE
TIMINGS_FILE = ".timings.json"
FIT_SAMPLE = 20_000
#: Uncovered comments the emerging-theme discovery is fitted on, at most.
EMERGING_FIT_SAMPLE = 5_000


@dataclass
class MonthResult:
    """Everything the monthly report shows, computed once."""

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
    timings: dict[str, float] = field(default_factory=dict)
    #: Why the month is too thin to compare (plain words, with its count), or None for a full month.
    #: A thin month's report shows what there is and states no findings; it is never stored.
    thin: str | None = None
    #: ``(file name, why)`` for every entry of the input folder that was not read (data-quality section).
    skipped: list[tuple[str, str]] = field(default_factory=list)
    #: Every month's rows processed in this run (the month included), only with
    #: ``run_month(..., keep_rows=True)`` (analysts' multi-month frames); None in the report.
    rows: pd.DataFrame | None = None

    @property
    def theme_ids(self) -> list[str]:
        return list(self.taxonomy.ids)

    @property
    def previous_month(self) -> str | None:
        months = [m for m in self.history.months if m < self.month]
        return months[-1] if months else None

    # The tables below are derived from the ones above on first use (both the
    # pandas and the Dask path share them), then kept.

    @cached_property
    def theme_counts(self) -> pd.DataFrame:
        """Comments with text and theme hits by month and service model, this month included."""
        now = theme_counts_of(self.frame.assign(**{S.MONTH: self.month}), self.theme_ids, by=S.SERVICE_MODEL)
        return pd.concat([self.history.theme_counts, now], ignore_index=True)

    @cached_property
    def theme_trend(self) -> pd.DataFrame:
        """Each theme this month against last month and the recent average (spikes)."""
        return theme_trends_from_counts(self.theme_counts, self.month, self.theme_ids,
                                        min_n=self.config.min_group_size)

    @cached_property
    def kpi_tables(self) -> pd.DataFrame:
        """Per month (up to this one) the KPI table by service model: what the trend charts read."""
        now = month_kpi_table(self.frame, self.history.contacts, self.month, themes=self.theme_ids,
                              min_n=self.config.min_group_size,
                              sla_first_response_hours=self.config.sla_first_response_hours)
        return pd.concat([self.history.kpis, now], ignore_index=True)

    @cached_property
    def service(self) -> pd.DataFrame:
        """Service KPIs (times, SLA met, reopen, repeat contact, FCR) by service model."""
        return service_kpis(self.frame, self.history.contacts, by=S.SERVICE_MODEL,
                            sla_first_response_hours=self.config.sla_first_response_hours,
                            min_n=self.config.min_group_size)

    @cached_property
    def service_comparison(self) -> pd.DataFrame:
        """Outsourced against in-house on the service KPIs, with tests."""
        return compare_service(self.frame, self.history.contacts,
                               sla_first_response_hours=self.config.sla_first_response_hours,
                               min_n=self.config.min_group_size)

    @cached_property
    def team_kpis(self) -> pd.DataFrame:
        """The headline KPIs (with intervals) per team."""
        return kpi_table(self.frame, by=S.TEAM, themes=self.theme_ids, min_n=self.config.min_group_size)

    @cached_property
    def adjusted(self) -> pd.DataFrame:
        """Outsourced against in-house adjusted for channel and contact reason, next to the raw figures."""
        return adjusted_compare(self.frame, group_col=S.SERVICE_MODEL, a=S.OUTSOURCED, b=S.IN_HOUSE,
                                themes=self.theme_ids, min_n=self.config.min_group_size)

    @cached_property
    def drivers(self) -> pd.DataFrame:
        """Regression effect of each theme on CSAT, per service model."""
        return theme_drivers(self.frame, score=S.CSAT, by=S.SERVICE_MODEL, themes=self.theme_ids,
                             min_n=self.config.min_group_size)

    @cached_property
    def call_list(self) -> pd.DataFrame:
        return select_call_list(self.frame, self.config.call_list_size)

    @cached_property
    def recognition(self) -> pd.DataFrame:
        return select_recognition(self.frame)

    @cached_property
    def emerging(self) -> tuple[list, pd.DataFrame]:
        """Candidate themes among this month's comments that no taxonomy theme covers, with their growth.

        Returns (candidates, growth); both empty when fewer than 30 comments are uncovered.
        """
        from .emerging import find_emerging
        from .themes.discovery import uncovered_texts

        # One function for the report and the notebooks (feedbacklib.emerging): fitted on a fixed-seed
        # sample, non-themes ("ok", "yes") dropped, no quote twice, last month's labels kept.
        past = self.history.uncovered
        past = past[past[S.MONTH] < self.month]
        return find_emerging(uncovered_texts(self.frame), past[S.TEXT].astype(object), past[S.MONTH].astype(str),
                             month=self.month, previous_month=self.previous_month)

    def aggregates(self) -> dict[str, pd.DataFrame]:
        """What the history store keeps of this month (see :func:`~feedbacklib.history.month_aggregates`),
        taken from the tables already computed for the report."""
        def this_month(table: pd.DataFrame) -> pd.DataFrame:
            return table[(table[S.MONTH] == self.month).to_numpy(dtype=bool)].reset_index(drop=True)

        return {"theme_counts": this_month(self.theme_counts), "kpis": this_month(self.kpi_tables),
                "uncovered": uncovered_sample(self.frame, self.month)}

    @cached_property
    def fix_first(self) -> pd.DataFrame:
        return fix_first(self.impact, self.frame, self.theme_trend, min_n=self.config.min_group_size)


def month_volumes(frame: pd.DataFrame) -> dict[str, int]:
    """Kept responses per month of a cleaned frame (what ``last`` and the thin rule count)."""
    counts = frame[S.MONTH].dropna().astype(str).value_counts()
    return {str(m): int(n) for m, n in sorted(counts.items())}


def report_month(month: str, volumes: dict[str, int], cfg: Config, folder: object, *,
                 today: _dt.date, baseline: dict[str, int] | None = None) -> str:
    """Resolve ``month`` (``"last"`` or ``YYYY-MM``, see :mod:`feedbacklib.months`) and check the
    input holds it; else :class:`NoDataError`. ``baseline``: volumes of stored months."""
    month = resolve_month(month, volumes, today=today, min_group_size=cfg.min_group_size, baseline=baseline)
    if not volumes.get(month):
        present = [m for m, n in volumes.items() if n]
        raise NoDataError(
            f"No feedback for {month} in {folder}: the input holds "
            + (f"{', '.join(present)}." if present else "no dated rows.")
            + " Check --month or add that month's exports to the input folder."
        )
    return month


class _Timer:
    def __init__(self, timings: dict[str, float], name: str, bar=None, rows: int | None = None):
        self.timings, self.name, self.bar, self.rows = timings, name, bar, rows

    def __enter__(self):
        self.start = time.perf_counter()
        log.info("%s ...", self.name)
        if self.bar is not None:
            self.bar.set_postfix_str(self.name)
        stage_event(self.name, "start", rows=self.rows)  # feedback-report run's progress lines
        return self

    def __exit__(self, *exc):
        self.timings[self.name] = round(time.perf_counter() - self.start, 3)
        if self.bar is not None:
            self.bar.update(1)
        if exc[0] is None:
            log.info("%s done in %.2f s", self.name, self.timings[self.name])
        stage_event(self.name, "failed" if exc[0] else "end", rows=self.rows, seconds=self.timings[self.name])


def run_month(
    month: str = "last",
    input_dir: str | Path | None = None,
    config: Config | str | Path = "feedback.toml",
    *,
    progress: bool | None = False,
    engine: str | None = None,
    scheduler: Any = None,
    history_dir: str | Path | None = None,
    keep_rows: bool = False,
    today: _dt.date | str | None = None,
    history_out: str | Path | None = None,
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
    progress : bool or None
        Show a progress bar over the steps (read, clean, themes, sentiment,
        compare). ``False`` (the default, so the report notebook never shows
        one), ``True``, or ``None`` to decide automatically; see
        :mod:`feedbacklib.progress`.
    engine : "pandas", "dask" or None
        Where cleaning, tagging and sentiment run. None: ``FEEDBACK_ENGINE``, else
        ``[run] engine`` in feedback.toml, else pandas. See :mod:`feedbacklib.scale`.
    scheduler : str or distributed.Client, optional
        Dask only: a scheduler address (``tcp://host:8786``) or a client; None:
        ``FEEDBACK_DASK_SCHEDULER``, else ``[run] scheduler``, else a local cluster.
    history_dir : path, optional
        The monthly history store (:class:`~feedbacklib.history.HistoryStore`; the
        report command uses ``<output>/history``). Earlier months found there (tagged
        with the same taxonomy) are read as aggregates instead of being tagged and
        scored again, and every month processed is written there. None: no store;
        earlier months in the input are processed in memory and kept as aggregates.
    history_out : path, "" or None
        Where the new partitions of the store go. None: committed into ``history_dir``
        when the analysis has succeeded, under the output folder's lock. A folder (the
        report notebook passes its ``output_dir``): staged into ``<folder>/history`` for
        ``feedback-report run`` to commit together with the report; skipped, with a
        warning, when that folder no longer exists (a published report.ipynb run again).
        ``""``: the store is only read.
    keep_rows : bool
        Keep every processed month's rows in ``result.rows`` (for analysts' multi-month
        frames); by default only the report month's rows stay in memory.
    today : date, ``"YYYY-MM-DD"`` or None
        The date the run counts as today: ``"last"`` picks the latest full month that
        ended before it (:mod:`feedbacklib.months`). Needed only for ``"last"``: the CLI
        and the notebooks' parameter cells pass it (nothing here reads the clock).

    Examples
    --------
    >>> result = run_month("2026-10", "data/sample", "feedback.toml")  # doctest: +SKIP
    >>> result.comparison[["metric", "diff", "significant"]]            # doctest: +SKIP
    """
    cfg = config if isinstance(config, Config) else load_config(config)
    folder = Path(input_dir) if input_dir is not None else cfg.input
    today = as_date(today, cfg.timezone)
    timings: dict[str, float] = {}
    # --- scale-out hook (issue 7): the Dask engine runs read/clean/themes/sentiment partition-wise
    from .scale import resolve_engine, run_month_dask

    store = _history_store(history_dir, history_out)
    engine, scheduler = resolve_engine(cfg, engine, scheduler)
    if engine == "dask":
        return run_month_dask(month, folder, cfg, scheduler=scheduler, timings=timings, store=store, today=today)
    # --- end of hook
    with progress_bar(total=len(_STEPS), desc="Analysing feedback", unit="step", progress=progress) as bar:
        return _run_month(month, folder, cfg, timings, bar, store, keep_rows, today)


#: The timed steps of :func:`run_month`, in order (one progress-bar tick each).
_STEPS = ("read", "clean", "themes", "sentiment", "compare")


def _history_store(history_dir: str | Path | None, history_out: str | Path | None) -> HistoryStore | None:
    """The store of ``history_dir`` writing where ``history_out`` says (see :func:`run_month`)."""
    if not history_dir:
        return None
    if history_out is None:
        return HistoryStore(history_dir)
    if not str(history_out):
        return HistoryStore(history_dir, stage=False)
    out = Path(history_out)
    if not out.is_dir():
        log.warning("history %s: not updated: the report's staging folder %s no longer exists (this is a published "
                    "report.ipynb run again); only feedback-report run writes the store", history_dir, out)
        return HistoryStore(history_dir, stage=False)
    return HistoryStore(history_dir, stage=out / HISTORY_DIR)


def _stored_months(store: HistoryStore | None, fingerprint: str) -> list[str]:
    """Months in the store tagged with this taxonomy and holding their aggregates."""
    if store is None:
        return []
    usable = []
    for m in store.months():
        try:
            ok = store.metadata(m).get("taxonomy") == fingerprint and store.has_aggregates(m)
        except Exception as exc:  # an unreadable partition is rebuilt from the input, or left out
            log.warning("history %s: cannot read %s (%s); not used", store.root, m, exc)
            ok = False
        if ok:
            usable.append(m)
        else:
            log.info("history %s: %s was tagged with another taxonomy or is incomplete; not used", store.root, m)
    return usable


def stored_volumes(store: HistoryStore | None, months: list[str]) -> dict[str, int]:
    """Responses of each stored month (its ``all`` KPI row), for the thin rule's median."""
    volumes: dict[str, int] = {}
    for m in months:
        try:
            kpis = store.read_aggregate(m, "kpis")
            volumes[m] = int(kpis.loc[kpis["group"].astype(str) == "all", "n"].iloc[0])
        except Exception:  # an aggregate without the row: the month just does not count
            continue
    return volumes


def tag_frame(frame: pd.DataFrame, taxonomy: Taxonomy, month: str | None = None) -> pd.DataFrame:
    """``frame`` with ``theme_<id>`` flags and the theme evidence.

    The learned expansion is fitted on the report ``month``'s comments only (all of
    ``frame`` when None), so a month's figures do not depend on which other months
    happen to be in the input folder or the history store.
    """
    # At most FIT_SAMPLE distinct comments (a fixed-seed sample): seed labels on 20k
    # texts train it as well as on 100k, at a fifth of the cost.
    tagger = ThemeTagger(taxonomy, random_state=0, max_fit_docs=FIT_SAMPLE)
    fit_on = frame[S.TEXT] if month is None else frame.loc[(frame[S.MONTH] == month).to_numpy(dtype=bool), S.TEXT]
    tagger.fit(fit_on)
    # one tagging pass gives flags and evidence (transform() then evidence() tagged twice)
    tagged = tag_themes(frame[[S.TEXT]], tagger)
    return frame.assign(
        **{S.theme_column(t): tagged[S.theme_column(t)].to_numpy(dtype=bool) for t in tagger.theme_ids_},
        **{THEME_EVIDENCE: tagged[THEME_EVIDENCE].to_numpy()},
    )


def _run_month(month: str, folder: Path, cfg: Config, timings: dict[str, float], bar,
               store: HistoryStore | None, keep_rows: bool, today: _dt.date) -> MonthResult:
    with _Timer(timings, "read", bar) as step:
        exports = read_exports(folder, cfg)
        step.rows = sum(len(e.raw) for e in exports)
    with _Timer(timings, "clean", bar, rows=step.rows):
        cleaned: CleanResult = clean_responses(exports, cfg)
    frame = cleaned.frame
    taxonomy = load_taxonomy(cfg.taxonomy)
    fingerprint = taxonomy_fingerprint(taxonomy)
    usable = _stored_months(store, fingerprint)
    volumes = month_volumes(frame)
    baseline = stored_volumes(store, usable)
    month = report_month(month, volumes, cfg, folder, today=today, baseline=baseline)

    # Never analyse future months against a report month: history is up to the month. Earlier
    # months already in the store are read as aggregates; only the others are tagged and scored.
    stored = [m for m in usable if m < month]
    keep = (frame[S.MONTH] <= month) & ~frame[S.MONTH].isin(stored)
    frame = frame[keep.fillna(False).to_numpy(dtype=bool)].reset_index(drop=True)
    if stored:
        log.info("history: %d earlier month(s) read from %s: %s", len(stored), store.root, ", ".join(stored))
    with _Timer(timings, "themes", bar, rows=len(frame)):
        frame = tag_frame(frame, taxonomy, month)
    with _Timer(timings, "sentiment", bar, rows=len(frame)):
        scores = score_sentiment(frame[S.TEXT])
        frame = frame.assign(**{S.SENTIMENT: scores[S.SENTIMENT].to_numpy(), S.SENTIMENT_LABEL: scores[S.SENTIMENT_LABEL].to_numpy()})

    result = build_result(month, cfg, taxonomy, frame, cleaned.quarantine, cleaned.quality, timings, bar,
                          store=store, stored_months=stored, volumes={**baseline, **volumes})
    result.skipped = list(getattr(exports, "skipped", []))
    if keep_rows:
        result.rows = frame
    return result


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
    current = rows[in_month].reset_index(drop=True)
    volumes = {**(volumes or {}), month: int(in_month.sum())}
    thin = thin_reason(month, volumes, min_group_size=cfg.min_group_size)
    if thin:
        log.info("month %s is thin (%s): the report states no findings and the history store keeps it out",
                 month, thin)
    themes = list(taxonomy.ids)
    with _Timer(timings, "compare", bar):
        if history is None:
            past = rows[~in_month & (rows[S.MONTH] < month).fillna(False).to_numpy(dtype=bool)]
            history, fresh = build_history(past, current, themes, store=store, stored_months=list(stored_months),
                                           min_n=cfg.min_group_size,
                                           sla_first_response_hours=cfg.sla_first_response_hours)
            del past
            if store is not None:
                _store_months(store, rows, fresh, taxonomy, volumes, cfg.min_group_size)
        kw = dict(themes=themes, min_n=cfg.min_group_size)
        kpis = kpi_table(current, by=S.SERVICE_MODEL, **kw)
        vendor_kpis = kpi_table(current, by=S.VENDOR, **kw)
        comparison = compare_groups(current, **kw)
        vendors = compare_vendors(current, **kw)
        gap = perception_gap(current, min_n=cfg.min_group_size)
        impact = theme_impact(current, score=S.CSAT, themes=themes)
    result = MonthResult(
        month=month, config=cfg, taxonomy=taxonomy, frame=current, history=history,
        quarantine=quarantine, quality=quality, kpis=kpis, vendor_kpis=vendor_kpis,
        comparison=comparison, vendors=vendors, gap=gap, impact=impact, timings=timings, thin=thin,
    )
    if store is not None and not thin:
        t0 = time.perf_counter()
        _store_months(store, current, {month: result.aggregates()}, taxonomy)
        timings["history"] = round(time.perf_counter() - t0, 3)
    return result


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
        "responses": int(len(result.frame)),
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
    result.frame.to_parquet(paths["feedback"], index=False)
    paths["kpis"].write_text(json.dumps(kpis_document(result), indent=2, sort_keys=False) + "\n", encoding="utf-8")
    neutralise_formulas(result.quarantine).to_csv(paths["quarantine"], index=False, encoding="utf-8")
    (out / TIMINGS_FILE).write_text(json.dumps(result.timings), encoding="utf-8")
    return paths
