"""cnnlab.functional.activation and its references: relu, relu_backward, softmax_cross_entropy,
numerical_gradient, against torch in float64 and against central differences."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

from cnnlab import functional as F
from cnnlab import reference as R

pytestmark = [pytest.mark.ps2]

RELU = [F.relu, R.relu]
RELU_BACKWARD = [F.relu_backward, R.relu_backward]
XENT = [F.softmax_cross_entropy, R.softmax_cross_entropy]
NUMGRAD = [F.numerical_gradient, R.numerical_gradient]


def _ids(fns):
    return [f"{f.__module__.split('.')[-1]}.{f.__name__}" for f in fns]


def _t(a, grad=False):
    return torch.tensor(a, dtype=torch.float64, requires_grad=grad)


def close(actual, expected, rtol=1e-10, atol=1e-12):
    assert np.shape(actual) == np.shape(expected)
    np.testing.assert_allclose(np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64),
                               rtol=rtol, atol=atol)


SHAPES = [(5,), (2, 3), (2, 3, 4, 5), (1, 1, 1, 1), (3, 2, 1, 7)]


# --- relu ------------------------------------------------------------------------

@pytest.mark.parametrize("relu", RELU, ids=_ids(RELU))
@pytest.mark.parametrize("shape", SHAPES)
def test_relu_matches_torch(relu, shape, rng):
    x = rng.standard_normal(shape)
    x.flat[0] = 0.0
    before = x.copy()
    close(relu(x), TF.relu(_t(x)).numpy())
    np.testing.assert_array_equal(x, before)


@pytest.mark.parametrize("relu", RELU, ids=_ids(RELU))
def test_relu_hand_computed(relu):
    close(relu(np.array([[-2.0, 0.0, 3.5], [1e-300, -1e-300, 7.0]])), [[0.0, 0.0, 3.5], [1e-300, 0.0, 7.0]])


def test_relu_keeps_float32_and_promotes_ints():
    assert F.relu(np.ones(3, dtype=np.float32)).dtype == np.float32
    close(F.relu(np.array([-1, 2])), [0.0, 2.0])


@pytest.mark.parametrize("relu_backward", RELU_BACKWARD, ids=_ids(RELU_BACKWARD))
@pytest.mark.parametrize("shape", SHAPES)
def test_relu_backward_matches_autograd(relu_backward, shape, rng):
    x = rng.standard_normal(shape)
    x.flat[0] = 0.0  # exactly zero: torch's gradient there is 0
    dout = rng.standard_normal(shape)
    xt = _t(x, True)
    TF.relu(xt).backward(_t(dout))
    close(relu_backward(dout, x), xt.grad.numpy())


@pytest.mark.parametrize("relu_backward", RELU_BACKWARD, ids=_ids(RELU_BACKWARD))
def test_relu_backward_hand_computed_zero_gets_no_gradient(relu_backward):
    close(relu_backward(np.array([5.0, 6.0, 7.0]), np.array([-1.0, 0.0, 2.0])), [0.0, 0.0, 7.0])


def test_relu_backward_matches_central_differences(rng):
    x = rng.standard_normal((2, 3, 4))
    x[np.abs(x) < 1e-3] = 0.5  # stay away from the kink
    dout = rng.standard_normal(x.shape)
    close(F.relu_backward(dout, x), F.numerical_gradient(F.relu, x, dout), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("relu_backward", RELU_BACKWARD, ids=_ids(RELU_BACKWARD))
def test_relu_backward_rejects_shape_mismatch(relu_backward):
    with pytest.raises(ValueError, match=r"dout must have the shape of x \(2, 3\); got shape \(3, 2\)"):
        relu_backward(np.ones((3, 2)), np.ones((2, 3)))


# --- softmax cross-entropy ---------------------------------------------------------

@pytest.mark.parametrize("xent", XENT, ids=_ids(XENT))
@pytest.mark.parametrize("N,K,scale", [(1, 2, 1.0), (4, 3, 1.0), (7, 10, 5.0), (3, 1, 1.0), (5, 4, 1000.0)])
def test_softmax_cross_entropy_matches_torch(xent, N, K, scale, rng):
    logits = rng.standard_normal((N, K)) * scale
    y = rng.integers(0, K, N)
    before = logits.copy(), y.copy()
    loss, dlogits = xent(logits, y)
    zt = _t(logits, True)
    ref = TF.cross_entropy(zt, torch.from_numpy(y))
    ref.backward()
    close(loss, ref.item())
    close(dlogits, zt.grad.numpy())
    np.testing.assert_array_equal(logits, before[0])
    np.testing.assert_array_equal(y, before[1])


@pytest.mark.parametrize("xent", XENT, ids=_ids(XENT))
def test_softmax_cross_entropy_stable_at_1000(xent):
    logits = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 1000.0], [-1000.0, -1000.0, -1000.0]])
    loss, dlogits = xent(logits, np.array([1, 2, 0]))
    # hand-computed: row 0 costs 2000, row 1 log 2, row 2 log 3; mean over 3 rows
    close(loss, (2000 + np.log(2) + np.log(3)) / 3)
    close(dlogits, np.array([[1, -1, 0], [0, 0.5, -0.5], [1 / 3 - 1, 1 / 3, 1 / 3]]) / 3, atol=1e-15)
    assert np.isfinite(dlogits).all()


@pytest.mark.parametrize("xent", XENT, ids=_ids(XENT))
def test_softmax_cross_entropy_hand_computed_uniform(xent):
    loss, dlogits = xent(np.zeros((2, 4)), np.array([0, 3]))
    close(loss, np.log(4))
    close(dlogits, np.array([[-0.75, 0.25, 0.25, 0.25], [0.25, 0.25, 0.25, -0.75]]) / 2)


def test_softmax_cross_entropy_gradient_matches_central_differences(rng):
    logits, y = rng.standard_normal((3, 5)), np.array([4, 0, 2])
    _, dlogits = F.softmax_cross_entropy(logits, y)
    num = F.numerical_gradient(lambda z: F.softmax_cross_entropy(z, y)[0], logits)
    close(dlogits, num, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("xent", XENT, ids=_ids(XENT))
@pytest.mark.parametrize("logits,y,exc,msg", [
    (np.zeros((2, 3)), np.array([0, 3]), ValueError, r"labels in \[0, K\) = \[0, 3\); got y\[1\] = 3"),
    (np.zeros((2, 3)), np.array([-1, 0]), ValueError, r"got y\[0\] = -1"),
    (np.zeros((2, 3)), np.array([0.0, 1.0]), TypeError, r"y must hold integer class labels .* float64"),
    (np.zeros((2, 3)), np.array([0, 1, 2]), ValueError, r"y must have shape \(N,\) = \(2,\).*got shape \(3,\)"),
    (np.zeros(3), np.array([0]), ValueError, r"logits must be 2-D \(N, K\); got shape \(3,\)"),
    (np.zeros((0, 3)), np.zeros(0, dtype=int), ValueError, r"logits must be non-empty"),
])
def test_softmax_cross_entropy_rejects_bad_input(xent, logits, y, exc, msg):
    with pytest.raises(exc, match=msg):
        xent(logits, y)


# --- numerical gradient ------------------------------------------------------------

@pytest.mark.parametrize("numgrad", NUMGRAD, ids=_ids(NUMGRAD))
def test_numerical_gradient_matches_autograd_with_dout(numgrad, rng):
    x = rng.standard_normal((2, 3, 4))
    dout = rng.standard_normal((2, 3, 4))
    before = x.copy()
    num = numgrad(lambda v: np.sin(v) * v, x, dout)
    xt = _t(x, True)
    (torch.sin(xt) * xt).backward(_t(dout))
    close(num, xt.grad.numpy(), rtol=1e-6, atol=1e-8)
    np.testing.assert_array_equal(x, before)  # restored exactly
    assert num.dtype == np.float64 and num.shape == x.shape


@pytest.mark.parametrize("numgrad", NUMGRAD, ids=_ids(NUMGRAD))
def test_numerical_gradient_of_a_scalar_and_a_closure(numgrad, rng):
    w = rng.standard_normal((3, 2))
    x = rng.standard_normal((4, 3))
    # f ignores its argument and reads w through the closure: works because w is perturbed in place
    close(numgrad(lambda _: np.sum((x @ w) ** 2), w), 2 * x.T @ (x @ w), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("numgrad", NUMGRAD, ids=_ids(NUMGRAD))
def test_numerical_gradient_is_central_not_one_sided(numgrad):
    # hand-computed: for x**3 at 1 with h=1e-3, central gives 3 + h**2, forward 3 + 3h + h**2
    close(numgrad(lambda v: v ** 3, np.array([1.0]), h=1e-3), [3 + 1e-6], rtol=1e-9)


@pytest.mark.parametrize("numgrad", NUMGRAD, ids=_ids(NUMGRAD))
def test_numerical_gradient_restores_x_when_f_raises(numgrad):
    x = np.array([1.0, 2.0])

    def f(v):
        if v[0] != 1.0:
            raise RuntimeError("boom")
        return v

    with pytest.raises(RuntimeError):
        numgrad(f, x)
    np.testing.assert_array_equal(x, [1.0, 2.0])


@pytest.mark.parametrize("numgrad", NUMGRAD, ids=_ids(NUMGRAD))
@pytest.mark.parametrize("args,exc,msg", [
    ((None, np.ones(2)), TypeError, "f must be callable"),
    ((np.sin, [1.0, 2.0]), TypeError, "x must be a numpy.ndarray"),
    ((np.sin, np.array([1, 2])), TypeError, r"x must be a floating array .*; got dtype int64"),
    ((np.sin, np.ones(2), np.ones(3)), ValueError, r"dout must have the shape of f\(x\) \(2,\); got shape \(3,\)"),
    ((np.sin, np.ones(2), None, 0.0), ValueError, "h must be > 0"),
])
def test_numerical_gradient_rejects_bad_input(numgrad, args, exc, msg):
    with pytest.raises(exc, match=msg):
        numgrad(*args)
