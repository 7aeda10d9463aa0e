"""Shell policy: commands that are refused outright, and commands that need the user's yes.

Defence in depth in front of the bash tool, not a boundary (that is the sandbox, `sandbox.py`): a policy
that reads shell text can always be outrun by a program it cannot read (a script the model wrote, python
-c). What it does read, it reads as bash does: the command line is parsed with tree-sitter-bash, and every
simple command anywhere in it is judged on its own: inside if/while/until/for/case, `!`, `&&`, `||`, pipes,
subshells, functions, `$(…)`, backticks, `<(…)`, here-documents and here-strings fed to a shell, the
strings given to `bash -c`, `eval`, `trap`, `alias`, `watch`, `find -exec`, `xargs` and git aliases.
Wrappers are looked through (env [-C dir] [-S str], timeout, stdbuf, nice, nohup, flock, watch, coproc,
xargs, setsid, time, command, exec, busybox, …). `cd` is followed within a command line; the persistent
shell reports its real directory after each call (`check_command(…, cwd=…)`).

Anything the policy cannot resolve before the command runs goes to ask: text it cannot parse, a command
name built from variables, substitutions, brace expansion, globs, ANSI-C quoting ($'\\x72m') or ${IFS};
write, delete or `cd` targets only known at run time; scripts that arrive through a substitution.

deny (never runs):
  sudo, su, doas, pkexec, run0; `rm` of /, ~ or anything outside the workspace (and --no-preserve-root);
  mkfs, fdisk, parted, wipefs, dd to a device, any write to /dev/sd*, …; mount, modprobe, iptables; fork
  bombs; `curl … | sh` and `bash <(curl …)`; writes outside the workspace (temp dirs excepted) by
  redirections, tee, cp/mv/install/ln/rsync (also -t/--target-directory), sed -i, sort -o, tar -C/-f,
  curl -o, wget -O/-P, find -fprint, chmod/chown, touch, mkdir, truncate, dd of=; shutdown, reboot, kill -1.
ask (runs only when the user confirms; refused when nobody can be asked):
  `rm -r` inside the workspace, deletes of paths only known at run time, `find -delete`/`-exec rm`;
  `cd` out of the workspace (temp dirs excepted); git push (also send-pack, http-push), history rewrites,
  commands that throw away uncommitted work, git aliases and config that run commands (`-c alias.x=…`,
  `git config alias.*`, core.pager, …), git subcommands it does not know (aliases); writes into .git;
  package publishing; network installs; piping text into a shell; killall, pkill, crontab, at; containers.
"""

from __future__ import annotations

import functools
import os
import re
import shlex
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import tree_sitter_bash
from tree_sitter import Language, Node, Parser

Action = Literal["allow", "ask", "deny"]
Confirm = Callable[[str, str], Awaitable[bool]]

_SUB = "\x00"
"""Marks text only known at run time (a substitution, an expansion, brace expansion, ANSI-C quoting)."""
_NET = "\x01"
"""Marks a substitution whose command fetches from the network (`$(curl …)`, `<(wget …)`)."""


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


# --- parsing -------------------------------------------------------------------------------------------


@functools.cache
def _parser() -> Parser:
    return Parser(Language(tree_sitter_bash.language()))


def _readings(text: str) -> list[str]:
    """The texts to judge: the command, and the command with backslash-newlines joined.

    bash removes a backslash-newline almost everywhere (`r\\<newline>m` is `rm`), but not in single quotes
    or quoted here-documents, and tree-sitter reads it as a space; judging both readings covers both.
    """
    joined = text.replace("\\\n", "")
    return [text] if joined == text else [text, joined]


def simple_commands(text: str) -> list[list[str]]:
    """Every simple command in `text` as the policy reads it (argument values; unknown parts as `\\x00`).

    For tests and debugging: what the judge sees, before wrappers are looked through.
    """
    judge = _Judge(Path.cwd())
    for reading in _readings(text):
        judge.walk(_parser().parse(reading.encode("utf-8", "surrogateescape")).root_node, 0)
    return judge.seen


_DQ_ESCAPES = re.compile(r"\\([$`\"\\\n])")
_UNQUOTED_ESCAPES = re.compile(r"\\(.)", re.S)
_BRACES = re.compile(r"\{[^{}\s]*(?:,|\.\.)[^{}\s]*\}")
_GLOB = re.compile(r"[*?\[]")
_FETCHERS = {"curl", "wget", "fetch", "nc", "ncat", "netcat", "socat", "aria2c", "http", "https", "xh"}
_FETCH_RE = re.compile(rf"(?<![\w.-])(?:{'|'.join(sorted(_FETCHERS))})(?![\w.-])")
_SUBSTITUTIONS = ("command_substitution", "process_substitution")
_VALUE_FREE = {"heredoc_start", "heredoc_end", "file_descriptor", "comment"}


# --- judging -------------------------------------------------------------------------------------------

_ELEVATE = {"sudo", "su", "doas", "pkexec", "run0", "sudoedit", "runuser", "sg", "newgrp"}
_DISK = {
    "mkfs", "mke2fs", "mkswap", "wipefs", "fdisk", "sfdisk", "cfdisk", "gdisk", "sgdisk", "parted",
    "blkdiscard", "badblocks", "hdparm", "cryptsetup", "losetup", "mdadm", "pvcreate", "vgcreate", "lvcreate",
    "mknod",
}  # fmt: skip
_SYSTEM = {
    "mount", "umount", "swapon", "swapoff", "modprobe", "insmod", "rmmod", "sysctl", "iptables",
    "ip6tables", "nft", "chroot", "setenforce", "passwd", "useradd", "userdel", "usermod", "visudo",
    "pivot_root", "nsenter",
}  # fmt: skip
_POWER = {"shutdown", "reboot", "halt", "poweroff"}
_SHELLS = {"sh", "bash", "zsh", "dash", "ksh", "mksh", "fish", "ash", "busybox", "rbash", "tcsh", "csh"}
_INTERPRETERS = _SHELLS | {"python", "python3", "python2", "perl", "ruby", "node", "php", "lua", "pwsh"}
_SAFE_DEVICES = re.compile(r"/dev/(null|zero|full|u?random|tty|stdin|stdout|stderr|fd/\d+|pts/\d+|ptmx)$")
_FORK_BOMB = re.compile(r"(?<![^\s;&|(){}])([^\s;&|(){}]{1,64})\s*\(\)\s*\{[^}]*\1\s*\|\s*\1\s*&")
"""`f() { f | f & }`: the name is bounded and anchored, so a long word costs linear time, not quadratic."""
_ASSIGN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\[[^\]]*\])?\+?=")
_WRITE_OPS = {">", ">>", ">|", "&>", "&>>", "<>", ">&", "&>|"}
_DELETERS = {"rm", "shred", "unlink", "rmdir", "srm"}
_DETACHERS = {"at", "batch", "tmux", "screen", "systemd-run", "nohup-detach", "disown"}
_CONTAINERS = {"docker", "podman", "nerdctl", "kubectl", "lxc", "incus"}
_CONTAINER_READS = {"ps", "images", "image", "logs", "inspect", "version", "info", "help", "--version", "-v"}
_GIT_ENV = re.compile(
    r"GIT_(CONFIG\w*|SSH|SSH_COMMAND|EXTERNAL_DIFF|EDITOR|SEQUENCE_EDITOR|ASKPASS|PROXY_COMMAND|EXEC_PATH|"
    r"TEMPLATE_DIR|DIR|WORK_TREE)"
)
_GIT_COMMAND_KEYS = re.compile(
    r"(?i)(alias\..+|core\.(pager|editor|sshcommand|fsmonitor|hookspath|askpass|gitproxy|worktree)|"
    r"diff\..*(external|textconv|command)|sequence\.editor|gpg\..*program|credential\..*helper|"
    r"filter\..+\.(clean|smudge|process)|merge\..+\.driver|pager\..+|uploadpack\.packobjectshook|"
    r"(diff|merge)tool\..+\.cmd|remote\..+\.(receivepack|uploadpack|vcs)|include\.path|includeif\..+|"
    r"url\..+\.(insteadof|pushinsteadof)|protocol\..*allow|receive\..*hook|sendemail\..*cmd)"
)
_GIT_KNOWN = set(
    """add am annotate apply archive bisect blame branch bundle cat-file check-attr check-ignore
    check-mailmap check-ref-format checkout checkout-index cherry cherry-pick citool clean clone column
    commit commit-graph commit-tree config count-objects credential describe diff diff-files diff-index
    diff-tree difftool fetch fetch-pack filter-branch for-each-ref for-each-repo format-patch fsck gc
    get-tar-commit-id grep gui hash-object help init instaweb interpret-trailers log ls-files ls-remote
    ls-tree mailinfo mailsplit maintenance merge merge-base merge-file merge-tree mergetool mktag mktree mv
    name-rev notes pack-objects pack-refs patch-id prune prune-packed pull push range-diff read-tree rebase
    reflog remote repack replace rerere reset restore rev-list rev-parse revert rm send-pack shortlog show
    show-branch show-index show-ref sparse-checkout stash status stripspace submodule switch symbolic-ref
    tag unpack-file unpack-objects update-index update-ref update-server-info var verify-commit verify-pack
    verify-tag version whatchanged worktree write-tree http-push filter-repo fast-import fast-export
    send-email request-pull lfs""".split()  # noqa: SIM905 - a word list reads better than 130 strings
)

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


def _unknown(word: str) -> bool:
    return _SUB in word or _NET in word


class _Judge:
    def __init__(self, root: Path, cwd: Path | None = None) -> None:
        self.root = root.resolve()
        self.cwd: Path | None = (cwd or self.root).resolve()
        """None: only known at run time (relative paths are then unknown too)."""
        self.home = Path(os.path.expanduser("~")).resolve()
        self.temps = {Path(p).resolve() for p in (tempfile.gettempdir(), "/tmp", "/var/tmp", "/dev/shm")}
        self.verdicts: list[Verdict] = []
        self.seen: list[list[str]] = []

    def deny(self, reason: str) -> None:
        self.verdicts.append(Verdict("deny", reason))

    def ask(self, reason: str) -> None:
        self.verdicts.append(Verdict("ask", reason))

    # text -------------------------------------------------------------------------------------------
    def script(self, text: str, depth: int, what: str = "the command") -> None:
        """Judge shell text (a command line, a `bash -c` string, a here-document fed to a shell)."""
        if _NET in text:
            self.deny(f"{what} runs code downloaded from the network without showing it")
            return
        if _SUB in text:
            self.ask(f"{what} runs shell code that is only known at run time")
            return
        if depth > 8:
            self.ask("the command nests shells or substitutions too deeply to check")
            return
        if _FORK_BOMB.search(text) or re.search(r":\s*\(\)\s*\{\s*:\s*\|\s*:\s*&", text):
            self.deny("it is a fork bomb")
            return
        start = self.cwd
        ends: list[Path | None] = []
        quoted_heredoc = re.search(r"<<-?\s*(['\"\\])", text) is not None
        for n, reading in enumerate(_readings(text)):
            self.cwd = start
            tree = _parser().parse(reading.encode("utf-8", "surrogateescape"))
            # Joining lines breaks a quoted here-document whose line ends in a backslash; bash does not join
            # there, so that reading's parse error is no reason to ask (its commands are still judged).
            if tree.root_node.has_error and not (n and quoted_heredoc):
                self.ask(
                    "it does not parse as bash (an unclosed quote, bracket or here-document?): fix the syntax "
                    "or split it into simpler commands"
                )
            self.walk(tree.root_node, depth)
            ends.append(self.cwd)
        self.cwd = ends[0] if all(e == ends[0] for e in ends) else None

    # values of words ------------------------------------------------------------------------------
    def value(self, node: Node) -> str:
        """The word as bash would pass it, with unknown parts marked; brace expansion is unknown."""
        kind = node.type
        text = _text(node)
        if kind in ("word", "number"):
            if _BRACES.search(text):
                return _SUB
            return _UNQUOTED_ESCAPES.sub(r"\1", text)
        if kind == "raw_string":
            return text[1:-1]
        if kind == "string":
            parts = []
            for child in node.named_children:
                if child.type == "string_content":
                    parts.append(
                        _DQ_ESCAPES.sub(lambda m: "" if m.group(1) == "\n" else m.group(1), _text(child))
                    )
                else:
                    parts.append(self.value(child))
            return "".join(parts)
        if kind == "concatenation":
            unquoted = "".join(_text(c) if c.type == "word" else "_" for c in node.children)
            if _BRACES.search(unquoted):
                return _SUB
            return "".join(self.value(c) for c in node.children)
        if kind in ("simple_expansion", "expansion"):
            names = [c for c in node.named_children]
            if len(names) == 1 and names[0].type == "variable_name" and _text(names[0]) == "HOME":
                return str(self.home)
            return _SUB
        if kind == "command_name":
            return "".join(self.value(c) for c in node.children)
        if kind in _SUBSTITUTIONS:
            return _NET if _FETCH_RE.search(text) else _SUB
        return _SUB  # ansi_c_string, translated_string, arithmetic_expansion, …

    # the tree ---------------------------------------------------------------------------------------
    def walk(self, node: Node, depth: int) -> None:
        kind = node.type
        if kind == "command":
            self.command(node, depth)
        elif kind in ("subshell", *_SUBSTITUTIONS):
            saved = self.cwd
            self.children(node, depth)
            self.cwd = saved
        elif kind == "pipeline":
            self.pipeline(node, depth)
        elif kind == "redirected_statement":
            self.redirected(node, depth)
        elif kind == "file_redirect":
            self.redirect(node, depth)
        elif kind == "heredoc_redirect":
            self.heredoc(node, None, depth)
        elif kind == "variable_assignment":
            self.assignment(node)
            self.children(node, depth)
        elif kind in (
            "if_statement", "while_statement", "for_statement", "c_style_for_statement", "case_statement",
            "function_definition",
        ) or (kind == "list" and any(c.type == "||" for c in node.children)):  # fmt: skip
            saved = self.cwd
            self.children(node, depth)
            if self.cwd != saved:
                self.cwd = None  # a `cd` that may or may not have run
        else:
            self.children(node, depth)

    def children(self, node: Node, depth: int) -> None:
        for child in node.named_children:
            if child.type not in _VALUE_FREE:
                self.walk(child, depth)

    def assignment(self, node: Node) -> None:
        name = node.child_by_field_name("name")
        if name is not None and _GIT_ENV.fullmatch(_text(name)):
            self.ask(f"setting {_text(name)} changes which commands git runs")

    def redirected(self, node: Node, depth: int) -> None:
        body = node.child_by_field_name("body")
        if body is not None:
            self.walk(body, depth)
        for child in node.named_children:
            if body is not None and child == body:
                continue
            if child.type == "heredoc_redirect":
                self.heredoc(child, body, depth)
            else:
                self.walk(child, depth)

    def redirect(self, node: Node, depth: int) -> None:
        """A file redirection: a write target is judged like any write; its substitutions run too."""
        self.children(node, depth)
        op = next((_text(c) for c in node.children if not c.is_named), "")
        dest = node.child_by_field_name("destination")
        if op not in _WRITE_OPS or dest is None:
            return
        target = self.value(dest)
        if op in (">&", "<&") and re.fullmatch(r"[0-9]+-?|-", target):
            return  # duplicating a file descriptor
        self.write(target, "it writes to")

    def heredoc(self, node: Node, body: Node | None, depth: int) -> None:
        """A here-document: its substitutions run; fed to a shell, its text is a script."""
        self.children(node, depth)
        for piped in (c for c in node.named_children if c.type == "pipeline"):  # cat <<EOF | sh
            for stage in piped.named_children:
                command = stage.child_by_field_name("body") if stage.type == "redirected_statement" else stage
                name, args = (
                    self.head(command) if command is not None and command.type == "command" else (None, [])
                )
                if name in _STDIN_RUNNERS and _reads_code_from_stdin(name, args):
                    self.ask(f"it pipes text into {name} to run as code")
        start = next((c for c in node.named_children if c.type == "heredoc_start"), None)
        end = next((c for c in node.named_children if c.type == "heredoc_end"), None)
        content = next((c for c in node.named_children if c.type == "heredoc_body"), None)
        if start is None:
            return
        raw = _text(start)
        delimiter = re.sub(r"""['"\\]""", "", raw)
        quoted = delimiter != raw
        strip_tabs = any(_text(c) == "<<-" for c in node.children if not c.is_named)
        text = _text(content) if content is not None else ""
        # Where tree-sitter and bash could disagree on the end, the body could hide commands: ask.
        lines = text.split("\n")
        if (end is None or _text(end).lstrip("\t" if strip_tabs else "") != delimiter) or any(
            (line.lstrip("\t") if strip_tabs else line) == delimiter for line in lines
        ):
            self.ask("the policy cannot tell where a here-document ends")
            return
        if body is None or body.type != "command":
            return
        name, args = self.head(body)
        if _runs_stdin_as_shell(name, args):
            if not quoted:
                if content is not None and any(
                    c.type in _SUBSTITUTIONS or "expansion" in c.type for c in content.named_children
                ):
                    text = _SUB
                else:
                    text = _DQ_ESCAPES.sub(lambda m: "" if m.group(1) == "\n" else m.group(1), text)
            self.script(text, depth + 1, f"the here-document fed to {name}")

    def pipeline(self, node: Node, depth: int) -> None:
        from_network = False
        stages = [c for c in node.named_children]
        for position, stage in enumerate(stages):
            saved = self.cwd
            self.walk(stage, depth)
            if len(stages) > 1:
                self.cwd = saved  # each stage runs in its own subshell
            command = stage.child_by_field_name("body") if stage.type == "redirected_statement" else stage
            if command is None or command.type != "command":
                continue
            name, args = self.head(command)
            if name is None:
                continue
            if position > 0 and name in _STDIN_RUNNERS and _reads_code_from_stdin(name, args):
                if from_network:
                    self.deny(f"it pipes a download straight into {name} (like `curl … | sh`)")
                else:
                    self.ask(f"it pipes text into {name} to run as code")
            if name in _FETCHERS:
                from_network = True

    def head(self, command: Node) -> tuple[str | None, list[str]]:
        """The command a `command` node runs (wrappers looked through), without judging it."""
        words = self.words(command)
        probe = _Judge(self.root, self.cwd)
        return probe.unwrap(words)

    def words(self, command: Node) -> list[str]:
        words = []
        for i, child in enumerate(command.named_children):
            field = command.field_name_for_named_child(i)
            if child.type == "command_name" or field == "argument":
                words.append(self.value(child))
        return words

    def command(self, node: Node, depth: int) -> None:
        saved = self.cwd
        for child in node.named_children:  # substitutions in arguments and assignments run first
            if child.type == "heredoc_redirect":
                self.heredoc(child, node, depth)
            elif child.type not in ("command_name", "word", "raw_string", "number", "herestring_redirect"):
                self.walk(child, depth)
            elif child.type == "command_name":
                self.children(child, depth)
        self.cwd = saved
        words = self.words(node)
        self.seen.append(words)
        if not words:
            return
        for child in node.named_children:
            if child.type == "herestring_redirect":
                self.children(child, depth)
                name, args = self.unwrap(list(words))
                if _runs_stdin_as_shell(name, args):
                    value = "".join(self.value(c) for c in child.named_children)
                    self.script(value, depth + 1, f"the here-string fed to {name}")
        self.argv(words, depth)

    # commands ---------------------------------------------------------------------------------------
    def unwrap(self, words: list[str]) -> tuple[str | None, list[str]]:
        """The command's name (basename) and arguments with assignments and plain wrappers looked through."""
        while words:
            if _ASSIGN.match(words[0]):
                words = words[1:]
                continue
            if _unknown(words[0]) or _GLOB.search(words[0]):
                return None, words
            name = os.path.basename(words[0]).lower()
            wrapped = _wrapped(name, words)
            if wrapped is None:
                return name, words[1:]
            words = wrapped[0]
        return None, []

    def argv(self, words: list[str], depth: int) -> None:
        """Judge one simple command given as its words (values; unknown parts marked)."""
        while words and _ASSIGN.match(words[0]) and not _unknown(words[0].split("=", 1)[0]):
            if _GIT_ENV.fullmatch(words[0].split("=", 1)[0].split("[")[0].rstrip("+")):
                self.ask(f"setting {words[0].split('=', 1)[0]} changes which commands git runs")
            words = words[1:]
        if not words or words[0] in ("{", "}", "!"):
            words = words[1:]
            if not words:
                return
        head = words[0]
        if _unknown(head) or _GLOB.search(head) or head == "":
            self.ask(
                "the command's name is only known at run time (a variable, substitution, glob, brace "
                "expansion or $'…' quoting in command position)"
            )
            return
        name = os.path.basename(head).lower()  # case-insensitive file systems (macOS) run SUDO as sudo
        if name in _ELEVATE:
            self.deny(f"{name} runs commands as another user (root); the agent never elevates privileges")
            return
        wrapped = _wrapped(name, words)
        if wrapped is not None:
            inner, chdir, script = wrapped
            if script is not None:
                self.script(script, depth + 1, f"the command {name} runs")
            if chdir is None:
                self.argv(inner, depth + 1)
                return
            saved = self.cwd
            self.cwd = self.resolve_dir(chdir)
            self.argv(inner, depth + 1)
            self.cwd = saved
            return
        self.simple(name, words[1:], depth)

    def simple(self, name: str, args: list[str], depth: int) -> None:
        base = re.sub(r"\.(exe|sh)$", "", name)
        if base in ("cd", "pushd", "popd"):
            self.change_dir(base, args)
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
        elif base in _SHELLS:
            self.shell(base, args, depth)
        elif base == "eval":
            self.script(" ".join(args), depth + 1, "eval")
        elif base in ("source", "."):
            if not args or _unknown(args[0]):
                self.script(_NET if args and _NET in args[0] else _SUB, depth + 1, f"{base}")
        elif base == "trap" and args and not args[0].startswith("-"):
            self.script(args[0], depth + 1, "trap")
        elif base == "alias":
            for arg in args:
                if "=" in arg:
                    self.script(arg.split("=", 1)[1], depth + 1, "the alias")
        elif base in _DELETERS:
            self.remove(base, args)
        elif base == "find":
            self.find(args, depth)
        elif base == "dd":
            for arg in args:
                if arg.startswith("of="):
                    self.write(arg[3:], "dd writes to")
        elif base in ("chmod", "chown", "chgrp", "chattr", "setfacl"):
            self.change_mode(base, args)
        elif base in ("tee", "truncate", "touch", "mkdir", "mkfifo"):
            for arg in _operands(args, _VALUED.get(base, "")):
                self.write(arg, f"{base} changes")
        elif base in ("cp", "mv", "install", "rsync", "scp", "ln"):
            self.copy(base, args, depth)
        elif base == "sed":
            self.sed(args)
        elif base in ("sort", "shuf"):
            for target in _option_values(args, "o", "--output"):
                self.write(target, f"{base} -o writes to")
        elif base == "uniq":
            operands = _operands(args, "fsw")
            if len(operands) > 1:
                self.write(operands[1], "uniq writes to")
        elif base == "tar":
            self.tar(args, depth)
        elif base in ("unzip",):
            for target in _option_values(args, "d", ""):
                self.write(target, "unzip extracts into")
        elif base == "curl":
            for target in _option_values(args, "o", "--output"):
                self.write(target, "curl writes to")
            for target in _option_values(args, "", "--output-dir"):
                self.write(target, "curl writes to")
        elif base == "wget":
            for target in _option_values(args, "O", "--output-document"):
                if target != "-":
                    self.write(target, "wget writes to")
            for target in _option_values(args, "P", "--directory-prefix"):
                self.write(target, "wget writes to")
        elif base == "kill" and "-1" in args[-1:]:
            self.deny("kill -1 signals every process you own")
        elif base in ("killall", "pkill", "crontab"):
            self.ask(f"{base} affects processes or schedules outside this task")
        elif base in _DETACHERS:
            self.ask(f"{base} starts work that outlives this command, where the policy cannot follow it")
        elif base in _CONTAINERS and not (args and args[0] in _CONTAINER_READS):
            self.ask(f"{base} runs containers, which can reach the host outside the workspace")
        elif base == "git":
            self.git(args, depth)
        else:
            self.packages(base, args)

    def shell(self, name: str, args: list[str], depth: int) -> None:
        if name == "busybox":
            if args:
                self.argv(args, depth + 1)
            return
        options: list[str] = []
        skip = False
        for arg in args:  # bash's own options come before the script
            if skip:
                skip = False
            elif arg.startswith(("-", "+")) and arg not in ("-", "--"):
                options.append(arg)
                skip = arg in ("-o", "+o", "-O", "+O")
            else:
                break
        if "c" in _short_flags(options):
            script = _flag_value(args)
            if script is not None:
                self.script(script, depth + 1, f"the {name} -c script")
            return
        operands = _operands(args, "oO")
        if operands and _unknown(operands[0]):
            self.script(_NET if _NET in operands[0] else _SUB, depth + 1, f"the script {name} runs")

    # paths ------------------------------------------------------------------------------------------
    def where(self, word: str) -> str:
        """ "root", "home", "ancestor", "system", "outside", "temp", "inside", "git", "device",
        "safe-device" or "unknown" for a path word."""
        text = word
        home = str(self.home)
        for prefix in ("${HOME}", "$HOME"):
            if text == prefix or text.startswith(prefix + "/"):
                text = home + text[len(prefix) :]
        if text == "~" or text.startswith("~/"):
            text = home + text[1:]
        elif text.startswith("~"):
            return "outside"  # ~user: another user's home; ~+ and ~- are directories only known at run time
        if _unknown(text) or "$" in text:
            return "unknown"
        text = re.sub(r"(/\*+|\*+)$", "", text) or "/"  # `rm -rf /*` is `rm -rf /`
        if text.startswith("/dev/"):
            return "safe-device" if _SAFE_DEVICES.match(text) else "device"
        if not text.startswith("/") and self.cwd is None:
            return "unknown"
        path = Path(text) if text.startswith("/") else (self.cwd or self.root) / text
        try:
            resolved = Path(os.path.realpath(path))
        except (OSError, ValueError):
            return "unknown"
        if resolved == Path("/"):
            return "root"
        if resolved == self.root or self.root in resolved.parents:
            git = self.root / ".git"
            return "git" if resolved == git or git in resolved.parents else "inside"
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

    def write(self, word: str, what: str) -> None:
        place = self.where(word)
        if place in _OUTSIDE:
            self.deny(f"{what} {_show(word)}, which is {_OUTSIDE[place]}")
        elif place == "device":
            self.deny(f"{what} the device {_show(word)}")
        elif place == "unknown":
            self.ask(f"{what} {_show(word)}, a path only known at run time")
        elif place == "git":
            self.ask(f"{what} {_show(word)}, inside .git (hooks and config there run commands)")

    def resolve_dir(self, word: str) -> Path | None:
        place = self.where(word)
        if place == "unknown":
            return None
        home = str(self.home)
        text = home + word[1:] if word == "~" or word.startswith("~/") else word
        return Path(os.path.realpath((self.cwd or self.root) / text))

    def change_dir(self, name: str, args: list[str]) -> None:
        """Follow `cd` within one command line, so `cd /; rm -rf etc` is judged as `rm -rf /etc`."""
        if name == "popd":
            self.cwd = None
            return
        operands = _operands(args)
        target = operands[0] if operands else "~"
        if target == "-" or (name == "pushd" and target.startswith(("+", "-"))):
            self.ask(f"{name} {target} goes to a directory only known at run time")
            self.cwd = None
            return
        place = self.where(target)
        if place in ("unknown",):
            self.ask(f"{name} {_show(target)} goes to a directory only known at run time")
            self.cwd = None
            return
        scratch = place == "system" and Path(os.path.realpath((self.cwd or self.root) / target)) in self.temps
        if place not in ("inside", "git", "temp") and not scratch:
            self.ask(f"{name} {_show(target)} leaves the workspace")
        if (
            self.cwd is not None
            and not target.startswith(("/", "~", "."))
            and not (self.cwd / target).is_dir()
        ):
            self.cwd = None  # CDPATH may choose the directory
            return
        self.cwd = self.resolve_dir(target)

    def remove(self, name: str, args: list[str]) -> None:
        if "--no-preserve-root" in args:
            self.deny("rm --no-preserve-root would delete the whole file system")
            return
        flags = _short_flags(args)
        recursive = name in ("rm", "srm") and bool({"r", "R"} & set(flags) or "--recursive" in args)
        for target in _operands(args):
            place = self.where(target)
            if place in _OUTSIDE or place == "device":
                self.deny(f"{name} {_show(target)} deletes {_OUTSIDE.get(place, 'a device')}")
            elif place == "unknown":
                self.ask(f"{name} deletes {_show(target)}, a path only known at run time")
            elif recursive or name == "shred" or place == "git":
                self.ask(f"{name} {' '.join(map(_show, args))} deletes {_show(target)} and everything in it")

    def find(self, args: list[str], depth: int) -> None:
        starts = []
        for arg in args:
            if arg.startswith(("-", "(", "!")) and arg not in ("-", "--"):
                break
            starts.append(arg)
        starts = starts or ["."]
        deletes = "-delete" in args
        i = 0
        while i < len(args):
            arg = args[i]
            if arg in ("-exec", "-execdir", "-ok", "-okdir"):
                end = i + 1
                while end < len(args) and args[end] not in (";", "+"):
                    end += 1
                inner = args[i + 1 : end]
                if inner and os.path.basename(inner[0]) in _DELETERS:
                    deletes = True
                for start in starts[:4]:
                    self.argv([start if a == "{}" else a.replace("{}", _SUB) for a in inner], depth + 1)
                i = end + 1
                continue
            if arg in ("-fprint", "-fprint0", "-fls", "-fprintf") and i + 1 < len(args):
                self.write(args[i + 1], f"find {arg} writes to")
            i += 1
        if not deletes:
            return
        for start in starts:
            if self.where(start) in _OUTSIDE:
                self.deny(f"find {_show(start)} -delete deletes files outside the workspace")
                return
        self.ask("find … -delete deletes every file it matches")

    def change_mode(self, name: str, args: list[str]) -> None:
        operands = _operands(args)
        if name == "chmod":  # a mode like -x or -w looks like an option
            operands = [a for a in args if not a.startswith("--")]
            operands = [a for a in operands if not re.fullmatch(r"-[RvcfH]+", a)]
        targets = operands[1:] if name != "chattr" else operands
        for target in targets:
            self.write(target, f"{name} changes")

    def copy(self, name: str, args: list[str], depth: int) -> None:
        valued = _VALUED.get(name, "")
        operands = _operands(args, valued)
        if name in ("rsync", "scp"):
            operands = [o for o in operands if ":" not in o]  # remote ends are not local paths
            for shell in _option_values(args, "e", "--rsh"):
                self.script(shell, depth + 1, f"{name} -e")
        targets = _option_values(args, "t", "--target-directory")
        destinations = targets or operands[-1:]
        for dest in destinations:
            self.write(dest, f"{name} writes to")
        if name == "mv":
            for source in operands if targets else operands[:-1]:
                self.write(source, "mv moves away")

    def sed(self, args: list[str]) -> None:
        in_place = any(re.match(r"-[a-zA-Z]*i|--in-place", a) for a in args if not a.startswith("--e"))
        scripts = _option_values(args, "e", "--expression")
        operands = _operands(args, "efl")
        has_files_opt = bool(scripts) or bool(_option_values(args, "f", "--file"))
        if not has_files_opt and operands:
            scripts, operands = [operands[0]], operands[1:]
        for script in scripts:
            if re.search(
                r"(^|[;\n}{]|/[gpIiMm0-9]*)\s*[0-9$,/!]*\s*[ewW](\s|$|;)|/[gpIiMm0-9]*[ewW]\s", script
            ):
                self.ask("the sed script writes files or runs commands (w, W, e)")
        if in_place:
            for arg in operands:
                self.write(arg, "sed -i edits")

    def tar(self, args: list[str], depth: int) -> None:
        first = args[0] if args else ""
        cluster = first.lstrip("-") if first and not first.startswith("--") else ""
        flags = cluster + _short_flags(args[1:])
        extract = "x" in flags or any(a in ("--extract", "--get") for a in args)
        create = bool(set("cruA") & set(flags)) or any(
            a in ("--create", "--append", "--update", "--catenate", "--concatenate") for a in args
        )
        dirs = _option_values(args, "C", "--directory")
        for command in (
            _option_values(args, "I", "--use-compress-program")
            + _option_values(args, "", "--to-command")
            + _option_values(args, "F", "--info-script")
            + _option_values(args, "", "--rsh-command")
        ):
            self.script(command, depth + 1, "the command tar runs")
        if any(a.startswith("--checkpoint-action") and "exec" in a for a in args):
            self.ask("tar --checkpoint-action=exec runs commands")
        if extract:
            for target in dirs or ["."]:
                self.write(target, "tar extracts into")
        if create:
            archives = _option_values(args, "f", "--file")
            if not archives and cluster and "f" in cluster:  # old style: tar cf ARCHIVE …
                rest = [a for a in args[1:] if not a.startswith("-")]
                archives = rest[:1]
            for archive in archives:
                if archive != "-":
                    self.write(archive, "tar writes the archive")

    def git(self, args: list[str], depth: int) -> None:
        rest = list(args)
        aliases: dict[str, str] = {}
        while rest and rest[0].startswith("-"):
            flag = rest.pop(0)
            value = None
            if flag in ("-C", "-c", "--git-dir", "--work-tree", "--namespace", "--exec-path", "--config-env"):
                value = rest.pop(0) if rest else ""
            elif "=" in flag and flag.startswith("--"):
                flag, value = flag.split("=", 1)
            if flag == "-c" and value is not None:
                key, _, setting = value.partition("=")
                if _unknown(key) or (_GIT_COMMAND_KEYS.fullmatch(key) and _unknown(setting)):
                    self.ask("git -c sets configuration only known at run time")
                elif key.lower().startswith("alias."):
                    aliases[key[6:].lower()] = setting
                elif _GIT_COMMAND_KEYS.fullmatch(key):
                    self.ask(f"git -c {key}=… makes git run a command of its own")
            elif flag == "--config-env":
                self.ask("git --config-env takes configuration from the environment")
            elif flag == "--exec-path" and value is not None:
                self.ask("git --exec-path makes git run programs the policy cannot see")
        if not rest:
            return
        sub, opts = rest[0], rest[1:]
        if _unknown(sub):
            self.ask("the git subcommand is only known at run time")
            return
        if sub.lower() in aliases:
            expansion = aliases[sub.lower()]
            if expansion.startswith("!"):
                self.script(
                    expansion[1:] + " " + join([o.replace(_SUB, "x") for o in opts]),
                    depth + 1,
                    "the git alias",
                )
                if any(_unknown(o) for o in opts):
                    self.ask("the git alias gets arguments only known at run time")
            else:
                try:
                    self.git(shlex.split(expansion) + opts, depth + 1)
                except ValueError:
                    self.ask("the git alias cannot be read")
            return
        if sub not in _GIT_KNOWN:
            self.ask(
                f"git {sub} is not a git command the policy knows (an alias or extension can run anything)"
            )
            return
        short = _short_flags(opts)
        risky = {
            "push": "git push publishes commits to a remote",
            "send-pack": "git send-pack publishes commits to a remote",
            "http-push": "git http-push publishes commits to a remote",
            "send-email": "git send-email sends patches out",
            "filter-branch": "it rewrites history",
            "filter-repo": "it rewrites history",
            "rebase": "it rewrites history",
            "update-ref": "it moves or deletes refs",
            "replace": "it rewrites history",
            "fast-import": "it writes history directly",
            "symbolic-ref": "it moves refs",
        }
        if sub in risky:
            self.ask(risky[sub])
        elif sub == "config":
            self.git_config(opts)
        elif sub == "reset" and ("--hard" in opts or "--merge" in opts or "--keep" in opts):
            self.ask("git reset --hard throws away uncommitted changes")
        elif sub == "clean" and ("f" in short or "--force" in opts):
            self.ask("git clean -f deletes untracked files")
        elif sub in ("checkout", "restore", "switch") and (
            "--" in opts
            or "." in opts
            or (sub == "restore" and "--staged" not in opts)
            or "f" in short
            or "--force" in opts
            or "--discard-changes" in opts
        ):
            self.ask(f"git {sub} can throw away uncommitted changes")
        elif sub == "stash" and opts[:1] in (["drop"], ["clear"]):
            self.ask("git stash drop/clear deletes stashed work")
        elif sub == "branch" and (
            "D" in short or ("--delete" in opts and "--force" in opts) or "f" in short or "M" in short
        ):
            self.ask("git branch -D/-f deletes or moves a branch with unmerged work")
        elif sub == "tag" and ("d" in short or "f" in short or "--delete" in opts or "--force" in opts):
            self.ask("git tag -d/-f deletes or moves a tag")
        elif sub == "commit" and "--amend" in opts:
            self.ask("git commit --amend rewrites the last commit")
        elif sub in ("reflog", "gc", "prune") and (
            sub == "prune" or any("expire" in o or "prune" in o for o in opts)
        ):
            self.ask("it deletes unreachable commits for good")
        elif sub == "submodule" and "foreach" in opts:
            at = opts.index("foreach")
            command = [o for o in opts[at + 1 :] if o != "--recursive"]
            self.script(" ".join(command), depth + 1, "git submodule foreach")
        elif sub == "bisect" and opts[:1] == ["run"]:
            self.argv(opts[1:], depth + 1)
        elif sub in ("difftool", "mergetool") and any(
            o in ("-x", "--extcmd", "-t", "--tool") or o.startswith("--extcmd") for o in opts
        ):
            self.ask(f"git {sub} runs an external command")
        elif sub in ("clone", "fetch", "pull", "ls-remote", "archive", "submodule") and any(
            o.startswith(("--upload-pack", "-u", "--exec", "--receive-pack"))
            or o.startswith("ext::")
            or "::" in o
            and o.split("::", 1)[0] in ("ext", "fd")
            for o in opts
        ):
            self.ask(f"git {sub} with a command of its own (--upload-pack, ext::)")
        elif sub == "clone":
            operands = [o for o in opts if not o.startswith("-")]
            if len(operands) > 1:
                self.write(operands[-1], "git clone writes to")
        elif sub in ("worktree",) and opts[:1] == ["add"]:
            operands = [o for o in opts[1:] if not o.startswith("-")]
            if operands:
                self.write(operands[0], "git worktree add writes to")

    def git_config(self, opts: list[str]) -> None:
        reads = {
            "--get",
            "--get-all",
            "--get-regexp",
            "--list",
            "-l",
            "--get-urlmatch",
            "--show-origin",
            "get",
            "list",
        }
        if any(o in reads for o in opts):
            return
        where = [o for o in opts if o in ("--global", "--system")] + _option_values(opts, "f", "--file")
        operands = [o for o in opts if not o.startswith("-")]
        if operands and operands[0] in ("set", "unset", "rename-section", "remove-section", "edit"):
            operands = operands[1:]
        writes = len(operands) >= 2 or any(
            o.startswith(("--unset", "--add", "--replace", "--rename", "--remove", "-e", "--edit"))
            for o in opts
        )
        if not writes:
            return
        key = operands[0] if operands else ""
        if where:
            self.ask("git config writes configuration outside the workspace's repository")
        elif _unknown(key) or _GIT_COMMAND_KEYS.fullmatch(key):
            self.ask(f"git config {_show(key)} makes git run commands (aliases, pagers, hooks, filters)")

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


# --- wrappers ------------------------------------------------------------------------------------------

_VALUED = {
    "cp": "tS", "mv": "tS", "install": "tSgmo", "ln": "tS", "rsync": "etfT", "scp": "cFiJloPS",
    "tee": "", "truncate": "sr", "touch": "rdt", "mkdir": "m", "mkfifo": "m",
}  # fmt: skip
"""Short options that take a value, per command (so the value is not taken for an operand)."""

_WRAPPER_OPTIONS: dict[str, tuple[str, set[str], int]] = {
    # name: (short options with a value, long options with a value, fixed operands before the command)
    "timeout": ("sk", {"--signal", "--kill-after"}, 1),
    "stdbuf": ("ioe", {"--input", "--output", "--error"}, 0),
    "nice": ("n", {"--adjustment"}, 0),
    "ionice": ("cnp", {"--class", "--classdata", "--pid"}, 0),
    "nohup": ("", set(), 0),
    "setsid": ("", set(), 0),
    "time": ("fo", {"--format", "--output"}, 0),
    "command": ("", set(), 0),
    "builtin": ("", set(), 0),
    "exec": ("a", set(), 0),
    "unbuffer": ("", set(), 0),
    "nocache": ("", set(), 0),
    "caffeinate": ("tw", set(), 0),
    "chrt": ("T", {"--sched-runtime", "--sched-period", "--sched-deadline"}, 1),
    "taskset": ("", set(), 1),
    "coproc": ("", set(), 0),
    "strace": ("oeEpsSuaIXPb", {"--output", "--trace", "--signal"}, 0),
    "ltrace": ("oeEpsSuanlX", {"--output"}, 0),
    "fakeroot": ("", set(), 0),
    "faketime": ("f", set(), 1),
    "firejail": ("", set(), 0),
    "proot": ("rbwq", set(), 0),
}


def _wrapped(name: str, words: list[str]) -> tuple[list[str], str | None, str | None] | None:
    """For a wrapper command: (the command it runs, a directory it runs it in, shell text it runs).

    None when `name` is not a wrapper; no command when it runs none (`command -v x`, `exec 3>&1`)."""
    args = words[1:]
    if name == "env":
        chdir = script = None
        i = 0
        while i < len(args):
            arg = args[i]
            if arg in ("-u", "--unset"):
                i += 2
            elif arg in ("-C", "--chdir"):
                chdir = args[i + 1] if i + 1 < len(args) else None
                i += 2
            elif arg.startswith("--chdir="):
                chdir, i = arg.split("=", 1)[1], i + 1
            elif arg.startswith("-C") and not arg.startswith("--"):
                chdir, i = arg[2:], i + 1
            elif arg in ("-S", "--split-string") or arg.startswith(("-S", "--split-string=")):
                value = arg.split("=", 1)[1] if arg.startswith("--split-string=") else arg[2:]
                if not value:
                    value = args[i + 1] if i + 1 < len(args) else ""
                    i += 1
                script = " ".join([value, *(join([a]) for a in args[i + 1 :])])
                return [], chdir, script
            elif arg.startswith("-") or _ASSIGN.match(arg):
                i += 1
            else:
                break
        return args[i:], chdir, None
    if name == "xargs":
        replace = None
        i = 0
        while i < len(args) and args[i].startswith("-"):
            arg = args[i]
            if arg in ("-I", "-n", "-P", "-L", "-d", "-E", "-s", "-a"):
                if arg == "-I" and i + 1 < len(args):
                    replace = args[i + 1]
                i += 2
                continue
            if arg.startswith("-I"):
                replace = arg[2:]
            elif arg.startswith(("-i", "--replace")):
                replace = (
                    arg.split("=", 1)[1] if "=" in arg else (arg[2:] if arg.startswith("-i") else "") or "{}"
                )
            i += 1
        inner = args[i:] or ["echo"]
        return ([a.replace(replace, _SUB) for a in inner] if replace else [*inner, _SUB]), None, None
    if name == "flock":
        i = 0
        while i < len(args) and args[i].startswith("-"):
            if args[i] in ("-c", "--command"):
                return [], None, args[i + 1] if i + 1 < len(args) else ""
            i += 2 if args[i] in ("-w", "--timeout", "-E", "--conflict-exit-code") else 1
        rest = args[i + 1 :]  # after the lock file
        if rest[:1] in (["-c"], ["--command"]):
            return [], None, rest[1] if len(rest) > 1 else ""
        return rest, None, None
    if name == "watch":
        i = 0
        exec_mode = False
        while i < len(args) and args[i].startswith("-"):
            arg = args[i]
            exec_mode = exec_mode or arg in ("-x", "--exec")
            i += 2 if arg in ("-n", "--interval", "-q", "--equexit") else 1
        if exec_mode:
            return args[i:], None, None
        return [], None, " ".join(args[i:])
    if name in ("script",) and ("-c" in args or "--command" in args):
        flag = "-c" if "-c" in args else "--command"
        at = args.index(flag)
        return [], None, args[at + 1] if at + 1 < len(args) else ""
    if name == "busybox" and args:
        return args, None, None
    if name not in _WRAPPER_OPTIONS:
        return None
    short, long, fixed = _WRAPPER_OPTIONS[name]
    if name == "command" and any(a in ("-v", "-V") for a in args[:2]):
        return [], None, None  # only looks the name up
    if name == "exec" and not args:
        return [], None, None
    i = 0
    while i < len(args) and args[i].startswith("-") and args[i] != "-":
        arg = args[i]
        if arg == "--":
            i += 1
            break
        if arg.startswith("--"):
            i += 2 if arg in long else 1
        elif len(arg) == 2 and arg[1] in short:
            i += 2
        else:
            i += 1
    if name == "coproc" and len(args) > i + 1 and args[i + 1] == "{":
        i += 2  # coproc NAME { …; }
    elif name == "coproc" and args[i : i + 1] == ["{"]:
        i += 1
    i += fixed
    return args[i:], None, None


def _short_flags(args: list[str]) -> str:
    return "".join(a[1:] for a in args if a.startswith("-") and not a.startswith("--") and len(a) > 1)


def _flag_value(args: list[str]) -> str | None:
    """The argument after the flag cluster holding `c` (bash -c SCRIPT, bash -lc SCRIPT, bash -c -e S)."""
    for i, arg in enumerate(args):
        if arg.startswith("-") and not arg.startswith("--") and "c" in arg[1:]:
            rest = [a for a in args[i + 1 :]]
            while rest and rest[0].startswith(("-", "+")) and rest[0] not in ("-", "--"):
                rest.pop(0)  # more options: bash -c -x 'script'
            if rest and rest[0] == "--":
                rest.pop(0)
            return rest[0] if rest else None
    return None


def _operands(args: list[str], valued: str = "") -> list[str]:
    """Arguments that are not options (nor the values of short options listed in `valued`)."""
    out: list[str] = []
    options_done = False
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif options_done or not arg.startswith("-") or arg == "-":
            out.append(arg)
        elif arg == "--":
            options_done = True
        elif not arg.startswith("--") and valued and len(arg) >= 2 and arg[-1] in valued:
            skip = True  # -t DIR, -vt DIR: the value follows
    return out


def _option_values(args: list[str], short: str, long: str) -> list[str]:
    """Values of an option given as `-x V`, `-xV`, `-abx V`, `--long V` or `--long=V`."""
    values = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            break
        if long and arg == long and i + 1 < len(args):
            values.append(args[i + 1])
            i += 2
            continue
        if long and arg.startswith(long + "="):
            values.append(arg[len(long) + 1 :])
        elif short and arg.startswith("-") and not arg.startswith("--") and short in arg[1:]:
            at = arg.index(short, 1)
            tail = arg[at + 1 :]
            if tail:
                values.append(tail)
            elif i + 1 < len(args):
                values.append(args[i + 1])
                i += 1
        i += 1
    return values


_STDIN_PATHS = {"-", "/dev/stdin", "/dev/fd/0", "/proc/self/fd/0"}
_STDIN_RUNNERS = _INTERPRETERS | {"source", "."}


def _reads_code_from_stdin(name: str, args: list[str]) -> bool:
    operands = _operands(args)
    if name in ("source", "."):
        return bool(args) and args[0] in _STDIN_PATHS
    if name in _SHELLS:
        flags = _short_flags([a for a in args if a != "-"])
        return "c" not in flags and (not operands or "s" in flags or operands[0] in _STDIN_PATHS)
    if "-c" in args or "-e" in args or "-m" in args:
        return False
    return not operands or operands[0] in _STDIN_PATHS


def _runs_stdin_as_shell(name: str | None, args: list[str]) -> bool:
    """Whether the command runs what it reads on stdin as shell code (bash, bash -s, bash -, source /dev/stdin)."""
    return name is not None and name in _SHELLS | {"source", "."} and _reads_code_from_stdin(name, args)


def _text(node: Node) -> str:
    return (node.text or b"").decode("utf-8", "surrogateescape")


def _show(word: str) -> str:
    return repr(word.replace(_SUB, "…").replace(_NET, "…"))


MAX_COMMAND = 100_000
"""Characters: a longer command line is asked, not parsed (checking stays well under a second)."""


def check_command(command: str, root: Path, cwd: Path | None = None) -> Verdict:
    """The policy's verdict on `command` run in workspace `root` (from `cwd`, default the root).

    The most severe rule that matched wins: deny, then ask, else allow. Parses, never runs anything.
    """
    judge = _Judge(root, cwd)
    if len(command) > MAX_COMMAND:
        return Verdict(
            "ask", f"the command is over {MAX_COMMAND:,} characters, too long to check; write a script"
        )
    try:
        judge.script(command, 0)
    except (RecursionError, ValueError, OSError) as exc:  # absurd nesting, a path the OS rejects
        judge.ask(f"the policy could not check this command ({type(exc).__name__}); simplify it")
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
