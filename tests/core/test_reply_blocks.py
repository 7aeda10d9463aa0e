"""Which fenced block of a small model's reply is which file: the traces of the 1.5B model on the task bench.

Each case is a reply shape seen there that wrote the wrong thing: the test file written over the module it
tests, the unchanged original written back, a snippet written as a whole file, a method without its class.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agent_core import SmallCode
from agent_core.patch.partial import drops_everything, restore_methods, splice_partial
from agent_core.patch.whole import WholeFile, parse_whole_files
from tests.support.scripted_server import ScriptedModelServer

SMALL = "qwen2.5-coder-1.5b"
MODULE = 'UNITS = ["B", "KiB"]\n\n\ndef size(n):\n    return f"{n} B"\n'
FIXED = (
    'UNITS = ["B", "KiB"]\n\n\ndef size(n):\n    return f"{n / 1024:.1f} KiB" if n >= 1024 else f"{n} B"\n'
)
TESTS = 'import pytest\n\nfrom sizes import size\n\n\ndef test_kib():\n    assert size(1024) == "1.0 KiB"\n'


def fence(text: str) -> str:
    return f"```python\n{text}```"


def test_the_module_not_its_tests_when_the_reply_repeats_the_tests_after_it() -> None:
    reply = f"Here is the fix:\n\n{fence(FIXED)}\n\nNow let's verify the tests pass:\n\n{fence(TESTS)}\n"
    blocks = parse_whole_files(reply, {"sizes.py"}, "sizes.py", {"sizes.py": MODULE})
    assert [(b.path, b.content) for b in blocks] == [("sizes.py", FIXED)]


def test_a_test_block_alone_is_never_taken_as_the_module() -> None:
    assert parse_whole_files(fence(TESTS), {"sizes.py"}, "sizes.py", {"sizes.py": MODULE}) == []


def test_the_changed_version_not_the_original_shown_first() -> None:
    reply = f"Original:\n\n{fence(MODULE)}\n\nModified:\n\n{fence(FIXED)}"
    blocks = parse_whole_files(reply, {"sizes.py"}, "sizes.py", {"sizes.py": MODULE})
    assert [b.content for b in blocks] == [FIXED]


QUEUE = (
    'class Queue:\n    """First in, first out."""\n\n    def __init__(self):\n        self.items = []\n\n'
    "    def push(self, item):\n        self.items.insert(0, item)\n\n"
    "    def pop(self):\n        return self.items.pop(0)\n"
)
# A new user's run, 1.5B: the method as it is, then the changed one, neither with a path.
CHANGE_THE_LINE = (
    "To fix this, change the line:\n\n```python\n    def pop(self):\n        return self.items.pop(0)\n```\n\n"
    "to:\n\n```python\n    def pop(self):\n        return self.items.pop()\n```\n"
)


def test_a_quote_of_the_code_as_it_is_gives_way_to_the_changed_code_after_it() -> None:
    blocks = parse_whole_files(CHANGE_THE_LINE, {"fifo.py"}, "fifo.py", {"fifo.py": QUEUE})
    assert [b.content for b in blocks] == ["    def pop(self):\n        return self.items.pop()\n"]


def test_a_fix_that_only_moves_a_line_out_of_a_block_is_not_a_quote() -> None:
    now = "def total(xs):\n    s = 0\n    for x in xs:\n        s += x\n        return s\n"
    fixed = "def total(xs):\n    s = 0\n    for x in xs:\n        s += x\n    return s\n"
    reply = f"Original:\n\n{fence(now)}\n\nFixed:\n\n{fence(fixed)}"
    blocks = parse_whole_files(reply, {"calc.py"}, "calc.py", {"calc.py": now})
    assert [b.content for b in blocks] == [fixed]


def test_a_restated_test_file_named_in_prose_is_not_an_edit() -> None:
    known = {"sizes.py", "test_sizes.py"}
    reply = f"sizes.py\n{fence(FIXED)}\n\nThe tests in test_sizes.py now pass:\n\n{fence(TESTS)}"
    blocks = parse_whole_files(reply, known, "sizes.py", {"sizes.py": MODULE, "test_sizes.py": TESTS})
    assert [b.path for b in blocks] == ["sizes.py"]


def test_the_file_named_in_the_sentence_before_a_block() -> None:
    known = {"store/errors.py", "store/inventory.py"}
    reply = "Add the class at the end of `store/errors.py`:\n\n```python\nclass OutOfStockError(Exception):\n    pass\n```"
    assert [b.path for b in parse_whole_files(reply, known)] == ["store/errors.py"]
    several = "In store/inventory.py the error comes from store/errors.py:\n\n```python\nx = 1\n```"
    assert [b.path for b in parse_whole_files(several, known)] == ["store/errors.py"]  # the last one named
    unknown = "In notes.md:\n\n```python\nx = 1\n```"
    assert parse_whole_files(unknown, known) == []


def test_a_stray_fence_before_the_path_line_does_not_end_up_in_the_file() -> None:
    # locate_discount, 1.5B: the explanation ended with a lone "```", then the path, then the real block.
    reply = f"So we round the fraction.\n```\nsizes.py:\n{fence(FIXED)}\n"
    assert parse_whole_files(reply, {"sizes.py", "test_sizes.py"}) == [WholeFile("sizes.py", FIXED)]
    markdown = (
        "notes.md\n````\n```python\nx = 1\n```\n````\n"  # a longer outer fence: the inner one is content
    )
    assert parse_whole_files(markdown, {"notes.md"})[0].content == "```python\nx = 1\n```\n"


def test_a_module_block_after_a_sentence_naming_the_tests_last_is_the_module() -> None:
    # The 1.5B model echoes the task ("Please fix sizes.py; do not change test_sizes.py.") and then gives
    # the module without a path line: the last file named is the test file, which the block cannot be.
    known = {"sizes.py", "test_sizes.py"}
    reply = f"Please fix sizes.py; do not change test_sizes.py.\n\n{fence(FIXED)}"
    blocks = parse_whole_files(reply, known, "sizes.py", {"sizes.py": MODULE, "test_sizes.py": TESTS})
    assert [(b.path, b.content) for b in blocks] == [("sizes.py", FIXED)]
    tests_named = f"Update the tests in test_sizes.py:\n\n{fence(TESTS)}"
    assert [b.path for b in parse_whole_files(tests_named, known)] == ["test_sizes.py"]
    unrelated = f"Update the tests in test_sizes.py:\n\n{fence(FIXED)}"
    assert parse_whole_files(unrelated, known) == []  # module code is not the test file, and none is in play


CLASS = (
    '"""Events."""\n\nfrom collections import defaultdict\n\n\nclass Emitter:\n'
    "    def __init__(self):\n        self._handlers = defaultdict(list)\n\n"
    "    def on(self, event, handler):\n        self._handlers[event].append(handler)\n\n"
    "    def emit(self, event):\n        for handler in self._handlers[event]:\n            handler()\n\n\n"
    "def make():\n    return Emitter()\n"
)


def test_methods_without_their_class_are_spliced_into_it() -> None:
    block = (
        "def emit(self, event):\n    for handler in list(self._handlers[event]):\n        handler()\n"
        "    return len(self._handlers[event])\n\n\n"
        "def off(self, event, handler):\n    self._handlers[event].remove(handler)\n"
    )
    spliced = splice_partial(CLASS, block)
    assert spliced is not None and spliced.replaced == ["emit"] and spliced.added == ["off"]
    namespace: dict[str, object] = {}
    exec(compile(spliced.text, "events.py", "exec"), namespace)
    emitter = namespace["make"]()  # type: ignore[operator]
    calls: list[int] = []
    emitter.on("x", lambda: calls.append(1))
    assert emitter.emit("x") == 1 and calls == [1]
    emitter.off("x", emitter._handlers["x"][0])
    assert emitter.emit("x") == 0
    assert spliced.text.startswith(CLASS.split("    def emit")[0])  # everything before emit kept
    assert spliced.text.endswith("def make():\n    return Emitter()\n")


def test_an_indented_method_copied_out_of_its_class_is_spliced_too() -> None:
    spliced = splice_partial(CLASS, "    def emit(self, event):\n        return 0\n")
    assert spliced is not None and "    def emit(self, event):\n        return 0\n" in spliced.text
    assert "def on(self, event, handler)" in spliced.text


def test_a_class_given_as_its_header_alone_keeps_every_method() -> None:
    # stable_priority_queue, 1.5B: "The line pqueue.py is:" and the class's first two lines, as the file.
    block = 'class Emitter:\n    """Handlers by event."""\n'
    restored = restore_methods(CLASS, block)
    assert restored is not None
    text, names = restored
    assert names == ["Emitter.__init__", "Emitter.on", "Emitter.emit"]
    assert text.startswith(block) and "    def on(self, event, handler):\n        self._handlers" in text
    compile(text, "events.py", "exec")


def test_a_class_with_only_its_changed_method_keeps_the_others_and_the_change() -> None:
    block = (
        '"""Events."""\n\nfrom collections import defaultdict\n\n\nclass Emitter:\n'
        "    def emit(self, event):\n        return len(self._handlers[event])\n\n\n"
        "def make():\n    return Emitter()\n"
    )
    restored = restore_methods(CLASS, block)
    assert restored is not None and restored[1] == ["Emitter.__init__", "Emitter.on"]
    namespace: dict[str, object] = {}
    exec(compile(restored[0], "events.py", "exec"), namespace)
    emitter = namespace["make"]()  # type: ignore[operator]
    emitter.on("x", print)
    assert emitter.emit("x") == 1  # the block's emit, the file's __init__ and on


def test_classes_with_all_their_methods_and_other_blocks_are_left_alone() -> None:
    assert restore_methods(CLASS, CLASS.replace("handler()", "handler(event)")) is None
    assert restore_methods(CLASS, "def make():\n    return None\n") is None
    assert restore_methods(CLASS, "class Other:\n    pass\n") is None
    assert restore_methods(CLASS, "class Emitter(:\n") is None


def test_a_snippet_without_definitions_is_told_apart_from_a_file() -> None:
    assert drops_everything(CLASS, "from store.inventory import OutOfStockError\n")
    assert not drops_everything(CLASS, CLASS)
    assert not drops_everything("X = 1\n", "X = 2\n")  # a file of constants may be rewritten whole


@pytest.fixture
def small_server() -> Iterator[ScriptedModelServer]:
    with ScriptedModelServer(models=[SMALL]) as server:
        yield server


async def test_a_reply_that_repeats_the_tests_edits_the_module_and_verifies(
    small_server: ScriptedModelServer, tmp_path: Path
) -> None:
    (tmp_path / "sizes.py").write_text(MODULE)
    (tmp_path / "test_sizes.py").write_text(TESTS)
    reply = f"Use KiB from 1024 on.\n\n{fence(FIXED)}\n\nThe tests:\n\n{fence(TESTS)}\n"
    small_server.extend([{"content": reply}])
    async with SmallCode(model=SMALL, base_url=small_server.base_url, cwd=tmp_path) as agent:
        result = await agent.run("Fix size in sizes.py; the tests in test_sizes.py must pass.")
    assert (tmp_path / "sizes.py").read_text() == FIXED
    assert (tmp_path / "test_sizes.py").read_text() == TESTS
    assert result.success and result.verified and len(small_server.requests) == 1


async def test_a_write_call_with_a_placeholder_for_content_gives_way_to_the_block_before_it(
    small_server: ScriptedModelServer, tmp_path: Path
) -> None:
    # dotenv_parser, 1.5B: the file in a block, then a call whose "content" only JSON repair made a string.
    (tmp_path / "sizes.py").write_text(MODULE)
    (tmp_path / "test_sizes.py").write_text(TESTS)
    call = '{"name": "write_file", "arguments": {"path": "sizes.py", "content": ```python\nobj[\'new_content\']\n```python`, "append": False}}'
    small_server.extend([{"content": f"Use KiB from 1024 on.\n\n{fence(FIXED)}\n```json\n{call}\n```"}])
    # Not streamed, as a kept sample comes (a stream would be cut where the file's block closes).
    async with SmallCode(model=SMALL, base_url=small_server.base_url, cwd=tmp_path, stream=False) as agent:
        result = await agent.run("Fix size in sizes.py; the tests in test_sizes.py must pass.")
    assert (tmp_path / "sizes.py").read_text() == FIXED
    assert result.success and result.verified and len(small_server.requests) == 1


async def test_a_snippet_for_one_of_two_files_is_not_written_and_the_model_is_told(
    small_server: ScriptedModelServer, tmp_path: Path
) -> None:
    store = tmp_path / "store"
    store.mkdir()
    (store / "__init__.py").write_text("")
    errors = '"""Errors."""\n\n\nclass StoreError(Exception):\n    pass\n'
    (store / "errors.py").write_text(errors)
    (store / "inventory.py").write_text(
        "from store.errors import StoreError\n\n\ndef remove(n):\n    return n\n"
    )
    (tmp_path / "test_store.py").write_text(
        "from store.errors import OutOfStockError, StoreError\n\n\n"
        "def test_error():\n    assert issubclass(OutOfStockError, StoreError)\n"
    )
    whole = errors + "\n\nclass OutOfStockError(StoreError):\n    pass\n"
    small_server.extend(
        [
            {
                "content": "Add this at the top of `store/errors.py`:\n\n```python\nfrom store import OutOfStockError\n```"
            },
            {"content": f"store/errors.py\n```python\n{whole}```"},
        ]
    )
    async with SmallCode(model=SMALL, base_url=small_server.base_url, cwd=tmp_path, resample=False) as agent:
        result = await agent.run(
            "Add OutOfStockError to store/errors.py, a subclass of StoreError, for store/inventory.py. "
            "The tests in test_store.py must pass."
        )
    assert (store / "errors.py").read_text() == whole
    second = small_server.requests[1]["messages"]
    assert any("Not written" in str(m["content"]) and "store/errors.py" in str(m["content"]) for m in second)
    assert result.success and result.verified


async def test_a_class_header_written_as_the_file_never_deletes_its_methods(
    small_server: ScriptedModelServer, tmp_path: Path
) -> None:
    # stable_priority_queue, 1.5B: the reply's only block was the class line and its docstring.
    queue = (
        'class Queue:\n    """First in, first out."""\n\n'
        "    def __init__(self):\n        self.items = []\n\n"
        "    def push(self, item):\n        self.items.insert(0, item)\n\n"
        "    def pop(self):\n        return self.items.pop(0)\n"
    )
    fixed = queue.replace("self.items.insert(0, item)", "self.items.append(item)")
    (tmp_path / "fifo.py").write_text(queue)
    (tmp_path / "test_fifo.py").write_text(
        "from fifo import Queue\n\n\ndef test_order():\n    q = Queue()\n    q.push(1)\n    q.push(2)\n"
        "    assert q.pop() == 1\n"
    )
    header = 'The line fifo.py is:\n```python\nclass Queue:\n    """First in, first out."""\n```\n'
    small_server.extend([{"content": header}, {"content": f"fifo.py\n```python\n{fixed}```"}])
    async with SmallCode(model=SMALL, base_url=small_server.base_url, cwd=tmp_path, resample=False) as agent:
        result = await agent.run(
            "Fix push in fifo.py: pop must return the oldest item. test_fifo.py must pass."
        )
    assert (tmp_path / "fifo.py").read_text() == fixed
    second = small_server.requests[1]["messages"]
    assert any("already has exactly this content" in str(m["content"]) for m in second)
    assert result.success and result.verified


async def test_change_the_line_from_to_writes_the_new_code(
    small_server: ScriptedModelServer, tmp_path: Path
) -> None:
    (tmp_path / "fifo.py").write_text(QUEUE)
    (tmp_path / "test_fifo.py").write_text(
        "from fifo import Queue\n\n\ndef test_order():\n    q = Queue()\n    q.push(1)\n    q.push(2)\n"
        "    assert q.pop() == 1\n"
    )
    small_server.extend([{"content": CHANGE_THE_LINE}])
    async with SmallCode(model=SMALL, base_url=small_server.base_url, cwd=tmp_path, resample=False) as agent:
        result = await agent.run("Fix fifo.py: pop must return the oldest item. test_fifo.py must pass.")
    assert (tmp_path / "fifo.py").read_text() == QUEUE.replace("pop(0)", "pop()")
    assert result.success and result.verified and len(small_server.requests) == 1


async def test_a_two_file_task_restarts_fresh_after_a_prose_answer_and_asks_for_each_file(
    small_server: ScriptedModelServer, tmp_path: Path
) -> None:
    store = tmp_path / "store"
    store.mkdir()
    (store / "__init__.py").write_text("")
    errors = '"""Errors."""\n\n\nclass StoreError(Exception):\n    pass\n'
    (store / "errors.py").write_text(errors)
    inventory = "from store.errors import StoreError\n\n\ndef remove(stock, n):\n    return stock - n\n"
    (store / "inventory.py").write_text(inventory)
    (tmp_path / "test_store.py").write_text(
        "import pytest\n\nfrom store.errors import OutOfStockError, StoreError\nfrom store.inventory import remove\n\n\n"
        "def test_refused():\n    with pytest.raises(OutOfStockError):\n        remove(1, 2)\n"
    )
    new_errors = errors + "\n\nclass OutOfStockError(StoreError):\n    pass\n"
    new_inventory = (
        "from store.errors import OutOfStockError, StoreError\n\n\n"
        "def remove(stock, n):\n    if n > stock:\n        raise OutOfStockError(n)\n    return stock - n\n"
    )
    small_server.extend(
        [
            {"content": "The tests now pass."},
            {
                "content": f"store/errors.py\n```python\n{new_errors}```\n\nstore/inventory.py\n```python\n{new_inventory}```"
            },
        ]
    )
    async with SmallCode(model=SMALL, base_url=small_server.base_url, cwd=tmp_path, resample=False) as agent:
        result = await agent.run(
            "Make remove in store/inventory.py raise OutOfStockError, a new subclass of StoreError in "
            "store/errors.py, when n is more than the stock. The tests in test_store.py must pass."
        )
    first, second = (r["messages"] for r in small_server.requests)
    assert "for each file you change" in first[-1]["content"]
    assert len(second) == len(first)  # a fresh opening, not a conversation growing with "not done yet"
    assert "A previous try did not pass" in second[-1]["content"]
    assert (store / "errors.py").read_text() == new_errors
    assert (store / "inventory.py").read_text() == new_inventory
    assert result.success and result.verified
