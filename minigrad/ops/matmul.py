"""Matrix products: matmul (2-D and batched) and the fused dense layer x @ W + b."""
import numpy as np

from .. import kernels
from ..autograd import Function, Tensor
from .elementwise import constant_like
from .shape import reshape, sum_to, transpose


def _swap_last(t):
    axes = list(range(t.ndim))
    axes[-1], axes[-2] = axes[-2], axes[-1]
    return transpose(t, axes)


class MatMul(Function):
    # d(a @ b) = da @ b + a @ db  ->  ga = gy @ b^T, gb = a^T @ gy
    def forward(self, a, b):
        return kernels.matmul(a, b)

    def backward(self, gy):
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        return (sum_to(gy @ _swap_last(b), a.shape) if need_a else None,
                sum_to(_swap_last(a) @ gy, b.shape) if need_b else None)


def matmul(a, b):
    if not isinstance(a, Tensor):
        a = constant_like(a, b, "matmul")
    elif not isinstance(b, Tensor):
        b = constant_like(b, a, "matmul")
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: both operands need at least 1 dimension, got shapes {a.shape} and {b.shape}")
    inner_b = b.shape[-2] if b.ndim > 1 else b.shape[0]
    if a.shape[-1] != inner_b:
        raise ValueError(f"matmul: inner dimensions differ: {a.shape} @ {b.shape} ({a.shape[-1]} != {inner_b})")
    if a.ndim == 1 or b.ndim == 1:
        # NumPy's rule: a 1-D operand is a row (left) or a column (right), and that axis is dropped from the result
        out = matmul(reshape(a, (1, -1)) if a.ndim == 1 else a, reshape(b, (-1, 1)) if b.ndim == 1 else b)
        dropped = {out.ndim - 2} if a.ndim == 1 else set()
        dropped |= {out.ndim - 1} if b.ndim == 1 else set()
        return reshape(out, tuple(n for i, n in enumerate(out.shape) if i not in dropped))
    if a.ndim > 2 or b.ndim > 2:
        try:
            np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        except ValueError:
            raise ValueError(f"matmul: batch dimensions of {a.shape} and {b.shape} cannot be broadcast "
                             "together") from None
    return MatMul()(a, b)


class Linear(Function):
    # y = x W + b:  gx = gy W^T, gW = x^T gy, gb = sum over the batch of gy
    def forward(self, x, W, b=None):
        y = kernels.matmul(x, W)
        return y if b is None else y + b

    def backward(self, gy):
        x, W = self.inputs[:2]
        needs = self.needs_input_grad
        # a flattened conv output is x^T in memory (batch innermost): gx = (W gy^T)^T then comes out in that order
        transposed = x.data.flags.f_contiguous and not x.data.flags.c_contiguous
        gx = ((W @ gy.T).T if transposed else gy @ W.T) if needs[0] else None
        grads = (gx, x.T @ gy if needs[1] else None)
        if len(self.inputs) == 3:
            grads += (gy.sum(axis=0) if needs[2] else None,)
        return grads


def linear(x, W, b=None):
    """x @ W + b with W shaped (in, out), the textbook layout."""
    if W.ndim != 2:
        raise ValueError(f"linear: weight must be 2-D (in, out), got shape {W.shape}")
    if x.ndim == 0 or x.shape[-1] != W.shape[0]:
        raise ValueError(f"linear: input has {x.shape[-1] if x.ndim else 0} features, expected {W.shape[0]} "
                         f"(input shape {x.shape}, weight shape {W.shape})")
    if b is not None and b.shape != (W.shape[1],):
        raise ValueError(f"linear: bias has shape {b.shape}, expected ({W.shape[1]},)")
    if x.ndim != 2:
        flat = linear(reshape(x, (-1, x.shape[-1])), W, b)
        return reshape(flat, x.shape[:-1] + (W.shape[1],))
    return Linear()(x, W) if b is None else Linear()(x, W, b)
