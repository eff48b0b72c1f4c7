"""Run the student's function under a time limit.

In the main thread (where a Jupyter kernel runs its cells) a ``SIGALRM``
interval timer interrupts a slow function: the handler raises `TimeLimit`, a
``BaseException`` so that ``except Exception`` in student code does not
swallow it, and keeps firing every 0.2 s should a bare ``except:`` catch it.
The caller's own timer and handler (pytest-timeout, for one) are restored
afterwards. Elsewhere (another thread, or a platform without ``setitimer``)
the function runs in a daemon thread that is abandoned, not stopped, when it
exceeds the limit.
"""
from __future__ import annotations

import signal
import sys
import threading
import time

__all__ = ["TimeLimit", "call_with_limit"]


class TimeLimit(BaseException):
    """The student's function ran past its time limit."""


def _can_use_signal() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


def call_with_limit(func, seconds: float | None):
    """Return ``func()``; raise `TimeLimit` if it runs longer than `seconds`.

    Exceptions raised by `func` propagate unchanged. `seconds=None` means no limit.
    """
    if seconds is None:
        return func()
    if seconds <= 0:
        raise TimeLimit
    if _can_use_signal():
        return _with_signal(func, seconds)
    return _with_thread(func, seconds)


class _Alarm:
    """SIGALRM handler: raise TimeLimit; from the second alarm on, also trace the
    student's frames so that a loop whose bare `except:` swallows the exception
    is stopped by the next line it runs (an exception raised inside an except
    clause is not caught by that same clause)."""

    def __init__(self):
        self.fired = 0

    def __call__(self, signum, frame):
        self.fired += 1
        if self.fired > 1:
            sys.settrace(_tracer)
            f = frame
            while f is not None and f.f_code is not _with_signal.__code__:
                f.f_trace, f.f_trace_lines = _tracer, True
                f = f.f_back
        raise TimeLimit


def _tracer(frame, event, arg):
    if event in ("call", "line"):
        raise TimeLimit
    return _tracer


def _with_signal(func, seconds):
    start = time.monotonic()
    old_trace = sys.gettrace()
    old_handler = signal.signal(signal.SIGALRM, _Alarm())
    old_delay, old_interval = signal.setitimer(signal.ITIMER_REAL, seconds, 0.2)
    try:
        return func()
    finally:
        sys.settrace(old_trace)
        while True:  # note: a late alarm may land here; retry until everything is restored
            try:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, signal.SIG_DFL if old_handler is None else old_handler)
                break
            except TimeLimit:
                continue
        if old_delay > 0:  # an outer timer was pending: give back what is left of it
            left = max(old_delay - (time.monotonic() - start), 1e-3)
            signal.setitimer(signal.ITIMER_REAL, left, old_interval)


def _with_thread(func, seconds):
    box = {}

    def target():
        try:
            box["value"] = func()
        except BaseException as exc:  # handed over to the caller's thread
            box["error"] = exc

    worker = threading.Thread(target=target, name="cnnlab-grading-student", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise TimeLimit
    if "error" in box:
        raise box["error"]
    return box["value"]
