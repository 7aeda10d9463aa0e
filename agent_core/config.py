"""Settings: flags > environment > .env > smallcode.toml > the user's config.toml > defaults.

Every option is a SMALLCODE_* variable (same names, lower-case, in the toml files). The workspace's `.env`
and `smallcode.toml` are read from the project directory, not the process's cwd; the user's own file is
~/.config/smallcode/config.toml. Settings that weaken safety (the shell sandbox, `.env` access, the shell's
network, the model endpoint) are taken from the workspace's files only when the user trusted exactly those
values for this workspace (agent_core/safety/trust.py); otherwise they are ignored with a warning.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from agent_core.safety import trust


class ConfigError(Exception):
    """Bad settings; the message is for the user (one line, actionable)."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SMALLCODE_", extra="ignore", populate_by_name=True)

    model: str | None = None
    """Model name as the server knows it (required unless the embedded default is used)."""
    base_url: str | None = None
    """OpenAI-compatible endpoint, e.g. http://localhost:1234/v1."""
    api_key: str | None = None
    """Bearer token for the endpoint, if it needs one."""

    max_turns: int = Field(default=25, ge=1, le=1000)
    """Upper bound on model turns in one run."""
    temperature: float = Field(default=0.2, ge=0.0, le=2.0)
    """Sampling temperature for the first try of each turn."""
    max_tokens: int = Field(default=2048, ge=16)
    """Cap on tokens the model may generate in one reply."""
    request_timeout: float = Field(default=120.0, gt=0)
    """Seconds without a byte from the model server before a request is abandoned."""
    retries: int = Field(default=3, ge=0, le=10)
    """Retries (with backoff) on connection errors and 5xx answers."""
    stream: bool = True
    """Stream the model's answer (SSE)."""

    context: int | None = Field(default=None, ge=512)
    """Context window in tokens; default: from the server, then the model profile, then 8192."""
    max_tool_result_chars: int = Field(default=4000, ge=200)
    """Cap on one tool result sent back to the model."""

    shell_persist: bool = True
    """Keep shell state (cwd, environment) across bash calls."""
    shell_timeout: float = Field(default=60.0, gt=0)
    """Default seconds a bash call may run."""
    write_guard: bool = True
    """Refuse the first write to an existing file the agent has not read."""
    snapshot: bool = True
    """Snapshot files before each turn's edits."""
    auto_rollback: bool = False
    """Revert a whole turn's edits on a validation hard-fail."""
    allow_env_files: bool = False
    """Let file tools read and write .env files (they usually hold secrets)."""
    shell_sandbox: Literal["auto", "on", "off"] = "auto"
    """Run the bash tool inside bubblewrap: "auto" when it works here, "on" always (refuse without), "off" never."""
    shell_network: bool = False
    """Give sandboxed shell commands network access."""
    shell_env_pass: list[str] = Field(default_factory=list)
    """More environment variables the model's shell inherits (names or patterns like `MY_TOOL_*`; a JSON list
    in SMALLCODE_SHELL_ENV_PASS). The shell gets an allow list (PATH, HOME, LANG, LC_*, TMPDIR, VIRTUAL_ENV,
    …), so secrets under any name stay out; a project's value for this needs the user's yes."""
    tool_routing: Literal["auto", "on", "off"] = "auto"
    """Two-stage tool routing: the model picks a category, then sees only its tools ("auto": under 16k)."""
    plan: bool = False
    """Force plan-then-execute."""
    plan_disable: bool = False
    """Never plan: no plan instruction and no plan/todo tools (wins over `plan`; the plan benchmark's "off" arm)."""
    test_runner: str | None = None
    """Override the auto-detected test command."""
    test_disable: bool = False
    """Do not run tests after edits."""
    check_timeout: float = Field(default=120.0, gt=0)
    """Seconds one check (the tests after a turn's edits) may take before it is stopped and reported."""
    fix_rounds: int = Field(default=3, ge=0, le=20)
    """Final answers refused while checks fail: each sends the failures back for another round of fixes."""
    constrained_decoding: Literal["auto", "on", "off"] = "off"
    """Small models on llama.cpp servers: a grammar (the request's `grammar`) keeps every fence closed and
    ends a one-file reply at the close of its block. `auto`: when the server is a llama.cpp server (it has
    llama.cpp's tokenize endpoint); `on`: always send it; `off`: never."""
    cognition_constrain: Literal["auto", "json_schema", "json_object", "off"] = "auto"
    """Declared prompts (agent_core/cognition): how their answers are held to the output's JSON schema.
    `auto`: `response_format` json_object with the schema on llama.cpp servers (llama.cpp makes a grammar of
    it), OpenAI's json_schema elsewhere; a server that refuses it is asked again without; `off`: validation and
    repair only."""
    plan_draft: bool = False
    """Multi-step tasks (models over 4B, or SMALLCODE_PLAN): the agent drafts the TODO plan itself with its
    declared planning prompt (one schema-constrained request) instead of asking the model to call the plan
    tool; if the draft fails, the model is asked as before."""
    stall_tries: int = Field(default=3, ge=0, le=50)
    """Small models, which get a fresh try after each failed check: stop after this many tries in a row that
    did not get more tests passing (0: no limit). The best version so far stays in place; samples already
    drawn (`samples`) are tried first, since they cost no request."""
    resample: bool = True
    """Small models, which get a fresh try after each failed check: every other fresh try (the first, third, …)
    is a new sample of the run's first message (the files as they were, no failures shown) at the raised
    temperature, rather than a try shown its failures; the tests keep the best version either way."""
    samples: int = Field(default=3, ge=1, le=4)
    """With `resample`: new samples of the first message asked for at once (`n`), on a server that answers `n`
    (the embedded one decodes them together); the ones not used yet are the next fresh tries, each without a
    request. 1: one request per sample. Three on the bench's 30 tasks (embedded 1.5B): 9 passed where one passed
    8, at a third fewer tokens per pass."""
    samples_first: bool = False
    """With `samples` > 1: the run's first request brings the samples too: its first choice is the greedy
    answer, the others are drawn hot (one request of `samples` choices where a failing first try made two, the
    prompt counted once), on a server that draws each choice at its own temperature and says so (the embedded
    one); elsewhere the first request is the greedy answer alone. The first reply then comes whole, not
    streamed. Off by default: on 15 bench tasks (embedded 1.5B) it spent 19% fewer tokens, but passed 2 where
    the greedy request and a batch passed 4 and took as long a task (docs/BENCHMARKS.md, session 15)."""
    attempts: int = Field(default=1, ge=1, le=10)
    """Whole tries at a task: when checks still fail after the fix rounds, restore the files and try again."""
    thinking_budget: int = Field(default=2000, ge=0)
    """Reasoning tokens a streamed reply may spend (`reasoning_content` or <think> text); past it the request
    is ended and the model asked for its answer with thinking off (0: no limit)."""
    thinking_disable: bool = False
    """Ask reasoning models not to think, as their profile allows (`chat_template_kwargs: {enable_thinking:
    false}`, `/no_think`)."""
    temp_adapt: bool = True
    """Vary the temperature on retries after failed edits."""
    trust_decay: bool = True
    """While a model's recent edits often broke the syntax (or patches often failed), check each edit as it
    lands and edit one file per turn; trust returns as edits come back clean."""
    web_browse: bool = False
    """Enable web_search / web_fetch (only reliable with 20B+ models; not offered to models of 4B and under)."""
    web_search_url: str | None = None
    """web_search's endpoint: a SearXNG-compatible JSON search URL, e.g. http://localhost:8888/search
    (asked as URL?q=QUERY&format=json; loopback and private addresses are fine here, cloud metadata never)."""
    web_allow_private: bool = False
    """Let web_fetch reach private, loopback and CGNAT addresses (an intranet; tests). Link-local and cloud
    metadata addresses stay refused."""
    skill_auto: bool = True
    """Add a skill to a task that names one of its `when` phrases (models over 4B; /skill use for any model)."""
    model_medium: str | None = None
    """Adaptive routing: the model that answers while the recent failure rate (of at least 3 steps) is above
    0.3; back to the primary model when it recovers."""
    model_strong: str | None = None
    """Adaptive routing: the model that answers while the recent failure rate is above 0.6."""
    base_url_medium: str | None = None
    """Endpoint of SMALLCODE_MODEL_MEDIUM when it is not on SMALLCODE_BASE_URL's server."""
    base_url_strong: str | None = None
    """Endpoint of SMALLCODE_MODEL_STRONG when it is not on SMALLCODE_BASE_URL's server."""
    cloud_max_calls: int = Field(default=3, ge=0, le=1000)
    """Cloud escalation (with ANTHROPIC_API_KEY, OPENAI_API_KEY or DEEPSEEK_API_KEY in the environment): at most
    this many steps per session go to the cloud model (0: never)."""
    cloud_model: str | None = None
    """The cloud model for escalation; default: claude-sonnet-4-5, gpt-4.1 or deepseek-chat by the key set."""
    trace: bool = True
    """Write a trace of every turn under .smallcode/traces/."""
    embedded: Literal["auto", "always", "never"] = "auto"
    """Start the embedded model when no base URL is configured ("auto"), even when one is ("always"), or never
    (then a base URL is required)."""
    embedded_model: str = "qwen2.5-coder-1.5b"
    """Which embedded model to start."""
    gguf: str | None = None
    """Path to any local GGUF to serve instead of the embedded default."""
    models_dir: str | None = None
    """Where joined embedded models are kept; default: (XDG_CACHE_HOME or ~/.cache)/smallcode/models."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, dotenv_settings)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {path.name}: {exc}") from None
    # Accept both `model = ...` and `SMALLCODE_MODEL = ...`, at top level or under [smallcode].
    table = data.get("smallcode", data) if isinstance(data.get("smallcode"), dict) else data
    out: dict[str, Any] = {}
    for key, value in table.items():
        name = key.lower().removeprefix("smallcode_")
        if name in Settings.model_fields:
            out[name] = value
    return out


Ask = Callable[[str], bool]
"""Asks the user a yes/no question about the workspace's settings (a terminal prompt)."""


def load_settings(cwd: str | Path = ".", *, ask: Ask | None = None, **overrides: Any) -> Settings:
    """Settings for a workspace; `overrides` (flags, API arguments) win; None values are ignored.

    Workspace settings that weaken safety need the user's remembered yes; without one, `ask` (when given)
    asks once and the answer is remembered, else they are ignored with a one-line warning.
    """
    root = Path(cwd)
    flags = {k: v for k, v in overrides.items() if v is not None}
    unknown = [k for k in flags if k not in Settings.model_fields]
    if unknown:
        raise ConfigError(f"unknown setting(s): {', '.join(sorted(unknown))}")
    try:
        user_file = trust.user_config_file()
        user_values = _validated(_read_toml(user_file)) if user_file.is_file() else {}
        env_values = Settings(_env_file=None).model_dump(exclude_unset=True)  # type: ignore[call-arg]
        workspace, sources = _workspace_values(root, env_values)
        user = {**user_values, **env_values, **flags}
        workspace = _screen(root, workspace, sources, Settings.model_validate(user), ask)
        merged = {**user_values, **workspace, **env_values, **flags}
        return Settings.model_validate(merged) if merged else Settings.model_construct()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"invalid settings: {problems}") from None


def _validated(values: dict[str, Any]) -> dict[str, Any]:
    """Values as the settings hold them (`"true"` → True), so they can be compared; ValidationError if bad."""
    return Settings.model_validate(values).model_dump(include=set(values)) if values else {}


def _workspace_values(root: Path, env_values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """What the project's smallcode.toml and .env set (the environment wins over .env), and which file set each."""
    toml_path = root / "smallcode.toml"
    values = _validated(_read_toml(toml_path)) if toml_path.is_file() else {}
    sources = dict.fromkeys(values, "smallcode.toml")
    env_file = root / ".env"
    if env_file.is_file():
        with_dotenv = Settings(_env_file=env_file).model_dump(exclude_unset=True)  # type: ignore[call-arg]
        dotenv = {k: v for k, v in with_dotenv.items() if k not in env_values}
        values.update(dotenv)
        sources.update(dict.fromkeys(dotenv, ".env"))
    return values, sources


def _screen(
    root: Path, workspace: dict[str, Any], sources: dict[str, str], user: Settings, ask: Ask | None
) -> dict[str, Any]:
    """The workspace's values without those that weaken safety, unless the user trusts them here."""
    weakening = {k: v for k, v in workspace.items() if trust.weakens(k, v, getattr(user, k, None))}
    if not weakening:
        return workspace
    allowed = trust.decision(root, weakening)
    asked = allowed is None and ask is not None
    if asked and ask is not None:
        allowed = ask(
            f"{trust.describe(weakening, sources)}: settings that weaken safety, chosen by the project, "
            "not by you. Use them for this project?"
        )
        trust.remember(root, weakening, allowed)
    if allowed:
        return workspace
    trust.warn_ignored(root, weakening, sources, declined=allowed is False, silent=asked)
    return {k: v for k, v in workspace.items() if k not in weakening}
