"""scripts/prompt_variants.py: the wording replaced in every message, and each choice judged as the agent
would write it (the parts that need no model)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from agent_core.bench.tasks import load_tasks

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "prompt_variants.py"


def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("prompt_variants", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_replacements_are_made_in_every_message_and_one_that_matches_nothing_is_reported() -> None:
    messages = [
        {"role": "system", "content": "first say in a sentence or two what must change and why"},
        {"role": "user", "content": "Fix it. First say in a sentence or two what must change and why."},
    ]
    other, missing = script().varied(messages, [("a sentence or two", "one sentence"), ("absent", "x")])
    assert [m["content"] for m in other] == [
        "first say in one sentence what must change and why",
        "Fix it. First say in one sentence what must change and why.",
    ]
    assert [m["role"] for m in other] == ["system", "user"] and missing == ["absent"]
    assert messages[0]["content"].startswith("first say in a sentence or two")  # the prompt as it was is kept


def test_a_choice_is_judged_as_the_agent_would_write_it() -> None:
    variants = script()
    [task] = load_tasks(["deep_merge"])
    path = "config_merge.py"
    fixed = task.solution[path]
    whole = variants.candidate(task, path, f"{path}\n```python\n{fixed}```\n")
    assert variants.failing(task, path, whole) == (True, 0)
    # a block that uses copy.deepcopy without importing it passes once the agent's mending adds the import
    unimported = fixed.replace("result = dict(base)", "result = copy.deepcopy(base)")
    mended = variants.candidate(task, path, f"{path}\n```python\n{unimported}```\n")
    assert mended is not None and "import copy" in mended
    assert variants.failing(task, path, mended) == (True, 0)
    # one function alone is spliced into the file: the other stays
    only = fixed[fixed.index("def deep_merge") : fixed.index("def layered")]
    spliced = variants.candidate(task, path, f"{path}\n```python\n{only}```\n")
    assert spliced is not None and "def layered" in spliced
    assert variants.candidate(task, path, "The tests should pass now.") is None
    passed, failing = variants.failing(task, path, None)  # no file written: the task as it is
    assert not passed and failing > 0
