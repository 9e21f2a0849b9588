"""minigrad.kernels.activation and minigrad.kernels.loss: each kernel against the plain formula beside it, on
drawn shapes (0-d and empty included), float32 and float64, extreme values, on the CPU and on 'cuda' (the
strict stand-in, or a real GPU): kernel and reference run on the same device and must agree."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from minigrad.kernels import activation, loss

DTYPES = [np.float32, np.float64]
on_both_devices = pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=pytest.mark.cuda)])
kernel_settings = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])  # gpu: one per test
SLOPES = st.one_of(st.sampled_from([0.0, 0.01, 0.2, 1.0, -0.5, 1.5, 2.0]), st.floats(-3, 3))


def array_module(device, request):
    return request.getfixturevalue("gpu") if device == "cuda" else np


def extremes(dtype):
    """Values where a formula breaks first: sigmoid/exp saturation (+-80), huge (+-1e4), zero, the tiniest normal."""
    tiny = float(np.finfo(dtype).tiny)
    return [80.0, -80.0, 1e4, -1e4, 0.0, -0.0, tiny, -tiny]


@st.composite
def arrays(draw, count=1, low=-1e4, high=1e4, special=extremes):
    """``count`` arrays of one drawn shape and dtype, ordinary values mixed with ``special(dtype)``."""
    dtype = draw(st.sampled_from(DTYPES))
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=6))
    width = 32 if dtype == np.float32 else 64
    values = [float(dtype(v)) for v in special(dtype) if low <= v <= high]  # exactly representable in dtype
    elements = st.one_of(st.floats(low, high, width=width), st.sampled_from(values))
    return [draw(hnp.arrays(dtype, shape, elements=elements)) for _ in range(count)]


def run_both(xp, kernel, reference, *args):
    """kernel(*args) and reference(*args) on xp's device, back as NumPy arrays."""
    device_args = [xp.asarray(a) if isinstance(a, np.ndarray) else a for a in args]
    to_numpy = np.asarray if xp is np else xp.asnumpy
    return np.asarray(to_numpy(kernel(*device_args))), np.asarray(to_numpy(reference(*device_args)))


@on_both_devices
@kernel_settings
@given(drawn=arrays(), slope=SLOPES)
def test_leaky_relu_is_where_x_positive_x_else_slope_x(device, request, drawn, slope):
    x, = drawn
    fast, plain = run_both(array_module(device, request), activation.leaky_relu, activation.leaky_relu_reference,
                           x, slope)
    assert fast.dtype == x.dtype and fast.shape == x.shape
    np.testing.assert_array_equal(fast, plain)


@on_both_devices
@kernel_settings
@given(drawn=arrays(), slope=SLOPES)
def test_leaky_relu_derivative_is_one_where_x_positive_else_slope(device, request, drawn, slope):
    x, = drawn
    fast, plain = run_both(array_module(device, request), activation.leaky_relu_derivative,
                           activation.leaky_relu_derivative_reference, x, slope)
    assert fast.dtype == x.dtype and fast.shape == x.shape
    np.testing.assert_array_equal(fast, plain)


def probabilities(dtype):
    """p and t at the ends of [0, 1], where a log is -inf before the clamp or the loss cancels."""
    eps = float(np.finfo(dtype).eps)
    return [0.0, 1.0, 0.5, float(np.finfo(dtype).tiny), 1e-30, eps, 1 - eps, 1 - 1e-7]


@on_both_devices
@kernel_settings
@given(pair=arrays(count=2, low=0.0, high=1.0, special=probabilities))
def test_binary_cross_entropy_is_its_formula_to_the_last_bit(device, request, pair):
    p, t = pair
    fast, plain = run_both(array_module(device, request), loss.binary_cross_entropy,
                           loss.binary_cross_entropy_reference, p, t)
    assert fast.dtype == p.dtype and fast.shape == p.shape
    assert np.isfinite(fast).all()  # the clamp at -100: never inf, even at p = 0 or 1
    np.testing.assert_array_equal(fast, plain)


@on_both_devices
@kernel_settings
@given(drawn=arrays())
def test_sum_of_squares_is_the_sum_of_the_squares(device, request, drawn):
    x, = drawn
    fast, plain = run_both(array_module(device, request), loss.sum_of_squares, loss.sum_of_squares_reference, x)
    assert fast.dtype == x.dtype and fast.shape == ()
    # two summation orders of terms >= 0: they agree to rounding, relative to the total
    np.testing.assert_allclose(fast, plain, rtol=1e-5 if x.dtype == np.float32 else 1e-12, atol=0)


def test_the_kernels_agree_with_the_textbook_at_the_named_points():
    """Spot values worked by hand, so the pair above cannot agree on a shared mistake."""
    x = np.array([-2.0, 0.0, 3.0], dtype=np.float32)
    np.testing.assert_array_equal(activation.leaky_relu(x, 0.5), [-1.0, 0.0, 3.0])
    np.testing.assert_array_equal(activation.leaky_relu(x, 2.0), [-4.0, 0.0, 3.0])
    np.testing.assert_array_equal(activation.leaky_relu_derivative(x, -0.5), [-0.5, -0.5, 1.0])
    np.testing.assert_array_equal(loss.binary_cross_entropy(np.array([0.0, 1.0, 0.5]), np.array([1.0, 1.0, 0.0])),
                                  [100.0, 0.0, np.log(2.0)])
    assert loss.sum_of_squares(x) == 13.0
