"""ps5's demo class: realistic mistakes, each the student's code for whole answer cells.

Expected scores are computed by cnnlab.course.demo from the notebook's points
and the test cells listed in ``failing``.
"""
from __future__ import annotations

from cnnlab.course.demo import Student
from cnnlab.course.demos._edits import answer

__all__ = ["STUDENTS"]


def _a(grade_id, *edits):
    return answer("ps5", grade_id, *edits)


STUDENTS = [
    # the "+1 pixel" convention of old detection code; nms uses box_iou, so it fails as well
    Student("iou_plus_one", {"box_iou_solution": _a(
        "box_iou_solution",
        ("area1 = (b1[..., 2] - b1[..., 0]) * (b1[..., 3] - b1[..., 1])",
         "area1 = (b1[..., 2] - b1[..., 0] + 1) * (b1[..., 3] - b1[..., 1] + 1)"),
        ("area2 = (b2[..., 2] - b2[..., 0]) * (b2[..., 3] - b2[..., 1])",
         "area2 = (b2[..., 2] - b2[..., 0] + 1) * (b2[..., 3] - b2[..., 1] + 1)"),
        ("np.minimum(b1[..., 2], b2[..., 2]) - np.maximum(b1[..., 0], b2[..., 0])",
         "np.minimum(b1[..., 2], b2[..., 2]) - np.maximum(b1[..., 0], b2[..., 0]) + 1"),
        ("np.minimum(b1[..., 3], b2[..., 3]) - np.maximum(b1[..., 1], b2[..., 1])",
         "np.minimum(b1[..., 3], b2[..., 3]) - np.maximum(b1[..., 1], b2[..., 1]) + 1"))},
        ("test_box_iou", "test_nms")),
    # IoU equal to the threshold suppresses
    Student("nms_at_threshold", {"nms_solution": _a(
        "nms_solution", ("removed |= iou[i] > iou_threshold", "removed |= iou[i] >= iou_threshold"))},
        ("test_nms",)),
    # the row index used for x
    Student("grid_rows_cols", {"decode_grid_solution": _a(
        "decode_grid_solution", ("cx, cy = (cols + p[:, 0]) / s, (rows + p[:, 1]) / s",
                                 "cx, cy = (rows + p[:, 0]) / s, (cols + p[:, 1]) / s"))}, ("test_decode_grid",)),
    # padding treated like a convolution's: zeros added instead of rows cropped
    Student("transpose_padding_added", {"conv_transpose2d_solution": _a(
        "conv_transpose2d_solution", ("out = out[:, :, ph:full_h - ph, pw:full_w - pw]  # padding crops",
                                      "out = np.pad(out, ((0, 0), (0, 0), (ph, ph), (pw, pw)))"))},
        ("test_conv_transpose2d",)),
    # the skip cropped at its corner
    Student("crop_corner", {"crop_and_concat_solution": _a(
        "crop_and_concat_solution", ("top, left = (h1 - h2) // 2, (w1 - w2) // 2", "top, left = 0, 0"))},
        ("test_crop_and_concat",)),
    # Dice computed as IoU, and mean IoU averaging absent classes as 0
    Student("metrics_mixed_up", {"metrics_solution": _a(
        "metrics_solution",
        ("return np.where(total == 0, 1.0, 2.0 * inter / np.maximum(total, 1))",
         "union = (p | t).sum(axis=(1, 2))\n    return np.where(union == 0, 1.0, inter / np.maximum(union, 1))"),
        ("            if union:\n                ious.append((p & t).sum() / union)",
         "            ious.append((p & t).sum() / union if union else 0.0)"))},
        ("test_dice_score", "test_mean_iou")),
    # a sigmoid at the end, then logits > 0: every pixel is foreground
    Student("unet_sigmoid", {"tiny_unet_solution": _a(
        "tiny_unet_solution", ("nn.Conv2d(8, 1, 1))", "nn.Conv2d(8, 1, 1), nn.Sigmoid())"))}, ("test_tiny_unet",)),
]
