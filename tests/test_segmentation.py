"""Segmentation metrics: confusion matrix, IoU, Dice (hand-computed), mask prediction."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from cnnlab.segmentation import confusion_matrix, dice_per_class, iou_per_class, mean_iou, predict_masks

pytestmark = pytest.mark.lec9

PRED = np.array([[0, 1, 1], [0, 2, 2]])
TRUE = np.array([[0, 1, 0], [1, 2, 2]])


def test_confusion_matrix_hand_computed():
    cm = confusion_matrix(PRED, TRUE, 3)
    np.testing.assert_array_equal(cm, [[1, 1, 0], [1, 1, 0], [0, 0, 2]])
    assert cm.sum() == PRED.size


def test_iou_and_dice_per_class_hand_computed():
    # class 0: P={(0,0),(1,0)}, T={(0,0),(0,2)} → ∩ 1, ∪ 3; class 1: P={(0,1),(0,2)}, T={(0,1),(1,0)}; class 2: equal
    np.testing.assert_allclose(iou_per_class(PRED, TRUE, 3), [1 / 3, 1 / 3, 1])
    np.testing.assert_allclose(dice_per_class(PRED, TRUE, 3), [0.5, 0.5, 1])
    assert mean_iou(PRED, TRUE, 3) == pytest.approx(5 / 9)
    assert mean_iou(PRED, TRUE, 3, ignore_background=True) == pytest.approx(2 / 3)


def test_iou_absent_class_is_nan_and_skipped():
    iou = iou_per_class(PRED, TRUE, 4)
    assert np.isnan(iou[3])
    assert mean_iou(PRED, TRUE, 4) == pytest.approx(5 / 9)


def test_dice_equals_two_iou_over_one_plus_iou(rng):
    p, t = rng.integers(0, 4, size=(5, 8, 8)), rng.integers(0, 4, size=(5, 8, 8))
    i = iou_per_class(p, t, 4)
    np.testing.assert_allclose(dice_per_class(p, t, 4), 2 * i / (1 + i))


def test_segmentation_metrics_bad_input():
    with pytest.raises(ValueError, match="same shape"):
        confusion_matrix(PRED, TRUE[:1], 3)
    with pytest.raises(ValueError, match="target holds labels outside 0..1"):
        confusion_matrix(PRED * 0, TRUE, 2)


def test_predict_masks_argmax_and_mode_restored():
    class Fixed(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(1))

        def forward(self, x):  # class 1 where the pixel is bright, else 0
            return torch.cat([0.5 - x, x - 0.5], dim=1) + self.w

    m = Fixed().train()
    x = np.zeros((3, 1, 4, 4), np.float32)
    x[:, :, 1, 2] = 1
    out = predict_masks(m, x, batch_size=2)
    assert out.shape == (3, 4, 4) and out.dtype == np.int64 and out.sum() == 3 and out[:, 1, 2].all()
    assert m.training
