"""The student side of a check: call the student's code on one case and record what came back.

Everything here may run student code; nothing here judges. What it returns,
`Outputs`, holds only plain data (numpy arrays, ints, strings, tuples, dicts
of arrays), so a grader process can receive it from the student's kernel and
judge it with `judge.judge` without ever touching the student's objects.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from cnnlab.grading.compare import Foreign
from cnnlab.grading.guard import forbid, targets_for
from cnnlab.grading.limits import TimeLimit, call_with_limit

__all__ = ["Outputs", "call", "probe", "record_module", "exc_info"]


@dataclass
class Outputs:
    """What one call of the student's function gave.

    Attributes:
        value: the result made plain: an ndarray, an int, a tuple of them, or
            for modules/training a dict (see `record_module`, `_call_training`);
            anything else is kept as is only when it is immutable (None, str,
            numbers) and otherwise described by `Outputs.typename`.
        typename: the result's type (``numpy.ndarray``, ``torch.Tensor``, ...).
        raised: ``(type name, message, names of its base classes)`` of an
            exception the function raised, or None.
        forbidden: the first forbidden entry point the function called, or None.
        timed_out: the time limit ran out during the call.
        mutated: the name of an input argument changed in place, or None.
        probe: the result on fresh inputs of the same shapes (filled in by `probe`).
        seconds: time spent in the student's code.
        limit: the check's time limit in seconds (for messages), or None.
    """

    value: object = None
    typename: str = ""
    raised: tuple | None = None
    forbidden: str | None = None
    timed_out: bool = False
    mutated: str | None = None
    probe: object = None
    seconds: float = 0.0
    limit: float | None = None


def exc_info(exc: BaseException) -> tuple:
    """``(type name, message, base-class names)``: an exception as plain data."""
    try:
        text = str(exc)
    except Exception:  # a student's exception whose __str__ fails
        text = "<unprintable>"
    text = text if len(text) <= 300 else text[:297] + "..."
    return (type(exc).__name__, text, tuple(c.__name__ for c in type(exc).__mro__))


def _copy(v):
    return np.array(v, copy=True) if isinstance(v, np.ndarray) else v  # ints, tuples, None: immutable


def _typename(obj) -> str:
    t = type(obj)
    return t.__name__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"


def _plain(result):
    """The result as data the judge may hold: arrays and numbers kept, containers of them kept.

    note: the judge must see a student's ndarray subclass or tensor for what it is (to
    reject it), so only the type's name travels for those.
    """
    if type(result) is np.ndarray:
        return result.copy()  # note: the student's code may still hold (and later change) the array it returned
    if result is None or type(result) in (bool, int, float, str):
        return result
    if isinstance(result, np.generic) and type(result).__module__ == "numpy":  # numpy scalars, not subclasses
        return result
    if type(result) in (tuple, list):
        return type(result)(_plain(r) for r in result)
    return Foreign(_typename(result), isinstance(result, np.ndarray))


def call(exercise, fn, case, device, budget: list, task: dict | None = None) -> Outputs:
    """Run ``fn(*case.values)`` under the guard and the time limit; record the outcome.

    `budget` is a one-item list holding the seconds left for all student calls (None: no limit);
    `task` is a training exercise's prepared task (`TrainingSpec.prepare`).
    """
    if exercise.kind == "module":
        return _call_module(exercise, fn, case, device, budget)
    if exercise.kind == "training":
        return _call_training(exercise, fn, case, device, budget, task)
    return _call_function(exercise, fn, case, budget)


def _call_function(exercise, fn, case, budget) -> Outputs:
    args = tuple(_copy(v) for v in case.values)
    out = Outputs()
    calls: list = []
    start = time.monotonic()
    try:
        with forbid(fn, targets_for(exercise)) as calls, np.errstate(all="ignore"):
            result = call_with_limit(lambda: fn(*args), budget[0])
    except TimeLimit:
        out.timed_out = True
        return out
    except (Exception, SystemExit) as exc:
        out.raised = exc_info(exc)
    else:
        out.value, out.typename = _plain(result), _typename(result)
    finally:
        out.seconds = _spend(budget, start)
    out.forbidden = calls[0] if calls else None
    for arg_name, orig, arg in zip(case.names, case.values, args):
        if isinstance(orig, np.ndarray) and not (type(arg) is np.ndarray and arg.shape == orig.shape
                                                 and np.array_equal(arg, orig, equal_nan=True)):
            out.mutated = arg_name
            break
    return out


def probe(exercise, fn, case, device, budget: list):
    """The student's result for fresh random inputs of the same shapes (None if it cannot be had)."""
    rng = np.random.default_rng(2024)
    args = tuple(rng.standard_normal(v.shape) + 3.0 if isinstance(v, np.ndarray) and v.dtype.kind == "f"
                 else _copy(v) for v in case.values)
    if all(a is v for a, v in zip(args, case.values)):
        return None
    start = time.monotonic()
    try:
        with forbid(fn, targets_for(exercise)), np.errstate(all="ignore"):
            return _plain(call_with_limit(lambda: fn(*args), budget[0]))
    except (Exception, SystemExit, TimeLimit):  # no diagnosis then; the verdict stands
        return None
    finally:
        _spend(budget, start)


def _spend(budget, start) -> float:
    spent = time.monotonic() - start
    if budget[0] is not None:
        budget[0] -= spent
    return spent


# ------------------------------------------------------------------ modules
def record_module(model, x: np.ndarray, device, train: bool = False) -> dict:
    """Parameter count, ``state_dict`` (numpy), leaf layers' output shapes and output on `x`, all in float64.

    Returns a dict with ``n_params`` (int), ``state_dict`` ({key: ndarray}),
    ``shapes`` ([(layer name, layer type, output shape)] in forward order),
    ``output`` (ndarray or None) and ``forward_error`` (exception info or None).
    """
    import torch

    rec = {"n_params": int(sum(p.numel() for p in model.parameters())),
           "state_dict": {k: v.detach().cpu().numpy().copy() for k, v in model.state_dict().items()},
           "shapes": [], "output": None, "forward_error": None}
    hooks = []

    def hook(name):
        def record(module, inputs, output):
            # note: plain ints only: a layer may return anything, and the judge must not touch it
            shape = tuple(int(v) for v in output.shape) if isinstance(output, torch.Tensor) else None
            rec["shapes"].append((name, type(module).__name__, shape))
        return record

    for name, module in model.named_modules():
        if not any(True for _ in module.children()):
            hooks.append(module.register_forward_hook(hook(name)))
    try:
        model = model.to(device=device, dtype=torch.float64)
        model.train(train)
        with torch.no_grad():
            y = model(torch.as_tensor(np.asarray(x, dtype=np.float64), device=device))
        rec["output"] = y.detach().cpu().numpy().copy() if isinstance(y, torch.Tensor) else Foreign(_typename(y))
    except (Exception, SystemExit) as exc:
        rec["forward_error"] = exc_info(exc)
    finally:
        for h in hooks:
            h.remove()
    return rec


def _recorded(out: Outputs, budget, body) -> Outputs:
    """Run `body()` (which fills `out`), turning a time-out or an exception into data in `out`."""
    start = time.monotonic()
    try:
        body()
    except TimeLimit:
        out.timed_out = True
    except (Exception, SystemExit) as exc:
        out.raised = exc_info(exc)
    finally:
        out.seconds = _spend(budget, start)
    return out


def _call_module(exercise, fn, case, device, budget) -> Outputs:
    import torch

    out = Outputs()

    def body():
        torch.manual_seed(0)  # note: the student's initial weights do not change the verdict, but stay reproducible
        with forbid(fn, exercise.forbidden or {}):
            model = call_with_limit(lambda: fn(*case.values), budget[0])
            out.typename = _typename(model)
            if isinstance(model, torch.nn.Module):
                out.value = call_with_limit(lambda: record_module(model, case.data["input"], device,
                                                                  exercise.module.train), budget[0])
            else:
                out.value = _plain(model)

    return _recorded(out, budget, body)


# ----------------------------------------------------------------- training
def _call_training(exercise, fn, case, device, budget, task) -> Outputs:
    import torch

    spec = exercise.training
    seed = int((case.data or {}).get("seed", 0))
    out = Outputs()

    def body():
        start = time.monotonic()
        np.random.seed(seed)
        torch.manual_seed(seed)
        with forbid(fn, exercise.forbidden or {}):
            trained = call_with_limit(lambda: spec.run(fn, task, device), budget[0])
            pred = spec.predict(trained, task, device)
        out.value = {"predictions": np.asarray(pred).astype(np.int64).reshape(-1),
                     "seconds": time.monotonic() - start}
        out.typename = "dict"

    return _recorded(out, budget, body)
