"""torchvision's `box_iou` and `nms`, written with plain torch tensor operations.

torchvision does not import beside the pinned torch, so these stand in for
`torchvision.ops.box_iou` / `torchvision.ops.nms` on tensors of any device and
float dtype (`cnnlab.reference` wraps them for numpy; lectures can use them on
the GPU). Boxes are rows (x1, y1, x2, y2); no argument checks here.
"""
from __future__ import annotations

import torch

__all__ = ["box_iou", "nms"]


def box_iou(boxes1: torch.Tensor, boxes2: torch.Tensor) -> torch.Tensor:
    """(N, 4), (M, 4) → (N, M) IoU; torchvision's code, so two disjoint empty boxes give NaN as there."""
    area1 = (boxes1[:, 2] - boxes1[:, 0]) * (boxes1[:, 3] - boxes1[:, 1])  # (N,)
    area2 = (boxes2[:, 2] - boxes2[:, 0]) * (boxes2[:, 3] - boxes2[:, 1])  # (M,)
    lt = torch.max(boxes1[:, None, :2], boxes2[:, :2])  # (N, M, 2) top-left of each intersection
    rb = torch.min(boxes1[:, None, 2:], boxes2[:, 2:])  # (N, M, 2) bottom-right
    wh = (rb - lt).clamp(min=0)  # (N, M, 2)
    inter = wh[:, :, 0] * wh[:, :, 1]  # (N, M)
    return inter / (area1[:, None] + area2 - inter)


def nms(boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float) -> torch.Tensor:
    """Greedy non-maximum suppression → (K,) int64 kept indices by decreasing score, on the CPU.

    As torchvision: a stable descending sort (equal scores keep their order) and
    a box is suppressed by a kept one when IoU > iou_threshold (a NaN IoU suppresses nothing).
    """
    order = torch.sort(scores, stable=True, descending=True).indices  # (N,)
    ordered = boxes[order]  # (N, 4) by decreasing score
    over = (box_iou(ordered, ordered) > iou_threshold).cpu()  # (N, N); one transfer, then a host loop
    suppressed = torch.zeros(len(order), dtype=torch.bool)
    keep = []
    for i in range(len(order)):
        if not suppressed[i]:
            keep.append(i)
            suppressed |= over[i]
    return order.cpu()[torch.tensor(keep, dtype=torch.long)]
