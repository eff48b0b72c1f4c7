"""ps2's tiny numpy conv net: conv 3×3 (1→4, padding 1) → ReLU → max-pool 2 → linear (64→10).

Two exercises grade the student's ``convnet_loss(params, x, y) -> (loss, grads)``,
which composes the student's own layers:

- ``convnet_loss``: loss and every gradient against torch autograd (float64)
  on seeded parameters and batches of 8×8 digits;
- ``convnet_training``: `TRAIN_STEPS` steps of plain SGD from the fixed
  `init_params(seed=0)` on the first `TRAIN_N` digits; the final loss must be
  at most `MAX_FINAL_LOSS` (the solution reaches `SOLUTION_FINAL_LOSS`).

When the result is wrong and a helper of the student's (relu, max_pool2d, ...)
is in the function's globals, each is checked and the first that fails is named.
"""
from __future__ import annotations

import warnings

import numpy as np

from cnnlab.grading.custom import LocalSide, short_type, spend
from cnnlab.grading.exercises._array import exc_text, guard_spec
from cnnlab.grading.guard import forbid, targets_for
from cnnlab.grading.limits import TimeLimit
from cnnlab.grading.result import CheckResult

__all__ = ["CUSTOM", "init_params", "digits_batch", "ref_convnet_loss", "TRAIN_STEPS", "TRAIN_N", "LR",
           "MAX_FINAL_LOSS", "SOLUTION_FINAL_LOSS"]

SHAPES = {"w1": (4, 1, 3, 3), "b1": (4,), "w2": (64, 10), "b2": (10,)}
TRAIN_STEPS, TRAIN_N, LR = 60, 200, 0.3
SOLUTION_FINAL_LOSS = 0.25  # measured: the course's solution (and torch) reach 0.2461 from init_params(0)
MAX_FINAL_LOSS = 0.5        # margin: a correct gradient gives the solution's value up to rounding
HELPERS = ("relu", "relu_backward", "max_pool2d", "max_pool2d_backward", "conv2d_backward", "softmax_cross_entropy")
# note: the forward convolution is ps1's, given to the students as cnnlab.functional.conv2d
_ALLOWED = {"conv2d", "conv2d_naive"}


def init_params(seed: int = 0) -> dict:
    """Seeded small random weights: w1 (4, 1, 3, 3), b1 (4,), w2 (64, 10), b2 (10,)."""
    rng = np.random.default_rng(seed)
    return {"w1": rng.standard_normal(SHAPES["w1"]) * np.sqrt(2 / 9), "b1": np.zeros(4),
            "w2": rng.standard_normal(SHAPES["w2"]) * np.sqrt(1 / 64), "b2": np.zeros(10)}


def digits_batch(n: int = TRAIN_N, start: int = 0):
    """The digits ``start .. start+n-1``: x (n, 1, 8, 8) in [0, 1] and labels y (n,)."""
    from cnnlab.data import load_digits

    images, labels = load_digits()
    return images[start:start + n, None].copy(), labels[start:start + n].copy()  # (n, 1, 8, 8)


def ref_convnet_loss(params, x, y):
    """The reference: torch autograd in float64."""
    import torch
    import torch.nn.functional as F

    t = {k: torch.tensor(np.asarray(v), dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    h = F.max_pool2d(F.relu(F.conv2d(torch.tensor(x, dtype=torch.float64), t["w1"], t["b1"], padding=1)), 2)
    scores = h.reshape(len(x), -1) @ t["w2"] + t["b2"]  # (N, 64) @ (64, 10)
    loss = F.cross_entropy(scores, torch.as_tensor(y, dtype=torch.int64))
    loss.backward()
    return float(loss.detach()), {k: v.grad.numpy() for k, v in t.items()}


def _targets():
    targets = targets_for(guard_spec({}))
    return {m: [n for n in names if not (m.startswith("cnnlab.functional") and n in _ALLOWED)]
            for m, names in targets.items()}


def _call(side, params, x, y, budget):
    """The student's ``convnet_loss(params, x, y)`` on the student's side, as `_describe`'s plain data."""
    out = side.run("loss", budget, params=params, x=x, y=y)
    if type(out) is dict and "forbidden" in out:
        raise _Fail(f"this exercise must be solved with your own numpy layers; {str(out['forbidden'])[:200]} was "
                    f"called.", "forbidden-call")
    return out


def _describe(out) -> dict:
    """Kernel side: what `_unpack` needs of ``(loss, grads)``, as plain data."""
    from cnnlab.grading.compare import Foreign
    from cnnlab.grading.student import _typename

    if not isinstance(out, (tuple, list)) or len(out) != 2 or not isinstance(out[1], dict):
        return {"type": type(out).__name__}
    loss, grads = out
    try:
        loss = float(loss)
    except Exception:
        return {"loss_type": type(loss).__name__}
    return {"loss": loss, "grads": {k: v.copy() if type(v) is np.ndarray else Foreign(_typename(v))
                                    for k, v in grads.items() if type(k) is str}}


class _Fail(Exception):
    def __init__(self, text, key):
        super().__init__(text)
        self.text, self.key = text, key


def _unpack(out):
    """``(loss, grads)`` from `_describe`'s data (grader side), or `_Fail` naming what is wrong."""
    if type(out) is not dict or not ({"type"} <= set(out) or {"loss_type"} <= set(out)
                                     or {"loss", "grads"} <= set(out)):
        raise _Fail("the student's side sent no result.", "not-a-tuple")
    if "type" in out:
        raise _Fail(f"convnet_loss must return a tuple (loss, grads) with grads a dict; got an object of type "
                    f"{str(out['type'])[:60]}.", "not-a-tuple")
    if "loss_type" in out or type(out["loss"]) is not float:
        raise _Fail(f"the loss must be a single float; got {str(out.get('loss_type'))[:60]}.", "not-a-tuple")
    loss, grads = out["loss"], out["grads"]
    if type(grads) is not dict:
        raise _Fail("the student's side sent no gradients.", "not-a-tuple")
    missing = sorted(set(SHAPES) - set(grads))
    if missing:
        raise _Fail(f"grads has no entry for {missing}; it needs one gradient per parameter, keys {sorted(SHAPES)}.",
                    "grads-missing")
    for k, shape in SHAPES.items():
        if type(grads[k]) is not np.ndarray or grads[k].shape != shape:
            got = grads[k].shape if type(grads[k]) is np.ndarray else short_type(grads[k])
            raise _Fail(f"grads[{k!r}] must be a numpy array of shape {shape} (the shape of params[{k!r}]); got {got}.",
                        "grad-shape")
    return loss, grads


def _helper_failure(side) -> tuple[str, str] | None:
    """The first of the student's helpers (defined beside fn, in the notebook) that fails its own check."""
    for name, helper in side.helpers(HELPERS, "same-module"):
        res = helper.check(trials=2, time_limit=5)
        if not res.passed:
            return f"your {name} fails its own check: {res.message.splitlines()[0]}", f"helper-fails:{name}"
    return None


def _loss_problem(side, budget) -> tuple[str, str] | None:
    x, y = digits_batch(6, start=300)
    for seed in (1, 2):
        params = init_params(seed)
        rng = np.random.default_rng(seed)
        params["b1"] = rng.standard_normal(4) * 0.1
        params["b2"] = rng.standard_normal(10) * 0.1
        where = f"params = init_params({seed}) with random biases, digits 300..305"
        exp_loss, exp_grads = ref_convnet_loss(params, x, y)
        loss, grads = _unpack(_call(side, params, x, y, budget))
        wrong = []
        if not abs(loss - exp_loss) <= 1e-7 * max(1.0, abs(exp_loss)):
            wrong.append(f"loss {loss:.10g}, expected {exp_loss:.10g}")
        for k in SHAPES:
            g = grads[k].astype(np.float64)
            if not np.allclose(g, exp_grads[k], rtol=1e-6, atol=1e-9):
                i = np.unravel_index(int(np.argmax(np.abs(g - exp_grads[k]))), g.shape)
                wrong.append(f"grads[{k!r}] differs most at {tuple(int(v) for v in i)}: expected "
                             f"{exp_grads[k][i]:.6g}, got {g[i]:.6g}")
        if wrong:
            text = f"on {where}: " + "; ".join(wrong) + "."
            helper = _helper_failure(side)
            return (text + f"\n  Likely cause: {helper[0]}", helper[1]) if helper else (text, "wrong-values")
    return None


class _ConvnetExercise:
    name = "convnet_loss"
    custom = True  # note: a `cnnlab.grading.custom` exercise; the student's code runs only in `part_loss`

    def cases(self, seed=0, trials=None):
        return []

    def check(self, fn, *, seed=0, trials=None, device=None, time_limit=20.0, side=None) -> CheckResult:
        if not callable(fn):
            return CheckResult(self.name, False, f"{self.name}: expected a function, got {type(fn).__name__}.")
        side = side or LocalSide(self, fn)
        budget = [None if time_limit is None else float(time_limit)]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # note: nbgrader scores any stderr output as an error
                found = self._run(side, budget)
        except _Fail as f:
            found = (f.text, f.key)
        except TimeLimit:
            found = (f"the time limit of {time_limit:g} s ran out; vectorize your layers.", "time-limit")
        except (Exception, SystemExit) as exc:
            found = (f"your function raised {exc_text(exc)}.", "exception")
            helper = _helper_failure(side)
            if helper:
                found = (found[0] + f"\n  Likely cause: {helper[0]}", helper[1])
        if found is None:
            return CheckResult(self.name, True, self._passed())
        return CheckResult(self.name, False, f"{self.name} failed: {found[0]}", 1, found[1])

    def part_loss(self, fn, budget, state, params, x, y):
        """Kernel side: ``fn(params, x, y)`` on copies, under the guard and the time limit, as plain data."""
        args = ({k: np.array(v, dtype=np.float64) for k, v in params.items()}, np.array(x), np.array(y))
        calls: list = []
        try:
            with forbid(fn, _targets()) as calls, np.errstate(all="ignore"):
                out = spend(budget, lambda: fn(*args))
        except (Exception, SystemExit):
            if not calls:
                raise
        if calls:  # note: the forbidden call is the cause, not what it made the student's code raise
            return {"forbidden": str(calls[0])}
        return _describe(out)

    def _run(self, side, budget):
        return _loss_problem(side, budget)

    def _passed(self):
        return "convnet_loss: the loss and all four gradients match torch autograd on two batches."


class _TrainingExercise(_ConvnetExercise):
    name = "convnet_training"

    def _run(self, side, budget):
        x, y = digits_batch()
        params = init_params(0)
        losses = []
        for _ in range(TRAIN_STEPS):
            loss, grads = _unpack(_call(side, params, x, y, budget))
            losses.append(loss)
            params = {k: params[k] - LR * grads[k] for k in SHAPES}
        loss, _ = _unpack(_call(side, params, x, y, budget))
        self.final = loss
        if not np.isfinite(loss) or loss > MAX_FINAL_LOSS:
            text = (f"after {TRAIN_STEPS} SGD steps (lr {LR}) from init_params(0) on the first {TRAIN_N} digits the "
                    f"loss is {loss:.4g} (it started at {losses[0]:.4g}); it must be at most {MAX_FINAL_LOSS} "
                    f"(correct gradients reach {SOLUTION_FINAL_LOSS}).")
            found = _loss_problem(side, budget)
            return (text + f"\n  Likely cause: {found[0]}", found[1]) if found else (text, "loss-too-high")
        return None

    def _passed(self):
        return (f"convnet_training: the loss fell to {self.final:.4f} after {TRAIN_STEPS} steps "
                f"(at most {MAX_FINAL_LOSS} needed).")


CUSTOM = {"convnet_loss": _ConvnetExercise(), "convnet_training": _TrainingExercise()}
