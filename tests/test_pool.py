"""F.avg_pool2d and nn.AvgPool2D: float64 gradchecks on drawn geometries, PyTorch parity, the strict GPU
stand-in, and clear errors."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import minigrad as mg
import minigrad.functional as F
from conftest import cuda_tolerance
from minigrad import nn

try:
    import torch
except ImportError:
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed (pip install -e .[parity])")


@st.composite
def geometries(draw):
    """(input shape, kernel_size, stride): kernels and strides as ints or pairs, stride None (= kernel) too,
    overlapping windows (stride < kernel) and skipped pixels (stride > kernel) included."""
    kernel = draw(st.tuples(st.integers(1, 3), st.integers(1, 3)))
    stride = draw(st.one_of(st.none(), st.tuples(st.integers(1, 3), st.integers(1, 3))))
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    h, w = (draw(st.integers(k, k + 4)) for k in kernel)
    as_int = lambda pair: pair[0] if pair is not None and pair[0] == pair[1] else pair  # noqa: E731
    return (n, c, h, w), as_int(kernel), as_int(stride)


def inputs(shape, dtype=np.float64, seed=0):
    return np.random.default_rng(seed).uniform(-2.0, 2.0, shape).astype(dtype)


def test_the_mean_of_each_window():
    x = mg.tensor(np.arange(16.0).reshape(1, 1, 4, 4))
    assert F.avg_pool2d(x, 2).numpy().tolist() == [[[[2.5, 4.5], [10.5, 12.5]]]]
    # 3x3 windows every 1 pixel: four overlapping windows
    assert F.avg_pool2d(x, 3, stride=1).numpy().tolist() == [[[[5.0, 6.0], [9.0, 10.0]]]]


def test_rows_and_columns_no_window_reaches_get_no_gradient():
    x = mg.tensor(np.ones((1, 1, 5, 5)), requires_grad=True)
    F.avg_pool2d(x, 2).sum().backward()
    grad = x.grad.numpy()[0, 0]
    assert (grad[:4, :4] == 0.25).all() and (grad[4] == 0).all() and (grad[:, 4] == 0).all()


@settings(max_examples=25)
@given(geometry=geometries(), seed=st.integers(0, 2**16))
def test_gradcheck_and_gradgradcheck_in_float64(geometry, seed):
    shape, kernel, stride = geometry
    x = mg.tensor(inputs(shape, seed=seed), requires_grad=True)
    assert mg.gradcheck(lambda t: F.avg_pool2d(t, kernel, stride), [x])
    assert mg.gradgradcheck(lambda t: F.avg_pool2d(t, kernel, stride), [x])


def test_gradcheck_catches_a_wrong_window_share():
    """The gradcheck above can fail: a pooling whose backward forgets to divide by the window is caught."""
    class TooSteep(mg.ops.pool.AvgPool2D):
        def backward(self, gy):
            return super().backward(gy) * 4.0

    x = mg.tensor(inputs((1, 1, 4, 4)), requires_grad=True)
    with pytest.raises(mg.GradcheckError):
        mg.gradcheck(lambda t: TooSteep((2, 2), (2, 2))(t), [x])


# --- PyTorch parity -----------------------------------------------------------------------------------

@needs_torch
@pytest.mark.parametrize("dtype, tolerance", [(np.float64, 1e-12), (np.float32, 1e-6)])
@settings(max_examples=25)
@given(geometry=geometries(), seed=st.integers(0, 2**16))
def test_values_and_gradients_match_pytorch(dtype, tolerance, geometry, seed):
    shape, kernel, stride = geometry
    array = inputs(shape, dtype, seed)
    weight = np.random.default_rng(seed + 1).normal(size=shape).astype(dtype)  # reused below, cut to the output
    ours = mg.tensor(array, requires_grad=True)
    theirs = torch.tensor(array, requires_grad=True)
    out = F.avg_pool2d(ours, kernel, stride)
    t_out = torch.nn.functional.avg_pool2d(theirs, kernel, stride)
    assert out.shape == tuple(t_out.shape) and out.dtype == dtype
    np.testing.assert_allclose(out.numpy(), t_out.detach().numpy(), rtol=tolerance, atol=tolerance)

    gy = weight[:, :, :out.shape[2], :out.shape[3]]
    (out * mg.tensor(gy)).sum().backward()
    (t_out * torch.tensor(gy)).sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=tolerance, atol=tolerance)


@needs_torch
def test_the_layer_matches_pytorchs():
    array = inputs((2, 3, 7, 6), np.float32)
    for ours, theirs in [(nn.AvgPool2D(2), torch.nn.AvgPool2d(2)),
                         (nn.AvgPool2D((3, 2), stride=(1, 2)), torch.nn.AvgPool2d((3, 2), stride=(1, 2)))]:
        np.testing.assert_allclose(ours(mg.tensor(array)).numpy(), theirs(torch.tensor(array)).numpy(), rtol=1e-6)
    assert repr(nn.AvgPool2D(2)) == "AvgPool2D(kernel_size=2, stride=2)"
    assert repr(nn.AvgPool2D((3, 2), stride=1)) == "AvgPool2D(kernel_size=(3, 2), stride=1)"
    assert nn.AvgPool2D(2).parameters() == []


# --- the strict GPU stand-in ---------------------------------------------------------------------------

@settings(max_examples=6, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(geometry=geometries())
def test_same_numbers_and_gradients_on_cuda(gpu, geometry):
    shape, kernel, stride = geometry
    array = inputs(shape, np.float32)
    results = {}
    for device in ("cpu", "cuda"):
        x = mg.tensor(array, requires_grad=True, device=device)
        out = F.avg_pool2d(x, kernel, stride)
        (g,) = mg.grad((out * out).sum(), [x], create_graph=True)
        (g * g).sum().backward()  # through AvgUnpool2D's backward too
        assert out.device == g.device == x.grad.device == device
        results[device] = [out.numpy(), g.numpy(), x.grad.numpy()]
    for cpu_result, cuda_result in zip(results["cpu"], results["cuda"]):
        np.testing.assert_allclose(cuda_result, cpu_result, *cuda_tolerance(cpu_result))


# --- errors ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("call, message", [
    (lambda: F.avg_pool2d(mg.zeros(1, 4, 4), 2), r"avg_pool2d: input must be 4-D \(N, C, H, W\), got shape \(1, 4, 4"),
    (lambda: F.avg_pool2d(mg.zeros(1, 1, 3, 5), 4), r"avg_pool2d: input of 3x5 pixels is smaller than the 4x4 kernel"),
    (lambda: F.avg_pool2d(mg.zeros(1, 1, 4, 4), 0), r"avg_pool2d: kernel_size must be positive, got \(0, 0\)"),
    (lambda: F.avg_pool2d(mg.zeros(1, 1, 4, 4), 2, stride=(1, 0)), r"avg_pool2d: stride must be positive"),
    (lambda: F.avg_pool2d(mg.zeros(1, 1, 4, 4), 2.5), r"avg_pool2d: kernel_size must be an int or a pair"),
    (lambda: nn.AvgPool2D((2, 2, 2)), r"AvgPool2D: kernel_size must be an int or a pair of ints, got \(2, 2, 2\)"),
    (lambda: nn.AvgPool2D(2)(mg.zeros(4, 4)), r"AvgPool2D\(kernel_size=2, stride=2\): input must be 4-D"),
])
def test_bad_arguments_get_errors_that_name_the_op(call, message):
    with pytest.raises(ValueError, match=message):
        call()
