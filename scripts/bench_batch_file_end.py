"""Does ending each sample where its file is written save time? A batch of samples of real first prompts,
asked with and without `until_file_written`, on the embedded model.

    python scripts/bench_batch_file_end.py DIR [--tasks a,b] [--samples 3] [--max-tokens 900]

DIR is a saved `smallcode bench tasks` run folder (`.smallcode/benchmarks/tasks-<date>/`): each task's first
prompt is the first turn of its SmallCode arm's first trace. Only tasks with one file to change are asked
(the extension applies to them alone). Each prompt is read once (cached) before the timed requests, as a
resample's is; both requests use the same seed and temperature 0.8. Prints seconds and completion tokens of
each pair and the totals.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path
from typing import Any

from agent_core.bench.tasks import load_tasks
from agent_core.config import Settings
from agent_core.llm.batch_samples import until_file_written
from agent_core.llm.client import ChatClient
from agent_core.llm.embedded import EmbeddedServer
from agent_core.observe.trace import first_prompt


def file_end(task: str) -> dict[str, Any] | None:
    """The extension's value for the task's first prompt, as the agent sends it; None for several files."""
    (loaded,) = load_tasks([task])
    if len(loaded.edit_files) != 1:
        return None
    path = loaded.edit_files[0]
    return until_file_written(path, loaded.files, loaded.files.get(path))


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("run", type=Path)
    parser.add_argument("--tasks", default="")
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--samples", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=900)
    args = parser.parse_args()
    chosen = [t for t in args.tasks.split(",") if t]
    cases = []
    for arm_dir in sorted(args.run.glob("*-smallcode")):
        task = arm_dir.name.removesuffix("-smallcode")
        if chosen and task not in chosen:
            continue
        prompt, end = first_prompt(arm_dir), file_end(task)
        if prompt is not None and end is not None:
            cases.append((task, prompt, end))
    totals = {"free": [0.0, 0], "ended": [0.0, 0]}
    async with EmbeddedServer(Settings(embedded_model=args.model)) as server:
        assert server.base_url and server.model_name
        async with ChatClient(server.base_url, server.model_name, retries=0, timeout=900) as client:
            for task, prompt, end in cases:
                await client.chat(prompt, temperature=0, max_tokens=1, stream=False)  # the prompt, cached
                row = []
                for name, extra in (("free", {}), ("ended", {"until_file_written": end})):
                    started = time.monotonic()
                    reply = await client.chat(
                        prompt,
                        temperature=0.8,
                        max_tokens=args.max_tokens,
                        stream=False,
                        extra={"n": args.samples, "seed": 11, **extra},
                    )
                    seconds = time.monotonic() - started
                    totals[name][0] += seconds
                    totals[name][1] += reply.usage.completion_tokens
                    row.append(f"{name} {seconds:5.1f} s {reply.usage.completion_tokens:5d} tokens")
                print(f"{task:24} " + " | ".join(row), flush=True)
    (fs, ft), (es, et) = totals["free"], totals["ended"]
    print(f"{'total':24} free {fs:5.1f} s {ft:5d} tokens | ended {es:5.1f} s {et:5d} tokens")
    if fs and ft:
        print(f"ended/free: {es / fs:.2f} of the time, {et / ft:.2f} of the tokens")


if __name__ == "__main__":
    asyncio.run(main())
