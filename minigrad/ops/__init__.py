"""The ops, one file per family. Each op is a Function with forward and backward side by side."""
from .activation import dropout, leaky_relu, log_softmax, relu, sigmoid, softmax, softplus, tanh
from .conv import conv2d, conv_transpose2d
from .elementwise import abs, add, clip, cos, div, exp, log, maximum, minimum, mul, neg, pow, sin, sqrt, sub, where
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


# NumPy meets a Tensor: `ndarray * t` arrives as np.multiply(ndarray, t) and runs t's reflected operator, so it
# gives a Tensor; any other NumPy function is refused, naming minigrad's spelling (NumPy records no graph).
_REFLECTED = {_np.add: "__radd__", _np.subtract: "__rsub__", _np.multiply: "__rmul__", _np.divide: "__rtruediv__",
              _np.power: "__rpow__", _np.matmul: "__rmatmul__", _np.less: "__gt__", _np.less_equal: "__ge__",
              _np.greater: "__lt__", _np.greater_equal: "__le__"}
_OPERATOR_SPELLING = {"add": "a + b", "subtract": "a - b", "multiply": "a * b", "divide": "a / b",
                      "power": "t ** p", "matmul": "a @ b", "negative": "-t"}
_MINIGRAD_NAME = {"absolute": "abs", "amax": "max", "amin": "min"}


def _array_ufunc(tensor, ufunc, method, *inputs, **kwargs):
    if ufunc in (_np.equal, _np.not_equal):  # `ndarray == t` is identity, as == is between tensors: False
        return ufunc is _np.not_equal
    reflected = _REFLECTED.get(ufunc)
    if reflected and method == "__call__" and not kwargs and len(inputs) == 2 and inputs[1] is tensor:
        return getattr(tensor, reflected)(inputs[0])
    raise _refused_by_numpy(ufunc.__name__)


def _array_function(tensor, function, types, args, kwargs):
    raise _refused_by_numpy(function.__name__)


def _refused_by_numpy(numpy_name):
    name = _MINIGRAD_NAME.get(numpy_name, numpy_name)
    if numpy_name in _OPERATOR_SPELLING:
        spelling = _OPERATOR_SPELLING[numpy_name]
    elif hasattr(_Tensor, name):
        spelling = f"t.{name}() or F.{name}(t)" if name in globals() else f"t.{name}()"
    elif name in globals() and not name.startswith("_"):  # the ops imported above: F's names
        spelling = f"F.{name}(t)"
    else:
        return TypeError(f"np.{numpy_name} got a minigrad Tensor, and minigrad has no {name}: write it with "
                         "minigrad's ops to get its gradient, or use t.numpy() for the values")
    return TypeError(f"np.{numpy_name} got a minigrad Tensor, and NumPy records nothing for backward: write "
                     f"{spelling} (t.numpy() gives the values as a NumPy array)")


for _name, _method in {
    "__add__": add, "__radd__": _reflected(add), "__sub__": sub, "__rsub__": _reflected(sub),
    "__mul__": mul, "__rmul__": _reflected(mul), "__truediv__": div, "__rtruediv__": _reflected(div),
    "__pow__": pow, "__rpow__": _reflected(pow), "__matmul__": matmul, "__rmatmul__": _reflected(matmul),
    "__neg__": neg, "__getitem__": getitem,
    "exp": exp, "log": log, "sqrt": sqrt, "abs": abs, "clip": clip, "sin": sin, "cos": cos,
    "sum": sum, "mean": mean, "max": max, "min": min,
    "reshape": reshape, "transpose": transpose, "T": property(transpose),
    "to": _to, "astype": _astype,
    "float": lambda x: _astype(x, _np.float32), "double": lambda x: _astype(x, _np.float64),
    "__array_ufunc__": _array_ufunc, "__array_function__": _array_function,
}.items():
    setattr(_Tensor, _name, _method)
del _name, _method
