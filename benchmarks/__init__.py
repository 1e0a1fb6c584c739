"""Benchmarks: run with ``make bench`` (``python -m benchmarks``); they print figures, never assert."""
