"""NumPy/CuPy choice: devices, array-module lookup, moves between devices.

Nothing else in minigrad imports cupy: code asks ``get_array_module(x)`` for
``xp`` and writes ``xp.exp(...)``, so one op serves both devices.
"""
import ctypes
import ctypes.util
import os

import numpy as np

DEVICES = ("cpu", "cuda")


class DeviceError(RuntimeError):
    """A device was asked for that this machine cannot give."""


_gpu_module = None      # cupy, or a stand-in installed by the tests
_gpu_problem = None     # why 'cuda' is unavailable, once we know


def _load_gpu_module():
    """Import CuPy once; remember why it failed so every error can say so."""
    global _gpu_module, _gpu_problem
    if _gpu_module is not None or _gpu_problem is not None:
        return _gpu_module
    try:
        import cupy
    except ImportError as exc:
        _gpu_problem = (f"cuda is unavailable: CuPy is not installed ({exc}). "
                        "Install it with: pip install 'minigrad[gpu]'")
        return None
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # CuPy raises its own CUDARuntimeError without a driver
        count, detail = 0, f" ({exc})"
    else:
        detail = ""
    if count == 0:
        _gpu_problem = f"cuda is unavailable: CuPy is installed but no CUDA device was found{detail}"
        return None
    _gpu_module = cupy
    return cupy


def use_gpu_module(module):
    """Install ``module`` as the 'cuda' array module (None restores CuPy lookup).

    The test suite installs a strict NumPy-backed stand-in through this so the
    device plumbing is exercised on machines without a GPU.
    """
    global _gpu_module, _gpu_problem
    _gpu_module, _gpu_problem = module, None


def is_cuda_available():
    return _load_gpu_module() is not None


def gpu_module():
    """The CUDA array module, or a DeviceError saying why there is none."""
    module = _load_gpu_module()
    if module is None:
        raise DeviceError(_gpu_problem)
    return module


def get_array_module(x):
    """numpy or cupy, whichever owns ``x`` (a Tensor, an array or a scalar)."""
    if _gpu_module is None:
        return np
    # a CuPy array has a .data of its own (a memory pointer), so test the array before looking inside a Tensor
    if isinstance(x, _gpu_module.ndarray) or isinstance(getattr(x, "data", None), _gpu_module.ndarray):
        return _gpu_module
    return np


def device_of(array):
    return "cpu" if get_array_module(array) is np else "cuda"


def check_device(device):
    if device not in DEVICES:
        raise ValueError(f"unknown device {device!r}: expected 'cpu' or 'cuda'")
    if device == "cuda":
        gpu_module()
    return device


def array_module(device):
    return np if check_device(device) == "cpu" else gpu_module()


def to_numpy(array):
    if isinstance(array, np.ndarray) or np.isscalar(array):
        return np.asarray(array)
    return gpu_module().asnumpy(array)


def to_device(array, device):
    """Move an array to 'cpu' or 'cuda' (no copy when it is already there)."""
    if device_of(array) == check_device(device):
        return array
    if device == "cpu":
        return to_numpy(array)
    return gpu_module().asarray(array)


def scatter_add(target, index, values):
    """target[index] += values, adding repeated indices (np.add.at on both devices)."""
    xp = get_array_module(target)
    if xp is np:
        np.add.at(target, index, values)
    else:
        xp.add.at(target, index, values)
    return target


_default_device = None


def get_default_device():
    global _default_device
    if _default_device is None:
        _default_device = check_device(os.environ.get("MINIGRAD_DEVICE", "cpu"))
    return _default_device


def set_default_device(device):
    global _default_device
    _default_device = check_device(device)


def _keep_freed_memory_in_process():
    """Stop glibc returning big buffers to the OS on every free.

    Each training step frees and re-allocates the same large arrays; with
    glibc's defaults every one comes back as fresh pages that fault in again
    (tens of thousands of page faults per step). Raising the mmap and trim
    thresholds keeps those blocks in the heap for reuse.
    """
    if os.environ.get("MINIGRAD_KEEP_MALLOC"):
        return
    path = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(path)
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):  # not glibc: nothing to tune
        return
    m_trim_threshold, m_mmap_threshold = -1, -3
    mallopt(m_mmap_threshold, 32 << 20)  # glibc's ceiling for this threshold on 64-bit
    mallopt(m_trim_threshold, 1 << 30)


_keep_freed_memory_in_process()
