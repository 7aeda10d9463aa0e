"""Workspace confinement: every path a tool touches resolves inside the workspace root.

A path is resolved the way the operating system will follow it (every symlink, final or intermediate,
dangling or not), then refused when it lands outside the root or in a sensitive place inside it: git's
internals, private keys and `.env` files (unless allowed). Names are compared
the way case-insensitive file systems compare them (case folded, trailing dots and spaces and HFS+'s
ignorable characters dropped), so `.GIT/config` or `.g\u200cit/hooks` cannot reach `.git` on macOS or
Windows. Messages are written for the model: what was wrong and what to do instead.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

MAX_PATH = 4096
"""Longest path accepted (Linux PATH_MAX)."""
MAX_NAME_BYTES = 255
"""Longest single name accepted (NAME_MAX on common file systems)."""

# Code points HFS+ ignores in names (git's is_hfs_dotgit list), so ".g\u200cit" is ".git" there.
_IGNORABLE = re.compile("[\u200b-\u200f\u202a-\u202e\u206a-\u206f\ufeff]")

_PRIVATE_KEY_NAMES = frozenset(
    {"id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "id_ecdsa_sk", "id_ed25519_sk", "identity"}
)
_PRIVATE_KEY_SUFFIXES = (".pem", ".key", ".p12", ".pfx", ".jks", ".keystore", ".ppk")
_ENV_TEMPLATES = frozenset({".env.example", ".env.sample", ".env.template", ".env.dist", ".env.defaults"})


class PathError(Exception):
    """A path the agent may not use; the message is written for the model."""


def fold(name: str) -> str:
    """A name as a case-insensitive file system sees it: `.GIT.`, `.Git ` and `.g\u200cit` all fold to `.git`."""
    return _IGNORABLE.sub("", name).casefold().rstrip(". ") or name


def sensitive_reason(rel_parts: tuple[str, ...] | list[str], *, allow_env_files: bool = False) -> str | None:
    """Why a workspace-relative path is off limits, or None. `rel_parts` are its names, root first."""
    folded = [fold(part) for part in rel_parts]
    if any(part in (".git", "git~1") for part in folded):
        return "it is inside .git (git's internals); use the bash tool with git commands to inspect history"
    if not folded:
        return None
    name = folded[-1]
    if name in _PRIVATE_KEY_NAMES or name.endswith(_PRIVATE_KEY_SUFFIXES):
        return "it looks like a private key or certificate store, which the agent never reads or writes"
    if not allow_env_files and _is_env_file(name):
        return (
            "it is an environment file that usually holds secrets (set SMALLCODE_ALLOW_ENV_FILES=true to "
            "allow it); edit .env.example instead"
        )
    return None


def is_sensitive(rel_path: str, *, allow_env_files: bool = False) -> bool:
    """Whether a workspace-relative POSIX path is off limits (for listings and searches to leave out)."""
    return sensitive_reason(rel_path.split("/"), allow_env_files=allow_env_files) is not None


def _is_env_file(name: str) -> bool:
    if name in _ENV_TEMPLATES:
        return False
    return name == ".env" or name.startswith(".env.") or name.endswith(".env")


def resolve_in_workspace(root: Path, path: str, *, allow_env_files: bool = False) -> Path:
    """Absolute, symlink-resolved path for `path` (relative to root or absolute), refused outside root.

    Raises PathError (message for the model) for empty, NUL-containing or overlong paths, paths that
    resolve outside the root (through `..`, absolute paths or symlinks), symlink loops, sensitive places
    inside the root, and special files (FIFOs, sockets, devices) that would hang or harm a reader.
    """
    if not isinstance(path, str) or not path.strip():
        raise PathError("path is empty: give a file path relative to the workspace root")
    if "\x00" in path:
        raise PathError("path contains a NUL byte: give a plain file path relative to the workspace root")
    text = path.strip()
    if len(text.encode("utf-8", "surrogatepass")) > MAX_PATH:
        raise PathError(f"path is longer than {MAX_PATH} bytes: use a shorter path")
    if any(len(part.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES for part in text.split("/")):
        raise PathError(
            f"a name in {text[:60]}… is longer than {MAX_NAME_BYTES} bytes: use shorter file names"
        )
    root = root.resolve()
    candidate = Path(os.path.expanduser(text)) if text.startswith("~") else Path(text)
    if not candidate.is_absolute():
        candidate = root / candidate
    try:
        resolved = candidate.resolve()
    except RuntimeError:  # Python 3.11 reports symlink loops this way
        raise PathError(f"{text} is a symlink loop: give the real file's path") from None
    except (OSError, ValueError) as exc:
        raise PathError(
            f"{text} cannot be resolved ({exc}): give a plain path inside the workspace"
        ) from None
    if Path(os.path.realpath(resolved)) != resolved:
        # Python 3.11 gives up at a symlink loop and joins the rest as written: `loop/../link_out` came back
        # as `link_out`, a symlink to outside the root that the caller would then open.
        raise PathError(f"{text} goes through a symlink loop: give the real file's path")
    if resolved != root and root not in resolved.parents:
        via = " through a symlink" if _through_symlink(candidate, root) else ""
        raise PathError(
            f"{text} is outside the workspace{via} ({root}); use a path inside the workspace, "
            "relative to its root"
        )
    reason = sensitive_reason(resolved.relative_to(root).parts, allow_env_files=allow_env_files)
    if reason is None and resolved != candidate:
        # A symlink inside the workspace may point at a sensitive place under an innocent name, or the
        # innocent-looking request itself may name one (`.git/../.git`): check both spellings.
        try:
            lexical = Path(os.path.normpath(candidate)).relative_to(root).parts
        except ValueError:
            lexical = ()
        reason = sensitive_reason(lexical, allow_env_files=allow_env_files)
    if reason is not None:
        raise PathError(f"{text} is off limits: {reason}")
    _refuse_special(resolved, text)
    return resolved


def _through_symlink(candidate: Path, root: Path) -> bool:
    """Whether `candidate` looks inside the root but a symlink on the way leads out."""
    normal = Path(os.path.normpath(candidate))
    return normal == root or root in normal.parents


def _refuse_special(path: Path, text: str) -> None:
    try:
        mode = path.lstat().st_mode
    except OSError:
        return  # does not exist (yet): creating it is the caller's business
    if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        raise PathError(f"{text} is a pipe, socket or device, not a file: the file tools only handle files")


def relative(root: Path, path: Path) -> str:
    """Workspace-relative POSIX path for reports (RunResult, traces)."""
    return path.resolve().relative_to(root.resolve()).as_posix()
