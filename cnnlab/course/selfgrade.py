"""Self-grading for self-study readers: ``python -m cnnlab course selfgrade psN NOTEBOOK``.

The notebook is graded exactly as the instructor's batch grades it (the
hidden tests, verdicts decided by the grader process, the bubblewrap
sandbox and the resource limits of `cnnlab.course.autograde`), but in a
scratch course made from the course's config, solutions/ and exercises/:
the course's own gradebook, autograded/, feedback/ and grades CSV are never
touched. The feedback page is copied next to the notebook.

The hidden cases come from a fixed self-study secret (not the instructor's),
so the same notebook gets the same score on every run.
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from cnnlab.course.config import COURSE_ROOT, Limits, assignments

__all__ = ["selfgrade", "scratch_course", "SELF_STUDY_ID"]

SELF_STUDY_ID = "selfstudy"


def scratch_course(dest: Path, assignment: str = "ps1", root: Path = COURSE_ROOT) -> Path:
    """A course at ``dest`` holding only ``root``'s nbgrader config, solutions/ and release of
    ``assignment``: grading there never touches ``root``'s gradebook or folders."""
    dest, root = Path(dest), Path(root)
    dest.mkdir(parents=True)
    shutil.copy2(root / "nbgrader_config.py", dest)
    shutil.copytree(root / "solutions" / assignment, dest / "solutions" / assignment)
    if (root / "exercises" / assignment).is_dir():
        shutil.copytree(root / "exercises" / assignment, dest / "exercises" / assignment)
    return dest


def selfgrade(assignment: str, notebook: Path, *, root: Path = COURSE_ROOT, limits: Limits = Limits(),
              feedback: Path | None = None, progress: bool = False) -> tuple[dict, Path | None]:
    """Grade ``notebook`` as a submission of ``assignment``; return (result, feedback HTML path or None).

    Args:
        assignment: e.g. ``"ps1"``; one of the course's assignments.
        notebook: the reader's notebook (any file name when the assignment has one notebook).
        root: the course (its solutions/ hold the hidden tests).
        limits: sandbox and resource limits, as for ``autograde``.
        feedback: where the feedback page goes (default ``<notebook>.feedback.html`` beside it).

    Raises:
        ValueError: unknown assignment, a missing notebook, or a name that matches none of the
            assignment's notebooks.
    """
    from cnnlab.course.autograde import autograde

    root, notebook = Path(root), Path(notebook)
    have = assignments(root)
    if assignment not in have:
        raise ValueError(f"assignment must be one of {have}, got {assignment!r}")
    if not notebook.is_file() or notebook.suffix != ".ipynb":
        raise ValueError(f"notebook must be an existing .ipynb file, got {str(notebook)!r}")
    released = sorted(p.name for p in (root / "solutions" / assignment).glob("*.ipynb"))
    if notebook.name in released:
        name = notebook.name
    elif len(released) == 1:
        name = released[0]  # note: "ps1 (copy).ipynb" is still ps1.ipynb
    else:
        raise ValueError(f"notebook {notebook.name!r} must be named like one of {assignment}'s notebooks {released}")
    with tempfile.TemporaryDirectory(prefix="cnnlab-selfgrade-") as tmp:
        course = scratch_course(Path(tmp) / "course", assignment, root)
        # note: a fixed secret: the same score on every run, and the instructor's secret is never read
        (course / ".cnnlab_secret").write_text(f"cnnlab-self-study-{assignment}\n")
        subs = Path(tmp) / "submissions" / SELF_STUDY_ID / assignment
        subs.mkdir(parents=True)
        shutil.copyfile(notebook, subs / name)
        (res,) = autograde(assignment, subs.parent.parent, root=course, workers=1, limits=limits,
                           progress=progress, csv_path=Path(tmp) / "grades.csv")
        page = course / "feedback" / SELF_STUDY_ID / assignment / (Path(name).stem + ".html")
        dest = None
        if page.exists():
            dest = Path(feedback) if feedback else notebook.with_name(notebook.stem + ".feedback.html")
            shutil.copyfile(page, dest)
    return res, dest
