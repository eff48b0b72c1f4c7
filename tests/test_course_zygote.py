"""The long-lived driver (`cnnlab.course.zygote`) and self-contained jobs (`cnnlab.course.bundle`).

A worker grades each submission in a process forked from its zygote; these
tests check that the result is the one a fresh driver gives, that a budget
overrun kills the submission's whole session and leaves the zygote usable,
that a dead zygote is replaced, and that a job needs no file of the parent.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import nbformat
import pytest

from cnnlab.course.bundle import pack_course, read_submission, unpack_course
from cnnlab.course.config import COURSE_ROOT, Limits
from cnnlab.course.demo import expected_scores, student_notebook, students

pytestmark = [pytest.mark.ps1, pytest.mark.filterwarnings("ignore:Non-unique cell id")]
EXPECTED = expected_scores("ps1")
MISTAKES = {s.name: s.answers for s in students("ps1")}
LIMITS = Limits(cell_timeout=25, notebook_timeout=150, memory_mb=2048)


@pytest.fixture(scope="module", autouse=True)
def one_release(release_template):
    yield from release_template.patch("cnnlab.course.autograde.release_into")


@pytest.fixture(scope="module")
def jobs(tmp_path_factory, release_template):
    """Jobs for three demo students and one that never ends, built from a scratch course."""
    from cnnlab.course.autograde import build_jobs

    root = release_template.copy(tmp_path_factory.mktemp("course"), ["ps1"])
    subs = tmp_path_factory.mktemp("subs")
    spin = student_notebook("ps1")
    spin.cells.insert(1, nbformat.v4.new_code_cell("import os\nos.setsid()\nwhile True:\n    pass"))
    class_ = {"full_solution": student_notebook("ps1"), "kernel_flipped": student_notebook("ps1", MISTAKES["kernel_flipped"]),
              "blank_release": student_notebook("ps1", blank=True), "spinner": spin}
    for sid, nb in class_.items():
        (subs / sid / "ps1").mkdir(parents=True)
        nbformat.write(nb, subs / sid / "ps1" / "ps1.ipynb")
    built = build_jobs("ps1", subs, tmp_path_factory.mktemp("scratch"), root=root, limits=LIMITS)
    return {job.student: job for job in built}


def test_read_submission_reads_only_the_expected_notebooks(tmp_path):
    src = tmp_path / "ann"
    src.mkdir()
    (src / "ps1.ipynb").write_text("{}")
    (src / "ps1-old.ipynb").write_text("{}")
    (src / "sitecustomize.py").write_text("import os")
    (src / "answers.ipynb").symlink_to(COURSE_ROOT / "solutions" / "ps1" / "ps1.ipynb")
    files, others, notes = read_submission(src, ["ps1.ipynb"])
    assert files == {"ps1.ipynb": b"{}"}
    assert others == ["ps1-old.ipynb"]
    assert notes == ["symbolic link answers.ipynb ignored", "2 file(s) besides the notebooks ignored"]
    files, _, notes = read_submission(src, ["ps1.ipynb"], max_bytes=1)
    assert files == {} and "ps1.ipynb ignored (larger than 0 MB)" in notes


def test_pack_course_leaves_out_the_solutions(jobs, tmp_path):
    course = unpack_course(jobs["full_solution"].course, tmp_path / "c")
    names = sorted(str(p.relative_to(course)) for p in course.rglob("*") if p.is_file())
    assert names == ["exercises/ps1/ps1.ipynb", "gradebook.db", "nbgrader_config.py"]


def test_pack_course_round_trip(tmp_path):
    (tmp_path / "t" / "exercises" / "ps9" / "data").mkdir(parents=True)
    for rel in ("nbgrader_config.py", "gradebook.db", "exercises/ps9/ps9.ipynb", "exercises/ps9/data/x.npy"):
        (tmp_path / "t" / rel).write_text(rel)
    out = unpack_course(pack_course(tmp_path / "t", "ps9"), tmp_path / "u")
    assert (out / "exercises/ps9/data/x.npy").read_text() == "exercises/ps9/data/x.npy"


@pytest.mark.slow
def test_job_needs_no_file_of_the_parent(jobs, tmp_path):
    """A job graded in a fresh interpreter that cannot see the course (as on a remote worker)."""
    import pickle

    job = jobs["kernel_flipped"]
    (tmp_path / "job.pkl").write_bytes(pickle.dumps(job))
    code = ("import pickle, sys, json; from cnnlab.course.grade_one import grade_submission; "
            "r = grade_submission(pickle.load(open('job.pkl', 'rb'))); "
            "print(json.dumps([r['status'], r['score'], r['reason']]))")
    env = dict(os.environ, CNNLAB_COURSE_ROOT=str(tmp_path / "no-such-course"))
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=600)
    status, score, reason = json.loads(out.stdout.strip().splitlines()[-1])
    assert (status, score) == ("graded", EXPECTED["kernel_flipped"]), reason


@pytest.mark.slow
def test_forked_driver_grades_like_a_fresh_one(jobs, monkeypatch):
    from cnnlab.course.grade_one import grade_submission
    from cnnlab.course.zygote import FRESH_ENV

    forked = {sid: grade_submission(jobs[sid]) for sid in ("full_solution", "blank_release")}
    monkeypatch.setenv(FRESH_ENV, "1")
    fresh = {sid: grade_submission(jobs[sid]) for sid in ("full_solution", "blank_release")}
    for sid in forked:
        assert forked[sid]["score"] == fresh[sid]["score"] == EXPECTED[sid]
        assert forked[sid]["grades"] == fresh[sid]["grades"]
        assert forked[sid]["reason"] == fresh[sid]["reason"]


def _session_alive(pid: int) -> bool:
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.getsid(int(entry)) == pid:
                    return True
            except OSError:
                pass
    return False


def _processes_mentioning(text: str) -> list[str]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                cmd = open(f"/proc/{entry}/cmdline", "rb").read().replace(b"\0", b" ").decode(errors="replace")
                env = open(f"/proc/{entry}/environ", "rb").read().decode(errors="replace")
            except OSError:
                continue
            if text in cmd or text in env:
                found.append(cmd)
    return found


@pytest.mark.slow
def test_budget_kills_the_whole_session_and_the_zygote_goes_on(jobs, monkeypatch):
    """Over budget, the submission's driver session (and the kernel under it) dies; the next one is graded."""
    import cnnlab.course.zygote as zy
    from cnnlab.course.grade_one import grade_submission

    real_run, real_line, pids, scratch = zy.Zygote.run, zy.Zygote._line, [], []

    def short(self, spec, cwd, env, log, budget):
        scratch.append(cwd)
        return real_run(self, spec, cwd, env, log, 12.0)

    def line(self, timeout):
        msg = real_line(self, timeout)
        if msg and "pid" in msg:
            pids.append(msg["pid"])
        return msg

    monkeypatch.setattr(zy.Zygote, "run", short)
    monkeypatch.setattr(zy.Zygote, "_line", line)
    res = grade_submission(jobs["spinner"])
    assert res["status"] == "timeout" and "budget" in res["reason"], res
    assert pids and not _session_alive(pids[-1]), "the killed submission's session left processes behind"
    time.sleep(1)
    assert not _processes_mentioning(scratch[-1]), "the kernel (in a session of its own) outlived the budget"
    zygote = zy._local.zygote
    assert zygote.alive()
    res = grade_submission(jobs["full_solution"])
    assert (res["status"], res["score"]) == ("graded", EXPECTED["full_solution"]), res["reason"]
    assert zy._local.zygote is zygote, "the zygote was replaced although it was fine"


@pytest.mark.slow
def test_dead_zygote_is_replaced(jobs):
    import cnnlab.course.zygote as zy
    from cnnlab.course.grade_one import grade_submission

    first = grade_submission(jobs["blank_release"])
    zygote = zy._local.zygote
    os.kill(zygote._proc.pid, signal.SIGKILL)
    time.sleep(0.2)
    res = grade_submission(jobs["full_solution"])
    assert (first["score"], res["score"]) == (EXPECTED["blank_release"], EXPECTED["full_solution"]), res["reason"]
    assert zygote.alive() and zygote._proc.pid != 0
