"""Measure the embedded models on this machine: load time, prompt and generation tokens/s, peak memory, and the
time the agent takes for "create hello.py that prints hello world" end to end.

    python scripts/bench_embedded.py                       # every embedded model that is installed
    python scripts/bench_embedded.py --models qwen2.5-coder-0.5b --json
    python scripts/bench_embedded.py --no-agent --record DIR   # also save real replies to tool requests
    python scripts/bench_embedded.py --models qwen2.5-coder-1.5b --record-agent DIR [--temperature 0.7]
        # run the real agent on small scenarios; every request + raw reply becomes a draft corpus case
    python scripts/bench_embedded.py --no-agent --fill --context 4096 --server-arg n_ubatch=256
        # memory tuning: peak memory after a prompt that fills 75% of the window, with other server options

Recorded replies are written in the golden corpus's case format (agent_core/bench/data/tool_corpus/,
family "recorded"), with the parser's reading as a draft `expected`: review each by hand before adding it.

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


async def fill(base_url: str, model: str, context: int, share: float = 0.75) -> int:
    """One fresh prompt of about `share` of the window (what a long agent session reaches); its prompt tokens."""
    unit = "def step(x):\n    return x + 1  # one more line of code to read\n"
    root = base_url.removesuffix("/v1")
    async with httpx.AsyncClient(timeout=1800, trust_env=False) as http:
        per_unit = (
            len((await http.post(f"{root}/extras/tokenize", json={"input": unit * 100})).json()["tokens"])
            / 100
        )
        # the nonce keeps any cache from helping; the chat template adds a few dozen tokens
        text = f"[{uuid.uuid4()}] Summarise this code.\n" + unit * int((context * share - 64) / per_unit)
        _, body = await complete(http, base_url, model, text, 1)
    return int(body["usage"]["prompt_tokens"])


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
CASES: dict[str, str] = {
    "write_file": "Create a file greet.py with a function greet(name) that returns 'Hello, ' + name.",
    "read_file": "What settings are in config.json? Read the file.",
    "bash": "Run the tests with the command `python -m pytest -q`.",
    "patch": (
        f"calc.py contains:\n```python\n{CALC}```\nadd() subtracts instead of adding. "
        "Fix that one line with the patch tool."
    ),
    "find_files": "List all the Python test files in the project (names like test_*.py).",
}


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


def draft_case(
    case_id: str,
    source: str,
    temperature: float,
    tools: str,
    messages: list[dict[str, Any]],
    reply: dict[str, Any],
    calls: list[dict[str, Any]],
    errors: list[str],
    **extra: Any,
) -> dict[str, Any]:
    """A recorded reply in the corpus's case format (agent_core/bench/data/tool_corpus/). `expected` is the
    parser's reading at recording time: a draft until reviewed by hand (then set "reviewed": true and say
    in `note` what the model meant, or why no call is expected)."""
    case: dict[str, Any] = {
        "id": case_id, "family": "recorded", "source": source, "temperature": temperature,
        "task": next((m["content"] for m in messages if m.get("role") == "user"), ""),
        **extra, "note": "", "reviewed": False, "tools": tools, "context": messages,
        "reply": reply.get("content") or "",
    }  # fmt: skip
    if reply.get("native_tool_calls"):
        case["native"] = reply["native_tool_calls"]
    if reply.get("reasoning"):
        case["reasoning"] = reply["reasoning"]
    case["expected"] = calls
    if errors:
        case["expect_errors"] = True
    return case


def _source(model: str) -> str:
    import datetime

    import llama_cpp

    return f"recorded {model} q4_k_m, llama-cpp-python {llama_cpp.__version__}, {datetime.date.today().isoformat()}"


def _save(directory: Path, case: dict[str, Any]) -> str:
    path = directory / f"{case['id']}.json"
    path.write_text(json.dumps(case, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    status(f"recorded {path}")
    return str(path)


async def record_replies(base_url: str, model: str, directory: Path) -> list[str]:
    """Ask each CASES request once (temperature 0, the GGUF's own chat template) and save the raw reply
    as a draft corpus case (tool set `smallcode_core`: the six tools without plan/todo)."""
    from agent_core.bench.tools_suite import actual, load_tool_sets
    from agent_core.tools import ToolRegistry, default_tools

    tools = ToolRegistry(default_tools()).schemas()
    directory.mkdir(parents=True, exist_ok=True)
    saved = []
    async with httpx.AsyncClient(timeout=600, trust_env=False) as http:
        for case, (variant, system) in itertools.product(CASES, _systems(model)):
            messages = [{"role": "system", "content": system}, {"role": "user", "content": CASES[case]}]
            body = {"model": model, "messages": messages, "tools": tools, "temperature": 0, "max_tokens": 512}
            response = await http.post(f"{base_url}/chat/completions", json=body)
            response.raise_for_status()
            message = response.json()["choices"][0]["message"]
            reply = {"content": message.get("content") or "", "native_tool_calls": [
                {"id": c.get("id"), "name": c["function"]["name"], "arguments": c["function"]["arguments"]}
                for c in message.get("tool_calls") or []
            ]}  # fmt: skip
            draft = draft_case(
                f"rec_{model.removeprefix('qwen2.5-coder-')}_{case}_{variant}", _source(model), 0.0,
                "smallcode_core", messages, reply, [], [],
                prompt="the agent's system prompt" if variant == "agent" else "a one-line system prompt",
            )  # fmt: skip
            got = actual(draft, load_tool_sets())
            draft["expected"] = got["calls"]
            if got["errors"]:
                draft["expect_errors"] = True
            saved.append(_save(directory, draft))
    return saved


# --- real agent turns: the agent's own system prompt, real tool results, several turns ---------------------
# Each scenario is a small workspace and a realistic task; the real agent runs it (temperature fixed, no
# adaptive retries) and every model request of the trace becomes a draft corpus case: the messages sent,
# the raw reply, and the parser's reading at recording time as a *draft* expectation ("reviewed": false).
# Review each draft by hand (the call the model meant, or no call) before it joins the corpus.
_CALC_TEST = "from calc import add, mul\n\n\ndef test_add():\n    assert add(2, 3) == 5\n\n\ndef test_mul():\n    assert mul(2, 3) == 6\n"
_STATS = (
    "def mean(values):\n    cnt = 0\n    total = 0\n    for v in values:\n        total += v\n        cnt += 1\n"
    "    return total / cnt\n"
)
_CONFIG = "import json\n\n\ndef parse_config(path):\n    with open(path) as f:\n        return json.load(f)\n"
_APP = "from config_loader import parse_config\n\nsettings = parse_config('settings.json')\nprint(settings['name'])\n"
_GEOMETRY = (
    "import math\n\n\ndef circle_area(r):\n    return math.pi * r * r\n\n\ndef square_area(side):\n"
    "    return side * side\n"
)
_PKG = (
    '{\n  "name": "todo-app",\n  "version": "1.0.0",\n  "scripts": {\n    "start": "node index.js"\n  }\n}\n'
)
_INDEX_JS = "const items = [];\n\nfunction add(item) {\n  items.push(item);\n}\n\nmodule.exports = { add };\n"
_MAIN_GO = 'package main\n\nimport "fmt"\n\nfunc main() {\n\tfmt.Println("serving on :8080")\n}\n'

SCENARIOS: dict[str, tuple[dict[str, str], str]] = {
    "fix_failing_test": (
        {"calc.py": CALC, "test_calc.py": _CALC_TEST},
        "The tests in test_calc.py fail. Find the bug in calc.py and fix it.",
    ),
    "add_function": (
        {"utils.py": "def clamp(x, lo, hi):\n    return max(lo, min(x, hi))\n"},
        "Add a function is_even(n) to utils.py that returns True for even numbers.",
    ),
    "new_script": (
        {"README.md": "# tools\n"},
        "Write a script wordcount.py that prints the number of words in the file named on the command line.",
    ),
    "where_defined": (
        {"config_loader.py": _CONFIG, "app.py": _APP, "settings.json": '{"name": "demo"}\n'},
        "Where is parse_config defined? Search the code.",
    ),
    "list_markdown": (
        {
            "docs/intro.md": "# Intro\n",
            "docs/usage.md": "# Usage\n",
            "README.md": "# demo\n",
            "main.py": "print(1)\n",
        },
        "List all the Markdown files in this project.",
    ),
    "run_tests": (
        {"calc.py": CALC, "test_calc.py": _CALC_TEST},
        "Run the test suite and tell me what fails.",
    ),
    "rename_variable": ({"stats.py": _STATS}, "In stats.py rename the variable cnt to count."),
    "docstrings": ({"geometry.py": _GEOMETRY}, "Add a one-line docstring to each function in geometry.py."),
    "npm_script": (
        {"package.json": _PKG, "index.js": _INDEX_JS},
        'Add an npm script "test" that runs "node --test" to package.json.',
    ),
    "explain_go": ({"main.go": _MAIN_GO, "go.mod": "module demo\n\ngo 1.21\n"}, "What does main.go do?"),
    "delete_file": (
        {"old_helpers.py": "def unused():\n    pass\n", "main.py": "print('hi')\n"},
        "Delete the unused file old_helpers.py.",
    ),
    "multi_step": (
        {"README.md": "# shapes\n"},
        "Create a package shapes with circle.py and square.py, each with an area function, "
        "and then add tests for both in tests/test_shapes.py.",
    ),
}


async def record_agent_turns(
    base_url: str, model: str, directory: Path, temperature: float, names: list[str], max_turns: int
) -> list[str]:
    """Run the real agent on each scenario and save every model request + raw reply as a draft case."""
    from agent_core import SmallCode
    from agent_core.bench.tools_suite import load_tool_sets
    from agent_core.observe.trace import read_trace

    directory.mkdir(parents=True, exist_ok=True)
    saved = []
    tag = "" if temperature == 0 else f"_t{str(temperature).replace('.', '')}"
    for name in names:
        files, task = SCENARIOS[name]
        with tempfile.TemporaryDirectory(prefix="smallcode-record-") as tmp:
            for rel, text in files.items():
                (Path(tmp) / rel).parent.mkdir(parents=True, exist_ok=True)
                (Path(tmp) / rel).write_text(text, encoding="utf-8")
            agent = SmallCode(
                model=model, base_url=base_url, cwd=tmp, temperature=temperature, temp_adapt=False,
                trace=True, max_turns=max_turns, stream=False, snapshot=False, request_timeout=900.0,
            )  # fmt: skip
            async with agent:
                result = await agent.run(task)
            status(f"{name}: {result.turns} turns, success={result.success}: {result.response[:200]!r}")
            if agent.tools.schemas() != load_tool_sets().get("smallcode"):
                status("the agent's tool schemas differ from tool_corpus/tools/smallcode.json: update it")
            trace = agent.last_trace
            for entry in read_trace(trace.path) if trace is not None else []:
                if entry.get("type") != "turn":
                    continue
                # The loop parses against every tool (+ choose_category when routing small windows),
                # whatever this turn offered; the corpus parses against the same set.
                offered = entry.get("offered") or []
                routed = (
                    "choose_category" in offered or "choose_category" in str(entry.get("messages"))[:20000]
                )
                draft = draft_case(
                    f"rec_{model.removeprefix('qwen2.5-coder-')}_{name}{tag}_turn{entry.get('n')}",
                    _source(model), temperature, "smallcode_routed" if routed else "smallcode",
                    entry.get("messages", []), entry.get("reply") or {}, entry.get("calls", []),
                    entry.get("parse_errors", []), workspace=tmp, offered=offered,
                )  # fmt: skip
                saved.append(_save(directory, draft))
    return saved


async def record_only(name: str, settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    """--record-agent: start the model, record the scenarios, stop (no speed measurements)."""
    names = args.scenarios or list(SCENARIOS)
    if args.base_url:  # a llama.cpp server already serving this model
        saved = await record_agent_turns(
            args.base_url, name, args.record_agent, args.temperature, names, args.max_turns
        )
        return {"model": name, "recorded": saved}
    cfg = settings.model_copy(update={"embedded_model": name, "gguf": None})
    server = EmbeddedServer(cfg, on_status=status)
    base_url, model = await server.start()
    try:
        saved = await record_agent_turns(
            base_url, model, args.record_agent, args.temperature, names, args.max_turns
        )
        return {"model": name, "recorded": saved}
    finally:
        await server.stop()


async def bench_model(
    name: str,
    settings: Settings,
    with_agent: bool,
    record: Path | None,
    tuning: dict[str, str] | None = None,
    filled: bool = False,
    repeat: int = 3,
) -> dict[str, Any]:
    cfg = settings.model_copy(update={"embedded_model": name, "gguf": None})
    server = EmbeddedServer(cfg, on_status=status, tuning=tuning)
    base_url, model = await server.start()
    try:
        assert server.pid is not None
        prompt_rate, gen_rate = await speeds(base_url, model, repeat)
        row: dict[str, Any] = {
            "model": name,
            "context": server.context,
            "tuning": server.tuning,
            "load_s": round(server.load_seconds or 0.0, 2),
            "prompt_tok_s": round(prompt_rate, 1),
            "gen_tok_s": round(gen_rate, 1),
            "peak_rss_mb_before_fill": round(peak_rss(server.pid) / 1e6),
        }
        if filled:
            row["fill_prompt_tokens"] = await fill(base_url, model, server.context)
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
    parser.add_argument(
        "--record-agent", type=Path,
        help="run the real agent on SCENARIOS and save every request + raw reply as draft corpus cases here",
    )  # fmt: skip
    parser.add_argument(
        "--scenarios", nargs="*", help=f"with --record-agent; default all: {', '.join(SCENARIOS)}"
    )
    parser.add_argument(
        "--base-url", help="with --record-agent: use this running server (e.g. http://127.0.0.1:8080/v1)"
    )
    parser.add_argument("--temperature", type=float, default=0.0, help="with --record-agent (default 0)")
    parser.add_argument("--max-turns", type=int, default=4, help="with --record-agent (default 4)")
    parser.add_argument("--json", action="store_true", help="print one JSON list")
    parser.add_argument(
        "--server-arg", action="append", default=[], metavar="NAME=VALUE",
        help="override a llama-cpp-python server option (n_batch, n_ubatch, use_mmap, flash_attn, logits_all...)",
    )  # fmt: skip
    parser.add_argument("--context", type=int, help="the server's n_ctx (default: SMALLCODE_CONTEXT or 4096)")
    parser.add_argument(
        "--fill", action="store_true", help="before reading peak memory, send a prompt of 75%% of the window"
    )
    parser.add_argument("--repeat", type=int, default=3, help="speed measurements, best of N (default 3)")
    args = parser.parse_args()
    tuning = dict(arg.split("=", 1) for arg in args.server_arg)
    overrides: dict[str, Any] = {"context": args.context} if args.context else {}
    if args.models_dir:
        overrides["models_dir"] = args.models_dir
    settings = Settings(**overrides)
    names = args.models or installed_models(settings)
    unknown = [n for n in names if n not in CATALOGUE]
    if unknown or not names:
        status(f"bench_embedded: nothing to measure (unknown: {unknown}); run `smallcode models pull NAME`")
        return 2
    if args.record_agent is not None:
        recorded = [asyncio.run(record_only(name, settings, args)) for name in names]
        print(json.dumps(recorded, indent=2))
        return 0
    rows = []
    for name in names:
        rows.append(
            asyncio.run(
                bench_model(
                    name, settings, not args.no_agent, args.record, tuning, args.fill, max(1, args.repeat)
                )
            )
        )
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
