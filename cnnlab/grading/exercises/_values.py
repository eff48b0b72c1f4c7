"""Exercises whose answer is a number or a tuple of numbers: ps4's ``receptive_field(layers)``
and ``conv_cost(c_in, c_out, kernel_size, h_out, w_out)`` (exact ints), ps2's ``rel_error(a, b)``
(a float, as ``np.isclose``).

Custom exercises (`cnnlab.grading.custom`): the cases and the reference are the
grader's, the kernel only calls the student's function (`part_call`). Fixed cases
first (the stacks and sizes the problem set names), then seeded random ones.
"""
from __future__ import annotations

import numpy as np

from cnnlab.grading.custom import LocalSide, Raised
from cnnlab.grading.exercises._array import fmt_value
from cnnlab.grading.limits import TimeLimit
from cnnlab.grading.result import CheckResult

__all__ = ["RECEPTIVE_FIELD", "CONV_COST", "REL_ERROR", "CUSTOM", "ValueExercise"]


def _is_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _is_number(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


class ValueExercise:
    """One function graded on fixed and seeded random argument tuples: exact ints (or tuples of them),
    or with ``close=True`` one float compared as ``np.isclose``."""

    custom = True

    def __init__(self, name, reference, fixed, random, trials=6, close=False):
        self.name, self.reference, self.fixed, self.random, self.trials = name, reference, fixed, random, trials
        self.close = close

    def cases(self, seed=0, trials=None):
        """The cases `check` runs, in order: call ``fn(*case.values)``."""
        from cnnlab.grading.cases import Case

        rng = np.random.default_rng(seed)
        n = self.trials if trials is None else int(trials)
        args = list(self.fixed) + [self.random(rng) for _ in range(n)]
        return [Case(f"{'fixed' if i < len(self.fixed) else 'random'} case {i + 1}",
                     tuple(f"a{j}" for j in range(len(a))), tuple(a)) for i, a in enumerate(args)]

    def part_call(self, fn, budget, state, args):
        """Kernel side: ``fn(*args)`` under the time limit, as plain data (`student.Outputs`' fields)."""
        from cnnlab.grading.cases import Case
        from cnnlab.grading.exercises._array import guard_spec
        from cnnlab.grading.student import _call_function

        out = _call_function(guard_spec({}), fn, Case("", tuple(f"a{i}" for i in range(len(args))), tuple(args)),
                             budget)
        if out.timed_out:
            raise TimeLimit
        return {"value": out.value, "raised": out.raised}

    def check(self, fn, *, seed=0, trials=None, device=None, time_limit=10.0, side=None) -> CheckResult:
        if not callable(fn):
            return CheckResult(self.name, False, f"{self.name}: expected a function, got an object of type "
                                                 f"{type(fn).__name__}.", mistake="not-callable")
        side = side or LocalSide(self, fn)
        budget = [None if time_limit is None else float(time_limit)]
        cases = self.cases(seed, trials)
        for i, case in enumerate(cases, 1):
            args = case.values
            call = f"{self.name}({', '.join(map(fmt_value, args))})"
            want = self.reference(*args)
            try:
                rec = side.run("call", budget, args=tuple(args))
                if rec["raised"] is not None:
                    raise Raised(tuple(str(v)[:300] for v in rec["raised"][:2]) + ((),))
                got = rec["value"]
            except TimeLimit:
                return CheckResult(self.name, False, f"{call}: the time limit of {time_limit:g} s ran out.", i,
                                   "time-limit")
            except Raised as exc:
                text = f"{exc.info[0]}: {exc.info[1]}" if exc.info[1] else exc.info[0]
                return CheckResult(self.name, False, f"{call} raised {text}", i, "exception")
            except (TypeError, KeyError, IndexError):  # note: the kernel sent something malformed
                return CheckResult(self.name, False, f"{call}: no result came back.", i, "wrong-value")
            if self.close:
                ok = _is_number(got) and bool(np.isclose(float(got), want))
                shown = float(got) if _is_number(got) else got
            elif isinstance(want, tuple):
                ok = isinstance(got, (tuple, list)) and len(got) == len(want) and all(
                    _is_int(g) and int(g) == w for g, w in zip(got, want))
                shown = tuple(got) if isinstance(got, (tuple, list)) else got
            else:
                ok, shown = _is_int(got) and int(got) == want, got
            if not ok:
                return CheckResult(self.name, False, f"{call}: expected {want}, got {shown!r}", i, "wrong-value")
        return CheckResult(self.name, True, f"{self.name}: passed all {len(cases)} cases.", len(cases))


def _rf_reference(layers):
    from cnnlab.shapes import receptive_field

    return receptive_field(layers)


def _rf_random(rng):
    return ([(int(rng.integers(1, 8)), int(rng.integers(1, 4))) for _ in range(int(rng.integers(1, 6)))],)


RECEPTIVE_FIELD = ValueExercise(
    "receptive_field", _rf_reference,
    fixed=[([],), ([(5, 1)],), ([(3, 2), (3, 2)],), ([(7, 2), (3, 2), (3, 1), (3, 1)],), ([(2, 2)] * 4,),
           ([(1, 1), (5, 3)],)],
    random=_rf_random)


def _cost_reference(c_in, c_out, kernel_size, h_out, w_out):
    params = c_out * c_in * kernel_size ** 2
    return params, params * h_out * w_out


CONV_COST = ValueExercise(
    "conv_cost", _cost_reference,
    fixed=[(3, 64, 3, 112, 112), (64, 128, 1, 28, 28), (16, 8, 5, 7, 9), (1, 1, 11, 3, 2)],
    random=lambda rng: tuple(int(v) for v in rng.integers(1, (65, 65, 8, 60, 60))))



def _rel_error_reference(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.linalg.norm(a - b) / max(1e-12, np.linalg.norm(a) + np.linalg.norm(b)))


def _rel_error_fixed():
    r = np.random.default_rng(3)
    a, b = r.standard_normal((3, 4, 5)), r.standard_normal((3, 4, 5))
    return [(a, b), (1e-9 * a, 1e-9 * b), (np.array([1.0, 2.0]), np.array([1.0, 2.0])),
            (np.array([1.0, 0.0]), np.array([0.0, 1.0])), (np.zeros(3), np.zeros(3)),
            (np.ones((2, 2)), 2 * np.ones((2, 2)))]


def _rel_error_random(rng):
    shape = tuple(int(v) for v in rng.integers(1, 5, size=int(rng.integers(1, 4))))
    a = rng.standard_normal(shape) * 10.0 ** float(rng.integers(-6, 3))
    return a, a + rng.standard_normal(shape) * 10.0 ** float(rng.integers(-8, 0)) * np.abs(a).max()


REL_ERROR = ValueExercise("rel_error", _rel_error_reference, fixed=_rel_error_fixed(), random=_rel_error_random,
                          close=True)

CUSTOM = {e.name: e for e in (RECEPTIVE_FIELD, CONV_COST, REL_ERROR)}
