"""cnnlab.shapes: output sizes, parameter counts and receptive fields, checked by hand and by torch."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from cnnlab import shapes

pytestmark = [pytest.mark.lec2, pytest.mark.lec3]


@pytest.mark.parametrize("n,k,s,p,d,out", [
    (39, 3, 1, 0, 1, 37), (37, 5, 2, 0, 1, 17), (17, 5, 2, 0, 1, 7),  # seed 004's 39x39 network
    (5, 3, 1, 0, 1, 3), (6, 3, 1, 0, 1, 4),  # seed 000: 5x6 input, K=3 → 3x4
    (5, 3, 1, 1, 1, 5), (7, 5, 1, 2, 1, 7),  # seed 004: p = (f - 1)/2 keeps the size
    (40, 3, 2, 0, 1, 19), (19, 3, 2, 0, 1, 9), (9, 3, 2, 0, 1, 4),  # seed 002: MNIST-1D conv net
    (7, 3, 2, 0, 1, 3), (8, 3, 2, 0, 1, 3),  # the floor: 7 and 8 give the same output
    (12, 3, 2, 0, 2, 4), (5, 3, 1, 0, 2, 1), (1, 1, 1, 0, 1, 1), (1, 3, 1, 1, 1, 1),
    (3, 3, 5, 2, 1, 1), (3, 3, 2, 2, 1, 3),
])
def test_conv_output_size_cases(n, k, s, p, d, out):
    assert shapes.conv_output_size(n, k, s, p, d) == out


def test_conv_output_size_matches_torch():
    rng = np.random.default_rng(0)
    checked = 0
    while checked < 40:
        n, k, s, p, d = (int(v) for v in rng.integers(1, 8, 5))
        p -= 1
        if n + 2 * p < d * (k - 1) + 1:
            with pytest.raises(ValueError, match="larger than"):
                shapes.conv_output_size(n, k, s, p, d)
            continue
        conv = torch.nn.Conv1d(1, 1, k, stride=s, padding=p, dilation=d)
        assert shapes.conv_output_size(n, k, s, p, d) == conv(torch.zeros(1, 1, n)).shape[-1]
        checked += 1


def test_conv_output_size_defaults():
    assert shapes.conv_output_size(5, 3) == 3
    assert shapes.conv_output_size(10, 1) == 10


@pytest.mark.parametrize("args,match", [
    ((2, 3), "larger than the padded input"), ((5, 3, 0), "stride must be >= 1"),
    ((5, 3, 1, -1), "padding must be >= 0"),
    ((5, 3, 1, 0, 0), "dilation must be >= 1"), ((5, 0), "kernel_size must be >= 1"), ((0, 1), "n must be >= 1"),
])
def test_conv_output_size_errors(args, match):
    with pytest.raises(ValueError, match=match):
        shapes.conv_output_size(*args)


@pytest.mark.parametrize("args", [(5.0, 3), (5, 3.5), (5, 3, "1"), (5, 3, 1, None), (5, 3, True)])
def test_conv_output_size_rejects_non_integers(args):
    with pytest.raises(TypeError, match="must be an int"):
        shapes.conv_output_size(*args)


def test_pool_output_size():
    assert shapes.pool_output_size(4, 2) == 2  # stride None → kernel_size
    assert shapes.pool_output_size(3, 2) == 1
    assert shapes.pool_output_size(3, 2, 2, 1) == 2
    assert shapes.pool_output_size(30, 2) == 15 and shapes.pool_output_size(13, 2, 2) == 6  # seed 003's model
    with pytest.raises(ValueError, match="half of kernel_size"):
        shapes.pool_output_size(5, 2, 1, 2)
    pool = torch.nn.MaxPool2d((3, 2), stride=(2, 1), padding=(1, 1))
    want = (shapes.pool_output_size(9, 3, 2, 1), shapes.pool_output_size(7, 2, 1, 1))
    assert pool(torch.zeros(1, 1, 9, 7)).shape[2:] == want


def test_conv2d_output_shape():
    assert shapes.conv2d_output_shape((5, 6), 3) == (3, 4)
    assert shapes.conv2d_output_shape((9, 7), (3, 2), (2, 1), (1, 0), (1, 2)) == (5, 5)
    conv = torch.nn.Conv2d(1, 1, (3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2))
    assert conv(torch.zeros(1, 1, 9, 7)).shape[2:] == (5, 5)
    with pytest.raises(ValueError, match="hw"):
        shapes.conv2d_output_shape((5,), 3)


@pytest.mark.parametrize("c_in,c_out,k,bias,want", [
    (3, 2, 3, True, 56),      # seed 001: (3*3*3 + 1) * 2
    (3, 10, 3, True, 280),    # seed 004's exercise
    (1, 1, 3, True, 10),      # seed 000: a 3x3 kernel and a bias
    (1, 15, (1, 3), True, 60), (15, 15, (1, 3), True, 690),  # seed 002: MNIST-1D Conv1d layers
    (16, 32, 3, False, 4608), (4, 8, (1, 1), True, 40),
])
def test_conv2d_params(c_in, c_out, k, bias, want):
    assert shapes.conv2d_params(c_in, c_out, k, bias) == want
    conv = torch.nn.Conv2d(c_in, c_out, k, bias=bias)
    assert sum(p.numel() for p in conv.parameters()) == want


def test_linear_params():
    assert shapes.linear_params(30, 12) == 372  # seed 000: 360 weights + 12 biases
    assert shapes.linear_params(60, 10) == 610  # seed 002: MNIST-1D classifier
    assert shapes.linear_params(30, 12, bias=False) == 360
    assert sum(p.numel() for p in torch.nn.Linear(30, 12).parameters()) == 372


def test_receptive_field():
    assert shapes.receptive_field([]) == 1
    assert shapes.receptive_field([3]) == 3
    assert shapes.receptive_field([3, 3]) == 5  # seed 002: influence compounds, 3 ⊗ 3 → 5
    assert shapes.receptive_field([5, 3]) == 7  # seed 002: [w1..w5] ⊗ [w1..w3] → 7 taps
    assert shapes.receptive_field([(3, 2), (3, 2), (3, 2)]) == 15  # the MNIST-1D conv net
    assert shapes.receptive_field([(3, 1, 2)]) == 5
    assert shapes.receptive_field([(2, 2), 3]) == 6  # a 2x2 pool, then a 3x3 conv


def test_receptive_field_matches_gradient_support():
    # the receptive field is the set of inputs with a nonzero gradient for one output
    layers = [(3, 2, 1), (2, 1, 2), (3, 1, 1)]
    convs = [torch.nn.Conv1d(1, 1, k, stride=s, dilation=d, bias=False) for k, s, d in layers]
    for c in convs:
        torch.nn.init.constant_(c.weight, 1.0)
    x = torch.ones(1, 1, 40, requires_grad=True)
    y = x
    for c in convs:
        y = c(y)
    y[0, 0, 0].backward()
    assert int((x.grad[0, 0] != 0).sum()) == shapes.receptive_field(layers)


def test_receptive_field_errors():
    with pytest.raises(ValueError, match=r"layers\[0\]"):
        shapes.receptive_field([(3, 1, 1, 1)])
    with pytest.raises(TypeError, match=r"layers\[1\] stride"):
        shapes.receptive_field([3, (3, 1.5)])
