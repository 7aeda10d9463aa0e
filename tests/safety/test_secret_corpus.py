"""Redaction on a corpus of real secret formats, and on every file the agent persists.

Each case: text as it appears in the wild, and the fragments of the secret that must not survive it (none
of them, not a prefix nor a tail). The values are made up, in the real formats.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from agent_core.bench.report import BenchReport, save_report
from agent_core.memory.notes import add_note
from agent_core.memory.sessions import save_session
from agent_core.observe.trace import TraceWriter
from agent_core.safety.redact import REDACTED, redact, redact_obj, redact_tree

_PEM_LINES = [
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj",
    "MdeNxa5ws2ZG4JrW0ncS1RiYgXyHd4IC9/l9f5CYEnbUoJxkLlTrmLUzqXrzbYqs",
    "Fh3TkVxqJVLsgYXg5XsRjI0RWt8cVXAR3u6FTPKxpOt6i0lSxJ2R4T2fN2VmvEXo",
    "q1dZLbZ0ZcyJ6z7H8yqNNRLQ8ItbexAmple0nLyW7S1MtNxGZiA4IJcp6wIDAQAB",
]
_PEM = "-----BEGIN PRIVATE KEY-----\n" + "\n".join(_PEM_LINES) + "\n-----END PRIVATE KEY-----"
_RAILS = (
    "9f3a6c0be2d84f1aa5c7e93b1d0f6e4c8b2a7d5e1f9c3b6a0d8e2f4c7a1b5d9e3f6c0a8b2d4e7f1c5a9b3d6e0f8c2a4b7d1e5f9"
)

CORPUS: dict[str, tuple[str, list[str]]] = {
    "password with spaces, quoted": (
        'PASSWORD="correct horse battery staple"',
        ["correct", "horse", "battery", "staple"],
    ),
    "password with spaces, YAML": (
        "db:\n  password: correct horse battery staple\n",
        ["correct", "horse", "staple"],
    ),
    "password with spaces, INI": ("[db]\npassword = correct horse battery staple\n", ["horse", "staple"]),
    "dollar and parens": ("DB_PASSWORD=$uperSecret(1)", ["uperSecret", "(1)"]),
    "dollar and parens, quoted": ("export DB_PASS='$uperSecret(1)'", ["uperSecret"]),
    "parens and ampersand": ("password: (Tr0ub4dor&3)", ["Tr0ub4dor", "&3"]),
    "parens and ampersand, JSON": ('{"password": "(Tr0ub4dor&3)", "user": "bob"}', ["Tr0ub4dor"]),
    "Django SECRET_KEY": (
        "SECRET_KEY = 'django-insecure-7#x!b@k$2^v&q*(9)_zl+w=3%e0t-u8r'",
        ["django-insecure", "7#x!b@k", "zl+w=3%e0t"],
    ),
    "Django SECRET_KEY, double quotes": (
        'SECRET_KEY = "k3&l*9#mq^x$z!2@v(b)n+w=0%-u_r8"\nDEBUG = False',
        ["k3&l*9#mq", "v(b)n+w"],
    ),
    "Rails secret_key_base, YAML": (
        f"production:\n  secret_key_base: {_RAILS}\n",
        [_RAILS[:24], _RAILS[-24:]],
    ),
    "Rails secret_key_base, Ruby": (f'config.secret_key_base = "{_RAILS}"', [_RAILS[:24]]),
    "Rails secret_key_base, env": (f"SECRET_KEY_BASE={_RAILS}", [_RAILS[:24]]),
    "redis URL, password only": (
        "REDIS_URL=redis://:s3cr3t-redis-pw@cache.internal:6379/0",
        ["s3cr3t-redis-pw"],
    ),
    "redis URL, in prose": ("connect to redis://:Rp4ss!word@10.0.0.5:6379 now", ["Rp4ss!word"]),
    "postgres URL": ("postgres://u:p@h/db", ["u:p@"]),
    "postgres URL, @ in password": (
        "DATABASE_URL=postgres://app:P@ss:w0rd/x@db.internal:5432/app",
        ["P@ss", "w0rd/x"],
    ),
    "mongodb+srv URL": ("mongodb+srv://admin:Mng0-Pw_42@cluster0.abcde.mongodb.net/test", ["Mng0-Pw_42"]),
    "netrc, one line": ("machine api.example.com login alice password n3tRc-S3cret!", ["n3tRc-S3cret!"]),
    "netrc, multi-line": (
        "machine github.com\n  login alice\n  password ghNetrcPw-7781\n",
        ["ghNetrcPw-7781"],
    ),
    "PEM": (_PEM, [_PEM_LINES[0][:20], _PEM_LINES[2][:20], _PEM_LINES[3][-20:]]),
    "PEM cut before its end": ("\n".join(_PEM.splitlines()[:3]), [_PEM_LINES[0][:20], _PEM_LINES[1][:20]]),
    "PEM body without its header": (
        "\n".join(_PEM_LINES[1:]) + "\n",
        [_PEM_LINES[1][:20], _PEM_LINES[2][:20]],
    ),
    "PEM in a JSON string": (json.dumps({"key": _PEM}), [_PEM_LINES[0][:20], _PEM_LINES[3][:20]]),
    "PEM in an env var": (f'PRIVATE_KEY_PEM="{_PEM}"', [_PEM_LINES[1][:20]]),
    "GitHub token": ("GH_PAT=ghp_R4nd0mT0k3nV4lu3F0rT3st1ng000001", ["ghp_R4nd0m", "T3st1ng000001"]),
    "OpenAI key": ("OPENAI_KEY=sk-proj-Zx81kLmN0pQrStUvWxYz12345678", ["Zx81kLmN0p", "12345678"]),
    "OpenAI key, bare": ("the key is sk-Zx81kLmN0pQrStUvWxYz123 ok", ["Zx81kLmN0p"]),
    "Slack bot token": ("xoxb-2048-1111222233-AbCdEfGhIjKlMnOp", ["AbCdEfGhIjKl", "1111222233"]),
    "AWS key pair": (
        "aws_access_key_id = AKIAZ7EXAMPLEKEYID12\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG+bPxRfiCYzEXAMPLE",
        ["AKIAZ7EXAMPLE", "wJalrXUtnFEMI"],
    ),
    "bearer header": ("curl -H 'Authorization: Bearer abcDEF123456ghiJKL789mno'", ["abcDEF123456"]),
    "plain .env": (
        "DB_PASS=hunter2hunter2\nGH_PAT=pat-value-0042\nAPI_TOKEN=tok_live_9988",
        ["hunter2", "pat-value", "9988"],
    ),
}


@pytest.mark.parametrize("name", list(CORPUS))
def test_nothing_of_the_secret_survives(name: str) -> None:
    text, fragments = CORPUS[name]
    out = redact(text)
    for fragment in fragments:
        assert fragment not in out, (name, fragment, out)
    assert REDACTED in out
    assert redact(out) == out  # idempotent: a second pass changes nothing


def test_the_quoted_password_goes_whole() -> None:
    assert redact('PASSWORD="correct horse battery staple"') == f'PASSWORD="{REDACTED}"'


def test_a_secret_keyed_json_value_goes_whole() -> None:
    out = redact_obj(
        {"password": "correct horse battery staple", "n": 3, "items": [{"api_token": "a b c d"}]}
    )
    assert out == {"password": REDACTED, "n": 3, "items": [{"api_token": REDACTED}]}


KEPT = [
    'API_KEY = os.environ["API_KEY"]',
    "password = os.environ.get('DB_PASSWORD')",
    "token = settings.api_token",
    "password: ${DB_PASSWORD}",
    "SECRET_KEY = get_secret()",
    "client = OpenAI(api_key=api_key)",
    "def check_password(password: str) -> bool:",
    "api_key=None",
    "The token limit is 4096.",
    "prompt_tokens: 1234",
    "sort_key=lambda x: x[0]",
    "password = input('Password: ')",
    "PASSWORD=$DB_PASSWORD",
    "git clone git@github.com:org/repo.git",
    "see https://example.com/docs?page=2",
]


@pytest.mark.parametrize("text", KEPT)
def test_code_that_names_secrets_stays_readable(text: str) -> None:
    assert redact(text) == text


# --- every persisted file ---------------------------------------------------------------------------------

_LEAKS = ["correct horse battery staple", "Tr0ub4dor", "uperSecret", "s3cr3t-redis-pw", "n3tRc-S3cret!"]
_LEAKY_TEXT = (
    'PASSWORD="correct horse battery staple"\npassword: (Tr0ub4dor&3)\nDB_PASSWORD=$uperSecret(1)\n'
    "REDIS_URL=redis://:s3cr3t-redis-pw@cache:6379\nmachine h login a password n3tRc-S3cret!\n"
)


def _assert_clean(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for leak in _LEAKS:
        assert leak not in text, (path, leak)


def _private(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) == 0o600


def test_traces_are_redacted_and_private(tmp_path: Path) -> None:
    writer = TraceWriter(tmp_path)
    writer.write(
        "tool_end", name="bash", output=_LEAKY_TEXT, args={"password": "correct horse battery staple"}
    )
    _assert_clean(writer.path)
    assert _private(writer.path)
    assert stat.S_IMODE(writer.path.parent.stat().st_mode) == 0o700


def test_sessions_are_redacted_and_private(tmp_path: Path) -> None:
    path = save_session(tmp_path, "s1", [{"role": "tool", "content": _LEAKY_TEXT}], {"task": "x"})
    _assert_clean(path)
    assert _private(path)


def test_memory_is_redacted_and_private(tmp_path: Path) -> None:
    add_note(tmp_path, _LEAKY_TEXT)
    path = tmp_path / ".smallcode" / "memory.json"
    _assert_clean(path)
    assert _private(path)


def test_benchmark_reports_are_redacted(tmp_path: Path) -> None:
    report = BenchReport(suite="tasks", cases=[{"task": "t", "failures": _LEAKY_TEXT}], text=_LEAKY_TEXT)
    path = save_report(report, tmp_path, extra={"run": {"note": _LEAKY_TEXT}})
    _assert_clean(path)
    assert json.loads(path.read_text())["cases"][0]["task"] == "t"


def test_kept_benchmark_workspaces_are_redacted_in_place(tmp_path: Path) -> None:
    keep = tmp_path / "keep"
    (keep / "src").mkdir(parents=True)
    (keep / ".env").write_text(_LEAKY_TEXT)
    (keep / "src" / "settings.py").write_text(
        "SECRET_KEY = 'django-insecure-7#x!b@k$2^v&q*(9)'\nDEBUG = True\n"
    )
    (keep / "src" / "app.py").write_text("print('no secrets here')\n")
    (keep / "blob.bin").write_bytes(b"\xff\xfe" + _LEAKY_TEXT.encode())  # not text: left alone
    outside = tmp_path / "outside.txt"
    outside.write_text(_LEAKY_TEXT)
    (keep / "link.txt").symlink_to(outside)  # never followed
    changed = redact_tree(keep)
    assert sorted(p.name for p in changed) == [".env", "settings.py"]
    _assert_clean(keep / ".env")
    assert "django-insecure" not in (keep / "src" / "settings.py").read_text()
    assert "DEBUG = True" in (keep / "src" / "settings.py").read_text()
    assert (keep / "src" / "app.py").read_text() == "print('no secrets here')\n"
    assert outside.read_text() == _LEAKY_TEXT


def test_the_kept_benchmark_workspace_is_redacted_by_the_tasks_suite() -> None:
    import inspect

    from agent_core.bench import tasks_suite

    source = inspect.getsource(tasks_suite.run_case)
    assert source.index("redact_tree(keep)") > source.index("shutil.copytree(")
