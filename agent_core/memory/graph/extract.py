"""One file's facts for the code graph: its definitions (with signature and docstring), the calls and other
references in it (each with the definition it sits in), and its imports."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tree_sitter import Node, QueryCursor

from agent_core.memory.graph.languages import compiled, parser_for

CONTAINERS = frozenset({"impl"})
"""Captured kinds that only name what they hold."""
MAX_SIGNATURE = 160
MAX_DOC = 300
_WRAPPERS = frozenset(
    {"export_statement", "decorated_definition", "lexical_declaration", "variable_declaration",
     "type_declaration", "const_declaration", "var_declaration"}
)  # fmt: skip
"""Nodes around a definition that its leading comment sits above (`export class …`, `const f = () => …`)."""
_SKIPPED_BEFORE = frozenset({"attribute_item", "decorator"})
_COMMENTS = frozenset({"comment", "line_comment", "block_comment"})
_RECEIVER = re.compile(r"(\w+)\s*(?:\[[^\]]*\])?\s*\)\s*$")
_TIGHT = re.compile(r"(?<=[(\[])\s+|,?\s+(?=[)\]])")
_COMMENT_MARKS = re.compile(r"^\s*(?:/\*\*?|\*/|\*|///?|//!|#)\s?")


@dataclass
class Definition:
    name: str
    qualname: str
    kind: str
    line: int
    end_line: int
    signature: str
    doc: str = ""


@dataclass
class Reference:
    name: str
    kind: str
    """call, or ref (a type, base class, decorator, imported name)."""
    scope: str
    """The qualname of the definition the reference sits in ("" at module level)."""
    line: int
    count: int = 1


@dataclass
class FileFacts:
    language: str
    definitions: list[Definition] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    imports: list[tuple[str, int]] = field(default_factory=list)
    lines: int = 0


@dataclass
class _Def:
    node: Node
    name: str
    kind: str
    emit: bool = True
    qualname: str = ""


def extract(source: bytes, language: str) -> FileFacts:
    """The facts of one file's bytes in `language` (a GRAMMARS key); a file that does not parse cleanly
    still gives what tree-sitter recovered."""
    _, query = compiled(language)
    tree = parser_for(language).parse(source)
    root = tree.root_node
    facts = FileFacts(language=language, lines=source.count(b"\n") + (0 if source.endswith(b"\n") else 1))
    defs: list[_Def] = []
    name_starts: set[int] = set()
    raw_refs: list[tuple[Node, str]] = []
    for _, captures in QueryCursor(query).matches(root):
        kinds = [key for key in captures if key.startswith("def.")]
        if kinds and captures.get("name"):
            node, name_node = captures[kinds[0]][0], captures["name"][0]
            name_starts.add(name_node.start_byte)
            kind = kinds[0][4:]
            defs.append(_Def(node, _text(name_node), kind, emit=kind not in CONTAINERS))
            continue
        for key in ("call", "ref"):
            for node in captures.get(key, []):
                raw_refs.append((node, key))
        for node in captures.get("import", []):
            target = " ".join(_text(node).split()).strip("\"'`")
            facts.imports.append((target[:200], node.start_point.row + 1))
    _qualify(defs)
    for d in defs:
        if d.emit:
            facts.definitions.append(
                Definition(
                    name=d.name,
                    qualname=d.qualname,
                    kind=d.kind,
                    line=d.node.start_point.row + 1,
                    end_line=d.node.end_point.row + 1,
                    signature=_signature(d.node, d.kind),
                    doc=_doc(d.node, language),
                )
            )
    facts.references = _references(raw_refs, name_starts, defs)
    return facts


def _qualify(defs: list[_Def]) -> None:
    """Qualified names from nesting (`Class.method`, Go receivers, Rust impl blocks); methods named so."""
    defs.sort(key=lambda d: (d.node.start_byte, -d.node.end_byte))
    stack: list[_Def] = []
    for d in defs:
        while stack and stack[-1].node.end_byte <= d.node.start_byte:
            stack.pop()
        parent = stack[-1] if stack else None
        if d.node.type == "method_declaration":  # Go: func (s *Server) Serve() → Server.Serve
            receiver = d.node.child_by_field_name("receiver")
            match = _RECEIVER.search(_text(receiver)) if receiver is not None else None
            d.qualname = f"{match.group(1)}.{d.name}" if match else d.name
        elif parent is not None:
            d.qualname = f"{parent.qualname}.{d.name}"
            if d.kind == "function" and parent.kind in ("class", "impl", "trait", "interface"):
                d.kind = "method"
        else:
            d.qualname = d.name
        stack.append(d)


def _references(raw: list[tuple[Node, str]], name_starts: set[int], defs: list[_Def]) -> list[Reference]:
    """References outside definition names, each with its innermost definition, counted per scope."""
    spans = sorted(
        ((d.node.start_byte, d.node.end_byte, d.qualname) for d in defs if d.emit),
        key=lambda s: (s[0], -s[1]),
    )
    raw = sorted((r for r in raw if r[0].start_byte not in name_starts), key=lambda r: r[0].start_byte)
    out: dict[tuple[str, str, str], Reference] = {}
    stack: list[tuple[int, int, str]] = []
    i = 0
    for node, kind in raw:
        at = node.start_byte
        while i < len(spans) and spans[i][0] <= at:
            while stack and stack[-1][1] <= spans[i][0]:
                stack.pop()
            stack.append(spans[i])
            i += 1
        while stack and stack[-1][1] <= at:
            stack.pop()
        scope = stack[-1][2] if stack else ""
        name = _text(node)
        key = (name, kind, scope)
        if key in out:
            out[key].count += 1
        else:
            out[key] = Reference(name, kind, scope, node.start_point.row + 1)
    return list(out.values())


def _signature(node: Node, kind: str) -> str:
    body = node.child_by_field_name("body")
    if body is not None and body.start_byte > node.start_byte and kind not in ("variable", "constant"):
        head = (node.text or b"")[: body.start_byte - node.start_byte]
    else:
        head = (node.text or b"").split(b"\n", 1)[0]
    text = " ".join(head.decode("utf-8", errors="replace").split()).rstrip(" {:=>;")
    text = _TIGHT.sub("", text)
    if node.type == "type_spec":
        text = "type " + text
    return text if len(text) <= MAX_SIGNATURE else text[: MAX_SIGNATURE - 1] + "…"


def _doc(node: Node, language: str) -> str:
    if language == "python":
        return _python_doc(node)
    anchor = node
    while anchor.parent is not None and anchor.parent.type in _WRAPPERS:
        anchor = anchor.parent
    lines: list[str] = []
    row = anchor.start_point.row
    sibling = anchor.prev_named_sibling
    while sibling is not None and (sibling.type in _COMMENTS or sibling.type in _SKIPPED_BEFORE):
        if sibling.end_point.row < row - 1:
            break
        if sibling.type in _COMMENTS:
            lines[:0] = _text(sibling).splitlines()
        row = sibling.start_point.row
        sibling = sibling.prev_named_sibling
    cleaned = [_COMMENT_MARKS.sub("", line).rstrip("*/ ").strip() for line in lines]
    return _first_paragraph(cleaned)


def _python_doc(node: Node) -> str:
    if node.type == "assignment":  # a module constant: the string right under it, as this project writes them
        holder = node.parent
        candidate = holder.next_named_sibling if holder is not None else None
    else:
        body = node.child_by_field_name("body")
        candidate = body.named_children[0] if body is not None and body.named_children else None
    if candidate is None or candidate.type != "expression_statement" or not candidate.named_children:
        return ""
    string = candidate.named_children[0]
    if string.type != "string":
        return ""
    parts = [_text(c) for c in string.named_children if c.type == "string_content"]
    return _first_paragraph("".join(parts).splitlines())


def _first_paragraph(lines: list[str]) -> str:
    out: list[str] = []
    for line in lines:
        line = line.strip()
        if not line:
            if out:
                break
            continue
        out.append(line)
    text = " ".join(out)
    return text if len(text) <= MAX_DOC else text[: MAX_DOC - 1] + "…"


def _text(node: Node | None) -> str:
    if node is None or node.text is None:
        return ""
    return node.text.decode("utf-8", errors="replace")
