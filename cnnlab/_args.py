"""The argument layer: parse and check the arguments of every operator, in one place.

`cnnlab.functional`, `cnnlab.reference`, `cnnlab.shapes`, `cnnlab.grading`
and `cnnlab.viz` all call it, so a bad argument raises the same clear error
whichever is used. Every error names the argument, what it got and what it
needs, so that a student reading a traceback knows which call to fix.

Primitives: `as_pair` (int or (h, w) → pair), `as_int`, `as_array`,
`check_ndim`, `pool_stride` (``stride=None`` means ``kernel_size``, the one
place that rule lives), `float_dtype`. Per-operator parsers (`conv2d_args`,
`pool2d_args`, ...) return the arrays unchanged (never copied or mutated)
plus the hyper-parameters as ``(h, w)`` int pairs and the output size.
"""
from __future__ import annotations

import numbers

import numpy as np

__all__ = ["as_array", "as_int", "as_pair", "check_ndim", "pool_stride", "float_dtype",
           "corr2d_args", "pad2d_args", "conv1d_args", "conv2d_args", "conv2d_backward_args",
           "pool2d_args", "pool2d_backward_args"]


def _is_int(v) -> bool:
    # note: bool is an Integral, but `stride=True` is always a mistake.
    return isinstance(v, (numbers.Integral, np.integer)) and not isinstance(v, (bool, np.bool_))


def as_pair(value, name: str, minimum: int = 0) -> tuple[int, int]:
    """Return `value` as an `(h, w)` pair of ints, each >= `minimum`.

    Args:
        value: an int or a length-2 tuple/list of ints.
        name: the argument's name, used in error messages.
        minimum: smallest allowed entry (1 for stride/kernel/dilation, 0 for padding).

    Raises:
        TypeError: not an int or a pair of ints.
        ValueError: wrong length or an entry below `minimum`.
    """
    if _is_int(value):
        pair = (int(value), int(value))
    elif isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair (h, w); got {value!r} of length {len(value)}")
        if not all(_is_int(v) for v in value):
            raise TypeError(f"{name} must contain ints; got {value!r}")
        pair = (int(value[0]), int(value[1]))
    else:
        raise TypeError(f"{name} must be an int or a pair (h, w) of ints; got {type(value).__name__} {value!r}")
    if min(pair) < minimum:
        raise ValueError(f"{name} must be >= {minimum}; got {value!r}")
    return pair


def as_int(value, name: str, minimum: int = 0) -> int:
    """Return `value` as an int >= `minimum` (1-D hyper-parameters)."""
    if isinstance(value, (tuple, list)) and len(value) == 1:
        value = value[0]
    if not _is_int(value):
        raise TypeError(f"{name} must be an int; got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}; got {value!r}")
    return int(value)


def as_array(x, name: str) -> np.ndarray:
    """Return `x` as a real-valued ndarray (no copy when it already is one)."""
    if isinstance(x, np.ndarray):
        arr = x
    else:
        if hasattr(x, "detach") and hasattr(x, "numpy"):
            raise TypeError(f"{name} must be a numpy.ndarray; got a torch tensor (use .numpy())")
        try:
            arr = np.asarray(x)
        except Exception as exc:  # ragged lists and the like
            raise TypeError(f"{name} must be a numpy.ndarray; got {type(x).__name__}: {exc}") from None
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers; got dtype {arr.dtype}")
    return arr


def check_ndim(arr: np.ndarray, name: str, ndim: int, layout: str) -> None:
    """Raise ValueError unless `arr.ndim == ndim`; `layout` is e.g. '(N, C_in, H, W)'."""
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D {layout}; got shape {arr.shape}")


def pool_stride(stride, kernel_size) -> tuple[int, int]:
    """Pooling's stride: `None` means `kernel_size` (torch's default)."""
    if stride is None:
        return as_pair(kernel_size, "kernel_size", 1)
    return as_pair(stride, "stride", 1)


def float_dtype(*arrays: np.ndarray) -> np.dtype:
    """The floating dtype numpy promotes `arrays` to (ints become float64)."""
    dt = np.result_type(*arrays)
    return dt if dt.kind == "f" else np.dtype(np.float64)


# ------------------------------------------------------------ per operator
def _out_hw(H, W, k, s, p, d, what="kernel"):
    from cnnlab.shapes import conv_output_size  # note: late, shapes parses its own arguments here

    try:
        return (conv_output_size(H, k[0], s[0], p[0], d[0]), conv_output_size(W, k[1], s[1], p[1], d[1]))
    except ValueError:
        raise ValueError(
            f"{what} of size {k} (dilation {d}) does not fit in the input of size ({H}, {W}) "
            f"with padding {p}: the padded input is ({H + 2 * p[0]}, {W + 2 * p[1]}) and the "
            f"dilated {what} spans ({d[0] * (k[0] - 1) + 1}, {d[1] * (k[1] - 1) + 1})"
        ) from None


def corr2d_args(x, k):
    """(H, W), (KH, KW) → x, k, (H_out, W_out)."""
    x, k = as_array(x, "x"), as_array(k, "k")
    check_ndim(x, "x", 2, "(H, W)")
    check_ndim(k, "k", 2, "(KH, KW)")
    if min(x.shape) < 1 or min(k.shape) < 1:
        raise ValueError(f"x and k must be non-empty; got x {x.shape}, k {k.shape}")
    return x, k, _out_hw(*x.shape, k.shape, (1, 1), (0, 0), (1, 1))


def pad2d_args(x, padding):
    """(..., H, W) → x, (pH, pW)."""
    x = as_array(x, "x")
    if x.ndim < 2:
        raise ValueError(f"x must have at least 2 dimensions (..., H, W); got shape {x.shape}")
    return x, as_pair(padding, "padding", 0)


def _bias(b, c_out):
    if b is None:
        return None
    b = as_array(b, "b")
    if b.shape != (c_out,):
        raise ValueError(f"b must have shape (C_out,) = ({c_out},); got shape {b.shape}")
    return b


def _channels(x, w, x_layout):
    if x.shape[1] != w.shape[1]:
        raise ValueError(
            f"x has C_in={x.shape[1]} channels (shape {x.shape}, {x_layout}) but w expects "
            f"C_in={w.shape[1]} (shape {w.shape}): w.shape[1] must equal x.shape[1]"
        )
    if min(x.shape) < 1 or min(w.shape) < 1:
        raise ValueError(f"x and w must be non-empty; got x {x.shape}, w {w.shape}")


def conv1d_args(x, w, b=None, stride=1, padding=0, dilation=1):
    """(N, C_in, L), (C_out, C_in, K), (C_out,) → x, w, b, s, p, d, L_out."""
    x, w = as_array(x, "x"), as_array(w, "w")
    check_ndim(x, "x", 3, "(N, C_in, L)")
    check_ndim(w, "w", 3, "(C_out, C_in, K)")
    _channels(x, w, "(N, C_in, L)")
    b = _bias(b, w.shape[0])
    s, p, d = as_int(stride, "stride", 1), as_int(padding, "padding", 0), as_int(dilation, "dilation", 1)
    (_, L_out) = _out_hw(1, x.shape[2], (1, w.shape[2]), (1, s), (0, p), (1, d))
    return x, w, b, s, p, d, L_out


def conv2d_args(x, w, b=None, stride=1, padding=0, dilation=1):
    """(N, C_in, H, W), (C_out, C_in, KH, KW), (C_out,) → x, w, b, s, p, d, (H_out, W_out)."""
    x, w = as_array(x, "x"), as_array(w, "w")
    check_ndim(x, "x", 4, "(N, C_in, H, W)")
    check_ndim(w, "w", 4, "(C_out, C_in, KH, KW)")
    _channels(x, w, "(N, C_in, H, W)")
    b = _bias(b, w.shape[0])
    s, p, d = as_pair(stride, "stride", 1), as_pair(padding, "padding", 0), as_pair(dilation, "dilation", 1)
    return x, w, b, s, p, d, _out_hw(x.shape[2], x.shape[3], w.shape[2:], s, p, d)


def conv2d_backward_args(dout, x, w, stride=1, padding=0, dilation=1):
    """Like `conv2d_args`, plus dout of shape (N, C_out, H_out, W_out)."""
    x, w, _, s, p, d, out_hw = conv2d_args(x, w, None, stride, padding, dilation)
    dout = as_array(dout, "dout")
    want = (x.shape[0], w.shape[0], *out_hw)
    if dout.shape != want:
        raise ValueError(f"dout must have the output's shape (N, C_out, H_out, W_out) = {want}; got shape {dout.shape}")
    return dout, x, w, s, p, d, out_hw


def pool2d_args(x, kernel_size, stride=None, padding=0):
    """(N, C, H, W) → x, k, s, p, (H_out, W_out); `stride=None` means `kernel_size`."""
    x = as_array(x, "x")
    check_ndim(x, "x", 4, "(N, C, H, W)")
    if min(x.shape) < 1:
        raise ValueError(f"x must be non-empty; got shape {x.shape}")
    k = as_pair(kernel_size, "kernel_size", 1)
    s = pool_stride(stride, kernel_size)
    p = as_pair(padding, "padding", 0)
    if 2 * p[0] > k[0] or 2 * p[1] > k[1]:
        raise ValueError(f"padding should be at most half of kernel_size (as in torch); got padding={padding!r}, kernel_size={kernel_size!r}")
    return x, k, s, p, _out_hw(x.shape[2], x.shape[3], k, s, p, (1, 1), "pooling window")


def pool2d_backward_args(dout, x, kernel_size, stride=None, padding=0):
    """Like `pool2d_args`, plus dout of shape (N, C, H_out, W_out)."""
    x, k, s, p, out_hw = pool2d_args(x, kernel_size, stride, padding)
    dout = as_array(dout, "dout")
    want = (*x.shape[:2], *out_hw)
    if dout.shape != want:
        raise ValueError(f"dout must have the output's shape (N, C, H_out, W_out) = {want}; got shape {dout.shape}")
    return dout, x, k, s, p, out_hw
