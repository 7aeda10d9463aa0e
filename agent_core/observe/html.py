"""A trace as one self-contained HTML page (`smallcode trace show ID --html`), for reading a failed run: each
turn with its prompt, reply, parsed calls and token counts, each tool call with its output, each check and
rollback. No scripts and no outside resources; every piece of text from the run is escaped."""

from __future__ import annotations

import json
from html import escape
from typing import Any

STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:70em;color:#222}
h1{font-size:1.3em} h2{font-size:1.05em;margin:1.4em 0 .3em}
.meta{color:#555} .ok{color:#176f2c} .bad{color:#b00020}
pre{background:#f5f5f5;padding:.6em;overflow:auto;white-space:pre-wrap;word-break:break-word;margin:.3em 0}
details{margin:.2em 0} summary{cursor:pointer;color:#333}
section{border-left:3px solid #ccd;padding-left:.8em;margin:.8em 0}
.tool{border-color:#9bc} .check{border-color:#dc9} .bad-entry{border-color:#e99}
table{border-collapse:collapse} td,th{border:1px solid #ccc;padding:.2em .6em;text-align:left}
"""


def _pre(text: Any) -> str:
    if not isinstance(text, str):
        text = json.dumps(text, indent=2, ensure_ascii=False, default=str)
    return f"<pre>{escape(text)}</pre>"


def _fold(label: str, body: str, open_: bool = False) -> str:
    return f"<details{' open' if open_ else ''}><summary>{escape(label)}</summary>{body}</details>"


def _turn(e: dict[str, Any]) -> str:
    usage = e.get("usage") or {}
    calls = e.get("calls") or []
    reply = e.get("reply") or {}
    head = (
        f"<h2>turn {escape(str(e.get('n')))}</h2><div class='meta'>{escape(str(e.get('ms')))} ms · "
        f"{escape(str(usage.get('prompt_tokens')))} prompt + {escape(str(usage.get('completion_tokens')))} "
        f"completion tokens · finish {escape(str(e.get('finish_reason')))} · offered "
        f"{escape(', '.join(map(str, e.get('offered') or [])) or '—')}</div>"
    )
    messages = "".join(
        _fold(
            f"{m.get('role', '?')} ({len(str(m.get('content') or ''))} chars)", _pre(m.get("content") or "")
        )
        for m in e.get("messages") or []
        if isinstance(m, dict)
    )
    parts = [head, _fold(f"prompt: {len(e.get('messages') or [])} messages", messages)]
    if reply.get("reasoning"):
        parts.append(_fold("reasoning", _pre(reply["reasoning"])))
    parts.append(_fold("reply", _pre(reply.get("content") or ""), open_=True))
    if reply.get("native_tool_calls"):
        parts.append(_fold("native tool calls", _pre(reply["native_tool_calls"])))
    parts.append(
        "<div>calls: "
        + (", ".join(f"<b>{escape(str(c.get('name')))}</b>" for c in calls) or "none (an answer)")
        + "</div>"
    )
    if e.get("parse_errors"):
        parts.append(_fold("parse errors", _pre(e["parse_errors"]), open_=True))
    return "<section>" + "".join(parts) + "</section>"


def _tool(e: dict[str, Any]) -> str:
    ok = bool(e.get("ok"))
    cls = "ok" if ok else "bad"
    head = (
        f"<div><b>{escape(str(e.get('name')))}</b> <span class='{cls}'>{'ok' if ok else 'failed'}</span> "
        f"<span class='meta'>{escape(str(e.get('ms')))} ms</span></div>"
    )
    body = _fold("arguments", _pre(e.get("arguments") or {})) + _fold("output", _pre(e.get("output") or ""))
    return f"<section class='tool{'' if ok else ' bad-entry'}'>{head}{body}</section>"


def _other(e: dict[str, Any]) -> str:
    kind = str(e.get("type"))
    data = {k: v for k, v in e.items() if k not in ("type", "t")}
    if kind == "check":
        label = f"check: {data.get('status')} — {data.get('summary', '')}"
        return f"<section class='check'>{_fold(label, _pre(data), open_=True)}</section>"
    if kind == "file":
        label = f"file as first seen: {data.get('path')}"
        return f"<section>{_fold(label, _pre(data))}</section>"
    return f"<section class='bad-entry'>{_fold(kind, _pre(data))}</section>"


def render_html(trace_id: str, entries: list[dict[str, Any]]) -> str:
    start = next((e for e in entries if e.get("type") == "run_start"), {})
    end = next((e for e in reversed(entries) if e.get("type") == "run_end"), None)
    result = (end or {}).get("result") or {}
    usage = result.get("usage") or {}
    turns = [e for e in entries if e.get("type") == "turn"]
    status = "unfinished" if end is None else ("succeeded" if result.get("success") else "failed")
    summary = (
        "<table>"
        f"<tr><th>task</th><td>{escape(str(start.get('task', '')))}</td></tr>"
        f"<tr><th>model</th><td>{escape(str(start.get('model')))} at {escape(str(start.get('base_url')))}</td></tr>"
        f"<tr><th>outcome</th><td class='{'ok' if status == 'succeeded' else 'bad'}'>{status}</td></tr>"
        f"<tr><th>turns</th><td>{len(turns)}</td></tr>"
        f"<tr><th>tokens</th><td>{escape(str(usage.get('prompt_tokens')))} prompt + "
        f"{escape(str(usage.get('completion_tokens')))} completion = {escape(str(usage.get('total_tokens')))}"
        "</td></tr>"
        f"<tr><th>files</th><td>created {escape(', '.join(result.get('files_created') or []) or '—')}; "
        f"edited {escape(', '.join(result.get('files_edited') or []) or '—')}</td></tr>"
        "</table>"
    )
    body = []
    for e in entries:
        kind = e.get("type")
        if kind == "turn":
            body.append(_turn(e))
        elif kind == "tool":
            body.append(_tool(e))
        elif kind == "run_start":
            continue
        elif kind == "run_end":
            body.append(f"<h2>end</h2>{_fold('response', _pre(result.get('response') or ''), open_=True)}")
        else:
            body.append(_other(e))
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        f"<title>SmallCode trace {escape(trace_id)}</title><style>{STYLE}</style></head><body>"
        f"<h1>SmallCode trace {escape(trace_id)}</h1>{summary}{''.join(body)}</body></html>\n"
    )
