"""Every statistic of the report, computed before anything renders.

Modules, in the order data flows through them:

- :mod:`~feedbacklib.stats.settings`: defaults declared once (minimum group size, alpha, confidence).
- :mod:`~feedbacklib.stats.columns`: result column and metric names, declared once.
- :mod:`~feedbacklib.stats._frame`: the frame toolkit (the one :func:`has_text`, flags, numbers).
- :mod:`~feedbacklib.stats.intervals`: estimates with intervals (Wilson, Newcombe, t, Welch, bootstrap).
- :mod:`~feedbacklib.stats.significance`: tests, effect sizes, Benjamini-Hochberg.
- :mod:`~feedbacklib.stats.findings`: the sentence of one compared row.
- :mod:`~feedbacklib.stats.tables`: KPI tables, two-group comparisons, the perception gap.
- :mod:`~feedbacklib.stats.impact`: what each theme costs the overall score.
- :mod:`~feedbacklib.stats.breakdowns`: the smaller tables the report's charts and sentences show.

Public names of every module are re-exported here; sibling modules use
``from . import stats as C`` (or the submodules), never a private helper.
"""

from . import columns
from ._frame import *  # noqa: F403
from ._frame import __all__ as _frame_all
from .columns import *  # noqa: F403
from .columns import __all__ as _columns_all
from .findings import *  # noqa: F403
from .findings import __all__ as _findings_all
from .intervals import *  # noqa: F403
from .intervals import __all__ as _intervals_all
from .settings import *  # noqa: F403
from .settings import __all__ as _settings_all
from .significance import *  # noqa: F403
from .significance import __all__ as _significance_all
from .impact import *  # noqa: F403
from .impact import __all__ as _impact_all
from .tables import *  # noqa: F403
from .tables import __all__ as _tables_all

__all__ = [
    "columns",
    *_settings_all, *_columns_all, *_frame_all, *_intervals_all, *_significance_all, *_findings_all,
    *_tables_all, *_impact_all,
]
