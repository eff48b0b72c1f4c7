"""One control group per submission: memory, process count, CPU share, kill as a whole.

Per-process rlimits cannot hold a process tree: every forked child gets its
own RLIMIT_AS and RLIMIT_CPU, and a child that calls ``setsid()`` leaves the
kernel's process group, so killing the group misses it. A cgroup holds
everything the kernel ever forks, whatever it does, and the grader (outside
the sandbox, where the student's code cannot reach) reads its memory and CPU
counters and kills it as a whole.

`SubmissionCgroup.create(...)` uses cgroup v2 when the unified hierarchy
offers the memory and pids controllers, else the v1 hierarchies (memory,
pids, cpu, cpuacct), else returns None: the caller falls back to rlimits and
`cnnlab.course.watchdog`. The kernel joins before it starts: its launch
command is prefixed with `join_command` (a shell that writes its own pid into
the group, then execs), so not even bubblewrap's first fork escapes.
"""
from __future__ import annotations

import os
import signal
import time
import uuid
from pathlib import Path

__all__ = ["SubmissionCgroup", "available", "sweep", "PREFIX_ENV"]

#: Environment variable naming the prefix of the groups a batch creates (see `sweep`).
PREFIX_ENV = "CNNLAB_CGROUP_PREFIX"

_ROOT = Path("/sys/fs/cgroup")
_V1 = ("memory", "pids", "cpu", "cpuacct")


def _own_path(controller: str | None) -> str:
    """This process's cgroup path in one hierarchy (v2 when controller is None)."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return "/"
    for line in lines:
        num, ctrls, path = (line.split(":", 2) + ["", ""])[:3]
        names = ctrls.split(",")
        if (controller is None and num == "0" and ctrls == "") or (controller and controller in names):
            return path or "/"
    return "/"


def _v2_base() -> Path | None:
    """The unified hierarchy's mount, when it offers memory and pids."""
    for mount in (_ROOT, _ROOT / "unified"):
        ctrl = mount / "cgroup.controllers"
        try:
            have = set(ctrl.read_text().split())
        except OSError:
            continue
        if {"memory", "pids"} <= have:
            return mount
    return None


def _write(path: Path, value) -> bool:
    try:
        path.write_text(str(value))
        return True
    except OSError:
        return False


def _read_int(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return None if text in ("", "max") else int(text.split()[0])


class SubmissionCgroup:
    """A cgroup (v2) or a set of v1 cgroups, one per controller, for one kernel.

    Attributes:
        dirs: controller -> cgroup folder ("unified" for v2).
        memory_mb, max_procs, cpus: the limits written.
    """

    def __init__(self, dirs: dict[str, Path], memory_mb: int, max_procs: int, cpus: float):
        self.dirs, self.memory_mb, self.max_procs, self.cpus = dirs, memory_mb, max_procs, cpus
        self._oom0 = 0
        self._oom0 = self.oom_kills()

    @property
    def version(self) -> int:
        return 2 if "unified" in self.dirs else 1

    # --- creation -------------------------------------------------------------
    @classmethod
    def create(cls, memory_mb: int, max_procs: int = 64, cpus: float = 1.0) -> "SubmissionCgroup | None":
        """A new group with these limits, or None when cgroups cannot be used here (not root, read-only, ...)."""
        name = f"{os.environ.get(PREFIX_ENV, 'cnnlab')}-{uuid.uuid4().hex[:12]}"
        v2 = _v2_base()
        if v2 is not None:
            group = cls._create_v2(v2, name, memory_mb, max_procs, cpus)
            if group is not None:
                return group
        return cls._create_v1(name, memory_mb, max_procs, cpus)

    @classmethod
    def _create_v2(cls, base: Path, name, memory_mb, max_procs, cpus):
        parent = base / _own_path(None).lstrip("/")
        # note: v2 lets a group with processes delegate controllers only at the root; elsewhere
        # the limits need a parent without processes of its own, which we cannot arrange here
        for ctrl in ("memory", "pids", "cpu"):
            _write(parent / "cgroup.subtree_control", f"+{ctrl}")
        d = parent / name
        try:
            d.mkdir()
        except OSError:
            return None
        ok = _write(d / "memory.max", memory_mb << 20) and _write(d / "pids.max", max_procs)
        if not ok:
            _rmdir(d)
            return None
        _write(d / "memory.swap.max", 0)
        if cpus:
            _write(d / "cpu.max", f"{int(cpus * 100000)} 100000")
        return cls({"unified": d}, memory_mb, max_procs, cpus)

    @classmethod
    def _create_v1(cls, name, memory_mb, max_procs, cpus):
        dirs = {}
        for ctrl in _V1:
            mount = _ROOT / ctrl
            if not (mount / "cgroup.procs").exists():
                continue
            d = mount / _own_path(ctrl).lstrip("/") / name
            try:
                d.mkdir()
            except OSError:
                continue
            dirs[ctrl] = d
        group = cls(dirs, memory_mb, max_procs, cpus)
        ok = ("memory" in dirs and _write(dirs["memory"] / "memory.limit_in_bytes", memory_mb << 20)
              and "pids" in dirs and _write(dirs["pids"] / "pids.max", max_procs))
        if not ok:
            group.remove()
            return None
        _write(dirs["memory"] / "memory.memsw.limit_in_bytes", memory_mb << 20)  # no swap (when accounted)
        if cpus and "cpu" in dirs:
            _write(dirs["cpu"] / "cpu.cfs_period_us", 100000)
            _write(dirs["cpu"] / "cpu.cfs_quota_us", int(cpus * 100000))
        group._oom0 = group.oom_kills()
        return group

    # --- joining --------------------------------------------------------------
    def procs_files(self) -> list[str]:
        return [str(d / "cgroup.procs") for d in self.dirs.values()]

    def join_command(self, cmd: list[str]) -> list[str]:
        """``cmd`` prefixed so that its first process joins the group before it execs."""
        writes = " && ".join(f"echo $$ > {f}" for f in self.procs_files())
        return ["/bin/sh", "-c", f'{writes} && exec "$@"', "cnnlab-cgroup", *cmd]

    # --- counters ---------------------------------------------------------------
    def pids(self) -> list[int]:
        d = self.dirs.get("unified") or self.dirs.get("pids") or self.dirs.get("memory")
        try:
            return [int(p) for p in (d / "cgroup.procs").read_text().split()]
        except (OSError, AttributeError):
            return []

    def memory_bytes(self) -> int | None:
        if "unified" in self.dirs:
            return _read_int(self.dirs["unified"] / "memory.current")
        return _read_int(self.dirs["memory"] / "memory.usage_in_bytes") if "memory" in self.dirs else None

    def peak_memory_bytes(self) -> int | None:
        if "unified" in self.dirs:
            return _read_int(self.dirs["unified"] / "memory.peak")
        return _read_int(self.dirs["memory"] / "memory.max_usage_in_bytes") if "memory" in self.dirs else None

    def cpu_seconds(self) -> float | None:
        """CPU time used by every process that ever ran in the group (exited children included)."""
        if "unified" in self.dirs:
            try:
                for line in (self.dirs["unified"] / "cpu.stat").read_text().splitlines():
                    if line.startswith("usage_usec"):
                        return int(line.split()[1]) / 1e6
            except OSError:
                return None
            return None
        ns = _read_int(self.dirs["cpuacct"] / "cpuacct.usage") if "cpuacct" in self.dirs else None
        return None if ns is None else ns / 1e9

    def oom_kills(self) -> int:
        """How many processes the kernel's out-of-memory killer ended in this group."""
        if "unified" in self.dirs:
            path = self.dirs["unified"] / "memory.events"
        elif "memory" in self.dirs:
            path = self.dirs["memory"] / "memory.oom_control"
        else:
            return 0
        try:
            for line in path.read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill":
                    return int(value)
        except (OSError, ValueError):
            pass
        return 0

    def hit_memory_limit(self) -> bool:
        """True when the out-of-memory killer ended a process of this group (the limit was hit).

        note: v1's memory.failcnt also counts page-cache reclaim at the limit, which kills
        nothing, so it is not evidence."""
        return self.oom_kills() > self._oom0

    def hit_pids_limit(self) -> bool:
        d = self.dirs.get("unified") or self.dirs.get("pids")
        if d is None:
            return False
        try:
            for line in (d / "pids.events").read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "max" and int(value) > 0:
                    return True
        except (OSError, ValueError):
            pass
        return False

    # --- ending -----------------------------------------------------------------
    def kill_all(self, timeout: float = 5.0) -> None:
        """SIGKILL every process in the group (also those that called setsid) until it is empty."""
        if "unified" in self.dirs and _write(self.dirs["unified"] / "cgroup.kill", 1):
            pass
        deadline = time.monotonic() + timeout
        while True:
            pids = self.pids()
            if not pids:
                return
            if "freezer" not in self.dirs:  # note: without a freezer, a fork loop races us: kill repeatedly
                for pid in pids:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except OSError:
                        pass
            if time.monotonic() > deadline:
                return
            time.sleep(0.02)

    def remove(self) -> None:
        """Kill what is left and delete the group's folders."""
        if self.pids():
            self.kill_all()
        for d in self.dirs.values():
            for _ in range(50):
                if _rmdir(d):
                    break
                time.sleep(0.02)


def _rmdir(d: Path) -> bool:
    try:
        d.rmdir()
        return True
    except FileNotFoundError:
        return True
    except OSError:
        return False


def available() -> bool:
    """Whether a submission cgroup can be created here (creates and removes one)."""
    group = SubmissionCgroup.create(64, 8)
    if group is None:
        return False
    group.remove()
    return True


def sweep(prefix: str) -> int:
    """Kill and remove every group whose name starts with ``prefix`` (a batch's leftovers,
    e.g. after a grading process was killed); returns how many were removed."""
    found: dict[str, dict[str, Path]] = {}
    bases = [(ctrl, _ROOT / ctrl / _own_path(ctrl).lstrip("/")) for ctrl in _V1]
    v2 = _v2_base()
    if v2 is not None:
        bases.append(("unified", v2 / _own_path(None).lstrip("/")))
    for ctrl, base in bases:
        try:
            for d in base.iterdir():
                if d.is_dir() and d.name.startswith(prefix + "-"):
                    found.setdefault(d.name, {})[ctrl] = d
        except OSError:
            continue
    for dirs in found.values():
        SubmissionCgroup(dirs, 0, 0, 0).remove()
    return len(found)
