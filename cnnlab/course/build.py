"""Problem sets authored as code: ``solutions/psN.py`` (jupytext percent) -> ``solutions/psN/psN.ipynb``.

The source is real Python that runs top to bottom with the solutions in
place. Cell headers carry the nbgrader metadata the way jupytext writes cell
metadata (``# %% nbgrader={"grade_id": "pad2d", "solution": true}``); the
builder fills in the rest (`complete_metadata`), replaces ``{points}`` in
headings by the points of the graded cells below them (`fill_points`),
checks the contract (`check_cells`) and writes a notebook without outputs,
byte for byte the same on every run. `to_source` is the way back, for
instructors who edited the built notebook in JupyterLab.
"""
from __future__ import annotations

import copy
import re
from pathlib import Path

import nbformat

from cnnlab.course.config import COURSE_ROOT

__all__ = ["problem_sets", "source_path", "notebook_path", "read_source", "complete_metadata",
           "fill_points", "check_cells", "build_notebook", "notebook_text", "build", "to_source",
           "graded_points", "total_points", "PS_NAME"]

PS_NAME = re.compile(r"^ps\d+$")
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_TYPED_POINTS = re.compile(r"\(\d+(\.\d+)? points?\)")
_BOOLS = ("grade", "solution", "task")


def source_path(name: str, root: Path = COURSE_ROOT) -> Path:
    return Path(root) / "solutions" / f"{name}.py"


def notebook_path(name: str, root: Path = COURSE_ROOT) -> Path:
    return Path(root) / "solutions" / name / f"{name}.ipynb"


def problem_sets(root: Path = COURSE_ROOT) -> list[str]:
    """Names of the problem sets with a source: ``solutions/psN.py``, in numeric order."""
    found = [p.stem for p in (Path(root) / "solutions").glob("ps*.py") if PS_NAME.match(p.stem)]
    return sorted(found, key=lambda n: int(n[2:]))


def read_source(path: Path) -> nbformat.NotebookNode:
    """The jupytext percent file ``path`` as a notebook (metadata exactly as written)."""
    import jupytext

    return jupytext.read(Path(path), fmt="py:percent")


def _meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader") or {}


def complete_metadata(meta: dict) -> dict:
    """nbgrader's full metadata from what a source header says.

    schema_version 3; missing booleans false; ``locked`` true for tests and
    read-only cells, false for answers (unless the header sets it).
    """
    out = dict(meta)
    for key in _BOOLS:
        out[key] = bool(out.get(key, False))
    out.setdefault("locked", not out["solution"])
    out["schema_version"] = 3
    return out


def _headings(text: str):
    """(line index, level, title) of the markdown headings in ``text`` (not inside code fences)."""
    fenced = False
    for i, line in enumerate(text.splitlines()):
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        elif not fenced and (m := _HEADING.match(line)):
            yield i, len(m.group(1)), m.group(2)


def _points_text(points: float) -> str:
    value = f"{points:g}"
    return f"({value} point)" if value == "1" else f"({value} points)"


def fill_points(nb: nbformat.NotebookNode) -> None:
    """Replace ``{points}`` in headings by the points of the graded cells under the heading.

    A heading's section runs to the next heading of the same or a higher
    level; a graded cell counts in every section that encloses it.
    """
    events = []  # ("h", level, cell index, line) or ("p", points)
    for ci, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            for li, level, _ in _headings(cell.source):
                events.append(("h", level, ci, li))
        meta = _meta(cell)
        if meta.get("grade"):
            events.append(("p", float(meta.get("points", 0) or 0), ci, None))
    totals: dict[tuple[int, int], float] = {}
    open_: list[tuple[int, tuple[int, int]]] = []  # (level, key)
    for kind, value, ci, li in events:
        if kind == "h":
            open_ = [(lvl, key) for lvl, key in open_ if lvl < value]
            open_.append((value, (ci, li)))
            totals[(ci, li)] = 0.0
        else:
            for _, key in open_:
                totals[key] += value
    for ci, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown" or "{points}" not in cell.source:
            continue
        lines = cell.source.splitlines()
        for li, _, _ in _headings(cell.source):
            lines[li] = lines[li].replace("{points}", _points_text(totals[(ci, li)]))
        cell.source = "\n".join(lines)


def check_cells(nb: nbformat.NotebookNode, name: str = "") -> list[str]:
    """Problems with the authoring contract (empty when none), each naming its cell."""
    problems, seen = [], set()
    for i, cell in enumerate(nb.cells):
        meta = _meta(cell)
        where = f"{name} cell {i}" + (f" ({meta['grade_id']})" if meta.get("grade_id") else "")
        if cell.cell_type == "markdown":
            for _, _, title in _headings(cell.source):
                if _TYPED_POINTS.search(title):
                    problems.append(f"{where}: heading {title!r} types its points; write {{points}}")
        if not meta:
            continue
        gid = meta.get("grade_id")
        if not gid or not re.match(r"^[A-Za-z0-9_-]+$", str(gid)):
            problems.append(f"{where}: nbgrader metadata needs a grade_id of letters, digits, _ and -")
        elif gid in seen:
            problems.append(f"{where}: grade_id {gid!r} used twice")
        seen.add(gid)
        if meta.get("grade") and not isinstance(meta.get("points"), (int, float)):
            problems.append(f"{where}: a graded cell needs points")
        if cell.cell_type == "code" and meta.get("solution"):
            if cell.source.count("### BEGIN SOLUTION") != cell.source.count("### END SOLUTION") \
                    or "### BEGIN SOLUTION" not in cell.source:
                problems.append(f"{where}: an answer cell needs ### BEGIN SOLUTION / ### END SOLUTION")
        if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
            first = cell.source.lstrip().splitlines()[0] if cell.source.strip() else ""
            if not (first.startswith('"""') and first.endswith('"""') and len(first) > 6):
                problems.append(f"{where}: a test cell opens with a one-line docstring")
            if cell.source.count("### BEGIN HIDDEN TESTS") != cell.source.count("### END HIDDEN TESTS"):
                problems.append(f"{where}: unbalanced ### BEGIN/END HIDDEN TESTS")
    return problems


def build_notebook(source: Path) -> nbformat.NotebookNode:
    """The nbgrader notebook of the source file ``source``; ValueError listing contract problems."""
    nb = read_source(source)
    out = nbformat.v4.new_notebook()
    out.metadata = {"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}}
    for i, cell in enumerate(nb.cells):
        src = cell.source.strip("\n").rstrip()
        new = (nbformat.v4.new_markdown_cell(src) if cell.cell_type == "markdown"
               else nbformat.v4.new_raw_cell(src) if cell.cell_type == "raw"
               else nbformat.v4.new_code_cell(src))
        meta = _meta(cell)
        if meta:
            new.metadata = {"nbgrader": complete_metadata(meta)}
        # note: ids from grade ids (or positions), never random: the bytes must not change
        new.id = (meta.get("grade_id") or f"cell-{i}").replace("_", "-")
        out.cells.append(new)
    problems = check_cells(out, Path(source).name)
    if problems:
        raise ValueError(f"{source}: the authoring contract is not met:\n  " + "\n  ".join(problems))
    fill_points(out)
    nbformat.validate(out)
    return out


def notebook_text(nb: nbformat.NotebookNode) -> str:
    return nbformat.writes(nb) + "\n"


def build(names: list[str] | None = None, root: Path = COURSE_ROOT, check: bool = False) -> dict[str, str]:
    """Build (or with ``check``, compare) the notebooks of ``names`` (default: all).

    Returns {name: "written" | "unchanged" | "differs" | "missing"}; "differs"
    and "missing" only with ``check``.
    """
    root = Path(root)
    names = list(names or problem_sets(root))
    unknown = [n for n in names if not source_path(n, root).is_file()]
    if unknown:
        raise SystemExit(f"no source solutions/<name>.py for {unknown}; have {problem_sets(root)}")
    status = {}
    for name in names:
        text = notebook_text(build_notebook(source_path(name, root)))
        target = notebook_path(name, root)
        old = target.read_text(encoding="utf-8") if target.is_file() else None
        if old == text:
            status[name] = "unchanged"
        elif check:
            status[name] = "missing" if old is None else "differs"
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            status[name] = "written"
    return status


def graded_points(nb) -> dict[str, float]:
    """{grade_id: points} of the graded cells of a notebook (dict or NotebookNode)."""
    return {m["grade_id"]: float(m.get("points", 0) or 0) for c in nb["cells"]
            if (m := (c.get("metadata", {}).get("nbgrader") or {})).get("grade")}


def total_points(nb) -> float:
    return sum(graded_points(nb).values())


def to_source(nb: nbformat.NotebookNode) -> str:
    """The jupytext percent source of a built (or hand-edited) notebook: the way back.

    Headers keep what the builder cannot derive (grade_id, true flags,
    points, a non-default ``locked``); a heading's "(N points)" becomes
    ``{points}`` again (the contract never types a total, so every one was
    computed, and is computed afresh from the cells); outputs are dropped.
    """
    import jupytext

    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            lines = cell.source.splitlines()
            for li, _, _ in _headings(cell.source):
                lines[li] = _TYPED_POINTS.sub("{points}", lines[li])
            cell.source = "\n".join(lines)
        meta = _meta(cell)
        cell.metadata = {}
        if meta:
            short = {"grade_id": meta.get("grade_id")}
            short.update({k: True for k in _BOOLS if meta.get(k)})
            if meta.get("grade"):
                short["points"] = meta.get("points", 0)
            if bool(meta.get("locked", not meta.get("solution"))) != (not short.get("solution", False)):
                short["locked"] = bool(meta.get("locked"))
            cell.metadata["nbgrader"] = short
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nb.metadata = {"jupytext": {"notebook_metadata_filter": "-all", "cell_metadata_filter": "nbgrader"}}
    return jupytext.writes(nb, fmt="py:percent")
