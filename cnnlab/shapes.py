"""Shape arithmetic: output sizes, parameter counts and receptive fields.

The output-size formula lives here and only here; everything else calls it.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

from cnnlab._args import as_int, as_pair

__all__ = [
    "conv_output_size",
    "output_size_unchecked",
    "pool_output_size",
    "conv2d_output_shape",
    "conv2d_params",
    "linear_params",
    "receptive_field",
]


def conv_output_size(n, kernel_size, stride=1, padding=0, dilation=1) -> int:
    """Length of a convolution's output along one axis.

    ``⌊(n + 2p − d(k − 1) − 1) / s⌋ + 1``, the formula of `torch.nn.Conv2d`.

    Args:
        n: input length (H or W).
        kernel_size: k, the kernel length (KH or KW).
        stride: s >= 1. Default: 1.
        padding: p >= 0, zeros added on *each* side. Default: 0.
        dilation: d >= 1; 1 is a contiguous kernel. Default: 1.

    Returns:
        The output length (H_out or W_out), at least 1.

    Raises:
        ValueError: the (dilated) kernel is larger than the padded input.
    """
    n = as_int(n, "n", 1)
    k = as_int(kernel_size, "kernel_size", 1)
    s = as_int(stride, "stride", 1)
    p = as_int(padding, "padding", 0)
    d = as_int(dilation, "dilation", 1)
    span = d * (k - 1) + 1  # the dilated kernel's extent
    out = output_size_unchecked(n, k, s, p, d)
    if n + 2 * p < span or out < 1:
        raise ValueError(
            f"kernel of extent {span} (kernel_size={k}, dilation={d}) is larger than "
            f"the padded input of length {n + 2 * p} (n={n}, padding={p}); "
            f"the output would be empty"
        )
    return out


def output_size_unchecked(n: int, k: int, s: int = 1, p: int = 0, d: int = 1) -> int:
    """The formula ``⌊(n + 2p − d(k − 1) − 1) / s⌋ + 1`` on plain ints, without any check.

    May be < 1 where the kernel does not fit (`conv_output_size` raises there);
    the grader uses it to tell a student's unchecked result from a wrong formula.
    """
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


def pool_output_size(n, kernel_size, stride=None, padding=0, dilation=1) -> int:
    """Length of a pooling output along one axis (`stride=None` means `kernel_size`).

    Same formula as `conv_output_size`, torch's `ceil_mode=False`. Like torch,
    padding may be at most half the kernel size.
    """
    k = as_int(kernel_size, "kernel_size", 1)
    s = k if stride is None else as_int(stride, "stride", 1)
    p = as_int(padding, "padding", 0)
    if 2 * p > k:
        raise ValueError(f"padding should be at most half of kernel_size; got padding={p}, kernel_size={k}")
    return conv_output_size(n, k, s, p, dilation)


def conv2d_output_shape(hw: Sequence[int], kernel_size, stride=1, padding=0, dilation=1) -> tuple[int, int]:
    """(H_out, W_out) of a 2-D convolution; hyper-parameters are ints or (h, w) pairs."""
    if len(hw) != 2:
        raise ValueError(f"hw must be (H, W); got {tuple(hw)!r}")
    k, s, p, d = (as_pair(kernel_size, "kernel_size", 1), as_pair(stride, "stride", 1),
                  as_pair(padding, "padding", 0), as_pair(dilation, "dilation", 1))
    return tuple(conv_output_size(hw[i], k[i], s[i], p[i], d[i]) for i in range(2))


def conv2d_params(c_in, c_out, kernel_size, bias=True) -> int:
    """Learnable parameters of `nn.Conv2d(c_in, c_out, kernel_size, bias=bias)`.

    ``c_out · (c_in · KH · KW + bias)``: each of the C_out filters spans all
    C_in input channels and has one bias.
    """
    c_in = as_int(c_in, "c_in", 1)
    c_out = as_int(c_out, "c_out", 1)
    kh, kw = as_pair(kernel_size, "kernel_size", 1)
    return c_out * (c_in * kh * kw + (1 if bias else 0))


def linear_params(n_in, n_out, bias=True) -> int:
    """Learnable parameters of `nn.Linear(n_in, n_out, bias=bias)`: ``n_out · (n_in + bias)``."""
    return as_int(n_out, "n_out", 1) * (as_int(n_in, "n_in", 1) + (1 if bias else 0))


def receptive_field(layers: Iterable) -> int:
    """Receptive field (in input pixels, along one axis) of a stack of layers.

    Args:
        layers: each an int kernel size, or a tuple ``(kernel, stride)`` or
            ``(kernel, stride, dilation)``, in forward order.

    Returns:
        r_L, from ``r_l = r_{l-1} + d_l (k_l − 1) · j_{l-1}`` with the jump
        ``j_l = j_{l-1} · s_l`` and ``r_0 = j_0 = 1``.
    """
    r, jump = 1, 1
    for i, layer in enumerate(layers):
        spec = tuple(layer) if isinstance(layer, (tuple, list)) else (layer,)
        if not 1 <= len(spec) <= 3:
            raise ValueError(f"layers[{i}] must be k, (k, s) or (k, s, d); got {layer!r}")
        k = as_int(spec[0], f"layers[{i}] kernel", 1)
        s = as_int(spec[1], f"layers[{i}] stride", 1) if len(spec) > 1 else 1
        d = as_int(spec[2], f"layers[{i}] dilation", 1) if len(spec) > 2 else 1
        r += d * (k - 1) * jump
        jump *= s
    return r
