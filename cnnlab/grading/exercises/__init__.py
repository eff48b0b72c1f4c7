"""Exercises described one family per module (DESIGN §7): `check(name, fn)`
looks a name up here first, then in the older `registry`.

- `activation`: relu, relu_backward, softmax_cross_entropy, numerical_gradient (ps2).
- `convnet`: ps2's tiny numpy conv net (gradients, and the loss after training).
- `modules`: ps3's torch models (mnist1d_cnn, mnist1d_mlp, generate_model).
- `training`: ps3's train_step, evaluate and the MNIST-1D training run.
"""
from __future__ import annotations

from cnnlab.grading.exercises import activation, convnet, modules, training

__all__ = ["EXERCISES"]

EXERCISES = {**activation.EXERCISES, **convnet.EXERCISES, **modules.EXERCISES, **training.EXERCISES}
