"""clean_responses as it was before issue 19 item 3 (every export's raw frame held until the end; the canonical
parts, the concatenated rows and the time-ordered frame alive at once), kept verbatim (imports aside) as the
reference of tests/test_clean_stream.py: the file-by-file path gives the same frame, quarantine and quality."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from feedbacklib import schema as S
from feedbacklib.clean import (CleanResult, _canonical, _cast, _mark_duplicates, _mark_repeats, _quality_table, _quarantine,
                               _time_order, cleaning_settings, validate_canonical)
from feedbacklib.io import Export
from feedbacklib.io._common import STRING, VERSION


def clean_responses(exports: Sequence[Export], config: Any) -> CleanResult:
    parts = [_canonical(e, config) for e in exports]
    if len(parts) == 1:  # the usual case: no copy through concat
        allrows = _cast(parts[0]).reset_index(drop=True).astype({S.QUARANTINE_REASON: STRING,
                                                                 S.QUARANTINE_KIND: STRING})
    elif parts:
        allrows = pd.concat([_cast(p) if len(p) else p for p in parts], ignore_index=True)
        allrows = allrows.astype({S.QUARANTINE_REASON: STRING, S.QUARANTINE_KIND: STRING})
    else:
        allrows = S.empty_canonical_frame().assign(**{S.QUARANTINE_REASON: pd.Series(dtype=STRING),
                                                      S.QUARANTINE_KIND: pd.Series(dtype=STRING),
                                                      VERSION: pd.Series(dtype="float64")})
    allrows = _cast(allrows)
    file_no = np.repeat(np.arange(len(parts)), [len(p) for p in parts])

    _mark_duplicates(allrows)
    _mark_repeats(allrows, cleaning_settings(config)["duplicate_window_hours"])

    bad = allrows[S.QUARANTINE_REASON].notna().to_numpy(dtype=bool)
    # kept rows in time order, taken in one step
    frame = _take_rows(allrows[list(S.CANONICAL_COLUMNS)], _time_order(allrows, np.flatnonzero(~bad)))
    frame = _cast(frame)
    validate_canonical(frame)

    quarantine = _quarantine(allrows.loc[bad], file_no[bad], exports, config)
    quality = _quality_table([(e.path.name, e.platform, float(e.confidence), len(e.raw)) for e in exports],
                             file_no, bad, allrows[S.QUARANTINE_KIND])
    return CleanResult(frame=frame, quarantine=quarantine, quality=quality)


def _take_rows(frame: pd.DataFrame, positions: np.ndarray) -> pd.DataFrame:
    from concurrent.futures import ThreadPoolExecutor

    indices = pa.array(positions)

    def take(name: str) -> Any:
        col = frame[name]
        if col.dtype == STRING:
            return pd.arrays.ArrowStringArray(pa.array(col.array).take(indices))
        return col.array.take(positions)

    with ThreadPoolExecutor(max_workers=2) as pool:
        columns = list(pool.map(take, frame.columns))
    return pd.DataFrame(dict(zip(frame.columns, columns)), index=pd.RangeIndex(len(positions)), copy=False)
