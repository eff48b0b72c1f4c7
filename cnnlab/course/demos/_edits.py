"""Demo students as small edits of the solution: `answer(ps, grade_id, (old, new), ...)`.

Each edit must match the solution's answer cell (markers stripped), so a demo
student never drifts silently from the problem set it is written against.
"""
from __future__ import annotations

import re

import nbformat

from cnnlab.course.config import COURSE_ROOT

__all__ = ["answer"]


def answer(assignment: str, grade_id: str, *edits) -> str:
    """The solution's code for answer cell `grade_id` with each (old, new) replacement applied once."""
    nb = nbformat.read(COURSE_ROOT / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
    cells = {c.metadata["nbgrader"]["grade_id"]: c.source for c in nb.cells
             if c.metadata.get("nbgrader", {}).get("solution")}
    code = "\n".join(ln for ln in cells[grade_id].splitlines()
                     if not re.match(r"\s*### (BEGIN|END) (SOLUTION|HIDDEN TESTS)", ln))
    for old, new in edits:
        if old not in code:
            raise ValueError(f"demo edit for {assignment}/{grade_id} no longer matches the solution: {old!r}")
        code = code.replace(old, new, 1)
    return code
