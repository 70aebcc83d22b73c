"""Runs that `userops run` executes in its own process, shown where the Dagster UI shows launched
runs. The Overview timeline and a job's Runs tab list runs by their code location's origin
(`<repository>@<location>`), which an in-process run does not carry; giving it the origin of the
code location the UI loads (`[tool.dagster]` in pyproject.toml: module and location name) puts
it beside the schedule's and the UI's own runs."""

from __future__ import annotations

import sys
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dagster._core.definitions.repository_definition.valid_definitions import SINGLETON_REPOSITORY_NAME
from dagster._core.remote_origin import (
    ManagedGrpcPythonEnvCodeLocationOrigin, RemoteJobOrigin, RemoteRepositoryOrigin,
)
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin


def code_location(repo_root: Path) -> tuple[str, str]:
    """The module and location name the UI loads, from pyproject.toml's [tool.dagster]."""
    settings = tomllib.loads((repo_root / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["dagster"]
    return settings["module_name"], settings["code_location_name"]


def job_origin(repo_root: Path, job_name: str) -> RemoteJobOrigin:
    module, location = code_location(repo_root)
    target = LoadableTargetOrigin(executable_path=sys.executable, module_name=module,
                                  working_directory=str(repo_root))
    return RemoteJobOrigin(RemoteRepositoryOrigin(ManagedGrpcPythonEnvCodeLocationOrigin(target, location),
                                                  SINGLETON_REPOSITORY_NAME), job_name)


@contextmanager
def shown_in_the_ui(instance, repo_root: Path, job_name: str) -> Iterator[None]:
    """While open, runs the instance creates for `job_name` carry the code location's origin."""
    origin = job_origin(repo_root, job_name)
    create = instance.create_run_for_job

    def create_with_origin(*args, **kwargs):
        if kwargs.get("job_def") is not None and kwargs["job_def"].name == job_name:
            kwargs.setdefault("remote_job_origin", origin)
        return create(*args, **kwargs)

    instance.create_run_for_job = create_with_origin
    try:
        yield
    finally:
        del instance.create_run_for_job
