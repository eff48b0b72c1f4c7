"""`Mistake`: a known student mistake with a stable key, and the one factory for hyper-parameter mistakes.

A mistake computes what a function with that bug would return on the
failing case — from the reference run on altered inputs or
hyper-parameters wherever possible. If the student's output equals it, the
check names the mistake (``CheckResult.mistake`` is its `key`; tests assert
keys, never prose).

Every operator with int-or-pair hyper-parameters gets its hyper-parameter
mistakes from `hyper_mistakes`, so ``stride`` ignored reads the same for
conv2d, max_pool2d and every later operator.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

__all__ = ["Mistake", "hyper_mistakes", "HYPER_KINDS"]


@dataclass(frozen=True)
class Mistake:
    """A known mistake.

    Attributes:
        key: stable identifier, unique within an exercise's catalogue
            (``"stride-ignored"``, ``"flipped"``); what tests assert.
        text: the explanation shown to the student; ``{op}`` is replaced by
            the exercise's name.
        candidate: ``candidate(P, device)`` → what a function with this bug
            returns on the case (array, int, ...), or None when the mistake
            cannot be told apart on this case (e.g. stride ignored when the
            stride is 1). `P` is the exercise's `normalize(params)`.
        output: for an ``"arrays"`` result, the index of the part it concerns
            (0 for dx, ...); None for a single result.
        only_2d: skip it when ``P.one_d`` is true (conv1d seen as a 2-D conv).
        family: mistakes of one family (the kernel flips, say) are named at most once.
        when: ``"wrong"`` (a wrong result) or ``"no-raise"`` (a call that must
            raise returned this value instead).
    """

    key: str
    text: str
    candidate: Callable
    output: int | None = None
    only_2d: bool = False
    family: str = ""
    when: str = "wrong"


HYPER_KINDS = ("ignored", "swapped", "h-only", "w-only", "first", "off-by-one", "wrong-default")


def _if(cond, fn):
    return fn() if cond else None


def hyper_mistakes(param: str, rerun: Callable, *, get: Callable, neutral: int, meaning: str,
                   kinds=HYPER_KINDS, default: tuple | None = None, symbols: tuple | None = None,
                   family: str = "") -> list[Mistake]:
    """The standard mistakes with an int-or-(h, w) hyper-parameter, in one wording.

    Args:
        param: the argument's name, e.g. ``"stride"``.
        rerun: ``rerun(P, device, value)`` → the reference's output with `param`
            replaced by the ``(h, w)`` pair `value` (everything else unchanged).
        get: ``get(P)`` → the ``(h, w)`` pair the case uses (after defaults).
        neutral: the value with no effect (1 for stride and dilation, 0 for padding).
        meaning: one sentence saying what the parameter does, appended to the
            "ignored" and "off-by-one" texts.
        kinds: which of `HYPER_KINDS` to generate:
            ``ignored`` (the value is never used: the output equals `neutral`),
            ``swapped`` (the pair is read as (w, h)),
            ``h-only``/``w-only`` (applied along one axis only),
            ``first`` (the first entry is used for both axes),
            ``off-by-one`` (each entry used as value + 1),
            ``wrong-default`` (see `default`).
        default: for ``wrong-default``: ``(applies(P), wrong_value(P), rule)``:
            whether the argument was left at its default in this case, the pair
            a wrong default gives, and the rule in words
            (``"stride=None means stride = kernel_size"``).
        symbols: the pair's names in texts, default ``(sH, sW)``-style from `param`'s
            first letter (``("pH", "pW")`` for padding).
        family: a family name shared by these mistakes and others that can
            give the same output (only the first match of a family is named).

    Returns:
        Mistakes with keys ``f"{param}-{kind}"``, in the order of `kinds`.
        Pair-specific ones (swapped, h-only, w-only, first) are skipped for a
        1-D case (``P.one_d``).
    """
    P_ = param.replace("_", " ")
    Cap = P_[0].upper() + P_[1:]
    h, w = symbols or (f"{param[0]}H", f"{param[0]}W")
    pair_rule = f"{param}=({h}, {w}) applies {h} along H (rows) and {w} along W (columns)"
    fam = family or None
    made = {
        "ignored": lambda: Mistake(
            f"{param}-ignored", f"{Cap} is ignored: your output equals the result with {param}={neutral}. {meaning}",
            lambda P, dev: _if(get(P) != (neutral, neutral), lambda: rerun(P, dev, (neutral, neutral))),
            family=fam or ""),
        "swapped": lambda: Mistake(
            f"{param}-swapped", f"The {param} pair is swapped (used as ({w}, {h})): {pair_rule}.",
            lambda P, dev: _if(get(P)[0] != get(P)[1], lambda: rerun(P, dev, get(P)[::-1])), only_2d=True),
        "h-only": lambda: Mistake(
            f"{param}-h-only", f"{Cap} is applied along H (rows) only: {pair_rule}; apply {w} along W as well.",
            lambda P, dev: _if(get(P)[1] != neutral, lambda: rerun(P, dev, (get(P)[0], neutral))), only_2d=True),
        "w-only": lambda: Mistake(
            f"{param}-w-only", f"{Cap} is applied along W (columns) only: {pair_rule}; apply {h} along H as well.",
            lambda P, dev: _if(get(P)[0] != neutral, lambda: rerun(P, dev, (neutral, get(P)[1]))), only_2d=True),
        "first": lambda: Mistake(
            f"{param}-first", f"Only the first entry of the {param} pair is used, for both axes: {pair_rule}.",
            lambda P, dev: _if(get(P)[0] != get(P)[1], lambda: rerun(P, dev, (get(P)[0], get(P)[0]))), only_2d=True),
        "off-by-one": lambda: Mistake(
            f"{param}-off-by-one", f"{Cap} is off by one: your output equals the result with {param} + 1. {meaning}",
            lambda P, dev: rerun(P, dev, (get(P)[0] + (not getattr(P, "one_d", False)), get(P)[1] + 1))),
    }
    if default is not None:
        applies, wrong, rule = default
        made["wrong-default"] = lambda: Mistake(
            f"{param}-wrong-default", f"{Cap} left at its default is handled wrongly: {rule}.",
            lambda P, dev: _if(applies(P) and wrong(P) != get(P), lambda: rerun(P, dev, wrong(P))), family=fam or "")
    out = []
    for kind in kinds:
        if kind not in HYPER_KINDS:
            raise ValueError(f"unknown hyper-parameter mistake {kind!r}; choose from {HYPER_KINDS}")
        if kind in made:
            out.append(made[kind]())
    return out
