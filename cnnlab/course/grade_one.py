"""Grade one submission in its own temporary working copy.

`grade_submission(job)` runs in a pool worker. It builds a private scratch
course (a copy of the clean template gradebook, the submission, the released
files), checks the notebooks (valid JSON, no duplicate graded cells, no code
that rewrites the grader's libraries: `cnnlab.course.tamper`), then runs
nbgrader's autograde and feedback in a child process (``python -m
cnnlab.course.grade_one SPEC``) that it can kill as a whole if the
wall-clock budget runs out. The kernel itself runs in the
sandbox of `cnnlab.course.sandbox`, confined to
``<scratch>/course/autograded/<student>/<assignment>``. The worker returns
plain data (scores, status, reason, the autograded notebook and the feedback
HTML); it never touches the course's gradebook.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

from cnnlab.course.cells import align_with_release
from cnnlab.course.config import COURSE_ROOT, Limits, nbgrader_env
from cnnlab.course.tamper import find_tampering

__all__ = ["Job", "grade_submission"]


@dataclass
class Job:
    """Everything a worker needs (picklable)."""

    student: str
    assignment: str
    submission: str  # folder holding the student's files for this assignment
    template: str  # scratch course with a clean gradebook.db and the release
    limits: Limits = field(default_factory=Limits)
    root: str = str(COURSE_ROOT)  # where nbgrader_config.py lives
    secret: str = ""  # seeds the hidden cases (`cnnlab.course.verdicts.course_secret`); never in the sandbox


def _result(job, status, reason, **kw):
    out = dict(student=job.student, assignment=job.assignment, status=status, reason=reason,
               score=0.0, max_score=kw.pop("max_score", 0.0), grades={}, notebooks={},
               feedback={}, seconds=0.0)
    out.update(kw)
    return out


def _released_notebooks(job) -> list[str]:
    return sorted(p.name for p in (Path(job.template) / "exercises" / job.assignment).glob("*.ipynb"))


def _max_score(job) -> float:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{Path(job.template) / 'gradebook.db'}") as gb:
        return float(gb.find_assignment(job.assignment).max_score)


def _check_notebook(path: Path, release: dict | None = None) -> tuple[str | None, list[str]]:
    """(fatal problem or None, notes); repairs in place: duplicate cell ids and graded cells,
    nbgrader metadata restored from ``release`` (the released notebook), nbformat 3 upgraded."""
    import nbformat

    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        return f"{path.name} is not valid JSON ({exc.__class__.__name__}: {exc})", []
    try:
        json.dumps(raw, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return f"{path.name} holds text that is not valid Unicode (a lone surrogate escape such as \\ud800)", []
    upgraded = False
    if isinstance(raw, dict) and isinstance(raw.get("nbformat"), int) and raw["nbformat"] < 4 and "worksheets" in raw:
        try:  # note: an old but valid notebook: grade it in today's format
            raw = json.loads(nbformat.writes(nbformat.reads(json.dumps(raw), as_version=4)))
            upgraded = True
        except Exception as exc:  # noqa: BLE001 - any malformed notebook is the student's problem
            return f"{path.name} is an nbformat {raw['nbformat']} notebook that cannot be converted ({exc})", []
    if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
        return f"{path.name} is not a notebook (no list of cells)", []
    nb = raw
    notes, seen_ids, seen_grade = [], set(), set()
    changed = False
    for i, cell in enumerate(nb["cells"]):
        if not isinstance(cell, dict) or "cell_type" not in cell or not isinstance(cell.get("metadata", {}), dict):
            return f"{path.name} has a malformed cell (cell {i})", []
        cid = cell.get("id")
        if cid is not None and cid in seen_ids:
            cell["id"] = f"dup-{i}-{uuid.uuid4().hex[:6]}"
            changed = True
        seen_ids.add(cell.get("id"))
        meta = cell.get("metadata", {}).get("nbgrader", {})
        gid = meta.get("grade_id") if isinstance(meta, dict) else None
        if gid is not None:
            if gid in seen_grade:
                # note: nbgrader aborts on some duplicates; keep the first copy
                # as the graded cell and turn later copies into ordinary cells
                notes.append(f"duplicate cell {gid!r} ignored")
                cell["metadata"].pop("nbgrader", None)
                changed = True
            seen_grade.add(gid)
    if release is not None:
        aligned, edited = align_with_release(nb, release)
        notes += aligned
        changed = changed or edited
    changed = changed or upgraded
    try:
        nb = nbformat.reads(json.dumps(nb), as_version=4)
    except Exception as exc:  # noqa: BLE001 - any malformed notebook is the student's problem
        return f"{path.name} cannot be read as a notebook ({exc.__class__.__name__}: {exc})", []
    if changed:
        path.write_text(nbformat.writes(nb), encoding="utf-8")
    return None, notes


def _copy_submission(src: Path, dest: Path, names: list[str] | None = None, max_bytes: int = 50 << 20) -> list[str]:
    """Copy the student's notebooks ``names`` (default: every regular file); returns notes on what was left out.

    note: only the notebooks: any other file (a startup script, a package
    named like one the grader imports, a timestamp.txt) could run or change
    something before the hidden tests do. Symbolic links are never followed:
    a link to solutions/ would otherwise be copied, as a file.
    """
    notes, others = [], 0
    dest.mkdir(parents=True, exist_ok=True)
    if src.is_symlink():
        return [f"symbolic link {src.name} ignored"]
    for path in sorted(src.rglob("*")):
        rel = path.relative_to(src)
        if any(part in (".ipynb_checkpoints", "__pycache__") for part in rel.parts):
            continue
        if path.is_symlink() or any(p.is_symlink() for p in list(path.parents)[: len(rel.parts) - 1]):
            notes.append(f"symbolic link {rel} ignored")
        elif path.is_file():
            if names is not None and str(rel) not in names:
                others += 1
                continue
            if path.stat().st_size > max_bytes:
                notes.append(f"{rel} ignored (larger than {max_bytes >> 20} MB)")
                continue
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dest / rel)
    if others:
        notes.append(f"{others} file(s) besides the notebooks ignored")
    return notes


def grade_submission(job: Job) -> dict:
    """Grade ``job.submission``; never raises. Returns a dict (see `_result`)."""
    start = time.monotonic()
    try:
        out = _grade(job)
    except Exception as exc:  # noqa: BLE001 - one submission must never stop the batch
        out = _result(job, "error", f"grader error: {exc.__class__.__name__}: {exc}")
    out["seconds"] = round(time.monotonic() - start, 2)
    return out


def _grade(job: Job) -> dict:
    max_score = _max_score(job)
    expected = _released_notebooks(job)
    sub = Path(job.submission)
    found = (sorted(p.name for p in sub.glob("*.ipynb") if p.is_file() and not p.is_symlink())
             if sub.is_dir() and not sub.is_symlink() else [])
    missing = [n for n in expected if n not in found]
    if missing:
        extra = [n for n in found if n not in expected]
        hint = f"; found {', '.join(extra)} instead (rename it to {missing[0]})" if extra else ""
        return _result(job, "missing", f"no {', '.join(missing)} in the submission{hint}",
                       max_score=max_score)
    scratch = Path(tempfile.mkdtemp(prefix="cnnlab-grade-"))
    try:
        course = scratch / "course"
        subdir = course / "submitted" / job.student / job.assignment
        notes = _copy_submission(sub, subdir, expected)
        released = Path(job.template) / "exercises" / job.assignment
        for name in expected:
            if not (subdir / name).is_file():  # left out above: too large
                return _result(job, "invalid", "; ".join(notes) or f"{name} could not be copied", max_score=max_score)
        # note: the notebooks are parsed and scanned by the driver, under its time budget and a
        # memory limit, never here: a pathological notebook must not take the worker (and with it
        # every student queued behind) down
        # note: the kernel works in a folder of its own, apart from nbgrader's autograded/ (which
        # the unsandboxed grader writes): it holds only the released non-notebook files (data)
        kernel_dir = scratch / "kernel"
        kernel_dir.mkdir()
        for path in released.rglob("*"):
            if path.is_file() and path.suffix != ".ipynb":
                dest = kernel_dir / path.relative_to(released)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, dest)
        shutil.copy2(Path(job.template) / "gradebook.db", course / "gradebook.db")
        (scratch / "run").mkdir()
        spec = dict(asdict(job), scratch=str(scratch), notebooks=expected)
        (scratch / "spec.json").write_text(json.dumps(spec))
        budget = job.limits.notebook_timeout * len(expected) + 90
        rc, log = _run_driver(scratch, budget)
        result_file = scratch / "result.json"
        if not result_file.exists():
            why = "timeout" if rc is None else "error"
            reason = (f"grading exceeded its {budget} s budget" if rc is None
                      else f"grader process failed (exit {rc}): {(log.strip().splitlines() or [''])[-1][:300]}")
            return _result(job, why, reason, max_score=max_score)
        res = json.loads(result_file.read_text())
        res.update(student=job.student, assignment=job.assignment)
        res["max_score"] = res.get("max_score") or max_score
        notes += res.pop("precheck_notes", [])
        if notes:
            res["notes"] = notes
            res["reason"] = "; ".join(notes + ([res["reason"]] if res["reason"] else []))
        return res
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _die_with_parent() -> None:
    """In the driver's child, before exec: end it with SIGKILL when its worker ends, so no
    grading process outlives the command (the kernel follows: bwrap --die-with-parent, cgroup)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - not Linux: the budget's killpg still applies
        pass


def _run_driver(scratch: Path, budget: int) -> tuple[int | None, str]:
    env = nbgrader_env({"JUPYTER_RUNTIME_DIR": str(scratch / "run"), "PYTHONHASHSEED": "0"})
    log = scratch / "driver.log"
    with open(log, "wb") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "cnnlab.course.grade_one", str(scratch / "spec.json")],
                                cwd=scratch, env=env, stdout=fh, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=_die_with_parent)
        try:
            rc = proc.wait(timeout=budget)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            rc = None
    text = log.read_bytes()[-20000:].decode("utf-8", "replace")
    return rc, text


# --------------------------------------------------------------------------
# The driver: runs in its own process, inside the scratch course.
# --------------------------------------------------------------------------

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


#: Address space the driver may use while it parses and scans a submission, bytes.
PRECHECK_MEMORY = 3 << 29
#: Most source code a notebook may hold (Python's parser needs ~0.5 GB per MB of some code).
MAX_CODE_BYTES = 2 << 20


def _prechecks(spec) -> dict:
    """Parse, repair and scan the submitted notebooks under a memory limit.

    Returns ``{"notes": [...]}`` when grading may go on, else a verdict
    ``{"status": "invalid" | "tampered", "reason": ...}``.
    """
    import resource

    scratch = Path(spec["scratch"])
    subdir = scratch / "course" / "submitted" / spec["student"] / spec["assignment"]
    released = Path(spec["template"]) / "exercises" / spec["assignment"]
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = PRECHECK_MEMORY if hard == resource.RLIM_INFINITY else min(PRECHECK_MEMORY, hard)
    notes = []
    try:
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
        for name in spec["notebooks"]:
            release_nb = json.loads((released / name).read_text(encoding="utf-8"))
            problem, nb_notes = _check_notebook(subdir / name, release_nb)
            if problem:
                return dict(status="invalid", reason=problem)
            notes += nb_notes
            nb = json.loads((subdir / name).read_text(encoding="utf-8"))
            code = sum(len("".join(c.get("source", ""))) for c in nb.get("cells", [])
                       if isinstance(c, dict) and c.get("cell_type") == "code")
            if code > MAX_CODE_BYTES:
                return dict(status="invalid", reason=f"{name} holds {code / (1 << 20):.1f} MB of code, more than "
                            f"the {MAX_CODE_BYTES >> 20} MB a submission may hold; not graded")
            try:
                tampering = find_tampering(nb)
            except RecursionError:
                return dict(status="invalid", reason=f"{name} is nested too deeply to be checked")
            if tampering:  # note: a report for the instructor; verdicts are the grader's, whatever the kernel does
                more = f" (and {len(tampering) - 1} more)" if len(tampering) > 1 else ""
                notes.append(f"review by hand: {name} rewrites the grader's libraries at run time: "
                             f"{tampering[0]}{more} (graded all the same: the grader decides every verdict)")
    except MemoryError:
        return dict(status="invalid", reason=f"the submission is too large to be checked "
                    f"(parsing it needed more than {cap >> 30} GiB)")
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    return {"notes": notes}


def _status(broken: str | None) -> str:
    if not broken:
        return "graded"
    if "died" in broken:
        return "kernel died"
    if "budget" in broken:
        return "timeout"
    return "stuck"


def _driver(spec_path: str) -> int:
    import logging

    import nbformat
    from nbgrader.api import Gradebook
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    logging.getLogger("traitlets").setLevel(logging.ERROR)
    spec = json.loads(Path(spec_path).read_text())
    scratch = Path(spec["scratch"])
    student, assignment = spec["student"], spec["assignment"]
    verdict = _prechecks(spec)
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
    sys.exit(_driver(sys.argv[1]))
