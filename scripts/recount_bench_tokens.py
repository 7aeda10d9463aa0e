"""Recount a saved `smallcode bench tasks` run's SmallCode tokens from its traces with the model's tokenizer.

Until 9800af5 a streamed turn of the embedded model (llama-cpp-python sends no usage in a stream) was counted
by a rough estimate, about a quarter under the real prompt. This reads each SmallCode trace of a run folder
(`.smallcode/benchmarks/<run>/<task>-smallcode/.smallcode/traces/*.jsonl`) and counts every turn again: the
prompt as the chat template builds it (each message's tokens, 5 around each, 3 opening the reply) and the reply
as read; a turn whose usage the server reported (several samples in one request) keeps it, a sample kept from
an earlier request counts nothing. Prints the reported and the recounted tokens per task and in total.

    python scripts/recount_bench_tokens.py RUN_FOLDER [GGUF]

GGUF defaults to the embedded 1.5B model in the cache; only its vocabulary is loaded.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from agent_core.llm.client import TEMPLATE_MESSAGE_TOKENS, TEMPLATE_REPLY_TOKENS


def main(argv: list[str]) -> int:
    if not argv or not Path(argv[0]).is_dir():
        print(__doc__.strip().splitlines()[-3], file=sys.stderr)
        return 2
    from llama_cpp import Llama

    from agent_core.llm.models import cache_dir

    gguf = (
        argv[1] if len(argv) > 1 else str(cache_dir() / "models" / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf")
    )
    vocab = Llama(gguf, vocab_only=True, verbose=False)

    def count(text: str) -> int:
        return len(vocab.tokenize(text.encode("utf-8"), add_bos=False, special=False)) if text else 0

    totals = [0, 0]
    for task in sorted(Path(argv[0]).glob("*-smallcode")):
        reported = recounted = 0
        for trace in sorted(task.glob(".smallcode/traces/*.jsonl")):
            for line in trace.open(encoding="utf-8"):
                event = json.loads(line)
                if event.get("type") != "turn":
                    continue
                usage = event.get("usage") or {}
                reported += usage.get("total_tokens", 0)
                if event.get("sample") or "samples_left" in event:  # kept (0), or the server's own usage
                    recounted += usage.get("total_tokens", 0)
                    continue
                prompt = TEMPLATE_REPLY_TOKENS + sum(
                    count(m.get("content") or "") + TEMPLATE_MESSAGE_TOKENS for m in event["messages"]
                )
                recounted += prompt + count(event["reply"]["content"])
        totals[0] += reported
        totals[1] += recounted
        print(f"{task.name.removesuffix('-smallcode'):28} reported {reported:7d}  recounted {recounted:7d}")
    print(f"{'total':28} reported {totals[0]:7d}  recounted {totals[1]:7d}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
