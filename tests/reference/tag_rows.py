"""add_themes' and add_sentiment's text handling as it was before the ``tag`` task of issue 19 item 3
(the distinct texts factorised again by ``ThemeTagger._tag``, and once more by the sentiment stage),
kept verbatim (imports aside) as the reference of tests/test_tag_paths.py."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from feedbacklib import schema as S
from feedbacklib.engines.base import EVIDENCE_DTYPE
from feedbacklib.sentiment import score_sentiment
from feedbacklib.themes import ThemeTagger


def _tag_distinct(texts: pd.Series, tagger: ThemeTagger) -> tuple[pd.DataFrame, pd.Series]:
    if not isinstance(texts.dtype, pd.StringDtype) or not len(texts):
        return tagger._tag(texts)
    codes, uniq = pd.factorize(texts)  # missing values: -1
    distinct = uniq.to_numpy(dtype=object).tolist()  # one conversion, not one Arrow scalar per text
    if (codes < 0).any():
        codes = np.where(codes < 0, len(distinct), codes)
        distinct.append("")
    flags, evidence = tagger._tag(pd.Series(distinct, dtype=object))
    take = pa.array(codes)
    return (pd.DataFrame(flags.to_numpy(dtype=bool)[codes], columns=flags.columns, index=texts.index),
            pd.Series(pd.arrays.ArrowStringArray(pa.array(evidence.array).take(take)), index=texts.index,
                      dtype="string"))


def add_themes(frame: pd.DataFrame, tagger: ThemeTagger) -> pd.DataFrame:
    tags, evidence = _tag_distinct(frame[S.TEXT], tagger)
    return frame.assign(
        **{S.theme_column(t): tags[t].to_numpy(dtype=bool) for t in tagger.theme_ids_},
        **{S.THEME_EVIDENCE: evidence.astype(EVIDENCE_DTYPE).array if len(evidence) else evidence.to_numpy()},
    )


def add_sentiment(frame: pd.DataFrame, chunk: int | None = None) -> pd.DataFrame:
    texts = frame[S.TEXT]
    if chunk is None or len(texts) <= chunk:
        scores = score_sentiment(texts)
    else:
        scores = pd.concat([score_sentiment(texts.iloc[i:i + chunk]) for i in range(0, len(texts), chunk)],
                           ignore_index=True)
    return frame.assign(**{S.SENTIMENT: scores[S.SENTIMENT].to_numpy(),
                           S.SENTIMENT_LABEL: scores[S.SENTIMENT_LABEL].to_numpy()})


def _seed_evidence(texts, tokens, m, keep=None, tagged=None):
    """matching._seed_evidence before the repeat test was limited to (text, theme) pairs with 2+ hits."""
    from feedbacklib.themes.matching import _outermost_mask

    keep = _outermost_mask(m) if keep is None else keep
    if tagged is not None:
        keep = keep & tagged[m.doc, m.theme]
    doc, theme = m.doc[keep], m.theme[keep]
    quoted = [f"'{texts[r][a:b]}'" for r, a, b in
              zip(doc.tolist(), tokens.starts[m.first[keep]].tolist(), tokens.ends[m.last[keep]].tolist())]
    if not quoted:
        return doc, theme, []
    o = np.lexsort((theme, doc))  # stable: reading order within a (text, theme)
    doc, theme = doc[o], theme[o]
    quoted = [quoted[i] for i in o.tolist()]
    repeat = pd.DataFrame({"d": doc, "t": theme, "q": [q.lower() for q in quoted]}).duplicated().to_numpy()
    if repeat.any():
        doc, theme = doc[~repeat], theme[~repeat]
        quoted = [q for q, r in zip(quoted, repeat.tolist()) if not r]
    bounds = np.flatnonzero(np.r_[True, (doc[1:] != doc[:-1]) | (theme[1:] != theme[:-1]), True])
    first = bounds[:-1]
    joined = [", ".join(quoted[a:b]) if b - a > 1 else quoted[a] for a, b in zip(first.tolist(), bounds[1:].tolist())]
    return doc[first], theme[first], joined
