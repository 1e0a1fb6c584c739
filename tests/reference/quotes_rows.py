"""quote_partial as it was before issue 19 item 3 (every tagged row's text hashed and sorted per theme), kept
verbatim (imports aside) as the reference of tests/test_cpu_paths.py: the bottom-k prefilter keeps the same candidates."""

from __future__ import annotations

import numpy as np
import pandas as pd

from feedbacklib.quotes import _HASH, _IN_RANGE, MAX_CHARS, MAX_POOL, MIN_CHARS, QuotePartial, _col, _prune, text_hashes
from feedbacklib.schema import PLATFORM, RESPONSE_ID, SOURCE, TEAM, TEXT, theme_column
from feedbacklib.stats import text_mask


def quote_partial(frame: pd.DataFrame, themes: list[str], k: int = 3, *, skip: tuple[str, ...] = ("praise",),
                  max_pool: int = MAX_POOL) -> QuotePartial:
    """The :class:`QuotePartial` of ``frame`` (a month, or one part of it)."""
    counts, parts = {}, []
    text = _col(frame, TEXT)
    ok = text_mask(text)
    flag_of = {theme: frame[theme_column(theme)].to_numpy(dtype=bool) for theme in themes if theme not in skip}
    # only the columns a candidate keeps: taking every column of the frame per theme cost seconds at 1M
    frame = frame[[c for c in (TEXT, TEAM, SOURCE, RESPONSE_ID, PLATFORM) if c in frame.columns]]
    for theme in themes:
        if theme in skip:
            continue
        flags = flag_of[theme]
        counts[theme] = int(flags.sum())
        sub = frame.loc[flags & ok]
        if sub.empty:
            continue
        texts = sub[TEXT].astype(str)
        lengths = texts.str.len().to_numpy()
        parts.append(pd.DataFrame({
            "theme": theme, TEXT: sub[TEXT].reset_index(drop=True), TEAM: _col(sub, TEAM).reset_index(drop=True),
            SOURCE: _col(sub, SOURCE).reset_index(drop=True),
            RESPONSE_ID: _col(sub, RESPONSE_ID).astype("string").reset_index(drop=True),
            PLATFORM: _col(sub, PLATFORM).astype("string").reset_index(drop=True),
            _HASH: text_hashes(texts), _IN_RANGE: (lengths >= MIN_CHARS) & (lengths <= MAX_CHARS)}))
    candidates = _prune(pd.concat(parts, ignore_index=True), k, max_pool) if parts else pd.DataFrame(
        columns=["theme", TEXT, TEAM, SOURCE, RESPONSE_ID, PLATFORM, _HASH, _IN_RANGE])
    return QuotePartial(int(k), int(max_pool), counts, candidates)


# The first bottom-k prefilter (sorting each theme's hashes), which quotes._bottom_ranks replaced: the
# reference of tests/test_compare_cpu.py's equality test.
def _bottom_rows(hashes: np.ndarray, readable: np.ndarray, k: int, max_pool: int) -> np.ndarray:
    """Which rows of one theme (their text hashes, readable lengths) :func:`_prune` can keep: the
    readable rows whose hash is at most the ``max_pool``-th smallest distinct readable hash, and the
    other rows while fewer than ``k`` readable candidates are kept (``min(distinct hashes, max_pool)``;
    pruned the same way).

    A superset of what :func:`_prune` keeps (all rows of a text share its hash, and at least
    ``max_pool`` distinct texts come before any row left out), so pruning it gives the same
    candidates, without sorting every tagged row's text."""

    def bottom(mask: np.ndarray) -> tuple[np.ndarray, int]:
        distinct = np.unique(hashes[mask])
        if len(distinct) <= max_pool:
            return mask, len(distinct)
        return mask & (hashes <= distinct[max_pool - 1]), len(distinct)

    keep, n_readable = bottom(readable)
    if min(n_readable, max_pool) < k:
        keep = keep | bottom(~readable)[0]
    return keep
