"""The Dask engine: workers read, clean, tag and score; the rules see every row of their key.

Every step below is a task on a worker (``distributed`` futures); what the client holds is
listed at the end.

1. **Read and map** (one task per export file, :func:`_read_file`): the worker reads the file
   from the shared path with :func:`feedbacklib.io.read_export` (CSV, TSV, XLSX, JSON or Parquet,
   detected as on the pandas path) and maps it to canonical rows
   (:func:`feedbacklib.clean.canonical_rows`: normalise, parse, redact, row-level quarantine).
   The rows stay on the worker. The quarantine of row-level problems is built there too, while
   the raw cells are at hand.
2. **Duplicates** (shuffle on ``(platform, response_id)``): each file's usable rows send their
   keys (no text) to one of ``buckets`` buckets by hash; each bucket sorts its keys in file
   then row order and applies :func:`feedbacklib.clean.mark_duplicates`, the pandas rule
   itself. Every copy of a response id meets the others in one bucket, so the verdicts are
   the pandas path's. With a ``work_dir`` each sender's buckets wait there (one Parquet file, a row
   group per bucket) instead of in worker memory; likewise in step 3 and the customer shuffle.
3. **Repeats** (shuffle on ``(platform, customer_key)``): the rows still usable after step 2
   that can be a repeat (a customer key and a comment; tickets never are) send key, time,
   id and comment to a bucket by customer; :func:`feedbacklib.clean.mark_repeats` runs there.
   Every row of one customer meets the others, so the 24 h rule sees all of them.
4. **Finish** (one task per file): the verdicts of steps 2-3 are applied; duplicate and repeat
   rows are quarantined with their raw cells (the worker reads that file again only when it
   has such rows); the kept rows are validated and stay on the worker.
5. **Fit once on a bounded sample**: each file sends its fit sample of the report month's
   comments (:func:`~feedbacklib.engines.base.fit_sample`: the at most ``FIT_SAMPLE`` distinct
   comments with the smallest stable hash); the samples are merged in a tree of tasks
   (``FAN_IN`` at a time) into the month's sample, which is the pandas engine's whatever the
   partitioning, and one worker fits the theme tagger on it. No task holds more than
   ``FAN_IN x FIT_SAMPLE`` comments. The fitted tagger goes to the other workers as a task
   result, never through the client.
6. **Annotate** (one task per file): months after the report month and months the history
   store holds are dropped, the rest is tagged and scored (sentiment in chunks below the
   size at which the scorer would fork, since a worker process may not); with ``rows_dir``
   the rows are written there as ``part-<file>.parquet``; with a history store, each month's rows
   of the file are staged in the store's open transaction as ``rows/month=M/part-<file>.parquet``
   (:func:`feedbacklib.history.write_row_part`; the client writes only the aggregates and commits,
   so an error anywhere commits nothing); a pluggable
   :data:`~feedbacklib.engines.base.SummaryStep` reduces each partition to a summary, and the
   summaries are added up on a worker.

What the client receives: the file list (it lists the input folder), per-file counts (rows
read, kept, quarantined by reason), kept responses per month, the quarantined rows (reason
and redacted raw cells: they go to ``quarantine.csv``), the combined summary, and, until the
report's statistics are computed from summaries, the analysed rows (the report month and
earlier months the store lacks), which the orchestrator hands to ``build_result``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import operator
import os
from collections.abc import Sequence
from functools import reduce
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .. import schema as S
from ..clean import (
    ORIGINAL, QUALITY_COLUMNS, REASON_KINDS, canonical_rows, mark_duplicates, mark_repeats, quarantine_rows,
    time_order, validate_canonical,
)
from ..errors import DetectionError, InputError, NoDataError
from ..history import write_row_part
from ..io import TRIED_SUFFIXES, read_export, strict_input
from ..io._common import list_url, local_file, local_path
from ..sentiment import PARALLEL_MIN_TEXTS
from ..themes import Taxonomy
from .base import (
    Annotated, Cleaned, RowStaging, SummaryStep, Timer, add_sentiment, add_themes, fit_on_sample, fit_sample, merge_fit_samples,
    months_to_analyse,
)

__all__ = ["DaskEngine", "connect", "list_exports"]

log = logging.getLogger("feedbacklib.engines.dask")

FILE_NO = "__file_no"   # the file's place in the input folder (name order)
POS = "__pos"           # the row's place in its file's canonical rows
REASON = S.QUARANTINE_REASON
KIND = S.QUARANTINE_KIND
STRING = pd.StringDtype("pyarrow")  # the readers' and the cleaned frame's text dtype
FAN_IN = 8              # fit samples merged per task (step 5)


def connect(scheduler: Any = None, **cluster_kwargs: Any):
    """A ``distributed.Client``: to ``scheduler`` (``tcp://host:8786``) or a new LocalCluster
    (one single-threaded worker process per core; ``cluster_kwargs`` override)."""
    from distributed import Client, LocalCluster

    if scheduler:
        return Client(scheduler)
    kwargs = {"n_workers": max(1, os.cpu_count() or 2), "threads_per_worker": 1, "processes": True,
              "dashboard_address": ":0"}  # any free port: 8787 may be taken
    kwargs.update(cluster_kwargs)
    return Client(LocalCluster(**kwargs))


def list_exports(folder: str | os.PathLike[str]) -> tuple[list[Any], list[tuple[str, str]]]:
    """The files of ``folder`` that :func:`feedbacklib.io.read_exports` tries, in its order, and
    the entries it skips without reading them (``(name, why)``). ``folder`` may be an fsspec URL
    (``s3://bucket/exports``): its files are then URLs, which the workers open through fsspec."""
    local = local_path(folder)
    if local is None:
        return _list_url(str(folder))
    folder = local
    if not folder.is_dir():
        raise InputError(f"The input folder {str(folder)!r} does not exist or is not a folder.")
    files, skipped = [], []
    for p in sorted(folder.iterdir(), key=lambda q: q.name):
        if p.name.startswith((".", "~$")):
            continue
        if p.is_symlink() and not p.exists():
            raise InputError(f"The export {p.name!r} is a link to {os.readlink(p)!r}, which does not exist (an "
                             "unmounted share?): mount it or remove the link, so that no data is missing from the "
                             "report.")
        if p.is_dir():
            skipped.append((p.name, "a folder (sub-folders are not read)"))
        elif p.suffix.lower() not in TRIED_SUFFIXES:
            skipped.append((p.name, f"not an export ({p.suffix or 'no'} suffix)"))
        else:
            files.append(p)
    return files, skipped


def _list_url(url: str) -> tuple[list[Any], list[tuple[str, str]]]:
    """:func:`list_exports` of an object-store URL."""
    files: list[Any] = []
    skipped: list[tuple[str, str]] = []
    for name, entry, is_folder in list_url(url):
        if name.startswith((".", "~$")):
            continue
        suffix = Path(name).suffix.lower()
        if is_folder:
            skipped.append((name, "a folder (sub-folders are not read)"))
        elif suffix not in TRIED_SUFFIXES:
            skipped.append((name, f"not an export ({suffix or 'no'} suffix)"))
        else:
            files.append(entry)
    return files, skipped


# --------------------------------------------------------------------------- worker tasks

def _bucket_of(keys: pd.DataFrame, buckets: int) -> np.ndarray:
    if not len(keys):
        return np.zeros(0, dtype=np.int64)
    return (pd.util.hash_pandas_object(keys.astype(object), index=False).to_numpy() % np.uint64(buckets)).astype(
        np.int64)


@dataclasses.dataclass(frozen=True)
class _Piece:
    """One bucket's rows from one sender, left in the work folder: row group ``group`` of the sender's
    Parquet file (-1: the bucket got no rows)."""

    path: str
    group: int


def _split(frame: pd.DataFrame, bucket: np.ndarray, buckets: int, work_dir: str | None = None,
           name: str = "") -> list[pd.DataFrame] | list[_Piece]:
    """``frame``'s rows of each bucket, in their order (one stable sort and a slice per bucket, not a
    mask per bucket: a partition is sent to up to 64 buckets). With a ``work_dir`` they wait there, in
    one Parquet file ``name`` with a row group per bucket, and each bucket gets a :class:`_Piece`: a
    shuffle then holds one sender's rows at a time, not every sender's until the buckets have run."""
    order = np.argsort(bucket, kind="stable")
    bounds = np.searchsorted(bucket[order], np.arange(buckets + 1))
    ordered = frame.take(order)
    if not work_dir:
        return [ordered.iloc[bounds[b]:bounds[b + 1]] for b in range(buckets)]
    Path(work_dir).mkdir(parents=True, exist_ok=True)
    path = Path(work_dir) / name
    table = pa.Table.from_pandas(ordered, preserve_index=False)
    filled = [b for b in range(buckets) if bounds[b + 1] > bounds[b]]
    with pq.ParquetWriter(path, table.schema) as writer:
        for b in filled:  # each call writes its own row group
            size = int(bounds[b + 1] - bounds[b])
            writer.write_table(table.slice(int(bounds[b]), size), row_group_size=size)
    group = {b: g for g, b in enumerate(filled)}
    return [_Piece(str(path), group.get(b, -1)) for b in range(buckets)]


def _frame(piece: pd.DataFrame | _Piece) -> pd.DataFrame:
    """A bucket's rows from one sender (what :func:`_split` gave)."""
    if isinstance(piece, pd.DataFrame):
        return piece
    source = pq.ParquetFile(piece.path)
    if piece.group >= 0:
        return source.read_row_group(piece.group).to_pandas()
    if source.num_row_groups:  # no rows: those of a row group, for the categories' values as well as the columns
        return source.read_row_group(0).slice(0, 0).to_pandas()
    return source.schema_arrow.empty_table().to_pandas()


def _keep(frame: pd.DataFrame, work_dir: str | None, name: str) -> pd.DataFrame | str:
    """``frame`` itself, or with a ``work_dir`` the path of a Parquet copy there (the worker then
    holds one file's rows at a time instead of all of them between steps)."""
    if not work_dir:
        return frame
    Path(work_dir).mkdir(parents=True, exist_ok=True)
    path = Path(work_dir) / name
    frame.to_parquet(path, index=False)
    return str(path)


def _load(rows: pd.DataFrame | str) -> pd.DataFrame:
    """What :func:`_keep` kept, as the frame it was (dtypes of the cleaned frame restored)."""
    if not isinstance(rows, str):
        return rows
    frame = pd.read_parquet(rows)
    dtypes = {c: d for c, d in S.CANONICAL_DTYPES.items() if c in frame.columns}
    if REASON in frame.columns:
        dtypes[REASON] = STRING
    return frame.astype(dtypes)


def _read_file(path: str, cfg: Any, strict: bool, n: int = 0, work_dir: str | None = None) -> dict[str, Any]:
    """Step 1: one export read and mapped; row-level quarantine built while the raw cells are here."""
    try:
        with local_file(path) as local:  # an object-store URL: a local copy while it is read
            export = read_export(local, config=cfg)
    except DetectionError as exc:
        if strict:
            raise InputError(f"{exc} ([input] strict = true makes an unknown file an error.)") from exc
        return {"skipped": (Path(path).name, "unknown layout")}
    rows = canonical_rows(export, cfg)
    bad = rows[REASON].notna().to_numpy(dtype=bool)
    quarantine = quarantine_rows(rows[bad], export, cfg)
    return {"rows": _keep(rows, work_dir, f"canonical-{n:05d}.parquet"), "rows_read": len(export.raw),
            "name": export.path.name, "platform": export.platform, "confidence": float(export.confidence),
            "quarantine": quarantine, "quarantine_pos": np.flatnonzero(bad)}


def _dup_keys(part: dict, file_no: int, buckets: int, work_dir: str | None = None) -> list:
    """Step 2, sender: the keys of the usable rows (extra columns such as the version included)."""
    rows = _load(part["rows"])
    ok = rows[REASON].isna().to_numpy(dtype=bool)
    extra = [c for c in rows.columns if c not in S.CANONICAL_COLUMNS and c not in (REASON, KIND)]
    keys = rows.loc[ok, [S.PLATFORM, S.RESPONSE_ID, REASON, KIND, *extra]].assign(
        **{FILE_NO: np.int64(file_no), POS: np.flatnonzero(ok)})
    return _split(keys, _bucket_of(keys[[S.PLATFORM, S.RESPONSE_ID]], buckets), buckets, work_dir,
                  f"duplicate-keys-{file_no:05d}.parquet")


def _ordered(pieces: Sequence[pd.DataFrame | _Piece]) -> pd.DataFrame:
    keys = pd.concat([_frame(p) for p in pieces], ignore_index=True)
    return keys.sort_values([FILE_NO, POS], kind="stable").reset_index(drop=True)


def _verdicts(keys: pd.DataFrame) -> pd.DataFrame:
    hit = keys[REASON].notna().to_numpy(dtype=bool)
    return keys.loc[hit, [FILE_NO, POS, REASON, KIND]].reset_index(drop=True)


def _dup_bucket(*pieces: pd.DataFrame | _Piece) -> pd.DataFrame:
    """Step 2, receiver: the pandas duplicate rule on every copy of these response ids."""
    keys = _ordered(pieces)
    if len(keys):
        mark_duplicates(keys)
    return _verdicts(keys)


def _repeat_keys(part: dict, file_no: int, dups: pd.DataFrame, buckets: int, work_dir: str | None = None) -> list:
    """Step 3, sender: rows that can be a repeat (usable, not a duplicate, a customer, a comment, no ticket)."""
    rows = _load(part["rows"])
    ok = rows[REASON].isna().to_numpy(dtype=bool).copy()
    ok[dups.loc[dups[FILE_NO] == file_no, POS].to_numpy(dtype=np.int64)] = False
    ok &= rows[S.CUSTOMER_KEY].notna().to_numpy(dtype=bool)
    ok &= (rows[S.TEXT].fillna("") != "").to_numpy(dtype=bool)
    ok &= (rows[S.SOURCE].astype(object) != "ticket").to_numpy(dtype=bool)
    keys = rows.loc[ok, [S.PLATFORM, S.CUSTOMER_KEY, S.SOURCE, S.TEXT, S.RECEIVED_AT, S.RESPONSE_ID, REASON, KIND]].assign(
        **{FILE_NO: np.int64(file_no), POS: np.flatnonzero(ok)})
    return _split(keys, _bucket_of(keys[[S.PLATFORM, S.CUSTOMER_KEY]], buckets), buckets, work_dir,
                  f"repeat-keys-{file_no:05d}.parquet")


def _repeat_bucket(cfg: Any, *pieces: pd.DataFrame | _Piece) -> pd.DataFrame:
    """Step 3, receiver: the pandas repeat rule on every row of these customers."""
    keys = _ordered(pieces)
    if len(keys):
        mark_repeats(keys, cfg)
    return _verdicts(keys)


def _concat_verdicts(*verdicts: pd.DataFrame) -> pd.DataFrame:
    return pd.concat(list(verdicts), ignore_index=True)


def _finish(part: dict, file_no: int, verdicts: pd.DataFrame, path: str, cfg: Any,
            work_dir: str | None = None) -> dict[str, Any]:
    """Step 4: verdicts applied; duplicate and repeat rows quarantined with their raw cells."""
    rows = _load(part["rows"])
    mine = verdicts[verdicts[FILE_NO] == file_no]
    quarantine, pos = part["quarantine"], part["quarantine_pos"]
    if len(mine):
        at = mine[POS].to_numpy(dtype=np.int64)
        rows = rows.copy()
        rows.loc[at, REASON] = mine[REASON].astype(rows[REASON].dtype).to_numpy()
        rows.loc[at, KIND] = mine[KIND].astype(rows[KIND].dtype).to_numpy()
        with local_file(path) as local:  # the raw cells of the rows quarantined here
            export = read_export(local, config=cfg)
        later = quarantine_rows(rows.iloc[np.sort(at)], export, cfg)
        quarantine = pd.concat([quarantine, later], ignore_index=True)
        pos = np.concatenate([pos, np.sort(at)])
        order = np.argsort(pos, kind="stable")
        quarantine, pos = quarantine.iloc[order].reset_index(drop=True), pos[order]
    bad = rows[REASON].notna()
    kinds = rows.loc[bad.to_numpy(dtype=bool), KIND]
    kept = rows.loc[~bad.to_numpy(dtype=bool), list(S.CANONICAL_COLUMNS)].reset_index(drop=True)
    validate_canonical(kept)
    counts = {"file": part["name"], S.PLATFORM: part["platform"], "confidence": part["confidence"],
              "rows_read": part["rows_read"], "rows_kept": len(kept), "rows_quarantined": int(bad.sum()),
              **{str(k): int(n) for k, n in kinds.value_counts().items()}}
    volumes = {str(m): int(n) for m, n in kept[S.MONTH].dropna().astype(str).value_counts().items()}
    return {"kept": _keep(kept, work_dir, f"cleaned-{file_no:05d}.parquet"),
            "small": {"counts": counts, "volumes": volumes, "quarantine": quarantine}}


def _month_sample(kept: pd.DataFrame | str, month: str) -> pd.DataFrame:
    """Step 5, sender: this file's fit sample of the report month's comments (at most
    :data:`~feedbacklib.engines.base.FIT_SAMPLE` texts, see :func:`~feedbacklib.engines.base.fit_sample`)."""
    kept = _load(kept)
    return fit_sample(kept.loc[(kept[S.MONTH] == month).to_numpy(dtype=bool), S.TEXT])


def _fit(taxonomy: Taxonomy, sample: pd.DataFrame):
    """Step 5, receiver: the pandas engine's model (the same sample), fitted on one worker."""
    return fit_on_sample(sample, taxonomy)


def _annotate(kept: pd.DataFrame | str, tagger, month: str, skip: tuple[str, ...], rows_dir: str | None, file_no: int,
              summary: SummaryStep | None, staging: RowStaging | None = None,
              work_dir: str | None = None) -> dict[str, Any]:
    """Step 6: months kept, themes, evidence, sentiment; rows written (``rows_dir``) and staged for the
    history store (``staging``: one part per month and file); the partition's summary."""
    kept = _load(kept)
    frame = kept[months_to_analyse(kept, month, skip)].reset_index(drop=True)
    frame = add_sentiment(add_themes(frame, tagger), chunk=max(1, PARALLEL_MIN_TEXTS))
    written = None
    if rows_dir:
        Path(rows_dir).mkdir(parents=True, exist_ok=True)
        tmp = Path(rows_dir) / f".part-{file_no:05d}.parquet.tmp"
        frame.to_parquet(tmp, index=False)
        written = str(Path(rows_dir) / f"part-{file_no:05d}.parquet")
        os.replace(tmp, written)
    if staging is not None:
        for m in staging.months:
            part = frame[(frame[S.MONTH] == m).fillna(False).to_numpy(dtype=bool)]
            if len(part):
                write_row_part(Path(staging.folder), m, part.reset_index(drop=True), file_no,
                               metadata=staging.metadata)
    parts = summary(frame, month, list(tagger.theme_ids_)) if summary else None
    # with a work_dir (rows left on the workers), the analysed rows wait on disk for the later steps:
    # in their rows_dir part when there is one (written once)
    rows = written if work_dir and written else _keep(frame, work_dir, f"analysed-{file_no:05d}.parquet")
    return {"rows": rows, "summary": parts}


def _apply(rows: pd.DataFrame | str, fn: Any) -> Any:
    """``fn`` of one partition's analysed rows (:meth:`DaskEngine.map_rows`)."""
    return fn(_load(rows))


def _customer_send(rows: pd.DataFrame | str | None, select: Any, buckets: int, work_dir: str | None = None,
                   name: str = "") -> dict[str, Any]:
    """The customer-key shuffle's sender (:meth:`DaskEngine.by_customer`): ``select`` of one partition
    (or of nothing: an extra source), split into buckets by customer key alone (with a ``work_dir``,
    left there as ``name``)."""
    frame, info = select(_load(rows)) if rows is not None else select()
    keys = frame[[S.CUSTOMER_KEY]] if S.CUSTOMER_KEY in frame.columns else frame.iloc[:, :0]
    bucket = _bucket_of(keys, buckets) if keys.shape[1] else np.zeros(len(frame), dtype=np.int64)
    return {"pieces": _split(frame, bucket, buckets, work_dir, name), "info": info}


def _customer_bucket(step: Any, *pieces: pd.DataFrame | _Piece) -> Any:
    """The customer-key shuffle's receiver: ``step`` of every row of these customers (None: no rows)."""
    present = [p for p in map(_frame, pieces) if len(p)]
    if not present:
        return None
    return step(pd.concat(present, ignore_index=True) if len(present) > 1 else present[0].reset_index(drop=True))


def _month_head(rows: pd.DataFrame | str, month: str) -> pd.DataFrame:
    """The first row of ``month`` in one partition (enough for its dtypes), a copy: a slice would keep the
    whole partition's columns alive where the task's result is not pickled (:class:`~.local.InProcessClient`)."""
    frame = _month_rows(rows, month)
    return frame.take(np.arange(min(1, len(frame))))


def _month_rows(rows: pd.DataFrame | str, month: str) -> pd.DataFrame:
    frame = _load(rows)
    return frame[(frame[S.MONTH] == month).fillna(False).to_numpy(dtype=bool)].reset_index(drop=True)


def _add(*summaries: Any) -> Any:
    present = [s for s in summaries if s is not None]
    return reduce(operator.add, present) if present else None


# --------------------------------------------------------------------------- the engine

class DaskEngine:
    """read -> clean -> themes -> sentiment on a Dask cluster (see the module docstring).

    ``scheduler``: a ``distributed.Client``, a scheduler address, or None for a local cluster
    started for the run. ``buckets``: hash buckets of the two shuffles (default: twice the
    files, at least 2, at most 64). ``rows_dir``: a folder every worker can write (shared path)
    where each file's analysed rows go as ``part-<n>.parquet``; None writes nothing.
    ``work_dir``: a folder every worker can read and write (shared path): each file's cleaned rows
    are kept there as Parquet between the steps instead of in worker memory, so a worker holds
    one file at a time (for months much larger than the workers' memory); None keeps them in memory.
    ``collect_rows=False``: :meth:`annotate` leaves the rows on the workers (and in ``rows_dir``)
    and returns only the summary (``frame`` None): what a run whose statistics come from
    summaries needs, and what the 10M-row benchmark measures.
    """

    name = "dask"
    fits_here = False  # on a worker (step 5)

    def __init__(self, scheduler: Any = None, *, buckets: int | None = None, rows_dir: str | None = None,
                 cluster_kwargs: dict | None = None, collect_rows: bool = True, work_dir: str | None = None):
        self.scheduler, self.buckets, self.rows_dir, self.work_dir = scheduler, buckets, rows_dir, work_dir
        self.collect_rows = collect_rows
        self.cluster_kwargs = dict(cluster_kwargs or {})
        self.client: Any = None  # a distributed.Client while a session is open

    @contextlib.contextmanager
    def session(self):
        """Connected for the block: to the client or address given, else to a local cluster closed after."""
        from distributed import Client

        if isinstance(self.scheduler, Client):
            self.client = self.scheduler
            yield self
            return
        client = connect(self.scheduler, **self.cluster_kwargs)
        self.client = client
        try:
            yield self
        finally:
            cluster = client.cluster
            with _quiet("distributed"):  # shutdown chatter ("still alive after 4 s, killing") is not the report's
                client.close()
                if cluster is not None:
                    cluster.close()
            self.client = None

    def _submit(self, fn, *args, **kwargs):
        return self.client.submit(fn, *args, pure=False, **kwargs)

    def clean(self, folder: Path, cfg: Any, timings: dict[str, float], bar: Any = None) -> Cleaned:
        if self.client is None:
            raise RuntimeError("DaskEngine.clean outside engine.session(): connect first.")
        files, skipped = list_exports(folder)
        strict = strict_input(cfg)
        with Timer(timings, "read", bar):
            read = [self._submit(_read_file, str(p), cfg, strict, n, self.work_dir) for n, p in enumerate(files)]
            small = self.client.gather([self._submit(_skipped_or_none, r) for r in read])
        parts, paths = [], []
        for path, fut, skip in zip(files, read, small):
            if skip is not None:
                skipped.append(skip)
                log.warning("input: %r skipped: its layout matches no known export; set [input] strict = true to "
                            "make this an error, or map it with --platform / [input.platforms].", skip[0])
            else:
                parts.append(fut)
                paths.append(str(path))
        skipped.sort(key=lambda s: s[0])
        with Timer(timings, "clean", bar):
            verdicts, finished = self._rules(parts, paths, cfg)
            smalls = self.client.gather([self._submit(operator.getitem, f, "small") for f in finished])
            kept = [self._submit(operator.getitem, f, "kept") for f in finished]
            del finished, parts, read, verdicts
        return Cleaned(volumes=_sum_volumes(s["volumes"] for s in smalls),
                       quarantine=_quarantine(smalls), quality=_quality([s["counts"] for s in smalls]),
                       skipped=skipped, rows=kept)

    def _rules(self, parts: list, paths: list[str], cfg: Any):
        if not parts:
            return None, []
        b = self.buckets or min(64, max(2, 2 * len(parts)))
        dup_out = [self._submit(_dup_keys, p, k, b, self.work_dir) for k, p in enumerate(parts)]
        dups = [self._submit(_dup_bucket, *[self._submit(operator.getitem, d, j) for d in dup_out])
                for j in range(b)]
        dup_all = self._submit(_concat_verdicts, *dups) if dups else None
        rep_out = [self._submit(_repeat_keys, p, k, dup_all, b, self.work_dir) for k, p in enumerate(parts)]
        reps = [self._submit(_repeat_bucket, cfg, *[self._submit(operator.getitem, r, j) for r in rep_out])
                for j in range(b)]
        verdicts = self._submit(_concat_verdicts, dup_all, *reps) if parts else None
        finished = [self._submit(_finish, p, k, verdicts, path, cfg, self.work_dir)
                    for k, (p, path) in enumerate(zip(parts, paths))]
        return verdicts, finished

    def annotate(self, cleaned: Cleaned, month: str, taxonomy: Taxonomy, *, skip_months: Sequence[str] = (),
                 timings: dict[str, float], bar: Any = None, summary: SummaryStep | None = None,
                 staging: RowStaging | None = None) -> Annotated:
        kept = cleaned.rows
        with Timer(timings, "themes", bar):
            samples = _TreeSum(self._submit, merge_fit_samples)  # no task holds over FAN_IN samples of FIT_SAMPLE texts
            for k in kept:
                samples.add(self._submit(_month_sample, k, month))
            tagger = self._submit(_fit, taxonomy, samples.total())
            del samples
            keep = None if self.collect_rows else self.work_dir
            rows, summaries = [], _TreeSum(self._submit)
            for n, k in enumerate(kept):
                done = self._submit(_annotate, k, tagger, month, tuple(skip_months), self.rows_dir, n, summary,
                                    staging, keep)
                rows.append(self._submit(operator.getitem, done, "rows"))
                summaries.add(self._submit(operator.getitem, done, "summary"))
                del done  # each partition's result is let go once split into its rows and its summary
            total = summaries.total()  # added a few at a time as they come, never all on one worker
            del summaries
            self.client.gather(total)  # waits for every partition (errors surface here)
        with Timer(timings, "sentiment", bar):  # on Dask, tagging and scoring ran above; this brings the rows back
            frame, handle = None, None
            if self.collect_rows:
                frame = _in_time_order(self.client.gather(rows))
            else:
                handle = rows  # the partitions stay on the workers for map_rows / by_customer / month_rows
            result = Annotated(frame=frame, tagger=self.client.gather(tagger), summary=self.client.gather(total),
                               staged=staging.months if staging is not None else (), rows=handle)
        cleaned.rows = None
        return result

    # ----------------------------------------------------------------------- rows left on the workers

    def map_rows(self, handle: list, fn: Any) -> Any:
        """``fn(rows)`` on each partition of the analysed rows (``Annotated.rows``) where it is, the results
        added up in partition order on a worker (None: nothing to add); only the sum reaches the client."""
        if not handle:
            return None
        results = _TreeSum(self._submit)
        for r in handle:
            results.add(self._submit(_apply, r, fn))
        return self.client.gather(results.total())

    def by_customer(self, handle: list, select: Any, make_step: Any, extra: Sequence[Any] = ()) -> Any:
        """A shuffle on the customer key alone: each partition sends ``select(rows)`` (a frame and a small
        additive ``info``), each of ``extra`` (callables, run on a worker) sends its own; the client gets
        the ``info`` added up and ``make_step(info)`` gives the step each bucket runs on every row of its
        customers; the buckets' results are added up on a worker and only the sum reaches the client."""
        b = self.buckets or min(64, max(2, 2 * len(handle)))
        sent = [self._submit(_customer_send, r, select, b, self.work_dir, f"customers-{n:05d}.parquet")
                for n, r in enumerate(handle)]
        sent += [self._submit(_customer_send, None, x, b, self.work_dir, f"customers-stored-{n}.parquet")
                 for n, x in enumerate(extra)]
        if not sent:
            return None
        info = self.client.gather(self._sum([self._submit(operator.getitem, s, "info") for s in sent]))
        step = make_step(info)
        pieces = [self._submit(operator.getitem, s, "pieces") for s in sent]
        buckets = _TreeSum(self._submit)
        for j in range(b):
            buckets.add(self._submit(_customer_bucket, step, *[self._submit(operator.getitem, p, j) for p in pieces]))
        return self.client.gather(buckets.total())

    def _sum(self, futures: list) -> Any:
        """One future of the futures' results added up in their order (see :class:`_TreeSum`); its result is
        None when there are none."""
        total = _TreeSum(self._submit)
        for f in futures:
            total.add(f)
        return total.total()

    def run(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """``fn(*args, **kwargs)`` on a worker, its result brought to the client (work whose memory should
        not be the client's, such as the emerging themes' discovery fit)."""
        return self.client.gather(self._submit(fn, *args, **kwargs))

    def month_rows(self, handle: list, month: str) -> pd.DataFrame:
        """The analysed rows of ``month`` brought to the client, in the pandas engine's order."""
        return _in_time_order(self.client.gather([self._submit(_month_rows, r, month) for r in handle]))

    def empty_rows(self, handle: list, month: str) -> pd.DataFrame:
        """No rows, with the columns and dtypes of the analysed rows of ``month`` (``MonthResult.frame``
        of a run whose rows stay on the workers)."""
        heads = self.client.gather([self._submit(_month_head, r, month) for r in handle])
        return _in_time_order(heads).iloc[:0]


class _TreeSum:
    """Futures added up in their order, in a tree of tasks of at most ``FAN_IN`` inputs built as they are
    given (:meth:`add`): a sum is submitted as soon as ``FAN_IN`` results wait at one level, runs when they
    are ready and lets them go, so no worker holds every partition's result at once (a 10M-row month's 100
    partitions' parts, ~16 MB each pickled, filled a 2 GiB worker when one task added them all), and a
    client that runs each task at once (:class:`~.local.InProcessClient`) holds a few, not all of them."""

    def __init__(self, submit: Any, combine: Any = None):
        self.submit, self.combine = submit, combine or _add  # combine(*results): ``_add``, or a merge
        self.levels: list[list] = [[]]  # futures waiting at each level; a higher level holds earlier ones

    def add(self, future: Any) -> None:
        self.levels[0].append(future)
        level = 0
        while len(self.levels[level]) >= FAN_IN:
            summed = self.submit(self.combine, *self.levels[level])
            self.levels[level] = []
            level += 1
            if level == len(self.levels):
                self.levels.append([])
            self.levels[level].append(summed)

    def total(self) -> Any:
        """One future of the sum of everything given (its result is None when nothing was)."""
        rest = [f for level in reversed(self.levels) for f in level]  # earlier partitions first
        self.levels = [[]]
        while len(rest) > 1:
            rest = [self.submit(self.combine, *rest[i:i + FAN_IN]) for i in range(0, len(rest), FAN_IN)]
        return rest[0] if rest else self.submit(self.combine)


@contextlib.contextmanager
def _quiet(name: str):
    """Only errors from logger ``name`` (and its children) for the block."""
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _skipped_or_none(part: dict) -> tuple[str, str] | None:
    return part.get("skipped")


def _sum_volumes(volumes) -> dict[str, int]:
    total: dict[str, int] = {}
    for v in volumes:
        for m, n in v.items():
            total[m] = total.get(m, 0) + n
    return dict(sorted(total.items()))


def _quarantine(smalls: list[dict]) -> pd.DataFrame:
    frames = [s["quarantine"] for s in smalls]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype="Int64" if c == S.SOURCE_ROW else STRING)
                             for c in (*S.QUARANTINE_COLUMNS, ORIGINAL)})
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def _quality(counts: list[dict]) -> pd.DataFrame:
    """The pandas engine's quality table from per-file counts."""
    kinds = {k for c in counts for k in c} - set(QUALITY_COLUMNS)
    extra = sorted(kinds - set(REASON_KINDS))
    columns = [*QUALITY_COLUMNS, *REASON_KINDS, *extra]
    records = [{col: c.get(col, 0) for col in columns} for c in counts]
    quality = pd.DataFrame.from_records(records, columns=columns)
    return quality.astype({"file": STRING, S.PLATFORM: STRING, "confidence": "float64",
                           **{c: "int64" for c in columns[3:]}})


def _in_time_order(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The files' rows in the pandas engine's order: file order, then (received_at, response_id), stable."""
    if not frames:
        raise NoDataError("No rows to analyse.")
    like = max(frames, key=len).dtypes  # an empty partition's columns may have fallen back to object
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    frame = frame.astype({**like.to_dict(), **{c: d for c, d in S.CANONICAL_DTYPES.items() if c in frame.columns}})
    return frame.take(time_order(frame)).reset_index(drop=True)
