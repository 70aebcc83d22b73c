"""Warehouse relation names of dbt models and seeds, read from the dbt manifest when asked (never
typed by hand, never at import): a model that moves schema or is renamed fails here, naming it,
not halfway through a run on a table that is not there."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from orchestration.settings import REPO_ROOT

MANIFEST = REPO_ROOT / "target" / "manifest.json"


@cache
def _relations(manifest: Path, modified: float) -> dict[str, str]:
    nodes = json.loads(manifest.read_text())["nodes"].values()
    return {node["name"]: f"{node['schema']}.{node.get('alias') or node['name']}" for node in nodes
            if node["resource_type"] in ("model", "seed", "snapshot")}


def relation(name: str, manifest: Path = MANIFEST) -> str:
    """`schema.table` of the dbt model or seed `name` (without the database: the warehouse file
    a connection opens is the database, whatever its name)."""
    if not manifest.exists():
        raise FileNotFoundError(f"{manifest} is missing: parse the dbt project first (`dbt parse`, or any `userops run`)")
    relations = _relations(manifest, manifest.stat().st_mtime)
    if name not in relations:
        raise KeyError(f"no dbt model or seed named {name!r} in {manifest}")
    return relations[name]
