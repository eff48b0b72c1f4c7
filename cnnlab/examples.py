"""The seed decks' worked examples, as data plus a computation with cnnlab.

Each `Example` holds the slide's inputs and hyper-parameters, the numbers the
slide shows, and a function that recomputes them with `cnnlab.functional`
(or `cnnlab.shapes`). Lectures, exercises and the grader reuse the inputs:

    >>> from cnnlab import examples
    >>> ex = examples.get("blur")
    >>> ex.inputs["x"].shape, ex.check()
    ((5, 5), True)

`python -m cnnlab examples [NAME ...]` prints every example, cnnlab's result
and whether it matches the slide; it exits 1 if any does not. Input arrays
are read-only, so one caller cannot change another's copy.
"""
from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from cnnlab import functional as F
from cnnlab import shapes

__all__ = ["Example", "EXAMPLES", "get", "names", "main"]

_DECKS = {
    "000": "seed 000 (USC CSCI 467, Deep Learning for Images: CNNs)",
    "001": "seed 001 (CNN lecture: convolutional & pooling layers)",
    "002": "seed 002 (BU DS 542, Convolutional Neural Networks)",
    "003": "seed 003 (Intro to deep learning, lecture 3)",
    "004": "seed 004 (UFV INF721 L10: Convolutional Neural Networks)",
}


@dataclass(frozen=True)
class Example:
    """One worked example: inputs, hyper-parameters, the slide's numbers, and how to recompute them.

    Attributes:
        name: short identifier, the key in `EXAMPLES`.
        source: the seed deck (and slide) it comes from.
        description: what is computed, in one or two sentences.
        inputs: named read-only arrays (images, kernels, signals).
        params: hyper-parameters (stride, padding, sizes, ...).
        expected: the numbers shown on the slide (array, number or tuple).
        compute: `compute(inputs, params)` → the same kind of value as `expected`.
        note: a slip in the deck that was corrected, or how a value not printed was chosen.
    """

    name: str
    source: str
    description: str
    inputs: dict
    params: dict
    expected: object
    compute: Callable[[dict, dict], object] = field(repr=False)
    note: str = ""

    def result(self):
        """Recompute the example with cnnlab."""
        return self.compute(self.inputs, self.params)

    def check(self) -> bool:
        """True when cnnlab's result equals the slide's numbers."""
        return _same(self.result(), self.expected)


def _same(got, want) -> bool:
    if isinstance(want, (tuple, list)):
        return isinstance(got, (tuple, list)) and len(got) == len(want) and all(map(_same, got, want))
    got, want = np.asarray(got), np.asarray(want)
    return got.shape == want.shape and bool(np.allclose(got, want, rtol=0, atol=1e-9))


def _ro(a, dtype=float):
    arr = np.array(a, dtype=dtype)
    arr.setflags(write=False)
    return arr


EXAMPLES: dict[str, Example] = {}


def _add(name, deck, description, inputs, params, expected, compute, note=""):
    src = _DECKS[deck[:3]] + deck[3:]
    inputs = {k: _ro(v) for k, v in inputs.items()}
    EXAMPLES[name] = Example(name, src, description, inputs, params, expected, compute, note)


# --- 2-D filters -----------------------------------------------------------------

_BLUR_IMAGE = [[206, 205, 247, 245, 244],
               [244, 161, 137, 244, 254],
               [192, 154, 75, 200, 249],
               [90, 109, 96, 143, 223],
               [67, 69, 107, 196, 236]]
_BLUR_KERNEL = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 16
_SLIPS_004 = ("the slide prints 0,0125 for 0.125 in the kernel ([[1,2,1],[2,4,2],[1,2,1]]/16) "
              "and 144 for the image's 244; with the corrected values the slide's numbers follow")

_add("blur_pixel", "004, 'Filters'",
     "Blur one pixel: the 3x3 binomial kernel / 16 on the pixel 161 and its neighbours gives 178 (rounded).",
     {"x": [row[:3] for row in _BLUR_IMAGE[:3]], "k": _BLUR_KERNEL}, {"round": True},
     178.0, lambda i, p: float(np.rint(F.corr2d(i["x"], i["k"])[0, 0])), _SLIPS_004)

_add("blur", "004, 'Convolutions'",
     "Blur the 5x5 image with the 3x3 binomial kernel / 16 (valid): a 3x3 image, rounded to integers.",
     {"x": _BLUR_IMAGE, "k": _BLUR_KERNEL}, {"round": True},
     np.array([[178, 175, 216], [141, 133, 183], [106, 117, 167]]),
     lambda i, p: np.rint(F.corr2d(i["x"], i["k"])), _SLIPS_004)

_add("vertical_edge", "001, 'Vertical edge detection' (the kernel also in 004, 'Edge Detection')",
     "A 6x6 image bright (10) on the left, dark (0) on the right, correlated with the vertical-edge "
     "kernel [[1,0,-1]]*3: the edge shows as a band of 30s in the 4x4 output.",
     {"x": [[10, 10, 10, 0, 0, 0]] * 6, "k": [[1, 0, -1]] * 3}, {},
     np.array([[0, 30, 30, 0]] * 4), lambda i, p: F.corr2d(i["x"], i["k"]))

_add("vertical_line", "000, 'can we detect a vertical line?'",
     "A 5x6 image with a vertical line (column 1) and a horizontal one (row 2), correlated with the "
     "vertical-line kernel [[-1,2,-1]]*3: a 3x4 output, (5-3+1) x (6-3+1).",
     {"x": [[0, 0, 0, 0, 0, 0], [0, 1, 0, 0, 0, 0], [0, 1, 1, 1, 1, 1], [0, 1, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0]],
      "k": [[-1, 2, -1]] * 3}, {},
     np.array([[3, -1, 0, 0], [5, -2, 0, 0], [3, -1, 0, 0]]), lambda i, p: F.corr2d(i["x"], i["k"]),
     "the deck's OCR shows stray 1/7 in some kernel and output cells; the clean slides read as above")

_add("conv_layer", "001, 'Convolution Layers' (learnable parameters)",
     "A 5x5 input correlated with the 3x3 kernel [[0,1,2],[2,2,0],[0,1,2]] (the subscripts on the "
     "slide), stride 1, no padding: the 3x3 feature map.",
     {"x": [[3, 3, 2, 1, 0], [0, 0, 1, 3, 1], [3, 1, 2, 2, 3], [2, 0, 0, 2, 2], [2, 0, 0, 0, 1]],
      "k": [[0, 1, 2], [2, 2, 0], [0, 1, 2]]}, {},
     np.array([[12, 12, 17], [10, 17, 19], [9, 6, 14]]), lambda i, p: F.corr2d(i["x"], i["k"]))

# --- the "Cartesian axes" network (seed 001) ----------------------------------------

_AXES = {"x": [[0, 1, 0, 1], [0, 1, 0, 1], [1, 1, 1, 1], [0, -2, 0, -2]],
         "w": [[[[-0.5, 1, -0.5]] * 3], [[[-0.5] * 3, [1] * 3, [-0.5] * 3]]]}  # (C_out=2, C_in=1, 3, 3)


def _axes_maps(i, p):
    return F.conv2d(i["x"][None, None], i["w"], stride=p["stride"], padding=p["padding"])[0]  # (2, 2, 2)


_add("cartesian_axes_conv", "001, 'Example' (does the image depict Cartesian axes?)",
     "Step 1: convolve the 4x4 image with a vertical and a horizontal line filter (no padding, "
     "stride 1): two 2x2 feature maps.",
     _AXES, {"stride": 1, "padding": 0},
     np.array([[[2, -2], [-1, 1]], [[-1, -0.5], [3.5, 4]]]), _axes_maps)

_add("cartesian_axes_pool", "001, 'Example', step 2",
     "Step 2: 2x2 max pooling of each feature map: one number per filter, (2, 4).",
     _AXES, {"stride": 1, "padding": 0, "kernel_size": 2},
     np.array([2.0, 4.0]),
     lambda i, p: F.max_pool2d(_axes_maps(i, p)[None], p["kernel_size"]).reshape(-1))

# --- 1-D convolution (seed 002) ----------------------------------------------------

_SIGNAL = [5.2, 5.3, 5.4, 5.1, 10.1, 10.3, 9.9, 10.3, 3.2, 3.4, 3.3, 3.1]

_add("signal_1d", "002, '1-D Convolution Example'",
     "The deck's 12-sample signal, kernel size 3, stride 1, dilation 1, zero padding 1 "
     "(z_i = w1 x_{i-1} + w2 x_i + w3 x_{i+1}) with w = [-0.5, 0, 0.5]: a difference filter whose "
     "output is large where the signal jumps (5 → 10 → 3).",
     {"x": _SIGNAL, "w": [-0.5, 0, 0.5]}, {"stride": 1, "padding": 1, "dilation": 1},
     np.array([2.65, 0.1, -0.1, 2.35, 2.6, -0.1, 0.0, -3.35, -3.45, 0.05, -0.15, -1.65]),
     lambda i, p: F.conv1d(i["x"][None, None], i["w"][None, None], None, **p)[0, 0],
     "the slide gives the signal but not the kernel; w = [-0.5, 0, 0.5] is the course's choice and "
     "the expected numbers are worked by hand")

_add("signal_1d_stride_dilation", "002, 'Stride, kernel size, and dilation'",
     "The same signal and kernel with stride 2 and dilation 2, no padding: taps x_i, x_{i+2}, x_{i+4} "
     "for i = 0, 2, 4, 6; L_out = (12 - 4 - 1) // 2 + 1 = 4.",
     {"x": _SIGNAL, "w": [-0.5, 0, 0.5]}, {"stride": 2, "padding": 0, "dilation": 2},
     np.array([2.45, 2.25, -3.45, -3.3]),
     lambda i, p: F.conv1d(i["x"][None, None], i["w"][None, None], None, **p)[0, 0],
     "not on the slide: worked by hand, 0.5 (x_{i+4} - x_i)")

# --- parameter counts --------------------------------------------------------------

_add("params_conv_vs_fc", "000, 'Convolutional vs. Fully Connected Layers'",
     "The 5x6 → 3x4 vertical-line layer: a 3x3 kernel plus a bias is 10 parameters; a fully "
     "connected layer from 30 inputs to 12 outputs needs 30*12 + 12 = 372.",
     {}, {"input": (5, 6), "kernel_size": 3, "output": (3, 4)}, (10, 372),
     lambda i, p: (shapes.conv2d_params(1, 1, p["kernel_size"]), shapes.linear_params(30, 12)))

_add("params_56", "001, 'Convolution Layers' example",
     "Kernel size 3, stride 2, padding 1, 3 input channels, 2 output channels: (3*3*3 + 1) * 2 = 56 "
     "parameters (stride and padding do not matter).",
     {}, {"c_in": 3, "c_out": 2, "kernel_size": 3, "stride": 2, "padding": 1}, 56,
     lambda i, p: shapes.conv2d_params(p["c_in"], p["c_out"], p["kernel_size"]))

_add("params_280", "004, 'Exercise'",
     "A layer with 10 filters of size 3x3x3: (27 + 1) * 10 = 280 parameters; W has shape (10, 27).",
     {}, {"c_in": 3, "c_out": 10, "kernel_size": 3}, (280, (10, 27)),
     lambda i, p: (shapes.conv2d_params(p["c_in"], p["c_out"], p["kernel_size"]),
                   (p["c_out"], p["c_in"] * p["kernel_size"] ** 2)))

def _mnist1d_params(i, p):
    c, k = p["channels"], (1, p["kernel_size"])  # a Conv1d counts like a Conv2d with a 1 x K kernel
    layers = (shapes.conv2d_params(1, c, k), shapes.conv2d_params(c, c, k), shapes.conv2d_params(c, c, k),
              shapes.linear_params(p["flat"], p["classes"]))
    return layers, sum(layers)


_add("mnist1d_params", "002, 'Convolutional network' (MNIST-1D)",
     "Three Conv1d layers (15 channels, kernel 3) and a Linear(60, 10): 60 + 690 + 690 + 610 = 2,050 "
     "parameters.",
     {}, {"channels": 15, "kernel_size": 3, "classes": 10, "flat": 60}, ((60, 690, 690, 610), 2050),
     _mnist1d_params)

_add("fc_explosion", "002, 'Problems with fully-connected networks'",
     "A 224x224 RGB image has 150,528 values; one fully connected hidden layer of the same size has "
     "150,528^2 ≈ 22 billion weights.",
     {}, {"image": (224, 224, 3)}, (150528, 22),
     lambda i, p: (int(np.prod(p["image"])), shapes.linear_params(int(np.prod(p["image"])),
                                                                  int(np.prod(p["image"])), bias=False) // 10**9),
     "the slide prints 150,520x150,528; both factors are 150,528")

# --- output sizes ------------------------------------------------------------------


def _shape_39(i, p):
    # walk a zero image through cnnlab.functional.conv2d: the shapes are the real ones
    x, out = np.zeros((1, 3, p["n0"], p["n0"])), []
    for f, s, pad, c in p["layers"]:
        x = F.conv2d(x, np.zeros((c, x.shape[1], f, f)), stride=s, padding=pad)  # (1, c, n, n)
        out.append((x.shape[2], x.shape[3], x.shape[1]))
    return tuple(out), int(np.prod(out[-1]))


_add("net_39", "004, 'CNN for Image Classification'",
     "A 39x39x3 image through three conv layers (f = 3, 5, 5; s = 1, 2, 2; p = 0; 10, 20, 40 filters): "
     "37x37x10, 17x17x20, 7x7x40, flattened to 1,960 features.",
     {}, {"n0": 39, "layers": ((3, 1, 0, 10), (5, 2, 0, 20), (5, 2, 0, 40))},
     (((37, 37, 10), (17, 17, 20), (7, 7, 40)), 1960), _shape_39,
     "the deck's text lists the hyper-parameters; the sizes are the figure's, from (n + 2p - f)/s + 1")


def _mnist1d_lengths(i, p):
    x = np.zeros((1, 1, p["length"]))
    lengths = []
    for c_in in (1, p["channels"], p["channels"]):
        x = F.conv1d(x, np.zeros((p["channels"], c_in, p["kernel_size"])), stride=p["stride"])
        lengths.append(x.shape[2])
    return tuple(lengths), x.shape[1] * x.shape[2]


_add("mnist1d_lengths", "002, MNIST-1D torchinfo table",
     "MNIST-1D signals of length 40 through three Conv1d(kernel 3, stride 2): lengths 19, 9, 4; "
     "flattened 15*4 = 60 features.",
     {}, {"length": 40, "channels": 15, "kernel_size": 3, "stride": 2}, ((19, 9, 4), 60), _mnist1d_lengths,
     "the table shows [100, 15, 19], [100, 15, 9], [100, 15, 4], [100, 60]; stride 2 is what fits")

_add("same_padding", "004, 'Padding'",
     "p = (f - 1)/2 keeps the size: a 5x5 image, 3x3 filter, padding 1 → 5x5; without padding "
     "n - f + 1 = 3.",
     {}, {"n": 5, "f": 3}, ((5, 5), (3, 3)),
     lambda i, p: (F.conv2d(np.zeros((1, 1, p["n"], p["n"])), np.zeros((1, 1, p["f"], p["f"])),
                            padding=(p["f"] - 1) // 2).shape[2:],
                   F.conv2d(np.zeros((1, 1, p["n"], p["n"])), np.zeros((1, 1, p["f"], p["f"]))).shape[2:]))

_add("image_values", "002, 'Bigger Inputs' / 'Variable Size'",
     "Values in a photo: 2560x1707x3 = 13,109,760 and 3024x4032x3 = 36,578,304.",
     {}, {"sizes": ((2560, 1707, 3), (3024, 4032, 3))}, (13109760, 36578304),
     lambda i, p: tuple(int(np.prod(s)) for s in p["sizes"]))


# --- API and command line --------------------------------------------------------------

def names() -> list[str]:
    """Names of all examples, in lecture order."""
    return list(EXAMPLES)


def get(name: str) -> Example:
    """The example called `name`; KeyError lists the valid names."""
    try:
        return EXAMPLES[name]
    except KeyError:
        raise KeyError(f"no example {name!r}; choose one of {', '.join(EXAMPLES)}") from None


def _fmt(v) -> str:
    if isinstance(v, np.ndarray):
        return np.array2string(v, precision=4, suppress_small=True, separator=" ").replace("\n", "\n             ")
    return repr(v)


def main(argv=None) -> int:
    """Print each example, cnnlab's result and whether it matches the slide; 1 if any mismatch."""
    argv = list(argv or [])
    if any(a in {"-h", "--help"} for a in argv):
        print("usage: python -m cnnlab examples [NAME ...]\n\nexamples: " + ", ".join(EXAMPLES))
        return 0
    unknown = [n for n in argv if n not in EXAMPLES]
    if unknown:
        print(f"unknown example(s): {', '.join(unknown)}; choose from {', '.join(EXAMPLES)}", file=sys.stderr)
        return 2
    chosen = [EXAMPLES[n] for n in argv] if argv else list(EXAMPLES.values())
    failed = []
    for ex in chosen:
        try:
            got, ok = ex.result(), None
            ok = _same(got, ex.expected)
        except Exception as exc:  # report and go on: one broken example must not hide the others
            got, ok = f"{type(exc).__name__}: {exc}", False
        failed += [] if ok else [ex.name]
        print(f"== {ex.name}  [{'MATCH' if ok else 'MISMATCH'}]\n   {ex.source}\n   {ex.description}")
        print(f"   expected: {_fmt(ex.expected)}\n   cnnlab:   {_fmt(got)}")
        if ex.note:
            print(f"   note:     {ex.note}")
    print(f"\n{len(chosen) - len(failed)}/{len(chosen)} worked examples match the slides"
          + (f"; MISMATCH: {', '.join(failed)}" if failed else "."))
    return 1 if failed else 0
