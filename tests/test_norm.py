"""cnnlab.functional.norm and its references: batch_norm2d forward (training and eval, running
statistics) and backward, against F.batch_norm / autograd in float64 and central differences."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

from cnnlab import functional as F
from cnnlab import reference as R

pytestmark = [pytest.mark.ps3]

BN = [F.batch_norm2d, R.batch_norm2d]
BN_BACKWARD = [F.batch_norm2d_backward, R.batch_norm2d_backward]


def _ids(fns):
    return [f"{f.__module__.split('.')[-1]}.{f.__name__}" for f in fns]


def _t(a, grad=False):
    return None if a is None else torch.tensor(a, dtype=torch.float64, requires_grad=grad)


def close(actual, expected, rtol=1e-10, atol=1e-12):
    assert np.shape(actual) == np.shape(expected)
    np.testing.assert_allclose(np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64),
                               rtol=rtol, atol=atol)


# (N, C, H, W, affine, training, momentum, eps): batch of one, 1x1 maps, non-square, eval mode
CASES = [
    (4, 3, 5, 6, True, True, 0.1, 1e-5),
    (1, 2, 3, 4, True, True, 0.1, 1e-5),        # batch of one: statistics over H, W only
    (5, 3, 1, 1, True, True, 0.3, 1e-3),        # 1x1 maps: statistics over N only
    (2, 4, 3, 2, False, True, 0.5, 1e-5),
    (3, 2, 4, 4, True, False, 0.1, 1e-5),       # eval: running statistics normalise
    (1, 3, 2, 5, False, False, 0.1, 1e-2),
    (2, 1, 7, 3, True, True, 1.0, 1e-8),
    (2, 3, 3, 3, True, True, 0.0, 1e-5),
]


def _inputs(case, rng):
    N, C, H, W, affine, training, momentum, eps = case
    x = rng.standard_normal((N, C, H, W)) * 3 + 1
    rm, rv = rng.standard_normal(C), rng.random(C) + 0.5
    w, b = (rng.standard_normal(C), rng.standard_normal(C)) if affine else (None, None)
    return x, rm, rv, w, b, dict(training=training, momentum=momentum, eps=eps)


@pytest.mark.parametrize("bn", BN, ids=_ids(BN))
@pytest.mark.parametrize("case", CASES)
def test_batch_norm2d_matches_torch(bn, case, rng):
    x, rm, rv, w, b, kw = _inputs(case, rng)
    before = [a.copy() for a in (x, rm, rv, *(w, b)) if a is not None]
    y, new_rm, new_rv = bn(x, rm, rv, w, b, **kw)
    rmt, rvt = _t(rm), _t(rv)
    ref = TF.batch_norm(_t(x), rmt, rvt, _t(w), _t(b), **kw)
    close(y, ref.numpy())
    close(new_rm, rmt.numpy())
    close(new_rv, rvt.numpy())
    for a, a0 in zip([a for a in (x, rm, rv, w, b) if a is not None], before):
        np.testing.assert_array_equal(a, a0)  # inputs untouched
    assert new_rm is not rm and new_rv is not rv


@pytest.mark.parametrize("bn", BN, ids=_ids(BN))
def test_batch_norm2d_hand_computed(bn):
    # one channel, values 1, 2, 3, 4: mean 2.5, biased var 1.25, unbiased 5/3
    x = np.array([1.0, 2.0, 3.0, 4.0]).reshape(1, 1, 2, 2)
    y, rm, rv = bn(x, np.zeros(1), np.ones(1), np.array([2.0]), np.array([1.0]), training=True, momentum=0.1, eps=0.01)
    close(y, (2 * (x - 2.5) / np.sqrt(1.26) + 1))
    close(rm, [0.25])                      # torch momentum: 0.9 * 0 + 0.1 * 2.5
    close(rv, [0.9 + 0.1 * 5 / 3])        # unbiased variance in the update
    y, rm2, rv2 = bn(x, np.array([1.0]), np.array([4.0]), training=False, eps=0.0)
    close(y, (x - 1.0) / 2.0)             # eval: running statistics, unchanged
    close(rm2, [1.0])
    close(rv2, [4.0])


@pytest.mark.parametrize("bn", BN, ids=_ids(BN))
def test_batch_norm2d_training_without_running_statistics(bn, rng):
    x = rng.standard_normal((2, 3, 4, 4))
    y, rm, rv = bn(x, None, None, training=True)
    close(y, TF.batch_norm(_t(x), None, None, training=True).numpy())
    assert rm is None and rv is None


def test_batch_norm2d_keeps_float32(rng):
    x = rng.standard_normal((2, 3, 4, 4)).astype(np.float32)
    y, rm, rv = F.batch_norm2d(x, np.zeros(3, np.float32), np.ones(3, np.float32), training=True)
    assert y.dtype == rm.dtype == rv.dtype == np.float32


@pytest.mark.parametrize("bn_backward", BN_BACKWARD, ids=_ids(BN_BACKWARD))
@pytest.mark.parametrize("case", [c for c in CASES if c[5]])
def test_batch_norm2d_backward_matches_autograd(bn_backward, case, rng):
    x, _, _, w, _, kw = _inputs(case, rng)
    dout = rng.standard_normal(x.shape)
    before = x.copy(), dout.copy()
    dx, dw, db = bn_backward(dout, x, w, kw["eps"])
    C = x.shape[1]
    xt, wt = _t(x, True), _t(np.ones(C) if w is None else w, True)
    bt = _t(np.zeros(C), True)
    TF.batch_norm(xt, None, None, wt, bt, training=True, eps=kw["eps"]).backward(_t(dout))
    close(dx, xt.grad.numpy(), atol=1e-10)
    close(dw, wt.grad.numpy())
    close(db, bt.grad.numpy())
    np.testing.assert_array_equal(x, before[0])
    np.testing.assert_array_equal(dout, before[1])


@pytest.mark.parametrize("bn_backward", BN_BACKWARD, ids=_ids(BN_BACKWARD))
def test_batch_norm2d_backward_matches_central_differences(bn_backward, rng):
    x = rng.standard_normal((2, 2, 3, 2))
    w, b = rng.standard_normal(2), rng.standard_normal(2)
    dout = rng.standard_normal(x.shape)
    dx, dw, db = bn_backward(dout, x, w)

    def fwd(x_=x, w_=w, b_=b):
        return F.batch_norm2d(x_, None, None, w_, b_, training=True)[0]

    close(dx, F.numerical_gradient(lambda v: fwd(x_=v), x, dout), rtol=1e-5, atol=1e-7)
    close(dw, F.numerical_gradient(lambda v: fwd(w_=v), w, dout), rtol=1e-5, atol=1e-7)
    close(db, F.numerical_gradient(lambda v: fwd(b_=v), b, dout), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("bn_backward", BN_BACKWARD, ids=_ids(BN_BACKWARD))
def test_batch_norm2d_backward_hand_computed_constant_dout(bn_backward, rng):
    # a constant upstream gradient shifts every output equally: normalisation removes it, so dx = 0
    x = rng.standard_normal((3, 2, 2, 2))
    dx, dw, db = bn_backward(np.ones(x.shape), x, np.array([2.0, -1.0]))
    close(dx, np.zeros(x.shape), atol=1e-12)
    close(db, [12.0, 12.0])
    close(dw, [0.0, 0.0], atol=1e-12)


@pytest.mark.parametrize("bn", BN, ids=_ids(BN))
@pytest.mark.parametrize("kw,exc,msg", [
    (dict(x=np.ones((2, 3, 4))), ValueError, r"x must be 4-D \(N, C, H, W\); got shape \(2, 3, 4\)"),
    (dict(running_mean=np.zeros(2)), ValueError, r"running_mean must have shape \(C,\) = \(3,\).*got shape \(2,\)"),
    (dict(running_var=np.array([1.0, -0.5, 1.0])), ValueError, r"running_var must be >= 0.*running_var\[1\] = -0.5"),
    (dict(weight=np.ones((3, 1))), ValueError, r"weight must have shape \(C,\) = \(3,\).*got shape \(3, 1\)"),
    (dict(bias=np.ones(4)), ValueError, r"bias must have shape \(C,\) = \(3,\).*got shape \(4,\)"),
    (dict(running_mean=None), TypeError, r"running_mean must be a \(C,\) = \(3,\) array; got None"),
    (dict(training="yes"), TypeError, "training must be True or False"),
    (dict(momentum=1.5, training=True), ValueError, r"momentum must be in \[0.0, 1.0\]; got 1.5"),
    (dict(eps=-1.0), ValueError, "eps must be >= 0.0"),
    (dict(eps=0.0, training=True), ValueError, "eps must be > 0 in training mode"),
    (dict(x=np.ones((1, 3, 1, 1)), training=True), ValueError, "more than one value per channel"),
])
def test_batch_norm2d_rejects_bad_input(bn, kw, exc, msg):
    args = dict(x=np.ones((2, 3, 4, 4)), running_mean=np.zeros(3), running_var=np.ones(3))
    args.update(kw)
    with pytest.raises(exc, match=msg):
        bn(**args)


@pytest.mark.parametrize("bn_backward", BN_BACKWARD, ids=_ids(BN_BACKWARD))
def test_batch_norm2d_backward_rejects_bad_input(bn_backward):
    with pytest.raises(ValueError, match=r"dout must have the shape of x .* \(2, 3, 4, 4\); got shape \(2, 3, 4\)"):
        bn_backward(np.ones((2, 3, 4)), np.ones((2, 3, 4, 4)))
    with pytest.raises(ValueError, match=r"weight must have shape \(C,\) = \(3,\)"):
        bn_backward(np.ones((2, 3, 4, 4)), np.ones((2, 3, 4, 4)), np.ones(2))
