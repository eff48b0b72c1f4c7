"""Command line: ``python -m cnnlab {examples,course,book} ...``.

- ``examples``: print the seed decks' worked examples computed by cnnlab.
- ``course``: the instructor pipeline (release, autograde, demo); see
  ``python -m cnnlab course --help``.
- ``book``: build the static web book from ``lectures/``.
"""
from __future__ import annotations

import importlib
import sys

_COMMANDS = {
    "examples": ("cnnlab.examples", "the seed decks' worked examples, computed"),
    "course": ("cnnlab.course.cli", "instructor pipeline: release, autograde, demo"),
    "book": ("cnnlab.book", "build the web book from lectures/"),
}


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in {"-h", "--help"} or argv[0] not in _COMMANDS:
        print("usage: python -m cnnlab {" + ",".join(_COMMANDS) + "} [args]\n")
        for name, (_, what) in _COMMANDS.items():
            print(f"  {name:10s} {what}")
        return 0 if argv[:1] in ([], ["-h"], ["--help"]) else 2
    module = importlib.import_module(_COMMANDS[argv[0]][0])
    return int(module.main(argv[1:]) or 0)


if __name__ == "__main__":
    sys.exit(main())
