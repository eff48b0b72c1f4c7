"""cnnlab.viz (lectures 1-2 figures): return Figures under Agg, titled and labelled."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from cnnlab import viz  # noqa: E402

X = np.array([[0, 0, 0, 0, 0, 0],
              [0, 1, 0, 0, 0, 0],
              [0, 1, 1, 1, 1, 1],
              [0, 1, 0, 0, 0, 0],
              [0, 0, 0, 0, 0, 0]], dtype=float)
K = np.array([[-1, 2, -1]] * 3, dtype=float)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _labelled(fig):
    """Every drawn (non-colorbar) axes has a title and at least one axis label."""
    axes = [ax for ax in fig.get_axes() if ax.get_label() != "<colorbar>" and ax.axison]
    assert axes, "figure has no visible axes"
    for ax in axes:
        assert ax.get_title(), f"untitled axes in {fig}"
        assert ax.get_xlabel().strip() or ax.get_ylabel().strip(), f"unlabelled axes {ax.get_title()!r}"
    fig.canvas.draw()  # renders without error headless
    return axes


def test_backend_is_agg():
    assert matplotlib.get_backend().lower() == "agg"


def test_show_image_gray_and_rgb(rng):
    fig = viz.show_image(rng.random((10, 12)), title="noise")
    assert isinstance(fig, Figure)
    ax = _labelled(fig)[0]
    assert ax.get_title() == "noise"
    assert len(fig.axes) == 2  # image + colorbar
    fig = viz.show_image(rng.integers(0, 255, (8, 8, 3)).astype(np.uint8))
    assert len(fig.axes) == 1 and "(8, 8, 3)" in fig.axes[0].get_title()


def test_show_image_symmetric_limits(rng):
    a = rng.normal(size=(6, 6))
    fig = viz.show_image(a, symmetric=True)
    lo, hi = fig.axes[0].images[0].get_clim()
    assert lo == -hi == -np.abs(a).max()


def test_show_images_grid_and_titles(rng):
    imgs = rng.random((5, 7, 7))
    fig = viz.show_images(imgs, [f"map {i}" for i in range(5)], ncols=3, suptitle="grid")
    axes = _labelled(fig)
    assert [ax.get_title() for ax in axes] == [f"map {i}" for i in range(5)]
    with pytest.raises(ValueError, match="titles"):
        viz.show_images(imgs, ["one"])


def test_show_channels():
    rgb = np.zeros((6, 6, 3), dtype=np.uint8)
    rgb[..., 0] = 200
    fig = viz.show_channels(rgb)
    titles = [ax.get_title() for ax in _labelled(fig)]
    assert titles == ["RGB image", "channel 0: red", "channel 1: green", "channel 2: blue"]
    with pytest.raises(ValueError):
        viz.show_channels(np.zeros((4, 4)))


def test_show_matrix_writes_values():
    fig = viz.show_matrix(K, title="kernel", highlight=(0, 0, 2, 2))
    ax = _labelled(fig)[0]
    texts = sorted(t.get_text() for t in ax.texts)
    assert texts == sorted(["-1", "2", "-1"] * 3)
    assert len(ax.patches) == 1  # the highlight box
    fig = viz.show_matrix([5.2, 5.3, 5.4], fmt=".1f")
    assert [t.get_text() for t in fig.axes[0].texts] == ["5.2", "5.3", "5.4"]


def test_show_matrix_hide_blanks_cells():
    fig = viz.show_matrix(np.arange(4.0).reshape(2, 2), hide=np.array([[False, True], [True, True]]))
    assert [t.get_text() for t in fig.axes[0].texts] == ["0"]


def test_show_kernels_and_feature_maps(rng):
    fig = viz.show_kernels([K, K.T], ["vertical", "horizontal"], suptitle="lines")
    assert [ax.get_title() for ax in _labelled(fig)] == ["vertical", "horizontal"]
    fig = viz.show_feature_maps([rng.normal(size=(5, 5))] * 2, ["a", "b"])
    _labelled(fig)


def test_show_equation():
    y = np.zeros((3, 4))
    fig = viz.show_equation(X, K, y, highlight=((0, 0, 3, 3), (0, 0)))
    titles = [ax.get_title() for ax in fig.axes if ax.axison]
    assert titles == ["input", "kernel", "output"]


def test_plot_sliding_window_values():
    fig = viz.plot_sliding_window(X, K, (1, 1))
    _labelled(fig)
    head = fig._suptitle.get_text()
    assert "output[1, 1]" in head and "= -2" in head
    out_ax = fig.axes[2]
    shown = [t.get_text() for t in out_ax.texts]
    assert shown == ["3", "-1", "0", "0", "5", "-2"]  # revealed up to (1, 1)


def test_plot_sliding_window_padding_stride_dilation(rng):
    x = rng.integers(0, 5, (6, 6)).astype(float)
    fig = viz.plot_sliding_window(x, np.ones((2, 2)), (1, 2), stride=2, padding=1, dilation=2)
    _labelled(fig)
    assert "zero-padded" in fig.axes[0].get_title()
    with pytest.raises(ValueError, match="outside"):
        viz.plot_sliding_window(x, np.ones((2, 2)), (9, 9))


@pytest.mark.parametrize("cfg", [(5, 3, 1, 0, 1), (5, 3, 2, 1, 1), (7, 3, 1, 0, 2), ((6, 8), (3, 2), (1, 2), (1, 0), 1)])
def test_plot_conv_arithmetic(cfg):
    fig = viz.plot_conv_arithmetic(*cfg)
    axes = _labelled(fig)
    assert len(axes) == 2
    assert "⌊" in fig._suptitle.get_text()


def test_plot_conv_arithmetic_numbers():
    fig = viz.plot_conv_arithmetic(5, 3, 2, 1, 1, (1, 1))
    assert fig._suptitle.get_text().endswith("= 3")
    assert fig.axes[1].get_title().startswith("output 3×3")
    with pytest.raises(ValueError):
        viz.plot_conv_arithmetic(3, 5)
    with pytest.raises(ValueError, match="outside"):
        viz.plot_conv_arithmetic(5, 3, out_index=(3, 0))


def test_plot_conv1d_connections():
    fig = viz.plot_conv1d_connections(8, 3, stride=2, padding=1)
    ax = _labelled(fig)[0]
    assert "L_out = 4" in ax.get_title()
    assert len(ax.lines) == 4 * 3 + 4 + 2  # wires, output nodes, input and padding markers


def test_plot_signals():
    fig = viz.plot_signals({"x": [1, 2, 3], "y": [2, 3]}, x={"y": [1, 2]}, title="signals")
    ax = _labelled(fig)[0]
    assert [line.get_label() for line in ax.lines] == ["x", "y"]
    assert list(ax.lines[1].get_xdata()) == [1, 2]
