"""Models from the seed decks: parameter counts (against cnnlab.shapes) and shapes."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from cnnlab.models import (ConvNet39, LeNet5, MNIST1DConvNet, MNIST1DMLP, SmallCNN, count_params,
                           output_shapes)
from cnnlab.shapes import conv2d_params, linear_params

pytestmark = pytest.mark.lec3


def test_count_params_linear_and_frozen():
    m = nn.Sequential(nn.Linear(30, 12), nn.Linear(12, 1))
    assert count_params(m) == 372 + 13
    m[0].weight.requires_grad_(False)
    assert count_params(m, trainable_only=True) == 12 + 13


def test_convnet39_layers_and_count():
    m = ConvNet39()
    rows = output_shapes(m, (2, 3, 39, 39))
    convs = [r for r in rows if r[1] == "Conv2d"]
    assert [r[2] for r in convs] == [(2, 10, 37, 37), (2, 20, 17, 17), (2, 40, 7, 7)]
    assert [r[3] for r in convs] == [280, conv2d_params(10, 20, 5), conv2d_params(20, 40, 5)] == [280, 5020, 20040]
    assert rows[-1][2] == (2, 1)
    assert count_params(m) == 280 + 5020 + 20040 + linear_params(1960, 1) == 27301
    assert count_params(ConvNet39(num_classes=10)) == 25340 + linear_params(1960, 10)


def test_lenet5_shapes_and_count():
    m = LeNet5()
    assert count_params(m) == 61706
    shapes = [r[2] for r in output_shapes(m, (1, 1, 32, 32)) if r[1] in ("Conv2d", "AvgPool2d")]
    assert shapes == [(1, 6, 28, 28), (1, 6, 14, 14), (1, 16, 10, 10), (1, 16, 5, 5)]
    assert m(torch.zeros(3, 1, 32, 32)).shape == (3, 10)
    assert LeNet5(padding=2)(torch.zeros(3, 1, 28, 28)).shape == (3, 10)


@pytest.mark.parametrize(("hw", "flat"), [((32, 32), 64 * 6 * 6), ((28, 28), 64 * 5 * 5)])
def test_small_cnn_flatten_size(hw, flat):
    m = SmallCNN(input_hw=hw)
    assert m.flat_features == flat
    assert m(torch.zeros(2, 3, *hw)).shape == (2, 10)


def test_mnist1d_convnet_has_2050_parameters():
    m = MNIST1DConvNet()
    rows = output_shapes(m, (100, 1, 40))
    counted = {r[2]: r[3] for r in rows if r[3]}
    assert counted == {(100, 15, 19): 60, (100, 15, 9): 690, (100, 15, 4): 690, (100, 10): 610}
    assert count_params(m) == 2050
    assert m(torch.zeros(5, 40)).shape == (5, 10)  # (N, 40) accepted too


def test_mnist1d_mlp_default_count():
    m = MNIST1DMLP()
    assert count_params(m) == 150185
    assert m(torch.zeros(5, 40)).shape == (5, 10)
    assert m(torch.zeros(5, 1, 40)).shape == (5, 10)
    assert count_params(MNIST1DMLP(hidden=(100,))) == linear_params(40, 100) + linear_params(100, 10)


def test_convnet39_torchinfo_agrees():
    torchinfo = pytest.importorskip("torchinfo")
    stats = torchinfo.summary(ConvNet39(), input_size=(1, 3, 39, 39), verbose=0)
    assert stats.total_params == 27301
