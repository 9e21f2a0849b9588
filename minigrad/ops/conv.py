"""2-D convolution and transposed convolution, NCHW, with PyTorch's weight layouts.

A convolution is one matrix product. im2col(x) copies every kh x kw window of the zero-padded input into
one column of C*kh*kw values, so each output pixel is the weights times one column; col2im is its
adjoint, adding every column back onto its window. Three Functions, one product each:

- Conv2D(x, W):          y = W @ im2col(x)
- ConvTranspose2D(y, W): x = col2im(W^T @ y)
- Conv2DWeight(x, gy):   gW = gy @ im2col(x)^T

A transposed convolution is the adjoint of a convolution with the same
geometry, so each one's input gradient is the other, and the weight gradient
of both is a correlation (Conv2DWeight). Every backward is written with these
three Functions, so every conv gradient can be differentiated again.

minigrad/kernels/conv.py computes the three products: the formulas above written out plainly
(conv2d_reference, ...), and the fast versions this file calls, tested equal to them.
"""
import math
import numbers

from .. import kernels
from ..autograd import Function


class Conv2D(Function):
    # y = W @ im2col(x) + b:  gx = col2im(W^T @ gy), a transposed conv;  gW = gy @ im2col(x)^T;  gb = sum of gy
    def __init__(self, geometry):
        self.g = geometry

    def forward(self, x, W, b=None):
        y = kernels.conv2d(x, W, self.g)
        if b is not None:
            y += b[:, None, None]
        return y

    def backward(self, gy):
        x, W = self.inputs[:2]
        needs = self.needs_input_grad
        grads = (ConvTranspose2D(self.g)(gy, W) if needs[0] else None,
                 Conv2DWeight(self.g)(x, gy) if needs[1] else None)
        if len(self.inputs) == 3:
            grads += (gy.sum(axis=(0, 2, 3)) if needs[2] else None,)
        return grads


def conv2d(x, W, b=None, stride=1, padding=0):
    """2-D convolution (cross-correlation, as PyTorch), NCHW.

    W is (out_channels, in_channels, kh, kw), b is (out_channels,).
    padding: an int, a pair (ph, pw), 'valid' (none) or 'same' (output
    ceil(H / stride); with stride 1 and an odd kernel that is PyTorch's
    symmetric 'same', otherwise TensorFlow's, the odd pad at the bottom/right).
    """
    stride, padding, _ = check_options("conv2d", stride, padding)
    _check_operands("conv2d", x, W, b, in_channels_axis=1, out_channels_axis=0)
    g = conv_geometry("conv2d", x.shape[2:], W.shape[2:], stride, padding)
    return Conv2D(g)(x, W) if b is None else Conv2D(g)(x, W, b)


class ConvTranspose2D(Function):
    # x = col2im(W^T @ y) + b, the adjoint of Conv2D:  gy = W @ im2col(gx), a conv;  gW = y @ im2col(gx)^T
    def __init__(self, geometry):
        self.g = geometry

    def forward(self, y, W, b=None):
        x = kernels.conv_transpose2d(y, W, self.g)
        if b is not None:
            x += b[:, None, None]
        return x

    def backward(self, gx):
        y, W = self.inputs[:2]
        needs = self.needs_input_grad
        grads = (Conv2D(self.g)(gx, W) if needs[0] else None,
                 Conv2DWeight(self.g)(gx, y) if needs[1] else None)
        if len(self.inputs) == 3:
            grads += (gx.sum(axis=(0, 2, 3)) if needs[2] else None,)
        return grads


def conv_transpose2d(x, W, b=None, stride=1, padding=0, output_padding=0):
    """2-D transposed convolution (the adjoint of conv2d), NCHW.

    W is (in_channels, out_channels, kh, kw), b is (out_channels,), as
    PyTorch. Output (H - 1) * stride + kh - 2 * padding + output_padding; with
    padding='same' it is H * stride (Keras' Conv2DTranspose). 'valid' is
    padding 0 (Keras' 'valid' adds stride - kh more rows when the kernel is
    smaller than the stride: pass that as output_padding).
    """
    stride, padding, output_padding = check_options("conv_transpose2d", stride, padding, output_padding)
    _check_operands("conv_transpose2d", x, W, b, in_channels_axis=0, out_channels_axis=1)
    g = transpose_geometry("conv_transpose2d", x.shape[2:], W.shape[2:], stride, padding, output_padding)
    return ConvTranspose2D(g)(x, W) if b is None else ConvTranspose2D(g)(x, W, b)


class Conv2DWeight(Function):
    # gW = gy @ im2col(x)^T, bilinear in (x, gy):  d<ggW, gW>/dx = col2im(ggW^T @ gy),  d<ggW, gW>/dgy = ggW @ im2col(x)
    def __init__(self, geometry):
        self.g = geometry

    def forward(self, x, gy):
        return kernels.conv2d_weight(x, gy, self.g)

    def backward(self, ggW):
        x, gy = self.inputs
        need_x, need_gy = self.needs_input_grad
        return (ConvTranspose2D(self.g)(gy, ggW) if need_x else None,
                Conv2D(self.g)(x, ggW) if need_gy else None)


# --- argument checks and geometry ----------------------------------------------


def int_pair(op, name, value):
    """An int or a pair of ints as a pair, or an error naming the op and the argument."""
    if isinstance(value, numbers.Integral):
        pair = (value, value)
    elif isinstance(value, (tuple, list)):
        pair = tuple(value)
    else:
        pair = ()
    if len(pair) != 2 or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in pair):
        raise ValueError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    return tuple(int(v) for v in pair)


def _same_padding(size, kernel, stride):
    """TensorFlow's 'same': output ceil(size/stride), the odd pad at the end (symmetric when stride is 1 and k odd)."""
    total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def _check_operands(op, x, W, b, in_channels_axis, out_channels_axis):
    if x.ndim != 4:
        raise ValueError(f"{op}: input must be 4-D (N, C, H, W), got shape {x.shape}")
    if W.ndim != 4:
        raise ValueError(f"{op}: weight must be 4-D, got shape {W.shape}")
    expected = W.shape[in_channels_axis]
    if x.shape[1] != expected:
        raise ValueError(f"{op}: input has {x.shape[1]} channel{'s' if x.shape[1] != 1 else ''}, expected {expected} "
                         f"(input shape {x.shape}, weight shape {W.shape})")
    out_channels = W.shape[out_channels_axis]
    if b is not None and b.shape != (out_channels,):
        raise ValueError(f"{op}: bias has shape {b.shape}, expected ({out_channels},)")
    for name, t in (("weight", W), ("bias", b)):
        if t is not None and t.dtype != x.dtype:
            raise TypeError(f"{op}: input is {x.dtype} but {name} is {t.dtype}; convert one with .astype()")


def check_options(op, stride, padding, output_padding=None):
    """Normalised (stride, padding, output_padding), or a clear error before anything is computed.

    stride becomes a pair; padding 'same' stays, 'valid' and ints become
    pairs; output_padding (transposed convolution only, else None) a pair.
    """
    stride = int_pair(op, "stride", stride)
    if min(stride) < 1:
        raise ValueError(f"{op}: stride must be positive, got {stride}")
    if padding == "valid":
        padding = (0, 0)
    elif isinstance(padding, str) and padding != "same":
        raise ValueError(f"{op}: padding must be an int, a pair, 'valid' or 'same', got {padding!r}")
    elif padding != "same":
        padding = int_pair(op, "padding", padding)
        if min(padding) < 0:
            raise ValueError(f"{op}: padding must be non-negative, got {padding}")
    if output_padding is not None:
        output_padding = int_pair(op, "output_padding", output_padding)
        if min(output_padding) < 0 or any(o >= s for o, s in zip(output_padding, stride)):
            raise ValueError(f"{op}: output_padding must be non-negative and smaller than stride {stride}, "
                             f"got {output_padding}")
        if padding == "same" and any(output_padding):
            raise ValueError(f"{op}: padding='same' fixes the output size at input * stride; "
                             f"output_padding must be 0, got {output_padding}")
    return stride, padding, output_padding


def _sizes(size):
    return "x".join(map(str, size))


def conv_geometry(op, in_size, kernel, stride, padding):
    """The ConvGeometry of a convolution of an in_size image (stride and padding as check_options gives them)."""
    if padding == "same":
        pad = tuple(_same_padding(n, k, s) for n, k, s in zip(in_size, kernel, stride))
    else:
        pad = tuple((p, p) for p in padding)
    g = kernels.ConvGeometry(kernel, stride, pad, in_size)
    if any(p < k for p, k in zip(g.padded_size, kernel)):
        raise ValueError(f"{op}: kernel {_sizes(kernel)} is larger than the padded input {_sizes(g.padded_size)} "
                         f"(input {_sizes(in_size)}, padding {pad})")
    return g


def transpose_geometry(op, in_size, kernel, stride, padding, output_padding):
    """The ConvGeometry of the convolution that a transposed convolution of an in_size image undoes.

    Its output is (in - 1) * stride + kernel - 2 * padding + output_padding per
    axis (PyTorch's); padding='same' gives in * stride, the adjoint of the
    'same' convolution of that size (Keras' Conv2DTranspose).
    """
    if padding == "same":
        out_size = tuple(n * s for n, s in zip(in_size, stride))
        pad = tuple(_same_padding(n, k, s) for n, k, s in zip(out_size, kernel, stride))
    else:
        pad = tuple((p, p) for p in padding)
        out_size = tuple((n - 1) * s + k - 2 * p + o
                         for n, k, s, p, o in zip(in_size, kernel, stride, padding, output_padding))
        if min(out_size) < 1:
            raise ValueError(f"{op}: output would be {_sizes(out_size)} (input {_sizes(in_size)}, kernel "
                             f"{_sizes(kernel)}, stride {stride}, padding {padding}); reduce the padding")
    return kernels.ConvGeometry(kernel, stride, pad, out_size)
