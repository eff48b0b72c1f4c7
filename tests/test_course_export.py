"""Canvas and Moodle grade-import CSVs: rosters with unknown and missing students, nbgrader's exporter."""
from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cnnlab.course import cli
from cnnlab.course.export import FORMATS, export_grades, read_roster

sys.path.insert(0, str(Path(__file__).parent))
from course_gradebook import make_gradebook  # noqa: E402

FULL = {"test_corr2d": 2, "test_pad2d": 1, "test_conv2d": 4}


@pytest.fixture
def course(tmp_path):
    """ann 7, bob 1, dan 3 (dan is not on the roster below); carl is in the gradebook, no submission."""
    root = tmp_path / "course"
    make_gradebook(root, {"ann": FULL, "bob": {"test_pad2d": 1}, "dan": {"test_pad2d": 1, "test_corr2d": 2}},
                   others=["carl"])
    return root


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_read_roster_canvas_export_format(tmp_path):
    """Canvas's own gradebook export is a roster: the login is the course id, "Points Possible" is skipped."""
    roster = _write(tmp_path / "r.csv", "Student,ID,SIS User ID,SIS Login ID,Section,Old (1)\n"
                                        "    Points Possible,,,,,10\n"
                                        '"Smith, Ann",101,S1,ann,Sec A,3\n"Jones, Bob",102,S2,bob,Sec B,\n')
    got = read_roster(roster)
    assert list(got) == ["ann", "bob"]
    assert (got["ann"].name, got["ann"].lms_id, got["ann"].section) == ("Smith, Ann", "101", "Sec A")


def test_read_roster_semicolons_and_fallback_id_column(tmp_path):
    """A spreadsheet's ";"-separated roster; a bare "id" column is the course id when nothing else is."""
    got = read_roster(_write(tmp_path / "r.csv", "id;name;section\nann;Ann Smith;A\n"))
    assert (got["ann"].name, got["ann"].section, got["ann"].lms_id) == ("Ann Smith", "A", "")
    got = read_roster(_write(tmp_path / "e.csv", "Email,Name\nann@u.edu,Ann\n"), )
    assert (got["ann@u.edu"].email, got["ann@u.edu"].name) == ("ann@u.edu", "Ann")
    got = read_roster(_write(tmp_path / "c.csv", "login,id,name\nann,7,Ann\n"), id_column="login")
    assert (got["ann"].lms_id, got["ann"].sis_login_id) == ("7", "ann")


def test_read_roster_errors_name_the_problem(tmp_path):
    with pytest.raises(ValueError, match="no student id column.*got columns"):
        read_roster(_write(tmp_path / "a.csv", "name,section\nAnn,A\n"))
    with pytest.raises(ValueError, match="'ann' on line 2 and line 3"):
        read_roster(_write(tmp_path / "b.csv", "student_id,name\nann,Ann\nann,Ann again\n"))
    with pytest.raises(ValueError, match="line 3: empty student id"):
        read_roster(_write(tmp_path / "c.csv", "student_id,name\nann,Ann\n,Nobody\n"))
    with pytest.raises(ValueError, match="line 3: empty student id"):
        read_roster(_write(tmp_path / "m.csv", "First name,Surname,Email address\nAnn,Smith,a@u.edu\nNo,Mail,\n"))
    (tmp_path / "x.csv").write_bytes("student_id,name\nann,José\n".encode("cp1252"))
    with pytest.raises(ValueError, match=r"x\.csv is not UTF-8 \(byte 0xe9.*CSV UTF-8"):
        read_roster(tmp_path / "x.csv")
    with pytest.raises(ValueError, match="id_column 'login'"):
        read_roster(_write(tmp_path / "d.csv", "student_id\nann\n"), id_column="login")


def test_export_grades_canvas_unknown_and_missing_students(course, tmp_path):
    roster = _write(tmp_path / "roster.csv", "student_id,name,lms_id,section\n"
                                             "ann,Ann Smith,101,A\nbob,Bob Jones,102,B\nerin,Erin Li,105,A\n")
    s = export_grades("ps1", "canvas", course, roster=roster, out=tmp_path / "canvas.csv")
    rows = _rows(tmp_path / "canvas.csv")
    assert list(rows[0]) == list(FORMATS["canvas"]) + ["ps1"]
    # roster order first, then graded students the roster does not know: nobody dropped
    assert [(r["Student"], r["ID"], r["SIS Login ID"], r["Section"], r["ps1"]) for r in rows] == [
        ("Ann Smith", "101", "ann", "A", "7"), ("Bob Jones", "102", "bob", "B", "1"),
        ("Erin Li", "105", "erin", "A", ""), ("dan", "", "dan", "", "3")]
    assert (s.rows, s.not_in_roster, s.no_submission) == (4, ["dan"], ["erin"])


def test_export_grades_matches_ids_the_autograder_rewrote(tmp_path):
    """An e-mail login graded as ann.smith_uni.edu (the autograder's folder-safe id), in any case,
    is the roster's Ann.Smith@uni.edu; an unmatched id is still kept and reported."""
    root = tmp_path / "course"
    make_gradebook(root, {"ann.smith_uni.edu": FULL, "BOB": {"test_pad2d": 1}, "zed": {"test_pad2d": 1}})
    roster = _write(tmp_path / "r.csv", 'SIS Login ID,Student,ID\nAnn.Smith@uni.edu,"Smith, Ann",101\nbob,Bob,102\n')
    s = export_grades("ps1", "canvas", root, roster=roster, out=tmp_path / "c.csv", columns=["ps1 (777)"])
    rows = _rows(tmp_path / "c.csv")
    assert list(rows[0])[-1] == "ps1 (777)"
    assert [(r["SIS Login ID"], r["ID"], r["ps1 (777)"]) for r in rows] == [
        ("Ann.Smith@uni.edu", "101", "7"), ("bob", "102", "1"), ("zed", "", "1")]
    assert (s.not_in_roster, s.no_submission) == (["zed"], [])
    with pytest.raises(ValueError, match="one per assignment"):
        export_grades("ps1", "canvas", root, out=tmp_path / "d.csv", columns=["a", "b"])


def test_export_grades_moodle_missing_score_and_names(course, tmp_path):
    roster = _write(tmp_path / "roster.csv", "First name,Surname,ID number,Email address,Username,Group\n"
                                             "Ann,Smith,9001,ann@u.edu,ann,G1\nCarl,Doe,9003,carl@u.edu,carl,G2\n")
    s = export_grades("ps1", "moodle", course, roster=roster, out=tmp_path / "m.csv", missing_score=0)
    rows = _rows(tmp_path / "m.csv")
    assert list(rows[0]) == list(FORMATS["moodle"]) + ["ps1"]
    assert [list(r.values()) for r in rows] == [
        ["Ann", "Smith", "9001", "ann", "ann@u.edu", "G1", "7"],
        ["Carl", "Doe", "9003", "carl", "carl@u.edu", "G2", "0"],
        ["", "", "", "bob", "", "", "1"], ["", "", "", "dan", "", "", "3"]]
    assert (s.not_in_roster, s.no_submission) == (["bob", "dan"], ["carl"])


def test_export_grades_without_roster_lists_gradebook_students(course, tmp_path):
    s = export_grades("ps1", "canvas", course, out=tmp_path / "c.csv")
    assert [(r["SIS Login ID"], r["ps1"]) for r in _rows(tmp_path / "c.csv")] == [
        ("ann", "7"), ("bob", "1"), ("carl", ""), ("dan", "3")]
    assert (s.not_in_roster, s.no_submission) == ([], ["carl"])


def test_export_grades_unknown_assignment(course):
    with pytest.raises(ValueError, match="'ps9' is not in the gradebook.*'ps1'"):
        export_grades("ps9", "canvas", course)


def test_cli_export_reports_on_stderr(course, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cli, "COURSE_ROOT", course)
    roster = _write(tmp_path / "roster.csv", "username,name\nann,Ann\nzoe,Zoe\n")
    assert cli.main(["export", "ps1", "--format", "canvas", "--roster", str(roster),
                     "--out", str(tmp_path / "o.csv")]) == 0
    err = capsys.readouterr().err
    for line in ("graded student 'bob' is not in the roster", "graded student 'dan' is not in the roster",
                 "student 'zoe' has no graded submission", "2 graded student(s) not in the roster",
                 "1 student(s) without a graded submission: zoe", "wrote 4 student row(s)"):
        assert line in err
    assert cli.main(["export", "ps1", "--format", "canvas", "--roster", str(tmp_path / "none.csv")]) == 2
    assert cli.main(["export", "ps1", "--format", "canvas", "--column", "ps1 (42)", "--out", str(tmp_path / "p.csv")]) == 0
    assert (tmp_path / "p.csv").read_text().splitlines()[0] == "Student,ID,SIS Login ID,Section,ps1 (42)"
    assert cli.main(["export", "ps1", "--format", "canvas", "--column", "a", "--column", "b"]) == 2


@pytest.mark.slow
def test_nbgrader_export_plugin_canvas(course, tmp_path):
    """``nbgrader export --exporter cnnlab.course.export.CanvasExportPlugin`` writes the same file."""
    roster = _write(tmp_path / "roster.csv", "student_id,name,lms_id,section\nann,Ann Smith,101,A\nerin,Erin,105,A\n")
    export_grades("ps1", "canvas", course, roster=roster, out=tmp_path / "ours.csv")
    env = dict(os.environ, PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""),
               PYTHONPATH=str(Path(__file__).parents[1]))
    proc = subprocess.run([sys.executable, "-m", "nbgrader", "export", f"--CourseDirectory.root={course}",
                           "--exporter", "cnnlab.course.export.CanvasExportPlugin",
                           f"--CanvasExportPlugin.roster={roster}", "--to", str(tmp_path / "nb.csv"),
                           "--assignment", "ps1"], cwd=course, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "nb.csv").read_text() == (tmp_path / "ours.csv").read_text()
    assert "graded student 'bob' is not in the roster" in proc.stderr
    assert "student 'erin' has no graded submission" in proc.stderr
    # an assignment the gradebook does not hold: one line and exit status 1, no traceback
    proc = subprocess.run([sys.executable, "-m", "nbgrader", "export", f"--CourseDirectory.root={course}",
                           "--exporter", "cnnlab.course.export.CanvasExportPlugin", "--to", str(tmp_path / "x.csv"),
                           "--assignment", "ps9"], cwd=course, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stderr
    assert "assignment 'ps9' is not in the gradebook of this course; have ['ps1']" in proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "x.csv").exists()


def test_read_roster_canvas_quotes_test_student_and_crlf(tmp_path):
    """Canvas's export as it really is: BOM, CRLF, every cell quoted, a name with doubled quotes,
    its "Manual Posting" row and its Test Student (no login), which is not a student."""
    text = ('\ufeff"Student","ID","SIS User ID","SIS Login ID","Section","PS0 (1001)"\r\n'
            '"","","","","","Manual Posting"\r\n'
            '"    Points Possible","","","","","10.00"\r\n'
            '"García, José ""Pepe""","5002","S2","jgarcia","CNN 101 - A","3"\r\n'
            '"Smith, ""Al"", Jr","5003","S3","asmith","CNN 101 - B",""\r\n'
            '"Student, Test","5999","","","CNN 101 - A",""\r\n')
    path = tmp_path / "canvas.csv"
    path.write_bytes(text.encode("utf-8"))
    got = read_roster(path)
    assert list(got) == ["jgarcia", "asmith"]
    assert (got["jgarcia"].name, got["jgarcia"].lms_id, got["jgarcia"].section) == (
        'García, José "Pepe"', "5002", "CNN 101 - A")
    assert (got["asmith"].name, got["asmith"].sis_login_id) == ('Smith, "Al", Jr', "asmith")


def test_export_grades_moodle_student_graded_by_email(tmp_path):
    """A European Moodle participants export (";", BOM, CRLF, trailing empty columns, doubled header
    spaces) keyed by Username: a student graded by e-mail (as the autograder's folder-safe id, in
    another case) is that roster student, not an extra row beside an empty grade."""
    root = tmp_path / "course"
    make_gradebook(root, {"ann": FULL, "Jose.Garcia_uni.edu": {"test_pad2d": 1}, "zed": {"test_pad2d": 1}})
    text = ("\ufeffFirst name;Surname;ID number;Institution;Department;Email  address;Username;;\r\n"
            "Ann;Smith;1001;Uni;CS;ann@uni.edu;ann;;\r\n"
            "José;García;1002;Uni;CS;jose.garcia@uni.edu;jgarcia;;\r\n"
            "Ned;Nosub;1005;Uni;CS;ned@uni.edu;nned;;\r\n")
    roster = tmp_path / "moodle.csv"
    roster.write_bytes(text.encode("utf-8"))
    s = export_grades("ps1", "moodle", root, roster=roster, out=tmp_path / "m.csv")
    assert [list(r.values()) for r in _rows(tmp_path / "m.csv")] == [
        ["Ann", "Smith", "1001", "ann", "ann@uni.edu", "", "7"],
        ["José", "García", "1002", "jgarcia", "jose.garcia@uni.edu", "", "1"],
        ["Ned", "Nosub", "1005", "nned", "ned@uni.edu", "", ""],
        ["", "", "", "zed", "", "", "1"]]
    assert (s.not_in_roster, s.no_submission) == (["zed"], ["nned"])


def test_read_roster_semicolons_with_a_comma_in_a_header(tmp_path):
    """Moodle's grade export in a ";" locale, whose assignment header holds a comma, no Username."""
    path = _write(tmp_path / "g.csv", "First name;Surname;ID number;Institution;Department;Email address;"
                                      "Assignment: PS1, convolutions (Real);Last downloaded from this course\n"
                                      "Ann;Smith;1001;Uni;CS;ann@uni.edu;7,00;1700000000\n")
    got = read_roster(path)
    assert list(got) == ["ann@uni.edu"]
    assert (got["ann@uni.edu"].first_name, got["ann@uni.edu"].last_name, got["ann@uni.edu"].id_number) == (
        "Ann", "Smith", "1001")
    # a "," Canvas export whose assignment headers hold more ";" than the header has commas
    path = _write(tmp_path / "c.csv", "Student,ID,SIS Login ID,Section,HW; A; x; i (1),HW; B; y; j (2),HW; C; z; k (3)\n"
                                      '"Smith, Ann",101,ann,A,1,2,3\n')
    assert (read_roster(path)["ann"].name, read_roster(path)["ann"].lms_id) == ("Smith, Ann", "101")
