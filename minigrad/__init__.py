"""minigrad: a readable autograd engine on NumPy (CPU) and CuPy (CUDA).

    import minigrad as mg
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    x.grad  # tensor([2., 4.])
"""
__version__ = "0.2.0"

from . import backend, functional, nn, ops
from .autograd import (Function, Tensor, detect_anomaly, enable_grad, float32, float64, grad, is_grad_enabled,
                       no_grad)
from .backend import DeviceError, get_array_module, is_cuda_available, set_default_device
from .creation import ones, ones_like, rand, randn, tensor, zeros, zeros_like
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .ops import concatenate, stack, where, maximum, minimum
from .io import load, save
from .kernels.parallel import get_num_threads, set_num_threads
from .rng import get_rng_state, manual_seed, set_rng_state
