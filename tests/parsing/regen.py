"""Regenerate the golden corpus's expected calls from the parser's current output:

    python -m tests.parsing.regen            # every case
    python -m tests.parsing.regen ID [ID…]   # only these cases

Prints a diff for every case that changed. (Or run the corpus test with SMALLCODE_REGEN_CORPUS=1.)"""

from __future__ import annotations

import sys

from tests.parsing.corpus import case_files, diff, load, regenerate


def main(argv: list[str]) -> int:
    wanted = set(argv)
    changed = 0
    for path in case_files():
        if wanted and path.stem not in wanted:
            continue
        before = load(path).get("expected")
        if regenerate(path):
            changed += 1
            print(f"{path.stem}:\n{diff(before, load(path).get('expected'))}\n")
    print(f"{changed} case(s) changed", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
