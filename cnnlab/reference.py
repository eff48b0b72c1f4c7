"""The oracle: torch-backed versions of every `cnnlab.functional` operator.

Same names, same signatures (plus keyword `device`), same argument checks.
Inputs are numpy arrays; results are float64 numpy arrays. Each call runs in
float64 with TF32 off and deterministic algorithms on, restoring the
caller's settings afterwards, so a reference value is the same on CPU and GPU
to float64 rounding. Backward passes use autograd.
"""
from __future__ import annotations

import contextlib

import numpy as np
import torch
import torch.nn.functional as F

from cnnlab import _args

__all__ = [
    "corr2d", "pad2d", "conv1d", "conv2d", "conv2d_backward",
    "max_pool2d", "avg_pool2d", "max_pool2d_backward", "avg_pool2d_backward",
    "numerics",
]


def _device(device):
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


@contextlib.contextmanager
def numerics():
    """Float64-faithful torch settings for the duration of a block.

    TF32 off (cuDNN/cuBLAS would otherwise round to ~1e-3), deterministic
    algorithms on; the caller's settings are restored on exit.
    """
    saved = (
        torch.backends.cuda.matmul.allow_tf32,
        torch.backends.cudnn.allow_tf32,
        torch.backends.cudnn.deterministic,
        torch.backends.cudnn.benchmark,
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
    )
    try:
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
        torch.use_deterministic_algorithms(True, warn_only=True)
        yield
    finally:
        (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32,
         torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark) = saved[:4]
        torch.use_deterministic_algorithms(saved[4], warn_only=saved[5])


def _t(a, dev, grad=False):
    # note: np.array copies, so the caller's array is never touched.
    return torch.tensor(np.array(a, dtype=np.float64), dtype=torch.float64, device=dev, requires_grad=grad)


def _np(t):
    return t.detach().cpu().numpy().astype(np.float64, copy=False)


def corr2d(x, k, *, device=None):
    """2-D cross-correlation of one image with one kernel, valid padding.

    Args:
        x: (H, W) image.
        k: (KH, KW) kernel.

    Returns:
        (H - KH + 1, W - KW + 1).
    """
    x, k, _ = _args.corr2d_args(x, k)
    dev = _device(device)
    with numerics(), torch.no_grad():
        return _np(F.conv2d(_t(x, dev)[None, None], _t(k, dev)[None, None])[0, 0])  # (1,1,H,W) → (H_out, W_out)


def pad2d(x, padding, *, device=None):
    """Zero-pad the last two axes: (..., H, W) → (..., H + 2pH, W + 2pW)."""
    x, (ph, pw) = _args.pad2d_args(x, padding)
    dev = _device(device)
    with numerics(), torch.no_grad():
        return _np(F.pad(_t(x, dev), (pw, pw, ph, ph)))


def conv1d(x, w, b=None, stride=1, padding=0, dilation=1, *, device=None):
    """1-D cross-correlation: (N, C_in, L), (C_out, C_in, K), (C_out,) → (N, C_out, L_out)."""
    x, w, b, s, p, d, _ = _args.conv1d_args(x, w, b, stride, padding, dilation)
    dev = _device(device)
    with numerics(), torch.no_grad():
        bt = None if b is None else _t(b, dev)
        return _np(F.conv1d(_t(x, dev), _t(w, dev), bt, stride=s, padding=p, dilation=d))


def conv2d(x, w, b=None, stride=1, padding=0, dilation=1, *, device=None):
    """2-D cross-correlation of a batch with a bank of filters.

    Args:
        x: (N, C_in, H, W) input.
        w: (C_out, C_in, KH, KW) filters.
        b: optional (C_out,) bias. Default: None.
        stride: int or (sH, sW). Default: 1.
        padding: int or (pH, pW) zeros added on each side. Default: 0.
        dilation: int or (dH, dW); 1 is a contiguous kernel. Default: 1.

    Returns:
        (N, C_out, H_out, W_out); see `cnnlab.shapes.conv_output_size`.
    """
    x, w, b, s, p, d, _ = _args.conv2d_args(x, w, b, stride, padding, dilation)
    dev = _device(device)
    with numerics(), torch.no_grad():
        bt = None if b is None else _t(b, dev)
        return _np(F.conv2d(_t(x, dev), _t(w, dev), bt, stride=s, padding=p, dilation=d))


def conv2d_backward(dout, x, w, stride=1, padding=0, dilation=1, *, device=None):
    """Gradients of `conv2d` with respect to x, w and b, by autograd.

    Args:
        dout: (N, C_out, H_out, W_out) upstream gradient.
        x: (N, C_in, H, W) input of the forward pass.
        w: (C_out, C_in, KH, KW) filters of the forward pass.

    Returns:
        (dx, dw, db) of shapes (N, C_in, H, W), (C_out, C_in, KH, KW), (C_out,).
    """
    dout, x, w, s, p, d, _ = _args.conv2d_backward_args(dout, x, w, stride, padding, dilation)
    dev = _device(device)
    with numerics():
        xt, wt = _t(x, dev, True), _t(w, dev, True)
        bt = torch.zeros(w.shape[0], dtype=torch.float64, device=dev, requires_grad=True)
        F.conv2d(xt, wt, bt, stride=s, padding=p, dilation=d).backward(_t(dout, dev))
        return _np(xt.grad), _np(wt.grad), _np(bt.grad)


def max_pool2d(x, kernel_size, stride=None, padding=0, *, device=None):
    """Max pooling: (N, C, H, W) → (N, C, H_out, W_out); padding counts as -inf."""
    x, k, s, p, _ = _args.pool2d_args(x, kernel_size, stride, padding)
    dev = _device(device)
    with numerics(), torch.no_grad():
        return _np(F.max_pool2d(_t(x, dev), k, s, p))


def avg_pool2d(x, kernel_size, stride=None, padding=0, *, device=None):
    """Average pooling: (N, C, H, W) → (N, C, H_out, W_out); padding zeros are counted."""
    x, k, s, p, _ = _args.pool2d_args(x, kernel_size, stride, padding)
    dev = _device(device)
    with numerics(), torch.no_grad():
        return _np(F.avg_pool2d(_t(x, dev), k, s, p))


def _pool_backward(op, dout, x, kernel_size, stride, padding, device):
    dout, x, k, s, p, _ = _args.pool2d_backward_args(dout, x, kernel_size, stride, padding)
    dev = _device(device)
    with numerics():
        xt = _t(x, dev, True)
        op(xt, k, s, p).backward(_t(dout, dev))
        return _np(xt.grad)


def max_pool2d_backward(dout, x, kernel_size, stride=None, padding=0, *, device=None):
    """Gradient of `max_pool2d` w.r.t. x: (N, C, H_out, W_out) → (N, C, H, W).

    note: with ties, torch routes the gradient to the first maximum of each
    window (row-major order).
    """
    return _pool_backward(F.max_pool2d, dout, x, kernel_size, stride, padding, device)


def avg_pool2d_backward(dout, x, kernel_size, stride=None, padding=0, *, device=None):
    """Gradient of `avg_pool2d` w.r.t. x: (N, C, H_out, W_out) → (N, C, H, W)."""
    return _pool_backward(F.avg_pool2d, dout, x, kernel_size, stride, padding, device)
