"""Model profiles: what SmallCode knows about a model family (context length, the tool-call format it
handles best, template quirks, strengths), matched from the model name.

Shipped profiles live in agent_core/llm/profiles/*.json (one list per family). Users override or add
profiles in <workspace>/.smallcode/profiles/*.json: an entry with the `name` of a shipped profile changes
only the fields it gives; an entry with a new name and `patterns` adds a profile (checked first)."""

from __future__ import annotations

import fnmatch
import json
import logging
import re
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

ToolFormat = Literal["native", "hermes", "json", "xml", "python-call", "text"]
Tier = Literal["small", "full"]
ThinkingSwitch = Literal["chat_template_kwargs", "no_think"]
DEFAULT_THINKING_OFF: tuple[ThinkingSwitch, ...] = ("chat_template_kwargs",)
SMALL_TIER_MAX_B = 4.0
"""Models of this many billion parameters or fewer get the small scaffolding (few tools, a short prompt)."""
_SIZE = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s*b(?![a-z])")
DEFAULT_CONTEXT = 8192

log = logging.getLogger(__name__)


class ModelProfile(BaseModel):
    name: str = "generic"
    """Profile id (a family such as `qwen2.5-coder`), or `generic` when nothing matched."""
    patterns: list[str] = Field(default_factory=list)
    """Shell-style patterns matched against the lower-cased model name (`*qwen2.5*coder*`)."""
    context_length: int = DEFAULT_CONTEXT
    """Context window in tokens: the server's figure when it reports one, else the family's."""
    tool_format: ToolFormat = "hermes"
    """The tool-call format the model handles best; the system prompt asks for it."""
    thinking: bool = False
    """The model reasons in <think> blocks by default."""
    thinking_off: list[ThinkingSwitch] = Field(default_factory=lambda: list(DEFAULT_THINKING_OFF))
    """How SMALLCODE_THINKING_DISABLE turns thinking off: `chat_template_kwargs` (`{enable_thinking: false}` in
    the request, for templates with that switch), `no_think` (`/no_think` after the last user message, Qwen3's
    soft switch); none: the model cannot be told (its thinking budget still holds)."""
    quirks: list[str] = Field(default_factory=list)
    """Template and output quirks worth knowing (shown by /profile)."""
    strengths: list[str] = Field(default_factory=list)
    notes: str = ""
    source: str = "default"
    """Where the profile came from: `shipped`, a user file path, or `default`."""
    tier: Tier | None = None
    """Scaffolding sized to the model: `small` (a few tools, a short system prompt, whole-file edits in fenced
    blocks) or `full`; None: from the size in the model name (<= 4B is small), else full."""


def model_tier(model_name: str, profile: ModelProfile | None = None) -> Tier:
    """`small` for models of 4B parameters or fewer (by the profile, else the size in the name: `…-1.5b`,
    `qwen3:4b`, `Phi-3-mini-3.8B`), `full` otherwise or when the size is unknown."""
    if profile is not None and profile.tier is not None:
        return profile.tier
    sizes = [float(m) for m in _SIZE.findall((model_name or "").lower())]
    return "small" if sizes and max(sizes) <= SMALL_TIER_MAX_B else "full"


def _shipped_dir() -> Any:
    return resources.files("agent_core.llm") / "profiles"


@lru_cache(maxsize=1)
def shipped_profiles() -> tuple[ModelProfile, ...]:
    """The profiles shipped in the package, in file order (most specific pattern wins on ties)."""
    found: list[ModelProfile] = []
    for entry in sorted(_shipped_dir().iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            for raw in _entries(json.loads(entry.read_text(encoding="utf-8"))):
                found.append(ModelProfile.model_validate({**raw, "source": "shipped"}))
    return tuple(found)


def _entries(data: Any) -> list[dict[str, Any]]:
    if isinstance(data, dict):
        return [data]
    return [d for d in data if isinstance(d, dict)] if isinstance(data, list) else []


def user_profiles(root: Path | None) -> tuple[list[ModelProfile], dict[str, dict[str, Any]]]:
    """(new profiles, overrides of shipped profiles by name) from <root>/.smallcode/profiles/*.json.
    A broken file is logged and skipped: a typo in a profile must not stop the agent."""
    new: list[ModelProfile] = []
    overrides: dict[str, dict[str, Any]] = {}
    if root is None:
        return new, overrides
    folder = Path(root) / ".smallcode" / "profiles"
    if not folder.is_dir():
        return new, overrides
    shipped_names = {p.name for p in shipped_profiles()}
    for path in sorted(folder.glob("*.json")):
        try:
            entries = _entries(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            log.warning("ignoring model profile file %s: %s", path, exc)
            continue
        for raw in entries:
            name = raw.get("name")
            if name in shipped_names and not raw.get("patterns"):
                overrides.setdefault(str(name), {}).update({**raw, "source": str(path)})
                continue
            try:
                new.append(ModelProfile.model_validate({**raw, "source": str(path)}))
            except ValidationError as exc:
                log.warning("ignoring model profile in %s: %s", path, exc.errors()[0].get("msg"))
    return new, overrides


def _normalize(model_name: str) -> str:
    name = (model_name or "").strip().lower().replace("\\", "/")
    return name.removesuffix(".gguf")


def _score(profile: ModelProfile, name: str) -> int:
    """Length of the longest pattern that matches (0: no match); the most specific profile wins."""
    best = 0
    for pattern in profile.patterns:
        if fnmatch.fnmatchcase(name, pattern.lower()):
            best = max(best, len(pattern.replace("*", "")))
    return best


def profile_for(model_name: str, root: Path | None = None, server_context: int | None = None) -> ModelProfile:
    """The profile for `model_name` (user profiles first, then shipped ones, else a generic default).
    `server_context` (from /v1/models or the server's props) replaces the profile's context length."""
    name = _normalize(model_name)
    new, overrides = user_profiles(root)
    chosen: ModelProfile | None = None
    for group in (new, list(shipped_profiles())):
        scored = [(s, p) for p in group if (s := _score(p, name))]
        if scored:
            chosen = max(scored, key=lambda sp: sp[0])[1]
            break
    profile = chosen.model_copy(deep=True) if chosen else ModelProfile()
    if profile.name in overrides:
        try:
            profile = ModelProfile.model_validate({**profile.model_dump(), **overrides[profile.name]})
        except ValidationError as exc:
            log.warning("ignoring override of profile %s: %s", profile.name, exc.errors()[0].get("msg"))
    if server_context and server_context > 0:
        profile.context_length = int(server_context)
    return profile


def format_instructions(
    profile: ModelProfile, tools: list[dict[str, Any]], example: str = "write_file"
) -> str:
    """The few lines of the system prompt that tell the model how to call tools, in its best format
    (`example`: the tool whose call is shown)."""
    from agent_core.parsing.messages import example_arguments
    from agent_core.parsing.toolset import ToolSet

    toolset = ToolSet(tools)
    if not toolset.tools:
        return ""
    tool = toolset.get(example) or next(iter(toolset.tools.values()))
    args = example_arguments(tool)
    names = ", ".join(toolset.names())
    call_json = json.dumps({"name": tool.name, "arguments": args})
    fmt = profile.tool_format
    if fmt == "native":
        body = (
            "Call tools with the tool-calling interface (function calls), one call per step.\n"
            f"If you cannot, write the call as:\n<tool_call>\n{call_json}\n</tool_call>"
        )
    elif fmt == "hermes":
        body = (
            f"To call a tool, write exactly:\n<tool_call>\n{call_json}\n</tool_call>\n"
            "One <tool_call> block per call; `arguments` is a JSON object."
        )
    elif fmt == "json":
        body = (
            f"To call a tool, reply with a ```json block holding one call:\n```json\n{call_json}\n```\n"
            "`arguments` is a JSON object; use one block per call."
        )
    elif fmt == "xml":
        params = "\n".join(f"<parameter={k}>\n{v}\n</parameter>" for k, v in args.items())
        body = (
            f"To call a tool, write:\n<tool_call>\n<function={tool.name}>\n{params}\n</function>\n</tool_call>\n"
            "Put each argument in its own <parameter=NAME> element."
        )
    elif fmt == "python-call":
        inner = ", ".join(f"{k}={v!r}" for k, v in args.items())
        body = f"To call a tool, write the call alone on a line, in Python syntax:\n[{tool.name}({inner})]"
    else:
        lines = "\n".join(f"{k}: {v}" for k, v in args.items())
        body = (
            f"To call a tool, write the tool name and its arguments, one per line:\ntool: {tool.name}\n{lines}\n"
            "For multi-line values write `content: |` and indent the lines below it."
        )
    return f"{body}\nTools: {names}. Use only these names, and stop after the call to wait for its result."
