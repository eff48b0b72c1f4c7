"""ps3's demo class: realistic mistakes, each as the student's code for whole answer cells.

Expected scores are computed by cnnlab.course.demo from the notebook's
points and the test cells listed in ``failing``.
"""
from __future__ import annotations

from cnnlab.course.demo import Student

__all__ = ["STUDENTS"]

# "same" padding out of habit: 40 -> 20 -> 10 -> 5, Linear(75, 10), 2,200 parameters
_CNN_PADDED = '''
def mnist1d_cnn():
    return nn.Sequential(
        nn.Conv1d(1, 15, kernel_size=3, stride=2, padding=1), nn.ReLU(),
        nn.Conv1d(15, 15, kernel_size=3, stride=2, padding=1), nn.ReLU(),
        nn.Conv1d(15, 15, kernel_size=3, stride=2, padding=1), nn.ReLU(),
        nn.Flatten(),
        nn.Linear(75, 10),
    )
'''

# a softmax at the end, "to get probabilities": F.cross_entropy then applies softmax twice
_MLP_SOFTMAX = '''
def mnist1d_mlp():
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(40, 350), nn.ReLU(),
        nn.Linear(350, 175), nn.ReLU(),
        nn.Linear(175, 400), nn.ReLU(),
        nn.Linear(400, 10), nn.Softmax(dim=1),
    )
'''

_EVALUATE = '''

def evaluate(model, x, y):
    model.eval()
    with torch.no_grad():
        return (model(x).argmax(dim=1) == y).float().mean().item()
'''

# zero_grad forgotten: gradients accumulate over the steps
_NO_ZERO_GRAD = '''
def train_step(model, optimizer, x, y):
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
    return loss.item()
''' + _EVALUATE

_TRAIN_STEP = '''
def train_step(model, optimizer, x, y):
    optimizer.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
    return loss.item()
'''

# evaluation in training mode and with gradients: no effect on these models' accuracies
_NO_EVAL_MODE = _TRAIN_STEP + '''

def evaluate(model, x, y):
    return (model(x).argmax(dim=1) == y).float().mean().item()
'''

# the listing with only the keyword fixed: nn.Sequential still gets a list
_SEQUENTIAL_LIST = '''
def generate_model():
    model = nn.Sequential(*[
        torch.nn.Conv2d(in_channels=3, out_channels=32, kernel_size=3),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(kernel_size=2, stride=2),
        torch.nn.Conv2d(in_channels=32, out_channels=64, kernel_size=3),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(kernel_size=2, stride=2),
        torch.nn.Flatten(),
        torch.nn.Linear(64 * 5 * 5, 1024),
        torch.nn.ReLU(),
        torch.nn.Linear(1024, 10),
    ])
    return model
'''

STUDENTS = [
    # its own training still runs (2,200 parameters) but the table and the count are wrong
    Student("cnn_padded", {"cnn_solution": _CNN_PADDED.strip()}, ("test_mnist1d_cnn",)),
    # softmax twice makes the MLP train badly and erratically: its shuffled run no longer matches its plain one
    Student("mlp_softmax", {"mlp_solution": _MLP_SOFTMAX.strip()}, ("test_mnist1d_mlp", "test_shuffled_positions")),
    # the visible one-step test cannot see accumulation; the hidden check and the training run can
    Student("no_zero_grad", {"train_solution": _NO_ZERO_GRAD.strip()},
            ("test_train_step", "test_mnist1d_training", "test_shuffled_positions")),
    Student("no_eval_mode", {"train_solution": _NO_EVAL_MODE.strip()}, ("test_evaluate",)),
    # Linear(64 * 5 * 5): the flattened size miscounted (13 // 2 = 6, not 5)
    Student("flatten_size", {"debug_solution": _SEQUENTIAL_LIST.strip()}, ("test_generate_model",)),
]
