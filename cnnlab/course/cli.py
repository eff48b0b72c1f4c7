"""``python -m cnnlab course {release,autograde,demo}`` (and `cnnlab.course.cli_class`'s commands): the instructor pipeline."""
from __future__ import annotations

import argparse
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
    d.add_argument("--dest", type=Path, default=COURSE_ROOT / "demo_class")
    limits(d)
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


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    root = COURSE_ROOT
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
    from cnnlab.course.autograde import autograde

    if args.cmd == "autograde":
        if args.assignment not in assignments(root):
            print(f"unknown assignment {args.assignment!r}; have {assignments(root)}", file=sys.stderr)
            return 2
        start = time.monotonic()
        from cnnlab.course.dask_executor import dask_executor

        with dask_executor(args.dask, args.assignment, root) as executor:
            results = autograde(args.assignment, args.submissions, root=root, workers=args.workers,
                                limits=_limits(args), csv_path=args.csv, executor=executor,
                                students=args.student)
        _report(results, root, args.csv, time.monotonic() - start)
        return 0
    # demo
    from cnnlab.course.demo import build_demo_class
    from cnnlab.course.release import release

    if not (root / "exercises" / "ps1" / "ps1.ipynb").exists() or not (root / "gradebook.db").exists():
        release(["ps1"], root)
    if args.dest.exists():
        shutil.rmtree(args.dest)
    expected = build_demo_class(args.dest, "ps1", root)
    print(f"demo class: {len(expected)} students in {args.dest}")
    start = time.monotonic()
    results = autograde("ps1", args.dest, root=root, workers=args.workers, limits=_limits(args))
    _report(results, root, None, time.monotonic() - start)
    wrong = [r["student"] for r in results if r["score"] != expected.get(r["student"])]
    if wrong:
        print(f"UNEXPECTED scores for {wrong}; expected {expected}", file=sys.stderr)
        return 1
    print("every demo student got the expected score")
    return 0


if __name__ == "__main__":
    sys.exit(main())
