"""NumPy/CuPy choice: devices, array-module lookup, moves between devices.

Nothing else in minigrad imports cupy: code asks ``get_array_module(x)`` for
``xp`` and writes ``xp.exp(...)``, so one op serves both devices.

Also here: ``to_numpy``, the one conversion to NumPy, and ``tune_allocator``,
the one setting minigrad makes for the whole process (opt out with
``MINIGRAD_NO_TUNING=1``).
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


def to_numpy(x):
    """A NumPy array of x: a NumPy or CuPy array, a Tensor, a scalar or a list (copied only off the GPU)."""
    if isinstance(x, np.ndarray):
        return x
    if _gpu_module is not None and isinstance(x, _gpu_module.ndarray):
        return _gpu_module.asnumpy(x)
    if hasattr(x, "__cuda_array_interface__"):  # a CuPy array made before minigrad looked CuPy up
        return gpu_module().asnumpy(x)
    data = getattr(x, "data", None)  # a Tensor holds its array in .data (a NumPy scalar's .data is a buffer)
    if isinstance(data, np.ndarray) or (_gpu_module is not None and isinstance(data, _gpu_module.ndarray)):
        return to_numpy(data)
    return np.asarray(x)


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


_allocator_tuned = False


def tune_allocator():
    """Keep freed memory in the process instead of giving it back to the OS (glibc only; once per process).

    A training step frees and re-allocates the same large arrays every time.
    With glibc's defaults each of them is mmap'ed, returned to the OS on free
    and faults back in page by page on the next step: tens of thousands of
    page faults per step (see benchmarks/bench.py's faults per step). Raising
    glibc's mmap and trim thresholds keeps those blocks in the heap for reuse.

    This changes the whole process's allocator, so it is not done at import:
    minigrad calls it the first time a graph is walked (backpropagate), and
    calling it again does nothing. Set ``MINIGRAD_NO_TUNING=1`` to leave the
    allocator alone. Returns whether the thresholds were set.
    """
    global _allocator_tuned
    if _allocator_tuned:
        return False
    _allocator_tuned = True
    if os.environ.get("MINIGRAD_NO_TUNING", "") not in ("", "0"):
        return False
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c")).mallopt
    except (OSError, AttributeError, TypeError):  # not glibc: nothing to tune
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    mallopt(m_mmap_threshold, 32 << 20)  # glibc's ceiling for this threshold on 64-bit
    mallopt(m_trim_threshold, 1 << 30)
    return True
