"""Kernel launcher: apply resource limits, then become ``python -m ipykernel_launcher``.

Runs as the first program inside the sandbox (``python -m cnnlab.course.launch
--memory-mb M --cpu-s S --fsize-mb F -- -f CONNECTION_FILE``). The limits are
inherited by everything the student's code starts; the kernel cannot raise a
hard limit again.
"""
from __future__ import annotations

import os
import resource
import sys

_MB = 1024 * 1024


def _set(limit, value, grace=0):
    if value and value > 0:
        resource.setrlimit(limit, (value, value + grace))


def main(argv=None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    opts, rest = {}, argv
    if "--" in argv:
        head, rest = argv[: argv.index("--")], argv[argv.index("--") + 1:]
        opts = dict(zip(head[::2], head[1::2]))
    _set(resource.RLIMIT_AS, int(opts.get("--memory-mb", 0)) * _MB)
    # note: a soft limit below the hard one sends SIGXCPU first, so the grader can tell the CPU
    # limit from other kills; code that ignores SIGXCPU still gets SIGKILL 5 s later
    _set(resource.RLIMIT_CPU, int(opts.get("--cpu-s", 0)), grace=5)
    _set(resource.RLIMIT_FSIZE, int(opts.get("--fsize-mb", 0)) * _MB)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no core dumps in the working copy
    if opts.get("--pid-namespace") == "1":
        # note: in bwrap's pid namespace our parent is its init (pid 1), which
        # ipykernel's parent poller reads as "the client exited"; bwrap's
        # --die-with-parent does that job instead.
        os.environ.pop("JPY_PARENT_PID", None)
    # One BLAS/OpenMP thread: graders run several kernels side by side, and
    # thread pools reserve address space that would count against RLIMIT_AS.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    os.execv(sys.executable, [sys.executable, "-Xfrozen_modules=off", "-m", "ipykernel_launcher", *rest])


if __name__ == "__main__":
    main()
