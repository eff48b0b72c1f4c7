"""Autograde a class: collect submissions, grade them in parallel, record.

Workers run `cnnlab.course.grade_one.grade_submission` through any
`concurrent.futures.Executor` (a `ProcessPoolExecutor` by default, or Dask
workers: `cnnlab.course.dask_executor`). A job carries the student's
notebooks and the grading course as bytes (`cnnlab.course.bundle`), so a
worker needs only the installed package. Only this parent process writes
the course: the gradebook (through nbgrader's `Gradebook` API),
``autograded/``, ``feedback/`` and ``grades.csv``. Submissions are found by
`cnnlab.course.collect`.
"""
from __future__ import annotations

import csv
import dataclasses
import json
import os
import shutil
import sys
import tempfile
import uuid
import warnings
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from cnnlab.course.bundle import pack_course, read_submission, released_names
from cnnlab.course.collect import collect_submissions
from cnnlab.course.config import COURSE_ROOT, Limits
from cnnlab.course.grade_one import Job, grade_submission
from cnnlab.course.release import release, release_into
from cnnlab.course.sandbox import bwrap_path

__all__ = ["collect_submissions", "build_jobs", "autograde", "format_table", "SANDBOX_WARNING"]

SANDBOX_WARNING = ("WARNING: bubblewrap (bwrap) is not installed or cannot create namespaces here: "
                   "student code runs WITHOUT the "
                   "sandbox (it can read the course folder and use the network); only resource "
                   "limits apply. Install it with `apt-get install bubblewrap`.")
def build_jobs(assignment: str, submissions: Path, scratch: Path, *, root: Path = COURSE_ROOT,
               limits: Limits = Limits(), students: list[str] | None = None) -> list[Job]:
    """One `Job` per student (sorted by id), each carrying everything a worker needs as data.

    ``scratch`` receives the fresh release (the grading course) and unpacked
    archives; ``students`` selects ids as collected (`regrade.select_students`).
    """
    from cnnlab.course.verdicts import course_secret

    template = release_into(Path(scratch) / "template", [assignment], root)
    subs = collect_submissions(Path(submissions), assignment, scratch)
    if students is not None:
        from cnnlab.course.regrade import select_students

        subs = select_students(subs, students)
    secret = course_secret(root)
    course = pack_course(template, assignment)  # note: one bytes object, shared by every job
    expected = released_names(template, assignment)
    jobs = []
    for sid, path in sorted(subs.items()):
        files, others, notes = read_submission(path, expected)
        jobs.append(Job(sid, assignment, files, course, limits, secret, others, notes))
    return jobs


def _ensure_release(root: Path, assignment: str) -> None:
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        try:
            gb.find_assignment(assignment)
            return
        except MissingEntry:
            pass
    release([assignment], root)


def _record(root: Path, res: dict) -> None:
    """Write one student's result into the course (parent only)."""
    from nbgrader.api import Gradebook, MissingEntry

    sid, a = res["student"], res["assignment"]
    with warnings.catch_warnings(), Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        warnings.simplefilter("ignore")  # SQLAlchemy's autoflush notes from nbgrader's add_submission
        gb.update_or_create_student(sid)
        try:
            sub = gb.find_submission(a, sid)
        except MissingEntry:
            sub = gb.add_submission(a, sid)
        for snb in sub.notebooks:
            scores = res["grades"].get(snb.name, {})
            for grade in snb.grades:
                got = scores.get(grade.name)
                grade.auto_score = float(got[0]) if got else 0.0
                grade.manual_score = None
                grade.needs_manual_grade = False
        gb.db.commit()
        res["max_score"] = res["max_score"] or float(sub.max_score)
    verdicts = res.get("verdicts")
    for kind, items in (("autograded", res["notebooks"]), ("feedback", res["feedback"])):
        folder = root / kind / sid / a
        if folder.exists():
            shutil.rmtree(folder)
        for name, text in items.items():
            folder.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(text, encoding="utf-8")
        if kind == "autograded" and verdicts is not None:
            # note: the grader's own records (cell, exercise, passed, mistake key, message), for reports
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "verdicts.json").write_text(json.dumps(verdicts, indent=1), encoding="utf-8")


def format_table(results: list[dict]) -> str:
    """The grade table: student, score, max, status, reason."""
    rows = [("student", "score", "max", "status", "reason")]
    for r in results:
        text = r.get("summary") or r["reason"]
        if r.get("notes"):
            text = "; ".join(r["notes"] + [text])
        reason = text if len(text) <= 120 else text[:117] + "..."
        rows.append((r["student"], f"{r['score']:g}", f"{r['max_score']:g}", r["status"], reason))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = []
    for i, row in enumerate(rows):
        lines.append("  ".join(c.ljust(w) if j in (0, 3) else c.rjust(w)
                               for j, (c, w) in enumerate(zip(row[:4], widths))) + "  " + row[4])
        if i == 0:
            lines.append("-" * (sum(widths) + 8 + 40))
    return "\n".join(lines)


def _write_csv(path: Path, results: list[dict]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["student", "assignment", "score", "max_score", "status", "reason"])
        for r in results:
            w.writerow([r["student"], r["assignment"], f"{r['score']:g}", f"{r['max_score']:g}",
                        r["status"], r["reason"]])


def _crash_result(job: Job, why: str) -> dict:
    return dict(student=job.student, assignment=job.assignment, status="error", reason=why, score=0.0,
                max_score=0.0, grades={}, notebooks={}, feedback={}, seconds=0.0)


def _run_on(executor: Executor, jobs: list[Job], done) -> None:
    """Grade ``jobs`` on a caller's executor; a job whose worker crashed is an error result."""
    futures = {executor.submit(grade_submission, job): job for job in jobs}
    for fut in as_completed(futures):
        try:
            res = fut.result()
        except Exception as exc:  # noqa: BLE001 - a crashed worker fails one student only
            res = _crash_result(futures[fut], f"worker crashed: {exc.__class__.__name__}: {exc}")
        done(res)


def _run_pooled(jobs: list[Job], workers: int, done, attempts: int = 2) -> None:
    """Grade ``jobs`` in a process pool that is rebuilt when a worker dies.

    When a worker process dies, every unfinished job of that pool fails with
    BrokenProcessPool, most of them innocent. They are graded again, each in a
    pool of its own, so the one that kills its worker fails alone (after
    ``attempts`` tries) and nobody else gets a zero for it.
    """
    pending, tries = list(jobs), {id(j): 0 for j in jobs}
    alone = False
    while pending:
        groups = [[j] for j in pending] if alone else [pending]
        pending = []
        for group in groups:
            pool = ProcessPoolExecutor(max_workers=1 if alone else max(1, workers))
            try:
                futures = {pool.submit(grade_submission, job): job for job in group}
                for fut in as_completed(futures):
                    job = futures[fut]
                    try:
                        done(fut.result())
                    except BrokenProcessPool:
                        tries[id(job)] += 1
                        if tries[id(job)] >= attempts:
                            done(_crash_result(job, f"the grading worker died {tries[id(job)]} times while "
                                               "grading this submission (it may exhaust the machine's memory)"))
                        else:
                            pending.append(job)
                    except Exception as exc:  # noqa: BLE001 - a crashed worker fails one student only
                        done(_crash_result(job, f"worker crashed: {exc.__class__.__name__}: {exc}"))
            finally:
                pool.shutdown(wait=True, cancel_futures=True)
        alone = True


def _sweep_cgroups(prefix: str, old_prefix: str | None) -> None:
    from cnnlab.course.cgroup import PREFIX_ENV, sweep

    try:
        sweep(prefix)
    finally:
        if old_prefix is None:
            os.environ.pop(PREFIX_ENV, None)
        else:
            os.environ[PREFIX_ENV] = old_prefix


def autograde(assignment: str, submissions: Path, *, root: Path = COURSE_ROOT, workers: int = 2,
              limits: Limits = Limits(), executor: Executor | None = None, progress: bool = True,
              csv_path: Path | None = None, students: list[str] | None = None) -> list[dict]:
    """Grade every submission of ``assignment`` under ``submissions``.

    Returns one result dict per student (sorted by student id), after
    recording them in the gradebook, autograded/, feedback/ and the CSV
    (default ``<root>/grades.csv``). With ``students`` (ids as collected),
    only those are graded; everyone else's records stay as they are and
    their CSV rows are kept (`cnnlab.course.regrade.update_csv`).
    """
    from tqdm.auto import tqdm

    root = Path(root)
    if limits.sandbox != "none" and bwrap_path() is None:
        if limits.sandbox == "bwrap":
            raise SystemExit("bubblewrap is required (--sandbox bwrap) but not installed")
        print(SANDBOX_WARNING, file=sys.stderr)
        limits = dataclasses.replace(limits, sandbox="none")
    _ensure_release(root, assignment)
    # note: every cgroup of this batch carries its id, so leftovers of a killed grader are swept
    from cnnlab.course.cgroup import PREFIX_ENV

    old_prefix = os.environ.get(PREFIX_ENV)
    prefix = os.environ[PREFIX_ENV] = f"{old_prefix or 'cnnlab'}-{uuid.uuid4().hex[:8]}"
    scratch = Path(tempfile.mkdtemp(prefix="cnnlab-autograde-"))
    own_executor = executor is None
    try:  # note: the pools are made and shut down in _run_pooled; a caller's executor stays the caller's
        jobs = build_jobs(assignment, Path(submissions), scratch, root=root, limits=limits, students=students)
        bar = tqdm(total=len(jobs), desc=f"grading {assignment}", unit="sub", disable=not progress)
        results = []

        def done(res):
            try:
                _record(root, res)
            except Exception as exc:  # noqa: BLE001 - one unrecordable result must not stop the batch
                res.update(status="error", score=0.0,
                           reason=f"could not record the result: {exc.__class__.__name__}: {exc}; " + res["reason"])
            results.append(res)
            bar.set_postfix_str(f"{res['student']}: {res['score']:g}/{res['max_score']:g}")
            bar.update()

        if own_executor:
            _run_pooled(jobs, workers, done)
        else:
            _run_on(executor, jobs, done)
        bar.close()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        _sweep_cgroups(prefix, old_prefix)
    results.sort(key=lambda r: r["student"])
    if students is not None:
        from cnnlab.course.regrade import update_csv

        update_csv(Path(csv_path) if csv_path else root / "grades.csv", results, _write_csv)
    else:
        _write_csv(Path(csv_path) if csv_path else root / "grades.csv", results)
    return results
