"""Class rosters: a CSV from the LMS (or any spreadsheet) read into course ids, and graded ids matched to it.

A roster is any CSV with a header row whose columns name, case- and
space-insensitively (see `ROSTER_COLUMNS`), the student's course id (the id
nbgrader graded: ``student_id``, ``username``, ``login``, ``sis_login_id``,
...) and optionally the LMS id, name, section, e-mail and Moodle ID number.
Canvas's own gradebook export (Student, ID, SIS User ID, SIS Login ID,
Section) and Moodle's participant export (First name, Surname, ID number,
Email address, Username) are rosters as they are. `cnnlab.course.export`
writes the grade-import CSVs from it.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from cnnlab.course.collect import student_id

__all__ = ["ROSTER_COLUMNS", "RosterEntry", "read_roster", "match_roster_ids"]

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


def _match_key(sid: str) -> str:
    """A roster id as the autograder writes it (`cnnlab.course.collect.student_id`), any case."""
    return student_id(sid).lower()


def match_roster_ids(scores: dict[str, dict[str, float]], roster: dict[str, RosterEntry]) -> dict:
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
