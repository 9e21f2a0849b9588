"""Making tensors: from data, filled, or random (minigrad's seeded generator)."""
import numpy as np

from . import backend, rng
from .autograd import Tensor


def _resolve_dtype(dtype):
    return np.dtype(np.float32 if dtype is None else dtype)


def _resolve_device(device):
    return backend.get_default_device() if device is None else backend.check_device(device)


def tensor(data, requires_grad=False, dtype=None, device=None):
    """A new leaf Tensor (always a copy).

    NumPy/CuPy arrays keep their dtype (float64 stays float64) and device;
    Python lists and scalars become float32 on the default device. ``dtype``
    takes a NumPy dtype or mg.float32 / mg.float64.
    """
    if isinstance(data, Tensor):
        data = data.data
    is_array = isinstance(data, np.ndarray) or backend.get_array_module(data) is not np
    if device is None:
        device = backend.device_of(data) if is_array else backend.get_default_device()
    if not is_array:
        data = np.asarray(data)
        if dtype is None and data.dtype.kind in "iuf":
            dtype = np.float32
    array = backend.to_device(data, backend.check_device(device))
    xp = backend.get_array_module(array)
    return Tensor(xp.array(array, dtype=dtype, copy=True), requires_grad=requires_grad)


def normalize_shape(shape):
    """The tuple meant by ``*shape`` arguments: f(2, 3) and f((2, 3)) both give (2, 3) (zeros, reshape, ...)."""
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else tuple(shape)


def zeros(*shape, dtype=None, device=None, requires_grad=False):
    xp = backend.array_module(_resolve_device(device))
    return Tensor(xp.zeros(normalize_shape(shape), dtype=_resolve_dtype(dtype)), requires_grad=requires_grad)


def ones(*shape, dtype=None, device=None, requires_grad=False):
    xp = backend.array_module(_resolve_device(device))
    return Tensor(xp.ones(normalize_shape(shape), dtype=_resolve_dtype(dtype)), requires_grad=requires_grad)


def zeros_like(t, requires_grad=False):
    return zeros(t.shape, dtype=t.dtype, device=t.device, requires_grad=requires_grad)


def ones_like(t, requires_grad=False):
    return ones(t.shape, dtype=t.dtype, device=t.device, requires_grad=requires_grad)


def randn(*shape, dtype=None, device=None, requires_grad=False):
    """Standard normal samples from minigrad's generator (seed it with mg.manual_seed)."""
    data = rng.normal(normalize_shape(shape), dtype=_resolve_dtype(dtype), device=_resolve_device(device))
    return Tensor(data, requires_grad=requires_grad)


def rand(*shape, dtype=None, device=None, requires_grad=False):
    """Uniform samples in [0, 1) from minigrad's generator."""
    data = rng.uniform(normalize_shape(shape), dtype=_resolve_dtype(dtype), device=_resolve_device(device))
    return Tensor(data, requires_grad=requires_grad)
