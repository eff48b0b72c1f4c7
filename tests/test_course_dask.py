"""Grading on Dask workers (``--dask local:N``): same scores as the local pool, a killed worker costs nobody.

Needs `distributed` (pinned in requirements.txt); skipped with a message when it is not installed.
"""
from __future__ import annotations

import dataclasses
import os
import signal
import threading
import time

import nbformat
import pytest

from cnnlab.course.config import COURSE_ROOT, Limits
from cnnlab.course.dask_executor import _parse, dask_executor, gpu_marked, gpu_workers
from cnnlab.course.demo import expected_scores, student_notebook, students
from cnnlab.course.selfgrade import scratch_course

EXPECTED = expected_scores("ps1")  # computed from the notebook's points
MISTAKES = {s.name: s.answers for s in students("ps1")}  # the demo class's answer cells

LIMITS = Limits(cell_timeout=15, notebook_timeout=120, memory_mb=2048)


def test_parse_dask_address():
    assert _parse("local:2") == ("local", 2)
    assert _parse("tcp://10.0.0.5:8786") == ("remote", "tcp://10.0.0.5:8786")
    for bad in ("local:0", "local:x", "10.0.0.5:8786"):
        with pytest.raises(ValueError, match="--dask"):
            _parse(bad)


def test_gpu_marked_reads_notebook_metadata(tmp_path):
    folder = tmp_path / "solutions" / "ps9"
    folder.mkdir(parents=True)
    nb = nbformat.v4.new_notebook()
    nbformat.write(nb, folder / "a.ipynb")
    assert not gpu_marked("ps9", tmp_path)
    nb.metadata["cnnlab"] = {"gpu": True}
    nbformat.write(nb, folder / "b.ipynb")
    assert gpu_marked("ps9", tmp_path)
    assert not gpu_marked("ps1", COURSE_ROOT)


def test_dask_executor_none_is_the_local_pool():
    with dask_executor(None, "ps1", COURSE_ROOT) as ex:
        assert ex is None


def _kill_a_busy_worker(client, killed: list, stop: threading.Event) -> None:
    """Once a worker has been grading for a few seconds, SIGKILL its process (the nanny restarts it)."""
    while not stop.is_set():
        busy = [w for w, tasks in client.processing().items() if tasks]
        if busy:
            time.sleep(4)  # note: mid-submission: the driver and the kernel are running
            pids = client.run(os.getpid, workers=[busy[0]])
            for pid in pids.values():
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            return
        time.sleep(0.2)


@pytest.mark.slow
@pytest.mark.ps1
@pytest.mark.filterwarnings("ignore:Non-unique cell id")
def test_dask_local_cluster_worker_killed_mid_batch(tmp_path):
    pytest.importorskip("distributed", reason="`distributed` is not installed (requirements.txt pins it): "
                                              "the Dask executor cannot be tested here")
    from cnnlab.course.autograde import autograde

    root = scratch_course(tmp_path / "course")
    subs = tmp_path / "subs"
    class_ = {"full_solution": student_notebook("ps1"), "blank_release": student_notebook("ps1", blank=True),
              "kernel_flipped": student_notebook("ps1", MISTAKES["kernel_flipped"])}
    for sid, nb in class_.items():
        (subs / sid / "ps1").mkdir(parents=True)
        nbformat.write(nb, subs / sid / "ps1" / "ps1.ipynb")
    killed, stop = [], threading.Event()
    with dask_executor("local:2", "ps1", root) as executor:
        killer = threading.Thread(target=_kill_a_busy_worker, args=(executor._client, killed, stop), daemon=True)
        killer.start()
        try:
            results = autograde("ps1", subs, root=root, limits=LIMITS, progress=False, executor=executor)
        finally:
            stop.set()
            killer.join()
    assert killed, "no worker was killed: the test did not test anything"
    assert [(r["student"], r["status"], r["score"]) for r in results] == [
        (sid, "graded", EXPECTED[sid]) for sid in sorted(class_)]
    assert [ln.split(",")[:3] for ln in (root / "grades.csv").read_text().splitlines()[1:]] == [
        [sid, "ps1", f"{EXPECTED[sid]:g}"] for sid in sorted(class_)]
    # the same class through the local pool: the same gradebook, cell by cell, and the same CSV
    pool_root = scratch_course(tmp_path / "pool-course")
    autograde("ps1", subs, root=pool_root, limits=LIMITS, progress=False, workers=2)
    assert _gradebook(pool_root) == _gradebook(root)
    assert (pool_root / "grades.csv").read_text() == (root / "grades.csv").read_text()


def _gradebook(root) -> list[tuple]:
    """(student, notebook, grade cell, auto score, max score) for every grade in the course's gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        return sorted((sub.student.id, nb.name, g.name, g.auto_score, g.max_score)
                      for sub in gb.assignment_submissions("ps1") for nb in sub.notebooks for g in nb.grades)


@dataclasses.dataclass(frozen=True)
class _Job:  # note: what DaskExecutor needs of a job: a dataclass with the course bytes
    course: bytes
    n: int


def _double(job: _Job) -> int:
    return 2 * job.n + len(job.course)


def _gpu_course(tmp_path):
    folder = tmp_path / "solutions" / "ps9"
    folder.mkdir(parents=True)
    nb = nbformat.v4.new_notebook()
    nb.metadata["cnnlab"] = {"gpu": True}
    nbformat.write(nb, folder / "ps9.ipynb")
    return tmp_path


def test_gpu_workers_reads_declared_resources():
    class FakeClient:
        def scheduler_info(self):
            return {"workers": {"tcp://b:2": {"resources": {"GPU": 1}}, "tcp://a:1": {"resources": {}},
                                "tcp://c:3": {}, "tcp://d:4": {"resources": {"GPU": 2.0}}}}

    assert gpu_workers(FakeClient()) == ["tcp://b:2", "tcp://d:4"]


@pytest.mark.slow
def test_gpu_marked_problem_set_needs_a_gpu_worker_on_a_scheduler(tmp_path):
    distributed = pytest.importorskip("distributed", reason="`distributed` is not installed")
    root = _gpu_course(tmp_path)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cpu_only:
        # note: without the check the jobs would wait forever for a worker that never comes
        with pytest.raises(ValueError, match=r"ps9 is GPU-marked.*1 worker\(s\).*--resources GPU=1"):
            with dask_executor(cpu_only.scheduler_address, "ps9", root):
                pass
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None,
                                  resources={"GPU": 1}) as gpu:
        with dask_executor(gpu.scheduler_address, "ps9", root) as ex:
            assert ex.submit_kw["resources"] == {"GPU": 1}
            assert ex.submit(_double, _Job(b"ab", 20)).result(timeout=30) == 42
        with dask_executor(gpu.scheduler_address, "ps1", COURSE_ROOT) as ex:
            assert "resources" not in ex.submit_kw


@pytest.mark.slow
def test_local_cluster_asks_no_gpu_resource(tmp_path):
    pytest.importorskip("distributed", reason="`distributed` is not installed")
    with dask_executor("local:1", "ps9", _gpu_course(tmp_path)) as ex:
        # note: a LocalCluster runs on this machine whatever its device; asking for GPU=1 would hang
        assert "resources" not in ex.submit_kw
        assert ex.submit(_double, _Job(b"", 1)).result(timeout=60) == 2


def test_cli_bad_or_unreachable_scheduler_is_a_message(monkeypatch, capsys, tmp_path):
    pytest.importorskip("distributed", reason="`distributed` is not installed")
    import cnnlab.course.dask_executor as dx
    from cnnlab.course.cli import main

    monkeypatch.setattr(dx, "CONNECT_TIMEOUT", "1s")
    subs = tmp_path / "subs"
    subs.mkdir()
    assert main(["autograde", "ps1", "--submissions", str(subs), "--dask", "local:0"]) == 2
    assert "--dask local:N needs a positive worker count" in capsys.readouterr().err
    assert main(["autograde", "ps1", "--submissions", str(subs), "--dask", "tcp://127.0.0.1:9"]) == 2
    assert "--dask tcp://127.0.0.1:9: cannot reach the scheduler" in capsys.readouterr().err
