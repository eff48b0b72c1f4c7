"""softmax_cross_entropy and numerical_gradient (ps2, DESIGN §2b): worked
examples, feature cases (logits of +-1000, one-sided differences, a given h,
dout), seeded random cases and keyed mistakes, on `_array.ArrayExercise`
(a float loss beside an array; a tolerance for differences; "x not restored").

The references are `cnnlab.reference`'s.
"""
from __future__ import annotations

import numpy as np

from cnnlab.grading.exercises._array import ArrayExercise, Mistake

__all__ = ["CUSTOM", "SOFTMAX_CROSS_ENTROPY", "NUMERICAL_GRADIENT"]


def ref_softmax_cross_entropy(logits, y):
    from cnnlab import reference as R

    return R.softmax_cross_entropy(logits, y)


def ref_numerical_gradient(f, x, dout=None, h=1e-6):
    from cnnlab import reference as R

    return R.numerical_gradient(f, x, dout, h)


def _own(name):
    """The course's own implementation of `name` may not stand in for the student's."""
    return {"cnnlab.functional": [name], "cnnlab.functional.activation": [name], "cnnlab.reference": [name]}


# ------------------------------------------------------------------ test functions for numerical_gradient
def _square(x):
    """f(x) = x**2 (elementwise)"""
    return x ** 2


def _cube(x):
    """f(x) = x**3 (elementwise)"""
    return x ** 3


def _sum_squares(x):
    """f(x) = np.sum(x**2) (a scalar)"""
    return np.sum(x ** 2)


def _tanh(x):
    """f(x) = np.tanh(x) (elementwise)"""
    return np.tanh(x)


class _MatMul:
    """f(x) = x @ W for a fixed (D, M) matrix W"""

    def __init__(self, w):
        self.w = w
        self.__doc__ = f"f(x) = x @ W for a fixed {w.shape} matrix W"

    def __call__(self, x):
        return x @ self.w


_FUNCS = (_square, _cube, _tanh, _sum_squares)
_BY_NAME = {f.__name__: f for f in _FUNCS}


def _f_to_wire(v):
    """numerical_gradient's test function as plain data for the kernel: its name, or W of x @ W."""
    if isinstance(v, _MatMul):
        return {"matmul": v.w}
    if callable(v) and _BY_NAME.get(getattr(v, "__name__", None)) is v:
        return {"testfn": v.__name__}
    return v


def _f_from_wire(v):
    if type(v) is dict and set(v) == {"matmul"}:
        return _MatMul(np.asarray(v["matmul"], dtype=np.float64))
    if type(v) is dict and set(v) == {"testfn"}:
        return _BY_NAME[v["testfn"]]
    return v


# ------------------------------------------------------------------ softmax_cross_entropy
def _softmax(z, axis=1):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _onehot(y, k):
    out = np.zeros((len(y), k))
    out[np.arange(len(y)), y] = 1.0
    return out


def _sce_variant(z, y, axis=1, scale_loss=1.0, scale_grad=1.0, subtract=True, sign=1.0):
    n, k = z.shape
    p = _softmax(z, axis)
    loss = -np.mean(np.log(p[np.arange(n), y])) * scale_loss * sign
    grad = (p - (_onehot(y, k) if subtract else 0.0)) / n * scale_grad * sign
    return loss, grad


def _no_shift(z, y):
    n, k = z.shape
    e = np.exp(z)
    p = e / e.sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(p[np.arange(n), y]))
    if np.isfinite(loss) and np.isfinite(p).all():
        return None  # note: without overflow the unshifted formula is right; nothing to name
    # note: students' unshifted formulas overflow in different ways (nan or inf, in the loss, the gradient or both)
    return lambda parts: not all(np.all(np.isfinite(np.asarray(v, dtype=np.float64))) for v in parts)


def _sce_case(label, rng, n, k, scale=3.0):
    return SOFTMAX_CROSS_ENTROPY.case(label, rng.standard_normal((n, k)) * scale, rng.integers(0, k, size=n))


SOFTMAX_CROSS_ENTROPY = ArrayExercise(
    name="softmax_cross_entropy",
    forbidden=_own("softmax_cross_entropy"),
    signature=("logits", "y"),
    outputs=("loss", "dlogits"),
    worked=lambda: [SOFTMAX_CROSS_ENTROPY.case(
        "worked example: logits [[2, 1, 0.1]], label 0 (softmax 0.659, 0.242, 0.099; loss 0.417)",
        np.array([[2.0, 1.0, 0.1]]), np.array([0]))],
    features=lambda rng: [
        SOFTMAX_CROSS_ENTROPY.case("feature case: logits of +-1000 (needs the max shift)",
                                   np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0]]), np.array([0, 2])),
        SOFTMAX_CROSS_ENTROPY.case("feature case: all logits equal (loss log K)", np.zeros((4, 5)),
                                   np.array([0, 1, 2, 4])),
        _sce_case("feature case: N = 7 samples, K = 3 classes (mean over N)", rng, 7, 3),
        _sce_case("feature case: N = 3 samples, K = 6 classes", rng, 3, 6),
    ],
    random=lambda rng, n: [_sce_case(f"random case {i + 1}", rng, int(rng.integers(2, 9)), int(rng.integers(2, 11)))
                           for i in range(n)],
    reference=ref_softmax_cross_entropy,
    mistakes=(
        Mistake("no-max-shift", "np.exp overflows for large logits: subtract each row's maximum before the "
                                "exponential (softmax is unchanged by the shift), or use the log-sum-exp form.",
                _no_shift),
        Mistake("sum-not-mean", "the loss and the gradient are summed over the batch; F.cross_entropy averages: "
                                "divide both by N.",
                lambda z, y: _sce_variant(z, y, scale_loss=len(y), scale_grad=len(y))),
        Mistake("grad-not-divided", "the loss is the mean but dlogits is not divided by N: the loss averages over "
                                    "the N samples, so its gradient is (softmax - one_hot) / N.",
                lambda z, y: _sce_variant(z, y, scale_grad=len(y))),
        Mistake("no-one-hot", "dlogits is softmax / N; subtract the one-hot labels: (softmax - one_hot(y)) / N.",
                lambda z, y: _sce_variant(z, y, subtract=False)),
        Mistake("softmax-wrong-axis", "the softmax normalises over the batch (axis 0); normalise each row over "
                                      "the K classes (axis=1, keepdims=True).",
                lambda z, y: _sce_variant(z, y, axis=0)),
        Mistake("sign-flipped", "the loss and gradient have the wrong sign: the loss is -log p[y] (positive).",
                lambda z, y: _sce_variant(z, y, sign=-1.0)),
    ),
)


# ------------------------------------------------------------------ numerical_gradient
def _ng_random(rng, n):
    out = []
    for i in range(n):
        shape = tuple(int(v) for v in rng.integers(1, 4, size=int(rng.integers(1, 4))))
        f = _FUNCS[int(rng.integers(len(_FUNCS)))]
        x = rng.standard_normal(shape)
        dout = None if f is _sum_squares else rng.standard_normal(shape)
        out.append(NUMERICAL_GRADIENT.case(f"random case {i + 1}", f, x, dout))
    return out


def _ng_features(rng):
    w = rng.standard_normal((4, 3))
    x = rng.standard_normal((2, 4))
    return [
        NUMERICAL_GRADIENT.case("feature case: a scalar f, dout None (ones)", _sum_squares, rng.standard_normal((2, 3))),
        NUMERICAL_GRADIENT.case("feature case: curved f with h = 1e-3 (one-sided differences are off by ~h)",
                                _cube, rng.standard_normal((3, 4)) + 1.0, rng.standard_normal((3, 4)), 1e-3),
        NUMERICAL_GRADIENT.case("feature case: matrix product with a (2, 3) dout (dout weights each output)",
                                _MatMul(w), x, rng.standard_normal((2, 3))),
        NUMERICAL_GRADIENT.case("feature case: h = 0.1 given (use the h you are passed)",
                                _cube, rng.standard_normal((4,)), np.ones(4), 0.1),
        NUMERICAL_GRADIENT.case("feature case: 4-D x", _tanh, rng.standard_normal((2, 1, 2, 3)),
                                rng.standard_normal((2, 1, 2, 3))),
    ]


def _ng_variant(f, x, dout=None, h=1e-6, kind="central"):
    x = np.array(x, dtype=np.float64)
    fx = np.asarray(f(x), dtype=np.float64)
    dout = np.ones_like(fx) if dout is None else np.asarray(dout, dtype=np.float64)
    base = np.sum(fx * dout)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        plus = np.sum(np.asarray(f(x)) * dout)
        x[i] = old - h
        minus = np.sum(np.asarray(f(x)) * dout)
        x[i] = old
        grad[i] = {"forward": (plus - base) / h, "backward": (base - minus) / h,
                   "over_h": (plus - minus) / h}[kind]
    return grad


def _dout_ignored(f, x, dout=None, h=1e-6):
    return None if dout is None else ref_numerical_gradient(f, x, None, h)


NUMERICAL_GRADIENT = ArrayExercise(
    name="numerical_gradient",
    forbidden=_own("numerical_gradient"),
    signature=("f", "x", "dout", "h"),
    worked=lambda: [NUMERICAL_GRADIENT.case("worked example: f(x) = x**2 at x = [1, 2, 3] (gradient [2, 4, 6])",
                                            _square, np.array([1.0, 2.0, 3.0]))],
    features=_ng_features,
    random=_ng_random,
    reference=ref_numerical_gradient,
    rtol=1e-6, atol=1e-6,  # note: differences of f in another order round differently, ~1e-10
    mutation_key="x-not-restored",
    to_wire=_f_to_wire, from_wire=_f_from_wire,
    mutation_text=("`{arg}` was left changed after the call: restore each entry exactly after perturbing it "
                   "(old = x[i]; ...; x[i] = old; note that x[i] += h then x[i] -= h can leave a rounding "
                   "error), or perturb a copy."),
    mistakes=(
        Mistake("one-sided-forward", "one-sided differences (f(x + h) - f(x)) / h; use central differences "
                                     "(f(x + h) - f(x - h)) / (2h), whose error is O(h^2), not O(h).",
                lambda f, x, dout=None, h=1e-6: _ng_variant(f, x, dout, h, "forward")),
        Mistake("one-sided-backward", "one-sided differences (f(x) - f(x - h)) / h; use central differences "
                                      "(f(x + h) - f(x - h)) / (2h).",
                lambda f, x, dout=None, h=1e-6: _ng_variant(f, x, dout, h, "backward")),
        Mistake("divided-by-h", "central differences divided by h; the two points are 2h apart: divide by 2h.",
                lambda f, x, dout=None, h=1e-6: _ng_variant(f, x, dout, h, "over_h")),
        Mistake("dout-ignored", "dout is ignored (the gradient of sum(f(x))); differentiate sum(f(x) * dout).",
                _dout_ignored),
        Mistake("h-ignored", "the h passed in is ignored (a fixed step is used); use the argument h.",
                lambda f, x, dout=None, h=1e-6: None if h == 1e-6 else ref_numerical_gradient(f, x, dout, 1e-6)),
        Mistake("flattened", "the gradient is returned flattened; return it with the shape of x.",
                lambda f, x, dout=None, h=1e-6: None if x.ndim == 1 else ref_numerical_gradient(f, x, dout, h).ravel()),
    ),
)

CUSTOM = {e.name: e for e in (SOFTMAX_CROSS_ENTROPY, NUMERICAL_GRADIENT)}
