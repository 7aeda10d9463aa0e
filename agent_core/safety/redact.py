"""Secrets never reach a trace, a session, memory or a benchmark result."""

from __future__ import annotations

import os
import re
from typing import Any

REDACTED = "[REDACTED]"

_PATTERNS = [
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S),
    re.compile(r"\b(sk-(?:ant-|proj-)?[A-Za-z0-9_\-]{16,})"),
    re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{20,})"),
    re.compile(r"\b(xox[abprs]-[A-Za-z0-9\-]{10,})"),
    re.compile(r"\b(AKIA[0-9A-Z]{16})\b"),
    re.compile(r"\b(AIza[0-9A-Za-z_\-]{30,})"),
    re.compile(r"(?i)(bearer\s+)([A-Za-z0-9_\-\.=]{16,})"),
    re.compile(
        r"(?im)\b([A-Z0-9_]*(?:API_KEY|SECRET|TOKEN|PASSWORD|PASSWD|PRIVATE_KEY)[A-Z0-9_]*\s*[=:]\s*)"
        r"(['\"]?)([^\s'\"]{4,})"
    ),
]


def _env_secrets() -> list[str]:
    names = ("API_KEY", "SECRET", "TOKEN", "PASSWORD")
    return [v for k, v in os.environ.items() if any(n in k.upper() for n in names) and len(v) >= 8]


def redact(text: str) -> str:
    """`text` with API keys, tokens, private keys and KEY=value secrets replaced by [REDACTED]."""
    if not text:
        return text
    for secret in _env_secrets():
        text = text.replace(secret, REDACTED)
    for pattern in _PATTERNS:
        if pattern.groups >= 3:
            text = pattern.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
        elif pattern.groups == 2:
            text = pattern.sub(lambda m: f"{m.group(1)}{REDACTED}", text)
        else:
            text = pattern.sub(REDACTED, text)
    return text


def redact_obj(obj: Any) -> Any:
    """Deep copy of a JSON-like object with every string redacted."""
    if isinstance(obj, str):
        return redact(obj)
    if isinstance(obj, dict):
        return {k: redact_obj(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [redact_obj(v) for v in obj]
    return obj
