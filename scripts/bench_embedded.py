"""Measure the embedded models on this machine: load time, prompt and generation tokens/s, peak memory, and the
time the agent takes for "create hello.py that prints hello world" end to end.

    python scripts/bench_embedded.py                       # every embedded model that is installed
    python scripts/bench_embedded.py --models qwen2.5-coder-0.5b --json
    python scripts/bench_embedded.py --record tests/e2e/recorded   # also save real replies to tool requests

Models are joined into SMALLCODE_MODELS_DIR (or the user cache) on first use. Status goes to stderr, results to
stdout. Prompt speed comes from a 1-token completion of a fresh (uncached) prompt; generation speed from the
pieces of a streamed answer (one token each) between the first and the last; best of 3, since other work on the machine only slows a run down. Peak memory is the server's VmHWM.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from agent_core.config import Settings
from agent_core.llm.embedded import EmbeddedServer, group_members, thread_count
from agent_core.llm.models import CATALOGUE, find_parts, models_dir, present_path

TASK = "create hello.py that prints hello world"
_LONG_PROMPT = (
    "Review this Python module and list its problems.\n\n```python\n"
    + "\n".join(f"def f{i}(x):\n    y = x * {i}\n    return y + {i}  # step {i}\n" for i in range(30))
    + "```"
)


def status(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def installed_models(settings: Settings) -> list[str]:
    directory = models_dir(settings)
    return [m.name for m in CATALOGUE.values() if present_path(m, directory) or not find_parts(m)[1]]


def peak_rss(pgid: int) -> int:
    """Sum of the peak resident set (VmHWM) of the live processes in the server's process group, bytes."""
    total = 0
    for pid in group_members(pgid):
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


async def complete(
    http: httpx.AsyncClient, base_url: str, model: str, prompt: str, max_tokens: int
) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    response = await http.post(
        f"{base_url}/chat/completions",
        json={
            "model": model,
            "messages": [{"role": "user", "content": prompt}],
            "temperature": 0,
            "max_tokens": max_tokens,
        },
    )
    response.raise_for_status()
    return time.perf_counter() - started, response.json()


async def stream_rate(
    http: httpx.AsyncClient, base_url: str, model: str, prompt: str, max_tokens: int
) -> float:
    """Generation tokens/s: streamed pieces (one token each here) between the first and the last."""
    body = {"model": model, "messages": [{"role": "user", "content": prompt}], "temperature": 0,
            "max_tokens": max_tokens, "stream": True}  # fmt: skip
    stamps: list[float] = []
    async with http.stream("POST", f"{base_url}/chat/completions", json=body) as response:
        async for line in response.aiter_lines():
            if line.startswith("data: {") and json.loads(line[6:])["choices"][0]["delta"].get("content"):
                stamps.append(time.perf_counter())
    return (len(stamps) - 1) / (stamps[-1] - stamps[0]) if len(stamps) > 1 else 0.0


async def speeds(base_url: str, model: str, repeat: int = 3) -> tuple[float, float]:
    """Best of `repeat` (prompt tok/s, generation tok/s): other load on the machine only ever slows a run."""
    best_prompt = best_gen = 0.0
    async with httpx.AsyncClient(timeout=600, trust_env=False) as http:
        await complete(http, base_url, model, "Say OK.", 2)  # warm-up
        for _ in range(repeat):
            # A nonce up front so no earlier prompt's cache is reused.
            seconds, body = await complete(http, base_url, model, f"[{uuid.uuid4()}] {_LONG_PROMPT}", 1)
            prompt_rate = body["usage"]["prompt_tokens"] / seconds
            gen_prompt = (
                f"[{uuid.uuid4()}] Write a long Python module implementing a linked list with many methods."
            )
            best_prompt = max(best_prompt, prompt_rate)
            best_gen = max(best_gen, await stream_rate(http, base_url, model, gen_prompt, 128))
    return best_prompt, best_gen


async def agent_hello(base_url: str, model: str) -> dict[str, Any]:
    from agent_core import SmallCode

    with tempfile.TemporaryDirectory(prefix="smallcode-bench-") as tmp:
        started = time.perf_counter()
        async with SmallCode(model=model, base_url=base_url, cwd=tmp, temperature=0.0, trace=False) as agent:
            result = await agent.run(TASK)
        seconds = time.perf_counter() - started
        hello = Path(tmp) / "hello.py"
        works = False
        if hello.is_file():
            out = subprocess.run([sys.executable, str(hello)], capture_output=True, text=True, timeout=30)
            works = "hello world" in re.sub(r"[^a-z ]+", "", out.stdout.lower())  # "Hello, World!" counts
        return {"seconds": round(seconds, 1), "success": result.success, "hello_py_works": works,
                "turns": result.turns, "tool_calls": [c.name for c in result.tool_calls],
                "response": result.response[:300]}  # fmt: skip


# --- real replies to tool requests, for the parser's golden corpus --------------------------------------
SYSTEM = (
    "You are a coding agent working in a repository. Act by calling one of the tools; call exactly one tool."
)
CALC = "def add(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a * b\n"
CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "write_file": (
        "Create a file greet.py with a function greet(name) that returns 'Hello, ' + name.",
        {"name": "write_file", "arguments": {}, "contains": {"path": "greet.py", "content": "def greet"}},
    ),
    "read_file": (
        "What settings are in config.json? Read the file.",
        {"name": "read_file", "arguments": {}, "contains": {"path": "config.json"}},
    ),
    "bash": (
        "Run the tests with the command `python -m pytest -q`.",
        {"name": "bash", "arguments": {}, "contains": {"command": "pytest"}},
    ),
    "patch": (
        f"calc.py contains:\n```python\n{CALC}```\nadd() subtracts instead of adding. "
        "Fix that one line with the patch tool.",
        {
            "name": "patch",
            "arguments": {},
            "contains": {"path": "calc.py", "search": "a - b", "replace": "a + b"},
        },
    ),
    "find_files": (
        "List all the Python test files in the project (names like test_*.py).",
        {"name": "find_files", "arguments": {}, "contains": {"pattern": "test_"}},
    ),
}


def _matches(reply: str, tools: list[dict[str, Any]], expected: dict[str, Any]) -> bool:
    """Whether the reply (as the parser reads it today) holds the expected call; reviewed by hand after recording."""
    from agent_core.parsing import parse_tool_calls

    calls = parse_tool_calls(reply, tools)
    if not calls or calls[0].name != expected["name"]:
        return False
    args = calls[0].arguments
    # "contains" is checked on the string value: a path may come back absolute (inside the workspace).
    return all(args.get(k) == v for k, v in expected["arguments"].items()) and all(
        isinstance(args.get(k), str) and v in args[k] for k, v in expected["contains"].items()
    )


def _systems(model: str) -> list[tuple[str, str]]:
    """A bare one-line system prompt, and the agent's real one (tools + format instructions) when it builds."""
    out = [("bare", SYSTEM)]
    try:
        from agent_core import SmallCode

        with tempfile.TemporaryDirectory(prefix="smallcode-record-") as tmp:
            out.append(
                (
                    "agent",
                    SmallCode(model=model, base_url="http://127.0.0.1:1/v1", cwd=tmp).build_system_prompt(),
                )
            )
    except Exception as exc:  # the agent is optional here: record what we can
        status(f"agent system prompt unavailable ({exc}); recording with the bare one only")
    return out


async def record_replies(base_url: str, model: str, directory: Path) -> list[str]:
    """Ask each CASES request once (temperature 0, the GGUF's own chat template) and save the raw reply."""
    import llama_cpp

    from agent_core.tools import ToolRegistry, default_tools

    tools = ToolRegistry(default_tools()).schemas()
    directory.mkdir(parents=True, exist_ok=True)
    saved = []
    async with httpx.AsyncClient(timeout=600, trust_env=False) as http:
        for (case, (prompt, expected)), (variant, system) in itertools.product(
            CASES.items(), _systems(model)
        ):
            messages = [{"role": "system", "content": system}, {"role": "user", "content": prompt}]
            body = {"model": model, "messages": messages, "tools": tools, "temperature": 0, "max_tokens": 512}
            response = await http.post(f"{base_url}/chat/completions", json=body)
            response.raise_for_status()
            message = response.json()["choices"][0]["message"]
            reply = message.get("content") or ""
            record = {
                "model": model,
                "engine": f"llama-cpp-python {llama_cpp.__version__}, GGUF chat template, temperature 0",
                "messages": messages,
                "tools": tools,
                "reply": reply,
                "native_tool_calls": message.get("tool_calls") or [],
                "expected": expected,
                "reply_has_expected_call": _matches(reply, tools, expected),
                "note": "expected: the call the task asks for; reply_has_expected_call: whether the reply holds it",
            }
            path = directory / f"{model}-{case}-{variant}.json"
            path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
            saved.append(str(path))
            status(f"recorded {path}")
    return saved


async def bench_model(name: str, settings: Settings, with_agent: bool, record: Path | None) -> dict[str, Any]:
    cfg = settings.model_copy(update={"embedded_model": name, "gguf": None})
    server = EmbeddedServer(cfg, on_status=status)
    base_url, model = await server.start()
    try:
        assert server.pid is not None
        prompt_rate, gen_rate = await speeds(base_url, model)
        row: dict[str, Any] = {
            "model": name,
            "load_s": round(server.load_seconds or 0.0, 2),
            "prompt_tok_s": round(prompt_rate, 1),
            "gen_tok_s": round(gen_rate, 1),
        }
        if with_agent:
            try:
                row["hello"] = await agent_hello(base_url, model)
            except ImportError as exc:
                row["hello"] = {"error": f"agent not importable: {exc}"}
        if record is not None:
            row["recorded"] = await record_replies(base_url, model, record)
        row["peak_rss_mb"] = round(peak_rss(server.pid) / 1e6)
        return row
    finally:
        await server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--models", nargs="*", help=f"default: every installed one of {', '.join(CATALOGUE)}")
    parser.add_argument(
        "--models-dir", help="where joined models are kept (default: SMALLCODE_MODELS_DIR or cache)"
    )
    parser.add_argument("--no-agent", action="store_true", help="skip the end-to-end agent run")
    parser.add_argument(
        "--record", type=Path, help="save real replies to tool requests as JSON into this directory"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON list")
    args = parser.parse_args()
    settings = Settings(models_dir=args.models_dir) if args.models_dir else Settings()
    names = args.models or installed_models(settings)
    unknown = [n for n in names if n not in CATALOGUE]
    if unknown or not names:
        status(f"bench_embedded: nothing to measure (unknown: {unknown}); run `smallcode models pull NAME`")
        return 2
    rows = []
    for name in names:
        rows.append(asyncio.run(bench_model(name, settings, not args.no_agent, args.record)))
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(
        f"machine: {os.cpu_count()} cores, {thread_count()} threads used, load average {os.getloadavg()[0]:.2f}"
    )
    print("| model | load | prompt tok/s | gen tok/s | peak RSS | hello.py end to end |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        hello = r.get("hello", {})
        e2e = (
            "skipped"
            if not hello
            else hello.get("error")
            or (
                f"{hello['seconds']} s, hello.py {'works' if hello['hello_py_works'] else 'wrong or missing'}, "
                f"run {'succeeded' if hello['success'] else 'failed'} ({hello['turns']} turns)"
            )
        )
        print(
            f"| {r['model']} | {r['load_s']} s | {r['prompt_tok_s']} | {r['gen_tok_s']} | {r['peak_rss_mb']} MB | {e2e} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
