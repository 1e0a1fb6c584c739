"""The Dask path: cleaning, tagging and sentiment partition by partition, on any Dask cluster.

The steps are the pandas ones, unchanged, applied with ``map_partitions``:

1. **Raw partitions.** Each export becomes a :class:`RawSource`: its raw rows (text,
   original column names) as a ``dask.dataframe`` plus what its header said (platform,
   Qualtrics question texts, ...). :func:`sources_from_exports` splits exports already
   read; :func:`write_raw_parquet` / :func:`read_raw_parquet` land an export once as
   Parquet parts, the form a data lake keeps and the one that scales.
2. **Fit once.** The theme tagger is fitted on a sample of cleaned texts (all of them
   when they are fewer than ``fit_rows``, which makes the result identical to the pandas
   path) and shipped to every worker once (``client.scatter(..., broadcast=True)``).
3. **One pass per partition** (:func:`process_partition`): ``clean_responses`` on the
   partition as if it were a file of its own (normalise, parse, redact, validate,
   quarantine, de-duplicate *within* the partition), then ``tag_themes`` and
   ``score_sentiment``. Kept and quarantined rows leave in one frame (``quarantine_reason``
   is null for kept rows) so the partition is read and cleaned once.
4. **Global de-duplication.** Only the keys (platform, response_id, file, row) are
   shuffled on ``response_id``; the later copies of a (platform, response_id) are then
   quarantined as ``duplicate of <id>`` exactly as the pandas path does ("the first clean
   copy wins", first in file order then row order).

What differs from the pandas path (documented in docs/scale.md):

- A duplicate found across partitions is quarantined with its *cleaned* values in the
  ``original`` JSON, not the raw cells (the raw partition is gone by then).
- Rows are not globally sorted by ``received_at``; nothing downstream depends on order.
- With more than ``fit_rows`` rows the tagger sees a random sample, so learned tags can
  differ slightly from a pandas run that fitted on (up to ``max_fit_docs``) distinct texts.
- Sentiment is scored serially inside each worker (parallelism comes from the workers; a
  worker process cannot fork a pool of its own).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import schema as S
from .clean import ORIGINAL, clean_responses
from .errors import QuarantineKind
from .config import ENGINES
from .io import Export, read_exports
from .io._common import STRING, settings_table
from .sentiment import SENTIMENT, SENTIMENT_LABEL, score_sentiment
from .themes import ThemeTagger, load_taxonomy
from .themes.tagger import THEME_EVIDENCE, tag_themes

__all__ = [
    "RawSource", "DaskResult", "sources_from_exports", "write_raw_parquet", "read_raw_parquet",
    "process_partition", "fit_sample", "fit_tagger", "analyse", "connect", "ROW", "FILE_NO", "ENGINES",
]

log = logging.getLogger(__name__)

#: Position of a raw row in its export (kept in raw partitions so offsets survive splitting).
ROW = "__source_row"
#: Which source a processed row came from (its order among the sources).
FILE_NO = "__file_no"
_META_FILE = "_feedbacklib_source.json"


@dataclass(frozen=True)
class RawSource:
    """One export as raw partitions: what :class:`~feedbacklib.io.Export` holds, partitioned."""

    name: str                      # the export's file name (source_file)
    platform: str
    confidence: float
    raw: Any = field(repr=False)   # dask.dataframe of text cells + ROW
    meta: dict = field(default_factory=dict, repr=False)
    part_rows: tuple[int, ...] | None = None  # rows in each partition, when known


@dataclass
class DaskResult:
    """What :func:`analyse` returns; ``processed`` is lazy, the rest is small and computed."""

    processed: Any                 # dask.dataframe: kept + quarantined rows, tagged and scored
    duplicates: pd.DataFrame       # FILE_NO, source_row, response_id of cross-partition duplicates
    tagger: ThemeTagger
    month: str | None

    def kept(self):
        """The kept rows (canonical + theme + sentiment columns), cross-partition duplicates removed."""
        dups = self.duplicates
        frame = self.processed[self.processed[S.QUARANTINE_REASON].isna()]
        if self.month is not None:  # never analyse future months against a report month
            frame = frame[frame[S.MONTH] <= self.month]
        if len(dups):
            keys = set(zip(dups[FILE_NO].tolist(), dups[S.SOURCE_ROW].tolist()))
            frame = frame.map_partitions(_drop_keys, keys, meta=frame._meta)
        return frame

    def quarantine(self):
        """Rejected rows (``schema.QUARANTINE_COLUMNS`` + ``original``), duplicates across partitions included."""
        q = self.processed[~self.processed[S.QUARANTINE_REASON].isna()]
        q = q[list(S.QUARANTINE_COLUMNS) + [ORIGINAL]]
        return q


def _drop_keys(part: pd.DataFrame, keys: set) -> pd.DataFrame:
    if part.empty:
        return part
    pairs = zip(part[FILE_NO].tolist(), part[S.SOURCE_ROW].tolist())
    keep = np.fromiter((p not in keys for p in pairs), dtype=bool, count=len(part))
    return part[keep]


# --------------------------------------------------------------------------- raw partitions

def sources_from_exports(exports: Sequence[Export], *, rows_per_partition: int = 250_000) -> list[RawSource]:
    """Exports already read (pandas) -> raw partitions of at most ``rows_per_partition`` rows."""
    import dask.dataframe as dd

    out = []
    for e in exports:
        raw = e.raw.reset_index(drop=True).assign(**{ROW: np.arange(len(e.raw), dtype="int64")})
        nparts = max(1, -(-len(raw) // rows_per_partition))
        ddf = dd.from_pandas(raw, npartitions=nparts, sort=True)
        div = ddf.divisions
        rows = tuple(int(div[k + 1] - div[k]) + (1 if k == len(div) - 2 else 0) for k in range(len(div) - 1))
        out.append(RawSource(e.path.name, e.platform, float(e.confidence), ddf, dict(e.meta), rows))
    return out


def write_raw_parquet(export: Export, folder: str | os.PathLike[str], *, rows_per_partition: int = 250_000,
                      row_offset: int = 0, part_offset: int = 0) -> Path:
    """Land one export as Parquet parts of raw text cells (+ row numbers) and its header metadata."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    raw = export.raw
    for k, start in enumerate(range(0, max(len(raw), 1), rows_per_partition)):
        part = raw.iloc[start:start + rows_per_partition].astype(object)
        part = part.assign(**{ROW: np.arange(start, start + len(part), dtype="int64") + row_offset})
        table = pa.Table.from_pandas(part.reset_index(drop=True), preserve_index=False)
        tmp = folder / f".part-{k + part_offset:05d}.parquet.tmp"
        pq.write_table(table, tmp, compression="zstd")
        os.replace(tmp, folder / f"part-{k + part_offset:05d}.parquet")
    (folder / _META_FILE).write_text(json.dumps({
        "name": export.path.name, "platform": export.platform, "confidence": float(export.confidence),
        "meta": _jsonable_meta(export.meta)}, default=str), encoding="utf-8")
    return folder


def _jsonable_meta(meta) -> dict:
    return json.loads(json.dumps(dict(meta), default=str))


def read_raw_parquet(folder: str | os.PathLike[str]) -> RawSource:
    """A folder written by :func:`write_raw_parquet` (any number of parts) as a :class:`RawSource`."""
    import dask.dataframe as dd

    folder = Path(folder)
    import pyarrow.parquet as pq

    info = json.loads((folder / _META_FILE).read_text(encoding="utf-8"))
    files = sorted(folder.glob("part-*.parquet"))
    raw = dd.read_parquet([str(f) for f in files], split_row_groups=False)
    rows = tuple(pq.ParquetFile(f).metadata.num_rows for f in files)
    if raw.npartitions != len(rows):
        rows = None
    return RawSource(info["name"], info["platform"], info["confidence"], raw, info["meta"], rows)


# --------------------------------------------------------------------------- one partition

@contextlib.contextmanager
def _serial_sentiment():
    """Score serially in this process: a Dask worker is the unit of parallelism."""
    from . import sentiment as _sent

    old = getattr(_sent, "PARALLEL_MIN_TEXTS", None)
    if old is None:
        yield
        return
    _sent.PARALLEL_MIN_TEXTS = 1 << 62
    try:
        yield
    finally:
        _sent.PARALLEL_MIN_TEXTS = old


def annotate(frame: pd.DataFrame, tagger: ThemeTagger) -> pd.DataFrame:
    """Theme flags, evidence and sentiment added to cleaned rows (the pandas path's columns)."""
    tagged = tag_themes(frame[[S.TEXT]], tagger)
    scores = score_sentiment(frame[S.TEXT])
    return frame.assign(
        **{S.theme_column(t): tagged[S.theme_column(t)].to_numpy(dtype=bool) for t in tagger.theme_ids_},
        **{THEME_EVIDENCE: tagged[THEME_EVIDENCE].to_numpy()},
        **{SENTIMENT: scores[SENTIMENT].to_numpy(), SENTIMENT_LABEL: scores[SENTIMENT_LABEL].to_numpy()},
    )


def _clean_part(raw: pd.DataFrame, source: dict, config: Any):
    rows = raw[ROW].to_numpy(dtype="int64") if ROW in raw.columns else np.arange(len(raw))
    body = raw.drop(columns=[ROW], errors="ignore").reset_index(drop=True)
    body = body.astype(STRING)  # the readers' dtype (Parquet may give object or str)
    export = Export(path=Path(source["name"]), platform=source["platform"], confidence=source["confidence"],
                    raw=body, meta=source["meta"])
    result = clean_responses([export], config)
    # partition-relative row numbers -> the export's row numbers
    kept = result.frame.assign(**{S.SOURCE_ROW: pd.array(rows[result.frame[S.SOURCE_ROW].to_numpy(dtype="int64")],
                                                          dtype="Int64")})
    quarantine = result.quarantine.assign(
        **{S.SOURCE_ROW: pd.array(rows[result.quarantine[S.SOURCE_ROW].to_numpy(dtype="int64")], dtype="Int64")})
    return kept, quarantine


def _annotate_except(frame: pd.DataFrame, tagger: ThemeTagger, skip_months: frozenset[str]) -> pd.DataFrame:
    """:func:`annotate` on the rows outside ``skip_months``; the others get no themes and no sentiment.

    The skipped rows stay (duplicate checks and row counts need them) but are never analysed:
    their months come from the history store.
    """
    skip = frame[S.MONTH].isin(skip_months).to_numpy(dtype=bool) if skip_months else np.zeros(len(frame), bool)
    if not skip.any():
        return annotate(frame, tagger)
    done = annotate(frame[~skip], tagger)
    blank = frame[skip].assign(**{S.theme_column(t): False for t in tagger.theme_ids_},
                               **{THEME_EVIDENCE: "", SENTIMENT: np.nan, SENTIMENT_LABEL: pd.NA})
    return pd.concat([done, blank.astype(done.dtypes.to_dict())]).loc[frame.index]


def process_partition(raw: pd.DataFrame, source: dict, config: Any, tagger: ThemeTagger,
                      file_no: int, month: str | None = None,
                      skip_months: frozenset[str] = frozenset()) -> pd.DataFrame:
    """Clean, tag and score one raw partition; kept and quarantined rows in one frame.

    Kept rows have every canonical column, ``theme_<id>``, evidence, sentiment, and a
    null ``quarantine_reason``; quarantined rows have the quarantine columns and
    ``original``. ``month`` given: kept rows of later months are dropped (as the pandas
    path never analyses the future against a report month). Rows of ``skip_months``
    (months the history store holds) are cleaned but not tagged or scored.
    """
    kept, quarantine = _clean_part(raw, source, config)
    if month is not None:
        kept = kept[kept[S.MONTH] <= month].reset_index(drop=True)
    with _serial_sentiment():
        kept = _annotate_except(kept, tagger, skip_months)
    kept = kept.assign(**{S.QUARANTINE_REASON: pd.Series(pd.NA, index=kept.index, dtype=STRING),
                          S.QUARANTINE_KIND: pd.Series(pd.NA, index=kept.index, dtype=STRING),
                          ORIGINAL: pd.Series(pd.NA, index=kept.index, dtype=STRING)})
    out = pd.concat([kept, quarantine], ignore_index=True) if len(quarantine) else kept
    out = out.astype({c: d for c, d in kept.dtypes.items() if c in out.columns}, errors="ignore")
    out[FILE_NO] = np.int64(file_no)
    loose = [c for c in out.columns if out[c].dtype == object]
    return out.astype({c: STRING for c in loose}) if loose else out  # one Arrow type per column


def _meta_frame(config: Any, tagger: ThemeTagger, sources: Sequence[RawSource]) -> pd.DataFrame:
    """The empty output of :func:`process_partition` (column names and dtypes), for Dask."""
    s = sources[0]
    sample = s.raw._meta.copy()
    return process_partition(sample, _source_dict(s), config, tagger, 0)


def _source_dict(s: RawSource) -> dict:
    return {"name": s.name, "platform": s.platform, "confidence": s.confidence, "meta": s.meta}


# --------------------------------------------------------------------------- fit, dedup, analyse

def _clean_texts(raw: pd.DataFrame, source: dict, config: Any) -> pd.DataFrame:
    kept, _ = _clean_part(raw, source, config)
    return kept[[S.MONTH, S.TEXT]]


from .pipeline import FIT_SAMPLE  # noqa: E402  (the same fit sample as the pandas path)


def fit_sample(sources: Sequence[RawSource], config: Any, *, fit_rows: int = 200_000,
               random_state: int = 0) -> pd.DataFrame:
    """Cleaned month and text of a random sample of partitions holding about ``fit_rows`` rows.

    When every source together has at most ``fit_rows`` rows all partitions are used.
    """
    import dask

    parts = [(s, k) for s in sources for k in range(s.raw.npartitions)]
    order = np.random.default_rng(random_state).permutation(len(parts))
    tasks, rows = [], 0
    for i in order:
        s, k = parts[int(i)]
        tasks.append(dask.delayed(_clean_texts)(s.raw.get_partition(k), _source_dict(s), config))
        rows += s.part_rows[k] if s.part_rows else 250_000
        if rows >= fit_rows:
            break
    return pd.concat(dask.compute(*tasks), ignore_index=True)


def fit_tagger(sample: pd.DataFrame, config: Any, *, month: str | None = None, taxonomy=None,
               random_state: int = 0) -> ThemeTagger:
    """The theme tagger fitted on a :func:`fit_sample`, restricted to ``month`` as on the pandas path.

    On a sample of every partition this is exactly the pandas path's model.
    """
    texts = sample[S.TEXT] if month is None else sample.loc[sample[S.MONTH] == month, S.TEXT]
    tagger = ThemeTagger(taxonomy if taxonomy is not None else load_taxonomy(getattr(config, "taxonomy", None)),
                         random_state=random_state, max_fit_docs=FIT_SAMPLE)
    return tagger.fit(texts)


def _dup_flags(keys: pd.DataFrame) -> pd.DataFrame:
    keys = keys.sort_values([FILE_NO, S.SOURCE_ROW], kind="stable")
    dup = keys.duplicated([S.PLATFORM, S.RESPONSE_ID], keep="first").to_numpy(dtype=bool)
    return keys[dup]


def find_duplicates(processed) -> pd.DataFrame:
    """Later copies of a (platform, response_id) across partitions: shuffle only the keys."""
    kept = processed[processed[S.QUARANTINE_REASON].isna()][[S.PLATFORM, S.RESPONSE_ID, FILE_NO, S.SOURCE_ROW]]
    shuffled = kept.shuffle(on=S.RESPONSE_ID)
    dups = shuffled.map_partitions(_dup_flags, meta=kept._meta)
    return dups.compute()


def connect(scheduler: str | None = None, **cluster_kwargs):
    """A ``distributed.Client``: to ``scheduler`` (``tcp://host:8786``) or a new LocalCluster.

    ``FEEDBACK_DASK_SCHEDULER`` is used when ``scheduler`` is None and it is set.
    """
    from distributed import Client, LocalCluster

    scheduler = scheduler or os.environ.get("FEEDBACK_DASK_SCHEDULER") or None
    if scheduler:
        return Client(scheduler)
    kwargs = {"n_workers": max(1, (os.cpu_count() or 2)), "threads_per_worker": 1, "processes": True,
              "dashboard_address": None}
    kwargs.update(cluster_kwargs)
    return Client(LocalCluster(**kwargs))


def analyse(sources: Sequence[RawSource], config: Any, *, month: str | None = None, client=None,
            fit_rows: int = 200_000, taxonomy=None, random_state: int = 0,
            output: str | os.PathLike[str] | None = None, tagger: ThemeTagger | None = None,
            skip_months: Sequence[str] = ()) -> DaskResult:
    """Clean, tag and score every source on Dask; find duplicates across partitions.

    ``tagger``: an already fitted tagger; else one is fitted on a sample of partitions
    (:func:`fit_sample`), on ``month``'s comments when a month is given. Rows of
    ``skip_months`` are cleaned (for duplicates and counts) but not tagged or scored.

    ``output`` given: the processed rows are written there as Parquet (one file per
    partition) and ``processed`` reads them back, so the expensive pass runs once and
    memory stays at a few partitions per worker.
    """
    import dask.dataframe as dd

    if tagger is None:
        sample = fit_sample(sources, config, fit_rows=fit_rows, random_state=random_state)
        tagger = fit_tagger(sample, config, month=month, taxonomy=taxonomy, random_state=random_state)
    shipped = client.scatter(tagger, broadcast=True) if client is not None else tagger
    meta = _meta_frame(config, tagger, sources)
    frames = [s.raw.map_partitions(process_partition, _source_dict(s), config, shipped, i, None,
                                   frozenset(skip_months),
                                   meta=meta, align_dataframes=False)
              for i, s in enumerate(sources)]
    processed = dd.concat(frames) if len(frames) > 1 else frames[0]
    if output is not None:
        out = Path(output)
        processed.to_parquet(str(out), write_index=False, overwrite=True, schema="infer")
        processed = dd.read_parquet(str(out))
    elif client is not None:
        processed = client.persist(processed)  # the pass below and the callers' reads run it once
    duplicates = find_duplicates(processed)
    return DaskResult(processed=processed, duplicates=duplicates, tagger=tagger, month=month)


def read_sources(folder: str | os.PathLike[str], config: Any, *, rows_per_partition: int = 250_000) -> list[RawSource]:
    """An input folder: raw-Parquet sources (sub-folders with their metadata) or export files."""
    folder = Path(folder)
    landed = sorted(p for p in folder.iterdir() if p.is_dir() and (p / _META_FILE).exists())
    sources = [read_raw_parquet(p) for p in landed]
    files = [p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")]
    if files:
        sources += sources_from_exports(read_exports(folder, config), rows_per_partition=rows_per_partition)
    return sources


# --------------------------------------------------------------------------- engine choice and run_month

def resolve_engine(cfg: Any, engine: str | None = None, scheduler: Any = None) -> tuple[str, Any]:
    """Engine and scheduler: the arguments, else FEEDBACK_ENGINE / FEEDBACK_DASK_SCHEDULER, else ``[run]``."""
    run = settings_table(cfg, "run")
    engine = engine or os.environ.get("FEEDBACK_ENGINE") or run.get("engine") or "pandas"
    engine = engine.strip().lower()
    if engine not in ENGINES:
        from .errors import ConfigError

        raise ConfigError(f"Unknown engine {engine!r}: use one of {', '.join(ENGINES)} "
                          "(--engine, FEEDBACK_ENGINE or [run] engine in feedback.toml).")
    if engine == "dask" and scheduler is None:
        scheduler = os.environ.get("FEEDBACK_DASK_SCHEDULER") or run.get("scheduler") or None
    return engine, scheduler


def quality_table(processed_quality: pd.DataFrame, sources: Sequence[RawSource],
                  duplicates: pd.DataFrame) -> pd.DataFrame:
    """The pandas path's quality table from per-file reason counts (``_file_counts`` output)."""
    from .clean import QUALITY_COLUMNS, REASON_KINDS

    dup_per_file = duplicates.groupby(FILE_NO).size() if len(duplicates) else pd.Series(dtype=int)
    kinds = sorted(set(processed_quality.columns) - {FILE_NO, "kept"} - set(REASON_KINDS))
    records = []
    for k, s in enumerate(sources):
        row = processed_quality[processed_quality[FILE_NO] == k].drop(columns=[FILE_NO]).sum()
        dup = int(dup_per_file.get(k, 0))
        kept = int(row.get("kept", 0)) - dup
        reasons = {kind: int(row.get(kind, 0)) for kind in (*REASON_KINDS, *kinds)}
        reasons["duplicate"] = reasons.get("duplicate", 0) + dup
        quarantined = sum(reasons.values())
        records.append({"file": s.name, S.PLATFORM: s.platform, "confidence": float(s.confidence),
                        "rows_read": kept + quarantined, "rows_kept": kept, "rows_quarantined": quarantined,
                        **reasons})
    columns = [*QUALITY_COLUMNS, *REASON_KINDS, *kinds]
    quality = pd.DataFrame.from_records(records, columns=columns)
    return quality.astype({"file": STRING, S.PLATFORM: STRING, "confidence": "float64",
                           **{c: "int64" for c in columns[3:]}})


def _file_counts(part: pd.DataFrame) -> pd.DataFrame:
    part = part.reset_index(drop=True)

    kinds = part[S.QUARANTINE_KIND].dropna()
    out = pd.crosstab(part.loc[kinds.index, FILE_NO], kinds) if len(kinds) else pd.DataFrame()
    kept = part[part[S.QUARANTINE_REASON].isna()].groupby(FILE_NO).size().rename("kept")
    out = out.join(kept, how="outer") if len(out) else kept.to_frame()
    return out.fillna(0).astype("int64").reset_index().rename(columns={"index": FILE_NO})


def run_month_dask(month: str, folder: Path, cfg: Any, *, today, scheduler: Any = None,
                   timings: dict[str, float] | None = None, rows_per_partition: int = 250_000,
                   fit_rows: int = 200_000, store=None):
    """``run_month`` on Dask: returns the same :class:`~feedbacklib.pipeline.MonthResult`.

    Read, clean, themes and sentiment run on the cluster; the month's rows (and, for
    the report's trends, the rows of earlier months) are then brought back as pandas
    frames for the comparisons, which work on aggregates and are cheap. With a history
    ``store`` (:class:`~feedbacklib.history.HistoryStore`), earlier months it holds are
    read from it as aggregates, as on the pandas path, and the processed months are written to it.
    ``today`` (a date) decides which months have ended, as on the pandas path.
    """
    import time

    from distributed import Client

    from .errors import NoDataError
    from .history import taxonomy_fingerprint
    from .months import resolve_month
    from .pipeline import _stored_months, month_volumes

    timings = {} if timings is None else timings
    own = not isinstance(scheduler, Client)
    client = connect(scheduler) if own else scheduler
    try:
        t0 = time.perf_counter()
        sources = read_sources(folder, cfg, rows_per_partition=rows_per_partition)
        timings["read"] = round(time.perf_counter() - t0, 3)
        if not sources:
            raise NoDataError(f"No exports in {folder}.")
        t0 = time.perf_counter()
        sample = fit_sample(sources, cfg, fit_rows=fit_rows)
        asked = month
        if month == "last":  # a guess from the sample (volume shares only), checked against every row below
            month = resolve_month(month, month_volumes(sample), today=today, min_group_size=0)
        tagger = fit_tagger(sample, cfg, month=month)
        usable = _stored_months(store, taxonomy_fingerprint(tagger.taxonomy_))
        stored = [m for m in usable if m < month]  # read from the store, so never tagged again
        # "last": keep every month's rows (later ones are dropped below) to check the guess
        result = analyse(sources, cfg, month=None if asked == "last" else month, client=client, tagger=tagger,
                         skip_months=stored)
        history = result.kept().compute()
        if asked == "last":
            latest = resolve_month("last", month_volumes(history), today=today,
                                   min_group_size=cfg.min_group_size)
            if latest != month:  # the sampled partitions missed the latest month: fit on it and tag again
                log.info("The tagger's fit sample held no rows of %s, the latest month; tagging again", latest)
                month, tagger = latest, fit_tagger(history, cfg, month=latest)
                stored = [m for m in usable if m < month]
                result = analyse(sources, cfg, client=client, tagger=tagger, skip_months=stored)
                history = result.kept().compute()
        counts = _file_counts(result.processed[[FILE_NO, S.QUARANTINE_REASON, S.QUARANTINE_KIND]].compute())
        quarantine = result.quarantine().compute()
        timings["clean+themes+sentiment"] = round(time.perf_counter() - t0, 3)
    finally:
        if own:
            client.close()
    quarantine = _with_duplicates(quarantine, history, result.duplicates)
    history = history.drop(columns=[FILE_NO, S.QUARANTINE_REASON, S.QUARANTINE_KIND, ORIGINAL])
    history = history.sort_values([S.RECEIVED_AT, S.RESPONSE_ID], kind="stable").reset_index(drop=True)
    quality = quality_table(counts, sources, result.duplicates)
    volumes = month_volumes(history)
    months_present = sorted(volumes)
    if month not in months_present:
        raise NoDataError(f"No feedback for {month} in {folder}: the input holds "
                          + (f"{', '.join(months_present)}." if months_present else "no dated rows."))
    taxonomy = result.tagger.taxonomy_
    wanted = (history[S.MONTH] <= month) & ~history[S.MONTH].isin(stored)
    history = history[wanted.fillna(False).to_numpy(dtype=bool)].reset_index(drop=True)
    return month_result(month, cfg, taxonomy, history, quarantine, quality, timings,
                        store=store, stored_months=stored, volumes=volumes)


def _with_duplicates(quarantine: pd.DataFrame, kept: pd.DataFrame, dups: pd.DataFrame) -> pd.DataFrame:
    """Append cross-partition duplicates (their cleaned values as ``original``) to the quarantine."""
    quarantine = quarantine.reset_index(drop=True)
    if not len(dups):
        return quarantine
    keys = pd.MultiIndex.from_frame(dups[[FILE_NO, S.SOURCE_ROW]])
    rows = kept.set_index([FILE_NO, S.SOURCE_ROW]).loc[keys].reset_index()
    originals = [json.dumps({k: (None if pd.isna(v) else str(v)) for k, v in r.items()}, ensure_ascii=False)
                 for r in rows[list(S.CANONICAL_COLUMNS)].to_dict("records")]
    extra = pd.DataFrame({
        S.SOURCE_FILE: rows[S.SOURCE_FILE].astype(STRING).to_numpy(),
        S.SOURCE_ROW: rows[S.SOURCE_ROW].astype("Int64").to_numpy(),
        S.PLATFORM: rows[S.PLATFORM].astype(STRING).to_numpy(),
        S.QUARANTINE_REASON: ("duplicate of " + rows[S.RESPONSE_ID].astype(str)).astype(STRING).to_numpy(),
        S.QUARANTINE_KIND: pd.array([QuarantineKind.DUPLICATE.value] * len(rows), dtype=STRING),
        ORIGINAL: pd.array(originals, dtype=STRING),
    })
    return pd.concat([quarantine, extra], ignore_index=True)


def month_result(month: str, cfg: Any, taxonomy, history: pd.DataFrame, quarantine: pd.DataFrame,
                 quality: pd.DataFrame, timings: dict[str, float], *, store=None, stored_months=(),
                 volumes=None):
    """The comparisons of ``pipeline.run_month`` on rows that are already tagged and scored."""
    from .pipeline import build_result

    return build_result(month, cfg, taxonomy, history, quarantine, quality, timings,
                        store=store, stored_months=list(stored_months), volumes=volumes)
