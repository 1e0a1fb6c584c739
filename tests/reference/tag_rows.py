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
