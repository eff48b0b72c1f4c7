"""Self-grading: the hidden tests in the sandbox, a scratch course, the course's own records untouched."""
from __future__ import annotations


import nbformat
import pytest

from cnnlab.course import cli
from cnnlab.course.demo import expected_scores, student_notebook, students
from cnnlab.course.selfgrade import scratch_course, selfgrade

EXPECTED = expected_scores("ps1")  # computed from the notebook's points
MISTAKES = {s.name: s.answers for s in students("ps1")}  # the demo class's answer cells


@pytest.fixture
def course(tmp_path):
    root = scratch_course(tmp_path / "course")
    return root


def test_selfgrade_rejects_bad_arguments(course, tmp_path):
    with pytest.raises(ValueError, match="assignment must be one of \\['ps1'\\], got 'ps9'"):
        selfgrade("ps9", tmp_path / "x.ipynb", root=course)
    (tmp_path / "x.txt").write_text("{}")
    with pytest.raises(ValueError, match="existing .ipynb file"):
        selfgrade("ps1", tmp_path / "x.txt", root=course)
    with pytest.raises(ValueError, match="existing .ipynb file"):
        selfgrade("ps1", tmp_path / "missing.ipynb", root=course)


@pytest.mark.slow
@pytest.mark.ps1
@pytest.mark.filterwarnings("ignore:Non-unique cell id")
def test_cli_selfgrade_scores_and_leaves_the_course_alone(course, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cli, "COURSE_ROOT", course)
    before = sorted(p.relative_to(course) for p in course.rglob("*"))
    mine = tmp_path / "work" / "ps1 (my copy).ipynb"  # note: any name, the assignment has one notebook
    mine.parent.mkdir()
    nbformat.write(student_notebook("ps1", MISTAKES["kernel_flipped"]), mine)
    assert cli.main(["selfgrade", "ps1", str(mine), "--workers", "1", "--timeout", "15",
                     "--notebook-timeout", "120"]) == 0
    out = capsys.readouterr().out
    assert f"score: {EXPECTED['kernel_flipped']:g} / 13" in out
    page = mine.with_name("ps1 (my copy).feedback.html")
    assert f"feedback: {page}" in out and page.exists()
    text = page.read_text()
    assert "kernel flipped" in text and "BEGIN HIDDEN TESTS" not in text
    # no gradebook, autograded/, feedback/, CSV or secret appeared in the course
    assert sorted(p.relative_to(course) for p in course.rglob("*")) == before
