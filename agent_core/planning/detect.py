"""Project detection: runtime, package manager, framework, test command and linter, from files alone.

Runs on the first turn, before the model makes any tool call, so even a small model starts out knowing how to
run the project's tests. Only the workspace root is looked at (plus a shallow look for test files): cheap,
deterministic, no subprocesses. When several runtimes are present (a Python service with a package.json for
front-end tooling), the first match in `_DETECTORS` wins and the others are listed in `ProjectInfo.also`.

SMALLCODE_TEST_RUNNER (settings.test_runner) replaces the detected test command; SMALLCODE_TEST_DISABLE
(settings.test_disable) turns it off.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from agent_core.config import Settings

# Directories never searched for test files (vendored code, environments, build output).
_SKIP_DIRS = {".git", ".hg", ".venv", "venv", "env", "node_modules", "__pycache__", "build", "dist", "target"}


class ProjectInfo(BaseModel):
    """What the agent knows about the project before it starts. None where unknown."""

    runtime: str | None = None
    """python, node, deno, go, rust, java, ruby, php, dotnet, elixir."""
    package_manager: str | None = None
    """pip, uv, poetry, pdm, pipenv, hatch, npm, pnpm, yarn, bun, deno, go, cargo, maven, gradle, bundler, …"""
    framework: str | None = None
    """The main framework or test framework worth telling the model about (django, react, next, gin, …)."""
    test_command: str | None = None
    """Shell command that runs the tests from the project root."""
    linter: str | None = None
    """A linter the project configures and the validator may run (ruff, eslint)."""
    also: list[str] = Field(default_factory=list)
    """Other runtimes found at the root (e.g. node next to python)."""

    def public(self) -> dict[str, str | None]:
        """The `smallcode detect --json` object (a public interface: exactly these four keys)."""
        return {
            "runtime": self.runtime,
            "package_manager": self.package_manager,
            "framework": self.framework,
            "test_command": self.test_command,
        }

    def prompt_lines(self) -> str:
        """A few lines for the system prompt; empty when nothing was detected."""
        if self.runtime is None:
            return ""
        head = f"Project: {self.runtime}"
        if self.package_manager and self.package_manager != self.runtime:
            head += f" ({self.package_manager})"
        if self.framework:
            head += f", framework {self.framework}"
        if self.also:
            head += f"; also {', '.join(self.also)}"
        lines = [head + "."]
        if self.test_command:
            lines.append(f"Run the tests with: {self.test_command}")
        else:
            lines.append("No test command detected.")
        if self.linter:
            lines.append(f"Linter: {self.linter}.")
        return "\n".join(lines)


def detect_project(root: Path, settings: Settings | None = None) -> ProjectInfo:
    """Detect what kind of project `root` is; `settings` may override or disable the test command."""
    root = Path(root)
    found: list[ProjectInfo] = []
    if root.is_dir():
        for detector in _DETECTORS:
            try:
                info = detector(root)
            except OSError:  # an unreadable manifest should not stop detection of the rest
                info = None
            if info is not None:
                found.append(info)
    info = found[0] if found else ProjectInfo()
    info.also = list(dict.fromkeys(o.runtime for o in found[1:] if o.runtime and o.runtime != info.runtime))
    if settings is not None:
        if settings.test_runner:
            info.test_command = settings.test_runner.strip() or None
        if settings.test_disable:
            info.test_command = None
    return info


# --- helpers ---------------------------------------------------------------------------------------------


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(_read_text(path))
    except json.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}


def _read_jsonc(path: Path) -> dict[str, Any]:
    """deno.jsonc / tsconfig-style JSON with comments and trailing commas, parsed forgivingly."""
    text = _read_text(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        from json_repair import repair_json

        data = repair_json(re.sub(r"(?m)^\s*//.*$", "", text), return_objects=True)
    return data if isinstance(data, dict) else {}


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(_read_text(path))
    except tomllib.TOMLDecodeError:
        return {}


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _exists(root: Path, *names: str) -> bool:
    return any((root / name).exists() for name in names)


def _first_in(names: Iterable[str], table: list[tuple[str, str]]) -> str | None:
    """The first framework in `table` (ordered by priority) whose package name is among `names`."""
    lowered = {n.lower() for n in names}
    for package, framework in table:
        if package.endswith("*"):
            if any(n.startswith(package[:-1]) for n in lowered):
                return framework
        elif package in lowered:
            return framework
    return None


def _iter_files(root: Path, max_depth: int = 3, limit: int = 2000) -> Iterable[Path]:
    """Files under root, shallow and bounded, skipping vendored and generated directories."""
    stack = [(root, 0)]
    seen = 0
    while stack:
        folder, depth = stack.pop()
        try:
            entries = sorted(folder.iterdir())
        except OSError:
            continue
        for entry in entries:
            seen += 1
            if seen > limit:
                return
            if entry.is_dir():
                if depth < max_depth and entry.name not in _SKIP_DIRS and not entry.name.startswith("."):
                    stack.append((entry, depth + 1))
            else:
                yield entry


# --- Python ----------------------------------------------------------------------------------------------

_PY_FRAMEWORKS = [
    ("django", "django"),
    ("fastapi", "fastapi"),
    ("flask", "flask"),
    ("starlette", "starlette"),
    ("aiohttp", "aiohttp"),
    ("tornado", "tornado"),
    ("streamlit", "streamlit"),
    ("typer", "typer"),
    ("click", "click"),
]


def _requirement_names(lines: Iterable[str]) -> set[str]:
    names = set()
    for line in lines:
        match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", line)
        if match and not line.lstrip().startswith(("#", "-")):
            names.add(match.group(1).lower().replace("_", "-"))
    return names


def _python_dependencies(root: Path, pyproject: dict[str, Any]) -> set[str]:
    """Every dependency name the project mentions: runtime, optional, dev groups, poetry, requirements*.txt."""
    specs: list[str] = []
    project = pyproject.get("project", {})
    specs += project.get("dependencies", []) or []
    for group in (project.get("optional-dependencies", {}) or {}).values():
        specs += group
    for group in (pyproject.get("dependency-groups", {}) or {}).values():
        specs += [s for s in group if isinstance(s, str)]
    poetry = pyproject.get("tool", {}).get("poetry", {})
    names = set()
    for table in [poetry.get("dependencies", {}), poetry.get("dev-dependencies", {})] + [
        g.get("dependencies", {}) for g in (poetry.get("group", {}) or {}).values()
    ]:
        names |= {str(n).lower() for n in table}
    for req in sorted(root.glob("requirements*.txt")) + sorted(root.glob("requirements/*.txt")):
        specs += _read_text(req).splitlines()
    names |= _requirement_names(s for s in specs if isinstance(s, str))
    pipfile = root / "Pipfile"
    if pipfile.is_file():
        data = _read_toml(pipfile)
        names |= {str(n).lower() for n in data.get("packages", {})}
        names |= {str(n).lower() for n in data.get("dev-packages", {})}
    return names


def _python_test_command(root: Path, pyproject: dict[str, Any], deps: set[str], runner: str) -> str | None:
    def wrap(cmd: str) -> str:
        return f"{runner} {cmd}" if runner else f"python -m {cmd}"

    uses_pytest = (
        "pytest" in deps
        or "pytest" in pyproject.get("tool", {})
        or _exists(root, "pytest.ini", "conftest.py", "tests/conftest.py")
        or "[pytest]" in _read_text(root / "tox.ini")
        or "[tool:pytest]" in _read_text(root / "setup.cfg")
    )
    if uses_pytest:
        return wrap("pytest")
    test_files = [
        p
        for p in _iter_files(root)
        if p.suffix == ".py" and (p.name.startswith("test_") or p.name.endswith("_test.py"))
    ]
    if not test_files:
        return None
    if (root / "manage.py").is_file() and "django" in deps:
        return f"{runner} python manage.py test" if runner else "python manage.py test"
    # pytest collects unittest-style tests too; prefer plain unittest only when nothing else mentions pytest.
    if all("import pytest" not in _read_text(p) for p in test_files[:20]):
        return f"{runner} python -m unittest" if runner else "python -m unittest"
    return wrap("pytest")


_PY_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", "Pipfile", "uv.lock", "poetry.lock", "pdm.lock")


def _detect_python(root: Path) -> ProjectInfo | None:
    """A Python project: a manifest, a lock file or requirements*.txt at the root."""
    if not _exists(root, *_PY_MARKERS) and not any(root.glob("requirements*.txt")):
        return None
    return _python_info(root)


def _detect_python_scripts(root: Path) -> ProjectInfo | None:
    """Loose Python files with no manifest: weaker evidence, so tried after every other runtime."""
    return _python_info(root) if any(root.glob("*.py")) else None


def _python_info(root: Path) -> ProjectInfo:
    pyproject = _read_toml(root / "pyproject.toml") if (root / "pyproject.toml").is_file() else {}
    tool = pyproject.get("tool", {})
    if (root / "uv.lock").is_file():
        manager, runner = "uv", "uv run"
    elif (root / "poetry.lock").is_file() or "poetry" in tool:
        manager, runner = "poetry", "poetry run"
    elif (root / "pdm.lock").is_file() or "pdm" in tool:
        manager, runner = "pdm", "pdm run"
    elif _exists(root, "Pipfile", "Pipfile.lock"):
        manager, runner = "pipenv", "pipenv run"
    elif "uv" in tool:
        manager, runner = "uv", "uv run"
    elif "hatch" in tool and "envs" in tool["hatch"]:
        manager, runner = "hatch", ""
    else:
        manager, runner = "pip", ""
    deps = _python_dependencies(root, pyproject)
    test_command = _python_test_command(root, pyproject, deps, runner)
    if manager == "hatch" and test_command:
        test_command = "hatch test" if "pytest" in test_command else f"hatch run {test_command}"
    ruff_configured = "ruff" in tool or _exists(root, "ruff.toml", ".ruff.toml")
    return ProjectInfo(
        runtime="python",
        package_manager=manager,
        framework=_first_in(deps, _PY_FRAMEWORKS) or ("django" if (root / "manage.py").is_file() else None),
        test_command=test_command,
        linter="ruff" if ruff_configured else None,
    )


# --- Node / Deno -----------------------------------------------------------------------------------------

_NODE_FRAMEWORKS = [
    ("next", "next"),
    ("nuxt", "nuxt"),
    ("@remix-run/*", "remix"),
    ("@sveltejs/kit", "sveltekit"),
    ("astro", "astro"),
    ("@angular/core", "angular"),
    ("@nestjs/core", "nestjs"),
    ("gatsby", "gatsby"),
    ("electron", "electron"),
    ("react-native", "react-native"),
    ("vue", "vue"),
    ("svelte", "svelte"),
    ("solid-js", "solid"),
    ("react", "react"),
    ("express", "express"),
    ("fastify", "fastify"),
    ("koa", "koa"),
    ("hono", "hono"),
    ("vite", "vite"),
]

# `npm init` writes this test script; it is not a test command.
_NPM_PLACEHOLDER = re.compile(r"no test specified", re.IGNORECASE)


def _node_manager(root: Path, package: dict[str, Any]) -> str:
    if _exists(root, "bun.lockb", "bun.lock"):
        return "bun"
    if (root / "pnpm-lock.yaml").is_file():
        return "pnpm"
    if (root / "yarn.lock").is_file():
        return "yarn"
    if _exists(root, "package-lock.json", "npm-shrinkwrap.json"):
        return "npm"
    declared = str(package.get("packageManager", "")).split("@")[0]
    return declared if declared in {"npm", "pnpm", "yarn", "bun"} else "npm"


def _detect_node(root: Path) -> ProjectInfo | None:
    if not (root / "package.json").is_file():
        return None
    package = _read_json(root / "package.json")
    manager = _node_manager(root, package)
    deps: set[str] = set()
    for key in ("dependencies", "devDependencies", "peerDependencies"):
        table = package.get(key)
        if isinstance(table, dict):
            deps |= set(table)
    scripts = _dict(package.get("scripts"))
    test_script = str(scripts.get("test", "")).strip()
    runx = {"npm": "npx", "pnpm": "pnpm exec", "yarn": "yarn", "bun": "bunx"}[manager]
    test_command: str | None
    if test_script and not _NPM_PLACEHOLDER.search(test_script):
        # `bun test` is bun's own runner, not the script; `bun run test` is the script.
        test_command = {"npm": "npm test", "pnpm": "pnpm test", "yarn": "yarn test", "bun": "bun run test"}[
            manager
        ]
    elif "vitest" in deps:
        test_command = f"{runx} vitest run"
    elif "jest" in deps:
        test_command = f"{runx} jest"
    elif "mocha" in deps:
        test_command = f"{runx} mocha"
    elif manager == "bun":
        test_command = "bun test"
    elif any(
        re.search(r"\.(test|spec)\.[cm]?js$", p.name) or p.parent.name == "test" and p.suffix == ".js"
        for p in _iter_files(root)
    ):
        test_command = "node --test"
    else:
        test_command = None
    eslint_configured = bool(list(root.glob("eslint.config.*")) or list(root.glob(".eslintrc*"))) or (
        "eslintConfig" in package
    )
    return ProjectInfo(
        runtime="node",
        package_manager=manager,
        framework=_first_in(deps, _NODE_FRAMEWORKS),
        test_command=test_command,
        linter="eslint" if eslint_configured and "eslint" in deps else None,
    )


def _detect_deno(root: Path) -> ProjectInfo | None:
    config = next((root / n for n in ("deno.json", "deno.jsonc") if (root / n).is_file()), None)
    if config is None:
        return None
    data = _read_jsonc(config)
    tasks = _dict(data.get("tasks"))
    imports = _dict(data.get("imports"))
    specs = " ".join(list(imports) + [str(v) for v in imports.values()])
    framework = None
    for needle, name in (("fresh", "fresh"), ("oak", "oak"), ("hono", "hono")):
        if needle in specs:
            framework = name
            break
    return ProjectInfo(
        runtime="deno",
        package_manager="deno",
        framework=framework,
        test_command="deno task test" if "test" in tasks else "deno test",
    )


# --- Go, Rust, JVM, Ruby, PHP, .NET, Elixir ----------------------------------------------------------------


def _detect_go(root: Path) -> ProjectInfo | None:
    if not (root / "go.mod").is_file():
        return None
    text = _read_text(root / "go.mod")
    framework = None
    for module, name in (
        ("github.com/gin-gonic/gin", "gin"),
        ("github.com/labstack/echo", "echo"),
        ("github.com/gofiber/fiber", "fiber"),
        ("github.com/go-chi/chi", "chi"),
        ("github.com/gorilla/mux", "gorilla"),
        ("github.com/spf13/cobra", "cobra"),
    ):
        if module in text:
            framework = name
            break
    return ProjectInfo(runtime="go", package_manager="go", framework=framework, test_command="go test ./...")


def _detect_rust(root: Path) -> ProjectInfo | None:
    if not (root / "Cargo.toml").is_file():
        return None
    cargo = _read_toml(root / "Cargo.toml")
    deps = set(cargo.get("dependencies", {}) or {}) | set(cargo.get("dev-dependencies", {}) or {})
    deps |= set((cargo.get("workspace", {}) or {}).get("dependencies", {}) or {})
    framework = _first_in(
        deps,
        [
            ("actix-web", "actix-web"),
            ("axum", "axum"),
            ("rocket", "rocket"),
            ("warp", "warp"),
            ("tauri", "tauri"),
            ("leptos", "leptos"),
            ("bevy", "bevy"),
            ("clap", "clap"),
        ],
    )
    return ProjectInfo(
        runtime="rust", package_manager="cargo", framework=framework, test_command="cargo test"
    )


def _jvm_framework(text: str) -> str | None:
    for needle, name in (
        ("spring-boot", "spring-boot"),
        ("org.springframework", "spring"),
        ("quarkus", "quarkus"),
        ("micronaut", "micronaut"),
        ("ktor", "ktor"),
    ):
        if needle in text:
            return name
    return None


def _detect_java(root: Path) -> ProjectInfo | None:
    if (root / "pom.xml").is_file():
        command = "./mvnw test" if (root / "mvnw").is_file() else "mvn test"
        return ProjectInfo(
            runtime="java",
            package_manager="maven",
            framework=_jvm_framework(_read_text(root / "pom.xml")),
            test_command=command,
        )
    build = next(
        (root / n for n in ("build.gradle.kts", "build.gradle") if (root / n).is_file()),
        None,
    )
    if build is None and not _exists(root, "settings.gradle", "settings.gradle.kts"):
        return None
    command = "./gradlew test" if (root / "gradlew").is_file() else "gradle test"
    return ProjectInfo(
        runtime="java",
        package_manager="gradle",
        framework=_jvm_framework(_read_text(build)) if build else None,
        test_command=command,
    )


def _detect_ruby(root: Path) -> ProjectInfo | None:
    if not (root / "Gemfile").is_file():
        return None
    gemfile = _read_text(root / "Gemfile")
    gems = set(re.findall(r"""^\s*gem\s+['"]([^'"]+)['"]""", gemfile, re.MULTILINE))
    framework = _first_in(gems, [("rails", "rails"), ("sinatra", "sinatra"), ("hanami", "hanami")])
    if "rspec" in gems or "rspec-rails" in gems or _exists(root, ".rspec", "spec"):
        test_command = "bundle exec rspec"
    elif framework == "rails":
        test_command = "bin/rails test"
    elif _exists(root, "Rakefile", "test"):
        test_command = "bundle exec rake test"
    else:
        test_command = None
    return ProjectInfo(
        runtime="ruby", package_manager="bundler", framework=framework, test_command=test_command
    )


def _detect_php(root: Path) -> ProjectInfo | None:
    if not (root / "composer.json").is_file():
        return None
    composer = _read_json(root / "composer.json")
    deps: set[str] = set()
    for key in ("require", "require-dev"):
        table = composer.get(key)
        if isinstance(table, dict):
            deps |= set(table)
    scripts = _dict(composer.get("scripts"))
    if "test" in scripts:
        test_command: str | None = "composer test"
    elif "pestphp/pest" in deps:
        test_command = "vendor/bin/pest"
    elif "phpunit/phpunit" in deps or _exists(root, "phpunit.xml", "phpunit.xml.dist"):
        test_command = "vendor/bin/phpunit"
    else:
        test_command = None
    framework = _first_in(
        deps,
        [("laravel/framework", "laravel"), ("symfony/*", "symfony"), ("slim/slim", "slim")],
    )
    return ProjectInfo(
        runtime="php", package_manager="composer", framework=framework, test_command=test_command
    )


def _detect_dotnet(root: Path) -> ProjectInfo | None:
    projects = [
        p for pattern in ("*.sln", "*.csproj", "*.fsproj", "*.vbproj") for p in sorted(root.glob(pattern))
    ]
    if not projects and not (root / "global.json").is_file():
        return None
    framework = None
    for proj in projects:
        text = _read_text(proj)
        if "Microsoft.NET.Sdk.Web" in text or "Microsoft.AspNetCore" in text:
            framework = "aspnetcore"
            break
        if "Microsoft.NET.Sdk.BlazorWebAssembly" in text:
            framework = "blazor"
            break
    return ProjectInfo(
        runtime="dotnet", package_manager="dotnet", framework=framework, test_command="dotnet test"
    )


def _detect_elixir(root: Path) -> ProjectInfo | None:
    if not (root / "mix.exs").is_file():
        return None
    framework = "phoenix" if ":phoenix" in _read_text(root / "mix.exs") else None
    return ProjectInfo(runtime="elixir", package_manager="mix", framework=framework, test_command="mix test")


# Most specific first: their manifests rarely appear as side tooling in another runtime's project. Python
# comes before Node because a package.json next to pyproject.toml is usually front-end tooling.
_DETECTORS: list[Callable[[Path], ProjectInfo | None]] = [
    _detect_go,
    _detect_rust,
    _detect_java,
    _detect_dotnet,
    _detect_elixir,
    _detect_ruby,
    _detect_php,
    _detect_deno,
    _detect_python,
    _detect_node,
    _detect_python_scripts,
]
