"""Batch normalisation: each channel normalised by the statistics of its batch, then scaled and shifted."""
from .. import kernels
from ..autograd import Function, Tensor, is_grad_enabled


class BatchNorm(Function):
    # y = w * xhat + b, xhat = (x - mean) / sqrt(var + eps), mean and biased var per channel over its M values:
    # gb = sum(gy),  gw = sum(gy * xhat),  gx = w / sqrt(var + eps) * (gy - (gb + xhat * gw) / M)
    # (kernels/batchnorm.py computes both directions in a few fused passes; the batch statistics stay on the
    # Function as batch_mean and batch_var, for the layer's running estimates)
    def __init__(self, eps):
        self.eps = eps

    def forward(self, x, w, b):
        y, self.batch_mean, self.batch_var, self.centered = kernels.batch_norm(x, w, b, self.eps)
        return y

    def backward(self, gy):
        x, w, _ = self.inputs
        if is_grad_enabled():  # create_graph: the same formula in Tensor ops, so the gradient has a gradient
            return batch_norm_grads(gy, x, w, self.eps)
        gx, gw, gb = kernels.batch_norm_backward(gy.data, self.centered, self.batch_var, w.data, self.eps)
        return Tensor(gx), Tensor(gw), Tensor(gb)


def batch_norm_grads(gy, x, w, eps):
    """BatchNorm's (gx, gw, gb), written with Tensor ops: differentiable again."""
    axes = (0,) + tuple(range(2, x.ndim))
    centered = x - x.mean(axis=axes, keepdims=True)
    inv_std = ((centered * centered).mean(axis=axes, keepdims=True) + eps) ** -0.5
    xhat = centered * inv_std
    gb = gy.sum(axis=axes, keepdims=True)
    gw = (gy * xhat).sum(axis=axes, keepdims=True)
    gx = w.reshape(gb.shape) * inv_std * (gy - (gb + xhat * gw) / (x.size // x.shape[1]))
    return gx, gw.reshape(-1), gb.reshape(-1)


def batch_norm(x, weight, bias, eps=1e-5):
    """Training-mode batch normalisation of x (N, C, ...) per channel C, with the batch's own statistics."""
    return BatchNorm(eps)(x, weight, bias)
