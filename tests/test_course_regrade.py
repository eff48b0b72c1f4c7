"""Regrade one student (``--student``): nobody else's records, folders or CSV rows change."""
from __future__ import annotations

import csv
from pathlib import Path

import nbformat
import pytest

from cnnlab.course.config import Limits
from cnnlab.course.demo import student_notebook, students
from cnnlab.course.regrade import select_students, update_csv
from cnnlab.course.selfgrade import scratch_course

MISTAKES = {s.name: s.answers for s in students("ps1")}  # the demo class's answer cells

LIMITS = Limits(cell_timeout=15, notebook_timeout=120, memory_mb=2048)


def _writer(path, results):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["student", "assignment", "score", "max_score", "status", "reason"])
        for r in results:
            w.writerow([r["student"], r["assignment"], r["score"], 13, "graded", r["reason"]])


def test_update_csv_replaces_only_that_row(tmp_path):
    path = tmp_path / "grades.csv"
    old = [dict(student="ann", assignment="ps1", score=3, reason='a, "quoted"\nmulti-line reason'),
           dict(student="bob", assignment="ps1", score=5, reason="x"),
           dict(student="bob", assignment="ps2", score=1, reason="other assignment")]
    _writer(path, old)
    before = path.read_bytes()
    update_csv(path, [dict(student="bob", assignment="ps1", score=13, reason="all tests passed")], _writer)
    after = path.read_bytes()
    lines_before, lines_after = before.split(b"\r\n"), after.split(b"\r\n")
    assert lines_after[:2] == lines_before[:2]  # header and ann's row (a quoted newline inside), byte for byte
    assert lines_after[2] == b"bob,ps1,13,13,graded,all tests passed"
    assert lines_after[3:] == lines_before[3:]
    update_csv(path, [dict(student="cy", assignment="ps1", score=2, reason="new")], _writer)
    assert path.read_bytes().startswith(after) and path.read_bytes().endswith(b"cy,ps1,2,13,graded,new\r\n")


def test_update_csv_creates_a_missing_file(tmp_path):
    update_csv(tmp_path / "g.csv", [dict(student="a", assignment="ps1", score=1, reason="r")], _writer)
    assert (tmp_path / "g.csv").read_text().splitlines()[1] == "a,ps1,1,13,graded,r"


def test_select_students_unknown_id_names_what_was_found():
    subs = {"ann": Path("a"), "bob": Path("b")}
    assert select_students(subs, ["bob"]) == {"bob": Path("b")}
    with pytest.raises(SystemExit, match=r"\['zed'\].*found: ann, bob"):
        select_students(subs, ["bob", "zed"])


def test_select_students_by_folder_name():
    """``--student ann@uni.edu`` names the folder the autograder collected as ann_uni.edu."""
    subs = {"ann_uni.edu": Path("a"), "bob": Path("b")}
    assert select_students(subs, ["ann@uni.edu"]) == {"ann_uni.edu": Path("a")}


def _snapshot(root: Path, sid: str) -> dict:
    files = {}
    for kind in ("autograded", "feedback"):
        for p in sorted((root / kind / sid).rglob("*")):
            if p.is_file():
                files[str(p.relative_to(root))] = (p.read_bytes(), p.stat().st_mtime_ns)
    return files


def _grades(root: Path) -> dict:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        return {(s.student.id, nb.name, g.name): (g.auto_score, g.manual_score)
                for s in gb.assignment_submissions("ps1") for nb in s.notebooks for g in nb.grades}


@pytest.mark.slow
@pytest.mark.ps1
@pytest.mark.filterwarnings("ignore:Non-unique cell id")
def test_autograde_student_regrades_only_that_student(tmp_path):
    from cnnlab.course.autograde import autograde

    root = scratch_course(tmp_path / "course")
    subs = tmp_path / "subs"
    for sid, nb in (("ann", student_notebook("ps1", MISTAKES["kernel_flipped"])),
                    ("bob", student_notebook("ps1", MISTAKES["fc_bias_forgotten"]))):
        (subs / sid / "ps1").mkdir(parents=True)
        nbformat.write(nb, subs / sid / "ps1" / "ps1.ipynb")
    first = autograde("ps1", subs, root=root, workers=2, limits=LIMITS, progress=False)
    assert [(r["student"], r["score"]) for r in first] == [("ann", 11.0), ("bob", 12.0)]
    ann_files, grades, csv_before = _snapshot(root, "ann"), _grades(root), (root / "grades.csv").read_bytes()
    # bob fixes his mistake; ann's submission meanwhile changed too, but only bob is regraded
    nbformat.write(student_notebook("ps1"), subs / "bob" / "ps1" / "ps1.ipynb")
    nbformat.write(student_notebook("ps1", blank=True), subs / "ann" / "ps1" / "ps1.ipynb")
    (res,) = autograde("ps1", subs, root=root, workers=2, limits=LIMITS, progress=False, students=["bob"])
    assert (res["student"], res["score"]) == ("bob", 13.0)
    assert _snapshot(root, "ann") == ann_files  # bytes and modification times
    after = _grades(root)
    assert {k: v for k, v in after.items() if k[0] == "ann"} == {k: v for k, v in grades.items() if k[0] == "ann"}
    assert sum(v[0] for k, v in after.items() if k[0] == "bob") == 13.0
    old_lines, new_lines = csv_before.split(b"\r\n"), (root / "grades.csv").read_bytes().split(b"\r\n")
    assert new_lines[0] == old_lines[0] and new_lines[1] == old_lines[1] and new_lines[1].startswith(b"ann,ps1,11,")
    assert new_lines[2].startswith(b"bob,ps1,13,13,graded,") and old_lines[2].startswith(b"bob,ps1,12,")
    assert len(new_lines) == len(old_lines)
    assert (root / "autograded" / "bob" / "ps1" / "verdicts.json").exists()
