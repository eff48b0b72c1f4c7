"""ps1 source and release: nbgrader metadata, validation, reproducible release."""
from __future__ import annotations

import re

from pathlib import Path

import nbformat
import pytest

from cnnlab.course.config import COURSE_ROOT, assignments

pytestmark = [pytest.mark.ps1]
SOURCE = COURSE_ROOT / "solutions" / "ps1" / "ps1.ipynb"
RELEASE = COURSE_ROOT / "exercises" / "ps1" / "ps1.ipynb"
HIDDEN_MARKERS = ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "BEGIN SOLUTION", "END SOLUTION", "check(")


def _cells(nb):
    return [(c, c.metadata.get("nbgrader", {})) for c in nb.cells]


@pytest.fixture(scope="module")
def fresh_release(release_template):
    """A fresh nbgrader release of every problem set (the session's, see conftest.py)."""
    return release_template.root


def test_config_root_is_the_repository():
    from cnnlab.course.config import load_nbgrader_config

    c = load_nbgrader_config()
    assert Path(c.CourseDirectory.root) == COURSE_ROOT
    assert (c.CourseDirectory.source_directory, c.CourseDirectory.release_directory) == ("solutions", "exercises")
    assert c.OverwriteCells.add_missing_cells is True
    assert c.IgnorePattern.enabled is True and "Warning" in c.IgnorePattern.pattern
    assert "ClearHiddenTests" in [p.__name__ for p in c.GenerateFeedback.preprocessors]
    from cnnlab.course.build import problem_sets

    assert "ps1" in assignments() and assignments() == problem_sets()


def test_ps1_source_is_built_from_its_script():
    from cnnlab.course.build import build

    assert build(["ps1"], check=True) == {"ps1": "unchanged"}, \
        "solutions/ps1/ps1.ipynb differs from `python -m cnnlab course build ps1`"


def test_ps1_source_metadata():
    nb = nbformat.read(SOURCE, as_version=4)
    assert nb.metadata.kernelspec.name == "python3"
    ids, total = set(), 0
    for cell, meta in _cells(nb):
        if cell.cell_type == "code":
            assert not cell.get("outputs"), "committed notebooks carry no outputs"
        if not meta:
            continue
        gid = meta["grade_id"]
        assert gid not in ids and gid == gid.lower() and " " not in gid, gid
        ids.add(gid)
        if meta.get("solution"):
            assert "### BEGIN SOLUTION" in cell.source and "### END SOLUTION" in cell.source, gid
        if meta.get("grade"):
            total += meta["points"]
            assert meta["locked"] and gid.startswith("test_"), gid
            assert cell.source.startswith('"""') and cell.source.splitlines()[0].endswith('"""'), \
                f"{gid}: test cells open with a one-line docstring"
            visible = re.sub(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS", "", cell.source, flags=re.S)
            assert "assert" in visible, f"{gid}: the visible check must assert"
            assert "### BEGIN HIDDEN TESTS" in cell.source, f"{gid}: hidden tests missing"
    assert total == 13  # the points ps1 has always had: no graded cell was added or dropped
    text = "\n".join(c.source for c in nb.cells)
    for part in ("corr2d", "pad2d", "conv_output_size", "conv2d", "conv1d", "conv2d_params", "linear_params"):
        assert f"def {part}(" in text, part
    for prompt_count in [text.count("**Predict first.**")]:
        assert prompt_count == 6
    for needle in ("56", "280", "372", "torch"):
        assert needle in text


@pytest.mark.slow  # nbgrader's Validator runs the notebook in a kernel
def test_solutions_pass_validation():
    from nbgrader.validator import Validator

    assert Validator().validate(str(SOURCE)) == {}


@pytest.mark.slow  # nbgrader's Validator runs the notebook in a kernel
def test_release_fails_validation():
    from nbgrader.validator import Validator

    result = Validator().validate(str(RELEASE))
    failed = {c["source"].splitlines()[0] for c in result.get("failed", [])}
    assert len(result.get("failed", [])) == 7, result.keys()
    assert any("corr2d" in line for line in failed)


@pytest.mark.slow
def test_exercises_equal_a_fresh_release(fresh_release):
    ours = sorted(p.relative_to(COURSE_ROOT / "exercises") for p in (COURSE_ROOT / "exercises").rglob("*") if p.is_file())
    fresh = sorted(p.relative_to(fresh_release / "exercises") for p in (fresh_release / "exercises").rglob("*") if p.is_file())
    assert ours == fresh  # a fresh run of the same release: reproducible, byte for byte
    for rel in ours:
        assert (COURSE_ROOT / "exercises" / rel).read_bytes() == (fresh_release / "exercises" / rel).read_bytes(), \
            f"exercises/{rel} is stale or hand-edited: run `python -m cnnlab course release`"


def test_no_hidden_tests_or_solutions_in_exercises():
    for path in (COURSE_ROOT / "exercises").rglob("*"):
        if path.is_file():
            text = path.read_text()
            for marker in HIDDEN_MARKERS:
                assert marker not in text, f"{marker!r} leaked into {path}"
            assert "np.einsum(\"ijuv,uv->ij\"" not in text
    nb = nbformat.read(RELEASE, as_version=4)
    stubs = [c for c, m in _cells(nb) if m.get("solution")]
    assert stubs and all("raise NotImplementedError()" in c.source for c in stubs)
    assert not (COURSE_ROOT / "exercises" / "ps1" / "build_ps1.py").exists()
