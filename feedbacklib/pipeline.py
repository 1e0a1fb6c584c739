"""The whole flow for one month, used by the report notebook and the CLI alike.

``run_month`` reads every export in the input folder, cleans it into the
canonical frame (quarantining what it must), tags themes, scores sentiment and
computes the comparisons the report shows. It returns a :class:`MonthResult`
that the report functions render and :func:`save_outputs` writes to disk.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import datetime as _dt
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from .config import Config, load_config
from .history import AGGREGATES, CONTACT_DAYS, HISTORY_DIR, ROWS, History, HistoryStore, taxonomy_fingerprint
from .io import EXPORT_SUFFIXES
from .io._common import is_url, local_path
from .result import (  # noqa: F401
    TIMINGS_FILE, MonthResult, build_result, kpis_document, month_tables_from_parts, result_from_parts, save_outputs,
)
from .emerging import fit_emerging
from .errors import NoDataError
from .months import as_date, resolve_month, thin_reason
from .engines import FIT_SAMPLE, Engine, RowStaging, RunPartsStep, SummaryStep, make_engine, month_volumes, resolve_engine, tag_frame
from .parts import (
    ContactWindows, CustomerParts, CustomerRows, CustomerStep, EmergingCountsStep, MonthParts, RunParts, StoredContacts,
)
from .progress import StepTimer, progress_bar
from .themes import load_taxonomy
from .themes.supervised import fitting_ahead

__all__ = ["MonthResult", "run_month", "save_outputs", "month_volumes", "report_month", "tag_frame", "FIT_SAMPLE",
           "tables_from_parts"]

log = logging.getLogger(__name__)



def report_month(month: str, volumes: dict[str, int], cfg: Config, folder: object, *,
                 today: _dt.date | None, baseline: dict[str, int] | None = None) -> str:
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
    engine_options: dict[str, Any] | None = None,
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
        ``[run] engine`` in feedback.toml, else pandas. See :mod:`feedbacklib.engines`.
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
    folder = (input_dir if is_url(input_dir) else Path(input_dir)) if input_dir is not None else cfg.input
    today = as_date(today, cfg.timezone)
    timings: dict[str, float] = {}
    store = _history_store(history_dir, history_out)
    chosen = choose_engine(cfg, engine, scheduler, engine_options, folder, keep_rows=keep_rows)
    with progress_bar(total=len(_STEPS), desc="Analysing feedback", unit="step", progress=progress) as bar:
        return _run_month(chosen, month, folder, cfg, timings, bar, store, keep_rows, today)


#: Exports above this size in all (about 1.7 million survey rows) send the pandas engine to a work
#: folder when none is set (``<output>/.work``): holding the month in memory takes about 1.5 GB per
#: million rows (2.5 GB here), one file at a time does not grow with the month.
AUTO_WORK_DIR_BYTES = 512 << 20


def choose_engine(cfg: Config, engine: str | None = None, scheduler: Any = None,
                  options: dict[str, Any] | None = None, folder: str | Path | None = None, *,
                  keep_rows: bool = False) -> Engine:
    """The engine of a run (:func:`~feedbacklib.engines.resolve_engine`, :func:`~feedbacklib.engines.make_engine`);
    the pandas engine's ``work_dir``: ``options``, else ``FEEDBACK_WORK_DIR``, else ``[run] work_dir``, else
    ``<output>/.work`` when the exports of ``folder`` exceed :data:`AUTO_WORK_DIR_BYTES`. An empty
    ``work_dir`` (option or ``[run]``) keeps the month in memory whatever its size, and so does
    ``keep_rows`` (the analyst asked for the rows) unless ``options`` name a work folder."""
    name, scheduler = resolve_engine(cfg, engine, scheduler)
    options = dict(options or {})
    if name == "pandas" and keep_rows and options.get("work_dir") is None:
        options["work_dir"] = ""
    if name == "pandas" and options.get("work_dir") is None and not os.environ.get("FEEDBACK_WORK_DIR"):
        options["work_dir"] = cfg.run.work_dir
        size = _export_bytes(folder) if cfg.run.work_dir is None else 0
        if size > AUTO_WORK_DIR_BYTES:
            options["work_dir"] = str(Path(cfg.output) / ".work")
            log.info("input: %.1f GB of exports: the month's rows wait on disk in %s, one file in memory at a "
                     "time (set [run] work_dir or FEEDBACK_WORK_DIR to choose the folder)", size / 1e9,
                     options["work_dir"])
    return make_engine(name, scheduler, **options)


def _export_bytes(folder: str | Path | None) -> int:
    """The size of the exports in a local input folder (0 for a URL, or a folder that is not there)."""
    local = local_path(folder) if folder is not None else None
    if local is None or not local.is_dir():
        return 0
    size = 0
    for p in local.iterdir():
        with contextlib.suppress(OSError):  # a broken link: reading the input reports it
            if p.suffix.lower() in EXPORT_SUFFIXES and p.is_file():
                size += p.stat().st_size
    return size


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
    if store is None:
        return volumes
    for m in months:
        try:
            kpis = store.read_aggregate(m, "kpis")
            volumes[m] = int(kpis.loc[kpis["group"].astype(str) == "all", "n"].iloc[0])
        except Exception:  # an aggregate without the row: the month just does not count
            continue
    return volumes


def _run_month(engine: Engine, month: str, folder: Path | str, cfg: Config, timings: dict[str, float], bar,
               store: HistoryStore | None, keep_rows: bool, today: _dt.date | None,
               summary: SummaryStep | None = None) -> MonthResult:
    """The one orchestrator: the engine cleans, the month is resolved here against the input and
    the store, the engine tags and scores what the store lacks, then the comparisons."""
    taxonomy = load_taxonomy(cfg.taxonomy)
    ahead = fitting_ahead(taxonomy) if getattr(engine, "fits_here", False) else contextlib.nullcontext()
    with engine.session(), ahead:
        cleaned = engine.clean(folder, cfg, timings, bar)
        usable = _stored_months(store, taxonomy_fingerprint(taxonomy))
        baseline = stored_volumes(store, usable)
        month = report_month(month, cleaned.volumes, cfg, folder, today=today, baseline=baseline)
        # Never analyse future months against a report month: history is up to the month. Earlier
        # months already in the store are read as aggregates; only the others are tagged and scored.
        stored = [m for m in usable if m < month]
        if stored and store is not None:
            log.info("history: %d earlier month(s) read from %s: %s", len(stored), store.root, ", ".join(stored))
        # The store's transaction is open from here: the engine's workers may stage the rows into it,
        # build_result adds the aggregates, and an error anywhere commits nothing.
        with (store.transaction() if store is not None else contextlib.nullcontext()):
            staging = _row_staging(store, taxonomy, month, stored, {**baseline, **cleaned.volumes}, cfg)
            no_rows = not getattr(engine, "collect_rows", True)
            if summary is None and no_rows:
                summary = RunPartsStep(cfg)  # the rows stay on the workers: each partition's parts come back
            annotated = engine.annotate(cleaned, month, taxonomy, skip_months=stored, timings=timings, bar=bar,
                                        summary=summary, staging=staging)
            if store is not None:
                store.staged_rows.update(annotated.staged)
            frame = annotated.frame
            if frame is None:
                result = _result_on_workers(engine, annotated, month, cfg, taxonomy, cleaned, timings, bar, store,
                                            stored, {**baseline, **cleaned.volumes})
            else:
                result = build_result(month, cfg, taxonomy, frame, cleaned.quarantine, cleaned.quality, timings, bar,
                                      store=store, stored_months=stored, volumes={**baseline, **cleaned.volumes})
    if result.row_parts == (_STORE_PARTS,) and store is not None:  # committed (or staged) only now: list them
        result = dataclasses.replace(result, row_parts=_store_parts(store, month))
    result = dataclasses.replace(result, skipped=list(cleaned.skipped), rows=frame if keep_rows else None)
    release = getattr(engine, "release_with", None)  # an engine whose row files live as long as the result
    return release(result) if callable(release) else result


def _on_a_worker(engine: Any, fn: Any) -> Any:
    """``fn`` run on one of the engine's workers (its memory is not the client's), or here when the engine
    cannot run a single task."""
    run = getattr(engine, "run", None)
    return functools.partial(run, fn) if callable(run) else fn


#: Placeholder in ``MonthResult.row_parts`` until the store's transaction has put the month's parts in place.
_STORE_PARTS = "<history store>"


def _store_parts(store: HistoryStore, month: str) -> tuple[str, ...]:
    """The part files of ``month``'s rows: in the report run's staging folder, else in the store."""
    folder = (store.stage if isinstance(store.stage, Path) else store.root) / ROWS / f"month={month}"
    parts = sorted(folder.glob("part-*.parquet"), key=lambda p: int(p.stem[len("part-"):] or 0))
    return tuple(str(p) for p in parts)


def _result_on_workers(engine: Any, annotated: Any, month: str, cfg: Config, taxonomy: Any, cleaned: Any,
                       timings: dict[str, float], bar: Any, store: HistoryStore | None, stored: list[str],
                       volumes: dict[str, int]) -> MonthResult:
    """The MonthResult of a run whose rows stayed on the engine's workers (``collect_rows=False``): the
    partitions' :class:`~feedbacklib.parts.RunParts`, a shuffle on the customer key for the service KPIs
    and the volume (:class:`~feedbacklib.parts.CustomerParts`, with the stored months' contacts read by
    the workers), and the emerging themes' second round on the partitions; the client never holds the
    month's rows. ``feedback.parquet`` is written from the rows' part files: the history store's when
    the workers staged the month there, else the engine's ``rows_dir``; without either, the month's
    rows are brought back for it (logged)."""
    run, handle = annotated.summary, annotated.rows
    if not isinstance(run, RunParts):
        raise ValueError(f"The {engine.name} engine left the rows on its workers but returned "
                         f"{type(run).__name__} instead of the RunParts of each partition: run it with "
                         "summary=None (run_month chooses RunPartsStep).")
    with StepTimer(timings, "compare", bar):
        since = None if pd.isna(run.first_received) else run.first_received - pd.Timedelta(days=CONTACT_DAYS)
        extra = [StoredContacts(str(store.root), m, since) for m in stored[-2:]] if store is not None else []

        def make_step(info: ContactWindows) -> CustomerStep:
            return CustomerStep(month, cfg, since, run.window + info.recent, info.pool)

        customers = engine.by_customer(handle, CustomerRows(month, since), make_step, extra) or CustomerParts()
        frame = engine.empty_rows(handle, month)
        row_parts: tuple[str, ...] = ()
        if store is not None and month in annotated.staged and store.stage is not False:
            row_parts = (_STORE_PARTS,)
        elif getattr(engine, "rows_dir", None):
            # this run's parts only (one per partition, as the engine names them), not older files of the folder
            parts = (Path(engine.rows_dir) / f"part-{n:05d}.parquet" for n in range(len(handle)))
            row_parts = tuple(str(p) for p in parts if p.exists())
        else:
            log.warning("%s engine: the month's rows are brought back to the client for feedback.parquet (no "
                        "history store holds them and no rows_dir was given: set one to keep them on the "
                        "workers)", engine.name)
            frame = engine.month_rows(handle, month)
        result = result_from_parts(month, cfg, taxonomy, run, customers,
                                   lambda models: engine.map_rows(handle, EmergingCountsStep(month, models)),
                                   frame, cleaned.quarantine, cleaned.quality, timings, store=store,
                                   stored_months=stored, volumes=volumes, row_parts=row_parts,
                                   fit_emerging_with=_on_a_worker(engine, fit_emerging))
    return result


def tables_from_parts(parts: MonthParts, month: str, cfg: Config, taxonomy: Any, *,
                      store: HistoryStore | None = None, stored_months: Sequence[str] = (),
                      quarantine: Any = None) -> dict[str, Any]:
    """The report's tables that the month's additive parts give (:func:`~feedbacklib.result.month_tables_from_parts`),
    with the earlier months' aggregates from ``store``: what a client that never holds the month computes
    (the Dask engine with ``collect_rows=False`` and :class:`~feedbacklib.engines.MonthPartsStep`)."""
    stored = {m: {name: store.read_aggregate(m, name) for name in AGGREGATES} for m in stored_months} \
        if store is not None else {}
    return month_tables_from_parts(parts, History.of_months(stored), month, cfg, taxonomy, quarantine=quarantine)


def _row_staging(store: HistoryStore | None, taxonomy: Any, month: str, stored: list[str], volumes: dict[str, int],
                 cfg: Config) -> RowStaging | None:
    """Where the engine's workers stage the rows of the months the store will get (those up to ``month``
    not read from it, and not thin: what ``build_result`` stores), or None (no store, or read only)."""
    folder = store.staging() if store is not None else None
    if folder is None:
        return None
    months = tuple(m for m, n in sorted(volumes.items()) if n and m <= month and m not in stored
                   and not thin_reason(m, volumes, min_group_size=cfg.min_group_size))
    return RowStaging(str(folder), months, {"taxonomy": taxonomy_fingerprint(taxonomy)})
