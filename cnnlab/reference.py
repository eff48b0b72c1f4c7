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

from cnnlab import _args
from cnnlab import _args_ops
from cnnlab._args import as_array
from cnnlab._lazy import LazyModule

# note: imported on first use, so numpy-only code (a grading kernel) that imports this module never loads torch
torch = LazyModule("torch")
F = LazyModule("torch.nn.functional")
torch_boxes = LazyModule("cnnlab.torch_boxes")

__all__ = [
    "corr2d", "pad2d", "conv1d", "conv2d", "conv2d_backward",
    "max_pool2d", "avg_pool2d", "max_pool2d_backward", "avg_pool2d_backward",
    "relu", "relu_backward", "softmax_cross_entropy", "numerical_gradient",
    "batch_norm2d", "batch_norm2d_backward", "conv_transpose2d", "box_iou", "nms",
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


# --- problem sets 2–5 (DESIGN §2b) -----------------------------------------------

def relu(x, *, device=None):
    """`F.relu`, elementwise; any shape."""
    x = as_array(x, "x")
    with numerics(), torch.no_grad():
        return _np(F.relu(_t(x, _device(device))))


def relu_backward(dout, x, *, device=None):
    """Gradient of `F.relu` w.r.t. x by autograd (0 at exactly x = 0)."""
    dout, x = _args_ops.same_shape_args(dout, x)
    dev = _device(device)
    with numerics():
        xt = _t(x, dev, True)
        F.relu(xt).backward(_t(dout, dev))
        return _np(xt.grad)


def softmax_cross_entropy(logits, y, *, device=None):
    """`F.cross_entropy` (mean) of (N, K) logits and (N,) labels → (loss, dlogits (N, K)) by autograd."""
    logits, y = _args_ops.cross_entropy_args(logits, y)
    dev = _device(device)
    with numerics():
        zt = _t(logits, dev, True)
        loss = F.cross_entropy(zt, torch.as_tensor(np.array(y, dtype=np.int64), device=dev))
        loss.backward()
        return float(loss.item()), _np(zt.grad)


def numerical_gradient(f, x, dout=None, h=1e-6, *, device=None):
    """Central differences of sum(f(x) * dout) w.r.t. x, summed in torch float64 on `device`.

    x is perturbed in place and restored (even if f raises); returns float64, shape of x.
    """
    f, x, dout, h = _args_ops.numerical_gradient_args(f, x, dout, h)
    dev = _device(device)
    dt = None if dout is None else _t(dout, dev)
    grad = np.zeros(x.shape)
    with numerics(), torch.no_grad():
        for idx in np.ndindex(x.shape):
            old, sums = x[idx], []
            try:
                for v in (old + h, old - h):
                    x[idx] = v
                    out = _t(f(x), dev)
                    if dt is not None and dt.shape != out.shape:
                        raise ValueError(f"dout must have the shape of f(x) {tuple(out.shape)}; "
                                         f"got shape {tuple(dt.shape)}")
                    sums.append((out if dt is None else out * dt).sum().item())
            finally:
                x[idx] = old
            grad[idx] = (sums[0] - sums[1]) / (2 * h)
    return grad


def batch_norm2d(x, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5,
                 *, device=None):
    """`F.batch_norm` of (N, C, H, W) → (y, new_running_mean, new_running_var); the inputs are not modified."""
    x, rm, rv, weight, bias, training, momentum, eps = _args_ops.batch_norm2d_args(
        x, running_mean, running_var, weight, bias, training, momentum, eps)
    dev = _device(device)
    opt = lambda a: None if a is None else _t(a, dev)  # noqa: E731
    with numerics(), torch.no_grad():
        rmt, rvt = opt(rm), opt(rv)  # fresh tensors: F.batch_norm updates them in place
        y = F.batch_norm(_t(x, dev), rmt, rvt, opt(weight), opt(bias), training, momentum, eps)
        return _np(y), *(None if t is None else _np(t) for t in (rmt, rvt))


def batch_norm2d_backward(dout, x, weight=None, eps=1e-5, *, device=None):
    """Training-mode `F.batch_norm` gradients by autograd → (dx, dweight, dbias), shapes x, (C,), (C,)."""
    dout, x, weight, eps = _args_ops.batch_norm2d_backward_args(dout, x, weight, eps)
    dev = _device(device)
    C = x.shape[1]
    with numerics():
        xt = _t(x, dev, True)
        wt = _t(np.ones(C) if weight is None else weight, dev, True)
        bt = torch.zeros(C, dtype=torch.float64, device=dev, requires_grad=True)
        F.batch_norm(xt, None, None, wt, bt, True, 0.1, eps).backward(_t(dout, dev))
        return _np(xt.grad), _np(wt.grad), _np(bt.grad)


def conv_transpose2d(x, w, b=None, stride=1, padding=0, output_padding=0, dilation=1, *, device=None):
    """`F.conv_transpose2d`: (N, C_in, H, W), (C_in, C_out, KH, KW), (C_out,) → (N, C_out, H_out, W_out)."""
    x, w, b, s, p, op, d, _ = _args_ops.conv_transpose2d_args(x, w, b, stride, padding, output_padding, dilation)
    dev = _device(device)
    with numerics(), torch.no_grad():
        bt = None if b is None else _t(b, dev)
        return _np(F.conv_transpose2d(_t(x, dev), _t(w, dev), bt, stride=s, padding=p,
                                      output_padding=op, dilation=d))


def box_iou(boxes1, boxes2, *, device=None):
    """Pairwise IoU of (N, 4) and (M, 4) corner boxes → (N, M), as `torchvision.ops.box_iou`."""
    b1, b2 = _args_ops.boxes_arg(boxes1, "boxes1"), _args_ops.boxes_arg(boxes2, "boxes2")
    dev = _device(device)
    with numerics(), torch.no_grad():
        return _np(torch_boxes.box_iou(_t(b1, dev), _t(b2, dev)))


def nms(boxes, scores, iou_threshold, *, device=None):
    """`torchvision.ops.nms` in torch ops: (K,) int64 kept indices by decreasing score (stable for ties)."""
    boxes, scores, thr = _args_ops.nms_args(boxes, scores, iou_threshold)
    dev = _device(device)
    with numerics(), torch.no_grad():
        return torch_boxes.nms(_t(boxes, dev), _t(scores, dev), thr).numpy().astype(np.int64)
