"""conv_transpose2d (ps5): the transposed convolution of a U-Net's decoder (kind "array")."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from cnnlab import reference as R
from cnnlab.grading.exercise import REQUIRED, Exercise, Mistake
from cnnlab.grading.mistake import hyper_mistakes

__all__ = ["CONV_TRANSPOSE2D", "EXERCISES"]


def _pair(v):
    return (int(v), int(v)) if np.isscalar(v) else (int(v[0]), int(v[1]))


def _normalize(params):
    P = SimpleNamespace(**params)
    P.x, P.w = np.asarray(P.x, dtype=np.float64), np.asarray(P.w, dtype=np.float64)
    P.s, P.p, P.op, P.d = _pair(P.stride), _pair(P.padding), _pair(P.output_padding), _pair(P.dilation)
    return P


def _ref(P, dev, **kw):
    a = dict(b=P.b, stride=P.s, padding=P.p, output_padding=P.op, dilation=P.d)
    a.update(kw)
    return R.conv_transpose2d(P.x, a.pop("w", P.w), a["b"], a["stride"], a["padding"], a["output_padding"],
                              a["dilation"], device=dev)


def _bias(P):
    return 0.0 if P.b is None else np.asarray(P.b, dtype=np.float64)[None, :, None, None]


def _padding_added(P, dev):
    if P.p == (0, 0):
        return None
    full = _ref(P, dev, b=None, padding=(0, 0))  # (N, C_out, H_full, W_full)
    ph, pw = P.p
    return np.pad(full, ((0, 0), (0, 0), (ph, ph), (pw, pw))) + _bias(P)


def _cropped_once(P, dev):
    if P.p == (0, 0):
        return None
    full = _ref(P, dev, b=None, padding=(0, 0))
    return full[:, :, P.p[0]:, P.p[1]:] + _bias(P)


def _swapped_axes(P, dev):
    if P.w.shape[0] != P.w.shape[1]:
        return None  # note: with C_in != C_out the swapped reading cannot run at all
    return _ref(P, dev, w=P.w.transpose(1, 0, 2, 3))


def _op_top_left(P, dev):
    if P.op == (0, 0):
        return None
    out = _ref(P, dev, output_padding=(0, 0), b=None)
    return np.pad(out, ((0, 0), (0, 0), (P.op[0], 0), (P.op[1], 0))) + _bias(P)


_MEANING_S = "Copies of the kernel are placed sH rows and sW columns apart: input pixel (i, j) lands at (i·sH, j·sW)."
_MEANING_D = "Kernel tap (u, v) of a copy lands dH·u rows and dW·v columns from the copy's corner."
_MISTAKES = (
    Mistake("weight-axes-swapped", "w is read as (C_out, C_in, KH, KW), as in conv2d. A transposed convolution's w is "
            "(C_in, C_out, KH, KW): input channel c scatters w[c, o] into output channel o.", _swapped_axes),
    Mistake("padding-added", "padding adds zeros around the output. In a transposed convolution padding *removes* "
            "p rows and columns from each side of the full output (it undoes the padding of the convolution it "
            "transposes).", _padding_added),
    Mistake("padding-cropped-once", "padding is cropped from the top and left only; crop p rows/columns from *each* "
            "side (top and bottom, left and right).", _cropped_once),
    Mistake("kernel-flipped", "the kernel is flipped. Scatter w[c, o, u, v] to (i·sH + u·dH, j·sW + v·dW) as is "
            "(the flip appears only when a transposed convolution is written as a convolution of the upsampled input).",
            lambda P, dev: _ref(P, dev, w=P.w[:, :, ::-1, ::-1].copy())),
    Mistake("output-padding-ignored", "output_padding is ignored: it adds that many rows/columns at the bottom/right.",
            lambda P, dev: None if P.op == (0, 0) else _ref(P, dev, output_padding=(0, 0))),
    Mistake("output-padding-top-left", "output_padding is added at the top/left; it extends the output at the "
            "bottom/right.", _op_top_left),
    Mistake("bias-missing", "the bias b is not added (one value per output channel).",
            lambda P, dev: None if P.b is None else _ref(P, dev, b=None)),
    Mistake("bias-per-input-channel", "the bias is added before summing over the input channels (once per input "
            "channel); add b once per output channel.",
            lambda P, dev: None if P.b is None else _ref(P, dev) + (P.x.shape[1] - 1) * _bias(P)),
    *hyper_mistakes("stride", lambda P, dev, v: _ref(P, dev, stride=v), get=lambda P: P.s, neutral=1,
                    meaning=_MEANING_S, kinds=("ignored", "swapped", "h-only", "w-only", "first")),
    *hyper_mistakes("dilation", lambda P, dev, v: _ref(P, dev, dilation=v), get=lambda P: P.d, neutral=1,
                    meaning=_MEANING_D, kinds=("ignored", "swapped")),
    *hyper_mistakes("padding", lambda P, dev, v: _ref(P, dev, padding=v), get=lambda P: P.p, neutral=0,
                    meaning="padding crops p rows/columns from each side of the full output.",
                    kinds=("ignored", "swapped")),
)


def _case(label, rng, N, C_in, C_out, H, W, KH, KW, s=1, p=0, op=0, d=1, bias=True):
    return CONV_TRANSPOSE2D.case(label, x=rng.standard_normal((N, C_in, H, W)),
                                 w=rng.standard_normal((C_in, C_out, KH, KW)),
                                 b=rng.standard_normal(C_out) if bias else None,
                                 stride=s, padding=p, output_padding=op, dilation=d)


def _worked():
    x = np.array([[1.0, 2.0], [3.0, 4.0]])[None, None]
    return [CONV_TRANSPOSE2D.case("worked example '2x2 input, 2x2 kernel of ones, stride 2'", x=x,
                                  w=np.ones((1, 1, 2, 2)), stride=2),
            CONV_TRANSPOSE2D.case("worked example '2x2 input, 3x3 kernel of ones'", x=x, w=np.ones((1, 1, 3, 3)))]


def _features(rng):
    return [
        _case("feature case 'C_in = C_out'", rng, 1, 3, 3, 3, 3, 2, 2, s=1),
        _case("feature case 'stride 2 with output_padding 1'", rng, 2, 3, 2, 3, 4, 3, 3, s=2, p=1, op=1),
        _case("feature case 'padding 1'", rng, 2, 2, 3, 4, 3, 3, 3, p=1),
        _case("feature case 'stride (2, 1)'", rng, 1, 2, 2, 3, 4, 3, 2, s=(2, 1)),
        _case("feature case 'padding (0, 2)'", rng, 1, 2, 1, 3, 3, 3, 5, p=(0, 2)),
        _case("feature case 'dilation 2'", rng, 2, 1, 2, 3, 3, 2, 3, d=2),
        _case("feature case 'stride 3, output_padding (2, 1)'", rng, 1, 2, 3, 2, 3, 2, 2, s=3, op=(2, 1)),
        _case("feature case 'no bias'", rng, 2, 3, 2, 2, 2, 3, 3, s=2, bias=False),
        _case("feature case 'U-Net upsampling: kernel 2, stride 2'", rng, 2, 4, 2, 4, 4, 2, 2, s=2),
    ]


def _random(rng, label):
    N, C_in, C_out = (int(v) for v in rng.integers(1, (3, 4, 4)))
    KH, KW = (int(v) for v in rng.integers(1, 4, size=2))
    H, W = (int(v) for v in rng.integers(1, 5, size=2))
    s = _draw(rng, 1, 3)
    d = _draw(rng, 1, 2)
    sp, dp = _pair(s), _pair(d)
    op = tuple(int(rng.integers(0, max(sp[a], dp[a]))) for a in range(2))
    op = op[0] if op[0] == op[1] and rng.random() < 0.5 else op
    # padding may crop at most what leaves one row/column
    full = [(n - 1) * sp[a] + dp[a] * (k - 1) + 1 + _pair(op)[a] for a, (n, k) in enumerate(((H, KH), (W, KW)))]
    p = tuple(int(rng.integers(0, min(2, (f - 1) // 2) + 1)) for f in full)
    p = p[0] if p[0] == p[1] and rng.random() < 0.5 else p
    return _case(label, rng, N, C_in, C_out, H, W, KH, KW, s=s, p=p, op=op, d=d, bias=bool(rng.random() < 0.7))


def _hints(raised, params):
    tname, text, bases = raised
    w, x = params.get("w"), params.get("x")
    if isinstance(w, np.ndarray) and isinstance(x, np.ndarray) and w.ndim == 4 and w.shape[0] != w.shape[1] and \
            "ValueError" in bases and any(k in text for k in ("broadcast", "shape", "operands", "einsum", "align")):
        return ("shapes do not match: a transposed convolution's w is (C_in, C_out, KH, KW), input channels first "
                f"(here {w.shape}); conv2d's is (C_out, C_in, KH, KW).")
    return None


def _draw(rng, lo, hi):
    a, b = (int(v) for v in rng.integers(lo, hi + 1, size=2))
    return a if a == b else (a, b)


CONV_TRANSPOSE2D = Exercise(
    name="conv_transpose2d",
    signature=(("x", REQUIRED), ("w", REQUIRED), ("b", None), ("stride", 1), ("padding", 0),
               ("output_padding", 0), ("dilation", 1)),
    reference=R.conv_transpose2d,
    worked=_worked,
    features=_features,
    random=_random,
    mistakes=_MISTAKES,
    normalize=_normalize,
    hints=_hints,
    forbidden={"cnnlab.functional": ["conv_transpose2d", "conv_transpose2d_naive"]},
)

EXERCISES = [CONV_TRANSPOSE2D]
