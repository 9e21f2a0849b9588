"""Device plumbing, on CPU: 'cuda' is served by tests/strict_gpu.py, an array type that, like CuPy's,
refuses every silent conversion to NumPy. An op that passes here does not assume NumPy anywhere.

On a machine with a CUDA GPU, ``MINIGRAD_TEST_CUDA=cupy`` runs the same tests on the real device."""
import importlib.util
import os
import subprocess
import sys
import types

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import minigrad as mg
import minigrad.functional as F
from conftest import cuda_tolerance, stand_in_only
from op_cases import CASES

needs_no_cupy = pytest.mark.skipif(importlib.util.find_spec("cupy") is not None,
                                   reason="CuPy is installed here; these tests are about a machine without it")


def derivatives(fn, arrays, device, seed=0):
    """fn's output, its gradients, and a second-order product (grad of <grad, u>), as NumPy arrays.

    Also checks that every result really lives on ``device``.
    """
    leaves = [mg.tensor(a, requires_grad=True, device=device) for a in arrays]
    out = fn(*leaves)
    rng = np.random.default_rng(seed)
    weight = mg.tensor(rng.normal(size=out.shape).astype(out.dtype), device=device)
    grads = mg.grad((out * weight).sum(), leaves, create_graph=True)
    curvature = sum(((g * mg.tensor(rng.normal(size=g.shape).astype(g.dtype), device=device)).sum()
                     for g in grads), start=mg.zeros((), dtype=out.dtype, device=device))
    if curvature.requires_grad:
        curvature.backward()
    results = [out] + list(grads) + [leaf.grad if leaf.grad is not None else mg.zeros_like(leaf) for leaf in leaves]
    for r in results:
        assert r.device == device, f"a result is on {r.device}, expected {device}"
    return [r.numpy() for r in results]


@pytest.mark.parametrize("case", CASES, ids=str)
@settings(max_examples=6, suppress_health_check=[HealthCheck.function_scoped_fixture])  # gpu is the same for every example
@given(data=st.data())
def test_every_op_gives_the_same_numbers_on_cuda(gpu, case, data):
    shapes, params = data.draw(case.draw)
    arrays = case.arrays(shapes, seed=1, dtype=np.float32)

    def fn(*xs):
        return case.fn(*xs, **params)

    on_cpu = derivatives(fn, arrays, "cpu")
    on_cuda = derivatives(fn, arrays, "cuda")
    for cpu_result, cuda_result in zip(on_cpu, on_cuda):
        assert cuda_result.dtype == cpu_result.dtype == np.float32
        rtol, atol = cuda_tolerance(cpu_result)
        np.testing.assert_allclose(cuda_result, cpu_result, rtol=rtol, atol=atol)


@stand_in_only
@pytest.mark.parametrize("leak", [
    np.asarray, np.exp, np.sum, lambda a: np.ones(2) + a, lambda a: a + np.ones(2), lambda a: np.concatenate([a, a]),
    lambda a: a[np.array([0, 1])],
], ids=["asarray", "ufunc", "function", "numpy_left", "numpy_right", "concatenate", "numpy_index"])
def test_the_stand_in_refuses_every_silent_trip_to_numpy(gpu, leak):
    with pytest.raises(TypeError, match="strict GPU stand-in"):
        leak(gpu.asarray(np.array([1.0, 2.0])))


def test_results_of_ops_on_cuda_are_device_arrays(gpu):
    x = mg.tensor([[1.0, -2.0], [3.0, 4.0]], requires_grad=True, device="cuda")
    loss = F.softmax(x @ x.T, axis=1)[np.array([0, 0, 1])].sum()
    loss.backward()
    assert type(loss.data) is gpu.ndarray and type(x.grad.data) is gpu.ndarray
    assert type(x.numpy()) is np.ndarray and isinstance(loss.item(), float)
    assert "device='cuda'" in repr(x)


@pytest.mark.skipif(not hasattr(F, "conv2d"), reason="F.conv2d is not in minigrad yet (ops/conv.py is being written)")
@pytest.mark.parametrize("stride, padding", [(1, 0), (2, 1)])
def test_convolutions_give_the_same_numbers_on_cuda(gpu, stride, padding):
    rng = np.random.default_rng(0)
    x, W, b = rng.normal(size=(2, 3, 6, 5)), rng.normal(size=(4, 3, 3, 2)), rng.normal(size=4)
    Wt = rng.normal(size=(4, 2, 3, 3))
    conv = lambda x, W, b: F.conv2d(x, W, b, stride=stride, padding=padding)  # noqa: E731
    transposed = lambda y, W, b: F.conv_transpose2d(y, W, b, stride=stride, padding=padding)  # noqa: E731
    y = conv(mg.tensor(x), mg.tensor(W), mg.tensor(b)).numpy()
    for fn, arrays in [(conv, [x, W, b]), (transposed, [y, Wt, rng.normal(size=2)])]:
        arrays = [a.astype(np.float32) for a in arrays]
        for cpu_result, cuda_result in zip(derivatives(fn, arrays, "cpu"), derivatives(fn, arrays, "cuda")):
            np.testing.assert_allclose(cuda_result, cpu_result, rtol=1e-5, atol=1e-5)


def test_gradcheck_runs_on_cuda(gpu):
    x = mg.tensor(np.linspace(-1, 1, 6).reshape(2, 3), requires_grad=True, device="cuda")
    assert mg.gradcheck(lambda t: F.log_softmax(t * t, axis=1), [x])
    assert mg.gradgradcheck(lambda t: F.log_softmax(t * t, axis=1), [x])


# --- moving between devices -------------------------------------------------------------------------

def test_to_round_trips_and_gradients_flow_back_through_it(gpu):
    x = mg.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    on_cuda = x.to("cuda")
    assert on_cuda.device == "cuda" and type(on_cuda.data) is gpu.ndarray
    back = on_cuda.to("cpu")
    assert back.device == "cpu" and back.numpy().tolist() == x.numpy().tolist()
    assert x.to("cpu") is x
    ((on_cuda * on_cuda).sum().to("cpu") + back.sum()).backward()
    assert x.grad.device == "cpu"
    np.testing.assert_array_equal(x.grad.numpy(), 2 * x.numpy() + 1)


def test_a_cuda_leaf_gets_its_gradient_on_cuda_through_a_cpu_detour(gpu):
    w = mg.tensor([0.5, -1.0], requires_grad=True, device="cuda")
    (w.to("cpu").exp().sum()).backward()
    assert w.grad.device == "cuda"
    np.testing.assert_allclose(w.grad.numpy(), np.exp(w.numpy()))


def test_creation_on_cuda_and_default_device(gpu):
    assert mg.zeros(2, 3, device="cuda").device == "cuda"
    mg.set_default_device("cuda")
    made = [mg.tensor([1.0]), mg.zeros(2), mg.ones(2), mg.randn(2), mg.rand(2), mg.zeros_like(mg.ones(3))]
    assert all(t.device == "cuda" and t.dtype == np.float32 for t in made)
    mg.set_default_device("cpu")
    assert mg.tensor([1.0]).device == "cpu"


def test_a_seed_gives_the_same_random_numbers_and_dropout_masks_on_both_devices(gpu):
    values = {}
    for device in ("cpu", "cuda"):
        mg.manual_seed(7)
        x = mg.ones(4, 5, device=device)
        values[device] = (mg.randn(3, device=device).numpy(), F.dropout(x, 0.5).numpy())
    for a, b in zip(values["cpu"], values["cuda"]):
        np.testing.assert_array_equal(a, b)


def test_backward_accepts_a_gradient_from_either_device(gpu):
    x = mg.tensor([1.0, 2.0], requires_grad=True, device="cuda")
    for grad in (np.array([1.0, 3.0], dtype=np.float32), gpu.asarray(np.array([1.0, 3.0], dtype=np.float32))):
        x.grad = None
        (x * 2).backward(grad)
        assert x.grad.device == "cuda" and x.grad.numpy().tolist() == [2.0, 6.0]


def test_indexes_and_labels_given_as_numpy_lists_or_tensors_work_on_cuda(gpu):
    x = mg.tensor(np.arange(6.0).reshape(3, 2), requires_grad=True, device="cuda")
    index_forms = [[2, 0, 2], np.array([2, 0, 2]), mg.tensor(np.array([2, 0, 2]), device="cuda")]
    for index in index_forms:
        assert x[index].numpy().tolist() == [[4.0, 5.0], [0.0, 1.0], [4.0, 5.0]]
    labels_forms = [[1, 0, 1], np.array([1, 0, 1]), mg.tensor(np.array([1, 0, 1]), device="cuda")]
    losses = [F.cross_entropy(x, labels).item() for labels in labels_forms]
    assert losses[0] == losses[1] == losses[2]


# --- errors -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("op", [
    lambda a, b: a + b,
    lambda a, b: a @ b.reshape(2, 1),
    lambda a, b: mg.concatenate([a, b]),
    lambda a, b: mg.where(a > 0, a, b),
    lambda a, b: F.mse_loss(a, b),
], ids=["add", "matmul", "concatenate", "where", "mse_loss"])
def test_mixing_devices_raises_naming_both(gpu, op):
    on_cuda = mg.tensor([1.0, 2.0], device="cuda", requires_grad=True)
    on_cpu = mg.tensor([3.0, 4.0])
    for a, b in [(on_cuda, on_cpu), (on_cpu, on_cuda)]:
        with pytest.raises(mg.DeviceError, match=r"cpu and cuda"):
            op(a, b)


@needs_no_cupy
def test_without_cupy_asking_for_cuda_says_cupy_is_not_installed():
    mg.backend.use_gpu_module(None)
    assert not mg.is_cuda_available()
    attempts = [lambda: mg.tensor([1.0], device="cuda"), lambda: mg.set_default_device("cuda"),
                lambda: mg.zeros(2, device="cuda"), lambda: mg.tensor([1.0]).to("cuda")]
    for attempt in attempts:
        with pytest.raises(mg.DeviceError, match=r"(?s)cuda.*CuPy is not installed"):
            attempt()
    assert mg.tensor([1.0]).device == "cpu"  # the failed set_default_device changed nothing


@pytest.mark.parametrize("count, why", [(lambda: 0, "no CUDA device"), (None, "no CUDA device")])
def test_with_cupy_but_no_gpu_asking_for_cuda_says_there_is_no_device(monkeypatch, count, why):
    def no_driver():
        raise RuntimeError("cudaErrorNoDevice: no CUDA-capable device is detected")

    cupy = types.ModuleType("cupy")
    cupy.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=count or no_driver))
    monkeypatch.setitem(sys.modules, "cupy", cupy)
    mg.backend.use_gpu_module(None)
    try:
        with pytest.raises(mg.DeviceError, match=f"(?s)cuda.*{why}"):
            mg.tensor([1.0], device="cuda")
        assert not mg.is_cuda_available()
    finally:
        mg.backend.use_gpu_module(None)


def run_with_device_variable(value, code):
    env = dict(os.environ, MINIGRAD_DEVICE=value)
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)


@needs_no_cupy
def test_minigrad_device_cuda_without_a_gpu_raises_and_never_falls_back():
    code = "import minigrad as mg; t = mg.tensor([1.0]); print('FELL BACK TO', t.device)"
    result = run_with_device_variable("cuda", code)
    assert result.returncode != 0
    assert "FELL BACK" not in result.stdout
    assert "DeviceError" in result.stderr and "cuda" in result.stderr and "CuPy is not installed" in result.stderr


def test_minigrad_device_with_an_unknown_name_raises():
    result = run_with_device_variable("gpu", "import minigrad as mg; mg.zeros(1)")
    assert result.returncode != 0 and "unknown device 'gpu'" in result.stderr


def test_minigrad_device_cuda_puts_new_tensors_on_cuda(gpu, monkeypatch):
    monkeypatch.setenv("MINIGRAD_DEVICE", "cuda")
    monkeypatch.setattr(mg.backend, "_default_device", None)  # read the variable again, as a fresh process would
    assert mg.tensor([1.0]).device == "cuda" and mg.randn(2).device == "cuda"


def test_to_numpy_takes_arrays_on_either_device_tensors_scalars_and_lists(gpu):
    on_cpu = np.arange(3.0)
    assert mg.backend.to_numpy(on_cpu) is on_cpu  # no copy on the CPU
    on_cuda = mg.tensor(on_cpu, device="cuda")
    for value in (on_cuda, on_cuda.data, mg.tensor(on_cpu)):
        converted = mg.backend.to_numpy(value)
        assert type(converted) is np.ndarray and converted.tolist() == [0.0, 1.0, 2.0]
    assert mg.backend.to_numpy(np.float32(2.5)).dtype == np.float32
    assert mg.backend.to_numpy([1, 2]).tolist() == [1, 2] and mg.backend.to_numpy(3.0).ndim == 0


class RecordingLibc:
    """Stands in for glibc: remembers every mallopt call."""

    def __init__(self, calls):
        self.calls = calls

    def mallopt(self, option, value):
        self.calls.append((option, value))
        return 1


@pytest.mark.parametrize("opt_out, tuned", [(None, True), ("1", False), ("0", True)])
def test_the_allocator_is_tuned_once_by_the_first_backward_unless_opted_out(monkeypatch, opt_out, tuned):
    calls = []
    monkeypatch.setattr(mg.backend, "_allocator_tuned", False)
    monkeypatch.setattr(mg.backend.ctypes, "CDLL", lambda path: RecordingLibc(calls))
    if opt_out is None:
        monkeypatch.delenv("MINIGRAD_NO_TUNING", raising=False)
    else:
        monkeypatch.setenv("MINIGRAD_NO_TUNING", opt_out)
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    assert calls == []  # making tensors and ops tunes nothing
    for _ in range(3):
        (x * x).sum().backward()
    assert calls == ([(-3, 32 << 20), (-1, 1 << 30)] if tuned else [])  # M_MMAP_THRESHOLD, M_TRIM_THRESHOLD


def test_the_allocator_is_left_alone_where_there_is_no_glibc(monkeypatch):
    def no_libc(path):
        raise OSError("no such library")

    monkeypatch.setattr(mg.backend, "_allocator_tuned", False)
    monkeypatch.setattr(mg.backend.ctypes, "CDLL", no_libc)
    monkeypatch.delenv("MINIGRAD_NO_TUNING", raising=False)
    assert mg.backend.tune_allocator() is False
    (mg.tensor([1.0], requires_grad=True) * 2).sum().backward()  # and training goes on


def test_importing_minigrad_changes_nothing_process_wide():
    script = ("import ctypes\n"
              "calls = []\n"
              "class Libc:\n"
              "    def mallopt(self, option, value):\n"
              "        calls.append(option)\n"
              "ctypes.CDLL = lambda path: Libc()\n"
              "import minigrad as mg\n"
              "import minigrad.functional, minigrad.nn, minigrad.optim\n"
              "x = mg.randn(3, requires_grad=True)\n"
              "assert calls == [], calls\n"
              "(x * x).sum().backward()\n"
              "assert calls == [-3, -1], calls\n")
    env = {k: v for k, v in os.environ.items() if k != "MINIGRAD_NO_TUNING"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
