"""Server options from initializationOptions and the `smallcode` section of workspace/configuration.

camelCase on the wire (`model`, `baseUrl`, `applyMode`, `maxTurns`, `writeGuard`, …). Any SMALLCODE_* option
of agent_core's Settings is accepted under its camelCased name and passed to the agent. A bad value never
stops the server: that key falls back to its default and the user is told which one and why.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel, to_snake

from agent_core.config import Settings


class LspOptions(BaseModel):
    """Options of the language server itself; agent options are kept in `agent` (snake_case)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    model: str | None = None
    """Model name as the model server knows it."""
    base_url: str | None = None
    """OpenAI-compatible endpoint, e.g. http://localhost:1234/v1 (none: the embedded model)."""
    api_key: str | None = None
    """Bearer token for the endpoint, if it needs one."""
    apply_mode: Literal["preview", "auto"] = "preview"
    """"preview": edits ask for confirmation (VS Code's refactor preview); "auto": applied directly."""
    save_after_edit: bool = True
    """In "auto" mode, have the editor save a buffer the agent changed when it held no unsaved changes of the
    user (so the model's shell sees the edit); the server itself never writes it, and "preview" never saves."""
    completion: bool = True
    """Offer completions from the local model as you type (ghost text where the client supports inline
    completion): the server at `baseUrl`, else the embedded model (started by the first completion; none is
    asked while a task runs on it)."""
    completion_debounce_ms: int = Field(default=300, ge=0, le=5000)
    """Wait this long after the last keystroke before asking the model for a completion."""
    completion_max_tokens: int = Field(default=64, ge=1, le=1024)
    """Cap on the tokens of one completion."""
    agent: dict[str, Any] = Field(default_factory=dict)
    """Other SMALLCODE_* options for the agent (snake_case names), already validated."""

    def agent_settings(self) -> dict[str, Any]:
        """Keyword overrides for agent_core's load_settings (None values left to files and environment)."""
        base = {"model": self.model, "base_url": self.base_url, "api_key": self.api_key}
        return {**{k: v for k, v in base.items() if v is not None}, **self.agent}


_OWN = {name for name in LspOptions.model_fields if name != "agent"}
_OWN_ALIASES = {to_camel(name): name for name in _OWN} | {name: name for name in _OWN}


def parse_options(raw: Any) -> tuple[LspOptions, list[str]]:
    """Options from a client's JSON, and the problems found (each key in error falls back to its default)."""
    if raw is None:
        return LspOptions(), []
    if isinstance(raw, dict) and isinstance(raw.get("smallcode"), dict):
        raw = raw["smallcode"]  # initializationOptions may nest the section like the configuration does
    if not isinstance(raw, dict):
        return LspOptions(), [f"expected an object of settings, got {type(raw).__name__}"]
    problems: list[str] = []
    own: dict[str, Any] = {}
    agent: dict[str, Any] = {}
    for key, value in raw.items():
        if value is None:
            continue
        if key in _OWN_ALIASES:
            own[_OWN_ALIASES[key]] = value
            continue
        name = to_snake(key).removeprefix("smallcode_")
        if name in Settings.model_fields and name not in ("model", "base_url", "api_key"):
            agent[name] = value
        else:
            problems.append(f"unknown setting {key!r}")
    options = _validated(LspOptions, own, problems)
    options.agent = _validated_agent(agent, problems)
    return options, problems


def _validated(model: type[LspOptions], values: dict[str, Any], problems: list[str]) -> LspOptions:
    while True:
        try:
            return model.model_validate(values)
        except ValidationError as exc:
            bad = _bad_keys(exc, values, problems)
            if not bad:
                return model()
            for key in bad:
                values.pop(key, None)


def _validated_agent(values: dict[str, Any], problems: list[str]) -> dict[str, Any]:
    while values:
        try:
            # model_validate checks the values without reading the environment (that happens later, per root)
            Settings.model_validate(values)
            return values
        except ValidationError as exc:
            bad = _bad_keys(exc, values, problems)
            if not bad:
                return {}
            for key in bad:
                values.pop(key, None)
    return values


def _bad_keys(exc: ValidationError, values: dict[str, Any], problems: list[str]) -> set[str]:
    bad: set[str] = set()
    for err in exc.errors():
        key = str(err["loc"][0]) if err["loc"] else ""
        if key in values:
            bad.add(key)
            problems.append(f"{to_camel(key)}: {err['msg']} (got {values[key]!r})")
    return bad
