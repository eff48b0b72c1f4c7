"""Grade one submission in its own temporary working copy.

`grade_submission(job)` runs on a worker (a local pool process or a Dask
worker). A `Job` carries everything as data (`cnnlab.course.bundle`): the
student's notebooks and the grading course (config, clean gradebook,
release). The worker unpacks them into a private scratch folder and runs the
grading driver (`cnnlab.course.driver`: pre-checks, nbgrader's autograde with
the sandboxed kernel and the grader's verdicts, feedback) in a process of its
own, forked from the worker's long-lived driver (`cnnlab.course.zygote`),
that it kills as a whole when the wall-clock budget runs out. The kernel
runs in the sandbox of `cnnlab.course.sandbox`, confined to
``<scratch>/kernel``. The worker returns plain data (scores, status, reason,
the autograded notebook and the feedback HTML); it never touches the
course's gradebook.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

from cnnlab.course.bundle import released_names, unpack_course
from cnnlab.course.config import Limits, nbgrader_env

__all__ = ["Job", "grade_submission"]


@dataclass
class Job:
    """Everything a worker needs, as data (picklable; no path of the parent's machine)."""

    student: str
    assignment: str
    files: dict = field(default_factory=dict)  # {notebook name: bytes} (`bundle.read_submission`)
    course: bytes = b""  # `bundle.pack_course`: nbgrader_config.py, clean gradebook.db, the release
    limits: Limits = field(default_factory=Limits)
    secret: str = ""  # seeds the hidden cases (`cnnlab.course.verdicts.course_secret`); never in the sandbox
    others: list = field(default_factory=list)  # other notebooks the student handed in (for a rename hint)
    notes: list = field(default_factory=list)  # what the parent left out of the submission


def _result(job, status, reason, **kw):
    out = dict(student=job.student, assignment=job.assignment, status=status, reason=reason,
               score=0.0, max_score=kw.pop("max_score", 0.0), grades={}, notebooks={},
               feedback={}, seconds=0.0)
    out.update(kw)
    return out


def _max_score(template: Path, assignment: str) -> float:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{template / 'gradebook.db'}") as gb:
        return float(gb.find_assignment(assignment).max_score)


def grade_submission(job: Job) -> dict:
    """Grade ``job``; never raises. Returns a dict (see `_result`)."""
    start = time.monotonic()
    scratch = Path(tempfile.mkdtemp(prefix="cnnlab-grade-"))
    try:
        out = _grade(job, scratch)
    except Exception as exc:  # noqa: BLE001 - one submission must never stop the batch
        out = _result(job, "error", f"grader error: {exc.__class__.__name__}: {exc}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    out["seconds"] = round(time.monotonic() - start, 2)
    return out


def _grade(job: Job, scratch: Path) -> dict:
    template = unpack_course(job.course, scratch / "template")
    max_score = _max_score(template, job.assignment)
    expected = released_names(template, job.assignment)
    notes = list(job.notes)
    missing = [n for n in expected if n not in job.files]
    if missing:
        too_large = [n for n in notes if any(n.startswith(m + " ignored") for m in missing)]
        if too_large:
            return _result(job, "invalid", "; ".join(notes), max_score=max_score)
        hint = f"; found {', '.join(job.others)} instead (rename it to {missing[0]})" if job.others else ""
        return _result(job, "missing", f"no {', '.join(missing)} in the submission{hint}", max_score=max_score)
    course = scratch / "course"
    subdir = course / "submitted" / job.student / job.assignment
    subdir.mkdir(parents=True)
    for name in expected:
        (subdir / name).write_bytes(job.files[name])
    # note: the notebooks are parsed and scanned by the driver, under its time budget and a
    # memory limit, never here: a pathological notebook must not take the worker (and with it
    # every student queued behind) down
    # note: the kernel works in a folder of its own, apart from nbgrader's autograded/ (which
    # the unsandboxed grader writes): it holds only the released non-notebook files (data)
    released = template / "exercises" / job.assignment
    kernel_dir = scratch / "kernel"
    kernel_dir.mkdir()
    for path in released.rglob("*"):
        if path.is_file() and path.suffix != ".ipynb":
            dest = kernel_dir / path.relative_to(released)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, dest)
    shutil.copy2(template / "gradebook.db", course / "gradebook.db")
    (scratch / "run").mkdir()
    spec = dict(student=job.student, assignment=job.assignment, limits=asdict(job.limits), secret=job.secret,
                root=str(template), template=str(template), scratch=str(scratch), notebooks=expected)
    (scratch / "spec.json").write_text(json.dumps(spec))
    budget = job.limits.notebook_timeout * len(expected) + 90
    rc, log = _run_driver(scratch, budget)
    result_file = scratch / "result.json"
    if not result_file.exists():
        why = "timeout" if rc is None else "error"
        reason = (f"grading exceeded its {budget} s budget" if rc is None
                  else f"grader process failed (exit {rc}): {(log.strip().splitlines() or [''])[-1][:300]}")
        return _result(job, why, reason, max_score=max_score)
    res = json.loads(result_file.read_text())
    res.update(student=job.student, assignment=job.assignment)
    res["max_score"] = res.get("max_score") or max_score
    notes += res.pop("precheck_notes", [])
    if notes:
        res["notes"] = notes
        res["reason"] = "; ".join(notes + ([res["reason"]] if res["reason"] else []))
    return res


def _run_driver(scratch: Path, budget: int) -> tuple[int | None, str]:
    """Run the driver on ``scratch/spec.json``: (exit code or None when over budget, the log's end).

    Every cgroup the submission makes carries a prefix of its own, swept when the driver has
    ended, however it ended: on a remote worker too, no group outlives its submission.
    """
    from cnnlab.course.cgroup import PREFIX_ENV, sweep
    from cnnlab.course.zygote import run_driver

    prefix = f"{os.environ.get(PREFIX_ENV, 'cnnlab')}-{uuid.uuid4().hex[:6]}"
    env = nbgrader_env({"JUPYTER_RUNTIME_DIR": str(scratch / "run"), "PYTHONHASHSEED": "0", PREFIX_ENV: prefix})
    log = scratch / "driver.log"
    try:
        rc = run_driver(str(scratch / "spec.json"), str(scratch), env, str(log), budget)
    finally:
        sweep(prefix)
    text = log.read_bytes()[-20000:].decode("utf-8", "replace") if log.exists() else ""
    return rc, text
