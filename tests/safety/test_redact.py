"""Secrets in tool output are redacted; code that merely names a secret stays readable."""

from __future__ import annotations

import pytest

from agent_core.safety.redact import REDACTED, redact, redact_obj

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
