# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Problem set 4 — Modern architectures
#
# VGG, ResNet and every network since are built from three ideas: stacks of
# small kernels instead of one large one, **batch normalization**, and
# **residual blocks**. In this problem set you implement BatchNorm's forward
# and backward passes in numpy (exactly as `torch.nn.functional.batch_norm`),
# count what a VGG stack saves over a large kernel, build ResNet's basic block
# in PyTorch so that torchvision's weights would load into it, train a small
# ResNet made of your blocks, and find a classic bug: forgetting `model.eval()`.
#
# **Learning objectives.** After this problem set you can
# 1. normalise a batch per channel, keep running statistics the way PyTorch
#    does (momentum 0.1, unbiased running variance) and switch to them at test time;
# 2. derive and implement the gradient of batch normalization;
# 3. compute the receptive field, parameters and multiplications of a conv stack;
# 4. write a residual block with a projection shortcut, and train a ResNet;
# 5. explain why a network with BatchNorm must be put in `eval()` mode to predict.
#
# **How you are graded.** Each part ends with a read-only test cell: a visible
# check on a small worked example, then hidden tests that compare your code
# with PyTorch on many random cases (they ask for nothing the text does not
# state). The numpy parts may not call PyTorch. Replace every
# `raise NotImplementedError()` with your code, then *Kernel → Restart & Run
# All* before you submit. The training cells take a few seconds on a CPU.

# %%
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import cnnlab
from cnnlab.data import make_shapes
from cnnlab.grading import check
from cnnlab.train import evaluate, fit, make_loader

np.set_printoptions(precision=4, suppress=True)
DEVICE = cnnlab.device()

# %% [markdown]
# ## 1. Batch normalization, forward {points}
#
# For an input $x$ of shape $(N, C, H, W)$ BatchNorm normalises each channel
# $c$ over the $M = N \cdot H \cdot W$ values it holds in the batch:
#
# $$\mu_c = \frac1M \sum_{n,i,j} x_{n c i j}, \qquad
# \sigma^2_c = \frac1M \sum_{n,i,j} (x_{n c i j} - \mu_c)^2, \qquad
# y_{n c i j} = \gamma_c \frac{x_{n c i j} - \mu_c}{\sqrt{\sigma^2_c + \epsilon}} + \beta_c .$$
#
# At test time a single image has no batch to average over, so during
# training BatchNorm also keeps **running statistics**. PyTorch's convention
# (the lecture's slide writes the moving average the other way round, with
# $\alpha = 1 - m$):
#
# $$\mu_{\text{run}} \leftarrow (1 - m)\,\mu_{\text{run}} + m\,\mu_c, \qquad
# \sigma^2_{\text{run}} \leftarrow (1 - m)\,\sigma^2_{\text{run}} + m\,\frac{M}{M - 1}\sigma^2_c ,$$
#
# with momentum $m = 0.1$. Note the two variances: the **biased** one
# (divide by $M$) normalises the batch, the **unbiased** one (divide by
# $M - 1$) goes into the running average.
#
# Implement `batch_norm2d(x, running_mean, running_var, weight=None, bias=None,
# training=False, momentum=0.1, eps=1e-5)` returning
# `(y, new_running_mean, new_running_var)`:
# - `training=True`: normalise with the batch statistics and return the
#   updated running statistics;
# - `training=False`: normalise with `running_mean` and `running_var` and
#   return them unchanged (as new arrays);
# - `weight` ($\gamma$) and `bias` ($\beta$) have shape $(C,)$; `None` means 1 and 0;
# - never modify the arrays you are given (PyTorch updates its buffers in
#   place; you return new ones instead); return float64 arrays.
#
# The hidden tests compare all three results with `F.batch_norm` in float64
# on random shapes (batch of one included), both modes, with and without
# `weight`/`bias`, and with other `momentum` and `eps`.
#
# **Predict first.** One channel holds the four values 1, 2, 3, 4 and the
# running statistics start at 0 and 1. What are the new running mean and
# running variance?

# %% nbgrader={"grade_id": "batch_norm2d_solution", "solution": true}
def batch_norm2d(x, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Batch normalization of (N, C, H, W) per channel; returns (y, new_running_mean, new_running_var)."""
    ### BEGIN SOLUTION
    x = np.asarray(x, dtype=np.float64)
    running_mean = np.asarray(running_mean, dtype=np.float64)
    running_var = np.asarray(running_var, dtype=np.float64)
    if training:
        m = x.shape[0] * x.shape[2] * x.shape[3]  # values per channel
        mean = x.mean(axis=(0, 2, 3))  # (C,)
        var = x.var(axis=(0, 2, 3))  # (C,) biased: this one normalises
        new_mean = (1 - momentum) * running_mean + momentum * mean
        new_var = (1 - momentum) * running_var + momentum * var * m / (m - 1)  # note: unbiased
    else:
        mean, var = running_mean, running_var
        new_mean, new_var = running_mean.copy(), running_var.copy()
    y = (x - mean[None, :, None, None]) / np.sqrt(var + eps)[None, :, None, None]  # broadcast (C,) over N, H, W
    if weight is not None:
        y = y * np.asarray(weight, dtype=np.float64)[None, :, None, None]
    if bias is not None:
        y = y + np.asarray(bias, dtype=np.float64)[None, :, None, None]
    return y, new_mean, new_var
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_batch_norm2d", "grade": true, "points": 4}
"""batch_norm2d: the 1, 2, 3, 4 example in both modes; hidden randomized cases against F.batch_norm run first."""
### BEGIN HIDDEN TESTS
from cnnlab.grading import check  # re-imported: a `check` defined in the notebook cannot stand in
check("batch_norm2d", batch_norm2d, seed=41).raise_if_failed()
### END HIDDEN TESTS
_x = np.array([1.0, 2.0, 3.0, 4.0]).reshape(2, 1, 1, 2)  # N=2, C=1, H=1, W=2
_rm, _rv = np.zeros(1), np.ones(1)
_y, _m, _v = batch_norm2d(_x, _rm, _rv, training=True)
assert _y.shape == _x.shape, f"y must have the shape of x, {_x.shape}; got {_y.shape}"
np.testing.assert_allclose(_y.ravel(), (np.array([1, 2, 3, 4]) - 2.5) / np.sqrt(1.25 + 1e-5),
                           err_msg="training: normalise with the batch mean 2.5 and the biased variance 1.25")
np.testing.assert_allclose(_m, [0.25], err_msg="running mean: 0.9 * 0 + 0.1 * 2.5 = 0.25")
np.testing.assert_allclose(_v, [0.9 + 0.1 * 5 / 3], err_msg="running var: 0.9 * 1 + 0.1 * (unbiased 5/3)")
assert _rm[0] == 0 and _rv[0] == 1, "batch_norm2d must not modify running_mean or running_var in place"
_y, _m, _v = batch_norm2d(_x, np.array([2.0]), np.array([4.0]), np.array([3.0]), np.array([1.0]))
np.testing.assert_allclose(_y.ravel(), 3 * (np.array([1, 2, 3, 4]) - 2) / np.sqrt(4 + 1e-5) + 1,
                           err_msg="training=False: use the running mean 2 and variance 4, then weight 3 and bias 1")
np.testing.assert_allclose([_m[0], _v[0]], [2.0, 4.0], err_msg="training=False leaves the running statistics alone")

# %% [markdown]
# ## 2. Batch normalization, backward {points}
#
# In training mode $\mu$ and $\sigma^2$ depend on every input of the channel,
# so the gradient has three terms. With $\hat x = (x - \mu)/\sqrt{\sigma^2+\epsilon}$,
# upstream gradient $g = \partial L/\partial y$ and $\partial L/\partial \hat x = \gamma g$:
#
# $$\frac{\partial L}{\partial \beta_c} = \sum g, \qquad
# \frac{\partial L}{\partial \gamma_c} = \sum g\,\hat x, \qquad
# \frac{\partial L}{\partial x} = \frac{1}{M\sqrt{\sigma^2+\epsilon}}
# \Big(M\,\gamma g - \sum \gamma g - \hat x \sum \gamma g\,\hat x\Big),$$
#
# sums over $n, i, j$ of one channel. Implement
# `batch_norm2d_backward(dout, x, weight=None, eps=1e-5)` returning
# `(dx, dweight, dbias)` with shapes $(N, C, H, W)$, $(C,)$, $(C,)$ for the
# training-mode forward pass (`weight=None` means $\gamma = 1$; `dweight` and
# `dbias` are returned all the same). Hidden tests compare with PyTorch's
# autograd in float64 on random shapes, with and without `weight`.
#
# **Predict first.** Add a constant to every $x$ of a channel: $y$ does not
# change. What must `dx.sum()` over that channel be?

# %% nbgrader={"grade_id": "batch_norm2d_backward_solution", "solution": true}
def batch_norm2d_backward(dout, x, weight=None, eps=1e-5):
    """Gradients (dx, dweight, dbias) of training-mode batch_norm2d."""
    ### BEGIN SOLUTION
    dout = np.asarray(dout, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    m = x.shape[0] * x.shape[2] * x.shape[3]
    axes = (0, 2, 3)
    mean = x.mean(axis=axes, keepdims=True)  # (1, C, 1, 1)
    inv_std = 1.0 / np.sqrt(x.var(axis=axes, keepdims=True) + eps)  # (1, C, 1, 1)
    xhat = (x - mean) * inv_std
    dbias = dout.sum(axis=axes)
    dweight = (dout * xhat).sum(axis=axes)
    gamma = np.ones(x.shape[1]) if weight is None else np.asarray(weight, dtype=np.float64)
    dxhat = dout * gamma[None, :, None, None]  # (N, C, H, W)
    dx = inv_std / m * (m * dxhat - dxhat.sum(axis=axes, keepdims=True)
                        - xhat * (dxhat * xhat).sum(axis=axes, keepdims=True))
    return dx, dweight, dbias
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_batch_norm2d_backward", "grade": true, "points": 4}
"""batch_norm2d_backward: central differences on a small batch; hidden comparisons with autograd run first."""
### BEGIN HIDDEN TESTS
from cnnlab.grading import check  # re-imported: a `check` defined in the notebook cannot stand in
check("batch_norm2d_backward", batch_norm2d_backward, seed=42).raise_if_failed()
### END HIDDEN TESTS
_rng = np.random.default_rng(0)
_x, _g, _w = _rng.standard_normal((2, 3, 2, 2)), _rng.standard_normal((2, 3, 2, 2)), _rng.standard_normal(3)
_dx, _dw, _db = batch_norm2d_backward(_g, _x, _w)
assert _dx.shape == _x.shape and _dw.shape == (3,) and _db.shape == (3,), \
    f"shapes must be {_x.shape}, (3,), (3,); got {_dx.shape}, {_dw.shape}, {_db.shape}"
np.testing.assert_allclose(_db, _g.sum(axis=(0, 2, 3)), err_msg="dbias is dout summed over N, H, W")
np.testing.assert_allclose(_dx.sum(axis=(0, 2, 3)), 0, atol=1e-10,
                           err_msg="shifting a channel does not change y, so dx sums to 0 per channel")


def _loss(x_):  # sum(y * dout): its gradient with respect to x is dx
    return float((batch_norm2d(x_, np.zeros(3), np.ones(3), _w, None, True)[0] * _g).sum())


_num = np.zeros_like(_x)
for _i in np.ndindex(_x.shape):
    _e = np.zeros_like(_x)
    _e[_i] = 1e-6
    _num[_i] = (_loss(_x + _e) - _loss(_x - _e)) / 2e-6
np.testing.assert_allclose(_dx, _num, rtol=1e-5, atol=1e-7, err_msg="dx must match central differences")

# %% [markdown]
# ## 3. Why VGG stacks 3×3 kernels {points}
#
# VGG replaces one large kernel by a stack of 3×3 convolutions. Three stacked
# 3×3 layers (stride 1) see a 7×7 window of the input, like one 7×7 layer,
# but with fewer weights, fewer multiplications and two more non-linearities.
#
# The **receptive field** of a stack (along one axis, in input pixels) grows
# by $(k_l - 1)$ times the *jump* $j_{l-1}$ (the product of the earlier strides):
# $r_0 = j_0 = 1$, $r_l = r_{l-1} + (k_l - 1)\,j_{l-1}$, $j_l = j_{l-1}\,s_l$.
#
# Implement
# - `receptive_field(layers)`: `layers` is a list of `(kernel_size, stride)`
#   pairs in forward order (ints); return $r_L$ (an int; 1 for an empty list);
# - `conv_cost(c_in, c_out, kernel_size, h_out, w_out)`: return
#   `(params, mults)` for a bias-free `nn.Conv2d(c_in, c_out, kernel_size)` with
#   a square int kernel producing an $h_{out}\times w_out$ map: `params`
#   $= C_{out} C_{in} k^2$ and `mults` (multiplications, one per weight and
#   output position) $= C_{out} C_{in} k^2 h_{out} w_{out}$.
#
# Then, *with your functions*, set for $C = 64$ channels in and out on a
# 56×56 map (padding keeps the size): `rf_vgg` (three 3×3 layers) and
# `rf_large` (one 7×7), `params_vgg`, `mults_vgg` (the three layers
# together) and `params_large`, `mults_large`. The hidden tests call your two
# functions on other stacks and sizes.
#
# **Predict first.** What fraction of the 7×7 layer's weights does the VGG
# stack need?

# %% nbgrader={"grade_id": "vgg_solution", "solution": true}
def receptive_field(layers):
    """Receptive field of a stack of (kernel_size, stride) layers, in input pixels along one axis."""
    ### BEGIN SOLUTION
    r, jump = 1, 1
    for k, s in layers:
        r += (k - 1) * jump
        jump *= s
    return r
    ### END SOLUTION


def conv_cost(c_in, c_out, kernel_size, h_out, w_out):
    """(params, mults) of a bias-free square-kernel convolution with an h_out x w_out output."""
    ### BEGIN SOLUTION
    params = c_out * c_in * kernel_size * kernel_size
    return params, params * h_out * w_out
    ### END SOLUTION


### BEGIN SOLUTION
rf_vgg = receptive_field([(3, 1)] * 3)
rf_large = receptive_field([(7, 1)])
params_vgg, mults_vgg = (3 * v for v in conv_cost(64, 64, 3, 56, 56))
params_large, mults_large = conv_cost(64, 64, 7, 56, 56)
### END SOLUTION
print(f"receptive fields {rf_vgg} and {rf_large}; weights {params_vgg:,} vs {params_large:,} "
      f"({params_vgg / params_large:.0%}); multiplications {mults_vgg:,} vs {mults_large:,}")

# %% nbgrader={"grade_id": "test_vgg", "grade": true, "points": 3}
"""Receptive field and cost: three 3x3 layers see 7x7 with 27C^2 instead of 49C^2 weights; hidden stacks run first."""
### BEGIN HIDDEN TESTS
from cnnlab.grading import check  # re-imported: a `check` defined in the notebook cannot stand in
check("receptive_field", receptive_field, seed=44).raise_if_failed()
check("conv_cost", conv_cost, seed=45).raise_if_failed()
### END HIDDEN TESTS
assert receptive_field([(3, 1), (3, 1)]) == 5, "two 3x3 layers of stride 1 see 5 pixels"
assert receptive_field([(3, 2), (3, 1)]) == 7, "after a stride-2 layer each step of the next layer is 2 pixels"
assert (rf_vgg, rf_large) == (7, 7), f"both receptive fields are 7; got {rf_vgg} and {rf_large}"
assert params_vgg == 27 * 64 ** 2 and params_large == 49 * 64 ** 2, \
    f"3 * 9 * 64 * 64 = {27 * 64 ** 2:,} and 49 * 64 * 64 = {49 * 64 ** 2:,}; got {params_vgg:,} and {params_large:,}"
assert mults_vgg == params_vgg * 56 * 56 and mults_large == params_large * 56 * 56, \
    "each weight is used once per output position: mults = params * 56 * 56"

# %% [markdown]
# ## 4. The residual block {points}
#
# ResNet's **basic block** computes $H(x) = \mathrm{ReLU}(F(x) + \text{shortcut}(x))$ with
# $F$ = conv 3×3 (stride $s$) → BatchNorm → ReLU → conv 3×3 → BatchNorm. When
# the shape changes (stride ≠ 1 or $C_{in} \ne C_{out}$) the shortcut is a
# **projection**: a 1×1 convolution with stride $s$ followed by BatchNorm;
# otherwise it is the identity. Note the order: the last ReLU comes **after**
# the addition.
#
# Write `basic_block(c_in, c_out, stride=1)` returning a fresh `nn.Module`
# whose `state_dict` has exactly torchvision's `BasicBlock` names, so that
# its weights load into torchvision (and into our reference):
# `conv1` (3×3, stride, padding 1, no bias), `bn1`, `conv2` (3×3, padding 1,
# no bias), `bn2`, and, only when the shape changes, `downsample` =
# `nn.Sequential(conv 1×1 with stride, no bias; BatchNorm)` (keys
# `downsample.0.weight`, `downsample.1.*`). The hidden test builds blocks of
# several sizes and strides (batch of one included), compares the names and
# shapes of the `state_dict` with torchvision's, loads the same random weights
# and BatchNorm statistics into your block and the reference block, and
# compares their outputs in float64 in eval and in training mode.
#
# **Predict first.** How many parameters has `basic_block(8, 16, stride=2)`?

# %% nbgrader={"grade_id": "basic_block_solution", "solution": true}
class BasicBlock(nn.Module):
    """ResNet basic block: (N, c_in, H, W) -> (N, c_out, H_out, W_out), H_out = ceil(H / stride)."""

    def __init__(self, c_in, c_out, stride=1):
        super().__init__()
        ### BEGIN SOLUTION
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.relu = nn.ReLU()
        self.downsample = None
        if stride != 1 or c_in != c_out:  # the shortcut must change shape too
            self.downsample = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False),
                                            nn.BatchNorm2d(c_out))
        ### END SOLUTION

    def forward(self, x):
        ### BEGIN SOLUTION
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)  # note: ReLU after the addition
        ### END SOLUTION


def basic_block(c_in, c_out, stride=1):
    """A fresh ResNet basic block from c_in to c_out channels."""
    ### BEGIN SOLUTION
    return BasicBlock(c_in, c_out, stride)
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_basic_block", "grade": true, "points": 4}
"""basic_block: shapes, torchvision's parameter names and the identity shortcut; hidden float64 comparison runs first."""
### BEGIN HIDDEN TESTS
from cnnlab.grading import check  # re-imported: a `check` defined in the notebook cannot stand in
check("basic_block", basic_block, seed=43, time_limit=20).raise_if_failed()
### END HIDDEN TESTS
_b = basic_block(8, 16, 2)
assert isinstance(_b, nn.Module), f"basic_block must return an nn.Module, got {type(_b).__name__}"
_keys = {k for k in _b.state_dict() if not k.endswith("num_batches_tracked")}
_want = {f"{m}.{p}" for m in ("bn1", "bn2", "downsample.1") for p in ("weight", "bias", "running_mean", "running_var")}
_want |= {"conv1.weight", "conv2.weight", "downsample.0.weight"}
assert _keys == _want, f"state_dict names differ from torchvision's: missing {_want - _keys}, unexpected {_keys - _want}"
_n = sum(p.numel() for p in _b.parameters())
assert _n == 8 * 16 * 9 + 16 * 16 * 9 + 8 * 16 + 3 * 2 * 16, f"basic_block(8, 16, 2) has 3,680 parameters; got {_n:,}"
assert _b(torch.zeros(2, 8, 10, 7)).shape == (2, 16, 5, 4), "stride 2 halves H and W (rounding up), 16 channels"
_b = basic_block(4, 4).eval()
assert "downsample.0.weight" not in _b.state_dict(), "same shape in and out: the shortcut is the identity"
with torch.no_grad():
    _b.bn2.weight.zero_()  # F(x) = 0 now, so the block computes ReLU(0 + x)
    _x = torch.randn(3, 4, 5, 5, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(_b(_x), torch.relu(_x)), ("with F(x) = 0 the block must return ReLU(x): "
                                                    "add the identity x before the final ReLU")

# %% [markdown]
# ## 5. A small ResNet, trained {points}
#
# The synthetic shapes of the lectures (lines, crosses, X, O, disks; 16×16,
# noisy) are a quick test bed. Write `small_resnet(num_classes)` built from
# **your** `basic_block`: a stem (3×3 convolution 1 → 8 channels without bias,
# BatchNorm, ReLU), then `basic_block(8, 8)`, `basic_block(8, 16, stride=2)`,
# global average pooling, and a linear layer to `num_classes`. Then train it
# on `x_train, y_train` (seeded: `fit(..., seed=0)`) so that it classifies the
# held-out `x_test` correctly at least **90 %** of the time. Keep the model in
# the variable `model`.
#
# The hidden test draws **500 new images** with a seed you do not see (same
# generator and noise) and requires at least **85 %** accuracy of `model`
# in eval mode; it also checks that `model` contains at least two modules
# made by your `basic_block`, one of them with a stride-2 `conv1`. Training
# should take a few seconds on a CPU (the grader stops a cell after 30 s).

# %%
x_train, y_train, CLASSES = make_shapes(1200, 16, noise=0.3, seed=0)
x_test, y_test, _ = make_shapes(500, 16, noise=0.3, seed=1)
x_train, x_test = x_train[:, None], x_test[:, None]  # (N, 1, 16, 16): one channel
print(x_train.shape, CLASSES)

# %% nbgrader={"grade_id": "small_resnet_solution", "solution": true}
def small_resnet(num_classes):
    """Stem, two of your basic blocks, global average pooling, a linear classifier; (N, 1, H, W) -> (N, num_classes)."""
    ### BEGIN SOLUTION
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
        basic_block(8, 8), basic_block(8, 16, stride=2),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, num_classes))
    ### END SOLUTION


torch.manual_seed(0)
model = small_resnet(len(CLASSES))
### BEGIN SOLUTION
history = fit(model, make_loader(x_train, y_train, batch_size=64, seed=0), epochs=8, lr=5e-3,
              optimizer="adam", seed=0, device=DEVICE)
### END SOLUTION
test_accuracy = evaluate(model, make_loader(x_test, y_test, shuffle=False), device=DEVICE)["accuracy"]
print(f"test accuracy {test_accuracy:.3f}")

# %% nbgrader={"grade_id": "test_small_resnet", "grade": true, "points": 4}
"""small_resnet: at least 90 % on x_test from your basic blocks; hidden: 85 % on 500 unseen images."""
### BEGIN HIDDEN TESTS
from cnnlab.grading import check  # the grader's held-back data; re-imported: a notebook `check` cannot stand in
check("small_resnet", model).raise_if_failed()
### END HIDDEN TESTS
_out = small_resnet(len(CLASSES))(torch.zeros(2, 1, 16, 16))
assert _out.shape == (2, len(CLASSES)), f"small_resnet must map (2, 1, 16, 16) to (2, {len(CLASSES)}); got {tuple(_out.shape)}"
_acc = evaluate(model, make_loader(x_test, y_test, shuffle=False), device=DEVICE)["accuracy"]
assert _acc >= 0.9, f"accuracy on x_test is {_acc:.3f}; it must be at least 0.90 (train longer or with Adam)"

# %% [markdown]
# ## 6. The bug: forgetting `model.eval()` {points}
#
# A colleague deploys the trained network with this function:

# %%
def predict_buggy(model, x):
    """Class predictions for a batch x (N, 1, H, W) -- with a bug."""
    with torch.no_grad():
        return model(torch.as_tensor(x, dtype=torch.float32, device=DEVICE)).argmax(dim=1).cpu()


_state = {k: v.clone() for k, v in model.state_dict().items()}
model.train()  # as left after training
one_by_one = torch.cat([predict_buggy(model, x_test[i:i + 1]) for i in range(100)])
in_a_batch = predict_buggy(model, x_test[:100])
changed = [k for k, v in model.state_dict().items() if not torch.equal(v, _state[k])]
print(f"accuracy one image at a time {(one_by_one.numpy() == y_test[:100]).mean():.2f}, "
      f"in a batch of 100 {(in_a_batch.numpy() == y_test[:100]).mean():.2f}")
print(f"{len(changed)} state_dict entries changed by predicting, e.g. {changed[:3]}")
model.load_state_dict(_state)  # undo the damage

# %% [markdown]
# **Find the bug.** Set `eval_bug_cause` to the letter of the explanation of
# the different accuracies, and `eval_bug_changed` to the letter of what
# `predict_buggy` changed:
#
# `eval_bug_cause`:
# - **A.** `torch.no_grad()` switches BatchNorm off.
# - **B.** The model is in training mode, so each BatchNorm layer normalises
#   with the mean and variance of the current batch: a prediction depends on
#   the other images of its batch, and a batch of one image is normalised by
#   its own statistics; `model.eval()` makes BatchNorm use the running statistics.
# - **C.** The weights are updated while predicting.
# - **D.** float32 rounding differs between batch sizes.
#
# `eval_bug_changed`:
# - **A.** Nothing: `torch.no_grad()` protects the model.
# - **B.** The convolution weights.
# - **C.** The running mean, running variance and batch counter of every BatchNorm layer.
#
# Then write `predict(model, x)`, the fixed version: it returns the class
# predictions (an int64 tensor of shape $(N,)$ on the CPU) computed in eval
# mode without gradients, leaves every `state_dict` entry unchanged, and
# restores the mode the model was in (`model.training`) before returning.
# The hidden test checks the two letters and calls `predict` on a fresh
# network in training mode: predictions must equal eval-mode predictions
# image by image, the state must be unchanged and the mode restored.

# %% nbgrader={"grade_id": "eval_bug_solution", "solution": true}
### BEGIN SOLUTION
eval_bug_cause = "B"
eval_bug_changed = "C"
### END SOLUTION


def predict(model, x):
    """Class predictions (N,) int64 for x (N, 1, H, W), in eval mode; the model's mode is restored."""
    ### BEGIN SOLUTION
    was_training = model.training
    model.eval()
    try:
        device = next(model.parameters()).device
        with torch.no_grad():
            return model(torch.as_tensor(x, dtype=torch.float32, device=device)).argmax(dim=1).cpu()
    finally:
        model.train(was_training)
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_eval_bug", "grade": true, "points": 3}
"""predict: the same prediction alone or in a batch, no state changed, mode restored; hidden: the letters."""
### BEGIN HIDDEN TESTS
from cnnlab.grading import check  # re-imported: a `check` defined in the notebook cannot stand in
check("answers", {  # the grader reads the key from this cell's source, never from the kernel
    "eval_bug_cause": (eval_bug_cause, "B", "eval_bug_cause: in training mode BatchNorm normalises with the "
                       "statistics of the current batch, so a prediction depends on the rest of its batch"),
    "eval_bug_changed": (eval_bug_changed, "C", "eval_bug_changed: a forward pass in training mode updates the "
                         "running mean, running variance and batch counter of every BatchNorm layer, even under "
                         "no_grad")}).raise_if_failed()
check("predict", predict).raise_if_failed()
### END HIDDEN TESTS
assert eval_bug_cause in ("A", "B", "C", "D") and eval_bug_changed in ("A", "B", "C"), "answer with one letter each"
model.train()
_before = {k: v.clone() for k, v in model.state_dict().items()}
_p1 = torch.cat([predict(model, x_test[i:i + 1]) for i in range(20)])
_p20 = predict(model, x_test[:20])
assert isinstance(_p20, torch.Tensor) and _p20.dtype == torch.int64 and _p20.shape == (20,), \
    "predict returns an int64 tensor of shape (N,)"
assert torch.equal(_p1, _p20), "one image at a time and in a batch must give the same predictions (eval mode)"
assert all(torch.equal(v, _before[k]) for k, v in model.state_dict().items()), \
    "predict must not change the model's state (running statistics included)"
assert model.training, "predict must restore the mode the model was in (here: training)"
model.eval()

# %% [markdown]
# ## Summary
#
# - BatchNorm normalises each channel with the batch's mean and **biased**
#   variance, then scales and shifts; it keeps running averages with momentum
#   0.1 and the **unbiased** variance, and uses them in eval mode.
# - Its backward pass has three terms because $\mu$ and $\sigma^2$ depend on
#   every input; the gradient of a channel sums to zero.
# - Three 3×3 layers see as far as one 7×7 layer with 27/49 ≈ 55 % of the
#   weights and multiplications, and two extra non-linearities.
# - A residual block adds its input (or a 1×1 projection of it) before the
#   last ReLU, so a block can fall back to the identity.
# - Always `model.eval()` before predicting and `model.train()` before training.
#
# ## Check your understanding
#
# 1. Why does the running variance use $M - 1$ and the normalisation $M$?
#    <details><summary>Answer</summary>The running variance estimates the
#    population variance for test time, and dividing by $M-1$ makes that
#    estimate unbiased; within the batch the normalisation uses the exact
#    (biased) moments of the values it normalises.</details>
# 2. With Keras' convention `momentum=0.99`, what is PyTorch's momentum?
#    <details><summary>Answer</summary>0.01: Keras weights the old running value by
#    its momentum, PyTorch weights the new batch statistic by its momentum.</details>
# 3. Why can a convolution followed by BatchNorm drop its bias?
#    <details><summary>Answer</summary>BatchNorm subtracts the channel mean,
#    which removes any constant added per channel; its own β plays the bias's role.</details>
# 4. Why must the shortcut of `basic_block(8, 16, stride=2)` have a 1×1 convolution?
#    <details><summary>Answer</summary>$F(x)$ has 16 channels at half the
#    resolution; $x$ must be brought to the same shape before the two can be
#    added: a strided 1×1 convolution (plus BatchNorm) does that with
#    $8 \cdot 16$ weights.</details>
