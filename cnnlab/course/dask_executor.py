"""Grade on Dask workers: ``autograde psN --submissions DIR --dask tcp://host:8786`` or ``--dask local:N``.

`dask_executor` yields a `concurrent.futures.Executor` (Dask's
``Client.get_executor``) for `cnnlab.course.autograde.autograde`'s
``executor`` slot: each worker runs `grade_submission` (sandbox, cgroup and
limits apply there, as in the local pool) and returns plain data; only the
parent records results. Dask itself resubmits the tasks of a worker that
dies mid-batch to the other workers (``distributed.scheduler.allowed-failures``,
set here to 2): nobody gets a zero because a worker died; a submission that
kills its worker every time fails alone with KilledWorker, reported as a
crashed worker for that student.

A problem set is GPU-marked when a source notebook's metadata holds
``"cnnlab": {"gpu": true}``; on a scheduler its jobs are then submitted
with ``resources={"GPU": 1}`` and run only on workers started with
``--resources GPU=1`` (with none connected, it stops with a message instead
of waiting forever). A ``local:N`` cluster runs on this machine, whatever
device it has: no resource is asked for.

Workers need only the installed package: a job carries the student's
notebooks and the grading course as bytes (`cnnlab.course.bundle`); the
course, the same for every job, is sent to the workers once (``scatter``),
not with each task. Each worker keeps one long-lived driver
(`cnnlab.course.zygote`) and sweeps the cgroups of every submission it ran.
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import uuid
from concurrent.futures import Executor
from pathlib import Path

__all__ = ["dask_executor", "DaskExecutor", "gpu_marked", "gpu_workers", "MISSING_DISTRIBUTED"]

MISSING_DISTRIBUTED = ("--dask needs the `distributed` package (pinned in requirements.txt: "
                       "pip install -r requirements.txt); it is not installed in this environment")


#: how long ``--dask tcp://...`` tries to reach the scheduler before it gives up with a message
CONNECT_TIMEOUT = "30s"


def gpu_marked(assignment: str, root: Path) -> bool:
    """True when a source notebook of ``assignment`` has ``metadata.cnnlab.gpu`` set."""
    for path in sorted((Path(root) / "solutions" / assignment).glob("*.ipynb")):
        try:
            meta = json.loads(path.read_text(encoding="utf-8")).get("metadata", {})
        except (OSError, ValueError):
            continue
        if isinstance(meta.get("cnnlab"), dict) and meta["cnnlab"].get("gpu"):
            return True
    return False


def _parse(address: str) -> tuple[str, int | str]:
    if address.startswith("local:"):
        n = address.split(":", 1)[1]
        if not n.isdigit() or int(n) < 1:
            raise ValueError(f"--dask local:N needs a positive worker count N, got {address!r}")
        return "local", int(n)
    if "://" not in address:
        raise ValueError(f"--dask must be local:N or a scheduler address such as tcp://host:8786, got {address!r}")
    return "remote", address


@contextlib.contextmanager
def _cgroup_prefix():
    """Local workers (and the workers a nanny restarts) inherit a prefix for their cgroups, so the
    groups of a worker that was killed mid-submission are swept when the cluster closes."""
    from cnnlab.course.autograde import _sweep_cgroups
    from cnnlab.course.cgroup import PREFIX_ENV

    old = os.environ.get(PREFIX_ENV)
    prefix = os.environ[PREFIX_ENV] = f"cnnlab-dask-{uuid.uuid4().hex[:8]}"
    try:
        yield prefix
    finally:
        _sweep_cgroups(prefix, old)  # note: also restores the old prefix


def _with_course(fn, job, course: bytes):
    """On the worker: the job with its course bytes put back, graded by ``fn``."""
    return fn(dataclasses.replace(job, course=course))


class DaskExecutor(Executor):
    """``submit(grade_submission, job)`` on Dask workers, each job's course sent once per batch.

    Futures are `concurrent.futures.Future` (Dask's ``ClientExecutor``), so
    `cnnlab.course.autograde` uses it like the local pool.
    """

    def __init__(self, client, **submit_kw):
        self._client = client
        self.submit_kw = dict(submit_kw)  # note: what every job is submitted with (resources, pure)
        self._inner = client.get_executor(**submit_kw)
        self._courses: dict[int, object] = {}

    def submit(self, fn, job, /):
        key = id(job.course)  # note: autograde gives every job of a batch the same bytes object
        if key not in self._courses:
            self._courses[key] = (job.course, self._client.scatter(job.course, broadcast=True))
        return self._inner.submit(_with_course, fn, dataclasses.replace(job, course=b""), self._courses[key][1])

    def shutdown(self, wait=True, *, cancel_futures=False):
        self._inner.shutdown(wait=wait)
        self._courses.clear()


@contextlib.contextmanager
def dask_executor(address: str | None, assignment: str, root: Path):
    """Yield an Executor on Dask workers for ``address`` (None: yield None, the local pool is used).

    Raises:
        SystemExit: `distributed` is not installed.
        ValueError: ``address`` is neither ``local:N`` nor a scheduler URL; the scheduler cannot be
            reached within `CONNECT_TIMEOUT`; or ``assignment`` is GPU-marked and no worker declares a GPU.
    """
    if address is None:
        yield None
        return
    kind, where = _parse(address)
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError:
        raise SystemExit(MISSING_DISTRIBUTED) from None
    submit_kw = {"pure": False}  # note: a regrade of the same job must run again, not reuse a cached result
    gpu = kind == "remote" and gpu_marked(assignment, root)
    if gpu:
        submit_kw["resources"] = {"GPU": 1}
    with contextlib.ExitStack() as stack:
        stack.enter_context(dask.config.set({"distributed.scheduler.allowed-failures": 2}))
        if kind == "local":
            stack.enter_context(_cgroup_prefix())
            # note: processes, one thread each: one submission per worker, like the local pool
            cluster = stack.enter_context(LocalCluster(n_workers=where, threads_per_worker=1, processes=True,
                                                       dashboard_address=None))
            client = stack.enter_context(Client(cluster))
        else:
            try:
                client = stack.enter_context(Client(where, timeout=CONNECT_TIMEOUT))
            except OSError as exc:
                raise ValueError(f"--dask {where}: cannot reach the scheduler ({exc})") from None
            if gpu and not gpu_workers(client):
                raise ValueError(
                    f"--dask {where}: {assignment} is GPU-marked (metadata cnnlab.gpu in solutions/{assignment}) "
                    f"but none of the scheduler's {len(client.scheduler_info().get('workers', {}))} worker(s) "
                    f"declares a GPU; start them with `dask worker {where} --resources GPU=1`")
        yield DaskExecutor(client, **submit_kw)


def gpu_workers(client) -> list[str]:
    """Addresses of the scheduler's workers started with ``--resources GPU=1`` (or more)."""
    workers = client.scheduler_info().get("workers", {})
    return sorted(a for a, w in workers.items() if (w.get("resources") or {}).get("GPU", 0) >= 1)
