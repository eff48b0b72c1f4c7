"""One-stage grid detection (YOLO-style): targets, loss, decoding, NMS per class, metrics.

A detector's output is a (N, 5 + K, S, S) grid (see `cnnlab.models.GridDetector`):
per cell an objectness logit, the box centre inside the cell (x, y), the box
size as a fraction of the image (w, h), and K class logits. `encode_grid`
turns ground-truth boxes into a target of the same layout, `decode_grid`
turns either back into boxes; the two are inverse on the cells that hold an
object. IoU and NMS come from `cnnlab.functional` (numpy, torchvision's
semantics).
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["encode_grid", "decode_grid", "GridLoss", "batched_nms", "detect", "match_detections",
           "precision_recall", "average_precision"]


def encode_grid(boxes, labels, size: int, grid: int, num_classes: int) -> torch.Tensor:
    """Ground truth → the (N, 5 + K, S, S) target a grid detector should output.

    The cell containing a box's centre is responsible for it: objectness 1,
    centre offset inside the cell in [0, 1), width and height divided by the
    image size, one-hot class. Other cells are all 0. When two centres fall
    in one cell (YOLO v1's limit), the larger box wins.

    Args:
        boxes: N arrays (n_i, 4) of ``x1, y1, x2, y2`` in pixels.
        labels: N arrays (n_i,) of class indices in 0..K-1.
        size: image side in pixels (square images).
        grid: S, cells per side; each cell is size / S pixels.
        num_classes: K.

    Returns:
        float32 tensor (N, 5 + K, S, S).
    """
    if len(boxes) != len(labels):
        raise ValueError(f"boxes and labels must list the same N images; got {len(boxes)} and {len(labels)}")
    cell = size / grid
    target = torch.zeros(len(boxes), 5 + num_classes, grid, grid)
    area = torch.zeros(len(boxes), grid, grid)  # area of the box each cell holds so far
    for n, (b, lab) in enumerate(zip(boxes, labels)):
        b = np.asarray(b, np.float64).reshape(-1, 4)  # (n_i, 4)
        for (x1, y1, x2, y2), k in zip(b, np.asarray(lab).reshape(-1)):  # labels (n_i,)
            if not 0 <= k < num_classes:
                raise ValueError(f"label {k} of image {n} is outside 0..{num_classes - 1}")
            cx, cy = (x1 + x2) / 2 / cell, (y1 + y2) / 2 / cell  # centre in cell units
            j, i = min(int(cx), grid - 1), min(int(cy), grid - 1)  # column j, row i
            a = (x2 - x1) * (y2 - y1)
            if target[n, 0, i, j] and area[n, i, j] >= a:
                continue
            area[n, i, j] = a
            target[n, :, i, j] = 0
            target[n, :5, i, j] = torch.tensor([1.0, cx - j, cy - i, (x2 - x1) / size, (y2 - y1) / size])
            target[n, 5 + int(k), i, j] = 1.0
    return target


def decode_grid(out: torch.Tensor, size: int, score_threshold: float = 0.5, logits: bool = True):
    """A grid of predictions (or an encoded target) → boxes, scores and labels per image.

    The score is YOLO's class-specific confidence, P(object) · P(class | object).

    Args:
        out: (N, 5 + K, S, S) raw detector output, or probabilities when
            ``logits=False`` (e.g. the output of `encode_grid`).
        size: image side in pixels.
        score_threshold: keep cells whose score is at least this. Default: 0.5.
        logits: apply sigmoid (objectness, x, y, w, h) and softmax (classes)
            first. Default: True.

    Returns:
        N tuples ``(boxes (M, 4) float32, scores (M,) float32, labels (M,) int64)``
        of numpy arrays, in cell order (row by row), before any NMS.
    """
    if out.dim() != 4 or out.shape[1] < 6 or out.shape[2] != out.shape[3]:
        raise ValueError(f"out must be (N, 5 + K, S, S) with K >= 1; got {tuple(out.shape)}")
    out = out.detach().float().cpu()
    grid = out.shape[-1]
    if logits:
        box = torch.sigmoid(out[:, :5])                       # (N, 5, S, S)
        cls = torch.softmax(out[:, 5:], dim=1)                # (N, K, S, S)
    else:
        box, cls = out[:, :5], out[:, 5:]
    prob, label = cls.max(dim=1)                              # (N, S, S) each
    score = box[:, 0] * prob
    ii, jj = torch.meshgrid(torch.arange(grid), torch.arange(grid), indexing="ij")  # (S, S) rows, cols
    cell = size / grid
    cx, cy = (jj + box[:, 1]) * cell, (ii + box[:, 2]) * cell  # (N, S, S) in pixels
    w, h = box[:, 3] * size, box[:, 4] * size
    corners = torch.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], dim=-1)  # (N, S, S, 4)
    results = []
    for n in range(len(out)):
        keep = score[n] >= score_threshold                    # (S, S)
        results.append((corners[n][keep].numpy().astype(np.float32), score[n][keep].numpy().astype(np.float32),
                        label[n][keep].numpy().astype(np.int64)))
    return results


class GridLoss(nn.Module):
    """YOLO v1's sum-squared loss, with cross-entropy for objectness and classes.

    ``loss = BCE(obj) over all cells (λ_noobj on empty cells)
    + λ_coord · [(x − x̂)² + (y − ŷ)² + (√w − √ŵ)² + (√h − √ĥ)²] on object cells
    + CE(classes) on object cells``, summed and divided by the batch size N.
    Square roots make an error of 2 pixels cost more on a small box than on
    a large one, as in YOLO.

    Args:
        lambda_coord: weight of the box terms. Default: 5 (YOLO's).
        lambda_noobj: weight of empty cells' objectness. Default: 0.5 (YOLO's).
    """

    def __init__(self, lambda_coord: float = 5.0, lambda_noobj: float = 0.5):
        super().__init__()
        self.lambda_coord, self.lambda_noobj = lambda_coord, lambda_noobj

    def forward(self, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if out.shape != target.shape:
            raise ValueError(f"out and target must have the same (N, 5 + K, S, S) shape; "
                             f"got {tuple(out.shape)} and {tuple(target.shape)}")
        obj = target[:, 0]                                     # (N, S, S) 0/1
        weight = obj + self.lambda_noobj * (1 - obj)
        loss_obj = (weight * F.binary_cross_entropy_with_logits(out[:, 0], obj, reduction="none")).sum()
        pos = obj > 0.5
        p = torch.sigmoid(out[:, 1:5]).permute(0, 2, 3, 1)[pos]  # (P, 4) x, y, w, h of object cells
        t = target[:, 1:5].permute(0, 2, 3, 1)[pos]              # (P, 4)
        loss_xy = ((p[:, :2] - t[:, :2]) ** 2).sum()
        loss_wh = ((p[:, 2:].clamp_min(1e-8).sqrt() - t[:, 2:].sqrt()) ** 2).sum()
        logits = out[:, 5:].permute(0, 2, 3, 1)[pos]             # (P, K)
        loss_cls = F.cross_entropy(logits, target[:, 5:].permute(0, 2, 3, 1)[pos].argmax(1), reduction="sum")
        return (loss_obj + self.lambda_coord * (loss_xy + loss_wh) + loss_cls) / len(out)


def batched_nms(boxes, scores, labels, iou_threshold: float) -> np.ndarray:
    """NMS within each class separately (as `torchvision.ops.batched_nms`).

    Args:
        boxes: (M, 4); scores: (M,); labels: (M,) class of each box.
        iou_threshold: a box is suppressed by a higher-scoring box of the
            same class whose IoU with it is larger than this.

    Returns:
        int64 indices of the kept boxes, in decreasing score order.
    """
    from cnnlab.functional import nms

    boxes, scores, labels = np.asarray(boxes), np.asarray(scores), np.asarray(labels)
    keep = [np.flatnonzero(labels == k)[nms(boxes[labels == k], scores[labels == k], iou_threshold)]
            for k in np.unique(labels)]
    keep = np.concatenate(keep) if keep else np.zeros(0, np.int64)
    return keep[np.argsort(-scores[keep], kind="stable")].astype(np.int64)


@torch.no_grad()
def detect(model: nn.Module, images, score_threshold: float = 0.3, iou_threshold: float = 0.5, nms: bool = True,
           device=None):
    """Run a grid detector on (N, C, H, W) images; decode, then NMS per class.

    Returns:
        N tuples ``(boxes (M, 4), scores (M,), labels (M,))`` (numpy),
        sorted by decreasing score when `nms` is on.
    """
    device = device or next(model.parameters()).device
    was_training = model.training
    model.eval()
    x = torch.as_tensor(np.asarray(images), dtype=torch.float32, device=device)
    dets = decode_grid(model(x), x.shape[-1], score_threshold)
    model.train(was_training)
    if not nms:
        return dets
    return [tuple(a[keep] for a in d) for d in dets for keep in [batched_nms(*d, iou_threshold)]]


def match_detections(boxes, scores, labels, gt_boxes, gt_labels, iou_threshold: float = 0.5) -> np.ndarray:
    """Mark each detection of one image true or false positive (PASCAL VOC rule).

    Detections are visited by decreasing score; each takes the unmatched
    ground-truth box of its class with the highest IoU, if that IoU is at
    least `iou_threshold`; a ground truth is matched at most once, so a
    duplicate detection is a false positive.

    Returns:
        bool (M,) array, True for a true positive, in the order given.
    """
    from cnnlab.functional import box_iou

    # (M, 4) and (G, 4), also for empty inputs
    boxes, gt_boxes = np.asarray(boxes, np.float64).reshape(-1, 4), np.asarray(gt_boxes, np.float64).reshape(-1, 4)
    tp = np.zeros(len(boxes), bool)
    if len(boxes) == 0 or len(gt_boxes) == 0:
        return tp
    iou = box_iou(boxes, gt_boxes)                                           # (M, G)
    iou[np.asarray(labels)[:, None] != np.asarray(gt_labels)[None, :]] = -1  # other classes never match
    taken = np.zeros(len(gt_boxes), bool)
    for m in np.argsort(-np.asarray(scores), kind="stable"):
        cand = np.where(taken, -1.0, iou[m])
        g = int(cand.argmax())
        if cand[g] >= iou_threshold:
            tp[m], taken[g] = True, True
    return tp


def precision_recall(detections, gt_boxes, gt_labels, iou_threshold: float = 0.5) -> dict:
    """Precision and recall of a detector's output over a set of images.

    Args:
        detections: N tuples ``(boxes, scores, labels)`` (e.g. from `detect`).
        gt_boxes, gt_labels: N arrays of ground-truth boxes and labels.
        iou_threshold: IoU needed for a match. Default: 0.5.

    Returns:
        ``{"precision", "recall", "tp", "fp", "fn"}``; precision is 1 when
        nothing was detected (no false positive).
    """
    tp = fp = n_gt = 0
    for (b, s, lab), gb, gl in zip(detections, gt_boxes, gt_labels, strict=True):
        hits = match_detections(b, s, lab, gb, gl, iou_threshold)
        tp, fp, n_gt = tp + int(hits.sum()), fp + int((~hits).sum()), n_gt + len(gb)
    return {"precision": tp / (tp + fp) if tp + fp else 1.0, "recall": tp / n_gt if n_gt else 1.0,
            "tp": tp, "fp": fp, "fn": n_gt - tp}


def average_precision(detections, gt_boxes, gt_labels, num_classes: int, iou_threshold: float = 0.5) -> np.ndarray:
    """Per-class average precision: area under the precision–recall curve.

    Detections of all images are ranked by score; AP is the all-point
    interpolated area (PASCAL VOC 2010+): precision made monotone from the
    right, summed over the recall steps. The mean over classes is mAP@IoU.

    Returns:
        float (K,) array; NaN for a class without ground truth.
    """
    ap = np.full(num_classes, np.nan)
    hits = [match_detections(*d, gb, gl, iou_threshold) for d, gb, gl in zip(detections, gt_boxes, gt_labels, strict=True)]
    scores = np.concatenate([np.asarray(d[1], np.float64) for d in detections] + [np.zeros(0)])
    labels = np.concatenate([np.asarray(d[2], np.int64) for d in detections] + [np.zeros(0, np.int64)])
    tp = np.concatenate(hits + [np.zeros(0, bool)])
    all_gt = np.concatenate([np.asarray(g, np.int64).reshape(-1) for g in gt_labels])
    for k in range(num_classes):
        n_gt = int((all_gt == k).sum())
        if n_gt == 0:
            continue
        order = np.argsort(-scores[labels == k], kind="stable")
        t = tp[labels == k][order]
        cum_tp = np.cumsum(t)
        recall = np.concatenate([[0.0], cum_tp / n_gt])
        precision = np.concatenate([[1.0], cum_tp / np.arange(1, len(t) + 1)])
        precision = np.maximum.accumulate(precision[::-1])[::-1]  # monotone from the right
        ap[k] = float(np.sum(np.diff(recall) * precision[1:]))
    return ap
