"""``python -m cnnlab course validate psN NOTEBOOK``: a student's dry run of the autograder.

The notebook is checked and run the way `cnnlab.course.driver` grades it
(the same checks of the file, the release's test cells in place of the
student's copies, the same sandboxed kernel and time limits), except that
the test cells are the released ones: the visible checks only. It prints
which cells fail and why. Passing here does not promise the points: the
hidden tests run only when the course grades the notebook.
"""
from __future__ import annotations

import dataclasses
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from cnnlab.course.config import COURSE_ROOT, Limits

__all__ = ["validate", "main"]


def _visible_tests(nb, release) -> list[str]:
    """Put the release's test cells (visible checks only) in place of the student's; notes."""
    released = {c.metadata["nbgrader"]["grade_id"]: c for c in release.cells
                if c.metadata.get("nbgrader", {}).get("grade") and not c.metadata["nbgrader"].get("solution")}
    notes, seen = [], set()
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in released:
            seen.add(gid)
            if cell.source != released[gid].source:
                notes.append(f"{gid}: your edits to this test cell are ignored; the grader runs the original")
            cell.source = released[gid].source
    for gid in sorted(set(released) - seen):
        notes.append(f"{gid}: this test cell is missing; the grader puts it back (and runs it)")
    return notes


def validate(assignment: str, notebook: Path, limits: Limits = Limits(), root: Path = COURSE_ROOT) -> dict:
    """Run ``notebook`` against the visible tests of ``assignment``.

    Returns {"problem": str | None, "notes": [...], "failed": [...], "passed": [...],
    "broken": str | None} (``failed``: "grade_id: reason" of each failing test
    cell, and failing setup cells).
    """
    import nbformat

    from cnnlab.course.cells import DropTestResults
    from cnnlab.course.driver import _driver_config, _failures
    from cnnlab.course.precheck import check_notebook
    from cnnlab.course.sandbox import SandboxExecute, bwrap_path
    from cnnlab.course.tamper import find_tampering

    root = Path(root)
    release_path = root / "exercises" / assignment / f"{assignment}.ipynb"
    if not release_path.is_file():
        raise SystemExit(f"no release {release_path}: run `python -m cnnlab course release {assignment}`")
    if limits.sandbox != "none" and bwrap_path() is None:
        limits = dataclasses.replace(limits, sandbox="none")
    out = {"problem": None, "notes": [], "failed": [], "passed": [], "broken": None, "cells": []}
    scratch = Path(tempfile.mkdtemp(prefix="cnnlab-validate-"))
    try:
        path = scratch / Path(notebook).name
        shutil.copyfile(notebook, path)
        release_text = release_path.read_text(encoding="utf-8")
        problem, notes = check_notebook(path, json.loads(release_text))
        out["notes"] += notes
        if problem:
            out["problem"] = problem
            return out
        nb = nbformat.read(path, as_version=4)
        tampering = find_tampering(json.loads(path.read_text(encoding="utf-8")))
        if tampering:
            out["problem"] = f"the grader would not run this notebook: it rewrites the grader's libraries ({tampering[0]})"
            return out
        out["notes"] += _visible_tests(nb, nbformat.reads(release_text, as_version=4))
        (scratch / "kernel").mkdir()
        (scratch / "run").mkdir()
        for extra in release_path.parent.rglob("*"):  # the released data files, as the grader provides them
            if extra.is_file() and extra.suffix != ".ipynb":
                dest = scratch / "kernel" / extra.relative_to(release_path.parent)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(extra, dest)
        spec = dict(limits=dataclasses.asdict(limits), scratch=str(scratch), root=str(root),
                    student="you", assignment=assignment)
        config = _driver_config(spec)
        with open(scratch / "kernel.log", "wb") as log:
            sys.stdout.flush()
            sys.stderr.flush()
            saved = [os.dup(1), os.dup(2)]
            for fd in (1, 2):  # note: the kernel inherits both; its start-up chatter is noise here
                os.dup2(log.fileno(), fd)
            try:
                SandboxExecute(config=config).preprocess(nb, {"metadata": {"path": str(scratch / "kernel")}})
            finally:
                for fd, old in zip((1, 2), saved):
                    os.dup2(old, fd)
                    os.close(old)
        DropTestResults().preprocess(nb, {})
        failed, _, out["broken"] = _failures(nb)
        out["failed"] = [f for f in failed if f.startswith("setup cell")]  # a failing setup explains the rest
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if not (meta.get("grade") and cell.cell_type == "code"):
                continue
            errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
            if not errors:
                out["passed"].append(meta["grade_id"])
                out["cells"].append(f"  ok    {meta['grade_id']}")
            elif errors[-1].get("ename") != "CellNotRun":
                lines = [ln.strip() for ln in str(errors[-1].get("evalue", "")).splitlines() if ln.strip()]
                out["failed"].append(f"{meta['grade_id']}: {errors[-1].get('ename')}: " + "\n        ".join(lines[:4]))
                out["cells"].append(f"  FAIL  {out['failed'][-1]}")
        return out
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def main(assignment: str, notebook: Path, limits: Limits = Limits(), root: Path = COURSE_ROOT) -> int:
    """Print the report; exit status 1 when a cell fails or the notebook cannot be graded."""
    notebook = Path(notebook)
    if not notebook.is_file():
        print(f"no notebook {notebook}", file=sys.stderr)
        return 2
    print(f"running {notebook} as the grader would (visible tests only; cells {limits.cell_timeout} s, "
          f"notebook {limits.notebook_timeout} s) ...", flush=True)
    res = validate(assignment, notebook, limits, root)
    for note in res["notes"]:
        print(f"note: {note}")
    if res["problem"]:
        print(f"NOT GRADABLE: {res['problem']}")
        return 1
    for line in res["failed"]:
        if line.startswith("setup cell"):
            print(f"  FAIL  {line}")
    for line in res["cells"]:
        print(line)
    if res["broken"]:
        print(f"  cells not run: {res['broken']}")
    if res["failed"] or res["broken"]:
        print(f"{len(res['failed'])} cell(s) fail: fix them before you submit.")
        return 1
    print("every visible test passes. The hidden tests run when the course grades your notebook.")
    return 0
