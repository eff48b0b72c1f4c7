"""Wrong student implementations of the ps4/ps5 exercises, one per keyed mistake.

Each is numpy written the way a student would, with one mistake marked
`# BUG`. A student-style base with a `bug=` switch selects the faulty line,
so the rest of the code is known to be right (the base with `bug=None` is in
`CORRECT` and passes `check`). `CATALOGUE` lists (exercise, function, the
`CheckResult.mistake` key `check` must give).
"""
from __future__ import annotations

from functools import partial

import numpy as np

_AX = (0, 2, 3)


def _v(a):
    return a[None, :, None, None]  # (C,) -> (1, C, 1, 1)


def _pair(v):
    return (int(v), int(v)) if np.isscalar(v) else (int(v[0]), int(v[1]))


# ------------------------------------------------------------- batch_norm2d
def batch_norm2d(x, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5,
                 bug=None):
    m = x.shape[0] * x.shape[2] * x.shape[3]
    if training or bug == "eval_batch":
        mean, var = x.mean(axis=_AX), x.var(axis=_AX)
        if bug == "per_sample":
            mean_b, var_b = x.mean(axis=(2, 3), keepdims=True), x.var(axis=(2, 3), keepdims=True)  # BUG
        if bug == "keras":
            new_mean = momentum * running_mean + (1 - momentum) * mean  # BUG: Keras' convention
            new_var = momentum * running_var + (1 - momentum) * var * m / (m - 1)
        elif bug == "biased_running":
            new_mean = (1 - momentum) * running_mean + momentum * mean
            new_var = (1 - momentum) * running_var + momentum * var  # BUG: biased
        elif bug == "replaced":
            new_mean, new_var = mean, var * m / (m - 1)  # BUG: no moving average
        else:
            new_mean = (1 - momentum) * running_mean + momentum * mean
            new_var = (1 - momentum) * running_var + momentum * var * m / (m - 1)
        if bug == "unbiased":
            var = var * m / (m - 1)  # BUG: normalise with the unbiased variance
        if bug == "train_running":
            mean, var = running_mean, running_var  # BUG
        if not training:  # only reached with bug == "eval_batch"
            new_mean, new_var = running_mean.copy(), running_var.copy()
    else:
        mean, var = running_mean, running_var
        new_mean, new_var = running_mean.copy(), running_var.copy()
        if bug == "eval_updates":
            new_mean = 0.9 * running_mean + 0.1 * x.mean(axis=_AX)  # BUG
    if bug == "eps_outside":
        y = (x - _v(mean)) / (np.sqrt(_v(var)) + eps)  # BUG
    elif bug == "per_sample" and training:
        y = (x - mean_b) / np.sqrt(var_b + eps)
    else:
        y = (x - _v(mean)) / np.sqrt(_v(var) + eps)
    if bug == "swapped" and weight is not None and bias is not None:
        weight, bias = bias, weight  # BUG
    if weight is not None:
        y = y * _v(weight)
    if bias is not None:
        y = y + _v(bias)
    return y, new_mean, new_var


def batch_norm2d_inplace(x, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1,
                         eps=1e-5):
    y, m, v = batch_norm2d(x, running_mean, running_var, weight, bias, training, momentum, eps)
    running_mean[...] = m  # BUG: updates the caller's buffers in place, like torch
    running_var[...] = v
    return y, running_mean, running_var


def batch_norm2d_backward(dout, x, weight=None, eps=1e-5, bug=None):
    m = x.shape[0] * x.shape[2] * x.shape[3]
    mean, var = x.mean(axis=_AX, keepdims=True), x.var(axis=_AX, keepdims=True)
    if bug == "unbiased":
        var = var * m / (m - 1)  # BUG
    inv = 1 / (np.sqrt(var) + eps) if bug == "eps_outside" else 1 / np.sqrt(var + eps)  # BUG when eps_outside
    xhat = (x - mean) * inv
    g = np.ones(x.shape[1]) if weight is None or bug == "weight_ignored" else weight  # BUG when weight_ignored
    dxhat = dout * _v(g)
    if bug == "constant":
        dx = dxhat * inv  # BUG: mean and variance treated as constants
    elif bug == "no_var":
        dx = inv * (dxhat - dxhat.mean(axis=_AX, keepdims=True))  # BUG
    else:
        dx = inv / m * (m * dxhat - dxhat.sum(axis=_AX, keepdims=True)
                        - xhat * (dxhat * xhat).sum(axis=_AX, keepdims=True))
    dw = (dout * x).sum(axis=_AX) if bug == "raw_x" else (dout * xhat).sum(axis=_AX)  # BUG when raw_x
    db = dout.mean(axis=_AX) if bug == "db_mean" else dout.sum(axis=_AX)  # BUG when db_mean
    return dx, dw, db


CORRECT = {"batch_norm2d": batch_norm2d, "batch_norm2d_backward": batch_norm2d_backward}

CATALOGUE = [
    ("batch_norm2d", partial(batch_norm2d, bug="keras"), "momentum-keras"),
    ("batch_norm2d", partial(batch_norm2d, bug="unbiased"), "unbiased-normalise"),
    ("batch_norm2d", partial(batch_norm2d, bug="eval_batch"), "eval-uses-batch-stats"),
    ("batch_norm2d", partial(batch_norm2d, bug="train_running"), "training-uses-running"),
    ("batch_norm2d", partial(batch_norm2d, bug="biased_running"), "running-var-biased"),
    ("batch_norm2d", partial(batch_norm2d, bug="replaced"), "running-replaced"),
    ("batch_norm2d", partial(batch_norm2d, bug="eps_outside"), "eps-outside-sqrt"),
    ("batch_norm2d", partial(batch_norm2d, bug="per_sample"), "per-sample-stats"),
    ("batch_norm2d", partial(batch_norm2d, bug="swapped"), "weight-bias-swapped"),
    ("batch_norm2d", partial(batch_norm2d, bug="eval_updates"), "eval-updates-running"),
    ("batch_norm2d", batch_norm2d_inplace, "mutates-input"),
    ("batch_norm2d_backward", partial(batch_norm2d_backward, bug="constant"), "dx-constant-stats"),
    ("batch_norm2d_backward", partial(batch_norm2d_backward, bug="no_var"), "dx-no-variance-path"),
    ("batch_norm2d_backward", partial(batch_norm2d_backward, bug="unbiased"), "dx-unbiased-var"),
    ("batch_norm2d_backward", partial(batch_norm2d_backward, bug="eps_outside"), "dx-eps-outside-sqrt"),
    ("batch_norm2d_backward", partial(batch_norm2d_backward, bug="weight_ignored"), "dx-weight-ignored"),
    ("batch_norm2d_backward", partial(batch_norm2d_backward, bug="raw_x"), "dweight-raw-x"),
    ("batch_norm2d_backward", partial(batch_norm2d_backward, bug="db_mean"), "dbias-mean"),
]


# --------------------------------------------------------- conv_transpose2d
def conv_transpose2d(x, w, b=None, stride=1, padding=0, output_padding=0, dilation=1, bug=None):
    (sh, sw), (ph, pw), (oh, ow), (dh, dw) = (_pair(v) for v in (stride, padding, output_padding, dilation))
    if bug == "stride_ignored":
        sh, sw = 1, 1  # BUG
    if bug == "swapped_w":
        w = w.transpose(1, 0, 2, 3)  # BUG: read as (C_out, C_in, KH, KW)
    if bug == "flipped":
        w = w[:, :, ::-1, ::-1]  # BUG
    n, _, h, wd = x.shape
    c_out, kh, kw = w.shape[1:]
    full_h = (h - 1) * sh + dh * (kh - 1) + 1 + (0 if bug == "op_ignored" else oh)  # BUG when op_ignored
    full_w = (wd - 1) * sw + dw * (kw - 1) + 1 + (0 if bug == "op_ignored" else ow)
    out = np.zeros((n, c_out, full_h, full_w))
    for u in range(kh):
        for v in range(kw):
            contrib = np.einsum("ncij,co->noij", x, w[:, :, u, v])
            out[:, :, u * dh:u * dh + (h - 1) * sh + 1:sh, v * dw:v * dw + (wd - 1) * sw + 1:sw] += contrib
    if bug == "pad_added":
        out = np.pad(out, ((0, 0), (0, 0), (ph, ph), (pw, pw)))  # BUG: pads instead of cropping
    elif bug == "crop_once":
        out = out[:, :, ph:, pw:]  # BUG: top and left only
    else:
        out = out[:, :, ph:full_h - ph, pw:full_w - pw]
    if b is not None and bug != "no_bias":  # BUG when no_bias
        out = out + b[None, :, None, None]
    return out


CORRECT["conv_transpose2d"] = conv_transpose2d
CATALOGUE += [
    ("conv_transpose2d", partial(conv_transpose2d, bug="swapped_w"), "weight-axes-swapped"),
    ("conv_transpose2d", partial(conv_transpose2d, bug="pad_added"), "padding-added"),
    ("conv_transpose2d", partial(conv_transpose2d, bug="crop_once"), "padding-cropped-once"),
    ("conv_transpose2d", partial(conv_transpose2d, bug="flipped"), "kernel-flipped"),
    ("conv_transpose2d", partial(conv_transpose2d, bug="op_ignored"), "output-padding-ignored"),
    ("conv_transpose2d", partial(conv_transpose2d, bug="no_bias"), "bias-missing"),
    ("conv_transpose2d", partial(conv_transpose2d, bug="stride_ignored"), "stride-ignored"),
]


# ------------------------------------------------------------------ box_iou
def box_iou(boxes1, boxes2, bug=None):
    b1, b2 = boxes1[:, None, :], boxes2[None, :, :]
    if bug == "xywh":
        b1 = np.concatenate([b1[..., :2], b1[..., :2] + b1[..., 2:]], axis=-1)  # BUG: (x, y, w, h)
        b2 = np.concatenate([b2[..., :2], b2[..., :2] + b2[..., 2:]], axis=-1)
    one = 1.0 if bug == "plus_one" else 0.0  # BUG when plus_one: pixel convention
    a1 = (b1[..., 2] - b1[..., 0] + one) * (b1[..., 3] - b1[..., 1] + one)
    a2 = (b2[..., 2] - b2[..., 0] + one) * (b2[..., 3] - b2[..., 1] + one)
    w = np.minimum(b1[..., 2], b2[..., 2]) - np.maximum(b1[..., 0], b2[..., 0]) + one
    h = np.minimum(b1[..., 3], b2[..., 3]) - np.maximum(b1[..., 1], b2[..., 1]) + one
    inter = w * h if bug == "no_clip" else np.maximum(w, 0) * np.maximum(h, 0)  # BUG when no_clip
    if bug == "sum":
        return inter / (a1 + a2)  # BUG
    if bug == "min":
        return inter / np.minimum(a1, a2)  # BUG
    iou = inter / (a1 + a2 - inter)
    return iou.T if bug == "transposed" else iou  # BUG when transposed


def nms(boxes, scores, iou_threshold, bug=None):
    if bug == "unsorted":
        order = np.arange(len(scores))  # BUG
    elif bug == "unstable":
        order = np.argsort(-scores, kind="stable")
        # BUG: ties visited from the highest index
        order = np.array(sorted(range(len(scores)), key=lambda i: (-scores[i], -i)), dtype=np.int64)
    else:
        order = np.argsort(-scores, kind="stable")
    iou = box_iou(boxes, boxes)
    removed = np.zeros(len(scores), dtype=bool)
    keep = []
    for pos, i in enumerate(order):
        if removed[i]:
            if bug == "all_suppress":
                removed |= iou[i] > iou_threshold  # BUG
            continue
        keep.append(pos if bug == "positions" else i)  # BUG when positions
        removed |= iou[i] >= iou_threshold if bug == "ge" else iou[i] > iou_threshold  # BUG when ge
    keep = np.array(keep, dtype=np.int64)
    return np.sort(keep) if bug == "index_order" else keep  # BUG when index_order


def nms_float(boxes, scores, iou_threshold):
    return nms(boxes, scores, iou_threshold).astype(np.float64)  # BUG: indices as floats


def decode_grid(pred, image_size, conf_threshold=0.5, bug=None):
    S = pred.shape[0]
    boxes, scores = [], []
    cells = [(i, j) for j in range(S) for i in range(S)] if bug == "column_major" else \
        [(i, j) for i in range(S) for j in range(S)]  # BUG when column_major
    for i, j in cells:
        tx, ty, tw, th, conf = pred[i, j]
        if (conf >= conf_threshold) if bug == "ge" else (conf > conf_threshold):  # BUG when ge
            if bug == "rows_cols":
                i, j = j, i  # BUG
            cx, cy = (j + tx) / S, (i + ty) / S
            if bug == "corner":
                box = [cx, cy, cx + tw, cy + th]  # BUG
            else:
                box = [cx - tw / 2, cy - th / 2, cx + tw / 2, cy + th / 2]
            boxes.append(box if bug == "not_scaled" else [v * image_size for v in box])  # BUG when not_scaled
            scores.append(conf)
    return np.array(boxes, dtype=np.float64).reshape(-1, 4), np.array(scores, dtype=np.float64)


CORRECT.update(box_iou=box_iou, nms=nms, decode_grid=decode_grid)
CATALOGUE += [
    ("box_iou", partial(box_iou, bug="plus_one"), "plus-one-pixel"),
    ("box_iou", partial(box_iou, bug="no_clip"), "intersection-not-clipped"),
    ("box_iou", partial(box_iou, bug="sum"), "union-is-sum"),
    ("box_iou", partial(box_iou, bug="min"), "over-smaller-area"),
    ("box_iou", partial(box_iou, bug="xywh"), "xywh"),
    ("box_iou", partial(box_iou, bug="transposed"), "transposed"),
    ("nms", partial(nms, bug="ge"), "suppress-at-threshold"),
    ("nms", partial(nms, bug="index_order"), "index-order"),
    ("nms", partial(nms, bug="unsorted"), "not-sorted"),
    ("nms", partial(nms, bug="all_suppress"), "suppressed-suppress"),
    ("nms", partial(nms, bug="unstable"), "unstable-ties"),
    ("nms", partial(nms, bug="positions"), "positions-not-indices"),
    ("decode_grid", partial(decode_grid, bug="rows_cols"), "rows-cols-swapped"),
    ("decode_grid", partial(decode_grid, bug="not_scaled"), "not-scaled"),
    ("decode_grid", partial(decode_grid, bug="corner"), "centre-as-corner"),
    ("decode_grid", partial(decode_grid, bug="ge"), "conf-at-threshold"),
    ("decode_grid", partial(decode_grid, bug="column_major"), "column-major"),
]


# ---------------------------------------------------------- crop_and_concat
def crop_and_concat(skip, up, bug=None):
    (n1, _, h1, w1), (n2, _, h2, w2) = skip.shape, up.shape
    if bug != "no_raise" and (n1 != n2 or h1 < h2 or w1 < w2):
        raise ValueError(f"skip {skip.shape} is smaller than up {up.shape}")
    top, left = (h1 - h2) // 2, (w1 - w2) // 2
    if bug == "top_left":
        top, left = 0, 0  # BUG
    if bug == "ceil":
        top, left = (h1 - h2 + 1) // 2, (w1 - w2 + 1) // 2  # BUG: rounds up
    cropped = skip[:, :, top:top + h2, left:left + w2]
    parts = [up, cropped] if bug == "order" else [cropped, up]  # BUG when order
    return np.concatenate(parts, axis=1)


def dice_score(pred, target, bug=None):
    p, t = pred.astype(bool), target.astype(bool)
    inter = (p & t).sum(axis=(1, 2))
    total = p.sum(axis=(1, 2)) + t.sum(axis=(1, 2))
    if bug == "iou":
        union = (p | t).sum(axis=(1, 2))
        return np.where(union == 0, 1.0, inter / np.maximum(union, 1))  # BUG: IoU
    if bug == "empty_zero":
        return 2 * inter / np.maximum(total, 1)  # BUG: both empty -> 0
    if bug == "no_two":
        return np.where(total == 0, 1.0, inter / np.maximum(total, 1))  # BUG
    return np.where(total == 0, 1.0, 2.0 * inter / np.maximum(total, 1))


def mean_iou(pred, target, num_classes, bug=None):
    if bug == "accuracy":
        return (pred == target).mean(axis=(1, 2))  # BUG: pixel accuracy
    out = np.zeros(len(pred))
    for k in range(len(pred)):
        ious = []
        for c in range(1 if bug == "no_background" else 0, num_classes):  # BUG when no_background
            p, t = pred[k] == c, target[k] == c
            union = (p | t).sum()
            if union:
                ious.append((p & t).sum() / union)
            elif bug == "absent_zero":
                ious.append(0.0)  # BUG: absent classes count as 0
        out[k] = np.mean(ious)
    return out


CORRECT.update(crop_and_concat=crop_and_concat, dice_score=dice_score, mean_iou=mean_iou)
CATALOGUE += [
    ("crop_and_concat", partial(crop_and_concat, bug="top_left"), "crop-top-left"),
    ("crop_and_concat", partial(crop_and_concat, bug="ceil"), "crop-ceil"),
    ("crop_and_concat", partial(crop_and_concat, bug="order"), "order-swapped"),
    ("dice_score", partial(dice_score, bug="iou"), "iou-instead"),
    ("dice_score", partial(dice_score, bug="empty_zero"), "empty-zero"),
    ("dice_score", partial(dice_score, bug="no_two"), "no-factor-2"),
    ("mean_iou", partial(mean_iou, bug="accuracy"), "pixel-accuracy"),
    ("mean_iou", partial(mean_iou, bug="no_background"), "background-skipped"),
    ("mean_iou", partial(mean_iou, bug="absent_zero"), "absent-classes-zero"),
]


# -------------------------------------------------------------- basic_block
def _torch():
    import torch
    from torch import nn
    return torch, nn


def basic_block(c_in, c_out, stride=1, bug=None):
    torch, nn = _torch()

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            bias = bug == "conv_bias"  # BUG when conv_bias
            s1, s2 = (1, stride) if bug == "stride_conv2" else (stride, 1)  # BUG when stride_conv2
            self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=s1, padding=1, bias=bias)
            self.bn1 = nn.BatchNorm2d(c_out)
            self.conv2 = nn.Conv2d(c_out, c_out, 3, stride=s2, padding=1, bias=bias)
            self.bn2 = nn.BatchNorm2d(c_out)
            k = 3 if bug == "ds_kernel3" else 1  # BUG when ds_kernel3
            need = stride != 1 or c_in != c_out
            if bug == "no_downsample":
                need = False  # BUG
            if bug == "always_downsample":
                need = True  # BUG
            self.downsample = nn.Sequential(nn.Conv2d(c_in, c_out, k, stride=stride, padding=k // 2, bias=False),
                                            nn.BatchNorm2d(c_out)) if need else None

        def forward(self, x):
            out = torch.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            identity = x if self.downsample is None else self.downsample(x)
            if bug == "relu_before_add":
                return torch.relu(out) + identity  # BUG
            if bug == "no_final_relu":
                return out + identity  # BUG
            return torch.relu(out + identity)

    return Block()


def basic_block_sequential(c_in, c_out, stride=1):
    _, nn = _torch()
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride, 1), nn.BatchNorm2d(c_out), nn.ReLU())  # BUG: no block


def predict(model, x, bug=None):
    torch, _ = _torch()
    was = model.training
    if bug != "no_eval":
        model.eval()  # BUG when no_eval: BatchNorm uses the batch's statistics
    with torch.no_grad():
        out = model(torch.as_tensor(x, dtype=torch.float32)).argmax(dim=1)
    if bug != "no_restore":
        model.train(was)  # BUG when no_restore
    return out.numpy() if bug == "numpy" else out  # BUG when numpy


MODULE_CORRECT = {"check_basic_block": basic_block, "check_predict": predict}
MODULE_CATALOGUE = [
    ("check_basic_block", partial(basic_block, bug="relu_before_add"), "relu-before-add"),
    ("check_basic_block", partial(basic_block, bug="no_final_relu"), "no-final-relu"),
    ("check_basic_block", partial(basic_block, bug="no_downsample"), "downsample-missing"),
    ("check_basic_block", partial(basic_block, bug="always_downsample"), "downsample-always"),
    ("check_basic_block", partial(basic_block, bug="conv_bias"), "conv-bias"),
    ("check_basic_block", partial(basic_block, bug="ds_kernel3"), "downsample-kernel"),
    ("check_basic_block", partial(basic_block, bug="stride_conv2"), "stride-on-conv2"),
    ("check_basic_block", basic_block_sequential, "state-dict-keys"),
    ("check_predict", partial(predict, bug="no_eval"), "state-changed"),
    ("check_predict", partial(predict, bug="no_restore"), "mode-not-restored"),
    ("check_predict", partial(predict, bug="numpy"), "wrong-type"),
]
