"""Build the self-study web book: ``python -m cnnlab book [options]``.

The book is assembled in ``OUT/src`` and rendered into ``OUT/html``:

1. ``docs/`` (conf.py, the front pages) is copied into ``OUT/src``;
2. every ``lectures/*.ipynb`` is executed with nbclient (notebooks run
   concurrently, each in its own kernel; results cached in ``OUT/cache`` by
   content hash) and the executed copy written to ``OUT/src/lectures/``;
   a cell error fails the build;
3. widget outputs are replaced by the static outputs they captured, since a
   static page has no kernel to drive them (kernels also see
   ``CNNLAB_BOOK=1``, so ``cnnlab.widgets`` can draw a static figure itself);
4. a page per problem set is written from :data:`PROBLEM_SETS`, linking the
   released notebooks in ``exercises/<ps>/`` as downloads;
5. Sphinx (myst-nb with execution off, MathJax bundled) writes the HTML.

Everything works offline; the pages load nothing from the network.
"""
from __future__ import annotations

import argparse
import asyncio
import copy
import hashlib
import html
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: (name, title, what it covers, lectures it builds on). Status is read from disk.
PROBLEM_SETS = (
    ("ps1", "Convolution from scratch",
     "Implement `corr2d`, `pad2d`, `conv_output_size`, `conv2d` (channels, batch, "
     "stride, padding, dilation) and `conv1d` in numpy, then count parameters "
     "(the 56- and 280-parameter layers, 10 vs 372).", "Lectures 1–3"),
    ("ps2", "Pooling and backpropagation",
     "Max and average pooling forward and backward, and the backward pass of "
     "`conv2d`, checked against torch and central differences.", "Lectures 2–4"),
    ("ps3", "CNNs in PyTorch",
     "MNIST-1D with a fully connected net and a small conv net; shuffled inputs; "
     "debugging a broken model.", "Lectures 5–6"),
    ("ps4", "Modern architectures",
     "BatchNorm with running statistics, residual blocks and bottlenecks, "
     "receptive fields of deep networks.", "Lecture 7"),
    ("ps5", "Beyond classification",
     "IoU and non-maximum suppression, upsampling, a tiny U-Net, denoising.",
     "Lectures 8–9"),
)

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_NOTE = ("<p class=\"cnnlab-widget-note\"><em>Interactive controls are not "
               "available in the web book: open the notebook in Jupyter to use them."
               "</em></p>")


# --- execution ---------------------------------------------------------------

def _cache_key(nb_path: Path, timeout: int) -> str:
    """Hash of the notebook, the cnnlab sources and the interpreter."""
    h = hashlib.sha256(nb_path.read_bytes())
    for src in sorted((ROOT / "cnnlab").rglob("*.py")):
        h.update(src.relative_to(ROOT).as_posix().encode() + src.read_bytes())
    h.update(f"{sys.version}|{timeout}".encode())
    return h.hexdigest()[:16]


def _kernel_env(jobs: int = 1) -> dict:
    env = dict(os.environ)
    # Kernels running side by side share the cores instead of oversubscribing.
    env.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // max(1, jobs))))
    # note: MPLBACKEND=Agg (set by the Makefile) would stop the inline backend
    # from capturing figures; kernels must pick their own backend.
    env.pop("MPLBACKEND", None)
    env.update(CNNLAB_BOOK="1", PYDEVD_DISABLE_FILE_VALIDATION="1")
    return env


async def _execute_one(src: Path, dest: Path, timeout: int, sem: asyncio.Semaphore, jobs: int):
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
            await client.async_execute(env=_kernel_env(jobs), stderr=log)
        static_widgets(nb)
        tmp = dest.with_suffix(".tmp")
        nbformat.write(nb, tmp)
        tmp.replace(dest)  # note: atomic, so an interrupted run never leaves a cache entry
        return time.perf_counter() - t0


async def _execute_all(jobs, max_workers):
    sem = asyncio.Semaphore(max_workers)
    n = min(max_workers, len(jobs))
    tasks = [_execute_one(src, dest, timeout, sem, n) for src, dest, timeout in jobs]
    return await asyncio.gather(*tasks, return_exceptions=True)


def execute_notebooks(notebooks, dest_dir: Path, cache_dir: Path, *, timeout=120,
                      jobs=2, force=False) -> dict:
    """Execute notebooks into dest_dir (reusing cache_dir); return {name: seconds}.

    Raises RuntimeError naming every notebook whose execution failed.
    """
    cache_dir.mkdir(parents=True, exist_ok=True)
    dest_dir.mkdir(parents=True, exist_ok=True)
    todo, times = [], {}
    # note: keys are computed once, before running: sources may change meanwhile.
    cached_as = {nb: cache_dir / f"{nb.stem}-{_cache_key(nb, timeout)}.ipynb"
                 for nb in notebooks}
    for nb, cached in cached_as.items():
        if cached.exists() and not force:
            times[nb.name] = 0.0
        else:
            todo.append((nb, cached, timeout))
    if todo:
        results = asyncio.run(_execute_all(todo, max(1, jobs)))
        errors = []
        for (nb, cached, _), res in zip(todo, results):
            if isinstance(res, BaseException):
                errors.append(f"--- {nb.name} ---\n" + re.sub(r"\x1b\[[0-9;]*m", "", str(res)))
            else:
                times[nb.name] = res
                for old in cache_dir.glob(f"{nb.stem}-*.*"):  # keep one version
                    if old.stem != cached.stem:
                        old.unlink()
        if errors:
            raise RuntimeError("notebook execution failed:\n" + "\n".join(errors))
    for nb, cached in cached_as.items():
        shutil.copyfile(cached, dest_dir / nb.name)
    return times


# --- widgets -> static outputs -------------------------------------------------

def _captured_outputs(model_id: str, state: dict, seen: set) -> list:
    """Outputs captured by a widget and its children (Output widgets hold them)."""
    if model_id in seen or model_id not in state:
        return []
    seen.add(model_id)
    model = state[model_id].get("state", {})
    outs = list(model.get("outputs", []))
    for child in model.get("children", []):
        if isinstance(child, str) and child.startswith("IPY_MODEL_"):
            outs += _captured_outputs(child[len("IPY_MODEL_"):], state, seen)
    return outs


def _progress_text(model_id: str, state: dict) -> str | None:
    """A tqdm-style line for a progress-bar widget tree, None for other widgets."""
    parts, has_bar = [], False

    def walk(mid):
        nonlocal has_bar
        model = state.get(mid, {})
        name, st = model.get("model_name", ""), model.get("state", {})
        if name in ("FloatProgressModel", "IntProgressModel"):
            has_bar = True
            frac = st.get("value", 0) / st["max"] if st.get("max") else 0.0
            filled = max(0, min(10, round(10 * frac)))
            parts.append("|" + "█" * filled + " " * (10 - filled) + "|")
        elif name in ("HTMLModel", "LabelModel"):
            parts.append(html.unescape(re.sub(r"<[^>]*>", "", st.get("value", ""))))
        for child in st.get("children", []):
            if isinstance(child, str) and child.startswith("IPY_MODEL_"):
                walk(child[len("IPY_MODEL_"):])

    walk(model_id)
    return "".join(parts).replace("\u2007", " ") if has_bar else None


def static_widgets(nb) -> int:
    """Replace widget-view outputs in nb by what the widgets displayed; return count.

    Output widgets (``interact``) give their captured outputs, progress bars
    (tqdm) their final line, and other widgets (a bare slider) a short note. The
    widget state is dropped from the metadata so no widget JavaScript is loaded.
    """
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    count = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        new = []
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if WIDGET_VIEW not in data:
                new.append(out)
                continue
            count += 1
            captured = _captured_outputs(data[WIDGET_VIEW].get("model_id", ""), state, set())
            captured = [copy.deepcopy(o) for o in captured
                        if WIDGET_VIEW not in o.get("data", {})]
            if captured:
                new += captured
            elif (line := _progress_text(data[WIDGET_VIEW].get("model_id", ""), state)):
                new.append({"output_type": "stream", "name": "stdout", "text": line + "\n"})
            else:
                new.append({"output_type": "display_data", "metadata": {},
                            "data": {"text/html": WIDGET_NOTE,
                                     "text/plain": "(interactive widget)"}})
        cell["outputs"] = [_as_node(o) for o in new]
    nb.metadata.pop("widgets", None)
    return count


def _as_node(out):
    import nbformat

    return out if isinstance(out, nbformat.NotebookNode) else nbformat.from_dict(out)


# --- problem-set pages -----------------------------------------------------------

def _ps_status(root: Path, ps: str) -> tuple[str, list[Path]]:
    """("released" | "in preparation" | "planned", released files)."""
    folder = root / "exercises" / ps
    released = sorted(p for p in folder.rglob("*") if p.is_file() and not any(
        part.startswith(".") for part in p.relative_to(folder).parts)) if folder.is_dir() else []
    if released:
        return "released", released
    if (root / "solutions" / ps).is_dir():
        return "in preparation", []
    return "planned", []


def _outline(path: Path) -> list[str]:
    """Markdown lines describing a released notebook: its parts and points."""
    import nbformat

    try:
        nb = nbformat.read(path, as_version=4)
    except Exception:  # not a readable notebook: just link it
        return []
    parts = [line[3:].strip() for c in nb.cells if c.cell_type == "markdown"
             for line in c.source.splitlines() if re.match(r"## \d", line)]
    points = sum(c.metadata.get("nbgrader", {}).get("points", 0) or 0 for c in nb.cells)
    lines = [f"`{path.name}`: {len(parts)} parts, {points:g} points in all." if points
             else f"`{path.name}`:", ""]
    return lines + [f"1. {part.split('. ', 1)[-1]}" for part in parts] + [""]


def write_problem_sets(root: Path, src: Path) -> list[str]:
    """Write src/problem_sets/<ps>.md and copy released files; return the names."""
    pages = src / "problem_sets"
    pages.mkdir(parents=True, exist_ok=True)
    names = []
    for i, (ps, title, what, builds_on) in enumerate(PROBLEM_SETS, start=1):
        status, files = _ps_status(root, ps)
        lines = [f"# Problem set {i}: {title}", "",
                 f"**Status:** {status} · **Builds on:** {builds_on} · "
                 f"**In the repository:** `exercises/{ps}/`", "", what, ""]
        if files:
            lines += ["## What's inside", ""]
            for f in files:
                if f.suffix == ".ipynb":
                    lines += _outline(f)
            lines += ["## Download", "",
                      "Download the notebooks, open them in Jupyter and fill in every "
                      "cell that raises `NotImplementedError`. The visible checks "
                      "tell you whether you are on track; hidden tests grade the rest.",
                      ""]
            for f in files:
                rel = f.relative_to(root)  # exercises/<ps>/...
                dest = src / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(f, dest)
                lines.append(f"- {{download}}`{rel.relative_to('exercises').as_posix()} "
                             f"</{rel.as_posix()}>`")
            lines.append("")
        elif status == "in preparation":
            lines += ["The notebooks are being written and will appear in "
                      f"`exercises/{ps}/` once released.", ""]
        else:
            lines += ["This problem set is planned; the notebooks will appear in "
                      f"`exercises/{ps}/` once it is released.", ""]
        (pages / f"{ps}.md").write_text("\n".join(lines), encoding="utf-8")
        names.append(ps)
    return names


# --- build ---------------------------------------------------------------------

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
