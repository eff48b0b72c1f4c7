"""The grading driver: one process per submission, inside its scratch course.

It pre-checks the submitted notebooks under a memory limit (valid JSON,
duplicate graded cells, nbgrader metadata restored from the release, code
size, the tamper report: `_prechecks`), then runs nbgrader's autograde with
the sandboxed kernel (`cnnlab.course.sandbox`) while a `VerdictServer`
decides every check the notebook calls, then nbgrader's feedback, and writes
``result.json`` (scores, status, reason, the autograded notebook, feedback
HTML, the grader's verdicts) for its worker (`cnnlab.course.grade_one`).

It runs as ``python -m cnnlab.course.driver SPEC`` or, usually, in a process
forked for this one submission from the worker's long-lived driver
(`cnnlab.course.zygote`), which has imported these libraries once.
"""
from __future__ import annotations

import json
import re
import sys
import time
import uuid
from pathlib import Path

from cnnlab.course.precheck import prechecks

__all__ = ["run_spec", "PRELOAD", "warm_up"]

#: Modules the driver uses, imported once by a long-lived driver before it forks (`cnnlab.course.zygote`).
PRELOAD = ("nbformat", "nbgrader.api", "nbgrader.apps", "nbgrader.coursedir", "nbgrader.preprocessors",
           "nbgrader.converters", "nbconvert.preprocessors", "nbconvert.exporters", "nbclient", "jupyter_client",
           "jupyter_client.manager", "sqlalchemy.dialects.sqlite", "cnnlab.course.cells", "cnnlab.course.sandbox",
           "cnnlab.course.verdicts", "cnnlab.course.feedback", "cnnlab.course.tamper", "cnnlab.course.config", "cnnlab.grading",
           "cnnlab.grading.remote", "cnnlab.grading.exercises._custom", "cnnlab.reference", "torch",
           "torch.nn.functional")


def warm_up() -> None:
    """Fill, once, the caches every grading fills: compiled regular expressions, lexers and the
    HTML exporter's modules (feedback), torch's first calls (references). Run by the long-lived
    driver before it forks (`cnnlab.course.zygote`); no submission is involved.

    note: torch gets one thread: a forked child cannot use a thread pool started in its parent,
    and the workers already use every core, one submission each.
    """
    import nbformat
    import numpy as np
    import torch
    from nbconvert import HTMLExporter
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_output

    from cnnlab.course.sandbox import bwrap_path

    bwrap_path()  # note: its probe (a sandboxed `true`) is cached for every child
    torch.set_num_threads(1)
    error = new_output("error", ename="AssertionError", evalue="x", traceback=["\x1b[0;31mAssertionError\x1b[0m: x"])
    nb = nbformat.v4.new_notebook(cells=[new_markdown_cell("# Title\n*a* `b` [c](#d) $x^2$"),
                                         new_code_cell("import numpy as np\nx = np.ones(3)  # c", outputs=[error])])
    nb.metadata["language_info"] = {"name": "python", "pygments_lexer": "ipython3"}
    HTMLExporter().from_notebook_node(nb)
    from cnnlab import reference as R

    x = np.ones((1, 2, 5, 4))
    R.corr2d(x[0, 0], x[0, 0, :2, :2])
    R.conv2d(x, np.ones((3, 2, 2, 2)), np.zeros(3), stride=1, padding=1)
    R.max_pool2d(x, 2)


def _driver_config(spec):
    from cnnlab.course.cells import DropTestResults
    from cnnlab.course.config import load_nbgrader_config
    from cnnlab.course.sandbox import SandboxExecute
    from nbconvert.preprocessors import ClearMetadataPreprocessor
    from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, IgnorePattern,
                                        LimitOutput, SaveAutoGrades)

    lim = spec["limits"]
    scratch = Path(spec["scratch"])
    c = load_nbgrader_config(Path(spec["root"]))
    c.CourseDirectory.root = str(scratch / "course")
    c.Autograde.autograde_preprocessors = [SandboxExecute, DropTestResults, IgnorePattern, ClearMetadataPreprocessor,
                                           LimitOutput, SaveAutoGrades, AssignLatePenalties,
                                           CheckCellMetadata]
    c.Execute.timeout = lim["cell_timeout"]
    # note: nbclient skips cells tagged "skip-execution"; a student could tag the tests. No tag skips.
    c.SandboxExecute.skip_cells_with_tag = f"cnnlab-never-{uuid.uuid4().hex}"
    c.SandboxExecute.notebook_timeout = lim["notebook_timeout"]
    c.SandboxExecute.max_output_bytes = lim["output_bytes"]
    c.SandboxExecute.max_notebook_output_bytes = lim.get("notebook_output_bytes", 2_000_000)
    c.SandboxKernelManager.workdir = str(scratch / "kernel")
    c.SandboxKernelManager.workdir_mb = lim.get("disk_mb", 256)
    c.SandboxKernelManager.rundir = str(scratch / "run")
    c.SandboxKernelManager.sandbox = lim["sandbox"]
    c.SandboxKernelManager.memory_mb = lim["memory_mb"]
    c.SandboxKernelManager.cpu_s = lim["cpu_s"] or 2 * lim["notebook_timeout"]
    return c


def _failures(nb) -> tuple[list[str], list[str], str | None]:
    """Failed test cells with their first error line (long, short), and why later cells did not run."""
    failed, short, broken, setup = [], [], None, None
    seen_graded = False
    for i, cell in enumerate(nb.cells):
        meta = cell.metadata.get("nbgrader", {})
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if errors and setup is None and not meta.get("grade") and not meta.get("solution") \
                and errors[0].get("ename") != "CellNotRun":
            # a failing setup cell (an import, say) explains every failure after it; an ordinary
            # cell after the graded ones is only that
            kind = "code cell" if seen_graded else "setup cell"
            setup = f"{kind} {i} failed: {errors[0].get('ename')}: {str(errors[0].get('evalue'))[:160]}"
            failed.append(setup)
            short.append(f"{kind} {i} ({errors[0].get('ename')})")
        seen_graded = seen_graded or bool(meta.get("grade") or meta.get("solution"))
        for err in errors:
            if err.get("ename") in ("DeadKernelError", "CellNotRun") and broken is None:
                broken = err.get("evalue", "")
        if meta.get("grade") and cell.cell_type == "code" and errors:
            err = errors[-1]
            if err.get("ename") == "CellNotRun":
                continue
            msg = [ln.strip() for ln in (err.get("evalue") or "").splitlines() if ln.strip()]
            # `check` messages name a diagnosis ("Likely cause:") or at least the problem
            cause = [ln for ln in msg[1:] if ln.startswith(("Likely cause:", "Problem:"))]
            cause.sort(key=lambda ln: not ln.startswith("Likely cause:"))
            text = " ".join(([msg[0][:200]] if msg else []) + [c[:200] for c in cause[:1]])
            failed.append(f"{meta.get('grade_id')}: {err.get('ename')}" + (f": {text}" if text else ""))
            why = cause[0].split(":", 1)[1].strip() if cause else (msg[0] if msg else err.get("ename"))
            short.append(f"{meta.get('grade_id')} ({why if len(why) <= 60 else why[:57] + '...'})")
    return failed, short, broken


def _status(broken: str | None) -> str:
    if not broken:
        return "graded"
    if "died" in broken:
        return "kernel died"
    if "budget" in broken:
        return "timeout"
    return "stuck"


def run_spec(spec_path: str) -> int:
    """Grade the submission that the spec file names; write result.json beside it. Returns 0."""
    import logging

    import nbformat
    from nbgrader.api import Gradebook
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    logging.getLogger("traitlets").setLevel(logging.ERROR)
    spec = json.loads(Path(spec_path).read_text())
    scratch = Path(spec["scratch"])
    student, assignment = spec["student"], spec["assignment"]
    verdict = prechecks(spec)
    if "status" in verdict:
        verdict.update(score=0.0, max_score=0.0, grades={}, notebooks={}, feedback={}, timing={})
        (scratch / "result.json").write_text(json.dumps(verdict))
        return 0
    config = _driver_config(spec)
    coursedir = CourseDirectory(config=config)
    api = NbGraderAPI(coursedir=coursedir, config=config)
    from cnnlab.course.verdicts import VerdictServer

    # note: verdicts are decided here, outside the sandbox; the kernel reaches this socket
    # through its run folder, the only host folder it shares
    server = VerdictServer(str(scratch / "run" / "verdicts.sock"), spec.get("secret") or "", assignment).start()
    t0 = time.monotonic()
    try:
        auto = api.autograde(assignment, student, force=True, create=True)
    finally:
        server.stop()
    timing = {"autograde": round(time.monotonic() - t0, 2)}
    verdict["notes"] = verdict.get("notes", []) + sorted(set(server.notes))
    verdict_log = server.log
    course = scratch / "course"
    if not auto.get("success"):
        lines = [ln.strip() for ln in (auto.get("error") or "").splitlines() + (auto.get("log") or "").splitlines()
                 if ln.strip()]
        # note: nbgrader's last line is "see the above traceback"; the first ERROR line or the
        # exception at the end of the traceback says what went wrong
        said = [ln for ln in lines if ln.startswith("[") and "ERROR" in ln.split("]")[0]] + \
            [ln for ln in lines if re.match(r"^[A-Za-z_.]+(Error|Exception): ", ln)]
        why = said[0] if said else (lines[-1] if lines else "unknown")
        result = dict(status="error", reason="autograde failed: " + why[:300],
                      score=0.0, max_score=0.0, grades={}, notebooks={}, feedback={})
    else:
        t0 = time.monotonic()
        api.generate_feedback(assignment, student, force=True)
        timing["feedback"] = round(time.monotonic() - t0, 2)
        grades, notebooks, feedback, failed, short, broken = {}, {}, {}, [], [], None
        with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
            sub = gb.find_submission(assignment, student)
            score, max_score = float(sub.score), float(sub.max_score)
            for snb in sub.notebooks:
                grades[snb.name] = {g.name: [float(g.score), float(g.max_score)] for g in snb.grades}
        for name in spec["notebooks"]:
            stem = Path(name).stem
            path = course / "autograded" / student / assignment / name
            if path.exists():
                notebooks[name] = path.read_text(encoding="utf-8")
                nb_failed, nb_short, nb_broken = _failures(nbformat.reads(notebooks[name], as_version=4))
                failed += nb_failed
                short += nb_short
                broken = broken or nb_broken
            html = course / "feedback" / student / assignment / f"{stem}.html"
            if html.exists():
                feedback[f"{stem}.html"] = html.read_text(encoding="utf-8")
        status = _status(broken)
        if broken:
            broken = f"cells not run: {broken}"
        reason = "; ".join(failed + ([broken] if broken else [])) or "all tests passed"
        summary = ("failed " + ", ".join(short) if short else "all tests passed") + (
            f"; {broken}" if broken else "")
        result = dict(status=status, reason=reason, summary=summary, score=score, max_score=max_score, grades=grades,
                      notebooks=notebooks, feedback=feedback, precheck_notes=verdict.get("notes", []))
    result["timing"] = timing
    result["verdicts"] = verdict_log
    (scratch / "result.json").write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(run_spec(sys.argv[1]))
