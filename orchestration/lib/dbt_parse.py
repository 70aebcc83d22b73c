"""The dbt manifest every run starts from (target/manifest.json) and the partial-parse state each
dbt step copies, parsed again only when the project or the warehouse it targets changed.

`@dbt_assets` reads the manifest when the definitions load, so `userops run` and the tests make
sure it is current first. A `dbt parse` costs seconds on every run; it is skipped when a
fingerprint of what it reads — every file of the project's model, macro, seed and test paths,
dbt_project.yml and profiles.yml (size and modification time), the warehouse's database name and
dbt's version — matches the one recorded by the last parse. The manifest is the same for every
warehouse of one name, but dbt's partial-parse state is not (dbt parses everything again when
the profile's path differs), so each warehouse keeps its state in its own target folder
(`settings.dbt_state_path`, exported as DBT_TARGET_PATH, where the dbt steps copy it from): the
test suite's many warehouses no longer make each other's dbt steps parse the whole project. The
parse writes into a scratch folder and its files are moved into place one by one (atomically): a
dbt step copying the state, or another process loading the manifest, never reads half a file; an
advisory lock keeps two processes from parsing at once."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

from orchestration.settings import REPO_ROOT

PROJECT_PATHS = ("models", "macros", "seeds", "tests/dbt", "dbt_project.yml", "profiles.yml")
TARGET = REPO_ROOT / "target"
FINGERPRINT = TARGET / "parsed-from.sha256"


def fingerprint(root: Path = REPO_ROOT) -> str:
    database = Path(os.environ.get("USEROPS_WAREHOUSE", "warehouse.duckdb")).stem     # the manifest's database name
    digest = hashlib.sha256(f"dbt {version('dbt-core')} {database}\n".encode())
    for name in PROJECT_PATHS:
        path = root / name
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            stat = file.stat()
            digest.update(f"{file.relative_to(root)} {stat.st_size} {stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def state_folder() -> Path:
    """Where this process's dbt steps take their partial-parse state from (DBT_TARGET_PATH, else target/)."""
    folder = Path(os.environ.get("DBT_TARGET_PATH") or TARGET)
    return folder if folder.is_absolute() else REPO_ROOT / folder


def ensure_manifest(say=lambda message: None) -> bool:
    """Parse the project unless the manifest and this warehouse's partial-parse state are current;
    whether it parsed. A failed parse names dbt's error and leaves no fingerprint, so the next run
    parses again."""
    current, state = fingerprint(), state_folder()
    TARGET.mkdir(exist_ok=True)
    state.mkdir(parents=True, exist_ok=True)
    recorded = [TARGET / FINGERPRINT.name, state / FINGERPRINT.name]
    with open(TARGET / ".parse.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if ((TARGET / "manifest.json").exists() and (state / "partial_parse.msgpack").exists()
                and all(f.exists() and f.read_text() == current for f in recorded)):
            return False
        say("parsing the dbt project")
        scratch = TARGET / f".parse-{os.getpid()}"
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir()
        if (state / "partial_parse.msgpack").exists():      # the same profile: dbt re-parses only what changed
            shutil.copy(state / "partial_parse.msgpack", scratch / "partial_parse.msgpack")
        dbt = Path(sys.executable).parent / "dbt"
        done = subprocess.run([str(dbt), "parse", "--quiet", "--target-path", str(scratch), "--log-path", str(scratch)],
                              cwd=REPO_ROOT, capture_output=True, text=True,
                              env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"})
        if done.returncode != 0:
            shutil.rmtree(scratch, ignore_errors=True)
            raise RuntimeError(f"dbt parse failed:\n{(done.stdout + done.stderr)[-4000:]}")
        os.replace(scratch / "partial_parse.msgpack", state / "partial_parse.msgpack")
        for name in ("semantic_manifest.json", "manifest.json"):       # the manifest last
            if (scratch / name).exists():
                os.replace(scratch / name, TARGET / name)
        shutil.rmtree(scratch, ignore_errors=True)
        for file in recorded:
            file.write_text(current)
        return True
