"""The course map: lectures 1-9 and ps1-ps5, status from the repository, points from the notebooks."""
from __future__ import annotations

import re

import pytest

from cnnlab import syllabus as S
from cnnlab.course.build import problem_sets


def test_syllabus_follows_the_design():
    assert [lec.number for lec in S.LECTURES] == list(range(1, 10))
    assert [ps.number for ps in S.PROBLEM_SETS] == list(range(1, 6))
    assert [lec.id for lec in S.LECTURES] == [f"lec{i}" for i in range(1, 10)]
    assert [ps.id for ps in S.PROBLEM_SETS] == [f"ps{i}" for i in range(1, 6)]
    assert all(re.match(rf"0{lec.number}_[a-z_]+$", lec.file) for lec in S.LECTURES)
    ids = {lec.id for lec in S.LECTURES}
    for item in (*S.LECTURES, *S.PROBLEM_SETS):
        assert set(item.prerequisites) <= ids, item
        assert item.title and item.summary.endswith("."), item
    for lec in S.LECTURES:  # prerequisites come earlier
        assert all(S.lecture(p).number < lec.number for p in lec.prerequisites), lec


def test_status_is_read_from_the_repository(tmp_path):
    lec5, ps2 = S.lecture("lec5"), S.problem_set("ps2")
    assert S.lecture_status(lec5, tmp_path) == "planned"
    (tmp_path / "lectures").mkdir()
    (tmp_path / "lectures" / f"{lec5.file}.ipynb").write_text("{}")
    assert S.lecture_status(lec5, tmp_path) == "written"
    assert S.problem_set_status(ps2, tmp_path) == "planned" and S.problem_sets_present(tmp_path) == []
    (tmp_path / "solutions").mkdir()
    (tmp_path / "solutions" / "ps2.py").write_text("")
    assert S.problem_set_status(ps2, tmp_path) == "written" and S.problem_sets_present(tmp_path) == ["ps2"]
    assert S.problem_set_points(ps2, tmp_path) is None  # not built yet
    (tmp_path / "exercises" / "ps2").mkdir(parents=True)
    (tmp_path / "exercises" / "ps2" / "ps2.ipynb").write_text("{}")
    assert S.problem_set_status(ps2, tmp_path) == "released"
    with pytest.raises(KeyError, match="no problem set 'ps9'"):
        S.problem_set("ps9")


def test_this_repository():
    assert S.lecture_status(S.lecture("lec1")) == "written"
    assert S.problem_set_status(S.problem_set("ps1")) == "released"
    assert S.problem_set_points(S.problem_set("ps1")) == 13
    # every problem-set source in solutions/ is in the syllabus
    assert S.problem_sets_present() == problem_sets()
