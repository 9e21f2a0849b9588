"""Arithmetic and elementwise math. Broadcasting follows NumPy; each backward
sums its gradient back to its input's shape (``sum_to``)."""
import numpy as np

from .. import backend
from ..autograd import Function, Tensor
from .shape import sum_to


def constant_like(value, like, op):
    """``value`` as a gradient-free Tensor in ``like``'s dtype and device, for the op named ``op``.

    PyTorch's rule: Python and NumPy scalars (and lists, and integer arrays)
    adopt the tensor's float dtype; a float array of another float dtype is
    refused, as two tensors would be: a float64 array would turn a float32
    graph into float64.
    """
    if isinstance(value, Tensor):
        return value
    if getattr(value, "ndim", 0) and value.dtype.kind == "f" and like.dtype.kind == "f" and value.dtype != like.dtype:
        raise TypeError(f"{op}: a {value.dtype} array with a {like.dtype} tensor; minigrad never mixes float dtypes. "
                        f"Convert the array first: array.astype(np.{like.dtype})")
    xp = backend.get_array_module(like.data)
    dtype = like.dtype if like.dtype.kind == "f" else None
    if isinstance(value, np.ndarray) and xp is not np:
        value = backend.to_device(value, "cuda")
    return Tensor(xp.asarray(value, dtype=dtype))


def tensor_pair(op, a, b):
    """Both operands as Tensors, checked to broadcast before anything is computed."""
    if not isinstance(a, Tensor):
        a = constant_like(a, b, op)
    elif not isinstance(b, Tensor):
        b = constant_like(b, a, op)
    if a.shape != b.shape and a.ndim and b.ndim:  # a 0-d operand broadcasts against anything
        try:
            np.broadcast_shapes(a.shape, b.shape)
        except ValueError:
            raise ValueError(f"{op}: shapes {a.shape} and {b.shape} cannot be broadcast together") from None
    return a, b


class Add(Function):
    # d(a + b) = da + db
    def forward(self, a, b):
        return a + b

    def backward(self, gy):
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        return (sum_to(gy, a.shape) if need_a else None,
                sum_to(gy, b.shape) if need_b else None)


def add(a, b):
    return Add()(*tensor_pair("add", a, b))


class Sub(Function):
    # d(a - b) = da - db
    def forward(self, a, b):
        return a - b

    def backward(self, gy):
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        return (sum_to(gy, a.shape) if need_a else None,
                sum_to(-gy, b.shape) if need_b else None)


def sub(a, b):
    return Sub()(*tensor_pair("sub", a, b))


class Mul(Function):
    # d(a * b) = b da + a db
    def forward(self, a, b):
        return a * b

    def backward(self, gy):
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        return (sum_to(gy * b, a.shape) if need_a else None,
                sum_to(gy * a, b.shape) if need_b else None)


def mul(a, b):
    return Mul()(*tensor_pair("mul", a, b))


class Div(Function):
    # d(a / b) = da / b - a db / b^2
    def forward(self, a, b):
        return a / b

    def backward(self, gy):
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        ga = gy / b
        return (sum_to(ga, a.shape) if need_a else None,
                sum_to(-ga * a / b, b.shape) if need_b else None)


def div(a, b):
    return Div()(*tensor_pair("div", a, b))


class Neg(Function):
    # d/dx (-x) = -1
    def forward(self, x):
        return -x

    def backward(self, gy):
        return -gy


def neg(x):
    return Neg()(x)


class PowScalar(Function):
    # d/dx x^c = c x^(c-1)
    def __init__(self, exponent):
        self.exponent = exponent

    def forward(self, x):
        return x ** self.exponent

    def backward(self, gy):
        x, c = self.inputs[0], self.exponent
        if c == 0:  # x^0 = 1 is flat; c x^(c-1) would be 0 * inf = nan at x = 0
            return gy * constant_like(0, gy, "pow")
        return gy * (c * x ** (c - 1))


class Pow(Function):
    # d(a^b) = b a^(b-1) da + a^b log(a) db
    def forward(self, a, b):
        return a ** b

    def backward(self, gy):
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        return (sum_to(gy * b * a ** (b - 1), a.shape) if need_a else None,
                sum_to(gy * self.output * log(a), b.shape) if need_b else None)


def pow(base, exponent):
    """base ** exponent; a Python number as the exponent is a constant (PowScalar), a Tensor one is differentiated."""
    if isinstance(base, Tensor) and isinstance(exponent, (int, float)) and not isinstance(exponent, bool):
        return PowScalar(exponent)(base)
    return Pow()(*tensor_pair("pow", base, exponent))


class Exp(Function):
    # d/dx e^x = e^x
    def forward(self, x):
        return backend.get_array_module(x).exp(x)

    def backward(self, gy):
        return gy * self.output


def exp(x):
    return Exp()(x)


class Log(Function):
    # d/dx log x = 1 / x
    def forward(self, x):
        return backend.get_array_module(x).log(x)

    def backward(self, gy):
        return gy / self.inputs[0]


def log(x):
    return Log()(x)


class Sin(Function):
    # d/dx sin x = cos x
    def forward(self, x):
        return backend.get_array_module(x).sin(x)

    def backward(self, gy):
        return gy * cos(self.inputs[0])


def sin(x):
    return Sin()(x)


class Cos(Function):
    # d/dx cos x = -sin x
    def forward(self, x):
        return backend.get_array_module(x).cos(x)

    def backward(self, gy):
        return gy * -sin(self.inputs[0])


def cos(x):
    return Cos()(x)


class Sqrt(Function):
    # d/dx sqrt(x) = 1 / (2 sqrt(x))
    def forward(self, x):
        return backend.get_array_module(x).sqrt(x)

    def backward(self, gy):
        return gy / (2 * self.output)


def sqrt(x):
    return Sqrt()(x)


class Abs(Function):
    # d/dx |x| = sign(x)  (0 at the kink, as PyTorch)
    def forward(self, x):
        return backend.get_array_module(x).abs(x)

    def backward(self, gy):
        x = self.inputs[0].data
        return gy * Tensor(backend.get_array_module(x).sign(x))


def abs(x):
    return Abs()(x)


class Clip(Function):
    # d/dx clip(x, lo, hi) = 1 inside [lo, hi], 0 outside
    def __init__(self, low, high):
        self.low, self.high = low, high

    def forward(self, x):
        return backend.get_array_module(x).clip(x, self.low, self.high)

    def backward(self, gy):
        x = self.inputs[0].data
        low = -np.inf if self.low is None else self.low
        high = np.inf if self.high is None else self.high
        return gy * Tensor((x >= low) & (x <= high))


def clip(x, min=None, max=None):
    if min is None and max is None:
        raise ValueError("clip: give min, max or both")
    if min is not None and max is not None and min > max:
        raise ValueError(f"clip: min {min} is larger than max {max}")
    return Clip(min, max)(x)


def _split_by_winner(fn, gy, a, b, a_wins):
    share_a = a_wins + 0.5 * (a.data == b.data)
    share_a = Tensor(share_a.astype(gy.dtype, copy=False))
    need_a, need_b = fn.needs_input_grad
    return (sum_to(gy * share_a, a.shape) if need_a else None,
            sum_to(gy * (1 - share_a), b.shape) if need_b else None)


class Maximum(Function):
    # d max(a, b) goes to the larger input; a tie splits it in half (as PyTorch)
    def forward(self, a, b):
        return backend.get_array_module(a).maximum(a, b)

    def backward(self, gy):
        a, b = self.inputs
        return _split_by_winner(self, gy, a, b, a.data > b.data)


def maximum(a, b):
    return Maximum()(*tensor_pair("maximum", a, b))


class Minimum(Function):
    # d min(a, b) goes to the smaller input; a tie splits it in half
    def forward(self, a, b):
        return backend.get_array_module(a).minimum(a, b)

    def backward(self, gy):
        a, b = self.inputs
        return _split_by_winner(self, gy, a, b, a.data < b.data)


def minimum(a, b):
    return Minimum()(*tensor_pair("minimum", a, b))


class Where(Function):
    # d where(c, a, b) = c ? da : db  (the condition c is a constant mask)
    def forward(self, condition, a, b):
        return backend.get_array_module(a).where(condition, a, b)

    def backward(self, gy):
        condition, a, b = self.inputs
        _, need_a, need_b = self.needs_input_grad
        zero = constant_like(0, gy, "where")
        return (None,
                sum_to(where(condition, gy, zero), a.shape) if need_a else None,
                sum_to(where(condition, zero, gy), b.shape) if need_b else None)


def where(condition, a, b):
    """Elementwise ``condition ? a : b``; the condition carries no gradient.

    A condition Tensor must be on the values' device; a raw mask (list or
    array) is moved there, as an index array is.
    """
    a, b = tensor_pair("where", a, b)
    if not isinstance(condition, Tensor):
        condition = Tensor(backend.to_device(backend.get_array_module(condition).asarray(condition), a.device))
    return Where()(condition, a, b)


class Cast(Function):
    # d/dx cast(x) = 1: the gradient is cast back to x's dtype
    def __init__(self, dtype):
        self.dtype = dtype

    def forward(self, x):
        return x.astype(self.dtype)

    def backward(self, gy):
        return gy.astype(self.inputs[0].dtype)
