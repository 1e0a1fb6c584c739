"""The monthly history store: processed months as Parquet, and the aggregates trends need.

Layout (Hive-style partitions, readable by pandas, pyarrow, Dask, DuckDB or Spark)::

    <store>/month=2026-09/part-0.parquet
    <store>/month=2026-10/part-0.parquet

One partition holds one month's cleaned, tagged and scored rows (the canonical
columns, ``theme_<id>`` flags, evidence, sentiment). A month is written into a
hidden temporary folder beside its partition and swapped in with a rename, so a
reader sees the old month or the new one, never half of one; rewriting a month
replaces it.

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

import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from . import schema as S
from .compare import benjamini_hochberg, two_proportion_test, wilson_interval

__all__ = [
    "History", "month_aggregates", "build_history", "uncovered_sample", "contacts_since", "taxonomy_fingerprint", "AGGREGATES", "CONTACT_DAYS",
    "HistoryStore", "HISTORY_DIR", "COUNT_COLUMNS", "theme_counts_of", "kpi_columns",
    "monthly_theme_rates_from_counts", "theme_trends_from_counts",
]

#: Default folder name of the store inside the output folder.
HISTORY_DIR = "history"
#: Columns of a theme-count table (long format); ``by`` adds its column after month.
COUNT_COLUMNS = ("month", "theme", "n", "hits")
_PART = "part-0.parquet"
#: The per-month aggregates stored beside each partition (see :func:`month_aggregates`).
AGGREGATES = ("theme_counts", "kpis", "uncovered")
#: Days of earlier contacts kept for the repeat-contact windows (the longest window is 30 days).
CONTACT_DAYS = 31
#: Uncovered comments kept per earlier month for the growth of emerging themes (a fixed-seed sample).
UNCOVERED_SAMPLE = 5_000
CONTACT_COLUMNS = (S.RESPONSE_ID, S.SOURCE, S.CUSTOMER_KEY, S.RECEIVED_AT)
_META_KEY = b"feedbacklib.history"


def _has_text(texts: pd.Series) -> np.ndarray:
    return (texts.fillna("").astype("string").str.len() > 0).to_numpy(dtype=bool)


def theme_counts_of(frame: pd.DataFrame, themes: Sequence[str], *, by: str | None = None) -> pd.DataFrame:
    """Long table month, [by], theme, n (comments with text), hits, from rows in memory.

    ``frame`` needs ``month``, ``text`` (or a boolean ``has_text``) and ``theme_<id>`` columns.
    """
    has_text = frame["has_text"].to_numpy(dtype=bool) if "has_text" in frame.columns else _has_text(frame[S.TEXT])
    keys = [S.MONTH] + ([by] if by else [])
    sub = frame.loc[has_text, keys + [S.theme_column(t) for t in themes]]
    grouped = sub.groupby(keys, observed=True, sort=True)
    n = grouped.size()
    hits = grouped[[S.theme_column(t) for t in themes]].sum()
    hits.columns = list(themes)
    long = hits.stack(future_stack=True).rename("hits").reset_index()
    long = long.rename(columns={long.columns[len(keys)]: "theme"})
    long["n"] = n.reindex(pd.MultiIndex.from_frame(long[keys]) if len(keys) > 1 else long[keys[0]]).to_numpy()
    long["hits"] = long["hits"].astype("int64")
    long["n"] = long["n"].astype("int64")
    order = {t: k for k, t in enumerate(themes)}
    long = long.sort_values(keys + ["theme"], key=lambda s: s.map(order) if s.name == "theme" else s,
                            kind="stable").reset_index(drop=True)
    return long[keys + ["theme", "n", "hits"]]


def kpi_columns(frame_columns: Iterable[str]) -> list[str]:
    """The columns ``compare.kpi_table`` reads (without themes) that a frame has."""
    wanted = [S.MONTH, S.TEAM, S.SERVICE_MODEL, S.VENDOR, S.CHANNEL, S.CSAT, S.NPS, S.TEXT,
              S.SENTIMENT, S.SENTIMENT_LABEL, S.FIRST_RESPONSE_HOURS, S.RESOLUTION_HOURS,
              S.RESOLVED_REPORTED, S.REOPENED, S.SOURCE, S.CUSTOMER_KEY]
    have = set(frame_columns)
    return [c for c in wanted if c in have]


class HistoryStore:
    """Processed months as Parquet partitioned by month, under ``root``."""

    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"HistoryStore({str(self.root)!r})"

    def partition(self, month: str) -> Path:
        return self.root / f"month={month}"

    def months(self) -> list[str]:
        """Months stored, oldest first."""
        if not self.root.is_dir():
            return []
        return sorted(p.name[len("month="):] for p in self.root.iterdir()
                      if p.is_dir() and p.name.startswith("month=") and (p / _PART).exists())

    def write_month(self, month: str, frame: pd.DataFrame, *, metadata: dict | None = None,
                    aggregates: dict[str, pd.DataFrame] | None = None) -> Path:
        """Store ``frame`` (rows of ``month`` only) as ``month=<month>/part-0.parquet``, atomically.

        The ``month`` column is the partition key and is not repeated inside the file.
        ``metadata`` (e.g. the taxonomy's fingerprint) is kept in the file's schema metadata.
        ``aggregates`` (name -> small frame, see :func:`month_aggregates`) are written
        beside it as ``<name>.parquet`` in the same atomic swap.
        """
        if S.MONTH in frame.columns and len(frame) and not (frame[S.MONTH] == month).all():
            raise ValueError(f"write_month({month!r}): the frame holds rows of other months")
        self.root.mkdir(parents=True, exist_ok=True)
        # Leftovers of a run killed mid-write (runs never overlap: the report run holds a lock).
        for stale in [*self.root.glob(f".tmp-month={month}-*"), *self.root.glob(f".old-month={month}-*")]:
            shutil.rmtree(stale, ignore_errors=True)
        table = pa.Table.from_pandas(frame.drop(columns=[S.MONTH], errors="ignore"), preserve_index=False)
        meta = dict(table.schema.metadata or {})
        meta[_META_KEY] = json.dumps({"month": month, **(metadata or {})}).encode()
        table = table.replace_schema_metadata(meta)
        staging = Path(tempfile.mkdtemp(prefix=f".tmp-month={month}-", dir=self.root))
        try:
            pq.write_table(table, staging / _PART, compression="zstd")
            for name, agg in (aggregates or {}).items():
                pq.write_table(pa.Table.from_pandas(agg, preserve_index=False), staging / f"{name}.parquet",
                               compression="zstd")
            final = self.partition(month)
            old = None
            if final.exists():
                old = self.root / f".old-month={month}-{uuid.uuid4().hex[:8]}"
                os.replace(final, old)
            os.replace(staging, final)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return final / _PART

    def metadata(self, month: str) -> dict:
        meta = pq.read_schema(self.partition(month) / _PART).metadata or {}
        return json.loads(meta.get(_META_KEY, b"{}"))

    def columns(self, month: str) -> list[str]:
        return list(pq.read_schema(self.partition(month) / _PART).names)

    def read_month(self, month: str, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """One stored month's rows (only ``columns`` when given), with its ``month`` column."""
        path = self.partition(month) / _PART
        cols = None if columns is None else [c for c in columns if c != S.MONTH]
        frame = pq.read_table(path, columns=cols).to_pandas()
        frame.insert(0, S.MONTH, pd.Series(month, index=frame.index, dtype="string"))
        return frame

    def has_aggregates(self, month: str) -> bool:
        return all((self.partition(month) / f"{name}.parquet").exists() for name in AGGREGATES)

    def read_aggregate(self, month: str, name: str) -> pd.DataFrame:
        """One stored aggregate (``theme_counts``, ``kpis`` or ``uncovered``) of ``month``."""
        return pq.read_table(self.partition(month) / f"{name}.parquet").to_pandas()

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
            frame["has_text"] = _has_text(frame[S.TEXT])
            parts.append(theme_counts_of(frame.drop(columns=[S.TEXT]), themes, by=by))
        if not parts:
            return pd.DataFrame(columns=[S.MONTH] + ([by] if by else []) + ["theme", "n", "hits"])
        return pd.concat(parts, ignore_index=True)


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
            lo, hi = wilson_interval(hits, n)
            rows.append({**dict(zip(keys, key)), "theme": theme, "n": n, "hits": hits,
                         "rate": 100 * hits / n if n else np.nan, "lo": 100 * lo, "hi": 100 * hi})
    # no month with comments: still the documented columns, so callers can filter and group
    return pd.DataFrame(rows, columns=[*keys, "theme", "n", "hits", "rate", "lo", "hi"])


def theme_trends_from_counts(counts: pd.DataFrame, month: str, themes: Sequence[str], *,
                             baseline_months: int = 3, alpha: float = 0.05, min_n: int = 30) -> pd.DataFrame:
    """Same output as :func:`feedbacklib.trends.theme_trends`, from a count table (no ``by``)."""
    total = counts.groupby([S.MONTH, "theme"], sort=True)[["n", "hits"]].sum()
    n_month = counts.groupby([S.MONTH, "theme"])["n"].sum().groupby(level=0).max()
    months = sorted(m for m in n_month.index if m < month)

    def count(ms: list[str], theme: str) -> tuple[int, int]:
        x = sum(int(total["hits"].get((m, theme), 0)) for m in ms)
        n = sum(int(n_month.get(m, 0)) for m in ms)
        return x, n

    from .trends import trend_table

    return trend_table(count, month, months, list(themes), baseline_months=baseline_months, alpha=alpha,
                       min_n=min_n)



# --------------------------------------------------------------------------- aggregated history

def taxonomy_fingerprint(taxonomy) -> str:
    """A short hash of what decides the theme flags (ids, seeds, exclusions), not of the labels."""
    import hashlib

    parts = [[t.id, t.polarity, list(t.seeds), list(t.exclusions)] for t in taxonomy]
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


def uncovered_sample(rows: pd.DataFrame, month: str, random_state: int = 0) -> pd.DataFrame:
    """``month, text`` of up to :data:`UNCOVERED_SAMPLE` comments of ``rows`` that no theme covers."""
    from .themes.discovery import uncovered_texts

    texts = uncovered_texts(rows) if S.TEXT in rows.columns else pd.Series([], dtype=object)
    if len(texts) > UNCOVERED_SAMPLE:
        texts = texts.sample(UNCOVERED_SAMPLE, random_state=random_state)
    return pd.DataFrame({S.MONTH: pd.Series(month, index=range(len(texts)), dtype="string"),
                         S.TEXT: pd.Series(texts.astype(str).to_list(), dtype="string")})


def _contacts(rows: pd.DataFrame) -> pd.DataFrame:
    cols = [c for c in CONTACT_COLUMNS if c in rows.columns]
    return rows[cols].reset_index(drop=True)


def month_aggregates(rows: pd.DataFrame, month: str, themes: Sequence[str], contacts: pd.DataFrame | None,
                     *, min_n: int = 30, **service_options) -> dict[str, pd.DataFrame]:
    """What the report keeps of a month once it is no longer the report month.

    - ``theme_counts``: comments with text and theme hits by service model (:func:`theme_counts_of`);
    - ``kpis``: the month's KPI table by service model, "all" included
      (:func:`feedbacklib.trends.month_kpi_table`, repeat contacts from ``contacts``);
    - ``uncovered``: up to 5,000 comments no theme covers (a fixed-seed sample), for the growth of
      emerging themes.
    """
    from .trends import month_kpi_table

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
                  store: HistoryStore | None = None, stored_months: Sequence[str] = (), min_n: int = 30,
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
