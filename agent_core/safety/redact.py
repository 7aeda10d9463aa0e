"""Secrets never reach a trace, a session, memory or a benchmark result (or a cloud model's context).

`redact(text)` replaces secrets with [REDACTED], found two ways:
- by value shape: API keys and tokens of known formats (sk-, ghp_, xoxb-, AKIA…), private keys (a PEM block,
  or its base64 body alone, also with `\\n` escapes), credentials in URLs (`redis://:pw@host`,
  `postgres://u:p@h`), Authorization headers, the values of secret-named environment variables;
- by key name: `NAME=value`, `NAME: value`, `"NAME": "value"`, `NAME => value` where NAME says secret
  (password, passwd, pass, secret, token, api key, private key, credentials, auth …), and `.netrc`
  `password` entries. A quoted value goes whole (`PASSWORD="correct horse battery staple"`), punctuation
  and all; an unquoted one up to the next space.
Values that are code rather than a secret (`API_KEY = os.environ["X"]`, `token: ${TOKEN}`, `password: str`,
`api_key=api_key`) are kept, so redacted source stays readable.

`redact_tree(folder)` redacts the text files of a copied workspace in place (benchmark keepsakes).
"""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path
from typing import Any

REDACTED = "[REDACTED]"

# Whole-match patterns: the match is the secret.
_TOKENS = [
    re.compile(
        r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\Z)",
        re.S,
    ),
    re.compile(r"\bsk-(?:ant-|proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{16,}"),  # OpenAI, Anthropic
    re.compile(r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}"),  # Stripe keys
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}"),  # GitHub tokens
    re.compile(r"\bgithub_pat_[A-Za-z0-9_]{40,}"),  # GitHub fine-grained tokens
    re.compile(r"\bglpat-[A-Za-z0-9_\-]{20,}"),  # GitLab
    re.compile(r"\bxox[abprse]-[A-Za-z0-9\-]{10,}"),  # Slack
    re.compile(r"\bxapp-[0-9]-[A-Za-z0-9\-]{10,}"),  # Slack app-level tokens
    re.compile(r"https://hooks\.slack\.com/services/[A-Za-z0-9/]+"),
    re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[0-9A-Z]{16}\b"),  # AWS key ids
    re.compile(r"\bAIza[0-9A-Za-z_\-]{30,}"),  # Google API keys
    re.compile(r"\bya29\.[0-9A-Za-z_\-]{20,}"),  # Google OAuth access tokens
    re.compile(r"\bhf_[A-Za-z0-9]{30,}"),  # Hugging Face
    re.compile(r"\bnpm_[A-Za-z0-9]{36}\b"),  # npm
    re.compile(r"\bpypi-[A-Za-z0-9_\-]{50,}"),  # PyPI upload tokens
    re.compile(r"\bSG\.[A-Za-z0-9_\-]{16,}\.[A-Za-z0-9_\-]{16,}"),  # SendGrid
    re.compile(r"\bdop_v1_[a-f0-9]{64}\b"),  # DigitalOcean
    re.compile(r"\bshp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}\b"),  # Shopify
    re.compile(r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"),  # JWTs
    re.compile(r"(?i)\b(?:AccountKey|SharedAccessKey)=[A-Za-z0-9+/=]{20,}"),  # Azure connection strings
    # A private key's base64 body without its header (a PEM cut by head/tail/sed, or split across messages):
    # two or more full 64-character lines, by newlines or by `\n` escapes.
    re.compile(
        r"(?:(?<![A-Za-z0-9+/])|(?<=\\n))(?:[A-Za-z0-9+/]{64}(?:\r?\n|\\n)){2,}[A-Za-z0-9+/]{0,64}={0,2}"
    ),
]

# Prefix patterns: group 1 is kept, the rest of the match is the secret.
_PREFIXED = [
    re.compile(r"(?i)(\b(?:bearer|basic|token)\s+)[A-Za-z0-9_\-\.=+/]{16,}"),  # Authorization headers
    # scheme://user:PASSWORD@host and scheme://:PASSWORD@host; a password may hold `@` and `/` (up to the last @)
    re.compile(r"(?i)(\b[a-z][a-z0-9+.\-]*://[^\s:/@'\"<>]*:)[^\s'\"<>]*(?=@[^\s@'\"<>]*(?:[\s'\"<>]|$))"),
    # .netrc: `machine HOST login USER password SECRET`, or `password SECRET` on a line of its own
    re.compile(r"(?i)(\bmachine\s+\S+(?:\s+login\s+\S+)?\s+password\s+)\S+"),
    re.compile(r"(?im)(^[ \t]*(?:password|passwd|account)[ \t]+)(?![=:])\S+(?=[ \t]*$)"),
]

_SECRET_WORD = (
    r"(?:API[_-]?KEY|APIKEY|SECRET|TOKEN|PASSWORD|PASSWD|PASSPHRASE|PRIVATE[_-]?KEY|ACCESS[_-]?KEY|"
    r"CREDENTIALS?|(?<![A-Za-z])PASS(?![A-Za-z])|(?<![A-Za-z])PAT(?![A-Za-z])|(?<![A-Za-z])AUTH(?![A-Za-z])|"
    r"(?<=[_-])PWD(?![A-Za-z])|(?-i:(?<=[_-])KEY(?![A-Za-z])))"  # OPENAI_KEY, SERVICE_KEY; not sort_key
)
_SECRET_NAME = rf"[A-Za-z0-9_.\-]*{_SECRET_WORD}[A-Za-z0-9_.\-]*"
# NAME=value, NAME: value, "NAME": "value", NAME = 'value', NAME => value (env, YAML, JSON, TOML, code).
_ASSIGNMENT = re.compile(
    rf"(?im)(?P<head>\b(?P<name>{_SECRET_NAME})(?P<nq>['\"]?)[ \t]*(?:=>|=|:)[ \t]*)"
    r"(?:(?P<quote>['\"])(?P<quoted>(?:\\.|(?!(?P=quote))[^\n\\])*)(?P<close>(?P=quote)|$)"
    r"|(?P<bare>[^\s'\",;]+))"
)
_CODE_WORDS = {
    "none", "null", "nil", "true", "false", "undefined", "required", "optional", "string", "str", "bytes",
    "int", "secret", "token", "password", "bool", "any", "object", "text", "redacted", "[redacted]",
}  # fmt: skip
_PLACEHOLDER = re.compile(
    r"\$\{[^}]*\}|\$[A-Z_][A-Z0-9_]*|\{\{.*\}\}|<[^<>]*>|%\(\w+\)s|%[A-Z_]+%|\*+|x+|X+|\.\.\.|…|"
    r"\[REDACTED\]"
)
_CALL_OR_ATTRIBUTE = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*\s*[.(\[]|[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+$")
_ENV_NAME = re.compile(
    r"(?i)API_?KEY|SECRET|TOKEN|PASS(?!AGE)|(?<![A-Z])PAT(?![A-Z])|PRIVATE|CREDENTIAL|(?<![A-Z])AUTH(?!ORITY|_SOCK)"
)
# A whole line `NAME: value with spaces` / `NAME = value` (YAML, INI, shell): the value runs to the line's end.
_LINE_ASSIGNMENT = re.compile(
    rf"(?im)^(?P<head>[ \t]*(?:-[ \t]+)?(?:export[ \t]+)?(?P<name>{_SECRET_NAME})[ \t]*[:=][ \t]*)"
    r"(?P<value>[^'\"\s#\[{|>&][^\n]*?)(?P<tail>[ \t]+#[^\n]*)?[ \t]*$"
)


def _env_secrets() -> list[str]:
    return sorted(
        (v for k, v in os.environ.items() if _ENV_NAME.search(k) and len(v) >= 8 and v.strip() == v),
        key=len,
        reverse=True,
    )


def _is_code(name: str, value: str, quoted: bool) -> bool:
    """Whether an assigned value is code or a placeholder (kept) rather than a secret."""
    text = value.strip()
    if not text or _PLACEHOLDER.fullmatch(text) or text.casefold() in _CODE_WORDS:
        return True
    if re.fullmatch(r"[\d.,%+\-/]+", text):
        return True  # counts and rates (tokens: 1234, pass: 3/5), not secrets
    if quoted:
        return False
    if _CALL_OR_ATTRIBUTE.match(text):
        return True  # os.environ["X"], get_secret(), settings.api_token
    # a variable passed on (api_key=api_key, password=db_password), not a literal
    return re.fullmatch(r"[a-z_][a-z0-9_]*", text) is not None and (
        text == name.casefold() or ("_" in text and re.search(_SECRET_WORD, text, re.I) is not None)
    )


_SOURCE_FILE = re.compile(
    r"(?i)\.(?:py|pyi|js|jsx|ts|tsx|md|rst|txt|json|jsonl|toml|ya?ml|go|rs|java|rb|c|h|cc|cpp|sh|lua|html|css|cfg|ini)$"
)
"""`tokenizer.py: line 3`, `test_token.py:12`: a file name before the colon, not a setting."""


def _assignment(match: re.Match[str]) -> str:
    name = match.group("name")
    if _SOURCE_FILE.search(name):
        return match.group(0)
    if match.group("quote") is not None:
        value = match.group("quoted")
        if len(value.strip()) < 3 or _is_code(name, value, quoted=True):  # input('Password: ')
            return match.group(0)
        return f"{match.group('head')}{match.group('quote')}{REDACTED}{match.group('close')}"
    value = match.group("bare")
    tail = ""
    while (
        value
        and value[-1] in ")]}"
        and value.count(value[-1]) > value.count({")": "(", "]": "[", "}": "{"}[value[-1]])
    ):
        value, tail = value[:-1], value[-1] + tail  # a closer that belongs to the code around it
    if len(value) < 3 or _is_code(name, value, quoted=False):
        return match.group(0)
    return f"{match.group('head')}{REDACTED}{tail}"


def _line_assignment(match: re.Match[str]) -> str:
    name, value = match.group("name"), match.group("value")
    if _SOURCE_FILE.search(name):
        return match.group(0)
    first = value.split()[0] if value.split() else value
    if (
        " " not in value.strip()
        or _is_code(name, first.rstrip(",;"), quoted=False)
        or _is_code(name, value, quoted=False)
    ):
        return match.group(0)  # one word: left to the general rule, which knows code from secrets
    return f"{match.group('head')}{REDACTED}{match.group('tail') or ''}"


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
    text = _LINE_ASSIGNMENT.sub(_line_assignment, text)
    return _ASSIGNMENT.sub(_assignment, text)


def redact_obj(obj: Any) -> Any:
    """Deep copy of a JSON-like object with every string redacted (keys that are secrets included)."""
    if isinstance(obj, str):
        return redact(obj)
    if isinstance(obj, dict):
        out: dict[Any, Any] = {}
        for key, value in obj.items():
            secret_name = isinstance(key, str) and re.fullmatch(_SECRET_NAME, key, re.I) is not None
            if secret_name and isinstance(value, str) and not _is_code(key, value, quoted=True):
                out[key] = REDACTED  # {"password": "correct horse battery staple"}
            else:
                out[key] = redact_obj(value)
        return out
    if isinstance(obj, list | tuple):
        return [redact_obj(v) for v in obj]
    return obj


MAX_TREE_FILE = 2_000_000
"""Bytes: larger files in a copied tree are left as they are (logs, data; not where secrets live)."""


def redact_tree(top: Path) -> list[Path]:
    """Redact every text file under `top` in place (no symlink followed); the files it changed."""
    changed: list[Path] = []
    for dirpath, _dirnames, filenames in os.walk(top, followlinks=False):
        for name in filenames:
            path = Path(dirpath) / name
            try:
                st = path.lstat()
                if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_TREE_FILE:
                    continue
                text = path.read_bytes().decode("utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            clean = _redact_file_text(name, text)
            if clean != text:
                fd = os.open(path, os.O_WRONLY | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC)
                with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
                    handle.write(clean)
                changed.append(path)
    return changed


def _redact_file_text(name: str, text: str) -> str:
    """A file's text redacted; JSON (a report) and JSON lines (a trace) value by value, so they stay JSON —
    redacted as text, the escaped form `tokenizer.py:\\n```python` read as `NAME: value` and cut a trace's
    line in two (the task bench's kept workspaces)."""
    if name.endswith(".jsonl"):
        return "".join(_redact_json_line(line) for line in text.splitlines(keepends=True))
    if name.endswith(".json"):
        try:
            data = json.loads(text)
        except ValueError:
            return redact(text)
        clean = redact_obj(data)
        return text if clean == data else json.dumps(clean, indent=2, ensure_ascii=False) + "\n"
    return redact(text)


def _redact_json_line(line: str) -> str:
    body = line.rstrip("\r\n")
    try:
        data = json.loads(body)
    except ValueError:
        return redact(line)
    clean = redact_obj(data)
    return line if clean == data else json.dumps(clean, ensure_ascii=False) + line[len(body) :]
