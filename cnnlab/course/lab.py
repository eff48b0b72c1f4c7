"""``make lab`` / ``python -m cnnlab course lab``: JupyterLab on exercises/ for a student.

Local only: the server listens on 127.0.0.1, with a fresh token, on a free
port, and opens notebooks with the course kernel (``python3`` of this
environment, where cnnlab is installed). `lab_command` builds the command
line (tested); `main` prints the URL and runs it until Ctrl-C.
"""
from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
from pathlib import Path

from cnnlab.course.config import COURSE_ROOT, nbgrader_env

__all__ = ["lab_command", "lab_url", "free_port", "main"]

KERNEL = "python3"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def lab_url(port: int, token: str) -> str:
    return f"http://127.0.0.1:{port}/lab?token={token}"


def lab_command(folder: Path, port: int, token: str) -> list[str]:
    """The JupyterLab command line: ``folder`` as its root, localhost only, the course kernel."""
    return [sys.executable, "-m", "jupyterlab", "--no-browser",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
            f"--ServerApp.root_dir={Path(folder).resolve()}", f"--IdentityProvider.token={token}",
            "--ServerApp.allow_remote_access=False", f"--MappingKernelManager.default_kernel_name={KERNEL}"] + (
                ["--allow-root"] if os.geteuid() == 0 else [])  # note: containers run as root; it listens locally only


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main(folder: Path | None = None, port: int = 0) -> int:
    folder = Path(folder or COURSE_ROOT / "exercises")
    if not folder.is_dir():
        print(f"no {folder}: run `python -m cnnlab course release` first", file=sys.stderr)
        return 2
    port, token = port or free_port(), secrets.token_hex(16)
    print(f"JupyterLab on {folder} (kernel {KERNEL}, this machine only):\n\n    {lab_url(port, token)}\n\n"
          "Open the URL in your browser; Ctrl-C stops the server.", flush=True)
    proc = subprocess.Popen(lab_command(folder, port, token), env=nbgrader_env())
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        return proc.wait()
    except KeyboardInterrupt:  # note: stop the server (and its kernels) with us, never leave it behind
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        return 0
