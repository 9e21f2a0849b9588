"""minigrad/kernels/batchnorm.py: the fused forward and backward equal the formula term by term, on drawn
shapes (1-D to 4-D per sample, NCHW and batch-innermost memory), float32 and float64, on both devices."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from minigrad.kernels import batchnorm

drawn = settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
on_both_devices = pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=pytest.mark.cuda)])


def device_module(device, request):
    """numpy, or the 'cuda' array module: the strict stand-in, or CuPy under MINIGRAD_TEST_CUDA=cupy."""
    return np if device == "cpu" else request.getfixturevalue("gpu")


@st.composite
def cases(draw):
    """x (N, C, *S) with at least two values per channel, gy, weight, bias; x and gy NCHW or channel-major."""
    n, c = draw(st.integers(1, 5)), draw(st.integers(1, 4))
    spatial = tuple(draw(st.lists(st.integers(1, 4), max_size=2)))
    if n * int(np.prod(spatial)) < 2:
        n = 2
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    rs = np.random.default_rng(draw(st.integers(0, 2 ** 16)))
    shift, spread = draw(st.sampled_from([0.0, 3.0, -100.0])), draw(st.sampled_from([1e-2, 1.0, 30.0]))
    shape = (n, c) + spatial
    arrays = dict(x=shift + spread * rs.standard_normal(shape), gy=rs.standard_normal(shape),
                  weight=rs.uniform(-2, 2, c), bias=rs.uniform(-1, 1, c))
    layouts = dict(x=draw(st.booleans()), gy=draw(st.booleans()))
    return {k: v.astype(dtype) for k, v in arrays.items()}, layouts


def on_device(xp, a, channel_major=False):
    """The array on the device; channel_major gives the (N, C, *S) view of (C, *S, N) memory."""
    if channel_major and a.ndim > 1:
        order = (1,) + tuple(range(2, a.ndim)) + (0,)
        back = (a.ndim - 1,) + tuple(range(a.ndim - 1))
        return xp.asarray(np.ascontiguousarray(a.transpose(order))).transpose(back)
    return xp.asarray(a)


def assert_close(xp, fast, plain, scale=1.0):
    if xp is not np:
        fast, plain = xp.asnumpy(fast), xp.asnumpy(plain)
    assert fast.shape == plain.shape and fast.dtype == plain.dtype
    tol = 2e-4 if fast.dtype == np.float32 else 1e-10  # the two sum in different orders
    np.testing.assert_allclose(fast, plain, rtol=tol, atol=tol * max(np.abs(plain).max(initial=0), scale))


@on_both_devices
@drawn
@given(case=cases())
def test_batch_norm_forward_is_the_formula(device, request, case):
    xp, (arrays, layouts) = device_module(device, request), case
    x = on_device(xp, arrays["x"], layouts["x"])
    w, b = xp.asarray(arrays["weight"]), xp.asarray(arrays["bias"])
    y, mean, var, _ = batchnorm.batch_norm(x, w, b, 1e-5)
    y_ref, mean_ref, var_ref = batchnorm.batch_norm_reference(x, w, b, 1e-5)
    assert_close(xp, y, y_ref)
    assert_close(xp, mean, mean_ref)
    assert_close(xp, var, var_ref, scale=0.0)


@on_both_devices
@drawn
@given(case=cases())
def test_batch_norm_backward_is_the_formula(device, request, case):
    xp, (arrays, layouts) = device_module(device, request), case
    x = on_device(xp, arrays["x"], layouts["x"])
    gy = on_device(xp, arrays["gy"], layouts["gy"])
    w, b = xp.asarray(arrays["weight"]), xp.asarray(arrays["bias"])
    _, _, var, centered = batchnorm.batch_norm(x, w, b, 1e-5)
    fast = batchnorm.batch_norm_backward(gy, centered, var, w, 1e-5)
    plain = batchnorm.batch_norm_backward_reference(gy, x, w, 1e-5)
    for f, p in zip(fast, plain):
        assert_close(xp, f, p)


def test_images_come_out_batch_innermost_as_the_convolutions_read_them():
    x = np.random.default_rng(0).standard_normal((4, 3, 5, 5)).astype(np.float32)
    y = batchnorm.batch_norm(x, np.ones(3, np.float32), np.zeros(3, np.float32), 1e-5)[0]
    assert y.shape == x.shape and y.transpose(1, 2, 3, 0).flags.c_contiguous


def test_the_reference_is_the_textbook_at_a_worked_point():
    """Values worked by hand, so the kernels and the references cannot agree on a shared mistake."""
    x = np.array([[1.0], [3.0]])  # one channel, mean 2, biased var 1
    y, mean, var = batchnorm.batch_norm_reference(x, np.array([2.0]), np.array([0.5]), 0.0)
    np.testing.assert_allclose(y, [[-1.5], [2.5]])
    assert mean[0] == 2.0 and var[0] == 1.0
    gx, gw, gb = batchnorm.batch_norm_backward_reference(np.array([[1.0], [0.0]]), x, np.array([2.0]), 0.0)
    np.testing.assert_allclose(gb, [1.0])
    np.testing.assert_allclose(gw, [-1.0])  # sum(gy * xhat), xhat = (-1, 1)
    np.testing.assert_allclose(gx, [[0.0], [0.0]])  # w/std * (gy - (gb + xhat gw) / 2) = 2 * ((1, 0) - (1, 0))
