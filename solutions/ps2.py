# %% [markdown] nbgrader={"grade_id": "intro"}
# # Problem set 2 — Pooling and backpropagation
#
# A CNN learns because every layer can pass gradients backwards. In this
# problem set you write, in **numpy only**, the pooling layers, ReLU and the
# softmax cross-entropy loss, then the backward pass of every one of them
# and of the convolution itself. You check your gradients the way
# researchers do — against central differences — and finally train a tiny
# conv → ReLU → pool → linear network on handwritten digits with nothing but
# your own functions.
#
# **Learning objectives.** After this problem set you can
# 1. implement max and average pooling with torch's conventions (stride
#    defaults to the kernel size, padding on each side, -inf padding for max);
# 2. derive and implement the backward pass of ReLU, pooling, softmax
#    cross-entropy and convolution;
# 3. verify a gradient numerically with central differences;
# 4. compose layers into a network and train it with gradient descent.
#
# **Rules.** Every function takes and returns float64 numpy arrays and never
# modifies its inputs. You may not call PyTorch, scipy or `cnnlab.functional`
# inside a graded function (the grader notices), except where a task gives
# you `conv2d`.
#
# **How you are graded.** Each part ends with a read-only test cell: the
# visible asserts use small worked examples; hidden tests compare your
# function with a PyTorch reference on many random cases (non-square inputs,
# batches, channels, int and pair hyper-parameters). Replace every
# `raise NotImplementedError()` with your code, then
# *Kernel → Restart & Run All* before you submit.

# %%
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from cnnlab.data import load_digits
from cnnlab.functional import conv2d  # ps1's convolution, given for part 6
from cnnlab.grading import check

np.set_printoptions(precision=4, suppress=True)


# %% [markdown] nbgrader={"grade_id": "pool_intro"}
# ## 1. Pooling {points}
#
# Pooling slides a $K_H \times K_W$ window over each channel separately and
# keeps the maximum (`max_pool2d`) or the mean (`avg_pool2d`) of each window.
# Both follow `torch.nn.functional`:
#
# - `x` has shape $(N, C, H, W)$; the result $(N, C, H_{out}, W_{out})$ with
#   $H_{out} = \lfloor (H + 2p_H - K_H)/s_H \rfloor + 1$ (and the same for $W$);
# - `kernel_size`, `stride` and `padding` are each an int or a pair $(h, w)$;
# - `stride=None` (the default) means **stride = kernel size**;
# - padding adds $p$ rows/columns on **each** side: $-\infty$ for max pooling
#   (padding never wins), zeros for average pooling, which still divides by
#   $K_H K_W$ (torch's default `count_include_pad=True`).
#
# The helpers `_pair` and `_pool_args` are given; `_pool_windows` is a
# suggestion (windows from `sliding_window_view`, then every stride-th one):
# write the two functions any way you like with numpy.
#
# **Predict first.** Max pooling a 4×4 input with `kernel_size=2`: what shape
# comes out? With `kernel_size=2, stride=1`?

# %% nbgrader={"grade_id": "pool_solution", "solution": true}
def _pair(v):
    """An int or a pair as a pair (h, w)."""
    return (int(v), int(v)) if np.isscalar(v) else tuple(int(u) for u in v)


def _pool_args(kernel_size, stride, padding):
    k = _pair(kernel_size)
    return k, (k if stride is None else _pair(stride)), _pair(padding)


def _pool_windows(x, k, s, p, fill):
    """Windows of x padded by p with `fill`: (N, C, H_out, W_out, KH, KW)."""
    ### BEGIN SOLUTION
    xp = np.pad(np.asarray(x, dtype=np.float64), ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])),
                constant_values=fill)
    win = sliding_window_view(xp, k, axis=(2, 3))  # (N, C, Hp-KH+1, Wp-KW+1, KH, KW)
    return win[:, :, ::s[0], ::s[1]]               # (N, C, H_out, W_out, KH, KW)
    ### END SOLUTION


def max_pool2d(x, kernel_size, stride=None, padding=0):
    """Max pooling of (N, C, H, W) → (N, C, H_out, W_out); stride None = kernel_size."""
    ### BEGIN SOLUTION
    k, s, p = _pool_args(kernel_size, stride, padding)
    return _pool_windows(x, k, s, p, -np.inf).max(axis=(-2, -1))
    ### END SOLUTION


def avg_pool2d(x, kernel_size, stride=None, padding=0):
    """Average pooling of (N, C, H, W) → (N, C, H_out, W_out); padding zeros count in the mean."""
    ### BEGIN SOLUTION
    k, s, p = _pool_args(kernel_size, stride, padding)
    return _pool_windows(x, k, s, p, 0.0).mean(axis=(-2, -1))
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_max_pool2d", "grade": true, "points": 2}
"""max_pool2d: a 4x4 worked example, the default stride, padding with -inf; hidden randomized cases against PyTorch run first when grading."""
### BEGIN HIDDEN TESTS
from cnnlab.grading import check  # re-imported: a `check` defined in the notebook cannot stand in
check("max_pool2d", max_pool2d, seed=2).raise_if_failed()
### END HIDDEN TESTS
x = np.array([[1, 3, 2, 1], [4, 6, 5, 0], [7, 2, 9, 8], [1, 0, 3, 4]], dtype=float)[None, None]  # (1, 1, 4, 4)
out = max_pool2d(x, 2)
assert isinstance(out, np.ndarray) and out.dtype == np.float64, "max_pool2d must return a float64 numpy array"
assert out.shape == (1, 1, 2, 2), f"kernel 2 and the default stride (= 2) give (1, 1, 2, 2), got {out.shape}"
assert np.array_equal(out[0, 0], [[6, 5], [7, 9]]), f"the maximum of each 2x2 block is [[6, 5], [7, 9]], got\n{out[0, 0]}"
assert max_pool2d(x, 2, stride=1).shape == (1, 1, 3, 3), "stride 1: (4 - 2) / 1 + 1 = 3 positions per axis"
neg = -np.ones((1, 1, 2, 2))
assert np.array_equal(max_pool2d(neg, 2, 1, 1)[0, 0], -np.ones((3, 3))), \
    "padding with -inf: a window of -1s and padding has maximum -1 (zero padding would give 0)"

# %% nbgrader={"grade_id": "test_avg_pool2d", "grade": true, "points": 2}
"""avg_pool2d: the same worked example, pairs, padding zeros counted in the mean; hidden randomized cases against PyTorch run first when grading."""
### BEGIN HIDDEN TESTS
from cnnlab.grading import check  # re-imported: a `check` defined in the notebook cannot stand in
check("avg_pool2d", avg_pool2d, seed=3).raise_if_failed()
### END HIDDEN TESTS
x = np.array([[1, 3, 2, 1], [4, 6, 5, 0], [7, 2, 9, 8], [1, 0, 3, 4]], dtype=float)[None, None]
out = avg_pool2d(x, 2)
assert out.shape == (1, 1, 2, 2), f"kernel 2, default stride 2: expected (1, 1, 2, 2), got {out.shape}"
assert np.allclose(out[0, 0], [[3.5, 2.0], [2.5, 6.0]]), f"the mean of each 2x2 block is [[3.5, 2], [2.5, 6]], got\n{out[0, 0]}"
assert avg_pool2d(np.ones((2, 3, 5, 6)), (2, 3)).shape == (2, 3, 2, 2), \
    "kernel (2, 3) with the default stride (2, 3) on 5x6: floor(3/2) + 1 = 2 and floor(3/3) + 1 = 2"
pad = avg_pool2d(np.ones((1, 1, 2, 2)), 2, 2, 1)[0, 0, 0, 0]
assert np.isclose(pad, 0.25), f"padding 1: the corner window holds one 1 and three padding zeros: 1/4, got {pad}"


# %% [markdown] nbgrader={"grade_id": "relu_intro"}
# ## 2. ReLU and its gradient {points}
#
# $\mathrm{relu}(x) = \max(x, 0)$, elementwise, for an array of any shape.
# Its backward pass receives the upstream gradient `dout` (the gradient of
# the loss with respect to relu's output, same shape as `x`) and returns
# the gradient with respect to `x`: `dout` where $x > 0$ and **0 where
# $x \le 0$** — at exactly $x = 0$ we follow torch and use 0.

# %% nbgrader={"grade_id": "relu_solution", "solution": true}
def relu(x):
    """max(x, 0) elementwise; a new array of the shape of x."""
    ### BEGIN SOLUTION
    return np.maximum(np.asarray(x, dtype=np.float64), 0.0)
    ### END SOLUTION


def relu_backward(dout, x):
    """Gradient of relu at x given the upstream gradient dout (same shape): dout where x > 0, else 0."""
    ### BEGIN SOLUTION
    return np.where(np.asarray(x) > 0, np.asarray(dout, dtype=np.float64), 0.0)
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_relu", "grade": true, "points": 1}
"""relu: a worked example and the input left unchanged; hidden randomized cases against PyTorch run first when grading."""
### BEGIN HIDDEN TESTS
from cnnlab.grading import check  # re-imported: a `check` defined in the notebook cannot stand in
check("relu", relu, seed=1).raise_if_failed()
### END HIDDEN TESTS
x = np.array([-2.0, -0.5, 0.0, 1.5, 3.0])
out = relu(x)
assert np.array_equal(out, [0, 0, 0, 1.5, 3]), f"relu keeps positives and zeroes the rest: expected [0, 0, 0, 1.5, 3], got {out}"
assert np.array_equal(x, [-2.0, -0.5, 0.0, 1.5, 3.0]), "relu must not modify its input (return a new array)"

# %% nbgrader={"grade_id": "test_relu_backward", "grade": true, "points": 1}
"""relu_backward: a worked example with x exactly 0; hidden randomized cases against PyTorch run first when grading."""
### BEGIN HIDDEN TESTS
from cnnlab.grading import check  # re-imported: a `check` defined in the notebook cannot stand in
check("relu_backward", relu_backward, seed=1).raise_if_failed()
### END HIDDEN TESTS
dx = relu_backward(np.array([1.0, -2.0, 3.0, -4.0, 5.0]), np.array([-2.0, -0.5, 0.0, 1.5, 3.0]))
assert np.array_equal(dx, [0, 0, 0, -4, 5]), \
    f"dout passes where x > 0 and is 0 where x <= 0 (0 at exactly x = 0): expected [0, 0, 0, -4, 5], got {dx}"


# %% [markdown] nbgrader={"grade_id": "sce_intro"}
# ## 3. Softmax cross-entropy {points}
#
# For logits $z \in \mathbb{R}^{N \times K}$ and integer labels
# $y \in \{0, \dots, K-1\}^N$, with $p = \mathrm{softmax}(z)$ row by row,
#
# $$L = -\frac1N \sum_{n} \log p_{n, y_n}, \qquad
# \frac{\partial L}{\partial z} = \frac{p - \mathrm{onehot}(y)}{N}.$$
#
# `softmax_cross_entropy(logits, y)` returns the tuple `(loss, dlogits)`:
# the loss as a float (the **mean** over the batch, as `F.cross_entropy`)
# and its gradient, shape $(N, K)$. It must stay finite for logits as large
# as ±1000: subtract each row's maximum before `np.exp` (softmax does not
# change), or use $\log p = z - \mathrm{logsumexp}(z)$.

# %% nbgrader={"grade_id": "sce_solution", "solution": true}
def softmax_cross_entropy(logits, y):
    """Mean cross-entropy of (N, K) logits and (N,) int labels → (loss, dlogits (N, K))."""
    ### BEGIN SOLUTION
    z = np.asarray(logits, dtype=np.float64)
    y = np.asarray(y)
    n = len(y)
    shifted = z - z.max(axis=1, keepdims=True)  # note: exp never overflows; softmax is unchanged
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))  # (N, K)
    loss = -log_p[np.arange(n), y].mean()
    dlogits = np.exp(log_p)
    dlogits[np.arange(n), y] -= 1.0
    return float(loss), dlogits / n
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_softmax_cross_entropy", "grade": true, "points": 2}
"""softmax_cross_entropy: a worked example, the mean over the batch, logits of +-1000; hidden randomized cases against PyTorch run first when grading."""
### BEGIN HIDDEN TESTS
from cnnlab.grading import check  # re-imported: a `check` defined in the notebook cannot stand in
check("softmax_cross_entropy", softmax_cross_entropy, seed=1).raise_if_failed()
### END HIDDEN TESTS
loss, d = softmax_cross_entropy(np.array([[2.0, 1.0, 0.1]]), np.array([0]))
assert np.isclose(loss, 0.41703002), f"softmax([2, 1, 0.1]) = [0.659, 0.242, 0.099]; -log 0.659 = 0.4170, got {loss}"
assert np.allclose(d, [[0.65900114 - 1, 0.24243297, 0.09856589]]), f"dlogits = softmax - onehot(y), got {d}"
loss2, d2 = softmax_cross_entropy(np.zeros((4, 5)), np.array([0, 1, 2, 4]))
assert np.isclose(loss2, np.log(5)), f"equal logits: every p = 1/5, loss log 5 = 1.609 (the mean, not the sum); got {loss2}"
assert np.allclose(d2.sum(axis=1), 0) and np.isclose(d2[0, 0], (0.2 - 1) / 4), "dlogits is (p - onehot) / N"
big, dbig = softmax_cross_entropy(np.array([[1000.0, -1000.0, 0.0]]), np.array([0]))
assert np.isfinite(big) and np.all(np.isfinite(dbig)), "logits of +-1000 must not overflow: subtract each row's max first"


# %% [markdown] nbgrader={"grade_id": "ng_intro"}
# ## 4. Numerical gradients {points}
#
# To test a backward pass, compare it with **central differences**. For a
# function $f$ whose output has the shape of `dout`, the gradient of
# $g(x) = \sum f(x) \cdot \mathrm{dout}$ with respect to each entry $x_i$ is
#
# $$\frac{\partial g}{\partial x_i} \approx
# \frac{g(x + h e_i) - g(x - h e_i)}{2h},$$
#
# whose error is $O(h^2)$ (one-sided differences are only $O(h)$).
# `numerical_gradient(f, x, dout=None, h=1e-6)` returns an array of the shape
# of `x`; `dout=None` means ones (the gradient of `sum(f(x))`); use the `h`
# you are given. Perturb one entry at a time, **in place** if you like, but
# leave `x` exactly as you found it (save the old value and put it back).

# %% nbgrader={"grade_id": "ng_solution", "solution": true}
def numerical_gradient(f, x, dout=None, h=1e-6):
    """Central-difference gradient of sum(f(x) * dout) with respect to x (shape of x)."""
    ### BEGIN SOLUTION
    fx = np.asarray(f(x), dtype=np.float64)
    dout = np.ones_like(fx) if dout is None else np.asarray(dout, dtype=np.float64)
    grad = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        plus = np.sum(f(x) * dout)
        x[i] = old - h
        minus = np.sum(f(x) * dout)
        x[i] = old  # note: restore exactly; += h then -= h can leave rounding behind
        grad[i] = (plus - minus) / (2 * h)
    return grad
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_numerical_gradient", "grade": true, "points": 2}
"""numerical_gradient: x**2, a given h, dout, x restored; hidden cases (one-sided differences, 4-D x) run first when grading."""
### BEGIN HIDDEN TESTS
from cnnlab.grading import check  # re-imported: a `check` defined in the notebook cannot stand in
check("numerical_gradient", numerical_gradient, seed=1).raise_if_failed()
### END HIDDEN TESTS
x = np.array([1.0, 2.0, 3.0])
g = numerical_gradient(lambda v: v ** 2, x)
assert np.allclose(g, [2, 4, 6], atol=1e-5), f"d(x^2)/dx = 2x = [2, 4, 6], got {g}"
assert np.array_equal(x, [1.0, 2.0, 3.0]), f"x must be restored exactly, got {x}"
g3 = numerical_gradient(lambda v: v ** 3, np.array([1.0]), None, 0.1)
assert np.allclose(g3, [3.01]), f"central differences of x^3 at 1 with h = 0.1: ((1.1)^3 - (0.9)^3) / 0.2 = 3.01, got {g3}"
gd = numerical_gradient(lambda v: 2 * v, np.array([1.0, 1.0]), np.array([3.0, -1.0]))
assert np.allclose(gd, [6, -2]), f"the gradient of sum(2x * dout) is 2 * dout = [6, -2], got {gd}"


# %% [markdown] nbgrader={"grade_id": "backward_intro"}
# ## 5. Backward passes of pooling and convolution {points}
#
# Each backward function receives `dout`, the gradient of the loss with
# respect to the layer's output, plus the layer's inputs and
# hyper-parameters, and returns the gradient with respect to the input(s):
#
# - `max_pool2d_backward(dout, x, kernel_size, stride=None, padding=0)`:
#   each window's gradient goes entirely to the position of its maximum.
#   When a window holds the maximum twice, the **first** one in row-major
#   order gets it (as torch). Windows may overlap: add up.
# - `avg_pool2d_backward(...)`: each window spreads its gradient evenly,
#   $\mathrm{dout}/(K_H K_W)$, over its (possibly padded) positions.
# - `conv2d_backward(dout, x, w, stride=1, padding=0, dilation=1)` returns
#   `(dx, dw, db)` with the shapes of `x`, `w` and $(C_{out},)$ for
#   `conv2d(x, w, b, stride, padding, dilation)` (cross-correlation, NCHW,
#   ints or pairs).
#
# Hint: loop over the $K_H K_W$ kernel offsets $(u, v)$ only. For each, the
# inputs that meet weight $(u, v)$ form a strided slice of the padded input;
# `np.einsum` sums over the batch and positions; crop the padding off at the end.

# %% nbgrader={"grade_id": "backward_solution", "solution": true}
def _positions(u, n_out, s, d=1):
    """The slice of padded input rows met by kernel offset u at output positions 0..n_out-1."""
    return slice(u * d, u * d + s * (n_out - 1) + 1, s)


def max_pool2d_backward(dout, x, kernel_size, stride=None, padding=0):
    """Gradient of max_pool2d with respect to x (shape of x)."""
    ### BEGIN SOLUTION
    k, s, p = _pool_args(kernel_size, stride, padding)
    N, C, H, W = x.shape
    _, _, H_out, W_out = dout.shape
    win = _pool_windows(x, k, s, p, -np.inf).reshape(N, C, H_out, W_out, -1)  # (N, C, H_out, W_out, KH*KW)
    u, v = np.divmod(win.argmax(axis=-1), k[1])  # note: argmax takes the first maximum, as torch
    n, c, i, j = np.indices((N, C, H_out, W_out))
    dxp = np.zeros((N, C, H + 2 * p[0], W + 2 * p[1]))
    np.add.at(dxp, (n, c, i * s[0] + u, j * s[1] + v), dout)  # note: add.at, windows may overlap
    return dxp[:, :, p[0]:p[0] + H, p[1]:p[1] + W]
    ### END SOLUTION


def avg_pool2d_backward(dout, x, kernel_size, stride=None, padding=0):
    """Gradient of avg_pool2d with respect to x (shape of x)."""
    ### BEGIN SOLUTION
    k, s, p = _pool_args(kernel_size, stride, padding)
    N, C, H, W = x.shape
    _, _, H_out, W_out = dout.shape
    dxp = np.zeros((N, C, H + 2 * p[0], W + 2 * p[1]))
    share = np.asarray(dout, dtype=np.float64) / (k[0] * k[1])
    for u in range(k[0]):
        for v in range(k[1]):
            dxp[:, :, _positions(u, H_out, s[0]), _positions(v, W_out, s[1])] += share
    return dxp[:, :, p[0]:p[0] + H, p[1]:p[1] + W]
    ### END SOLUTION


def conv2d_backward(dout, x, w, stride=1, padding=0, dilation=1):
    """Gradients (dx, dw, db) of conv2d(x, w, b, stride, padding, dilation) given dout (N, C_out, H_out, W_out)."""
    ### BEGIN SOLUTION
    s, p, d = _pair(stride), _pair(padding), _pair(dilation)
    N, C_in, H, W = x.shape
    _, _, KH, KW = w.shape
    _, _, H_out, W_out = dout.shape
    xp = np.pad(np.asarray(x, dtype=np.float64), ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])))
    dxp = np.zeros(xp.shape)
    dw = np.zeros(w.shape)
    for u in range(KH):
        for v in range(KW):
            rows, cols = _positions(u, H_out, s[0], d[0]), _positions(v, W_out, s[1], d[1])
            dw[:, :, u, v] = np.einsum("nohw,nchw->oc", dout, xp[:, :, rows, cols])
            dxp[:, :, rows, cols] += np.einsum("nohw,oc->nchw", dout, w[:, :, u, v])
    db = dout.sum(axis=(0, 2, 3))
    return dxp[:, :, p[0]:p[0] + H, p[1]:p[1] + W], dw, db
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_max_pool2d_backward", "grade": true, "points": 2}
"""max_pool2d_backward: the gradient goes to each window's maximum; hidden randomized cases against PyTorch run first when grading."""
### BEGIN HIDDEN TESTS
from cnnlab.grading import check  # re-imported: a `check` defined in the notebook cannot stand in
check("max_pool2d_backward", max_pool2d_backward, seed=2).raise_if_failed()
### END HIDDEN TESTS
x = np.array([[1, 3, 2, 1], [4, 6, 5, 0], [7, 2, 9, 8], [1, 0, 3, 4]], dtype=float)[None, None]
dx = max_pool2d_backward(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]), x, 2)
want = np.array([[0, 0, 0, 0], [0, 1, 2, 0], [3, 0, 4, 0], [0, 0, 0, 0]], dtype=float)
assert dx.shape == x.shape, f"dx has the shape of x {x.shape}, got {dx.shape}"
assert np.array_equal(dx[0, 0], want), f"each window's gradient lands on its maximum (6, 5, 7, 9): expected\n{want}\ngot\n{dx[0, 0]}"
ties = max_pool2d_backward(np.ones((1, 1, 1, 1)), np.ones((1, 1, 2, 2)), 2)
assert np.array_equal(ties[0, 0], [[1, 0], [0, 0]]), f"a tie goes to the first maximum (row-major), got\n{ties[0, 0]}"

# %% nbgrader={"grade_id": "test_avg_pool2d_backward", "grade": true, "points": 2}
"""avg_pool2d_backward: each window spreads dout / (KH * KW); hidden randomized cases against PyTorch run first when grading."""
### BEGIN HIDDEN TESTS
from cnnlab.grading import check  # re-imported: a `check` defined in the notebook cannot stand in
check("avg_pool2d_backward", avg_pool2d_backward, seed=2).raise_if_failed()
### END HIDDEN TESTS
dx = avg_pool2d_backward(np.array([[[[4.0, 8.0]]]]), np.zeros((1, 1, 2, 4)), 2)
assert np.allclose(dx[0, 0], [[1, 1, 2, 2], [1, 1, 2, 2]]), f"4/4 and 8/4 spread over each 2x2 window, got\n{dx[0, 0]}"
over = avg_pool2d_backward(np.ones((1, 1, 2, 2)), np.zeros((1, 1, 3, 3)), 2, 1)
assert np.allclose(over[0, 0], [[0.25, 0.5, 0.25], [0.5, 1, 0.5], [0.25, 0.5, 0.25]]), \
    f"stride 1: overlapping windows add up, got\n{over[0, 0]}"

# %% nbgrader={"grade_id": "test_conv2d_backward", "grade": true, "points": 3}
"""conv2d_backward: shapes, db, and a 1x1 case by hand; hidden randomized cases against PyTorch run first when grading."""
### BEGIN HIDDEN TESTS
from cnnlab.grading import check  # re-imported: a `check` defined in the notebook cannot stand in
check("conv2d_backward", conv2d_backward, seed=2).raise_if_failed()
### END HIDDEN TESTS
rng = np.random.default_rng(0)
x, w = rng.standard_normal((2, 3, 5, 4)), rng.standard_normal((4, 3, 3, 2))
dout = rng.standard_normal((2, 4, 3, 3))
dx, dw, db = conv2d_backward(dout, x, w)
assert (dx.shape, dw.shape, db.shape) == (x.shape, w.shape, (4,)), \
    f"(dx, dw, db) have the shapes of x, w and (C_out,): got {dx.shape}, {dw.shape}, {db.shape}"
assert np.allclose(db, dout.sum(axis=(0, 2, 3))), "db sums dout over the batch and all positions"
dx1, dw1, _ = conv2d_backward(np.ones((1, 1, 2, 2)), np.arange(4.0).reshape(1, 1, 2, 2), np.full((1, 1, 1, 1), 3.0))
assert np.allclose(dx1, 3) and np.isclose(dw1.item(), 6), \
    f"a 1x1 kernel of 3: every dx is 3 and dw = 0 + 1 + 2 + 3 = 6; got dx {dx1.ravel()}, dw {dw1.ravel()}"


# %% [markdown] nbgrader={"grade_id": "gradcheck_intro"}
# ## 6. Gradient check of your own layers {points}
#
# Now use your `numerical_gradient` to test your backward passes, as you
# would for any new layer. Write `rel_error(a, b)`, the relative error
# $\lVert a - b \rVert / \max(10^{-12}, \lVert a \rVert + \lVert b \rVert)$
# (Euclidean norms over all entries), then fill in `grad_errors` with the
# relative error between your backward pass and your numerical gradient for
# each layer below, on the given inputs and `dout`. Values below $10^{-7}$
# mean the analytic gradient is right; around $10^{-2}$ or more, it is wrong.
#
# **Predict first.** Why are random inputs better than integer ones for a
# max-pooling gradient check? (Think of ties.)

# %% nbgrader={"grade_id": "gradcheck_solution", "solution": true}
def rel_error(a, b):
    """||a - b|| / max(1e-12, ||a|| + ||b||) over all entries."""
    ### BEGIN SOLUTION
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.linalg.norm(a - b) / max(1e-12, np.linalg.norm(a) + np.linalg.norm(b)))
    ### END SOLUTION


rng = np.random.default_rng(42)
x = rng.standard_normal((2, 3, 6, 5))
w = rng.standard_normal((4, 3, 3, 3))
dout_pool = rng.standard_normal((2, 3, 3, 2))   # for kernel 2 on 6x5
dout_conv = rng.standard_normal((2, 4, 3, 3))   # for conv2d(x, w, stride=2, padding=1)

grad_errors = {}
### BEGIN SOLUTION
grad_errors["relu"] = rel_error(relu_backward(dout_conv, dout_conv + 0.1),
                                numerical_gradient(relu, dout_conv + 0.1, dout_conv))
grad_errors["max_pool2d"] = rel_error(max_pool2d_backward(dout_pool, x, 2),
                                      numerical_gradient(lambda v: max_pool2d(v, 2), x, dout_pool))
grad_errors["avg_pool2d"] = rel_error(avg_pool2d_backward(dout_pool, x, 2),
                                      numerical_gradient(lambda v: avg_pool2d(v, 2), x, dout_pool))
dx, dw, _ = conv2d_backward(dout_conv, x, w, 2, 1)
grad_errors["conv2d dx"] = rel_error(dx, numerical_gradient(lambda v: conv2d(v, w, None, 2, 1), x, dout_conv))
grad_errors["conv2d dw"] = rel_error(dw, numerical_gradient(lambda v: conv2d(x, v, None, 2, 1), w, dout_conv))
### END SOLUTION
grad_errors

# %% nbgrader={"grade_id": "test_rel_error", "grade": true, "points": 1}
"""rel_error: equal arrays, orthogonal ones, both zero; hidden: 3-D arrays and scale invariance."""
### BEGIN HIDDEN TESTS
from cnnlab.grading import check  # re-imported: a `check` defined in the notebook cannot stand in
check("rel_error", rel_error, seed=6).raise_if_failed()
### END HIDDEN TESTS
assert rel_error(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == 0, "equal arrays have relative error 0"
assert np.isclose(rel_error(np.array([1.0, 0.0]), np.array([0.0, 1.0])), np.sqrt(2) / 2), \
    "||(1, -1)|| / (1 + 1) = sqrt(2) / 2 for (1, 0) and (0, 1)"
assert rel_error(np.zeros(3), np.zeros(3)) == 0, "two zero arrays: 0 / max(1e-12, 0) = 0, not nan"
assert np.isclose(rel_error(np.ones((2, 2)), 2 * np.ones((2, 2))), 1 / 3), "||1 - 2|| / (||1|| + ||2||) = 2 / 6 over all four entries"

# %% nbgrader={"grade_id": "test_gradient_check", "grade": true, "points": 2}
"""Gradient check: your five errors are below 1e-7; hidden: recomputed from your own functions."""
### BEGIN HIDDEN TESTS
from cnnlab.grading import check  # re-imported: a `check` defined in the notebook cannot stand in
check("gradient_check", numerical_gradient, seed=7).raise_if_failed()  # your layers, on the grader's inputs
### END HIDDEN TESTS
expected = {"relu", "max_pool2d", "avg_pool2d", "conv2d dx", "conv2d dw"}
assert set(grad_errors) == expected, f"grad_errors needs exactly the keys {sorted(expected)}, got {sorted(grad_errors)}"
for name, err in grad_errors.items():
    assert np.isfinite(err) and err < 1e-7, \
        f"{name}: relative error {err:.3g} between your backward pass and your numerical gradient (needs < 1e-7)"


# %% [markdown] nbgrader={"grade_id": "convnet_intro"}
# ## 7. A tiny conv net, trained with your own layers {points}
#
# Put it all together. The network classifies 8×8 handwritten digits:
#
# | layer | output shape | parameters |
# |---|---|---|
# | input | (N, 1, 8, 8) | |
# | `conv2d(x, w1, b1, padding=1)`, 3×3, 1 → 4 channels | (N, 4, 8, 8) | w1 (4, 1, 3, 3), b1 (4,) |
# | `relu` | (N, 4, 8, 8) | |
# | `max_pool2d(·, 2)` | (N, 4, 4, 4) | |
# | flatten (row-major reshape) | (N, 64) | |
# | `flat @ w2 + b2` | (N, 10) | w2 (64, 10), b2 (10,) |
# | `softmax_cross_entropy` | loss | |
#
# Write `convnet_loss(params, x, y)` returning `(loss, grads)`: the loss as
# a float and a dict of gradients with the same keys and shapes as `params`
# (`"w1", "b1", "w2", "b2"`). Use `conv2d` (given, from ps1) for the forward
# convolution and **your** functions for everything else. Then run the
# training loop below: 60 steps of gradient descent with learning rate 0.3
# on the first 200 digits, from the given `init_params(seed=0)`. A correct
# gradient brings the loss from about 2.5 to about 0.25; the test needs
# **at most 0.5** after the 60 steps.

# %%
def init_params(seed=0):
    """Seeded small random weights for the tiny conv net."""
    rng = np.random.default_rng(seed)
    return {"w1": rng.standard_normal((4, 1, 3, 3)) * np.sqrt(2 / 9), "b1": np.zeros(4),
            "w2": rng.standard_normal((64, 10)) * np.sqrt(1 / 64), "b2": np.zeros(10)}


images, labels = load_digits()                   # (1797, 8, 8) in [0, 1], (1797,)
x_digits, y_digits = images[:200, None], labels[:200]  # (200, 1, 8, 8), (200,)

# %% nbgrader={"grade_id": "convnet_solution", "solution": true}
def convnet_loss(params, x, y):
    """Loss and gradients of conv → relu → max-pool 2 → linear → softmax cross-entropy."""
    ### BEGIN SOLUTION
    a1 = conv2d(x, params["w1"], params["b1"], padding=1)   # (N, 4, 8, 8)
    h1 = relu(a1)
    p1 = max_pool2d(h1, 2)                                   # (N, 4, 4, 4)
    flat = p1.reshape(len(x), -1)                            # (N, 4, 4, 4) → (N, 64)
    scores = flat @ params["w2"] + params["b2"]              # (N, 10)
    loss, dscores = softmax_cross_entropy(scores, y)
    grads = {"w2": flat.T @ dscores, "b2": dscores.sum(axis=0)}
    dp1 = (dscores @ params["w2"].T).reshape(p1.shape)       # (N, 64) → (N, 4, 4, 4)
    da1 = relu_backward(max_pool2d_backward(dp1, h1, 2), a1)
    _, grads["w1"], grads["b1"] = conv2d_backward(da1, x, params["w1"], 1, 1)
    return loss, grads
    ### END SOLUTION


# %%
params = init_params(seed=0)
losses = []
for step in range(60):
    loss, grads = convnet_loss(params, x_digits, y_digits)
    losses.append(loss)
    params = {k: params[k] - 0.3 * grads[k] for k in params}  # gradient descent, lr 0.3
final_loss = convnet_loss(params, x_digits, y_digits)[0]
print(f"loss: {losses[0]:.3f} at the start, {final_loss:.3f} after 60 steps")

# %%
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(losses)
ax.set_xlabel("gradient step")
ax.set_ylabel("cross-entropy loss")
ax.set_title("Tiny conv net on 200 digits, your layers")
plt.show()

# %% nbgrader={"grade_id": "test_convnet_loss", "grade": true, "points": 2}
"""convnet_loss: the structure of (loss, grads) and a finite loss; hidden: loss and gradients against torch autograd."""
### BEGIN HIDDEN TESTS
from cnnlab.grading import check  # re-imported: a `check` defined in the notebook cannot stand in
check("convnet_loss", convnet_loss).raise_if_failed()
### END HIDDEN TESTS
loss0, grads0 = convnet_loss(init_params(0), x_digits[:5], y_digits[:5])
assert np.isfinite(float(loss0)), f"the loss must be a finite float, got {loss0}"
assert set(grads0) == {"w1", "b1", "w2", "b2"}, f"grads needs the keys w1, b1, w2, b2, got {sorted(grads0)}"
for key, shape in {"w1": (4, 1, 3, 3), "b1": (4,), "w2": (64, 10), "b2": (10,)}.items():
    assert np.shape(grads0[key]) == shape, f"grads[{key!r}] must have the shape of params[{key!r}] {shape}, got {np.shape(grads0[key])}"

# %% nbgrader={"grade_id": "test_convnet_training", "grade": true, "points": 2}
"""convnet training: the loss after 60 steps is at most 0.5; hidden: the grader's own run of 60 steps with your convnet_loss."""
### BEGIN HIDDEN TESTS
from cnnlab.grading import check  # re-imported: a `check` defined in the notebook cannot stand in
check("convnet_training", convnet_loss, time_limit=25).raise_if_failed()
### END HIDDEN TESTS
assert final_loss <= 0.5, f"after 60 steps the loss is {final_loss:.3f}; correct gradients reach about 0.25 (needs <= 0.5)"
assert losses[-1] < losses[0], "the loss must go down during training"


# %% [markdown] nbgrader={"grade_id": "summary"}
# ## Summary
#
# - Pooling has no parameters; its backward pass routes gradients: all of a
#   window's gradient to its maximum, or an equal share to every position.
# - ReLU's gradient is a 0/1 mask of the forward input; softmax
#   cross-entropy's is $(p - \mathrm{onehot}(y))/N$, stable with the max shift.
# - A convolution's backward pass is again a sum over kernel offsets: $dw$
#   correlates the input with `dout`, $dx$ scatters `dout` through the weights.
# - Central differences ($O(h^2)$) check any gradient; relative errors near
#   $10^{-8}$ mean it is right.
#
# ## Check your understanding
#
# 1. Why does max pooling's backward pass need `np.add.at` (or a loop) when
#    the stride is smaller than the kernel?
# 2. Why is `h = 1e-6` a good step for float64 central differences, and why
#    would `1e-12` be worse?
# 3. Your conv net's loss stays near its start for 60 steps. Name two bugs that
#    produce this.
#
# <details>
# <summary>Answers</summary>
#
# 1. Overlapping windows can pick the same input as their maximum: its
#    gradient is the **sum** of those windows' gradients. Fancy-index
#    assignment `dx[idx] += g` keeps only one of the repeated indices;
#    `np.add.at` adds all of them.
# 2. The truncation error of central differences is $O(h^2) \approx 10^{-12}$
#    while the rounding error is about $\varepsilon |f| / h \approx 10^{-10}$;
#    with $h = 10^{-12}$ the rounding error grows to about $10^{-4}$.
# 3. Gradients that are all zero (e.g. `relu_backward` masking with the
#    pooled output instead of the pre-activation, or returning `dout * 0`),
#    or an update that is never applied (parameters not reassigned); also a
#    gradient with the wrong sign makes the loss *rise*, not stay.
#
# </details>
