"""Imports a model's rewrite forgot come back when their module is certain, and only then."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from agent_core.patch.missing_names import add_missing_names

DATES = (
    '"""Calendar arithmetic."""\n\nimport datetime as dt\n\n\ndef last(day: dt.date) -> int:\n    return 0\n'
)


def test_a_standard_module_used_by_attribute_is_imported_after_the_existing_imports(tmp_path: Path) -> None:
    # The 1.5B model's first answer to add_months: right, but calendar was never imported.
    new = DATES.replace("return 0", "return calendar.monthrange(day.year, day.month)[1]")
    text, added = add_missing_names(DATES, new)
    assert added == ["import calendar"]
    assert text.startswith(
        '"""Calendar arithmetic."""\n\nimport datetime as dt\nimport calendar\n\n\ndef last('
    )
    (tmp_path / "dates.py").write_text(text)
    run = [sys.executable, "-c", "import datetime, dates; print(dates.last(datetime.date(2024, 2, 1)))"]
    assert subprocess.run(run, cwd=tmp_path, capture_output=True, text=True, check=True).stdout == "29\n"


def test_an_import_the_rewrite_dropped_comes_back_as_the_file_had_it() -> None:
    original = (
        "from __future__ import annotations\n\nimport datetime as dt\nfrom .errors import Missing, Other\n"
    )
    original += "\n\ndef f():\n    pass\n"
    new = "def f(day):\n    if day is None:\n        raise Missing(dt.date.today())\n"
    text, added = add_missing_names(original, new)
    assert added == ["import datetime as dt", "from .errors import Missing"]  # in the file's order
    assert (
        text == "import datetime as dt\nfrom .errors import Missing\n\n" + new
    )  # no docstring or imports: on top


def test_well_known_names_are_imported_from_their_module() -> None:
    new = '"""Doc."""\n\n\n@dataclass\nclass Bag:\n    items: List[int] = field(default_factory=list)\n'
    new += "\n\ndef tally(xs):\n    return Counter(xs), deepcopy(xs)\n"
    text, added = add_missing_names("", new)
    assert added == [
        "from collections import Counter",
        "from typing import List",
        "from dataclasses import dataclass",
        "from copy import deepcopy",
        "from dataclasses import field",
    ]
    assert text.startswith('"""Doc."""\n\nfrom collections import Counter\n')
    assert text.endswith(
        "from dataclasses import field\n\n\n@dataclass\nclass Bag:\n" + new.split("class Bag:\n")[1]
    )
    namespace: dict[str, object] = {}
    exec(compile(text, "bag.py", "exec"), namespace)  # every name now resolves


def test_names_whose_module_is_not_certain_are_left_for_the_tests_to_report() -> None:
    new = (
        "def f(xs):\n"
        "    total = count + 1\n"  # a lost variable (itertools.count would only hide it)
        "    field = xs[0]\n"
        "    return helper(xs), units.get(field), date, reduce\n"  # reduce not called: maybe a variable
    )
    assert add_missing_names("", new) == (new, [])


def test_a_local_module_name_that_is_only_called_is_not_taken_for_the_standard_module() -> None:
    new = "def f():\n    return time()\n"  # time is a stdlib module, but here it is a function of some module
    assert add_missing_names("", new) == (new, [])


def test_text_that_does_not_parse_or_needs_nothing_comes_back_unchanged() -> None:
    assert add_missing_names(DATES, "def broken(:\n    copy.copy(1)\n") == (
        "def broken(:\n    copy.copy(1)\n",
        [],
    )
    assert add_missing_names(DATES, DATES) == (DATES, [])


def test_a_module_without_docstring_or_imports_gets_them_on_top_set_off_by_a_blank_line() -> None:
    new = "def f(x):\n    return copy.copy(x)\n"
    text, added = add_missing_names("", new)
    assert added == ["import copy"]
    assert text == "import copy\n\ndef f(x):\n    return copy.copy(x)\n"


EMITTER = (
    '"""Events."""\n\nfrom collections.abc import Callable\nfrom typing import Any\n\n'
    "Handler = Callable[..., Any]\nLIMIT: int = 3\n\n\nclass Emitter:\n    pass\n"
)


def test_a_dropped_header_comes_back_with_what_its_assignments_need(tmp_path: Path) -> None:
    # event_emitter, 1.5B: the rewrite began at the class, without the imports and the Handler alias it uses.
    new = "class Emitter:\n    def on(self, handler: Handler) -> Handler:\n        return handler\n"
    text, added = add_missing_names(EMITTER, new)
    assert added == [
        "from collections.abc import Callable",
        "from typing import Any",
        "Handler = Callable[..., Any]",
    ]
    assert text == (
        "from collections.abc import Callable\nfrom typing import Any\n\nHandler = Callable[..., Any]\n\n"
        + new
    )
    (tmp_path / "emitter.py").write_text(text)
    subprocess.run([sys.executable, "-c", "import emitter"], cwd=tmp_path, check=True)


def test_assignments_come_back_in_their_old_order_and_only_when_all_they_need_is_known() -> None:
    original = 'UNITS = ["B", "KiB"]\nSCALE = len(UNITS)\nBROKEN = helper(3)\n\n\ndef f():\n    pass\n'
    new = '"""Sizes."""\n\nimport math\n\n\ndef size(n):\n    return UNITS[min(SCALE, n)], BROKEN\n'
    text, added = add_missing_names(original, new)
    assert added == ['UNITS = ["B", "KiB"]', "SCALE = len(UNITS)"]  # BROKEN needs helper, which is unknown
    assert (
        text
        == '"""Sizes."""\n\nimport math\n\nUNITS = ["B", "KiB"]\nSCALE = len(UNITS)\n\n\ndef size('
        + new.split("def size(")[1]
    )


def test_a_name_the_new_text_defines_itself_is_not_brought_back() -> None:
    new = "def handler():\n    pass\n\n\nLIMIT = 5\nprint(LIMIT, handler)\n"
    assert add_missing_names(EMITTER, new) == (new, [])
