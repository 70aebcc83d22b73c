"""Great Expectations 1.x on pandas frames, wired by hand (dagster-ge targets GX < 1).

Suites are committed JSON in `expectations/<source>.json`, in GX's own shape. Each expectation
carries `meta.reason`, the quarantine reason code for the rows it rejects; the suite's
`meta.quarantine_rate` holds the warn/error thresholds of the quarantine-rate check.
Validation keeps values out of results (`exclude_unexpected_values`): only row positions come
back, so no phone or email ever lands in a GX result or a Dagster event.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

from orchestration.settings import EXPECTATIONS_DIR  # noqa: E402

RESULT_FORMAT = {"result_format": "COMPLETE", "exclude_unexpected_values": True,
                 "return_unexpected_index_query": False, "partial_unexpected_count": 0}


@dataclass(frozen=True)
class RuleOutcome:
    reason: str
    expectation: str
    column: str
    severity: str
    unexpected_count: int
    positions: tuple[int, ...]          # positional row indexes of the frame that broke the rule


def suite_path(source: str) -> Path:
    return EXPECTATIONS_DIR / f"{source}.json"


@lru_cache(maxsize=None)
def load_suite_json(source: str) -> dict:
    return json.loads(suite_path(source).read_text(encoding="utf-8"))


@dataclass(frozen=True)
class QuarantineThresholds:
    warn: float = 0.02
    error: float = 0.2
    min_rows_for_error: int = 50        # below this many rows read, a high rate only warns


def quarantine_thresholds(source: str) -> QuarantineThresholds:
    rate = load_suite_json(source).get("meta", {}).get("quarantine_rate", {})
    defaults = QuarantineThresholds()
    return QuarantineThresholds(float(rate.get("warn", defaults.warn)), float(rate.get("error", defaults.error)),
                                int(rate.get("min_rows_for_error", defaults.min_rows_for_error)))


@lru_cache(maxsize=None)
def _suite_columns(source: str) -> frozenset[str]:
    columns = set()
    for expectation in load_suite_json(source)["expectations"]:
        kwargs = expectation["kwargs"]
        columns.update(v for k, v in kwargs.items() if k in ("column", "column_A", "column_B"))
    return frozenset(columns)


@lru_cache(maxsize=1)
def _context():
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def validate_rows(frame: pd.DataFrame, source: str) -> list[RuleOutcome]:
    """Run the source's suite over `frame` (positional index) and return, per expectation,
    which rows broke it. Expectations whose column is absent from the frame are errors."""
    from great_expectations.core import ExpectationSuite

    doc = load_suite_json(source)
    suite = ExpectationSuite(**doc)
    # Only the columns the rules read: GX hashes the whole frame it is given.
    used = [c for c in frame.columns if c in _suite_columns(source)]
    frame = frame[used].reset_index(drop=True)
    if frame.empty:
        return []
    context = _context()
    name = f"{source}_{id(frame)}"
    data_source = context.data_sources.add_or_update_pandas(name)
    batch = (data_source.add_dataframe_asset(name)
             .add_batch_definition_whole_dataframe("rows")
             .get_batch(batch_parameters={"dataframe": frame}))
    try:
        result = batch.validate(suite, result_format=RESULT_FORMAT)
    finally:
        context.data_sources.delete(name)
    outcomes = []
    for item in result.results:
        config = item.expectation_config
        if item.exception_info and item.exception_info.get("raised_exception"):
            raise RuntimeError(f"expectation {config.type} on {source} could not run: "
                               f"{item.exception_info.get('exception_message')}")
        if item.success:
            continue
        positions = tuple(int(i) for i in item.result.get("unexpected_index_list") or ())
        kwargs = config.kwargs
        outcomes.append(RuleOutcome(
            reason=(config.meta or {}).get("reason", config.type),
            expectation=config.type,
            column=kwargs.get("column") or f"{kwargs.get('column_A')},{kwargs.get('column_B')}",
            severity=str(getattr(config.severity, "value", config.severity)),
            unexpected_count=int(item.result.get("unexpected_count", len(positions))),
            positions=positions,
        ))
    return outcomes


@lru_cache(maxsize=None)
def value_set(source: str, column: str) -> frozenset[str]:
    """The values the suite accepts in `column` (its expect_column_values_to_be_in_set rule)."""
    for expectation in load_suite_json(source)["expectations"]:
        if expectation["type"] == "expect_column_values_to_be_in_set" and expectation["kwargs"]["column"] == column:
            return frozenset(expectation["kwargs"]["value_set"])
    raise KeyError(f"expectations/{source}.json has no value set for {column}")
