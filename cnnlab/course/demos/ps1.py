"""ps1's demo class: realistic mistakes, each as the student's code for whole answer cells.

Expected scores are computed by cnnlab.course.demo from the notebook's
points and the test cells listed in ``failing``.
"""
from __future__ import annotations

from cnnlab.course.demo import Student

__all__ = ["STUDENTS"]

_CORR2D_FLIPPED = '''
def corr2d(x, k):
    """2-D cross-correlation of one (H, W) image with one (KH, KW) kernel (no padding, stride 1)."""
    x = np.asarray(x, dtype=float)
    k = np.asarray(k, dtype=float)
    windows = sliding_window_view(x, k.shape)  # (H_out, W_out, KH, KW)
    return np.einsum("ijuv,uv->ij", windows, k[::-1, ::-1])  # a true convolution
'''

_CORR2D_HARD_CODED = '''
def corr2d(x, k):
    """2-D cross-correlation of one (H, W) image with one (KH, KW) kernel (no padding, stride 1)."""
    return np.array([[177.75, 175.375, 216.4375], [141.0625, 133.1875, 183.25],
                     [105.9375, 116.9375, 166.8125]])  # copied from the expected output
'''

_PAD2D_ONE_SIDE = '''
def pad2d(x, padding):
    """Zero-pad the last two axes of x by padding (int or (pH, pW)) on each side."""
    x = np.asarray(x)
    ph, pw = (padding, padding) if np.isscalar(padding) else padding
    width = [(0, 0)] * (x.ndim - 2) + [(0, 2 * ph), (0, 2 * pw)]  # all the zeros after the data
    return np.pad(x, width)
'''

_CONV2D_NO_BIAS = '''
def conv2d(x, w, b=None, stride=1, padding=0, dilation=1):
    """2-D cross-correlation of a batch (N, C_in, H, W) with filters (C_out, C_in, KH, KW)."""
    pair = lambda v: (v, v) if np.isscalar(v) else tuple(v)
    (sh, sw), (dh, dw) = pair(stride), pair(dilation)
    x = pad2d(np.asarray(x, dtype=float), padding)  # (N, C_in, H+2pH, W+2pW)
    w = np.asarray(w, dtype=float)
    kh, kw = w.shape[2:]
    span_h, span_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    h_out = conv_output_size(x.shape[2], span_h, sh)
    w_out = conv_output_size(x.shape[3], span_w, sw)
    windows = sliding_window_view(x, (span_h, span_w), axis=(2, 3))  # (N, C_in, H', W', span_h, span_w)
    windows = windows[:, :, ::sh, ::sw, ::dh, ::dw][:, :, :h_out, :w_out]  # (N, C_in, H_out, W_out, KH, KW)
    return np.einsum("ncijuv,ocuv->noij", windows, w)  # the bias b is never added
'''

_FC_BIAS_FORGOTTEN = '''
def conv2d_params(c_in, c_out, kernel_size, bias=True):
    """Learnable parameters of nn.Conv2d(c_in, c_out, kernel_size, bias=bias)."""
    kh, kw = (kernel_size, kernel_size) if np.isscalar(kernel_size) else kernel_size
    return c_out * (c_in * kh * kw + (1 if bias else 0))


def linear_params(n_in, n_out, bias=True):
    """Learnable parameters of nn.Linear(n_in, n_out, bias=bias)."""
    return n_out * n_in  # the biases are forgotten


params_lecture_layer = conv2d_params(3, 2, 3)
params_ten_filters = conv2d_params(3, 10, 3)
h_out, w_out = conv_output_size(5, 3), conv_output_size(6, 3)
params_conv_5x6 = conv2d_params(1, 1, 3)
params_fc_5x6 = linear_params(5 * 6, h_out * w_out)
'''

STUDENTS = [
    # the blur kernel is symmetric: only the hidden tests see the flip
    Student("kernel_flipped", {"corr2d_solution": _CORR2D_FLIPPED.strip()}, ("test_corr2d",)),
    # conv1d is built on conv2d, so it loses its points too
    Student("bias_forgotten", {"conv2d_solution": _CONV2D_NO_BIAS.strip()}, ("test_conv2d", "test_conv1d")),
    Student("padding_one_side", {"pad2d_solution": _PAD2D_ONE_SIDE.strip()},
            ("test_pad2d", "test_conv2d", "test_conv1d")),
    Student("fc_bias_forgotten", {"params_solution": _FC_BIAS_FORGOTTEN.strip()},
            ("test_params_conv_vs_fully_connected",)),
    # the visible non-square check and the hidden tests both see it
    Student("hard_coded", {"corr2d_solution": _CORR2D_HARD_CODED.strip()}, ("test_corr2d",)),
]
