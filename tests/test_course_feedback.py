"""Feedback tracebacks never quote hidden tests (fast: synthetic tracebacks, no kernels)."""
from __future__ import annotations

import nbformat

from cnnlab.course.feedback import HIDDEN_NOTE, HideHiddenTracebacks, clean_traceback, hidden_lines

SOURCE = '''"""pad2d: visible and hidden checks."""
### BEGIN HIDDEN TESTS
from cnnlab.grading import check
check("pad2d", pad2d, seed=2).raise_if_failed()
### END HIDDEN TESTS
out = pad2d(np.ones((2, 3)), 1)
assert out.shape == (4, 5), f"expected (4, 5), got {out.shape}"'''
RED = "\x1b[0;31m"


def _tb(line, extra=()):
    return ["\x1b[0;31m-----\x1b[0m\n\x1b[0;31mAssertionError\x1b[0m    Traceback (most recent call last)",
            f"Cell \x1b[0;32mIn[7], line {line}\x1b[0m\n      3 from cnnlab.grading import check\n"
            f"{RED}----> 4 check(\"pad2d\", pad2d, seed=2).raise_if_failed()\n      5 ### END HIDDEN TESTS",
            *extra, "File /x/cnnlab/grading/result.py:28, in CheckResult.raise_if_failed(self)\n---> 28 raise",
            "\x1b[0;31mAssertionError\x1b[0m: pad2d failed.\n  Likely cause: all the zeros are added after"]


def test_hidden_lines():
    assert hidden_lines(SOURCE) == {2, 3, 4, 5}


def test_a_hidden_frame_becomes_a_note_and_library_frames_go():
    out = clean_traceback(_tb(4), {7: SOURCE})
    text = "\n".join(out)
    assert HIDDEN_NOTE in text and "check(" not in text and "result.py" not in text
    assert "Likely cause: all the zeros are added after" in text and "Traceback (most recent call last)" in text


def test_a_visible_frame_shows_its_line_only():
    out = clean_traceback(_tb(7), {7: SOURCE})
    text = "\n".join(out)
    assert 'In this test cell:\n----> assert out.shape == (4, 5), f"expected (4, 5), got {out.shape}"' in text
    assert "check(" not in text


def test_student_frames_are_kept_and_quotes_of_hidden_lines_removed():
    student = "Cell In[3], line 2, in pad2d\n      1 def pad2d(x, padding):\n----> 2     raise ValueError('mine')"
    quote = 'Input In [9], in <cell line: 4>()\n----> 4 check("pad2d", pad2d, seed=2).raise_if_failed()'
    out = clean_traceback(_tb(4, [student, "some other part quoting check(\"pad2d\", pad2d, seed=2).raise_if_failed()"]),
                          {7: SOURCE})
    assert student in out and all('check("pad2d"' not in p for p in out)
    assert clean_traceback([quote], {9: SOURCE}) == [HIDDEN_NOTE]  # IPython's older frame header


def test_preprocessor_rewrites_only_error_outputs():
    test = nbformat.v4.new_code_cell(SOURCE, execution_count=7, metadata={"nbgrader": {
        "grade": True, "solution": False, "grade_id": "test_pad2d", "points": 1}})
    test.outputs = [nbformat.v4.new_output("stream", text="ok\n"),
                    nbformat.v4.new_output("error", ename="AssertionError", evalue="pad2d failed", traceback=_tb(4))]
    nb = nbformat.v4.new_notebook(cells=[test])
    nb, _ = HideHiddenTracebacks().preprocess(nb, {})
    assert nb.cells[0].outputs[0].text == "ok\n"
    assert not any("check(" in p for p in nb.cells[0].outputs[1].traceback)
    assert nb.cells[0].source == SOURCE  # ClearHiddenTests, which runs next, removes the hidden source
