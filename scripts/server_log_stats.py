"""Prompt-cache reuse and speed per request, read from an embedded (llama-cpp-python) server's log.

    python scripts/server_log_stats.py ~/.cache/smallcode/logs/embedded-<pid>-<port>.log

For each chat request llama-cpp-python logs how much of the prompt matched the cache it kept from the previous
request ("N prefix-match hit, remaining M prompt tokens to eval") and how long prompt evaluation and generation
took. This prints, over all requests: the share of prompt tokens served from the cache, prompt and generation
speed (median tokens/s) and the median seconds per request. Issue 12, part 4: a stable prompt prefix is worth
what this share says.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

_HIT = re.compile(r"Llama\.generate: (\d+) prefix-match hit, remaining (\d+) prompt tokens to eval")
_PROMPT = re.compile(r"prompt eval time =\s+([\d.]+) ms /\s+(\d+) tokens")
_EVAL = re.compile(r"\beval time =\s+([\d.]+) ms /\s+(\d+) runs")
_TOTAL = re.compile(r"total time =\s+([\d.]+) ms")


@dataclass
class Request:
    cached: int = 0
    evaluated: int = 0
    prompt_ms: float = 0.0
    generated: int = 0
    generate_ms: float = 0.0
    total_ms: float = 0.0


def parse(lines: list[str]) -> list[Request]:
    """One Request per logged generation. A request without a prefix line (the first, cold) counts its whole
    prompt as evaluated."""
    requests: list[Request] = []
    current: Request | None = None
    for line in lines:
        if hit := _HIT.search(line):
            current = Request(cached=int(hit[1]), evaluated=int(hit[2]))
        elif prompt := _PROMPT.search(line):
            current = current or Request(evaluated=int(prompt[2]))
            current.prompt_ms = float(prompt[1])
        elif (gen := _EVAL.search(line)) and current is not None:
            current.generate_ms, current.generated = float(gen[1]), int(gen[2])
        elif (total := _TOTAL.search(line)) and current is not None:
            current.total_ms = float(total[1])
            requests.append(current)
            current = None
    return requests


def summary(requests: list[Request]) -> str:
    if not requests:
        return "no requests in the log"
    cached = sum(r.cached for r in requests)
    prompt = cached + sum(r.evaluated for r in requests)
    prompt_speed = [r.evaluated / r.prompt_ms * 1000 for r in requests if r.prompt_ms > 0 and r.evaluated > 8]
    gen_speed = [r.generated / r.generate_ms * 1000 for r in requests if r.generate_ms > 0 and r.generated]
    return "\n".join(
        [
            f"requests: {len(requests)}",
            f"prompt tokens: {prompt}, from the cache: {cached} ({cached / prompt:.0%})" if prompt else "",
            f"median prompt evaluation: {statistics.median(prompt_speed):.0f} tokens/s"
            if prompt_speed
            else "",
            f"median generation: {statistics.median(gen_speed):.1f} tokens/s" if gen_speed else "",
            f"median seconds per request: {statistics.median(r.total_ms for r in requests) / 1000:.1f}",
        ]
    ).replace("\n\n", "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log", type=Path)
    args = parser.parse_args(argv)
    try:
        lines = args.log.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        print(f"cannot read {args.log}: {exc.strerror}", file=sys.stderr)
        return 1
    print(summary(parse(lines)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
