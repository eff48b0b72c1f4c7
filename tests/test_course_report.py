"""The class report: its numbers are the gradebook's, mistakes are counted once per student."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from cnnlab.course import cli
from cnnlab.course.report import class_report, write_report

sys.path.insert(0, str(Path(__file__).parent))
from course_gradebook import make_gradebook  # noqa: E402


def _v(cell, name, passed, mistake=None, message=""):
    return {"cell": cell, "name": name, "passed": passed, "mistake": mistake, "message": message}


FLIP = _v("test_corr2d", "corr2d", False, "flipped", "Likely cause: kernel flipped <b>")
SCORES = {"ann": {"test_corr2d": 2, "test_pad2d": 1, "test_conv2d": 4},
          "bob": {"test_pad2d": 1},
          "cat": {"test_pad2d": 1, "test_conv2d": 4},
          "dan": {}}
VERDICTS = {
    "ann": [_v("test_corr2d", "corr2d", True)],
    # bob: the same key twice (two checks) counts once; an undiagnosed failure in pad2d
    "bob": [FLIP, dict(FLIP, message="second check"), _v("test_conv2d", "conv2d", False, "bias-missing", "no bias"),
            _v("test_pad2d", "pad2d", False)],
    "cat": [dict(FLIP, message="cat's message")],
    # dan: no verdicts.json
}


@pytest.fixture
def course(tmp_path):
    make_gradebook(tmp_path / "course", SCORES, verdicts=VERDICTS)
    return tmp_path / "course"


def test_class_report_numbers_match_gradebook(course):
    from nbgrader.api import Gradebook

    rep = class_report("ps1", course)
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        subs = {s.student.id: s for s in gb.assignment_submissions("ps1")}
        assert rep.scores == {sid: float(s.score) for sid, s in subs.items()}
        assert rep.max_score == float(gb.find_assignment("ps1").max_score) == 7.0
        for cell, (passed, graded, points) in rep.cells.items():
            grades = [g for s in subs.values() for nb in s.notebooks for g in nb.grades if g.name == cell]
            assert passed == sum(g.score == g.max_score for g in grades) and graded == len(grades) == 4
    assert rep.scores == {"ann": 7.0, "bob": 1.0, "cat": 5.0, "dan": 0.0}
    assert rep.cells == {"test_conv2d": (2, 4, 4.0), "test_corr2d": (1, 4, 2.0), "test_pad2d": (3, 4, 1.0)}
    assert (rep.mean, rep.median) == (13 / 4, 3.0)


def test_class_report_mistakes_once_per_student(course):
    rep = class_report("ps1", course)
    assert [(m.exercise, m.key, m.students, m.fraction) for m in rep.mistakes] == [
        ("corr2d", "flipped", ["bob", "cat"], 0.5), ("conv2d", "bias-missing", ["bob"], 0.25)]
    assert rep.mistakes[0].example == FLIP["message"]  # the first student's first message
    assert rep.mistakes[0].headline() == "flipped in corr2d: 50% of the class"
    assert rep.undiagnosed == {"pad2d": 1}
    assert rep.no_verdicts == ["dan"]


def test_write_report_html_and_plots(course, tmp_path):
    rep, page = write_report("ps1", course, tmp_path / "out")
    assert sorted(p.name for p in page.parent.iterdir()) == ["index.html", "mistakes.png", "pass_rate.png",
                                                             "scores.png"]
    text = page.read_text()
    assert "flipped in corr2d: 50% of the class" in text
    assert "kernel flipped &lt;b&gt;" in text and "kernel flipped <b>" not in text  # messages are escaped
    assert "4 graded submission(s); mean score 3.25 / 7" in text
    assert "No verdict log" in text and "dan" in text
    assert "<td>test_corr2d</td><td>1/4</td><td>25%</td>" in text


def test_cli_report(course, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cli, "COURSE_ROOT", course)
    assert cli.main(["report", "ps1", "--out", str(tmp_path / "r")]) == 0
    out = capsys.readouterr()
    assert "flipped in corr2d: 50% of the class" in out.out and "no verdict log for: dan" in out.err
    assert cli.main(["report", "ps7"]) == 2
