# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Problem set 5 — Beyond classification
#
# A classifier says *what*; detection says *what and where* (boxes), and
# segmentation says it for every pixel. In this problem set you implement the
# pieces these tasks add on top of a CNN, in numpy: intersection over union
# and non-maximum suppression for boxes, decoding a YOLO-style S×S grid into
# boxes, the transposed convolution that upsamples in a U-Net, the
# skip-connection shapes, and the Dice and mean-IoU scores of masks. Then you
# train a tiny U-Net to segment noisy shapes.
#
# **Learning objectives.** After this problem set you can
# 1. compute IoU for all pairs of boxes and run non-maximum suppression;
# 2. turn a grid of predictions into boxes in image coordinates;
# 3. implement a transposed convolution and predict its output size;
# 4. match the shapes of a U-Net's skip connection (crop, then concatenate);
# 5. score masks with Dice and mean IoU, and train a small U-Net.
#
# **How you are graded.** Each part ends with a read-only test cell: a visible
# check on a small worked example, then hidden tests that compare your code
# with a reference on many random cases (they ask for nothing the text does
# not state). The numpy parts may not call PyTorch. Replace every
# `raise NotImplementedError()` with your code, then *Kernel → Restart & Run
# All* before you submit.

# %%
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import cnnlab
from cnnlab.data import make_shapes
from cnnlab.grading import check
from cnnlab.train import seed_everything

np.set_printoptions(precision=4, suppress=True)
DEVICE = cnnlab.device()

# %% [markdown]
# ## 1. Intersection over union {points}
#
# A box is given by its corners $(x_1, y_1, x_2, y_2)$ with $x_1 \le x_2$,
# $y_1 \le y_2$ (continuous coordinates: its area is $(x_2-x_1)(y_2-y_1)$,
# **no** "+1 pixel"). The IoU of two boxes is the area of their intersection
# divided by the area of their union; boxes that only touch have IoU 0.
#
# Implement `box_iou(boxes1, boxes2)`: $(N, 4)$ and $(M, 4)$ float arrays →
# the $(N, M)$ matrix of IoUs (float64), vectorised with broadcasting (as
# `torchvision.ops.box_iou`). $N$ or $M$ may be 0. The hidden tests compare
# with a PyTorch reference on random boxes, including identical, nested,
# disjoint and touching boxes.
#
# **Predict first.** What is the IoU of $[0, 0, 2, 2]$ and $[1, 1, 3, 3]$?

# %% nbgrader={"grade_id": "box_iou_solution", "solution": true}
def box_iou(boxes1, boxes2):
    """IoU of every pair: (N, 4), (M, 4) corner boxes -> (N, M)."""
    ### BEGIN SOLUTION
    b1 = np.asarray(boxes1, dtype=np.float64)[:, None, :]  # (N, 1, 4)
    b2 = np.asarray(boxes2, dtype=np.float64)[None, :, :]  # (1, M, 4)
    area1 = (b1[..., 2] - b1[..., 0]) * (b1[..., 3] - b1[..., 1])  # (N, 1)
    area2 = (b2[..., 2] - b2[..., 0]) * (b2[..., 3] - b2[..., 1])  # (1, M)
    w = np.clip(np.minimum(b1[..., 2], b2[..., 2]) - np.maximum(b1[..., 0], b2[..., 0]), 0, None)  # (N, M)
    h = np.clip(np.minimum(b1[..., 3], b2[..., 3]) - np.maximum(b1[..., 1], b2[..., 1]), 0, None)  # (N, M)
    inter = w * h
    return inter / (area1 + area2 - inter)
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_box_iou", "grade": true, "points": 3}
"""box_iou: overlapping, touching and identical boxes; hidden randomized cases against PyTorch run first."""
### BEGIN HIDDEN TESTS
from cnnlab.grading import check  # re-imported: a `check` defined in the notebook cannot stand in
check("box_iou", box_iou, seed=51).raise_if_failed()
### END HIDDEN TESTS
_a = np.array([[0.0, 0, 2, 2], [0, 0, 1, 1]])
_b = np.array([[1.0, 1, 3, 3], [2, 0, 4, 2], [0, 0, 2, 2]])
_iou = box_iou(_a, _b)
assert isinstance(_iou, np.ndarray) and _iou.shape == (2, 3), f"expected a (2, 3) array, got {getattr(_iou, 'shape', _iou)}"
np.testing.assert_allclose(_iou[0], [1 / 7, 0, 1], err_msg="row 0: overlap 1 of union 7; a box touching at x=2 "
                                                          "has IoU 0 (no +1 pixel); a box with itself has IoU 1")
np.testing.assert_allclose(_iou[1], [0, 0, 0.25], err_msg="row 1: [0,0,1,1] lies inside [0,0,2,2]: 1/4")
assert box_iou(np.zeros((0, 4)), _b).shape == (0, 3), "no boxes on one side: an empty (0, M) result"

# %% [markdown]
# ## 2. Non-maximum suppression {points}
#
# A detector proposes many overlapping boxes for one object. Greedy NMS keeps
# the highest-scoring box, removes every remaining box whose IoU with it is
# **strictly greater** than `iou_threshold`, and repeats with the next
# remaining box.
#
# Implement `nms(boxes, scores, iou_threshold)`: $(N, 4)$ boxes, $(N,)$
# scores → the indices of the kept boxes as an int64 array, in decreasing
# order of score (as `torchvision.ops.nms`). Boxes with equal scores are
# visited in index order (a stable sort: `np.argsort(-scores, kind="stable")`).
# $N = 0$ gives an empty int64 array. Use your `box_iou`. The hidden tests
# compare with a PyTorch reference on random boxes, with ties in the scores,
# boxes at IoU exactly equal to the threshold, and thresholds 0 and 1.
#
# **Predict first.** Two boxes with IoU 0.5 and `iou_threshold=0.5`: how many are kept?

# %% nbgrader={"grade_id": "nms_solution", "solution": true}
def nms(boxes, scores, iou_threshold):
    """Greedy non-maximum suppression; kept indices (int64) in decreasing score order."""
    ### BEGIN SOLUTION
    boxes = np.asarray(boxes, dtype=np.float64)
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
    iou = box_iou(boxes, boxes)  # (N, N)
    removed = np.zeros(len(boxes), dtype=bool)
    keep = []
    for i in order:
        if removed[i]:
            continue
        keep.append(i)
        removed |= iou[i] > iou_threshold  # note: strictly greater, as torchvision
    return np.array(keep, dtype=np.int64)
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_nms", "grade": true, "points": 3}
"""nms: three boxes on one object and one elsewhere; hidden randomized cases against PyTorch run first."""
### BEGIN HIDDEN TESTS
from cnnlab.grading import check  # re-imported: a `check` defined in the notebook cannot stand in
check("nms", nms, seed=52).raise_if_failed()
### END HIDDEN TESTS
_boxes = np.array([[0.0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [0, 1, 10, 11]])
_scores = np.array([0.9, 0.8, 0.7, 0.95])
_keep = nms(_boxes, _scores, 0.5)
assert isinstance(_keep, np.ndarray) and _keep.dtype == np.int64, "nms returns an int64 numpy array of indices"
np.testing.assert_array_equal(_keep, [3, 2], err_msg="box 3 (0.95) suppresses boxes 0 and 1 (IoU 0.82 each); "
                                                      "box 2 is elsewhere and kept; highest score first")
_two = np.array([[0.0, 0, 3, 1], [1, 0, 4, 1]])  # IoU exactly 2/4 = 0.5
np.testing.assert_array_equal(nms(_two, np.array([1.0, 0.5]), 0.5), [0, 1],
                              err_msg="IoU equal to the threshold is not suppressed (only IoU > threshold is)")
assert nms(np.zeros((0, 4)), np.zeros(0), 0.5).shape == (0,), "no boxes: an empty array"

# %% [markdown]
# ## 3. A YOLO-style grid {points}
#
# YOLO divides the image into an $S \times S$ grid; each cell predicts a box
# whose **centre** lies in the cell. Here each cell $(i, j)$ (row $i$, column
# $j$) predicts five numbers `pred[i, j] = (tx, ty, tw, th, conf)`:
# - $t_x, t_y \in [0, 1]$: the centre's position inside the cell, so the centre
#   is $c_x = (j + t_x)/S$, $c_y = (i + t_y)/S$ as fractions of the image;
# - $t_w, t_h$: the box's width and height as fractions of the image;
# - `conf`: the confidence that the cell holds an object.
#
# Implement `decode_grid(pred, image_size, conf_threshold=0.5)`: `pred` of
# shape $(S, S, 5)$ → `(boxes, scores)` for the cells with `conf` strictly
# greater than `conf_threshold`, in row-major cell order (row by row, left to
# right): `boxes` $(K, 4)$ corners $(x_1, y_1, x_2, y_2) = (c_x - w/2,\ c_y - h/2,\
# c_x + w/2,\ c_y + h/2)$ in **pixels** (multiply the fractions by
# `image_size`, the side of the square image), `scores` $(K,)$ their
# confidences; both float64 (no clipping to the image). The hidden tests use
# random grids of several sizes, thresholds and image sizes.
#
# **Predict first.** In a 7×7 grid on a 448-pixel image, where is the centre
# of cell (row 1, column 3) with $t_x = t_y = 0.5$?

# %% nbgrader={"grade_id": "decode_grid_solution", "solution": true}
def decode_grid(pred, image_size, conf_threshold=0.5):
    """(S, S, 5) grid predictions (tx, ty, tw, th, conf) -> (boxes (K, 4) in pixels, scores (K,))."""
    ### BEGIN SOLUTION
    pred = np.asarray(pred, dtype=np.float64)
    s = pred.shape[0]
    rows, cols = np.nonzero(pred[..., 4] > conf_threshold)  # row-major order
    p = pred[rows, cols]  # (K, 5)
    cx, cy = (cols + p[:, 0]) / s, (rows + p[:, 1]) / s
    half_w, half_h = p[:, 2] / 2, p[:, 3] / 2
    boxes = np.stack([cx - half_w, cy - half_h, cx + half_w, cy + half_h], axis=1) * image_size  # (K, 4)
    return boxes, p[:, 4].copy()
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_decode_grid", "grade": true, "points": 3}
"""decode_grid: one confident cell of a 7x7 grid on a 448-pixel image; hidden random grids run first."""
### BEGIN HIDDEN TESTS
from cnnlab.grading import check  # re-imported: a `check` defined in the notebook cannot stand in
check("decode_grid", decode_grid, seed=53).raise_if_failed()
### END HIDDEN TESTS
_pred = np.zeros((7, 7, 5))
_pred[1, 3] = [0.5, 0.5, 0.25, 0.5, 0.9]  # centre (3.5/7, 1.5/7) of the image, 1/4 wide, 1/2 high
_pred[5, 0] = [0.2, 0.2, 0.1, 0.1, 0.3]  # not confident enough
_boxes, _scores = decode_grid(_pred, 448)
assert _boxes.shape == (1, 4) and _scores.shape == (1,), f"one cell has conf > 0.5; got shapes {_boxes.shape}, {_scores.shape}"
np.testing.assert_allclose(_boxes[0], [224 - 56, 96 - 112, 224 + 56, 96 + 112],
                           err_msg="centre x = (3 + 0.5)/7 * 448 = 224 (column j gives x), y = (1 + 0.5)/7 * 448 = 96; "
                                   "half width 0.125 * 448 = 56, half height 112")
np.testing.assert_allclose(_scores, [0.9], err_msg="scores: the confidence of each kept cell")

# %% [markdown]
# ## 4. Transposed convolution {points}
#
# A U-Net's decoder upsamples with a **transposed convolution**: every input
# pixel *scatters* a copy of the kernel, scaled by its value, into the output,
# at a position that moves by the stride. For input $x$ of shape
# $(N, C_{in}, H, W)$ and weights $w$ of shape $(C_{in}, C_{out}, K_H, K_W)$
# (note: **in** channels first, as `nn.ConvTranspose2d`):
#
# $$y_{\text{full}}[n, o,\ i s_H + u d_H,\ j s_W + v d_W] \mathrel{+}= \sum_c x[n, c, i, j]\; w[c, o, u, v],$$
#
# then `padding` $p$ **removes** $p$ rows/columns from each side of
# $y_{\text{full}}$ (the opposite of a convolution's padding), `output_padding`
# adds extra rows/columns at the bottom/right (zeros unless a kernel reached
# them), and the bias is added. The output size is
# $H_{out} = (H - 1)s - 2p + d(K - 1) + \text{output\_padding} + 1$.
#
# Implement `conv_transpose2d(x, w, b=None, stride=1, padding=0,
# output_padding=0, dilation=1)` exactly as `F.conv_transpose2d` (every
# hyper-parameter an int or an `(h, w)` pair; `output_padding` must be smaller
# than the stride or the dilation). The hidden tests compare with PyTorch in
# float64 on random shapes, including stride 2 with `output_padding=1`.
#
# **Predict first.** A 2×2 input, a 2×2 kernel of ones, stride 2: what is the
# output?

# %% nbgrader={"grade_id": "conv_transpose2d_solution", "solution": true}
def conv_transpose2d(x, w, b=None, stride=1, padding=0, output_padding=0, dilation=1):
    """Transposed 2-D convolution: (N, C_in, H, W), (C_in, C_out, KH, KW) -> (N, C_out, H_out, W_out)."""
    ### BEGIN SOLUTION
    pair = lambda v: (v, v) if np.isscalar(v) else tuple(v)
    (sh, sw), (ph, pw), (oh, ow), (dh, dw) = pair(stride), pair(padding), pair(output_padding), pair(dilation)
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    n, _, h, wd = x.shape
    c_out, kh, kw = w.shape[1:]
    full_h = (h - 1) * sh + dh * (kh - 1) + 1 + oh
    full_w = (wd - 1) * sw + dw * (kw - 1) + 1 + ow
    out = np.zeros((n, c_out, full_h, full_w))
    for u in range(kh):
        for v in range(kw):
            contrib = np.einsum("ncij,co->noij", x, w[:, :, u, v])  # (N, C_out, H, W)
            out[:, :, u * dh:u * dh + (h - 1) * sh + 1:sh, v * dw:v * dw + (wd - 1) * sw + 1:sw] += contrib
    out = out[:, :, ph:full_h - ph, pw:full_w - pw]  # padding crops
    if b is not None:
        out = out + np.asarray(b, dtype=np.float64)[None, :, None, None]
    return out
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_conv_transpose2d", "grade": true, "points": 4}
"""conv_transpose2d: scattering a 2x2 kernel with stride 2 and sizes; hidden comparisons with PyTorch run first."""
### BEGIN HIDDEN TESTS
from cnnlab.grading import check  # re-imported: a `check` defined in the notebook cannot stand in
check("conv_transpose2d", conv_transpose2d, seed=54).raise_if_failed()
### END HIDDEN TESTS
_x = np.array([[1.0, 2.0], [3.0, 4.0]])[None, None]  # (1, 1, 2, 2)
_out = conv_transpose2d(_x, np.ones((1, 1, 2, 2)), stride=2)
assert isinstance(_out, np.ndarray) and _out.shape == (1, 1, 4, 4), f"expected (1, 1, 4, 4), got {getattr(_out, 'shape', _out)}"
np.testing.assert_allclose(_out[0, 0], np.kron([[1, 2], [3, 4]], np.ones((2, 2))),
                           err_msg="each input pixel scatters a 2x2 block of its value; stride 2: the blocks tile")
_out = conv_transpose2d(_x, np.ones((1, 1, 3, 3)))
np.testing.assert_allclose(_out[0, 0, 1, 1], 10.0, err_msg="stride 1, 3x3 kernel: the centre gets every input once")
_out = conv_transpose2d(np.ones((2, 3, 4, 5)), np.ones((3, 6, 3, 3)), np.zeros(6), 2, 1, 1)
assert _out.shape == (2, 6, 8, 10), ("stride 2, padding 1, output_padding 1, kernel 3: (H - 1)*2 - 2 + 2 + 1 + 1 = 2H: "
                                     f"expected (2, 6, 8, 10), got {_out.shape}")

# %% [markdown]
# ## 5. U-Net skip connections {points}
#
# A U-Net concatenates the encoder's feature map (the *skip*) with the
# upsampled decoder map along the channel axis. In the original U-Net the
# convolutions have no padding, so the skip is larger and is **centre-cropped**:
# remove $\lfloor (H_1 - H_2)/2 \rfloor$ rows at the top and the rest at the
# bottom (likewise for columns), then concatenate.
#
# Implement `crop_and_concat(skip, up)`: `skip` $(N, C_1, H_1, W_1)$, `up`
# $(N, C_2, H_2, W_2)$ with $H_1 \ge H_2$, $W_1 \ge W_2$ → the
# $(N, C_1 + C_2, H_2, W_2)$ array `[cropped skip, up]` (skip channels first),
# float64. Raise `ValueError` when the batch sizes differ or the skip is
# smaller than `up` in either axis. The hidden tests use random shapes with
# even and odd differences, and the errors.
#
# **Predict first.** The original U-Net concatenates a 64×64 skip with a 56×56
# upsampled map: how many rows are cropped at the top?

# %% nbgrader={"grade_id": "crop_and_concat_solution", "solution": true}
def crop_and_concat(skip, up):
    """Centre-crop skip (N, C1, H1, W1) to up's (H2, W2) and concatenate: (N, C1 + C2, H2, W2)."""
    ### BEGIN SOLUTION
    skip = np.asarray(skip, dtype=np.float64)
    up = np.asarray(up, dtype=np.float64)
    (n1, _, h1, w1), (n2, _, h2, w2) = skip.shape, up.shape
    if n1 != n2 or h1 < h2 or w1 < w2:
        raise ValueError(f"skip {skip.shape} must have up's batch size and be at least as large as up {up.shape}")
    top, left = (h1 - h2) // 2, (w1 - w2) // 2
    return np.concatenate([skip[:, :, top:top + h2, left:left + w2], up], axis=1)
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_crop_and_concat", "grade": true, "points": 2}
"""crop_and_concat: the original U-Net's 64 -> 56 crop and an odd difference; hidden random shapes run first."""
### BEGIN HIDDEN TESTS
from cnnlab.grading import check  # re-imported: a `check` defined in the notebook cannot stand in
check("crop_and_concat", crop_and_concat, seed=55).raise_if_failed()
### END HIDDEN TESTS
_skip = np.arange(64 * 64, dtype=float).reshape(1, 1, 64, 64)
_out = crop_and_concat(_skip, np.zeros((1, 2, 56, 56)))
assert _out.shape == (1, 3, 56, 56), f"expected (1, 1 + 2, 56, 56), got {_out.shape}"
assert _out[0, 0, 0, 0] == _skip[0, 0, 4, 4], "64 - 56 = 8: crop 4 rows and 4 columns on each side"
_out = crop_and_concat(np.arange(25.0).reshape(1, 1, 5, 5), np.ones((1, 1, 2, 2)))
np.testing.assert_allclose(_out[0, 0], [[6, 7], [11, 12]], err_msg="5 -> 2: crop (5 - 2) // 2 = 1 at the top and left")
np.testing.assert_allclose(_out[0, 1], np.ones((2, 2)), err_msg="up's channels come after the skip's")

# %% [markdown]
# ## 6. Scoring masks: Dice and mean IoU {points}
#
# For a predicted mask $P$ and a true mask $T$ (sets of pixels):
# $\text{Dice} = 2|P \cap T| / (|P| + |T|)$ and
# $\text{IoU} = |P \cap T| / |P \cup T|$.
#
# Implement
# - `dice_score(pred, target)`: boolean (or 0/1) masks of shape $(N, H, W)$
#   → the $(N,)$ float64 Dice of each image; an image where both masks are
#   empty scores 1;
# - `mean_iou(pred, target, num_classes)`: integer label maps of shape
#   $(N, H, W)$ with values in $0 \dots$ `num_classes` − 1 → the $(N,)$
#   float64 mean IoU of each image: the average of the IoU of each class
#   **present in the prediction or the target of that image** (classes in
#   neither are left out of the average).
#
# The hidden tests use random masks and label maps, empty masks, and classes
# missing from one image.
#
# **Predict first.** A prediction that marks every pixel as foreground, on an
# image that is 10 % foreground: Dice? Mean IoU with 2 classes?

# %% nbgrader={"grade_id": "metrics_solution", "solution": true}
def dice_score(pred, target):
    """Per-image Dice of (N, H, W) binary masks -> (N,); 1 when both masks are empty."""
    ### BEGIN SOLUTION
    p = np.asarray(pred).astype(bool)
    t = np.asarray(target).astype(bool)
    inter = (p & t).sum(axis=(1, 2))  # (N,)
    total = p.sum(axis=(1, 2)) + t.sum(axis=(1, 2))  # (N,)
    return np.where(total == 0, 1.0, 2.0 * inter / np.maximum(total, 1))
    ### END SOLUTION


def mean_iou(pred, target, num_classes):
    """Per-image mean IoU over the classes present in the prediction or the target: (N, H, W) -> (N,)."""
    ### BEGIN SOLUTION
    pred, target = np.asarray(pred), np.asarray(target)
    out = np.zeros(len(pred))
    for k in range(len(pred)):
        ious = []
        for c in range(num_classes):
            p, t = pred[k] == c, target[k] == c
            union = (p | t).sum()
            if union:
                ious.append((p & t).sum() / union)
        out[k] = np.mean(ious)
    return out
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_dice_score", "grade": true, "points": 2}
"""dice_score: a half-overlap example and empty masks; hidden random masks run first."""
### BEGIN HIDDEN TESTS
from cnnlab.grading import check  # re-imported: a `check` defined in the notebook cannot stand in
check("dice_score", dice_score, seed=56).raise_if_failed()
### END HIDDEN TESTS
_p = np.zeros((3, 4, 4), dtype=bool)
_t = np.zeros((3, 4, 4), dtype=bool)
_p[0, :2], _t[0, 1:3] = True, True  # 8 and 8 pixels, 4 shared
_p[1] = True  # predicted everywhere, nothing there
_d = dice_score(_p, _t)
assert isinstance(_d, np.ndarray) and _d.shape == (3,), f"one score per image: expected shape (3,), got {getattr(_d, 'shape', _d)}"
np.testing.assert_allclose(_d, [0.5, 0.0, 1.0], err_msg="image 0: 2*4/(8+8) = 0.5; image 1: 0; image 2: both empty -> 1")

# %% nbgrader={"grade_id": "test_mean_iou", "grade": true, "points": 2}
"""mean_iou: two classes and a class absent from an image; hidden random label maps run first."""
### BEGIN HIDDEN TESTS
from cnnlab.grading import check  # re-imported: a `check` defined in the notebook cannot stand in
check("mean_iou", mean_iou, seed=57).raise_if_failed()
### END HIDDEN TESTS
_t = np.zeros((2, 4, 4), dtype=int)
_t[:, :, 2:] = 1  # right half is class 1
_p = np.zeros((2, 4, 4), dtype=int)
_p[0, :, 1:] = 1  # image 0: class 1 spills one column to the left
_m = mean_iou(_p, _t, 3)
assert isinstance(_m, np.ndarray) and _m.shape == (2,), f"one score per image: expected shape (2,), got {getattr(_m, 'shape', _m)}"
np.testing.assert_allclose(_m[0], (4 / 8 + 8 / 12) / 2,
                           err_msg="image 0: class 0 IoU 4/8, class 1 IoU 8/12; class 2 appears nowhere and is left out")
np.testing.assert_allclose(_m[1], (8 / 16 + 0) / 2, err_msg="image 1: class 0 IoU 8/16, class 1 predicted nowhere: IoU 0")

# %% [markdown]
# ## 7. A tiny U-Net {points}
#
# The data: the lectures' synthetic shapes (16×16; lines, crosses, X, O,
# disks) with Gaussian noise of standard deviation 0.3; the target is the
# mask of the shape's pixels. Write `tiny_unet()`, a U-Net with one level:
# - encoder: two 3×3 convolutions (1 → 8 → 8 channels, padding 1, ReLU after each), giving `e`;
# - bottom: 2×2 max pooling, a 3×3 convolution 8 → 16 (padding 1) and ReLU;
# - up: `nn.ConvTranspose2d(16, 8, 2, stride=2)` back to 16×16, giving `u`;
# - decoder: concatenate `[e, u]` on the channel axis (16 channels; no crop is
#   needed with padding 1), a 3×3 convolution 16 → 8 with ReLU, and a 1×1
#   convolution 8 → 1 giving one logit per pixel, shape $(N, 1, 16, 16)$.
#
# Train it (seeded) with `F.binary_cross_entropy_with_logits` so that the
# masks `logits > 0` reach a mean Dice of at least **0.90** on `x_test`. Keep
# the trained network in `unet`. The hidden test draws **300 new images**
# with a seed you do not see (same generator) and requires a mean Dice of at
# least **0.85** with your network in eval mode. Training should take a few
# seconds on a CPU (the grader stops a cell after 30 s).

# %%
def noisy_shapes(n, seed):
    """(n, 1, 16, 16) noisy images and their (n, 1, 16, 16) 0/1 masks."""
    clean, _, _ = make_shapes(n, 16, seed=seed)
    noise = np.random.default_rng(seed + 1000).normal(0.0, 0.3, clean.shape)
    return (clean + noise)[:, None], (clean > 0.5)[:, None].astype(np.float64)


x_train, m_train = noisy_shapes(800, seed=0)
x_test, m_test = noisy_shapes(300, seed=1)
print(x_train.shape, f"foreground {m_train.mean():.1%} of the pixels")

# %% nbgrader={"grade_id": "tiny_unet_solution", "solution": true}
class TinyUNet(nn.Module):
    """(N, 1, 16, 16) -> (N, 1, 16, 16) logits."""

    def __init__(self):
        super().__init__()
        ### BEGIN SOLUTION
        self.enc = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1), nn.ReLU())
        self.bottom = nn.Sequential(nn.MaxPool2d(2), nn.Conv2d(8, 16, 3, padding=1), nn.ReLU())
        self.up = nn.ConvTranspose2d(16, 8, 2, stride=2)
        self.dec = nn.Sequential(nn.Conv2d(16, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 1, 1))
        ### END SOLUTION

    def forward(self, x):
        ### BEGIN SOLUTION
        e = self.enc(x)  # (N, 8, 16, 16)
        u = self.up(self.bottom(e))  # (N, 8, 16, 16)
        return self.dec(torch.cat([e, u], dim=1))  # (N, 1, 16, 16)
        ### END SOLUTION


def tiny_unet():
    """A fresh tiny U-Net."""
    return TinyUNet()


seed_everything(0)
unet = tiny_unet().to(DEVICE)
### BEGIN SOLUTION
_xt = torch.tensor(x_train, dtype=torch.float32, device=DEVICE)
_mt = torch.tensor(m_train, dtype=torch.float32, device=DEVICE)
_opt = torch.optim.Adam(unet.parameters(), lr=1e-2)
_gen = torch.Generator().manual_seed(0)
for _epoch in range(10):
    for _idx in torch.randperm(len(_xt), generator=_gen).split(32):
        _loss = F.binary_cross_entropy_with_logits(unet(_xt[_idx]), _mt[_idx])
        _opt.zero_grad()
        _loss.backward()
        _opt.step()
### END SOLUTION
unet.eval()
with torch.no_grad():
    test_masks = (unet(torch.tensor(x_test, dtype=torch.float32, device=DEVICE)) > 0).cpu().numpy()
print(f"mean Dice on x_test: {dice_score(test_masks[:, 0], m_test[:, 0]).mean():.3f}")

# %% nbgrader={"grade_id": "test_tiny_unet", "grade": true, "points": 4}
"""tiny_unet: output shape and a mean Dice of 0.90 on x_test; hidden: 0.85 on 300 unseen images."""
### BEGIN HIDDEN TESTS
from cnnlab.grading import check  # the grader's held-back data; re-imported: a notebook `check` cannot stand in
check("tiny_unet", unet).raise_if_failed()
### END HIDDEN TESTS
_out = tiny_unet()(torch.zeros(2, 1, 16, 16))
assert _out.shape == (2, 1, 16, 16), f"tiny_unet maps (2, 1, 16, 16) to one logit per pixel; got {tuple(_out.shape)}"
unet.eval()
with torch.no_grad():
    _masks = (unet(torch.tensor(x_test, dtype=torch.float32, device=DEVICE)) > 0).cpu().numpy()
_dice = float(np.mean(2 * (_masks & (m_test > 0.5)).sum((1, 2, 3))
                      / np.maximum(_masks.sum((1, 2, 3)) + (m_test > 0.5).sum((1, 2, 3)), 1)))
assert _dice >= 0.9, f"mean Dice on x_test is {_dice:.3f}; it must be at least 0.90 (train longer, lr 1e-2 with Adam)"

# %% [markdown]
# ## Summary
#
# - IoU compares boxes by area; NMS keeps the best box and removes boxes that
#   overlap it by more than the threshold.
# - A YOLO cell predicts its box relative to itself: offsets inside the cell,
#   sizes relative to the image.
# - A transposed convolution scatters the kernel; its padding crops, and
#   `output_padding` resolves the ambiguity of a strided output size.
# - A U-Net concatenates encoder features (cropped if needed) with upsampled
#   decoder features; Dice and mean IoU score its masks.
#
# ## Check your understanding
#
# 1. Why is `conv_transpose2d` with stride 2 ambiguous about its output size,
#    and how does `output_padding` fix it?
#    <details><summary>Answer</summary>A stride-2 convolution maps both 7 and
#    8 pixels to 4; going back, the transposed convolution cannot know which
#    was meant, so `output_padding=1` adds the missing row/column.</details>
# 2. Why does NMS use a strict `>` and what happens with `iou_threshold=1`?
#    <details><summary>Answer</summary>With `>`, boxes at exactly the threshold
#    survive (torchvision's convention); with threshold 1 no IoU exceeds it,
#    so every box is kept (identical boxes included).</details>
# 3. Why is Dice larger than IoU for the same masks (unless both are 0 or 1)?
#    <details><summary>Answer</summary>Dice = 2 IoU / (1 + IoU), which is ≥ IoU
#    for IoU in [0, 1], with equality only at 0 and 1.</details>
