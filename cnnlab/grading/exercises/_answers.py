"""Short answers (multiple-choice letters), decided on the grader's side.

A hidden test writes the key in the call itself::

    check("answers", {"eval_bug_cause": (eval_bug_cause, "B", "why B is right"), ...}).raise_if_failed()

Outside grading mode the key is read from the dict. In grading mode the kernel only
sends the student's values (`part_values`); the key and the explanations are read
from the test cell's source as the grader holds it (nbgrader restores the
instructor's test cells before grading), never from what the kernel says.
One ``check("answers", ...)`` per test cell.
"""
from __future__ import annotations

import ast

from cnnlab.grading.custom import LocalSide, Raised, exc_text
from cnnlab.grading.limits import TimeLimit
from cnnlab.grading.result import CheckResult

__all__ = ["ANSWERS", "CUSTOM", "key_from_source"]


def key_from_source(source: str) -> dict:
    """``{name: (expected, explanation)}`` from the first ``check("answers", {...})`` call in `source`."""
    try:
        tree = ast.parse(source or "")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return {}
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and len(node.args) >= 2 and isinstance(node.args[0], ast.Constant)
                and node.args[0].value == "answers" and isinstance(node.args[1], ast.Dict)):
            continue
        f = node.func
        if not ((isinstance(f, ast.Name) and f.id == "check") or (isinstance(f, ast.Attribute) and f.attr == "check")):
            continue
        key = {}
        for k, v in zip(node.args[1].keys, node.args[1].values):
            if isinstance(k, ast.Constant) and isinstance(v, ast.Tuple) and len(v.elts) == 3 \
                    and all(isinstance(e, ast.Constant) for e in v.elts[1:]):
                key[str(k.value)] = (v.elts[1].value, str(v.elts[2].value))
        return key
    return {}


class _Answers:
    name = "answers"
    custom = True
    takes_objects = True  # note: `check("answers", {...})`: a dict, not a function
    needs_source = True  # note: in grading mode the key comes from the test cell's source (`serve_check`)

    def cases(self, seed=0, trials=None):
        return []

    def part_values(self, answers, budget, state):
        """Kernel side: the student's answers, as plain data (strings and numbers kept, others by type name)."""
        out = {}
        for k, v in dict(answers).items():
            value = v[0] if isinstance(v, tuple) and v else v
            out[str(k)] = value if type(value) in (str, int, float, bool) or value is None else \
                f"<{type(value).__name__}>"
        return out

    def check(self, answers, *, seed=0, trials=None, device=None, time_limit=10.0, side=None,
              source=None) -> CheckResult:
        name = self.name
        if side is None:  # note: outside grading mode the key is the dict's own
            if not isinstance(answers, dict) or not all(isinstance(v, tuple) and len(v) == 3
                                                        for v in answers.values()):
                return CheckResult(name, False, f"{name}: expected a dict {{name: (answer, expected, "
                                                f"explanation)}}; got {type(answers).__name__}.",
                                   mistake="not-an-answer-key")
            key = {str(k): (v[1], str(v[2])) for k, v in answers.items()}
            side = LocalSide(self, answers)
        else:
            key = key_from_source(source)
            if not key:
                return CheckResult(name, False, f"{name}: the grader has no answer key for this test cell; "
                                                f"tell your instructor.", mistake="grader-error")
        try:
            got = side.run("values", [time_limit])
        except TimeLimit:
            return CheckResult(name, False, f"{name}: reading your answers took too long.", mistake="time-limit")
        except Raised as exc:
            return CheckResult(name, False, f"{name}: reading your answers raised {exc_text(exc)}.",
                               mistake="exception")
        if type(got) is not dict:
            got = {}
        for k, (want, why) in key.items():
            if got.get(k) != want or type(got.get(k)) is not type(want):
                return CheckResult(name, False, why, len(key), "wrong-answer")
        return CheckResult(name, True, f"{name}: {len(key)} answer(s) right.", len(key))


ANSWERS = _Answers()
CUSTOM = {ANSWERS.name: ANSWERS}
