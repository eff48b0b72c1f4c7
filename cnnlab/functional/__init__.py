"""Numpy implementations of the course's operators (DESIGN §2).

Each vectorized function has a naive loop twin (`conv2d_naive`, ...) with the
same signature; both follow `torch.nn.functional` semantics.
"""
from cnnlab.functional.conv import (
    conv1d,
    conv1d_naive,
    conv2d,
    conv2d_backward,
    conv2d_backward_naive,
    conv2d_naive,
    corr2d,
    corr2d_naive,
    pad2d,
)
from cnnlab.functional.pool import (
    avg_pool2d,
    avg_pool2d_backward,
    avg_pool2d_backward_naive,
    avg_pool2d_naive,
    max_pool2d,
    max_pool2d_backward,
    max_pool2d_backward_naive,
    max_pool2d_naive,
)
from cnnlab.functional.sampling import (
    max_pool2d_with_indices,
    max_unpool2d,
    upsample_bilinear2d,
    upsample_nearest2d,
)

__all__ = [
    "corr2d", "pad2d", "conv1d", "conv2d", "conv2d_backward",
    "max_pool2d", "avg_pool2d", "max_pool2d_backward", "avg_pool2d_backward",
    "corr2d_naive", "conv1d_naive", "conv2d_naive", "conv2d_backward_naive",
    "max_pool2d_naive", "avg_pool2d_naive", "max_pool2d_backward_naive", "avg_pool2d_backward_naive",
    "upsample_nearest2d", "upsample_bilinear2d", "max_pool2d_with_indices", "max_unpool2d",
]
