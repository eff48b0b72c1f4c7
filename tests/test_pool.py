"""cnnlab.functional.pool: max/avg pooling and their backward passes, fast and naive, against torch."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

from cnnlab import functional as F

pytestmark = [pytest.mark.ps2, pytest.mark.lec4]

MAX = [F.max_pool2d, F.max_pool2d_naive]
AVG = [F.avg_pool2d, F.avg_pool2d_naive]
MAX_BACKWARD = [F.max_pool2d_backward, F.max_pool2d_backward_naive]
AVG_BACKWARD = [F.avg_pool2d_backward, F.avg_pool2d_backward_naive]
FORWARD = [(f, TF.max_pool2d) for f in MAX] + [(f, TF.avg_pool2d) for f in AVG]
BACKWARD = [(f, TF.max_pool2d) for f in MAX_BACKWARD] + [(f, TF.avg_pool2d) for f in AVG_BACKWARD]


def _ids(pairs):
    return [p[0].__name__ for p in pairs]


def _t(a, grad=False):
    return torch.tensor(a, dtype=torch.float64, requires_grad=grad)


# (N, C, H, W, kernel_size, stride, padding): square/non-square, stride None (= kernel), ints and
# asymmetric tuples, overlapping windows, kernel = input size, output size 1, maximal padding.
CASES = [
    (2, 3, 8, 6, 2, None, 0),
    (2, 3, 7, 9, (3, 2), None, (1, 1)),
    (3, 2, 7, 5, 3, 1, 1),
    (2, 2, 9, 8, (2, 4), (3, 1), (1, 2)),
    (2, 3, 5, 6, 1, (1, 2), 0),
    (2, 2, 4, 5, (4, 5), None, 0),
    (1, 2, 5, 5, 3, 4, 0),
    (2, 1, 3, 3, 2, 1, 1),
    (1, 1, 1, 1, 1, None, 0),
    (2, 2, 6, 7, (2, 3), 2, (1, 0)),
]


def _x(case, rng, ties=False):
    N, C, H, W = case[:4]
    if ties:  # few distinct values: many windows hold several maxima
        return rng.integers(-2, 2, (N, C, H, W)).astype(float)
    return rng.standard_normal((N, C, H, W))


def _hp(case):
    return dict(kernel_size=case[4], stride=case[5], padding=case[6])


@pytest.mark.parametrize("fn,op", FORWARD, ids=_ids(FORWARD))
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("ties", [False, True])
def test_pool2d_matches_torch(fn, op, case, ties, rng):
    x = _x(case, rng, ties)
    want = op(_t(x), **_hp(case)).numpy()
    got = fn(x, **_hp(case))
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("fn,op", BACKWARD, ids=_ids(BACKWARD))
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("ties", [False, True])
def test_pool2d_backward_matches_autograd(fn, op, case, ties, rng):
    x = _x(case, rng, ties)
    xt = _t(x, True)
    out = op(xt, **_hp(case))
    dout = rng.standard_normal(out.shape)
    out.backward(_t(dout))
    got = fn(dout, x, **_hp(case))
    assert got.shape == x.shape
    np.testing.assert_allclose(got, xt.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("fn,op", BACKWARD, ids=_ids(BACKWARD))
def test_pool2d_backward_central_differences(fn, op, rng):
    # distinct values so that max pooling is differentiable at x
    x = rng.permutation(60).reshape(1, 2, 5, 6) / 7.0
    hp = dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 1))
    forward = F.max_pool2d if op is TF.max_pool2d else F.avg_pool2d
    dout = rng.standard_normal(forward(x, **hp).shape)
    num, eps = np.zeros_like(x), 1e-6
    for idx in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[idx] += eps
        down[idx] -= eps
        num[idx] = (np.sum(forward(up, **hp) * dout) - np.sum(forward(down, **hp) * dout)) / (2 * eps)
    np.testing.assert_allclose(fn(dout, x, **hp), num, rtol=1e-6, atol=1e-8)


# --- hand-computed cases ------------------------------------------------------------

AXES_MAPS = np.array([[[[2, -2], [-1, 1]], [[-1, -0.5], [3.5, 4]]]])  # seed 001, after step 1
LINE_OUT = np.array([[[[3, -1, 0, 0], [5, -2, 0, 0], [3, -1, 0, 0]]]], dtype=float)  # seed 000's 3x4 output


@pytest.mark.parametrize("fn", MAX, ids=[f.__name__ for f in MAX])
def test_max_pool2d_seed_examples(fn):
    np.testing.assert_array_equal(fn(AXES_MAPS, 2), [[[[2]], [[4]]]])  # seed 001, step 2
    np.testing.assert_array_equal(fn(LINE_OUT, 2), [[[[5, 0]]]])  # 2x2, stride 2: the last row is dropped
    # padding 1 counts as -inf, so it never wins: windows rows {-1,0},{1,2} x cols {-1,0},{1,2},{3,4}
    np.testing.assert_array_equal(fn(LINE_OUT, 2, 2, 1), [[[[3, 0, 0], [5, 0, 0]]]])
    np.testing.assert_array_equal(fn(-np.ones((1, 1, 1, 2)), 2, 1, 1), [[[[-1, -1, -1], [-1, -1, -1]]]])


@pytest.mark.parametrize("fn", AVG, ids=[f.__name__ for f in AVG])
def test_avg_pool2d_seed_examples(fn):
    np.testing.assert_array_equal(fn(AXES_MAPS, 2), [[[[0]], [[1.5]]]])
    np.testing.assert_array_equal(fn(LINE_OUT, 2), [[[[1.25, 0]]]])
    # padding zeros count: the divisor is always 4
    np.testing.assert_array_equal(fn(LINE_OUT, 2, 2, 1), [[[[0.75, -0.25, 0], [2, -0.75, 0]]]])


@pytest.mark.parametrize("fn", MAX + AVG, ids=[f.__name__ for f in MAX + AVG])
def test_pool2d_stride_defaults_to_kernel_size(fn, rng):
    x = rng.standard_normal((2, 3, 6, 9))
    assert fn(x, (2, 3)).shape == (2, 3, 3, 3)
    np.testing.assert_array_equal(fn(x, (2, 3)), fn(x, (2, 3), (2, 3)))
    assert fn(x, 2, 1).shape == (2, 3, 5, 8)


@pytest.mark.parametrize("fn", MAX_BACKWARD, ids=[f.__name__ for f in MAX_BACKWARD])
def test_max_pool2d_backward_routing(fn):
    # seed 001: each map's gradient goes to its maximum, 2 at (0, 0) and 4 at (1, 1)
    dx = fn(np.array([[[[10.0]], [[20.0]]]]), AXES_MAPS, 2)
    np.testing.assert_array_equal(dx, [[[[10, 0], [0, 0]], [[0, 0], [0, 20]]]])
    # ties: the first maximum in row-major order wins, as in torch
    np.testing.assert_array_equal(fn(np.array([[[[1.0]]]]), np.zeros((1, 1, 2, 2)), 2), [[[[1, 0], [0, 0]]]])
    np.testing.assert_array_equal(fn(np.array([[[[1.0]]]]), np.array([[[[0, 3], [3, 3.0]]]]), 2),
                                  [[[[0, 1], [0, 0]]]])
    # overlapping windows that share a maximum add up
    np.testing.assert_array_equal(fn(np.array([[[[1.0, 2.0]]]]), np.array([[[[0, 5, 0.0]]]]), (1, 2), 1),
                                  [[[[0, 3, 0]]]])
    # an all -inf input: the gradient still lands on a real pixel (never on padding), as torch
    x = np.full((1, 1, 2, 3), -np.inf)
    xt = _t(x, True)
    TF.max_pool2d(xt, 2, 1, 1).backward(torch.ones(1, 1, 3, 4, dtype=torch.float64))
    np.testing.assert_array_equal(fn(np.ones((1, 1, 3, 4)), x, 2, 1, 1), xt.grad.numpy())


@pytest.mark.parametrize("fn", AVG_BACKWARD, ids=[f.__name__ for f in AVG_BACKWARD])
def test_avg_pool2d_backward_hand(fn):
    # seed 001's maps, averaged 2x2: each of the 4 cells gets a quarter of its window's gradient
    np.testing.assert_array_equal(fn(np.array([[[[4.0]], [[8.0]]]]), AXES_MAPS, 2),
                                  [[np.ones((2, 2)), 2 * np.ones((2, 2))]])
    np.testing.assert_array_equal(fn(np.ones((1, 1, 1, 1)), np.zeros((1, 1, 2, 2)), 2),
                                  [[[[0.25, 0.25], [0.25, 0.25]]]])
    np.testing.assert_array_equal(fn(np.ones((1, 1, 1, 2)), np.zeros((1, 1, 1, 3)), (1, 2), 1), [[[[0.5, 1, 0.5]]]])
    # padding keeps its share: one window over a padded 1x1 input passes on only 1/4
    np.testing.assert_array_equal(fn(np.ones((1, 1, 1, 1)), np.zeros((1, 1, 1, 1)), 2, 2, 1), [[[[0.25]]]])


@pytest.mark.parametrize("fn", MAX + AVG, ids=[f.__name__ for f in MAX + AVG])
def test_pool2d_dtypes(fn, rng):
    x = rng.standard_normal((1, 2, 4, 4))
    assert fn(x.astype(np.float32), 2).dtype == np.float32
    assert fn(x.astype(np.int32), 2).dtype == np.float64
    assert fn(x, 2).dtype == np.float64


@pytest.mark.parametrize("fn,op", FORWARD + BACKWARD, ids=_ids(FORWARD + BACKWARD))
def test_pool2d_accepts_strided_views(fn, op, rng):
    x = rng.standard_normal((2, 3, 8, 14))[:, ::-1, ::-1, ::2]  # (2, 3, 8, 7), negative and doubled strides
    hp = dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 0))
    xt = _t(x.copy(), True)
    out = op(xt, **hp)
    if fn.__name__.endswith("_backward") or fn.__name__.endswith("_backward_naive"):
        dout = rng.standard_normal(out.shape)
        out.backward(_t(dout))
        np.testing.assert_allclose(fn(np.asfortranarray(dout), x, **hp), xt.grad.numpy(), rtol=1e-12, atol=1e-12)
    else:
        np.testing.assert_allclose(fn(x, **hp), out.detach().numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("fn,op", FORWARD + BACKWARD, ids=_ids(FORWARD + BACKWARD))
def test_pool2d_nan_like_torch(fn, op, rng):
    # NaN propagates forward; backward, torch routes a window's gradient to its last NaN
    x = rng.standard_normal((2, 2, 6, 5))
    x[0, 0, 1, 1] = x[0, 0, 2, 2] = x[1, 1, 0, 4] = np.nan
    hp = dict(kernel_size=3, stride=1, padding=1)
    xt = _t(x, True)
    out = op(xt, **hp)
    if "backward" in fn.__name__:
        dout = rng.standard_normal(out.shape)
        out.backward(_t(dout))
        np.testing.assert_allclose(fn(dout, x, **hp), xt.grad.numpy(), rtol=1e-12, atol=1e-12)
    else:
        np.testing.assert_allclose(fn(x, **hp), out.detach().numpy(), rtol=1e-12, atol=1e-12)  # NaN == NaN here
