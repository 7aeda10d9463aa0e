"""The code index in .smallcode/index.db: incremental updates (mtime and size, then the hash), .gitignore,
deleted files, editor buffers, the background thread, and a damaged database."""

from __future__ import annotations

import os
import time
from pathlib import Path

from agent_core.memory.graph.index import CodeIndex
from agent_core.memory.graph.store import GraphStore, index_path


def names(root: Path) -> dict[str, list[str]]:
    store = GraphStore(index_path(root))
    try:
        out: dict[str, list[str]] = {}
        for s in store.symbols("ORDER BY f.path, s.line"):
            out.setdefault(s.path, []).append(s.qualname)
        return out
    finally:
        store.close()


def write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_only_changed_files_are_parsed_again(tmp_path: Path) -> None:
    for i in range(5):
        write(tmp_path, f"pkg/mod{i}.py", f"def f{i}():\n    return {i}\n")
    index = CodeIndex(tmp_path)
    first = index.update_all()
    assert (first.parsed, first.unchanged) == (5, 0)
    again = index.update_all()
    assert (again.parsed, again.unchanged) == (0, 5)
    write(tmp_path, "pkg/mod1.py", "def g1():\n    return 1\n")
    os.utime(tmp_path / "pkg/mod2.py", ns=(time.time_ns(), time.time_ns() + 10**9))  # touched, same bytes
    third = index.update_all()
    assert (third.parsed, third.unchanged) == (1, 4)  # mod2's hash matched: not parsed
    assert names(tmp_path)["pkg/mod1.py"] == ["g1"]
    fourth = index.update_all()
    assert (fourth.parsed, fourth.unchanged) == (0, 5)  # mod2's new mtime was kept


def test_one_changed_file_is_updated_without_touching_the_rest(tmp_path: Path) -> None:
    # How fast this is, is measured by `smallcode bench retrieval` (index timings), not asserted here.
    body = "".join(f"def fn_{i}(x):\n    return helper(x) + {i}\n\n\n" for i in range(300))
    for i in range(20):
        write(tmp_path, f"m{i}.py", body)
    index = CodeIndex(tmp_path)
    index.update_all()
    write(tmp_path, "m3.py", body + "def added():\n    return 1\n")
    stats = index.update_paths(["m3.py"])
    assert (stats.parsed, stats.unchanged, stats.removed) == (1, 0, 0)
    indexed = names(tmp_path)
    assert indexed["m3.py"][-1] == "added" and len(indexed["m3.py"]) == 301
    assert all(len(indexed[f"m{i}.py"]) == 300 for i in range(20) if i != 3)
    assert index.update_all().parsed == 0  # the one update left the index current


def test_gitignored_files_and_folders_are_left_out(tmp_path: Path) -> None:
    write(tmp_path, ".gitignore", "build/\n*_generated.py\n")
    write(tmp_path, "app.py", "def main():\n    pass\n")
    write(tmp_path, "build/out.py", "def built():\n    pass\n")
    write(tmp_path, "schema_generated.py", "def generated():\n    pass\n")
    write(tmp_path, "vendor/.gitignore", "*.js\n")
    write(tmp_path, "vendor/lib.js", "function vendored() {}\n")
    write(tmp_path, "vendor/keep.go", "package v\nfunc Kept() {}\n")
    write(tmp_path, "node_modules/dep/index.js", "function dep() {}\n")
    write(tmp_path, ".venv/lib/site.py", "def site():\n    pass\n")
    index = CodeIndex(tmp_path)
    index.update_all()
    assert names(tmp_path) == {"app.py": ["main"], "vendor/keep.go": ["Kept"]}
    # A file the editor saves into an ignored folder is not indexed either.
    index.update_paths(["build/out.py", "schema_generated.py"])
    assert set(names(tmp_path)) == {"app.py", "vendor/keep.go"}


def test_deleted_files_leave_the_index(tmp_path: Path) -> None:
    write(tmp_path, "a.py", "def a():\n    pass\n")
    write(tmp_path, "b.py", "def b():\n    pass\n")
    index = CodeIndex(tmp_path)
    index.update_all()
    (tmp_path / "a.py").unlink()
    assert index.update_all().removed == 1
    (tmp_path / "b.py").unlink()
    assert index.update_paths(["b.py"]).removed == 1
    assert names(tmp_path) == {}


def test_an_editor_buffer_is_indexed_until_the_file_changes_on_disk(tmp_path: Path) -> None:
    write(tmp_path, "a.py", "def saved():\n    pass\n")
    index = CodeIndex(tmp_path)
    index.update_all()
    index.update_paths([], {"a.py": "def unsaved():\n    pass\n"})
    assert names(tmp_path) == {"a.py": ["unsaved"]}
    index.update_all()  # the file on disk did not change: the buffer's version stays
    assert names(tmp_path) == {"a.py": ["unsaved"]}
    write(tmp_path, "a.py", "def on_disk():\n    pass\n")
    os.utime(tmp_path / "a.py", ns=(time.time_ns(), time.time_ns() + 10**9))
    index.update_all()
    assert names(tmp_path) == {"a.py": ["on_disk"]}


def test_the_background_thread_takes_refreshes_and_notifications(tmp_path: Path) -> None:
    write(tmp_path, "a.py", "def a():\n    pass\n")
    index = CodeIndex(tmp_path)
    index.refresh()
    assert index.wait(60) and index.built and index.error is None
    assert names(tmp_path) == {"a.py": ["a"]}
    write(tmp_path, "b.py", "def b():\n    pass\n")
    index.notify([tmp_path / "b.py", "/elsewhere/c.py"])  # a path outside the workspace is ignored
    index.notify_text("a.py", "def a2():\n    pass\n")
    assert index.wait(60)
    assert names(tmp_path) == {"a.py": ["a2"], "b.py": ["b"]}


def test_symlinks_out_of_the_workspace_and_binary_files_are_not_read(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    write(outside, "secret.py", "def secret():\n    pass\n")
    root = tmp_path / "proj"
    write(root, "ok.py", "def ok():\n    pass\n")
    (root / "link.py").symlink_to(outside / "secret.py")
    (root / "blob.py").write_bytes(b"def x():\x00\x01\x02 pass\n")
    CodeIndex(root).update_all()
    assert names(root) == {"ok.py": ["ok"]}


def test_a_damaged_index_is_rebuilt(tmp_path: Path) -> None:
    write(tmp_path, "a.py", "def a():\n    pass\n")
    index_path(tmp_path).parent.mkdir()
    index_path(tmp_path).write_bytes(b"this is not a database" * 100)
    CodeIndex(tmp_path).update_all()
    assert names(tmp_path) == {"a.py": ["a"]}


def test_an_unwritable_workspace_gives_an_error_not_a_crash(tmp_path: Path) -> None:
    write(tmp_path, "a.py", "def a():\n    pass\n")
    (tmp_path / ".smallcode").write_text("a file where the folder should be")
    index = CodeIndex(tmp_path)
    index.refresh()
    assert index.wait(60)
    assert index.error is not None and not index.built
