"""scripts/replay_candidates.py judges saved candidates as written and as the agent now mends them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from agent_core.bench.tasks import load_tasks

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "replay_candidates.py"


def write(path: str, content: str) -> str:
    return json.dumps({"type": "tool", "name": "write_file", "arguments": {"path": path, "content": content}})


def test_a_candidate_that_lacked_only_an_import_is_counted_as_passing_when_mended(tmp_path: Path) -> None:
    [task] = load_tasks(["deep_merge"])
    fixed = task.solution["config_merge.py"].replace("result = dict(base)", "result = copy.deepcopy(base)")
    traces = tmp_path / ".smallcode/benchmarks/tasks-1/deep_merge-smallcode/.smallcode/traces"
    traces.mkdir(parents=True)
    lines = [
        write("config_merge.py", fixed),
        write("config_merge.py", fixed),  # the same text again counts once
        write("config_merge.py", task.files["config_merge.py"]),  # nothing to mend
        write("test_config_merge.py", "import copy\n"),  # tests are not candidates
    ]
    (traces / "run.jsonl").write_text("\n".join(lines) + "\n")
    out = subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path)], capture_output=True, text=True, check=True
    ).stdout
    assert "deep_merge config_merge.py: import copy | 5 of 5 failing -> passes (5 tests)" in out
    assert out.strip().endswith(
        "2 distinct candidates, 1 changed by the repair: 1 now pass, 0 fail fewer tests, 0 fail more"
    )
