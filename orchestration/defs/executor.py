"""The executor of every job: Dagster's multiprocess executor, inside the warehouse's run lock,
so a run launched from the UI or the schedule waits for any other run on the same warehouse
(`userops run` takes the same lock itself; see orchestration/lib/run_lock.py)."""

import dagster as dg
from dagster._core.definitions.executor_definition import (
    MULTI_PROC_CONFIG, _core_multiprocess_executor_creation, multiple_process_executor_requirements,
)

from orchestration.lib.run_lock import locked_executor_class


@dg.executor(name="multiprocess_one_run_per_warehouse", config_schema=MULTI_PROC_CONFIG,
             requirements=multiple_process_executor_requirements())
def one_run_per_warehouse(init_context: dg.InitExecutorContext):
    return locked_executor_class()(_core_multiprocess_executor_creation(init_context.executor_config))
