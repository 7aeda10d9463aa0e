"""Skills: short markdown instructions with a front matter of `name`, `description` and `when`.

Six are built in (agent_core/extend/skills/); the user's come from ~/.config/smallcode/skills/ and the
project's from .smallcode/skills/ (`NAME.md` or `NAME/SKILL.md`; a later source replaces a skill of the same
name). `/skill use NAME` adds one to the system prompt for the session; and a task that names one of a skill's
`when` phrases (comma-separated, matched as whole words) gets that skill with its first message — the system
prompt stays the same from task to task, so servers can reuse their prompt cache. Skills are text for the
model, never code; a project's skills are as trustworthy as the rest of its files.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

from agent_core.safety import trust

log = logging.getLogger("smallcode.skills")

BUILTIN_DIR = Path(__file__).parent / "skills"
MAX_SKILL_CHARS = 4000
"""A skill file's body is cut here: skills are instructions, not documents."""
_FRONT = re.compile(r"\A---\s*\n(.*?)\n---\s*\n?", re.DOTALL)


@dataclass(frozen=True)
class Skill:
    name: str
    description: str
    when: tuple[str, ...]
    body: str
    source: str

    def matches(self, task: str) -> int:
        """How many of the skill's `when` phrases the task contains as whole words (case-insensitive)."""
        text = " ".join(task.lower().split())
        return sum(1 for phrase in self.when if re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", text))

    def prompt(self) -> str:
        return f"Skill {self.name} ({self.description}):\n{self.body}"


def parse_skill(text: str, source: str, fallback_name: str) -> Skill:
    """A skill from markdown with an optional `---` front matter of `key: value` lines."""
    meta: dict[str, str] = {}
    match = _FRONT.match(text)
    if match:
        for line in match.group(1).splitlines():
            key, sep, value = line.partition(":")
            if sep:
                meta[key.strip().lower()] = value.strip().strip("\"'")
        text = text[match.end() :]
    when = tuple(p.strip().lower() for p in meta.get("when", "").split(",") if p.strip())
    return Skill(
        name=(meta.get("name") or fallback_name).strip(),
        description=meta.get("description", ""),
        when=when,
        body=text.strip()[:MAX_SKILL_CHARS],
        source=source,
    )


def skill_dirs(root: Path) -> list[Path]:
    """Built-in, then the user's, then the project's (later ones win on a name)."""
    return [BUILTIN_DIR, trust.user_config_file().parent / "skills", root / ".smallcode" / "skills"]


def load_skills(root: Path) -> dict[str, Skill]:
    skills: dict[str, Skill] = {}
    for folder in skill_dirs(root):
        if not folder.is_dir():
            continue
        files = sorted(folder.glob("*.md")) + sorted(folder.glob("*/SKILL.md"))
        for path in files:
            fallback = path.parent.name if path.name == "SKILL.md" else path.stem
            try:
                skill = parse_skill(path.read_text(encoding="utf-8", errors="replace"), str(path), fallback)
            except OSError as exc:
                log.warning("cannot read skill %s: %s", path, exc)
                continue
            if skill.body:
                skills[key(skill.name)] = skill
    return skills


def key(name: str) -> str:
    """Names are looked up loosely: `code review`, `code-review` and `Code_Review` are one skill."""
    return re.sub(r"[\s_-]+", "-", name.strip().lower())


def choose(skills: dict[str, Skill], task: str) -> Skill | None:
    """The one skill whose `when` phrases the task names most; none on a tie (conservative)."""
    scored = sorted(((s.matches(task), s.name) for s in skills.values()), reverse=True)
    if not scored or scored[0][0] == 0 or (len(scored) > 1 and scored[1][0] == scored[0][0]):
        return None
    return skills[key(scored[0][1])]
