"""How dbt nodes show up in Dagster: grouped by layer folder, owned, described."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings


class UseropsTranslator(DagsterDbtTranslator):
    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed" and not dbt_resource_props["name"].startswith("identity_"):
            return "seeds"
        fqn = dbt_resource_props.get("fqn", [])
        if "identity" in fqn[1:-1] or dbt_resource_props["name"].startswith("identity_"):
            return "identity"                              # the identity graph, in one place
        if len(fqn) > 3 and fqn[1] in ("intermediate", "marts"):
            return fqn[2]                                  # a stage's folder: profile, …
        return fqn[1] if len(fqn) > 2 else "dbt"          # staging

    def get_owners(self, dbt_resource_props: Mapping[str, Any]):
        owners = (dbt_resource_props.get("meta") or {}).get("owners")
        return owners or ["team:data-platform"]


translator = UseropsTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))
