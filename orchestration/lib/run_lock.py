"""One run at a time on a warehouse, whoever starts it, and recovery from a run that was killed.

DuckDB takes one writing process at a time, and two runs whose steps interleave would mix their
windows. Every run — `userops run` (in-process) and runs launched by the UI or the schedule (the
job's executor) — first takes an exclusive lock on `<warehouse>.run-lock` and holds it until it
ends; a second one waits, saying who it waits for. The operating system drops the lock when its
process dies, however it dies, so a killed run never blocks the next one.

The holder writes who it is into the lock file (pid, host, what it runs, since when). The run
that takes the lock next marks every run this instance still has as started by a process of this
host that no longer exists as failed, frees its pool slots, stops the processes such a run left
behind (its dbt build: the environment variable USEROPS_RUN_PID marks them), and removes the
scratch files and folders that dead writers left in the outbox, reports and serving folders (see
`recover`).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import signal
import socket
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

PID_TAG, HOST_TAG = "userops/pid", "userops/host"
RUN_PID_ENV = "USEROPS_RUN_PID"


def lock_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".run-lock")


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:          # someone else's process: alive
        return True
    return True


def describe(holder: dict) -> str:
    return (f"pid {holder.get('pid')} on {holder.get('host')} ({holder.get('what')}, "
            f"since {holder.get('since')})") if holder else "another process"


class RunLock:
    """An exclusive lock on the warehouse for the length of a run (a context manager)."""

    def __init__(self, warehouse: Path, what: str, say: Callable[[str], None], poll_s: float = 2.0,
                 remind_s: float = 60.0):
        self.path, self.what, self.say, self.poll_s, self.remind_s = lock_path(warehouse), what, say, poll_s, remind_s
        self._file = None

    def holder(self) -> dict:
        try:
            return json.loads(self.path.read_text() or "{}")
        except (OSError, ValueError):
            return {}

    def __enter__(self) -> RunLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "a+")
        began, reminded = time.monotonic(), None
        while True:
            try:
                fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                now = time.monotonic()
                if reminded is None or now - reminded >= self.remind_s:
                    waited = f" (waiting {now - began:.0f}s)" if reminded is not None else ""
                    self.say(f"another run holds the warehouse: {describe(self.holder())}; this run waits for it "
                             f"to finish{waited} (Ctrl-C to stop)")
                    reminded = now
                time.sleep(self.poll_s)
        self._file.seek(0)
        self._file.truncate()
        self._file.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "what": self.what,
                                     "since": datetime.now().isoformat(timespec="seconds")}))
        self._file.flush()
        return self

    def __exit__(self, *exc) -> None:
        self._file.seek(0)
        self._file.truncate()
        self._file.flush()
        fcntl.flock(self._file, fcntl.LOCK_UN)
        self._file.close()
        self._file = None


def run_tags(warehouse: Path) -> dict[str, str]:
    """Tags that let a later run tell whether this run's process is still alive; also marks the
    processes this run starts (dbt, step processes) with its pid and warehouse, so that they can
    be found if it dies."""
    os.environ[RUN_PID_ENV] = f"{os.getpid()}:{warehouse}"
    return {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}


def _orphans(warehouse: Path) -> list[tuple[int, int]]:
    """(pid, dead run's pid) of processes started by a run on `warehouse` whose process is gone
    (Linux /proc): a dbt build or a step process still writing after its run was killed."""
    found, me = [], os.getpid()
    for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else []:
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        marks = [v.split(b"=", 1)[1].decode(errors="replace") for v in environ
                 if v.startswith(RUN_PID_ENV.encode() + b"=")]
        pid, _, marked = (marks[0] if marks else "").partition(":")
        if pid.isdigit() and marked == str(warehouse) and int(pid) != me and not pid_alive(int(pid)):
            found.append((int(entry.name), int(pid)))
    return found


def _scratch_pid(name: str) -> int | None:
    """The writer's pid in a scratch name (`.dt=2026-08-14.tmp-4242`, `.serving.duckdb.tmp-4242.wal`)."""
    if not name.startswith(".") or ".tmp-" not in name:
        return None
    pid = name.rsplit(".tmp-", 1)[1].removesuffix(".wal")
    return int(pid) if pid.isdigit() else None


def recover(instance, warehouse: Path, folders: list[Path]) -> list[str]:
    """Clean up after runs whose process died (call with the run lock held): mark their runs
    failed, free their pool slots, stop what they left running on `warehouse`, remove the scratch
    files and folders their writers left in `folders` (outbox, reports, serving copy). Returns
    what was done, one line each."""
    from dagster import DagsterRunStatus, RunsFilter

    host, done = socket.gethostname(), []
    in_progress = [DagsterRunStatus.STARTING, DagsterRunStatus.STARTED, DagsterRunStatus.CANCELING]
    for run in instance.get_runs(filters=RunsFilter(statuses=in_progress)):
        pid = run.tags.get(PID_TAG, "")
        if run.tags.get(HOST_TAG) != host or not pid.isdigit() or int(pid) == os.getpid() or pid_alive(int(pid)):
            continue
        instance.report_run_failed(run, f"its process (pid {pid}) is gone: killed or crashed; marked failed by "
                                        "the next run, which freed its pool slots")
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        done.append(f"run {run.run_id[:8]} (pid {pid}) marked failed, its pool slots freed")
    orphans = _orphans(warehouse)
    for pid, run_pid in orphans:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            continue
        done.append(f"stopped pid {pid}, still running for dead run process {run_pid}")
    deadline = time.monotonic() + 10
    while any(pid_alive(pid) for pid, _ in orphans) and time.monotonic() < deadline:
        time.sleep(0.2)
    for folder in folders:
        for entry in sorted(folder.iterdir()) if folder.is_dir() else []:
            pid = _scratch_pid(entry.name)
            if pid is not None and pid != os.getpid() and not pid_alive(pid):
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
                done.append(f"removed {entry.name} left in {folder} by pid {pid}")
    return done


def prune_run_history(instance, keep_days: int) -> int:
    """Delete Dagster runs created more than `keep_days` ago, with their events and compute logs
    (run history is kept for a while, not for ever). Returns how many were deleted."""
    from datetime import timezone

    from dagster import RunsFilter

    cutoff = datetime.now(timezone.utc) - timedelta(days=keep_days)
    old = instance.get_run_records(filters=RunsFilter(created_before=cutoff))
    for record in old:
        run_id = record.dagster_run.run_id
        instance.delete_run(run_id)
        try:
            instance.compute_log_manager.delete_logs(prefix=[run_id])
        except (AttributeError, NotImplementedError):       # a log manager that keeps no local files
            pass
    return len(old)


class WarehouseLocked(RuntimeError):
    """Another process (not a userops run: those wait on the run lock) holds the warehouse file."""


def connect_writer(database: str, serving_copy: Path | None, wait_s: float = 10.0, config: dict | None = None):
    """A read-write DuckDB connection, retried for `wait_s` at most; a lock held by another
    process then fails with its name and the file BI tools should open instead."""
    import duckdb

    deadline, delay = time.monotonic() + wait_s, 0.5
    while True:
        try:
            return duckdb.connect(database, read_only=False, config=config or {})
        except duckdb.IOException as error:
            if "lock" not in str(error).lower():
                raise
            if time.monotonic() + delay > deadline:
                hint = (f"; BI tools and notebooks should open the serving copy {serving_copy} (read-only) instead"
                        if serving_copy else "")
                held = re.search(r"lock is held in (.+?) \(PID (\d+)\)", str(error))
                who = f"{held[1]}, PID {held[2]}" if held else str(error)
                raise WarehouseLocked(f"the warehouse {database} is held by another process ({who}){hint}; "
                                      "close that process and run again") from None
            time.sleep(delay)
            delay = min(delay * 2, 4.0)


class SkippedDays(RuntimeError):
    """A launched run would leave an earlier unfinished or changed day behind."""


def refuse_skipped_days(tags: dict[str, str], settings) -> None:
    """A run Dagster launched cannot widen its own days: when it would pass over an earlier day
    that never completed (or changed since), it stops before its first step, saying what to run."""
    from orchestration.lib.run_days import catch_up, run_window

    window = run_window(tags)
    if window is None:
        return
    first, last = window
    earlier = catch_up(settings.warehouse, settings.landing, first)
    if earlier.first:
        raise SkippedDays("; ".join(earlier.reasons()) + f". This run covers only {first} … {last}: run "
                          f"`userops run --from {earlier.first} --to {last}` (or materialize that range) so "
                          "those days count before anyone is messaged.")


def business_yesterday(settings) -> date:
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo(settings.timezone)).date() - timedelta(days=1)


def locked_executor_class():
    """An executor that takes the run lock around another executor's whole run (for runs that
    Dagster launches: the UI's Materialize, the schedule); built lazily, nothing at import."""
    from dagster._core.executor.base import Executor

    from orchestration.lib.landing import landing_days
    from orchestration.lib.run_days import due_window, run_window, window_tags
    from orchestration.settings import Settings

    class LockedExecutor(Executor):
        def __init__(self, inner: Executor):
            self.inner = inner

        @property
        def retries(self):
            return self.inner.retries

        @property
        def step_dependency_config(self):
            return self.inner.step_dependency_config

        def execute(self, plan_context, execution_plan):
            settings = Settings.from_env()
            with RunLock(settings.warehouse, f"Dagster run {plan_context.run_id}", plan_context.log.warning):
                plan_context.instance.add_run_tags(plan_context.run_id, run_tags(settings.warehouse))
                for line in recover(plan_context.instance, settings.warehouse,
                                    [settings.outbox, settings.reports, settings.serving]):
                    plan_context.log.warning(f"recovered from an interrupted run: {line}")
                pruned = prune_run_history(plan_context.instance, settings.run_history_days)
                if pruned:
                    plan_context.log.info(f"run history: {pruned} run(s) older than {settings.run_history_days} "
                                          "days deleted")
                tags = plan_context.dagster_run.tags
                if run_window(tags) is None:     # launched from the UI without days: the last day landed, widened
                    landed = landing_days(settings.landing)
                    last = landed[-1] if landed else business_yesterday(settings)
                    first, last, reasons = due_window(settings.warehouse, settings.landing, last)
                    tags = {**tags, **window_tags(first, last)}
                    plan_context.instance.add_run_tags(plan_context.run_id, window_tags(first, last))
                    plan_context.log.info(f"no days given: running {first} … {last}"
                                          + (f" ({'; '.join(reasons)})" if reasons else " (the last day landed)"))
                refuse_skipped_days(tags, settings)
                yield from self.inner.execute(plan_context, execution_plan)

    return LockedExecutor
