"""Arrow-backed text columns: the two helpers cleaning and PII redaction share.

Both steps change only some rows of a long text column. Replacing them with one
``pyarrow.compute.replace_with_mask`` call keeps the column Arrow-backed and
costs one pass, where pandas assignment would copy through Python objects.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["arrow_strings", "put_rows"]


def arrow_strings(values: pd.Series) -> pa.Array:
    """The Arrow ``large_string`` array behind a ``string`` series, as one chunk."""
    arr = pa.array(values.array)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return arr.cast(pa.large_string())


def put_rows(values: pd.Series, where: np.ndarray, new: pd.Series) -> pd.Series:
    """A copy of ``values`` (Arrow strings) with the rows at ``where`` replaced by ``new``, in order."""
    if not where.any():
        return values
    arr = pc.replace_with_mask(arrow_strings(values), pa.array(where), arrow_strings(new))
    return pd.Series(pd.arrays.ArrowStringArray(arr), index=values.index, name=values.name)
