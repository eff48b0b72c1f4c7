"""Feedback without hidden tests: tracebacks that never quote the hidden part of a test cell.

nbgrader's `ClearHiddenTests` removes the hidden lines from the *source* of
test cells in the feedback, but the tracebacks in their outputs still quote
them (``----> 4 check("pad2d", pad2d, seed=2)``, a loop over the reference
arguments). `HideHiddenTracebacks` runs before it in
``GenerateFeedback.preprocessors`` and rewrites the error outputs:

- a frame in a test cell's hidden lines becomes one line saying a hidden
  test failed; a frame in its visible lines shows just that line;
- frames inside libraries (the grader, numpy) are dropped: they are noise to
  a student and the grader's frames quote the calls it makes;
- frames in the student's own cells and the error message (the failure and
  its diagnosis) are kept.

Any traceback part that still quotes a hidden line is replaced as a whole.
The autograded notebook the instructor keeps is not changed.
"""
from __future__ import annotations

import re

from nbconvert.preprocessors import Preprocessor
from traitlets import Bool

__all__ = ["HideHiddenTracebacks", "hidden_lines", "clean_traceback"]

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# IPython >= 8.? "Cell In[7], line 4"; IPython 8.0-8.5 "Input In [7], in <cell line: 4>()"
_FRAME = re.compile(r"^\s*(?:Cell In\s*\[(\d+)\], line (\d+)|Input In \[(\d+)\], in <cell line: (\d+)>)")
_BEGIN, _END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
HIDDEN_NOTE = "(the failing line is in a hidden test of this cell: its code is not shown)"


def hidden_lines(source: str) -> set[int]:
    """1-based numbers of the lines of ``source`` from a BEGIN HIDDEN TESTS marker to its END."""
    out, inside = set(), False
    for i, line in enumerate(source.splitlines(), start=1):
        if _BEGIN in line:
            inside = True
        if inside:
            out.add(i)
        if _END in line:
            inside = False
    return out


def _is_test(cell) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


def clean_traceback(traceback: list[str], test_cells: dict[int, str]) -> list[str]:
    """``traceback`` (IPython's parts) without hidden code; ``test_cells``: execution count -> source."""
    secrets = [ln.strip() for src in test_cells.values() for i, ln in enumerate(src.splitlines(), 1)
               if i in hidden_lines(src) and len(ln.strip()) >= 8 and not ln.strip().startswith("###")]
    out = []
    for part in traceback:
        plain = _ANSI.sub("", part)
        first = plain.strip("\n").splitlines()[0] if plain.strip() else ""
        m = _FRAME.match(first)
        if m:
            count, line = int(m.group(1) or m.group(3)), int(m.group(2) or m.group(4))
            if count in test_cells:
                src = test_cells[count]
                if line in hidden_lines(src):
                    out.append(HIDDEN_NOTE)
                else:
                    lines = src.splitlines()
                    text = lines[line - 1].strip() if 0 < line <= len(lines) else ""
                    out.append(f"In this test cell:\n----> {text}")
                continue
        elif first.startswith("File "):
            continue  # a library frame (the grader, numpy, ...)
        if any(s in plain for s in secrets):
            part = "(a part of this traceback quotes a hidden test and is not shown)"
        out.append(part)
    # note: two hidden frames in a row (a hidden helper called from the hidden part) say it once
    return [p for i, p in enumerate(out) if not (p == HIDDEN_NOTE and i and out[i - 1] == HIDDEN_NOTE)]


class HideHiddenTracebacks(Preprocessor):
    """Rewrite error outputs so that no hidden test line is quoted (run before ClearHiddenTests)."""

    enabled = Bool(True)

    def preprocess(self, nb, resources):
        tests = {c.execution_count: c.source for c in nb.cells
                 if _is_test(c) and c.get("execution_count") is not None and hidden_lines(c.source)}
        for cell in nb.cells:
            if cell.get("cell_type") != "code":
                continue
            for out in cell.get("outputs", []):
                if out.get("output_type") == "error":
                    out["traceback"] = clean_traceback(list(out.get("traceback", [])), tests)
        return nb, resources
