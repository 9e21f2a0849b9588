"""minigrad.kernels.optim: each in-place optimizer kernel against the plain formula beside it, on drawn
shapes, dtypes, scales and hyper-parameters, on the CPU and on 'cuda' (the strict stand-in, or a real GPU)."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from minigrad.kernels import optim as kernels

DTYPES = [np.float32, np.float64]
# marked cuda by hand: the gpu fixture is asked for inside the test, where the automatic marking cannot see it
on_both_devices = pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=pytest.mark.cuda)])
# the gpu fixture is the same module for every example
kernel_settings = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


def array_module(device, request):
    return request.getfixturevalue("gpu") if device == "cuda" else np


@st.composite
def tensors(draw, count):
    """``count`` arrays of one drawn shape and dtype: normal values times a drawn scale (tiny to huge for the
    dtype), a few exact zeros among them."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=9))
    dtype = draw(st.sampled_from(DTYPES))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    # squares and their averages stay normal numbers (a subnormal one has too few bits to compare roundings)
    decades = (-8, 15) if dtype == np.float32 else (-100, 100)
    arrays = []
    for _ in range(count):
        scale = 10.0 ** draw(st.integers(*decades))
        values = rng.standard_normal(shape) * scale * (rng.uniform(size=shape) > 0.1)
        arrays.append(values.astype(dtype))
    return arrays


def to_device(xp, arrays):
    """Copies on the device: the kernels update in place, and the drawn arrays must stay as they were."""
    return [None if a is None else xp.asarray(a.copy()) for a in arrays]


def to_numpy(xp, arrays):
    return [None if a is None else (a if xp is np else xp.asnumpy(a)) for a in arrays]


# --- Adam -----------------------------------------------------------------------

adam_hyper = st.fixed_dictionaries({
    "step": st.integers(1, 100_000),
    "lr": st.floats(1e-6, 1.0),
    "betas": st.tuples(st.just(0.0) | st.floats(1e-3, 0.999), st.just(0.0) | st.floats(1e-3, 0.99999)),
    "eps": st.floats(1e-12, 1e-3),
})


@on_both_devices
@kernel_settings
@given(arrays=tensors(4), hyper=adam_hyper)
def test_adam_update_is_its_formula(device, request, arrays, hyper):
    xp = array_module(device, request)
    param, grad, exp_avg, exp_avg_sq = arrays
    exp_avg_sq = exp_avg_sq * exp_avg_sq   # a second moment is never negative
    expected = to_numpy(xp, kernels.adam_update_reference(*to_device(xp, [param, grad, exp_avg, exp_avg_sq]),
                                                           **hyper))

    fused = to_device(xp, [param, grad, exp_avg, exp_avg_sq])
    assert kernels.adam_update(*fused, **hyper) is None
    new_param, _, new_exp_avg, new_exp_avg_sq = to_numpy(xp, fused)
    assert new_param.dtype == param.dtype
    # the moving averages are the formula's operations in the formula's order: equal to the last bit
    np.testing.assert_array_equal(new_exp_avg, expected[1])
    np.testing.assert_array_equal(new_exp_avg_sq, expected[2])
    # the step folds the bias corrections into two scalars: equal up to a few roundings of the step's size
    step = np.abs(expected[0].astype(np.float64) - param)
    resolution = np.finfo(param.dtype).eps
    bound = 16 * resolution * step + resolution * np.abs(param) + np.finfo(param.dtype).tiny
    assert np.all(np.abs(new_param.astype(np.float64) - expected[0]) <= bound)


def test_adam_update_moves_by_lr_on_the_first_step():
    # step 1: m_hat = g, v_hat = g^2, so every weight moves by lr against its gradient's sign (up to eps)
    param, grad = np.zeros(3), np.array([2.0, -0.5, 1e-3])
    kernels.adam_update(param, grad, np.zeros(3), np.zeros(3), step=1, lr=0.1, betas=(0.9, 0.999), eps=1e-12)
    np.testing.assert_allclose(param, [-0.1, 0.1, -0.1], rtol=1e-8)


# --- RMSProp --------------------------------------------------------------------

rmsprop_hyper = st.fixed_dictionaries({
    "lr": st.floats(1e-6, 1.0),
    "rho": st.just(0.0) | st.floats(1e-3, 0.999),
    "eps": st.floats(1e-12, 1e-3),
    "eps_inside_sqrt": st.booleans(),
    "momentum": st.just(0.0) | st.floats(1e-3, 0.99),
})


@on_both_devices
@kernel_settings
@given(arrays=tensors(5), hyper=rmsprop_hyper, centered=st.booleans(), with_momentum=st.booleans())
def test_rmsprop_update_is_its_formula_to_the_last_bit(device, request, arrays, hyper, centered, with_momentum):
    xp = array_module(device, request)
    param, grad, square_avg, grad_avg, momentum_buffer = arrays
    square_avg = square_avg * square_avg
    # centered: |grad_avg| <= sqrt(square_avg), as every run that starts from zero keeps it (variance >= 0)
    grad_avg = np.sqrt(square_avg) * np.tanh(grad_avg) if centered else None
    momentum_buffer = momentum_buffer if with_momentum else None
    inputs = [param, grad, square_avg, grad_avg, momentum_buffer]

    def call(kernel, arrays):
        param, grad, square_avg, grad_avg, momentum_buffer = arrays
        return kernel(param, grad, square_avg, grad_avg=grad_avg, momentum_buffer=momentum_buffer, **hyper)

    expected = to_numpy(xp, call(kernels.rmsprop_update_reference, to_device(xp, inputs)))
    fused = to_device(xp, inputs)
    assert call(kernels.rmsprop_update, fused) is None
    fused = to_numpy(xp, fused)
    assert fused[0].dtype == param.dtype
    for name, got, want in zip(("param", "square_avg", "grad_avg", "momentum_buffer"),
                               [fused[0], *fused[2:]], expected):
        if want is None:
            assert got is None, name
        else:
            np.testing.assert_array_equal(got, want, err_msg=name)


def test_rmsprop_update_with_eps_inside_the_root_differs_while_the_accumulator_is_small():
    def first_step(eps_inside_sqrt):
        param = np.zeros(2)
        kernels.rmsprop_update(param, np.array([1e-4, -1e-4]), np.zeros(2), lr=1.0, rho=0.9, eps=1e-7,
                               eps_inside_sqrt=eps_inside_sqrt)
        return param
    # s = 0.1 * 1e-8: sqrt(s) + eps = 3.17e-5 against sqrt(s + eps) = 3.18e-4, ten times larger
    np.testing.assert_allclose(first_step(False), [-3.152, 3.152], rtol=1e-3)
    np.testing.assert_allclose(first_step(True), [-0.3147, 0.3147], rtol=1e-3)
