"""ps2's gradient check of the student's own layers, decided on the grader's side.

``check("gradient_check", numerical_gradient)``: on inputs the grader draws, the kernel
computes, with the notebook's own functions (looked up beside the function passed in),
each layer's analytic gradient (``max_pool2d_backward``, ``avg_pool2d_backward``,
``conv2d_backward``'s dx) and its numerical gradient (``numerical_gradient`` of
``max_pool2d``, ``avg_pool2d``, ``conv2d``), and sends both back (`part_grads`). The grader
needs their relative error below `TOL`, and the analytic one to be the true gradient
(`cnnlab.reference`): two arrays that agree with each other but not with the truth are no
passing gradient check, whoever sent them.
"""
from __future__ import annotations

import numpy as np

from cnnlab.grading.custom import LocalSide, Raised, exc_text, spend
from cnnlab.grading.limits import TimeLimit
from cnnlab.grading.result import CheckResult

__all__ = ["GRADIENT_CHECK", "CUSTOM", "TOL"]

TOL = 1e-7
LAYERS = ("max_pool2d", "avg_pool2d", "conv2d dx")


def _rel(a, b) -> float:
    return float(np.linalg.norm(a - b) / max(1e-12, np.linalg.norm(a) + np.linalg.norm(b)))


class _GradientCheck:
    name = "gradient_check"
    custom = True

    def cases(self, seed=0, trials=None):
        return []

    def part_grads(self, fn, budget, state, x, w, dp, dc):
        """Kernel side: (analytic, numerical) gradient of each layer with the notebook's functions."""
        g = getattr(fn, "__globals__", {}) or {}
        f = {k: g[k] for k in ("max_pool2d", "avg_pool2d", "conv2d", "max_pool2d_backward", "avg_pool2d_backward",
                               "conv2d_backward", "numerical_gradient")}
        pairs = {
            "max_pool2d": (lambda: f["max_pool2d_backward"](dp, x, 2),
                           lambda: f["numerical_gradient"](lambda v: f["max_pool2d"](v, 2), x.copy(), dp)),
            "avg_pool2d": (lambda: f["avg_pool2d_backward"](dp, x, 2),
                           lambda: f["numerical_gradient"](lambda v: f["avg_pool2d"](v, 2), x.copy(), dp)),
            "conv2d dx": (lambda: f["conv2d_backward"](dc, x, w, 2, 1)[0],
                          lambda: f["numerical_gradient"](lambda v: f["conv2d"](v, w, None, 2, 1), x.copy(), dc)),
        }
        return {k: tuple(np.array(spend(budget, part), dtype=np.float64) for part in pair) for k, pair in pairs.items()}

    def check(self, fn, *, seed=0, trials=None, device=None, time_limit=10.0, side=None) -> CheckResult:
        from cnnlab import reference as R

        name = self.name
        if not callable(fn):
            return CheckResult(name, False, f"{name}: expected a function, got {type(fn).__name__}.",
                               mistake="not-callable")
        side = side or LocalSide(self, fn)
        rng = np.random.default_rng(seed)
        x, w = rng.standard_normal((1, 2, 5, 4)), rng.standard_normal((3, 2, 2, 2))
        dp, dc = rng.standard_normal((1, 2, 2, 2)), rng.standard_normal((1, 3, 3, 3))
        try:
            rec = side.run("grads", [time_limit], x=x, w=w, dp=dp, dc=dc)
        except TimeLimit:
            return CheckResult(name, False, f"{name}: the time limit of {time_limit:g} s ran out.", 1, "time-limit")
        except Raised as exc:
            return CheckResult(name, False, f"{name}: recomputing your gradient check raised {exc_text(exc)}", 1,
                               "exception")
        truth = {"max_pool2d": R.max_pool2d_backward(dp, x, 2), "avg_pool2d": R.avg_pool2d_backward(dp, x, 2),
                 "conv2d dx": R.conv2d_backward(dc, x, w, 2, 1)[0]}
        for layer in LAYERS:
            mine, num = rec[layer]
            if not (type(mine) is np.ndarray and type(num) is np.ndarray and mine.shape == num.shape == x.shape):
                return CheckResult(name, False, f"{name}: your {layer} gradients do not have the shape of x "
                                                f"{x.shape}.", 1, "gradient-check")
            err = _rel(mine, num)
            if not err < TOL:
                return CheckResult(name, False, f"{name}: recomputed on other inputs, your {layer} gradient check "
                                                f"gives {err:.3g} (needs < {TOL:g})", 1, "gradient-check")
            wrong = _rel(mine, truth[layer])
            if not wrong < TOL:
                return CheckResult(name, False, f"{name}: your {layer} backward pass agrees with your numerical "
                                                f"gradient but not with the true gradient (relative error "
                                                f"{wrong:.3g}): the forward and backward passes share a mistake.", 1,
                                   "shared-mistake")
        return CheckResult(name, True, f"{name}: your analytic and numerical gradients agree (< {TOL:g}) for "
                                       f"{', '.join(LAYERS)}.", 1)


GRADIENT_CHECK = _GradientCheck()
CUSTOM = {GRADIENT_CHECK.name: GRADIENT_CHECK}
