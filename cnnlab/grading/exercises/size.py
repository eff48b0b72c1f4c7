"""conv_output_size: the output-size formula, ⌊(n + 2p − d·(k − 1) − 1)/s⌋ + 1 (kind "int")."""
from __future__ import annotations

import math

from cnnlab.grading.exercise import REQUIRED, Exercise, Mistake
from cnnlab.shapes import conv_output_size, output_size_unchecked

__all__ = ["CONV_OUTPUT_SIZE", "EXERCISES"]

_SIG = (("n", REQUIRED), ("kernel_size", REQUIRED), ("stride", 1), ("padding", 0), ("dilation", 1))


def _args(P):
    return int(P.n), int(P.kernel_size), int(P.stride), int(P.padding), int(P.dilation)


def _formula(f):
    return lambda P, dev: f(*_args(P))


def _num(P):
    n, k, s, p, d = _args(P)
    return n + 2 * p - d * (k - 1) - 1, s


# (key, text, formula of (n, k, s, p, d))
_WRONG = [
    ("padding-once", "the padding is counted once: there are p zeros on *each* side, so the padded length is n + 2p",
     lambda n, k, s, p, d: (n + p - d * (k - 1) - 1) // s + 1),
    ("dilation-ignored", "dilation is ignored: a dilated kernel spans d·(k − 1) + 1 positions",
     lambda n, k, s, p, d: (n + 2 * p - k) // s + 1),
    ("dilation-span", "the dilated kernel is taken to span d·k positions; it spans d·(k − 1) + 1",
     lambda n, k, s, p, d: (n + 2 * p - d * k) // s + 1),
    ("minus-one-missing", "the −1 is missing: the formula is ⌊(n + 2p − d·(k − 1) − 1)/s⌋ + 1",
     lambda n, k, s, p, d: (n + 2 * p - d * (k - 1)) // s + 1),
    ("plus-one-missing", "the +1 is missing: the formula is ⌊(n + 2p − d·(k − 1) − 1)/s⌋ + 1 (the first window "
     "counts too)", lambda n, k, s, p, d: (n + 2 * p - d * (k - 1) - 1) // s),
    ("ceil", "the division is rounded up (ceil); the formula floors it: a window that does not fit is dropped",
     lambda n, k, s, p, d: math.ceil((n + 2 * p - d * (k - 1) - 1) / s) + 1),
    ("round", "the division is rounded to the nearest integer; the formula floors it",
     lambda n, k, s, p, d: round((n + 2 * p - d * (k - 1) - 1) / s) + 1),
    ("stride-ignored", "the stride is ignored: divide by s (floor) before adding 1",
     lambda n, k, s, p, d: n + 2 * p - d * (k - 1)),
    ("plus-one-inside", "the +1 is inside the division: the formula is ⌊(n + 2p − d·(k − 1) − 1)/s⌋ + 1",
     lambda n, k, s, p, d: (n + 2 * p - d * (k - 1) - 1 + 1) // s),
    ("padding-subtracted", "the padding is subtracted instead of added",
     lambda n, k, s, p, d: (n - 2 * p - d * (k - 1) - 1) // s + 1),
]


def _truncated(P, dev):
    num, s = _num(P)
    # note: int() truncates toward zero, floor rounds down; they differ only for a negative numerator
    return int(num / s) + 1 if int(num / s) != num // s else None


def _no_raise(P, dev):
    return output_size_unchecked(*_args(P))


_MISTAKES = tuple(Mistake(key, f"Your result matches a known mistake: {text}.", _formula(f)) for key, text, f in _WRONG) + (
    Mistake("truncated", "int(a / s) truncates toward zero, but the formula floors (⌊a/s⌋ rounds down, also for a "
            "negative a): for this call the floored size is below 1, so the call must raise. Use // (floor "
            "division), and raise ValueError when the size is < 1.", _truncated, when="no-raise"),
    Mistake("no-raise", "Your formula gives the right number here, but that number is below 1: an output smaller "
            "than 1 means the (dilated) kernel does not fit in the padded input. Raise ValueError when the size "
            "would be < 1 instead of returning it.", _no_raise, when="no-raise"),
    Mistake("clamped", "Your function returns 1 where the output would be empty: do not clamp the size to 1; "
            "raise ValueError when it would be < 1.", lambda P, dev: 1 if _no_raise(P, dev) < 1 else None,
            when="no-raise"),
    Mistake("zero-for-empty", "Your function returns 0 where the output would be empty: raise ValueError when the "
            "size would be < 1 (a shape with a 0 leads to empty arrays far from the cause).",
            lambda P, dev: 0 if _no_raise(P, dev) != 0 else None, when="no-raise"),
)


def _worked():
    # decks 001/002/004: the 39x39 walk-through, kernel 3 / stride 2 / padding 1, ...
    table = [(39, 3, 1, 0, 1), (37, 5, 2, 0, 1), (17, 5, 2, 0, 1), (5, 3, 2, 1, 1), (7, 3, 1, 1, 1), (32, 3, 1, 0, 2)]
    return [CONV_OUTPUT_SIZE.case("worked example (decks 001/002/004)", n=n, kernel_size=k, stride=s, padding=p,
                                  dilation=d) for n, k, s, p, d in table]


def _features(rng):
    table = [("valid", (7, 3, 1, 0, 1)), ("same padding", (7, 3, 1, 1, 1)), ("stride 2, floor", (8, 3, 2, 0, 1)),
             ("stride 3 with padding", (10, 4, 3, 2, 1)), ("dilation 2", (9, 3, 1, 0, 2)),
             ("everything", (20, 3, 2, 1, 3)), ("kernel = padded input", (3, 5, 1, 1, 1)), ("1x1 kernel", (6, 1, 1, 0, 1)),
             ("stride larger than the kernel", (11, 2, 4, 0, 1)), ("padding 3", (2, 2, 1, 3, 1))]
    return [CONV_OUTPUT_SIZE.case(f"feature case '{lab}'", n=n, kernel_size=k, stride=s, padding=p, dilation=d)
            for lab, (n, k, s, p, d) in table]


def _random(rng, label):
    k, s, p, d = (int(v) for v in rng.integers((1, 1, 0, 1), (8, 5, 4, 4)))
    n = int(rng.integers(max(1, d * (k - 1) + 1 - 2 * p), 40))
    return CONV_OUTPUT_SIZE.case(label, n=n, kernel_size=k, stride=s, padding=p, dilation=d)


def _errors():
    table = [(3, 5, 1, 0, 1), (4, 3, 1, 0, 2), (2, 6, 2, 1, 1), (2, 4, 3, 0, 1)]  # the last: int(-2/3) != -2 // 3
    return [CONV_OUTPUT_SIZE.case("error case (the kernel does not fit: the output would be empty)", error="ValueError",
                                  n=n, kernel_size=k, stride=s, padding=p, dilation=d) for n, k, s, p, d in table]


CONV_OUTPUT_SIZE = Exercise(
    name="conv_output_size",
    signature=_SIG,
    kind="int",
    reference=conv_output_size,
    worked=_worked,
    features=_features,
    random=_random,
    errors=_errors,
    mistakes=_MISTAKES,
    # note: shapes' helpers are fair game elsewhere, so they are blocked only where they are the answer
    forbidden={"cnnlab.shapes": ["conv_output_size", "pool_output_size", "conv2d_output_shape"]},
    trials=20,
)

EXERCISES = [CONV_OUTPUT_SIZE]
