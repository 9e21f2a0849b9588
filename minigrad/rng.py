"""minigrad's random numbers: one seeded generator for initialisers, dropout
masks and sampling, so a seed makes a run repeatable and a checkpoint can
carry the generator's exact state.

Values are drawn on the CPU and moved, so a seed gives the same numbers on
'cpu' and 'cuda'.
"""
import numpy as np

from . import backend

_generator = np.random.default_rng()


def manual_seed(seed):
    """Seed minigrad's generator (initialisers, dropout, randn/rand)."""
    global _generator
    _generator = np.random.default_rng(seed)


def get_rng_state():
    """The generator's state as a JSON-serialisable dict."""
    return _generator.bit_generator.state


def set_rng_state(state):
    _generator.bit_generator.state = state


def normal(shape, dtype=np.float32, device="cpu", std=1.0, mean=0.0):
    values = _generator.standard_normal(shape, dtype=np.float32 if np.dtype(dtype) == np.float32 else np.float64)
    if std != 1.0 or mean != 0.0:
        values *= std
        values += mean
    return backend.to_device(values.astype(dtype, copy=False), device)


def uniform(shape, dtype=np.float32, device="cpu", low=0.0, high=1.0):
    values = _generator.random(shape, dtype=np.float32 if np.dtype(dtype) == np.float32 else np.float64)
    if low != 0.0 or high != 1.0:
        values *= high - low
        values += low
    return backend.to_device(values.astype(dtype, copy=False), device)
