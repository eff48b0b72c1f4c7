"""A demo class generated from the solution: who should get what, and why.

Each student is the released notebook with answers pasted into its answer
cells: the solution (markers stripped), except the cells the student
replaces with wrong code. `cnnlab.course.demos.<psN>` lists the students
(`STUDENTS`); every problem set also gets ``full_solution`` and
``blank_release`` (the release as handed out). A student's expected score is
the built notebook's total points minus the points of the test cells the
student is expected to fail: computed, never typed.
"""
from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from cnnlab.course.build import graded_points
from cnnlab.course.config import COURSE_ROOT

__all__ = ["Student", "students", "expected_scores", "student_notebook", "build_demo_class"]


@dataclass(frozen=True)
class Student:
    """A demo student.

    Attributes:
        name: student id (a folder name).
        answers: {answer grade_id: the student's code for that whole cell}.
        failing: grade ids of the test cells this student must fail.
        status: the grader's expected status ("graded", "tampered", "timeout", ...).
        blank: hand in the release untouched (every answer a stub).
    """

    name: str
    answers: dict = field(default_factory=dict)
    failing: tuple = ()
    status: str = "graded"
    blank: bool = False


def _as_student(entry) -> Student:
    """A `Student` from a Student, a dict, or a tuple (name, answers, failing[, status])."""
    if isinstance(entry, Student):
        return entry
    if isinstance(entry, dict):
        return Student(entry["name"], dict(entry.get("answers", {})), tuple(entry.get("failing", ())),
                       entry.get("status", "graded"), bool(entry.get("blank", False)))
    name, answers, failing, *rest = entry
    return Student(name, dict(answers), tuple(failing), *rest)


def _solution_nb(assignment: str, root: Path) -> nbformat.NotebookNode:
    return nbformat.read(Path(root) / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)


def students(assignment: str, root: Path = COURSE_ROOT) -> list[Student]:
    """``full_solution``, ``blank_release`` and the students of `cnnlab.course.demos.<assignment>`."""
    tests = [gid for gid in graded_points(_solution_nb(assignment, root))]
    out = [Student("full_solution"), Student("blank_release", failing=tuple(tests), blank=True)]
    try:
        module = importlib.import_module(f"cnnlab.course.demos.{assignment}")
    except ModuleNotFoundError as exc:
        if exc.name != f"cnnlab.course.demos.{assignment}":
            raise
        return out
    return out + [_as_student(s) for s in module.STUDENTS]


def expected_scores(assignment: str, root: Path = COURSE_ROOT) -> dict[str, float]:
    """{student: total points of the built notebook - points of the tests the student fails}."""
    points = graded_points(_solution_nb(assignment, root))
    expected = {}
    for s in students(assignment, root):
        unknown = sorted(set(s.failing) - set(points))
        if unknown:
            raise ValueError(f"demo student {s.name!r} of {assignment}: {unknown} are not graded cells "
                             f"(have {sorted(points)})")
        expected[s.name] = sum(points.values()) - sum(points[g] for g in set(s.failing))
        if s.status == "tampered":
            expected[s.name] = 0.0
    return expected


def _strip_markers(src: str) -> str:
    return "\n".join(ln for ln in src.splitlines()
                     if not re.match(r"\s*### (BEGIN|END) (SOLUTION|HIDDEN TESTS)", ln))


def student_notebook(assignment: str, answers: dict | None = None, blank: bool = False,
                     root: Path = COURSE_ROOT) -> nbformat.NotebookNode:
    """The released notebook with the solution pasted in, except the cells ``answers`` replaces."""
    root = Path(root)
    released = nbformat.read(root / "exercises" / assignment / f"{assignment}.ipynb", as_version=4)
    if blank:
        return released
    code = {c.metadata["nbgrader"]["grade_id"]: _strip_markers(c.source)
            for c in _solution_nb(assignment, root).cells if c.metadata.get("nbgrader", {}).get("solution")}
    unknown = sorted(set(answers or {}) - set(code))
    if unknown:
        raise ValueError(f"{assignment} has no answer cells {unknown}; have {sorted(code)}")
    code.update(answers or {})
    for cell in released.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.metadata.get("nbgrader", {}).get("solution") and gid in code:
            cell.source = code[gid]
    return released


def build_demo_class(dest: Path, assignment: str, root: Path = COURSE_ROOT) -> dict[str, float]:
    """Write ``dest/<student>/<assignment>/<assignment>.ipynb``; return the expected scores."""
    dest = Path(dest)
    for s in students(assignment, root):
        folder = dest / s.name / assignment
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(student_notebook(assignment, s.answers, s.blank, root), folder / f"{assignment}.ipynb")
    return expected_scores(assignment, root)
