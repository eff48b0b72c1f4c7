"""Shared pytest configuration: GPU tests skip without CUDA, seeds are explicit."""
from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")
os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")


def _cuda() -> bool:
    try:
        import torch

        return torch.cuda.is_available()
    except Exception:  # pragma: no cover - torch is a hard dependency
        return False


def pytest_collection_modifyitems(config, items):
    if _cuda():
        return
    skip = pytest.mark.skip(reason="needs CUDA (no GPU on this machine)")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def rng():
    """A seeded generator; tests never use numpy's global state."""
    import numpy as np

    return np.random.default_rng(0)


@pytest.fixture
def one_torch_thread():
    """Tiny tensors: one torch thread; two spin against each other on a busy 2-core CPU."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)

class ReleaseTemplate:
    """One nbgrader release of every problem set per test session, copied wherever a test needs one.

    `copy(dest, names)` makes a course in ``dest`` (config, solutions, exercises,
    gradebook) without running nbgrader; `patch(target)` replaces a
    ``release_into`` function by such a copy, so autograde calls reuse it.
    """

    def __init__(self, root):
        self.root = root

    def copy(self, dest, names=None):
        import shutil
        from pathlib import Path

        dest = Path(dest)
        dest.mkdir(parents=True, exist_ok=True)
        for name in ("nbgrader_config.py", "gradebook.db"):
            shutil.copy2(self.root / name, dest / name)
        for folder in ("solutions", "exercises"):
            for src in sorted((self.root / folder).iterdir()):
                if names is None or src.name in names:
                    target = dest / folder / src.name
                    if target.exists():
                        shutil.rmtree(target)
                    shutil.copytree(src, target)
        return dest

    def patch(self, target):
        """Generator for a fixture: ``target`` (a dotted name of release_into) copies this template."""
        from cnnlab.course.config import COURSE_ROOT

        def release_into(course, names=None, root=COURSE_ROOT):
            return self.copy(course, names)

        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(target, release_into)
            yield self


@pytest.fixture(scope="session")
def release_template(tmp_path_factory):
    """The release of every problem set in solutions/, built once per session (nbgrader generate_assignment)."""
    from cnnlab.course.release import release_into

    return ReleaseTemplate(release_into(tmp_path_factory.mktemp("release-template")))


BOOK_OUT = Path(__file__).resolve().parents[1] / "build" / "book"
LECTURE_CELL_TIMEOUT_S = 120  # the book's default: the same cache key, so the book reuses these runs


@pytest.fixture(scope="session")
def executed_lectures(request):
    """The lectures this session needs, each executed ONCE (two at a time), for test_lectures and the book.

    Returns {notebook name: (executed notebook path, seconds) or a RuntimeError}.
    The runs go through the book's executor into the book's cache
    (build/book/cache), so building the book afterwards executes nothing again.
    Only the lectures selected in this session run; every one when the book is.
    """
    from cnnlab.book import execute_notebooks

    lectures = sorted((BOOK_OUT.parents[1] / "lectures").glob("*.ipynb"))
    wanted = set()
    for item in request.session.items:
        if "built_book" in getattr(item, "fixturenames", ()):
            wanted |= {p.name for p in lectures}
        params = getattr(getattr(item, "callspec", None), "params", {})
        if "executed_lectures" in getattr(item, "fixturenames", ()) and "path" in params:
            wanted.add(Path(params["path"]).name)
    chosen = [p for p in lectures if p.name in wanted] or lectures
    dest = BOOK_OUT / "executed-by-tests"
    times = execute_notebooks(chosen, dest, BOOK_OUT / "cache", timeout=LECTURE_CELL_TIMEOUT_S, jobs=2,
                              force=True, env={"CUDA_VISIBLE_DEVICES": ""}, raise_errors=False)
    return {name: res if isinstance(res, BaseException) else (dest / name, res) for name, res in times.items()}
