"""feedbacklib: turn raw customer-feedback exports into an honest monthly report.

The data flows one way: ``io`` (read exports) -> ``clean`` (canonical frame,
quarantine) -> ``themes`` and ``sentiment`` -> ``compare`` (statistics) ->
``report`` (figures, tables, sentences). ``pipeline.run_month`` runs it for one
month; ``runner.run_report`` renders the report notebook around it.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "load_config", "run_month", "run_report"]


def __getattr__(name: str):
    # Lazy re-exports keep ``import feedbacklib`` cheap (the CLI's --help must be fast).
    if name == "load_config":
        from .config import load_config
        return load_config
    if name == "run_month":
        from .pipeline import run_month
        return run_month
    if name == "run_report":
        from .runner import run_report
        return run_report
    raise AttributeError(f"module 'feedbacklib' has no attribute {name!r}")
