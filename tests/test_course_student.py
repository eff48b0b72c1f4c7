"""Student commands: `make lab` (its command line) and `course validate` (visible tests, as the grader runs them)."""
from __future__ import annotations

import nbformat
import pytest

from cnnlab.course.config import COURSE_ROOT, Limits
from cnnlab.course.lab import lab_command, lab_url, main as lab_main


def test_lab_command_is_local_with_the_course_kernel(tmp_path):
    cmd = lab_command(tmp_path, 8899, "abc")
    assert cmd[1:3] == ["-m", "jupyterlab"] and "--no-browser" in cmd
    assert "--ServerApp.ip=127.0.0.1" in cmd and "--ServerApp.port=8899" in cmd and "--ServerApp.port_retries=0" in cmd
    assert f"--ServerApp.root_dir={tmp_path.resolve()}" in cmd and "--IdentityProvider.token=abc" in cmd
    assert "--MappingKernelManager.default_kernel_name=python3" in cmd
    assert not any("0.0.0.0" in c or "--ip=*" in c for c in cmd)
    assert lab_url(8899, "abc") == "http://127.0.0.1:8899/lab?token=abc"


def test_lab_without_a_release_says_what_to_do(tmp_path, capsys):
    assert lab_main(tmp_path / "missing") == 2
    assert "course release" in capsys.readouterr().err


def test_make_lab_runs_the_lab_command():
    text = (COURSE_ROOT / "Makefile").read_text()
    assert "\nlab: venv\n\t$(PY) -m cnnlab course lab\n" in text


@pytest.mark.slow
def test_validate_names_failing_cells_and_why(tmp_path, capsys):
    """A student's notebook with one-sided padding: the visible tests that catch it, with their messages."""
    from cnnlab.course.demo import student_notebook
    from cnnlab.course.demos.ps1 import STUDENTS
    from cnnlab.course.validate import main, validate

    one_sided = next(s for s in STUDENTS if s.name == "padding_one_side")
    nb = student_notebook("ps1", one_sided.answers)
    test = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_corr2d")
    test.source += "\nassert True  # the student's own edit"
    nbformat.write(nb, tmp_path / "ps1.ipynb")
    assert main("ps1", tmp_path / "ps1.ipynb", Limits(cell_timeout=30, notebook_timeout=120)) == 1
    out = capsys.readouterr().out
    assert "FAIL  test_pad2d: AssertionError: the 2x3 block of ones must sit in the middle" in out
    assert "FAIL  test_conv1d: AssertionError: padding 1 puts a zero at each end" in out
    assert "ok    test_corr2d" in out and "your edits to this test cell are ignored" in out
    assert "check(" not in out  # visible tests only
    (tmp_path / "broken.ipynb").write_text("{not json")
    assert validate("ps1", tmp_path / "broken.ipynb")["problem"].startswith("broken.ipynb is not valid JSON")
