"""Constrained decoding for small models: a GBNF grammar for the shape of their replies.

Small models (the small tier) answer in prose with fenced blocks (a whole file, or a ```json tool call). Left
free, the 1.5B model goes on after its code (an explanation of the change, a usage example in another fence):
~16% of the characters of its replies on the benchmark tasks, and extra fences the edit parser must skip. The
grammar lets the model explain first, then write its block, and ends a reply about one file at the close of
that block; every fence it opens is closed before the end (unless max_tokens cuts it).

llama.cpp servers (llama-server, llama-cpp-python and so the embedded model) take it as the request's
`grammar` field. The rules are plain (character classes and repetition) because llama.cpp checks candidate
tokens against them while sampling.
"""

from __future__ import annotations

_RULES = r"""
text ::= ( [^`] | "`" [^`] | "``" [^`] )* ( "`" | "``" )?
fence ::= "```" [a-zA-Z0-9_+.#-]* "\n" line* "```"
line ::= ( [^`\n] [^\n]* | "`" [^`\n] [^\n]* | "``" [^`\n] [^\n]* )? "\n"
"""


def reply_grammar(max_blocks: int = 1) -> str:
    """GBNF for prose and fenced blocks whose fences are all closed. With `max_blocks` 1 (one file in play)
    the reply ends at the close of its block; with more, up to that many blocks with prose between and after
    them (a model forced to open another fence before it may end would write a junk one)."""
    if max_blocks <= 1:
        root = "root ::= text fence?"
    else:
        tail = "(fence text)?"
        for _ in range(max_blocks - 1):
            tail = f"(fence text {tail})?"
        root = f"root ::= text {tail}"
    return root + "\n" + _RULES.strip() + "\n"
