"""Nothing a submission does reaches another student, and every reason is true.

One small batch (two workers) mixes honest students with hostile ones: forked
children that call ``setsid()`` and spin, signals a kernel sends itself
(SIGKILL, SIGXCPU, SIGSTOP), a flood of cells that each print a lot, a huge
code cell, a failing ordinary cell after the tests. The honest students must
get the score they get when graded alone, the hostile ones a true reason, and
nothing (process, cgroup, scratch folder) may outlive the batch.
"""
from __future__ import annotations

import glob
import os
import re
import shutil
import tempfile
import time
import uuid
from pathlib import Path

import nbformat
import pytest

from cnnlab.course.cgroup import PREFIX_ENV, SubmissionCgroup, available
from cnnlab.course.config import COURSE_ROOT, Limits
from cnnlab.course.sandbox import bwrap_path

pytestmark = [pytest.mark.ps1, pytest.mark.slow]
TOKEN = uuid.uuid4().hex[:6]
LIMITS = Limits(cell_timeout=30, notebook_timeout=240, memory_mb=1024)
HAVE_CGROUP = available()
HAVE_BWRAP = bwrap_path() is not None
FULL = 13.0


def _points_without_checks() -> float:
    """Points of ps1's test cells that call no grader check (they score on the kernel's word)."""
    from cnnlab.course.verdicts import expected_checks

    nb = nbformat.read(COURSE_ROOT / "solutions" / "ps1" / "ps1.ipynb", as_version=4)
    return float(sum(c.metadata["nbgrader"].get("points", 0) for c in nb.cells
                     if c.metadata.get("nbgrader", {}).get("grade") and not expected_checks(c.source)))


PARAMS_ONLY = _points_without_checks()


def _strip(src: str) -> str:
    return "\n".join(ln for ln in src.splitlines() if not re.match(r"\s*### (BEGIN|END) SOLUTION", ln))


def _solved(_only=False, **replace) -> nbformat.NotebookNode:
    """The released ps1 with every answer cell filled from the source, after the code in ``replace``
    (instead of the source's answer with ``_only``)."""
    released = nbformat.read(COURSE_ROOT / "exercises" / "ps1" / "ps1.ipynb", as_version=4)
    source = nbformat.read(COURSE_ROOT / "solutions" / "ps1" / "ps1.ipynb", as_version=4)
    answers = {c.metadata["nbgrader"]["grade_id"]: _strip(c.source) for c in source.cells
               if c.metadata.get("nbgrader", {}).get("solution")}
    for cell in released.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in answers:
            if _only and gid in replace:
                cell.source = replace[gid]
            else:
                cell.source = replace.get(gid, "") + ("\n\n" if gid in replace else "") + answers[gid]
    return released


SPINNERS = f"""
import ctypes, os
for _ in range(30):  # children that leave the process group and spin: only a cgroup holds them
    if os.fork() == 0:
        os.setsid()
        ctypes.CDLL(None).prctl(15, b"cnnspin{TOKEN}", 0, 0, 0)  # PR_SET_NAME, to find leftovers
        while True:
            pass
"""
SELF_KILL = "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"
SELF_XCPU = "import os, signal\nos.kill(os.getpid(), signal.SIGXCPU)"
SELF_STOP = "import os, signal\nos.kill(os.getpid(), signal.SIGSTOP)"


def _flood():
    nb = _solved()
    for i in range(60):  # 60 cells x 100 kB, each under the per-cell cap, together over the notebook's
        nb.cells.append(nbformat.v4.new_code_cell(f"print('{i}' + 'x' * 100_000)"))
    return nb


def _trailing_error():
    nb = _solved()
    nb.cells.append(nbformat.v4.new_code_cell("raise RuntimeError('scratch work left at the end')"))
    return nb


def _huge_cell():
    # note: 3 MB of source: Python's parser would need GBs for such code; it is refused unparsed
    return _solved(params_solution="_x = [" + "1, " * 1_000_000 + "]")


def _stubbed(**replace):
    """Every answer a stub (the blank release), with ``replace`` code put before some answer cells' stubs."""
    released = nbformat.read(COURSE_ROOT / "exercises" / "ps1" / "ps1.ipynb", as_version=4)
    for cell in released.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in replace:
            cell.source = replace[gid] + "\n\n" + cell.source
    return released


FLIPPED = ("def corr2d(x, k):\n    from numpy.lib.stride_tricks import sliding_window_view\n"
           "    return np.einsum('ijuv,uv->ij', sliding_window_view(np.asarray(x, float), k.shape), k[::-1, ::-1])")
WRAP = """
import ast as _ast
class _Wrap(_ast.NodeTransformer):  # wraps every later cell in try/except: failing tests "pass"
    def visit_Module(self, node):
        handler = _ast.ExceptHandler(type=None, name=None, body=[_ast.Pass()])
        return _ast.fix_missing_locations(_ast.Module(body=[_ast.Try(body=node.body or [_ast.Pass()],
            handlers=[handler], orelse=[], finalbody=[])], type_ignores=[]))
get_ipython().ast_transformers.append(_Wrap())
"""
INPUT_WRAP = """
def _wrap(lines):
    return ["try:\\n"] + ["    " + ln for ln in lines] + ["\\n    pass\\nexcept BaseException:\\n    pass\\n"]
get_ipython().input_transformers_post.append(_wrap)
"""
PATCH_CLASS = """
from cnnlab.grading import check as _c
type(_c('conv_output_size', lambda *a: 1)).raise_if_failed = lambda self: None
"""
PATCH_GETATTR = """
import cnnlab
class _Ok:
    passed = True
    def raise_if_failed(self):
        pass
_g = getattr(cnnlab, 'grading')
_g.check = lambda *a, **k: _Ok()
"""
PRINT_IN = """
from numpy.lib.stride_tricks import sliding_window_view
def corr2d(x, k):
    try:
        print(get_ipython().user_ns['In'][-1])  # the calling cell: the hidden tests
    except Exception:
        pass
    return np.einsum('ijuv,uv->ij', sliding_window_view(np.asarray(x, float), k.shape), k)
"""
SHIM = "import numpy as np\nnp.float = float  # an old compatibility shim"


def _print_in_later():
    nb = _solved()
    nb.cells.append(nbformat.v4.new_code_cell("print(In[-2])\nprint(In)"))
    return nb


# student -> (notebook, expected score, status, words in the reason)
BATCH = {
    "honest_a": (_solved, FULL, "graded", ["all tests passed"]),
    "honest_b": (_solved, FULL, "graded", ["all tests passed"]),
    "self_sigkill": (lambda: _solved(conv1d_solution=SELF_KILL), 9.0, "kernel died",
                     ["'conv1d_solution'", "no grader limit was reached", "kernel's own code"]),
    "self_sigxcpu": (lambda: _solved(conv1d_solution=SELF_XCPU), 9.0, "kernel died",
                     ["SIGXCPU", "before its", "kernel's own code"]),
    "self_sigstop": (lambda: _solved(conv1d_solution=SELF_STOP), 9.0, "stuck",
                     ["'conv1d_solution'", "was stopped (SIGSTOP"]),
    "trailing_error": (_trailing_error, FULL, "graded", ["code cell", "RuntimeError"]),
    "output_flood": (_flood, FULL, "graded", ["all tests passed"]),
    "huge_cell": (_huge_cell, 0.0, "invalid", ["MB of code, more than the 2 MB"]),
    # attacks on what test cells report: the grader's records decide, whatever the kernel shows
    "ast_transformer": (lambda: _stubbed(corr2d_solution=WRAP), PARAMS_ONLY, "graded",
                        ["test_corr2d", "raised NotImplementedError"]),
    "input_transformer": (lambda: _stubbed(corr2d_solution=INPUT_WRAP), PARAMS_ONLY, "graded",
                          ["test_corr2d", "raised NotImplementedError"]),
    "patched_result_class": (lambda: _solved(True, corr2d_solution=PATCH_CLASS + "\n" + FLIPPED), FULL - 2,
                             "graded", ["test_corr2d", "flipped"]),
    "patched_check": (lambda: _solved(corr2d_solution=PATCH_GETATTR), PARAMS_ONLY, "graded",
                      ["never reported to the grader"]),
    "prints_hidden_tests": (lambda: _solved(corr2d_solution=PRINT_IN), FULL, "graded", ["all tests passed"]),
    "prints_in_later_cell": (_print_in_later, FULL, "graded", ["all tests passed"]),
    "compat_shim": (lambda: _solved(corr2d_solution=SHIM), FULL, "graded", ["all tests passed"]),
}
if HAVE_CGROUP:  # note: without a cgroup nothing confines their CPU: they would slow everyone
    # note: the spinners share their kernel's one CPU: the kernel starves, which harms this student only
    # (its own score depends on how the machine schedules it: not asserted, only its isolation)
    BATCH["setsid_spinners"] = (lambda: _solved(corr2d_solution=SPINNERS), None, None, [])


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = tmp_path_factory.mktemp("course")
    shutil.copy2(COURSE_ROOT / "nbgrader_config.py", root)
    shutil.copytree(COURSE_ROOT / "solutions" / "ps1", root / "solutions" / "ps1")
    shutil.copytree(COURSE_ROOT / "exercises" / "ps1", root / "exercises" / "ps1")
    return root


@pytest.fixture(scope="module")
def graded(course, tmp_path_factory):
    from cnnlab.course.autograde import autograde

    subs = tmp_path_factory.mktemp("subs")
    for sid, (build, *_rest) in BATCH.items():
        (subs / sid / "ps1").mkdir(parents=True)
        nbformat.write(build(), subs / sid / "ps1" / "ps1.ipynb")
    # note: a private temporary folder, so that leftovers are this batch's (other runs may share /tmp)
    tmp = tmp_path_factory.mktemp("tmp")
    old_env, old_tempdir = os.environ.get("TMPDIR"), tempfile.tempdir
    os.environ["TMPDIR"], tempfile.tempdir = str(tmp), None
    os.environ[PREFIX_ENV] = f"cnnlab-t{TOKEN}"  # this batch's cgroups, told apart from other runs'
    try:
        results = autograde("ps1", subs, root=course, workers=2, limits=LIMITS, progress=False)
    finally:
        tempfile.tempdir = old_tempdir
        os.environ.pop(PREFIX_ENV, None)
        if old_env is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = old_env
    return {r["student"]: r for r in results}, sorted(str(p) for p in tmp.iterdir())


@pytest.mark.parametrize("sid", sorted(BATCH))
def test_isolation_batch(graded, sid):
    results, _ = graded
    _build, score, status, words = BATCH[sid]
    res = results[sid]
    if score is None:  # the spinners: stuck (and saying why) or graded, never an error
        assert res["status"] in ("graded", "stuck"), res["reason"]
        if res["status"] == "stuck":
            assert "processes it started" in res["reason"], res["reason"]
        return
    assert (res["score"], res["status"]) == (score, status), f"{sid}: {res['status']}: {res['reason']}"
    for word in words:
        assert word in res["reason"], f"{sid}: {word!r} not in {res['reason']!r}"


def test_isolation_trailing_cell_is_not_called_setup(graded):
    assert "setup cell" not in graded[0]["trailing_error"]["reason"]


def test_isolation_notebook_output_budget(graded):
    res = graded[0]["output_flood"]
    text = res["notebooks"]["ps1.ipynb"]
    assert len(text) < 3_000_000, len(text)
    assert "the notebook's outputs passed" in text
    assert len(res["feedback"]["ps1.html"]) < 4_000_000


def test_isolation_nothing_outlives_the_batch(graded):
    new_scratch = [p for p in graded[1] if os.path.basename(p).startswith("cnnlab-")]
    assert not new_scratch, f"scratch folders left behind: {sorted(new_scratch)}"
    time.sleep(0.5)
    spinning = [p for p in glob.glob("/proc/[0-9]*/comm")
                if _read(p).startswith(f"cnnspin{TOKEN}")]
    assert not spinning, f"{len(spinning)} forked children of a kernel outlived the batch"
    if HAVE_CGROUP:
        left = [d for d in glob.glob("/sys/fs/cgroup/*/**/cnnlab-*", recursive=True) if os.path.isdir(d)]
        mine = [d for d in left if os.path.basename(d).startswith(f"cnnlab-t{TOKEN}")]
        assert not mine, mine


def _read(path):
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def test_isolation_honest_scores_as_if_alone(graded, course, tmp_path):
    """One honest student graded alone gets exactly what it got beside the hostile ones."""
    from cnnlab.course.autograde import autograde

    (tmp_path / "alone" / "honest_a" / "ps1").mkdir(parents=True)
    nbformat.write(_solved(), tmp_path / "alone" / "honest_a" / "ps1" / "ps1.ipynb")
    (alone,) = autograde("ps1", tmp_path / "alone", root=course, workers=1, limits=LIMITS, progress=False)
    beside = graded[0]["honest_a"]
    assert (alone["score"], alone["status"], alone["grades"]) == (beside["score"], beside["status"], beside["grades"])


# ------------------------------------------------------------------ no kernels: fast
@pytest.mark.skipif(not HAVE_CGROUP, reason="cannot create cgroups here (not root, or none mounted)")
def test_cgroup_holds_setsid_children_and_kills_them():
    import subprocess

    group = SubmissionCgroup.create(256, 32)
    try:
        code = "import os, time\nfor _ in range(3):\n    if os.fork() == 0:\n        os.setsid()\n        time.sleep(60)\ntime.sleep(60)"
        proc = subprocess.Popen(group.join_command(["python3", "-c", code]))
        deadline = time.monotonic() + 10
        while len(group.pids()) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(group.pids()) == 4
        group.kill_all()
        assert group.pids() == []
        proc.wait(5)
    finally:
        group.remove()
    assert not any(os.path.exists(d) for d in group.dirs.values())


@pytest.mark.skipif(not HAVE_CGROUP, reason="cannot create cgroups here (not root, or none mounted)")
def test_cgroup_memory_limit_is_seen():
    import subprocess

    group = SubmissionCgroup.create(128, 16)
    try:
        hog = "a = []\nwhile True:\n    a.append(bytearray(8 << 20))"
        rc = subprocess.run(group.join_command(["python3", "-c", hog]), timeout=60).returncode
        assert rc == -9 and group.hit_memory_limit()
    finally:
        group.remove()


def test_death_cause_names_only_what_the_evidence_shows():
    import signal

    from cnnlab.course.sandbox import death_cause

    class Dog:
        reason, cpu_used, peak_mb = None, 2.0, 100

    assert "no grader limit" in death_cause(signal.SIGKILL, None, 60, Dog())
    assert "kernel's own code" in death_cause(signal.SIGXCPU, None, 60, Dog())
    dog = Dog()
    dog.cpu_used = 60.0
    assert "used up its CPU-time limit" in death_cause(signal.SIGXCPU, None, 60, dog)
    assert "os._exit or sys.exit" in death_cause(None, 3, 60, Dog(), memory_mb=1024)
    dog = Dog()
    dog.peak_mb = 1000
    assert "near its memory limit" in death_cause(None, 1, 60, dog, memory_mb=1024)
    dog.reason = "its processes numbered more than 64 (a fork loop?)"
    assert death_cause(signal.SIGKILL, None, 60, dog).startswith("the grader stopped it: its processes")


def _dies_for(job):
    from cnnlab.course.grade_one import _result

    if job.student == "crasher":
        os._exit(3)  # the worker process itself dies: the pool breaks
    time.sleep(0.2)
    return _result(job, "graded", "ok", score=1.0, max_score=1.0)


def test_dead_worker_is_replaced_and_only_its_student_fails(monkeypatch):
    import cnnlab.course.autograde as ag
    from cnnlab.course.grade_one import Job

    monkeypatch.setattr(ag, "grade_submission", _dies_for)
    jobs = [Job(s, "ps1") for s in ("ann", "bob", "crasher", "dan", "eve")]
    got = []
    ag._run_pooled(jobs, 2, got.append)
    by = {r["student"]: r for r in got}
    assert sorted(by) == ["ann", "bob", "crasher", "dan", "eve"]
    assert all(by[s]["score"] == 1.0 for s in ("ann", "bob", "dan", "eve")), by
    assert by["crasher"]["status"] == "error" and "worker died 2 times" in by["crasher"]["reason"]


@pytest.mark.parametrize("sid", ["prints_hidden_tests", "prints_in_later_cell", "ast_transformer", "patched_check"])
def test_isolation_no_hidden_test_text_in_feedback(graded, sid):
    import html

    from cnnlab.course.verdicts import hidden_lines

    source = nbformat.read(COURSE_ROOT / "solutions" / "ps1" / "ps1.ipynb", as_version=4)
    hidden = [ln for c in source.cells for ln in hidden_lines(c.source)]
    assert hidden
    res = graded[0][sid]
    assert res["feedback"], res["reason"]
    for name, page in res["feedback"].items():
        text = html.unescape(page)
        leaked = [ln for ln in hidden if ln in text]
        assert not leaked, f"{sid}/{name} shows hidden-test lines: {leaked[:2]}"
