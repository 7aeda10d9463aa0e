"""Settings: flags > environment > .env > smallcode.toml > defaults.

Every option is a SMALLCODE_* variable (same names, lower-case, in smallcode.toml). The workspace's
`.env` and `smallcode.toml` are read from the project directory, not the process's cwd.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict


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
    attempts: int = Field(default=1, ge=1, le=10)
    """Whole tries at a task: when checks still fail after the fix rounds, restore the files and try again."""
    thinking_budget: int = 2000
    """Maximum reasoning tokens."""
    thinking_disable: bool = False
    """Ask the model not to think."""
    temp_adapt: bool = True
    """Vary the temperature on retries after failed edits."""
    trust_decay: bool = True
    """Lower trust in a tool or model after failures."""
    web_browse: bool = False
    """Enable web_search / web_fetch (only reliable with 20B+ models)."""
    model_medium: str | None = None
    """Model for adaptive routing above a 0.3 failure rate."""
    model_strong: str | None = None
    """Model for adaptive routing above a 0.6 failure rate."""
    trace: bool = True
    """Write a trace of every turn under .smallcode/traces/."""
    embedded: Literal["auto", "always", "never"] = "auto"
    """Start the embedded model when no base URL is configured ("auto")."""
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


def load_settings(cwd: str | Path = ".", **overrides: Any) -> Settings:
    """Settings for a workspace; `overrides` (flags, API arguments) win; None values are ignored."""
    root = Path(cwd)
    flags = {k: v for k, v in overrides.items() if v is not None}
    unknown = [k for k in flags if k not in Settings.model_fields]
    if unknown:
        raise ConfigError(f"unknown setting(s): {', '.join(sorted(unknown))}")
    toml_path = root / "smallcode.toml"
    toml_values = _read_toml(toml_path) if toml_path.is_file() else {}
    env_file = root / ".env"
    try:
        # .env and environment are read by pydantic-settings; toml values fill in only what they leave unset.
        base = Settings(_env_file=env_file if env_file.is_file() else None)  # type: ignore[call-arg]
        from_sources = base.model_dump(exclude_unset=True)
        merged = {**toml_values, **from_sources, **flags}
        return Settings.model_validate(merged) if merged else Settings.model_construct()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"invalid settings: {problems}") from None
