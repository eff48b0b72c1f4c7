"""Every lectures/*.ipynb: stored clean, follows the skeleton, runs headless on CPU.

The execution tests use the session fixture ``executed_lectures``
(tests/conftest.py): each notebook is executed ONCE per test session, two at
a time, by the book's executor (kernel ``python3``, CUDA hidden), and the
book test reuses those runs. A notebook fails on any error or when it takes
longer than its own budget, ``CNNLAB_LECTURE_BUDGET`` seconds (default 180:
lectures 1-4 take 7-20 s on an idle 2-core CPU, the later ones 1-2 minutes;
the margin absorbs a busy machine); when every lecture ran in this session,
all of them together must stay under ``CNNLAB_LECTURES_TOTAL`` seconds
(default: 100 s per lecture, so it scales with the number of lectures).
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")

ROOT = Path(__file__).resolve().parents[1]
LECTURE_DIR = ROOT / "lectures"
LECTURES = sorted(LECTURE_DIR.glob("*.ipynb"))
BUDGET_S = float(os.environ.get("CNNLAB_LECTURE_BUDGET", "180"))
TOTAL_BUDGET_S = float(os.environ.get("CNNLAB_LECTURES_TOTAL", str(100 * max(1, len(LECTURES)))))


def _registered_markers() -> set[str]:
    """Lecture markers registered in pyproject.toml (--strict-markers rejects any other)."""
    return set(re.findall(r'"(lec\d+):', (ROOT / "pyproject.toml").read_text()))


def _params():
    params, registered = [], _registered_markers()
    for path in LECTURES:
        m = re.match(r"(\d+)_", path.name)
        name = f"lec{int(m.group(1))}" if m else None
        marks = [getattr(pytest.mark, name)] if name in registered else []
        params.append(pytest.param(path, id=path.stem, marks=marks))
    return params


def _read(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    return nb


def _md(nb):
    return [c.source for c in nb.cells if c.cell_type == "markdown"]


def _headings(nb, level):
    prefix = "#" * level + " "
    return [line[len(prefix):].strip() for src in _md(nb) for line in src.splitlines()
            if line.startswith(prefix)]


pytestmark = pytest.mark.notebooks


def test_lectures_exist():
    assert LECTURES, f"no notebooks in {LECTURE_DIR}"
    assert not list(LECTURE_DIR.glob("*.py")), "keep jupytext sources out of lectures/ (the book picks up every file)"


@pytest.mark.parametrize("path", _params())
def test_lecture_stored_without_outputs(path):
    nb = _read(path)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name} cell {i} has stored outputs"
            assert cell.execution_count is None, f"{path.name} cell {i} has an execution count"
    assert "widgets" not in nb.metadata, f"{path.name} stores widget state"
    spec = nb.metadata.get("kernelspec", {})
    assert spec.get("name") == "python3" and spec.get("display_name") == "Python 3", spec


@pytest.mark.parametrize("path", _params())
def test_lecture_skeleton(path):
    nb = _read(path)
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# "), "first cell: '# Title'"
    intro = first.source.split("\n", 1)[1].strip() if "\n" in first.source else ""
    assert len(re.findall(r"[.!?](\s|$)", intro)) >= 2, "title cell needs 2-4 sentences on what and why"
    h2 = _headings(nb, 2)
    assert "Learning objectives" in h2, h2
    numbered = [h for h in h2 if re.match(r"\d+\. ", h)]
    assert len(numbered) >= 3, f"needs numbered sections '## 1. ...'; got {h2}"
    assert [int(h.split(".")[0]) for h in numbered] == list(range(1, len(numbered) + 1)), numbered
    assert "Summary" in h2 and "Check your understanding" in h2, h2
    assert h2.index("Learning objectives") < h2.index(numbered[0])
    assert h2.index(numbered[-1]) < h2.index("Summary") < h2.index("Check your understanding")
    cyu = next(s for s in _md(nb) if "## Check your understanding" in s)
    assert "<details>" in cyu, "answers go in a collapsed <details> block"
    assert any(re.search(r"\bpredict\b", s, re.I) for s in _md(nb)), "needs 'predict before you run' prompts"
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    assert "cnnlab.device()" in code[0], "first code cell is the setup cell (imports, cnnlab.device(), seeds)"
    assert "seed" in code[0], "setup cell sets seeds"
    allsrc = "\n".join(code)
    assert not re.search(r"%matplotlib\s+(widget|notebook|qt|ipympl|tk)", allsrc), "no interactive backends"
    assert "assert" in allsrc, "numbers are checked with assert cells"


def _sections(nb) -> list[tuple[str, list]]:
    """(numbered heading, its cells) for every '## N. ...' section, up to the next '## '."""
    out, current = [], None
    for cell in nb.cells:
        heading = re.match(r"## (\d+\. .*)", cell.source) if cell.cell_type == "markdown" else None
        if heading:
            current = (heading.group(1).splitlines()[0], [])
            out.append(current)
        elif cell.cell_type == "markdown" and cell.source.startswith("## "):
            current = None
        elif current is not None:
            current[1].append(cell)
    return out


def _tags(cell) -> list[str]:
    return list(cell.metadata.get("tags", []))


def _defined(source: str) -> set[str]:
    return set(re.findall(r"^def (\w+)\(", source, re.M))


def _asserts(source: str) -> list[str]:
    return [ln.strip() for ln in source.splitlines() if ln.strip().startswith("assert ")]


@pytest.mark.parametrize("path", _params())
def test_lecture_exercises(path):
    """Every numbered section ends with an exercise that checks itself and a collapsed solution
    that passes the same check (README, "The lectures": the exercise convention)."""
    nb = _read(path)
    for heading, cells in _sections(nb):
        pairs = [(c, cells[i + 1] if i + 1 < len(cells) else None)
                 for i, c in enumerate(cells) if "exercise" in _tags(c)]
        assert pairs, f"{path.name}, section {heading!r}: no cell tagged 'exercise'"
        for ex, sol in pairs:
            where = f"{path.name}, section {heading!r}, exercise cell {ex.source[:60]!r}"
            assert ex.cell_type == "code" and _asserts(ex.source), f"{where}: needs its own assert"
            assert "NotImplementedError" in ex.source, f"{where}: an unfilled stub must run (catch NotImplementedError)"
            assert "skip-execution" not in _tags(ex), f"{where}: exercises run headless, never skipped"
            assert sol is not None and sol.cell_type == "code" and {"solution", "hide-input"} <= set(_tags(sol)), \
                f"{where}: the next cell must be its solution, tagged solution + hide-input"
            assert sol.metadata.get("jupyter", {}).get("source_hidden") is True, \
                f"{where}: the solution's source is collapsed (metadata jupyter.source_hidden)"
            missing = [a for a in _asserts(ex.source) if a not in sol.source]
            assert not missing, f"{where}: the solution must run the exercise's own checks; missing {missing}"
            assert _defined(ex.source) <= _defined(sol.source), \
                f"{where}: the solution defines {sorted(_defined(sol.source))}, the exercise {sorted(_defined(ex.source))}"


@pytest.mark.parametrize("path", _params())
def test_lecture_does_not_paste_cnnlab_code(path):
    import cnnlab.functional as F
    import cnnlab.shapes as S

    nb = _read(path)
    defined = {m for c in nb.cells if c.cell_type == "code"
               for m in re.findall(r"^\s*def\s+(\w+)", c.source, re.M)}
    pasted = defined & (set(F.__all__) | set(S.__all__))
    assert not pasted, f"{path.name} redefines cnnlab functions {sorted(pasted)}: import them instead"


@pytest.mark.slow
@pytest.mark.parametrize("path", _params())
def test_lecture_executes(path, executed_lectures):
    result = executed_lectures[path.name]
    if isinstance(result, BaseException):
        pytest.fail(str(result))
    executed, elapsed = result
    nb = nbformat.read(executed, as_version=4)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors, errors
    images = sum("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code"
                 for o in c.outputs)
    assert images >= 3, f"{path.name} drew only {images} figures"
    assert elapsed <= BUDGET_S, f"{path.name} took {elapsed:.1f} s > budget {BUDGET_S:.0f} s (CNNLAB_LECTURE_BUDGET)"


@pytest.mark.slow
def test_lectures_total_time(executed_lectures):
    """All lectures together, when every one ran in this session."""
    if set(executed_lectures) != {p.name for p in LECTURES}:
        pytest.skip("not every lecture was executed in this session")
    times = {k: v[1] for k, v in executed_lectures.items() if not isinstance(v, BaseException)}
    total = sum(times.values())
    assert total <= TOTAL_BUDGET_S, f"lectures took {total:.0f} s together > {TOTAL_BUDGET_S:.0f} s: {times}"
