"""`check(name, fn)`: run a student's function on worked examples and seeded
random cases, compare with the reference, and explain the first failure.

Two sides, kept apart: `student.call` runs the student's code on a case and
returns plain data (`student.Outputs`); `judge.judge` compares that data with
the reference and names the mistake, without touching student code.

Nothing the student's function does makes `check` raise (KeyboardInterrupt
excepted): exceptions, SystemExit, forbidden calls, time-outs, garbage
results and mutated inputs all become a failed `CheckResult`.
"""
from __future__ import annotations

import os
import warnings

from cnnlab.grading import registry, student
from cnnlab.grading.diagnose import MAX_CAUSES
from cnnlab.grading.judge import Verdict, consistent, expected_for, judge
from cnnlab.grading.remote import ENV_SOCKET, kernel_check
from cnnlab.grading.result import CheckResult

__all__ = ["check", "DEFAULT_TIME_LIMIT"]

DEFAULT_TIME_LIMIT = 10.0  # seconds for all of a check's calls together (training: its own budget)
_HELPER_TIME_LIMIT = 5.0  # seconds for the check of a student's own helper, run only after a failure


def check(name, fn, *, seed=0, trials=None, device=None, time_limit=DEFAULT_TIME_LIMIT) -> CheckResult:
    """Grade the student's implementation `fn` of the exercise `name`.

    Args:
        name: one of `cnnlab.grading.names()` ("corr2d", "conv2d", "max_pool2d_backward", ...).
        fn: the student's function, called positionally with the DESIGN §2 signature.
        seed: seeds the random cases; the same seed gives the same cases and verdict.
        trials: number of random cases after the worked examples and feature cases
            (default: the exercise's own, 8 or 20).
        device: torch device of the reference; None picks CUDA when available
            (`cnnlab.device()`). Grades are the same on CPU and GPU (float64, TF32 off).
            Module and training exercises also run the student's module there.
        time_limit: seconds allowed for all the calls of `fn` together (the reference's
            time is not counted); None for no limit. A training exercise uses its
            own `TrainingSpec.time_budget` unless a time_limit is given.

    Returns:
        A `CheckResult`; `.raise_if_failed()` turns a failure into AssertionError and
        `.mistake` is the key of the diagnosed mistake (None when none was named).
        The cases are `cnnlab.grading.cases(name, seed, trials)`: worked examples,
        feature cases, random cases and calls that must raise (ValueError).

    Raises:
        ValueError: `name` is not a registered exercise (an instructor's mistake).

    In grading mode (the autograder's kernel: ``CNNLAB_VERDICT_SOCKET`` is set)
    the grader process runs the check and this call only serves it the
    student's outputs (`cnnlab.grading.remote`).
    """
    from cnnlab.grading.exercises._custom import CUSTOM  # note: late, they import this package

    custom = isinstance(name, str) and name in CUSTOM and name not in registry.REGISTRY  # their own check (_custom.py)
    if os.environ.get(ENV_SOCKET):  # note: custom exercises too; the grader runs them (`cnnlab.grading.custom`)
        return kernel_check(name, fn, seed=seed, trials=trials, device=device, time_limit=time_limit)
    if custom:
        return CUSTOM[name].check(fn, seed=seed, trials=trials, device=device, time_limit=time_limit)
    return run_check(name, fn, seed=seed, trials=trials, device=device, time_limit=time_limit)


class _Local:
    """The student side in this process (`student.call`, `student.probe`)."""

    call = staticmethod(student.call)
    probe = staticmethod(student.probe)
    helpers = None


def run_check(name, fn, *, seed=0, trials=None, device=None, time_limit=DEFAULT_TIME_LIMIT, side=None,
              reproduce=True) -> CheckResult:
    """`check`'s loop, with the student side given: `_Local` (default) or `remote.RemoteSide`.

    ``reproduce=False`` leaves out the "Reproduce:" line (the grader's hidden seeds stay hidden).
    """
    side = side or _Local
    seed_text = f"seed {seed}" if reproduce else "the grader's hidden seed"
    exercise = registry.get(name)
    if not callable(fn):
        return CheckResult(name, False, f"{name}: expected a function, got an object of type {type(fn).__name__}.",
                           mistake="not-callable")
    if exercise.kind in ("module", "training") and device is None:
        from cnnlab import device as best

        device = best()
    if exercise.kind == "training" and time_limit is DEFAULT_TIME_LIMIT:
        time_limit = exercise.training.time_budget
    cases = exercise.build_cases(seed, trials)
    budget = [None if time_limit is None else float(time_limit)]  # seconds left for the student's calls
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # note: nbgrader scores any stderr output as an error
        for i, case in enumerate(cases, 1):
            verdict = _run_case(exercise, fn, case, device, budget, seed, time_limit, side)
            if verdict.passed:
                continue
            where = f"{case.label} (case {i} of {len(cases)}, {seed_text})"
            if verdict.causes:
                verdict = _narrow(exercise, fn, verdict, cases[i:], device, budget, seed, side)
            message, key = verdict.message, verdict.mistake
            helper = _failing_helper(exercise, fn, device, side)
            if helper is not None:
                h_name, h_result = helper
                lines = h_result.message.split("\n")
                keep = [f"  {line}" for line in lines[1:] if line.startswith(("  Call:", "  Problem:", "  Likely cause:",
                                                                                "  Or:"))]
                message = (f"  Your {h_name} fails its check: {lines[0]}\n" + "\n".join(keep)
                           + f"\n  Fix {h_name} first: {name} calls it. What {name} gave:\n" + message)
                key = "helper-fails"
            text = f"{name} failed on {where}.\n  Call: {exercise.describe(case)}\n{message}"
            if exercise.kind not in ("training",) and reproduce:
                extra = "" if trials is None else f", trials={trials}"
                text += (f"\n  Reproduce: from cnnlab.grading import cases; "
                         f"args = cases({name!r}, seed={seed}{extra})[{i - 1}].values; {name}(*args)")
            return CheckResult(name, False, text, i, key)
    n_worked = sum(c.label.startswith("worked") for c in cases)
    if exercise.kind == "training":
        return CheckResult(name, True, f"{name}: reached the required accuracy of {exercise.training.accuracy:.3f} "
                                       f"on held-back data ({seed_text}).", len(cases))
    return CheckResult(name, True, f"{name}: passed all {len(cases)} cases ({n_worked} worked examples, "
                                   f"{len(cases) - n_worked} feature and random cases; {seed_text}).", len(cases))


def _run_case(exercise, fn, case, device, budget, seed, time_limit=None, side=_Local):
    """Student side, then judge; a second student call (on fresh inputs) only when the judge asks."""
    task = None
    if exercise.kind == "training":
        task = exercise.training.prepare(seed, device)  # note: grader side, before any student code
        expected = {"y_test": task["y_test"]}
    else:
        expected = expected_for(exercise, case, device)  # note: outside the guard
    outputs = side.call(exercise, fn, case, device, budget, task)
    outputs.limit = None if time_limit is None else float(time_limit)
    verdict = judge(exercise, case, outputs, expected, device=device)
    if verdict.probe_wanted:
        outputs.probe = side.probe(exercise, fn, case, device, budget)
        if outputs.probe is not None:
            verdict = judge(exercise, case, outputs, expected, device=device)
    return verdict


def _narrow(exercise, fn, verdict, later, device, budget, seed, side=_Local, extra: int = 16):
    """When several mistakes explain the first failure, keep those that also explain later cases.

    Runs at most `extra` more cases (student side, then `judge.consistent`): a mistake whose
    output differs from the student's on one of them is ruled out. The problem text stays the
    first failure's; the likely cause names the mistakes left.
    """
    keys = [k for k, _ in verdict.causes]
    texts = dict(verdict.causes)
    for case in later[:extra]:
        if len(keys) == 1 or case.error:
            break
        outputs = side.call(exercise, fn, case, device, budget)
        keys = consistent(exercise, case, outputs, keys, device=device) or keys
    if len(keys) == len(verdict.causes):
        return verdict
    problem = verdict.message.split("\n  Likely cause:")[0]
    cause = texts[keys[0]] + "".join(f"\n  Or: {texts[k]}" for k in keys[1:MAX_CAUSES])
    return Verdict(False, f"{problem}\n  Likely cause: {cause}", keys[0], False, tuple((k, texts[k]) for k in keys))


def _failing_helper(exercise, fn, device, side=_Local):
    """(name, failed CheckResult) of the student's own helper exercise that `fn` calls and that fails, or None.

    A helper is another exercise listed in `exercise.helpers` (conv2d lists pad2d),
    looked up in the student's function's globals (the notebook's namespace) and
    called by name in its code.
    """
    if side.helpers is not None:  # note: the student's namespace is in the kernel: ask it
        for h, proxy in side.helpers(exercise, fn):
            try:
                result = run_check(h, fn, device=device, side=proxy, reproduce=False)
            except Exception:  # noqa: BLE001 - never let the helper's check break the main verdict
                continue
            if not result.passed:
                return h, result
        return None
    names = set(getattr(getattr(fn, "__code__", None), "co_names", ()))
    glob = getattr(fn, "__globals__", {}) or {}
    for h in exercise.helpers:
        helper = glob.get(h)
        if h not in names or not callable(helper) or (getattr(helper, "__module__", None) or "").startswith("cnnlab."):
            continue
        try:
            result = check(h, helper, device=device, time_limit=_HELPER_TIME_LIMIT)
        except Exception:  # note: never let the helper's check break the main verdict
            continue
        if not result.passed:
            return h, result
    return None
