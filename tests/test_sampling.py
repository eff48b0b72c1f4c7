"""cnnlab.functional.sampling against torch (float64) and a hand-computed 4×4 case."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnlab.functional.sampling import (max_pool2d_with_indices, max_unpool2d, upsample_bilinear2d,
                                        upsample_nearest2d)

pytestmark = [pytest.mark.lec4, pytest.mark.ps5]

X4 = np.array([[1, 3, 2, 1], [4, 2, 0, 1], [3, 1, 5, 6], [2, 0, 7, 8]], dtype=np.float64)


def _configs(seed, n=60):
    rng = np.random.default_rng(seed)
    for _ in range(n):
        N, C = (int(v) for v in rng.integers(1, 3, size=2))
        H, W = (int(v) for v in rng.integers(1, 9, size=2))
        if rng.random() < 0.5:
            kw = {"size": (int(rng.integers(1, 17)), int(rng.integers(1, 17)))}
        else:
            kw = {"scale_factor": float(rng.choice([1, 2, 3, 4, 1.5, 2.5]))}
        yield rng.standard_normal((N, C, H, W)), kw


def test_max_pool2d_with_indices_hand_4x4():
    out, idx = max_pool2d_with_indices(X4[None, None], 2)
    np.testing.assert_array_equal(out[0, 0], [[4, 2], [3, 8]])
    np.testing.assert_array_equal(idx[0, 0], [[4, 2], [8, 15]])  # flat row·W + col in the 4×4 input


def test_upsample_nearest2d_hand_4x4():
    up = upsample_nearest2d(np.array([[[[4.0, 2.0], [3.0, 8.0]]]]), scale_factor=2)
    np.testing.assert_array_equal(up[0, 0], [[4, 4, 2, 2], [4, 4, 2, 2], [3, 3, 8, 8], [3, 3, 8, 8]])


def test_upsample_bilinear2d_hand_4x4():
    up = upsample_bilinear2d(np.array([[[[4.0, 2.0], [3.0, 8.0]]]]), scale_factor=2)
    # note: with align_corners=False, output pixel i sits at (i + ½)/2 − ½ = −¼ (clamped to 0), ¼, ¾, 1¼ (→ last).
    expected = [[4, 3.5, 2.5, 2],
                [3.75, 3.6875, 3.5625, 3.5],
                [3.25, 4.0625, 5.6875, 6.5],
                [3, 4.25, 6.75, 8]]
    np.testing.assert_allclose(up[0, 0], expected, rtol=0, atol=1e-15)


def test_max_unpool2d_hand_4x4():
    out, idx = max_pool2d_with_indices(X4[None, None], 2)
    up = max_unpool2d(out, idx, 2)
    np.testing.assert_array_equal(up[0, 0], [[0, 0, 2, 0], [4, 0, 0, 0], [3, 0, 0, 0], [0, 0, 0, 8]])


@pytest.mark.parametrize("seed", [0, 1])
def test_upsample_nearest2d_matches_torch(seed):
    for x, kw in _configs(seed):
        ref = F.interpolate(torch.from_numpy(x), mode="nearest", **kw).numpy()
        got = upsample_nearest2d(x, **kw)
        assert got.shape == ref.shape, (x.shape, kw)
        np.testing.assert_array_equal(got, ref, err_msg=f"{x.shape} {kw}")


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("seed", [0, 1])
def test_upsample_bilinear2d_matches_torch(seed, align_corners):
    for x, kw in _configs(seed):
        ref = F.interpolate(torch.from_numpy(x), mode="bilinear", align_corners=align_corners, **kw).numpy()
        got = upsample_bilinear2d(x, align_corners=align_corners, **kw)
        assert got.shape == ref.shape, (x.shape, kw)
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12, err_msg=f"{x.shape} {kw}")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_max_pool2d_with_indices_and_unpool_match_torch(seed):
    rng = np.random.default_rng(seed)
    for _ in range(40):
        N, C = (int(v) for v in rng.integers(1, 3, size=2))
        k = int(rng.integers(1, 4))
        s = int(rng.integers(k, k + 2))  # non-overlapping windows: unpooling is well defined
        p = int(rng.integers(0, k // 2 + 1))
        H, W = (int(v) for v in rng.integers(max(1, k - 2 * p), 10, size=2))
        x = rng.standard_normal((N, C, H, W))
        ro, ri = F.max_pool2d(torch.from_numpy(x), k, s, p, return_indices=True)
        out, idx = max_pool2d_with_indices(x, k, s, p)
        np.testing.assert_array_equal(out, ro.numpy())
        np.testing.assert_array_equal(idx, ri.numpy())
        ref = F.max_unpool2d(ro, ri, k, s, p, output_size=(H, W)).numpy()
        np.testing.assert_array_equal(max_unpool2d(out, idx, k, s, p, output_size=(H, W)), ref)


def test_max_pool2d_with_indices_ties_pick_first():
    x = np.ones((1, 1, 2, 2))
    _, idx = max_pool2d_with_indices(x, 2)
    _, ri = F.max_pool2d(torch.from_numpy(x), 2, return_indices=True)
    assert idx[0, 0, 0, 0] == ri[0, 0, 0, 0].item() == 0


def test_sampling_does_not_mutate_inputs(rng):
    x = rng.standard_normal((1, 2, 4, 4))
    before = x.copy()
    upsample_nearest2d(x, scale_factor=2)
    upsample_bilinear2d(x, size=(7, 5))
    out, idx = max_pool2d_with_indices(x, 2)
    o2, i2 = out.copy(), idx.copy()
    max_unpool2d(out, idx, 2)
    np.testing.assert_array_equal(x, before)
    np.testing.assert_array_equal(out, o2)
    np.testing.assert_array_equal(idx, i2)


def test_sampling_argument_errors():
    x = np.zeros((1, 1, 4, 4))
    with pytest.raises(ValueError, match="exactly one"):
        upsample_nearest2d(x)
    with pytest.raises(ValueError, match="exactly one"):
        upsample_bilinear2d(x, size=2, scale_factor=2)
    with pytest.raises(ValueError, match="4-D"):
        upsample_nearest2d(x[0], scale_factor=2)
    out, idx = max_pool2d_with_indices(x, 2)
    with pytest.raises(ValueError, match="output_size"):
        max_unpool2d(out, idx, 2, output_size=(9, 9))
    with pytest.raises(ValueError, match="indices must have the shape"):
        max_unpool2d(out, idx[..., :1], 2)
