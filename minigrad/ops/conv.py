"""2-D convolution and transposed convolution, NCHW, with PyTorch's weight layouts.

Three Functions share two kernels, im2col and col2im:

- Conv2d(x, W):          y = W @ im2col(x)                (one GEMM)
- ConvTranspose2d(y, W): x = col2im(W^T @ y)              (one GEMM)
- Conv2dWeight(x, gy):   gW = gy @ im2col(x)^T            (one GEMM)

A transposed convolution is the adjoint of a convolution with the same
geometry, so each one's input gradient is the other, and the weight gradient
of both is a correlation (Conv2dWeight). Every backward is written with these
three Functions, so every conv gradient can be differentiated again.
"""
import math
import numbers

import numpy as np

from .. import backend
from ..autograd import Function


class Geometry:
    """Where a kernel lands: a convolution from ``in_size`` to ``out_size``.

    ``pad`` is ((top, bottom), (left, right)); bottom/right may exceed what
    the last window reaches (those rows and columns are simply not read).
    A transposed convolution uses the geometry of the convolution it undoes.
    """

    def __init__(self, kernel, stride, pad, in_size):
        self.kernel, self.stride, self.pad, self.in_size = kernel, stride, pad, in_size
        self.padded_size = tuple(n + before + after for n, (before, after) in zip(in_size, pad))
        self.out_size = tuple((p - k) // s + 1 for p, k, s in zip(self.padded_size, kernel, stride))


# Memory order. NumPy copies a strided view one innermost run at a time, and
# MNIST-sized images have runs of 7 to 28 pixels, so gathering windows out of
# NCHW memory spends its time on loop overhead. Convolution keeps its arrays
# batch-innermost instead: channel, row, column, sample (CHWN). A window's
# column then copies as runs of N contiguous values, the GEMM
# W (O, C*kh*kw) @ col (C*kh*kw, Ho*Wo*N) writes CHWN directly, and the result
# is handed out as an (N, O, Ho, Wo) view of that memory. NumPy and CuPy follow
# strides, so later ops treat it as any NCHW array, elementwise ops keep its
# order, and the next conv reads it without a copy. NCHW-ordered inputs (images
# from a dataset, a Reshape after a Dense layer) are transposed once, on entry.
#
# Columns are built and consumed a band of output rows at a time: a few MB that
# stay in cache and come back from the heap on the next call, where one
# whole-batch buffer (100+ MB for a 28x28 layer at batch 256) would be paged in
# afresh on every step. Each band is one GEMM. Single-threaded, 1 to 4 MB
# bands run W2 and W4 equally fast; with two BLAS threads fewer, larger GEMMs
# mean fewer thread hand-offs, so the upper end is taken. On a GPU there is no
# cache to stay in and every band costs kernel launches: one band there.
BAND_BYTES = 4 << 20


def _bands(xp, rows, row_bytes):
    if xp is not np:
        return [(0, rows)]
    step = max(1, BAND_BYTES // max(row_bytes, 1))
    return [(start, min(start + step, rows)) for start in range(0, rows, step)]


def _chwn(a):
    """(N, C, H, W) array -> its (C, H, W, N) transpose, contiguous; free when ``a`` came from a conv."""
    return backend.get_array_module(a).ascontiguousarray(a.transpose(1, 2, 3, 0))


def _nchw(a):
    """(C, H, W, N) array -> the (N, C, H, W) view of it that callers see."""
    return a.transpose(3, 0, 1, 2)


def _gemm(a, b, out=None):
    """a @ b. NumPy's matmul leaves BLAS for an inner dimension of 1 and crawls; broadcasting does not."""
    xp = backend.get_array_module(a)
    if a.shape[1] == 1:
        return xp.multiply(a, b, out=out)
    return xp.matmul(a, b, out=out)


def _padded(x, g):
    """x (N, C, H, W) zero-padded to g.padded_size, as a contiguous (C, Hp, Wp, N) array."""
    (top, bottom), (left, right) = g.pad
    if not (top or bottom or left or right):
        return _chwn(x)
    n, c, h, w = x.shape
    out = backend.get_array_module(x).empty((c,) + g.padded_size + (n,), dtype=x.dtype)
    out[:, :top] = 0  # only the border is zeroed: the inside is written once, by the copy
    out[:, top + h:] = 0
    out[:, top:top + h, :left] = 0
    out[:, top:top + h, left + w:] = 0
    out[:, top:top + h, left:left + w] = x.transpose(1, 2, 3, 0)
    return out


def im2col(padded, g, rows):
    """Padded (C, Hp, Wp, N) -> (C*kh*kw, rows*Wo*N): every window of the output rows [start, stop) as a column."""
    xp = backend.get_array_module(padded)
    start, stop = rows
    c, n = padded.shape[0], padded.shape[3]
    (kh, kw), (sh, sw), wo = g.kernel, g.stride, g.out_size[1]
    step_c, step_h, step_w, step_n = padded.strides
    windows = xp.lib.stride_tricks.as_strided(
        padded[:, start * sh:], (c, kh, kw, stop - start, wo, n),
        (step_c, step_h, step_w, step_h * sh, step_w * sw, step_n))
    col = xp.empty(windows.shape, dtype=padded.dtype)
    col[...] = windows
    return col.reshape(c * kh * kw, -1)


def col2im(col, g, rows, padded):
    """The adjoint of im2col: add each column onto its window of ``padded``, one strided add per kernel offset."""
    start, stop = rows
    (kh, kw), (sh, sw), wo = g.kernel, g.stride, g.out_size[1]
    c, n = padded.shape[0], padded.shape[3]
    col = col.reshape(c, kh, kw, stop - start, wo, n)
    for i in range(kh):
        top = start * sh + i
        for j in range(kw):
            padded[:, top:top + sh * (stop - start):sh, j:j + sw * wo:sw] += col[:, i, j]


def _row_bytes(channels, g, n, itemsize):
    return channels * g.kernel[0] * g.kernel[1] * g.out_size[1] * n * itemsize


# A stride-1 convolution can be computed from either side. conv(x, W) with
# padding p equals the transposed convolution of x with the kernel flipped
# and in/out swapped, under padding k - 1 - p (the "dual" geometry), and vice
# versa. The columns of one side have C_in*kh*kw rows, those of the other
# C_out*kh*kw: the drivers below take the side with fewer channels, so a
# 16 -> 1 channel 3x3 convolution builds 9-row columns instead of 144-row ones.


def _dual(g):
    """The geometry of the same stride-1 convolution seen from its output; None where there is none."""
    if g.stride != (1, 1) or any(p > k - 1 for k, pads in zip(g.kernel, g.pad) for p in pads):
        return None
    return Geometry(g.kernel, g.stride, tuple((k - 1 - top, k - 1 - bottom) for k, (top, bottom)
                                              in zip(g.kernel, g.pad)), g.out_size)


def _flipped(W):
    """W (A, B, kh, kw) -> (B, A, kh, kw) with every kernel turned by 180 degrees."""
    return W[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)


def _convolve(x, W, g):
    """x (N, C, H, W) conv W (O, C, kh, kw) -> y (N, O, Ho, Wo), CHWN memory."""
    dual = _dual(g)
    if dual is not None and W.shape[0] < W.shape[1]:
        return _convolve_transposed(x, _flipped(W), dual)
    xp = backend.get_array_module(x)
    n, c = x.shape[:2]
    padded = _padded(x, g)
    kernels = W.reshape(W.shape[0], -1)
    y = xp.empty((W.shape[0], g.out_size[0] * g.out_size[1] * n), dtype=x.dtype)
    row = g.out_size[1] * n
    for rows in _bands(xp, g.out_size[0], _row_bytes(c, g, n, x.itemsize)):
        _gemm(kernels, im2col(padded, g, rows), out=y[:, rows[0] * row:rows[1] * row])
    return _nchw(y.reshape((W.shape[0],) + g.out_size + (n,)))


def _convolve_transposed(y, W, g):
    """y (N, C_in, Ho, Wo) transposed-conv W (C_in, C_out, kh, kw) -> x (N, C_out, H, W), CHWN memory."""
    dual = _dual(g)
    if dual is not None and W.shape[0] < W.shape[1]:
        return _convolve(y, _flipped(W), dual)
    xp = backend.get_array_module(y)
    n, c = y.shape[0], W.shape[1]
    kernels_t = W.reshape(W.shape[0], -1).T
    y_matrix = _chwn(y).reshape(W.shape[0], -1)
    padded = xp.zeros((c,) + g.padded_size + (n,), dtype=y.dtype)
    row = g.out_size[1] * n
    for rows in _bands(xp, g.out_size[0], _row_bytes(c, g, n, y.itemsize)):
        col2im(_gemm(kernels_t, y_matrix[:, rows[0] * row:rows[1] * row]), g, rows, padded)
    (top, _), (left, _) = g.pad
    h, w = g.in_size
    return _nchw(padded[:, top:top + h, left:left + w])


def _correlate(x, gy, g):
    """gW (O, C, kh, kw): gy (N, O, Ho, Wo) against the windows of x (N, C, H, W), summed over samples and pixels."""
    xp = backend.get_array_module(x)
    dual = _dual(g)
    if dual is not None and gy.shape[1] < x.shape[1]:
        return xp.ascontiguousarray(_flipped(_correlate(gy, x, dual)))
    n, c = x.shape[:2]
    padded = _padded(x, g)
    gy_matrix = _chwn(gy).reshape(gy.shape[1], -1)
    gW = xp.zeros((gy.shape[1], c * g.kernel[0] * g.kernel[1]), dtype=x.dtype)
    row = g.out_size[1] * n
    for rows in _bands(xp, g.out_size[0], _row_bytes(c, g, n, x.itemsize)):
        gW += _gemm(gy_matrix[:, rows[0] * row:rows[1] * row], im2col(padded, g, rows).T)
    return gW.reshape((gy.shape[1], c) + g.kernel)


class Conv2d(Function):
    # y[n,o,p] = sum_{c,i,j} W[o,c,i,j] x_pad[n,c,s*p+(i,j)] + b[o]:  gx = W^T * gy (transposed conv), gW = gy (x) x
    def __init__(self, geometry):
        self.g = geometry

    def forward(self, x, W, b=None):
        y = _convolve(x, W, self.g)
        if b is not None:
            y += b[:, None, None]
        return y

    def backward(self, gy):
        x, W = self.inputs[:2]
        needs = self.needs_input_grad
        grads = (ConvTranspose2d(self.g)(gy, W) if needs[0] else None,
                 Conv2dWeight(self.g)(x, gy) if needs[1] else None)
        if len(self.inputs) == 3:
            grads += (gy.sum(axis=(0, 2, 3)) if needs[2] else None,)
        return grads


class ConvTranspose2d(Function):
    # the adjoint of Conv2d(g): x = col2im(W^T y) + b;  gy = conv(gx, W), gW = correlation of gx with y
    def __init__(self, geometry):
        self.g = geometry

    def forward(self, y, W, b=None):
        x = _convolve_transposed(y, W, self.g)
        if b is not None:
            x += b[:, None, None]
        return x

    def backward(self, gx):
        y, W = self.inputs[:2]
        needs = self.needs_input_grad
        grads = (Conv2d(self.g)(gx, W) if needs[0] else None,
                 Conv2dWeight(self.g)(gx, y) if needs[1] else None)
        if len(self.inputs) == 3:
            grads += (gx.sum(axis=(0, 2, 3)) if needs[2] else None,)
        return grads


class Conv2dWeight(Function):
    # gW[o,c,i,j] = sum_{n,p} gy[n,o,p] x_pad[n,c,s*p+(i,j)], bilinear in (x, gy):
    # d/dx <ggW, gW> = conv_transpose(gy, ggW),  d/dgy <ggW, gW> = conv(x, ggW)
    def __init__(self, geometry):
        self.g = geometry

    def forward(self, x, gy):
        return _correlate(x, gy, self.g)

    def backward(self, ggW):
        x, gy = self.inputs
        need_x, need_gy = self.needs_input_grad
        return (ConvTranspose2d(self.g)(gy, ggW) if need_x else None,
                Conv2d(self.g)(x, ggW) if need_gy else None)


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
    """The Geometry of a convolution of an in_size image (stride and padding as check_options gives them)."""
    if padding == "same":
        pad = tuple(_same_padding(n, k, s) for n, k, s in zip(in_size, kernel, stride))
    else:
        pad = tuple((p, p) for p in padding)
    g = Geometry(kernel, stride, pad, in_size)
    if any(p < k for p, k in zip(g.padded_size, kernel)):
        raise ValueError(f"{op}: kernel {_sizes(kernel)} is larger than the padded input {_sizes(g.padded_size)} "
                         f"(input {_sizes(in_size)}, padding {pad})")
    return g


def transpose_geometry(op, in_size, kernel, stride, padding, output_padding):
    """The Geometry of the convolution that a transposed convolution of an in_size image undoes.

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
    return Geometry(kernel, stride, pad, out_size)


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
    return Conv2d(g)(x, W) if b is None else Conv2d(g)(x, W, b)


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
    return ConvTranspose2d(g)(x, W) if b is None else ConvTranspose2d(g)(x, W, b)
