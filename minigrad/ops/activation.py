"""Activations and dropout, each stable for any finite input."""
import numpy as np

from .. import backend, rng
from ..autograd import Function, Tensor
from .reduce import _normalize_axis


def _sigmoid(x):
    """1 / (1 + e^-x) in four in-place passes (a sigmoid layer's forward is dominated by them).

    For x below about -88 (float32) e^-x overflows to inf and 1/(1+inf) = 0,
    the correct limit, so the overflow is expected and silenced; there is no
    cancellation anywhere, so the result keeps full relative precision.
    """
    xp = backend.get_array_module(x)
    e = xp.negative(x, out=xp.empty_like(x))  # out=: NumPy gives a 0-d input back as a scalar, which has no out
    with np.errstate(over="ignore"):
        xp.exp(e, out=e)
    e += 1
    return xp.reciprocal(e, out=e)


class Sigmoid(Function):
    # d/dx sigmoid = s * (1 - s)
    def forward(self, x):
        return _sigmoid(x)

    def backward(self, gy):
        s = self.output
        return gy * s * (1 - s)


class Tanh(Function):
    # d/dx tanh = 1 - t^2
    def forward(self, x):
        return backend.get_array_module(x).tanh(x)

    def backward(self, gy):
        t = self.output
        return gy * (1 - t * t)


class Softplus(Function):
    # softplus = log(1 + e^x) = max(x, 0) + log1p(e^-|x|);  d/dx softplus = sigmoid(x)
    def forward(self, x):
        xp = backend.get_array_module(x)
        return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))

    def backward(self, gy):
        return gy * sigmoid(self.inputs[0])


class ReLU(Function):
    # d/dx relu = 1 for x > 0, else 0
    def forward(self, x):
        return backend.get_array_module(x).maximum(x, 0)

    def backward(self, gy):
        return gy * Tensor(self.inputs[0].data > 0)


class LeakyReLU(Function):
    # d/dx leaky_relu = 1 for x > 0, else slope
    def __init__(self, slope):
        self.slope = slope

    # NumPy's where() on an unpredictable mask is ~15x slower than arithmetic, so both directions avoid it
    def forward(self, x):
        xp = backend.get_array_module(x)
        scaled = xp.multiply(x, self.slope, out=xp.empty_like(x))  # out=: a 0-d result stays an array
        # x > 0 picks the larger of x and slope*x when slope <= 1 (negative slopes too), the smaller above 1
        return xp.maximum(x, scaled, out=scaled) if self.slope <= 1 else xp.minimum(x, scaled, out=scaled)

    def backward(self, gy):
        x = self.inputs[0].data
        factor = backend.get_array_module(x).asarray(x > 0, dtype=x.dtype)  # 1 or 0, then 1 or slope
        factor *= 1 - self.slope
        factor += self.slope
        return gy * Tensor(factor)


class Softmax(Function):
    # d softmax: gx = y * (gy - sum(gy * y))
    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        xp = backend.get_array_module(x)
        e = xp.exp(x - x.max(axis=self.axis, keepdims=True))
        e /= e.sum(axis=self.axis, keepdims=True)
        return e

    def backward(self, gy):
        y = self.output
        return y * (gy - (gy * y).sum(axis=self.axis, keepdims=True))


class LogSoftmax(Function):
    # d log_softmax: gx = gy - softmax(x) * sum(gy)
    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        xp = backend.get_array_module(x)
        shifted = x - x.max(axis=self.axis, keepdims=True)
        shifted -= xp.log(xp.exp(shifted).sum(axis=self.axis, keepdims=True))
        return shifted

    def backward(self, gy):
        return gy - self.output.exp() * gy.sum(axis=self.axis, keepdims=True)


def sigmoid(x):
    return Sigmoid()(x)


def tanh(x):
    return Tanh()(x)


def softplus(x):
    return Softplus()(x)


def relu(x):
    return ReLU()(x)


def leaky_relu(x, slope=0.01):
    return LeakyReLU(slope)(x)


def softmax(x, axis=-1):
    return Softmax(_single_axis(x, axis, "softmax"))(x)


def log_softmax(x, axis=-1):
    return LogSoftmax(_single_axis(x, axis, "log_softmax"))(x)


def _single_axis(x, axis, op):
    if x.ndim == 0:
        raise ValueError(f"{op}: needs at least one dimension, got a 0-d tensor")
    return _normalize_axis(axis, x.ndim, op)[0]


def dropout(x, p=0.5, training=True):
    """Inverted dropout: zero each element with probability p, scale the rest by 1/(1-p)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0
    keep = rng.uniform(x.shape, dtype=np.float32, device=x.device) >= p
    mask = keep.astype(x.dtype) * (1.0 / (1.0 - p))
    return x * Tensor(mask.astype(x.dtype, copy=False))
