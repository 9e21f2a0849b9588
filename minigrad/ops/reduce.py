"""Reductions: sum, mean, max, min over an axis (or all), with keepdims."""
import builtins

import numpy as np

from .. import backend
from ..autograd import Function, Tensor
from .shape import broadcast_to, reshape


def _normalize_axis(axis, ndim, op):
    if axis is None:
        return tuple(range(ndim))
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    for a in axes:
        if not -ndim <= a < builtins.max(ndim, 1):
            raise ValueError(f"{op}: axis {a} is out of range for a tensor with {ndim} dimensions")
    return tuple(sorted(a % ndim for a in axes)) if ndim else ()


def _kept_shape(shape, axes):
    """The reduced shape with each reduced axis kept as 1."""
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _expand_back(gy, x_shape, axes):
    """Put a reduction's gradient back to the input's shape."""
    return broadcast_to(reshape(gy, _kept_shape(x_shape, axes)), x_shape)


class Sum(Function):
    # d sum(x) / dx = 1 for every summed element
    def __init__(self, axes, keepdims):
        self.axes, self.keepdims = axes, keepdims

    def forward(self, x):
        return x.sum(axis=self.axes, keepdims=self.keepdims)

    def backward(self, gy):
        return _expand_back(gy, self.inputs[0].shape, self.axes)


def sum(x, axis=None, keepdims=False):
    return Sum(_normalize_axis(axis, x.ndim, "sum"), keepdims)(x)


class Mean(Function):
    # d mean(x) / dx = 1 / n
    def __init__(self, axes, keepdims):
        self.axes, self.keepdims = axes, keepdims

    def forward(self, x):
        return x.mean(axis=self.axes, keepdims=self.keepdims)

    def backward(self, gy):
        x = self.inputs[0]
        count = 1
        for a in self.axes:
            count *= x.shape[a]
        return _expand_back(gy * (1.0 / builtins.max(count, 1)), x.shape, self.axes)


def mean(x, axis=None, keepdims=False):
    return Mean(_normalize_axis(axis, x.ndim, "mean"), keepdims)(x)


class Max(Function):
    # d max(x) / dx = 1 at the maximum; ties share it equally (as PyTorch's amax)
    def __init__(self, axes, keepdims):
        self.axes, self.keepdims = axes, keepdims

    def forward(self, x):
        return x.max(axis=self.axes, keepdims=self.keepdims)

    def backward(self, gy):
        x = self.inputs[0].data
        winners = (x == x.max(axis=self.axes, keepdims=True)).astype(x.dtype)
        share = winners / winners.sum(axis=self.axes, keepdims=True)
        return _expand_back(gy, x.shape, self.axes) * Tensor(share)


def max(x, axis=None, keepdims=False):
    axes = _normalize_axis(axis, x.ndim, "max")
    if any(x.shape[a] == 0 for a in axes):
        raise ValueError(f"max: cannot reduce an empty axis of a tensor of shape {x.shape}")
    return Max(axes, keepdims)(x)


def min(x, axis=None, keepdims=False):
    return -max(-x, axis, keepdims)


def logsumexp(x, axis=-1, keepdims=False):
    """log(sum(exp(x))) without overflow: the maximum is factored out first.

    A maximum of +-inf is not factored out (inf - inf is nan): a row of -inf
    sums to 0, whose log is -inf, as PyTorch gives.
    """
    axes = _normalize_axis(axis, x.ndim, "logsumexp")
    xp = backend.get_array_module(x.data)
    peak = xp.max(x.data, axis=axes, keepdims=True) if x.size else xp.zeros((), dtype=x.dtype)
    shift = Tensor(xp.where(xp.isinf(peak), xp.zeros((), dtype=x.dtype), peak))
    with np.errstate(divide="ignore"):  # log(0) = -inf is the answer there, not a mistake to warn about
        out = (x - shift).exp().sum(axis=axes, keepdims=True).log() + shift
    return out if keepdims else reshape(out, tuple(n for i, n in enumerate(x.shape) if i not in axes))
