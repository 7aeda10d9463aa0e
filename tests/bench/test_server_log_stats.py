"""scripts/server_log_stats.py reads prompt-cache reuse and speeds from a llama-cpp-python server log."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "server_log_stats.py"

LOG = """\
INFO:     127.0.0.1:41284 - "POST /v1/chat/completions HTTP/1.1" 200 OK
llama_perf_context_print:        load time =   15061.34 ms
llama_perf_context_print: prompt eval time =   10000.00 ms /  1000 tokens (   10.00 ms per token,   100.00 tokens per second)
llama_perf_context_print:        eval time =   20000.00 ms /   200 runs   (  100.00 ms per token,    10.00 tokens per second)
llama_perf_context_print:       total time =   30000.00 ms /  1200 tokens
Llama.generate: 900 prefix-match hit, remaining 300 prompt tokens to eval
llama_perf_context_print: prompt eval time =    6000.00 ms /   300 tokens (   20.00 ms per token,    50.00 tokens per second)
llama_perf_context_print:        eval time =   25000.00 ms /   100 runs   (  250.00 ms per token,     4.00 tokens per second)
llama_perf_context_print:       total time =   31000.00 ms /   400 tokens
"""


def test_cache_share_and_speeds(tmp_path: Path) -> None:
    log = tmp_path / "embedded.log"
    log.write_text(LOG)
    out = subprocess.run(
        [sys.executable, str(SCRIPT), str(log)], capture_output=True, text=True, check=True
    ).stdout
    assert "requests: 2" in out
    assert "prompt tokens: 2200, from the cache: 900 (41%)" in out  # the cold request counts whole
    assert "median prompt evaluation: 75 tokens/s" in out
    assert "median generation: 7.0 tokens/s" in out
    assert "median seconds per request: 30.5" in out


def test_a_missing_log_is_one_line(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path / "nope.log")], capture_output=True, text=True
    )
    assert run.returncode == 1 and run.stderr.count("\n") == 1 and "cannot read" in run.stderr
