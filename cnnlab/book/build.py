"""Build the self-study web book: ``python -m cnnlab book [options]``.

The book is assembled in ``OUT/src`` and rendered into ``OUT/html``:

1. ``docs/`` (conf.py, the front pages) is copied into ``OUT/src``;
2. every ``lectures/*.ipynb`` is executed (`cnnlab.book.execute`: notebooks
   run concurrently, each in its own kernel, cached in ``OUT/cache`` by
   content hash) and the executed copy written to ``OUT/src/lectures/``;
   a cell error fails the build;
3. widget outputs are replaced by the static outputs they captured
   (`cnnlab.book.static`; kernels also see ``CNNLAB_BOOK=1``, so
   ``cnnlab.widgets`` can draw a static figure itself);
4. a page per problem set, and a "planned" page per lecture not written yet,
   are written from the syllabus (`cnnlab.book.pages`), so no link is dead;
5. Sphinx (myst-nb with execution off, MathJax bundled) writes the HTML.

Everything works offline; the pages load nothing from the network.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from cnnlab.book.execute import execute_notebooks
from cnnlab.book.pages import write_planned_lectures, write_problem_sets
from cnnlab.syllabus import ROOT

__all__ = ["assemble", "sphinx_build", "main"]


def assemble(root: Path, out: Path, *, execute=True, jobs=2, timeout=120,
             force=False, lectures_dir: Path | None = None) -> dict:
    """Fill out/src with docs, (executed) lectures and problem-set pages."""
    src = out / "src"
    if src.exists():
        shutil.rmtree(src)
    shutil.copytree(root / "docs", src)
    lectures = sorted((lectures_dir or root / "lectures").glob("*.ipynb"))
    if not lectures:
        raise RuntimeError(f"no notebooks in {lectures_dir or root / 'lectures'}")
    if execute:
        times = execute_notebooks(lectures, src / "lectures", out / "cache",
                                  timeout=timeout, jobs=jobs, force=force)
    else:
        (src / "lectures").mkdir()
        for nb in lectures:
            shutil.copyfile(nb, src / "lectures" / nb.name)
        times = {nb.name: None for nb in lectures}
    write_problem_sets(root, src)
    write_planned_lectures(root, src, {nb.stem for nb in lectures})
    return times


def sphinx_build(out: Path, *, quiet=True, strict=False) -> Path:
    """Render out/src into out/html from scratch (no stale pages survive)."""
    shutil.rmtree(out / "html", ignore_errors=True)
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "--keep-going",
           "-d", str(out / "doctrees"), str(out / "src"), str(out / "html")]
    if quiet:
        cmd.insert(3, "-q")
    if strict:
        cmd.insert(3, "-W")
    env = dict(os.environ, PYDEVD_DISABLE_FILE_VALIDATION="1")
    subprocess.run(cmd, check=True, env=env)
    return out / "html" / "index.html"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m cnnlab book",
        description="Execute lectures/*.ipynb and build the web book into OUT/html (offline).")
    p.add_argument("--out", type=Path, default=ROOT / "build" / "book",
                   help="build folder (default: build/book in the repository); "
                        "HTML goes to OUT/html")
    p.add_argument("--no-execute", action="store_true",
                   help="render the lectures without running them (no outputs)")
    p.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                   help="notebooks executed at once (default: min(2, CPUs))")
    p.add_argument("--timeout", type=int, default=120, help="seconds per cell (default 120)")
    p.add_argument("--force", action="store_true", help="re-execute even if cached")
    p.add_argument("--lectures", type=Path, default=None,
                   help="folder of lecture notebooks (default: lectures/)")
    p.add_argument("--strict", action="store_true", help="fail on Sphinx warnings")
    p.add_argument("--verbose", action="store_true", help="show Sphinx's progress")
    args = p.parse_args(argv)

    out = args.out.resolve()
    t0 = time.perf_counter()
    try:
        times = assemble(ROOT, out, execute=not args.no_execute, jobs=args.jobs,
                         timeout=args.timeout, force=args.force, lectures_dir=args.lectures)
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        return 1
    for name, sec in times.items():
        how = "not executed" if sec is None else ("cached" if sec == 0 else f"executed in {sec:.1f} s")
        print(f"  {name}: {how}")
    t1 = time.perf_counter()
    try:
        index = sphinx_build(out, quiet=not args.verbose, strict=args.strict)
    except subprocess.CalledProcessError as exc:
        print(f"sphinx-build failed with exit code {exc.returncode}", file=sys.stderr)
        return 1
    print(f"book built in {time.perf_counter() - t0:.0f} s (sphinx {time.perf_counter() - t1:.0f} s)")
    print(index)
    return 0


if __name__ == "__main__":
    sys.exit(main())
