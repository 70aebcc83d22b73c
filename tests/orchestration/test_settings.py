"""Settings from the environment: the first day a run may cover."""

from datetime import date, timedelta

import pytest

from orchestration.settings import Settings
from tests.conftest import write


def test_the_first_day_is_where_the_landing_zone_starts_unless_set(tmp_path, monkeypatch):
    """Seen: every asset showed ~1,066 daily partitions "8 % filled", the partitions starting at
    2024-01-01 while the data started in August 2026."""
    monkeypatch.delenv("USEROPS_START_DATE", raising=False)
    monkeypatch.setenv("USEROPS_LANDING", str(tmp_path))
    assert Settings.from_env().start_date == date.today() - timedelta(days=1)       # nothing landed yet
    write(tmp_path / "sales" / "dt=2026-08-03" / "orders.csv", "order_id\n1\n")
    (tmp_path / "online" / "dt=2026-8-1").mkdir(parents=True)                       # an exporter's spelling
    (tmp_path / "online" / "notes").mkdir()
    assert Settings.from_env().start_date == date(2026, 8, 1)
    monkeypatch.setenv("USEROPS_START_DATE", "2025-01-01")
    assert Settings.from_env().start_date == date(2025, 1, 1)
    monkeypatch.setenv("USEROPS_START_DATE", "2025-13-01")
    with pytest.raises(ValueError, match="USEROPS_START_DATE='2025-13-01' is not a YYYY-MM-DD date"):
        Settings.from_env()
