"""A small course gradebook built with nbgrader's API (no grading run): for export and report tests."""
from __future__ import annotations

import json
import warnings
from pathlib import Path

__all__ = ["CELLS", "make_gradebook"]

#: test cell -> points (ps1-like)
CELLS = {"test_corr2d": 2.0, "test_pad2d": 1.0, "test_conv2d": 4.0}


def make_gradebook(root: Path, scores: dict[str, dict[str, float]], assignment: str = "ps1",
                   verdicts: dict[str, list[dict]] | None = None, others: list[str] = ()) -> None:
    """``<root>/gradebook.db`` with ``assignment`` (the cells of `CELLS`), one submission per student of
    ``scores`` ({student: {cell: points}}, missing cells 0), students ``others`` without a submission,
    and ``autograded/<student>/<assignment>/verdicts.json`` from ``verdicts``."""
    from nbgrader.api import Gradebook

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings(), Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        warnings.simplefilter("ignore")
        gb.add_assignment(assignment)
        gb.add_notebook(assignment, assignment)
        for cell, points in CELLS.items():
            gb.add_grade_cell(cell, assignment, assignment, max_score=points, cell_type="code")
        for sid in others:
            gb.update_or_create_student(sid)
        for sid, got in scores.items():
            gb.update_or_create_student(sid)
            sub = gb.add_submission(assignment, sid)
            for snb in sub.notebooks:
                for grade in snb.grades:
                    grade.auto_score = float(got.get(grade.name, 0.0))
                    grade.needs_manual_grade = False
            gb.db.commit()
    for sid, records in (verdicts or {}).items():
        folder = root / "autograded" / sid / assignment
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "verdicts.json").write_text(json.dumps(records))
