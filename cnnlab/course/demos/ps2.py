"""ps2's demo class: realistic mistakes, each as the student's code for whole answer cells.

Expected scores are computed by cnnlab.course.demo from the notebook's
points and the test cells listed in ``failing``.
"""
from __future__ import annotations

from cnnlab.course.demo import Student

__all__ = ["STUDENTS"]

_POOL_PREFIX = '''
def _pair(v):
    """An int or a pair as a pair (h, w)."""
    return (int(v), int(v)) if np.isscalar(v) else tuple(int(u) for u in v)


def _pool_args(kernel_size, stride, padding):
    k = _pair(kernel_size)
    return k, (k if stride is None else _pair(stride)), _pair(padding)
'''

# stride defaults to 1 instead of the kernel size; zero padding for max pooling too
_POOL_STRIDE_ONE = _POOL_PREFIX + '''

def _pool_windows(x, k, s, p, fill):
    xp = np.pad(np.asarray(x, dtype=np.float64), ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])),
                constant_values=fill)
    win = sliding_window_view(xp, k, axis=(2, 3))
    return win[:, :, ::s[0], ::s[1]]


def max_pool2d(x, kernel_size, stride=None, padding=0):
    k, s, p = _pool_args(kernel_size, 1 if stride is None else stride, padding)
    return _pool_windows(x, k, s, p, -np.inf).max(axis=(-2, -1))


def avg_pool2d(x, kernel_size, stride=None, padding=0):
    k, s, p = _pool_args(kernel_size, stride, padding)
    return _pool_windows(x, k, s, p, 0.0).mean(axis=(-2, -1))
'''

# the textbook's unshifted softmax: overflows for large logits
_SCE_NO_SHIFT = '''
def softmax_cross_entropy(logits, y):
    n = len(y)
    e = np.exp(logits)
    p = e / e.sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(p[np.arange(n), y]))
    dlogits = p.copy()
    dlogits[np.arange(n), y] -= 1
    return float(loss), dlogits / n
'''

# ReLU's gradient at exactly 0 taken as 1 (x >= 0)
_RELU_GRAD_AT_ZERO = '''
def relu(x):
    return np.maximum(np.asarray(x, dtype=np.float64), 0.0)


def relu_backward(dout, x):
    return np.where(np.asarray(x) >= 0, np.asarray(dout, dtype=np.float64), 0.0)
'''

# one-sided (forward) differences
_NG_ONE_SIDED = '''
def numerical_gradient(f, x, dout=None, h=1e-6):
    fx = np.asarray(f(x), dtype=np.float64)
    dout = np.ones_like(fx) if dout is None else dout
    base = np.sum(fx * dout)
    grad = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        grad[i] = (np.sum(f(x) * dout) - base) / h
        x[i] = old
    return grad
'''

_BACKWARD_PREFIX = '''
def _positions(u, n_out, s, d=1):
    """The slice of padded input rows met by kernel offset u at output positions 0..n_out-1."""
    return slice(u * d, u * d + s * (n_out - 1) + 1, s)
'''

_POOL_BACKWARD_OK = '''

def max_pool2d_backward(dout, x, kernel_size, stride=None, padding=0):
    k, s, p = _pool_args(kernel_size, stride, padding)
    N, C, H, W = x.shape
    _, _, H_out, W_out = dout.shape
    win = _pool_windows(x, k, s, p, -np.inf).reshape(N, C, H_out, W_out, -1)
    u, v = np.divmod(win.argmax(axis=-1), k[1])
    n, c, i, j = np.indices((N, C, H_out, W_out))
    dxp = np.zeros((N, C, H + 2 * p[0], W + 2 * p[1]))
    np.add.at(dxp, (n, c, i * s[0] + u, j * s[1] + v), dout)
    return dxp[:, :, p[0]:p[0] + H, p[1]:p[1] + W]


def avg_pool2d_backward(dout, x, kernel_size, stride=None, padding=0):
    k, s, p = _pool_args(kernel_size, stride, padding)
    N, C, H, W = x.shape
    _, _, H_out, W_out = dout.shape
    dxp = np.zeros((N, C, H + 2 * p[0], W + 2 * p[1]))
    for u in range(k[0]):
        for v in range(k[1]):
            dxp[:, :, _positions(u, H_out, s[0]), _positions(v, W_out, s[1])] += dout / (k[0] * k[1])
    return dxp[:, :, p[0]:p[0] + H, p[1]:p[1] + W]
'''

_CONV2D_BACKWARD_OK = '''

def conv2d_backward(dout, x, w, stride=1, padding=0, dilation=1):
    s, p, d = _pair(stride), _pair(padding), _pair(dilation)
    N, C_in, H, W = x.shape
    _, _, KH, KW = w.shape
    _, _, H_out, W_out = dout.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])))
    dxp = np.zeros(xp.shape)
    dw = np.zeros(w.shape)
    for u in range(KH):
        for v in range(KW):
            rows, cols = _positions(u, H_out, s[0], d[0]), _positions(v, W_out, s[1], d[1])
            dw[:, :, u, v] = np.einsum("nohw,nchw->oc", dout, xp[:, :, rows, cols])
            dxp[:, :, rows, cols] += np.einsum("nohw,oc->nchw", dout, w[:, :, u, v])
    return dxp[:, :, p[0]:p[0] + H, p[1]:p[1] + W], dw, dout.sum(axis=(0, 2, 3))
'''

# dw correlates with the input padded on one side only: right only for padding 0
_CONV_BACKWARD_PADDING = _BACKWARD_PREFIX + _POOL_BACKWARD_OK + _CONV2D_BACKWARD_OK.replace(
    'dw[:, :, u, v] = np.einsum("nohw,nchw->oc", dout, xp[:, :, rows, cols])',
    'xs = np.pad(x, ((0, 0), (0, 0), (0, 2 * p[0]), (0, 2 * p[1])))  # all the padding after the data\n'
    '            dw[:, :, u, v] = np.einsum("nohw,nchw->oc", dout, xs[:, :, rows, cols])')

# max-pool backward with fancy-index += : overlapping windows lose gradient
_MAX_BACKWARD_NO_ADD_AT = _BACKWARD_PREFIX + _POOL_BACKWARD_OK.replace(
    "np.add.at(dxp, (n, c, i * s[0] + u, j * s[1] + v), dout)",
    "dxp[n, c, i * s[0] + u, j * s[1] + v] += dout  # repeated indices count once") + _CONV2D_BACKWARD_OK

# relu_backward forgotten in the composed network
_CONVNET_NO_RELU_BACKWARD = '''
def convnet_loss(params, x, y):
    a1 = conv2d(x, params["w1"], params["b1"], padding=1)
    h1 = relu(a1)
    p1 = max_pool2d(h1, 2)
    flat = p1.reshape(len(x), -1)
    scores = flat @ params["w2"] + params["b2"]
    loss, dscores = softmax_cross_entropy(scores, y)
    grads = {"w2": flat.T @ dscores, "b2": dscores.sum(axis=0)}
    dp1 = (dscores @ params["w2"].T).reshape(p1.shape)
    da1 = max_pool2d_backward(dp1, h1, 2)  # relu_backward forgotten
    _, grads["w1"], grads["b1"] = conv2d_backward(da1, x, params["w1"], 1, 1)
    return loss, grads
'''

STUDENTS = [
    # max_pool2d's stride left at 1: the gradient check and the conv net (7x7 maps, 196 features) break too
    Student("pool_stride_one", {"pool_solution": _POOL_STRIDE_ONE.strip()},
            ("test_max_pool2d", "test_gradient_check", "test_convnet_loss", "test_convnet_training")),
    # visible ±1000 assert and hidden check both fail; the conv net's logits are small, so it still trains
    Student("no_max_shift", {"sce_solution": _SCE_NO_SHIFT.strip()}, ("test_softmax_cross_entropy",)),
    # exact zeros are rare in random data: only relu_backward's own tests see it
    Student("relu_grad_at_zero", {"relu_solution": _RELU_GRAD_AT_ZERO.strip()}, ("test_relu_backward",)),
    # the visible h = 0.1 assert and the hidden h = 1e-3 case fail; the layers of the gradient check are
    # piecewise linear, where one-sided differences are exact too, so that check still passes
    Student("one_sided_differences", {"ng_solution": _NG_ONE_SIDED.strip()}, ("test_numerical_gradient",)),
    # dw wrong wherever padding > 0: the gradient check's "conv2d dw" and the padded conv net see it too
    Student("conv_backward_padding", {"backward_solution": _CONV_BACKWARD_PADDING.strip()},
            ("test_conv2d_backward", "test_gradient_check", "test_convnet_loss", "test_convnet_training")),
    Student("max_backward_overlap", {"backward_solution": _MAX_BACKWARD_NO_ADD_AT.strip()},
            ("test_max_pool2d_backward",)),
    Student("convnet_no_relu_backward", {"convnet_solution": _CONVNET_NO_RELU_BACKWARD.strip()},
            ("test_convnet_loss",)),
]
