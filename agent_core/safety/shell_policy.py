"""Shell policy: commands that are refused outright, and commands that need the user's yes.

A best-effort filter in front of the bash tool, not a sandbox (that is `sandbox.py`). The command line is
split the way bash splits it (quotes, escapes, `;` `&&` `||` `|` `&`, redirections, `$(…)`, backticks,
`<(…)`, `bash -c '…'`, `eval`), wrappers are looked through (`env`, `nohup`, `timeout`, `xargs`, …), and
each simple command is judged on its own:

deny (never runs):
  sudo, su, doas, pkexec; `rm` of /, ~ or anything outside the workspace (and `--no-preserve-root`);
  mkfs, fdisk, parted, wipefs, dd to a device, any write to /dev/sd*, /dev/nvme*, …; mount, modprobe,
  iptables; fork bombs; `curl … | sh` and `bash <(curl …)` (code from the network run unseen);
  chmod/chown/mv/cp/tee/redirections that change files outside the workspace (temp dirs excepted);
  shutdown, reboot, halt, poweroff, `kill -1`.
ask (runs only when the user confirms; refused when nobody can be asked):
  `rm -r` inside the workspace (or of paths only known at run time), `find -delete`, `xargs rm`;
  git push and everything that rewrites history or throws away uncommitted work (reset --hard, clean -f,
  checkout ., restore, stash drop/clear, branch -D, rebase, commit --amend, filter-branch);
  package publishing (npm publish, twine upload, cargo publish, …); network installs (pip install,
  npm install, apt-get install, cargo install, go install, …); piping anything into a shell;
  killall, pkill, crontab.
"""

from __future__ import annotations

import os
import re
import shlex
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Action = Literal["allow", "ask", "deny"]
Confirm = Callable[[str, str], Awaitable[bool]]

_SUB = "\x00"
"""Marks a word containing text only known at run time (a command substitution)."""


class PolicyError(Exception):
    """A command the policy refused; the message is written for the model."""


@dataclass
class Verdict:
    action: Action
    reason: str = ""


ALLOW = Verdict("allow")


def quote(arg: str) -> str:
    """One argument, quoted for bash: tools that build command lines use this, never interpolation."""
    return shlex.quote(arg)


def join(argv: list[str]) -> str:
    """A command line from separate arguments, each quoted."""
    return shlex.join(argv)


# --- splitting a command line --------------------------------------------------------------------------


@dataclass
class Simple:
    words: list[str] = field(default_factory=list)
    redirects: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Parsed:
    pipelines: list[list[Simple]] = field(default_factory=list)
    nested: list[str] = field(default_factory=list)
    """Bodies of $(…), `…`, <(…) and >(…): commands in their own right."""


def _closing(text: str, i: int) -> int:
    """Index just past the `)` that closes the group opened before `i` (quotes and nesting respected)."""
    depth = 1
    quote_char = ""
    while i < len(text):
        c = text[i]
        if quote_char:
            if c == "\\" and quote_char == '"':
                i += 1
            elif c == quote_char:
                quote_char = ""
        elif c == "\\":
            i += 1
        elif c in "'\"`":
            quote_char = c
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return len(text)


def _skip_heredocs(text: str, i: int, heredocs: list[tuple[str, bool]]) -> int:
    """Index after the here-documents starting at `i` (their bodies are data, not commands)."""
    for delimiter, strip_tabs in heredocs:
        while i < len(text):
            end = text.find("\n", i)
            end = len(text) if end < 0 else end
            line = text[i:end]
            i = end + 1
            if (line.lstrip("\t") if strip_tabs else line) == delimiter:
                break
    return min(i, len(text))


def split_command(text: str) -> Parsed:
    """Pipelines of simple commands, bash-style; substitutions are collected for separate checking."""
    parsed = Parsed()
    pipeline: list[Simple] = []
    simple = Simple()
    word: list[str] = []
    in_word = False
    pending_redirect: str | None = None
    heredocs: list[tuple[str, bool]] = []  # (delimiter, strip leading tabs) waiting for the next line
    i = 0
    n = len(text)

    def end_word() -> None:
        nonlocal word, in_word, pending_redirect
        if not in_word:
            return
        value = "".join(word)
        if pending_redirect is not None:
            simple.redirects.append((pending_redirect, value))
            if pending_redirect in ("<<", "<<-"):
                heredocs.append((value, pending_redirect == "<<-"))
            pending_redirect = None
        else:
            simple.words.append(value)
        word, in_word = [], False

    def end_simple() -> None:
        nonlocal simple
        end_word()
        if simple.words or simple.redirects:
            pipeline.append(simple)
        simple = Simple()

    def end_pipeline() -> None:
        nonlocal pipeline
        end_simple()
        if pipeline:
            parsed.pipelines.append(pipeline)
        pipeline = []

    def substitution(start: int) -> int:
        end = _closing(text, start)
        parsed.nested.append(text[start : end - 1])
        return end

    while i < n:
        c = text[i]
        two = text[i : i + 2]
        if c == "\\" and i + 1 < n:
            if text[i + 1] != "\n":
                word.append(text[i + 1])
                in_word = True
            i += 2
        elif c == "'":
            end = text.find("'", i + 1)
            end = n if end < 0 else end
            word.append(text[i + 1 : end])
            in_word = True
            i = end + 1
        elif c == '"':
            i += 1
            in_word = True
            while i < n and text[i] != '"':
                if text[i] == "\\" and i + 1 < n:
                    word.append(text[i + 1])
                    i += 2
                elif text.startswith("$(", i):
                    i = substitution(i + 2)
                    word.append(_SUB)
                elif text[i] == "`":
                    end = text.find("`", i + 1)
                    end = n if end < 0 else end
                    parsed.nested.append(text[i + 1 : end])
                    word.append(_SUB)
                    i = end + 1
                else:
                    word.append(text[i])
                    i += 1
            i += 1
        elif two == "$(":
            i = substitution(i + 2)
            word.append(_SUB)
            in_word = True
        elif c == "`":
            end = text.find("`", i + 1)
            end = n if end < 0 else end
            parsed.nested.append(text[i + 1 : end])
            word.append(_SUB)
            in_word = True
            i = end + 1
        elif two in ("<(", ">(") and not in_word:
            i = substitution(i + 2)
            word.append(_SUB)
            in_word = True
        elif c == "#" and not in_word:
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif c in " \t":
            end_word()
            i += 1
        elif c == "\n":
            end_pipeline()  # ends the delimiter word too, so `heredocs` is complete here
            i = _skip_heredocs(text, i + 1, heredocs) if heredocs else i + 1
            heredocs = []
        elif c == ";" or two in ("&&", "||") or (c == "&" and text[i : i + 2] not in ("&>",)):
            end_pipeline()
            i += 2 if two in ("&&", "||", ";;") else 1
        elif c == "|":
            end_simple()
            i += 2 if two == "|&" else 1
        elif c in "()" or (c in "{}" and not in_word and (i + 1 >= n or text[i + 1] in " \t\n;")):
            end_pipeline()
            i += 1
        elif c in "<>" or two == "&>":
            # A word of digits just before is a file descriptor number (2>file), not an argument.
            if in_word and "".join(word).isdigit():
                word, in_word = [], False
            end_word()
            m = re.match(r"&>>|&>|>>|>\||>&|<<<|<<-|<<|<>|<&|>|<", text[i:])
            op = m.group(0) if m else c
            i += len(op)
            if op in (">&", "<&") and re.match(r"\s*[0-9-]", text[i:]):
                m2 = re.match(r"\s*[0-9]*-?", text[i:])
                i += len(m2.group(0)) if m2 else 0
                continue
            pending_redirect = op
        else:
            word.append(c)
            in_word = True
            i += 1
    end_pipeline()
    return parsed


# --- judging -------------------------------------------------------------------------------------------

_ELEVATE = {"sudo", "su", "doas", "pkexec", "run0", "sudoedit"}
_DISK = {
    "mkfs", "mke2fs", "mkswap", "wipefs", "fdisk", "sfdisk", "cfdisk", "gdisk", "sgdisk", "parted",
    "blkdiscard", "badblocks", "hdparm", "cryptsetup", "losetup", "mdadm", "pvcreate", "vgcreate", "lvcreate",
}  # fmt: skip
_SYSTEM = {
    "mount", "umount", "swapon", "swapoff", "modprobe", "insmod", "rmmod", "sysctl", "iptables",
    "ip6tables", "nft", "chroot", "setenforce", "passwd", "useradd", "userdel", "usermod", "visudo",
}  # fmt: skip
_POWER = {"shutdown", "reboot", "halt", "poweroff"}
_SHELLS = {"sh", "bash", "zsh", "dash", "ksh", "fish", "ash", "busybox"}
_INTERPRETERS = _SHELLS | {"python", "python3", "python2", "perl", "ruby", "node", "php", "lua", "pwsh"}
_FETCHERS = {"curl", "wget", "fetch", "nc", "ncat", "netcat", "socat", "aria2c", "http", "https", "xh"}
_WRAPPERS = {"command", "builtin", "exec", "nohup", "time", "stdbuf", "unbuffer", "setsid", "nocache"}
_SAFE_DEVICES = re.compile(r"/dev/(null|zero|full|u?random|tty|stdin|stdout|stderr|fd/\d+|pts/\d+|ptmx)$")
_FORK_BOMB = re.compile(r"(\S+)\s*\(\)\s*\{[^}]*\1\s*\|\s*\1\s*&")
_ASSIGN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\[[^\]]*\])?\+?=")

_PUBLISH = {
    ("npm", "publish"), ("yarn", "publish"), ("pnpm", "publish"), ("bun", "publish"), ("twine", "upload"),
    ("poetry", "publish"), ("flit", "publish"), ("hatch", "publish"), ("uv", "publish"),
    ("cargo", "publish"), ("gem", "push"), ("docker", "push"), ("podman", "push"), ("mvn", "deploy"),
    ("gradle", "publish"), ("dotnet", "nuget"), ("gh", "release"),
}  # fmt: skip
_INSTALL = {
    ("pip", "install"), ("pip3", "install"), ("pipx", "install"), ("uv", "add"),
    ("poetry", "add"), ("poetry", "install"), ("uv", "sync"), ("npm", "install"), ("npm", "i"), ("npm", "ci"), ("npm", "add"),
    ("yarn", "add"), ("yarn", "install"), ("pnpm", "add"), ("pnpm", "install"), ("pnpm", "i"),
    ("bun", "add"), ("bun", "install"), ("apt", "install"), ("apt-get", "install"), ("aptitude", "install"),
    ("dnf", "install"), ("yum", "install"), ("apk", "add"), ("pacman", "-S"), ("brew", "install"),
    ("snap", "install"), ("zypper", "install"), ("cargo", "install"), ("cargo", "add"), ("go", "install"),
    ("go", "get"), ("gem", "install"), ("conda", "install"), ("mamba", "install"), ("composer", "require"),
    ("composer", "install"),
}  # fmt: skip


_OUTSIDE = {
    "root": "the root directory",
    "home": "your home directory",
    "ancestor": "a folder holding the workspace",
    "system": "a system folder outside the workspace",
    "outside": "outside the workspace",
}


class _Judge:
    def __init__(self, root: Path, cwd: Path | None = None) -> None:
        self.root = root.resolve()
        self.cwd = (cwd or self.root).resolve()
        self.home = Path(os.path.expanduser("~")).resolve()
        self.temps = {Path(p).resolve() for p in (tempfile.gettempdir(), "/tmp", "/var/tmp", "/dev/shm")}
        self.verdicts: list[Verdict] = []

    def deny(self, reason: str) -> None:
        self.verdicts.append(Verdict("deny", reason))

    def ask(self, reason: str) -> None:
        self.verdicts.append(Verdict("ask", reason))

    # paths ------------------------------------------------------------------------------------------
    def where(self, word: str) -> str:
        """ "root", "home", "system", "outside", "temp", "inside", "device" or "unknown" for a path word."""
        text = word
        home = str(self.home)
        for prefix in ("${HOME}", "$HOME"):
            if text == prefix or text.startswith(prefix + "/"):
                text = home + text[len(prefix) :]
        if text == "~" or text.startswith("~/"):
            text = home + text[1:]
        elif text.startswith("~"):
            return "outside"  # ~user: another user's home
        if _SUB in text or "$" in text:
            return "unknown"
        text = re.sub(r"(/\*+|\*+)$", "", text) or "/"  # `rm -rf /*` is `rm -rf /`
        if text.startswith("/dev/"):
            return "safe-device" if _SAFE_DEVICES.match(text) else "device"
        path = Path(text) if text.startswith("/") else self.cwd / text
        try:
            resolved = Path(os.path.realpath(path))
        except (OSError, ValueError):
            return "unknown"
        if resolved == Path("/"):
            return "root"
        if resolved == self.root or self.root in resolved.parents:
            return "inside"
        if resolved in self.root.parents:
            return "ancestor"
        if resolved == self.home or resolved in self.home.parents:
            return "home"
        if resolved in self.temps:
            return "system"
        if any(t in resolved.parents and t not in self.root.parents for t in self.temps):
            return "temp"  # scratch space, unless the workspace itself lives in that temp dir
        if len(resolved.parts) <= 2:
            return "system"  # /etc, /usr, /home, …
        return "outside"

    def outside_write(self, word: str, what: str) -> None:
        place = self.where(word)
        if place in _OUTSIDE:
            self.deny(f"{what} {word!r}, which is {_OUTSIDE[place]}")
        elif place == "device":
            self.deny(f"{what} the device {word!r}")

    # commands ---------------------------------------------------------------------------------------
    def command_text(self, text: str, depth: int = 0) -> None:
        if depth > 8:
            self.ask("the command nests shells or substitutions too deeply to check")
            return
        if _FORK_BOMB.search(text) or re.search(r":\s*\(\)\s*\{\s*:\s*\|\s*:\s*&", text):
            self.deny("it is a fork bomb")
            return
        parsed = split_command(text)
        for body in parsed.nested:
            self.command_text(body, depth + 1)
        fetched = any(re.search(rf"\b({'|'.join(_FETCHERS)})\b", body) for body in parsed.nested)
        for pipeline in parsed.pipelines:
            self.pipeline(pipeline, fetched, depth)

    def pipeline(self, pipeline: list[Simple], fetched: bool, depth: int) -> None:
        from_network = False
        for position, simple in enumerate(pipeline):
            for op, target in simple.redirects:
                if op.startswith((">", "&>", "<>")):
                    self.outside_write(target, "it writes to")
            name, args = self.unwrap(simple.words)
            if name is None:
                continue
            if name in _INTERPRETERS | {"source", ".", "eval"} and fetched and any(_SUB in a for a in args):
                self.deny(f"it runs code downloaded from the network with {name} without showing it")
            if position > 0 and name in _INTERPRETERS and _reads_code_from_stdin(name, args):
                if from_network:
                    self.deny(f"it pipes a download straight into {name} (like `curl … | sh`)")
                else:
                    self.ask(f"it pipes text into {name} to run as code")
            if name in _FETCHERS:
                from_network = True
            self.simple(name, args, depth)

    def unwrap(self, words: list[str]) -> tuple[str | None, list[str]]:
        """The command's name (basename) and arguments, with assignments and wrappers looked through."""
        words = list(words)
        while words:
            if _ASSIGN.match(words[0]):
                words.pop(0)
                continue
            name = os.path.basename(words[0])
            if name in _WRAPPERS:
                words.pop(0)
                while words and words[0].startswith("-"):
                    words.pop(0)
                continue
            if name == "env":
                words.pop(0)
                while words and (words[0].startswith("-") or _ASSIGN.match(words[0])):
                    flag = words.pop(0)
                    if flag in ("-u", "-C", "-S") and words:
                        words.pop(0)
                continue
            if name in ("nice", "ionice", "timeout", "chrt", "taskset", "watch"):
                words.pop(0)
                while words and (words[0].startswith("-") or re.fullmatch(r"[0-9.]+[smhd]?", words[0])):
                    words.pop(0)
                continue
            if name == "xargs":
                words.pop(0)
                while words and words[0].startswith("-"):
                    flag = words.pop(0)
                    if flag in ("-I", "-n", "-P", "-L", "-d", "-E", "-s", "-a") and words:
                        words.pop(0)
                if words and os.path.basename(words[0]) in ("rm", "shred", "unlink", "rmdir"):
                    self.ask("it deletes files whose names come from another command (xargs)")
                continue
            if name == "busybox" and len(words) > 1:
                words.pop(0)
                continue
            return name, words[1:]
        return None, []

    def simple(self, name: str, args: list[str], depth: int) -> None:
        base = re.sub(r"\.(exe|sh)$", "", name)
        if base in ("cd", "pushd"):
            self.change_dir(args)
        elif base in _ELEVATE:
            self.deny(f"{base} runs commands as another user (root); the agent never elevates privileges")
        elif base.startswith("mkfs") or base in _DISK:
            self.deny(f"{base} formats or partitions disks")
        elif base in _SYSTEM:
            self.deny(f"{base} changes the system outside the workspace")
        elif base in _POWER or (base in ("init", "telinit") and args[:1] in (["0"], ["6"])):
            self.deny(f"{base} shuts down or restarts the machine")
        elif base == "systemctl" and any(
            a in ("poweroff", "reboot", "halt", "suspend", "hibernate", "kexec") for a in args
        ):
            self.deny("systemctl would shut down or restart the machine")
        elif base in _SHELLS and "c" in _short_flags(args):
            script = _flag_value(args)
            if script is not None:
                self.command_text(script, depth + 1)
        elif base == "eval" or (base in ("source", ".") and not args):
            self.command_text(" ".join(args), depth + 1)
        elif base in ("rm", "shred", "unlink", "rmdir", "srm"):
            self.remove(base, args)
        elif base == "find":
            self.find(args)
        elif base == "dd":
            for arg in args:
                if arg.startswith("of="):
                    self.outside_write(arg[3:], "dd writes to")
        elif base in ("chmod", "chown", "chgrp", "chattr", "setfacl"):
            self.change_mode(base, args)
        elif base in ("tee", "truncate", "touch", "mkdir"):
            for arg in _operands(args):
                self.outside_write(arg, f"{base} changes")
        elif base in ("cp", "mv", "install", "rsync", "scp", "ln"):
            self.copy(base, args)
        elif base == "sed" and any(a.startswith("-i") or a == "--in-place" for a in args):
            for arg in _operands(args)[1:]:
                self.outside_write(arg, "sed -i edits")
        elif base == "kill" and "-1" in args[-1:]:
            self.deny("kill -1 signals every process you own")
        elif base in ("killall", "pkill", "crontab"):
            self.ask(f"{base} affects processes or schedules outside this task")
        elif base == "git":
            self.git(args)
        else:
            self.packages(base, args)

    def change_dir(self, args: list[str]) -> None:
        """Follow `cd` within one command line, so `cd /; rm -rf etc` is judged as `rm -rf /etc`."""
        operands = _operands(args)
        target = operands[0] if operands else "~"
        home = str(self.home)
        if target == "~" or target.startswith("~/"):
            target = home + target[1:]
        if _SUB in target or "$" in target or target == "-":
            self.cwd = Path(
                "/nonexistent-unknown-dir"
            )  # unknown from here on: relative paths count as outside
            return
        self.cwd = Path(os.path.realpath(self.cwd / target))

    def remove(self, name: str, args: list[str]) -> None:
        flags = _short_flags(args)
        if "--no-preserve-root" in args:
            self.deny("rm --no-preserve-root would delete the whole file system")
            return
        recursive = name in ("rm", "srm") and bool({"r", "R"} & set(flags) or "--recursive" in args)
        for target in _operands(args):
            place = self.where(target)
            if place in _OUTSIDE or place == "device":
                self.deny(f"{name} {target!r} deletes {_OUTSIDE.get(place, 'a device')}")
            elif recursive or name == "shred":
                self.ask(f"{name} {' '.join(args)} deletes {target!r} and everything in it")

    def find(self, args: list[str]) -> None:
        starts = []
        for arg in args:
            if arg.startswith(("-", "(", "!")):
                break
            starts.append(arg)
        deletes = "-delete" in args or any(
            a in ("-exec", "-execdir", "-ok")
            and i + 1 < len(args)
            and os.path.basename(args[i + 1]) in ("rm", "shred")
            for i, a in enumerate(args)
        )
        if not deletes:
            return
        for start in starts or ["."]:
            if self.where(start) in _OUTSIDE:
                self.deny(f"find {start!r} -delete deletes files outside the workspace")
                return
        self.ask("find … -delete deletes every file it matches")

    def change_mode(self, name: str, args: list[str]) -> None:
        operands = _operands(args)
        targets = operands[1:] if name != "chattr" else operands
        for target in targets:
            self.outside_write(target, f"{name} changes")

    def copy(self, name: str, args: list[str]) -> None:
        operands = _operands(args)
        if name in ("rsync", "scp"):
            operands = [o for o in operands if ":" not in o]  # remote ends are not local paths
        target_dir = next(
            (args[i + 1] for i, a in enumerate(args[:-1]) if a in ("-t", "--target-directory")), None
        )
        destinations = [target_dir] if target_dir else operands[-1:]
        for dest in destinations:
            self.outside_write(dest, f"{name} writes to")
        if name == "mv":
            for source in operands[:-1]:
                self.outside_write(source, "mv moves away")

    def git(self, args: list[str]) -> None:
        rest = list(args)
        while rest and rest[0].startswith("-"):
            flag = rest.pop(0)
            if flag in ("-C", "-c", "--git-dir", "--work-tree", "--namespace") and rest:
                rest.pop(0)
        if not rest:
            return
        sub, opts = rest[0], rest[1:]
        short = _short_flags(opts)
        risky = {
            "push": "git push publishes commits to a remote",
            "filter-branch": "it rewrites history",
            "filter-repo": "it rewrites history",
            "rebase": "it rewrites history",
            "update-ref": "it moves or deletes refs",
            "replace": "it rewrites history",
        }
        if sub in risky:
            self.ask(risky[sub])
        elif sub == "reset" and ("--hard" in opts or "--merge" in opts or "--keep" in opts):
            self.ask("git reset --hard throws away uncommitted changes")
        elif sub == "clean" and ("f" in short or "--force" in opts):
            self.ask("git clean -f deletes untracked files")
        elif sub in ("checkout", "restore") and (
            "--" in opts or "." in opts or sub == "restore" and "--staged" not in opts or "f" in short
        ):
            self.ask(f"git {sub} can throw away uncommitted changes")
        elif sub == "stash" and opts[:1] in (["drop"], ["clear"]):
            self.ask("git stash drop/clear deletes stashed work")
        elif sub == "branch" and ("D" in short or "--delete" in opts and "--force" in opts):
            self.ask("git branch -D deletes a branch with unmerged work")
        elif sub == "commit" and "--amend" in opts:
            self.ask("git commit --amend rewrites the last commit")
        elif sub in ("reflog", "gc") and any("expire" in o or "prune" in o for o in opts):
            self.ask("it deletes unreachable commits for good")

    def packages(self, name: str, args: list[str]) -> None:
        words = [name, *args]
        if name.startswith("python") and args[:2] == ["-m", "pip"]:
            words = ["pip", *args[2:]]
        elif name.startswith("python") and args[:2] == ["-m", "twine"]:
            words = ["twine", *args[2:]]
        elif re.fullmatch(r"pip\d(\.\d+)?", name):
            words = ["pip", *args]
        elif name == "uv" and args[:1] == ["pip"]:
            words = ["pip", *args[1:]]
        head = os.path.basename(words[0])
        sub = next((w for w in words[1:] if not w.startswith("-") or w == "-S"), "")
        if (head, sub) in _PUBLISH:
            self.ask(f"{head} {sub} publishes a package")
        elif (head, sub) in _INSTALL:
            self.ask(f"{' '.join(w for w in (head, sub) if w)} installs packages from the network")


def _short_flags(args: list[str]) -> str:
    return "".join(a[1:] for a in args if a.startswith("-") and not a.startswith("--") and len(a) > 1)


def _flag_value(args: list[str]) -> str | None:
    """The argument after the flag cluster holding `c` (bash -c SCRIPT, bash -lc SCRIPT)."""
    for i, arg in enumerate(args):
        if arg.startswith("-") and not arg.startswith("--") and "c" in arg[1:]:
            return args[i + 1] if i + 1 < len(args) else None
    return None


def _operands(args: list[str]) -> list[str]:
    out: list[str] = []
    options_done = False
    for arg in args:
        if options_done or not arg.startswith("-") or arg == "-":
            out.append(arg)
        elif arg == "--":
            options_done = True
    return out


def _reads_code_from_stdin(name: str, args: list[str]) -> bool:
    operands = _operands(args)
    if name in _SHELLS:
        return "c" not in _short_flags(args) and (not operands or "s" in _short_flags(args))
    if "-c" in args or "-e" in args or "-m" in args:
        return False
    return not operands or operands[0] == "-"


def check_command(command: str, root: Path, cwd: Path | None = None) -> Verdict:
    """The policy's verdict on `command` run in workspace `root` (from `cwd`, default the root).

    The most severe rule that matched wins: deny, then ask, else allow.
    """
    judge = _Judge(root, cwd)
    judge.command_text(command)
    for action in ("deny", "ask"):
        for verdict in judge.verdicts:
            if verdict.action == action:
                return verdict
    return ALLOW


async def enforce(command: str, root: Path, confirm: Confirm | None, cwd: Path | None = None) -> None:
    """Raise PolicyError (message for the model) unless `command` may run now."""
    verdict = check_command(command, root, cwd)
    if verdict.action == "deny":
        raise PolicyError(
            f"refused by the shell policy: {verdict.reason}. Do not try to get around this; do the task "
            f"with commands that stay inside the workspace ({Path(root).resolve()})."
        )
    if verdict.action == "ask":
        if confirm is None:
            raise PolicyError(
                f"not run: this command needs the user's confirmation ({verdict.reason}) and nobody can confirm "
                "in this run. Do the task without it, or say in your answer that the user should run it."
            )
        if not await confirm(command, verdict.reason):
            raise PolicyError(
                f"the user declined this command ({verdict.reason}). Do not run it again; find another way or "
                "explain in your answer what is needed."
            )
