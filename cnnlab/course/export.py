"""Grade-import CSVs for Canvas and Moodle, from the nbgrader gradebook and a class roster.

The roster (any CSV naming the course id; Canvas's and Moodle's own
exports as they are) is read by `cnnlab.course.roster`.

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
import sys
from dataclasses import dataclass, field
from pathlib import Path

from nbgrader.plugins import ExportPlugin
from traitlets import List, Unicode

from cnnlab.course.roster import ROSTER_COLUMNS, RosterEntry, match_roster_ids, read_roster

__all__ = ["ROSTER_COLUMNS", "FORMATS", "RosterEntry", "ExportSummary", "read_roster", "gradebook_scores",
           "write_rows", "export_grades", "print_summary", "CanvasExportPlugin", "MoodleExportPlugin"]

#: format -> the LMS's column headers before the grade columns (Canvas: its import columns)
FORMATS = {
    "canvas": ("Student", "ID", "SIS Login ID", "Section"),
    "moodle": ("First name", "Surname", "ID number", "Username", "Email address", "Group"),
}


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
        scores = match_roster_ids(scores, roster)
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
    from nbgrader.api import Gradebook

    names = [assignment] if isinstance(assignment, str) else list(assignment)
    if columns is not None and len(columns) != len(names):
        raise ValueError(f"columns: got {len(columns)} header(s) {list(columns)} for {len(names)} assignment(s) {names}; "
                         "need one per assignment")
    entries = read_roster(roster, id_column) if roster else None
    with Gradebook(f"sqlite:///{Path(root) / 'gradebook.db'}") as gb:
        _require_assignments(gb, names, Path(root) / "gradebook.db")
        scores, students = gradebook_scores(gb, names)
    path = Path(out) if out else Path(root) / f"{fmt}_{'_'.join(names)}.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        summary = write_rows(fmt, names, scores, entries, students, missing_score, fh, columns)
    summary.path = path
    return summary


def _require_assignments(gradebook, names: list[str], where) -> None:
    """Raise ValueError naming the first of ``names`` that ``gradebook`` (at ``where``) does not hold."""
    from nbgrader.api import MissingEntry

    for name in names:
        try:
            gradebook.find_assignment(name)
        except MissingEntry:
            raise ValueError(f"assignment {name!r} is not in the gradebook {where}; "
                             f"have {[a.name for a in gradebook.assignments]}") from None


class _LmsExportPlugin(ExportPlugin):
    """nbgrader exporter: one grade column per assignment (``--assignment``, default all)."""

    fmt = "canvas"
    roster = Unicode("", help="roster CSV mapping course student ids to LMS ids, names, sections").tag(config=True)
    id_column = Unicode("", help="roster column holding the course student id (default: detected)").tag(config=True)
    columns = List(Unicode(), help="grade column headers, one per assignment (default: the names)").tag(config=True)

    def export(self, gradebook) -> None:
        names = [str(a) for a in self.assignment] or [a.name for a in gradebook.assignments]
        try:
            _require_assignments(gradebook, names, "of this course")
            roster = read_roster(Path(self.roster), self.id_column or None) if self.roster else None
        except ValueError as exc:  # note: a message and exit status 1, as nbgrader's own apps fail
            self.log.error("%s", exc)
            sys.exit(1)
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
