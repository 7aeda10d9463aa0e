"""The system prompt: short, concrete, written for small models."""

from __future__ import annotations

import platform
from pathlib import Path
from typing import Any

BASE = """You are SmallCode, a careful coding agent working in the project "{name}".
You act by calling tools. Call one tool at a time and wait for its result.

Tools:
{tools}

How to work:
- Read a file with read_file before you change it.
- Change existing files with patch: `search` must be lines copied exactly from the file, `replace` the new lines.
- Create new files with write_file (the whole content).
- Use bash to run programs and tests; search and find_files to look around.
- Paths are relative to the project root (never absolute).
- When the task is done, answer with a short summary of what you did and no tool call.
{format}"""

DEFAULT_FORMAT = """
To call a tool, reply with only a JSON object in a ```json block, for example:
```json
{"name": "write_file", "arguments": {"path": "hello.py", "content": "print('hello')\\n"}}
```"""


SMALL = """You are SmallCode, a coding agent. You work in the project's root folder.

To create or change a file: first say in a sentence or two what must change and why, then write the file's
path alone on one line, then the complete new content of the file in one fenced code block, with the change
made. Write the whole file, not only the changed lines.

For anything else, call one tool and wait for its result:
{tools}
{format}

Paths are relative to the project root. After a change the project's tests run and you see the result.
When the task is done, reply with one short line and no code block."""
"""The system prompt for small models (4B and under): one way to edit, four tools, under 400 tokens."""


def small_system_prompt(schemas: list[dict[str, Any]], format_text: str) -> str:
    # The folder's name is not given: the 1.5B model took `project "fresh3"` for a folder to write into.
    return SMALL.format(tools=describe_tools(schemas, brief=True), format=format_text.strip())


def describe_tools(schemas: list[dict[str, Any]], brief: bool = False) -> str:
    """One line per tool; `brief`: only the first sentence of each description."""
    lines = []
    for schema in schemas:
        fn = schema["function"]
        props = fn.get("parameters", {}).get("properties", {})
        required = set(fn.get("parameters", {}).get("required", []))
        args = ", ".join(f"{name}{'' if name in required else '?'}" for name in props)
        text = fn.get("description", "").splitlines()[0]
        if brief:
            text = text.split(". ")[0].rstrip(".") + "."
        lines.append(f"- {fn['name']}({args}): {text}")
    return "\n".join(lines)


def system_prompt(
    root: Path, schemas: list[dict[str, Any]], extra: list[str] | None = None, format_text: str | None = None
) -> str:
    text = BASE.format(name=root.name, tools=describe_tools(schemas), format=format_text or DEFAULT_FORMAT)
    text += f"\nSystem: {platform.system()}."
    for section in extra or []:
        if section.strip():
            text += "\n\n" + section.strip()
    return text
