"""minigrad/kernels/gemm.py: the product equals a @ b bit for bit on drawn shapes (inner dimension 1 often,
batched too), float32 and float64, on both devices."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from minigrad.kernels import gemm

on_both_devices = pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=pytest.mark.cuda)])


@on_both_devices
@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(m=st.integers(0, 5), k=st.sampled_from([1, 1, 2, 7]), n=st.integers(0, 5),
       batch=st.sampled_from([(), (3,), (2, 1)]), dtype=st.sampled_from([np.float32, np.float64]),
       seed=st.integers(0, 2 ** 16))
def test_matmul_is_a_at_b(device, request, m, k, n, batch, dtype, seed):
    xp = np if device == "cpu" else request.getfixturevalue("gpu")
    rs = np.random.default_rng(seed)
    a = xp.asarray(rs.uniform(-1e3, 1e3, batch + (m, k)).astype(dtype))
    b = xp.asarray(rs.uniform(-1e3, 1e3, (k, n)).astype(dtype))
    fast, plain = gemm.matmul(a, b), gemm.matmul_reference(a, b)
    if xp is not np:
        fast, plain = xp.asnumpy(fast), xp.asnumpy(plain)
    assert fast.shape == plain.shape and fast.dtype == plain.dtype
    np.testing.assert_array_equal(fast, plain)
