"""Choosing quotes that represent a theme, not the longest or the first comment.

For a theme, the comments that carry it are embedded with TF-IDF and ranked by
cosine similarity to their centroid: the top ones say what most of them say.
Near-duplicates are skipped, and very short or very long comments are avoided
so a quote reads well in a report.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer

from .schema import SOURCE, TEAM, TEXT, theme_column
from .stats import text_mask

__all__ = ["representative_quotes", "theme_quotes", "QUOTE_THEME_COLUMNS", "QUOTE_COLUMNS"]

#: Columns of the first table of :func:`theme_quotes` (one row per quoted theme, most frequent first).
QUOTE_THEME_COLUMNS = ("theme", "comments")
#: Columns of the second table of :func:`theme_quotes` (one row per chosen quote).
QUOTE_COLUMNS = ("theme", TEXT, TEAM, SOURCE)


def representative_quotes(
    texts: pd.Series,
    k: int = 3,
    *,
    min_chars: int = 25,
    max_chars: int = 400,
    max_pool: int = 5_000,
) -> pd.Series:
    """The ``k`` most representative texts of ``texts`` (index preserved).

    Deterministic: ties are broken by the original order. Duplicate texts count once; above
    ``max_pool`` distinct candidates, a fixed-seed sample of them is ranked.

    >>> s = pd.Series(["on hold for an hour", "on hold for ages again", "kept on hold forever", "ok"])
    >>> representative_quotes(s, 2, min_chars=5).size
    2
    """
    texts = texts.dropna().astype(str)
    texts = texts[text_mask(texts)]
    if texts.empty or k <= 0:
        return texts.iloc[0:0]
    lengths = texts.str.len()
    pool = texts[(lengths >= min_chars) & (lengths <= max_chars)]
    if len(pool) < k:
        pool = texts
    # Identical texts are one candidate; beyond max_pool a fixed-seed sample (kept in the
    # original order) estimates the centroid as well, at a cost that no longer grows with the month.
    pool = pool[~pool.duplicated()]
    if len(pool) > max_pool:
        keep = np.sort(np.random.default_rng(0).choice(len(pool), size=max_pool, replace=False))
        pool = pool.iloc[keep]
    if len(pool) <= 1:
        return pool.head(k)
    try:
        matrix = TfidfVectorizer(sublinear_tf=True, stop_words="english", min_df=1).fit_transform(pool)
    except ValueError:  # only stop words: nothing to rank by
        return pool.head(k)
    centroid = np.asarray(matrix.mean(axis=0)).ravel()
    norm = np.linalg.norm(centroid) or 1.0
    scores = matrix @ (centroid / norm)
    order = np.argsort(-scores, kind="stable")
    chosen: list[int] = []
    for i in order:
        row = matrix[i]
        if any((row @ matrix[j].T).toarray()[0, 0] > 0.8 for j in chosen):
            continue  # a near-duplicate of a quote already chosen
        chosen.append(int(i))
        if len(chosen) == k:
            break
    return pool.iloc[chosen]


def theme_quotes(frame: pd.DataFrame, themes: list[str], k: int = 3, *, top: int = 5,
                 skip: tuple[str, ...] = ("praise",)) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``top`` most frequent themes of ``frame`` (``skip`` left out) and ``k`` representative quotes of each.

    Returns ``(themes, quotes)``: per theme with at least one comment, most frequent first
    (ties in taxonomy order), its number of tagged rows (``QUOTE_THEME_COLUMNS``); and per chosen
    quote its theme, text, team and source as they are in ``frame`` (already PII-redacted;
    ``QUOTE_COLUMNS``), in the theme's order and then :func:`representative_quotes`' order.
    """
    rates = {t: int(frame[theme_column(t)].sum()) for t in themes if t not in skip}
    chosen = [t for t, n in sorted(rates.items(), key=lambda kv: -kv[1]) if n > 0][:top]
    counts, parts = [], []
    for theme in chosen:
        sub = frame[frame[theme_column(theme)]]
        picked = representative_quotes(sub[TEXT], k)
        counts.append((theme, len(sub)))
        if len(picked):
            parts.append(frame.loc[picked.index, [TEXT, TEAM, SOURCE]].assign(theme=theme))
    quotes = (pd.concat(parts, ignore_index=True) if parts
              else pd.DataFrame({c: pd.Series(dtype=object) for c in QUOTE_COLUMNS}))
    return (pd.DataFrame(counts, columns=list(QUOTE_THEME_COLUMNS)),
            quotes[list(QUOTE_COLUMNS)].reset_index(drop=True))
