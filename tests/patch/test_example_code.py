"""Example code a model appends to a module moves under a main guard, so importing the module runs nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from agent_core.patch.example_code import guard_example_code

ORIGINAL = '"""Stats."""\n\n\ndef mean(xs):\n    raise NotImplementedError\n'
WITH_DEMO = (
    '"""Stats."""\n\n\ndef mean(xs):\n    return sum(xs) / len(xs)\n\n\n'
    "# Example usage:\nDATA = [1, 2, 3]\nprint(mean(DATA))\nassert mean([2]) == 2\n"
    "for xs in ([1], [1, 3]):\n    print(mean(xs))\n"
)


def test_demo_statements_move_under_a_main_guard_and_still_run_as_a_script(tmp_path: Path) -> None:
    text, moved = guard_example_code(ORIGINAL, WITH_DEMO)
    assert moved == 3
    assert text.endswith(
        '# Example usage:\nDATA = [1, 2, 3]\n\n\nif __name__ == "__main__":\n'
        "    print(mean(DATA))\n    assert mean([2]) == 2\n    for xs in ([1], [1, 3]):\n        print(mean(xs))\n"
    )
    (tmp_path / "stats.py").write_text(text)
    imported = subprocess.run(
        [sys.executable, "-c", "import stats"], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert imported.stdout == ""  # importing runs nothing
    run = subprocess.run(
        [sys.executable, "stats.py"], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert run.stdout.split() == ["2.0", "1.0", "2.0"]


def test_statements_the_file_already_had_and_module_code_stay() -> None:
    original = "import logging\n\nlogging.basicConfig()\nTABLE = {}\n"
    new = (
        "import logging\n\nlogging.basicConfig()\nTABLE = {}\nfor k in 'ab':\n    TABLE[k] = k.upper()\n"
        "with open(__file__) as f:\n    SOURCE = f.read()\n"
    )
    assert guard_example_code(original, new) == (new, 0)


def test_an_existing_guard_at_the_end_takes_the_new_lines() -> None:
    original = 'def f():\n    return 1\n\n\nif __name__ == "__main__":\n    print(f())\n'
    new = 'def f():\n    return 2\n\n\nif __name__ == "__main__":\n    print(f())\nprint(f() + 1)\n'
    text, moved = guard_example_code(original, new)
    assert moved == 1
    assert (
        text == 'def f():\n    return 2\n\n\nif __name__ == "__main__":\n    print(f())\n    print(f() + 1)\n'
    )


def test_unparsable_text_is_left_alone() -> None:
    assert guard_example_code(ORIGINAL, "def broken(:\nprint(1)\n") == ("def broken(:\nprint(1)\n", 0)
