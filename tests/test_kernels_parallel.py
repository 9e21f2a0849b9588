"""minigrad/kernels/parallel.py: parts run at once and all finish, the count is chosen and changed as documented,
BLAS is held to one thread only while minigrad's pool exists, and a forked child makes its own pool."""
import os
import threading

import numpy as np
import pytest
from hypothesis import given, strategies as st

from minigrad.kernels import gemm, parallel


@pytest.fixture
def threads():
    """set_num_threads(n) for the test; the count the session had comes back afterwards."""
    before = parallel.get_num_threads() if parallel._count != 0 else 0
    yield parallel.set_num_threads
    parallel.set_num_threads(before)


@given(length=st.integers(0, 200), parts=st.integers(1, 9))
def test_split_cuts_into_consecutive_near_equal_ranges(length, parts):
    ranges = parallel.split(length, parts)
    assert len(ranges) == max(1, min(parts, length))
    assert ranges[0][0] == 0 and ranges[-1][1] == length
    assert all(stop == start for (_, stop), (start, _) in zip(ranges, ranges[1:]))
    sizes = [stop - start for start, stop in ranges]
    assert max(sizes) - min(sizes) <= 1 and (length == 0 or min(sizes) >= 1)


def test_parts_run_at_once_on_as_many_threads_as_set(threads):
    threads(3)
    meeting = threading.Barrier(3, timeout=10)  # passes only if all three parts are running at the same time
    names = parallel.run([lambda: (meeting.wait(), threading.current_thread().name)[1]] * 3)
    assert len(set(names)) == 3 and names[-1] == threading.current_thread().name


def test_results_come_back_in_order_and_a_failure_waits_for_the_other_parts(threads):
    threads(2)
    assert parallel.run([lambda: 1, lambda: 2]) == [1, 2]
    finished = []

    def slow():
        threading.Event().wait(0.2)
        finished.append(True)

    def failing():
        raise KeyError("part 2")
    with pytest.raises(KeyError, match="part 2"):
        parallel.run([slow, failing])
    assert finished == [True]  # the worker's part had ended before run raised


def test_a_part_that_cuts_its_own_work_runs_it_in_its_own_thread(threads):
    threads(2)

    def outer():
        return parallel.run([threading.current_thread, threading.current_thread])
    inner_threads = parallel.run([outer, outer])
    assert all(a is b for a, b in inner_threads)


def test_blas_runs_on_one_thread_while_the_pool_exists_and_gets_its_count_back_with_0(threads):
    threadpoolctl = pytest.importorskip("threadpoolctl")

    def blas_threads():
        return max(info["num_threads"] for info in threadpoolctl.threadpool_info() if info["user_api"] == "blas")
    threads(0)
    own = blas_threads()
    threads(2)
    assert parallel.get_num_threads() == 2 and blas_threads() == 1
    threads(0)
    assert parallel.get_num_threads() == 1 and blas_threads() == own


@pytest.mark.parametrize("value", [-1, 1.5, "2", True, None])
def test_set_num_threads_refuses_what_is_not_a_count(value):
    with pytest.raises(ValueError, match="expected a whole number >= 0"):
        parallel.set_num_threads(value)


def test_the_environment_variable_is_read_and_checked(monkeypatch):
    monkeypatch.setenv("MINIGRAD_THREADS", "3")
    assert parallel._threads_from_environment() == 3
    monkeypatch.setenv("MINIGRAD_THREADS", "two")
    with pytest.raises(ValueError, match="MINIGRAD_THREADS: expected a whole number >= 0.*'two'"):
        parallel._threads_from_environment()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork here")
def test_a_forked_child_makes_its_own_pool(threads):
    threads(2)
    parallel.run([lambda: None, lambda: None])  # the parent's pool exists
    child = os.fork()
    if child == 0:
        try:
            ok = parallel.run([lambda: 7, lambda: 8]) == [7, 8] and parallel._pool is not None
        finally:
            os._exit(0 if ok else 1)
    _, status = os.waitpid(child, 0)
    assert os.WEXITSTATUS(status) == 0


@pytest.mark.parametrize("count", [2, 3])
@pytest.mark.parametrize("shape", [(37, 29, 23), (2, 40, 31), (1, 9, 50)])  # rows >= threads, and fewer
@pytest.mark.parametrize("order", ["C", "F"])
def test_a_product_cut_across_threads_equals_a_at_b(threads, monkeypatch, count, shape, order):
    threads(count)
    monkeypatch.setattr(gemm, "PARALLEL_MACS", 1)  # cut even these small products
    m, k, n = shape
    rs = np.random.default_rng(0)
    a = np.asarray(rs.standard_normal((m, k)), order=order)
    b = rs.standard_normal((k, n))
    np.testing.assert_allclose(gemm.matmul(a, b), a @ b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("update, slots, options", [
    ("adam_update", 2, dict(step=3, lr=1e-3, betas=(0.9, 0.999), eps=1e-8)),
    ("rmsprop_update", 1, dict(lr=1e-2, rho=0.9, eps=1e-7)),
    ("rmsprop_update", 1, dict(lr=1e-2, rho=0.9, eps=1e-7, eps_inside_sqrt=True, momentum=0.5, centered=True)),
])
@pytest.mark.parametrize("layout", ["contiguous", "transposed"])  # a transposed gradient: one call, not cut
def test_an_optimizer_update_cut_across_threads_is_the_same_to_the_bit(threads, monkeypatch, update, slots,
                                                                       options, layout):
    from minigrad.kernels import optim
    monkeypatch.setattr(parallel, "ELEMENTWISE_MIN", 1)
    options = dict(options)
    centered = options.pop("centered", False)
    rs = np.random.default_rng(1)

    def state():
        arrays = [rs.standard_normal((37, 11)).astype(np.float32) for _ in range(2 + slots)]
        arrays[2:] = [np.abs(a) + 1 for a in arrays[2:]]  # second moments above the centered mean squared
        if layout == "transposed":
            arrays[1] = np.ascontiguousarray(arrays[1].T).T
        extra = {}
        if update == "rmsprop_update" and options.get("momentum"):
            extra = dict(momentum_buffer=rs.standard_normal((37, 11)).astype(np.float32))
        if centered:
            extra["grad_avg"] = rs.standard_normal((37, 11)).astype(np.float32) * 0.1
        return arrays, extra

    results = []
    for count in (1, 3):
        rs = np.random.default_rng(1)
        arrays, extra = state()
        threads(count)
        getattr(optim, update)(*arrays, **options, **extra)
        results.append(arrays + list(extra.values()))
    for one_thread, three_threads in zip(*results):
        np.testing.assert_array_equal(one_thread, three_threads)
