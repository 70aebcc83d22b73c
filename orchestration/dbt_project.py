"""The one handle on the dbt project (the repo root). Everything dbt-related imports it."""

from dagster_dbt import DbtProject

from orchestration.settings import REPO_ROOT

dbt_project = DbtProject(project_dir=REPO_ROOT)
dbt_project.prepare_if_dev()          # `dagster dev` re-parses on load; elsewhere `userops`/tests prepare it
