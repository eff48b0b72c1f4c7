"""cnnlab.viz.fields: every figure draws headless and says what it shows."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from cnnlab.viz import fields  # noqa: E402

pytestmark = [pytest.mark.lec3, pytest.mark.lec4]

X4 = np.array([[1, 3, 2, 1], [4, 2, 0, 1], [3, 1, 5, 6], [2, 0, 7, 8]])


def _titles(fig):
    return [ax.get_title() for ax in fig.axes] + [fig._suptitle.get_text() if fig._suptitle else ""]


def test_plot_receptive_field_1d_highlights_receptive_field():
    fig = fields.plot_receptive_field_1d([3, 3, 3])
    assert isinstance(fig, Figure)
    assert "7 inputs" in fig.axes[0].get_title()
    # the input row (y = 0) is drawn as two scatter sets: 11 grey dots and the 7 highlighted ones
    input_row = sorted(len(c.get_offsets()) for c in fig.axes[0].collections
                       if len(c.get_offsets()) and np.allclose(c.get_offsets()[:, 1], 0))
    assert input_row == [7, 11]
    plt.close(fig)


def test_plot_receptive_field_1d_stride_and_dilation():
    fig = fields.plot_receptive_field_1d([(3, 2), (3, 1, 2)])
    assert "11 inputs" in fig.axes[0].get_title()  # 1 + 2 + 2·2·2
    plt.close(fig)


def test_plot_receptive_field_overlay_legend():
    img = np.zeros((64, 64))
    fig = fields.plot_receptive_field_overlay(img, [3, 3, (2, 2), 3])
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["after layer 1: 3×3", "after layer 2: 5×5", "after layer 3: 6×6", "after layer 4: 10×10"]
    plt.close(fig)


@pytest.mark.parametrize("mode", ["max", "avg"])
def test_plot_pooling(mode):
    fig = fields.plot_pooling(X4, 2, mode=mode)
    assert any("pool k=2, s=2" in t for t in _titles(fig))
    texts = [t.get_text() for t in fig.axes[1].texts]
    assert texts == (["4", "2", "3", "8"] if mode == "max" else ["2.5", "1", "1.5", "6.5"])
    plt.close(fig)
    with pytest.raises(ValueError, match="mode"):
        fields.plot_pooling(X4, mode="median")


def test_plot_resampling_panels():
    fig = fields.plot_resampling(X4)
    titles = _titles(fig)
    for name in ("subsample", "max pool", "mean pool", "duplicate", "max-unpool", "bilinear"):
        assert any(name in t for t in titles), name
    plt.close(fig)


def test_plot_shift_equivariance_and_response():
    rng = np.random.default_rng(0)
    x = rng.random((20, 20))
    fig = fields.plot_shift_equivariance(x, np.roll(x, (2, 3), (0, 1)), x, np.roll(x, (2, 3), (0, 1)), (2, 3),
                                         border=1)
    assert any("t(f(x))" in t for t in _titles(fig))
    assert fig.axes[5].images[0].get_array().max() == 0  # identity f is exactly equivariant to a roll
    plt.close(fig)
    fig = fields.plot_shift_response([0, 1, 2], {"conv": [0, 0.5, 0.9], "pool": [0, 0.1, 0.2]})
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["conv", "pool"]
    plt.close(fig)


def test_plot_pooling_pair_stride_and_kernel():
    x = np.arange(30.0).reshape(5, 6)
    fig = fields.plot_pooling(x, (2, 3), stride=(1, 3))
    assert any("pool k=(2, 3), s=(1, 3): 4×2" in t for t in _titles(fig))
    assert [t.get_text() for t in fig.axes[1].texts][:2] == ["8", "11"]
    plt.close(fig)
    with pytest.raises(ValueError, match="stride"):
        fields.plot_pooling(x, 2, stride=(1, 2, 3))
