"""One long-lived grading driver per worker, forking a fresh process for each submission.

Starting the driver costs more than grading a short notebook: the
interpreter, nbgrader, nbconvert, jupyter_client and torch (for the
references) take seconds to import, paid again for every student. A
`Zygote` is a single-threaded process that imports them once
(`cnnlab.course.driver.PRELOAD`) and then, for each submission, forks a
child that runs `cnnlab.course.driver.run_spec` in its own session, with the
submission's environment, working folder and log. Nothing is shared between
students: each child starts from the zygote's state as it was before any
grading, and student code never runs in the zygote or in the child (it runs
in the child's sandboxed kernel).

The worker keeps the wall-clock budget: when it runs out it asks the zygote
to kill the child's whole session (the zygote reaps the child, so the pid
cannot be reused before the kill). The child dies with the zygote and the
zygote with the worker thread that started it (``PR_SET_PDEATHSIG``). A
zygote that died is started again for the next submission. Where ``fork`` is
missing, or with ``CNNLAB_FRESH_DRIVER=1``, each submission gets a new
interpreter (``python -m cnnlab.course.driver``), as before.

Protocol (JSON lines on the zygote's stdin/stdout): the worker sends
``{"spec", "cwd", "env", "log"}``; the zygote answers ``{"pid"}`` and, when
the child has ended, ``{"rc"}`` (negative: killed by that signal). A line
``{"kill": pid}`` kills the running child's session.
"""
from __future__ import annotations

import importlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
import traceback

__all__ = ["Zygote", "run_driver", "FRESH_ENV"]

#: Set to 1 to start a new interpreter per submission instead of forking (slower; for comparison).
FRESH_ENV = "CNNLAB_FRESH_DRIVER"
_local = threading.local()
_started: list["Zygote"] = []


def _close_all() -> None:
    for zygote in _started:
        zygote.close()


def die_with_parent() -> None:
    """Before exec, or in a forked child: SIGKILL this process when its parent (thread) ends."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - not Linux: the budget's killpg still applies
        pass


def _fresh(spec: str, cwd: str, env: dict, log: str, budget: float) -> int | None:
    """The driver in a new interpreter (no zygote); None when the budget ran out."""
    with open(log, "wb") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "cnnlab.course.driver", spec], cwd=cwd, env=env, stdout=fh,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
                                preexec_fn=die_with_parent)
        try:
            return proc.wait(timeout=budget)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return None


class Zygote:
    """A preloaded driver process that forks one child per submission (see the module's text)."""

    def __init__(self, env: dict | None = None):
        self._env = env
        self._proc: subprocess.Popen | None = None

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> "Zygote":
        from cnnlab.course.config import nbgrader_env

        # note: PYTHONHASHSEED is read once, at interpreter start: every child shares the zygote's;
        # one BLAS/OpenMP thread: no thread pool in the zygote when it forks (the kernel, a new
        # interpreter, gets the submission's own environment)
        threads = {k: "1" for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
        env = self._env or nbgrader_env({"PYTHONHASHSEED": "0", **threads})
        # note: unbuffered pipes: a buffered reader could hold the next line where select() cannot see it
        self._proc = subprocess.Popen([sys.executable, "-m", "cnnlab.course.zygote"], stdin=subprocess.PIPE, bufsize=0,
                                      stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env,
                                      start_new_session=True, preexec_fn=die_with_parent)
        return self

    def close(self) -> None:
        """End the zygote (it ends when its input closes) and reap it."""
        if self._proc is not None:
            for fh in (self._proc.stdin, self._proc.stdout):
                try:
                    fh.close()
                except OSError:
                    pass
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None

    def _send(self, msg: dict) -> None:
        data = (json.dumps(msg) + "\n").encode()
        while data:  # note: unbuffered: a write may take only part
            data = data[self._proc.stdin.write(data):]

    def _line(self, timeout: float | None) -> dict | None:
        """The zygote's next message; None on timeout; EOFError when it died."""
        out = self._proc.stdout
        if timeout is not None and not select.select([out], [], [], max(timeout, 0))[0]:
            return None
        line = out.readline()
        if not line:
            raise EOFError("the long-lived driver ended")
        return json.loads(line)

    def run(self, spec: str, cwd: str, env: dict, log: str, budget: float) -> int | None:
        """Run the driver for ``spec`` in a forked child; its exit code, or None when ``budget`` ran out.

        Raises:
            EOFError: the zygote died (the child died with it); the caller may start a new one.
        """
        if not self.alive():
            self.start()
        self._send({"spec": spec, "cwd": cwd, "env": env, "log": log})
        first = self._line(120.0)  # note: the zygote's own start (imports) comes first
        if first is None or "pid" not in first:
            self.close()
            raise EOFError("the long-lived driver did not start the submission's process")
        deadline = time.monotonic() + budget
        msg = self._line(budget)
        if msg is None:  # note: over budget: the zygote kills the child's session and reaps it
            self._send({"kill": first["pid"]})
            while msg is None or "rc" not in msg:
                msg = self._line(max(30.0, deadline - time.monotonic()))
                if msg is None:
                    self.close()
                    raise EOFError("the long-lived driver did not end an over-budget submission")
            return None
        return int(msg["rc"])


def run_driver(spec: str, cwd: str, env: dict, log: str, budget: float) -> int | None:
    """Run the grading driver for one submission: in this thread's zygote, else a fresh interpreter.

    Returns the driver's exit code, or None when ``budget`` (seconds) ran out.
    """
    if not hasattr(os, "fork") or os.environ.get(FRESH_ENV) == "1":
        return _fresh(spec, cwd, env, log, budget)
    zygote = getattr(_local, "zygote", None)
    if zygote is None:
        zygote = _local.zygote = Zygote()
        if not _started:
            # note: a pool worker ends through multiprocessing, which skips atexit but runs its finalizers
            import atexit
            from multiprocessing import util

            atexit.register(_close_all)
            util.Finalize(None, _close_all, exitpriority=10)
        _started.append(zygote)
    for _ in (1, 2):  # note: a zygote that died mid-submission (killed from outside) gets one more try
        try:
            return zygote.run(spec, cwd, env, log, budget)
        except (EOFError, OSError, ValueError) as exc:
            zygote.close()  # note: started again on the next run
            with open(log, "ab") as fh:
                fh.write(f"\nthe long-lived grading driver failed: {exc.__class__.__name__}: {exc}\n".encode())
    return 1


# --------------------------------------------------------------------------
# The zygote process
# --------------------------------------------------------------------------

def _child(req: dict, keep: tuple[int, ...]) -> None:
    """In the forked child: become the submission's driver; never returns."""
    rc = 1
    try:
        os.setsid()
        die_with_parent()
        signal.signal(signal.SIGINT, signal.default_int_handler)
        fd = os.open(req["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        for f in (fd, null, *keep):
            if f > 2:
                os.close(f)
        os.chdir(req["cwd"])
        os.environ.clear()
        os.environ.update({str(k): str(v) for k, v in req["env"].items()})
        from cnnlab.course.driver import run_spec

        rc = run_spec(req["spec"])
    except SystemExit as exc:
        rc = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # noqa: BLE001 - reported in the log; the worker reads it
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(rc)


def _wait(pid: int, inp) -> int:
    """Wait for the child ``pid`` while answering kill requests; its exit code."""
    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        pidfd = None
    try:
        while True:
            ready = select.select([inp] + ([pidfd] if pidfd is not None else []), [], [],
                                  None if pidfd is not None else 0.05)[0]
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return os.waitstatus_to_exitcode(status)
            if inp in ready:
                line = inp.readline()
                if not line:  # note: the worker is gone: so is this submission
                    os.killpg(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                    os._exit(0)
                if json.loads(line).get("kill") == pid:
                    try:
                        os.killpg(pid, signal.SIGKILL)  # note: not reaped yet, so the pid is still the child's
                    except ProcessLookupError:
                        pass
    finally:
        if pidfd is not None:
            os.close(pidfd)


def _serve() -> int:
    from cnnlab.course.driver import PRELOAD, warm_up

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # note: the worker ends it, not a terminal's ^C
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a missing optional module is imported by the child, if needed
            pass
    try:
        warm_up()
    except Exception:  # noqa: BLE001 - a cold cache is slower, not wrong
        traceback.print_exc()
    # note: unbuffered, see Zygote.start
    inp, out = open(0, "rb", buffering=0, closefd=False), open(1, "wb", buffering=0, closefd=False)
    for line in iter(inp.readline, b""):
        req = json.loads(line)
        if "spec" not in req:
            continue  # note: a kill request for a child that already ended
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            _child(req, (inp.fileno(), out.fileno()))
        out.write((json.dumps({"pid": pid}) + "\n").encode())
        rc = _wait(pid, inp)
        out.write((json.dumps({"rc": rc}) + "\n").encode())
    return 0


if __name__ == "__main__":
    sys.exit(_serve())
