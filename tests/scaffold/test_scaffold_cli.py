"""`smallcode scaffold SPEC` as a real process in an empty directory, for each example spec in docs/scaffold/;
then the generated project's own tests, as `python -m pytest` there. Also: files in the way, a bad spec,
--out, and /undo taking a scaffold back (it went through the checkpointed workspace)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from agent_core.safety import checkpointing

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((REPO / "docs" / "scaffold").glob("*.toml"))


def smallcode(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agent_core.cli.main", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_there_are_two_example_specs() -> None:
    assert [p.name for p in EXAMPLES] == ["notes-api.toml", "todo-cli.toml"]


@pytest.mark.timeout(1200)
@pytest.mark.parametrize("spec", EXAMPLES, ids=lambda p: p.stem)
def test_the_scaffolded_project_passes_its_own_tests(spec: Path, tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    done = smallcode("scaffold", str(spec), "--json", cwd=project)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["files"] and all((project / f).is_file() for f in report["files"])
    assert "tests" in {Path(f).parts[0] for f in report["files"]}
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=1100,
        check=False,
    )
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-2000:]
    assert " passed" in tests.stdout and " failed" not in tests.stdout


def test_files_in_the_way_stop_it_before_anything_is_written(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("# mine\n")
    done = smallcode("scaffold", str(EXAMPLES[1]), cwd=tmp_path)
    assert done.returncode == 1
    assert "pyproject.toml already exists; nothing was written" in done.stderr
    assert "Traceback" not in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pyproject.toml"]
    assert (tmp_path / "pyproject.toml").read_text() == "# mine\n"


def test_a_bad_spec_is_one_line_and_exit_2(tmp_path: Path) -> None:
    spec = tmp_path / "bad.toml"
    spec.write_text('name = "shop"\nkind = "django"\n[entities.Item]\nname = "str"\n')
    done = smallcode("scaffold", str(spec), cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        'smallcode scaffold: bad.toml: kind: "fastapi" (a service with SQLite and tests) or "cli" (argparse and tests)'
    ]
    spec.write_text('name = "shop"\nkind = "cli"\n[entities.Item]\nprice = "money"\n')
    done = smallcode("scaffold", str(spec), cwd=tmp_path)
    assert done.returncode == 2 and "entities.Item.price: unknown type 'money'" in done.stderr


def test_out_and_undo(tmp_path: Path) -> None:
    done = smallcode("scaffold", str(EXAMPLES[1]), "--out", "tools/todo", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "tools" / "todo" / "todo" / "cli.py").is_file()
    assert "next: cd tools/todo && python -m pytest" in done.stdout
    # Written through the checkpointed workspace: /undo takes the whole scaffold back.
    outcome = checkpointing.undo(tmp_path)
    assert outcome["ok"], outcome
    assert not (tmp_path / "tools" / "todo" / "todo" / "cli.py").exists()
    outside = smallcode("scaffold", str(EXAMPLES[1]), "--out", "../elsewhere", cwd=tmp_path)
    assert outside.returncode == 1 and "outside the workspace" in outside.stderr
