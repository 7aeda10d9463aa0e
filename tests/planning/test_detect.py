"""Project detection on small fixture projects of each runtime, built in tmp_path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from agent_core.config import Settings
from agent_core.planning.detect import ProjectInfo, detect_project


def make(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


CASES: list[tuple[str, dict[str, str], dict[str, str | None]]] = [
    (
        "python-pip-pytest",
        {"requirements.txt": "flask>=3\npytest\n", "app.py": "print(1)\n"},
        {
            "runtime": "python",
            "package_manager": "pip",
            "framework": "flask",
            "test_command": "python -m pytest",
        },
    ),
    (
        "python-uv",
        {
            "pyproject.toml": '[project]\nname="x"\ndependencies=["fastapi"]\n[dependency-groups]\ndev=["pytest>=8"]\n',
            "uv.lock": "version = 1\n",
        },
        {
            "runtime": "python",
            "package_manager": "uv",
            "framework": "fastapi",
            "test_command": "uv run pytest",
        },
    ),
    (
        "python-poetry",
        {
            "pyproject.toml": "[tool.poetry]\nname='x'\n[tool.poetry.dependencies]\npython='^3.11'\ndjango='*'\n"
            "[tool.poetry.group.dev.dependencies]\npytest='*'\n",
            "poetry.lock": "",
        },
        {
            "runtime": "python",
            "package_manager": "poetry",
            "framework": "django",
            "test_command": "poetry run pytest",
        },
    ),
    (
        "python-pdm-no-tests",
        {"pyproject.toml": "[project]\nname='x'\n[tool.pdm]\n", "pdm.lock": ""},
        {"runtime": "python", "package_manager": "pdm", "framework": None, "test_command": None},
    ),
    (
        "python-unittest",
        {"setup.py": "from setuptools import setup\nsetup()\n", "tests/test_a.py": "import unittest\n"},
        {
            "runtime": "python",
            "package_manager": "pip",
            "framework": None,
            "test_command": "python -m unittest",
        },
    ),
    (
        "node-npm-react",
        {
            "package.json": json.dumps(
                {
                    "scripts": {"test": "vitest run"},
                    "dependencies": {"react": "18"},
                    "devDependencies": {"vite": "5"},
                }
            ),
            "package-lock.json": "{}",
        },
        {"runtime": "node", "package_manager": "npm", "framework": "react", "test_command": "npm test"},
    ),
    (
        "node-pnpm-next",
        {
            "package.json": json.dumps(
                {"scripts": {"test": "jest"}, "dependencies": {"next": "14", "react": "18"}}
            ),
            "pnpm-lock.yaml": "",
        },
        {"runtime": "node", "package_manager": "pnpm", "framework": "next", "test_command": "pnpm test"},
    ),
    (
        "node-yarn-express-placeholder-test",
        {
            "package.json": json.dumps(
                {
                    "scripts": {"test": 'echo "Error: no test specified" && exit 1'},
                    "dependencies": {"express": "4"},
                    "devDependencies": {"jest": "29"},
                }
            ),
            "yarn.lock": "",
        },
        {"runtime": "node", "package_manager": "yarn", "framework": "express", "test_command": "yarn jest"},
    ),
    (
        "node-bun",
        {"package.json": json.dumps({"dependencies": {"hono": "4"}}), "bun.lockb": ""},
        {"runtime": "node", "package_manager": "bun", "framework": "hono", "test_command": "bun test"},
    ),
    (
        "node-builtin-test-runner",
        {"package.json": "{}", "math.test.js": "require('node:test')\n"},
        {"runtime": "node", "package_manager": "npm", "framework": None, "test_command": "node --test"},
    ),
    (
        "deno",
        {"deno.jsonc": '{\n  // tasks\n  "tasks": {"test": "deno test -A"},\n}\n'},
        {"runtime": "deno", "package_manager": "deno", "framework": None, "test_command": "deno task test"},
    ),
    (
        "go-gin",
        {"go.mod": "module x\n\ngo 1.22\n\nrequire github.com/gin-gonic/gin v1.9.1\n"},
        {"runtime": "go", "package_manager": "go", "framework": "gin", "test_command": "go test ./..."},
    ),
    (
        "rust-axum",
        {"Cargo.toml": '[package]\nname="x"\nversion="0.1.0"\n[dependencies]\naxum="0.7"\ntokio="1"\n'},
        {"runtime": "rust", "package_manager": "cargo", "framework": "axum", "test_command": "cargo test"},
    ),
    (
        "java-maven-spring",
        {
            "pom.xml": "<project><parent><artifactId>spring-boot-starter-parent</artifactId></parent></project>"
        },
        {
            "runtime": "java",
            "package_manager": "maven",
            "framework": "spring-boot",
            "test_command": "mvn test",
        },
    ),
    (
        "java-gradle-wrapper",
        {"build.gradle.kts": 'plugins { kotlin("jvm") }\n', "gradlew": "#!/bin/sh\n"},
        {"runtime": "java", "package_manager": "gradle", "framework": None, "test_command": "./gradlew test"},
    ),
    (
        "ruby-rails-rspec",
        {"Gemfile": "source 'https://rubygems.org'\ngem 'rails', '~> 7'\ngem 'rspec-rails'\n"},
        {
            "runtime": "ruby",
            "package_manager": "bundler",
            "framework": "rails",
            "test_command": "bundle exec rspec",
        },
    ),
    (
        "php-laravel-phpunit",
        {
            "composer.json": json.dumps(
                {"require": {"laravel/framework": "^11"}, "require-dev": {"phpunit/phpunit": "^10"}}
            )
        },
        {
            "runtime": "php",
            "package_manager": "composer",
            "framework": "laravel",
            "test_command": "vendor/bin/phpunit",
        },
    ),
    (
        "dotnet-web",
        {"App.csproj": '<Project Sdk="Microsoft.NET.Sdk.Web"></Project>'},
        {
            "runtime": "dotnet",
            "package_manager": "dotnet",
            "framework": "aspnetcore",
            "test_command": "dotnet test",
        },
    ),
    (
        "empty",
        {"README.md": "# nothing here\n"},
        {"runtime": None, "package_manager": None, "framework": None, "test_command": None},
    ),
]


@pytest.mark.parametrize(("files", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_detects_each_runtime(tmp_path: Path, files: dict[str, str], expected: dict[str, str | None]) -> None:
    info = detect_project(make(tmp_path, files))
    assert info.public() == expected


def test_python_project_with_frontend_tooling_lists_node_too(tmp_path: Path) -> None:
    make(tmp_path, {"pyproject.toml": "[project]\nname='x'\n[tool.ruff]\n", "package.json": "{}"})
    info = detect_project(tmp_path)
    assert (info.runtime, info.also, info.linter) == ("python", ["node"], "ruff")


def test_loose_python_scripts_do_not_outrank_a_node_project(tmp_path: Path) -> None:
    make(tmp_path, {"package.json": json.dumps({"scripts": {"test": "mocha"}}), "gen.py": "print(1)\n"})
    info = detect_project(tmp_path)
    assert (info.runtime, info.test_command, info.also) == ("node", "npm test", ["python"])


def test_settings_override_and_disable_the_test_command(tmp_path: Path) -> None:
    make(tmp_path, {"go.mod": "module x\n"})
    assert detect_project(tmp_path, Settings(test_runner="make check")).test_command == "make check"
    assert (
        detect_project(tmp_path, Settings(test_runner="make check", test_disable=True)).test_command is None
    )


def test_broken_manifests_do_not_break_detection(tmp_path: Path) -> None:
    make(tmp_path, {"package.json": "{not json", "pyproject.toml": "[[[", "requirements.txt": "pytest\n"})
    info = detect_project(tmp_path)
    assert (info.runtime, info.test_command, info.also) == ("python", "python -m pytest", ["node"])


def test_missing_directory_is_unknown(tmp_path: Path) -> None:
    assert detect_project(tmp_path / "nope") == ProjectInfo()


def test_prompt_lines_are_short_and_name_the_test_command() -> None:
    info = ProjectInfo(
        runtime="python",
        package_manager="uv",
        framework="fastapi",
        test_command="uv run pytest",
        linter="ruff",
    )
    text = info.prompt_lines()
    assert text.splitlines() == [
        "Project: python (uv), framework fastapi.",
        "Run the tests with: uv run pytest",
        "Linter: ruff.",
    ]
    assert ProjectInfo().prompt_lines() == ""
    assert "No test command" in ProjectInfo(runtime="go", package_manager="go").prompt_lines()


def _smallcode(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agent_core.cli.main", *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_detect_json_prints_exactly_one_object(tmp_path: Path) -> None:
    project = make(tmp_path / "proj", {"Cargo.toml": "[package]\nname='x'\n[dependencies]\nclap='4'\n"})
    result = _smallcode("detect", "--json", "--cwd", str(project), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "runtime": "rust",
        "package_manager": "cargo",
        "framework": "clap",
        "test_command": "cargo test",
    }


def test_cli_detect_honours_the_global_cwd_and_env_overrides(tmp_path: Path) -> None:
    project = make(tmp_path / "proj", {"go.mod": "module x\n"})
    result = _smallcode(
        "--cwd",
        str(project),
        "detect",
        "--json",
        cwd=tmp_path,
        env={"SMALLCODE_TEST_RUNNER": "go test ./pkg/..."},
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["test_command"] == "go test ./pkg/..."
    # .env in the project turns tests off.
    (project / ".env").write_text("SMALLCODE_TEST_DISABLE=true\n")
    result = _smallcode("detect", "--json", cwd=project)
    assert json.loads(result.stdout) == {
        "runtime": "go",
        "package_manager": "go",
        "framework": None,
        "test_command": None,
    }


def test_cli_detect_readable_output_and_bad_directory(tmp_path: Path) -> None:
    project = make(tmp_path / "proj", {"requirements.txt": "pytest\n"})
    result = _smallcode("detect", "--cwd", str(project), cwd=tmp_path)
    assert result.returncode == 0
    assert "runtime          python" in result.stdout
    assert "test command     python -m pytest" in result.stdout
    assert "framework        (unknown)" in result.stdout
    bad = _smallcode("detect", "--cwd", str(tmp_path / "missing"), cwd=tmp_path)
    assert bad.returncode == 2
    assert bad.stdout == ""
    assert "is not a directory" in bad.stderr and "Traceback" not in bad.stderr
