"""Constrained decoding for a declared prompt's answer: the output's JSON schema in the request, in the form the
server takes, chosen by SMALLCODE_COGNITION_CONSTRAIN:

- `auto`: llama.cpp servers (the embedded model, llama-server; known by llama.cpp's tokenize endpoint) get
  `response_format: {type: json_object, schema}` — llama.cpp turns the schema into a sampling grammar with
  its own converter (llama-cpp-python's server accepts no `json_schema` type); every other server gets
  OpenAI's `response_format: {type: json_schema, json_schema: {name, schema}}`;
- `json_schema` / `json_object`: that form, whatever the server;
- `off`: nothing; the answer is repaired and validated as it comes.

A server that refuses the field (HTTP 400/422) is asked again without it, and not sent it again; one that
ignores it is caught by validation like any other answer.
"""

from __future__ import annotations

import re
from typing import Any

from agent_core.llm.client import ChatClient
from agent_core.llm.types import ModelError

_REFUSED = re.compile(r"\(HTTP (400|422)\b")


async def response_format(mode: str, client: ChatClient, name: str, schema: dict[str, Any]) -> dict[str, Any]:
    """The request fields that constrain the answer to `schema` ({} for none)."""
    if mode == "off":
        return {}
    kind = mode
    if mode == "auto":
        kind = "json_object" if await client.takes_grammar() else "json_schema"
    if kind == "json_object":
        return {"response_format": {"type": "json_object", "schema": schema}}
    safe = re.sub(r"[^a-zA-Z0-9_-]", "_", name)[:64] or "output"
    return {"response_format": {"type": "json_schema", "json_schema": {"name": safe, "schema": schema}}}


def refused(exc: ModelError) -> bool:
    """Whether the server rejected the request itself (bad request), as it does for a field it does not know."""
    return bool(_REFUSED.search(str(exc)))
