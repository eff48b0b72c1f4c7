"""Per-pixel metrics for semantic segmentation: confusion matrix, IoU, Dice.

For one class, with the predicted pixels P and the true pixels T,
``IoU = |P ∩ T| / |P ∪ T|`` and ``Dice = 2|P ∩ T| / (|P| + |T|)``, so
``Dice = 2 IoU / (1 + IoU)`` (Dice is never below IoU). Mean IoU averages
over the classes present in the prediction or the ground truth.
"""
from __future__ import annotations

import numpy as np
import torch

__all__ = ["confusion_matrix", "iou_per_class", "dice_per_class", "mean_iou", "predict_masks"]


def confusion_matrix(pred, target, num_classes: int) -> np.ndarray:
    """Counts ``cm[t, p]`` of pixels of true class t predicted as class p.

    Args:
        pred: integer label map of any shape, e.g. (N, H, W).
        target: integer label map of the same shape.
        num_classes: number of classes, background included.

    Returns:
        int64 (num_classes, num_classes).
    """
    pred, target = np.asarray(pred), np.asarray(target)
    if pred.shape != target.shape:
        raise ValueError(f"pred and target must have the same shape; got {pred.shape} and {target.shape}")
    for name, a in (("pred", pred), ("target", target)):
        if a.size and (a.min() < 0 or a.max() >= num_classes):
            raise ValueError(f"{name} holds labels outside 0..{num_classes - 1}: range {a.min()}..{a.max()}")
    flat = target.astype(np.int64).ravel() * num_classes + pred.astype(np.int64).ravel()  # (N·H·W,)
    return np.bincount(flat, minlength=num_classes ** 2).reshape(num_classes, num_classes)


def iou_per_class(pred, target, num_classes: int) -> np.ndarray:
    """(num_classes,) IoU of every class; NaN for a class absent from both."""
    cm = confusion_matrix(pred, target, num_classes)
    inter = np.diag(cm).astype(np.float64)
    union = cm.sum(0) + cm.sum(1) - np.diag(cm)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, inter / union, np.nan)


def dice_per_class(pred, target, num_classes: int) -> np.ndarray:
    """(num_classes,) Dice coefficient of every class; NaN for a class absent from both."""
    cm = confusion_matrix(pred, target, num_classes)
    inter = np.diag(cm).astype(np.float64)
    total = cm.sum(0) + cm.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, 2 * inter / total, np.nan)


def mean_iou(pred, target, num_classes: int, ignore_background: bool = False) -> float:
    """Mean over classes of `iou_per_class` (classes absent from both skipped).

    Args:
        ignore_background: leave class 0 out of the mean. Default: False.
    """
    iou = iou_per_class(pred, target, num_classes)
    return float(np.nanmean(iou[1:] if ignore_background else iou))


@torch.no_grad()
def predict_masks(model: torch.nn.Module, images, batch_size: int = 256, device=None) -> np.ndarray:
    """Arg-max label maps of a segmentation network, in eval mode.

    Args:
        model: maps (N, C, H, W) to (N, num_classes, H, W) logits.
        images: (N, C, H, W) array or tensor.

    Returns:
        int64 (N, H, W).
    """
    device = device or next(model.parameters()).device
    was_training = model.training
    model.eval()
    x = torch.as_tensor(np.asarray(images), dtype=torch.float32)
    out = [model(x[i:i + batch_size].to(device)).argmax(1).cpu() for i in range(0, len(x), batch_size)]
    model.train(was_training)
    return torch.cat(out).numpy().astype(np.int64)
