"""The dbt parse a run starts with is skipped when nothing it reads changed, and each warehouse
keeps its own partial-parse state: runs on one warehouse never make another's dbt steps parse the
whole project again (dbt does so whenever the profile's path differs from its state's)."""

from orchestration.lib.dbt_parse import ensure_manifest, state_folder
from orchestration.settings import dbt_state_path


def _use(monkeypatch, warehouse):
    monkeypatch.setenv("USEROPS_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("DBT_TARGET_PATH", str(dbt_state_path(warehouse)))


def test_each_warehouse_keeps_its_partial_parse_state(tmp_path, monkeypatch):
    first, second = tmp_path / "a" / "warehouse.duckdb", tmp_path / "b" / "warehouse.duckdb"
    _use(monkeypatch, first)
    ensure_manifest()
    assert ensure_manifest() is False                       # nothing changed: no parse
    assert (state_folder() / "partial_parse.msgpack").exists()
    _use(monkeypatch, second)
    assert ensure_manifest() is True                        # a new warehouse parses once
    assert ensure_manifest() is False
    _use(monkeypatch, first)
    assert ensure_manifest() is False                       # and leaves the first one's state alone
    assert dbt_state_path(first) != dbt_state_path(second)
