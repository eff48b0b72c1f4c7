"""Make a submitted notebook's graded cells match the release, and keep test verdicts honest.

nbgrader trusts two things a student can edit: the ``nbgrader`` metadata of
each cell (points, which cells are graded) and the outputs of test cells (an
``execute_result`` in a test cell is read as partial credit, even when the
cell also raised). `align_with_release` restores the release's metadata
before grading; `DropTestResults` removes execute_result outputs from test
cells after execution and shows their stderr as stdout (nbgrader zeroes a
cell with any stderr output, so a correct function that logs or warns would
lose its points), so a test cell scores by whether it raised, and nothing
else.
"""
from __future__ import annotations

import copy

from nbconvert.preprocessors import Preprocessor
from traitlets import Bool

__all__ = ["align_with_release", "DropTestResults"]


def _meta(cell) -> dict:
    meta = cell.get("metadata", {}).get("nbgrader") if isinstance(cell, dict) else None
    return meta if isinstance(meta, dict) else {}


def align_with_release(nb: dict, release: dict) -> tuple[list[str], bool]:
    """Give every cell of ``nb`` (a notebook dict) the release's nbgrader metadata; (notes, changed).

    A cell whose grade id is not in the release loses its nbgrader metadata
    (it cannot add points); a released cell keeps its grade id but gets the
    release's points, type and lock flags back.
    """
    released = {m["grade_id"]: m for c in release.get("cells", []) if (m := _meta(c)).get("grade_id")}
    notes, changed = [], False
    for cell in nb.get("cells", []):
        meta = _meta(cell)
        gid = meta.get("grade_id")
        if not meta:
            continue
        if gid not in released:
            cell["metadata"].pop("nbgrader", None)
            changed = True
            if meta.get("grade") or meta.get("points"):
                notes.append(f"extra graded cell {gid!r} ignored")
        elif meta != released[gid]:
            cell["metadata"]["nbgrader"] = copy.deepcopy(released[gid])
            changed = True
            notes.append(f"cell {gid!r}: edited nbgrader metadata restored")
    return notes, changed


class DropTestResults(Preprocessor):
    """In test cells (graded, not solution cells): drop ``execute_result`` outputs, relabel stderr as stdout."""

    enabled = Bool(True)  # note: nbconvert's preprocessors are off unless enabled

    def preprocess_cell(self, cell, resources, index):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
            # note: our tests pass by not raising; a value shown by the cell (the student's
            # code can call sys.displayhook) must not be read as a score
            cell.outputs = [o for o in cell.get("outputs", []) if o.get("output_type") != "execute_result"]
            for out in cell.outputs:
                if out.get("output_type") == "stream" and out.get("name") == "stderr":
                    out["name"] = "stdout"
                    out["text"] = "[stderr] " + out.get("text", "")
        return cell, resources
