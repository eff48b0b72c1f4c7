"""Autograding throughput: submissions per minute for 1 and 2 workers, and where a submission's time goes.

    python bench/autograde.py [--students 8] [--workers 1 2] [--dask] [--fresh] [--repeat 3]

Grades a generated class (the demo class's students, repeated) in a scratch
copy of the course, once per worker count (local pool; with ``--dask`` also
``--dask local:N``; with ``--fresh`` also the local pool with a new driver
interpreter per submission instead of one long-lived driver per worker,
``CNNLAB_FRESH_DRIVER=1``), and prints submissions per minute, the parallel
efficiency (t1 / (N * tN)), the machine's busy CPU time during the batch
(from /proc/stat: every process on the machine, so run it on a quiet one;
rusage would miss the sandboxed kernels, which are not reaped by a process
this one waits for) and the time 100 submissions would take at that rate. Then it measures the fixed start-up costs one submission
pays, side by side, each the median of ``--repeat`` runs:

- python:   a bare interpreter start (subtracted from the others),
- driver:   the grading driver's imports (nbgrader's API, cnnlab.course),
- kernel:   an ipykernel start to ready and shutdown, outside the sandbox,
- imports:  numpy + cnnlab.grading's check, as ps1's setup cell does (no torch:
            in grading mode the grader computes the references),
- +torch:   the same with torch, as a torch problem set's kernel pays,
- sandbox:  bubblewrap's namespaces and binds around a bare interpreter,

and, from the batch's results, the per-submission split reported by the
driver (nbgrader autograde = kernel + cells; feedback; the rest = pre-checks,
scratch copies, driver start). Targets (issue 20): 100 ps1 submissions in
<= 3 minutes on 2 cores, >= 80% efficiency from 1 to 2 workers. Not a test.
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cnnlab.course.autograde import autograde
from cnnlab.course.config import Limits
from cnnlab.course.demo import build_demo_class
from cnnlab.course.sandbox import bwrap_command, bwrap_path
from cnnlab.course.selfgrade import scratch_course


def make_class(dest: Path, students: int) -> None:
    demo = dest.parent / "demo"
    build_demo_class(demo, "ps1")
    kinds = sorted(p.name for p in demo.iterdir())
    for i in range(students):
        shutil.copytree(demo / kinds[i % len(kinds)], dest / f"student{i:03d}_{kinds[i % len(kinds)]}")


def _machine_cpu() -> float:
    """Busy CPU seconds of the whole machine so far (all cores; /proc/stat), or this process
    tree's rusage where /proc/stat is missing."""
    try:
        with open("/proc/stat") as fh:
            ticks = [int(x) for x in fh.readline().split()[1:]]
    except (OSError, ValueError):
        return _children_cpu()
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")  # note: minus idle and iowait


def _children_cpu() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _timed(cmd: list[str], repeat: int) -> tuple[float, float]:
    """Median (wall, CPU) seconds of running ``cmd`` to completion."""
    walls, cpus = [], []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        walls.append(time.perf_counter() - t0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


def _kernel_start(repeat: int) -> tuple[float, float]:
    from jupyter_client import KernelManager

    walls, cpus = [], []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as rundir:
            c0, t0 = _children_cpu(), time.perf_counter()
            # note: ipc sockets, as the grader's sandboxed kernels use (tcp would also warn)
            km = KernelManager(kernel_name="python3", transport="ipc",
                               ip=os.path.join(rundir, "k-ipc"),
                               connection_file=os.path.join(rundir, "k.json"))
            km.start_kernel(extra_arguments=["--HistoryManager.hist_file=:memory:"])
            kc = km.client()
            kc.start_channels()
            kc.wait_for_ready(timeout=120)
            kc.stop_channels()
            km.shutdown_kernel(now=False)
            walls.append(time.perf_counter() - t0)
            cpus.append(_children_cpu() - c0)
    return statistics.median(walls), statistics.median(cpus)


def overheads(repeat: int) -> dict[str, tuple[float, float]]:
    py = sys.executable
    out = {"python": _timed([py, "-c", "pass"], repeat),
           "driver": _timed([py, "-c", "from nbgrader.apps import NbGraderAPI; import cnnlab.course.driver, "
                                       "cnnlab.course.verdicts, cnnlab.course.sandbox"], repeat),
           "kernel": _kernel_start(repeat),
           "imports": _timed([py, "-c", "import numpy; from cnnlab.grading import check"], repeat),
           "+torch": _timed([py, "-c", "import numpy, torch; from cnnlab.grading import check"], repeat)}
    if bwrap_path():
        with tempfile.TemporaryDirectory() as work, tempfile.TemporaryDirectory() as run:
            out["sandbox"] = _timed(bwrap_command(work, run, bwrap_path(), 64) + [py, "-c", "pass"], repeat)
    return out


def _batch(subs: Path, course: Path, workers: int, mode: str) -> tuple[float, float, list[dict]]:
    import os

    from cnnlab.course.zygote import FRESH_ENV

    c0, t0 = _machine_cpu(), time.monotonic()
    if mode == "fresh":
        os.environ[FRESH_ENV] = "1"
    else:
        os.environ.pop(FRESH_ENV, None)
    if mode == "dask":
        from cnnlab.course.dask_executor import dask_executor

        with dask_executor(f"local:{workers}", "ps1", course) as ex:
            t0 = time.monotonic()  # note: the cluster's start is paid once per batch, not per submission
            results = autograde("ps1", subs, root=course, limits=Limits(), progress=False, executor=ex)
            wall = time.monotonic() - t0
    else:
        results = autograde("ps1", subs, root=course, workers=workers, limits=Limits(), progress=False)
        wall = time.monotonic() - t0
    return wall, _machine_cpu() - c0, results


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--students", type=int, default=8)
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    p.add_argument("--dask", action="store_true", help="also grade through --dask local:N")
    p.add_argument("--fresh", action="store_true", help="also grade with a new driver interpreter per submission")
    p.add_argument("--repeat", type=int, default=3, help="runs per start-up measurement (median)")
    p.add_argument("--no-batch", action="store_true", help="only the start-up measurements")
    args = p.parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="cnnlab-bench-"))
    try:
        course = scratch_course(scratch / "course")
        subs = scratch / "class"
        make_class(subs, args.students)
        print(f"{args.students} submissions of ps1, sandbox: {'bwrap' if bwrap_path() else 'none'}")
        times, per_sub = {}, []
        extra = [m for m in ("fresh", "dask") if getattr(args, m)]
        modes = [] if args.no_batch else [(m, w) for m in ["pool", *extra] for w in args.workers]
        for mode, workers in modes:
            wall, cpu, results = _batch(subs, course, workers, mode)
            times[mode, workers] = wall
            per_sub += results
            bad = [r["student"] for r in results if r["status"] not in ("graded", "partial")]
            print(f"{mode:5} workers={workers}: {wall:6.1f} s wall, {60 * len(results) / wall:5.1f} submissions/min "
                  f"(100 in {100 * wall / len(results) / 60:.1f} min), machine busy {cpu:6.1f} CPU-s "
                  f"({cpu / wall:.2f} cores, {cpu / len(results):.2f} CPU-s per submission)" + (f"; not graded: {bad}" if bad else ""))
        for (mode, workers), t in times.items():
            if workers != 1 and (mode, 1) in times:
                print(f"{mode}: {workers} workers over 1: {times[mode, 1] / t:.2f}x "
                      f"(efficiency {times[mode, 1] / (workers * t):.0%})")
            if mode == "fresh" and ("pool", workers) in times:
                print(f"long-lived driver over a fresh one, {workers} worker(s): {t / times['pool', workers]:.2f}x faster")
        if per_sub:
            med = lambda key: statistics.median(r.get("timing", {}).get(key, 0.0) for r in per_sub)  # noqa: E731
            total = statistics.median(r["seconds"] for r in per_sub)
            print(f"per submission (median wall, seconds): total {total:.2f} = nbgrader autograde "
                  f"{med('autograde'):.2f} + feedback {med('feedback'):.2f} + rest "
                  f"{total - med('autograde') - med('feedback'):.2f}")
        print(f"start-up costs (median of {args.repeat}; wall / CPU seconds, python start subtracted):")
        costs = overheads(args.repeat)
        base_w, base_c = costs["python"]
        print(f"  {'python':8} {base_w:6.2f} / {base_c:5.2f}  (bare interpreter)")
        for name, (w, c) in costs.items():
            if name != "python":
                print(f"  {name:8} {w - base_w:6.2f} / {c - base_c:5.2f}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
