"""A text as lines that keep their own endings, so untouched lines are written back byte for byte."""

from __future__ import annotations

from dataclasses import dataclass, field

BOM = "\ufeff"


@dataclass
class Doc:
    lines: list[str]
    """Line contents without their endings."""
    ends: list[str]
    """Each line's ending: "\\n", "\\r\\n", or "" for a last line without one."""
    newline: str = "\n"
    """The dominant ending, used for lines the edit adds."""
    index: dict[str, list[int]] = field(default_factory=dict)
    """Stripped line body → line numbers (0-based): where a search line can start."""

    @classmethod
    def parse(cls, text: str) -> Doc:
        lines: list[str] = []
        ends: list[str] = []
        parts = text.split("\n")
        for i, part in enumerate(parts):
            if i == len(parts) - 1:
                if part:
                    lines.append(part)
                    ends.append("")
            elif part.endswith("\r"):
                lines.append(part[:-1])
                ends.append("\r\n")
            else:
                lines.append(part)
                ends.append("\n")
        crlf = ends.count("\r\n")
        newline = "\r\n" if crlf > ends.count("\n") else "\n"
        index: dict[str, list[int]] = {}
        for n, line in enumerate(lines):
            index.setdefault(line.strip(), []).append(n)
        return cls(lines, ends, newline, index)

    @property
    def final_newline(self) -> bool:
        return not self.ends or self.ends[-1] != ""


def model_lines(text: str) -> list[str]:
    """Lines of a search or replace block, whatever its endings; a final newline adds no line."""
    lines = text.replace("\r\n", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.rstrip("\r") for line in lines]


def indent_of(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def is_blank(line: str) -> bool:
    return not line.strip()


def join_lines(items: list[tuple[str, str]], newline: str, final_newline: bool) -> str:
    """Lines (content, ending) back to text: every line but the last ends; the last follows the original."""
    out: list[str] = []
    for n, (content, end) in enumerate(items):
        last = n == len(items) - 1
        if last:
            end = (end or newline) if final_newline else ""
        elif not end:
            end = newline
        out.append(content + end)
    return "".join(out)
