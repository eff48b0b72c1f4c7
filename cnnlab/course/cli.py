"""``python -m cnnlab course {build,source,release,autograde,demo,validate,lab}`` and `cnnlab.course.cli_class`'s
commands (export, report, selfgrade; autograde --student, --dask): the course pipeline."""
from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import time
from pathlib import Path

from cnnlab.course.config import COURSE_ROOT, Limits, assignments

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m cnnlab course",
                                description="Release problem sets and autograde them in a sandbox.")
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="solutions/psN.py -> solutions/psN/psN.ipynb (jupytext source to nbgrader)")
    b.add_argument("assignments", nargs="*", help="default: every solutions/psN.py")
    b.add_argument("--check", action="store_true", help="fail when a committed notebook differs from its source")
    s = sub.add_parser("source", help="the way back: solutions/psN/psN.ipynb -> solutions/psN.py")
    s.add_argument("assignments", nargs="+")
    r = sub.add_parser("release", help="nbgrader generate_assignment: solutions/ -> exercises/")
    r.add_argument("assignments", nargs="*", help="default: every folder of solutions/")

    def limits(q):
        q.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1),
                       help="parallel submissions (default: 2)")
        q.add_argument("--timeout", type=int, default=30, help="seconds per cell (default 30)")
        q.add_argument("--notebook-timeout", type=int, default=300,
                       help="wall-clock seconds per notebook (default 300)")
        q.add_argument("--memory", type=int, default=2048, help="kernel memory limit, MiB (default 2048)")
        q.add_argument("--cpu", type=int, default=0,
                       help="kernel CPU-time limit, seconds (default: twice the notebook timeout)")
        q.add_argument("--sandbox", choices=["auto", "bwrap", "none"], default="auto",
                       help="bubblewrap: auto (when installed, else a warning), required, or off")

    a = sub.add_parser("autograde", help="grade DIR/<student>/<assignment>/*.ipynb in parallel")
    a.add_argument("assignment")
    a.add_argument("--submissions", required=True, type=Path, help="folder of submissions")
    a.add_argument("--csv", type=Path, default=None, help="grades CSV (default: grades.csv)")
    limits(a)
    from cnnlab.course.cli_class import add_autograde_options, add_commands

    add_autograde_options(a)
    add_commands(sub, limits)
    d = sub.add_parser("demo", help="release, build a demo class from the solution, grade it")
    d.add_argument("assignments", nargs="*", help="default: every problem set present")
    d.add_argument("--dest", type=Path, default=COURSE_ROOT / "demo_class")
    limits(d)
    lab = sub.add_parser("lab", help="JupyterLab on exercises/ (127.0.0.1 only, the course kernel); prints the URL")
    lab.add_argument("--folder", type=Path, default=None, help="default: exercises/")
    lab.add_argument("--port", type=int, default=0, help="default: a free port")
    v = sub.add_parser("validate", help="run a student's notebook as the autograder would, visible tests only")
    v.add_argument("assignment")
    v.add_argument("notebook", type=Path)
    limits(v)
    return p


def _limits(args) -> Limits:
    return Limits(cell_timeout=args.timeout, notebook_timeout=args.notebook_timeout,
                  memory_mb=args.memory, cpu_s=args.cpu, sandbox=args.sandbox)


def _report(results, root: Path, csv_path: Path | None, seconds: float) -> None:
    from cnnlab.course.autograde import format_table

    print(format_table(results))
    n = len(results)
    print(f"\n{n} submission(s) in {seconds:.1f} s ({seconds / max(n, 1):.1f} s each)")
    print(f"feedback:  {root / 'feedback'}/<student>/<assignment>/*.html")
    print(f"grades:    {csv_path or root / 'grades.csv'}  (gradebook: {root / 'gradebook.db'})")


def _build(args, root: Path) -> int:
    from cnnlab.course.build import build, notebook_path

    try:
        status = build(args.assignments or None, root, check=args.check)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 1
    for name, what in status.items():
        print(f"{notebook_path(name, root).relative_to(root)}: {what}")
    bad = [n for n, what in status.items() if what in ("differs", "missing")]
    if bad:
        print(f"out of date: {bad}; run `python -m cnnlab course build {' '.join(bad)}`", file=sys.stderr)
        return 1
    return 0


def _source(args, root: Path) -> int:
    import nbformat

    from cnnlab.course.build import notebook_path, source_path, to_source

    for name in args.assignments:
        nb = nbformat.read(notebook_path(name, root), as_version=4)
        source_path(name, root).write_text(to_source(nb), encoding="utf-8")
        print(f"wrote {source_path(name, root).relative_to(root)} from {notebook_path(name, root).relative_to(root)}")
    return 0


def _present(root: Path) -> list[str]:
    """The syllabus's problem sets whose source exists and whose notebook is built."""
    from cnnlab.syllabus import problem_sets_present

    return [name for name in problem_sets_present(root) if name in assignments(root)]


def _demo(args, root: Path) -> int:
    from cnnlab.course.autograde import autograde
    from cnnlab.course.demo import build_demo_class
    from cnnlab.course.release import release

    names = args.assignments or _present(root)
    unknown = sorted(set(names) - set(assignments(root)))
    if unknown:
        print(f"unknown assignment(s) {unknown}; have {assignments(root)}", file=sys.stderr)
        return 2
    missing = [n for n in names if not (root / "exercises" / n / f"{n}.ipynb").exists()]
    if missing or not (root / "gradebook.db").exists():
        release(missing or names, root)
    if args.dest.exists():
        shutil.rmtree(args.dest)
    wrong = {}
    for name in names:
        expected = build_demo_class(args.dest / name, name, root)
        print(f"demo class {name}: {len(expected)} students in {args.dest / name}")
        start = time.monotonic()
        results = autograde(name, args.dest / name, root=root, workers=args.workers, limits=_limits(args))
        _report(results, root, None, time.monotonic() - start)
        wrong.update({f"{name}/{r['student']}": (r["score"], expected.get(r["student"]))
                      for r in results if r["score"] != expected.get(r["student"])})
    if wrong:
        print("UNEXPECTED scores (got, expected): " + ", ".join(f"{k} {v}" for k, v in sorted(wrong.items())),
              file=sys.stderr)
        return 1
    print(f"every demo student got the expected score ({', '.join(names)})")
    return 0


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    root = COURSE_ROOT
    if args.cmd == "build":
        return _build(args, root)
    if args.cmd == "source":
        return _source(args, root)
    if args.cmd == "release":
        from cnnlab.course.release import release

        for folder in release(args.assignments or None, root):
            print(f"released {folder.relative_to(root)}/: "
                  + ", ".join(sorted(p.name for p in folder.iterdir())))
        return 0
    from cnnlab.course.cli_class import run

    code = run(args, root)
    if code is not None:
        return code
    if args.cmd == "lab":
        from cnnlab.course.lab import main as lab

        return lab(args.folder, args.port)
    if args.cmd == "validate":
        from cnnlab.course.validate import main as validate

        return validate(args.assignment, args.notebook, _limits(args), root)
    if args.cmd == "demo":
        return _demo(args, root)
    from cnnlab.course.autograde import autograde

    if args.cmd == "autograde":
        if args.assignment not in assignments(root):
            print(f"unknown assignment {args.assignment!r}; have {assignments(root)}", file=sys.stderr)
            return 2
        start = time.monotonic()
        from cnnlab.course.dask_executor import dask_executor

        with contextlib.ExitStack() as stack:
            try:
                executor = stack.enter_context(dask_executor(args.dask, args.assignment, root))
            except ValueError as exc:  # note: a bad address, an unreachable scheduler, no GPU worker
                print(exc, file=sys.stderr)
                return 2
            results = autograde(args.assignment, args.submissions, root=root, workers=args.workers,
                                limits=_limits(args), csv_path=args.csv, executor=executor,
                                students=args.student)
        _report(results, root, args.csv, time.monotonic() - start)
        return 0
    raise AssertionError(args.cmd)


if __name__ == "__main__":
    sys.exit(main())
