import numpy as np

import minigrad as mg

from .. import ex11_conv2d
from ..ex11_conv2d import output_size


def col2im(cols, x_shape, kh, kw, stride, padding):
    """The adjoint of im2col: (N, C*kh*kw, OH*OW) -> x_shape, adding up every copy of each pixel."""
    n, c, h, w = x_shape
    oh, ow = output_size(h, w, kh, kw, stride, padding)
    patches = cols.reshape(n, c, kh, kw, oh, ow)
    padded = np.zeros((n, c, h + 2 * padding, w + 2 * padding), dtype=cols.dtype)
    for u in range(kh):  # a loop over kernel offsets, never over pixels
        for v in range(kw):
            padded[:, :, u:u + stride * oh:stride, v:v + stride * ow:stride] += patches[:, :, u, v]
    return padded[:, :, padding:padding + h, padding:padding + w]


class Conv2D(ex11_conv2d.Conv2D):
    # y[n] = Wf @ cols[n] + b:  gb = sum gy,  gWf = sum_n gy[n] @ cols[n]^T,  gcols[n] = Wf^T @ gy[n] -> col2im
    def backward(self, gy):
        x, weight, _ = self.inputs
        f, c, kh, kw = weight.shape
        g = gy.data.reshape(len(gy.data), f, -1)                    # (N, F, OH*OW)
        grad_bias = g.sum(axis=(0, 2))
        grad_weight = (g @ self.cols.transpose(0, 2, 1)).sum(axis=0)  # (N, F, C*kh*kw) summed over the batch
        grad_cols = weight.data.reshape(f, -1).T @ g                # (N, C*kh*kw, OH*OW)
        grad_x = col2im(grad_cols, x.shape, kh, kw, self.stride, self.padding)
        return mg.Tensor(grad_x), mg.Tensor(grad_weight.reshape(weight.shape)), mg.Tensor(grad_bias)
