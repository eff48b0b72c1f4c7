# %% [markdown] nbgrader={"grade_id": "intro"}
# # Problem set 3 — CNNs in PyTorch
#
# You now know what a convolution computes and how its gradient flows. In
# this problem set you let PyTorch do that work and concentrate on building,
# training and debugging networks. The data is **MNIST-1D**: ten digit-like
# 1-D signals of length 40, small enough to train on a laptop CPU in
# seconds, hard enough to tell a good architecture from a poor one. You
# rebuild the lecture's 2,050-parameter conv net and its 150,185-parameter
# fully connected rival, write the training step and the evaluation loop,
# repair a broken model listing from the lecture slides, and test what a
# conv net's inductive bias is worth by shuffling the input positions.
#
# **Learning objectives.** After this problem set you can
# 1. write an `nn.Sequential` model from a layer table and check it with a
#    parameter count and output shapes;
# 2. write a correct training step (`zero_grad`, `backward`, `step`) and an
#    evaluation loop (`model.eval()`, `torch.no_grad()`);
# 3. debug a model that does not build or does not fit its input;
# 4. measure, with numbers, why convolutions suit signals with spatial structure.
#
# **How you are graded.** Each part ends with a read-only test cell: visible
# asserts explain themselves; hidden tests check your functions' behaviour
# (parameter counts, layer shapes, outputs with your weights, whether your
# training step zeroes the gradients, whether evaluation runs in eval mode
# without gradients) and rerun a seeded training with your `train_step`.
# Replace every `raise NotImplementedError()` with your code, then
# *Kernel → Restart & Run All* before you submit (training takes about half
# a minute on a CPU).

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

import cnnlab
from cnnlab.data import load_mnist1d
from cnnlab.grading import check

torch.set_num_threads(1)  # note: these small networks train several times faster on one CPU thread
device = cnnlab.device()  # the GPU when there is one
print("device:", device)


# %% [markdown] nbgrader={"grade_id": "data_intro"}
# ## 1. MNIST-1D
#
# Each sample is a 1-D signal of 40 values; the label (0–9) says which of
# ten templates was shifted, scaled, sheared and noised to make it. The
# dataset is generated, not downloaded: 4,000 training and 1,000 test samples.
# Inputs get a channel axis, $(N, 1, 40)$, as `nn.Conv1d` expects.

# %%
data = load_mnist1d()
x_train = torch.tensor(data["x"]).unsqueeze(1).to(device)        # (4000, 40) → (4000, 1, 40)
y_train = torch.tensor(data["y"]).to(device)                     # (4000,)
x_test = torch.tensor(data["x_test"]).unsqueeze(1).to(device)    # (1000, 40) → (1000, 1, 40)
y_test = torch.tensor(data["y_test"]).to(device)                 # (1000,)
print(x_train.shape, y_train.shape, x_test.shape, y_test.shape)

fig, axes = plt.subplots(2, 5, figsize=(12, 4), sharex=True, sharey=True)
for digit, ax in enumerate(axes.ravel()):
    i = int(np.flatnonzero(data["y"] == digit)[0])
    ax.plot(data["x"][i], data["t"])
    ax.set_title(f"label {digit}")
    ax.set_xlabel("value")
axes[0, 0].set_ylabel("position")
axes[1, 0].set_ylabel("position")
fig.suptitle("One MNIST-1D training sample per class (the signal runs top to bottom)")
plt.tight_layout()
plt.show()


# %% [markdown] nbgrader={"grade_id": "cnn_intro"}
# ## 2. The lecture's conv net {points}
#
# Write `mnist1d_cnn()`, returning a **new** `nn.Sequential` on every call
# with exactly this torchinfo table (batch of 100, input $(100, 1, 40)$):
#
# | layer | output shape | parameters |
# |---|---|---|
# | `Conv1d(1, 15, kernel_size=3, stride=2)` | [100, 15, 19] | 60 |
# | `ReLU` | [100, 15, 19] | |
# | `Conv1d(15, 15, kernel_size=3, stride=2)` | [100, 15, 9] | 690 |
# | `ReLU` | [100, 15, 9] | |
# | `Conv1d(15, 15, kernel_size=3, stride=2)` | [100, 15, 4] | 690 |
# | `ReLU` | [100, 15, 4] | |
# | `Flatten` | [100, 60] | |
# | `Linear(60, 10)` | [100, 10] | 610 |
# | **total** | | **2,050** |
#
# No padding, biases everywhere, and no softmax at the end: the model
# returns logits and `F.cross_entropy` applies log-softmax itself.
#
# **Predict first.** Check the first row with the output-size formula:
# $\lfloor (40 - 3)/2 \rfloor + 1 = ?$ Where do 60 and 690 come from?

# %% nbgrader={"grade_id": "cnn_solution", "solution": true}
def mnist1d_cnn():
    """A fresh copy of the lecture's 2,050-parameter MNIST-1D conv net: (N, 1, 40) → (N, 10) logits."""
    ### BEGIN SOLUTION
    return nn.Sequential(
        nn.Conv1d(1, 15, kernel_size=3, stride=2), nn.ReLU(),   # (N, 15, 19)
        nn.Conv1d(15, 15, kernel_size=3, stride=2), nn.ReLU(),  # (N, 15, 9)
        nn.Conv1d(15, 15, kernel_size=3, stride=2), nn.ReLU(),  # (N, 15, 4)
        nn.Flatten(),                                           # (N, 60)
        nn.Linear(60, 10),
    )
    ### END SOLUTION


# %%
def layer_table(model, input_shape):
    """(layer type, output shape, parameters) of every leaf layer, in forward order (torchinfo's table)."""
    rows, hooks = [], []
    for layer in model.modules():
        if not list(layer.children()):
            hooks.append(layer.register_forward_hook(lambda m, i, out: rows.append(
                (type(m).__name__, tuple(out.shape), sum(p.numel() for p in m.parameters())))))
    with torch.no_grad():
        model(torch.zeros(input_shape))
    for h in hooks:
        h.remove()
    return rows


for row in layer_table(mnist1d_cnn(), (100, 1, 40)):
    print(f"{row[0]:<8} {str(list(row[1])):<15} {row[2]:>5}")

# %% nbgrader={"grade_id": "test_mnist1d_cnn", "grade": true, "points": 3}
"""mnist1d_cnn: 2,050 parameters, the table's output shapes, a fresh model per call; hidden: outputs with your weights against the reference."""
### BEGIN HIDDEN TESTS
from cnnlab.grading import check  # re-imported: a `check` defined in the notebook cannot stand in
check("mnist1d_cnn", mnist1d_cnn).raise_if_failed()
### END HIDDEN TESTS
model = mnist1d_cnn()
assert isinstance(model, nn.Module), f"mnist1d_cnn() must return an nn.Module, got {type(model).__name__}"
assert mnist1d_cnn() is not model, "every call must build a new model (training one must not train the other)"
n_params = sum(p.numel() for p in model.parameters())
assert n_params == 2050, f"the table counts 60 + 690 + 690 + 610 = 2,050 parameters; your model has {n_params:,}"
shapes = [s for t, s, _ in layer_table(model, (100, 1, 40)) if t in ("Conv1d", "Flatten", "Linear")]
assert shapes == [(100, 15, 19), (100, 15, 9), (100, 15, 4), (100, 60), (100, 10)], \
    f"output shapes of Conv1d, Conv1d, Conv1d, Flatten, Linear must be [100, 15, 19], [100, 15, 9], [100, 15, 4], [100, 60], [100, 10]; got {shapes}"


# %% [markdown] nbgrader={"grade_id": "mlp_intro"}
# ## 3. The fully connected baseline {points}
#
# The lecture compares the conv net with a fully connected network of
# **150,185** parameters. Write `mnist1d_mlp()`, returning a new
# `nn.Sequential`: `Flatten` (so that it takes the same $(N, 1, 40)$ batches),
# then `Linear(40, 350)`, ReLU, `Linear(350, 175)`, ReLU, `Linear(175, 400)`,
# ReLU, `Linear(400, 10)` — logits, no activation after the last layer.
#
# **Predict first.** How many times more parameters than the conv net?

# %% nbgrader={"grade_id": "mlp_solution", "solution": true}
def mnist1d_mlp():
    """A fresh 150,185-parameter MLP for MNIST-1D: (N, 1, 40) → (N, 10) logits."""
    ### BEGIN SOLUTION
    return nn.Sequential(
        nn.Flatten(),                   # (N, 1, 40) → (N, 40)
        nn.Linear(40, 350), nn.ReLU(),
        nn.Linear(350, 175), nn.ReLU(),
        nn.Linear(175, 400), nn.ReLU(),
        nn.Linear(400, 10),
    )
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_mnist1d_mlp", "grade": true, "points": 2}
"""mnist1d_mlp: 150,185 parameters and (N, 10) logits from (N, 1, 40); hidden: layers and outputs with your weights against the reference."""
### BEGIN HIDDEN TESTS
from cnnlab.grading import check  # re-imported: a `check` defined in the notebook cannot stand in
check("mnist1d_mlp", mnist1d_mlp).raise_if_failed()
### END HIDDEN TESTS
mlp = mnist1d_mlp()
n_params = sum(p.numel() for p in mlp.parameters())
assert n_params == 150185, f"(40*350 + 350) + (350*175 + 175) + (175*400 + 400) + (400*10 + 10) = 150,185; got {n_params:,}"
out = mlp(torch.zeros(7, 1, 40))
assert out.shape == (7, 10), f"a (7, 1, 40) batch must give (7, 10) logits, got {tuple(out.shape)}"


# %% [markdown] nbgrader={"grade_id": "train_intro"}
# ## 4. Training step and evaluation loop {points}
#
# Write the two functions every PyTorch project has:
#
# - `train_step(model, optimizer, x, y)`: one step of training on the batch
#   `(x, y)` with the loss `F.cross_entropy(model(x), y)`: **zero the
#   gradients** (they accumulate otherwise), compute the loss, `backward()`,
#   `optimizer.step()`; return the loss of this batch (computed before the
#   step) as a Python float (`loss.item()`).
# - `evaluate(model, x, y)`: the accuracy, a float in $[0, 1]$: the fraction
#   of samples whose largest logit is the true class. Put the model in
#   **eval mode** (`model.eval()`: dropout and batch norm behave differently
#   there) and compute **without gradients** (`with torch.no_grad():`).
#
# The grader checks the behaviour: it leaves stale gradients in `.grad`
# before calling your `train_step`, and it hands `evaluate` a model with
# dropout that records the mode and gradient setting it ran in.

# %% nbgrader={"grade_id": "train_solution", "solution": true}
def train_step(model, optimizer, x, y):
    """One optimisation step of F.cross_entropy on (x, y); returns the batch loss as a float."""
    ### BEGIN SOLUTION
    optimizer.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
    return loss.item()
    ### END SOLUTION


def evaluate(model, x, y):
    """Accuracy of model on (x, y) in [0, 1], in eval mode without gradients."""
    ### BEGIN SOLUTION
    model.eval()
    with torch.no_grad():
        return (model(x).argmax(dim=1) == y).float().mean().item()
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_train_step", "grade": true, "points": 2}
"""train_step: the loss is a float and the parameters move; hidden: stale gradients, order of zero_grad/backward/step, the returned loss."""
### BEGIN HIDDEN TESTS
from cnnlab.grading import check  # re-imported: a `check` defined in the notebook cannot stand in
check("train_step", train_step).raise_if_failed()
### END HIDDEN TESTS
torch.manual_seed(0)
toy = nn.Linear(4, 3)
toy_opt = torch.optim.SGD(toy.parameters(), lr=0.1)
xb, yb = torch.randn(8, 4), torch.randint(0, 3, (8,))
before = toy.weight.detach().clone()
expected = F.cross_entropy(toy(xb), yb).item()
loss = train_step(toy, toy_opt, xb, yb)
assert isinstance(loss, float), f"return loss.item(), a Python float; got {type(loss).__name__}"
assert abs(loss - expected) < 1e-6, f"return the batch loss before the step ({expected:.6f}); got {loss:.6f}"
assert not torch.equal(toy.weight, before), "the parameters did not change: call optimizer.step() after loss.backward()"

# %% nbgrader={"grade_id": "test_evaluate", "grade": true, "points": 2}
"""evaluate: a perfect and a useless model, a float in [0, 1]; hidden: eval mode and no gradients are checked."""
### BEGIN HIDDEN TESTS
from cnnlab.grading import check  # re-imported: a `check` defined in the notebook cannot stand in
check("evaluate", evaluate).raise_if_failed()
### END HIDDEN TESTS
eye = nn.Flatten()  # logits = the input itself
xs = torch.eye(4).unsqueeze(1)  # (4, 1, 4): sample i has its largest value at i
acc = evaluate(eye, xs, torch.arange(4))
assert isinstance(acc, float), f"return the accuracy as a Python float (.item()); got {type(acc).__name__}"
assert acc == 1.0, f"argmax of each row equals its label: accuracy 1.0, got {acc}"
assert evaluate(eye, xs, torch.tensor([1, 0, 3, 2])) == 0.0, "no argmax equals its label: accuracy 0.0"
assert evaluate(eye, xs, torch.tensor([0, 1, 3, 2])) == 0.5, "two of four right: 0.5 (a fraction, not a count)"


# %% [markdown] nbgrader={"grade_id": "fit_intro"}
# ## 5. Training the conv net {points}
#
# `train` below runs your `train_step` on random batches of 100 with Adam
# (learning rate 0.01) for 1,500 steps, seeded. From `torch.manual_seed(0)`
# your conv net must reach a **test accuracy of at least 0.80** (the
# solution gets about 0.87; it takes a few seconds on a CPU). The hidden test
# repeats the run with the course's own copy of the model and your `train_step`.

# %%
def train(model, x, y, steps=1500, lr=1e-2, batch_size=100, seed=0):
    """Adam on random batches of (x, y) with your train_step; returns the losses."""
    gen = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    losses = []
    for _ in tqdm(range(steps), desc="training", mininterval=1):
        idx = torch.randint(0, len(x), (batch_size,), generator=gen).to(x.device)
        losses.append(train_step(model, optimizer, x[idx], y[idx]))
    return losses


torch.manual_seed(0)
cnn = mnist1d_cnn().to(device)
cnn_losses = train(cnn, x_train, y_train)
cnn_accuracy = evaluate(cnn, x_test, y_test)
print(f"conv net: test accuracy {cnn_accuracy:.3f}")

# %%
torch.manual_seed(0)
mlp = mnist1d_mlp().to(device)
mlp_losses = train(mlp, x_train, y_train)
mlp_accuracy = evaluate(mlp, x_test, y_test)
print(f"fully connected: test accuracy {mlp_accuracy:.3f}")

fig, ax = plt.subplots(figsize=(7, 3.5))
ax.plot(np.convolve(cnn_losses, np.ones(50) / 50, "valid"), label=f"conv net, 2,050 parameters ({cnn_accuracy:.2f})")
ax.plot(np.convolve(mlp_losses, np.ones(50) / 50, "valid"), label=f"MLP, 150,185 parameters ({mlp_accuracy:.2f})")
ax.set_xlabel("training step")
ax.set_ylabel("training loss (mean of 50 steps)")
ax.set_title("MNIST-1D: test accuracy in brackets")
ax.legend()
plt.show()

# %% nbgrader={"grade_id": "test_mnist1d_training", "grade": true, "points": 2}
"""Training: the conv net reaches test accuracy >= 0.80; hidden: the grader's own seeded run with your train_step."""
### BEGIN HIDDEN TESTS
from cnnlab.grading import check  # re-imported: a `check` defined in the notebook cannot stand in
check("mnist1d_training", train_step, time_limit=25).raise_if_failed()
### END HIDDEN TESTS
assert len(cnn_losses) == 1500 and all(np.isfinite(cnn_losses)), "train ran 1,500 steps with finite losses"
assert cnn_accuracy >= 0.80, f"the conv net reached test accuracy {cnn_accuracy:.3f}; at least 0.80 is needed"


# %% [markdown] nbgrader={"grade_id": "debug_intro"}
# ## 6. Debugging a model from the slides {points}
#
# One lecture shows this model for 32×32 RGB images and 10 classes. It does
# not run:
#
# ```python
# def generate_model():
#     model = nn.Sequential([
#         # first and second convolutional layer
#         torch.nn.Conv2d(in_channels=3, out_channels=32, filter_size=3),
#         torch.nn.ReLU(),
#         torch.nn.MaxPool2d(kernel_size=2, stride=2),
#
#         torch.nn.Conv2d(in_channels=32, out_channels=64, filter_size=3),
#         torch.nn.ReLU(),
#         torch.nn.MaxPool2d(kernel_size=2, stride=2),
#
#         # fully connected classifier
#         torch.nn.Flatten(),
#         torch.nn.Linear(64*6*6, 1024), # flattened dim after 2 conv layers
#         torch.nn.ReLU(),
#         torch.nn.Linear(1024, 10), # 10 outputs
#     ])
#     return model
# ```
#
# Run it in your head (or in a scratch cell), read the error messages, and
# write a fixed `generate_model()` with the **same layers in the same
# order** that maps a batch $(N, 3, 32, 32)$ to logits $(N, 10)$. The
# hidden test checks the output shape on a 32×32 RGB batch, every layer's
# output shape, the parameter count (**2,389,962**) and the outputs with
# your weights against the intended model.
#
# **Predict first.** Is `64*6*6` right for a 32×32 input? Follow the size:
# 32 → conv 3×3 → ? → pool → ? → conv 3×3 → ? → pool → ?

# %% nbgrader={"grade_id": "debug_solution", "solution": true}
def generate_model():
    """The lecture's CNN for (N, 3, 32, 32) images, fixed: → (N, 10) logits."""
    ### BEGIN SOLUTION
    # fixes: nn.Sequential takes layers as arguments, not a list; the keyword is kernel_size
    return nn.Sequential(
        nn.Conv2d(in_channels=3, out_channels=32, kernel_size=3), nn.ReLU(),   # (N, 32, 30, 30)
        nn.MaxPool2d(kernel_size=2, stride=2),                                 # (N, 32, 15, 15)
        nn.Conv2d(in_channels=32, out_channels=64, kernel_size=3), nn.ReLU(),  # (N, 64, 13, 13)
        nn.MaxPool2d(kernel_size=2, stride=2),                                 # (N, 64, 6, 6)
        nn.Flatten(),                                                          # (N, 2304)
        nn.Linear(64 * 6 * 6, 1024), nn.ReLU(),
        nn.Linear(1024, 10),
    )
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_generate_model", "grade": true, "points": 3}
"""generate_model: (2, 3, 32, 32) -> (2, 10) and 2,389,962 parameters; hidden: every layer's shape and the outputs with your weights."""
### BEGIN HIDDEN TESTS
from cnnlab.grading import check  # re-imported: a `check` defined in the notebook cannot stand in
check("generate_model", generate_model).raise_if_failed()
### END HIDDEN TESTS
fixed = generate_model()
out = fixed(torch.zeros(2, 3, 32, 32))
assert out.shape == (2, 10), f"a batch of two 32x32 RGB images must give (2, 10) logits, got {tuple(out.shape)}"
n_params = sum(p.numel() for p in fixed.parameters())
assert n_params == 2389962, f"896 + 18,496 + 2,360,320 + 10,250 = 2,389,962 parameters; got {n_params:,}"


# %% [markdown] nbgrader={"grade_id": "shuffle_intro"}
# ## 7. What is the convolution's inductive bias worth? {points}
#
# Shuffle the 40 positions of every signal with one fixed random
# permutation (the same for all samples, train and test):
# `load_mnist1d(shuffle_seq=True)`. No information is lost — a fully
# connected layer can learn any permutation of its inputs — but neighbours
# are no longer neighbours.
#
# **Predict first.** Which model loses accuracy, and roughly how much?
#
# Train a new conv net and a new MLP on the shuffled data with `train`
# (from `torch.manual_seed(0)`, as in part 5), one model per cell below, and fill in
#
# - `shuffle_models`: `{"cnn_shuffled": ..., "mlp_shuffled": ...}`, the two
#   trained models;
# - `shuffle_results`: `{"cnn": ..., "mlp": ..., "cnn_shuffled": ...,
#   "mlp_shuffled": ...}`, the four test accuracies (floats from your
#   `evaluate`; the first two from part 5).
#
# The test checks the numbers against your models and that they show the
# effect: the conv net loses at least 0.15 of accuracy, the MLP changes by
# less than 0.05.

# %%
shuffled = load_mnist1d(shuffle_seq=True)
xs_train = torch.tensor(shuffled["x"]).unsqueeze(1).to(device)      # (4000, 40) → (4000, 1, 40)
ys_train = torch.tensor(shuffled["y"]).to(device)
xs_test = torch.tensor(shuffled["x_test"]).unsqueeze(1).to(device)  # (1000, 40) → (1000, 1, 40)
ys_test = torch.tensor(shuffled["y_test"]).to(device)

# %%
shuffle_models = {}
shuffle_results = {"cnn": cnn_accuracy, "mlp": mlp_accuracy}

# %% nbgrader={"grade_id": "shuffle_cnn_solution", "solution": true}
# a new conv net from torch.manual_seed(0), trained on the shuffled data; record it and its test accuracy
### BEGIN SOLUTION
torch.manual_seed(0)
shuffle_models["cnn_shuffled"] = mnist1d_cnn().to(device)
train(shuffle_models["cnn_shuffled"], xs_train, ys_train)
shuffle_results["cnn_shuffled"] = evaluate(shuffle_models["cnn_shuffled"], xs_test, ys_test)
### END SOLUTION

# %% nbgrader={"grade_id": "shuffle_mlp_solution", "solution": true}
# the same for a new MLP (one model per cell keeps each cell well inside the autograder's time limit)
### BEGIN SOLUTION
torch.manual_seed(0)
shuffle_models["mlp_shuffled"] = mnist1d_mlp().to(device)
train(shuffle_models["mlp_shuffled"], xs_train, ys_train)
shuffle_results["mlp_shuffled"] = evaluate(shuffle_models["mlp_shuffled"], xs_test, ys_test)
### END SOLUTION

# %%
for name, acc in shuffle_results.items():
    print(f"{name:<13} {acc:.3f}")

# %% nbgrader={"grade_id": "test_shuffled_positions", "grade": true, "points": 2}
"""Shuffled positions: four accuracies in [0, 1], the conv net drops by >= 0.15, the MLP by < 0.05; hidden: the numbers are your models' accuracies."""
### BEGIN HIDDEN TESTS
for _name in ("cnn_shuffled", "mlp_shuffled"):
    _model = shuffle_models[_name]
    _model.eval()
    with torch.no_grad():
        _acc = (_model(xs_test).argmax(1) == ys_test).double().mean().item()
    assert abs(_acc - shuffle_results[_name]) < 1e-4, \
        f"shuffle_results[{_name!r}] = {shuffle_results[_name]:.4f} but shuffle_models[{_name!r}] scores {_acc:.4f} on the shuffled test set"
### END HIDDEN TESTS
keys = {"cnn", "mlp", "cnn_shuffled", "mlp_shuffled"}
assert set(shuffle_results) == keys, f"shuffle_results needs the keys {sorted(keys)}, got {sorted(shuffle_results)}"
assert all(isinstance(v, float) and 0 <= v <= 1 for v in shuffle_results.values()), "accuracies are floats in [0, 1]"
assert set(shuffle_models) == {"cnn_shuffled", "mlp_shuffled"}, "shuffle_models needs the two models trained on shuffled data"
drop_cnn = shuffle_results["cnn"] - shuffle_results["cnn_shuffled"]
drop_mlp = shuffle_results["mlp"] - shuffle_results["mlp_shuffled"]
assert drop_cnn >= 0.15, f"the conv net should lose at least 0.15 on shuffled positions; it lost {drop_cnn:.3f}"
assert abs(drop_mlp) < 0.05, f"the MLP should change by less than 0.05 (it sees no neighbourhoods anyway); it changed by {drop_mlp:.3f}"


# %% [markdown] nbgrader={"grade_id": "summary"}
# ## Summary
#
# - A model is a layer table: check it with the parameter count and every
#   layer's output shape before training.
# - A training step is `zero_grad`, forward, loss, `backward`, `step`;
#   evaluation is `model.eval()` plus `torch.no_grad()`.
# - Error messages name the layer: a list passed to `nn.Sequential`, a wrong
#   keyword, a `Linear` whose `in_features` is not the flattened size.
# - With 73 times fewer parameters the conv net beats the MLP on MNIST-1D —
#   until the positions are shuffled: its advantage is the assumption that
#   neighbouring values belong together, shared across positions.
#
# ## Check your understanding
#
# 1. What goes wrong, exactly, when `optimizer.zero_grad()` is left out?
# 2. Your model has no dropout or batch norm. Does `model.eval()` still matter?
#    And `torch.no_grad()`?
# 3. Why does the MLP barely notice the shuffling, while the conv net drops
#    to about the MLP's level?
#
# <details>
# <summary>Answers</summary>
#
# 1. `backward()` adds to `.grad`, so each step applies the sum of all
#    gradients so far: the effective step grows and points along old
#    directions; training diverges or stalls.
# 2. `eval()` changes nothing for this model's outputs, but it is a habit
#    that matters as soon as a layer behaves differently in training;
#    `no_grad()` still saves the memory and time of recording the graph.
# 3. The MLP's first layer connects every position to every unit: a
#    permutation of the inputs is a permutation of its weight columns, just
#    as easy to learn. The conv net's kernels look at three neighbouring
#    positions; after shuffling, neighbours are unrelated and weight sharing
#    across positions no longer fits the data, so it keeps little more than
#    what a small MLP could learn.
#
# </details>
