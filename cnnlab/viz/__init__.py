"""Matplotlib figures for the lectures (work headless under the Agg backend).

One concept per module; this file only re-exports their public names.
"""
# --- images, kernels and feature maps (lectures 1-2) ---
# --- convolution arithmetic and sliding windows (lecture 2) ---
# --- receptive fields, pooling and shift equivariance (lectures 3-4) ---
