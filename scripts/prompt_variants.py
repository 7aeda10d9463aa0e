"""First candidates under other wordings of a small model's first prompt: how many pass, and at what cost.

    python scripts/prompt_variants.py DIR VARIANTS.json [--tasks a,b] [--samples 4] [--variants-only]

DIR is a saved `smallcode bench tasks` run folder (`.smallcode/benchmarks/tasks-<date>/`); VARIANTS.json maps a
variant's name to its replacements, `{"shorter": [["OLD", "NEW"], …], …}`. For each task with one file to change,
the first prompt of its SmallCode arm's first trace is asked as it was (unless `--variants-only`), then as each
variant (each OLD text replaced by NEW in every message). Each time one batch: the greedy answer and `--samples` − 1
samples at 0.8, seeded alike, each ending where its file is written (as the agent asks). Each choice's file is
mended as the agent mends a whole-file block (splice of a partial block, main guard, lost names) and judged by the
task's tests in a fresh copy of its project. Prints per task and prompt each choice (✓ passes, ✗ fails, · wrote no
file), the completion tokens and seconds; then the totals, with the failing tests summed over the choices (a choice
that wrote no file counts the task's failing tests as they are).

A replacement that matches nothing in a prompt is reported: the variant would then be the prompt as it was.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from agent_core.bench.tasks import Task, judge, load_tasks
from agent_core.config import Settings
from agent_core.llm.batch_samples import until_file_written
from agent_core.llm.client import ChatClient
from agent_core.llm.embedded import EmbeddedServer
from agent_core.observe.trace import first_prompt
from agent_core.patch.example_code import guard_example_code
from agent_core.patch.missing_names import add_missing_names
from agent_core.patch.partial import splice_partial
from agent_core.patch.whole import parse_whole_files

Messages = list[dict[str, Any]]


def varied(messages: Messages, replacements: list[tuple[str, str]]) -> tuple[Messages, list[str]]:
    """The messages with the replacements made, and the OLD texts found in none of them."""
    texts = [str(m.get("content") or "") for m in messages]
    missing = [old for old, _ in replacements if not any(old in t for t in texts)]
    for old, new in replacements:
        texts = [t.replace(old, new) for t in texts]
    return [{**m, "content": t} for m, t in zip(messages, texts, strict=True)], missing


def candidate(task: Task, path: str, reply: str) -> str | None:
    """The file the agent would write from this reply (mended), or None when the reply writes none."""
    current = task.files.get(path, "")
    blocks = parse_whole_files(reply, set(task.files), path, {path: current})
    new = next((b.content for b in blocks if b.path == path), None)
    if new is None:
        return None
    spliced = splice_partial(current, new)
    new = spliced.text if spliced is not None else new
    new, _ = guard_example_code(current, new)
    new, _ = add_missing_names(current, new)
    return new


def failing(task: Task, path: str, content: str | None) -> tuple[bool, int]:
    """(passed, failing tests) of the task with this file; a reply without a file counts as all failing."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        task.build(root)
        if content is not None:
            (root / path).write_text(content, encoding="utf-8")
        verdict = judge(task, root)
    return verdict.passed, verdict.failed


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("run", type=Path)
    parser.add_argument("variants", type=Path)
    parser.add_argument("--tasks", default="")
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--samples", type=int, default=4)
    parser.add_argument("--max-tokens", type=int, default=900)
    parser.add_argument("--variants-only", action="store_true")
    args = parser.parse_args()
    chosen = [t for t in args.tasks.split(",") if t]
    tasks = {t.name: t for t in load_tasks()}
    variants: dict[str, list[tuple[str, str]]] = {
        name: [(old, new) for old, new in pairs]
        for name, pairs in json.loads(args.variants.read_text()).items()
    }
    original = () if args.variants_only else ("as it was",)
    totals: dict[str, list[float]] = {name: [0, 0, 0, 0.0] for name in (*original, *variants)}
    async with EmbeddedServer(Settings(embedded_model=args.model)) as server:
        assert server.base_url and server.model_name
        async with ChatClient(server.base_url, server.model_name, retries=0, timeout=900) as client:
            for arm_dir in sorted(args.run.glob("*-smallcode")):
                task = tasks.get(arm_dir.name.removesuffix("-smallcode"))
                prompt = first_prompt(arm_dir)
                if task is None or prompt is None or (chosen and task.name not in chosen):
                    continue
                if len(task.edit_files) != 1:
                    continue
                path = task.edit_files[0]
                prompts = {name: prompt for name in original}
                for name, replacements in variants.items():
                    prompts[name], missing = varied(prompt, replacements)
                    if missing:
                        print(f"{task.name}, {name}: not found, so not replaced: {missing}")
                end = until_file_written(path, task.files, task.files.get(path))
                row = []
                for name, messages in prompts.items():
                    started = time.monotonic()
                    reply = await client.chat(
                        messages,
                        temperature=0,
                        max_tokens=args.max_tokens,
                        stream=False,
                        extra={
                            "n": args.samples,
                            "seed": 11,
                            "temperatures": [0] + [0.8] * (args.samples - 1),
                            "until_file_written": end,
                        },
                    )
                    seconds = time.monotonic() - started
                    files = [candidate(task, path, c.content) for c in (reply, *reply.others)]
                    verdicts = [failing(task, path, f) for f in files]
                    passed = sum(p for p, _ in verdicts)
                    tally = totals[name]
                    tally[0] += passed
                    tally[1] += sum(f for _, f in verdicts)
                    tally[2] += reply.usage.completion_tokens
                    tally[3] += seconds
                    marks = "".join(
                        "·" if f is None else "✓" if p else "✗"
                        for f, (p, _) in zip(files, verdicts, strict=True)
                    )
                    row.append(f"{name} {marks} {reply.usage.completion_tokens:5d} tok {seconds:5.1f} s")
                print(f"{task.name:24} " + " | ".join(row), flush=True)
    for name, (good, failed, tokens, spent) in totals.items():
        print(
            f"{name:12} passing choices {good:.0f}, failing tests {failed:.0f}, {tokens:.0f} tokens, {spent:.0f} s"
        )


if __name__ == "__main__":
    asyncio.run(main())
