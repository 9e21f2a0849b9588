"""Initialisers. Each fills a Tensor in place (the trailing underscore says so, as in PyTorch),
drawing from minigrad's seeded generator in the tensor's dtype, and returns it.

To give a layer another initialisation, call these on its parameters after
building it::

    layer = nn.Dense(784, 256)
    nn.init.xavier_uniform_(layer.weight)   # Keras' default, glorot_uniform
    nn.init.zeros_(layer.bias)

Fans: a 2-D weight is a Dense weight, (in, out); a weight with more dimensions
is a conv weight, (out, in, kh, kw), and its fans count every kernel tap:
fan_in = in * kh * kw, fan_out = out * kh * kw. A ConvTranspose2D weight,
(in, out, kh, kw), is counted the same way, which is what PyTorch and Keras do.
"""
import math

import numpy as np

from .. import backend, rng


def calculate_gain(nonlinearity, param=None):
    """The factor that keeps activations' variance steady through ``nonlinearity`` (PyTorch's table)."""
    if nonlinearity in ("linear", "identity", "conv2d", "conv_transpose2d", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope ** 2))
    raise ValueError(f"calculate_gain: unknown nonlinearity {nonlinearity!r}; expected 'linear', 'sigmoid', "
                     "'tanh', 'relu' or 'leaky_relu'")


def fans(tensor):
    """(fan_in, fan_out) of a Dense (in, out) or conv (out, in, kh, kw) weight."""
    shape = tensor.shape
    if len(shape) < 2:
        raise ValueError(f"init: fans need a weight with at least 2 dimensions, got shape {shape}")
    if len(shape) == 2:
        return shape[0], shape[1]
    taps = int(np.prod(shape[2:]))
    return shape[1] * taps, shape[0] * taps


def _fill(tensor, values):
    tensor.data = values
    return tensor


def uniform_(tensor, a=0.0, b=1.0):
    """U(a, b)."""
    if a > b:
        raise ValueError(f"uniform_: the lower bound {a} is above the upper bound {b}")
    return _fill(tensor, rng.uniform(tensor.shape, dtype=tensor.dtype, device=tensor.device, low=a, high=b))


def normal_(tensor, mean=0.0, std=1.0):
    """N(mean, std^2)."""
    if std < 0:
        raise ValueError(f"normal_: std must be non-negative, got {std}")
    return _fill(tensor, rng.normal(tensor.shape, dtype=tensor.dtype, device=tensor.device, std=std, mean=mean))


def constant_(tensor, value):
    xp = backend.get_array_module(tensor.data)
    return _fill(tensor, xp.full(tensor.shape, value, dtype=tensor.dtype))


def zeros_(tensor):
    return constant_(tensor, 0.0)


def ones_(tensor):
    return constant_(tensor, 1.0)


def xavier_uniform_(tensor, gain=1.0):
    """Glorot & Bengio (2010): U(+-gain * sqrt(6 / (fan_in + fan_out))). Keras' default kernel initialiser."""
    fan_in, fan_out = fans(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound)


def xavier_normal_(tensor, gain=1.0):
    """N(0, gain^2 * 2 / (fan_in + fan_out)). (Keras' glorot_normal truncates at 2 std; this one does not.)"""
    fan_in, fan_out = fans(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def _kaiming_std(tensor, a, mode, nonlinearity):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"kaiming: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = fans(tensor)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan_in if mode == "fan_in" else fan_out)


def kaiming_uniform_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu"):
    """He et al. (2015): U(+-sqrt(3) * gain / sqrt(fan)); with a=0, U(+-sqrt(6 / fan_in)), Keras' he_uniform."""
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu"):
    """N(0, gain^2 / fan); with a=0, std sqrt(2 / fan_in). (Keras' he_normal truncates at 2 std; this one does not.)"""
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity))


# the names Keras uses for the same initialisers
glorot_uniform_ = xavier_uniform_
glorot_normal_ = xavier_normal_
he_uniform_ = kaiming_uniform_
he_normal_ = kaiming_normal_


def pytorch_default_(weight, bias=None):
    """What PyTorch's Linear and Conv layers start from: the weight kaiming_uniform_ with a=sqrt(5), which is
    U(+-1/sqrt(fan_in)), and the bias U(+-1/sqrt(fan_in)) with the weight's fan_in."""
    kaiming_uniform_(weight, a=math.sqrt(5.0))
    if bias is not None:
        bound = 1.0 / math.sqrt(fans(weight)[0])
        uniform_(bias, -bound, bound)
    return weight

