"""An exercise whose answer is a numpy function: cases, reference, keyed mistakes, one runner.

An `ArrayExercise` describes one graded function completely (DESIGN §7):
its worked examples, feature cases and random cases (all `Case`s from
`cnnlab.grading.cases`), its reference, the names of the parts of a tuple
result, its tolerance and its keyed mistakes. `check` runs the cases in
order and stops at the first failure, naming the mistake when the student's
output equals one of the catalogue's.
"""
from __future__ import annotations

import numbers
from types import SimpleNamespace
import warnings
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from cnnlab.grading import compare
from cnnlab.grading.cases import Case
from cnnlab.grading.custom import LocalSide, exc_text as _exc_text, short_type
from cnnlab.grading.limits import TimeLimit
from cnnlab.grading.result import CheckResult

__all__ = ["Mistake", "ArrayExercise", "exc_text", "fmt_value", "guard_spec"]


def guard_spec(forbidden: dict):
    """What `guard.targets_for` reads of an exercise, for a numpy exercise outside the registry."""
    return SimpleNamespace(kind="array", forbidden=dict(forbidden), guard_own=True)


@dataclass(frozen=True)
class Mistake:
    """A classic mistake: its stable key, what to tell the student, and the output it gives.

    `candidate(*case.values)` returns the wrong output (same structure as the
    reference's), None when the mistake does not apply to the case, or a
    predicate ``parts -> bool`` for mistakes whose outputs vary (overflow).
    """

    key: str
    text: str
    candidate: Callable


def exc_text(exc: BaseException) -> str:
    """``Type: message`` of a student's exception (a `custom.Raised` shows the student's), shortened, never raising."""
    return _exc_text(exc)


def fmt_value(v) -> str:
    """A short description of an argument for the 'Call:' line."""
    if isinstance(v, np.ndarray):
        return f"array of shape {v.shape}" if v.size > 6 else np.array2string(v, separator=", ")
    if callable(v):
        return getattr(v, "__doc__", None) or getattr(v, "__name__", "a function")
    return repr(v)


def _copy(v):
    return np.array(v, copy=True) if isinstance(v, np.ndarray) else v


def _as_float(v):
    """A loss as a float, or None when it is not a single real number."""
    if isinstance(v, (bool, np.bool_)):
        return None
    if isinstance(v, (numbers.Real, np.floating, np.integer)):
        return float(v)
    if type(v) is np.ndarray and v.shape == () and v.dtype.kind == "f":
        return float(v)
    return None


@dataclass(frozen=True)
class ArrayExercise:
    """One numpy exercise (see the module docstring).

    Attributes:
        name: the exercise's name, as passed to `check`.
        signature: the parameter names, in call order.
        worked: () -> list of `Case` (the lectures' examples).
        features: (rng) -> list of `Case` (one feature each, whatever the seed).
        random: (rng, n) -> list of `Case`.
        reference: (*values) -> the expected result.
        outputs: names of the parts of a tuple result; () for one array. A part
            named "loss" is a single float.
        mistakes: the keyed catalogue, tried in order.
        rtol, atol: tolerance (scaled as `compare.close`).
        trials: default number of random cases.
        mutation_key: the key of "an input array was changed" (numerical_gradient: x not restored).
        mutation_text: what to tell the student then.
        forbidden: extra {module: [names]} forbidden besides the course's own implementations.
        to_wire, from_wire: an argument as plain data for the kernel and back (numerical_gradient's
            `f` travels by name); identity by default.

    The student's function runs only in `part_call` (the kernel's side, `cnnlab.grading.custom`);
    everything else runs where `check` runs (the grader, in grading mode).
    """

    custom = True  # note: a `cnnlab.grading.custom` exercise: check(..., side=...) and part_* methods

    name: str
    signature: tuple
    worked: Callable
    features: Callable
    random: Callable
    reference: Callable
    outputs: tuple = ()
    mistakes: tuple = ()
    rtol: float = compare.RTOL
    atol: float = compare.ATOL
    trials: int = 8
    mutation_key: str = "mutates-input"
    mutation_text: str = ("your function modified its input `{arg}` in place. Work on a copy (np.maximum, "
                          "x * mask and np.where return new arrays); never change the caller's arrays.")
    forbidden: dict = field(default_factory=dict)
    to_wire: Callable = field(default=lambda v: v, repr=False)
    from_wire: Callable = field(default=lambda v: v, repr=False)

    # ------------------------------------------------------------ cases
    def cases(self, seed: int = 0, trials: int | None = None) -> list[Case]:
        """Every case `check` runs for this seed, in order."""
        rng = np.random.default_rng(seed)
        n = self.trials if trials is None else int(trials)
        if n < 0:
            raise ValueError(f"trials must be >= 0; got {trials!r}")
        return list(self.worked()) + list(self.features(rng)) + list(self.random(rng, n))

    def case(self, label: str, *values) -> Case:
        """A `Case` with this exercise's parameter names."""
        return Case(label, self.signature[:len(values)], tuple(values))

    # ------------------------------------------------------------ check
    def check(self, fn, *, seed=0, trials=None, device=None, time_limit=10.0, side=None) -> CheckResult:
        """Grade `fn`; deterministic for a seed. `device` is unused: the references are numpy/float64.

        `side`: where the student's function runs (`custom.LocalSide` by default; the grader
        passes `custom.RemoteCustomSide`, and then the hidden seed is not shown).
        """
        if not callable(fn):
            return CheckResult(self.name, False, f"{self.name}: expected a function, got an object of type "
                                                 f"{type(fn).__name__}.")
        side = side or LocalSide(self, fn)
        seed_text = "the grader's hidden seed" if side.remote else f"seed {seed}"
        cases = self.cases(seed, trials)
        budget = [None if time_limit is None else float(time_limit)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # note: nbgrader scores any stderr output as an error
            for i, case in enumerate(cases, 1):
                where = f"{case.label} (case {i} of {len(cases)}, {seed_text})"
                found = self._run(side, case, budget, time_limit, where)
                if found is not None:
                    problem, key = found
                    extra = "" if trials is None else f", trials={trials}"
                    if not side.remote:
                        problem += (f"\n  Reproduce: from cnnlab.grading import cases; "
                                    f"args = cases({self.name!r}, seed={seed}{extra})[{i - 1}].values; "
                                    f"{self.name}(*args)")
                    return CheckResult(self.name, False, problem, i, key)
        n_worked = sum(c.label.startswith("worked") for c in cases)
        return CheckResult(self.name, True, f"{self.name}: passed all {len(cases)} cases ({n_worked} worked "
                                            f"examples, {len(cases) - n_worked} feature and random cases; "
                                            f"{seed_text}).", len(cases))

    def part_call(self, fn, budget, state, values):
        """Kernel side: ``fn(*values)`` under the guard and the time limit, as plain data (`student.Outputs`' fields)."""
        from cnnlab.grading.student import _call_function

        values = tuple(self.from_wire(v) for v in values)
        case = Case("", self.signature[:len(values)], values)
        out = _call_function(guard_spec(self.forbidden), fn, case, budget)
        if out.timed_out:
            raise TimeLimit
        return {"value": out.value, "raised": out.raised, "forbidden": out.forbidden, "mutated": out.mutated}

    def _run(self, side, case: Case, budget, time_limit, where):
        call = ", ".join(f"{n}={fmt_value(v)}" for n, v in zip(case.names, case.values))
        head = f"{self.name} failed on {where}.\n  Call: {self.name}({call})\n"
        with np.errstate(all="ignore"):
            expected = self.reference(*case.values)
        try:
            out = side.run("call", budget, values=tuple(self.to_wire(v) for v in case.values))
        except TimeLimit:
            return (head + f"  Problem: the time limit of {time_limit:g} s (for all cases together) ran out "
                    f"during this call; vectorize the loops over the array's entries.", "time-limit")
        if type(out) is not dict or set(out) != {"value", "raised", "forbidden", "mutated"}:
            return head + "  Problem: the kernel sent no result for this call.", "not-comparable"
        if out["forbidden"]:
            return (head + f"  Problem: this exercise must be solved with numpy; {str(out['forbidden'])[:200]} "
                    f"was called.", "forbidden-call")
        if out["raised"] is not None:
            raised = out["raised"]
            text = f"{raised[0]}: {raised[1]}" if raised[1] else str(raised[0])
            return head + f"  Problem: your function raised {text}.", "exception"
        if out["mutated"] is not None:
            return head + "  Problem: " + self.mutation_text.format(arg=str(out["mutated"])[:60]), self.mutation_key
        try:
            return self._compare(case, out["value"], expected, head)
        except (Exception, SystemExit) as exc:  # note: a safety net; a result that defeats comparison fails
            return head + f"  Problem: the result could not be compared with the expected one ({exc_text(exc)}).", "not-comparable"

    def _parts(self, result):
        """The result as a list of parts (one per output name), or a problem text."""
        if not self.outputs:
            return [result], None
        what = f"({', '.join(self.outputs)})"
        if not isinstance(result, (tuple, list)) or len(result) != len(self.outputs):
            got = (f"a {type(result).__name__} of length {len(result)}" if isinstance(result, (tuple, list))
                   else f"an object of type {short_type(result)}")
            return None, f"it must return a tuple {what}; it returned {got}"
        return list(result), None

    def _part_problem(self, k, part, exp) -> str | None:
        what = f"{self.outputs[k]} (item {k} of the result)" if self.outputs else "the output"
        if self.outputs and self.outputs[k] == "loss":
            val = _as_float(part)
            if val is None:
                return f"{what} must be a single float (e.g. float(loss)); got an object of type {short_type(part)}"
            if not np.isfinite(val):
                return f"{what} is {val}; expected {float(exp):.10g}"
            if abs(val - float(exp)) > self.atol * max(1.0, abs(float(exp))) + self.rtol * abs(float(exp)):
                return f"{what} is {val:.10g}; expected {float(exp):.10g}"
            return None
        return _array_problem(part, exp, what, self.rtol, self.atol)

    def _compare(self, case, result, expected, head):
        parts, problem = self._parts(result)
        if problem is not None:
            return head + f"  Problem: {problem}.", "not-a-tuple"
        exps = list(expected) if self.outputs else [expected]
        for k, (part, exp) in enumerate(zip(parts, exps)):
            problem = self._part_problem(k, part, exp)
            if problem is None:
                continue
            key, text = self._diagnose(case, parts, exps)
            cause = f"\n  Likely cause: {text}" if text else ""
            return head + f"  Problem: {problem}." + cause, key
        return None

    def _diagnose(self, case, parts, exps):
        """The first catalogued mistake whose output equals the student's (and differs from the right one)."""
        for m in self.mistakes:
            try:
                with np.errstate(all="ignore"):
                    cand = m.candidate(*[_copy(v) for v in case.values])
                if cand is None:
                    continue
                if callable(cand):  # note: a predicate, for mistakes with many possible outputs (overflow)
                    if cand(parts):
                        return m.key, m.text
                    continue
                cands = list(cand) if self.outputs else [cand]
                if len(cands) != len(parts) or _all_match(cands, exps, self):
                    continue
                if _all_match(parts, cands, self, loose=True):
                    return m.key, m.text
            except Exception:  # the mistake does not apply to this case
                continue
        return None, None


def _array_problem(actual, expected, what, rtol, atol) -> str | None:
    if rtol == compare.RTOL and atol == compare.ATOL:
        return compare.array_problem(actual, expected, what)
    problem = compare.array_problem(actual, expected, what)
    if problem is None or "wrong values" not in problem:
        return problem
    ok = compare.close(actual, expected, rtol=rtol, atol=atol)
    if ok.all():
        return None
    i = tuple(int(v) for v in np.argwhere(~ok)[0])
    return (f"{what} has wrong values: first difference at index {i}: expected {float(expected[i]):.10g}, "
            f"got {float(actual[i]):.10g} ({int((~ok).sum())} of {expected.size} values differ beyond "
            f"rtol {rtol:g})")


def _match(a, b, rtol, atol) -> bool:
    fa, fb = _as_float(a), _as_float(b)
    if fa is not None and fb is not None:
        if not (np.isfinite(fa) and np.isfinite(fb)):
            return fa == fb or (np.isnan(fa) and np.isnan(fb))
        return abs(fa - fb) <= atol * max(1.0, abs(fb)) + rtol * abs(fb)
    if type(a) is not np.ndarray:
        return False
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.dtype.kind not in "fiu":
        return False
    a = a.astype(np.float64)
    fin = np.isfinite(b)
    if not bool((np.isnan(a[~fin]) == np.isnan(b[~fin])).all()):
        return False
    if not bool((a[~fin & ~np.isnan(b)] == b[~fin & ~np.isnan(b)]).all()):
        return False
    return bool(compare.close(a[fin], b[fin], rtol=rtol, atol=atol).all())


def _all_match(xs, ys, ex: ArrayExercise, loose=False) -> bool:
    rtol, atol = (max(ex.rtol, 1e-6), max(ex.atol, 1e-8)) if loose else (ex.rtol, ex.atol)
    return all(_match(x, y, rtol, atol) for x, y in zip(xs, ys))
