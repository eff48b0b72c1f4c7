"""Test vectors published by other courses, checked on cnnlab.functional and cnnlab.reference.

Each vector is copied from the course's public material (the expected
outputs as printed there), so these tests pin cnnlab to the conventions
students meet elsewhere: Dive into Deep Learning (d2l.ai, chapters 7.2-7.5)
and Stanford CS231n (assignment 2, ConvolutionalNetworks.ipynb).
"""
from __future__ import annotations

import numpy as np
import pytest

from cnnlab import functional as F
from cnnlab import reference as R

IMPLS = [pytest.param(F, id="functional"), pytest.param(R, id="reference")]


@pytest.mark.parametrize("m", IMPLS)
def test_d2l_corr2d(m):
    # d2l 7.2.1: the 3x3 input and the 2x2 kernel of Fig. 7.2.1
    x = np.arange(9.0).reshape(3, 3)
    k = np.array([[0.0, 1.0], [2.0, 3.0]])
    np.testing.assert_array_equal(m.corr2d(x, k), [[19.0, 25.0], [37.0, 43.0]])


@pytest.mark.parametrize("m", IMPLS)
def test_d2l_edge_detector(m):
    # d2l 7.2.3: a 6x8 image, black (0) in the middle columns, and the kernel [1, -1]
    x = np.ones((6, 8))
    x[:, 2:6] = 0
    out = m.corr2d(x, np.array([[1.0, -1.0]]))
    want = np.zeros((6, 7))
    want[:, 1], want[:, 5] = 1, -1
    np.testing.assert_array_equal(out, want)
    np.testing.assert_array_equal(m.corr2d(x.T, np.array([[1.0, -1.0]])), np.zeros((8, 5)))


@pytest.mark.parametrize("m", IMPLS)
def test_d2l_multi_input_channels(m):
    # d2l 7.4.1: two input channels, summed
    x = np.array([[[0, 1, 2], [3, 4, 5], [6, 7, 8]], [[1, 2, 3], [4, 5, 6], [7, 8, 9]]], dtype=float)
    k = np.array([[[0, 1], [2, 3]], [[1, 2], [3, 4]]], dtype=float)
    np.testing.assert_array_equal(m.conv2d(x[None], k[None])[0, 0], [[56.0, 72.0], [104.0, 120.0]])
    # d2l 7.4.2: three output channels K, K + 1, K + 2
    kk = np.stack([k, k + 1, k + 2])
    np.testing.assert_array_equal(m.conv2d(x[None], kk)[0], [[[56, 72], [104, 120]], [[76, 100], [148, 172]],
                                                               [[96, 128], [192, 224]]])


@pytest.mark.parametrize("m", IMPLS)
def test_d2l_padding_and_stride_shapes(m):
    # d2l 7.3: an 8x8 input keeps its size with (3, 3) and padding 1, with (5, 3) and padding (2, 1);
    # stride 2 halves it, and kernel (3, 5), padding (0, 1), stride (3, 4) gives 2x2
    x = np.random.default_rng(0).standard_normal((1, 1, 8, 8))
    assert m.conv2d(x, np.ones((1, 1, 3, 3)), padding=1).shape == (1, 1, 8, 8)
    assert m.conv2d(x, np.ones((1, 1, 5, 3)), padding=(2, 1)).shape == (1, 1, 8, 8)
    assert m.conv2d(x, np.ones((1, 1, 3, 3)), padding=1, stride=2).shape == (1, 1, 4, 4)
    assert m.conv2d(x, np.ones((1, 1, 3, 5)), padding=(0, 1), stride=(3, 4)).shape == (1, 1, 2, 2)


@pytest.mark.parametrize("m", IMPLS)
def test_d2l_pooling(m):
    # d2l 7.5.1: 2x2 pooling with stride 1 on arange(9)
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    np.testing.assert_array_equal(m.max_pool2d(x, 2, 1)[0, 0], [[4.0, 5.0], [7.0, 8.0]])
    np.testing.assert_array_equal(m.avg_pool2d(x, 2, 1)[0, 0], [[2.0, 3.0], [5.0, 6.0]])
    # d2l 7.5.2: the default stride equals the window; padding and stride; rectangular windows
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    np.testing.assert_array_equal(m.max_pool2d(x, 3), [[[[10.0]]]])
    np.testing.assert_array_equal(m.max_pool2d(x, 3, 2, 1), [[[[5.0, 7.0], [13.0, 15.0]]]])
    np.testing.assert_array_equal(m.max_pool2d(x, (2, 3), (2, 3), (0, 1)), [[[[5.0, 7.0], [13.0, 15.0]]]])
    # d2l 7.5.3: channels are pooled separately
    x2 = np.concatenate([x, x + 1], axis=1)
    np.testing.assert_array_equal(m.max_pool2d(x2, 3, 2, 1)[0], [[[5, 7], [13, 15]], [[6, 8], [14, 16]]])


@pytest.mark.parametrize("m", IMPLS)
def test_cs231n_conv_forward(m):
    # CS231n assignment 2: conv_forward_naive, stride 2, pad 1 (their conv is cross-correlation too)
    x = np.linspace(-0.1, 0.5, num=2 * 3 * 4 * 4).reshape(2, 3, 4, 4)
    w = np.linspace(-0.2, 0.3, num=3 * 3 * 4 * 4).reshape(3, 3, 4, 4)
    b = np.linspace(-0.1, 0.2, num=3)
    want = np.array([[[[-0.08759809, -0.10987781], [-0.18387192, -0.2109216]],
                      [[0.21027089, 0.21661097], [0.22847626, 0.23004637]],
                      [[0.50813986, 0.54309974], [0.64082444, 0.67101435]]],
                     [[[-0.98053589, -1.03143541], [-1.19128892, -1.24695841]],
                      [[0.69108355, 0.66880383], [0.59480972, 0.56776003]],
                      [[2.36270298, 2.36904306], [2.38090835, 2.38247847]]]])
    np.testing.assert_allclose(m.conv2d(x, w, b, stride=2, padding=1), want, rtol=1e-7, atol=1e-8)


@pytest.mark.parametrize("m", IMPLS)
def test_cs231n_max_pool_forward(m):
    # CS231n assignment 2: max_pool_forward_naive, 2x2 windows, stride 2
    x = np.linspace(-0.3, 0.4, num=2 * 3 * 4 * 4).reshape(2, 3, 4, 4)
    want = np.array([[[[-0.26315789, -0.24842105], [-0.20421053, -0.18947368]],
                      [[-0.14526316, -0.13052632], [-0.08631579, -0.07157895]],
                      [[-0.02736842, -0.01263158], [0.03157895, 0.04631579]]],
                     [[[0.09052632, 0.10526316], [0.14947368, 0.16421053]],
                      [[0.20842105, 0.22315789], [0.26736842, 0.28210526]],
                      [[0.32631579, 0.34105263], [0.38526316, 0.4]]]])
    np.testing.assert_allclose(m.max_pool2d(x, 2, 2), want, rtol=1e-7, atol=1e-8)
