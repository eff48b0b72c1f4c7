"""Regrade some students of a graded class (``autograde psN --submissions DIR --student ID``).

`select_students` keeps only the named students' submissions (an unknown id
stops before anything is graded); `update_csv` replaces those students' rows
of the grades CSV and leaves every other row as it was, byte for byte.
The gradebook, ``autograded/`` and ``feedback/`` need nothing here: the
parent records one student at a time (`cnnlab.course.autograde._record`).
"""
from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

from cnnlab.course.collect import student_id

__all__ = ["select_students", "update_csv"]


def select_students(subs: dict[str, Path], students: list[str]) -> dict[str, Path]:
    """The entries of ``subs`` (student id -> folder) for ``students``.

    Raises:
        SystemExit: a requested id has no submission (the ids found are named).
    """
    # note: the folder's own name ("ann@uni.edu/") is accepted for the id it was collected as
    students = [s if s in subs else student_id(s) for s in students]
    unknown = [s for s in students if s not in subs]
    if unknown:
        have = sorted(subs)
        shown = ", ".join(have[:20]) + (f", ... ({len(have)} in all)" if len(have) > 20 else "")
        raise SystemExit(f"no submission for student(s) {unknown} in the submissions folder; found: {shown}")
    return {s: subs[s] for s in dict.fromkeys(students)}


def _read(path: Path) -> str:
    # note: newline="" everywhere: csv's \r\n line ends and newlines inside quoted reasons survive
    with open(path, newline="", encoding="utf-8") as fh:
        return fh.read()


def _write(path: Path, text: str) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        fh.write(text)


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def update_csv(path: Path, results: list[dict], write_csv) -> None:
    """Put ``results``' rows into the grades CSV at ``path`` in place of the same (student, assignment).

    Args:
        path: the grades CSV; created with ``write_csv`` when missing or not a grades CSV.
        results: result dicts of the students just graded.
        write_csv: ``write_csv(path, results)``, the batch's CSV writer (so rows look alike).
    """
    path = Path(path)
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "new.csv"
        write_csv(fresh, results)
        new_text = _read(fresh)
    new_rows = _rows(new_text)
    header, new_rows = new_rows[0], new_rows[1:]
    old_text = _read(path) if path.exists() else ""
    old_rows = _rows(old_text)
    if not old_rows or old_rows[0][:2] != header[:2]:
        _write(path, new_text)
        return
    fresh_by_key = {(r[0], r[1]): r for r in new_rows}
    merged, used = [old_rows[0]], set()
    for row in old_rows[1:]:
        key = (row[0], row[1]) if len(row) > 1 else None
        if key in fresh_by_key:
            if key not in used:  # note: a duplicated old row is replaced once
                merged.append(fresh_by_key[key])
                used.add(key)
            continue
        merged.append(row)
    merged += [r for k, r in fresh_by_key.items() if k not in used]
    buf = io.StringIO(newline="")
    csv.writer(buf).writerows(merged)
    _write(path, buf.getvalue())
