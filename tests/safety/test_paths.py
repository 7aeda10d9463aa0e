"""Workspace confinement: path tricks, symlink escapes, sensitive places, and a property test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent_core.safety.paths import PathError, fold, resolve_in_workspace, sensitive_reason


@pytest.fixture
def ws(layout: dict[str, Path]) -> Path:
    ws = layout["ws"]
    outside = layout["outside"]
    os.symlink(outside, ws / "link_dir_out")  # intermediate component escapes
    os.symlink(outside / "secret.txt", ws / "link_file_out")  # final component escapes
    os.symlink(outside / "missing.txt", ws / "dangling_out")  # dangling, pointing outside
    os.symlink("src", ws / "link_in")  # stays inside
    os.symlink(".git", ws / "innocent")  # an innocent name for git's internals
    os.symlink(ws / ".env", ws / "settings.txt")  # an innocent name for the .env file
    os.symlink("loop_b", ws / "loop_a")
    os.symlink("loop_a", ws / "loop_b")
    os.mkfifo(ws / "pipe")
    return ws


REFUSED = {
    "": "empty",
    "   ": "empty",
    "../outside/secret.txt": "outside the workspace",
    "src/../../outside/victim.py": "outside the workspace",
    "/etc/passwd": "outside the workspace",
    "~/.bashrc": "outside the workspace",
    "link_dir_out/secret.txt": "through a symlink",
    "link_file_out": "through a symlink",
    "dangling_out": "through a symlink",
    "link_dir_out/new_file.py": "through a symlink",
    "src\x00.py": "NUL byte",
    "a/" * 2100 + "x": "longer than 4096",
    "x" * 300 + ".py": "longer than 255",
    ".git/config": ".git",
    ".git/hooks/pre-commit": ".git",
    ".GIT/config": ".git",
    ".Git./hooks/post-checkout": ".git",
    ".g\u200cit/config": ".git",
    "GIT~1/config": ".git",
    "src/../.git/HEAD": ".git",
    "innocent/config": ".git",
    "sub/module/.git": ".git",
    ".env": "environment file",
    ".ENV": "environment file",
    ".env.local": "environment file",
    "config/prod.env": "environment file",
    "settings.txt": "environment file",
    "deploy.pem": "private key",
    "keys/server.KEY": "private key",
    ".ssh/id_rsa": "private key",
    "id_ed25519": "private key",
    "loop_a": "symlink loop",
    "pipe": "pipe, socket or device",
}


@pytest.mark.parametrize("path", list(REFUSED), ids=[repr(p)[:40] for p in REFUSED])
def test_refused_paths(ws: Path, path: str) -> None:
    with pytest.raises(PathError) as err:
        resolve_in_workspace(ws, path)
    message = str(err.value)
    assert REFUSED[path] in message
    assert "\n" not in message  # one line, written for the model


ACCEPTED = {
    "src/app.py": "src/app.py",
    "./src/../src/app.py": "src/app.py",
    "link_in/app.py": "src/app.py",
    "new/dir/file.py": "new/dir/file.py",
    ".env.example": ".env.example",
    ".gitignore": ".gitignore",
    ".github/workflows/ci.yml": ".github/workflows/ci.yml",
    "deploy.pem.pub": "deploy.pem.pub",
    "id_rsa.pub": "id_rsa.pub",
    ".smallcode/plan.md": ".smallcode/plan.md",
    "  src/app.py  ": "src/app.py",
}


@pytest.mark.parametrize("path", list(ACCEPTED))
def test_accepted_paths(ws: Path, path: str) -> None:
    assert resolve_in_workspace(ws, path) == ws.resolve() / ACCEPTED[path]


def test_absolute_path_inside_is_accepted(ws: Path) -> None:
    assert resolve_in_workspace(ws, str(ws / "src" / "app.py")) == ws.resolve() / "src" / "app.py"


def test_env_files_allowed_when_the_user_says_so(ws: Path) -> None:
    assert resolve_in_workspace(ws, ".env", allow_env_files=True) == ws.resolve() / ".env"
    with pytest.raises(PathError):
        resolve_in_workspace(ws, ".git/config", allow_env_files=True)


def test_fold_matches_case_insensitive_file_systems() -> None:
    assert {fold(n) for n in (".GIT", ".Git.", ".git ", ".g\u200dit", "\ufeff.git")} == {".git"}
    assert sensitive_reason(["A", "B", "ID_RSA"]) is not None
    assert sensitive_reason(["README.md"]) is None


# --- property: no accepted path resolves outside the root ------------------------------------------------

COMPONENTS = st.sampled_from(
    ["..", ".", "", "src", "app.py", "link_dir_out", "link_file_out", "dangling_out", "link_in", "innocent",
     "loop_a", ".git", ".GIT", "~", "outside", "secret.txt", "x\x00", "新しい", "a b", "..."]
)  # fmt: skip


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=st.lists(COMPONENTS, min_size=1, max_size=8), absolute=st.booleans(), tail=st.text(max_size=12))
def test_no_accepted_path_leaves_the_root(ws: Path, parts: list[str], absolute: bool, tail: str) -> None:
    path = "/".join(parts) + tail
    if absolute:
        path = str(ws) + "/" + path
    root = ws.resolve()
    try:
        resolved = resolve_in_workspace(ws, path)
    except PathError:
        return
    real = Path(os.path.realpath(resolved))
    assert real == root or root in real.parents, (path, real)
    rel = real.relative_to(root).parts
    assert not any(fold(p) == ".git" for p in rel)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.text(max_size=300))
def test_arbitrary_text_never_raises_anything_but_path_error(ws: Path, path: str) -> None:
    try:
        resolved = resolve_in_workspace(ws, path)
    except PathError:
        return
    assert ws.resolve() == resolved or ws.resolve() in resolved.parents


def test_a_symlink_loop_on_the_way_does_not_hide_a_link_out(ws: Path) -> None:
    # Path.resolve() stops at the loop and applies `..` as text: `loop_a/../link_dir_out` resolved to the
    # workspace's link_dir_out, a symlink to the folder outside, and was accepted.
    with pytest.raises(PathError, match="symlink loop"):
        resolve_in_workspace(ws, "loop_a/../link_dir_out")
    with pytest.raises(PathError):
        resolve_in_workspace(ws, "loop_a/../link_dir_out/secret.txt")
