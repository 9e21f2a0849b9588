"""The ops, one file per family. Each op is a Function with forward and backward side by side."""
from .activation import dropout, leaky_relu, log_softmax, relu, sigmoid, softmax, softplus, tanh
from .conv import conv2d, conv_transpose2d
from .elementwise import abs, add, clip, div, exp, log, maximum, minimum, mul, neg, pow, sqrt, sub, where
from .loss import (binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy, gaussian_kl,
                   mse_loss)
from .matmul import linear, matmul
from .pool import avg_pool2d
from .reduce import logsumexp, max, mean, min, sum
from .shape import broadcast_to, concatenate, getitem, reshape, stack, sum_to, transpose

# --- Tensor's operators and methods, attached in one place ----------------------------------------------------
# autograd.py defines Tensor without importing any op (the ops import Tensor); this table is where `a + b` becomes
# add(a, b) and `x.exp()` becomes exp(x). Each entry is the op's own function, so `x.sum(1)` is `sum(x, 1)`.
import numpy as _np  # noqa: E402

from ..autograd import Tensor as _Tensor  # noqa: E402
from .elementwise import Cast as _Cast  # noqa: E402
from .shape import ToDevice as _ToDevice  # noqa: E402


def _reflected(op):
    """other OP tensor, for the reflected operators: ``2 - x`` calls ``x.__rsub__(2)``, which is sub(2, x)."""
    def reflected(tensor, other):
        return op(other, tensor)
    reflected.__name__ = f"__r{op.__name__}__"
    return reflected


def _to(x, device):
    """A copy on ``device`` ('cpu' or 'cuda') that gradients flow back through; x itself if it is there."""
    return x if device == x.device else _ToDevice(device)(x)


def _astype(x, dtype):
    """A copy in ``dtype`` that gradients flow back through (cast back to x's dtype); x itself if it has it."""
    dtype = _np.dtype(dtype)
    return x if dtype == x.dtype else _Cast(dtype)(x)


for _name, _method in {
    "__add__": add, "__radd__": _reflected(add), "__sub__": sub, "__rsub__": _reflected(sub),
    "__mul__": mul, "__rmul__": _reflected(mul), "__truediv__": div, "__rtruediv__": _reflected(div),
    "__pow__": pow, "__rpow__": _reflected(pow), "__matmul__": matmul, "__rmatmul__": _reflected(matmul),
    "__neg__": neg, "__getitem__": getitem,
    "exp": exp, "log": log, "sqrt": sqrt, "abs": abs, "clip": clip,
    "sum": sum, "mean": mean, "max": max, "min": min,
    "reshape": reshape, "transpose": transpose, "T": property(transpose),
    "to": _to, "astype": _astype,
    "float": lambda x: _astype(x, _np.float32), "double": lambda x: _astype(x, _np.float64),
}.items():
    setattr(_Tensor, _name, _method)
del _name, _method
