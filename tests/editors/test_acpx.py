"""`smallcode acp` under a real ACP client: acpx (openclaw/acpx on npm, a headless ACP client used to drive
coding agents from scripts), installed offline from tests/editors/acpx (`npm ci` there; .ci/run does it).

acpx starts the agent as editors do, advertises fs and terminal capabilities, applies fs/write_text_file to
the files itself, and answers session/request_permission from its policy (here: everything but commands)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.scripted_server import ScriptedModelServer

ACPX = Path(__file__).parent / "acpx" / "node_modules" / "acpx" / "dist" / "cli.js"
EXIT_PERMISSION_DENIED = 5
"""acpx's exit code when it denied a permission request (its PERMISSION_DENIED)."""

pytestmark = pytest.mark.skipif(
    not ACPX.is_file() or shutil.which("node") is None,
    reason="acpx not installed: (cd tests/editors/acpx && npm ci --ignore-scripts)",
)


def test_acpx_edits_through_the_client_and_denies_the_push(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "app.py").write_text('def greet(name):\n    return "hello " + name\n')
    model_server.extend(
        [
            {
                "tool_calls": [
                    {
                        "name": "patch",
                        "arguments": {
                            "path": "app.py",
                            "search": '"hello " + name',
                            "replace": 'f"Hello, {name}!"',
                        },
                    }
                ]
            },
            {"tool_calls": [{"name": "bash", "arguments": {"command": "git push origin main"}}]},
            {"content": "greet now says Hello, NAME!; the push was declined."},
        ]
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMALLCODE_")}
    env.update(
        HOME=str(tmp_path / "home"),  # acpx keeps its sessions under ~/.acpx
        SMALLCODE_BASE_URL=model_server.base_url,
        SMALLCODE_MODEL="scripted-model",
        SMALLCODE_EMBEDDED="never",
    )
    agent = f"{sys.executable} -m agent_core.cli.main acp"
    proc = subprocess.run(
        [
            "node",
            str(ACPX),
            "--agent",
            agent,
            "--approve-all",
            "--permission-policy",
            json.dumps({"autoDeny": ["execute"]}),
            "--format",
            "json",
            "--cwd",
            str(project),
            "exec",
            "In app.py make greet say Hello, NAME! then push",
        ],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,  # a loaded machine: the agent, the client and the model server share two cores
    )
    assert proc.returncode == EXIT_PERMISSION_DENIED, proc.stderr  # the push was denied, as asked
    messages = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]

    def sent(method: str) -> list[dict]:
        return [m for m in messages if m.get("method") == method]

    init = next(m["result"] for m in messages if "protocolVersion" in m.get("result", {}))
    assert init["protocolVersion"] == 1 and init["agentInfo"]["name"] == "smallcode"
    # the edit went through the client, which wrote the file
    [write] = sent("fs/write_text_file")
    assert write["params"]["path"] == str(project / "app.py")
    assert (project / "app.py").read_text() == 'def greet(name):\n    return f"Hello, {name}!"\n'
    # the push asked, was refused, and never ran
    [ask] = sent("session/request_permission")
    assert "git push origin main" in ask["params"]["toolCall"]["title"]
    updates = [m["params"]["update"] for m in sent("session/update")]
    kinds = {u.get("kind") for u in updates if u.get("sessionUpdate") == "tool_call"}
    assert {"edit", "execute"} <= kinds
    ends = [u["status"] for u in updates if u.get("sessionUpdate") == "tool_call_update" and u.get("status")]
    assert ends == ["completed", "failed"]
    text = "".join(u["content"]["text"] for u in updates if u.get("sessionUpdate") == "agent_message_chunk")
    assert "the push was declined" in text
    assert any(m.get("result", {}).get("stopReason") == "end_turn" for m in messages if "result" in m)
