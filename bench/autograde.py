"""Autograding throughput: seconds per submission, and the speed-up of 2 workers over 1.

    python bench/autograde.py [--students 20] [--workers 1 2]

Grades a generated class (the demo class's students, repeated) in a scratch
copy of the course, once per worker count, and prints a table. Targets:
<= 10 s per submission, >= 1.6x with 2 workers (on 2 free cores). Not a test.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from cnnlab.course.autograde import autograde
from cnnlab.course.config import COURSE_ROOT, Limits
from cnnlab.course.demo import build_demo_class
from cnnlab.course.sandbox import bwrap_path


def make_class(dest: Path, students: int) -> None:
    demo = dest.parent / "demo"
    build_demo_class(demo)
    kinds = sorted(p.name for p in demo.iterdir())
    for i in range(students):
        shutil.copytree(demo / kinds[i % len(kinds)], dest / f"student{i:03d}_{kinds[i % len(kinds)]}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--students", type=int, default=20)
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = p.parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="cnnlab-bench-"))
    try:
        course = scratch / "course"
        course.mkdir()
        shutil.copy2(COURSE_ROOT / "nbgrader_config.py", course)
        shutil.copytree(COURSE_ROOT / "solutions" / "ps1", course / "solutions" / "ps1")
        shutil.copytree(COURSE_ROOT / "exercises" / "ps1", course / "exercises" / "ps1")
        subs = scratch / "class"
        make_class(subs, args.students)
        print(f"{args.students} submissions of ps1, sandbox: {'bwrap' if bwrap_path() else 'none'}")
        times = {}
        for workers in args.workers:
            start = time.monotonic()
            results = autograde("ps1", subs, root=course, workers=workers, limits=Limits(), progress=False)
            times[workers] = time.monotonic() - start
            per = [r["seconds"] for r in results]
            print(f"workers={workers}: {times[workers]:6.1f} s wall, {times[workers] / len(results):5.2f} s per "
                  f"submission (one submission alone: median {sorted(per)[len(per) // 2]:.2f} s)")
        if 1 in times:
            for workers, t in times.items():
                if workers != 1:
                    print(f"speed-up of {workers} workers over 1: {times[1] / t:.2f}x")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
