"""The GX suites: loadable, covering the contract, and never leaking personal values."""

import json

import pandas as pd
import pytest

from orchestration.lib import expectations
from orchestration.lib.contract import SOURCES


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_suite_loads_and_requires_every_required_column(source):
    from great_expectations.core import ExpectationSuite

    doc = expectations.load_suite_json(source)
    suite = ExpectationSuite(**doc)
    assert suite.name == f"raw_{source}"
    not_null = {e["kwargs"]["column"] for e in doc["expectations"] if e["type"] == "expect_column_values_to_not_be_null"}
    assert set(SOURCES[source].required) <= not_null
    assert all(e.get("meta", {}).get("reason") for e in doc["expectations"]), "every rule names its reason code"
    limits = expectations.quarantine_thresholds(source)
    assert 0 < limits.warn < limits.error < 1 and limits.min_rows_for_error > 0


def test_validate_rows_returns_positions_only():
    frame = pd.DataFrame({
        "order_id": ["o1", None, "o3", "o4"], "order_time": pd.to_datetime(["2026-08-01"] * 4),
        "updated_at": pd.to_datetime(["2026-08-01"] * 4), "status": ["paid", "paid", "lost", "paid"],
        "amount": [10.0, 10.0, 10.0, -1.0], "refund_amount": [0.0, 0.0, 0.0, 0.0], "item_count": [1, 1, 1, 1],
        "phone": ["+8613800138000"] * 4,
    })
    outcomes = {o.reason: o.positions for o in expectations.validate_rows(frame, "sales")}
    # Row 3 breaks two rules (negative amount, and so amount < refund); ingestion keeps the first.
    assert outcomes == {"missing_order_id": (1,), "unknown_status": (2,), "negative_amount": (3,),
                        "refund_exceeds_amount": (3,)}


def test_results_carry_no_personal_values():
    """GX results (T-PRIV-13): with a rule broken on a personal column, no value comes back."""
    frame = pd.DataFrame({"consent_id": ["c1", "c2"], "event_time": pd.to_datetime(["2026-08-01"] * 2),
                          "channel": ["sms", "sms"], "identifier_type": ["phone", "13912345678"],
                          "identifier_value": ["+8613912345678", "+8613912345678"], "status": ["opt_out"] * 2})
    outcomes = expectations.validate_rows(frame, "consent")
    assert [o.reason for o in outcomes] == ["unknown_identifier_type"]
    serialised = json.dumps([o.__dict__ for o in outcomes], default=str)
    assert "13912345678" not in serialised
