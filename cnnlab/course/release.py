"""Release: nbgrader ``generate_assignment`` from solutions/ into exercises/."""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from cnnlab.course.config import COURSE_ROOT, assignments, nbgrader_env

__all__ = ["release", "release_into"]


def _generate(course: Path, names: list[str]) -> None:
    for name in names:
        cmd = [sys.executable, "-m", "nbgrader", "generate_assignment", name, "--force",
               "--log-level=WARN"]
        proc = subprocess.run(cmd, cwd=course, env=nbgrader_env(), capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"nbgrader generate_assignment {name} failed:\n{proc.stdout}{proc.stderr}")


def release(names: list[str] | None = None, root: Path = COURSE_ROOT) -> list[Path]:
    """Generate the student versions of ``names`` (default: all) into exercises/.

    Re-running gives byte-identical files. Returns the released folders.
    """
    root = Path(root)
    names = list(names or assignments(root))
    unknown = sorted(set(names) - set(assignments(root)))
    if unknown:
        raise SystemExit(f"unknown assignment(s) {unknown}; solutions/ has {assignments(root)}")
    _generate(root, names)
    return [root / "exercises" / n for n in names]


def release_into(course: Path, names: list[str] | None = None, root: Path = COURSE_ROOT) -> Path:
    """Build a scratch course in ``course`` (config + solutions) and release there.

    Used for a fresh release to compare with exercises/, and for the clean
    gradebook each grading worker starts from. Returns ``course``.
    """
    root, course = Path(root), Path(course)
    names = list(names or assignments(root))
    course.mkdir(parents=True, exist_ok=True)
    shutil.copy2(root / "nbgrader_config.py", course / "nbgrader_config.py")
    for name in names:
        dest = course / "solutions" / name
        if dest.exists():
            shutil.rmtree(dest)
        shutil.copytree(root / "solutions" / name, dest)
    _generate(course, names)
    return course


def fresh_release(names: list[str] | None = None, root: Path = COURSE_ROOT) -> Path:
    """A release in a new temporary folder (the caller removes it)."""
    return release_into(Path(tempfile.mkdtemp(prefix="cnnlab-release-")), names, root)
