"""Exercises that the `Exercise` kinds cannot express yet, each with its own `check`.

`cnnlab.grading.check(name, fn)` looks here first. Each object has
``.check(fn, *, seed, trials, device, time_limit) -> CheckResult`` and
``.cases(seed, trials)``, and sets `CheckResult.mistake` to a stable key.

- `_gradients`: softmax_cross_entropy (a float loss beside an array),
  numerical_gradient (a tolerance for differences, "x not restored").
- `_convnet`: ps2's numpy conv net, composed of the student's layers.
- `_modules`: ps3's models, with keyed mistakes read off the layer table.
- `_training`: ps3's train_step and evaluate (behaviour: zero_grad, eval,
  no_grad) and the seeded MNIST-1D run.
- `resnet.BASIC_BLOCK`: ps4's residual block (state_dict names, outputs).
- `_trained`: ps4's trained ResNet and fixed predict, ps5's trained U-Net.
- `_values`: ps4's receptive_field and conv_cost (exact ints), ps2's rel_error.
- `_gradcheck`: ps2's gradient check of the student's own layers.
- `_answers`: multiple-choice letters, the key read from the test cell's source.

Each is decided where `check` runs: in grading mode the grader runs it and the
student's kernel only runs its ``part_*`` methods (`cnnlab.grading.custom`).

note: modules starting with "_" are not collected by the registry (it wants
`Exercise` values); these names must not also be registered there.
"""
from __future__ import annotations

from cnnlab.grading.exercises import (_answers, _convnet, _evaluate, _gradcheck, _gradients, _modules, _trained, _training,
                                     _values, resnet)

__all__ = ["CUSTOM"]

CUSTOM = {**_gradients.CUSTOM, **_convnet.CUSTOM, **_modules.CUSTOM, **_training.CUSTOM, **_evaluate.CUSTOM,
          resnet.BASIC_BLOCK.name: resnet.BASIC_BLOCK, **_trained.CUSTOM, **_values.CUSTOM,
          **_gradcheck.CUSTOM, **_answers.CUSTOM}
