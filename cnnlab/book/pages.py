"""Pages written from the syllabus: one per problem set, one per lecture not written yet."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

from cnnlab.syllabus import (LECTURES, PROBLEM_SETS, Lecture, ProblemSet, lecture, lecture_status,
                             problem_set_points, problem_set_status)

__all__ = ["write_problem_sets", "write_planned_lectures", "planned_lecture_notebook"]

_PS_STATUS = {"released": "released", "written": "in preparation", "planned": "planned"}


def _released_files(root: Path, ps: str) -> list[Path]:
    folder = root / "exercises" / ps
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.is_file() and not any(
        part.startswith(".") for part in p.relative_to(folder).parts))


def _lecture_link(lec: Lecture, prefix: str = "../lectures/") -> str:
    return f"[Lecture {lec.number}: {lec.title}]({prefix}{lec.file}.ipynb)"


def _outline(path: Path) -> list[str]:
    """Markdown lines describing a released notebook: its parts and points."""
    import nbformat

    from cnnlab.course.build import total_points

    try:
        nb = nbformat.read(path, as_version=4)
    except Exception:  # noqa: BLE001 - not a readable notebook: just link it
        return []
    parts = [line[3:].strip() for c in nb.cells if c.cell_type == "markdown"
             for line in c.source.splitlines() if re.match(r"## \d", line)]
    points = total_points(nb)
    lines = [f"`{path.name}`: {len(parts)} parts, {points:g} points in all." if points
             else f"`{path.name}`:", ""]
    return lines + [f"1. {part.split('. ', 1)[-1]}" for part in parts] + [""]


def _problem_set_page(root: Path, src: Path, ps: ProblemSet) -> list[str]:
    status = problem_set_status(ps, root)
    files = _released_files(root, ps.id) if status == "released" else []
    builds_on = ", ".join(_lecture_link(lecture(p)) for p in ps.prerequisites) or "nothing"
    points = problem_set_points(ps, root)
    lines = [f"# Problem set {ps.number}: {ps.title}", "",
             f"**Status:** {_PS_STATUS[status]}" + (f" · **Points:** {points:g}" if points else "")
             + f" · **In the repository:** `exercises/{ps.id}/`", "", f"**Builds on:** {builds_on}", "",
             ps.summary, ""]
    if files:
        lines += ["## What's inside", ""]
        for f in files:
            if f.suffix == ".ipynb":
                lines += _outline(f)
        lines += ["## Download", "",
                  "Download the notebooks, open them in Jupyter and fill in every "
                  "cell that raises `NotImplementedError`. The visible checks "
                  "tell you whether you are on track; hidden tests grade the rest.", ""]
        for f in files:
            rel = f.relative_to(root)  # exercises/<ps>/...
            dest = src / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f, dest)
            lines.append(f"- {{download}}`{rel.relative_to('exercises').as_posix()} </{rel.as_posix()}>`")
        lines.append("")
    elif status == "written":
        lines += ["The notebooks are being written and will appear in "
                  f"`exercises/{ps.id}/` once released.", ""]
    else:
        lines += ["This problem set is planned; the notebooks will appear in "
                  f"`exercises/{ps.id}/` once it is released.", ""]
    return lines


def write_problem_sets(root: Path, src: Path) -> list[str]:
    """Write src/problem_sets/<ps>.md for every problem set of the syllabus, copy released files; return ids."""
    pages = src / "problem_sets"
    pages.mkdir(parents=True, exist_ok=True)
    for ps in PROBLEM_SETS:
        (pages / f"{ps.id}.md").write_text("\n".join(_problem_set_page(Path(root), src, ps)), encoding="utf-8")
    return [ps.id for ps in PROBLEM_SETS]


def planned_lecture_notebook(lec: Lecture):
    """A one-cell notebook standing in for a lecture not written yet (links to its .ipynb resolve)."""
    import nbformat

    after = ", ".join(_lecture_link(lecture(p), "") for p in lec.prerequisites) or "nothing"
    text = (f"# Lecture {lec.number} — {lec.title}\n\n"
            "**Status:** planned. This lecture is not written yet; its notebook will appear "
            f"in `lectures/{lec.file}.ipynb`.\n\n**What it will cover.** {lec.summary}\n\n"
            f"**Builds on:** {after}.")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(text)])
    nb.cells[0].id = "planned"
    nb.metadata = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}}
    return nb


def write_planned_lectures(root: Path, src: Path, present: set[str] | None = None) -> list[str]:
    """Write src/lectures/<file>.ipynb for every lecture not written yet (nor in ``present``); return ids."""
    import nbformat

    present = set(present or ())
    written = []
    (src / "lectures").mkdir(parents=True, exist_ok=True)
    for lec in LECTURES:
        if lecture_status(lec, root) == "planned" and lec.file not in present:
            nbformat.write(planned_lecture_notebook(lec), src / "lectures" / f"{lec.file}.ipynb")
            written.append(lec.id)
    return written
