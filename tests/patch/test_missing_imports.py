"""Imports a model's rewrite forgot come back when their module is certain, and only then."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from agent_core.patch.missing_imports import add_missing_imports

DATES = (
    '"""Calendar arithmetic."""\n\nimport datetime as dt\n\n\ndef last(day: dt.date) -> int:\n    return 0\n'
)


def test_a_standard_module_used_by_attribute_is_imported_after_the_existing_imports(tmp_path: Path) -> None:
    # The 1.5B model's first answer to add_months: right, but calendar was never imported.
    new = DATES.replace("return 0", "return calendar.monthrange(day.year, day.month)[1]")
    text, added = add_missing_imports(DATES, new)
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
    text, added = add_missing_imports(original, new)
    assert added == ["from .errors import Missing", "import datetime as dt"]
    assert (
        text == "from .errors import Missing\nimport datetime as dt\n\n" + new
    )  # no docstring or imports: on top


def test_well_known_names_are_imported_from_their_module() -> None:
    new = '"""Doc."""\n\n\n@dataclass\nclass Bag:\n    items: List[int] = field(default_factory=list)\n'
    new += "\n\ndef tally(xs):\n    return Counter(xs), deepcopy(xs)\n"
    text, added = add_missing_imports("", new)
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
    assert add_missing_imports("", new) == (new, [])


def test_a_local_module_name_that_is_only_called_is_not_taken_for_the_standard_module() -> None:
    new = "def f():\n    return time()\n"  # time is a stdlib module, but here it is a function of some module
    assert add_missing_imports("", new) == (new, [])


def test_text_that_does_not_parse_or_needs_nothing_comes_back_unchanged() -> None:
    assert add_missing_imports(DATES, "def broken(:\n    copy.copy(1)\n") == (
        "def broken(:\n    copy.copy(1)\n",
        [],
    )
    assert add_missing_imports(DATES, DATES) == (DATES, [])


def test_a_module_without_docstring_or_imports_gets_them_on_top_set_off_by_a_blank_line() -> None:
    new = "def f(x):\n    return copy.copy(x)\n"
    text, added = add_missing_imports("", new)
    assert added == ["import copy"]
    assert text == "import copy\n\ndef f(x):\n    return copy.copy(x)\n"
