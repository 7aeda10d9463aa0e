"""From a candidate to a real call: unwrap envelopes, resolve the tool name, map argument names to the
schema's, coerce types. Decides "call", "error" (clearly attempted, unrecoverable) or "none" (not a call)."""

from __future__ import annotations

import difflib
import json
import re
from typing import Any

from agent_core.parsing import messages
from agent_core.parsing.formats.python_call import parse_arguments
from agent_core.parsing.repair import Unreadable, load_json
from agent_core.parsing.toolset import ToolInfo, ToolSet, snake
from agent_core.parsing.types import Candidate, Resolution, ToolCall

NAME_KEYS = (
    "name", "tool", "tool_name", "toolname", "function_name", "functionname", "function", "action",
    "recipient_name",
)  # fmt: skip
WEAK_NAME_KEYS = ("title", "method", "call")
"""Keys that name the tool only beside an arguments key (`{"title": "read_file", "arguments": {...}}`):
alone, a title is a title."""
ARG_KEYS = (
    "arguments", "parameters", "args", "input", "params", "tool_input", "action_input", "kwargs",
    "argument", "inputs", "tool_args", "tool_arguments", "function_args",
)  # fmt: skip
LIST_KEYS = ("tool_calls", "calls", "function_calls", "tool_uses", "actions")
IGNORED_KEYS = {"id", "type", "index", "call_id", "tool_call_id"}
MAX_CALLS = 32

# Argument names small models use instead of the schema's. Applied only when the target exists in the
# tool's schema and the written name does not.
ALIASES: dict[str, tuple[str, ...]] = {
    "path": ("file_path", "filepath", "filename", "file_name", "file", "path_to_file", "fname", "target_file", "dir", "directory"),
    "content": ("contents", "text", "body", "code", "data", "file_content", "file_contents", "new_content", "source"),
    "command": ("cmd", "shell", "script", "bash", "commands", "shell_command"),
    "pattern": ("query", "regex", "search", "search_pattern", "glob_pattern", "expression", "term", "q"),
    "search": ("old", "old_str", "old_string", "old_text", "search_text", "find", "original", "before", "from"),
    "replace": ("new", "new_str", "new_string", "new_text", "replacement", "replace_with", "after", "to"),
    "glob": ("include", "file_glob", "file_pattern", "files"),
    "start_line": ("start", "from_line", "line_start", "first_line", "offset"),
    "end_line": ("end", "to_line", "line_end", "last_line"),
    "timeout": ("timeout_seconds", "time_limit"),
}  # fmt: skip


def resolve(c: Candidate, toolset: ToolSet) -> Resolution:
    """Never raises: anything unexpected turns into "none" (or an error when the call was explicit).
    A call the reply stopped inside (`c.cut_off`) is never run: the model is told it was cut off."""
    try:
        r = _resolve(c, toolset)
        if c.cut_off and r.status != "none":
            tool = toolset.get(r.tool) if r.tool else None
            return Resolution("error", errors=[messages.cut_off(tool, c.family, toolset)], tool=r.tool)
        return r
    except Exception as exc:  # defensive: a parser bug must not crash the agent loop
        if c.explicit:
            return Resolution(
                "error",
                errors=[
                    f"Could not read your tool call ({type(exc).__name__}). "
                    f"{messages.SHAPE_LEAD} {messages.expected_shape(None, c.family, toolset)}"
                ],
            )
        return Resolution("none")


def _resolve(c: Candidate, toolset: ToolSet) -> Resolution:
    if c.problem and not c.has_obj:
        if not (c.explicit or c.attempt):
            return Resolution("none")
        name = toolset.resolve(c.name) if c.name else None
        if c.name and name is None:
            return Resolution("error", errors=[messages.unknown_tool(c.name, c.family, toolset)])
        r = _error(c, toolset, toolset.get(name) if name else None, c.problem)
        r.tool = name
        return r
    if c.has_obj:
        entries = list(_unwrap(c.obj, 0))
        if not entries:
            return Resolution("none")
        out = Resolution("none")
        for name, args, has_args in entries[:MAX_CALLS]:
            r = _one(c, toolset, name, args, has_args, [])
            _merge(out, r)
        return out
    return _one(c, toolset, c.name, c.args, c.args is not None or bool(c.positional), c.positional)


def _merge(out: Resolution, r: Resolution) -> None:
    out.calls.extend(r.calls)
    out.errors.extend(r.errors)
    out.tool = out.tool or r.tool
    if r.status == "call" or (r.status == "error" and out.status == "none"):
        out.status = r.status


def _unwrap(obj: Any, depth: int) -> list[tuple[Any, Any, bool]]:
    """(name, raw arguments, whether an arguments key was present) for every call an envelope holds."""
    if depth > 4:
        return []
    if isinstance(obj, list):
        found = []
        for item in obj[:MAX_CALLS]:
            found.extend(_unwrap(item, depth + 1))
        return found
    if not isinstance(obj, dict):
        return []
    keys = {k.lower() if isinstance(k, str) else k: k for k in obj}
    for key in LIST_KEYS:
        if key in keys and isinstance(obj[keys[key]], list | dict):
            return _unwrap(obj[keys[key]], depth + 1)
    for key in ("function", "function_call", "tool_call"):
        if key in keys and isinstance(obj[keys[key]], dict):
            return _unwrap(obj[keys[key]], depth + 1)
    method = obj.get(keys["method"]) if "method" in keys else None
    if method == "tools/call" and isinstance(obj.get(keys.get("params", "")), dict):
        return _unwrap(obj[keys["params"]], depth + 1)  # an MCP request: {"params": {"name", "arguments"}}
    name = next((obj[keys[k]] for k in NAME_KEYS if k in keys and isinstance(obj[keys[k]], str)), None)
    arg_key = next((keys[k] for k in ARG_KEYS if k in keys), None)
    if name is None and arg_key is not None:
        name = next(
            (obj[keys[k]] for k in WEAK_NAME_KEYS if k in keys and isinstance(obj[keys[k]], str)), None
        )
    if name is None:
        if len(obj) == 1:  # {"write_file": {"path": ...}}
            ((only_key, value),) = obj.items()
            if isinstance(value, dict) and str(only_key).lower() not in ARG_KEYS:
                return [(f"\0{only_key}", value, True)]  # \0: the name must resolve exactly
        return [(None, obj[arg_key], True)] if arg_key else []
    if arg_key is not None:
        return [(name, obj[arg_key], True)]
    used = {keys[k] for k in NAME_KEYS if k in keys and obj[keys[k]] == name}
    flat = {k: v for k, v in obj.items() if k not in used and str(k).lower() not in IGNORED_KEYS}
    return [(name, flat, False)]


def _one(
    c: Candidate, toolset: ToolSet, raw_name: Any, raw_args: Any, has_args: bool, positional: list[Any]
) -> Resolution:
    exact_only = isinstance(raw_name, str) and raw_name.startswith("\0")
    if exact_only:
        raw_name = raw_name[1:]
    if not isinstance(raw_name, str) or not raw_name.strip():
        if c.explicit and (has_args or raw_name is not None):
            return Resolution("error", errors=[messages.no_name(c.family, toolset)])
        return Resolution("none")
    name = toolset.resolve(raw_name, fuzzy=not exact_only)
    if name is None:
        attempted = c.explicit or (
            bool(c.attempt)
            and has_args
            and isinstance(raw_args, dict)
            and (c.attempt == "arguments" or not _looks_like_schema(raw_args))
        )
        if attempted and not exact_only:
            fits = _tool_fitting(raw_args, toolset)
            return Resolution("error", errors=[messages.unknown_tool(raw_name, c.family, toolset, fits)])
        return Resolution("none")
    tool = toolset.tools[name]
    r = _one_of(c, toolset, tool, raw_args, has_args, positional)
    r.tool = name
    return r


def _one_of(
    c: Candidate, toolset: ToolSet, tool: ToolInfo, raw_args: Any, has_args: bool, positional: list[Any]
) -> Resolution:
    name = tool.name
    args, problem = _decode_args(raw_args, tool)
    if problem:
        return _error(c, toolset, tool, problem) if c.explicit or has_args else Resolution("none")
    if _looks_like_schema(args):
        return Resolution("none")  # a tool *definition* shown in prose, not a call
    args, unclear = _map_arguments(args, tool)
    if positional:
        free = [p for p in tool.params if p not in args]
        for p, value in zip(free, positional, strict=False):
            args[p] = value
    # Flattened ({"name": "read_file", "path": "a.py"}) is only a call when every key is a parameter;
    # otherwise it is JSON that happens to have a "name" (a package.json, an answer the user asked for).
    if not has_args and not c.explicit and (not args or any(k not in tool.params for k in args)):
        return Resolution("none")
    if unclear is not None:  # an argument name that could mean two parameters: ask, never guess
        key, targets = unclear
        return Resolution(
            "error", errors=[messages.ambiguous_argument(tool, key, targets, c.family, toolset)]
        )
    unknown = [k for k in args if k not in tool.params]
    missing = [r for r in tool.required if r not in args]
    if tool.params and unknown and missing:
        # {"city": "Paris"} for get_weather(location): one name the tool does not take, one required
        # parameter not given — that is the one it means. More than one either way: ask.
        if len(unknown) == 1 and len(missing) == 1 and _fits(args[unknown[0]], tool.params[missing[0]]):
            args[missing[0]] = args.pop(unknown[0])
        else:
            return Resolution(
                "error", errors=[messages.unknown_arguments(tool, unknown, missing, c.family, toolset)]
            )
    args = {k: coerce(v, tool.params[k]) if k in tool.params else v for k, v in args.items()}
    if _only_placeholders(args, tool):  # the example shape copied back: no real call to run
        return Resolution("error", errors=[messages.placeholder_arguments(tool, c.family, toolset)])
    return Resolution("call", calls=[ToolCall(name=name, arguments=args)])


_PLACEHOLDER = re.compile(r"\.\.\.|…|<[\w .\-]{1,40}>|\{[\w .\-]{1,40}\}")


def is_placeholder(value: Any) -> bool:
    """`...`, `…`, `<path>`, `{file}`: a template's blank, not a value anyone means."""
    return isinstance(value, str) and bool(_PLACEHOLDER.fullmatch(value.strip()))


def _only_placeholders(args: dict[str, Any], tool: ToolInfo) -> bool:
    given = [args[r] for r in tool.required if r in args] or [v for v in args.values() if v is not None]
    return bool(given) and all(is_placeholder(v) for v in given)


def _tool_fitting(raw_args: Any, toolset: ToolSet) -> ToolInfo | None:
    """The only tool whose required parameters the (renamed) arguments fill, that takes all of them, and
    that alone has one of them (`command` → bash). A bare `path` fits read_file but says nothing about
    intent (delete_file(path) is no read): no hint then."""
    if not isinstance(raw_args, dict) or not raw_args:
        return None
    fitting = []
    for tool in toolset.tools.values():
        args = map_argument_names(raw_args, tool)
        if all(k in tool.params for k in args) and all(r in args for r in tool.required):
            fitting.append((tool, args))
    if len(fitting) != 1:
        return None
    tool, args = fitting[0]
    owners = {k: sum(k in t.params for t in toolset.tools.values()) for k in args}
    return tool if any(n == 1 for n in owners.values()) else None


def _error(c: Candidate, toolset: ToolSet, tool: ToolInfo | None, problem: str) -> Resolution:
    if tool is None:
        return Resolution(
            "error",
            errors=[
                f"Could not read your tool call: {problem}. Nothing was run. "
                f"{messages.SHAPE_LEAD} {messages.expected_shape(None, c.family, toolset)}"
            ],
        )
    return Resolution("error", errors=[messages.bad_arguments(tool, problem, c.family, toolset)])


def _decode_args(raw: Any, tool: ToolInfo) -> tuple[dict[str, Any], str | None]:
    if raw is None:
        return {}, None
    if isinstance(raw, dict):
        return dict(raw), None
    if isinstance(raw, str):
        text = raw.strip()
        if not text:
            return {}, None
        if text[0] in "{[":
            try:
                value = load_json(text)
            except Unreadable as exc:
                return {}, f"the arguments are {exc}"
            if isinstance(value, dict):
                return value, None
            if isinstance(value, list) and len(value) == 1 and isinstance(value[0], dict):
                return value[0], None
            return {}, "the arguments are not a JSON object"
        pairs = _pairs(text, tool)
        if pairs is not None:  # "location=Paris, unit=celsius"
            return pairs, None
        # A bare string for a tool with one required parameter: {"name": "bash", "arguments": "ls"}.
        if len(tool.required) == 1:
            return {tool.required[0]: raw}, None
        return {}, "the arguments are a plain string, not a JSON object of named arguments"
    if isinstance(raw, list) and len(raw) == 1 and isinstance(raw[0], dict):
        return dict(raw[0]), None
    if len(tool.required) == 1 and isinstance(raw, int | float | bool):
        return {tool.required[0]: raw}, None
    return {}, "the arguments are not a JSON object"


_PAIR = re.compile(r"[ \t]*([A-Za-z_][\w\-]{0,60})[ \t]*([=:])[ \t]*")


def _pairs(text: str, tool: ToolInfo) -> dict[str, Any] | None:
    """`k=v, k2=v2` or `k: v, k2: v2` written as the arguments string, when every k is one of the tool's
    parameters (else the string is a value, like bash's `FOO=1 make`)."""
    first = _PAIR.match(text)
    if first is None or first.group(1) not in tool.params:
        return None
    if first.group(2) == "=":
        kwargs, positional, problem = parse_arguments("(" + text + ")")
        if problem or positional:
            return None
    else:
        try:
            value = load_json("{" + text + "}")
        except Unreadable:
            return None
        if not isinstance(value, dict):
            return None
        kwargs = value
    if not kwargs or any(k not in tool.params for k in kwargs):
        return None
    return kwargs


def _looks_like_schema(args: dict[str, Any]) -> bool:
    return args.get("type") == "object" and isinstance(args.get("properties"), dict)


def map_argument_names(args: dict[str, Any], tool: ToolInfo) -> dict[str, Any]:
    """Rename arguments to the schema's: exact, snake_cased, a known alias, a shared word or a close
    spelling — each only when it points at one parameter not already given."""
    return _map_arguments(args, tool)[0]


def _map_arguments(
    args: dict[str, Any], tool: ToolInfo
) -> tuple[dict[str, Any], tuple[str, list[str]] | None]:
    """(renamed arguments, the first name that could mean several free parameters and its candidates).
    Names that point at one parameter are placed first, so `{"old_text": ..., "text": ...}` leaves
    `text` only `new_text` to mean. An unclear name is kept as written."""
    if not tool.params:
        return dict(args), None
    out: dict[str, Any] = {}
    pending: list[tuple[str, Any]] = []
    for key, value in args.items():
        if key in tool.params:
            out[key] = value
        else:
            pending.append((str(key), value))
    unclear: dict[str, list[str]] = {}
    progress = True
    while pending and progress:
        progress = False
        waiting: list[tuple[str, Any]] = []
        for key, value in pending:
            targets = _targets(key, [p for p in tool.params if p not in out])
            if len(targets) == 1:
                out[targets[0]] = value
                unclear.pop(key, None)
                progress = True
            elif targets:
                unclear[key] = targets
                waiting.append((key, value))
            else:
                out.setdefault(key, value)
        pending = waiting
    for key, value in pending:
        out.setdefault(key, value)
    first = next(iter(unclear.items()), None)
    return out, first


def _fits(value: Any, schema: dict[str, Any]) -> bool:
    """Whether a value could be of the parameter's type (a list is no path, a word is no number)."""
    main = next((k for k in _types(schema) if k != "null"), None)
    if main == "string":
        return not isinstance(value, dict | list)
    if main in ("integer", "number"):
        if isinstance(value, bool):
            return False
        return isinstance(value, int | float) or (
            isinstance(value, str) and value.strip().lstrip("-").replace(".", "", 1).isdigit()
        )
    if main == "boolean":
        return isinstance(value, bool) or str(value).strip().lower() in _TRUE | _FALSE
    if main == "array":
        return isinstance(value, list | str)
    if main == "object":
        return isinstance(value, dict | str)
    return True


_WORD_STOP = {"a", "an", "the", "of", "to", "in", "for", "and", "or", "is", "value", "arg", "param"}


def _targets(key: str, free: list[str]) -> list[str]:
    """The free parameters a written argument name plausibly means (strongest kind of evidence wins)."""
    if not free:
        return []
    k = snake(key)
    if k in free:
        return [k]
    aliased = [t for t in free if k in ALIASES.get(t, ())]
    if aliased:
        return aliased
    words = set(k.split("_")) - _WORD_STOP
    shared = [t for t in free if words & (set(t.split("_")) - _WORD_STOP)]
    if shared:
        return shared
    close = difflib.get_close_matches(k, free, n=2, cutoff=0.75)
    if len(close) == 2:
        a, b = (difflib.SequenceMatcher(None, k, x).ratio() for x in close)
        return close if a - b < 0.05 else close[:1]
    return close


def _types(schema: dict[str, Any]) -> list[str]:
    kind = schema.get("type")
    if isinstance(kind, str):
        return [kind]
    if isinstance(kind, list):
        return [k for k in kind if isinstance(k, str)]
    found: list[str] = []
    for key in ("anyOf", "oneOf"):
        for sub in schema.get(key) or []:
            if isinstance(sub, dict):
                found.extend(_types(sub))
    return found


_TRUE = {"true", "yes", "y", "1", "on"}
_FALSE = {"false", "no", "n", "0", "off", "none", "null"}


def coerce(value: Any, schema: dict[str, Any]) -> Any:
    """Fit a value to the parameter's JSON-schema type where the intent is clear; otherwise leave it."""
    kinds = _types(schema)
    if not kinds or value is None:
        return value
    if "null" in kinds and isinstance(value, str) and value.strip().lower() in ("null", "none"):
        return None
    main = next((k for k in kinds if k != "null"), None)
    try:
        if main == "integer":
            if isinstance(value, bool):
                return value
            if isinstance(value, float) and value.is_integer():
                return int(value)
            if isinstance(value, str):
                s = value.strip()
                return int(float(s)) if s and float(s).is_integer() else value
        elif main == "number" and isinstance(value, str):
            return float(value.strip())
        elif main == "boolean" and isinstance(value, str | int) and not isinstance(value, bool):
            s = str(value).strip().lower()
            return True if s in _TRUE else False if s in _FALSE else value
        elif main == "string":
            if isinstance(value, bool):
                # `"path": true` names no path (seen from the 1.5B): left for the tool to refuse, not
                # turned into a path called "true"
                return value
            if isinstance(value, int | float):
                return str(value)
            if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
                # patch search/replace or file content sent as a list of lines (seen from Qwen2.5-Coder)
                return "\n".join(value)
            if isinstance(value, dict | list):
                # e.g. write_file content given as the JSON object to write
                return json.dumps(value, indent=2, ensure_ascii=False)
        elif main == "array":
            if isinstance(value, str):
                s = value.strip()
                if s.startswith("["):
                    decoded = load_json(s)
                    if isinstance(decoded, list):
                        return decoded
                return [part.strip() for part in s.split(",") if part.strip()] if "," in s else [s]
            if not isinstance(value, list):
                return [value]
        elif main == "object" and isinstance(value, str) and value.strip().startswith("{"):
            decoded = load_json(value)
            return decoded if isinstance(decoded, dict) else value
    except (ValueError, OverflowError, Unreadable):
        return value
    return value
