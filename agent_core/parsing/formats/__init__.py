"""One module per format family. Each `extract(ctx)` returns candidates; the order below is the priority
when two readings of the same text overlap (special tokens and tags before fences, fences before bare
text)."""

from __future__ import annotations

from collections.abc import Callable

from agent_core.parsing.context import Ctx
from agent_core.parsing.types import Candidate

Extractor = Callable[[Ctx], list[Candidate]]


def extractors() -> list[tuple[str, Extractor]]:
    from agent_core.parsing.formats import (
        bare_json,
        fenced,
        hermes,
        llama,
        mistral,
        plain_text,
        python_call,
        qwen_xml,
        vendor_tokens,
        yaml_like,
    )

    return [
        ("mistral", mistral.extract),
        ("vendor_tokens", vendor_tokens.extract),
        ("llama", llama.extract),
        ("qwen_xml", qwen_xml.extract),
        ("hermes", hermes.extract),
        ("fenced", fenced.extract),
        ("python_call", python_call.extract),
        ("bare_json", bare_json.extract),
        ("yaml_like", yaml_like.extract),
        ("plain_text", plain_text.extract),
    ]
