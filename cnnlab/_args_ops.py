"""Parse and check the arguments of the operators of problem sets 2–5 (DESIGN §2b).

`cnnlab.functional` and `cnnlab.reference` call the same parser, so a bad
argument raises the same clear error whichever implementation is used. Like
`cnnlab._args`, each parser returns the arrays unchanged (never copied or
mutated) plus the hyper-parameters as plain ints/floats and the output size.
Only the public helpers of `cnnlab._args` are used.
"""
from __future__ import annotations

import numbers

import numpy as np

from cnnlab._args import as_array, as_pair, check_ndim

__all__ = ["same_shape_args", "cross_entropy_args", "numerical_gradient_args", "batch_norm2d_args",
           "batch_norm2d_backward_args", "conv_transpose2d_args", "conv_transpose_output_size",
           "boxes_arg", "nms_args"]


def _real(value, name, low=None, high=None):
    """A real number (not bool) within [low, high], as float."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise TypeError(f"{name} must be a real number; got {type(value).__name__} {value!r}")
    v = float(value)
    if np.isnan(v) or (low is not None and v < low) or (high is not None and v > high):
        rng = (f"in [{low}, {high}]" if high is not None else f">= {low}" if low is not None else "a number, not NaN")
        raise ValueError(f"{name} must be {rng}; got {value!r}")
    return v


def _nonempty(arr, name, layout):
    if arr.size == 0:
        raise ValueError(f"{name} must be non-empty {layout}; got shape {arr.shape}")


# --- relu ------------------------------------------------------------------------

def same_shape_args(dout, x):
    """dout and x of one shape (an elementwise backward pass) → dout, x."""
    dout, x = as_array(dout, "dout"), as_array(x, "x")
    if dout.shape != x.shape:
        raise ValueError(f"dout must have the shape of x {x.shape}; got shape {dout.shape}")
    return dout, x


# --- softmax cross-entropy -------------------------------------------------------

def cross_entropy_args(logits, y):
    """(N, K) logits, (N,) integer labels in [0, K) → logits, y."""
    logits = as_array(logits, "logits")
    check_ndim(logits, "logits", 2, "(N, K)")
    _nonempty(logits, "logits", "(N, K)")
    y = as_array(y, "y")
    if y.dtype.kind not in "iu":
        raise TypeError(f"y must hold integer class labels (N,); got dtype {y.dtype}"
                        + (" (use y.astype(np.int64))" if y.dtype.kind == "f" else ""))
    N, K = logits.shape
    if y.shape != (N,):
        raise ValueError(f"y must have shape (N,) = ({N},), one label per row of logits {logits.shape}; "
                         f"got shape {y.shape}")
    bad = np.flatnonzero((y < 0) | (y >= K))
    if bad.size:
        raise ValueError(f"y must hold labels in [0, K) = [0, {K}); got y[{bad[0]}] = {y[bad[0]]}")
    return logits, y


# --- numerical gradient ----------------------------------------------------------

def numerical_gradient_args(f, x, dout, h):
    """Callable f, a float ndarray x (perturbed in place, then restored), dout or None, h > 0."""
    if not callable(f):
        raise TypeError(f"f must be callable (x → array); got {type(f).__name__}")
    if not isinstance(x, np.ndarray):
        raise TypeError(f"x must be a numpy.ndarray (it is perturbed in place and restored); got {type(x).__name__}")
    if x.dtype.kind != "f":
        raise TypeError(f"x must be a floating array (it is nudged by h); got dtype {x.dtype} "
                        "(use x.astype(np.float64))")
    if not x.flags.writeable:
        raise ValueError("x must be writeable: it is perturbed in place and restored")
    h = _real(h, "h", 0.0)
    if h == 0:
        raise ValueError("h must be > 0; got 0")
    if dout is not None:
        dout = as_array(dout, "dout")
    return f, x, dout, h


# --- batch norm ------------------------------------------------------------------

def _channel_vec(v, name, C, allow_none=True):
    if v is None:
        if allow_none:
            return None
        raise TypeError(f"{name} must be a (C,) = ({C},) array; got None")
    v = as_array(v, name)
    if v.shape != (C,):
        raise ValueError(f"{name} must have shape (C,) = ({C},), one entry per channel of x; got shape {v.shape}")
    return v


def _bn_x(x):
    x = as_array(x, "x")
    check_ndim(x, "x", 4, "(N, C, H, W)")
    _nonempty(x, "x", "(N, C, H, W)")
    return x


def batch_norm2d_args(x, running_mean, running_var, weight, bias, training, momentum, eps):
    """(N, C, H, W) x, (C,) statistics and affine parameters → checked arguments."""
    x = _bn_x(x)
    C = x.shape[1]
    if not isinstance(training, (bool, np.bool_)):
        raise TypeError(f"training must be True or False; got {type(training).__name__} {training!r}")
    # note: as torch, running statistics may be None in training mode (then they are not tracked)
    rm = _channel_vec(running_mean, "running_mean", C, allow_none=bool(training))
    rv = _channel_vec(running_var, "running_var", C, allow_none=bool(training))
    if (rm is None) != (rv is None):
        raise ValueError("running_mean and running_var must both be arrays or both be None")
    if rv is not None and np.any(rv < 0):
        i = int(np.flatnonzero(rv < 0)[0])
        raise ValueError(f"running_var must be >= 0 (a variance); got running_var[{i}] = {rv[i]}")
    weight = _channel_vec(weight, "weight", C)
    bias = _channel_vec(bias, "bias", C)
    momentum = _real(momentum, "momentum", 0.0, 1.0)
    eps = _real(eps, "eps", 0.0)
    if training and eps == 0:
        raise ValueError("eps must be > 0 in training mode (as torch: a constant channel has variance 0); got 0")
    if training and x.shape[0] * x.shape[2] * x.shape[3] < 2:
        raise ValueError(f"training mode needs more than one value per channel (N*H*W > 1, as torch); "
                         f"got x of shape {x.shape}")
    return x, rm, rv, weight, bias, bool(training), momentum, eps


def batch_norm2d_backward_args(dout, x, weight, eps):
    """dout and x of shape (N, C, H, W), optional (C,) weight, eps >= 0."""
    x = _bn_x(x)
    dout = as_array(dout, "dout")
    if dout.shape != x.shape:
        raise ValueError(f"dout must have the shape of x (N, C, H, W) = {x.shape}; got shape {dout.shape}")
    if x.shape[0] * x.shape[2] * x.shape[3] < 2:
        raise ValueError(f"training mode needs more than one value per channel (N*H*W > 1); got x of shape {x.shape}")
    eps = _real(eps, "eps", 0.0)
    if eps == 0:
        raise ValueError("eps must be > 0 (as torch in training mode: a constant channel has variance 0); got 0")
    return dout, x, _channel_vec(weight, "weight", x.shape[1]), eps


# --- transposed convolution ------------------------------------------------------

def conv_transpose_output_size(n, kernel_size, stride=1, padding=0, output_padding=0, dilation=1):
    """(n − 1)·s − 2p + d·(k − 1) + output_padding + 1, the output length of a transposed conv."""
    return (n - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding + 1


def conv_transpose2d_args(x, w, b=None, stride=1, padding=0, output_padding=0, dilation=1):
    """(N, C_in, H, W), (C_in, C_out, KH, KW), (C_out,) → x, w, b, s, p, op, d, (H_out, W_out)."""
    x, w = as_array(x, "x"), as_array(w, "w")
    check_ndim(x, "x", 4, "(N, C_in, H, W)")
    check_ndim(w, "w", 4, "(C_in, C_out, KH, KW)")
    if x.shape[1] != w.shape[0]:
        raise ValueError(
            f"x has C_in={x.shape[1]} channels (shape {x.shape}, (N, C_in, H, W)) but w has "
            f"w.shape[0]={w.shape[0]} (shape {w.shape}): a transposed conv's w is (C_in, C_out, KH, KW), "
            "input channels first (the axes of conv2d's w swapped)")
    if min(x.shape) < 1 or min(w.shape) < 1:
        raise ValueError(f"x and w must be non-empty; got x {x.shape}, w {w.shape}")
    if b is not None:
        b = as_array(b, "b")
        if b.shape != (w.shape[1],):
            raise ValueError(f"b must have shape (C_out,) = ({w.shape[1]},) = (w.shape[1],); got shape {b.shape}")
    s, p = as_pair(stride, "stride", 1), as_pair(padding, "padding", 0)
    op, d = as_pair(output_padding, "output_padding", 0), as_pair(dilation, "dilation", 1)
    for a in range(2):
        if op[a] >= s[a] and op[a] >= d[a]:
            raise ValueError(f"output_padding must be smaller than either stride or dilation (as torch); "
                             f"got output_padding={output_padding!r}, stride={stride!r}, dilation={dilation!r}")
    out = tuple(conv_transpose_output_size(x.shape[2 + a], w.shape[2 + a], s[a], p[a], op[a], d[a]) for a in range(2))
    if min(out) < 1:
        raise ValueError(f"padding={padding!r} crops away the whole output: x {x.shape}, w {w.shape}, "
                         f"stride={stride!r}, dilation={dilation!r} give (H_out, W_out) = {out}")
    return x, w, b, s, p, op, d, out


# --- boxes -----------------------------------------------------------------------

def boxes_arg(boxes, name):
    """(N, 4) corners x1, y1, x2, y2 with x1 <= x2 and y1 <= y2 → boxes."""
    boxes = as_array(boxes, name)
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(f"{name} must have shape (N, 4), corners (x1, y1, x2, y2) per row; got shape {boxes.shape}")
    bad = np.flatnonzero((boxes[:, 2] < boxes[:, 0]) | (boxes[:, 3] < boxes[:, 1]))
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"{name} must have x1 <= x2 and y1 <= y2 in every row (x1, y1, x2, y2); "
                         f"got {name}[{i}] = {boxes[i].tolist()}")
    return boxes


def nms_args(boxes, scores, iou_threshold):
    """(N, 4) boxes, (N,) scores, a real threshold → boxes, scores, threshold."""
    boxes = boxes_arg(boxes, "boxes")
    scores = as_array(scores, "scores")
    if scores.shape != (boxes.shape[0],):
        raise ValueError(f"scores must have shape (N,) = ({boxes.shape[0]},), one per box; got shape {scores.shape}")
    return boxes, scores, _real(iou_threshold, "iou_threshold")
