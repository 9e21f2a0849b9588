"""Exercise 13: the transposed convolution, as the adjoint of conv2d.

    x: (N, C, H, W)   weight: (C, F, kh, kw)   bias: (F,)   y: (N, F, OH, OW)
    OH = (H - 1) * stride - 2 padding + kh, and OW likewise

Each input pixel x[n, c, i, j] stamps the kernel weight[c] (F, kh, kw), scaled by
itself, onto the output at (i*stride - padding, j*stride - padding); where the
stamps overlap they add up. That makes it the adjoint of conv2d with the same
weight, stride and padding (conv2d reads the weight as (out, in, kh, kw), so it
maps F channels back to C): for every x and every u of y's shape,

    sum(conv_transpose2d(x, weight) * u) = sum(x * conv2d(u, weight))

Derive, given gy = dL/dy, (N, F, OH, OW):
  dL/dx      (N, C, H, W)     the identity read with u = gy: one call of F.conv2d on Tensors.
  dL/dweight (C, F, kh, kw)   dL/dweight[c, f, u, v] = sum_{n,i,j} x[n, c, i, j] gy_padded[n, f, i*stride + u,
                              j*stride + v]: x against the patches of gy, as im2col (exercise 11, imported
                              below) cuts them, summed over the batch.
  dL/dbias   (F,)             bias[f] is added at every n, i and j.

The convolutions here are cross-correlations, as in minigrad and PyTorch: no
kernel is flipped anywhere.

    python -m lessons.exercises check conv_transpose2d
"""
import minigrad as mg
import minigrad.functional as F

from .checker import Case, sizes
from .ex11_conv2d import im2col  # noqa: F401 (for your backward: the patches of gy)


class ConvTranspose2D(mg.Function):
    def __init__(self, stride=1, padding=0):
        self.stride, self.padding = stride, padding

    def forward(self, x, weight, bias):
        with mg.no_grad():
            y = F.conv_transpose2d(mg.Tensor(x), mg.Tensor(weight), mg.Tensor(bias), stride=self.stride,
                                   padding=self.padding)
        return y.data

    def backward(self, gy):
        raise NotImplementedError("x: conv2d of gy with the same weight, stride and padding; weight: x against "
                                  "im2col(gy); bias: gy summed over every axis but the channels")


def cases(rng):
    """A non-square image; stride 2 with padding; a batch of one; a 1x1 kernel; one input channel, a 2x3 kernel."""
    n, c, f = sizes(rng, 3, high=4)
    for x_shape, w_shape, stride, padding in [((n, c, 3, 4), (c, f, 3, 3), 1, 0), ((n, c, 3, 3), (c, f, 3, 3), 2, 1),
                                              ((1, c, 2, 3), (c, f, 2, 2), 2, 0), ((n, c, 3, 2), (c, f, 1, 1), 1, 0),
                                              ((2, 1, 3, 3), (1, f, 2, 3), 2, 0)]:
        yield Case(rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(w_shape[1]),
                   stride=stride, padding=padding)
