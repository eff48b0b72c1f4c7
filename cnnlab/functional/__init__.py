"""Numpy implementations of the course's operators (DESIGN §2).

Each vectorized function has a naive loop twin (`conv2d_naive`, ...) with the
same signature; both follow `torch.nn.functional` semantics.
"""
from cnnlab.functional.activation import numerical_gradient, relu, relu_backward, softmax_cross_entropy
from cnnlab.functional.boxes import box_iou, box_iou_naive, nms, nms_naive
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
from cnnlab.functional.norm import batch_norm2d, batch_norm2d_backward
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
from cnnlab.functional.transpose import conv_transpose2d, conv_transpose2d_naive

__all__ = [
    "corr2d", "pad2d", "conv1d", "conv2d", "conv2d_backward",
    "max_pool2d", "avg_pool2d", "max_pool2d_backward", "avg_pool2d_backward",
    "corr2d_naive", "conv1d_naive", "conv2d_naive", "conv2d_backward_naive",
    "max_pool2d_naive", "avg_pool2d_naive", "max_pool2d_backward_naive", "avg_pool2d_backward_naive",
    "upsample_nearest2d", "upsample_bilinear2d", "max_pool2d_with_indices", "max_unpool2d",
    # problem sets 2–5 (DESIGN §2b)
    "relu", "relu_backward", "softmax_cross_entropy", "numerical_gradient",
    "batch_norm2d", "batch_norm2d_backward", "conv_transpose2d", "box_iou", "nms",
    "conv_transpose2d_naive", "box_iou_naive", "nms_naive",
]
