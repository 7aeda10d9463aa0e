"""What a write-time repair would have done to the candidates a model wrote in saved `bench tasks` runs.

    python scripts/replay_candidates.py DIR [DIR …]

DIR is a folder `smallcode bench tasks` ran in (its runs are under DIR/.smallcode/benchmarks/). Every distinct
Python file a SmallCode try wrote (a `write_file` in its traces, test files left out) is mended the way the
agent now mends a whole-file block before writing it (agent_core/patch/missing_names.py, against the task's
own version of the file), and each one the repair changes is judged by the task's tests twice, as written and
as mended, in a fresh copy of the task's project. Prints one line per changed candidate, then the totals: how
many the repair touched, how many went from failing to passing, and how many had fewer or more failing tests.

A candidate is judged alone (the task's other files as the task has them), so a candidate of a multi-file
task that relied on its sibling's change fails here where it may not have in its run. The figures say what the
repair does to the same text, not what a run would have done after it (the run goes on from the better file).
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

from agent_core.bench.tasks import Task, Verdict, is_test_file, judge, load_tasks
from agent_core.observe.trace import read_trace
from agent_core.patch.missing_names import add_missing_names

_TASK_DIR = re.compile(r"/([a-z0-9_]+)-smallcode/")


def candidates(roots: list[Path], tasks: dict[str, Task]) -> list[tuple[Task, str, str]]:
    """(task, path, content) of each distinct Python file the SmallCode arm wrote in these runs."""
    seen: set[tuple[str, str, str]] = set()
    found = []
    for root in roots:
        for trace in sorted(root.glob(".smallcode/benchmarks/*/*-smallcode/.smallcode/traces/*.jsonl")):
            match = _TASK_DIR.search(trace.as_posix())
            task = tasks.get(match.group(1)) if match else None
            if task is None:
                continue
            for entry in read_trace(trace):
                if entry.get("type") != "tool" or entry.get("name") != "write_file":
                    continue
                path, content = entry["arguments"].get("path", ""), entry["arguments"].get("content", "")
                key = (task.name, path, content)
                if path.endswith(".py") and not is_test_file(path) and key not in seen:
                    seen.add(key)
                    found.append((task, path, content))
    return found


def judged(task: Task, path: str, content: str) -> Verdict:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        task.build(root)
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(content, encoding="utf-8")
        return judge(task, root)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dirs", nargs="+", type=Path, help="folders `smallcode bench tasks` ran in")
    args = parser.parse_args(argv)
    tasks = {task.name: task for task in load_tasks()}
    found = candidates(args.dirs, tasks)
    changed = passed = fewer = more = 0
    for task, path, content in found:
        mended, added = add_missing_names(task.files.get(path, ""), content)
        if not added:
            continue
        changed += 1
        before, after = judged(task, path, content), judged(task, path, mended)
        passed += after.passed and not before.passed
        fewer += not after.passed and after.tests > 0 and _failing(after) < _failing(before)
        more += _failing(after) > _failing(before)
        print(
            f"{task.name} {path}: {'; '.join(added)} | {_state(before)} -> {_state(after)}",
            flush=True,
        )
    print(
        f"{len(found)} distinct candidates, {changed} changed by the repair: {passed} now pass, "
        f"{fewer} fail fewer tests, {more} fail more"
    )
    return 0


def _failing(verdict: Verdict) -> float:
    """Failing tests as a share of the tests (a module that does not import: all of them)."""
    return 1.0 if verdict.tests == 0 else verdict.failed / verdict.tests


def _state(verdict: Verdict) -> str:
    if verdict.passed:
        return f"passes ({verdict.tests} tests)"
    return f"{verdict.failed} of {verdict.tests} failing"


if __name__ == "__main__":
    sys.exit(main())
