"""userops: the Dagster code location and its helpers."""
