"""ps4 and ps5 as a course: built from source, released in sync, and their demo classes
autograded in the sandbox (solution full marks, blank release zero, each wrong student
the score computed from the test cells it must fail)."""
from __future__ import annotations

import shutil
import subprocess
import sys
import time

import nbformat
import pytest

from cnnlab.course.build import graded_points, total_points
from cnnlab.course.config import COURSE_ROOT, Limits
from cnnlab.course.demo import build_demo_class, students

pytestmark = [pytest.mark.ps4, pytest.mark.ps5]
SETS = ["ps4", "ps5"]
LIMITS = Limits(cell_timeout=30, notebook_timeout=300, memory_mb=2048)


@pytest.mark.parametrize("ps", SETS)
def test_source_is_built(ps):
    proc = subprocess.run([sys.executable, "-m", "cnnlab", "course", "build", ps, "--check"])
    assert proc.returncode == 0, f"solutions/{ps}/{ps}.ipynb differs from `python -m cnnlab course build {ps}`"


@pytest.mark.parametrize("ps", SETS)
def test_every_test_cell_has_hidden_tests_and_points(ps):
    nb = nbformat.read(COURSE_ROOT / "solutions" / ps / f"{ps}.ipynb", as_version=4)
    points = graded_points(nb)
    assert points and all(p > 0 for p in points.values())
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and cell.cell_type == "code":
            assert "### BEGIN HIDDEN TESTS" in cell.source, meta["grade_id"]
            assert cell.source.startswith('"""'), meta["grade_id"]
    assert total_points(nb) == sum(points.values())


@pytest.mark.parametrize("ps", SETS)
def test_release_in_sync(ps, tmp_path):
    from cnnlab.course.release import release_into

    fresh = release_into(tmp_path / "course", [ps])
    ours = COURSE_ROOT / "exercises" / ps / f"{ps}.ipynb"
    assert ours.read_bytes() == (fresh / "exercises" / ps / f"{ps}.ipynb").read_bytes(), \
        f"exercises/{ps} is stale: run `python -m cnnlab course release {ps}`"
    text = ours.read_text()
    assert "### BEGIN" not in text and "raise NotImplementedError()" in text


@pytest.mark.parametrize("ps", SETS)
def test_demo_students_are_consistent(ps):
    names = [s.name for s in students(ps)]
    assert len(names) == len(set(names)) and len(names) >= 7
    for s in students(ps):
        assert s.blank or s.name == "full_solution" or s.failing, f"{s.name} is expected to fail nothing"


@pytest.fixture(scope="module", params=SETS)
def graded(request, tmp_path_factory):
    """One problem set's demo class, graded in a scratch copy of the course (2 workers, the CLI's limits)."""
    from cnnlab.course.autograde import autograde

    ps = request.param
    root = tmp_path_factory.mktemp(f"course_{ps}")
    shutil.copy2(COURSE_ROOT / "nbgrader_config.py", root)
    shutil.copytree(COURSE_ROOT / "solutions" / ps, root / "solutions" / ps)
    shutil.copytree(COURSE_ROOT / "exercises" / ps, root / "exercises" / ps)
    subs = tmp_path_factory.mktemp(f"subs_{ps}")
    expected = build_demo_class(subs, ps, root)
    start = time.monotonic()
    results = autograde(ps, subs, root=root, workers=2, limits=LIMITS, progress=False)
    seconds = time.monotonic() - start
    return ps, expected, {r["student"]: r for r in results}, seconds


@pytest.mark.slow
def test_demo_class_autograded_in_sandbox(graded):
    ps, expected, results, seconds = graded
    assert set(results) == set(expected)
    total = max(expected.values())
    for sid, want in expected.items():
        res = results[sid]
        assert res["status"] == "graded", f"{ps}/{sid}: {res['status']} ({res['reason']})"
        assert res["score"] == want, f"{ps}/{sid}: {res['score']} != {want} ({res['reason']})"
        assert res["max_score"] == total
    assert results["full_solution"]["score"] == total and results["blank_release"]["score"] == 0
    for s in students(ps):
        for gid in s.failing:
            assert gid in results[s.name]["reason"], f"{ps}/{s.name}: {gid} not named in {results[s.name]['reason']}"
    print(f"{ps}: {len(results)} submissions in {seconds:.0f} s")
