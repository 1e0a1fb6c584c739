"""Statistics of the report, computed from rows or from additive per-cell summaries."""
