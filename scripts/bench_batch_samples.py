"""Time a batch of samples on the embedded model: milliseconds a decoding step for 1 to 4 sequences at once.

    python scripts/bench_batch_samples.py                                   # 1.5B model, a ~1.3k-token prompt
    python scripts/bench_batch_samples.py --model qwen2.5-coder-0.5b --tokens 200 --counts 1,2,4
    python scripts/bench_batch_samples.py --trace .smallcode/traces/RUN.jsonl   # a real first prompt

The prompt is read once (cached) before the timed requests, as a resample's is. Each request asks for `n`
samples at temperature 0.8 with a fixed seed and `--tokens` tokens at most; the step time is the request's
seconds over the longest sample's tokens (estimated from its share of the characters). Counts run up, then
down again, so a drift of the machine shows as two different figures for one count. Results go to stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path
from typing import Any

from agent_core.config import Settings
from agent_core.llm.client import ChatClient
from agent_core.llm.embedded import EmbeddedServer
from agent_core.observe.trace import first_messages

FILE = "\n".join(f"def f{i}(x):\n    return x + {i}\n\n" for i in range(60))
DEFAULT_PROMPT = [
    {"role": "system", "content": "You are a coding agent. Write whole files in one fenced block."},
    {"role": "user", "content": f"mathx.py:\n```python\n{FILE}```\n\nAdd type hints to every function."},
]


def first_prompt(trace: Path) -> list[dict[str, Any]]:
    """The messages of the first turn of a SmallCode trace."""
    messages = first_messages(trace)
    if messages is None:
        raise SystemExit(f"{trace}: no turn in this trace")
    return messages


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--trace", type=Path, help="take the prompt from this trace's first turn")
    parser.add_argument("--tokens", type=int, default=300)
    parser.add_argument("--counts", default="1,2,3,4")
    args = parser.parse_args()
    messages = first_prompt(args.trace) if args.trace else DEFAULT_PROMPT
    counts = [int(c) for c in args.counts.split(",")]
    async with EmbeddedServer(Settings(embedded_model=args.model)) as server:
        assert server.base_url and server.model_name
        async with ChatClient(server.base_url, server.model_name, retries=0, timeout=900) as client:
            await client.chat(messages, temperature=0, max_tokens=1, stream=False)
            for n in [*counts, *reversed(counts[:-1])]:
                extra = {"n": n, "seed": 3} if n > 1 else {"seed": 3}
                started = time.monotonic()
                reply = await client.chat(
                    messages, temperature=0.8, max_tokens=args.tokens, stream=False, extra=extra
                )
                seconds = time.monotonic() - started
                lengths = [len(r.content) for r in (reply, *reply.others)]
                longest = max(lengths) * reply.usage.completion_tokens / max(1, sum(lengths))
                print(
                    f"n={n}  {seconds:5.1f} s  {reply.usage.completion_tokens} tokens  "
                    f"{1000 * seconds / max(1.0, longest):.0f} ms a step",
                    flush=True,
                )


if __name__ == "__main__":
    asyncio.run(main())
