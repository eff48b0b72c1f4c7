"""cnnlab.models.mnist1d: the course net and the digits LeNet (the seed net's table: tests/test_blocks.py)."""
from __future__ import annotations

import pytest
import torch

from cnnlab.models import (DigitsLeNet, MNIST1DConvNet, MNIST1DCourseNet, count_params, mnist1d_cnn,
                           output_shapes)
from cnnlab.shapes import conv2d_params, linear_params

pytestmark = pytest.mark.lec5


def test_mnist1d_cnn_same_function_as_small_module():
    torch.manual_seed(0)
    a = MNIST1DConvNet()
    b = mnist1d_cnn()
    b.load_state_dict(a.net.state_dict())
    x = torch.randn(3, 40)
    torch.testing.assert_close(a(x), b(x[:, None]))


@pytest.mark.parametrize(("channels", "count"), [((12, 24), 5650), ((8, 16), 2810)])
def test_mnist1d_course_net_count_and_shapes(channels, count):
    c1, c2 = channels
    m = MNIST1DCourseNet(channels)
    assert count_params(m) == count == (6 * c1 + c2 * (5 * c1 + 1) + c2 * (5 * c2 + 1) + linear_params(5 * c2, 10))
    pools = [r[2] for r in output_shapes(m, (2, 1, 40)) if r[1] == "MaxPool1d"]
    assert pools == [(2, c1, 20), (2, c2, 10), (2, c2, 5)]
    assert count <= 6000


def test_mnist1d_course_net_rejects_bad_length():
    with pytest.raises(ValueError, match="in_features"):
        MNIST1DCourseNet(in_features=42)


def test_digits_lenet_count_and_shapes():
    m = DigitsLeNet()
    assert count_params(m) == conv2d_params(1, 8, 3) + conv2d_params(8, 16, 3) + linear_params(64, 10) == 1898
    pools = [r[2] for r in output_shapes(m, (5, 1, 8, 8)) if r[1] == "MaxPool2d"]
    assert pools == [(5, 8, 4, 4), (5, 16, 2, 2)]
    assert m(torch.zeros(5, 1, 8, 8)).shape == (5, 10)
