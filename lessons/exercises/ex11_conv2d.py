"""Exercise 11: a 2-D convolution as one matrix product (im2col).

    x: (N, C, H, W)   weight: (F, C, kh, kw)   bias: (F,)   y: (N, F, OH, OW)
    OH = (H + 2 padding - kh) // stride + 1, and OW likewise
    y[n, f, i, j] = bias[f] + sum_{c,u,v} weight[f, c, u, v] * x_padded[n, c, i*stride + u, j*stride + v]

im2col copies every kh x kw patch of the zero-padded input into one column:
cols = im2col(x) is (N, C*kh*kw, OH*OW), and the convolution becomes a product
with the flattened weight, one per sample:

    y[n] = weight.reshape(F, C*kh*kw) @ cols[n] + bias[:, None]      (F, OH*OW), then reshaped to (F, OH, OW)

Derive, given gy = dL/dy, (N, F, OH, OW), reshaped to (N, F, OH*OW):
  dL/dbias   (F,)             bias[f] is broadcast over n, i and j (exercise 5).
  dL/dweight (F, C, kh, kw)   the product's gradient (exercise 4) for each sample, summed over the batch.
  dL/dx      (N, C, H, W)     the product's gradient gives dL/dcols, (N, C*kh*kw, OH*OW). Then undo
                              im2col: overlapping patches copied one pixel into several columns, so its
                              gradient is the sum over its copies. That is col2im, the adjoint of im2col,
                              yours to write below.

The forward keeps ``self.cols``. The engine's own convolution (minigrad/ops/conv.py) works the same way.

    python -m lessons.exercises check conv2d
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

import minigrad as mg

from .checker import Case, sizes


def output_size(h, w, kh, kw, stride, padding):
    return (h + 2 * padding - kh) // stride + 1, (w + 2 * padding - kw) // stride + 1


def im2col(x, kh, kw, stride, padding):
    """Every kh x kw patch of x as a column: (N, C, H, W) -> (N, C*kh*kw, OH*OW)."""
    n, c = x.shape[:2]
    padded = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    patches = sliding_window_view(padded, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride]  # (N, C, OH, OW, kh, kw)
    oh, ow = patches.shape[2:4]
    return patches.transpose(0, 1, 4, 5, 2, 3).reshape(n, c * kh * kw, oh * ow)


def col2im(cols, x_shape, kh, kw, stride, padding):
    """The adjoint of im2col: (N, C*kh*kw, OH*OW) -> x_shape, adding up every copy of each pixel."""
    raise NotImplementedError("reshape cols to (N, C, kh, kw, OH, OW); for each kernel offset (u, v) add "
                              "cols[:, :, u, v] into a strided slice of a zero padded image; cut the padding off")


class Conv2D(mg.Function):
    def __init__(self, stride=1, padding=0):
        self.stride, self.padding = stride, padding

    def forward(self, x, weight, bias):
        f, c, kh, kw = weight.shape
        self.cols = im2col(x, kh, kw, self.stride, self.padding)
        y = weight.reshape(f, -1) @ self.cols + bias[:, None]
        return y.reshape(len(x), f, *output_size(*x.shape[2:], kh, kw, self.stride, self.padding))

    def backward(self, gy):
        raise NotImplementedError("bias: sum gy; weight: gy @ cols^T summed over the batch; x: col2im(W^T @ gy)")


def cases(rng):
    """A non-square image; a batch of one with padding; stride 2; a 1x1 kernel; one channel, a 2x3 kernel."""
    n, c, f = sizes(rng, 3, high=4)
    for x_shape, w_shape, stride, padding in [((n, c, 5, 6), (f, c, 3, 3), 1, 0), ((1, c, 4, 4), (f, c, 3, 3), 1, 1),
                                              ((n, 2, 5, 5), (f, 2, 3, 3), 2, 1), ((n, c, 3, 4), (f, c, 1, 1), 1, 0),
                                              ((2, 1, 4, 4), (1, 1, 2, 3), 1, 0)]:
        yield Case(rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(w_shape[0]),
                   stride=stride, padding=padding)
