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
    "HistoryStore", "HISTORY_DIR", "COUNT_COLUMNS", "theme_counts_of", "kpi_columns",
    "monthly_theme_rates_from_counts", "theme_trends_from_counts",
]

#: Default folder name of the store inside the output folder.
HISTORY_DIR = "history"
#: Columns of a theme-count table (long format); ``by`` adds its column after month.
COUNT_COLUMNS = ("month", "theme", "n", "hits")
_PART = "part-0.parquet"
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

    def write_month(self, month: str, frame: pd.DataFrame, *, metadata: dict | None = None) -> Path:
        """Store ``frame`` (rows of ``month`` only) as ``month=<month>/part-0.parquet``, atomically.

        The ``month`` column is the partition key and is not repeated inside the file.
        ``metadata`` (e.g. the taxonomy's fingerprint) is kept in the file's schema metadata.
        """
        if S.MONTH in frame.columns and len(frame) and not (frame[S.MONTH] == month).all():
            raise ValueError(f"write_month({month!r}): the frame holds rows of other months")
        self.root.mkdir(parents=True, exist_ok=True)
        table = pa.Table.from_pandas(frame.drop(columns=[S.MONTH], errors="ignore"), preserve_index=False)
        meta = dict(table.schema.metadata or {})
        meta[_META_KEY] = json.dumps({"month": month, **(metadata or {})}).encode()
        table = table.replace_schema_metadata(meta)
        staging = Path(tempfile.mkdtemp(prefix=f".tmp-month={month}-", dir=self.root))
        try:
            pq.write_table(table, staging / _PART, compression="zstd")
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
    return pd.DataFrame(rows)


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

