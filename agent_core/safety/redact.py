"""Secrets never reach a trace, a session, memory or a benchmark result (or a cloud model's context).

`redact(text)` replaces API keys, tokens, private keys, credentials in URLs and `KEY=value` secrets with
[REDACTED]. Values that look like code rather than a secret (`API_KEY = os.environ["X"]`,
`token: ${TOKEN}`) are kept, so redacted source stays readable.
"""

from __future__ import annotations

import os
import re
from typing import Any

REDACTED = "[REDACTED]"

# Whole-match patterns: the match is the secret.
_TOKENS = [
    re.compile(
        r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\Z)",
        re.S,
    ),
    re.compile(r"\bsk-(?:ant-|proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{16,}"),  # OpenAI, Anthropic
    re.compile(r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}"),  # Stripe secret and restricted keys
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}"),  # GitHub tokens
    re.compile(r"\bgithub_pat_[A-Za-z0-9_]{40,}"),  # GitHub fine-grained tokens
    re.compile(r"\bglpat-[A-Za-z0-9_\-]{20,}"),  # GitLab
    re.compile(r"\bxox[abprse]-[A-Za-z0-9\-]{10,}"),  # Slack
    re.compile(r"https://hooks\.slack\.com/services/[A-Za-z0-9/]+"),
    re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),  # AWS access key ids
    re.compile(r"\bAIza[0-9A-Za-z_\-]{30,}"),  # Google API keys
    re.compile(r"\bya29\.[0-9A-Za-z_\-]{20,}"),  # Google OAuth access tokens
    re.compile(r"\bhf_[A-Za-z0-9]{30,}"),  # Hugging Face
    re.compile(r"\bnpm_[A-Za-z0-9]{36}\b"),  # npm
    re.compile(r"\bpypi-[A-Za-z0-9_\-]{50,}"),  # PyPI upload tokens
    re.compile(r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"),  # JWTs
]

# Prefix patterns: group 1 is kept, the rest of the match is the secret.
_PREFIXED = [
    re.compile(r"(?i)(\b(?:bearer|basic|token)\s+)[A-Za-z0-9_\-\.=+/]{16,}"),  # Authorization headers
    re.compile(r"(?i)(\b[a-z][a-z0-9+.\-]*://[^\s:/@'\"]+:)[^\s@/'\"]+(?=@)"),  # scheme://user:PASSWORD@host
]

_SECRET_NAME = r"[A-Za-z0-9_.\-]*(?:API[_-]?KEY|SECRET|TOKEN|PASSWORD|PASSWD|PRIVATE[_-]?KEY|ACCESS[_-]?KEY|CREDENTIALS?)[A-Za-z0-9_.\-]*"
# NAME=value, NAME: value, "NAME": "value", NAME = 'value' (env files, YAML, JSON, TOML, code).
_ASSIGNMENT = re.compile(
    rf"(?i)(\b{_SECRET_NAME}(['\"]?)\s*(?:=|:)\s*)(['\"]?)([^\s'\",;]{{4,}})",
)
_CODE_LIKE = re.compile(
    r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+|"  # settings.api_key, os.environ
    r"(?:none|null|nil|true|false|undefined|required|optional|string|str|bytes|int|secret|token|password|\*+|x+)"
)


def _env_secrets() -> list[str]:
    names = ("API_KEY", "SECRET", "TOKEN", "PASSWORD")
    return sorted(
        (v for k, v in os.environ.items() if any(n in k.upper() for n in names) and len(v) >= 8),
        key=len,
        reverse=True,
    )


def _assignment(match: re.Match[str]) -> str:
    value = match.group(4)
    if (
        value[0] in "$({<%[`"
        or any(c in value for c in "()[]")
        or _CODE_LIKE.fullmatch(value.casefold() if value.isalpha() else value)
    ):
        return match.group(0)
    return f"{match.group(1)}{match.group(3)}{REDACTED}"


def redact(text: str) -> str:
    """`text` with API keys, tokens, private keys, URL passwords and KEY=value secrets replaced by [REDACTED]."""
    if not text:
        return text
    for secret in _env_secrets():
        text = text.replace(secret, REDACTED)
    for pattern in _TOKENS:
        text = pattern.sub(REDACTED, text)
    for pattern in _PREFIXED:
        text = pattern.sub(lambda m: f"{m.group(1)}{REDACTED}", text)
    return _ASSIGNMENT.sub(_assignment, text)


def redact_obj(obj: Any) -> Any:
    """Deep copy of a JSON-like object with every string redacted."""
    if isinstance(obj, str):
        return redact(obj)
    if isinstance(obj, dict):
        return {k: redact_obj(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [redact_obj(v) for v in obj]
    return obj
