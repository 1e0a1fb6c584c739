"""The monthly history store: processed months as Parquet, and the aggregates trends need.

Layout (one hive-partitioned dataset per table, readable as rows by pandas, pyarrow,
Dask, DuckDB, Polars or Spark; see docs/history-store.md)::

    <store>/rows/month=2026-10/part-0.parquet
    <store>/kpis/month=2026-10/part-0.parquet
    <store>/theme_counts/month=2026-10/part-0.parquet
    <store>/uncovered/month=2026-10/part-0.parquet

A ``rows`` partition holds one month's cleaned, tagged and scored rows (the
canonical columns, ``theme_<id>`` flags, evidence, sentiment). New partitions are
staged and committed together (:meth:`HistoryStore.commit`): the report run
commits them in the same step as it publishes the month's report folder, so a
failed or killed run changes neither; rewriting a month replaces it.

The report's trend sections need counts, not rows: per month (and optionally
per service model) the number of comments with text and how many carry each
theme, and the previous month's KPI inputs. :func:`theme_counts` computes them
one partition at a time from a few columns, so memory stays at one month's
flags however long the history grows, and :func:`monthly_theme_rates_from_counts`
/ :func:`theme_trends_from_counts` turn them into exactly what
:func:`feedbacklib.trends.monthly_theme_rates` / :func:`~feedbacklib.trends.theme_trends`
return for the full row history.

>>> store = HistoryStore("reports/history")                      # doctest: +SKIP
>>> store.write_month("2026-10", result.frame)                   # doctest: +SKIP
>>> counts = store.theme_counts(result.theme_ids, by="service_model")  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from . import schema as S
from .clean import time_order
from .errors import StoreError
from .faults import fault as _fault
from .stats import ALPHA, MIN_N, text_mask, proportion_interval
from .stats.summaries import N_TEXT, Summary, hit_column
from .fsutil import SymlinkError, exchange, fsync_dir, fsync_files, is_symlink, make_dirs, write_atomic
from .lock import lock
from .emerging import UncoveredPartial, uncovered_partial
from .trends import month_kpi_table, trend_table

__all__ = [
    "History", "month_aggregates", "build_history", "uncovered_sample", "contacts_since", "taxonomy_fingerprint", "AGGREGATES", "CONTACT_DAYS",
    "HistoryStore", "HISTORY_DIR", "COUNT_COLUMNS", "theme_counts_of", "theme_counts_from_summary", "kpi_columns",
    "monthly_theme_rates_from_counts", "theme_trends_from_counts", "ROWS", "DATASETS", "StoreError",
    "write_partitions", "write_row_part",
]

log = logging.getLogger(__name__)

#: Default folder name of the store inside the output folder.
HISTORY_DIR = "history"
#: Columns of a theme-count table (long format); ``by`` adds its column after month.
COUNT_COLUMNS = ("month", "theme", "n", "hits")
_PART = "part-0.parquet"
#: The dataset of the rows; the per-month aggregates (see :func:`month_aggregates`) have one each beside it.
ROWS = "rows"
AGGREGATES = ("theme_counts", "kpis", "uncovered")
DATASETS = (ROWS, *AGGREGATES)
#: The commit journal inside the store (hidden: readers of the datasets never see it).
TXN_DIR = ".commit"
#: Days of earlier contacts kept for the repeat-contact windows (the longest window is 30 days).
CONTACT_DAYS = 31
#: Uncovered comments kept per earlier month for the growth of emerging themes (a fixed-seed sample).
UNCOVERED_SAMPLE = 5_000
CONTACT_COLUMNS = (S.RESPONSE_ID, S.SOURCE, S.CUSTOMER_KEY, S.RECEIVED_AT)
_META_KEY = b"feedbacklib.history"


def _long_counts(n: pd.Series, hits: pd.DataFrame, keys: list[str], themes: Sequence[str]) -> pd.DataFrame:
    """The long table ``keys, theme, n, hits`` from comments per group ``n`` and hits per group and theme
    (one column per theme, in ``themes`` order); sorted by the keys, then the themes' order."""
    hits = hits.set_axis(list(themes), axis=1)
    long = hits.stack(future_stack=True).rename("hits").reset_index()
    long = long.rename(columns={long.columns[len(keys)]: "theme"})
    long["n"] = n.reindex(pd.MultiIndex.from_frame(long[keys]) if len(keys) > 1 else long[keys[0]]).to_numpy()
    long["hits"] = long["hits"].astype("int64")
    long["n"] = long["n"].astype("int64")
    order = {t: k for k, t in enumerate(themes)}
    long = long.sort_values(keys + ["theme"], key=lambda s: s.map(order) if s.name == "theme" else s,
                            kind="stable").reset_index(drop=True)
    return long[keys + ["theme", "n", "hits"]]


def theme_counts_of(frame: pd.DataFrame, themes: Sequence[str], *, by: str | None = None) -> pd.DataFrame:
    """Long table month, [by], theme, n (comments with text), hits, from rows in memory.

    ``frame`` needs ``month``, ``text`` (or a boolean ``has_text``) and ``theme_<id>`` columns.
    """
    has_text = frame["has_text"].to_numpy(dtype=bool) if "has_text" in frame.columns else text_mask(frame[S.TEXT])
    keys = [S.MONTH] + ([by] if by else [])
    sub = frame.loc[has_text, keys + [S.theme_column(t) for t in themes]]
    grouped = sub.groupby(keys, observed=True, sort=True)
    n = grouped.size()
    hits = grouped[[S.theme_column(t) for t in themes]].sum()
    return _long_counts(n, hits, keys, themes)


def theme_counts_from_summary(summary: Summary, themes: Sequence[str], *, by: str | None = None,
                              month: str | None = None) -> pd.DataFrame:
    """:func:`theme_counts_of` from a :class:`~feedbacklib.stats.summaries.Summary` keyed by ``month`` (or
    given one ``month`` for all its rows) and ``by``, that counts the hits of ``themes``.

    A theme the summary counts but whose column the rows lacked has 0 hits (:func:`theme_counts_of`
    needs every theme's column).
    """
    missing = [t for t in themes if t not in summary.themes]
    if missing:
        raise ValueError(f"The summary counts no hits of the themes {missing} (it has {list(summary.themes)}).")
    cells = summary.cells
    if month is not None:
        cells = cells.assign(**{S.MONTH: month})
    keys = [S.MONTH] + ([by] if by else [])
    for key in keys:
        if key not in cells.columns:
            raise ValueError(f"The summary is not keyed by {key!r} (keys {list(summary.keys)}): build it with "
                             f"summarise(frame, keys=(..., {key!r})){' or pass month=' if key == S.MONTH else ''}.")
    hit_cols = [hit_column(t) for t in themes]
    sub = cells.loc[(cells[N_TEXT] > 0).to_numpy(dtype=bool), keys + [N_TEXT] + hit_cols]
    grouped = sub.groupby(keys, observed=True, sort=True)
    n = grouped[N_TEXT].sum()
    hits = grouped[hit_cols].sum()
    return _long_counts(n, hits, keys, themes)


def kpi_columns(frame_columns: Iterable[str]) -> list[str]:
    """The columns ``compare.kpi_table`` reads (without themes) that a frame has."""
    wanted = [S.MONTH, S.TEAM, S.SERVICE_MODEL, S.VENDOR, S.CHANNEL, S.CSAT, S.NPS, S.TEXT,
              S.SENTIMENT, S.SENTIMENT_LABEL, S.FIRST_RESPONSE_HOURS, S.RESOLUTION_HOURS,
              S.RESOLVED_REPORTED, S.REOPENED, S.SOURCE, S.CUSTOMER_KEY]
    have = set(frame_columns)
    return [c for c in wanted if c in have]


def _arrow_table(frame: pd.DataFrame, month: str, metadata: dict | None = None) -> pa.Table:
    """``frame`` without its ``month`` column (the partition key), typed so every month reads alike."""
    month_dtype = str(frame[S.MONTH].dtype) if S.MONTH in frame.columns else "string"
    table = pa.Table.from_pandas(frame.drop(columns=[S.MONTH], errors="ignore"), preserve_index=False)
    # A column with no values at all has Arrow type null, which other months (with values) cannot be
    # unified with by pyarrow datasets: store it as a (null) string instead.
    for i, fld in enumerate(table.schema):
        if pa.types.is_null(fld.type):
            table = table.set_column(i, pa.field(fld.name, pa.string()), table.column(i).cast(pa.string()))
    meta = dict(table.schema.metadata or {})
    meta[_META_KEY] = json.dumps({"month": month, "month_dtype": month_dtype, **(metadata or {})}).encode()
    return table.replace_schema_metadata(meta)


def _month_of_partition(name: str) -> str | None:
    return name[len("month="):] if name.startswith("month=") else None


class HistoryStore:
    """Processed months as Parquet, one hive-partitioned dataset for rows and one per aggregate.

    Layout under ``root`` (see docs/history-store.md)::

        rows/month=2026-10/part-0.parquet          the month's cleaned, tagged, scored rows
        kpis/month=2026-10/part-0.parquet          its KPI table by service model
        theme_counts/month=2026-10/part-0.parquet  comments with text and theme hits
        uncovered/month=2026-10/part-0.parquet     a sample of comments no theme covers

    The ``month`` column is the partition key (``month=...`` in the path), not a column
    of the files, so ``pd.read_parquet(root / "rows")``, a pyarrow dataset or DuckDB's
    ``read_parquet(..., hive_partitioning = true)`` read each dataset as plain rows.

    Writes are staged and committed as one transaction (:meth:`commit`): a reader sees
    every partition of a month complete, and a run that fails or is killed changes
    nothing. ``stage`` decides where :meth:`write_month` puts new partitions:

    - None (the default): into a private folder inside the store, committed when the
      enclosing :meth:`transaction` ends without error (under the output folder's lock);
    - a folder: into that folder only (the report run's staging folder; the runner
      commits it together with the month's report folder);
    - False: nowhere (the store is only read).
    """

    def __init__(self, root: str | os.PathLike[str], *, stage: str | os.PathLike[str] | None | Literal[False] = None):
        self.root = Path(root)
        self.stage: Path | None | Literal[False] = stage if stage is None or stage is False else Path(stage)
        self._pending: Path | None = None
        #: Months whose rows other processes staged as parts (:meth:`staging`, :func:`write_row_part`):
        #: :meth:`write_month` then writes only their aggregates.
        self.staged_rows: set[str] = set()

    def __repr__(self) -> str:
        return f"HistoryStore({str(self.root)!r})"

    # ----------------------------------------------------------------------- layout

    def partition(self, month: str, dataset: str = ROWS) -> Path:
        return self.root / dataset / f"month={month}"

    def months(self) -> list[str]:
        """Months stored, oldest first."""
        rows = self.root / ROWS
        if not rows.is_dir():
            return []
        return sorted(m for p in rows.iterdir()
                      if (m := _month_of_partition(p.name)) and p.is_dir() and _parts(p))

    def legacy_months(self) -> list[str]:
        """Months still in the layout before the row and aggregate datasets were split (``month=*/``)."""
        if not self.root.is_dir():
            return []
        return sorted(m for p in self.root.iterdir() if (m := _month_of_partition(p.name)) and p.is_dir())

    def metadata(self, month: str) -> dict:
        meta = pq.read_schema(_first_part(self.partition(month))).metadata or {}
        return json.loads(meta.get(_META_KEY, b"{}"))

    def columns(self, month: str) -> list[str]:
        return list(pq.read_schema(_first_part(self.partition(month))).names)

    def read_month(self, month: str, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """One stored month's rows (only ``columns`` when given), with its ``month`` column.

        A month written by Dask workers is several part files (one per input file, see
        :func:`write_row_part`): they are read together, in the cleaned frame's order
        (received_at, response_id; stable over the parts in file order), so the month reads as
        the single file the pandas engine writes."""
        parts = _parts(self.partition(month))
        if not parts:
            raise FileNotFoundError(f"{self.partition(month)}: no part file")
        cols = None if columns is None else [c for c in columns if c != S.MONTH]
        if len(parts) == 1:
            frame = pq.read_table(parts[0], columns=cols).to_pandas()
        else:
            order = [S.RECEIVED_AT, S.RESPONSE_ID]
            read = None if cols is None else [*cols, *(c for c in order if c not in cols)]
            tables = [pq.read_table(p, columns=read) for p in parts]
            frame = pa.concat_tables(tables, promote_options="default").to_pandas()
            frame = frame.take(time_order(frame)).reset_index(drop=True)
            if cols is not None:
                frame = frame[cols]
        frame.insert(0, S.MONTH, pd.Series(month, index=frame.index, dtype="string"))
        return frame

    def has_aggregates(self, month: str) -> bool:
        return all((self.partition(month, name) / _PART).exists() for name in AGGREGATES)

    def read_aggregate(self, month: str, name: str) -> pd.DataFrame:
        """One stored aggregate (``theme_counts``, ``kpis`` or ``uncovered``) of ``month``, with its month."""
        table = pq.read_table(self.partition(month, name) / _PART)
        meta = json.loads((table.schema.metadata or {}).get(_META_KEY, b"{}"))
        frame = table.to_pandas()
        if S.MONTH not in frame.columns:
            frame.insert(0, S.MONTH, pd.Series(month, index=frame.index, dtype=meta.get("month_dtype", "object")))
        return frame

    def theme_counts(self, themes: Sequence[str], *, months: Sequence[str] | None = None,
                     by: str | None = None) -> pd.DataFrame:
        """:func:`theme_counts_of` over stored months, reading one partition and few columns at a time."""
        parts = []
        for month in (months if months is not None else self.months()):
            have = set(self.columns(month))
            cols = [S.TEXT] + ([by] if by else []) + [S.theme_column(t) for t in themes if S.theme_column(t) in have]
            frame = self.read_month(month, cols)
            for t in themes:
                if S.theme_column(t) not in frame.columns:
                    frame[S.theme_column(t)] = False
            frame["has_text"] = text_mask(frame[S.TEXT])
            parts.append(theme_counts_of(frame.drop(columns=[S.TEXT]), themes, by=by))
        if not parts:
            return pd.DataFrame(columns=[S.MONTH] + ([by] if by else []) + ["theme", "n", "hits"])
        return pd.concat(parts, ignore_index=True)

    # ----------------------------------------------------------------------- writing

    def write_month(self, month: str, frame: pd.DataFrame | None, *, metadata: dict | None = None,
                    aggregates: dict[str, pd.DataFrame] | None = None) -> Path:
        """Store ``frame`` (rows of ``month`` only) and its ``aggregates`` as the month's partitions.

        ``frame`` None: the rows are already staged (:meth:`staging`, written by the Dask workers with
        :func:`write_row_part`); only the aggregates are written.

        ``metadata`` (e.g. the taxonomy's fingerprint) is kept in the rows file's schema
        metadata; ``aggregates`` (name -> small frame, see :func:`month_aggregates`) go to
        their own datasets. Outside a :meth:`transaction` the month is committed at once;
        inside one, with the transaction. Returns the rows file's path in the store.
        """
        if month in self.staged_rows:
            frame = None
        if frame is not None and S.MONTH in frame.columns and len(frame) and not (frame[S.MONTH] == month).all():
            raise ValueError(f"write_month({month!r}): the frame holds rows of other months")
        if self.stage is False:
            return self.partition(month) / _PART
        if self.stage is None and self._pending is None:
            with self.transaction():
                return self.write_month(month, frame, metadata=metadata, aggregates=aggregates)
        target = self._pending if self.stage is None else self.stage
        assert target is not None  # set by the transaction just above
        write_partitions(target, month, frame, metadata=metadata, aggregates=aggregates)
        return self.partition(month) / _PART

    def staging(self) -> Path | None:
        """Where new partitions go now (the open :meth:`transaction`'s folder, or the ``stage`` folder),
        so that other processes (Dask workers, on a shared path) can stage row parts there with
        :func:`write_row_part`; None when the store is only read. Outside a transaction (``stage``
        None) this is an error: nothing would commit what they write."""
        if self.stage is False:
            return None
        target = self._pending if self.stage is None else self.stage
        if target is None:
            raise StoreError(f"The history store {self.root}: row parts can only be staged inside "
                             "HistoryStore.transaction() (nothing would commit them).")
        return target

    @contextlib.contextmanager
    def transaction(self):
        """Collect :meth:`write_month` calls and commit them together when the block ends without error.

        Holds the output folder's lock (``<root>/../.lock``, the report run's) for the block,
        so nothing writes the store at the same time; on an error nothing is committed.
        With a ``stage`` folder (the report run's), writes just go there: the runner commits.
        """
        if self.stage is not None or self._pending is not None:
            yield self
            return
        parent = self.root.parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"Cannot create the folder of the history store {self.root}: {exc.strerror}.") from None
        with lock(parent):  # the report run's lock on the output folder
            self.prepare()
            self._pending = Path(tempfile.mkdtemp(prefix=".stage-", dir=self.root))
            try:
                yield self
                self.commit(self._pending)
            finally:
                pending, self._pending = self._pending, None
                if pending.exists():
                    shutil.rmtree(pending, ignore_errors=True)

    # ----------------------------------------------------------------------- the commit protocol

    @property
    def journal(self) -> Path:
        return self.root / TXN_DIR

    def prepare(self) -> None:
        """Make the store ready for a writer holding the lock: a real folder, recovered, migrated."""
        try:
            make_dirs(self.root, self.root.parent)
        except SymlinkError as exc:
            raise StoreError(f"The history store {self.root} {exc.strerror}: it must be a real folder on the same "
                             "file system as the reports. Replace the link with the folder it points to.") from None
        except OSError as exc:
            raise StoreError(f"Cannot create the history store {self.root}: {exc.strerror}. "
                             "Check that the output folder is writable.") from None
        self.recover()
        for stale in self.root.glob(".stage-*"):
            shutil.rmtree(stale, ignore_errors=True)
        self.migrate()

    def commit(self, stage: Path, *, report: tuple[Path, Path] | None = None,
               publish: Callable[[], None] | None = None) -> list[str]:
        """Move the partitions staged in ``stage`` (``<dataset>/month=M/``) into the store, all or none.

        The protocol (docs/history-store.md), with ``J = <root>/.commit``:

        1. *prepare*: ``stage`` is renamed to ``J/new`` and ``J/txn.json`` (written
           atomically) lists its partitions with their inode numbers;
        2. *commit point*: the report run passes ``report=(staging, final)`` and
           ``publish`` (which swaps the staged report folder in): the transaction is
           committed once ``final`` is the staged folder (its inode is in ``txn.json``).
           Otherwise the commit point is the creation of ``J/committed``;
        3. *apply*: each partition replaces its old version (one ``renameat2`` exchange,
           else two renames), skipping those already in place;
        4. *done*: ``txn.json`` is removed, then ``J``.

        A failure or kill before step 2 leaves the store as it was (:meth:`recover` drops
        ``J``); after it, :meth:`recover` finishes step 3, so the store and the report
        folder are both old or both new. Returns the partitions committed.
        """
        journal = self.journal
        if journal.exists() or is_symlink(journal):
            self.recover()
        stage = Path(stage)
        parts = sorted(f"{d.name}/{p.name}" for d in stage.iterdir() if d.is_dir() and not d.name.startswith(".")
                       for p in d.iterdir() if p.is_dir() and _month_of_partition(p.name)) if stage.is_dir() else []
        # Fail here, before anything is committed, if the store cannot take the new partitions.
        try:
            for dataset in sorted({p.split("/")[0] for p in parts}):
                folder = make_dirs(self.root / dataset, self.root)
                probe = folder / f".probe-{os.getpid()}"
                os.mkdir(probe)
                os.rmdir(probe)
                _fault("store_check")
        except SymlinkError as exc:
            raise StoreError(f"The history store's folder {exc.filename} {exc.strerror}. Nothing was published "
                             "and the store is unchanged; replace the link with a real folder.") from None
        except OSError as exc:
            raise StoreError(f"The history store {self.root} cannot be written ({exc.strerror}). Nothing was "
                             "published and the store is unchanged; free some space or make it writable, "
                             "then run again.") from None
        if stage.is_dir():
            fsync_files(stage)
        os.mkdir(journal, 0o700)
        try:
            if stage.is_dir():
                os.replace(stage, journal / "new")
            txn: dict = {"partitions": {p: os.lstat(journal / "new" / p).st_ino for p in parts}}
            if report is not None:
                st = os.lstat(report[0])
                txn.update(report=str(report[1]), ino=st.st_ino, dev=st.st_dev)
            write_atomic(journal / "txn.json", json.dumps(txn).encode(), mode=0o600)
            fsync_dir(self.root)
            _fault("store_prepared")
        except BaseException:
            shutil.rmtree(journal, ignore_errors=True)
            raise
        try:
            if publish is not None:
                publish()
            write_atomic(journal / "committed", b"", mode=0o600)
        except BaseException:
            if self._committed(txn):  # the report is in place (a failure after the swap): so is the store
                self._apply(txn)
            else:
                shutil.rmtree(journal, ignore_errors=True)
            raise
        try:
            self._apply(txn)
        except OSError as exc:
            raise StoreError(f"The report was published but updating the history store {self.root} stopped half-way "
                             f"({exc.strerror}: {exc.filename}). Its journal {journal} is kept: the next run "
                             "completes the update once the cause is fixed.") from None
        return parts

    def _committed(self, txn: dict) -> bool:
        if (self.journal / "committed").exists():
            return True
        if "report" not in txn:
            return False
        try:
            st = os.lstat(txn["report"])
        except OSError:
            return False
        return st.st_ino == txn["ino"] and st.st_dev == txn["dev"]

    def _apply(self, txn: dict) -> None:
        journal = self.journal
        new_root, old_root = journal / "new", journal / "old"
        for i, (part, ino) in enumerate(sorted(txn["partitions"].items())):
            target, new = self.root / part, new_root / part
            try:
                current = os.lstat(target)
            except FileNotFoundError:
                current = None
            if current is not None and current.st_ino == ino:
                continue  # already in place
            if not new.is_dir():
                log.error("history %s: the staged partition %s is missing; the month is rebuilt from the input "
                          "by the next run that has it", self.root, part)
                continue
            make_dirs(target.parent, self.root)
            if current is not None:
                if exchange(new, target):
                    shutil.rmtree(new, ignore_errors=True)  # the old partition, now at the staged path
                    if i == 0:
                        _fault("store_applying")
                    continue
                aside = old_root / part
                make_dirs(aside.parent, journal)
                if aside.exists():
                    shutil.rmtree(aside, ignore_errors=True)
                os.replace(target, aside)
            os.replace(new, target)
            if i == 0:
                _fault("store_applying")
        fsync_dir(self.root)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(journal / "txn.json")
        fsync_dir(journal)
        shutil.rmtree(journal, ignore_errors=True)

    def recover(self) -> None:
        """Finish or undo a commit that a kill interrupted (call with the lock held)."""
        journal = self.journal
        if is_symlink(journal) or (journal.exists() and not journal.is_dir()):
            os.unlink(journal)
            return
        if not journal.exists():
            return
        try:
            txn = json.loads((journal / "txn.json").read_bytes())
        except (OSError, ValueError):
            txn = None  # killed while preparing (nothing committed) or after the last step
        if txn is not None and self._committed(txn):
            log.warning("history %s: completing the commit of %d partition(s) that an interrupted run published",
                        self.root, len(txn["partitions"]))
            self._apply(txn)
        else:
            if txn is not None:
                log.warning("history %s: discarding the store changes of an interrupted run (its report was not "
                            "published)", self.root)
            shutil.rmtree(journal, ignore_errors=True)

    # ----------------------------------------------------------------------- the layout before 0.x

    def migrate(self) -> list[str]:
        """Move months kept in the old layout (``<root>/month=M/`` with rows and aggregates together)
        into the row and aggregate datasets; one commit per month. Returns the months migrated.

        A month that cannot be read is left where it is, with a warning each run: it is
        not used, and the run rebuilds it from the input when the input has it.
        """
        done = []
        for month in self.legacy_months():
            old = self.root / f"month={month}"
            if (self.partition(month) / _PART).exists():
                shutil.rmtree(old, ignore_errors=True)  # migrated already, killed before the old copy went
                continue
            try:
                rows = pq.read_table(old / _PART)
                meta = json.loads((rows.schema.metadata or {}).get(_META_KEY, b"{}"))
                frame = rows.to_pandas()
                aggregates = {name: pq.read_table(old / f"{name}.parquet").to_pandas()
                              for name in AGGREGATES if (old / f"{name}.parquet").exists()}
            except Exception as exc:  # noqa: BLE001 - any unreadable file: leave the folder, say so
                log.warning("history %s: %s is in the old layout and cannot be read (%s: %s); it is not used, "
                            "and the month is rebuilt from the input when the input has it. Delete %s to "
                            "silence this.", self.root, old.name, type(exc).__name__, exc, old)
                continue
            extra = {k: v for k, v in meta.items() if k != "month"}
            stage = Path(tempfile.mkdtemp(prefix=".stage-", dir=self.root))
            try:
                write_partitions(stage, month, frame, metadata=extra, aggregates=aggregates)
                self.commit(stage)
            finally:
                shutil.rmtree(stage, ignore_errors=True)
            shutil.rmtree(old, ignore_errors=True)
            log.warning("history %s: migrated %s to the row and aggregate datasets (%d rows)%s", self.root, month,
                        len(frame), "" if len(aggregates) == len(AGGREGATES) else
                        "; it had no aggregates, so the month is rebuilt from the input when the input has it")
            done.append(month)
        return done


def _part_number(path: Path) -> int:
    stem = path.name[len("part-"):-len(".parquet")]
    return int(stem) if stem.isdigit() else -1


def _parts(folder: Path) -> list[Path]:
    """The part files of a partition folder, in part-number order (``part-0`` first)."""
    if not folder.is_dir():
        return []
    return sorted((p for p in folder.glob("part-*.parquet") if _part_number(p) >= 0), key=_part_number)


def _first_part(folder: Path) -> Path:
    parts = _parts(folder)
    return parts[0] if parts else folder / _PART


def write_row_part(target: Path, month: str, frame: pd.DataFrame, number: int, *,
                   metadata: dict | None = None) -> Path:
    """Stage one part of ``month``'s rows as ``rows/month=M/part-<number>.parquet`` under ``target``
    (a store's :meth:`HistoryStore.staging` folder): a Dask worker's share of the month, one part per
    input file. The commit moves the month's folder with every part at once; :meth:`HistoryStore.read_month`
    reads the parts together. The file appears under its name complete (written aside, then renamed)."""
    folder = Path(target) / ROWS / f"month={month}"
    folder.mkdir(parents=True, exist_ok=True)  # several workers may create it at once
    path = folder / f"part-{number}.parquet"
    tmp = folder / f".part-{number}.parquet.tmp"
    pq.write_table(_arrow_table(frame, month, metadata), tmp, compression="zstd")
    os.replace(tmp, path)
    return path


def write_partitions(target: Path, month: str, frame: pd.DataFrame | None, *, metadata: dict | None = None,
                     aggregates: dict[str, pd.DataFrame] | None = None) -> list[Path]:
    """Write one month's partitions (``rows`` and each aggregate) in the store layout under ``target``;
    ``frame`` None writes the aggregates only (the rows are staged in parts, see :func:`write_row_part`)."""
    target = Path(target)
    written = []
    for name, part in [*([(ROWS, frame)] if frame is not None else []), *(aggregates or {}).items()]:
        folder = target / name / f"month={month}"
        make_dirs(folder, target.parent)
        if (folder / _PART).exists():
            os.unlink(folder / _PART)
        table = _arrow_table(part, month, metadata if name == ROWS else None)
        pq.write_table(table, folder / _PART, compression="zstd")
        written.append(folder / _PART)
    return written


# --------------------------------------------------------------------------- trends from counts

def monthly_theme_rates_from_counts(counts: pd.DataFrame, themes: Sequence[str], *,
                                    by: str | None = None) -> pd.DataFrame:
    """Same output as :func:`feedbacklib.trends.monthly_theme_rates`, from a count table."""
    keys = [S.MONTH] + ([by] if by else [])
    sub = counts[counts["theme"].isin(list(themes))]
    # counts kept by another column (service model) add up to the month's (or by-group's) counts
    sub = sub.groupby(keys + ["theme"], observed=True, sort=True, as_index=False)[["n", "hits"]].sum()
    rows = []
    for key, grp in sub.groupby(keys, observed=True, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        by_theme = dict(zip(grp["theme"], zip(grp["n"], grp["hits"])))
        for theme in themes:
            n, hits = by_theme.get(theme, (int(grp["n"].iloc[0]), 0))
            n, hits = int(n), int(hits)
            lo, hi = proportion_interval(hits, n)
            rows.append({**dict(zip(keys, key)), "theme": theme, "n": n, "hits": hits,
                         "rate": 100 * hits / n if n else np.nan, "lo": 100 * lo, "hi": 100 * hi})
    # no month with comments: still the documented columns, so callers can filter and group
    return pd.DataFrame(rows, columns=[*keys, "theme", "n", "hits", "rate", "lo", "hi"])


def theme_trends_from_counts(counts: pd.DataFrame, month: str, themes: Sequence[str], *,
                             baseline_months: int = 3, alpha: float = ALPHA, min_n: int = MIN_N) -> pd.DataFrame:
    """Same output as :func:`feedbacklib.trends.theme_trends`, from a count table (no ``by``)."""
    total = counts.groupby([S.MONTH, "theme"], sort=True)[["n", "hits"]].sum()
    n_month = counts.groupby([S.MONTH, "theme"])["n"].sum().groupby(level=0).max()
    months = sorted(m for m in n_month.index if m < month)

    def count(ms: list[str], theme: str) -> tuple[int, int]:
        x = sum(int(total["hits"].get((m, theme), 0)) for m in ms)
        n = sum(int(n_month.get(m, 0)) for m in ms)
        return x, n

    return trend_table(count, month, months, list(themes), baseline_months=baseline_months, alpha=alpha,
                       min_n=min_n)


# --------------------------------------------------------------------------- aggregated history

def taxonomy_fingerprint(taxonomy) -> str:
    """A short hash of what decides the theme flags (ids, seeds, exclusions), not of the labels."""
    import hashlib

    parts = [[t.id, t.polarity, list(t.seeds), list(t.exclusions)] for t in taxonomy]
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


def uncovered_sample(rows: pd.DataFrame, month: str, random_state: int = 0) -> pd.DataFrame:
    """``month, text`` of up to :data:`UNCOVERED_SAMPLE` comments of ``rows`` that no theme covers:
    those with the smallest hashes of (text, response id, platform), in hash order
    (:class:`~feedbacklib.emerging.UncoveredPartial`, the same sample whatever the order or the
    split of the rows; ``random_state`` is not used, kept for callers)."""

    return uncovered_sample_of(uncovered_partial(rows, UNCOVERED_SAMPLE), month)


__all__ += ["uncovered_sample_of"]


def uncovered_sample_of(partial: UncoveredPartial, month: str) -> pd.DataFrame:
    """:func:`uncovered_sample` from the month's :class:`~feedbacklib.emerging.UncoveredPartial`."""
    texts = partial.texts
    return pd.DataFrame({S.MONTH: pd.Series(month, index=range(len(texts)), dtype="string"),
                         S.TEXT: pd.Series(texts.astype(str).to_list(), dtype="string")})


def _contacts(rows: pd.DataFrame) -> pd.DataFrame:
    cols = [c for c in CONTACT_COLUMNS if c in rows.columns]
    return rows[cols].reset_index(drop=True)


def month_aggregates(rows: pd.DataFrame, month: str, themes: Sequence[str], contacts: pd.DataFrame | None,
                     *, min_n: int = MIN_N, **service_options) -> dict[str, pd.DataFrame]:
    """What the report keeps of a month once it is no longer the report month.

    - ``theme_counts``: comments with text and theme hits by service model (:func:`theme_counts_of`);
    - ``kpis``: the month's KPI table by service model, "all" included
      (:func:`feedbacklib.trends.month_kpi_table`, repeat contacts from ``contacts``);
    - ``uncovered``: up to 5,000 comments no theme covers (a fixed-seed sample), for the growth of
      emerging themes.
    """

    rows = rows.assign(**{S.MONTH: month}) if S.MONTH not in rows.columns else rows
    return {
        "theme_counts": theme_counts_of(rows, list(themes), by=S.SERVICE_MODEL),
        "kpis": month_kpi_table(rows, contacts, month, themes=list(themes), min_n=min_n, **service_options),
        "uncovered": uncovered_sample(rows, month),
    }


class History:
    """The months before the report month, as the aggregates the report reads, not as rows.

    Attributes
    ----------
    months : list of str
        Earlier months, oldest first.
    theme_counts : DataFrame
        ``month, service_model, theme, n, hits`` (see :func:`theme_counts_of`).
    kpis : DataFrame
        Per month, the KPI table by service model (``month`` + the columns of
        :func:`feedbacklib.service.group_kpis`).
    uncovered : DataFrame
        ``month, text``: a sample of each month's comments that no theme covers.
    contacts : DataFrame
        The contact columns (response id, source, customer key, received at) of the
        last :data:`CONTACT_DAYS` days before the report month, for repeat contacts.

    Memory is bounded by the number of months, not by their rows: a million-row
    month leaves a few hundred aggregate rows, 5,000 texts and a month of contact keys.
    """

    def __init__(self, months=(), theme_counts=None, kpis=None, uncovered=None, contacts=None):
        self.months = sorted(months)
        self.theme_counts = theme_counts if theme_counts is not None else pd.DataFrame(
            columns=[S.MONTH, S.SERVICE_MODEL, "theme", "n", "hits"])
        self.kpis = kpis if kpis is not None else pd.DataFrame(columns=[S.MONTH, "group"])
        self.uncovered = uncovered if uncovered is not None else pd.DataFrame(
            {S.MONTH: pd.Series(dtype="string"), S.TEXT: pd.Series(dtype="string")})
        self.contacts = contacts if contacts is not None else pd.DataFrame(columns=list(CONTACT_COLUMNS))

    def __repr__(self) -> str:
        return f"History(months={self.months}, contacts={len(self.contacts):,} rows)"

    @classmethod
    def of_months(cls, parts: dict[str, dict[str, pd.DataFrame]], contacts: pd.DataFrame | None = None) -> History:
        """From per-month aggregates (``{month: month_aggregates(...)}``) and earlier contacts."""
        months = sorted(parts)

        def stack(name: str) -> pd.DataFrame | None:
            frames = [parts[m][name] for m in months if parts[m][name] is not None and len(parts[m][name])]
            return pd.concat(frames, ignore_index=True) if frames else None

        return cls(months, stack("theme_counts"), stack("kpis"), stack("uncovered"), contacts)

    @staticmethod
    def recent_contacts(contacts: pd.DataFrame, since: pd.Timestamp | None) -> pd.DataFrame:
        """The contacts received on or after ``since`` (all when None)."""
        if since is None or pd.isna(since) or S.RECEIVED_AT not in contacts.columns or contacts.empty:
            return contacts.reset_index(drop=True)
        times = pd.to_datetime(contacts[S.RECEIVED_AT], utc=True)
        return contacts[(times >= since).fillna(False).to_numpy(dtype=bool)].reset_index(drop=True)


def contacts_since(current: pd.DataFrame) -> pd.Timestamp | None:
    """The earliest time an earlier contact can still count as a repeat of a row of ``current``."""
    if S.RECEIVED_AT not in current.columns or current.empty:
        return None
    first = pd.to_datetime(current[S.RECEIVED_AT], utc=True).min()
    return None if pd.isna(first) else first - pd.Timedelta(days=CONTACT_DAYS)


def build_history(past: pd.DataFrame, current: pd.DataFrame, themes: Sequence[str], *,
                  store: HistoryStore | None = None, stored_months: Sequence[str] = (), min_n: int = MIN_N,
                  **service_options) -> tuple[History, dict[str, dict[str, pd.DataFrame]]]:
    """Aggregate the earlier months' rows ``past`` (all processed this run) and add ``stored_months``
    from ``store``; return the :class:`History` and the aggregates computed here (to store).

    Each earlier month's KPIs count repeat contacts against the contacts of the months before it
    that are at hand (this run's rows and the stored months' contact columns).
    """
    stored = {m: {name: store.read_aggregate(m, name) for name in AGGREGATES} for m in stored_months} \
        if store is not None else {}
    stored_contacts = [_contacts(store.read_month(m, [c for c in CONTACT_COLUMNS if c in store.columns(m)]))
                       for m in stored_months[-2:]] if store is not None else []
    pool = pd.concat([*stored_contacts, _contacts(past), _contacts(current)], ignore_index=True)
    fresh: dict[str, dict[str, pd.DataFrame]] = {}
    if len(past):
        for month, rows in past.groupby(S.MONTH, observed=True, sort=True):
            fresh[str(month)] = month_aggregates(rows, str(month), themes, pool, min_n=min_n, **service_options)
    earlier = pd.concat([*stored_contacts, _contacts(past)], ignore_index=True)
    history = History.of_months({**stored, **fresh}, History.recent_contacts(earlier, contacts_since(current)))
    return history, fresh
