"""Execute lecture notebooks for the book: concurrently, each in its own kernel, cached by content hash."""
from __future__ import annotations

import asyncio
import hashlib
import os
import re
import shutil
import sys
import time
from pathlib import Path

from cnnlab.book.static import static_widgets
from cnnlab.syllabus import ROOT

__all__ = ["execute_notebooks", "cache_key"]


def cache_key(nb_path: Path, timeout: int) -> str:
    """Hash of the notebook, the cnnlab sources and the interpreter."""
    h = hashlib.sha256(nb_path.read_bytes())
    for src in sorted((ROOT / "cnnlab").rglob("*.py")):
        h.update(src.relative_to(ROOT).as_posix().encode() + src.read_bytes())
    h.update(f"{sys.version}|{timeout}".encode())
    return h.hexdigest()[:16]


def _kernel_env(jobs: int = 1, extra: dict | None = None) -> dict:
    env = dict(os.environ)
    # Kernels running side by side share the cores instead of oversubscribing.
    env.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // max(1, jobs))))
    # note: MPLBACKEND=Agg (set by the Makefile) would stop the inline backend
    # from capturing figures; kernels must pick their own backend.
    env.pop("MPLBACKEND", None)
    env.update(CNNLAB_BOOK="1", PYDEVD_DISABLE_FILE_VALIDATION="1")
    env.update(extra or {})
    return env


async def _execute_one(src: Path, dest: Path, timeout: int, sem: asyncio.Semaphore, jobs: int, env: dict | None):
    import nbformat
    from nbclient import NotebookClient

    async with sem:
        t0 = time.perf_counter()
        nb = nbformat.read(src, as_version=4)
        client = NotebookClient(
            nb, timeout=timeout, kernel_name="python3", allow_errors=False,
            store_widget_state=True, record_timing=False,
            resources={"metadata": {"path": str(src.parent)}},
        )
        # The kernel's own stderr (start-up chatter) goes to a log beside the cache.
        with open(dest.with_suffix(".log"), "w") as log:
            await client.async_execute(env=_kernel_env(jobs, env), stderr=log)
        static_widgets(nb)
        tmp = dest.with_suffix(".tmp")
        nbformat.write(nb, tmp)
        tmp.replace(dest)  # note: atomic, so an interrupted run never leaves a cache entry
        return time.perf_counter() - t0


async def _execute_all(jobs, max_workers, env=None):
    sem = asyncio.Semaphore(max_workers)
    n = min(max_workers, len(jobs))
    tasks = [_execute_one(src, dest, timeout, sem, n, env) for src, dest, timeout in jobs]
    return await asyncio.gather(*tasks, return_exceptions=True)


def execute_notebooks(notebooks, dest_dir: Path, cache_dir: Path, *, timeout=120,
                      jobs=2, force=False, env: dict | None = None, raise_errors=True) -> dict:
    """Execute notebooks into dest_dir (reusing cache_dir); return {name: seconds}.

    Seconds are each notebook's own execution time (0.0 when it came from
    the cache). ``env`` adds variables to the kernels' environment. Raises
    RuntimeError naming every notebook whose execution failed; with
    ``raise_errors=False`` that notebook's value is the RuntimeError instead
    (and the others are still copied), so each can be judged on its own.
    """
    cache_dir.mkdir(parents=True, exist_ok=True)
    dest_dir.mkdir(parents=True, exist_ok=True)
    todo, times = [], {}
    # note: keys are computed once, before running: sources may change meanwhile.
    cached_as = {nb: cache_dir / f"{nb.stem}-{cache_key(nb, timeout)}.ipynb"
                 for nb in notebooks}
    for nb, cached in cached_as.items():
        if cached.exists() and not force:
            times[nb.name] = 0.0
        else:
            todo.append((nb, cached, timeout))
    if todo:
        results = asyncio.run(_execute_all(todo, max(1, jobs), env))
        errors = []
        for (nb, cached, _), res in zip(todo, results):
            if isinstance(res, BaseException):
                errors.append(f"--- {nb.name} ---\n" + re.sub(r"\x1b\[[0-9;]*m", "", str(res)))
                times[nb.name] = RuntimeError(errors[-1])
            else:
                times[nb.name] = res
                for old in cache_dir.glob(f"{nb.stem}-*.*"):  # keep one version
                    if old.stem != cached.stem:
                        old.unlink()
        if errors and raise_errors:
            raise RuntimeError("notebook execution failed:\n" + "\n".join(errors))
    for nb, cached in cached_as.items():
        if not isinstance(times[nb.name], BaseException):
            shutil.copyfile(cached, dest_dir / nb.name)
    return times
