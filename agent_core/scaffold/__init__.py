"""Scaffolding from one spec: a TOML file (entities with fields, endpoints or commands, storage) becomes a
working project skeleton — a FastAPI service with SQLite and tests, or an argparse CLI with SQLite and tests —
written through the workspace seam and passing its own generated tests; the model fills in the logic after.
"""

from agent_core.scaffold.spec import ScaffoldSpec, SpecError, load_scaffold_spec
from agent_core.scaffold.write import Scaffolded, ScaffoldError, scaffold

__all__ = ["ScaffoldError", "ScaffoldSpec", "Scaffolded", "SpecError", "load_scaffold_spec", "scaffold"]
