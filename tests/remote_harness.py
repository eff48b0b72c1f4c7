"""Grading-mode round trips for tests: the grader (`remote.serve_check`) in the test process, the
student's kernel in a subprocess with ``CNNLAB_VERDICT_SOCKET`` set.

The kernel's `check` is patched to lie: whatever the grader decides, it returns passed=True to the
notebook. What counts is the grader's record, which `grade_remotely` returns (one per check, in order).
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# note: runs first in the kernel; every `check` then reports to the grader and tells the notebook "passed"
LYING_KERNEL = '''
import json
import cnnlab.grading.runner as _runner
from cnnlab.grading.result import CheckResult
_real = _runner.kernel_check
def _lying(name, fn, **kw):
    _real(name, fn, **kw)
    return CheckResult(name, True, "the kernel says: passed")
_runner.kernel_check = _lying
from cnnlab.grading import check
'''


def grade_remotely(kernel_code: str, *, seed_for=lambda name, seed: 987_654, timeout: float = 600,
                   source: str | None = None) -> list[dict]:
    """Run `kernel_code` (after `LYING_KERNEL`) in a kernel subprocess; the grader's records, in order.
    `source`: the test cell's source as the grader holds it (for answer keys)."""
    from cnnlab.grading.remote import ENV_SOCKET, serve_check

    folder = tempfile.mkdtemp(prefix="cnnlab-rt-")  # note: short: a unix socket path has at most 107 bytes
    path = os.path.join(folder, "verdicts.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(4)
    server.settimeout(0.2)
    records, errors, stop = [], [], threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                with conn:
                    serve_check(conn, seed_for, None, records.append, source)
            except Exception as exc:  # noqa: BLE001 - reported by the caller's assertion
                errors.append(repr(exc))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    env = {**os.environ, ENV_SOCKET: path,
           "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests"), os.environ.get("PYTHONPATH", "")])}
    try:
        proc = subprocess.run([sys.executable, "-c", LYING_KERNEL + kernel_code], env=env, cwd=str(ROOT),
                              capture_output=True, text=True, timeout=timeout)
    finally:
        stop.set()
        thread.join(5)
        server.close()
        os.unlink(path)
        os.rmdir(folder)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert not errors, errors
    return records


def summary(records) -> list[tuple]:
    """``[(name, passed, mistake)]`` of the grader's records."""
    return [(r["name"], r["passed"], r["mistake"]) for r in records]
