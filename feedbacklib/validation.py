"""The canonical frame's schema as a pandera model, validated lazily.

``validate_frame`` collects every problem (missing or extra columns, wrong
dtypes, nulls where a value is required, values out of range or off the
allowed set, months not shaped YYYY-MM) and raises one
:class:`~feedbacklib.errors.SchemaError` listing them all, one line per
column and check, with the number of rows and an example.
"""

from __future__ import annotations

from functools import lru_cache

import pandas as pd
import pandera.pandas as pa

from . import schema as S
from .errors import SchemaError
from .months import MONTH_PATTERN

__all__ = ["canonical_schema", "validate_frame"]

def _month_ok(values: pd.Series) -> pd.Series:
    return values.str.fullmatch(MONTH_PATTERN.pattern).fillna(False).astype(bool)


@lru_cache(maxsize=1)
def canonical_schema() -> pa.DataFrameSchema:
    """The pandera schema of ``schema.CANONICAL_DTYPES`` plus the value rules."""
    checks: dict[str, list[pa.Check]] = {
        S.CSAT: [pa.Check.in_range(1, 5)],
        S.NPS: [pa.Check.in_range(0, 10)],
        S.MONTH: [pa.Check(_month_ok, name="month shaped YYYY-MM", element_wise=False)],
        S.FIRST_RESPONSE_HOURS: [pa.Check.ge(0)],
        S.RESOLUTION_HOURS: [pa.Check.ge(0)],
    }
    required = {S.RESPONSE_ID, S.SOURCE, S.PLATFORM, S.RECEIVED_AT, S.MONTH, S.SERVICE_MODEL,
                S.CHANNEL, S.TEXT, S.SOURCE_FILE, S.SOURCE_ROW}
    columns = {
        name: pa.Column(pd.api.types.pandas_dtype(dtype), checks=checks.get(name, []),
                        nullable=name not in required)
        for name, dtype in S.CANONICAL_DTYPES.items()
    }
    return pa.DataFrameSchema(columns, strict=True, ordered=True, name="canonical feedback frame")


def validate_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Validate ``frame`` against :func:`canonical_schema`; every problem in one ``SchemaError``."""
    try:
        return canonical_schema().validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        problems: list[str] = []
        for (column, check), group in cases.groupby(["column", "check"], sort=False, dropna=False):
            example = group["failure_case"].iloc[0]
            check = str(check)
            if check == "not_nullable":
                what = f"{len(group)} rows have no {column}"
            elif check.startswith("dtype"):
                what = f"column {column!r} has dtype {example}, expected {check[7:-2] or check}"
            elif check == "column_in_dataframe":
                what = f"missing column {example!r}"
            elif check == "column_in_schema":
                what = f"unexpected column {example!r}"
            elif check == "month shaped YYYY-MM":
                what = f"{len(group)} rows have a month not shaped YYYY-MM, e.g. {example!r}"
            else:
                what = f"{len(group)} rows break {check} in {column}, e.g. {example!r}"
            problems.append(what)
        raise SchemaError(
            f"The canonical frame breaks its schema in {len(problems)} way(s):\n  - "
            + "\n  - ".join(problems)
        ) from None
