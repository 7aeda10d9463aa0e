"""A declared prompt as a typed callable: `load("x.toml")(inputs)` → the validated output (a pydantic model).

    from agent_core import cognition
    plan = cognition.load("agent_core/planning/prompts/plan.toml")
    out = plan(task="add a --verbose flag")        # blocking; `await plan.acall(...)` inside an event loop
    out.steps[0].title

Without `runtime`, the prompt runs on the workspace's settings (SMALLCODE_BASE_URL, SMALLCODE_MODEL, …) with a
Cognition of its own (cache, budgets and call log under `cwd`'s .smallcode/); the agent passes its own.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from agent_core.cognition.runtime import Cognition, CognitionError
from agent_core.cognition.spec import PromptSpec, load_spec


class DeclaredPrompt:
    def __init__(self, spec: PromptSpec, runtime: Cognition | None = None, cwd: str | Path = ".") -> None:
        self.spec = spec
        self.runtime = runtime
        self.cwd = Path(cwd)
        self.Inputs: type[BaseModel] = spec.Inputs
        self.Output: type[BaseModel] = spec.Output

    @property
    def name(self) -> str:
        return self.spec.name

    def _runtime(self) -> Cognition:
        if self.runtime is None:
            from agent_core.config import ConfigError, load_settings

            try:
                settings = load_settings(self.cwd)
            except ConfigError as exc:
                raise CognitionError(str(exc)) from None
            self.runtime = Cognition(self.cwd, settings)
        return self.runtime

    async def acall(self, inputs: BaseModel | dict[str, Any] | None = None, /, **named: Any) -> Any:
        """The validated output for `inputs` (a dict or the Inputs model) and/or keyword inputs."""
        return await self._runtime().call(self.spec, {**_values(inputs), **named})

    def __call__(self, inputs: BaseModel | dict[str, Any] | None = None, /, **named: Any) -> Any:
        """Blocking call (opens and closes its own event loop and model connection)."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            raise CognitionError(
                f"declared prompt {self.name!r} called inside a running event loop: use `await prompt.acall(...)`"
            )

        async def once() -> Any:
            runtime = self._runtime()
            try:
                return await runtime.call(self.spec, {**_values(inputs), **named})
            finally:
                await runtime.aclose()

        return asyncio.run(once())

    def __repr__(self) -> str:
        return f"DeclaredPrompt({self.name!r}, tier={self.spec.tier!r}, path={str(self.spec.path)!r})"


def _values(inputs: BaseModel | dict[str, Any] | None) -> dict[str, Any]:
    return inputs.model_dump() if isinstance(inputs, BaseModel) else dict(inputs or {})


def load(path: str | Path, *, runtime: Cognition | None = None, cwd: str | Path = ".") -> DeclaredPrompt:
    """A declared prompt from its TOML; SpecError (one line) when the spec is wrong."""
    return DeclaredPrompt(load_spec(path), runtime=runtime, cwd=cwd)
