"""Batch normalisation of (N, C, H, W) feature maps in numpy, forward and backward.

Exactly `torch.nn.functional.batch_norm`: in training mode every channel is
normalised with its batch mean and *biased* variance (divide by n = N·H·W),
while the running variance is updated with the *unbiased* one (divide by
n − 1); momentum is torch's, new = (1 − momentum)·old + momentum·batch (Keras
weights the other way round). In eval mode the running statistics normalise
and are returned unchanged.
"""
from __future__ import annotations

import numpy as np

from cnnlab import _args_ops as _args
from cnnlab._args import float_dtype

__all__ = ["batch_norm2d", "batch_norm2d_backward"]

_AXES = (0, 2, 3)  # every axis but the channel's


def _per_channel(v, dt):
    """(C,) → (1, C, 1, 1), broadcast over N, H, W."""
    return v.astype(dt, copy=False).reshape(1, -1, 1, 1)  # (C,) → (1, C, 1, 1)


def batch_norm2d(x, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Batch normalisation over N, H, W for every channel.

    Args:
        x: (N, C, H, W) input.
        running_mean: (C,) running mean; None allowed only when training.
        running_var: (C,) running variance (>= 0); None allowed only when training.
        weight: optional (C,) scale gamma. Default: None (ones).
        bias: optional (C,) shift beta. Default: None (zeros).
        training: normalise with the batch statistics and update the running
            ones (True) or normalise with the running ones (False). Default: False.
        momentum: weight of the batch statistic in the update. Default: 0.1.
        eps: added to the variance before the square root. Default: 1e-5.

    Returns:
        (y, new_running_mean, new_running_var): y (N, C, H, W); the statistics
        are new (C,) arrays (None when given None). The inputs are not modified.
    """
    x, rm, rv, weight, bias, training, momentum, eps = _args.batch_norm2d_args(
        x, running_mean, running_var, weight, bias, training, momentum, eps)
    dt = float_dtype(*[a for a in (x, rm, rv, weight, bias) if a is not None])
    N, C, H, W = x.shape
    x3 = x.astype(dt, copy=False).reshape(N, C, H * W)  # (N, C, H*W): a channel's values lie along axes 0 and 2
    if training:
        n = N * H * W
        mean = x3.sum(axis=2).sum(axis=0) / n  # (C,)
        y = x3 - mean[:, None]  # (N, C, H*W) centred; scaled in place below
        var = np.einsum("ncp,ncp->c", y, y) / n  # (C,) biased: divides by n
        if rm is not None:
            # note: the running variance tracks the unbiased estimate, n / (n - 1) times the biased one
            rm = (1 - momentum) * rm.astype(dt) + momentum * mean
            rv = (1 - momentum) * rv.astype(dt) + momentum * var * (n / (n - 1))
    else:
        mean, var = rm.astype(dt), rv.astype(dt)
        rm, rv = mean, var  # returned unchanged, as new arrays: the caller's stay untouched
        y = x3 - mean[:, None]  # (N, C, H*W)
    # y = (x - mean) / sqrt(var + eps) * weight + bias, as one scale and one shift per channel
    scale = 1 / np.sqrt(var + eps)  # (C,)
    if weight is not None:
        scale = scale * weight.astype(dt, copy=False)
    y *= scale.astype(dt, copy=False)[:, None]  # (C, 1) broadcast over N, H*W
    if bias is not None:
        y += bias.astype(dt, copy=False)[:, None]
    return y.reshape(N, C, H, W), rm, rv


def batch_norm2d_backward(dout, x, weight=None, eps=1e-5):
    """Gradients of training-mode `batch_norm2d` with respect to x, weight and bias.

    Args:
        dout: (N, C, H, W) upstream gradient.
        x: (N, C, H, W) input of the forward pass.
        weight: optional (C,) scale gamma of the forward pass. Default: None (ones).
        eps: as in the forward pass. Default: 1e-5.

    Returns:
        (dx, dweight, dbias) of shapes (N, C, H, W), (C,), (C,). The batch
        statistics depend on x, so dx has two correction terms:
        dx = (dxhat − mean(dxhat) − xhat · mean(dxhat · xhat)) / sqrt(var + eps),
        with dxhat = dout · weight and means over N, H, W.
    """
    dout, x, weight, eps = _args.batch_norm2d_backward_args(dout, x, weight, eps)
    dt = float_dtype(dout, x) if weight is None else float_dtype(dout, x, weight)
    x, dout = x.astype(dt, copy=False), dout.astype(dt, copy=False)
    mean = x.mean(axis=_AXES, keepdims=True)  # (1, C, 1, 1)
    inv_std = 1 / np.sqrt(x.var(axis=_AXES, keepdims=True) + eps)  # (1, C, 1, 1), biased variance
    xhat = (x - mean) * inv_std  # (N, C, H, W)
    dbias = dout.sum(axis=_AXES)  # (C,)
    dweight = (dout * xhat).sum(axis=_AXES)  # (C,)
    dxhat = dout if weight is None else dout * _per_channel(weight, dt)
    dx = inv_std * (dxhat - dxhat.mean(axis=_AXES, keepdims=True)
                    - xhat * (dxhat * xhat).mean(axis=_AXES, keepdims=True))  # (N, C, H, W)
    return dx, dweight, dbias
