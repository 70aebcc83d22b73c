"""dagster.yaml: one run and one warehouse writer at a time, telemetry off."""

import shutil
from pathlib import Path

import yaml
from dagster import DagsterInstance

REPO_ROOT = Path(__file__).resolve().parents[1]


def test_instance_loads_from_the_project_file(tmp_path, monkeypatch):
    shutil.copyfile(REPO_ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    with DagsterInstance.get() as instance:
        config = instance.get_concurrency_config()
        assert config.run_queue_config.max_concurrent_runs == 1
        assert config.pool_config.default_pool_limit == 1
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        assert instance.root_directory == str(tmp_path)
    settings = yaml.safe_load((REPO_ROOT / "dagster.yaml").read_text())
    assert settings["telemetry"]["enabled"] is False
