"""The class report: what the class got wrong, for the next lecture.

`class_report` reads the gradebook (scores, points per test cell) and the
grader's records (``autograded/<student>/<assignment>/verdicts.json``, one
``{"cell", "name", "passed", "mistake", "message"}`` per check the grader
ran) and computes the numbers; `write_report` draws them (matplotlib PNGs)
and writes ``index.html`` beside them:

- the score histogram (every graded submission in the gradebook),
- the pass rate per test cell (a cell passes with full points),
- the most frequent diagnosed mistakes by key ("kernel-flipped in corr2d:
  31% of the class"), with one example message each; a student counts once
  per key, however many checks reported it.

Scores and pass rates come from the gradebook only, so they match it; a
submission without a verdict log is listed, never guessed.
"""
from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Mistake", "ClassReport", "class_report", "write_report"]


@dataclass
class Mistake:
    """One diagnosed mistake key and the students whose checks reported it."""

    exercise: str
    key: str
    students: list[str]
    fraction: float  # of the graded submissions
    example: str  # one message the grader showed for it

    def headline(self) -> str:
        return f"{self.key} in {self.exercise}: {self.fraction:.0%} of the class"


@dataclass
class ClassReport:
    """Numbers of one assignment's class report; every score is the gradebook's."""

    assignment: str
    max_score: float
    scores: dict[str, float]  # student -> score
    cells: dict[str, tuple[int, int, float]]  # test cell -> (students with full points, graded, points)
    mistakes: list[Mistake] = field(default_factory=list)
    undiagnosed: dict[str, int] = field(default_factory=dict)  # exercise -> students with a failure without key
    no_verdicts: list[str] = field(default_factory=list)  # graded, but no verdicts.json

    @property
    def n(self) -> int:
        return len(self.scores)

    @property
    def mean(self) -> float:
        return sum(self.scores.values()) / self.n if self.n else 0.0

    @property
    def median(self) -> float:
        s = sorted(self.scores.values())
        if not s:
            return 0.0
        mid = len(s) // 2
        return s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) / 2

    def pass_rate(self, cell: str) -> float:
        passed, graded, _ = self.cells[cell]
        return passed / graded if graded else 0.0


def _read_verdicts(path: Path) -> list[dict] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return [d for d in data if isinstance(d, dict)] if isinstance(data, list) else None


def class_report(assignment: str, root: Path) -> ClassReport:
    """Compute the report of ``assignment`` from ``<root>/gradebook.db`` and ``<root>/autograded``.

    Raises:
        ValueError: the assignment is not in the gradebook.
    """
    from nbgrader.api import Gradebook, MissingEntry

    root = Path(root)
    scores: dict[str, float] = {}
    cells: dict[str, list] = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        try:
            max_score = float(gb.find_assignment(assignment).max_score)
        except MissingEntry:
            raise ValueError(f"assignment {assignment!r} is not in the gradebook {root / 'gradebook.db'}; "
                             f"have {[a.name for a in gb.assignments]}") from None
        for sub in gb.assignment_submissions(assignment):
            scores[sub.student.id] = float(sub.score)
            for nb in sub.notebooks:
                for grade in nb.grades:
                    if grade.cell_type != "code":
                        continue  # note: manually graded answers are not tests
                    row = cells.setdefault(grade.name, [0, 0, float(grade.max_score)])
                    row[0] += float(grade.score) >= float(grade.max_score)
                    row[1] += 1
    by_key: dict[tuple[str, str], dict[str, str]] = {}
    undiagnosed: dict[str, set] = {}
    no_verdicts = []
    for sid in sorted(scores):
        records = _read_verdicts(root / "autograded" / sid / assignment / "verdicts.json")
        if records is None:
            no_verdicts.append(sid)
            continue
        for rec in records:
            if rec.get("passed"):
                continue
            exercise = str(rec.get("name") or rec.get("cell") or "?")
            if rec.get("mistake"):
                by_key.setdefault((exercise, str(rec["mistake"])), {}).setdefault(sid, str(rec.get("message") or ""))
            else:
                undiagnosed.setdefault(exercise, set()).add(sid)
    n = len(scores)
    mistakes = [Mistake(ex, key, sorted(who), len(who) / n, who[min(who)])
                for (ex, key), who in by_key.items()]
    mistakes.sort(key=lambda m: (-len(m.students), m.exercise, m.key))
    return ClassReport(assignment, max_score, dict(sorted(scores.items())),
                       {k: tuple(v) for k, v in sorted(cells.items())}, mistakes,
                       {k: len(v) for k, v in sorted(undiagnosed.items())}, no_verdicts)


def _save(fig, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _percent_bars(path: Path, labels: list[str], percents: list[float], color: str, xlabel: str,
                  ylabel: str, title: str, width: float = 6) -> None:
    """One horizontal bar per label, 0-100 %, first label on top."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(width, 0.4 * len(labels) + 1.2))
    ax.barh(labels, percents, color=color)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    _save(fig, path)


def _plots(rep: ClassReport, out: Path, top: int) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    bins = max(1, int(rep.max_score)) if rep.max_score else 10
    ax.hist(list(rep.scores.values()), bins=bins, range=(0, max(rep.max_score, 1)), color="tab:blue",
            edgecolor="white")
    ax.set_xlabel(f"score (out of {rep.max_score:g})")
    ax.set_ylabel("students")
    ax.set_title(f"{rep.assignment}: scores of {rep.n} graded submissions")
    _save(fig, out / "scores.png")
    names = ["scores.png"]
    cells = list(rep.cells)
    _percent_bars(out / "pass_rate.png", cells, [100 * rep.pass_rate(c) for c in cells], "tab:green",
                  "students with full points (%)", "test cell", f"{rep.assignment}: pass rate per test cell")
    names.append("pass_rate.png")
    if rep.mistakes:
        shown = rep.mistakes[:top]
        _percent_bars(out / "mistakes.png", [f"{m.key} ({m.exercise})" for m in shown],
                      [100 * m.fraction for m in shown], "tab:red", "students (%)", "diagnosed mistake",
                      f"{rep.assignment}: most frequent diagnosed mistakes", width=7)
        names.append("mistakes.png")
    return names


def _html(rep: ClassReport, images: list[str], top: int) -> str:
    e = html.escape
    rows = "".join(f"<tr><td>{e(c)}</td><td>{p}/{g}</td><td>{100 * p / g if g else 0:.0f}%</td><td>{pts:g}</td></tr>"
                   for c, (p, g, pts) in rep.cells.items())
    mistakes = "".join(
        f"<tr><td>{e(m.exercise)}</td><td><code>{e(m.key)}</code></td><td>{len(m.students)}</td>"
        f"<td>{m.fraction:.0%}</td><td>{e(m.example)}</td></tr>" for m in rep.mistakes[:top])
    undiag = "".join(f"<li>{e(ex)}: {k} student(s) failed a check the grader could not name</li>"
                     for ex, k in rep.undiagnosed.items())
    missing = (f"<p><b>No verdict log</b> (graded before verdict logs, or the grader never ran): "
               f"{e(', '.join(rep.no_verdicts))}</p>" if rep.no_verdicts else "")
    imgs = "".join(f'<p><img src="{e(i)}" alt="{e(i)}"></p>' for i in images)
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{e(rep.assignment)}: class report</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}}td,th{{padding:.2em .6em;text-align:left;
vertical-align:top}}table{{border-collapse:collapse}}tr:nth-child(even){{background:#f3f3f3}}</style></head><body>
<h1>{e(rep.assignment)}: class report</h1>
<p>{rep.n} graded submission(s); mean score {rep.mean:.2f} / {rep.max_score:g}, median {rep.median:g}.</p>
<h2>Most frequent diagnosed mistakes</h2>
<ul>{"".join(f"<li>{e(m.headline())}</li>" for m in rep.mistakes[:top]) or "<li>none diagnosed</li>"}</ul>
<table><tr><th>exercise</th><th>mistake</th><th>students</th><th>share</th><th>example message</th></tr>{mistakes}</table>
<ul>{undiag}</ul>{missing}
<h2>Pass rate per test cell</h2>
<table><tr><th>test cell</th><th>full points</th><th>rate</th><th>points</th></tr>{rows}</table>
<h2>Plots</h2>{imgs}
</body></html>
"""


def write_report(assignment: str, root: Path, out: Path | None = None, top: int = 10) -> tuple[ClassReport, Path]:
    """Write ``index.html``, ``scores.png``, ``pass_rate.png`` (and ``mistakes.png``) into ``out``
    (default ``<root>/reports/<assignment>``); returns the numbers and the HTML path."""
    rep = class_report(assignment, root)
    out = Path(out) if out else Path(root) / "reports" / assignment
    out.mkdir(parents=True, exist_ok=True)
    images = _plots(rep, out, top)
    page = out / "index.html"
    page.write_text(_html(rep, images, top), encoding="utf-8")
    return rep, page
