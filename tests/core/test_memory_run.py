"""Memory and the code graph through the agent loop, against the scripted OpenAI-compatible server: the four
tools and the scratchpad as a model calls them, the repository map in the first prompt within its budget,
evidence of an earlier run at the start of a similar task, and the small tier left as it was."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent_core import SmallCode
from agent_core.context.tokens import TokenCounter
from agent_core.memory.graph.index import CodeIndex
from agent_core.memory.recall import map_budget
from tests.support.scripted_server import ScriptedModelServer

SHOP = {
    "shop/cart.py": (
        "from shop.pricing import apply_discount\n\n\n"
        "class Cart:\n"
        '    """A shopping cart holding line items."""\n\n'
        "    def __init__(self):\n        self.items = []\n\n"
        "    def total(self):\n"
        '        """The sum of the prices after discounts."""\n'
        "        return apply_discount(sum(p for _, p in self.items))\n"
    ),
    "shop/pricing.py": (
        "def apply_discount(amount):\n"
        '    """Take ten percent off orders over one hundred."""\n'
        "    return amount * 0.9 if amount > 100 else amount\n\n\n"
        "def format_price(amount):\n    return f'{amount:.2f}'\n"
    ),
    "shop/checkout.py": (
        "from shop.cart import Cart\nfrom shop.pricing import format_price\n\n\n"
        "def checkout(cart: Cart) -> str:\n"
        '    """Charge the customer for the cart."""\n'
        "    return format_price(cart.total())\n"
    ),
}


def make_shop(root: Path) -> None:
    for name, text in SHOP.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def native(tool: str, **arguments: object) -> dict[str, object]:
    return {"tool_calls": [{"name": tool, "arguments": arguments}]}


def agent_for(server: ScriptedModelServer, root: Path, **settings: object) -> SmallCode:
    return SmallCode(model="scripted-model", base_url=server.base_url, cwd=root, **settings)


def tool_texts(body: dict) -> list[str]:
    return [str(m.get("content")) for m in body["messages"] if m["role"] == "tool"]


async def test_the_memory_and_graph_tools_work_through_the_loop(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    make_shop(tmp_path)
    model_server.extend(
        [
            native("graph_search", query="discount"),
            native("explain_symbol", name="apply_discount"),
            native("memory_remember", text="Prices are rounded in format_price, never in the cart."),
            native("memory_load", query="where are prices rounded"),
            native("scratchpad", text="apply_discount is in shop/pricing.py; Cart.total calls it."),
            {"content": "The discount is applied in shop/pricing.py."},
        ]
    )
    async with agent_for(model_server, tmp_path, test_disable=True) as agent:
        result = await agent.run("Where is the discount applied?")
    assert result.success, result.response
    assert [c.name for c in result.tool_calls] == [
        "graph_search",
        "explain_symbol",
        "memory_remember",
        "memory_load",
        "scratchpad",
    ]
    assert all(c.ok for c in result.tool_calls), result.tool_calls
    offered = {t["function"]["name"] for t in model_server.requests[0]["tools"]}
    assert {"graph_search", "explain_symbol", "memory_remember", "memory_load", "scratchpad"} <= offered
    found = tool_texts(model_server.requests[1])[-1]
    assert found.splitlines()[0].startswith("shop/pricing.py:1 function apply_discount — def apply_discount(")
    explained = tool_texts(model_server.requests[2])[-1]
    assert "Doc: Take ten percent off orders over one hundred." in explained
    assert "Callers (1): shop/cart.py:12 in Cart.total." in explained
    assert "return amount * 0.9" in explained  # its code
    assert "#1" in tool_texts(model_server.requests[3])[-1]
    assert "Prices are rounded in format_price" in tool_texts(model_server.requests[4])[-1]
    # The scratchpad is shown with the request after it was written (and not before).
    pad = "apply_discount is in shop/pricing.py; Cart.total calls it."
    assert pad not in json.dumps(model_server.requests[4]["messages"])
    assert model_server.requests[5]["messages"][-1]["content"].endswith(pad)
    assert (tmp_path / ".smallcode" / "index.db").is_file()


async def test_the_first_prompt_carries_a_repository_map_within_its_budget(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    make_shop(tmp_path)
    CodeIndex.for_root(
        tmp_path
    ).update_all()  # built before the run: a loaded machine may not make it in time
    model_server.extend([{"content": "ok"}])
    async with agent_for(model_server, tmp_path, test_disable=True, context=4096) as agent:
        await agent.run("Make checkout round the total before it is charged.")
    opening = model_server.requests[0]["messages"][1]["content"]
    assert "Repository map" in opening
    map_text = opening[opening.index("Repository map") :]
    assert "shop/pricing.py:" in map_text and "def apply_discount(amount)" in map_text
    assert TokenCounter().estimate(map_text) <= map_budget(4096) == 512


async def test_a_map_larger_than_its_budget_is_cut_to_fit(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    for i in range(60):
        body = "".join(f"def helper_{i}_{j}(value):\n    return value + {j}\n\n\n" for j in range(10))
        (tmp_path / f"module_{i}.py").write_text(body)
    CodeIndex.for_root(tmp_path).update_all()
    model_server.extend([{"content": "ok"}])
    async with agent_for(model_server, tmp_path, test_disable=True, context=2048) as agent:
        await agent.run("Explain what the helpers do.")
    opening = model_server.requests[0]["messages"][1]["content"]
    map_text = opening[opening.index("Repository map") :]
    assert 100 < TokenCounter().estimate(map_text) <= map_budget(2048) == 256
    assert map_text.count("def helper_") < 600  # most of the definitions did not fit


@pytest.mark.timeout(1500)  # two real pytest runs, on a machine that may be busy
async def test_a_similar_task_starts_with_what_failed_before(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    (tmp_path / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    (tmp_path / "test_calc.py").write_text(
        "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"
    )
    wrong = native("patch", path="calc.py", search="return a - b", replace="return a * b")
    model_server.extend([wrong, {"content": "Done."}])
    async with agent_for(model_server, tmp_path, fix_rounds=0, check_timeout=600) as agent:
        first = await agent.run("Fix add in calc.py")
    assert not first.success and first.checks is not None and first.checks.status == "failed"
    model_server.extend([{"content": "Looking."}])
    async with agent_for(model_server, tmp_path, test_disable=True) as agent:
        await agent.run("Fix the add function in calc.py")
    opening = model_server.requests[-1]["messages"][1]["content"]
    assert "Earlier runs on similar work" in opening
    line = next(x for x in opening.splitlines() if x.startswith("- ") and "calc.py" in x)
    assert "fix calc.py: failed" in line and "assert" in line and "patch ×1" in line


async def test_the_small_tier_gets_no_memory_tools_map_or_scratchpad(tmp_path: Path) -> None:
    make_shop(tmp_path)
    (tmp_path / ".smallcode").mkdir()
    (tmp_path / ".smallcode" / "scratchpad.md").write_text("an old note of a bigger model\n")
    with ScriptedModelServer(models=["qwen2.5-coder-1.5b"]) as server:
        server.extend([{"content": "Nothing to do."}])
        async with SmallCode(model="qwen2.5-coder-1.5b", base_url=server.base_url, cwd=tmp_path) as agent:
            await agent.run("Where is the discount applied?")
        text = json.dumps(server.requests[0]["messages"])
    assert "Repository map" not in text and "an old note" not in text
    assert "graph_search" not in text and "memory_load" not in text
    assert not (tmp_path / ".smallcode" / "index.db").exists()  # no index built for a small model
