"""``python -m cnnlab course {export,report,selfgrade}`` and the autograde options for a large class.

`add_commands` adds the subcommands to `cnnlab.course.cli`'s parser,
`add_autograde_options` adds ``--student`` and ``--dask`` to its autograde
command, and `run` executes a command added here (None: not one of ours).
"""
from __future__ import annotations

import sys
from pathlib import Path

__all__ = ["add_commands", "add_autograde_options", "run"]


def add_autograde_options(a) -> None:
    a.add_argument("--student", action="append", default=None, metavar="ID",
                   help="grade only this student (repeatable); the others' records and CSV rows stay as they are")
    a.add_argument("--dask", default=None, metavar="ADDRESS",
                   help="grade on Dask workers: tcp://host:8786 (a running scheduler) or local:N "
                        "(a LocalCluster of N worker processes)")


def add_commands(sub, limits) -> None:
    e = sub.add_parser("export", help="Canvas or Moodle grade-import CSV from the gradebook")
    e.add_argument("assignment", nargs="+")
    e.add_argument("--format", choices=["canvas", "moodle"], required=True)
    e.add_argument("--roster", type=Path, default=None,
                   help="CSV mapping course student ids to LMS ids, names, sections (see cnnlab.course.roster)")
    e.add_argument("--id-column", default=None, help="roster column holding the course student id")
    e.add_argument("--column", action="append", default=None, metavar="HEADER",
                   help="header of a grade column, once per assignment (default: the assignment name; "
                        "Canvas: 'ps1 (123456)' targets its assignment 123456)")
    e.add_argument("--out", type=Path, default=None, help="output CSV (default: <course>/<format>_<assignment>.csv)")
    e.add_argument("--missing-score", type=float, default=None,
                   help="grade for a student without a submission (default: empty, the LMS keeps its value)")
    r = sub.add_parser("report", help="class report: score histogram, pass rates, frequent mistakes (HTML + PNG)")
    r.add_argument("assignment")
    r.add_argument("--out", type=Path, default=None, help="folder (default: <course>/reports/<assignment>)")
    r.add_argument("--top", type=int, default=10, help="mistakes shown (default 10)")
    s = sub.add_parser("selfgrade", help="grade one notebook with the hidden tests, in the sandbox, "
                                         "without touching the course's gradebook")
    s.add_argument("assignment")
    s.add_argument("notebook", type=Path)
    limits(s)


def run(args, root: Path) -> int | None:
    if args.cmd == "export":
        from cnnlab.course.export import export_grades, print_summary

        try:
            summary = export_grades(args.assignment, args.format, root, roster=args.roster, out=args.out,
                                    missing_score=args.missing_score, id_column=args.id_column,
                                    columns=args.column)
        except (ValueError, OSError) as exc:
            print(f"export failed: {exc}", file=sys.stderr)
            return 2
        print_summary(summary)
        return 0
    if args.cmd == "report":
        from cnnlab.course.report import write_report

        try:
            rep, page = write_report(args.assignment, root, args.out, args.top)
        except ValueError as exc:
            print(f"report failed: {exc}", file=sys.stderr)
            return 2
        print(f"{rep.n} graded submission(s) of {rep.assignment}, mean {rep.mean:.2f}/{rep.max_score:g}")
        for m in rep.mistakes[:args.top]:
            print(f"  {m.headline()}")
        if rep.no_verdicts:
            print(f"  no verdict log for: {', '.join(rep.no_verdicts)}", file=sys.stderr)
        print(f"report: {page}")
        return 0
    if args.cmd == "selfgrade":
        from cnnlab.course.cli import _limits
        from cnnlab.course.selfgrade import selfgrade

        try:
            res, feedback = selfgrade(args.assignment, args.notebook, root=root, limits=_limits(args))
        except ValueError as exc:
            print(f"selfgrade failed: {exc}", file=sys.stderr)
            return 2
        print(f"score: {res['score']:g} / {res['max_score']:g}  ({res['status']}: {res.get('summary') or res['reason']})")
        for line in res.get("notes", []):
            print(f"note: {line}")
        print(f"feedback: {feedback}" if feedback else "feedback: none (the notebook could not be graded)")
        return 0
    return None
