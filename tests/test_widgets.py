"""cnnlab.widgets: live sliders with a kernel, a static figure without one."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from cnnlab import widgets  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _sliders(box):
    controls, msg, out = box.children
    sliders = [s for col in controls.children for s in col.children]
    return {s.description: s for s in sliders}, msg


def test_live_kernel_false_outside_ipython(monkeypatch):
    monkeypatch.delenv("CNNLAB_STATIC", raising=False)
    monkeypatch.delenv("CNNLAB_BOOK", raising=False)
    assert widgets.live_kernel() is False


@pytest.mark.parametrize("var", ["CNNLAB_STATIC", "CNNLAB_BOOK"])
def test_live_kernel_env_forces_static(monkeypatch, var):
    monkeypatch.setenv(var, "1")
    assert widgets.live_kernel() is False


def test_conv_explorer_static_without_kernel():
    fig = widgets.conv_explorer()
    assert isinstance(fig, Figure)
    fig.canvas.draw()
    assert "static" in fig._suptitle.get_text()
    assert len(fig.subfigs) == 4  # given, same padding, stride 2, dilation 2


def test_conv_explorer_static_is_not_registered_with_pyplot():
    before = plt.get_fignums()
    widgets.conv_explorer(static=True)
    assert plt.get_fignums() == before  # a notebook shows it once, as the cell's value


def test_conv_explorer_static_skips_empty_variants():
    fig = widgets.conv_explorer_static(in_size=4, kernel_size=3)  # dilation 2 needs n >= 5
    assert len([s for s in fig.subfigs if s.axes]) == 3
    with pytest.raises(ValueError):
        widgets.conv_explorer_static(in_size=2, kernel_size=5)


def test_conv_explorer_widgets_update():
    import ipywidgets

    box = widgets.conv_explorer(7, 3, static=False)
    assert isinstance(box, ipywidgets.VBox)
    sl, msg = _sliders(box)
    assert set(sl) == {"input size n", "kernel size k", "stride s", "padding p", "dilation d",
                       "output row", "output column"}
    assert "<b>5</b>" in msg.value and sl["output row"].max == 4
    sl["stride s"].value = 2
    assert "<b>3</b>" in msg.value and sl["output row"].max == 2
    sl["padding p"].value = 1
    sl["dilation d"].value = 2
    assert "<b>3</b>" in msg.value  # ⌊(7 + 2 − 4 − 1)/2⌋ + 1
    sl["input size n"].value = 2
    sl["padding p"].value = 0
    assert "No output" in msg.value
    assert plt.get_fignums() == []  # redraws close their figures


KERNELS = {"vertical edges": [[1, 0, -1]] * 3, "blur": [[1 / 9] * 3] * 3}


def test_filter_explorer_static():
    fig = widgets.filter_explorer(KERNELS, images=("camera",), static=True)
    assert isinstance(fig, Figure)
    titles = [ax.get_title() for ax in fig.axes if ax.axison and ax.get_label() != "<colorbar>"]
    assert titles == ["camera (original)", "vertical edges", "blur"]
    fig.canvas.draw()


def test_filter_explorer_widgets_update(rng):
    import ipywidgets

    box = widgets.filter_explorer(KERNELS, images={"noise": rng.random((20, 20))}, static=False)
    assert isinstance(box, ipywidgets.VBox)
    pick_img, pick_k = box.children[0].children
    assert list(pick_k.options) == list(KERNELS)
    pick_k.value = "blur"  # redraws without error
    assert plt.get_fignums() == []


def test_filter_explorer_rejects_empty():
    with pytest.raises(ValueError):
        widgets.filter_explorer({}, static=True)
