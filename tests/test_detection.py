"""Grid detection: encode/decode round trip, loss, per-class NMS, matching, precision/recall, AP."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from cnnlab import reference
from cnnlab.data import make_scenes
from cnnlab.detection import (GridLoss, average_precision, batched_nms, decode_grid, detect, encode_grid,
                              match_detections, precision_recall)
from cnnlab.functional import box_iou
from cnnlab.models import GridDetector

pytestmark = [pytest.mark.lec9, pytest.mark.usefixtures("one_torch_thread")]


def _logits_from_target(t, big=30.0):
    """Raw outputs whose sigmoid/softmax reproduce an encoded target closely."""
    out = torch.logit(t[:, :5].clamp(1e-6, 1 - 1e-6))
    out[:, 0] = (2 * t[:, 0] - 1) * big
    return torch.cat([out, (2 * t[:, 5:] - 1) * big], dim=1)


def test_encode_grid_hand_computed():
    # box (0, 2, 5, 7): centre (2.5, 4.5) px = (0.625, 1.125) cells of 4 px → row 1, col 0
    t = encode_grid([np.array([[0, 2, 5, 7]])], [np.array([1])], size=32, grid=8, num_classes=3)
    assert t.shape == (1, 8, 8, 8) and t[0, 0].sum() == 1 and t[0, 0, 1, 0] == 1
    torch.testing.assert_close(t[0, :, 1, 0], torch.tensor([1, 0.625, 0.125, 5 / 32, 5 / 32, 0, 1, 0]))


def test_encode_grid_collision_keeps_larger_box():
    boxes = np.array([[0, 0, 2, 2], [0, 0, 3, 3]], dtype=float)  # both centres in cell (0, 0)
    for order in ([0, 1], [1, 0]):
        t = encode_grid([boxes[order]], [np.array([0, 2])[order]], size=32, grid=8, num_classes=3)
        assert t[0, 3, 0, 0] == pytest.approx(3 / 32) and t[0, 7, 0, 0] == 1 and t[0, 5, 0, 0] == 0


def test_encode_grid_bad_input():
    with pytest.raises(ValueError, match="same N"):
        encode_grid([np.zeros((1, 4))], [], 32, 8, 3)
    with pytest.raises(ValueError, match="outside 0..2"):
        encode_grid([np.array([[0, 0, 4, 4]])], [np.array([3])], 32, 8, 3)


def test_encode_decode_round_trip_on_scenes():
    s = make_scenes(100, seed=4)
    t = encode_grid(s.boxes, s.labels, size=32, grid=8, num_classes=3)
    assert int(t[:, 0].sum()) == sum(len(b) for b in s.boxes)  # no object lost to a shared cell
    for (b, sc, lab), gb, gl in zip(decode_grid(t, 32, logits=False), s.boxes, s.labels):
        order, ref = np.lexsort((b[:, 0], b[:, 1])), np.lexsort((gb[:, 0], gb[:, 1]))
        np.testing.assert_allclose(b[order], gb[ref], atol=1e-4)
        np.testing.assert_array_equal(lab[order], gl[ref])
        np.testing.assert_array_equal(sc, 1)
    # and through logits, as a trained network would output them
    for (b, sc, lab), gb in zip(decode_grid(_logits_from_target(t), 32), s.boxes):
        assert len(b) == len(gb) and (sc > 0.99).all()
        np.testing.assert_allclose(np.sort(b, 0), np.sort(gb, 0), atol=1e-3)


def test_decode_grid_threshold_and_bad_shape():
    out = torch.full((2, 8, 4, 4), -10.0)
    assert all(len(d[0]) == 0 for d in decode_grid(out, 32))
    assert all(len(d[0]) == 16 for d in decode_grid(out, 32, score_threshold=0.0))
    with pytest.raises(ValueError, match=r"\(N, 5 \+ K, S, S\)"):
        decode_grid(torch.zeros(2, 5, 4, 4), 32)


def test_grid_loss_small_for_the_target_and_grows_with_errors():
    s = make_scenes(8, seed=0)
    t = encode_grid(s.boxes, s.labels, 32, 8, 3)
    good = _logits_from_target(t)
    loss = GridLoss()
    assert loss(good, t).item() < 1e-3
    bad = good.clone()
    bad[:, 1:3] = 0.0                         # every centre predicted in the middle of its cell
    assert loss(bad, t).item() > loss(good, t).item() + 0.01
    with pytest.raises(ValueError, match="same"):
        loss(good[:, :7], t)


def test_grid_loss_hand_computed_empty_cells():
    t = torch.zeros(1, 6, 2, 2)
    out = torch.zeros(1, 6, 2, 2)              # objectness 0.5 everywhere: BCE = log 2 per cell
    assert GridLoss(lambda_noobj=0.5)(out, t).item() == pytest.approx(4 * 0.5 * np.log(2))


def test_batched_nms_per_class(rng):
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [0, 0, 10, 10.5]], dtype=float)
    scores = np.array([0.9, 0.8, 0.7])
    np.testing.assert_array_equal(batched_nms(boxes, scores, np.array([0, 0, 1]), 0.5), [0, 2])
    np.testing.assert_array_equal(batched_nms(boxes, scores, np.array([0, 0, 0]), 0.5), [0])
    assert batched_nms(np.zeros((0, 4)), np.zeros(0), np.zeros(0, int), 0.5).shape == (0,)
    # random: equals NMS run class by class with the torch reference
    xy = rng.uniform(0, 20, size=(40, 2))
    b = np.concatenate([xy, xy + rng.uniform(2, 10, size=(40, 2))], 1)
    s, lab = rng.permutation(40) / 40.0, rng.integers(0, 3, 40)
    keep = batched_nms(b, s, lab, 0.4)
    expected = np.concatenate([np.flatnonzero(lab == k)[reference.nms(b[lab == k], s[lab == k], 0.4)] for k in range(3)])
    np.testing.assert_array_equal(np.sort(keep), np.sort(expected))
    assert (np.diff(s[keep]) <= 0).all()


def test_match_detections_duplicates_classes_and_threshold():
    gt, gl = np.array([[0, 0, 10, 10], [20, 20, 30, 30]], dtype=float), np.array([0, 1])
    det = np.array([[0, 0, 10, 10], [0, 0, 10, 9], [20, 20, 30, 30], [20, 20, 30, 25]], dtype=float)
    # the second box duplicates the first (FP); the third has the wrong class (FP); the fourth IoU 0.5 (TP)
    hits = match_detections(det, [0.9, 0.8, 0.7, 0.6], [0, 0, 0, 1], gt, gl, 0.5)
    np.testing.assert_array_equal(hits, [True, False, False, True])
    assert box_iou(det[[3]], gt[[1]])[0, 0] == 0.5
    assert not match_detections(det[[3]], [1.0], [1], gt, gl, 0.51).any()
    assert match_detections(np.zeros((0, 4)), [], [], gt, gl).shape == (0,)


def test_precision_recall_hand_computed():
    gt = [np.array([[0, 0, 10, 10], [20, 20, 30, 30]], float), np.array([[0, 0, 5, 5]], float)]
    gl = [np.array([0, 1]), np.array([2])]
    dets = [(np.array([[0, 0, 10, 10], [40, 40, 45, 45]], float), np.array([0.9, 0.8]), np.array([0, 0])),
            (np.zeros((0, 4)), np.zeros(0), np.zeros(0, int))]
    pr = precision_recall(dets, gt, gl)
    assert pr == {"precision": 0.5, "recall": 1 / 3, "tp": 1, "fp": 1, "fn": 2}
    assert precision_recall([dets[1]], [np.zeros((0, 4))], [np.zeros(0, int)])["precision"] == 1.0


def test_average_precision_hand_computed():
    gt = [np.array([[0, 0, 10, 10], [20, 20, 30, 30]], float)]
    gl = [np.array([0, 0])]
    det = np.array([[0, 0, 10, 10], [50, 50, 60, 60], [20, 20, 30, 30]], float)
    # ranked TP, FP, TP: recall 0.5 at precision 1, recall 1 at precision 2/3 → AP = 0.5 + 0.5·2/3
    ap = average_precision([(det, np.array([0.9, 0.8, 0.7]), np.array([0, 0, 0]))], gt, gl, num_classes=2)
    assert ap[0] == pytest.approx(0.5 + 0.5 * 2 / 3) and np.isnan(ap[1])
    # ranked FP first: precision made monotone from the right → 0.5·(2/3)... both TPs at 2/3
    ap = average_precision([(det, np.array([0.7, 0.9, 0.8]), np.array([0, 0, 0]))], gt, gl, num_classes=1)
    assert ap[0] == pytest.approx(2 / 3)


def test_detect_shapes_and_nms_reduces():
    torch.manual_seed(0)
    m = GridDetector(num_classes=3, width=4)
    x = make_scenes(3, seed=0).images
    raw = detect(m, x, score_threshold=0.0, nms=False)
    kept = detect(m, x, score_threshold=0.0, iou_threshold=0.3)
    assert [len(d[0]) for d in raw] == [64, 64, 64]
    for (b, s, lab), (b0, _, _) in zip(kept, raw):
        assert b.shape[1] == 4 and len(b) == len(s) == len(lab) <= len(b0) and (np.diff(s) <= 0).all()
    assert m.training
