"""Activations and losses in numpy: relu, its backward pass, softmax cross-entropy, and the
central-difference gradient that checks every backward pass of the course.

All follow `torch.nn.functional` (`F.relu`, `F.cross_entropy` with mean reduction).
"""
from __future__ import annotations

import numpy as np

from cnnlab import _args_ops as _args
from cnnlab._args import as_array, float_dtype

__all__ = ["relu", "relu_backward", "softmax_cross_entropy", "numerical_gradient"]


def relu(x):
    """Rectified linear unit, elementwise: max(x, 0).

    Args:
        x: array of any shape, e.g. (N, C, H, W).

    Returns:
        A new array of the shape of x (float dtype); NaN stays NaN, as in torch.
    """
    x = as_array(x, "x")
    x = x.astype(float_dtype(x), copy=False)
    return np.maximum(x, 0)  # note: np.maximum propagates NaN, as torch does


def relu_backward(dout, x):
    """Gradient of `relu` with respect to its input.

    Args:
        dout: upstream gradient, shape of x.
        x: input of the forward pass.

    Returns:
        dx = dout where x > 0, else 0. note: the gradient at exactly x = 0 is 0, as torch's.
    """
    dout, x = _args.same_shape_args(dout, x)
    dt = float_dtype(dout, x)
    # note: written as "0 where x <= 0" (torch's threshold_backward), so a NaN input passes dout on
    return np.where(x <= 0, 0, dout).astype(dt, copy=False)


def softmax_cross_entropy(logits, y):
    """Mean cross-entropy of softmax(logits) against integer labels, and its gradient.

    Args:
        logits: (N, K) unnormalised class scores.
        y: (N,) integer labels in [0, K).

    Returns:
        (loss, dlogits): loss as `F.cross_entropy(logits, y)` (a numpy float of the
        logits' float dtype), dlogits (N, K) = (softmax(logits) − one_hot(y)) / N.
        Stable for logits of ±1000: the row maximum is subtracted before exp.
    """
    logits, y = _args.cross_entropy_args(logits, y)
    z = logits.astype(float_dtype(logits), copy=False)
    N = z.shape[0]
    shifted = z - z.max(axis=1, keepdims=True)  # (N, K), every row's max is 0 → exp never overflows
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))  # (N, K) log-softmax
    rows = np.arange(N)
    loss = -log_probs[rows, y].mean()
    dlogits = np.exp(log_probs)  # (N, K) softmax
    dlogits[rows, y] -= 1
    dlogits /= N  # the mean over the batch
    return loss, dlogits


def numerical_gradient(f, x, dout=None, h=1e-6):
    """Central-difference gradient of sum(f(x) * dout) with respect to x.

    Each entry of x in turn is set to x+h and x−h (in place, so a closure over x
    sees the change too) and restored afterwards, even if f raises.

    Args:
        f: callable x → array (or scalar).
        x: floating ndarray of any shape; float64 recommended (h is tiny).
        dout: upstream gradient, shape of f(x); None means ones (the gradient of sum(f(x))).
        h: step. Default: 1e-6.

    Returns:
        float64 array of the shape of x: (L(x+h) − L(x−h)) / 2h per entry,
        with L(x) = sum(f(x) * dout).
    """
    f, x, dout, h = _args.numerical_gradient_args(f, x, dout, h)
    grad = np.zeros(x.shape, dtype=np.float64)

    def loss():
        out = np.asarray(f(x), dtype=np.float64)
        if dout is None:
            return out.sum()
        if np.shape(dout) != out.shape:
            raise ValueError(f"dout must have the shape of f(x) {out.shape}; got shape {np.shape(dout)}")
        return (out * dout).sum()

    for idx in np.ndindex(x.shape):
        old = x[idx]
        try:
            x[idx] = old + h
            plus = loss()
            x[idx] = old - h
            minus = loss()
        finally:
            x[idx] = old  # restore exactly, even when f raised
        grad[idx] = (plus - minus) / (2 * h)
    return grad
