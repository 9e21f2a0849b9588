"""Shared test setup: the hypothesis profile, the strict GPU stand-in, the PyTorch-parity summary, lesson quick runs."""
import importlib
import json
import math
import os

import pytest
from hypothesis import settings

import minigrad as mg
from strict_gpu import StrictGPU

# hypothesis: no per-example deadline (shared CI machines are noisy), few examples (2 cores for everything);
# pytest --hypothesis-profile=default runs hypothesis' own settings instead
settings.register_profile("minigrad", deadline=None, max_examples=20)
settings.load_profile("minigrad")


# MINIGRAD_TEST_CUDA=cupy runs every test that takes the ``gpu`` fixture on the real GPU through CuPy
# (a machine with a CUDA device); otherwise 'cuda' is the strict NumPy-backed stand-in below.
REAL_CUDA = os.environ.get("MINIGRAD_TEST_CUDA") == "cupy"
stand_in_only = pytest.mark.skipif(REAL_CUDA, reason="tests the strict stand-in itself, not minigrad on a GPU")


def cuda_tolerance(expected):
    """(rtol, atol) for comparing a float32 result on 'cuda' with the CPU's.

    The stand-in runs NumPy's own kernels, so it must agree to rounding; a real GPU sums in another order
    and has its own exp/log, so it agrees to float32 accuracy relative to the result's scale.
    """
    if not REAL_CUDA:
        return 1e-6, 1e-7
    scale = float(abs(expected).max()) if expected.size else 1.0
    return 1e-4, 1e-4 * max(scale, 1.0)


def pytest_collection_modifyitems(items):
    for item in items:
        if "gpu" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.cuda)


@pytest.fixture
def gpu():
    """The 'cuda' array module: CuPy under MINIGRAD_TEST_CUDA=cupy, else the strict NumPy-backed stand-in."""
    if REAL_CUDA:
        mg.backend.use_gpu_module(None)
        module = mg.backend.gpu_module()  # raises DeviceError saying why when there is no GPU
    else:
        module = StrictGPU()
        mg.backend.use_gpu_module(module)
    try:
        yield module
    finally:
        mg.backend.use_gpu_module(None)
        mg.backend.set_default_device("cpu")


# --- PyTorch parity: tests record property "relative_error_vs_torch" = (dtype, what, error); the
# largest per dtype is printed at the end. user_properties travel from pytest-xdist workers to here.
_worst_vs_torch = {}


def pytest_runtest_logreport(report):
    for name, value in report.user_properties:
        if name == "relative_error_vs_torch":
            dtype, what, error = value
            if error >= _worst_vs_torch.get(dtype, (-1.0, ""))[0]:
                _worst_vs_torch[dtype] = (error, what)


def pytest_terminal_summary(terminalreporter):
    if _worst_vs_torch:
        worst = ", ".join(f"{dtype} {error:.2e} ({what})" for dtype, (error, what) in sorted(_worst_vs_torch.items()))
        terminalreporter.write_line(f"max relative error vs PyTorch (per tensor, as the recording test defines it): "
                                    f"{worst}")


@pytest.fixture(scope="module")
def quick_run(request, tmp_path_factory):
    """name -> (metrics, output folder) of a lesson's two-epoch quick run, made once per test module.

    The module's ``LESSONS[name][0]`` holds the lesson's extra flags.
    """
    lessons = request.module.LESSONS
    done = {}

    def run(name):
        if name not in done:
            out = tmp_path_factory.mktemp(name)
            importlib.import_module(f"lessons.{name}").main(["--quick", "--epochs", "2", "--out", str(out),
                                                             *lessons[name][0]])
            done[name] = json.loads((out / "metrics.json").read_text()), out
        return done[name]

    return run


def assert_quick_run_learned(metrics, out, figures, watched):
    """What every lesson's two-epoch quick run must show: its figures written, two epochs logged, every
    number finite, and ``watched`` (a loss the lesson logs each epoch) lower after the second epoch."""
    for figure in figures:
        assert (out / figure).stat().st_size > 1000, f"{figure} missing or empty"
    history = metrics["history"]
    assert [record["epoch"] for record in history] == [1, 2]
    numbers = [value for record in history for value in record.values()] + list(metrics["final"].values())
    assert all(math.isfinite(value) for value in numbers), metrics
    first, last = (record[watched] for record in history)
    assert last < first, f"{watched} went from {first} to {last}"
