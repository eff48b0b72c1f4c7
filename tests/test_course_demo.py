"""Demo classes: students as replaced answer cells, expected scores computed from the notebook (no kernels)."""
from __future__ import annotations

import nbformat
import pytest

from cnnlab.course.build import graded_points, notebook_path, problem_sets
from cnnlab.course.demo import Student, _as_student, expected_scores, student_notebook, students


@pytest.mark.parametrize("name", problem_sets())
def test_expected_scores_come_from_the_notebook(name):
    points = graded_points(nbformat.read(notebook_path(name), as_version=4))
    expected = expected_scores(name)
    assert expected["full_solution"] == sum(points.values()) and expected["blank_release"] == 0
    for s in students(name):
        if s.status == "graded" and not s.blank:
            assert expected[s.name] == sum(points.values()) - sum(points[g] for g in set(s.failing))


@pytest.mark.parametrize("name", problem_sets())
def test_demo_students_replace_existing_answer_cells(name):
    for s in students(name):
        nb = student_notebook(name, s.answers, s.blank)
        answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in nb.cells
                   if c.metadata.get("nbgrader", {}).get("solution")}
        for gid, code in s.answers.items():
            assert answers[gid] == code
        if not s.blank:
            assert not any("BEGIN SOLUTION" in src for src in answers.values())


def test_ps1_demo_class():
    assert expected_scores("ps1") == {"full_solution": 13, "blank_release": 0, "kernel_flipped": 11,
                                      "bias_forgotten": 7, "padding_one_side": 6, "fc_bias_forgotten": 12,
                                      "hard_coded": 11}


def test_student_forms_and_errors():
    assert _as_student(("a", {"x": "1"}, ["t"])) == Student("a", {"x": "1"}, ("t",))
    assert _as_student({"name": "b", "failing": ["t"], "status": "timeout"}) == Student("b", {}, ("t",), "timeout")
    with pytest.raises(ValueError, match="has no answer cells"):
        student_notebook("ps1", {"no_such_cell": "pass"})
