"""Matplotlib figures for the lectures (work headless under the Agg backend).

One concept per module; this file only re-exports their public names.
"""
# --- images, kernels and feature maps (lectures 1-2) ---
from cnnlab.viz.images import show_channels, show_feature_maps, show_image, show_images
from cnnlab.viz.matrices import show_equation, show_kernels, show_matrix
# --- convolution arithmetic and sliding windows (lecture 2) ---
from cnnlab.viz.arithmetic import (plot_conv1d_connections, plot_conv_arithmetic, plot_signals,
                                   plot_sliding_window)
# --- receptive fields, pooling and shift equivariance (lectures 3-4) ---
from cnnlab.viz.fields import (plot_pooling, plot_receptive_field_1d, plot_receptive_field_overlay,
                               plot_resampling, plot_shift_equivariance, plot_shift_response)
# --- detection, segmentation and encoder-decoder diagrams (lecture 9) ---
from cnnlab.viz.dense import (draw_boxes, plot_encoder_decoder, plot_rcnn_family, show_detections,
                              show_masks)
