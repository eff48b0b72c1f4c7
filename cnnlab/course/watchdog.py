"""Limits on a kernel's whole process tree, which per-process rlimits cannot give.

RLIMIT_AS caps each process; a submission that forks can still use its
limit once per child, and a fork loop can fill the process table. The
grader watches the tree from outside the sandbox (the kernel cannot stop
it) and kills every process in it when, together, they hold more than the
memory limit (proportional set size: pages shared after a fork count once)
or are more than ``max_procs``. The verdict is kept in ``reason`` for the
grade's message.
"""
from __future__ import annotations

import threading

__all__ = ["TreeWatchdog"]


class TreeWatchdog:
    """Polls the tree rooted at ``pid`` every ``interval`` seconds in a daemon thread."""

    def __init__(self, pid: int, memory_mb: int, max_procs: int = 64, interval: float = 0.25):
        self.pid, self.memory_mb, self.max_procs, self.interval = pid, memory_mb, max_procs, interval
        self.reason: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"cnnlab-watchdog-{pid}", daemon=True)

    def start(self) -> "TreeWatchdog":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        import psutil

        try:
            root = psutil.Process(self.pid)
        except psutil.Error:
            return
        limit = self.memory_mb << 20
        while not self._stop.wait(self.interval):
            try:
                procs = [root, *root.children(recursive=True)]
            except psutil.Error:  # the kernel has ended
                return
            if len(procs) > self.max_procs:
                self._kill(procs, f"its processes numbered more than {self.max_procs} (a fork loop?)")
                return
            used = sum(_memory(p) for p in procs)
            if self.memory_mb and used > limit:
                self._kill(procs, f"its {len(procs)} processes together used {used >> 20} MiB, more than the "
                                  f"memory limit of {self.memory_mb} MiB")
                return

    def _kill(self, procs, reason: str) -> None:
        import psutil

        self.reason = reason
        for p in reversed(procs):  # note: children first, so none is re-parented and missed
            try:
                p.kill()
            except psutil.Error:
                pass


def _memory(proc) -> int:
    import psutil

    try:
        try:
            return proc.memory_full_info().pss
        except (psutil.AccessDenied, AttributeError):
            return proc.memory_info().rss
    except psutil.Error:
        return 0
