"""Reader-judged theme labels: the CSV an analyst (or a gold file) provides.

``id`` (or ``complaint_id``), ``text``, one 0/1 column per theme id. Read by the supervised model
(the taxonomy's labels file), the audit (``feedback-report themes evaluate``) and the tuning notebook.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from feedbacklib.errors import InputError

__all__ = ["LabelledTexts", "read_labels"]

_ID_COLUMNS = ("id", "complaint_id")


@dataclass(frozen=True)
class LabelledTexts:
    """Texts with 0/1 labels for some themes (columns of ``labels``, bool)."""

    ids: pd.Series
    texts: pd.Series
    labels: pd.DataFrame
    source: str = "<in memory>"


def read_labels(path: str | Path, theme_ids: tuple[str, ...] | list[str], *, require_all: bool = False) -> LabelledTexts:
    """Read a labels CSV: ``id`` (or ``complaint_id``), ``text``, one 0/1 column per theme id.

    Columns that are not theme ids are ignored. Cells of a theme column must be 0 or 1
    (``true``/``false``, ``yes``/``no`` are accepted); a blank cell is an error, as is a blank
    text. ``require_all``: every theme of ``theme_ids`` must have a column (else only at least one).

    Raises
    ------
    InputError
        The file is missing or unreadable, a required column is missing, or a cell is not 0/1;
        the message names the file, the column and the first offending rows (1-based data rows).
    """
    p = Path(path)
    try:
        frame = pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"The labels file '{p}' does not exist.") from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, csv.Error) as exc:
        raise InputError(f"Cannot read the labels file '{p}' as UTF-8 CSV: {exc}") from exc
    cols = {c.strip().lower(): c for c in frame.columns}
    id_col = next((cols[c] for c in _ID_COLUMNS if c in cols), None)
    if id_col is None or "text" not in cols:
        missing = [n for n, ok in (("id (or complaint_id)", id_col is not None), ("text", "text" in cols)) if not ok]
        raise InputError(
            f"The labels file '{p}' has no {' and no '.join(missing)} column. Expected columns: id (or "
            f"complaint_id), text, then one 0/1 column per theme id ({', '.join(theme_ids)}).")
    themes = [t for t in theme_ids if t in cols]
    absent = [t for t in theme_ids if t not in cols]
    if not themes or (require_all and absent):
        raise InputError(
            f"The labels file '{p}' has no column for the theme(s) {', '.join(absent)}. Add one 0/1 column "
            "per theme id of the taxonomy (the header must be the theme id).")
    truth = {"1": True, "0": False, "true": True, "false": False, "yes": True, "no": False,
             "1.0": True, "0.0": False}
    labels = {}
    for t in themes:
        raw = frame[cols[t]].str.strip().str.lower()
        ok = raw.isin(list(truth))
        if not ok.all():
            bad = np.flatnonzero(~ok.to_numpy())[:5] + 1
            raise InputError(
                f"The labels file '{p}', column {t!r}: {int((~ok).sum())} cell(s) are not 0 or 1 (data rows "
                f"{', '.join(map(str, bad.tolist()))}). Write 1 when the text expresses the theme, else 0.")
        labels[t] = raw.map(truth).astype(bool).to_numpy()
    texts = frame[cols["text"]]
    blank = texts.str.strip().eq("")
    if blank.any():
        bad = np.flatnonzero(blank.to_numpy())[:5] + 1
        raise InputError(f"The labels file '{p}' has {int(blank.sum())} row(s) with an empty text (data rows "
                         f"{', '.join(map(str, bad.tolist()))}). Remove them or fill in the text.")
    return LabelledTexts(ids=frame[id_col].reset_index(drop=True), texts=texts.reset_index(drop=True),
                         labels=pd.DataFrame(labels), source=f"'{p}'")
