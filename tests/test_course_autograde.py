"""Sandboxed parallel autograding: the demo class and a catalogue of bad submissions.

Every submission below is graded in ONE batch (module fixture) in a scratch
copy of the course; each test then asserts one student's score and reason.
"""
from __future__ import annotations

import copy
import os
import shutil
import socket
import time
import uuid
import zipfile
from pathlib import Path

import nbformat
import pytest

from cnnlab.course.build import total_points
from cnnlab.course.config import COURSE_ROOT, Limits
from cnnlab.course.demo import build_demo_class, expected_scores, student_notebook
from cnnlab.course.feedback import hidden_lines
from cnnlab.course.sandbox import bwrap_path

pytestmark = [pytest.mark.ps1, pytest.mark.slow,
              pytest.mark.filterwarnings("ignore:Non-unique cell id")]
HAVE_BWRAP = bwrap_path() is not None
TOKEN = uuid.uuid4().hex[:8]
# note: the cell limit leaves check()'s own 10 s limit a wide margin on a loaded shared machine
LIMITS = Limits(cell_timeout=25, notebook_timeout=150, memory_mb=2048)
SOLUTION = nbformat.read(COURSE_ROOT / "solutions" / "ps1" / "ps1.ipynb", as_version=4)
EXPECTED = expected_scores("ps1")
TOTAL = total_points(SOLUTION)


def needs_bwrap():
    if HAVE_BWRAP:
        return
    why = ("not installed" if shutil.which("bwrap") is None
           else "installed but cannot create namespaces here (container without user namespaces?)")
    if os.environ.get("CI"):
        pytest.fail(f"bubblewrap (bwrap) is required in CI but {why}; .ci/run installs it")
    pytest.skip(f"bubblewrap (bwrap) {why}: `apt-get install bubblewrap` to run the sandbox tests")


# ------------------------------------------------------------------ builders
def _released():
    return nbformat.read(COURSE_ROOT / "exercises" / "ps1" / "ps1.ipynb", as_version=4)


def _find(nb, grade_id):
    for i, cell in enumerate(nb.cells):
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            return i, cell
    raise KeyError(grade_id)


def _solution(**cells):
    """The full solution with some solution cells replaced (grade_id=source)."""
    nb = student_notebook("ps1")
    for gid, src in cells.items():
        _find(nb, gid)[1].source = src
    return nb


def _stub(gid):
    return _find(_released(), gid)[1].source


def _sol_src(gid):
    return _find(student_notebook("ps1"), gid)[1].source


def _tampered_tests():
    """Stubs for pad2d, conv2d, conv1d whose test cells are edited, deleted, metadata-stripped."""
    nb = _solution(**{g: _stub(g) for g in ("pad2d_solution", "conv2d_solution", "conv1d_solution")})
    _find(nb, "test_conv2d")[1].source = '"""Edited by the student."""\nassert True'
    _find(nb, "test_pad2d")[1].metadata = {}
    del nb.cells[_find(nb, "test_conv1d")[0]]
    return nb


def _edited_metadata():
    """The full solution with points edited, a solution cell marked graded and a bonus test cell added."""
    nb = _solution()
    _find(nb, "test_corr2d")[1].metadata["nbgrader"]["points"] = 100
    _find(nb, "corr2d_solution")[1].metadata["nbgrader"].update(grade=True, points=5)
    bonus = nbformat.v4.new_code_cell("assert True", metadata={"nbgrader": {
        "grade": True, "solution": False, "locked": False, "points": 100, "grade_id": "bonus",
        "schema_version": 3}})
    nb.cells.append(bonus)
    return nb


def _extra_files():
    """A blank corr2d, and files that would patch the grader if they ran or were importable."""
    cheat = ("import cnnlab.grading\n\nclass _Ok:\n    passed = True\n\n    def raise_if_failed(self):\n"
             "        pass\n\ncnnlab.grading.check = lambda *a, **k: _Ok()\n")
    return {"ps1.ipynb": _solution(corr2d_solution=_stub("corr2d_solution")),
            ".ipython/profile_default/startup/00-cheat.py": cheat,
            "cnnlab/__init__.py": "raise SystemExit('shadowed')\n",
            "timestamp.txt": "yesterday-ish"}


SYMLINKS = f'''
import os
for _name, _target in [("ps1.ipynb", "@ROOT@/gradebook.db"), ("link_{TOKEN}", "@ROOT@/pwned_link_{TOKEN}.txt")]:
    try:
        os.remove(_name)
    except OSError:
        pass
    try:
        os.symlink(_target, _name)
        with open(_name, "w") as _fh:
            _fh.write("pwned")
    except OSError as _exc:
        print("BLOCKED", _name, type(_exc).__name__)
'''


def _duplicate_test(nb):
    i, cell = _find(nb, "test_conv2d")
    nb.cells.insert(i + 1, copy.deepcopy(cell))


READ_SECRETS = f'''
import json, os
_found = []
for _path in [{str(COURSE_ROOT / "solutions" / "ps1" / "ps1.ipynb")!r}, "@ROOT@/solutions/ps1/ps1.ipynb",
              {str(COURSE_ROOT / "gradebook.db")!r}, "@ROOT@/gradebook.db", "../../../gradebook.db",
              "../../../../spec.json"]:
    try:
        with open(_path, "rb") as _fh:
            _data = _fh.read()
        _found.append(_path)
        if _path.endswith(".ipynb"):
            for _c in json.loads(_data)["cells"]:
                if _c["metadata"].get("nbgrader", {{}}).get("solution"):
                    exec("".join(_c["source"]).replace("### BEGIN SOLUTION", "").replace("### END SOLUTION", ""))
    except OSError as _exc:
        print("BLOCKED", _path, type(_exc).__name__)
print("LEAKED" if _found else "NOTHING LEAKED", _found)
'''

WRITE_OUTSIDE = f'''
_targets = [{str(COURSE_ROOT / ("pwned_" + TOKEN + ".txt"))!r}, "@ROOT@/pwned_{TOKEN}.txt",
            "/tmp/cnnlab_pwned_{TOKEN}.txt", "../../../gradebook.db"]
for _t in _targets:
    try:
        with open(_t, "a") as _fh:
            _fh.write("pwned")
        print("WROTE", _t)
    except OSError as _exc:
        print("BLOCKED", _t, type(_exc).__name__)
'''

NETWORK = '''
import socket
try:
    socket.create_connection(("127.0.0.1", @PORT@), timeout=3).close()
    print("NETWORK OPEN")
except OSError as _exc:
    print("NETWORK BLOCKED", type(_exc).__name__)
'''

# student -> (notebook builder | raw text | None, expected score, status, words in the reason, needs bwrap)
CATALOGUE = {
    "infinite_loop": (lambda: _solution(corr2d_solution="def corr2d(x, k):\n    while True:\n        pass"),
                      11, "graded", ["test_corr2d", "time limit of 10 s"], False),
    # a cell that never ends and ignores nbclient's interrupt: the kernel is stuck, later cells never run
    "swallows_interrupt": (lambda: _solution(conv1d_solution=(
        "import time\n\nwhile True:\n    try:\n        time.sleep(0.05)\n    except KeyboardInterrupt:\n"
        "        pass")),
        9, "stuck", ["'conv1d_solution'", "ignored the interrupt", "cells not run"], False),
    # the same loop inside the graded function: check's own time limit stops it, the rest is graded
    "swallows_interrupt_in_function": (lambda: _solution(conv1d_solution=(
        "import time\n\ndef conv1d(x, w, b=None, stride=1, padding=0, dilation=1):\n"
        "    while True:\n        try:\n            time.sleep(0.05)\n        except KeyboardInterrupt:\n            pass")),
        11, "graded", ["test_conv1d", "time limit of 10 s"], False),
    "noisy_but_correct": (lambda: _solution(pad2d_solution=(
        "for _i in range(100000):\n    print('spam', _i)\n\n" + _sol_src("pad2d_solution").replace(
            "    x = np.asarray(x)", "    print('x' * 1_000_000)\n    x = np.asarray(x)")),
        corr2d_solution=("import warnings\nwarnings.simplefilter('always')\n\n" + _sol_src("corr2d_solution").replace(
            "    x = np.asarray(x, dtype=float)",
            "    warnings.warn('corr2d: converting to float64', UserWarning)\n"
            "    warnings.warn('corr2d: slow path', RuntimeWarning)\n    x = np.asarray(x, dtype=float)")),
        # stderr written directly and through logging, while the hidden tests call the function
        conv1d_solution=("import logging, sys\nlogging.basicConfig()\n\n" + _sol_src("conv1d_solution").replace(
            "def conv1d(x, w, b=None, stride=1, padding=0, dilation=1):",
            "def conv1d(x, w, b=None, stride=1, padding=0, dilation=1):\n"
            "    print('conv1d called', file=sys.stderr)\n    logging.warning('conv1d: debugging')", 1))),
        13, "graded", ["all tests passed"], False),
    "memory_blowup": (lambda: _solution(corr2d_solution=(
        # note: np.empty reserves address space without touching it: the limit is hit at once, even on a busy machine
        "def corr2d(x, k):\n    hog = []\n    while True:\n        hog.append(np.empty(10**8))")),
        11, "graded", ["test_corr2d", "MemoryError"], False),
    "kernel_death": (lambda: _solution(conv1d_solution=(
        "import os\n\ndef conv1d(x, w, b=None, stride=1, padding=0, dilation=1):\n    os._exit(1)")),
        9, "kernel died", ["test_conv1d", "DeadKernelError", "exited with status 1", "cells not run"], False),
    "traceback_suppressed": (lambda: _solution(corr2d_solution=(
        "import sys\nget_ipython().showtraceback = lambda *args, **kwargs: None\n"
        "sys.excepthook = lambda *args: None\n"
        "get_ipython().set_custom_exc((Exception,), lambda *args, **kwargs: None)\n\n"
        "def corr2d(x, k):\n    raise NotImplementedError()")),
        11, "graded", ["test_corr2d"], False),
    "tampered_tests": (_tampered_tests, 6, "graded",
                       ["test_pad2d: AssertionError: pad2d failed", "test_conv2d: AssertionError: conv2d failed",
                        "test_conv1d: AssertionError: conv1d failed", "raised NotImplementedError"], False),
    "duplicated_test": (lambda: _duplicate_test(nb := _solution()) or nb, 13, "graded",
                        ["duplicate cell 'test_conv2d'"], False),
    "invalid_json": ('{"cells": [{"cell_type": "code", ', 0, "invalid", ["not valid JSON"], False),
    "missing_notebook": (None, 0, "missing", ["no ps1.ipynb"], False),
    "misnamed_notebook": ("MISNAMED", 0, "missing", ["no ps1.ipynb", "ps1-final.ipynb", "rename"], False),
    "spoof_and_hard_code": (lambda: _solution(corr2d_solution=(
        "class _Passed:\n    passed = True\n    message = ''\n\n    def raise_if_failed(self):\n        pass\n\n\n"
        "def check(*args, **kwargs):  # shadows the grader's check\n    return _Passed()\n\n\n"
        "class AlwaysEqual:\n    shape = (3, 3)\n\n    def __eq__(self, other):\n        return True\n\n"
        "    def __array__(self, dtype=None, copy=None):\n        return np.zeros((3, 3))\n\n\n"
        "def corr2d(x, k):\n    return AlwaysEqual()"), conv1d_solution=(
        "def conv1d(x, w, b=None, stride=1, padding=0, dilation=1):\n"
        "    if x.shape == (1, 1, 5):  # the visible check's answer, typed in\n"
        "        return np.array([[[-2.0, -2.0, -2.0]]])\n"
        "    return np.zeros((x.shape[0], w.shape[0], (x.shape[2] + 2 * padding - 3) // stride + 1))")),
        9, "graded", ["test_corr2d: AssertionError: corr2d failed", "numpy.ndarray", "test_conv1d", "conv1d failed"],
        False),
    # stubs, and the grader rewritten so that every hidden test passes: caught before the kernel starts
    "patches_grader": (lambda: _solution(**{g: _stub(g) for g in ("corr2d_solution", "pad2d_solution", "conv2d_solution")},
                                         conv1d_solution=(
        "import cnnlab.grading\n\nclass _Ok:\n    passed = True\n\n    def raise_if_failed(self):\n        pass\n\n\n"
        "cnnlab.grading.check = lambda *args, **kwargs: _Ok()\n\n\n" + _sol_src("conv1d_solution"))),
        # note: the scan is only a report now; the grader's records decide: no check reported, no points
        # conv_output_size (2 points) was checked before the patch ran
        2, "graded", ["review by hand", "rewrites the grader's libraries", "cell 'conv1d_solution', line 10",
                      "cnnlab.grading.check", "never reported to the grader"], False),
    # a value shown by a failing test cell (sys.displayhook) is not read as partial credit
    "displayhook_credit": (lambda: _solution(corr2d_solution=(
        "import sys\n\ndef corr2d(x, k):\n    sys.displayhook('full marks please')\n    raise NotImplementedError()")),
        11, "graded", ["test_corr2d", "raised NotImplementedError"], False),
    "edited_metadata": (_edited_metadata, 13, "graded",
                        ["extra graded cell 'bonus' ignored", "'test_corr2d': edited nbgrader metadata restored"], False),
    "extra_files": (_extra_files, 11, "graded", ["test_corr2d", "3 file(s) besides the notebooks ignored"], False),
    "nbformat3": (lambda: nbformat.writes(nbformat.convert(_solution(), 3), version=3), 13, "graded",
                  ["all tests passed"], False),
    "lone_surrogate": (lambda: nbformat.writes(_solution(corr2d_solution=_sol_src("corr2d_solution") + "\n# SURROGATE"))
                       .replace("# SURROGATE", "# \\ud800"), 0, "invalid", ["not valid Unicode"], False),
    # the kernel replaces its notebook by links to the gradebook and a file outside: its folder is
    # a private tmpfs, so nothing reaches the host and the batch goes on
    "symlink_escape": (lambda: _solution(params_solution=_sol_src("params_solution") + "\n" + SYMLINKS),
                       13, "graded", ["all tests passed"], True),
    "sandbox_escape": (lambda: _solution(**{g: _stub(g) for g in (
        "corr2d_solution", "pad2d_solution", "conv_output_size_solution", "conv2d_solution", "conv1d_solution")},
        params_solution=READ_SECRETS + WRITE_OUTSIDE + NETWORK),
        0, "graded", ["test_corr2d: AssertionError: corr2d failed", "raised NotImplementedError"], True),
}


@pytest.fixture(scope="module")
def listener():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(5)
    srv.setblocking(False)
    yield srv
    srv.close()


@pytest.fixture(scope="module", autouse=True)
def one_release(release_template):
    """Every autograde call below copies the session's release template instead of running nbgrader again."""
    yield from release_template.patch("cnnlab.course.autograde.release_into")


@pytest.fixture(scope="module")
def course(tmp_path_factory, release_template):
    """A scratch copy of the course (config, solutions, release, gradebook): tests never touch the repo's."""
    return release_template.copy(tmp_path_factory.mktemp("course"), ["ps1"])


@pytest.fixture(scope="module")
def submissions(course, listener, tmp_path_factory):
    """The demo class and the catalogue, as DIR/<student>/ps1/."""
    subs = tmp_path_factory.mktemp("submissions")
    build_demo_class(subs, "ps1")
    for sid, (build, *_rest, sandbox_only) in CATALOGUE.items():
        if sandbox_only and not HAVE_BWRAP:
            continue
        folder = subs / sid / "ps1"
        folder.mkdir(parents=True)
        if build is None:
            (folder / "notes.txt").write_text("I could not finish, sorry")
        elif build == "MISNAMED":
            nbformat.write(_solution(), folder / "ps1-final.ipynb")
        elif isinstance(build, str):
            (folder / "ps1.ipynb").write_text(build)
        else:
            built = build()
            for rel, content in (built.items() if isinstance(built, dict) and "cells" not in built else [("ps1.ipynb", built)]):
                text = content if isinstance(content, str) else nbformat.writes(content)
                text = text.replace("@ROOT@", str(course)).replace("@PORT@", str(listener.getsockname()[1]))
                (folder / rel).parent.mkdir(parents=True, exist_ok=True)
                (folder / rel).write_text(text)
    return subs


@pytest.fixture(scope="module")
def batch(course, submissions):
    """Grade the demo class and the whole catalogue in one run with 2 workers."""
    from cnnlab.course.autograde import autograde

    results = autograde("ps1", submissions, root=course, workers=2, limits=LIMITS, progress=False)
    return {r["student"]: r for r in results}


def _assert_graded(batch, sid, score, status, words):
    res = batch[sid]
    assert res["score"] == score, f"{sid}: {res['score']} != {score} ({res['status']}: {res['reason']})"
    assert res["status"] == status, f"{sid}: {res['status']} ({res['reason']})"
    for word in words:
        assert word in res["reason"], f"{sid}: {word!r} not in {res['reason']!r}"
    assert res["max_score"] == TOTAL


@pytest.mark.parametrize("sid", sorted(EXPECTED))
def test_demo_class_scores(batch, sid):
    words = {"full_solution": ["all tests passed"], "blank_release": ["raised NotImplementedError"],
             "kernel_flipped": ["test_corr2d", "true convolution (kernel flipped)"],
             "hard_coded": ["test_corr2d", "looks hard-coded"],
             "bias_forgotten": ["test_conv2d", "test_conv1d", "without the bias"],
             "padding_one_side": ["test_pad2d", "test_conv2d", "All the zeros are added after"],
             "fc_bias_forgotten": ["372, got 360"]}[sid]
    _assert_graded(batch, sid, EXPECTED[sid], "graded", words)


@pytest.mark.parametrize("sid", sorted(s for s, v in CATALOGUE.items() if not v[-1]))
def test_bad_submission(batch, sid):
    _build, score, status, words, _sandbox = CATALOGUE[sid]
    _assert_graded(batch, sid, score, status, words)


@pytest.mark.sandbox
@pytest.mark.parametrize("sid", sorted(s for s, v in CATALOGUE.items() if v[-1]))
def test_sandboxed_submission(batch, sid):
    needs_bwrap()
    _build, score, status, words, _sandbox = CATALOGUE[sid]
    _assert_graded(batch, sid, score, status, words)


def _outputs(res):
    nb = nbformat.reads(res["notebooks"]["ps1.ipynb"], as_version=4)
    return "\n".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))


@pytest.mark.sandbox
def test_sandbox_hides_solutions_and_gradebooks(batch):
    needs_bwrap()
    text = _outputs(batch["sandbox_escape"])
    assert "NOTHING LEAKED []" in text, text[-2000:]
    assert text.count("\nBLOCKED ") + text.startswith("BLOCKED ") >= 6


@pytest.mark.sandbox
@pytest.mark.sandbox
def test_kernel_links_never_reach_the_host(batch, course):
    needs_bwrap()
    assert not (course / f"pwned_link_{TOKEN}.txt").exists()
    with open(course / "gradebook.db", "rb") as fh:  # still the course's database, not the student's text
        assert fh.read(16) == b"SQLite format 3\x00"


def test_sandbox_blocks_writes_outside_the_working_copy(batch, course):
    needs_bwrap()
    assert not (COURSE_ROOT / f"pwned_{TOKEN}.txt").exists()
    assert not (course / f"pwned_{TOKEN}.txt").exists()
    assert not Path(f"/tmp/cnnlab_pwned_{TOKEN}.txt").exists()
    wrote = [ln.split()[1] for ln in _outputs(batch["sandbox_escape"]).splitlines() if ln.startswith("WROTE ")]
    # note: /tmp and the folders above the working copy are the sandbox's private tmpfs, so a
    # write there may succeed inside the sandbox; the checks above prove it never reached the
    # host (a clone under /tmp, as in CI, puts COURSE_ROOT on that tmpfs too)
    refused_only = [w for w in wrote if w.startswith((str(COURSE_ROOT), str(course)))
                    and not os.path.realpath(w).startswith("/tmp/")]
    assert not refused_only, wrote


@pytest.mark.sandbox
def test_sandbox_has_no_network(batch, listener):
    needs_bwrap()
    assert "NETWORK BLOCKED" in _outputs(batch["sandbox_escape"])
    with pytest.raises(BlockingIOError):
        listener.accept()


def test_output_flood_is_capped(batch):
    res = batch["noisy_but_correct"]
    text = res["notebooks"]["ps1.ipynb"]
    assert len(text) < 2_000_000
    assert "x" * 10_000 not in text  # printed while the hidden tests ran: never kept (issue 19)
    assert "spam 99999" not in text  # a solution cell's flood is capped


def test_parent_records_gradebook_csv_and_feedback(batch, course):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for sid, res in batch.items():
            assert gb.find_submission("ps1", sid).score == res["score"], sid
    rows = (course / "grades.csv").read_text().splitlines()
    assert rows[0] == "student,assignment,score,max_score,status,reason" and len(rows) == len(batch) + 1
    html = (course / "feedback" / "full_solution" / "ps1" / "ps1.html").read_text()
    assert "test_conv2d" in html and "BEGIN HIDDEN TESTS" not in html and "check(&quot;conv2d" not in html
    assert 'check("conv2d"' not in html
    assert (course / "autograded" / "kernel_flipped" / "ps1" / "ps1.ipynb").exists()


@pytest.mark.parametrize("sid", ["bias_forgotten", "fc_bias_forgotten", "padding_one_side", "tampered_tests",
                                 "blank_release"])
def test_feedback_shows_no_hidden_test_source(batch, sid):
    """Failing submissions: the feedback has the visible tests, the message and the diagnosis, no hidden line."""
    import html as html_lib
    import re

    res = batch[sid]
    page = html_lib.unescape(re.sub(r"<[^>]+>", "", res["feedback"]["ps1.html"]))
    hidden = [ln.strip() for c in SOLUTION.cells if c.metadata.get("nbgrader", {}).get("grade")
              for i, ln in enumerate(c.source.splitlines(), 1) if i in hidden_lines(c.source) and ln.strip()]
    assert hidden, "the solution has hidden tests"
    leaked = [ln for ln in hidden if ln in page]
    assert not leaked, f"{sid}: hidden test lines in the feedback: {leaked}"
    assert "Traceback (most recent call last)" in page and "AssertionError" in page
    failed = [g for g, (got, out_of) in res["grades"]["ps1"].items() if got < out_of] if "ps1" in res["grades"] else []
    assert failed, res["grades"]
    for gid in failed:  # each failing visible test is shown, with its points
        assert gid in page
    if sid == "bias_forgotten":  # the diagnosis of the hidden check reaches the student
        assert "Likely cause: Your output equals the correct result without the bias" in page
        assert "hidden test of this cell" in page
    if sid == "fc_bias_forgotten":  # a visible assert: the line and its message
        assert "----> assert params_fc_5x6 == 372" in page and "got 360" in page

def test_same_scores_twice(batch, course, submissions, tmp_path):
    from cnnlab.course.autograde import autograde

    subs = tmp_path / "again"
    for sid in ("kernel_flipped", "spoof_and_hard_code"):
        shutil.copytree(submissions / sid / "ps1", subs / sid / "ps1")
    again = autograde("ps1", subs, root=course, workers=2, limits=LIMITS, progress=False)
    for res in again:
        assert (res["score"], res["status"]) == (batch[res["student"]]["score"], batch[res["student"]]["status"])


def test_without_bwrap_warns_and_still_grades(course, submissions, tmp_path, monkeypatch, capsys):
    import cnnlab.course.autograde as ag

    monkeypatch.setattr(ag, "bwrap_path", lambda: None)
    shutil.copytree(submissions / "kernel_flipped" / "ps1", tmp_path / "subs" / "kernel_flipped" / "ps1")
    (res,) = ag.autograde("ps1", tmp_path / "subs", root=course, workers=1, limits=LIMITS, progress=False)
    assert "WITHOUT the sandbox" in capsys.readouterr().err
    assert (res["score"], res["status"]) == (11, "graded"), res["reason"]


def test_whole_notebook_budget(course, tmp_path):
    """Every cell under its own limit, the notebook over its budget: later cells are not run."""
    from cnnlab.course.autograde import autograde

    slow = "import time\ntime.sleep(8)\n\n"
    nb = _solution(corr2d_solution=slow + _sol_src("corr2d_solution"),
                   pad2d_solution=slow + _sol_src("pad2d_solution"))
    (tmp_path / "subs" / "slowpoke" / "ps1").mkdir(parents=True)
    nbformat.write(nb, tmp_path / "subs" / "slowpoke" / "ps1" / "ps1.ipynb")
    limits = Limits(cell_timeout=10, notebook_timeout=12)
    (res,) = autograde("ps1", tmp_path / "subs", root=course, workers=1, limits=limits, progress=False)
    assert res["status"] == "timeout" and "12 s time budget" in res["reason"], res["reason"]
    assert res["score"] <= 2  # at most test_corr2d, which runs before the budget is spent


def test_cpu_time_limit(course, tmp_path):
    """A cell that burns CPU under a long cell timeout: the kernel's CPU-time limit ends it, and says so."""
    from cnnlab.course.autograde import autograde

    hog = "import time\n_t = time.process_time()\nwhile True:\n    _t += 1\n\n"
    nb = _solution(corr2d_solution=hog + _sol_src("corr2d_solution"))
    (tmp_path / "subs" / "hog" / "ps1").mkdir(parents=True)
    nbformat.write(nb, tmp_path / "subs" / "hog" / "ps1" / "ps1.ipynb")
    limits = Limits(cell_timeout=120, notebook_timeout=150, cpu_s=12)
    start = time.monotonic()
    (res,) = autograde("ps1", tmp_path / "subs", root=course, workers=1, limits=limits, progress=False)
    assert res["status"] == "kernel died", res["reason"]
    assert "CPU-time limit (12 s of CPU)" in res["reason"] and "'corr2d_solution'" in res["reason"], res["reason"]
    assert res["score"] == 0
    assert time.monotonic() - start < 100  # ended by the CPU limit, not by the 120 s cell timeout


FORK_MEMORY = """
import os, time
import numpy as np
_kids = []
for _ in range(5):  # each child under the per-process limit, together far over it
    _pid = os.fork()
    if _pid == 0:
        _hog = np.ones(80_000_000)  # 640 MB, touched
        time.sleep(60)
        os._exit(0)
    _kids.append(_pid)
time.sleep(55)  # note: under the 60 s cell limit; the children may need long to touch their memory on a busy machine
"""

FORK_LOOP = """
import os, time
for _ in range(200):
    if os.fork() == 0:
        time.sleep(60)
        os._exit(0)
time.sleep(30)
"""


@pytest.mark.parametrize("sid, code, words", [
    ("fork_memory", FORK_MEMORY, ["processes together", "memory limit of 2048 MiB"]),
    ("fork_loop", FORK_LOOP, ["numbered more than 64"])])
def test_process_tree_limits(course, tmp_path, sid, code, words):
    """Forked children share one memory budget and a process count: the grader ends the kernel and says why."""
    from cnnlab.course.autograde import autograde

    nb = _solution(corr2d_solution=code + "\n" + _sol_src("corr2d_solution"))
    (tmp_path / "subs" / sid / "ps1").mkdir(parents=True)
    nbformat.write(nb, tmp_path / "subs" / sid / "ps1" / "ps1.ipynb")
    limits = Limits(cell_timeout=60, notebook_timeout=120, memory_mb=2048)
    (res,) = autograde("ps1", tmp_path / "subs", root=course, workers=1, limits=limits, progress=False)
    assert res["status"] == "kernel died" and res["score"] == 0, res["reason"]
    for word in ["the grader stopped it", "'corr2d_solution'", *words]:
        assert word in res["reason"], res["reason"]


def test_collect_layouts(tmp_path):
    from cnnlab.course.autograde import collect_submissions

    src = tmp_path / "in"
    (src / "ann" / "ps1").mkdir(parents=True)
    (src / "ann" / "ps1" / "ps1.ipynb").write_text("{}")
    (src / "bob").mkdir()
    (src / "bob" / "ps1.ipynb").write_text("{}")
    with zipfile.ZipFile(src / "cyd.zip", "w") as zf:
        zf.writestr("cyd/ps1/ps1.ipynb", "{}")
        zf.writestr("../../evil.txt", "no")
    (src / "ps1_dan_attempt_2024-01-01-10-00-00_ps1.ipynb").write_text("{}")
    found = collect_submissions(src, "ps1", tmp_path / "scratch")
    assert sorted(found) == ["ann", "bob", "cyd", "dan"]
    assert all((p / "ps1.ipynb").exists() for p in found.values())
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "scratch" / "evil.txt").exists()


def test_collect_keeps_students_apart(tmp_path, capsys):
    """Names that sanitize alike, a folder and a zip of one name, underscores in LMS names: no one is lost."""
    from cnnlab.course.autograde import collect_submissions

    src = tmp_path / "in"
    for name in ("john doe", "john_doe", "carl", ".dora"):
        (src / name / "ps1").mkdir(parents=True)
        (src / name / "ps1" / "ps1.ipynb").write_text(name)
    with zipfile.ZipFile(src / "carl.zip", "w") as zf:
        zf.writestr("carl/ps1/ps1.ipynb", "carl.zip")
    (src / "ps1_ann_smith_attempt_2024-01-01-10-00-00_ps1.ipynb").write_text("ann_smith")
    (src / "ps1_bob_smith_attempt_2024-01-01-10-00-00_ps1.ipynb").write_text("bob_smith")
    found = collect_submissions(src, "ps1", tmp_path / "scratch")
    texts = {sid: (p / "ps1.ipynb").read_text() for sid, p in found.items()}
    assert sorted(texts.values()) == sorted(["john doe", "john_doe", "carl", "carl.zip", "ann_smith", "bob_smith"])
    assert texts["ann_smith"] == "ann_smith" and texts["bob_smith"] == "bob_smith"
    assert {"john_doe", "john_doe-2", "carl", "carl-2"} <= set(texts)
    err = capsys.readouterr().err
    assert "both map to student id 'john_doe'" in err and "'.dora' skipped (hidden)" in err
