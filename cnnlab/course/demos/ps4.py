"""ps4's demo class: realistic mistakes, each the student's code for whole answer cells.

Expected scores are computed by cnnlab.course.demo from the notebook's points
and the test cells listed in ``failing``.
"""
from __future__ import annotations

from cnnlab.course.demo import Student
from cnnlab.course.demos._edits import answer

__all__ = ["STUDENTS"]


def _a(grade_id, *edits):
    return answer("ps4", grade_id, *edits)


STUDENTS = [
    # the slide's moving average, alpha = momentum: running = 0.1 * running + 0.9 * batch
    Student("keras_momentum", {"batch_norm2d_solution": _a(
        "batch_norm2d_solution",
        ("new_mean = (1 - momentum) * running_mean + momentum * mean",
         "new_mean = momentum * running_mean + (1 - momentum) * mean"),
        ("new_var = (1 - momentum) * running_var + momentum * var * m / (m - 1)  # note: unbiased",
         "new_var = momentum * running_var + (1 - momentum) * var * m / (m - 1)"))}, ("test_batch_norm2d",)),
    # eval mode normalises with the batch's statistics
    Student("eval_batch_stats", {"batch_norm2d_solution": _a(
        "batch_norm2d_solution",
        ("        mean, var = running_mean, running_var\n",
         "        mean, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))\n"))}, ("test_batch_norm2d",)),
    # mean and variance treated as constants in the backward pass
    Student("bn_backward_constants", {"batch_norm2d_backward_solution": _a(
        "batch_norm2d_backward_solution",
        ("    dx = inv_std / m * (m * dxhat - dxhat.sum(axis=axes, keepdims=True)\n"
         "                        - xhat * (dxhat * xhat).sum(axis=axes, keepdims=True))",
         "    dx = dxhat * inv_std"))}, ("test_batch_norm2d_backward",)),
    # the jump (product of earlier strides) forgotten: every layer adds k - 1
    Student("receptive_field_no_jump", {"vgg_solution": _a(
        "vgg_solution", ("        r += (k - 1) * jump", "        r += k - 1"))}, ("test_vgg",)),
    # ReLU before the addition: still trains, but it is not a ResNet block
    Student("relu_before_add", {"basic_block_solution": _a(
        "basic_block_solution",
        ("        out = self.bn2(self.conv2(out))\n        return self.relu(out + identity)",
         "        out = self.relu(self.bn2(self.conv2(out)))\n        return out + identity"))},
        ("test_basic_block",)),
    # no projection shortcut: the stride-2 block cannot add x, so the ResNet and the eval fix fail too
    Student("no_downsample", {"basic_block_solution": _a(
        "basic_block_solution",
        ("        if stride != 1 or c_in != c_out:  # the shortcut must change shape too",
         "        if False:"))}, ("test_basic_block", "test_small_resnet", "test_eval_bug")),
    # one epoch of training is not enough
    Student("undertrained", {"small_resnet_solution": _a(
        "small_resnet_solution", ("epochs=8, lr=5e-3", "epochs=1, lr=5e-4"))}, ("test_small_resnet",)),
    # predict without model.eval(): the bug it was meant to fix
    Student("forgot_eval", {"eval_bug_solution": _a(
        "eval_bug_solution", ("    model.eval()\n", ""))}, ("test_eval_bug",)),
]
