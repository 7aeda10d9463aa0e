"""The retrieval benchmark's material: real packages from PyPI copied into a temporary folder, and questions
whose answers are their definitions, derived with Python's own `ast` (not the code graph under test) from
the packages' `def`/`class` names and docstrings, so nobody can tune them by hand.

Two kinds of question per definition: by name (`Client.send`, `format_help`) and by description (the content
words of the docstring's first sentence, without the definition's own name: "send request return response").
The answer is the definition's file and the line of its `def`/`class`; plain `search` also scores when it lands
in the definition's header or docstring.
"""

from __future__ import annotations

import ast
import importlib.metadata
import random
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from agent_core.memory.textsearch import STOPWORDS
from agent_core.python_ast import parse_module

PACKAGES = ("attrs", "click", "httpx")
PER_KIND = 40
"""Questions of each kind per package (fewer when a package has fewer documented definitions)."""
SEED = 18


@dataclass(frozen=True)
class Question:
    package: str
    kind: str
    """name or description."""
    query: str
    path: str
    line: int
    last_line: int
    """The end of the definition's header and docstring: a search hit up to here found it."""
    name: str
    keyword: str
    """The word a plain search would try for a description (its longest content word)."""


def fetch_package(name: str, dest: Path) -> str:
    """Copy distribution `name` into `dest` (the installed one, else `pip install --target`); its version."""
    dest.mkdir(parents=True, exist_ok=True)
    try:
        dist = importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(dest), name],
            check=True,
            timeout=300,
        )
        info = next(dest.glob("*.dist-info"), None)
        version = importlib.metadata.Distribution.at(info).version if info is not None else "?"
        for extra in dest.glob("*.dist-info"):
            shutil.rmtree(extra)
        return version
    for file in dist.files or []:
        parts = Path(file).parts
        if not parts or parts[0].endswith(".dist-info") or ".." in parts or "__pycache__" in parts:
            continue
        source = Path(str(dist.locate_file(file)))
        if source.is_file():
            target = dest.joinpath(*parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
    return dist.version


def derive_questions(package: str, root: Path, per_kind: int = PER_KIND, seed: int = SEED) -> list[Question]:
    """Name and description questions for the documented public definitions under `root`."""
    found: list[tuple[str, str, str, int, int, str]] = []  # qualname, name, path, line, last line, doc
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        try:
            tree = parse_module(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError):
            continue
        found += _definitions(tree, rel)
    names: dict[str, int] = {}
    for qualname, *_ in found:
        names[qualname] = names.get(qualname, 0) + 1
    rng = random.Random(f"{seed}:{package}")
    by_name = [d for d in found if names[d[0]] == 1]
    described = [d for d in by_name if len(_content_words(d[5], d[1])) >= 3]
    out = [
        Question(package, "name", q, p, line, last, n, "")
        for q, n, p, line, last, _ in rng.sample(by_name, min(per_kind, len(by_name)))
    ]
    for qualname, name, where, line, last, doc in rng.sample(described, min(per_kind, len(described))):
        words = _content_words(doc, name)[:8]
        out.append(
            Question(
                package, "description", " ".join(words), where, line, last, qualname, max(words, key=len)
            )
        )
    return out


def _definitions(tree: ast.Module, rel: str) -> list[tuple[str, str, str, int, int, str]]:
    out = []

    def visit(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                qualname = f"{prefix}{node.name}"
                doc = ast.get_docstring(node) or ""
                if not node.name.startswith("_") and doc and node.body:
                    first = node.body[0]
                    last = getattr(first, "end_lineno", None) or node.lineno
                    out.append((qualname, node.name, rel, node.lineno, last, doc))
                if isinstance(node, ast.ClassDef):
                    visit(node.body, qualname + ".")

    visit(tree.body, "")
    return out


def _content_words(doc: str, name: str) -> list[str]:
    """The first sentence's words, lowercased, without stopwords, markup or the definition's own name."""
    first = re.split(r"(?<=[.!?])\s|\n\s*\n", doc.strip(), maxsplit=1)[0]
    own = {w.lower() for w in re.findall(r"[A-Za-z]+", re.sub(r"([a-z])([A-Z])", r"\1 \2", name))}
    own.add(name.lower())
    words = [w.lower() for w in re.findall(r"[A-Za-z]{3,}", first)]
    return list(dict.fromkeys(w for w in words if w not in STOPWORDS and w not in own))
