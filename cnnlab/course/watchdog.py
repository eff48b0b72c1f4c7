"""Limits on a kernel's whole process tree, which per-process rlimits cannot give.

RLIMIT_AS caps each process; a submission that forks can still use its
limit once per child, and a fork loop can fill the process table. The
grader watches the tree from outside the sandbox (the kernel cannot stop
it) and kills every process in it when, together, they hold more than the
memory limit (proportional set size: pages shared after a fork count once)
or are more than ``max_procs``, or have used, together, more CPU time than
``cpu_s`` (RLIMIT_CPU counts each process alone). With a
`cnnlab.course.cgroup.SubmissionCgroup` the tree is the group's members (a
child that called ``setsid()`` is still found) and CPU time includes
children that have exited. The verdict is kept in ``reason`` for the grade's
message; ``peak_mb`` is the most memory seen, for the death report.
"""
from __future__ import annotations

import threading

__all__ = ["TreeWatchdog"]


class TreeWatchdog:
    """Polls the tree rooted at ``pid`` every ``interval`` seconds in a daemon thread."""

    def __init__(self, pid: int, memory_mb: int, max_procs: int = 64, interval: float = 0.25,
                 cpu_s: float = 0, cgroup=None, report_mb: int = 0):
        self.pid, self.memory_mb, self.max_procs, self.interval = pid, memory_mb, max_procs, interval
        self.cpu_s, self.cgroup = cpu_s, cgroup
        self.report_mb = report_mb or memory_mb  # the limit as the student knows it (without headroom)
        self.reason: str | None = None
        self.peak_mb = 0
        self.cpu_used = 0.0
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
            if self.cgroup is not None:  # note: the group also holds children that left the tree
                known = {p.pid for p in procs}
                for pid in self.cgroup.pids():
                    if pid not in known:
                        try:
                            procs.append(psutil.Process(pid))
                        except psutil.Error:
                            pass
            if self.cgroup is not None and self.cgroup.hit_memory_limit():
                # note: the kernel's out-of-memory killer ends one process; the submission ends whole
                self._kill(procs, f"its processes together reached the memory limit of {self.report_mb} MiB "
                                  f"(the system's out-of-memory killer ended one of them)")
                return
            cpu = self._cpu(procs)
            self.cpu_used = max(self.cpu_used, cpu)
            if self.cpu_s and cpu > self.cpu_s:
                self._kill(procs, f"its processes together used {cpu:.0f} s of CPU time, more than the "
                                  f"CPU-time limit of {self.cpu_s:g} s")
                return
            if self.cgroup is not None and self.cgroup.hit_pids_limit():
                self._kill(procs, f"its processes and threads reached the limit of {self.cgroup.max_procs} "
                                  f"(a fork or thread loop?)")
                return
            if len(procs) > self.max_procs:
                self._kill(procs, f"its processes numbered more than {self.max_procs} (a fork loop?)")
                return
            used = sum(_memory(p) for p in procs)
            self.peak_mb = max(self.peak_mb, used >> 20)
            if self.memory_mb and used > limit:
                self._kill(procs, f"its {len(procs)} processes together used {used >> 20} MiB, more than the "
                                  f"memory limit of {self.report_mb} MiB")
                return

    def _cpu(self, procs) -> float:
        if self.cgroup is not None:
            used = self.cgroup.cpu_seconds()
            if used is not None:
                return used
        total = 0.0
        for p in procs:
            try:
                t = p.cpu_times()
                total += t.user + t.system + t.children_user + t.children_system
            except Exception:  # noqa: BLE001 - a process that just ended
                pass
        return total

    def _kill(self, procs, reason: str) -> None:
        import psutil

        self.reason = reason
        for p in reversed(procs):  # note: children first, so none is re-parented and missed
            try:
                p.kill()
            except psutil.Error:
                pass
        if self.cgroup is not None:
            self.cgroup.kill_all()


def _memory(proc) -> int:
    import psutil

    try:
        try:
            return proc.memory_full_info().pss
        except (psutil.AccessDenied, AttributeError):
            return proc.memory_info().rss
    except psutil.Error:
        return 0
