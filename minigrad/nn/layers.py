"""Layers. Each checks its input at the call, naming itself and the clashing sizes, before computing.

Parameters start as PyTorch's layers start (see each docstring); to start
them otherwise, call an initialiser from ``nn.init`` on ``.weight`` /
``.bias`` after building the layer. Parameters are float32 on the default
device; ``model.to('cuda')`` and ``model.double()`` move and convert them.
"""
import numpy as np

from .. import backend, functional as F
from ..autograd import Tensor
from ..creation import normalize_shape
from ..ops.conv import check_options, int_pair
from ..ops.normalization import BatchNorm
from . import init
from .module import Module, Parameter


def _filled(shape, value=0.0):
    """A float32 array on the default device."""
    return backend.array_module(backend.get_default_device()).full(shape, value, dtype=np.float32)


def _pair_text(value):
    """'same' -> 'same' (quoted), (2, 2) -> 2, (2, 1) -> (2, 1)."""
    if isinstance(value, str):
        return repr(value)
    return str(value[0]) if value[0] == value[1] else str(value)


def _plural(count, noun):
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


class _Layer(Module):
    """Input checks shared by the layers that hold parameters."""

    def _check_input(self, x, ndim_fits, what):
        if not ndim_fits:
            raise ValueError(f"{self!r}: input must be {what}, got shape {x.shape}")
        if x.dtype != self.weight.dtype:  # caught here rather than as a float64 gradient for a float32 weight
            raise TypeError(f"{self!r}: input is {x.dtype} but the layer's parameters are {self.weight.dtype}; "
                            f"convert the input with .astype({self.weight.dtype.name!r}) or the layer with .astype()")

    def _check_channels(self, x, expected):
        if x.shape[1] != expected:
            raise ValueError(f"{self!r}: input has {_plural(x.shape[1], 'channel')}, expected {expected} "
                             f"(input shape {x.shape})")


class Dense(_Layer):
    """y = x @ weight + bias, weight (in_features, out_features), bias (out_features,).

    Starts as PyTorch's Linear: weight and bias uniform in +-1/sqrt(in_features).
    Keras' Dense starts from nn.init.xavier_uniform_(weight) and zeros_(bias).
    """

    def __init__(self, in_features, out_features, bias=True):
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(_filled((in_features, out_features)))
        self.bias = Parameter(_filled(out_features)) if bias else None
        init.pytorch_default_(self.weight, self.bias)

    def forward(self, x):
        self._check_input(x, x.ndim >= 1, "at least 1-D (..., features)")
        if x.shape[-1] != self.in_features:
            raise ValueError(f"{self!r}: input has {x.shape[-1]} features, expected {self.in_features} "
                             f"(input shape {x.shape})")
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return f"{self.in_features}->{self.out_features}" + ("" if self.bias is not None else ", bias=False")


class _Conv(_Layer):
    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, output_padding, bias, weight_shape):
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = int_pair(type(self).__name__, "kernel_size", kernel_size)
        if min(self.kernel_size) < 1:
            raise ValueError(f"{type(self).__name__}: kernel_size must be a positive int or pair, got {kernel_size!r}")
        self.stride, self.padding, self.output_padding = check_options(
            type(self).__name__, stride, padding, output_padding)
        self.weight = Parameter(_filled(weight_shape(in_channels, out_channels) + self.kernel_size))
        self.bias = Parameter(_filled(out_channels)) if bias else None
        init.pytorch_default_(self.weight, self.bias)

    def extra_repr(self):
        text = f"{self.in_channels}->{self.out_channels}, {self.kernel_size[0]}x{self.kernel_size[1]}"
        for name, value in (("stride", self.stride), ("padding", self.padding), ("output_padding", self.output_padding)):
            if value not in (None, (0, 0)) and not (name == "stride" and value == (1, 1)):
                text += f", {name}={_pair_text(value)}"
        return text + ("" if self.bias is not None else ", bias=False")

    def _relabel(self, op, *args):
        """Run the op; its input-size errors (kernel larger than the input, ...) get this layer's name."""
        try:
            return op(*args)
        except ValueError as error:
            raise ValueError(f"{self!r}: {error}") from None


class Conv2D(_Conv):
    """2-D convolution, NCHW: weight (out_channels, in_channels, kh, kw), bias (out_channels,).

    padding: an int, a pair, 'valid' or 'same' (output ceil(H / stride), the
    odd pad at the bottom/right as in Keras). Starts as torch.nn.Conv2d:
    weight and bias uniform in +-1/sqrt(in_channels * kh * kw).
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, None, bias,
                         lambda cin, cout: (cout, cin))

    def forward(self, x):
        self._check_input(x, x.ndim == 4, "4-D (N, C, H, W)")
        self._check_channels(x, self.in_channels)
        return self._relabel(F.conv2d, x, self.weight, self.bias, self.stride, self.padding)


class ConvTranspose2D(_Conv):
    """2-D transposed convolution, NCHW: weight (in_channels, out_channels, kh, kw), bias (out_channels,).

    Output (H - 1) * stride + kh - 2 * padding + output_padding, as PyTorch;
    padding='same' gives H * stride, as Keras' Conv2DTranspose. Starts as
    torch.nn.ConvTranspose2d: uniform in +-1/sqrt(out_channels * kh * kw).
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, bias=True):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, output_padding, bias,
                         lambda cin, cout: (cin, cout))

    def forward(self, x):
        self._check_input(x, x.ndim == 4, "4-D (N, C, H, W)")
        self._check_channels(x, self.in_channels)
        return self._relabel(F.conv_transpose2d, x, self.weight, self.bias, self.stride, self.padding,
                             self.output_padding)


class _BatchNorm(_Layer):
    """Normalises each channel over the batch (and positions), then scales by weight and shifts by bias.

    Training: batch statistics (biased variance) normalise, and the running
    estimates move towards them: running = (1 - momentum) * running +
    momentum * batch, with the unbiased variance, as PyTorch. Evaluation: the
    running estimates normalise. weight starts at 1, bias at 0,
    running_mean at 0, running_var at 1.
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.weight = Parameter(_filled(num_features, 1.0))
        self.bias = Parameter(_filled(num_features, 0.0))
        self.register_buffer("running_mean", Tensor(_filled(num_features, 0.0)))
        self.register_buffer("running_var", Tensor(_filled(num_features, 1.0)))

    def forward(self, x):
        self._check_input(x, x.ndim in self.ndims, self.shape_text)
        self._check_channels(x, self.num_features)
        per_channel = (1, -1) + (1,) * (x.ndim - 2)
        if self.training:
            count = x.size // x.shape[1]
            if count < 2:
                raise ValueError(f"{self!r}: training needs more than one value per channel to estimate a "
                                 f"variance, got input shape {x.shape}")
            normalize = BatchNorm(self.eps)  # ops/normalization.py: the batch's mean and variance, then the affine
            y = normalize(x, self.weight, self.bias)
            m = self.momentum  # the running estimates are plain arrays: no graph
            self.running_mean.data = (1 - m) * self.running_mean.data + m * normalize.batch_mean
            unbiased = normalize.batch_var * (count / (count - 1))
            self.running_var.data = (1 - m) * self.running_var.data + m * unbiased
            return y
        centered = x - self.running_mean.reshape(per_channel)
        variance = self.running_var.reshape(per_channel)
        scale = self.weight.reshape(per_channel) * (variance + self.eps) ** -0.5
        return centered * scale + self.bias.reshape(per_channel)

    def extra_repr(self):
        return f"{self.num_features}"


class BatchNorm1D(_BatchNorm):
    __doc__ = "Batch normalisation of (N, C) or (N, C, L) inputs, per feature C.\n\n    " + _BatchNorm.__doc__
    ndims, shape_text = (2, 3), "(N, C) or (N, C, L)"


class BatchNorm2D(_BatchNorm):
    __doc__ = "Batch normalisation of (N, C, H, W) inputs, per channel C.\n\n    " + _BatchNorm.__doc__
    ndims, shape_text = (4,), "4-D (N, C, H, W)"


class Dropout(Module):
    """Zeroes each element with probability p while training, scaling the rest by 1/(1-p); identity in eval."""

    def __init__(self, p=0.5):
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: p must be in [0, 1], got {p}")
        self.p = p

    def forward(self, x):
        return F.dropout(x, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}"


class Flatten(Module):
    """(N, ...) -> (N, everything else), in NCHW order; the batch dimension is kept."""

    def forward(self, x):
        if x.ndim < 1:
            raise ValueError(f"Flatten(): input must have a batch dimension, got shape {x.shape}")
        return x.reshape(x.shape[0], -1)


class Reshape(Module):
    """Reshape each sample to ``shape`` (the batch dimension is kept, as Keras' Reshape): Reshape(128, 7, 7)."""

    def __init__(self, *shape):
        self.shape = normalize_shape(shape)
        if sum(n == -1 for n in self.shape) > 1 or any(n == 0 or n < -1 for n in self.shape):
            raise ValueError(f"Reshape: shape must be positive sizes with at most one -1, got {self.shape}")

    def forward(self, x):
        if x.ndim < 1:
            raise ValueError(f"{self!r}: input must have a batch dimension, got shape {x.shape}")
        per_sample = int(np.prod(x.shape[1:]))
        known = int(np.prod([n for n in self.shape if n != -1]))
        fits = per_sample % known == 0 if -1 in self.shape else per_sample == known
        if not fits:
            raise ValueError(f"{self!r}: each sample has {per_sample} values (input shape {x.shape}), "
                             f"which do not fit {self.shape}")
        return x.reshape((x.shape[0],) + self.shape)

    def extra_repr(self):
        return ", ".join(map(str, self.shape))


class ReLU(Module):
    def forward(self, x):
        return F.relu(x)


class LeakyReLU(Module):
    def __init__(self, slope=0.01):
        self.slope = slope

    def forward(self, x):
        return F.leaky_relu(x, self.slope)

    def extra_repr(self):
        return f"{self.slope}"


class Sigmoid(Module):
    def forward(self, x):
        return F.sigmoid(x)


class Tanh(Module):
    def forward(self, x):
        return F.tanh(x)


class Softplus(Module):
    def forward(self, x):
        return F.softplus(x)
