"""`check(name, fn)`: run a student's function on worked examples and seeded
random cases, compare with `cnnlab.reference`, and explain the first failure.

Nothing the student's function does makes `check` raise (KeyboardInterrupt
excepted): exceptions, SystemExit, forbidden calls, time-outs, garbage
results and mutated inputs all become a failed `CheckResult`.
"""
from __future__ import annotations

import time
import warnings

import numpy as np

from cnnlab.grading import compare, diagnose, registry
from cnnlab.grading.cases import Case, describe, params
from cnnlab.grading.guard import forbid, targets_for
from cnnlab.grading.limits import TimeLimit, call_with_limit
from cnnlab.grading.mistakes_misc import diagnose_size, diagnose_size_error
from cnnlab.grading.result import CheckResult

__all__ = ["check", "DEFAULT_TIME_LIMIT"]

DEFAULT_TIME_LIMIT = 10.0  # seconds for all of a check's calls together


def check(name, fn, *, seed=0, trials=None, device=None, time_limit=DEFAULT_TIME_LIMIT) -> CheckResult:
    """Grade the student's implementation `fn` of the exercise `name`.

    Args:
        name: one of `cnnlab.grading.REGISTRY` ("corr2d", "conv2d", "max_pool2d_backward", ...).
        fn: the student's function, called positionally with the DESIGN §2 signature.
        seed: seeds the random cases; the same seed gives the same cases and verdict.
        trials: number of random cases after the worked examples and feature cases
            (default: the exercise's own, 8 or 20).
        device: torch device of the reference; None picks CUDA when available.
            Grades are the same on CPU and GPU (float64, TF32 off).
        time_limit: seconds allowed for all the calls of `fn` together (the reference's
            time is not counted); None for no limit.

    Returns:
        A `CheckResult`; `.raise_if_failed()` turns a failure into AssertionError.
        The cases are `cnnlab.grading.cases(name, seed, trials)`: worked examples,
        feature cases, random cases and, for conv_output_size, inputs whose output
        would be empty, where the contract requires a ValueError. Results must be
        plain float64 ndarrays (an int for conv_output_size; a tuple (dx, dw, db)
        for conv2d_backward) within `compare.RTOL`/`compare.ATOL` of the reference.

    Raises:
        ValueError: `name` is not a registered exercise (an instructor's mistake).
    """
    from cnnlab.grading.exercises import EXERCISES  # note: late, the exercises import this package

    if isinstance(name, str) and name in EXERCISES:
        return EXERCISES[name].check(fn, seed=seed, trials=trials, device=device, time_limit=time_limit)
    spec = registry.get(name)
    if not callable(fn):
        return CheckResult(name, False, f"{name}: expected a function, got an object of type {type(fn).__name__}.")
    cases = registry.build_cases(name, seed, trials)
    budget = [None if time_limit is None else float(time_limit)]  # seconds left for the student's calls
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # note: nbgrader scores any stderr output as an error
        for i, case in enumerate(cases, 1):
            where = f"{case.label} (case {i} of {len(cases)}, seed {seed})"
            problem = _run_case(spec, fn, case, device, budget, time_limit, where)
            if problem is not None:
                extra = "" if trials is None else f", trials={trials}"
                problem += (f"\n  Reproduce: from cnnlab.grading import cases; "
                            f"args = cases({name!r}, seed={seed}{extra})[{i - 1}].values; {name}(*args)")
                return CheckResult(name, False, problem, i)
    n_worked = sum(c.label.startswith("worked") for c in cases)
    return CheckResult(name, True, f"{name}: passed all {len(cases)} cases ({n_worked} worked examples, "
                                   f"{len(cases) - n_worked} feature and random cases; seed {seed}).", len(cases))


def _exc_text(exc: BaseException) -> str:
    try:
        text = str(exc)
    except Exception:  # a student's exception whose __str__ fails
        text = "<unprintable>"
    text = text if len(text) <= 300 else text[:297] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _copy(v):
    return np.array(v, copy=True) if isinstance(v, np.ndarray) else v  # ints, tuples, None: immutable


def _run_case(spec, fn, case: Case, device, budget, time_limit, where) -> str | None:
    name = spec.name
    head = f"{name} failed on {where}.\n  Call: {describe(name, case)}\n"
    expected = None if case.error else spec.expected(case, device)  # note: outside the guard
    args = tuple(_copy(v) for v in case.values)
    calls: list = []
    start = time.monotonic()
    try:
        with forbid(fn, targets_for(name)) as calls, np.errstate(all="ignore"):
            result = call_with_limit(lambda: fn(*args), budget[0])
    except TimeLimit:
        return (head + f"  Problem: the time limit of {time_limit:g} s (for all cases together) ran out during "
                f"this call; the input above is the one that was too slow. Vectorize the inner loops (sum over a "
                f"window with numpy, not element by element).")
    except (Exception, SystemExit) as exc:
        _spend(budget, start)
        if calls:
            return head + f"  Problem: this exercise must be solved with numpy; {calls[0]} was called."
        if case.error and isinstance(exc, ValueError):
            return None
        if case.error:
            return head + f"  Problem: it must raise {case.error}, but raised {_exc_text(exc)}."
        return head + f"  Problem: your function raised {_exc_text(exc)}." + _exception_hint(exc, name, case)
    _spend(budget, start)
    if calls:  # the student caught our ForbiddenCall and carried on
        return head + f"  Problem: this exercise must be solved with numpy; {calls[0]} was called."
    if case.error:
        shown = repr(result) if isinstance(result, (int, float, np.generic)) else f"an object of type {type(result).__name__}"
        problem = head + f"  Problem: it must raise {case.error} (the output would be empty), but returned {shown}."
        cause = diagnose_size_error(params(spec.name, case), result) if spec.name == "conv_output_size" else None
        return problem + (f"\n  Likely cause: {cause}" if cause else "")
    for arg_name, orig, arg in zip(case.names, case.values, args):
        if isinstance(orig, np.ndarray) and not (type(arg) is np.ndarray and arg.shape == orig.shape
                                                 and np.array_equal(arg, orig, equal_nan=True)):
            return (head + f"  Problem: your function modified its input `{arg_name}` in place. Work on a copy "
                    f"(e.g. np.pad returns a new array; x.copy()); never change the caller's arrays.")
    try:
        problem = _compare(spec, case, result, expected, device, head)
    except (Exception, SystemExit) as exc:  # note: a safety net; a result that defeats comparison fails
        return head + f"  Problem: the result could not be compared with the expected one ({_exc_text(exc)})."
    if problem is not None and _ignores_input(spec, fn, case, result, budget):
        # note: decisive, so it replaces a shape-based guess such as "off by one in size"
        problem = problem.split("\n  Likely cause:")[0]
        problem += ("\n  Likely cause: your function returned exactly the same result for other input values "
                    "of the same shapes, so it does not use the input values: the answer looks hard-coded "
                    "(copied from an expected output), or the output array is never filled in.")
    return problem


def _ignores_input(spec, fn, case: Case, result, budget) -> bool:
    """Whether `fn` gives the identical array for fresh random inputs of the same shapes."""
    parts = tuple(result) if spec.outputs and isinstance(result, (tuple, list)) else (result,)
    if spec.kind == "int" or not all(type(r) is np.ndarray for r in parts):
        return False
    if any(r.size == 0 for r in parts):  # note: an empty result is the same for any input; it is a shape mistake
        return False
    rng = np.random.default_rng(2024)
    args = tuple(rng.standard_normal(v.shape) + 3.0 if isinstance(v, np.ndarray) and v.dtype.kind == "f"
                 else _copy(v) for v in case.values)
    if all(a is v for a, v in zip(args, case.values)):
        return False
    start = time.monotonic()
    try:
        with forbid(fn, targets_for(spec.name)), np.errstate(all="ignore"):
            other = call_with_limit(lambda: fn(*args), budget[0])
    except (Exception, SystemExit, TimeLimit):  # no diagnosis then; the verdict stands
        return False
    finally:
        _spend(budget, start)
    try:
        others = tuple(other) if spec.outputs and isinstance(other, (tuple, list)) else (other,)
        # note: for several outputs, all must be unchanged; one constant output (db with a zero
        # upstream gradient, say) can be legitimate
        return len(others) == len(parts) and all(
            type(o) is np.ndarray and o.shape == r.shape and bool(np.array_equal(o, r)) for o, r in zip(others, parts))
    except Exception:  # a student's ndarray subclass is excluded above; this is a last safety net
        return False


def _spend(budget, start):
    if budget[0] is not None:
        budget[0] -= time.monotonic() - start


def _exception_hint(exc, name: str = "", case: Case | None = None) -> str:
    text = str(exc)
    P = params(name, case) if case is not None else {}
    if isinstance(exc, TypeError) and any(isinstance(v, (tuple, list)) for v in P.values()) and (
            "tuple" in text or "list" in text or "unpack" in text or "int" in text):
        return ("\n  Hint: a hyper-parameter is a tuple (h, w) in this call; stride, padding, dilation and "
                "kernel_size accept an int or an (h, w) pair: turn an int p into (p, p) first, then use the two "
                "entries separately.")
    if isinstance(exc, TypeError) and "unpack" in text and any(type(v) is int for v in P.values()):
        return ("\n  Hint: a hyper-parameter is a plain int in this call; stride, padding, dilation and "
                "kernel_size accept an int or an (h, w) pair: turn an int p into (p, p) before unpacking it.")
    if name == "pad2d" and isinstance(exc, ValueError) and ("broadcast" in text or "pad_width" in text
                                                           or "padding" in text):
        return ("\n  Hint: x may have any number of leading axes (2-D (H, W), 3-D, 4-D (N, C, H, W)): pad only the "
                "last two, with one pad width per axis, [(0, 0)] * (x.ndim - 2) + [(pH, pH), (pW, pW)]; and copy x "
                "into out[..., pH:pH + H, pW:pW + W] (out[..., p:-p] is empty when p = 0).")
    if isinstance(exc, TypeError) and ("argument" in str(exc)):
        return "\n  Hint: check the signature; arguments are passed positionally in the order of the exercise."
    if isinstance(exc, IndexError):
        return "\n  Hint: an index ran past the end of an array: check the number of output positions and the padding."
    if isinstance(exc, ValueError) and "truth value" in str(exc):
        return "\n  Hint: `if b:` on an array is ambiguous; test `if b is not None:`."
    if isinstance(exc, ValueError) and ("broadcast" in text or "sequence" in text or "shape-mismatch" in text
                                        or "mismatch" in text):
        return ("\n  Hint: two arrays' shapes do not match: print the shapes of the window, the kernel and the "
                "bias; a sum over an axis (the input channels, the window) may be missing.")
    if isinstance(exc, RecursionError):
        return "\n  Hint: the function calls itself without end."
    return ""


def _compare(spec, case, result, expected, device, head) -> str | None:
    name = spec.name
    P = params(name, case)
    if spec.kind == "int":
        problem = compare.int_problem(result, expected)
        if problem is None:
            return None
        cause = diagnose_size(P, result) if isinstance(result, (int, float, np.integer, np.floating)) else None
        return head + f"  Problem: {problem}." + (f"\n  Likely cause: {cause}" if cause else "")
    if spec.outputs:
        return _compare_tuple(spec, case, result, expected, device, head, P)
    problem = compare.array_problem(result, expected)
    if problem is None:
        return None
    cause = diagnose.diagnose(name, P, result, expected, device, spec.mistakes)
    return head + f"  Problem: {problem}." + _show(case, result, expected) + (f"\n  Likely cause: {cause}" if cause else "")


def _compare_tuple(spec, case, result, expected, device, head, P) -> str | None:
    names = spec.outputs
    what = f"({', '.join(names)})"
    if not isinstance(result, (tuple, list)) or len(result) != len(names):
        got = f"a {type(result).__name__} of length {len(result)}" if isinstance(result, (tuple, list)) else \
            f"an object of type {type(result).__name__}"
        return head + f"  Problem: it must return a tuple {what}; it returned {got}."
    shapes = [r.shape if type(r) is np.ndarray else None for r in result]
    want = [e.shape for e in expected]
    if shapes != want and sorted(map(str, shapes)) == sorted(map(str, want)):
        return head + f"  Problem: the results come in the wrong order (shapes {shapes}); return {what} with shapes {want}."
    for k, (part, exp) in enumerate(zip(result, expected)):
        problem = compare.array_problem(part, exp, what=f"{names[k]} (item {k} of the result)")
        if problem is not None:
            cause = diagnose.diagnose(spec.name, P, part, exp, device, spec.mistakes, output=k)
            return head + f"  Problem: {problem}." + (f"\n  Likely cause: {cause}" if cause else "")
    return None


def _show(case: Case, result, expected) -> str:
    """For worked examples, print the small arrays in full."""
    if not case.label.startswith("worked") or expected.size > 40:
        return ""

    def fmt(a):
        return np.array2string(np.squeeze(a), precision=4, suppress_small=True).replace("\n", "\n      ")

    text = "".join(f"\n  {n} =\n      {fmt(v)}" for n, v in zip(case.names, case.values)
                   if isinstance(v, np.ndarray) and v.size <= 40)
    text += f"\n  expected =\n      {fmt(expected)}"
    if type(result) is np.ndarray and result.dtype.kind in "fiu" and result.size <= 60:
        text += f"\n  got =\n      {fmt(result)}"
    return text
