"""ps5's segmentation exercises: crop_and_concat (U-Net skip connections), dice_score and
mean_iou (mask metrics), with numpy references here, and `check_trained_unet`, which
scores the notebook's trained tiny U-Net on held-back synthetic scenes."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from cnnlab.grading.exercise import REQUIRED, Exercise, Mistake
from cnnlab.grading.result import CheckResult

__all__ = ["CROP_AND_CONCAT", "DICE_SCORE", "MEAN_IOU", "crop_and_concat_reference", "dice_score_reference",
           "mean_iou_reference", "noisy_shapes", "check_trained_unet", "EXERCISES"]


def _ns(params):
    return SimpleNamespace(**params)


# ---------------------------------------------------------- crop_and_concat
def crop_and_concat_reference(skip, up, *, how=None):
    """Centre-crop skip (N, C1, H1, W1) to up's (H2, W2), then concatenate [skip, up] on axis 1."""
    skip, up = np.asarray(skip, dtype=np.float64), np.asarray(up, dtype=np.float64)
    if skip.ndim != 4 or up.ndim != 4:
        raise ValueError(f"skip and up must be (N, C, H, W); got shapes {skip.shape} and {up.shape}")
    (n1, _, h1, w1), (n2, _, h2, w2) = skip.shape, up.shape
    if n1 != n2 or h1 < h2 or w1 < w2:
        raise ValueError(f"skip {skip.shape} must have up's batch size and be at least as large as up {up.shape}")
    if how == "pad-up":
        t, left = (h1 - h2) // 2, (w1 - w2) // 2
        up = np.pad(up, ((0, 0), (0, 0), (t, h1 - h2 - t), (left, w1 - w2 - left)))
        return np.concatenate([skip, up], axis=1)
    top, left = {"top-left": (0, 0), "bottom-right": (h1 - h2, w1 - w2),
                 "ceil": (-(-(h1 - h2) // 2), -(-(w1 - w2) // 2))}.get(how, ((h1 - h2) // 2, (w1 - w2) // 2))
    cropped = skip[:, :, top:top + h2, left:left + w2]  # (N, C1, H2, W2)
    parts = [up, cropped] if how == "up-first" else [cropped, up]
    return np.concatenate(parts, axis=1)


def _cc_mistake(key, text, how):
    def cand(P, dev):
        got = crop_and_concat_reference(P.skip, P.up, how=how)
        right = crop_and_concat_reference(P.skip, P.up)
        return None if got.shape == right.shape and np.array_equal(got, right) else got
    return Mistake(key, text, cand)


_CC_MISTAKES = (
    _cc_mistake("crop-top-left", "The skip is cropped at the top-left corner; crop it at the centre: remove "
                "⌊(H1 − H2)/2⌋ rows at the top and the rest at the bottom (likewise for columns).", "top-left"),
    _cc_mistake("crop-bottom-right", "The skip is cropped at the bottom-right corner; crop it at the centre: remove "
                "⌊(H1 − H2)/2⌋ rows at the top and the rest at the bottom.", "bottom-right"),
    _cc_mistake("crop-ceil", "For an odd difference your crop removes the extra row/column at the top/left; remove "
                "⌊(H1 − H2)/2⌋ at the top (the floor) and the rest at the bottom.", "ceil"),
    _cc_mistake("order-swapped", "The channels come in the wrong order: the skip's channels first, then up's.",
                "up-first"),
    _cc_mistake("pad-up", "up is padded to the skip's size; the exercise crops the skip to up's size instead "
                "(the original U-Net's choice).", "pad-up"),
)


def _cc_case(label, rng, n, c1, c2, h1, w1, h2, w2, error=None):
    return CROP_AND_CONCAT.case(label, error=error, skip=rng.standard_normal((n, c1, h1, w1)),
                                up=rng.standard_normal((n if error != "batch" else n + 1, c2, h2, w2)))


def _cc_worked():
    rng = np.random.default_rng(0)
    return [CROP_AND_CONCAT.case("worked example 'the original U-Net: 64x64 skip, 56x56 up'",
                                 skip=np.arange(64 * 64, dtype=np.float64).reshape(1, 1, 64, 64),
                                 up=rng.standard_normal((1, 2, 56, 56))),
            CROP_AND_CONCAT.case("worked example '5x5 skip, 2x2 up'", skip=np.arange(25.0).reshape(1, 1, 5, 5),
                                 up=np.ones((1, 1, 2, 2)))]


def _cc_features(rng):
    return [_cc_case("feature case 'odd differences (3, 5)'", rng, 2, 2, 3, 7, 9, 4, 4),
            _cc_case("feature case 'same size: nothing to crop'", rng, 2, 3, 1, 4, 5, 4, 5),
            _cc_case("feature case 'crop along W only'", rng, 1, 2, 2, 4, 8, 4, 5),
            _cc_case("feature case 'batch of three'", rng, 3, 1, 2, 6, 6, 2, 3)]


def _cc_random(rng, label):
    n, c1, c2 = (int(v) for v in rng.integers(1, (4, 4, 4)))
    h2, w2 = (int(v) for v in rng.integers(1, 6, size=2))
    h1, w1 = h2 + int(rng.integers(0, 6)), w2 + int(rng.integers(0, 6))
    return _cc_case(label, rng, n, c1, c2, h1, w1, h2, w2)


def _cc_errors():
    rng = np.random.default_rng(7)
    return [CROP_AND_CONCAT.case("error case 'skip smaller than up'", error="ValueError",
                                 skip=rng.standard_normal((1, 2, 4, 4)), up=rng.standard_normal((1, 2, 6, 4))),
            CROP_AND_CONCAT.case("error case 'batch sizes differ'", error="ValueError",
                                 skip=rng.standard_normal((2, 2, 6, 6)), up=rng.standard_normal((3, 2, 4, 4)))]


CROP_AND_CONCAT = Exercise(
    name="crop_and_concat",
    signature=(("skip", REQUIRED), ("up", REQUIRED)),
    reference=crop_and_concat_reference,
    worked=_cc_worked,
    features=_cc_features,
    random=_cc_random,
    errors=_cc_errors,
    mistakes=_CC_MISTAKES,
    normalize=_ns,
)


# --------------------------------------------------------------- dice_score
def dice_score_reference(pred, target, *, how=None):
    """Per-image Dice of (N, H, W) binary masks -> (N,) float64; 1 where both masks are empty."""
    p, t = np.asarray(pred).astype(bool), np.asarray(target).astype(bool)
    inter = (p & t).sum(axis=(1, 2)).astype(np.float64)  # (N,)
    sizes = (p.sum(axis=(1, 2)) + t.sum(axis=(1, 2))).astype(np.float64)  # (N,)
    union = (p | t).sum(axis=(1, 2)).astype(np.float64)
    if how == "pooled":
        total = sizes.sum()
        return np.full(len(p), 1.0 if total == 0 else 2 * inter.sum() / total)
    empty = 0.0 if how == "empty-zero" else 1.0
    num = {"iou": inter, "no-factor-2": inter}.get(how, 2 * inter)
    den = {"iou": union, "union": union}.get(how, sizes)
    return np.where(den == 0, empty, num / np.maximum(den, 1))


def _metric_mistake(key, text, ref, how):
    def cand(P, dev):
        args = (P.pred, P.target) if not hasattr(P, "num_classes") else (P.pred, P.target, P.num_classes)
        got, right = ref(*args, how=how), ref(*args)
        return None if np.allclose(got, right) else got
    return Mistake(key, text, cand)


_DICE_MISTAKES = (
    _metric_mistake("iou-instead", "Your score is the IoU |P∩T|/|P∪T|; Dice is 2|P∩T|/(|P| + |T|).",
                    dice_score_reference, "iou"),
    _metric_mistake("no-factor-2", "The factor 2 is missing: Dice = 2|P∩T|/(|P| + |T|) (1 for identical masks).",
                    dice_score_reference, "no-factor-2"),
    _metric_mistake("over-union", "Your score is 2|P∩T|/|P∪T|; Dice divides by |P| + |T|.",
                    dice_score_reference, "union"),
    _metric_mistake("empty-zero", "An image where both masks are empty scores 0; it must score 1 (a perfect match).",
                    dice_score_reference, "empty-zero"),
    _metric_mistake("batch-pooled", "Your scores pool the whole batch into one Dice; compute one Dice per image "
                    "(sum over H and W only).", dice_score_reference, "pooled"),
)


def _masks(rng, n, h, w, p=0.3):
    return rng.random((n, h, w)) < p


def _dice_worked():
    p, t = np.zeros((3, 4, 4), dtype=bool), np.zeros((3, 4, 4), dtype=bool)
    p[0, :2], t[0, 1:3], p[1] = True, True, True
    return [DICE_SCORE.case("worked example 'half overlap, nothing there, both empty'", pred=p, target=t)]


def _dice_features(rng):
    a = _masks(rng, 3, 5, 6)
    empty = np.zeros((2, 4, 4), dtype=bool)
    return [DICE_SCORE.case("feature case 'identical masks'", pred=a, target=a.copy()),
            DICE_SCORE.case("feature case 'both empty'", pred=empty, target=empty.copy()),
            DICE_SCORE.case("feature case 'one image, random'", pred=_masks(rng, 1, 6, 5), target=_masks(rng, 1, 6, 5)),
            DICE_SCORE.case("feature case '0/1 integer masks'", pred=_masks(rng, 2, 4, 4).astype(np.int64),
                            target=_masks(rng, 2, 4, 4).astype(np.int64))]


def _dice_random(rng, label):
    n, h, w = (int(v) for v in rng.integers(1, (5, 9, 9)))
    return DICE_SCORE.case(label, pred=_masks(rng, n, h, w, rng.uniform(0.1, 0.6)),
                           target=_masks(rng, n, h, w, rng.uniform(0.1, 0.6)))


DICE_SCORE = Exercise(
    name="dice_score",
    signature=(("pred", REQUIRED), ("target", REQUIRED)),
    reference=dice_score_reference,
    worked=_dice_worked,
    features=_dice_features,
    random=_dice_random,
    mistakes=_DICE_MISTAKES,
    normalize=_ns,
    probe_constant=False,  # note: boolean inputs are not redrawn by the probe
)


# ----------------------------------------------------------------- mean_iou
def mean_iou_reference(pred, target, num_classes, *, how=None):
    """Per-image mean IoU over the classes present in the prediction or the target: (N, H, W) -> (N,)."""
    pred, target = np.asarray(pred), np.asarray(target)
    if how == "pixel-accuracy":
        return (pred == target).mean(axis=(1, 2)).astype(np.float64)
    if how == "pooled":
        return np.full(len(pred), mean_iou_reference(pred.reshape(1, -1, 1), target.reshape(1, -1, 1), num_classes)[0])
    out = np.zeros(len(pred))
    for k in range(len(pred)):
        scores = []
        for c in range(1 if how == "skip-background" else 0, num_classes):
            p, t = pred[k] == c, target[k] == c
            union, inter = int((p | t).sum()), int((p & t).sum())
            if union:
                scores.append(2 * inter / (p.sum() + t.sum()) if how == "dice" else inter / union)
            elif how in ("absent-zero", "absent-one"):
                scores.append(0.0 if how == "absent-zero" else 1.0)
        out[k] = np.mean(scores) if scores else 1.0
    return out


_MIOU_MISTAKES = (
    _metric_mistake("absent-classes-zero", "Classes that appear in neither the prediction nor the target count as "
                    "IoU 0; leave them out of the average (their IoU is undefined).", mean_iou_reference, "absent-zero"),
    _metric_mistake("absent-classes-one", "Classes that appear in neither the prediction nor the target count as "
                    "IoU 1; leave them out of the average.", mean_iou_reference, "absent-one"),
    _metric_mistake("pixel-accuracy", "Your score is the pixel accuracy (the fraction of pixels labelled right); "
                    "mean IoU averages |P=c ∩ T=c| / |P=c ∪ T=c| over the classes.", mean_iou_reference,
                    "pixel-accuracy"),
    _metric_mistake("batch-pooled", "Your scores pool the whole batch into one mean IoU; compute it per image.",
                    mean_iou_reference, "pooled"),
    _metric_mistake("background-skipped", "Class 0 is left out; every class present in the prediction or the target "
                    "counts, the background too.", mean_iou_reference, "skip-background"),
    _metric_mistake("dice-per-class", "Your score averages Dice per class; mean IoU averages IoU = |P∩T|/|P∪T|.",
                    mean_iou_reference, "dice"),
)


def _labels(rng, n, h, w, k):
    return rng.integers(0, k, size=(n, h, w))


def _miou_worked():
    t = np.zeros((2, 4, 4), dtype=np.int64)
    t[:, :, 2:] = 1
    p = np.zeros((2, 4, 4), dtype=np.int64)
    p[0, :, 1:] = 1
    return [MEAN_IOU.case("worked example 'two classes, class 2 nowhere'", pred=p, target=t, num_classes=3)]


def _miou_features(rng):
    t = _labels(rng, 2, 5, 5, 2)  # classes 0 and 1 only, of 4
    return [MEAN_IOU.case("feature case 'classes missing from every image'", pred=_labels(rng, 2, 5, 5, 2), target=t,
                          num_classes=4),
            MEAN_IOU.case("feature case 'perfect prediction'", pred=t.copy(), target=t, num_classes=2),
            MEAN_IOU.case("feature case 'one image, three classes'", pred=_labels(rng, 1, 6, 4, 3),
                          target=_labels(rng, 1, 6, 4, 3), num_classes=3),
            MEAN_IOU.case("feature case 'a class predicted but absent from the target'",
                          pred=np.full((1, 3, 3), 2), target=np.zeros((1, 3, 3), dtype=np.int64), num_classes=3)]


def _miou_random(rng, label):
    n, h, w = (int(v) for v in rng.integers(1, (4, 7, 7)))
    k = int(rng.integers(2, 6))
    return MEAN_IOU.case(label, pred=_labels(rng, n, h, w, k), target=_labels(rng, n, h, w, max(1, k - 1)),
                         num_classes=k)


MEAN_IOU = Exercise(
    name="mean_iou",
    signature=(("pred", REQUIRED), ("target", REQUIRED), ("num_classes", REQUIRED)),
    reference=mean_iou_reference,
    worked=_miou_worked,
    features=_miou_features,
    random=_miou_random,
    mistakes=_MIOU_MISTAKES,
    normalize=_ns,
    probe_constant=False,  # note: integer label maps are not redrawn by the probe
)


# ------------------------------------------------------- the trained U-Net
def noisy_shapes(n, seed):
    """ps5's data: (n, 1, 16, 16) shapes with Gaussian noise (std 0.3) and their 0/1 masks."""
    from cnnlab.data import make_shapes

    clean, _, _ = make_shapes(n, 16, seed=seed)
    noise = np.random.default_rng(seed + 1000).normal(0.0, 0.3, clean.shape)
    return (clean + noise)[:, None], (clean > 0.5)[:, None].astype(np.float64)


HELD_BACK_SEED = 20_507  # not shown to students
UNET_DICE = 0.85


def check_trained_unet(model, *, n=300, seed=HELD_BACK_SEED, required=UNET_DICE) -> CheckResult:
    """Mean Dice of `model` (eval mode, logits > 0) on `n` unseen noisy shapes; passes at `required`.
    ``check("tiny_unet", unet)`` is the same check (decided by the grader in grading mode)."""
    from cnnlab.grading.exercises._trained import TINY_UNET

    return TINY_UNET.check(model, seed=seed - TINY_UNET.base_seed, time_limit=None, n=n, required=required)


EXERCISES = [CROP_AND_CONCAT, DICE_SCORE, MEAN_IOU]
