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
from cnnlab.grading.diagnose import SHAPE_GUESSES, diagnose, diagnose_value

__all__ = ["Verdict", "judge", "expected_for", "ignores_input"]


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
    """

    passed: bool
    message: str = ""
    mistake: str | None = None
    probe_wanted: bool = False


_PASS = Verdict(True)


def expected_for(exercise, case, device):
    """The reference's answer for `case` (grader side; plain data)."""
    if case.error:
        return None
    if exercise.kind == "module":
        return _module_expected(exercise, case, device)
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
    key, text = cause if cause else (None, None)
    return Verdict(False, f"  Problem: {problem}" + (f"\n  Likely cause: {text}" if text else ""), key, probe)


def judge(exercise, case, outputs, expected, *, device=None) -> Verdict:
    """Judge `outputs` (what the student's function gave on `case`) against `expected`."""
    if exercise.kind == "module":
        return _judge_module(exercise, case, outputs, expected, device)
    if exercise.kind == "training":
        return _judge_training(exercise, case, outputs, expected)
    P_raw = exercise.params(case)
    if outputs.timed_out:
        return Verdict(False, "  Problem: the time limit (for all cases together) ran out during this call; the "
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
        return Verdict(False, verdict.message, verdict.mistake, probe_wanted=_probe_useful(exercise, result))
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
    return ("your function returned exactly the same result for other input values of the same shapes, so its "
            "result does not depend on the input values: check that every output value is computed from the "
            "inputs (not copied from an example's answer) and that the output array is filled in.")


def _compare(exercise, case, result, expected, device, P_raw) -> Verdict:
    if exercise.kind == "int":
        problem = compare.int_problem(result, expected)
        if problem is None:
            return _PASS
        cause = None
        if isinstance(result, (int, float, np.integer, np.floating)) and not isinstance(result, bool):
            cause = diagnose_value(exercise.name, exercise.normalize(P_raw), result, expected, device, exercise.mistakes)
            if cause is None and isinstance(result, (float, np.floating)) and not float(result).is_integer():
                cause = ("not-integer", "The result is not an integer: the formula floors the division (use //).")
        return _fail(problem + ".", cause)
    if exercise.kind == "arrays":
        return _compare_tuple(exercise, result, expected, device, P_raw)
    problem = compare.array_problem(result, expected)
    if problem is None:
        return _PASS
    cause = diagnose(exercise.name, exercise.normalize(P_raw), result, expected, device, exercise.mistakes)
    return _fail(problem + "." + _show(case, result, expected), cause)


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
            cause = diagnose(exercise.name, exercise.normalize(P_raw), part, exp, device, exercise.mistakes, output=k)
            return _fail(problem + ".", cause)
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


# ------------------------------------------------------------------ modules
def _module_expected(exercise, case, device) -> dict:
    from cnnlab.grading.student import record_module

    spec = exercise.module
    out = {"n_params": spec.n_params, "shapes": None, "keys": None}
    if spec.reference is not None:
        import torch

        torch.manual_seed(0)
        rec = record_module(spec.reference(*case.values), case.data["input"], device, spec.train)
        out.update(n_params=rec["n_params"] if spec.n_params is None else spec.n_params,
                   shapes=[(cls, shape) for _, cls, shape in rec["shapes"]], keys=sorted(rec["state_dict"]))
    if spec.layer_shapes is not None:
        shapes = spec.layer_shapes(case) if callable(spec.layer_shapes) else spec.layer_shapes
        out["shapes"] = [(None, tuple(s)) for s in shapes]
    return out


def _judge_module(exercise, case, outputs, expected, device) -> Verdict:
    spec = exercise.module
    if outputs.timed_out:
        return Verdict(False, "  Problem: the time limit ran out while building or running your module.", "time-limit")
    if outputs.raised is not None:
        tname, text, _ = outputs.raised
        return Verdict(False, f"  Problem: your function raised {tname}: {text}", "exception")
    rec = outputs.value
    if not isinstance(rec, dict) or "n_params" not in rec:
        return Verdict(False, f"  Problem: it must return a torch.nn.Module; it returned an object of type "
                              f"{outputs.typename}.", "not-a-module")
    if rec["forward_error"] is not None:
        tname, text, _ = rec["forward_error"]
        return Verdict(False, f"  Problem: running your module on an input of shape {case.data['input'].shape} "
                              f"raised {tname}: {text}" + _layers_seen(rec), "forward-error")
    if expected["shapes"] is not None:
        got = [(cls, shape) for _, cls, shape in rec["shapes"]]
        for i, (g, e) in enumerate(zip(got, expected["shapes"])):
            if g[1] != e[1] or (e[0] is not None and g[0] != e[0]):
                name = rec["shapes"][i][0]
                want = f"{e[0]} with output shape {e[1]}" if e[0] else f"output shape {e[1]}"
                return Verdict(False, f"  Problem: layer {i + 1} in forward order ({name}: {g[0]}) gives output shape "
                                      f"{g[1]}; expected {want}." + _layers_seen(rec), "layer-shapes")
        if len(got) != len(expected["shapes"]):
            return Verdict(False, f"  Problem: your module runs {len(got)} layers (leaf modules, in forward order); "
                                  f"expected {len(expected['shapes'])}." + _layers_seen(rec), "layer-count")
    if expected["n_params"] is not None and rec["n_params"] != expected["n_params"]:
        return Verdict(False, f"  Problem: your module has {rec['n_params']:,} parameters; expected "
                              f"{expected['n_params']:,}.", "param-count")
    if spec.reference is None:
        return _PASS
    return _module_forward(exercise, case, rec, expected, device)


def _layers_seen(rec) -> str:
    rows = "".join(f"\n      {name or '(module)'}: {cls} -> {shape}" for name, cls, shape in rec["shapes"][:20])
    return f"\n  Your layers' outputs, in forward order:{rows}" if rows else ""


def _module_forward(exercise, case, rec, expected, device) -> Verdict:
    import torch

    spec = exercise.module
    keys = sorted(rec["state_dict"])
    if spec.load_strict and keys != expected["keys"]:
        missing = [k for k in expected["keys"] if k not in keys]
        extra = [k for k in keys if k not in expected["keys"]]
        return Verdict(False, f"  Problem: the state_dict keys differ from the reference's: missing {missing[:6]}, "
                              f"unexpected {extra[:6]}. Name the layers as the exercise says.", "state-dict-keys")
    torch.manual_seed(0)
    ref = spec.reference(*case.values)
    state = {k: torch.as_tensor(v) for k, v in rec["state_dict"].items()}
    try:
        ref.load_state_dict(state, strict=spec.load_strict)
    except RuntimeError as exc:
        return Verdict(False, f"  Problem: your parameters do not fit the reference layers: {str(exc)[:300]}",
                       "state-dict-shapes")
    ref = ref.to(device=device, dtype=torch.float64)
    ref.train(spec.train)
    with torch.no_grad():
        want = ref(torch.as_tensor(case.data["input"], dtype=torch.float64, device=device)).cpu().numpy()
    problem = compare.array_problem(rec["output"], want)
    if problem is None:
        return _PASS
    return Verdict(False, f"  Problem: with your weights loaded into the reference module, {problem} (your "
                          f"forward pass computes something else from the same weights).", "forward-values")


# ----------------------------------------------------------------- training
def _judge_training(exercise, case, outputs, expected) -> Verdict:
    spec = exercise.training
    if outputs.timed_out:
        return Verdict(False, f"  Problem: training did not finish within the time budget of {spec.time_budget:g} s.",
                       "time-limit")
    if outputs.raised is not None:
        tname, text, _ = outputs.raised
        return Verdict(False, f"  Problem: your training code raised {tname}: {text}", "exception")
    pred, y = outputs.value["predictions"], np.asarray(expected["y_test"]).reshape(-1)
    if pred.shape != y.shape:
        return Verdict(False, f"  Problem: the trained model gave {pred.size} predictions for {y.size} held-back "
                              f"samples.", "prediction-shape")
    acc = float(np.mean(pred == y))
    if acc + 1e-12 < spec.accuracy:
        return Verdict(False, f"  Problem: accuracy on the held-back data is {acc:.3f}; it must reach "
                              f"{spec.accuracy:.3f} (trained in {outputs.value['seconds']:.1f} s).", "accuracy-too-low")
    return _PASS
