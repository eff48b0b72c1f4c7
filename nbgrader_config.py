"""nbgrader configuration: the repository root is the course directory.

`solutions/` holds the instructor notebooks (with solutions and hidden
tests), `exercises/` the student release made from them by
`python -m cnnlab course release`. `submitted/`, `autograded/`, `feedback/`
and `gradebook.db` are working folders (git-ignored).

`python -m cnnlab course autograde` loads this file and adds the sandbox
(bubblewrap kernel, resource limits, whole-notebook budget) on top; plain
`nbgrader autograde` also works with it, but runs student code unsandboxed.
"""
import os

c = get_config()  # noqa: F821 - provided by traitlets when nbgrader loads this file

# The course directory is where this file lives, whatever the caller's cwd.
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
c.CourseDirectory.course_id = "cnnlab"

# Source notebooks name the `python3` kernel; autograde re-imposes it.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Execution: a per-cell limit (the sandboxed autograder adds a whole-notebook
# budget and kills kernels that ignore interrupts).
c.Execute.timeout = 30
c.Execute.interrupt_on_timeout = True
c.Execute.extra_arguments = ["--HistoryManager.hist_file=:memory:"]

# Captured output kept in the autograded notebooks and the feedback.
c.LimitOutput.max_lines = 200
c.LimitOutput.max_traceback = 60

# Any stderr output in a test cell zeroes it in nbgrader. Python warnings a
# correct solution may print ("UserWarning: ...", "RuntimeWarning: ...") are
# harmless: drop those stderr chunks before scoring.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = r"\b\w*Warning: "

# A deleted or metadata-stripped test cell is put back instead of silently
# turning into "needs manual grading"; edited test cells are overwritten from
# the source by OverwriteCells (nbgrader's default).
c.OverwriteCells.add_missing_cells = True

# Feedback must not reveal the hidden tests: neither their source
# (ClearHiddenTests) nor the tracebacks that quote it (HideHiddenTracebacks,
# which must run first: it reads the hidden markers).
from nbgrader.preprocessors import ClearHiddenTests, GetGrades  # noqa: E402
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor  # noqa: E402

from cnnlab.course.feedback import HideHiddenTracebacks  # noqa: E402

c.GenerateFeedback.preprocessors = [GetGrades, HideHiddenTracebacks, CSSHTMLHeaderPreprocessor, ClearHiddenTests]
