"""Argument checking shared by `cnnlab.functional` and `cnnlab.reference`.

Every error names the argument, what it got and what it needs, so that a
student reading a traceback knows which call to fix.
"""
from __future__ import annotations

import numbers

import numpy as np

__all__ = ["as_array", "as_pair", "check_ndim", "pool_stride"]


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
