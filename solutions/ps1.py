# %% [markdown] nbgrader={"grade_id": "intro"}
# # Problem set 1 — Convolution from scratch
#
# A convolutional layer is a small, shared set of weights slid over an
# image. In this problem set you implement it yourself with **numpy only**:
# the 2-D cross-correlation, zero padding, the output-size formula, a full
# `conv2d` with channels, batch, stride, padding and dilation, its 1-D
# sibling, and the parameter counts that make convolutions so economical.
# Every function follows `torch.nn.functional` (NCHW layout, padding on each
# side, dilation 1 = contiguous kernel), so your answers can be compared
# with PyTorch — but you may not call PyTorch or scipy to compute them.
#
# **Learning objectives.** After this problem set you can
# 1. compute a cross-correlation by hand and in vectorised numpy;
# 2. predict output shapes with ⌊(n + 2p − d(k − 1) − 1)/s⌋ + 1;
# 3. implement a multi-channel, batched, strided, padded, dilated convolution;
# 4. count the parameters of convolutional and fully connected layers.
#
# **How you are graded.** Each part ends with a read-only test cell: the
# visible check uses a worked example from the lectures; hidden tests then
# compare your function with a PyTorch reference on many random cases.
# Replace every `raise NotImplementedError()` with your code, then
# *Kernel → Restart & Run All* before you submit.

# %%
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from cnnlab.grading import check

np.set_printoptions(precision=4, suppress=True)


# %% [markdown] nbgrader={"grade_id": "corr2d_intro"}
# ## 1. Cross-correlation in 2-D {points}
#
# Deep-learning "convolution" is a **cross-correlation**: the kernel is not
# flipped. For an image $x$ of shape $(H, W)$ and a kernel $k$ of shape
# $(K_H, K_W)$,
#
# $$y[i, j] = \sum_{u=0}^{K_H-1} \sum_{v=0}^{K_W-1} x[i+u,\ j+v]\; k[u, v],
# \qquad y \in \mathbb{R}^{(H-K_H+1)\times(W-K_W+1)}.$$
#
# The lecture's blur example slides $k = \tfrac1{16}\begin{bmatrix}1&2&1\\2&4&2\\1&2&1\end{bmatrix}$
# over a 5×5 patch of a photo.
#
# Implement `corr2d(x, k)` for any image and kernel sizes (neither needs to
# be square) without padding or stride. Return a numpy array of dtype
# float64: compute in float64 throughout (float32 rounding is wrong at the
# precision the tests compare). Hint: `sliding_window_view(x, k.shape)` has
# shape `(H_out, W_out, KH, KW)`.
#
# **Predict first.** What is the shape of the blurred patch? Is its top-left
# value closer to 178 or to 206? Write your guess down before you run the
# check.

# %% nbgrader={"grade_id": "corr2d_solution", "solution": true}
def corr2d(x, k):
    """2-D cross-correlation of one (H, W) image with one (KH, KW) kernel (no padding, stride 1)."""
    ### BEGIN SOLUTION
    x = np.asarray(x, dtype=float)
    k = np.asarray(k, dtype=float)
    windows = sliding_window_view(x, k.shape)  # (H_out, W_out, KH, KW)
    return np.einsum("ijuv,uv->ij", windows, k)
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_corr2d", "grade": true, "points": 2}
"""corr2d: the lecture's 5x5 blur example and a non-square case; hidden randomized cases against PyTorch run first when grading."""
### BEGIN HIDDEN TESTS
from cnnlab.grading import check  # re-imported: a `check` defined in the notebook cannot stand in
check("corr2d", corr2d, seed=1).raise_if_failed()
### END HIDDEN TESTS
patch = np.array([[206, 205, 247, 245, 244],
                  [244, 161, 137, 244, 254],
                  [192, 154,  75, 200, 249],
                  [ 90, 109,  96, 143, 223],
                  [ 67,  69, 107, 196, 236]], dtype=float)
blur = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 16
out = corr2d(patch, blur)
assert isinstance(out, np.ndarray), f"corr2d must return a numpy array, got {type(out).__name__}"
assert out.dtype == np.float64, f"corr2d must return float64 values, got dtype {out.dtype}"
assert out.shape == (3, 3), f"a 3x3 kernel on a 5x5 patch gives a 3x3 output, got shape {out.shape}"
assert np.allclose(out, [[177.75, 175.375, 216.4375], [141.0625, 133.1875, 183.25],
                         [105.9375, 116.9375, 166.8125]]), f"the blurred patch is wrong:\n{out}"
assert corr2d(np.ones((4, 6)), np.ones((2, 3))).shape == (3, 4), \
    "a (2, 3) kernel on a (4, 6) image gives a (3, 4) output: neither needs to be square"


# %% [markdown] nbgrader={"grade_id": "pad2d_intro"}
# ## 2. Zero padding {points}
#
# Padding $p$ adds $p$ rows of zeros at the top **and** at the bottom, and
# $p$ columns at the left **and** at the right: $(\dots, H, W) \to
# (\dots, H + 2p_H, W + 2p_W)$. `padding` is an int or a pair $(p_H, p_W)$
# (either may be 0); `x` has two or more axes, and the leading ones (batch,
# channels) are left alone. Return a numpy array.
#
# **Predict first.** A 28×28 image padded with `padding=(1, 2)`: what shape?

# %% nbgrader={"grade_id": "pad2d_solution", "solution": true}
def pad2d(x, padding):
    """Zero-pad the last two axes of x by padding (int or (pH, pW)) on each side."""
    ### BEGIN SOLUTION
    x = np.asarray(x)
    ph, pw = (padding, padding) if np.isscalar(padding) else padding
    width = [(0, 0)] * (x.ndim - 2) + [(ph, ph), (pw, pw)]
    return np.pad(x, width)
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_pad2d", "grade": true, "points": 1}
"""pad2d: a padded 2x3 block of ones; hidden randomized cases against PyTorch run first when grading."""
### BEGIN HIDDEN TESTS
from cnnlab.grading import check  # re-imported: a `check` defined in the notebook cannot stand in
check("pad2d", pad2d, seed=2).raise_if_failed()
### END HIDDEN TESTS
out = pad2d(np.ones((2, 3)), 1)
assert isinstance(out, np.ndarray), f"pad2d must return a numpy array, got {type(out).__name__}"
assert out.shape == (4, 5), f"padding 1 adds a row/column on each side: expected shape (4, 5), got {out.shape}"
assert np.array_equal(out[1:-1, 1:-1], np.ones((2, 3))) and out.sum() == 6, \
    f"the 2x3 block of ones must sit in the middle, surrounded by zeros:\n{out}"
assert pad2d(np.ones((1, 2, 28, 28)), (1, 2)).shape == (1, 2, 30, 32), \
    "padding (1, 2) on (1, 2, 28, 28) pads H by 1 and W by 2 on each side, leading axes untouched: (1, 2, 30, 32)"


# %% [markdown] nbgrader={"grade_id": "conv_output_size_intro"}
# ## 3. The output-size formula {points}
#
# With input length $n$, kernel size $k$, stride $s$, padding $p$ (each
# side) and dilation $d$ (the kernel then spans $d(k-1)+1$ inputs),
#
# $$n_{\text{out}} = \left\lfloor \frac{n + 2p - d(k-1) - 1}{s} \right\rfloor + 1 .$$
#
# Return an int. Raise `ValueError` when the (dilated) kernel does not fit
# in the padded input, i.e. when the output would be empty.
#
# **Predict first.** The lecture's CNN takes a 39×39 image through a 3×3
# convolution (stride 1), then a 5×5 one with stride 2, then another 5×5 with
# stride 2, no padding. Which spatial sizes do you expect? Write them down
# before you run the check.

# %% nbgrader={"grade_id": "conv_output_size_solution", "solution": true}
def conv_output_size(n, kernel_size, stride=1, padding=0, dilation=1):
    """Output length of a convolution along one axis; ValueError if it would be < 1."""
    ### BEGIN SOLUTION
    span = dilation * (kernel_size - 1) + 1  # the dilated kernel's extent
    if n + 2 * padding < span:
        raise ValueError(f"kernel of extent {span} does not fit in {n} + 2*{padding}")
    return (n + 2 * padding - span) // stride + 1
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_conv_output_size", "grade": true, "points": 2}
"""conv_output_size: the lecture's 39x39 walk-through, padding, dilation and the error; hidden cases run first when grading."""
### BEGIN HIDDEN TESTS
from cnnlab.grading import check  # re-imported: a `check` defined in the notebook cannot stand in
check("conv_output_size", conv_output_size, seed=3).raise_if_failed()
### END HIDDEN TESTS
sizes = [39]
for k, s in [(3, 1), (5, 2), (5, 2)]:
    sizes.append(conv_output_size(sizes[-1], k, stride=s))
assert sizes == [39, 37, 17, 7], f"expected 39 -> 37 -> 17 -> 7, got {sizes}"
assert isinstance(sizes[-1], (int, np.integer)), f"return an int, got {type(sizes[-1]).__name__}"
assert conv_output_size(5, 3, stride=2, padding=1) == 3, \
    f"n=5, k=3, s=2, p=1: floor((5 + 2 - 3) / 2) + 1 = 3, got {conv_output_size(5, 3, stride=2, padding=1)}"
assert conv_output_size(9, 3, dilation=2) == 5, \
    f"dilation 2 makes a 3-tap kernel span 5 inputs: 9 - 5 + 1 = 5, got {conv_output_size(9, 3, dilation=2)}"
try:
    conv_output_size(3, 5)
except ValueError:
    pass
else:
    raise AssertionError("a kernel of 5 does not fit in 3 inputs: conv_output_size(3, 5) must raise ValueError")


# %% [markdown] nbgrader={"grade_id": "conv2d_intro"}
# ## 4. A full `conv2d` {points}
#
# Now the layer of `torch.nn.functional.conv2d`: input $x$ of shape
# $(N, C_{in}, H, W)$, filters $w$ of shape $(C_{out}, C_{in}, K_H, K_W)$,
# optional bias $b$ of shape $(C_{out},)$:
#
# $$y[n, o, i, j] = b[o] + \sum_{c=0}^{C_{in}-1}\sum_{u,v}
# x_{\text{pad}}[n,\ c,\ i s_H + u d_H,\ j s_W + v d_W]\; w[o, c, u, v].$$
#
# Each output channel sums over **all** input channels. `b` is optional
# (`None`: no bias). `stride`, `padding` and `dilation` are ints or pairs
# $(\cdot_H, \cdot_W)$, the kernel need not be square, and the output shape
# is given by your `conv_output_size` on each axis. Return a float64 numpy
# array of shape $(N, C_{out}, H_{out}, W_{out})$. Reuse `pad2d`. A vectorised solution
# (one `einsum` or one matrix product over windows, as in im2col) is both
# shorter and much faster than four nested loops.
#
# **Predict first.** The two-channel example below sums two 2×2
# cross-correlations. What is the top-left output?

# %% nbgrader={"grade_id": "conv2d_solution", "solution": true}
def conv2d(x, w, b=None, stride=1, padding=0, dilation=1):
    """2-D cross-correlation of a batch (N, C_in, H, W) with filters (C_out, C_in, KH, KW)."""
    ### BEGIN SOLUTION
    pair = lambda v: (v, v) if np.isscalar(v) else tuple(v)
    (sh, sw), (dh, dw) = pair(stride), pair(dilation)
    x = pad2d(np.asarray(x, dtype=float), padding)  # (N, C_in, H+2pH, W+2pW)
    w = np.asarray(w, dtype=float)
    kh, kw = w.shape[2:]
    span_h, span_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    h_out = conv_output_size(x.shape[2], span_h, sh)
    w_out = conv_output_size(x.shape[3], span_w, sw)
    windows = sliding_window_view(x, (span_h, span_w), axis=(2, 3))  # (N, C_in, H', W', span_h, span_w)
    windows = windows[:, :, ::sh, ::sw, ::dh, ::dw][:, :, :h_out, :w_out]  # (N, C_in, H_out, W_out, KH, KW)
    out = np.einsum("ncijuv,ocuv->noij", windows, w)  # (N, C_out, H_out, W_out)
    if b is not None:
        out = out + np.asarray(b, dtype=float)[None, :, None, None]  # broadcast over N, H_out, W_out
    return out
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_conv2d", "grade": true, "points": 4}
"""conv2d: the two-channel worked example, the bias, and shapes with ints and pairs; hidden randomized cases against PyTorch run first when grading."""
### BEGIN HIDDEN TESTS
from cnnlab.grading import check  # re-imported: a `check` defined in the notebook cannot stand in
check("conv2d", conv2d, seed=4).raise_if_failed()
### END HIDDEN TESTS
x = np.array([[[0, 1, 2], [3, 4, 5], [6, 7, 8]],
              [[1, 2, 3], [4, 5, 6], [7, 8, 9]]], dtype=float)[None]  # (1, 2, 3, 3)
w = np.array([[[0, 1], [2, 3]], [[1, 2], [3, 4]]], dtype=float)[None]  # (1, 2, 2, 2)
out = conv2d(x, w)
assert isinstance(out, np.ndarray), f"conv2d must return a numpy array, got {type(out).__name__}"
assert out.dtype == np.float64, f"conv2d must return float64 values, got dtype {out.dtype}"
assert out.shape == (1, 1, 2, 2), f"expected shape (1, 1, 2, 2), got {out.shape}"
assert np.allclose(out[0, 0], [[56, 72], [104, 120]]), \
    f"each output sums both channels' 2x2 cross-correlations: expected [[56, 72], [104, 120]], got\n{out[0, 0]}"
with_bias = conv2d(x, w, b=np.array([0.5]))
assert np.allclose(with_bias[0, 0], [[56.5, 72.5], [104.5, 120.5]]), \
    f"b = [0.5] adds 0.5 to every output of channel 0, got\n{with_bias[0, 0]}"
# the lecture's layer: batch of 4, 3 input channels, kernel 3, stride 2, padding 1, 2 output channels
shape = conv2d(np.ones((4, 3, 7, 7)), np.ones((2, 3, 3, 3)), stride=2, padding=1).shape
assert shape == (4, 2, 4, 4), f"stride 2, padding 1 on 7x7: floor((7 + 2 - 3) / 2) + 1 = 4; expected (4, 2, 4, 4), got {shape}"
shape = conv2d(np.ones((1, 1, 7, 6)), np.ones((1, 1, 3, 2)), stride=(2, 1), padding=(0, 1), dilation=(2, 1)).shape
assert shape == (1, 1, 2, 7), \
    f"pairs apply to (H, W): H: floor((7 - 5) / 2) + 1 = 2, W: 6 + 2 - 2 + 1 = 7; expected (1, 1, 2, 7), got {shape}"


# %% [markdown] nbgrader={"grade_id": "conv1d_intro"}
# ## 5. Convolution in 1-D {points}
#
# A 1-D convolution slides a kernel $\omega = [\omega_1, \omega_2, \omega_3]$
# along a sequence: each output is a weighted sum of an input and its
# neighbours, $z_i = \omega_1 x_{i} + \omega_2 x_{i+1} + \omega_3 x_{i+2}$
# (cross-correlation, no padding). With channels and a batch the shapes are
# $x: (N, C_{in}, L)$, $w: (C_{out}, C_{in}, K)$, $b: (C_{out},)$ or `None`,
# `stride`, `padding` and `dilation` are ints, and the output length is
# `conv_output_size(L, K, stride, padding, dilation)`. Return a float64
# numpy array of shape $(N, C_{out}, L_{out})$.
#
# **Predict first.** The kernel $[1, 0, -1]$ is a difference filter: what
# does it output on the ramp $1, 2, 3, 4, 5$? Hint: a 1-D signal is a 2-D
# image of height 1.

# %% nbgrader={"grade_id": "conv1d_solution", "solution": true}
def conv1d(x, w, b=None, stride=1, padding=0, dilation=1):
    """1-D cross-correlation of a batch (N, C_in, L) with filters (C_out, C_in, K)."""
    ### BEGIN SOLUTION
    x = np.asarray(x, dtype=float)[:, :, None, :]  # (N, C_in, 1, L)
    w = np.asarray(w, dtype=float)[:, :, None, :]  # (C_out, C_in, 1, K)
    out = conv2d(x, w, b, stride=(1, stride), padding=(0, padding), dilation=(1, dilation))
    return out[:, :, 0, :]  # (N, C_out, L_out)
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_conv1d", "grade": true, "points": 2}
"""conv1d: a difference filter on a ramp, with padding and a bias, and shapes; hidden randomized cases against PyTorch run first when grading."""
### BEGIN HIDDEN TESTS
from cnnlab.grading import check  # re-imported: a `check` defined in the notebook cannot stand in
check("conv1d", conv1d, seed=5).raise_if_failed()
### END HIDDEN TESTS
x = np.arange(1, 6, dtype=float).reshape(1, 1, 5)
diff = np.array([[[1.0, 0.0, -1.0]]])  # (C_out, C_in, K) = (1, 1, 3)
out = conv1d(x, diff)
assert isinstance(out, np.ndarray), f"conv1d must return a numpy array, got {type(out).__name__}"
assert out.dtype == np.float64, f"conv1d must return float64 values, got dtype {out.dtype}"
assert out.shape == (1, 1, 3), f"a kernel of 3 on 5 samples gives 3 outputs: expected (1, 1, 3), got {out.shape}"
assert np.allclose(out[0, 0], [-2, -2, -2]), f"x_i - x_(i+2) on a ramp is -2 everywhere, got {out[0, 0]}"
padded = conv1d(x, diff, padding=1)
assert np.allclose(padded[0, 0], [-2, -2, -2, -2, 4]), \
    f"padding 1 puts a zero at each end of 1..5, so the last output is 4 - 0 = 4: expected [-2, -2, -2, -2, 4], got {padded[0, 0]}"
biased = conv1d(x, diff, b=np.array([0.5]))
assert np.allclose(biased[0, 0], [-1.5, -1.5, -1.5]), f"b = [0.5] adds 0.5 to every output, got {biased[0, 0]}"
shape = conv1d(np.ones((2, 3, 10)), np.ones((4, 3, 3)), stride=2, padding=1, dilation=2).shape
assert shape == (2, 4, 4), \
    f"batch 2, 3 -> 4 channels, L=10, K=3, s=2, p=1, d=2: floor((10 + 2 - 5) / 2) + 1 = 4; expected (2, 4, 4), got {shape}"


# %% [markdown] nbgrader={"grade_id": "params_intro"}
# ## 6. Counting parameters {points}
#
# A convolutional layer with $C_{out}$ filters of shape
# $C_{in}\times K_H\times K_W$ and one bias per filter has
# $C_{out}\,(C_{in} K_H K_W + 1)$ learnable parameters — **independent of
# the image size**. A fully connected layer from $n_{in}$ to $n_{out}$ units
# has $n_{out}\,(n_{in} + 1)$. Both functions take `bias=False` (a layer
# without biases: drop the $+1$), and `kernel_size` is an int (a square
# kernel) or a pair $(K_H, K_W)$, as in `nn.Conv2d`. Return ints.
#
# **Predict first.** (a) The lecture's layer with kernel size 3, stride 2,
# padding 1, 3 input channels and 2 output channels. (b) A layer with 10
# filters of size 3×3×3. (c) A 5×6 single-channel input goes through a 3×3
# convolution (one filter) to a 3×4 output; how many parameters would a
# fully connected layer with the same input and output sizes need?
#
# Implement the two counting functions, then set the four numbers *using
# your functions* (not typed-in constants).

# %% nbgrader={"grade_id": "params_solution", "solution": true}
def conv2d_params(c_in, c_out, kernel_size, bias=True):
    """Learnable parameters of nn.Conv2d(c_in, c_out, kernel_size, bias=bias)."""
    ### BEGIN SOLUTION
    kh, kw = (kernel_size, kernel_size) if np.isscalar(kernel_size) else kernel_size
    return c_out * (c_in * kh * kw + (1 if bias else 0))
    ### END SOLUTION


def linear_params(n_in, n_out, bias=True):
    """Learnable parameters of nn.Linear(n_in, n_out, bias=bias)."""
    ### BEGIN SOLUTION
    return n_out * (n_in + (1 if bias else 0))
    ### END SOLUTION


# Set params_lecture_layer (a), params_ten_filters (b), params_conv_5x6 and
# params_fc_5x6 (c) by calling your functions (and conv_output_size for c).
### BEGIN SOLUTION
params_lecture_layer = conv2d_params(3, 2, 3)  # (a)
params_ten_filters = conv2d_params(3, 10, 3)   # (b)
h_out, w_out = conv_output_size(5, 3), conv_output_size(6, 3)
params_conv_5x6 = conv2d_params(1, 1, 3)       # (c) the convolution
params_fc_5x6 = linear_params(5 * 6, h_out * w_out)  # (c) the fully connected layer
### END SOLUTION

# %% nbgrader={"grade_id": "test_params_lecture_examples", "grade": true, "points": 1}
"""Parameter counts of the lectures' examples: 56 and 280."""
assert params_lecture_layer == 56, f"(3*3*3 + 1) * 2 = 56, got {params_lecture_layer}"
assert params_ten_filters == 280, f"(3*3*3 + 1) * 10 = 280, got {params_ten_filters}"
assert conv2d_params(3, 2, 3) == 56 and conv2d_params(3, 10, 3) == 280, \
    "params_lecture_layer and params_ten_filters must come from conv2d_params(c_in, c_out, kernel_size)"
assert conv2d_params(64, 128, (3, 1), bias=False) == 24576, \
    f"a (3, 1) kernel without bias: 128 * 64 * 3 * 1 = 24576, got {conv2d_params(64, 128, (3, 1), bias=False)}"
### BEGIN HIDDEN TESTS
from cnnlab.grading import check  # re-imported: a `check` defined in the notebook cannot stand in
check("conv2d_params", conv2d_params, seed=6).raise_if_failed()
### END HIDDEN TESTS

# %% nbgrader={"grade_id": "test_params_conv_vs_fully_connected", "grade": true, "points": 1}
"""Weight sharing: 10 parameters for the 3x3 convolution vs 372 for a fully connected layer."""
assert params_conv_5x6 == 10, f"a 3x3 kernel and a bias: 10 parameters, got {params_conv_5x6}"
assert params_fc_5x6 == 372, f"30 inputs -> 12 outputs: 30*12 + 12 = 372, got {params_fc_5x6}"
assert linear_params(784, 10, bias=False) == 7840, \
    f"784 inputs -> 10 outputs without bias: 7840, got {linear_params(784, 10, bias=False)}"
### BEGIN HIDDEN TESTS
from cnnlab.grading import check  # re-imported: a `check` defined in the notebook cannot stand in
check("linear_params", linear_params, seed=7).raise_if_failed()
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade_id": "summary"}
# ## Summary
#
# - Deep-learning convolution is cross-correlation: slide, multiply, sum.
# - Padding adds $p$ zeros on **each** side; the output length is
#   $\lfloor (n + 2p - d(k-1) - 1)/s \rfloor + 1$.
# - A conv layer's output channel sums over all input channels; batch,
#   stride and dilation are just different ways of indexing the windows.
# - Weight sharing makes the parameter count independent of the image size:
#   10 parameters instead of 372 in the 5×6 example.
#
# ## Check your understanding
#
# 1. Why does a 3×3 kernel with padding 1 and stride 1 keep the spatial size?
# 2. Which of stride and dilation changes the receptive field of one output,
#    and which changes the output size more?
# 3. How many parameters has `nn.Conv2d(64, 128, 3)`? And a fully connected
#    layer between 64×32×32 and 128×30×30 activations?
#
# <details>
# <summary>Answers</summary>
#
# 1. $n_{\text{out}} = \lfloor (n + 2 - 3)/1 \rfloor + 1 = n$: the padding
#    replaces exactly the $k - 1 = 2$ positions a valid 3×3 convolution loses.
# 2. Dilation widens what one output sees (the kernel spans $d(k-1)+1$
#    inputs) and shortens the output only by that extra span; stride leaves
#    one output's receptive field alone but divides the output size by about $s$.
# 3. $128\,(64 \cdot 3 \cdot 3 + 1) = 73{,}856$ for the convolution;
#    $(128 \cdot 30 \cdot 30)\,(64 \cdot 32 \cdot 32 + 1) = 115{,}200 \cdot 65{,}537
#    = 7{,}549{,}862{,}400$ — about 100,000 times more — for the fully connected layer.
#
# </details>
