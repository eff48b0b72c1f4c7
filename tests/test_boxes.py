"""cnnlab.functional.boxes (box_iou, nms, vectorized and naive) and the torch references:
hand-computed cases, ties, touching and empty boxes, a line-by-line port of torchvision's
CPU kernels as a second oracle, and hypothesis properties."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnlab import functional as F
from cnnlab import reference as R

pytestmark = [pytest.mark.ps5]

IOU = [F.box_iou, F.box_iou_naive, R.box_iou]
NMS = [F.nms, F.nms_naive, R.nms]


def _ids(fns):
    return [f"{f.__module__.split('.')[-1]}.{f.__name__}" for f in fns]


def close(actual, expected, atol=1e-12):
    assert np.shape(actual) == np.shape(expected)
    np.testing.assert_allclose(np.asarray(actual), np.asarray(expected, dtype=np.float64), rtol=1e-12, atol=atol)


# --- a second oracle: torchvision's semantics written out plainly ------------------------

def tv_box_iou(b1, b2):
    """torchvision/ops/boxes.py::box_iou, one pair at a time in plain Python floats."""
    out = np.zeros((len(b1), len(b2)))
    for i, a in enumerate(b1.tolist()):
        for j, b in enumerate(b2.tolist()):
            area_a, area_b = (a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1])
            w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
            h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
            union = area_a + area_b - w * h
            out[i, j] = w * h / union if union else float("nan")
    return out


def tv_nms(boxes, scores, thr):
    """torchvision/csrc/ops/cpu/nms_kernel.cpp: stable descending sort, `ovr > thr` suppresses."""
    order = sorted(range(len(scores)), key=lambda i: -float(scores[i]))  # Python's sort is stable
    areas = [(b[2] - b[0]) * (b[3] - b[1]) for b in boxes.tolist()]
    suppressed, keep = [False] * len(order), []
    for _i, i in enumerate(order):
        if suppressed[i]:
            continue
        keep.append(i)
        ix1, iy1, ix2, iy2 = boxes[i].tolist()
        for j in order[_i + 1:]:
            if suppressed[j]:
                continue
            w = max(0.0, min(ix2, boxes[j][2]) - max(ix1, boxes[j][0]))
            h = max(0.0, min(iy2, boxes[j][3]) - max(iy1, boxes[j][1]))
            inter = w * h
            union = areas[i] + areas[j] - inter
            ovr = inter / union if union else float("nan")
            if ovr > thr:
                suppressed[j] = True
    return np.array(keep, dtype=np.int64)


def random_boxes(rng, n, scale=10.0, integer=False):
    xy = rng.random((n, 2)) * scale
    wh = rng.random((n, 2)) * scale / 2
    boxes = np.concatenate([xy, xy + wh], axis=1)  # (n, 4) corners
    return np.round(boxes) if integer else boxes


# --- box_iou ---------------------------------------------------------------------

@pytest.mark.parametrize("iou", IOU, ids=_ids(IOU))
def test_box_iou_hand_computed(iou):
    a = np.array([[0.0, 0.0, 2.0, 2.0]])
    b = np.array([[1.0, 1.0, 3.0, 3.0],    # overlap 1, union 7
                  [2.0, 0.0, 4.0, 2.0],    # touches along an edge: IoU 0
                  [0.0, 0.0, 2.0, 2.0],    # identical: 1
                  [0.5, 0.5, 1.5, 1.5],    # inside: 1/4
                  [5.0, 5.0, 6.0, 7.0]])   # disjoint: 0
    close(iou(a, b), [[1 / 7, 0.0, 1.0, 0.25, 0.0]])


@pytest.mark.parametrize("iou", IOU, ids=_ids(IOU))
@pytest.mark.parametrize("n,m,integer", [(6, 4, False), (5, 7, True), (1, 1, False), (0, 3, False), (3, 0, True)])
def test_box_iou_matches_torchvision_semantics(iou, n, m, integer, rng):
    b1, b2 = random_boxes(rng, n, integer=integer), random_boxes(rng, m, integer=integer)
    before = b1.copy(), b2.copy()
    with np.errstate(invalid="ignore"):
        expected = tv_box_iou(b1, b2)
    np.testing.assert_allclose(iou(b1, b2), expected, rtol=1e-12, atol=1e-12)  # NaN == NaN here
    np.testing.assert_array_equal(b1, before[0])
    np.testing.assert_array_equal(b2, before[1])


@pytest.mark.parametrize("iou", IOU, ids=_ids(IOU))
def test_box_iou_zero_area_boxes_as_torchvision(iou):
    # a point inside a box: intersection 0, IoU 0; two identical points: 0/0 = NaN as torchvision
    out = iou(np.array([[1.0, 1.0, 1.0, 1.0]]), np.array([[0.0, 0.0, 2.0, 2.0], [1.0, 1.0, 1.0, 1.0]]))
    assert out[0, 0] == 0.0 and np.isnan(out[0, 1])


@pytest.mark.parametrize("iou", IOU, ids=_ids(IOU))
@pytest.mark.parametrize("b1,exc,msg", [
    (np.ones((3, 5)), ValueError, r"boxes1 must have shape \(N, 4\).*got shape \(3, 5\)"),
    (np.ones(4), ValueError, r"boxes1 must have shape \(N, 4\).*got shape \(4,\)"),
    (np.array([[0.0, 0.0, 1.0, 1.0], [2.0, 0.0, 1.0, 1.0]]), ValueError,
     r"x1 <= x2 and y1 <= y2.*boxes1\[1\] = \[2.0, 0.0, 1.0, 1.0\]"),
    (np.array([[0.0, 3.0, 1.0, 1.0]]), ValueError, r"boxes1\[0\]"),
    (np.array([["a", "b", "c", "d"]]), TypeError, "boxes1 must hold real numbers"),
])
def test_box_iou_rejects_bad_input(iou, b1, exc, msg):
    with pytest.raises(exc, match=msg):
        iou(b1, np.zeros((1, 4)))


# --- nms -------------------------------------------------------------------------

@pytest.mark.parametrize("nms", NMS, ids=_ids(NMS))
def test_nms_hand_computed(nms):
    boxes = np.array([[0.0, 0.0, 10.0, 10.0],
                      [1.0, 1.0, 11.0, 11.0],     # IoU 81/119 = 0.68 with box 0
                      [20.0, 20.0, 30.0, 30.0],
                      [0.0, 0.0, 10.0, 10.0]])    # a copy of box 0
    scores = np.array([0.9, 0.8, 0.3, 0.95])
    np.testing.assert_array_equal(nms(boxes, scores, 0.5), [3, 2])
    np.testing.assert_array_equal(nms(boxes, scores, 0.7), [3, 1, 2])
    np.testing.assert_array_equal(nms(boxes, scores, 1.0), [3, 0, 1, 2])  # IoU 1 is not > 1


@pytest.mark.parametrize("nms", NMS, ids=_ids(NMS))
def test_nms_iou_equal_to_threshold_is_kept(nms):
    boxes = np.array([[0.0, 0.0, 2.0, 2.0], [1.0, 0.0, 3.0, 2.0]])  # IoU exactly 2/6 = 1/3
    thr = float(F.box_iou(boxes, boxes)[0, 1])
    np.testing.assert_array_equal(nms(boxes, np.array([1.0, 0.5]), thr), [0, 1])
    np.testing.assert_array_equal(nms(boxes, np.array([1.0, 0.5]), np.nextafter(thr, 0)), [0])


@pytest.mark.parametrize("nms", NMS, ids=_ids(NMS))
def test_nms_ties_keep_the_original_order(nms):
    boxes = np.array([[0.0, 0.0, 1.0, 1.0], [5.0, 5.0, 6.0, 6.0], [0.0, 0.0, 1.0, 1.0], [5.0, 5.0, 6.0, 6.0]])
    np.testing.assert_array_equal(nms(boxes, np.ones(4), 0.5), [0, 1])          # the first of equals wins
    np.testing.assert_array_equal(nms(boxes, np.array([1, 2, 2, 1]), 0.5), [1, 2])
    np.testing.assert_array_equal(nms(boxes, np.ones(4), 1.0), [0, 1, 2, 3])


@pytest.mark.parametrize("nms", NMS, ids=_ids(NMS))
def test_nms_touching_boxes_are_all_kept(nms):
    boxes = np.array([[0.0, 0.0, 1.0, 1.0], [1.0, 0.0, 2.0, 1.0], [0.0, 1.0, 1.0, 2.0], [1.0, 1.0, 2.0, 2.0]])
    np.testing.assert_array_equal(nms(boxes, np.array([0.1, 0.4, 0.3, 0.2]), 0.0), [1, 2, 3, 0])


@pytest.mark.parametrize("nms", NMS, ids=_ids(NMS))
def test_nms_empty_input(nms):
    out = nms(np.zeros((0, 4)), np.zeros(0), 0.5)
    assert out.dtype == np.int64 and out.shape == (0,)


@pytest.mark.parametrize("nms", NMS, ids=_ids(NMS))
@pytest.mark.parametrize("n,thr,integer", [(30, 0.5, False), (40, 0.3, True), (25, 0.0, False),
                                           (1, 0.5, False), (60, 0.7, True)])
def test_nms_matches_torchvision_semantics(nms, n, thr, integer, rng):
    boxes = random_boxes(rng, n, integer=integer)
    scores = rng.integers(0, 4, n).astype(np.float64) if integer else rng.random(n)  # integer: many ties
    before = boxes.copy(), scores.copy()
    with np.errstate(invalid="ignore"):
        expected = tv_nms(boxes, scores, thr)
    out = nms(boxes, scores, thr)
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(boxes, before[0])
    np.testing.assert_array_equal(scores, before[1])


@pytest.mark.parametrize("nms", NMS, ids=_ids(NMS))
@pytest.mark.parametrize("args,exc,msg", [
    ((np.ones((2, 3)), np.ones(2), 0.5), ValueError, r"boxes must have shape \(N, 4\)"),
    ((np.zeros((2, 4)), np.ones(3), 0.5), ValueError, r"scores must have shape \(N,\) = \(2,\).*got shape \(3,\)"),
    ((np.zeros((2, 4)), np.ones(2), "0.5"), TypeError, "iou_threshold must be a real number"),
    ((np.zeros((2, 4)), np.ones(2), float("nan")), ValueError, "iou_threshold must be a number, not NaN"),
])
def test_nms_rejects_bad_input(nms, args, exc, msg):
    with pytest.raises(exc, match=msg):
        nms(*args)


# --- properties --------------------------------------------------------------------

coord = st.integers(0, 20).map(float)  # small integer grid: touching edges and exact ties are common


@st.composite
def box_sets(draw, min_size=0, max_size=12):
    n = draw(st.integers(min_size, max_size))
    rows = []
    for _ in range(n):
        x1, y1 = draw(coord), draw(coord)
        rows.append([x1, y1, x1 + draw(st.integers(1, 8)), y1 + draw(st.integers(1, 8))])  # positive area
    return np.array(rows, dtype=np.float64).reshape(n, 4)


@settings(max_examples=60, deadline=None)
@given(box_sets(), box_sets())
def test_box_iou_properties(b1, b2):
    iou = F.box_iou(b1, b2)
    assert iou.shape == (len(b1), len(b2))
    assert np.all((iou >= 0) & (iou <= 1))
    np.testing.assert_array_equal(iou, F.box_iou(b2, b1).T)              # symmetric
    np.testing.assert_allclose(np.diag(F.box_iou(b1, b1)), np.ones(len(b1)))  # a box with itself
    np.testing.assert_allclose(iou, F.box_iou_naive(b1, b2), rtol=1e-12)


@settings(max_examples=60, deadline=None)
@given(box_sets(), st.data(), st.sampled_from([0.0, 0.1, 0.3, 0.5, 0.7, 1.0]))
def test_nms_properties(boxes, data, thr):
    scores = np.array(data.draw(st.lists(st.integers(0, 5), min_size=len(boxes), max_size=len(boxes))),
                      dtype=np.float64)
    keep = F.nms(boxes, scores, thr)
    assert keep.dtype == np.int64 and len(set(keep.tolist())) == len(keep)
    assert set(keep.tolist()) <= set(range(len(boxes)))                   # a subset
    assert np.all(np.diff(scores[keep]) <= 0)                               # by decreasing score
    kept_iou = F.box_iou(boxes[keep], boxes[keep])
    assert not np.any(np.triu(kept_iou, 1) > thr)                          # no two kept boxes overlap above thr
    dropped = sorted(set(range(len(boxes))) - set(keep.tolist()))
    if len(keep) and dropped:                                               # each dropped box has a reason
        assert np.all((F.box_iou(boxes[dropped], boxes[keep]) > thr).any(axis=1))
    np.testing.assert_array_equal(keep, tv_nms(boxes, scores, thr))
    np.testing.assert_array_equal(keep, F.nms_naive(boxes, scores, thr))
