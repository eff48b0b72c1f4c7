"""Bounding boxes in numpy: intersection over union and non-maximum suppression.

Boxes are rows (x1, y1, x2, y2) of corner coordinates with x1 <= x2, y1 <= y2,
as in `torchvision.ops`: the area is (x2 − x1)·(y2 − y1), with no "+1 pixel".
`nms` keeps a box unless a higher-scoring kept box overlaps it with
IoU > iou_threshold (strictly: IoU equal to the threshold is kept), and breaks
ties in score by the original order (a stable sort), as torchvision does.
"""
from __future__ import annotations

import numpy as np

from cnnlab import _args_ops as _args
from cnnlab._args import float_dtype

__all__ = ["box_iou", "box_iou_naive", "nms", "nms_naive"]


def box_area(boxes):
    """(N, 4) → (N,) areas (x2 − x1)·(y2 − y1)."""
    return (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])


def box_iou(boxes1, boxes2):
    """Pairwise intersection over union.

    Args:
        boxes1: (N, 4) boxes (x1, y1, x2, y2).
        boxes2: (M, 4) boxes (x1, y1, x2, y2).

    Returns:
        (N, M) IoU in [0, 1]. note: as torchvision, two boxes of zero area that
        do not overlap have IoU 0/0 = NaN.
    """
    b1, b2 = _args.boxes_arg(boxes1, "boxes1"), _args.boxes_arg(boxes2, "boxes2")
    dt = float_dtype(b1, b2)
    b1, b2 = b1.astype(dt, copy=False), b2.astype(dt, copy=False)
    # note: one (N, M) array per coordinate, not (N, M, 2) pairs: numpy's inner loops then run over M, not 2
    w = np.minimum(b1[:, None, 2], b2[None, :, 2]) - np.maximum(b1[:, None, 0], b2[None, :, 0])  # (N, M)
    h = np.minimum(b1[:, None, 3], b2[None, :, 3]) - np.maximum(b1[:, None, 1], b2[None, :, 1])  # (N, M)
    np.clip(w, 0, None, out=w)  # disjoint boxes give a negative side → 0
    np.clip(h, 0, None, out=h)
    inter = np.multiply(w, h, out=w)  # (N, M)
    union = box_area(b1)[:, None] + box_area(b2)[None, :] - inter  # (N, 1) + (1, M) → (N, M)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.divide(inter, union, out=union)


def box_iou_naive(boxes1, boxes2):
    """Loop twin of `box_iou`: one pair at a time, the formula read off a drawing."""
    b1, b2 = _args.boxes_arg(boxes1, "boxes1"), _args.boxes_arg(boxes2, "boxes2")
    dt = float_dtype(b1, b2)
    out = np.zeros((len(b1), len(b2)), dtype=dt)
    for i, (ax1, ay1, ax2, ay2) in enumerate(b1.astype(dt)):
        for j, (bx1, by1, bx2, by2) in enumerate(b2.astype(dt)):
            iw = max(min(ax2, bx2) - max(ax1, bx1), 0)  # overlap width, 0 when disjoint
            ih = max(min(ay2, by2) - max(ay1, by1), 0)
            inter = iw * ih
            union = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter
            with np.errstate(invalid="ignore", divide="ignore"):
                out[i, j] = np.divide(inter, union)
    return out


def _order(scores):
    """Indices by decreasing score; equal scores keep their original order (stable)."""
    # note: a stable ascending sort of -score; float64 first, so unsigned ints cannot wrap
    return np.argsort(-scores.astype(np.float64), kind="stable")


def nms(boxes, scores, iou_threshold):
    """Non-maximum suppression, greedy, highest score first.

    Args:
        boxes: (N, 4) boxes (x1, y1, x2, y2).
        scores: (N,) scores.
        iou_threshold: a box is dropped if IoU > iou_threshold with a kept box.

    Returns:
        (K,) int64 indices into boxes of the kept boxes, by decreasing score.
    """
    boxes, scores, thr = _args.nms_args(boxes, scores, iou_threshold)
    order = _order(scores)  # (N,)
    sorted_boxes = boxes[order]  # (N, 4) by decreasing score
    # note: `> thr` (not `>= thr`, nor `~(<= thr)`): equal IoU is kept, and a NaN IoU suppresses nothing
    over = box_iou(sorted_boxes, sorted_boxes) > thr  # (N, N); row i: whom box i would suppress
    suppressed = np.zeros(len(order), dtype=bool)
    keep = []
    for i in range(len(order)):
        if suppressed[i]:
            continue
        keep.append(i)
        suppressed |= over[i]  # note: earlier (kept or suppressed) boxes are no longer consulted
    return order[np.array(keep, dtype=np.int64)].astype(np.int64)


def nms_naive(boxes, scores, iou_threshold):
    """Loop twin of `nms`, the textbook algorithm: take the best remaining box, drop its overlaps, repeat."""
    boxes, scores, thr = _args.nms_args(boxes, scores, iou_threshold)
    remaining = list(_order(scores))  # indices by decreasing score
    keep = []
    while remaining:
        best = remaining.pop(0)
        keep.append(best)
        ious = box_iou_naive(boxes[best][None], boxes[remaining])[0] if remaining else []
        remaining = [j for j, iou in zip(remaining, ious) if not iou > thr]
    return np.array(keep, dtype=np.int64)
