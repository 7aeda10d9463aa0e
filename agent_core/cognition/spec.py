"""A declared prompt's TOML spec → PromptSpec: its model tier, inputs, output schema, prompt text, timeout,
retries, cache key and TTL, and token budget. Every mistake in a spec is one SpecError line naming the file
and the key.

    name = "plan"                      # default: the file's stem
    description = "…"
    tier = "default"                   # default | small | medium | strong (SMALLCODE_MODEL_MEDIUM / _STRONG)
    timeout = 60                       # seconds one attempt may take
    retries = 2                        # further attempts after an invalid answer or a timeout
    max_tokens = 512
    temperature = 0.0

    [inputs]                           # fields (see agent_core/cognition/types.py)
    task = "str"
    [types.Step]                       # named object types the output may use
    title = "str"
    [output]
    steps = "list[Step]"
    [prompt]
    system = "…"                       # the output's shape is added to it
    user = "Task: $task"               # $name or ${name}: an input (string.Template)
    [cache]
    key = ["task"]                     # the inputs that make the cache key (default: all)
    ttl = 3600                         # seconds a result is reused; 0: never cached
    [budget]
    call = 4000                        # tokens one call may spend, retries included
    session = 40000                    # tokens this prompt may spend in one session
"""

from __future__ import annotations

import hashlib
import json
import string
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agent_core.cognition.types import TypeSpecError, build_model

Tier = Literal["default", "small", "medium", "strong"]


class SpecError(ValueError):
    """A declared prompt's spec cannot be used; `str(exc)` is one line naming the file and the key."""


class _Prompt(BaseModel):
    model_config = ConfigDict(extra="forbid")
    system: str = ""
    user: str


class _Cache(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: list[str] | None = None
    ttl: float = Field(default=0, ge=0)


class _Budget(BaseModel):
    model_config = ConfigDict(extra="forbid")
    call: int | None = Field(default=None, ge=1)
    session: int | None = Field(default=None, ge=1)


class _RawSpec(BaseModel):
    """The TOML as written (unknown keys are refused: a typo must not pass silently)."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = None
    description: str = ""
    tier: Tier = "default"
    timeout: float = Field(default=60.0, gt=0)
    retries: int = Field(default=2, ge=0, le=10)
    max_tokens: int = Field(default=512, ge=16)
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    inputs: dict[str, Any] = Field(default_factory=dict)
    types: dict[str, dict[str, Any]] = Field(default_factory=dict)
    output: dict[str, Any]
    prompt: _Prompt
    cache: _Cache = Field(default_factory=_Cache)
    budget: _Budget = Field(default_factory=_Budget)


@dataclass(frozen=True)
class PromptSpec:
    """A loaded declared prompt: plain settings plus the generated Inputs and Output models."""

    name: str
    path: Path
    description: str
    tier: Tier
    timeout: float
    retries: int
    max_tokens: int
    temperature: float
    system: str
    user: str
    Inputs: type[BaseModel]
    Output: type[BaseModel]
    shape: str
    """The output's fields, one per line, as the model is told them."""
    cache_key: tuple[str, ...]
    cache_ttl: float
    budget_call: int | None
    budget_session: int | None
    fingerprint: str
    """A hash of the spec's text: editing the spec makes its cached results stale."""

    def render(self, inputs: BaseModel) -> list[dict[str, str]]:
        """The chat messages for these inputs: the system prompt with the output's shape, and the user text."""
        values = {k: _as_text(v) for k, v in inputs.model_dump(mode="json").items()}
        system = (
            (string.Template(self.system).substitute(values).rstrip() + "\n\n" if self.system else "")
            + "Answer with one JSON object and nothing else. Its keys:\n"
            + self.shape
        )
        return [
            {"role": "system", "content": system},
            {"role": "user", "content": string.Template(self.user).substitute(values).strip()},
        ]

    def output_schema(self) -> dict[str, Any]:
        return self.Output.model_json_schema()


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def load_spec(path: str | Path) -> PromptSpec:
    """Read and check a declared prompt's TOML; SpecError (one line) for anything wrong."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except FileNotFoundError:
        raise SpecError(f"{path}: no such declared prompt file") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SpecError(f"{path.name}: cannot read it: {exc}") from None
    try:
        raw = _RawSpec.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "spec"
        more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
        raise SpecError(f"{path.name}: {where}: {err['msg']}{more}") from None
    name = raw.name or path.stem
    try:
        named: dict[str, type[BaseModel]] = {}
        shapes: list[str] = []
        for type_name, fields in raw.types.items():
            if not type_name.isidentifier():
                raise TypeSpecError(f"types.{type_name}: a type name must be an identifier")
            named[type_name], lines = build_model(type_name, fields, named)
            shapes.append(f"{type_name} is an object with keys:\n" + "\n".join("  " + ln for ln in lines))
        inputs, _ = build_model("Inputs", raw.inputs, named)
        if not raw.output:
            raise TypeSpecError("output: declare at least one field")
        output, lines = build_model("Output", raw.output, named)
    except TypeSpecError as exc:
        raise SpecError(f"{path.name}: {exc}") from None
    for part, template in (("system", raw.prompt.system), ("user", raw.prompt.user)):
        tpl = string.Template(template)
        if not tpl.is_valid():
            raise SpecError(
                f"{path.name}: prompt.{part}: a $ that is not $name or ${{name}} (write $$ for $)"
            )
        unknown = sorted(set(tpl.get_identifiers()) - set(raw.inputs))
        if unknown:
            raise SpecError(f"{path.name}: prompt.{part} uses ${unknown[0]}, which is not among [inputs]")
    key = tuple(raw.cache.key) if raw.cache.key is not None else tuple(raw.inputs)
    missing = [k for k in key if k not in raw.inputs]
    if missing:
        raise SpecError(f"{path.name}: cache.key names {missing[0]!r}, which is not among [inputs]")
    return PromptSpec(
        name=name,
        path=path.resolve(),
        description=raw.description,
        tier=raw.tier,
        timeout=raw.timeout,
        retries=raw.retries,
        max_tokens=raw.max_tokens,
        temperature=raw.temperature,
        system=raw.prompt.system,
        user=raw.prompt.user,
        Inputs=inputs,
        Output=output,
        shape="\n".join([*lines, *shapes]),
        cache_key=key,
        cache_ttl=raw.cache.ttl,
        budget_call=raw.budget.call,
        budget_session=raw.budget.session,
        fingerprint=hashlib.sha256(text.encode("utf-8")).hexdigest()[:16],
    )
