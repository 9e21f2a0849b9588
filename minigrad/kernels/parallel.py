"""minigrad's own threads: a step's large products and copies cut into parts that run at once, BLAS on one thread.

Why not BLAS's threads. OpenBLAS parallelises each matrix product by itself,
and between two products its threads wait for the next one by spinning. On an
idle machine that is fast; on one where anything else runs, a thread that is
spinning or preempted stalls the others at every product. On this project's
2-core machine, with one other single-threaded process busy (niced), a W4
DCGAN step took 1130 ms with OpenBLAS' two threads against 195 ms on one
thread, and W1 84 ms against 5.4 (benchmarks/RESULTS.md). minigrad's threads
wait on a lock instead, which costs nothing while idle and leaves the core to
whatever else runs, so they parallelise the same work without that collapse.

How. There are ``get_num_threads()`` threads: the caller and a pool of n - 1
workers. A kernel cuts its work into that many disjoint parts (ranges of output
pixels, of channels, of a product's rows, of an optimizer update's elements:
``elementwise``) and ``run`` runs one part per thread,
the last in the calling thread, while NumPy's BLAS is held to one thread
(threadpoolctl), so every part is one single-threaded product or copy and the
parts overlap each other's memory-bound passes too. NumPy releases the GIL in
both. Each part writes its own slice of the result and the cut depends only on
the thread count, so runs are reproducible for a given count; two counts cut a
product differently and may differ in the last bits (as PyTorch's do).

The count: ``MINIGRAD_THREADS=N`` in the environment, else as many threads as
NumPy's BLAS was started with, chosen the first time a kernel asks;
``set_num_threads(n)`` changes it at any time (PyTorch's name).
``MINIGRAD_THREADS=0`` or ``set_num_threads(0)`` leaves threading to BLAS as it
was: no pool, BLAS's own thread count untouched. Without threadpoolctl minigrad
cannot hold BLAS to one thread and does the same. After a fork the child makes
its own pool when it first needs one (threads do not survive a fork).
"""
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import numpy as np

THREADS_VARIABLE = "MINIGRAD_THREADS"

_count = None            # the number of threads, once chosen
_pool = None             # ThreadPoolExecutor of _count - 1 workers, made when first needed
_blas_limit = None       # threadpoolctl's limiter while BLAS is held to one thread
_inside = threading.local()  # set in a part: a part that cuts its own work runs it serially


def get_num_threads():
    """The threads minigrad's kernels use: 1 when BLAS does the threading (MINIGRAD_THREADS=0)."""
    if _count is None:
        set_num_threads(_threads_from_environment())
    return max(_count, 1)


def set_num_threads(n):
    """Use ``n`` threads for minigrad's kernels (NumPy's BLAS then runs on one); 0: leave it all to BLAS."""
    global _count, _pool, _blas_limit
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"set_num_threads: expected a whole number >= 0 (0 leaves threading to BLAS), got {n!r}")
    if _pool is not None:
        _pool.shutdown(wait=True)
        _pool = None
    if _blas_limit is not None:
        _blas_limit.restore_original_limits()
        _blas_limit = None
    if n >= 1:
        _blas_limit = _hold_blas_to_one_thread()
        if _blas_limit is None:
            n = 0  # BLAS cannot be held to one thread: its threads and a pool would compete for the cores
    _count = n


def _threads_from_environment():
    value = os.environ.get(THREADS_VARIABLE, "").strip()
    if not value:
        return _blas_threads()
    if not value.isdigit():
        raise ValueError(f"{THREADS_VARIABLE}: expected a whole number >= 0 (0 leaves threading to BLAS), "
                         f"got {value!r}")
    return int(value)


def _blas_threads():
    """How many threads NumPy's BLAS runs with (1 when that cannot be read)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return 1
    counts = [info["num_threads"] for info in threadpool_info() if info.get("user_api") == "blas"]
    return max(counts, default=1)


def _hold_blas_to_one_thread():
    """threadpoolctl's limiter holding every BLAS in the process to one thread; None without threadpoolctl."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None
    return threadpool_limits(limits=1, user_api="blas")


def split(length, parts):
    """[(start, stop), ...]: [0, length) cut into at most ``parts`` consecutive ranges of near-equal size."""
    parts = max(1, min(parts, length))
    return [(length * i // parts, length * (i + 1) // parts) for i in range(parts)]


ELEMENTWISE_MIN = 1 << 17  # elements below which an update (a few array passes) does not pay for a hand-off


def elementwise(function, *arrays, **options):
    """function(*arrays, **options) for a function that works element by element, in place or not: run as
    one part per thread on equal ranges of the arrays' elements when that pays (every array given is a
    C-contiguous NumPy array of one size of at least ELEMENTWISE_MIN; None passes through), else once.
    Every element is computed by the same operations as in one call, so the result is the same to the bit.
    """
    given = [a for a in arrays if a is not None]
    size = given[0].size if given else 0
    threads = get_num_threads()
    if (threads == 1 or size < ELEMENTWISE_MIN
            or not all(type(a) is np.ndarray and a.flags.c_contiguous and a.size == size for a in given)):
        return function(*arrays, **options)
    flat = [None if a is None else a.reshape(-1) for a in arrays]
    parts = [partial(function, *(None if a is None else a[start:stop] for a in flat), **options)
             for start, stop in split(size, threads)]
    run(parts)


def run(parts):
    """Call every function in ``parts`` (no arguments), at once on the threads; their results, in order.

    The last part runs in the calling thread. Every part has finished when this returns, also when one
    raised (its exception is raised here, the first one in order). Inside a part, run is serial.
    """
    if len(parts) == 1 or get_num_threads() == 1 or getattr(_inside, "active", False):
        return [part() for part in parts]
    futures = [_worker_pool().submit(_as_part, part) for part in parts[:-1]]
    try:
        last = _as_part(parts[-1])
    finally:
        failures = [future.exception() for future in futures]  # waits for every part
    for failure in failures:
        if failure is not None:
            raise failure
    return [future.result() for future in futures] + [last]


def _as_part(function):
    _inside.active = True
    try:
        return function()
    finally:
        _inside.active = False


def _worker_pool():
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=get_num_threads() - 1, thread_name_prefix="minigrad")
    return _pool


def _forget_pool_after_fork():
    global _pool
    _pool = None


os.register_at_fork(after_in_child=_forget_pool_after_fork)
