"""Where the course lives and the defaults of the instructor pipeline."""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["COURSE_ROOT", "Limits", "assignments", "nbgrader_env", "load_nbgrader_config"]



def _course_root() -> Path:
    """The nbgrader course directory: $CNNLAB_COURSE_ROOT, else the repository
    this package sits in (editable install), else the current directory."""
    if os.environ.get("CNNLAB_COURSE_ROOT"):
        return Path(os.environ["CNNLAB_COURSE_ROOT"]).resolve()
    repo = Path(__file__).resolve().parents[2]
    return repo if (repo / "nbgrader_config.py").exists() else Path.cwd().resolve()


# The repository root is the nbgrader course directory (nbgrader_config.py).
COURSE_ROOT = _course_root()


@dataclass(frozen=True)
class Limits:
    """Resource limits for grading one submission.

    Attributes:
        cell_timeout: seconds one cell may run before it is interrupted.
        notebook_timeout: wall-clock budget of the whole notebook, seconds.
        memory_mb: address-space limit of the kernel (RLIMIT_AS), MiB.
        cpu_s: CPU-time limit of the kernel (RLIMIT_CPU), seconds.
        output_bytes: captured output kept per cell.
        notebook_output_bytes: captured output kept over all cells of a notebook.
        disk_mb: with the sandbox, the kernel's working folder is a private tmpfs of this size, MiB.
        sandbox: 'auto' (bubblewrap when installed), 'bwrap' (required) or 'none'.
    """

    cell_timeout: int = 30
    notebook_timeout: int = 300
    memory_mb: int = 2048
    cpu_s: int = 0  # 0: twice the notebook budget
    output_bytes: int = 200_000
    notebook_output_bytes: int = 2_000_000
    disk_mb: int = 256
    sandbox: str = "auto"

    @property
    def cpu_limit(self) -> int:
        return self.cpu_s or 2 * self.notebook_timeout


def assignments(root: Path = COURSE_ROOT) -> list[str]:
    """Assignment names: the folders of solutions/ that hold notebooks."""
    src = Path(root) / "solutions"
    return sorted(p.name for p in src.iterdir() if p.is_dir() and any(p.glob("*.ipynb")))


def nbgrader_env(extra: dict | None = None) -> dict:
    """Environment for nbgrader subprocesses: the venv's bin/ first on PATH (alembic)."""
    env = dict(os.environ)
    bindir = str(Path(sys.executable).parent)
    env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    env.setdefault("MPLBACKEND", "Agg")
    env.update(extra or {})
    return env


def load_nbgrader_config(root: Path = COURSE_ROOT):
    """The course's nbgrader_config.py as a traitlets Config."""
    from traitlets.config.loader import PyFileConfigLoader

    return PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
