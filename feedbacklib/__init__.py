"""feedbacklib: turn raw customer-feedback exports into an honest monthly report.

The data flows one way: ``io`` (read exports) -> ``clean`` (canonical frame,
quarantine) -> ``themes`` and ``sentiment`` -> ``compare`` (statistics) ->
``report`` (figures, tables, sentences). ``feedbacklib.pipeline.run_month`` runs it
for one month; ``feedbacklib.runner.run_report`` renders the report notebook around it.

Importing ``feedbacklib`` itself loads nothing else (the command's ``--help`` stays fast):
import the module you need, e.g. ``from feedbacklib.pipeline import run_month``.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
