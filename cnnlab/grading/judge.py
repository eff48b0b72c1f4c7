"""The grader side of a check: judge what the student's function gave on one case.

`judge(exercise, case, outputs, expected)` never touches student code: it
reads the plain data in `student.Outputs`, the reference's `expected` (from
`expected_for`) and the exercise's mistake catalogue, and returns a
`Verdict` (passed, message, mistake key).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnlab.grading import compare
from cnnlab.grading.diagnose import SHAPE_GUESSES, diagnose, diagnose_value, matches

__all__ = ["Verdict", "judge", "expected_for", "ignores_input", "consistent"]


@dataclass(frozen=True)
class Verdict:
    """The judgement of one case.

    Attributes:
        passed: the case is right.
        message: for a failure, ``"  Problem: ...\\n  Likely cause: ..."`` lines; "" when passed.
        mistake: the key of the diagnosed mistake (`Mistake.key`, or a generic key
            such as ``"exception"``, ``"time-limit"``, ``"mutates-input"``), or None.
        probe_wanted: a failed array case whose cause might be that the inputs are
            not used: re-run the function on fresh inputs (`student.probe`) and judge again.
        causes: every catalogue mistake ``(key, text)`` that explains the output, when
            several do (the runner narrows them down on later cases).
    """

    passed: bool
    message: str = ""
    mistake: str | None = None
    probe_wanted: bool = False
    causes: tuple = ()


_PASS = Verdict(True)


def expected_for(exercise, case, device):
    """The reference's answer for `case` (grader side; plain data)."""
    if case.error:
        return None
    if exercise.kind == "module":
        from cnnlab.grading.judge_torch import module_expected

        return module_expected(exercise, case, device)
    if exercise.kind == "training":
        return None  # note: the held-back labels travel in the task; see runner
    return exercise.reference(*case.values, device=device) if _takes_device(exercise.reference) \
        else exercise.reference(*case.values)


def _takes_device(fn) -> bool:
    import inspect

    try:
        return "device" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def _fail(problem: str, cause=None, probe=False) -> Verdict:
    key, text, causes = (tuple(cause) + ((),))[:3] if cause else (None, None, ())
    return Verdict(False, f"  Problem: {problem}" + (f"\n  Likely cause: {text}" if text else ""), key, probe,
                   causes if len(causes) > 1 else ())


def judge(exercise, case, outputs, expected, *, device=None) -> Verdict:
    """Judge `outputs` (what the student's function gave on `case`) against `expected`."""
    if exercise.kind in ("module", "training"):
        from cnnlab.grading.judge_torch import judge_module, judge_training

        if exercise.kind == "module":
            return judge_module(exercise, case, outputs, expected, device)
        return judge_training(exercise, case, outputs, expected)
    P_raw = exercise.params(case)
    if outputs.timed_out:
        limit = "" if outputs.limit is None else f" of {outputs.limit:g} s"
        return Verdict(False, f"  Problem: the time limit{limit} (for all cases together) ran out during this call; the "
                              "input above is the one that was too slow. Vectorize the inner loops (sum over a "
                              "window with numpy, not element by element).", "time-limit")
    if outputs.forbidden:
        return Verdict(False, f"  Problem: this exercise must be solved with numpy; {outputs.forbidden} was called.",
                       "forbidden-call")
    if outputs.raised is not None:
        tname, text, bases = outputs.raised
        shown = f"{tname}: {text}" if text else tname
        if case.error and case.error in bases:
            return _PASS
        if case.error:
            return Verdict(False, f"  Problem: it must raise {case.error}, but raised {shown}.", "wrong-exception")
        hint = (exercise.hints(outputs.raised, P_raw) if exercise.hints else None) or _exception_hint(outputs.raised, P_raw)
        return Verdict(False, f"  Problem: your function raised {shown}." + (f"\n  Hint: {hint}" if hint else ""),
                       "exception")
    result = outputs.value
    if case.error:
        shown = repr(result) if isinstance(result, (int, float, np.generic)) else f"an object of type {outputs.typename}"
        problem = f"it must raise {case.error} (the output would be empty), but returned {shown}."
        cause = None
        if isinstance(result, (int, float, np.integer, np.floating)) and not isinstance(result, bool):
            cause = diagnose_value(exercise.name, exercise.normalize(P_raw), result, None, device,
                                   exercise.mistakes, when="no-raise")
        return _fail(problem, cause or ("no-raise", None))
    if outputs.mutated:
        return Verdict(False, f"  Problem: your function modified its input `{outputs.mutated}` in place. Work on a "
                              f"copy (e.g. np.pad returns a new array; x.copy()); never change the caller's arrays.",
                       "mutates-input")
    try:
        verdict = _compare(exercise, case, result, expected, device, P_raw)
    except (Exception, SystemExit) as exc:  # note: a safety net; a result that defeats comparison fails
        return Verdict(False, f"  Problem: the result could not be compared with the expected one "
                              f"({type(exc).__name__}: {exc}).", "not-comparable")
    if verdict.passed or not exercise.probe_constant or exercise.kind == "int":
        return verdict
    if verdict.mistake is not None and verdict.mistake not in SHAPE_GUESSES:
        return verdict  # note: a named mistake explains the output; a constant output is its symptom
    if outputs.probe is None:
        return Verdict(False, verdict.message, verdict.mistake, _probe_useful(exercise, result), verdict.causes)
    if ignores_input(exercise, result, outputs.probe):
        # note: decisive, so it replaces a shape-based guess such as "off by one in size"
        problem = verdict.message.split("\n  Likely cause:")[0]
        return Verdict(False, problem + "\n  Likely cause: " + _constant_text(exercise, result), "ignores-input")
    return verdict


def _probe_useful(exercise, result) -> bool:
    parts = tuple(result) if exercise.kind == "arrays" and isinstance(result, (tuple, list)) else (result,)
    # note: an empty result is the same for any input; it is a shape mistake
    return all(type(r) is np.ndarray and r.size > 0 for r in parts)


def ignores_input(exercise, result, other) -> bool:
    """Whether the result for fresh inputs (`other`) is identical to `result`."""
    parts = tuple(result) if exercise.kind == "arrays" and isinstance(result, (tuple, list)) else (result,)
    others = tuple(other) if exercise.kind == "arrays" and isinstance(other, (tuple, list)) else (other,)
    # note: for several outputs, all must be unchanged; one constant output (db with a zero
    # upstream gradient, say) can be legitimate
    return len(others) == len(parts) and all(
        type(o) is np.ndarray and type(r) is np.ndarray and o.shape == r.shape and bool(np.array_equal(o, r))
        for o, r in zip(others, parts))


def _constant_text(exercise, result) -> str:
    parts = tuple(result) if isinstance(result, (tuple, list)) else (result,)
    if all(type(r) is np.ndarray and r.dtype.kind in "fiu" and not np.any(r) for r in parts):
        return ("your function returned all zeros, also for other input values of the same shapes: the output "
                "array is never filled in, or the values are read from the wrong place (a padding region, an "
                "axis that only holds zeros).")
    # note: "hard-coded" only here, where different inputs gave the same output, and with the other explanation
    return ("your function returned exactly the same result for other input values of the same shapes, so its "
            "result does not depend on the input values: it looks hard-coded (values copied from an example's "
            "answer) or the output array is never filled in. Compute every output value from the inputs.")


def _compare(exercise, case, result, expected, device, P_raw) -> Verdict:
    if exercise.kind == "int":
        problem = compare.int_problem(result, expected)
        if problem is None:
            return _PASS
        cause = None
        if isinstance(result, (int, float, np.integer, np.floating)) and not isinstance(result, bool):
            cause = diagnose_value(exercise.name, exercise.normalize(P_raw), result, expected, device, exercise.mistakes)
            if cause is None and isinstance(result, (float, np.floating)):
                cause = ("float-result", None) if float(result).is_integer() else (
                    "not-integer", "The result is not an integer: the formula floors the division (use //).")
        return _fail(problem + ".", cause)
    if exercise.kind == "arrays":
        return _compare_tuple(exercise, result, expected, device, P_raw)
    problem = compare.array_problem(result, expected)
    if problem is None:
        return _PASS
    cause = diagnose(exercise.name, exercise.normalize(P_raw), _as_array(result), expected, device, exercise.mistakes)
    return _fail(problem + "." + _show(case, result, expected), cause or _type_key(result))


def _as_array(result):
    """A single number as a 0-d float64 array, so that a mistake giving a scalar can be named; else as is."""
    if type(result) in (int, float) or (isinstance(result, np.generic) and type(result).__module__ == "numpy"
                                        and np.dtype(type(result)).kind in "fiu"):
        return np.asarray(result, dtype=np.float64)
    return result


def _type_key(result):
    """A key (no extra text: the problem says it) for a result that is not an ndarray at all."""
    if result is None:
        return ("returns-none", None)
    if type(result) is not np.ndarray:
        return ("wrong-type", None)
    return None


def _compare_tuple(exercise, result, expected, device, P_raw) -> Verdict:
    names = exercise.outputs
    what = f"({', '.join(names)})"
    if not isinstance(result, (tuple, list)) or len(result) != len(names):
        got = f"a {type(result).__name__} of length {len(result)}" if isinstance(result, (tuple, list)) else \
            f"an object of type {getattr(result, 'typename', type(result).__name__)}"
        return Verdict(False, f"  Problem: it must return a tuple {what}; it returned {got}.", "not-a-tuple")
    shapes = [r.shape if type(r) is np.ndarray else None for r in result]
    want = [e.shape for e in expected]
    if shapes != want and sorted(map(str, shapes)) == sorted(map(str, want)):
        return Verdict(False, f"  Problem: the results come in the wrong order (shapes {shapes}); return {what} "
                              f"with shapes {want}.", "wrong-order")
    for k, (part, exp) in enumerate(zip(result, expected)):
        problem = compare.array_problem(part, exp, what=f"{names[k]} (item {k} of the result)")
        if problem is not None:
            cause = diagnose(exercise.name, exercise.normalize(P_raw), _as_array(part), exp, device, exercise.mistakes,
                             output=k)
            return _fail(problem + ".", cause or _type_key(part))
    return _PASS


def _show(case, result, expected) -> str:
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


def _exception_hint(raised, P: dict) -> str | None:
    tname, text, bases = raised
    if "TypeError" in bases and any(isinstance(v, (tuple, list)) for v in P.values()) and (
            "tuple" in text or "list" in text or "unpack" in text or "int" in text):
        return ("a hyper-parameter is a tuple (h, w) in this call; stride, padding, dilation and kernel_size "
                "accept an int or an (h, w) pair: turn an int p into (p, p) first, then use the two entries separately.")
    if "TypeError" in bases and "unpack" in text and any(type(v) is int for v in P.values()):
        return ("a hyper-parameter is a plain int in this call; stride, padding, dilation and kernel_size accept an "
                "int or an (h, w) pair: turn an int p into (p, p) before unpacking it.")
    if "TypeError" in bases and "argument" in text:
        return "check the signature; arguments are passed positionally in the order of the exercise."
    if "IndexError" in bases:
        return "an index ran past the end of an array: check the number of output positions and the padding."
    if "ValueError" in bases and "truth value" in text:
        return "`if b:` on an array is ambiguous; test `if b is not None:`."
    if "ValueError" in bases and any(w in text for w in ("broadcast", "sequence", "shape-mismatch", "mismatch")):
        return ("two arrays' shapes do not match: print the shapes of the window, the kernel and the bias; a sum "
                "over an axis (the input channels, the window) may be missing.")
    if "RecursionError" in bases:
        return "the function calls itself without end."
    return None


def consistent(exercise, case, outputs, keys, *, device=None) -> list:
    """The mistakes among `keys` whose output on `case` equals the student's (or that do not apply to it).

    Used to narrow down several mistakes that explained one failure: a mistake that
    would have given a different result on another case is ruled out by it.
    """
    if case.error or outputs.raised is not None or outputs.timed_out or outputs.forbidden:
        return list(keys)
    P = exercise.normalize(exercise.params(case))
    by_key = {m.key: m for m in exercise.mistakes}
    kept = []
    for key in keys:
        m = by_key.get(key)
        try:
            cand = None if m is None else m.candidate(P, device)
        except Exception:  # the mistake does not apply to this case
            cand = None
        if cand is None:
            kept.append(key)
            continue
        actual = outputs.value
        if exercise.kind == "arrays" and isinstance(actual, (tuple, list)) and m.output is not None \
                and m.output < len(actual):
            actual = actual[m.output]
        try:
            if exercise.kind == "int":
                ok = not isinstance(actual, bool) and isinstance(actual, (int, float, np.integer, np.floating)) \
                    and float(actual) == float(cand)
            else:
                cand = np.asarray(cand, dtype=np.float64)
                if getattr(P, "one_d", False) and cand.ndim == 4:
                    cand = cand[:, :, 0, :]
                ok = type(actual) is np.ndarray and actual.dtype.kind in "fiu" and matches(actual.astype(np.float64), cand)
        except Exception:
            ok = False
        if ok:
            kept.append(key)
    return kept
