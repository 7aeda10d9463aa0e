"""vscode-extension/package.json contributes a setting for every server option with the server's own default,
type, bounds and enum (derived from lsp_server.settings / agent_core.config), and a palette entry for every
slash command the server answers. On a mismatch: python -m tests.editors.vscode_settings --write"""

from __future__ import annotations

import json
from typing import Any

from lsp_server.features.commands import SLASH_COMMANDS
from lsp_server.settings import parse_options
from tests.editors.vscode_settings import (
    CLIENT_PREFIXES,
    PACKAGE_JSON,
    package_properties,
    server_defaults,
    server_properties,
)

FIX = "regenerate with: python -m tests.editors.vscode_settings --write"


def _package() -> dict[str, Any]:
    return json.loads(PACKAGE_JSON.read_text(encoding="utf-8"))


def test_every_server_option_is_a_setting_with_the_servers_default() -> None:
    contributed = package_properties(_package())
    defaults = server_defaults()
    missing = sorted(set(defaults) - set(contributed))
    assert not missing, f"settings missing from package.json: {missing}; {FIX}"
    wrong = {
        key: (contributed[key].get("default"), default)
        for key, default in defaults.items()
        if contributed[key].get("default") != default
    }
    assert not wrong, f"defaults differ (package.json, server): {wrong}; {FIX}"


def test_settings_match_the_server_models_exactly() -> None:
    contributed = {
        k: v for k, v in package_properties(_package()).items() if not k.startswith(CLIENT_PREFIXES)
    }
    expected = server_properties()
    extra = sorted(set(contributed) - set(expected))
    assert not extra, f"package.json has settings the server does not know: {extra}; {FIX}"
    assert contributed == expected, FIX


def test_the_server_accepts_every_contributed_setting_at_its_default() -> None:
    contributed = package_properties(_package())
    section = {
        key.removeprefix("smallcode."): spec["default"]
        for key, spec in contributed.items()
        if not key.startswith(CLIENT_PREFIXES)
    }
    options, problems = parse_options(section)
    assert problems == []
    assert options.apply_mode == contributed["smallcode.applyMode"]["default"]


def test_client_settings_are_only_the_extensions_own() -> None:
    client = [k for k in package_properties(_package()) if k.startswith(CLIENT_PREFIXES)]
    assert sorted(client) == [
        "smallcode.server.command",
        "smallcode.server.logLevel",
        "smallcode.server.pythonCommand",
        "smallcode.trace.server",
    ]


def test_every_slash_command_has_a_palette_entry() -> None:
    commands = {c["command"]: c for c in _package()["contributes"]["commands"]}
    missing = [name for name in SLASH_COMMANDS if f"smallcode.palette.{name}" not in commands]
    assert not missing, f"palette entries missing for {missing}"
    assert commands["smallcode.askInput"]["title"] == "Ask…"
    assert all(c["category"] == "SmallCode" for c in commands.values())
