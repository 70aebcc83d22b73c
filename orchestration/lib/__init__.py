"""Plain-Python helpers with no Dagster definitions, unit-testable on their own."""
