"""Ops that move values around without arithmetic: reshape, transpose,
indexing, broadcasting, concatenation, device moves."""
import numpy as np

from .. import backend
from ..autograd import Function, Tensor
from ..creation import normalize_shape


class Reshape(Function):
    # the gradient of a reshape is reshaped back to x's shape
    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        return x.reshape(self.shape)

    def backward(self, gy):
        return reshape(gy, self.inputs[0].shape)


def reshape(x, *shape):
    shape = normalize_shape(shape)
    if shape == x.shape:
        return x
    known = int(np.prod([n for n in shape if n != -1]))
    free = shape.count(-1)
    fits = (known == x.size) if free == 0 else (free == 1 and known > 0 and x.size % known == 0)
    if not fits or any(n < -1 for n in shape):
        raise ValueError(f"reshape: cannot reshape a tensor of shape {x.shape} ({x.size} elements) into {shape}")
    return Reshape(shape)(x)


class Transpose(Function):
    # the gradient of a transpose is transposed back by the inverse permutation
    def __init__(self, axes):
        self.axes = axes

    def forward(self, x):
        return x.transpose(self.axes)

    def backward(self, gy):
        return transpose(gy, tuple(np.argsort(self.axes)))


def transpose(x, *axes):
    axes = normalize_shape(axes)
    if not axes:  # reverse them all (x.T): nothing to check
        return Transpose(tuple(reversed(range(x.ndim))))(x)
    if sorted(a % x.ndim for a in axes) != list(range(x.ndim)) or len(axes) != x.ndim:
        raise ValueError(f"transpose: axes {axes} are not a permutation of the {x.ndim} axes of shape {x.shape}")
    return Transpose(tuple(a % x.ndim for a in axes))(x)


def _is_basic_index(index):
    """Slices, ints, None and Ellipsis only: every element is picked at most once."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (slice, int, np.integer)) for p in parts)


class GetItem(Function):
    # d x[i] / dx scatters the gradient back to position i (summing repeats)
    def __init__(self, index):
        self.index = index

    def forward(self, x):
        return x[self.index]

    def backward(self, gy):
        return ScatterAdd(self.index, self.inputs[0].shape)(gy)


def getitem(x, index):
    if isinstance(index, Tensor):
        index = index.data
    elif isinstance(index, tuple):
        index = tuple(i.data if isinstance(i, Tensor) else i for i in index)
    elif isinstance(index, list):
        index = np.asarray(index)
    if backend.get_array_module(x.data) is not np:
        index = _index_to_device(index)
    return GetItem(index)(x)


def _index_to_device(index):
    parts = index if isinstance(index, tuple) else (index,)
    moved = tuple(backend.to_device(p, "cuda") if isinstance(p, np.ndarray) else p for p in parts)
    return moved if isinstance(index, tuple) else moved[0]


class ScatterAdd(Function):
    # zeros(shape)[i] += g ; its own gradient is a plain gather, g[i]
    def __init__(self, index, shape):
        self.index, self.shape = index, shape

    def forward(self, gy):
        out = backend.get_array_module(gy).zeros(self.shape, dtype=gy.dtype)
        if _is_basic_index(self.index):
            out[self.index] = gy
        else:
            backend.scatter_add(out, self.index, gy)
        return out

    def backward(self, ggx):
        return getitem(ggx, self.index)


class BroadcastTo(Function):
    # the gradient of a broadcast is the sum over the broadcast axes
    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        return backend.get_array_module(x).broadcast_to(x, self.shape)

    def backward(self, gy):
        return sum_to(gy, self.inputs[0].shape)


def broadcast_to(x, shape):
    shape = tuple(shape)
    return x if x.shape == shape else BroadcastTo(shape)(x)


def _sum_to_array(x, shape):
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and x.shape[lead + i] != 1)
    out = x.sum(axis=axes, keepdims=True) if axes else x
    return out.reshape(shape) if lead else out


class SumTo(Function):
    # sums over the axes that broadcasting added; its gradient broadcasts back
    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        return _sum_to_array(x, self.shape)

    def backward(self, gy):
        return broadcast_to(gy, self.inputs[0].shape)


def sum_to(x, shape):
    """Sum x down to ``shape`` (the inverse of broadcasting)."""
    shape = tuple(shape)
    return x if x.shape == shape else SumTo(shape)(x)


class Concatenate(Function):
    # each input's gradient is its slice of the output's gradient
    def __init__(self, axis):
        self.axis = axis

    def forward(self, *arrays):
        return backend.get_array_module(arrays[0]).concatenate(arrays, axis=self.axis)

    def backward(self, gy):
        grads, start = [], 0
        for inp, needed in zip(self.inputs, self.needs_input_grad):
            stop = start + inp.shape[self.axis]
            index = (slice(None),) * (self.axis % gy.ndim) + (slice(start, stop),)
            grads.append(getitem(gy, index) if needed else None)
            start = stop
        return tuple(grads)


def concatenate(tensors, axis=0):
    tensors = list(tensors)
    if not tensors:
        raise ValueError("concatenate: needs at least one tensor")
    first = tensors[0]
    for i, t in enumerate(tensors[1:], 1):
        if t.ndim != first.ndim or any(a != b for d, (a, b) in enumerate(zip(t.shape, first.shape))
                                       if d != axis % first.ndim):
            raise ValueError(f"concatenate: tensor {i} has shape {t.shape}, which does not match {first.shape} "
                             f"outside axis {axis}")
    return Concatenate(axis % first.ndim)(*tensors)


def stack(tensors, axis=0):
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack: needs at least one tensor")
    for i, t in enumerate(tensors[1:], 1):
        if t.shape != tensors[0].shape:
            raise ValueError(f"stack: tensor {i} has shape {t.shape}, expected {tensors[0].shape}")
    axis = axis % (tensors[0].ndim + 1)
    expanded = [reshape(t, t.shape[:axis] + (1,) + t.shape[axis:]) for t in tensors]
    return concatenate(expanded, axis)


class ToDevice(Function):
    # the gradient goes back to the device x came from
    def __init__(self, device):
        self.device = device

    def forward(self, x):
        self.source = backend.device_of(x)
        return backend.to_device(x, self.device)

    def backward(self, gy):
        return gy.to(self.source)
