"""Find each student's files for one assignment in a folder of submissions.

Accepted layouts: nbgrader's ``<student>/<assignment>/*`` (submitted/ and
zip-collect output), ``<student>/*.ipynb``, ``<student>.zip`` (either layout
inside; only notebooks are unpacked) and the flat LMS download
``..._<student>_attempt_<timestamp>_<notebook>.ipynb``. Student ids are the
names with every run of characters other than letters, digits, ``.``, ``-``
and ``_`` replaced by ``_``; two entries that map to one id are graded
separately, with a warning.
"""
from __future__ import annotations

import hashlib
import re
import shutil
import sys
import zipfile
from pathlib import Path

__all__ = ["collect_submissions", "student_id"]

_ID = re.compile(r"[^\w.-]+")
# nbgrader's zip-collect file names: <anything>_<student>_attempt_<timestamp>_<notebook>.ipynb
_ZIPCOLLECT = re.compile(r".*_(?P<student>\w+?)_attempt_(?P<timestamp>[0-9\-]+)_(?P<file>.+)$")
_FLAT = re.compile(r"(?P<student>.+?)_attempt_(?P<timestamp>[0-9\-]+)_(?P<file>.+)$")


def student_id(name: str) -> str:
    """The id a submission folder or file stem ``name`` is graded under: runs of characters other than
    letters, digits, ``.``, ``-``, ``_`` become ``_`` (``ann@uni.edu`` -> ``ann_uni.edu``)."""
    return _ID.sub("_", name).strip("._") or "unknown"


def collect_submissions(src: Path, assignment: str, scratch: Path) -> dict[str, Path]:
    """Map student id -> folder holding that student's files for ``assignment``.

    Accepted layouts under ``src``: ``<student>/<assignment>/*`` (nbgrader's
    submitted/ and zip-collect output), ``<student>/*.ipynb``,
    ``<student>.zip`` (either layout inside), and the flat LMS download
    ``..._<student>_attempt_<timestamp>_<notebook>.ipynb``. Archives and flat
    files are unpacked under ``scratch``.
    """
    src, scratch = Path(src), Path(scratch)
    if not src.is_dir():
        raise SystemExit(f"submissions folder {src} does not exist")
    found: dict[str, Path] = {}
    origin: dict[str, str] = {}

    def claim(sid: str, path: Path, name: str) -> str:
        """Record ``path`` for ``sid``; two entries that map to one id get distinct ids, loudly."""
        if sid in found and found[sid] != path:
            base, k = sid, 2
            while f"{base}-{k}" in found:
                k += 1
            sid = f"{base}-{k}"
            print(f"WARNING: {name!r} and {origin[base]!r} both map to student id {base!r}; "
                  f"{name!r} is graded as {sid!r}", file=sys.stderr)
        found[sid], origin[sid] = path, name
        return sid

    for entry in sorted(src.iterdir()):
        if entry.name.startswith(".") or entry.is_symlink():
            # note: never follow links out of the submissions folder
            print(f"WARNING: {entry.name!r} skipped ({'a symbolic link' if entry.is_symlink() else 'hidden'})",
                  file=sys.stderr)
            continue
        if entry.is_dir():
            claim(student_id(entry.name), entry / assignment if (entry / assignment).is_dir() else entry, entry.name)
        elif entry.suffix == ".zip":
            sid = student_id(entry.stem)
            dest = scratch / "unzipped" / entry.name
            try:
                with zipfile.ZipFile(entry) as zf:
                    for member in zf.infolist():  # no absolute paths or ..: extract by name only
                        parts = [p for p in Path(member.filename).parts if p not in ("..", "/", "")]
                        if member.is_dir() or not parts or member.file_size > 50 << 20 \
                                or not parts[-1].endswith(".ipynb"):  # note: notebooks only (no zip bombs of data)
                            continue
                        target = dest.joinpath(*parts)
                        target.parent.mkdir(parents=True, exist_ok=True)
                        target.write_bytes(zf.read(member))
            except Exception as exc:  # noqa: BLE001 - a broken archive (bad data, encrypted, odd names) is one student's
                print(f"WARNING: {entry.name!r} could not be unpacked ({exc.__class__.__name__}: {exc})", file=sys.stderr)
                dest.mkdir(parents=True, exist_ok=True)
            hits = sorted(p.parent for p in dest.rglob("*.ipynb"))
            inner = [h for h in hits if h.name == assignment]
            claim(sid, inner[0] if inner else (hits[0] if hits else dest), entry.name)
        elif entry.suffix == ".ipynb" and (m := _flat_name(entry.name, assignment)):
            sid = student_id(m["student"])
            # note: one folder per raw name (a student's several files meet there); the digest keeps
            # names that sanitize alike ("ann smith", "ann_smith") apart, so claim() sees them
            dest = scratch / "flat" / f"{sid}-{hashlib.sha1(m['student'].encode()).hexdigest()[:8]}"
            dest.mkdir(parents=True, exist_ok=True)
            shutil.copy2(entry, dest / m["file"])
            claim(sid, dest, entry.name)
    return found


def _flat_name(name: str, assignment: str):
    """The parts of an LMS file name ``<assignment>_<student>_attempt_<timestamp>_<file>``, or None.

    note: a student id may contain underscores (ann_smith); when the name starts with the
    assignment, everything between it and ``_attempt_`` is the student.
    """
    if name.startswith(assignment + "_"):
        m = _FLAT.match(name[len(assignment) + 1:])
        if m:
            return m
    return _ZIPCOLLECT.match(name)
