"""A demo class generated from the solution: who should get what, and why.

Each student is the released notebook with answers pasted into its solution
cells: the full solution, nothing at all (the blank release), or the
solution with one realistic mistake. `EXPECTED` is the score each must get.
"""
from __future__ import annotations

import re
from pathlib import Path

import nbformat

from cnnlab.course.config import COURSE_ROOT

__all__ = ["EXPECTED", "MISTAKES", "student_notebook", "build_demo_class"]

# student -> {grade_id of a solution cell: [(old, new), ...]} applied to the solution code
MISTAKES = {
    "kernel_flipped": {"corr2d_solution": [
        ('return np.einsum("ijuv,uv->ij", windows, k)',
         'return np.einsum("ijuv,uv->ij", windows, k[::-1, ::-1])  # a true convolution')]},
    "bias_forgotten": {"conv2d_solution": [
        ("    if b is not None:\n        out = out + ", "    if False:\n        out = out + ")]},
    "padding_one_side": {"pad2d_solution": [
        ("[(ph, ph), (pw, pw)]", "[(0, 2 * ph), (0, 2 * pw)]")]},
    "fc_bias_forgotten": {"params_solution": [
        ("return n_out * (n_in + (1 if bias else 0))", "return n_out * n_in")]},
    "hard_coded": {"corr2d_solution": [
        ('windows = sliding_window_view(x, k.shape)  # (H_out, W_out, KH, KW)\n    return np.einsum("ijuv,uv->ij", windows, k)',
         'return np.array([[177.75, 175.375, 216.4375], [141.0625, 133.1875, 183.25],\n'
         '                     [105.9375, 116.9375, 166.8125]])  # copied from the expected output')]},
}

# student -> (score, max); ps1 is worth 13 points
EXPECTED = {
    "full_solution": 13.0,
    "blank_release": 0.0,
    "kernel_flipped": 11.0,       # the blur kernel is symmetric: only the hidden tests see the flip
    "bias_forgotten": 7.0,        # conv2d and conv1d (built on it) lose 4 + 2
    "padding_one_side": 6.0,      # pad2d, conv2d and conv1d fail: 1 + 4 + 2
    "fc_bias_forgotten": 12.0,    # 360 instead of 372
    "hard_coded": 11.0,           # passes the visible check, fails the hidden tests
}


def _strip_markers(src: str) -> str:
    return "\n".join(ln for ln in src.splitlines()
                     if not re.match(r"\s*### (BEGIN|END) (SOLUTION|HIDDEN TESTS)", ln))


def student_notebook(assignment: str = "ps1", mistakes: dict | None = None, blank: bool = False,
                     root: Path = COURSE_ROOT, notebook: str | None = None) -> nbformat.NotebookNode:
    """The released notebook with the solution (optionally with ``mistakes``) pasted in."""
    root = Path(root)
    name = notebook or f"{assignment}.ipynb"
    released = nbformat.read(root / "exercises" / assignment / name, as_version=4)
    if blank:
        return released
    source = nbformat.read(root / "solutions" / assignment / name, as_version=4)
    answers = {c.metadata["nbgrader"]["grade_id"]: _strip_markers(c.source)
               for c in source.cells if c.metadata.get("nbgrader", {}).get("solution")}
    for grade_id, edits in (mistakes or {}).items():
        for old, new in edits:
            if old not in answers[grade_id]:
                raise ValueError(f"demo mistake for {grade_id!r} no longer matches the solution: {old!r}")
            answers[grade_id] = answers[grade_id].replace(old, new)
    for cell in released.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.metadata.get("nbgrader", {}).get("solution") and gid in answers:
            cell.source = answers[gid]
    return released


def build_demo_class(dest: Path, assignment: str = "ps1", root: Path = COURSE_ROOT) -> dict[str, float]:
    """Write ``dest/<student>/<assignment>/<assignment>.ipynb``; return the expected scores."""
    dest = Path(dest)
    students = {"full_solution": student_notebook(assignment, root=root),
                "blank_release": student_notebook(assignment, blank=True, root=root)}
    for sid, mistakes in MISTAKES.items():
        students[sid] = student_notebook(assignment, mistakes, root=root)
    for sid, nb in students.items():
        folder = dest / sid / assignment
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, folder / f"{assignment}.ipynb")
    return dict(EXPECTED)
