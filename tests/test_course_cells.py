"""Graded cells follow the release; test cells score by raising or not (fast: no kernels)."""
from __future__ import annotations

import copy
import json

import nbformat
import pytest

from cnnlab.course.cells import DropTestResults, align_with_release
from cnnlab.course.config import COURSE_ROOT
from cnnlab.course.precheck import check_notebook

pytestmark = [pytest.mark.ps1]
RELEASE = COURSE_ROOT / "exercises" / "ps1" / "ps1.ipynb"


def _release() -> dict:
    return json.loads(RELEASE.read_text(encoding="utf-8"))


def _cell(nb, gid):
    return next(c for c in nb["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == gid)


def test_release_metadata_is_restored_and_extra_graded_cells_dropped():
    nb = _release()
    _cell(nb, "test_corr2d")["metadata"]["nbgrader"]["points"] = 100
    _cell(nb, "corr2d_solution")["metadata"]["nbgrader"]["grade"] = True
    nb["cells"].append({"cell_type": "code", "source": "assert True", "metadata": {"nbgrader": {
        "grade": True, "solution": False, "points": 50, "grade_id": "bonus"}}, "outputs": [], "execution_count": None})
    notes, changed = align_with_release(nb, _release())
    assert changed
    assert notes == ["cell 'corr2d_solution': edited nbgrader metadata restored",
                     "cell 'test_corr2d': edited nbgrader metadata restored", "extra graded cell 'bonus' ignored"]
    assert _cell(nb, "test_corr2d")["metadata"]["nbgrader"] == _cell(_release(), "test_corr2d")["metadata"]["nbgrader"]
    assert "nbgrader" not in nb["cells"][-1]["metadata"]


def test_untouched_release_is_left_alone():
    nb = _release()
    assert align_with_release(nb, _release()) == ([], False)
    assert nb == _release()


def test_test_cells_lose_execute_results_and_stderr():
    test = nbformat.v4.new_code_cell("check()", metadata={"nbgrader": {"grade": True, "solution": False,
                                                                         "grade_id": "t", "points": 1}})
    test.outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "'full marks'"}, execution_count=1),
                    nbformat.v4.new_output("error", ename="AssertionError", evalue="no", traceback=[]),
                    nbformat.v4.new_output("stream", name="stderr", text="hi")]
    solution = copy.deepcopy(test)
    solution.metadata["nbgrader"]["solution"] = True
    solution.id = "solution-cell"
    nb = nbformat.v4.new_notebook(cells=[test, solution])
    nb, _ = DropTestResults().preprocess(nb, {})
    assert [o.output_type for o in nb.cells[0].outputs] == ["error", "stream"]
    assert nb.cells[0].outputs[1].name == "stdout"
    assert len(nb.cells[1].outputs) == 3  # solution cells keep what they show


def test_check_notebook_upgrades_nbformat3_and_rejects_bad_text(tmp_path):
    v3 = tmp_path / "v3.ipynb"
    v3.write_text(nbformat.writes(nbformat.convert(nbformat.read(RELEASE, as_version=4), 3), version=3))
    assert check_notebook(v3, _release()) == (None, [])
    assert json.loads(v3.read_text())["nbformat"] == 4
    bad = tmp_path / "bad.ipynb"
    bad.write_text(RELEASE.read_text().replace('"cells": [', '"cells": [{"cell_type": "markdown", "metadata": {}, '
                                                '"source": "\\ud800"},', 1))
    problem, _ = check_notebook(bad, _release())
    assert problem and "not valid Unicode" in problem


def test_no_tag_can_skip_a_cell(tmp_path):
    """nbclient skips cells tagged "skip-execution"; the grader's skip tag is a random value instead."""
    import dataclasses

    from cnnlab.course.config import Limits
    from cnnlab.course.driver import _driver_config

    spec = dict(limits=dataclasses.asdict(Limits()), scratch=str(tmp_path), root=str(COURSE_ROOT), student="s",
                assignment="ps1")
    tag = _driver_config(spec).SandboxExecute.skip_cells_with_tag
    assert tag.startswith("cnnlab-never-") and tag != _driver_config(spec).SandboxExecute.skip_cells_with_tag
