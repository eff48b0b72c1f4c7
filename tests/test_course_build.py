"""Problem sets authored as code: build, check, the way back, and the contract on every problem set."""
from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from cnnlab.course.build import (build, build_notebook, check_cells, complete_metadata, fill_points,
                                 notebook_path, notebook_text, problem_sets, source_path, to_source)
from cnnlab.course.config import COURSE_ROOT
from cnnlab.course.feedback import hidden_lines

PROBLEM_SETS = problem_sets()
POINTS = re.compile(r"\((\d+(?:\.\d+)?) points?\)")


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


TINY = '''# %% [markdown] nbgrader={"grade_id": "intro"}
# # Tiny set
#
# ## 1. First {points}

# %% nbgrader={"grade_id": "one_solution", "solution": true}
def one():
    ### BEGIN SOLUTION
    return 1
    ### END SOLUTION

# %% nbgrader={"grade_id": "test_one", "grade": true, "points": 2}
"""one returns 1."""
assert one() == 1, "one() must return 1"

# %% [markdown]
# ### 1.1 A sub-part {points}

# %% nbgrader={"grade_id": "test_one_again", "grade": true, "points": 1}
"""one, once more."""
### BEGIN HIDDEN TESTS
assert one() + 1 == 2, "hidden"
### END HIDDEN TESTS
assert one() == 1, "one() must return 1"

# %% [markdown] nbgrader={"grade_id": "q_why", "solution": true, "grade": true, "points": 1}
# ## 2. Why? {points}
'''


def test_problem_sets_are_found():
    assert "ps1" in PROBLEM_SETS
    assert all(notebook_path(n).parent.name == n for n in PROBLEM_SETS)


def test_build_check_every_problem_set():
    """The committed notebooks are what their sources build (the judged `course build --check`)."""
    status = build(check=True)
    assert status == {n: "unchanged" for n in PROBLEM_SETS}, \
        f"{status}: run `python -m cnnlab course build`"


def test_build_fills_metadata_ids_and_points(tmp_path):
    nb = build_notebook(_write(tmp_path / "solutions" / "ps9.py", TINY))
    metas = {c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"] for c in nb.cells if "nbgrader" in c.metadata}
    assert metas["intro"] == {"grade_id": "intro", "grade": False, "solution": False, "task": False,
                              "locked": True, "schema_version": 3}
    assert metas["one_solution"]["locked"] is False and metas["one_solution"]["solution"] is True
    assert metas["test_one"] == {"grade_id": "test_one", "grade": True, "solution": False, "task": False,
                                 "locked": True, "schema_version": 3, "points": 2}
    assert metas["q_why"]["locked"] is False and nb.cells[-1].cell_type == "markdown"
    assert [c.id for c in nb.cells] == ["intro", "one-solution", "test-one", "cell-3", "test-one-again", "q-why"]
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    # section 1 holds 2 + 1 points (its sub-part counts in it), the sub-part 1, section 2 its own answer
    assert "## 1. First (3 points)" in text and "### 1.1 A sub-part (1 point)" in text and "## 2. Why? (1 point)" in text
    assert nb.metadata == {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python",
                                          "name": "python3"}, "language_info": {"name": "python"}}
    assert notebook_text(nb) == notebook_text(build_notebook(tmp_path / "solutions" / "ps9.py"))  # deterministic


@pytest.mark.parametrize("edit, words", [
    (lambda s: s.replace("## 2. Why? {points}", "## 2. Why? (3 points)"), "types its points"),
    (lambda s: s.replace('"""one returns 1."""\n', ""), "one-line docstring"),
    (lambda s: s.replace('"grade_id": "test_one_again"', '"grade_id": "test_one"'), "used twice"),
    (lambda s: s.replace(', "points": 2}', "}"), "needs points"),
    (lambda s: s.replace("    ### END SOLUTION\n", "", 1), "BEGIN SOLUTION / ### END SOLUTION"),
    (lambda s: s.replace("### END HIDDEN TESTS\n", ""), "unbalanced"),
])
def test_build_refuses_contract_breaks(tmp_path, edit, words):
    src = _write(tmp_path / "solutions" / "ps9.py", edit(TINY))
    with pytest.raises(ValueError, match=re.escape(words)):
        build_notebook(src)


def test_build_check_reports_missing_and_stale(tmp_path):
    _write(tmp_path / "solutions" / "ps9.py", TINY)
    assert build(["ps9"], tmp_path, check=True) == {"ps9": "missing"}
    assert build(["ps9"], tmp_path) == {"ps9": "written"}
    assert build(["ps9"], tmp_path, check=True) == {"ps9": "unchanged"}
    _write(tmp_path / "solutions" / "ps9.py", TINY.replace("one returns 1", "one returns one"))
    assert build(["ps9"], tmp_path, check=True) == {"ps9": "differs"}
    with pytest.raises(SystemExit, match="no source"):
        build(["ps8"], tmp_path)


def test_cli_build_check_exit_status(tmp_path):
    """The command line: exit 1 and the command to run when a notebook is stale."""
    env = {"CNNLAB_COURSE_ROOT": str(tmp_path), "PATH": str(Path(sys.executable).parent)}
    _write(tmp_path / "nbgrader_config.py", "")
    _write(tmp_path / "solutions" / "ps9.py", TINY)
    run = lambda *a: subprocess.run([sys.executable, "-m", "cnnlab", "course", "build", *a],  # noqa: E731
                                    capture_output=True, text=True, env=env, cwd=COURSE_ROOT)
    stale = run("--check")
    assert stale.returncode == 1 and "python -m cnnlab course build ps9" in stale.stderr, stale
    assert run().returncode == 0 and build(["ps9"], tmp_path, check=True) == {"ps9": "unchanged"}


def test_round_trip_keeps_metadata(tmp_path):
    """notebook -> source -> notebook is the identity (every problem set), and ps1's source is what `source` writes."""
    for name in PROBLEM_SETS:
        nb = nbformat.read(notebook_path(name), as_version=4)
        again = build_notebook(_write(tmp_path / "solutions" / f"{name}.py", to_source(nb)))
        assert notebook_text(again) == notebook_path(name).read_text(encoding="utf-8"), name
    ps1 = nbformat.read(notebook_path("ps1"), as_version=4)
    assert to_source(ps1) == source_path("ps1").read_text(encoding="utf-8")


def test_round_trip_keeps_a_hand_edit(tmp_path):
    """An instructor edits the notebook in JupyterLab (a point value, a locked flag, outputs): the source follows."""
    nb = build_notebook(_write(tmp_path / "solutions" / "ps9.py", TINY))
    test = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_one")
    test.metadata["nbgrader"]["points"] = 5
    test.outputs = [nbformat.v4.new_output("stream", text="an output line")]
    nb.cells[0].metadata["nbgrader"]["locked"] = False
    src = to_source(nb)
    assert '"grade_id": "test_one", "grade": true, "points": 5' in src and '"locked": false' in src
    assert "{points}" in src and "an output line" not in src
    text = "\n".join(c.source for c in build_notebook(_write(tmp_path / "solutions" / "ps9.py", src)).cells)
    assert "## 1. First (6 points)" in text  # recomputed from the edited cell


def test_complete_metadata_keeps_explicit_values():
    assert complete_metadata({"grade_id": "x", "locked": False})["locked"] is False
    assert complete_metadata({"grade_id": "x", "solution": True})["locked"] is False
    assert complete_metadata({"grade_id": "x", "grade": True, "points": 1})["locked"] is True


def test_fill_points_ignores_code_fences():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("## A {points}\n```\n# not a heading {points}\n```")])
    fill_points(nb)
    assert nb.cells[0].source == "## A (0 points)\n```\n# not a heading {points}\n```"


# ------------------------------------------------------------- the contract, on every problem set
@pytest.mark.parametrize("name", PROBLEM_SETS)
def test_heading_points_equal_cell_points(name):
    nb = nbformat.read(notebook_path(name), as_version=4)
    assert check_cells(nb, name) == [h for h in check_cells(nb, name) if "types its points" in h]
    probe = nbformat.read(notebook_path(name), as_version=4)
    for cell in probe.cells:
        if cell.cell_type == "markdown":
            cell.source = POINTS.sub("{points}", cell.source)
    fill_points(probe)
    assert [c.source for c in probe.cells] == [c.source for c in nb.cells], \
        f"{name}: a heading's points differ from its cells' points"
    assert any(POINTS.search(c.source) for c in nb.cells if c.cell_type == "markdown"), f"{name}: no points in headings"


def _visible(source: str) -> str:
    hidden = hidden_lines(source)
    return "\n".join(ln for i, ln in enumerate(source.splitlines(), 1) if i not in hidden)


@pytest.mark.parametrize("name", PROBLEM_SETS)
def test_every_visible_assert_explains_itself(name):
    nb = nbformat.read(notebook_path(name), as_version=4)
    tests = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"]
    assert tests, name
    for cell in tests:
        gid = cell.metadata["nbgrader"]["grade_id"]
        tree = ast.parse(_visible(cell.source))
        assert isinstance(tree.body[0], ast.Expr) and isinstance(tree.body[0].value, ast.Constant), \
            f"{name}/{gid}: a one-line docstring first"
        asserts = [n for n in ast.walk(tree) if isinstance(n, ast.Assert)]
        assert asserts or "raise AssertionError" in cell.source, f"{name}/{gid}: no visible check"
        bare = [ast.unparse(n)[:80] for n in asserts if n.msg is None]
        assert not bare, f"{name}/{gid}: asserts without a message: {bare}"
        testing = [ast.unparse(n)[:80] for n in ast.walk(tree) if isinstance(n, ast.Call)
                   and "testing.assert" in ast.unparse(n.func) and not any(k.arg == "err_msg" for k in n.keywords)]
        assert not testing, f"{name}/{gid}: np.testing calls without err_msg: {testing}"
        assert "### BEGIN HIDDEN TESTS" in cell.source, f"{name}/{gid}: no hidden tests"


@pytest.mark.parametrize("name", PROBLEM_SETS)
def test_check_your_understanding_answers_are_collapsed(name):
    nb = nbformat.read(notebook_path(name), as_version=4)
    cyu = [c.source for c in nb.cells if c.cell_type == "markdown" and "Check your understanding" in c.source]
    for text in cyu:
        assert "<details>" in text and "<summary>" in text, f"{name}: answers go in a collapsed <details> block"


def test_ps1_states_what_the_hidden_tests_require():
    text = "\n".join(c.source for c in nbformat.read(notebook_path("ps1"), as_version=4).cells
                     if c.cell_type == "markdown")
    for needle in ("bias=False", "(K_H, K_W)", "float64", "Return an int", "ValueError", "ints or pairs"):
        assert needle in text, needle
    assert "The check below tells you" not in text


@pytest.mark.slow
def test_ps1_source_runs_as_python():
    """The source is real Python: it runs top to bottom with the solutions (and hidden tests) in place."""
    proc = subprocess.run([sys.executable, str(source_path("ps1"))], capture_output=True, text=True, cwd=COURSE_ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_cli_takes_any_problem_set(capsys):
    from cnnlab.course.cli import _present, main

    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for cmd in ("build", "source", "release", "autograde", "demo", "validate", "lab"):
        assert cmd in out, cmd
    assert main(["demo", "ps9"]) == 2 and "unknown assignment(s) ['ps9']" in capsys.readouterr().err
    assert _present(COURSE_ROOT) == PROBLEM_SETS  # the demo's default: every problem set present
