"""Regression test written by `smallcode trace test 20261130-083638-3cce9d` from a real run of the embedded
Qwen2.5-Coder-1.5B on the task bench (deep_merge, try 2, session 4), from the traced run:
    deep_merge in config_merge.py does not merge deeply, and it changes its input. With base = {"db": {"host": "a", "opts": {"ssl": True, "timeout": 5}}} and override = {"db": {"opts": {"timeout": 9}}}, t
It replays that run's 1 model replies (model qwen2.5-coder-1.5b) through the scripted model server against the
files as they were when the run started, and checks that SmallCode does what it did then: the same tool
calls (names, arguments, outcome) and the same final contents of the files it changed."""

from agent_core.observe.replay import replay
from agent_core.patch import whole

CASE = {
    "trace": "20261130-083638-3cce9d",
    "task": 'deep_merge in config_merge.py does not merge deeply, and it changes its input. With base = {"db": '
    '{"host": "a", "opts": {"ssl": True, "timeout": 5}}} and override = {"db": {"opts": {"timeout": '
    '9}}}, the result loses "ssl" (nested dicts below the first level are replaced, not merged), and '
    'afterwards base["db"] has been modified. Dicts must be merged key by key at every level (override '
    "wins for anything that is not a dict on both sides), and neither argument may be modified. Fix "
    "deep_merge in config_merge.py without touching test_config_merge.py.\n"
    "\n"
    "The tests fail:\n"
    "```\n"
    "== FAILURES ==\n"
    "__ test_nested_merge_at_every_level __\n"
    "test_config_merge.py:13: in test_nested_merge_at_every_level\n"
    '    assert deep_merge(base, override) == {"db": {"host": "a", "opts": {"ssl": True, "timeout": '
    "9}}}\n"
    "E   AssertionError: assert {'db': {'host...timeout': 9}}} == {'db': {'host...timeout': 9}}}\n"
    "E     Differing items:\n"
    "E     {'db': {'host': 'a', 'opts': {'timeout': 9}}} != {'db': {'host': 'a', 'opts': {'ssl': True, "
    "'timeout': 9}}}\n"
    "E     Use -v to get more diff\n"
    "__ test_inputs_not_modified __\n"
    "test_config_merge.py:21: in test_inputs_not_modified\n"
    "    assert (base, override) == before\n"
    "E   AssertionError: assert ({'db': {'hos...sl': False}}}) == ({'db': {'hos...sl': False}}})\n"
    "E     At index 0 diff: {'db': {'host': 'b', 'opts': {'ssl': False}}} != {'db': {'host': 'a', "
    "'opts': {'ssl': True}}}\n"
    "E     Use -v to get more diff\n"
    "__ test_layered __\n"
    "test_config_merge.py:34: in test_layered\n"
    '    assert defaults == {"log": {"level": "info", "file": None}}\n'
    "E   AssertionError: assert {'log': {'lev...': 'app.log'}} == {'log': {'lev...'file': None}}\n"
    "E     Differing items:\n"
    "E     {'log': {'level': 'debug', 'file': 'app.log'}} != {'log': {'level': 'info', 'file': None}}\n"
    "E     Use -v to get more d\n"
    "…\n"
    "== short test summary info ==\n"
    "FAILED test_config_merge.py::test_nested_merge_at_every_level - AssertionErro...\n"
    "FAILED test_config_merge.py::test_inputs_not_modified - AssertionError: asser...\n"
    "FAILED test_config_merge.py::test_layered - AssertionError: assert {'log': {'...\n"
    "3 failed, 2 passed in 0.03s\n"
    "```\n"
    "See the testing errors above. The tests are correct, don't try and change them. Fix the code in "
    "config_merge.py to resolve the errors.",
    "model": "qwen2.5-coder-1.5b",
    "settings": {
        "model": "qwen2.5-coder-1.5b",
        "base_url": "http://127.0.0.1:56341/v1",
        "max_turns": 12,
        "temperature": 0.0,
        "max_tokens": 2048,
        "request_timeout": 120.0,
        "retries": 3,
        "stream": True,
        "context": 4096,
        "max_tool_result_chars": 4000,
        "shell_persist": True,
        "shell_timeout": 60.0,
        "write_guard": True,
        "snapshot": True,
        "auto_rollback": False,
        "allow_env_files": False,
        "shell_sandbox": "auto",
        "shell_network": False,
        "shell_env_pass": [],
        "tool_routing": "auto",
        "plan": False,
        "plan_disable": False,
        "test_runner": None,
        "test_disable": False,
        "check_timeout": 120.0,
        "fix_rounds": 3,
        "constrained_decoding": "off",
        "stall_tries": 3,
        "attempts": 1,
        "thinking_budget": 2000,
        "thinking_disable": False,
        "temp_adapt": True,
        "trust_decay": True,
        "web_browse": False,
        "web_search_url": None,
        "web_allow_private": False,
        "skill_auto": True,
        "model_medium": None,
        "model_strong": None,
        "trace": True,
        "embedded": "auto",
        "embedded_model": "qwen2.5-coder-1.5b",
        "gguf": None,
        "models_dir": None,
    },
    "context_window": 4096,
    "files": {
        "config_merge.py": '"""Layered configuration: defaults, then a file, then the command line."""\n'
        "\n"
        "from typing import Any\n"
        "\n"
        "\n"
        "def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, "
        "Any]:\n"
        '    """A new dict with override\'s values winning; nested dicts are merged '
        'key by key. Inputs are not modified."""\n'
        "    result = dict(base)\n"
        "    for key, value in override.items():\n"
        "        if key in result and isinstance(result[key], dict) and "
        "isinstance(value, dict):\n"
        "            result[key].update(value)\n"
        "        else:\n"
        "            result[key] = value\n"
        "    return result\n"
        "\n"
        "\n"
        "def layered(*layers: dict[str, Any]) -> dict[str, Any]:\n"
        '    """Merge layers from lowest to highest priority."""\n'
        "    result: dict[str, Any] = {}\n"
        "    for layer in layers:\n"
        "        result = deep_merge(result, layer)\n"
        "    return result\n",
        "test_config_merge.py": "import copy\n"
        "\n"
        "from config_merge import deep_merge, layered\n"
        "\n"
        "\n"
        "def test_top_level_override():\n"
        '    assert deep_merge({"a": 1, "b": 2}, {"b": 3, "c": 4}) == {"a": 1, '
        '"b": 3, "c": 4}\n'
        "\n"
        "\n"
        "def test_nested_merge_at_every_level():\n"
        '    base = {"db": {"host": "a", "opts": {"ssl": True, "timeout": 5}}}\n'
        '    override = {"db": {"opts": {"timeout": 9}}}\n'
        '    assert deep_merge(base, override) == {"db": {"host": "a", "opts": '
        '{"ssl": True, "timeout": 9}}}\n'
        "\n"
        "\n"
        "def test_inputs_not_modified():\n"
        '    base = {"db": {"host": "a", "opts": {"ssl": True}}}\n'
        '    override = {"db": {"host": "b", "opts": {"ssl": False}}}\n'
        "    before = copy.deepcopy((base, override))\n"
        "    deep_merge(base, override)\n"
        "    assert (base, override) == before\n"
        "\n"
        "\n"
        "def test_dict_replaced_by_scalar_and_back():\n"
        '    assert deep_merge({"x": {"y": 1}}, {"x": 5}) == {"x": 5}\n'
        '    assert deep_merge({"x": 5}, {"x": {"y": 1}}) == {"x": {"y": 1}}\n'
        "\n"
        "\n"
        "def test_layered():\n"
        '    defaults = {"log": {"level": "info", "file": None}}\n'
        '    config_file = {"log": {"file": "app.log"}}\n'
        '    cli = {"log": {"level": "debug"}}\n'
        '    assert layered(defaults, config_file, cli) == {"log": {"level": '
        '"debug", "file": "app.log"}}\n'
        '    assert defaults == {"log": {"level": "info", "file": None}}\n',
    },
    "replies": [
        {
            "content": "To fix the deep_merge function in config_merge.py to merge deeply and not modify "
            "its input, we need to ensure that nested dictionaries are merged key by key at "
            "every level. We can achieve this by using recursion to handle nested "
            "dictionaries.\n"
            "\n"
            "Here's the updated `deep_merge` function:\n"
            "\n"
            "```python\n"
            "from typing import Any\n"
            "\n"
            "\n"
            "def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:\n"
            '    """A new dict with override\'s values winning; nested dicts are merged key by '
            'key. Inputs are not modified."""\n'
            "    result = copy.deepcopy(base)\n"
            "    \n"
            "    for key, value in override.items():\n"
            "        if key in result and isinstance(result[key], dict) and isinstance(value, "
            "dict):\n"
            "            result[key] = deep_merge(result[key], value)\n"
            "        else:\n"
            "            result[key] = value\n"
            "    \n"
            "    return result\n"
            "```\n"
            "\n"
            "This updated function uses `copy.deepcopy` to create a new dictionary that is not "
            "modified by the merge process. It then iterates over the key-value pairs in the "
            "override dictionary, and if both keys exist in the result dictionary and are "
            "dictionaries themselves, it recursively merges them. If either key does not exist "
            "or one of the values is not a dictionary, it simply assigns the value from the "
            "override to the result.\n"
            "\n"
            "The complete updated `config_merge.py` file with the change made:\n"
            "\n"
            "```python\n"
            '"""Layered configuration: defaults, then a file, then the command line."""\n'
            "\n"
            "from typing import Any\n"
            "import copy\n"
            "\n"
            "def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:\n"
            '    """A new dict with override\'s values winning; nested dicts are merged key by '
            'key. Inputs are not modified."""\n'
            "    result = copy.deepcopy(base)\n"
            "    \n"
            "    for key, value in override.items():\n"
            "        if key in result and isinstance(result[key], dict) and isinstance(value, "
            "dict):\n"
            "            result[key] = deep_merge(result[key], value)\n"
            "        else:\n"
            "            result[key] = value\n"
            "    \n"
            "    return result\n"
            "\n"
            "def layered(*layers: dict[str, Any]) -> dict[str, Any]:\n"
            '    """Merge layers from lowest to highest priority."""\n'
            "    result: dict[str, Any] = {}\n"
            "    for layer in layers:\n"
            "        result = deep_merge(result, layer)\n"
            "    return result\n"
            "```\n"
            "\n"
            "With this change, the `deep_merge` function will now merge nested dictionaries key "
            "by key at every level, and neither argument will be modified. The tests should "
            "pass after running them again with `python -m pytest test_config_merge.py`.",
            "reasoning": "",
            "tool_calls": [],
            "usage": {"prompt_tokens": 1602, "completion_tokens": 549},
            "finish_reason": "stop",
        }
    ],
    "expect": {
        "tool_calls": [
            {
                "name": "write_file",
                "args": {
                    "path": "config_merge.py",
                    "content": '"""Layered configuration: defaults, then a file, then the '
                    'command line."""\n'
                    "\n"
                    "from typing import Any\n"
                    "import copy\n"
                    "\n"
                    "def deep_merge(base: dict[str, Any], override: dict[str, "
                    "Any]) -> dict[str, Any]:\n"
                    '    """A new dict with override\'s values winning; nested '
                    'dicts are merged key by key. Inputs are not modified."""\n'
                    "    result = copy.deepcopy(base)\n"
                    "    \n"
                    "    for key, value in override.items():\n"
                    "        if key in result and isinstance(result[key], dict) "
                    "and isinstance(value, dict):\n"
                    "            result[key] = deep_merge(result[key], value)\n"
                    "        else:\n"
                    "            result[key] = value\n"
                    "    \n"
                    "    return result\n"
                    "\n"
                    "def layered(*layers: dict[str, Any]) -> dict[str, Any]:\n"
                    '    """Merge layers from lowest to highest priority."""\n'
                    "    result: dict[str, Any] = {}\n"
                    "    for layer in layers:\n"
                    "        result = deep_merge(result, layer)\n"
                    "    return result\n",
                },
                "ok": True,
            }
        ],
        "files": {
            "config_merge.py": {
                "sha256": "27da9c9a08ae3822a026e09b76284a991cb735d5c9ed4bd098e5ff03e6727b6f",
                "content": '"""Layered configuration: defaults, then a file, then '
                'the command line."""\n'
                "\n"
                "from typing import Any\n"
                "import copy\n"
                "\n"
                "def deep_merge(base: dict[str, Any], override: "
                "dict[str, Any]) -> dict[str, Any]:\n"
                '    """A new dict with override\'s values winning; '
                "nested dicts are merged key by key. Inputs are not "
                'modified."""\n'
                "    result = copy.deepcopy(base)\n"
                "    \n"
                "    for key, value in override.items():\n"
                "        if key in result and isinstance(result[key], "
                "dict) and isinstance(value, dict):\n"
                "            result[key] = deep_merge(result[key], "
                "value)\n"
                "        else:\n"
                "            result[key] = value\n"
                "    \n"
                "    return result\n"
                "\n"
                "def layered(*layers: dict[str, Any]) -> dict[str, "
                "Any]:\n"
                '    """Merge layers from lowest to highest '
                'priority."""\n'
                "    result: dict[str, Any] = {}\n"
                "    for layer in layers:\n"
                "        result = deep_merge(result, layer)\n"
                "    return result\n",
            }
        },
        "success": True,
    },
}


def test_replay_20261130_083638_3cce9d(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))  # the run's checkpoints stay in tmp_path
    outcome = replay(CASE, tmp_path / "workspace")
    assert outcome.tool_calls == CASE["expect"]["tool_calls"], outcome.report()
    assert outcome.files == {p: f["content"] for p, f in CASE["expect"]["files"].items()}, outcome.report()
    too_big = {p: f["sha256"] for p, f in CASE["expect"]["files"].items() if f["content"] is None}
    assert {p: outcome.hashes[p] for p in too_big} == too_big, outcome.report()
    assert outcome.success == CASE["expect"]["success"], outcome.report()


def test_the_replay_catches_a_change_in_how_replies_are_read(tmp_path, monkeypatch):
    """The deliberate change: the sentence before a block ("The complete updated `config_merge.py` file")
    no longer names its file. Then the reply's first block, deep_merge alone and without `import copy`, is
    taken as the edit (spliced in, the import it forgot added), and the replayed run no longer does what the
    real one did."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setattr(whole, "_named_in_prose", lambda *_: None)
    outcome = replay(CASE, tmp_path / "workspace")
    expected = {p: f["content"] for p, f in CASE["expect"]["files"].items()}
    assert outcome.tool_calls != CASE["expect"]["tool_calls"], outcome.report()
    assert outcome.files != expected, outcome.report()
