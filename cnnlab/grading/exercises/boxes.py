"""box_iou, nms and decode_grid (ps5): boxes for detection.

box_iou and nms follow DESIGN §2b (torchvision's semantics, references in
`cnnlab.reference`); decode_grid (a YOLO-style S×S grid to boxes) is ps5's own
and its numpy reference lives here.
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from cnnlab import reference as R
from cnnlab.grading.exercise import REQUIRED, Exercise, Mistake

__all__ = ["BOX_IOU", "NMS", "DECODE_GRID", "decode_grid_reference", "EXERCISES"]


# ------------------------------------------------------------------ box_iou
def _iou(b1, b2, plus=0.0, clip=True, denom="union"):
    """IoU variants on (N, 4), (M, 4) numpy boxes -> (N, M)."""
    b1, b2 = b1[:, None, :], b2[None, :, :]  # (N, 1, 4), (1, M, 4)
    a1 = (b1[..., 2] - b1[..., 0] + plus) * (b1[..., 3] - b1[..., 1] + plus)  # (N, 1)
    a2 = (b2[..., 2] - b2[..., 0] + plus) * (b2[..., 3] - b2[..., 1] + plus)  # (1, M)
    w = np.minimum(b1[..., 2], b2[..., 2]) - np.maximum(b1[..., 0], b2[..., 0]) + plus  # (N, M)
    h = np.minimum(b1[..., 3], b2[..., 3]) - np.maximum(b1[..., 1], b2[..., 1]) + plus
    inter = np.clip(w, 0, None) * np.clip(h, 0, None) if clip else w * h
    if denom == "sum":
        return inter / (a1 + a2)
    if denom == "min":
        return inter / np.minimum(a1, a2)
    if denom == "first":
        return inter / np.broadcast_to(a1, inter.shape)
    return inter / (a1 + a2 - inter)


def _xywh(b):
    return np.stack([b[:, 0], b[:, 1], b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]], axis=1)  # (x, y, w, h) read as corners


def _boxes_normalize(params):
    P = SimpleNamespace(**params)
    for k in ("boxes1", "boxes2", "boxes", "scores"):
        if hasattr(P, k):
            setattr(P, k, np.asarray(getattr(P, k), dtype=np.float64))
    return P


def _nonempty(f):
    return lambda P, dev: f(P) if len(P.boxes1) and len(P.boxes2) else None


_IOU_MISTAKES = (
    Mistake("plus-one-pixel", "Your IoU uses the \"+1 pixel\" convention (width x2 − x1 + 1). Boxes here have "
            "continuous corners: width x2 − x1, height y2 − y1, and boxes that only touch have IoU 0.",
            _nonempty(lambda P: _iou(P.boxes1, P.boxes2, plus=1.0))),
    Mistake("intersection-not-clipped", "The intersection's width and height are not clipped at 0: for boxes that do "
            "not overlap, min(x2) − max(x1) is negative (and two negatives multiply to a positive area). Use "
            "np.clip(..., 0, None) on each before multiplying.",
            _nonempty(lambda P: _iou(P.boxes1, P.boxes2, clip=False))),
    Mistake("union-is-sum", "The union is taken as area1 + area2; the overlap is then counted twice: "
            "union = area1 + area2 − intersection.", _nonempty(lambda P: _iou(P.boxes1, P.boxes2, denom="sum"))),
    Mistake("over-smaller-area", "Your result divides the intersection by the smaller area; IoU divides by the union.",
            _nonempty(lambda P: _iou(P.boxes1, P.boxes2, denom="min"))),
    Mistake("over-first-area", "Your result divides the intersection by the first box's area; IoU divides by the union.",
            _nonempty(lambda P: _iou(P.boxes1, P.boxes2, denom="first"))),
    Mistake("xywh", "The boxes are read as (x, y, width, height); they are corners (x1, y1, x2, y2).",
            _nonempty(lambda P: _iou(_xywh(P.boxes1), _xywh(P.boxes2)))),
    Mistake("transposed", "Your matrix is transposed: entry [i, j] is the IoU of boxes1[i] and boxes2[j], shape (N, M).",
            _nonempty(lambda P: _iou(P.boxes2, P.boxes1))),
)


def _random_boxes(rng, n, span=10.0):
    xy = rng.uniform(0, span, size=(n, 2))
    wh = rng.uniform(0.5, span / 2, size=(n, 2))
    return np.concatenate([xy, xy + wh], axis=1)  # (n, 4) corners


def _iou_worked():
    a = np.array([[0.0, 0, 2, 2], [0, 0, 1, 1]])
    b = np.array([[1.0, 1, 3, 3], [2, 0, 4, 2], [0, 0, 2, 2]])
    return [BOX_IOU.case("worked example 'overlapping, touching and identical boxes'", boxes1=a, boxes2=b)]


def _iou_features(rng):
    touch = np.array([[0.0, 0, 1, 1], [1, 0, 2, 1], [0, 1, 1, 2], [1, 1, 2, 2]])
    far = np.array([[0.0, 0, 1, 1], [5, 5, 6, 7]])
    nested = np.array([[0.0, 0, 10, 10], [2, 3, 4, 9], [2.5, 3.5, 3, 5]])
    return [BOX_IOU.case("feature case 'boxes that only touch'", boxes1=touch, boxes2=touch[::-1].copy()),
            BOX_IOU.case("feature case 'far apart (negative overlap on both axes)'", boxes1=far, boxes2=far[::-1].copy()),
            BOX_IOU.case("feature case 'nested boxes'", boxes1=nested, boxes2=nested[:2].copy()),
            BOX_IOU.case("feature case 'N != M, random'", boxes1=_random_boxes(rng, 3), boxes2=_random_boxes(rng, 5)),
            BOX_IOU.case("feature case 'no boxes on one side'", boxes1=np.zeros((0, 4)), boxes2=_random_boxes(rng, 2)),
            BOX_IOU.case("feature case 'a single box each'", boxes1=_random_boxes(rng, 1), boxes2=_random_boxes(rng, 1))]


def _iou_random(rng, label):
    n, m = (int(v) for v in rng.integers(1, 7, size=2))
    return BOX_IOU.case(label, boxes1=_random_boxes(rng, n), boxes2=_random_boxes(rng, m))


BOX_IOU = Exercise(
    name="box_iou",
    signature=(("boxes1", REQUIRED), ("boxes2", REQUIRED)),
    reference=R.box_iou,
    worked=_iou_worked,
    features=_iou_features,
    random=_iou_random,
    mistakes=_IOU_MISTAKES,
    normalize=_boxes_normalize,
    forbidden={"cnnlab.functional": ["box_iou", "box_iou_naive", "nms", "nms_naive"]},
)


# ---------------------------------------------------------------------- nms
def _nms(P, *, ge=False, order="stable", all_suppress=False, positions=False, index_order=False):
    scores = P.scores
    if order == "stable":
        idx = np.argsort(-scores, kind="stable")
    elif order == "index":
        idx = np.arange(len(scores))
    elif order == "ascending":
        idx = np.argsort(scores, kind="stable")
    else:  # ties in decreasing index order
        idx = np.lexsort((-np.arange(len(scores)), -scores))
    iou = _iou(P.boxes, P.boxes) if len(scores) else np.zeros((0, 0))
    over = iou >= P.iou_threshold if ge else iou > P.iou_threshold
    removed = np.zeros(len(scores), dtype=bool)
    keep = []
    for pos, i in enumerate(idx):
        if not removed[i]:
            keep.append(pos if positions else i)
            removed |= over[i]
        elif all_suppress:
            removed |= over[i]
    keep = np.array(keep, dtype=np.int64)
    return np.sort(keep) if index_order else keep


def _nms_diff(**kw):
    def cand(P, dev):
        got, right = _nms(P, **kw), _nms(P)
        return None if got.shape == right.shape and np.array_equal(got, right) else got
    return cand


_NMS_MISTAKES = (
    Mistake("suppress-at-threshold", "Boxes whose IoU equals iou_threshold are suppressed (>=). Only IoU strictly "
            "greater than the threshold suppresses (as torchvision).", _nms_diff(ge=True)),
    Mistake("index-order", "The kept indices are in index order; return them in decreasing order of score.",
            _nms_diff(index_order=True)),
    Mistake("not-sorted", "The boxes are visited in index order; visit them by decreasing score (the best box first).",
            _nms_diff(order="index")),
    Mistake("ascending", "The boxes are visited by increasing score; the highest score must come first.",
            _nms_diff(order="ascending")),
    Mistake("suppressed-suppress", "A box that was already suppressed still suppresses others. Only kept boxes "
            "suppress: skip removed boxes entirely.", _nms_diff(all_suppress=True)),
    Mistake("unstable-ties", "Boxes with equal scores are visited in decreasing index order; use a stable sort "
            "(np.argsort(-scores, kind=\"stable\")) so that ties keep the lower index first.",
            _nms_diff(order="ties-reversed")),
    Mistake("positions-not-indices", "The result holds positions in the sorted order instead of indices into the "
            "original boxes: map them back with order[...].", _nms_diff(positions=True)),
)


def _nms_case(label, boxes, scores, thr):
    return NMS.case(label, boxes=np.asarray(boxes, dtype=np.float64), scores=np.asarray(scores, dtype=np.float64),
                    iou_threshold=thr)


def _nms_worked():
    boxes = [[0.0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [0, 1, 10, 11]]
    return [_nms_case("worked example 'three boxes on one object, one elsewhere'", boxes, [0.9, 0.8, 0.7, 0.95], 0.5),
            _nms_case("worked example 'IoU exactly 0.5 at threshold 0.5'", [[0.0, 0, 3, 1], [1, 0, 4, 1]],
                      [1.0, 0.5], 0.5)]


def _cluster(rng, n):
    centre = rng.uniform(0, 20, size=(1, 2))
    xy = centre + rng.normal(0, 1.0, size=(n, 2))
    return np.concatenate([xy, xy + rng.uniform(3, 6, size=(n, 2))], axis=1)


def _nms_features(rng):
    chain = np.array([[0.0, 0, 4, 1], [2, 0, 6, 1], [4, 0, 8, 1], [6, 0, 10, 1]])  # neighbours at IoU 1/3
    ties = _cluster(rng, 6)
    return [
        _nms_case("feature case 'IoU equal to the threshold'", chain, [0.9, 0.8, 0.7, 0.6], 1 / 3),
        _nms_case("feature case 'a chain: suppressed boxes must not suppress'", chain, [0.9, 0.8, 0.7, 0.6], 0.2),
        _nms_case("feature case 'ties in the scores'", ties, [0.5, 0.9, 0.5, 0.5, 0.9, 0.2], 0.3),
        _nms_case("feature case 'scores in increasing index order'", _cluster(rng, 5), [0.1, 0.2, 0.3, 0.4, 0.5], 0.4),
        _nms_case("feature case 'no boxes'", np.zeros((0, 4)), np.zeros(0), 0.5),
        _nms_case("feature case 'threshold 0: only disjoint boxes survive'", _random_boxes(rng, 6),
                  rng.uniform(size=6), 0.0),
        _nms_case("feature case 'threshold 1: identical boxes both kept'", np.array([[0.0, 0, 2, 2]] * 2 + [[1, 1, 3, 3]]),
                  [0.3, 0.8, 0.5], 1.0),
        _nms_case("feature case 'one box'", [[1.0, 2, 3, 4]], [0.7], 0.5),
    ]


def _nms_random(rng, label):
    n = int(rng.integers(2, 12))
    boxes = np.concatenate([_cluster(rng, n // 2), _random_boxes(rng, n - n // 2, 20.0)])
    scores = rng.integers(0, 5, size=n) / 4.0 if rng.random() < 0.3 else rng.uniform(size=n)
    return _nms_case(label, boxes, scores, float(rng.choice([0.1, 0.3, 0.5, 0.7])))


NMS = Exercise(
    name="nms",
    signature=(("boxes", REQUIRED), ("scores", REQUIRED), ("iou_threshold", REQUIRED)),
    reference=R.nms,
    worked=_nms_worked,
    features=_nms_features,
    random=_nms_random,
    mistakes=_NMS_MISTAKES,
    normalize=_boxes_normalize,
    # note: the course's box_iou may be reused (box_iou is graded on its own); every nms of the course is forbidden
    guard_own=False,
    forbidden={"cnnlab.functional": ["nms", "nms_naive"], "cnnlab.functional.boxes": ["nms", "nms_naive"],
               "cnnlab.reference": ["nms"], "cnnlab.torch_boxes": ["nms"]},
    helpers=("box_iou",),  # note: a wrong box_iou of the student's makes nms wrong too; say so first
    probe_constant=False,  # note: indices are the same for many inputs; a constant result proves nothing
)


# -------------------------------------------------------------- decode_grid
def decode_grid_reference(pred, image_size, conf_threshold=0.5, *, how=None):
    """(S, S, 5) grid of (tx, ty, tw, th, conf) -> (boxes (K, 4) in pixels, scores (K,)), row-major order.

    `how` computes a known mistake instead (the grader's catalogue).
    """
    pred = np.asarray(pred, dtype=np.float64)
    S = pred.shape[0]
    conf = pred[..., 4]
    sel = conf >= conf_threshold if how == "ge" else conf > conf_threshold
    rows, cols = np.nonzero(sel.T if how == "column-major" else sel)  # (K,), (K,)
    if how == "column-major":
        rows, cols = cols, rows
    p = pred[rows, cols]  # (K, 5)
    if how == "rows-cols":
        rows, cols = cols, rows
    if how == "offset-not-divided":
        cx, cy = cols / S + p[:, 0], rows / S + p[:, 1]
    else:
        cx, cy = (cols + p[:, 0]) / S, (rows + p[:, 1]) / S
    w, h = p[:, 2], p[:, 3]
    if how == "size-per-cell":
        w, h = w / S, h / S
    if how == "corner":
        boxes = np.stack([cx, cy, cx + w, cy + h], axis=1)
    elif how == "full-size-half":
        boxes = np.stack([cx - w, cy - h, cx + w, cy + h], axis=1)
    else:
        boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
    scale = 1.0 if how == "not-scaled" else float(image_size)
    return boxes * scale, p[:, 4].copy()


def _grid_mistake(key, text, how):
    def cand(P, dev):
        got = decode_grid_reference(P.pred, P.image_size, P.conf_threshold, how=how)[0]
        right = decode_grid_reference(P.pred, P.image_size, P.conf_threshold)[0]
        return None if got.shape == right.shape and np.allclose(got, right) else got
    return Mistake(key, text, cand, output=0)


_GRID_MISTAKES = (
    _grid_mistake("rows-cols-swapped", "Rows and columns are swapped: column j gives the x coordinate, "
                  "cx = (j + tx)/S, and row i gives y, cy = (i + ty)/S.", "rows-cols"),
    _grid_mistake("offset-not-divided", "The offsets tx, ty are added after dividing the cell index by S; they are "
                  "fractions of a *cell*: cx = (j + tx)/S.", "offset-not-divided"),
    _grid_mistake("not-scaled", "The boxes are in fractions of the image; multiply by image_size to get pixels.",
                  "not-scaled"),
    _grid_mistake("centre-as-corner", "(cx, cy) is used as the top-left corner; it is the box's centre: "
                  "x1 = cx − w/2, x2 = cx + w/2.", "corner"),
    _grid_mistake("full-size-half", "w and h are used as half sizes (x1 = cx − w); the box is w wide: "
                  "x1 = cx − w/2.", "full-size-half"),
    _grid_mistake("size-per-cell", "tw and th are taken as fractions of a cell; they are fractions of the image.",
                  "size-per-cell"),
    _grid_mistake("conf-at-threshold", "Cells whose confidence equals conf_threshold are kept; keep only conf "
                  "strictly greater than the threshold.", "ge"),
    _grid_mistake("column-major", "The cells come column by column; return them row by row (row-major: row 0 left to "
                  "right, then row 1, ...).", "column-major"),
)


def _grid_normalize(params):
    P = SimpleNamespace(**params)
    P.pred = np.asarray(P.pred, dtype=np.float64)
    return P


def _grid(rng, S, quantized=False):
    pred = np.empty((S, S, 5))
    pred[..., :2] = rng.uniform(0, 1, size=(S, S, 2))
    pred[..., 2:4] = rng.uniform(0.05, 0.6, size=(S, S, 2))
    pred[..., 4] = rng.integers(0, 11, size=(S, S)) / 10 if quantized else rng.uniform(size=(S, S))
    return pred


def _grid_worked():
    pred = np.zeros((7, 7, 5))
    pred[1, 3] = [0.5, 0.5, 0.25, 0.5, 0.9]
    pred[5, 0] = [0.2, 0.2, 0.1, 0.1, 0.3]
    return [DECODE_GRID.case("worked example 'one confident cell of a 7x7 grid, 448 pixels'", pred=pred,
                             image_size=448)]


def _grid_features(rng):
    few = _grid(rng, 4)
    few[..., 4] = 0.0
    few[0, 2, 4], few[3, 1, 4], few[1, 0, 4] = 0.9, 0.8, 0.7  # one confident cell per row, distinct columns
    return [
        DECODE_GRID.case("feature case 'three cells in different rows and columns'", pred=few, image_size=100),
        DECODE_GRID.case("feature case 'confidences equal to the threshold'", pred=_grid(rng, 3, True), image_size=60,
                         conf_threshold=0.5),
        DECODE_GRID.case("feature case 'S = 1'", pred=_grid(rng, 1), image_size=32, conf_threshold=0.0),
        DECODE_GRID.case("feature case 'no confident cell'", pred=_grid(rng, 3) * np.array([1, 1, 1, 1, 0.0]),
                         image_size=64),
        DECODE_GRID.case("feature case '7x7 grid on 448 pixels, threshold 0.3'", pred=_grid(rng, 7), image_size=448,
                         conf_threshold=0.3),
    ]


def _grid_random(rng, label):
    S = int(rng.integers(2, 8))
    return DECODE_GRID.case(label, pred=_grid(rng, S, bool(rng.random() < 0.3)),
                            image_size=int(rng.choice([64, 100, 224, 448])),
                            conf_threshold=float(rng.choice([0.2, 0.5, 0.7])))


DECODE_GRID = Exercise(
    name="decode_grid",
    signature=(("pred", REQUIRED), ("image_size", REQUIRED), ("conf_threshold", 0.5)),
    kind="arrays",
    outputs=("boxes", "scores"),
    reference=decode_grid_reference,
    worked=_grid_worked,
    features=_grid_features,
    random=_grid_random,
    mistakes=_GRID_MISTAKES,
    normalize=_grid_normalize,
)

EXERCISES = [BOX_IOU, NMS, DECODE_GRID]
