"""The course pipeline around nbgrader: build, release, sandboxed parallel autograde, demo class, student commands.

Modules (imported on demand, so the kernel launcher stays light):
    build      solutions/psN.py (jupytext percent) -> solutions/psN/psN.ipynb, and back
    config     course root (the repository), default limits, nbgrader config loading
    release    ``generate_assignment`` from solutions/ into exercises/ (reproducible)
    sandbox    bubblewrap kernel manager and the hardened nbgrader Execute preprocessor
    launch     in-sandbox launcher: resource limits, then ipykernel
    bundle     what a job carries to a worker: the student's notebooks and the grading course, as bytes
    grade_one  grade one submission in its own scratch course (the worker's side)
    driver     the grading driver: pre-checks, nbgrader autograde with the grader's verdicts, feedback
    precheck   parse, repair and scan a submitted notebook before any of it runs
    collect    find each student's files in a submissions folder (folders, zips, LMS file names)
    zygote     one long-lived driver per worker, forking a fresh process for each submission
    autograde  collect submissions, fan out over an Executor, record, table, CSV
    demo       a demo class generated from the solution, with expected scores (students: demos/psN.py)
    feedback   feedback tracebacks that never quote hidden tests
    validate   a student's dry run: visible tests, the grader's sandbox and limits
    lab        JupyterLab on exercises/ for students (127.0.0.1 only)
    cli        ``python -m cnnlab course {build,source,release,autograde,demo,validate}``
"""
import os as _os
import sys as _sys

# note: nbgrader creates gradebooks by running `alembic`, found on PATH; when
# cnnlab is used from a venv that was not activated, put its bin/ first.
_bin = _os.path.dirname(_sys.executable)
if _bin not in _os.environ.get("PATH", "").split(_os.pathsep):
    _os.environ["PATH"] = _bin + _os.pathsep + _os.environ.get("PATH", "")
