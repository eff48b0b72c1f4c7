"""Grade-import CSVs for Canvas and Moodle, from the nbgrader gradebook and a class roster.

A roster is any CSV with a header row whose columns name, case- and
space-insensitively (see `ROSTER_COLUMNS`), the student's course id (the id
nbgrader graded: ``student_id``, ``username``, ``login``, ``sis_login_id``,
...) and optionally the LMS id, name, section, e-mail and Moodle ID number.
Canvas's own gradebook export (Student, ID, SIS User ID, SIS Login ID,
Section) and Moodle's participant export (First name, Surname, ID number,
Email address, Username) are rosters as they are.

Nobody is dropped: a graded student missing from the roster gets a row made
from the course id, a roster student without a submission gets a row with an
empty grade (or 0 with ``missing_score=0``), and both lists are returned (and
printed by the CLI), so an import never loses a grade silently.

Two entry points: `export_grades` (``python -m cnnlab course export``) and
the nbgrader plugins `CanvasExportPlugin` / `MoodleExportPlugin`
(``nbgrader export --exporter cnnlab.course.export.CanvasExportPlugin
--CanvasExportPlugin.roster=roster.csv --to canvas.csv``).
"""
from __future__ import annotations

import csv
import io
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from nbgrader.plugins import ExportPlugin
from traitlets import List, Unicode

__all__ = ["ROSTER_COLUMNS", "FORMATS", "RosterEntry", "ExportSummary", "read_roster", "gradebook_scores",
           "write_rows", "export_grades", "print_summary", "CanvasExportPlugin", "MoodleExportPlugin"]

#: roster field -> accepted header names (normalized: lower case, runs of non-letters -> "_"), in order of preference
ROSTER_COLUMNS = {
    "id": ("student_id", "nbgrader_id", "course_id", "username", "user_name", "login", "login_id",
           "sis_login_id", "student", "id", "email", "email_address"),
    "name": ("name", "full_name", "student_name", "student", "display_name"),
    "lms_id": ("lms_id", "canvas_id", "canvas_user_id", "user_id", "id"),
    "sis_user_id": ("sis_user_id",),
    "sis_login_id": ("sis_login_id", "login_id", "login", "username"),
    "section": ("section", "sections", "group", "groups"),
    "email": ("email", "email_address", "e_mail"),
    "first_name": ("first_name", "firstname", "given_name"),
    "last_name": ("last_name", "lastname", "surname", "family_name"),
    "id_number": ("id_number", "idnumber"),
}
#: format -> the LMS's column headers before the grade columns (Canvas: its import columns)
FORMATS = {
    "canvas": ("Student", "ID", "SIS Login ID", "Section"),
    "moodle": ("First name", "Surname", "ID number", "Username", "Email address", "Group"),
}


@dataclass
class RosterEntry:
    """One student of the roster; ``id`` is the course (nbgrader) student id."""

    id: str
    name: str = ""
    lms_id: str = ""
    sis_user_id: str = ""
    sis_login_id: str = ""
    section: str = ""
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    id_number: str = ""

    @property
    def display_name(self) -> str:
        if self.name:
            return self.name
        if self.first_name or self.last_name:
            # note: Canvas's "Student" column is "Last, First"
            return ", ".join(p for p in (self.last_name, self.first_name) if p)
        return self.id


@dataclass
class ExportSummary:
    """What an export wrote and who needs the instructor's attention."""

    path: Path | None
    rows: int
    not_in_roster: list[str] = field(default_factory=list)  # graded, but the roster does not know them
    no_submission: list[str] = field(default_factory=list)  # in the roster (or gradebook), nothing graded

    def lines(self) -> list[str]:
        return [f"wrote {self.rows} student row(s) to {self.path or 'stdout'}",
               f"{len(self.not_in_roster)} graded student(s) not in the roster"
               + (f" (kept, with the course id as login): {', '.join(self.not_in_roster)}" if self.not_in_roster else ""),
               f"{len(self.no_submission)} student(s) without a graded submission"
               + (f": {', '.join(self.no_submission)}" if self.no_submission else "")]


def _norm(header: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", header.strip().lstrip("\ufeff").lower()).strip("_")


def read_roster(path: Path, id_column: str | None = None) -> dict[str, RosterEntry]:
    """Read a roster CSV into ``{course id: RosterEntry}``.

    Args:
        path: CSV file with a header row.
        id_column: the header of the column holding the course student id; default: the first
            of ``ROSTER_COLUMNS["id"]`` present.

    Raises:
        ValueError: no id column, an empty id, or one id on two rows (named with the line numbers).
    """
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            text = fh.read()
    except UnicodeDecodeError as exc:  # note: Excel's plain "CSV" on Windows is cp1252
        raise ValueError(f"roster {path} is not UTF-8 (byte {exc.object[exc.start]:#04x} at offset {exc.start}); "
                         "save it as \"CSV UTF-8\" (Excel) or export it from the LMS in UTF-8") from None
    # note: spreadsheets in some locales save rosters with ";" or tabs; the delimiter is the one that
    # splits the header into a known id column, then into the most columns (csv.Sniffer prefers ","
    # as soon as one header, say "PS1, part 2", holds one, and guesses doublequote=False, misreading
    # "García, José ""Pepe""")
    header = text.splitlines()[0] if text else ""

    def fit(delimiter: str) -> tuple[bool, int]:
        cells = [_norm(h) for h in next(csv.reader([header], csv.excel, delimiter=delimiter), [])]
        known = {_norm(id_column)} if id_column else set(ROSTER_COLUMNS["id"])
        return bool(known & set(cells)), len(cells)

    delimiter = max(",;\t", key=fit)
    rows = list(csv.reader(io.StringIO(text, newline=""), csv.excel, delimiter=delimiter))
    if not rows:
        raise ValueError(f"roster {path} is empty; it needs a header row naming a student id column")
    headers = [_norm(h) for h in rows[0]]
    where = {}
    for i, h in enumerate(headers):
        where.setdefault(h, i)
    columns: dict[str, int] = {}
    if id_column is not None:
        if _norm(id_column) not in where:
            raise ValueError(f"roster {path}: id_column {id_column!r} is not one of its columns {rows[0]}")
        columns["id"] = where[_norm(id_column)]
    for fld, names in ROSTER_COLUMNS.items():
        if fld in columns:
            continue
        for name in names:
            # note: the login or e-mail may be the course id itself; the name or LMS id may not
            if name in where and (fld in ("id", "sis_login_id", "email") or where[name] != columns.get("id")):
                columns[fld] = where[name]
                break
    if "id" not in columns:
        raise ValueError(f"roster {path} has no student id column: got columns {rows[0]}, need one of "
                         f"{list(ROSTER_COLUMNS['id'])} (or pass id_column)")
    roster: dict[str, RosterEntry] = {}
    line_of: dict[str, int] = {}
    for lineno, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        values = {fld: (row[i].strip() if i < len(row) else "") for fld, i in columns.items()}
        if "points possible" in " ".join(row[:2]).lower():
            continue  # note: the second row of Canvas's own export, not a student
        sid = values.pop("id")
        who = [values.get(f, "") for f in ("name", "lms_id", "sis_user_id", "first_name", "last_name", "id_number")]
        if not sid and (not any(who) or values.get("name", "").lower() in ("student, test", "test student")):
            continue  # note: Canvas's "Manual Posting" row and its Test Student (no login), not students
        if not sid:
            raise ValueError(f"roster {path}, line {lineno}: empty student id in column {rows[0][columns['id']]!r}")
        if sid in roster:
            raise ValueError(f"roster {path}: student id {sid!r} on line {line_of[sid]} and line {lineno}")
        roster[sid], line_of[sid] = RosterEntry(sid, **values), lineno
    return roster


def gradebook_scores(gradebook, assignments: list[str]) -> tuple[dict[str, dict[str, float]], list[str]]:
    """``({student: {assignment: score}}, every gradebook student id)`` from an open nbgrader Gradebook.

    The score is nbgrader's (auto or manual, per grade) less the late penalty, as nbgrader's CSV export.
    """
    scores: dict[str, dict[str, float]] = {}
    for name in assignments:
        for sub in gradebook.assignment_submissions(name):
            penalty = sub.late_submission_penalty or 0.0
            scores.setdefault(sub.student.id, {})[name] = max(0.0, float(sub.score) - float(penalty))
    return scores, sorted(s.id for s in gradebook.students)


def _row(fmt: str, entry: RosterEntry) -> list[str]:
    if fmt == "canvas":
        return [entry.display_name, entry.lms_id, entry.sis_login_id or entry.id, entry.section]
    first, last = entry.first_name, entry.last_name
    if not (first or last) and entry.name:
        if "," in entry.name:  # "Last, First"
            last, first = (p.strip() for p in entry.name.split(",", 1))
        else:
            first, _, last = entry.name.rpartition(" ")
            first, last = (first, last) if first else (last, "")
    return [first, last, entry.id_number, entry.sis_login_id or entry.id, entry.email, entry.section]


def _match_key(sid: str) -> str:
    """A roster id as the autograder writes it: runs of characters other than letters, digits,
    ``.``, ``-``, ``_`` became ``_`` (`cnnlab.course.collect`), any case."""
    return (re.sub(r"[^\w.-]+", "_", sid).strip("._") or sid).lower()


def _match_roster_ids(scores: dict[str, dict[str, float]], roster: dict[str, RosterEntry]) -> dict:
    """``scores`` with each graded id that is not in the roster renamed to the one roster id whose id,
    login or e-mail differs from it only in case or in the characters the autograder replaces
    (``ann.smith@uni.edu`` was graded as ``ann.smith_uni.edu``); ambiguous or unmatched ids stay as
    they are."""
    free: dict[str, set[str]] = {}
    for rid, entry in roster.items():
        if rid not in scores:
            # note: a Moodle roster keyed by Username still knows a student graded by e-mail
            for key in {rid, entry.sis_login_id, entry.email} - {""}:
                free.setdefault(_match_key(key), set()).add(rid)
    rename = {}
    for sid in scores:
        match = free.get(_match_key(sid), set()) if sid not in roster else set()
        if len(match) == 1:
            rename[sid] = next(iter(match))
    claimed = list(rename.values())
    # note: two graded ids claiming one roster student are both left as they are (and reported)
    rename = {sid: rid for sid, rid in rename.items() if claimed.count(rid) == 1}
    return {rename.get(sid, sid): got for sid, got in scores.items()}


def write_rows(fmt: str, assignments: list[str], scores: dict[str, dict[str, float]],
               roster: dict[str, RosterEntry] | None, gradebook_students: list[str] = (),
               missing_score: float | None = None, out=None, headers: list[str] | None = None) -> ExportSummary:
    """Write the LMS CSV to the open text file ``out``; see `export_grades`."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {sorted(FORMATS)}, got {fmt!r}")
    graded = sorted(scores)
    if roster is None:
        # note: without a roster, the gradebook's students are the class
        roster = {sid: RosterEntry(sid) for sid in sorted(set(graded) | set(gradebook_students))}
        not_in_roster = []
    else:
        scores = _match_roster_ids(scores, roster)
        graded = sorted(scores)
        not_in_roster = [sid for sid in graded if sid not in roster]
    everyone = list(roster) + not_in_roster
    no_submission = [sid for sid in everyone if not all(a in scores.get(sid, {}) for a in assignments)]
    w = csv.writer(out, lineterminator="\n")
    w.writerow(list(FORMATS[fmt]) + list(headers or assignments))
    for sid in everyone:
        entry = roster.get(sid) or RosterEntry(sid)
        cells = []
        for a in assignments:
            got = scores.get(sid, {}).get(a, missing_score)
            cells.append("" if got is None else f"{got:g}")
        w.writerow(_row(fmt, entry) + cells)
    return ExportSummary(None, len(everyone), not_in_roster, no_submission)


def export_grades(assignment: str | list[str], fmt: str, root: Path, roster: Path | None = None,
                  out: Path | None = None, missing_score: float | None = None,
                  id_column: str | None = None, columns: list[str] | None = None) -> ExportSummary:
    """Write a Canvas or Moodle grade-import CSV for ``assignment`` from ``<root>/gradebook.db``.

    Args:
        assignment: one assignment name or several (one grade column each).
        fmt: ``"canvas"`` or ``"moodle"``.
        root: the course directory.
        roster: optional roster CSV (see `read_roster`); without one, the gradebook's students.
        out: output CSV (default: ``<root>/<fmt>_<assignment>.csv``).
        missing_score: the grade of a student with no submission (default: empty cell, so the
            LMS keeps what it has).
        id_column: roster column holding the course student id.
        columns: the grade columns' headers, one per assignment (default: the assignment names);
            Canvas matches ``"ps1 (123456)"`` to its assignment 123456.

    Returns:
        ExportSummary with the path, the row count, and the students not in the roster / without
        a submission.
    """
    from nbgrader.api import Gradebook, MissingEntry

    names = [assignment] if isinstance(assignment, str) else list(assignment)
    if columns is not None and len(columns) != len(names):
        raise ValueError(f"columns: got {len(columns)} header(s) {list(columns)} for {len(names)} assignment(s) {names}; "
                         "need one per assignment")
    entries = read_roster(roster, id_column) if roster else None
    with Gradebook(f"sqlite:///{Path(root) / 'gradebook.db'}") as gb:
        for name in names:
            try:
                gb.find_assignment(name)
            except MissingEntry:
                raise ValueError(f"assignment {name!r} is not in the gradebook {Path(root) / 'gradebook.db'}; "
                                 f"have {[a.name for a in gb.assignments]}") from None
        scores, students = gradebook_scores(gb, names)
    path = Path(out) if out else Path(root) / f"{fmt}_{'_'.join(names)}.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        summary = write_rows(fmt, names, scores, entries, students, missing_score, fh, columns)
    summary.path = path
    return summary


class _LmsExportPlugin(ExportPlugin):
    """nbgrader exporter: one grade column per assignment (``--assignment``, default all)."""

    fmt = "canvas"
    roster = Unicode("", help="roster CSV mapping course student ids to LMS ids, names, sections").tag(config=True)
    id_column = Unicode("", help="roster column holding the course student id (default: detected)").tag(config=True)
    columns = List(Unicode(), help="grade column headers, one per assignment (default: the names)").tag(config=True)

    def export(self, gradebook) -> None:
        names = [str(a) for a in self.assignment] or [a.name for a in gradebook.assignments]
        roster = read_roster(Path(self.roster), self.id_column or None) if self.roster else None
        scores, students = gradebook_scores(gradebook, names)
        if self.student:
            keep = {str(s) for s in self.student}
            scores = {k: v for k, v in scores.items() if k in keep}
            students = [s for s in students if s in keep]
            roster = {k: v for k, v in roster.items() if k in keep} if roster is not None else None
        dest = self.to or f"{self.fmt}_grades.csv"
        with open(dest, "w", newline="", encoding="utf-8") as fh:
            summary = write_rows(self.fmt, names, scores, roster, students, None, fh, list(self.columns) or None)
        summary.path = Path(dest)
        for line in summary.lines():
            self.log.info(line)
        for sid in summary.not_in_roster:
            self.log.warning("graded student %r is not in the roster %s", sid, self.roster)
        for sid in summary.no_submission:
            self.log.warning("student %r has no graded submission (empty grade)", sid)


class CanvasExportPlugin(_LmsExportPlugin):
    """Canvas gradebook import: Student, ID, SIS Login ID, Section, then one column per assignment."""

    fmt = "canvas"


class MoodleExportPlugin(_LmsExportPlugin):
    """Moodle grade import: First name, Surname, ID number, Username, Email address, Group, then grades
    (map "Username" to the user field when importing)."""

    fmt = "moodle"


def print_summary(summary: ExportSummary, file=None) -> None:
    """The summary lines, and one line per student who needs attention, on ``file`` (default stderr)."""
    file = file or sys.stderr
    for sid in summary.not_in_roster:
        print(f"WARNING: graded student {sid!r} is not in the roster", file=file)
    for sid in summary.no_submission:
        print(f"WARNING: student {sid!r} has no graded submission", file=file)
    for line in summary.lines():
        print(line, file=file)
