"""Activations and dropout, each stable for any finite input."""
import numpy as np

from .. import backend, kernels, rng
from ..autograd import Function, Tensor
from .reduce import _normalize_axis


class Sigmoid(Function):
    # sigmoid = 1 / (1 + e^-x);  d/dx sigmoid = s * (1 - s)
    def forward(self, x):
        xp = backend.get_array_module(x)
        # below x = -88 (float32) e^-x overflows to inf and 1 / (1 + inf) = 0, the right limit; nothing cancels
        with np.errstate(over="ignore"):
            return 1 / (1 + xp.exp(-x))

    def backward(self, gy):
        s = self.output
        return gy * s * (1 - s)


def sigmoid(x):
    return Sigmoid()(x)


class Tanh(Function):
    # d/dx tanh = 1 - t^2
    def forward(self, x):
        return backend.get_array_module(x).tanh(x)

    def backward(self, gy):
        t = self.output
        return gy * (1 - t * t)


def tanh(x):
    return Tanh()(x)


class Softplus(Function):
    # softplus = log(1 + e^x) = max(x, 0) + log1p(e^-|x|);  d/dx softplus = sigmoid(x)
    def forward(self, x):
        xp = backend.get_array_module(x)
        return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))

    def backward(self, gy):
        return gy * sigmoid(self.inputs[0])


def softplus(x):
    return Softplus()(x)


class ReLU(Function):
    # relu = max(x, 0);  d/dx relu = 1 for x > 0, else 0
    def forward(self, x):
        return backend.get_array_module(x).maximum(x, 0)

    def backward(self, gy):
        return gy * Tensor(self.inputs[0].data > 0)


def relu(x):
    return ReLU()(x)


class LeakyReLU(Function):
    # leaky_relu = x for x > 0, else slope * x;  d/dx leaky_relu = 1 for x > 0, else slope
    # (the kernels are where(x > 0, ...) without where: NumPy's where is slow on a mask of mixed signs)
    def __init__(self, slope):
        self.slope = slope

    def forward(self, x):
        return kernels.leaky_relu(x, self.slope)

    def backward(self, gy):
        return gy * Tensor(kernels.leaky_relu_derivative(self.inputs[0].data, self.slope))


def leaky_relu(x, slope=0.01):
    return LeakyReLU(slope)(x)


def _single_axis(x, axis, op):
    if x.ndim == 0:
        raise ValueError(f"{op}: needs at least one dimension, got a 0-d tensor")
    return _normalize_axis(axis, x.ndim, op)[0]


class Softmax(Function):
    # softmax = e^x / sum(e^x), computed from x - max(x) so that e^x cannot overflow;
    # d softmax: gx = y * (gy - sum(gy * y))
    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        xp = backend.get_array_module(x)
        e = xp.exp(x - x.max(axis=self.axis, keepdims=True))
        return e / e.sum(axis=self.axis, keepdims=True)

    def backward(self, gy):
        y = self.output
        return y * (gy - (gy * y).sum(axis=self.axis, keepdims=True))


def softmax(x, axis=-1):
    return Softmax(_single_axis(x, axis, "softmax"))(x)


class LogSoftmax(Function):
    # log_softmax = x - log(sum(e^x)), with max(x) factored out first;  d log_softmax: gx = gy - softmax(x) * sum(gy)
    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        xp = backend.get_array_module(x)
        shifted = x - x.max(axis=self.axis, keepdims=True)
        return shifted - xp.log(xp.exp(shifted).sum(axis=self.axis, keepdims=True))

    def backward(self, gy):
        return gy - self.output.exp() * gy.sum(axis=self.axis, keepdims=True)


def log_softmax(x, axis=-1):
    return LogSoftmax(_single_axis(x, axis, "log_softmax"))(x)


def dropout(x, p=0.5, training=True):
    """Inverted dropout: zero each element with probability p, scale the rest by 1/(1-p)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0
    keep = rng.uniform(x.shape, dtype=np.float32, device=x.device) >= p
    return x * Tensor(keep.astype(x.dtype) * (1.0 / (1.0 - p)))
