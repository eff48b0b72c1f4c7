"""cnnlab.functional.transpose: conv_transpose2d, vectorized and naive (and the reference), against
F.conv_transpose2d in float64; it is conv2d's input gradient; bad arguments."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

from cnnlab import functional as F
from cnnlab import reference as R

pytestmark = [pytest.mark.ps5]

CONVT = [F.conv_transpose2d, F.conv_transpose2d_naive, R.conv_transpose2d]


def _ids(fns):
    return [f"{f.__module__.split('.')[-1]}.{f.__name__}" for f in fns]


def _t(a):
    return None if a is None else torch.tensor(a, dtype=torch.float64)


def close(actual, expected, atol=1e-10):
    assert np.shape(actual) == np.shape(expected)
    np.testing.assert_allclose(np.asarray(actual), np.asarray(expected, dtype=np.float64), rtol=1e-10, atol=atol)


# (N, C_in, C_out, H, W, KH, KW, stride, padding, output_padding, dilation, bias)
CASES = [
    (2, 3, 4, 5, 7, 3, 3, 1, 0, 0, 1, True),
    (2, 3, 2, 4, 4, 3, 3, 2, 1, 1, 1, True),               # the U-Net / decoder upsampling by 2
    (3, 2, 3, 3, 5, 2, 3, (2, 3), (1, 0), (1, 2), 1, False),
    (2, 2, 2, 4, 3, 3, 2, (1, 2), (2, 1), (1, 0), (2, 3), True),  # output_padding < dilation, not < stride
    (1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, False),              # the smallest
    (2, 4, 1, 3, 2, 1, 1, 2, 0, 1, 1, True),               # 1x1 kernel: a strided scatter
    (2, 1, 3, 2, 2, 4, 4, 2, 1, 0, 1, True),               # the classic 4x4 stride-2 kernel
    (1, 2, 2, 6, 5, 3, 3, 3, (2, 2), (2, 0), (1, 2), False),
]


def _random_cases(seed, count):
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < count:
        K, s, d = rng.integers(1, 4, (3, 2))
        p, op = rng.integers(0, 3, 2), rng.integers(0, 3, 2)
        H, W = rng.integers(1, 6, 2)
        if any(op[a] >= s[a] and op[a] >= d[a] for a in range(2)):
            continue
        if any((n - 1) * s[a] - 2 * p[a] + d[a] * (K[a] - 1) + op[a] + 1 < 1 for a, n in enumerate((H, W))):
            continue
        pair = lambda v: (int(v[0]), int(v[1])) if rng.random() < 0.7 else int(v[0])  # noqa: E731
        s_, p_, op_, d_ = pair(s), pair(p), pair(op), pair(d)
        as_pair = lambda v: v if isinstance(v, tuple) else (v, v)  # noqa: E731
        if any(as_pair(op_)[a] >= as_pair(s_)[a] and as_pair(op_)[a] >= as_pair(d_)[a] for a in range(2)):
            continue
        if any((n - 1) * as_pair(s_)[a] - 2 * as_pair(p_)[a] + as_pair(d_)[a] * (K[a] - 1) + as_pair(op_)[a] + 1 < 1
               for a, n in enumerate((H, W))):
            continue
        out.append((int(rng.integers(1, 4)), int(rng.integers(1, 4)), int(rng.integers(1, 4)), int(H), int(W),
                    int(K[0]), int(K[1]), s_, p_, op_, d_, bool(rng.random() < 0.5)))
    return out


ALL_CASES = CASES + _random_cases(1, 12)


def _inputs(case, rng):
    N, C_in, C_out, H, W, KH, KW, s, p, op, d, bias = case
    x = rng.standard_normal((N, C_in, H, W))
    w = rng.standard_normal((C_in, C_out, KH, KW))
    b = rng.standard_normal(C_out) if bias else None
    return x, w, b, dict(stride=s, padding=p, output_padding=op, dilation=d)


@pytest.mark.parametrize("convt", CONVT, ids=_ids(CONVT))
@pytest.mark.parametrize("case", ALL_CASES)
def test_conv_transpose2d_matches_torch(convt, case, rng):
    x, w, b, kw = _inputs(case, rng)
    before = x.copy(), w.copy()
    out = convt(x, w, b, **kw)
    close(out, TF.conv_transpose2d(_t(x), _t(w), _t(b), **kw).numpy())
    np.testing.assert_array_equal(x, before[0])
    np.testing.assert_array_equal(w, before[1])


@pytest.mark.parametrize("convt", CONVT, ids=_ids(CONVT))
def test_conv_transpose2d_hand_computed(convt):
    # d2l's example: each input pixel scatters a scaled copy of the kernel; overlaps add
    x = np.array([[0.0, 1.0], [2.0, 3.0]])[None, None]
    k = np.array([[0.0, 1.0], [2.0, 3.0]])[None, None]
    close(convt(x, k), [[[[0, 0, 1], [0, 4, 6], [4, 12, 9]]]])
    # stride 2: the copies no longer overlap
    close(convt(x, k, stride=2), [[[[0, 0, 0, 1], [0, 0, 2, 3], [0, 2, 0, 3], [4, 6, 6, 9]]]])
    # padding crops one row/column from each side; output_padding adds one at the bottom/right
    close(convt(x, k, stride=2, padding=1), [[[[0, 2], [2, 0]]]])
    close(convt(x, k, stride=2, padding=1, output_padding=1), [[[[0, 2, 3], [2, 0, 3], [6, 6, 9]]]])


@pytest.mark.parametrize("convt", CONVT, ids=_ids(CONVT))
@pytest.mark.parametrize("case", CASES[:3] + CASES[5:7])  # output_padding < stride
def test_conv_transpose2d_is_the_input_gradient_of_conv2d(convt, case, rng):
    x, w, _, kw = _inputs(case, rng)
    op = kw.pop("output_padding")
    y = convt(x, w, None, output_padding=op, **kw)  # (N, C_out, H_out, W_out)
    # conv2d of y with the same w (C_in as its C_out) maps back to x's shape; its input gradient at dout=x is y
    dx, _, _ = F.conv2d_backward(x, y, w, **kw)
    close(dx, y)


@pytest.mark.parametrize("convt", CONVT, ids=_ids(CONVT))
@pytest.mark.parametrize("args,kw,exc,msg", [
    ((np.ones((1, 3, 4, 4)), np.ones((2, 3, 3, 3))), {}, ValueError,
     r"w.shape\[0\]=2 .*transposed conv's w is \(C_in, C_out, KH, KW\)"),
    ((np.ones((1, 3, 4)), np.ones((3, 2, 3, 3))), {}, ValueError, r"x must be 4-D \(N, C_in, H, W\); got shape"),
    ((np.ones((1, 3, 4, 4)), np.ones((3, 2, 3))), {}, ValueError, r"w must be 4-D \(C_in, C_out, KH, KW\)"),
    ((np.ones((1, 3, 4, 4)), np.ones((3, 2, 3, 3)), np.ones(3)), {}, ValueError, r"b must have shape \(C_out,\) = \(2,\)"),
    ((np.ones((1, 3, 4, 4)), np.ones((3, 2, 3, 3))), dict(stride=2, output_padding=2), ValueError,
     "output_padding must be smaller than either stride or dilation"),
    ((np.ones((1, 3, 4, 4)), np.ones((3, 2, 3, 3))), dict(output_padding=1), ValueError,
     "output_padding must be smaller than either stride or dilation"),
    ((np.ones((1, 3, 1, 1)), np.ones((3, 2, 1, 1))), dict(padding=1), ValueError, "crops away the whole output"),
    ((np.ones((1, 3, 4, 4)), np.ones((3, 2, 3, 3))), dict(stride=0), ValueError, "stride must be >= 1"),
    ((np.ones((1, 3, 4, 4)), np.ones((3, 2, 3, 3))), dict(padding=1.5), TypeError, "padding must be an int"),
])
def test_conv_transpose2d_rejects_bad_input(convt, args, kw, exc, msg):
    with pytest.raises(exc, match=msg):
        convt(*args, **kw)


@pytest.mark.parametrize("case", [CASES[1], CASES[3], CASES[7]])
def test_conv_transpose2d_blocked_matches_torch(case, rng, monkeypatch):
    import cnnlab.functional.transpose as transpose_module

    monkeypatch.setattr(transpose_module, "_BLOCK_BYTES", 1)  # one image per block, split between threads
    x, w, b, kw = _inputs(case, rng)
    x = np.concatenate([x, -x, 2 * x])
    close(F.conv_transpose2d(x, w, b, **kw), TF.conv_transpose2d(_t(x), _t(w), _t(b), **kw).numpy())
