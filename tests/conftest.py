"""Shared fixtures. The dbt manifest is prepared before any test module imports @dbt_assets."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def pytest_configure(config):
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DAGSTER_HOME", str(REPO_ROOT / ".dagster_home"))
    # Each test has its own landing zone: a fixed first partition keeps them independent of
    # whatever lies in data/landing (the default follows the landing zone's first day).
    os.environ.setdefault("USEROPS_START_DATE", "2024-01-01")
    from orchestration.lib.dbt_parse import ensure_manifest
    from orchestration.settings import export_environment, prepare_dagster_home

    prepare_dagster_home(export_environment())
    # Under pytest-xdist the controller parses the dbt project once before the workers start;
    # workers parsing it again at the same time would race on target/manifest.json.
    if "PYTEST_XDIST_WORKER" not in os.environ:
        ensure_manifest()


# Files whose fixtures run whole pipelines, slowest first: under pytest-xdist each file goes to one
# worker in collection order, so starting these early keeps one long file from running alone at the end.
SLOW_FIRST = ["test_kill_and_rerun.py", "test_erasure.py", "test_daily_vs_rebuild.py", "test_churn.py", "test_recall.py", "test_fail_closed.py", "test_pipeline.py", "test_profile.py",
              "test_serving.py", "test_identity.py", "test_ui.py", "test_bi.py"]


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


@pytest.fixture
def landing(tmp_path) -> Path:
    path = tmp_path / "landing"
    path.mkdir()
    return path


def write(path: Path, data: str | bytes, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode(encoding))
    return path


@pytest.fixture(scope="session")
def sample(tmp_path_factory):
    """A small generated landing zone with its ground truth (shared, read-only)."""
    from orchestration.sample.generator import generate

    root = tmp_path_factory.mktemp("sample")
    written = generate(root / "landing", 300, date(2026, 8, 1), date(2026, 8, 14), 7, root / "truth")
    return {"landing": root / "landing", "truth": root / "truth", "written": written,
            "start": date(2026, 8, 1), "end": date(2026, 8, 14)}


def run_cli(args: list[str], env_overrides: dict[str, str], timeout: int = 600) -> subprocess.CompletedProcess:
    """Run the real `userops` command in a subprocess with its own environment."""
    env = {**os.environ, **env_overrides}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    userops = shutil.which("userops", path=env["PATH"]) or "userops"
    return subprocess.run([userops, *args], env=env, capture_output=True, text=True, timeout=timeout,
                          cwd=REPO_ROOT)


def cli_env(tmp_path: Path, landing: Path) -> dict[str, str]:
    """Environment for a `userops` run with everything under tmp_path."""
    return {"USEROPS_LANDING": str(landing), "USEROPS_WAREHOUSE": str(tmp_path / "wh" / "warehouse.duckdb"),
            "DAGSTER_HOME": str(tmp_path / "dagster_home"), "USEROPS_OUTBOX": str(tmp_path / "outbox"),
            "USEROPS_REPORTS": str(tmp_path / "reports"), "USEROPS_SERVING": str(tmp_path / "serving")}


VOLATILE_COLUMNS = {"_run_id", "run_id"}       # lineage of the run itself, not data


def warehouse_digest(path) -> dict[str, str]:
    """A digest of every table's content below the pipeline's own bookkeeping (order-independent)."""
    import hashlib

    import duckdb

    digests = {}
    with duckdb.connect(str(path), read_only=True) as conn:
        tables = conn.execute("select table_schema, table_name from information_schema.tables where table_schema in "
                              "('raw', 'staging', 'intermediate', 'identity', 'churn', 'recall', 'marts')").fetchall()
        for schema, table in tables:
            columns = [c[0] for c in conn.execute(f'describe "{schema}"."{table}"').fetchall()
                       if c[0] not in VOLATILE_COLUMNS]
            rows = conn.execute(f'select {", ".join(chr(34) + c + chr(34) for c in columns)} '
                                f'from "{schema}"."{table}" order by all').fetchall()
            digests[f"{schema}.{table}"] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return digests


def shared_session_root(tmp_path_factory) -> Path:
    """A folder every pytest-xdist worker of this session sees (the plain base temp without xdist)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if "PYTEST_XDIST_WORKER" in os.environ else base


@pytest.fixture(scope="session")
def pipeline_run(tmp_path_factory):
    """The sample's 14 days run once through `userops run --from … --to …` (shared, read-only).

    Run once per test session even with several xdist workers: the first takes the lock and runs
    it, the others wait and read the recorded result.
    """
    from filelock import FileLock
    from orchestration.sample.generator import generate

    root = shared_session_root(tmp_path_factory) / "pipeline_run"
    record = root / "result.json"
    with FileLock(str(root) + ".lock"):
        if not record.exists():
            root.mkdir(parents=True, exist_ok=True)
            generate(root / "landing", 300, date(2026, 8, 1), date(2026, 8, 14), 7, root / "truth")
            result = run_cli(["run", "--from", "2026-08-01", "--to", "2026-08-14"],
                             cli_env(root, root / "landing"))
            record.write_text(json.dumps({"returncode": result.returncode, "stdout": result.stdout,
                                          "stderr": result.stderr}))
    recorded = json.loads(record.read_text())
    result = subprocess.CompletedProcess(["userops", "run"], recorded["returncode"], recorded["stdout"],
                                         recorded["stderr"])
    return {"result": result, "env": cli_env(root, root / "landing"), "landing": root / "landing",
            "truth": root / "truth", "warehouse": root / "wh" / "warehouse.duckdb", "tmp": root}
