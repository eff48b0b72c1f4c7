"""ipywidgets explorers for the lectures, with static fallbacks for the web book.

`conv_explorer()` (convolution arithmetic) and `filter_explorer()` (kernels
on photos) return live widgets when a Jupyter kernel with ipywidgets
is driving the notebook, and a static matplotlib figure otherwise: outside
IPython, when ipywidgets is missing, when ``static=True``, or when the
environment variable ``CNNLAB_STATIC`` or ``CNNLAB_BOOK`` is set to 1/true/yes
(the book build sets ``CNNLAB_BOOK``: a web page has no kernel to move sliders).
"""
from __future__ import annotations

import os

import numpy as np
from matplotlib.figure import Figure

from cnnlab._args import as_int
from cnnlab.shapes import conv_output_size
from cnnlab.viz.arithmetic import plot_conv_arithmetic

__all__ = ["live_kernel", "conv_explorer", "conv_explorer_static", "filter_explorer"]


def live_kernel() -> bool:
    """True when widgets can be live: an IPython kernel, ipywidgets, and neither
    ``CNNLAB_STATIC`` nor ``CNNLAB_BOOK`` set."""
    for var in ("CNNLAB_STATIC", "CNNLAB_BOOK"):
        if os.environ.get(var, "").strip().lower() in ("1", "true", "yes", "on"):
            return False
    try:
        from IPython import get_ipython
        import ipywidgets  # noqa: F401
    except ImportError:
        return False
    ip = get_ipython()
    return ip is not None and getattr(ip, "kernel", None) is not None


def conv_explorer_static(in_size=7, kernel_size=3, stride=1, padding=0, dilation=1) -> Figure:
    """The explorer's static stand-in: four arithmetic diagrams, one knob turned in each.

    Panels: the given configuration, then with padding ``(k−1)/2`` ("same"),
    with stride 2, and with dilation 2, so a reader without a kernel still
    sees what each knob does. Variants that would give an empty output are
    skipped; an invalid given configuration raises ValueError.

    Returns:
        A `matplotlib.figure.Figure` (not registered with pyplot, so a
        notebook shows it exactly once when it is a cell's value).
    """
    n, k = as_int(in_size, "in_size", 1), as_int(kernel_size, "kernel_size", 1)
    s, p, d = as_int(stride, "stride", 1), as_int(padding, "padding", 0), as_int(dilation, "dilation", 1)
    variants = [("as given", (s, p, d)), ("'same' padding p = (k−1)/2", (s, (k - 1) // 2, d)),
                ("stride 2", (2, p, d)), ("dilation 2", (s, p, 2))]
    conv_output_size(n, k, s, p, d)  # the given configuration must be valid: raise its error
    ok = []
    for label, (s_, p_, d_) in variants:
        try:
            conv_output_size(n, k, s_, p_, d_)
        except ValueError:
            continue
        ok.append((label, (s_, p_, d_)))
    fig = Figure(figsize=(13, 4.6 * ((len(ok) + 1) // 2)), layout="constrained")
    subs = fig.subfigures((len(ok) + 1) // 2, 2, squeeze=False).ravel()
    for sub, (label, (s_, p_, d_)) in zip(subs, ok):
        plot_conv_arithmetic(n, k, s_, p_, d_, (0, 0), fig=sub,
                             title=f"{label}: n={n}, k={k}, s={s_}, p={p_}, d={d_}")
    fig.suptitle("Convolution arithmetic (static view; run the notebook for live sliders)")
    return fig


def conv_explorer(in_size=7, kernel_size=3, stride=1, padding=0, dilation=1, *, static=None):
    """Sliders for input size, kernel size, stride, padding and dilation that redraw
    `cnnlab.viz.plot_conv_arithmetic` and report ``H_out``.

    Two more sliders pick the output cell whose kernel taps are shown.
    Configurations with an empty output print the reason instead of a figure.

    Args:
        in_size, kernel_size, stride, padding, dilation: initial values (ints).
        static: True for the static figure, False to force widgets, None to
            decide with `live_kernel()`. Default: None.

    Returns:
        An `ipywidgets.VBox` (live), or the Figure of `conv_explorer_static`.
    """
    if static is None:
        static = not live_kernel()
    if static:
        return conv_explorer_static(in_size, kernel_size, stride, padding, dilation)

    import ipywidgets as w
    import matplotlib.pyplot as plt
    from IPython.display import display

    style = {"description_width": "110px"}
    sl = {
        "in_size": w.IntSlider(in_size, 1, 12, description="input size n", style=style),
        "kernel_size": w.IntSlider(kernel_size, 1, 7, description="kernel size k", style=style),
        "stride": w.IntSlider(stride, 1, 4, description="stride s", style=style),
        "padding": w.IntSlider(padding, 0, 4, description="padding p", style=style),
        "dilation": w.IntSlider(dilation, 1, 4, description="dilation d", style=style),
        "row": w.IntSlider(0, 0, 0, description="output row", style=style),
        "col": w.IntSlider(0, 0, 0, description="output column", style=style),
    }
    msg = w.HTML()
    out = w.Output()
    busy = {"flag": False}

    def redraw(_=None):
        if busy["flag"]:
            return
        busy["flag"] = True
        try:
            v = {name: s.value for name, s in sl.items()}
            try:
                n_out = conv_output_size(v["in_size"], v["kernel_size"], v["stride"], v["padding"],
                                         v["dilation"])
            except ValueError as err:
                msg.value = f"<b>No output:</b> {err}"
                out.clear_output()
                return
            for name in ("row", "col"):
                sl[name].max = n_out - 1
            msg.value = (f"H_out = ⌊(n + 2p − d(k−1) − 1)/s⌋ + 1 = <b>{n_out}</b>"
                         f" &nbsp; (kernel extent d(k−1)+1 = {v['dilation'] * (v['kernel_size'] - 1) + 1})")
            with out:
                out.clear_output(wait=True)
                fig = plot_conv_arithmetic(v["in_size"], v["kernel_size"], v["stride"], v["padding"],
                                           v["dilation"], (sl["row"].value, sl["col"].value))
                display(fig)
                plt.close(fig)
        finally:
            busy["flag"] = False

    for s in sl.values():
        s.observe(redraw, names="value")
    redraw()
    controls = w.HBox([w.VBox([sl[n] for n in ("in_size", "kernel_size", "stride", "padding")]),
                       w.VBox([sl[n] for n in ("dilation", "row", "col")])])
    return w.VBox([controls, msg, out])


def _gray_images(images):
    from cnnlab.data import sample_image

    if isinstance(images, dict):
        return {name: np.asarray(img, dtype=np.float64) for name, img in images.items()}
    return {name: sample_image(name, as_gray=True) for name in images}


def _filter_figure(name, img, kname, k, fig=None):
    from cnnlab.functional import corr2d
    from cnnlab.viz import show_image, show_matrix

    fig = fig if fig is not None else Figure(figsize=(12, 4), layout="constrained")
    axes = fig.subplots(1, 3, gridspec_kw={"width_ratios": [4, 2, 4]})
    show_image(img, axes[0], title=f"{name} {img.shape}")
    show_matrix(k, axes[1], title=f"kernel: {kname}", symmetric=True)
    out = corr2d(img, k)
    signed = bool(np.isclose(np.sum(k), 0.0))  # zero-sum kernels respond to change: signed output
    show_image(out, axes[2], title=f"output {out.shape}", symmetric=signed, robust=True)
    return fig


def filter_explorer(kernels, images=("camera", "coins", "brick", "text"), *, static=None):
    """Pick a photo and a kernel from drop-downs and see the filtered image.

    Args:
        kernels: dict ``name -> (KH, KW) array``.
        images: names of `cnnlab.data.SAMPLE_IMAGES` (loaded as grayscale
            in [0, 1]) or a dict ``name -> (H, W) array``.
        static: True for a static figure (every kernel on the first image),
            False to force widgets, None to decide with `live_kernel()`.

    Returns:
        An `ipywidgets.VBox` (live) or a `matplotlib.figure.Figure` (static).
        Outputs of zero-sum kernels are drawn with a 0-centred diverging
        colour scale, others in gray.
    """
    kernels = {name: np.asarray(k, dtype=np.float64) for name, k in kernels.items()}
    if not kernels:
        raise ValueError("kernels is empty")
    imgs = _gray_images(images)
    if static is None:
        static = not live_kernel()
    if static:
        from cnnlab.functional import corr2d
        from cnnlab.viz import show_image

        name, img = next(iter(imgs.items()))
        n = len(kernels) + 1
        ncols = min(n, 4)
        nrows = -(-n // ncols)
        fig = Figure(figsize=(3.6 * ncols, 3.4 * nrows), layout="constrained")
        axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
        show_image(img, axes[0], title=f"{name} (original)")
        for ax, (kname, k) in zip(axes[1:], kernels.items()):
            show_image(corr2d(img, k), ax, title=kname, symmetric=bool(np.isclose(k.sum(), 0.0)),
                       robust=True)
        for ax in axes[n:]:
            ax.set_axis_off()
        fig.suptitle(f"each kernel on {name} (static view; run the notebook to choose)")
        return fig

    import ipywidgets as w
    import matplotlib.pyplot as plt
    from IPython.display import display

    pick_img = w.Dropdown(options=list(imgs), description="photo")
    pick_k = w.Dropdown(options=list(kernels), description="kernel")
    out = w.Output()

    def redraw(_=None):
        with out:
            out.clear_output(wait=True)
            fig = plt.figure(figsize=(12, 4), layout="constrained")
            _filter_figure(pick_img.value, imgs[pick_img.value], pick_k.value, kernels[pick_k.value], fig)
            display(fig)
            plt.close(fig)

    pick_img.observe(redraw, names="value")
    pick_k.observe(redraw, names="value")
    redraw()
    return w.VBox([w.HBox([pick_img, pick_k]), out])
