"""batch_norm2d and batch_norm2d_backward (ps4): BatchNorm's forward pass with torch's running
statistics, and its training-mode gradients (kind "arrays")."""
from __future__ import annotations

import numpy as np

from cnnlab import reference as R
from cnnlab.grading.exercise import REQUIRED, Exercise, Mistake

__all__ = ["BATCH_NORM2D", "BATCH_NORM2D_BACKWARD", "EXERCISES"]

_AXES = (0, 2, 3)


def _vec(v):
    return v[None, :, None, None]  # (C,) -> (1, C, 1, 1), broadcast over N, H, W


def _stats(x):
    """Batch mean, biased variance and M = N*H*W per channel."""
    m = x.shape[0] * x.shape[2] * x.shape[3]
    return x.mean(axis=_AXES), x.var(axis=_AXES), m


def _affine(y, P):
    if P.weight is not None:
        y = y * _vec(P.weight)
    if P.bias is not None:
        y = y + _vec(P.bias)
    return y


def _normalise(P, mean, var, eps_outside=False):
    denom = np.sqrt(var) + P.eps if eps_outside else np.sqrt(var + P.eps)
    return _affine((P.x - _vec(mean)) / _vec(denom), P)


# ------------------------------------------------------------------ forward
def _fwd_y(P, how):
    mean, var, m = _stats(P.x)
    if how == "unbiased":
        return _normalise(P, mean, var * m / (m - 1)) if P.training and m > 1 else None
    if how == "eps-outside":
        return _normalise(P, mean, var, True) if P.training else _normalise(P, P.running_mean, P.running_var, True)
    if how == "eval-batch":
        return _normalise(P, mean, var) if not P.training and m > 1 else None
    if how == "train-running":
        return _normalise(P, P.running_mean, P.running_var) if P.training else None
    if how == "instance":  # statistics per sample and channel
        mu, v = P.x.mean(axis=(2, 3), keepdims=True), P.x.var(axis=(2, 3), keepdims=True)
        return _affine((P.x - mu) / np.sqrt(v + P.eps), P) if P.training else None
    if how == "swapped-affine":
        if P.weight is None or P.bias is None:
            return None
        y = (P.x - _vec(mean)) / _vec(np.sqrt(var + P.eps)) if P.training else \
            (P.x - _vec(P.running_mean)) / _vec(np.sqrt(P.running_var + P.eps))
        return y * _vec(P.bias) + _vec(P.weight)
    raise ValueError(how)


def _fwd_running(P, which, how):
    if not P.training:
        if how == "eval-updates":
            mean, var, m = _stats(P.x)
            return (1 - P.momentum) * P.running_mean + P.momentum * mean if which == "mean" else \
                (1 - P.momentum) * P.running_var + P.momentum * var * m / max(m - 1, 1)
        return None
    mean, var, m = _stats(P.x)
    stat, old = (mean, P.running_mean) if which == "mean" else (var * m / (m - 1), P.running_var)
    if how == "keras":
        return P.momentum * old + (1 - P.momentum) * stat
    if how == "biased":
        return (1 - P.momentum) * old + P.momentum * var if which == "var" else None
    if how == "replaced":
        return stat
    if how == "std":
        return (1 - P.momentum) * old + P.momentum * np.sqrt(stat) if which == "var" else None
    return None


_MOMENTUM = ("The running statistics use the momentum the Keras way (running = m·running + (1 − m)·batch). PyTorch's "
             "momentum weights the *new* batch statistic: running = (1 − m)·running + m·batch, with m = 0.1.")
_FWD_MISTAKES = (
    Mistake("unbiased-normalise", "y is normalised with the unbiased variance (divided by M − 1). Normalise with the "
            "biased variance (divide by M = N·H·W, np.var's default); only the running variance uses M − 1.",
            lambda P, dev: _fwd_y(P, "unbiased"), output=0),
    Mistake("eval-uses-batch-stats", "With training=False your function normalises with the batch's own mean and "
            "variance. Evaluation mode must use running_mean and running_var (that is what they are kept for).",
            lambda P, dev: _fwd_y(P, "eval-batch"), output=0),
    Mistake("training-uses-running", "With training=True your function normalises with running_mean and running_var. "
            "Training mode normalises with the current batch's statistics and only *updates* the running ones.",
            lambda P, dev: _fwd_y(P, "train-running"), output=0),
    Mistake("eps-outside-sqrt", "eps is added outside the square root: divide by sqrt(var + eps), not sqrt(var) + eps.",
            lambda P, dev: _fwd_y(P, "eps-outside"), output=0),
    Mistake("per-sample-stats", "The mean and variance are computed per image (over H, W only). BatchNorm2d averages "
            "each channel over the batch and the positions: axes (0, 2, 3).",
            lambda P, dev: _fwd_y(P, "instance"), output=0),
    Mistake("weight-bias-swapped", "weight and bias are swapped: y = weight·x̂ + bias (weight scales, bias shifts).",
            lambda P, dev: _fwd_y(P, "swapped-affine"), output=0),
    Mistake("momentum-keras", _MOMENTUM, lambda P, dev: _fwd_running(P, "mean", "keras"), output=1),
    Mistake("momentum-keras-var", _MOMENTUM, lambda P, dev: _fwd_running(P, "var", "keras"), output=2),
    Mistake("running-replaced", "The running mean is replaced by the batch mean; it is a moving average: "
            "(1 − m)·running_mean + m·batch_mean.", lambda P, dev: _fwd_running(P, "mean", "replaced"), output=1),
    Mistake("running-var-biased", "The running variance is updated with the biased batch variance. PyTorch updates it "
            "with the unbiased one, var·M/(M − 1) (M = N·H·W), while normalising with the biased one.",
            lambda P, dev: _fwd_running(P, "var", "biased"), output=2),
    Mistake("running-var-std", "The running variance is updated with a standard deviation; average the (unbiased) "
            "variance.", lambda P, dev: _fwd_running(P, "var", "std"), output=2),
    Mistake("eval-updates-running", "With training=False the running mean is updated anyway; evaluation mode must "
            "return the running statistics unchanged.", lambda P, dev: _fwd_running(P, "mean", "eval-updates"),
            output=1),
)


def _bn_normalize(params):
    from types import SimpleNamespace

    P = SimpleNamespace(**params)
    P.x = np.asarray(P.x, dtype=np.float64)
    P.running_mean = np.asarray(P.running_mean, dtype=np.float64)
    P.running_var = np.asarray(P.running_var, dtype=np.float64)
    P.momentum, P.eps, P.training = float(P.momentum), float(P.eps), bool(P.training)
    return P


def _bn_case(label, rng, shape, training, affine=True, momentum=0.1, eps=1e-5, offset=0.0):
    C = shape[1]
    x = rng.standard_normal(shape) * rng.uniform(0.5, 3.0) + offset
    rm, rv = rng.standard_normal(C), rng.uniform(0.5, 2.0, C)
    w, b = (rng.standard_normal(C), rng.standard_normal(C)) if affine else (None, None)
    return BATCH_NORM2D.case(label, x=x, running_mean=rm, running_var=rv, weight=w, bias=b, training=training,
                             momentum=momentum, eps=eps)


def _bn_worked():
    x = np.array([1.0, 2.0, 3.0, 4.0]).reshape(2, 1, 1, 2)
    return [BATCH_NORM2D.case("worked example '1, 2, 3, 4 in training mode'", x=x, running_mean=np.zeros(1),
                              running_var=np.ones(1), training=True),
            BATCH_NORM2D.case("worked example '1, 2, 3, 4 in eval mode'", x=x, running_mean=np.array([2.0]),
                              running_var=np.array([4.0]), weight=np.array([3.0]), bias=np.array([1.0]))]


def _bn_features(rng):
    return [
        _bn_case("feature case 'batch of one'", rng, (1, 3, 4, 5), True),
        _bn_case("feature case 'training=False with running statistics'", rng, (3, 2, 4, 3), False),
        _bn_case("feature case 'training without weight and bias'", rng, (4, 3, 2, 3), True, affine=False),
        _bn_case("feature case 'momentum 0.3, eps 0.01'", rng, (2, 2, 3, 3), True, momentum=0.3, eps=0.01),
        _bn_case("feature case 'mean far from 0'", rng, (2, 3, 3, 2), True, offset=50.0),
        _bn_case("feature case '1x1 images, batch of 5'", rng, (5, 4, 1, 1), True),
        _bn_case("feature case 'eval mode without weight and bias'", rng, (2, 3, 2, 2), False, affine=False),
    ]


def _bn_random(rng, label):
    N, C, H, W = (int(v) for v in rng.integers(1, (4, 5, 6, 6)))
    if N * H * W < 2:
        W += 1
    return _bn_case(label, rng, (N, C, H, W), bool(rng.random() < 0.6), affine=bool(rng.random() < 0.7),
                    momentum=float(rng.choice([0.1, 0.1, 0.2, 0.5])))


BATCH_NORM2D = Exercise(
    name="batch_norm2d",
    signature=(("x", REQUIRED), ("running_mean", REQUIRED), ("running_var", REQUIRED), ("weight", None),
               ("bias", None), ("training", False), ("momentum", 0.1), ("eps", 1e-5)),
    kind="arrays",
    outputs=("y", "new_running_mean", "new_running_var"),
    reference=R.batch_norm2d,
    worked=_bn_worked,
    features=_bn_features,
    random=_bn_random,
    mistakes=_FWD_MISTAKES,
    normalize=_bn_normalize,
    forbidden={"cnnlab.functional": ["batch_norm2d"]},
)


# ----------------------------------------------------------------- backward
def _bwd(P, how):
    x, g = P.x, P.dout
    mean, var, m = _stats(x)
    if how == "unbiased-var":
        var = var * m / (m - 1) if m > 1 else var
    inv = 1.0 / np.sqrt(var + P.eps)
    if how == "eps-outside":
        inv = 1.0 / (np.sqrt(var) + P.eps)
    xhat = (x - _vec(mean)) * _vec(inv)
    gamma = np.ones(x.shape[1]) if P.weight is None or how == "weight-ignored" else P.weight
    dxhat = g * _vec(gamma)
    s1 = dxhat.sum(axis=_AXES)
    s2 = (dxhat * xhat).sum(axis=_AXES)
    if how == "constant-stats":
        return dxhat * _vec(inv)
    if how == "no-variance-path":
        return _vec(inv) * (dxhat - _vec(s1 / m))
    if how == "no-mean-path":
        return _vec(inv) * (dxhat - xhat * _vec(s2 / m))
    if how == "weight-ignored" and P.weight is None:
        return None
    return _vec(inv) / m * (m * dxhat - _vec(s1) - xhat * _vec(s2))


_BWD_MISTAKES = (
    Mistake("dx-constant-stats", "dx treats the mean and variance as constants (dx = γ·dout/σ). In training mode μ and "
            "σ² depend on every input of the channel: subtract the mean of γ·dout and the x̂-weighted mean of γ·dout·x̂.",
            lambda P, dev: _bwd(P, "constant-stats"), output=0),
    Mistake("dx-no-variance-path", "dx is missing the variance's term −x̂·mean(γ·dout·x̂)/σ: σ² depends on x too.",
            lambda P, dev: _bwd(P, "no-variance-path"), output=0),
    Mistake("dx-no-mean-path", "dx is missing the mean's term −mean(γ·dout)/σ: μ depends on every x of the channel.",
            lambda P, dev: _bwd(P, "no-mean-path"), output=0),
    Mistake("dx-weight-ignored", "dx ignores weight (γ): the gradient reaching x̂ is γ·dout.",
            lambda P, dev: _bwd(P, "weight-ignored"), output=0),
    Mistake("dx-unbiased-var", "dx uses the unbiased variance (M − 1); the forward pass normalises with the biased one "
            "(divide by M).", lambda P, dev: _bwd(P, "unbiased-var"), output=0),
    Mistake("dx-eps-outside-sqrt", "eps is added outside the square root: σ = sqrt(var + eps).",
            lambda P, dev: _bwd(P, "eps-outside"), output=0),
    Mistake("dweight-raw-x", "dweight sums dout·x; it must sum dout·x̂ (the *normalised* input).",
            lambda P, dev: (P.dout * P.x).sum(axis=_AXES), output=1),
    Mistake("dbias-mean", "dbias averages dout; it is the *sum* of dout over N, H and W.",
            lambda P, dev: P.dout.mean(axis=_AXES), output=2),
)


def _bwd_normalize(params):
    from types import SimpleNamespace

    P = SimpleNamespace(**params)
    P.x, P.dout = np.asarray(P.x, dtype=np.float64), np.asarray(P.dout, dtype=np.float64)
    P.weight = None if P.weight is None else np.asarray(P.weight, dtype=np.float64)
    P.eps = float(P.eps)
    return P


def _bwd_case(label, rng, shape, affine=True, eps=1e-5, offset=0.0):
    x = rng.standard_normal(shape) * rng.uniform(0.5, 3.0) + offset
    w = rng.standard_normal(shape[1]) if affine else None
    return BATCH_NORM2D_BACKWARD.case(label, dout=rng.standard_normal(shape), x=x, weight=w, eps=eps)


def _bwd_worked():
    rng = np.random.default_rng(0)  # the problem set's visible example
    x, g, w = rng.standard_normal((2, 3, 2, 2)), rng.standard_normal((2, 3, 2, 2)), rng.standard_normal(3)
    return [BATCH_NORM2D_BACKWARD.case("worked example 'the notebook's (2, 3, 2, 2) batch'", dout=g, x=x, weight=w)]


def _bwd_features(rng):
    return [_bwd_case("feature case 'batch of one'", rng, (1, 2, 3, 4)),
            _bwd_case("feature case 'no weight'", rng, (3, 2, 2, 3), affine=False),
            _bwd_case("feature case 'eps 0.1'", rng, (2, 3, 2, 2), eps=0.1),
            _bwd_case("feature case 'mean far from 0'", rng, (2, 2, 3, 3), offset=20.0),
            _bwd_case("feature case '1x1 images, batch of 6'", rng, (6, 3, 1, 1))]


def _bwd_random(rng, label):
    N, C, H, W = (int(v) for v in rng.integers(1, (4, 5, 5, 5)))
    if N * H * W < 2:
        H += 1
    return _bwd_case(label, rng, (N, C, H, W), affine=bool(rng.random() < 0.7))


BATCH_NORM2D_BACKWARD = Exercise(
    name="batch_norm2d_backward",
    signature=(("dout", REQUIRED), ("x", REQUIRED), ("weight", None), ("eps", 1e-5)),
    kind="arrays",
    outputs=("dx", "dweight", "dbias"),
    reference=R.batch_norm2d_backward,
    worked=_bwd_worked,
    features=_bwd_features,
    random=_bwd_random,
    mistakes=_BWD_MISTAKES,
    normalize=_bwd_normalize,
    forbidden={"cnnlab.functional": ["batch_norm2d", "batch_norm2d_backward"]},
)

EXERCISES = [BATCH_NORM2D, BATCH_NORM2D_BACKWARD]
