"""Secrets in tool output are redacted; code that merely names a secret stays readable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent_core.safety.redact import REDACTED, redact, redact_obj, redact_tree

SECRETS = {
    "openai": "key sk-proj-AbCdEfGhIjKlMnOpQrStUvWx123456 end",
    "anthropic": "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUv-xyz",
    "stripe": "STRIPE=sk_live_51AbCdEfGhIjKlMnOp",
    "github": "ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
    "github fine-grained": "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJ",
    "gitlab": "glpat-AbCdEfGhIjKlMnOpQrSt",
    "slack": "xoxb-123456789012-abcdefghijkl",
    "aws id": "AKIAIOSFODNN7EXAMPLE",
    "aws secret": "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "google": "AIzaSyA-1234567890abcdefghijklmnopqrstu",
    "huggingface": "hf_AbCdEfGhIjKlMnOpQrStUvWxYz01234567",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "bearer": "Authorization: Bearer abcdefghijklmnopqrstuvwxyz012345",
    "basic": "Authorization: Basic dXNlcjpwYXNzd29yZDEyMzQ1Ng==",
    "url password": "DATABASE_URL=postgres://admin:s3cr3tP4ss@db.internal:5432/app",
    "env": "export MY_SERVICE_TOKEN=abcd1234efgh",
    "json": '{"client_secret": "Zx9Qw8Er7Ty6"}',
    "yaml": "password: correct-horse-battery",
    "private key": "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----",
    "cut private key": "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA0Z3VS5JJcds3xfn\n[… 900 characters cut …]",
}

SECRET_PARTS = {
    "openai": "AbCdEfGhIjKlMnOpQrStUvWx123456", "anthropic": "AbCdEfGhIjKlMnOpQrStUv", "stripe": "51AbCdEf",
    "github": "AbCdEfGhIjKlMnOp", "github fine-grained": "abcdefghijklmnop", "gitlab": "AbCdEfGhIjKl",
    "slack": "abcdefghijkl", "aws id": "IOSFODNN7", "aws secret": "wJalrXUtnFEMI", "google": "1234567890abcdefg",
    "huggingface": "AbCdEfGhIjKl", "jwt": "dozjgNryP4J3", "bearer": "abcdefghijklmnop", "basic": "dXNlcjpw",
    "url password": "s3cr3tP4ss", "env": "abcd1234efgh", "json": "Zx9Qw8Er7Ty6", "yaml": "correct-horse",
    "private key": "b3BlbnNzaC1rZXkt", "cut private key": "MIIEowIBAAKCAQEA",
}  # fmt: skip


@pytest.mark.parametrize("name", list(SECRETS))
def test_secret_is_redacted(name: str) -> None:
    out = redact(SECRETS[name])
    assert SECRET_PARTS[name] not in out
    assert REDACTED in out
    assert redact(out) == out  # idempotent


def test_environment_secrets_are_redacted_wherever_they_appear(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUSTOM_SERVICE_TOKEN", "plain-looking-value-42")
    assert redact("the value is plain-looking-value-42.") == f"the value is {REDACTED}."


KEPT = [
    'API_KEY = os.environ["API_KEY"]',
    "token = settings.api_token",
    "password: ${DB_PASSWORD}",
    "SECRET_KEY = get_secret()",
    "def check_password(password: str) -> bool:",
    "api_key=None",
    "The token limit is 4096.",
    "Authorization header missing",
]


@pytest.mark.parametrize("text", KEPT)
def test_code_that_names_secrets_stays_readable(text: str) -> None:
    assert redact(text) == text


def test_redact_obj_walks_nested_structures() -> None:
    data = {"messages": [{"content": "ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"}], "n": 3, "t": ("x", None)}
    out = redact_obj(data)
    assert "ghp_" not in str(out) and out["n"] == 3 and out["t"] == ["x", None]


def test_a_kept_trace_stays_json_lines_after_redacting_the_tree(tmp_path: Path) -> None:
    """The task bench redacts each kept workspace; its traces were redacted as text, where the escaped
    `tokenizer.py:\\n```python` read as `NAME: value` and broke the line's JSON (tokenizer_numbers)."""
    opening = 'Files named in the task:\n\ntokenizer.py:\n```python\n"""Split."""\n```\n'
    traces = tmp_path / ".smallcode" / "traces"
    traces.mkdir(parents=True)
    trace = traces / "run.jsonl"
    lines = [
        {"type": "turn", "messages": [{"role": "user", "content": opening}]},
        {"type": "tool", "output": "export API_TOKEN=abcd1234efgh5678"},
    ]
    trace.write_text("".join(json.dumps(line) + "\n" for line in lines))
    report = tmp_path / "report.json"
    report.write_text(json.dumps({"note": opening, "env": "PASSWORD=hunter2hunter2"}))
    redact_tree(tmp_path)
    kept = [json.loads(line) for line in trace.read_text().splitlines()]
    assert kept[0] == lines[0]  # nothing secret in it: unchanged, and still JSON
    assert "abcd1234efgh5678" not in json.dumps(kept[1]) and "[REDACTED]" in kept[1]["output"]
    saved = json.loads(report.read_text())
    assert saved["note"] == opening and "hunter2hunter2" not in saved["env"]


def test_a_file_name_before_a_colon_is_not_a_secret_setting() -> None:
    assert redact("tokenizer.py: line 3 failed") == "tokenizer.py: line 3 failed"
    assert redact("see test_token.py:12") == "see test_token.py:12"
    assert redact("spring.datasource.password: hunter2xyz") == "spring.datasource.password: [REDACTED]"
