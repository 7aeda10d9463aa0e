"""Examples the task states as a check, for a project without tests: "`python sum_args.py 2 3 4` prints 9".

Without them a run in a folder with no tests ends "not verified", and a small model that wrote a wrong program
still reported success (the embedded 0.5B model on the smoke suite: its sum_args.py printed 0.0417 for 9).
Only a script of the workspace run with python or node counts, and only when the task says what it prints:
a number (or True/False/None), or text in quotes or backticks — "prints the sum" is a description, not output;
each example runs like the tests do (the shell's sandbox, the check timeout) and passes when the program's
last line of output is the expected text.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

from agent_core.config import Settings
from agent_core.planning.validate import run_command

_VERB = r"(?:(?:should|must|will)\s+(?:print|output)|prints|outputs)"
_QUOTED = r"`[^`\n]+`|\"[^\"\n]+\"|'[^'\n]+'"
_VALUE = (  # a number (or True/False/None) that ends its clause: "prints 9.", "prints 9) but", not "prints 3 lines"
    r"(?:-?\d+(?:\.\d+)?|True|False|None)"
    r"(?=[.,;:)]|[ \t]*$|\s+(?:and|but|when|while|if|for|on|instead|then|so|not|or)\b)"
)
_EXAMPLE = re.compile(
    r"`?(?P<command>(?:python3?|node)\s+(?P<script>[\w./-]+\.(?:py|js))"
    rf"(?:[ \t]+(?!{_VERB}\b)[^\s`()]+)*)`?\s+{_VERB}\s+(?!exactly\b)(?P<out>{_QUOTED}|{_VALUE})",
    re.IGNORECASE | re.MULTILINE,
)
_EXACTLY = re.compile(
    r"(?P<script>[\w./-]+\.(?P<ext>py|js))\s+(?:(?:that|which|to)\s+)?(?:prints?|outputs?)\s+exactly:?\s+"
    rf"(?P<out>{_QUOTED}|[^\n]+)",
    re.IGNORECASE,
)
"""A program named with the exact text it prints: "hello.py that prints exactly: Hello, world!"."""
MAX_EXAMPLES = 5


@dataclass(frozen=True)
class Example:
    command: str
    script: str
    expected: str


def task_examples(task: str) -> list[Example]:
    """The `command prints output` examples in a task (at most MAX_EXAMPLES, each once)."""
    found: list[Example] = []

    def add(example: Example) -> None:
        script = Path(example.script)
        if not (script.is_absolute() or ".." in script.parts or not example.expected or example in found):
            found.append(example)

    for match in _EXAMPLE.finditer(task):
        add(Example(" ".join(match["command"].split()), match["script"], _expected(match["out"])))
    for match in _EXACTLY.finditer(task):
        runner = "python" if match["ext"].lower() == "py" else "node"
        add(
            Example(
                f"{runner} {match['script']}", match["script"], _expected(match["out"].strip(), exact=True)
            )
        )
    return found[:MAX_EXAMPLES]


def _expected(out: str, exact: bool = False) -> str:
    if len(out) > 1 and out[0] in "`\"'" and out[-1] == out[0]:
        return out[1:-1].strip()
    return out if exact else out.removesuffix(".")  # a word's full stop ends the sentence, not the output


@dataclass
class ExampleRun:
    passed: int
    failed: int
    feedback: str
    output_tail: str


async def run_examples(root: Path, examples: list[Example], settings: Settings) -> ExampleRun:
    """Run each example whose script exists in `root`; what each printed against what the task says."""
    passed, lines, outputs = 0, [], []
    for example in examples:
        if not (root / example.script).is_file():
            lines.append(f"`{example.command}`: {example.script} does not exist.")
            continue
        # The words as the task wrote them, each quoted: a `;` or an apostrophe in them is an argument, not
        # shell syntax (shlex.split would refuse an unbalanced quote).
        command = shlex.join(example.command.split())
        result = await run_command(command, root, settings.check_timeout, max_output=4000, settings=settings)
        output = result.output.strip()
        last = output.splitlines()[-1].strip() if output else ""
        outputs.append(f"$ {example.command}\n{output}")
        if result.exit_code is None:
            lines.append(f"`{example.command}` did not finish in {settings.check_timeout:g} s.")
        elif result.exit_code == 0 and last == example.expected:
            passed += 1
        else:
            shown = output if len(output) <= 600 else "…" + output[-600:]
            lines.append(
                f"`{example.command}` printed {shown!r} (exit code {result.exit_code}); the task says it prints "
                f"{example.expected!r}."
            )
    return ExampleRun(passed, len(examples) - passed, "\n".join(lines), "\n".join(outputs)[-2000:])
