"""Where one minigrad training step's time goes: a timer around each kernel and op family, no profiler.

    OPENBLAS_NUM_THREADS=1 python -m benchmarks.breakdown W4
    OPENBLAS_NUM_THREADS=1 python -m benchmarks.breakdown W4 --steps 10 --repeat 5
    python -m benchmarks.breakdown W4 --threads 2        # wall time, with minigrad's threads

The workload is benchmarks/bench.py's. Each timed function is wrapped and counted exclusively (a kernel's
time is taken out of the op that called it), so the rows add up to the step; "Python and the rest" is what
no timer covers: the autograd walk, the layers, the ops' glue and the small per-channel arithmetic.

By default the step runs on one thread (``mg.set_num_threads(1)``, which also holds BLAS to one) and the
timers count CPU time, which stays meaningful on a shared machine, where wall time does not. With
``--threads N`` (N > 1) they count wall time in the calling thread instead: everything that runs in
minigrad's parallel parts (``parallel.run``: the convolutions, the large products and updates) is one
row, and the other rows are the work that runs on one thread between them. The best-of-``repeat`` step is
reported, each row from that same run.
"""
import argparse
import importlib
import threading
import time

from . import bench

TIMED = [  # (module, attribute, row); a class attribute "Class.method" wraps that method
    ("minigrad.kernels.conv", "_gemm", "conv GEMMs"),
    ("minigrad.kernels.conv", "_im2col_pixels", "im2col"),
    ("minigrad.kernels.conv", "_col2im_pixels", "col2im"),
    ("minigrad.kernels.conv", "_padded", "padding copies"),
    ("minigrad.kernels.conv", "_chwn", "layout copies into CHWN"),
    ("minigrad.ops.normalization", "BatchNorm.forward", "BatchNorm"),
    ("minigrad.ops.normalization", "BatchNorm.backward", "BatchNorm"),
    ("minigrad.ops.activation", "LeakyReLU.forward", "LeakyReLU"),
    ("minigrad.ops.activation", "LeakyReLU.backward", "LeakyReLU"),
    ("minigrad.ops.activation", "ReLU.forward", "ReLU, Tanh, Sigmoid"),
    ("minigrad.ops.activation", "Tanh.forward", "ReLU, Tanh, Sigmoid"),
    ("minigrad.ops.activation", "Sigmoid.forward", "ReLU, Tanh, Sigmoid"),
    ("minigrad.ops.matmul", "MatMul.forward", "Dense GEMMs"),
    ("minigrad.ops.matmul", "Linear.forward", "Dense GEMMs"),
    ("minigrad.ops.elementwise", "Add.forward", "elementwise add, sub, mul"),
    ("minigrad.ops.elementwise", "Sub.forward", "elementwise add, sub, mul"),
    ("minigrad.ops.elementwise", "Mul.forward", "elementwise add, sub, mul"),
    ("minigrad.ops.reduce", "Sum.forward", "reductions (sum, mean ops)"),
    ("minigrad.ops.reduce", "Mean.forward", "reductions (sum, mean ops)"),
    ("minigrad.ops.loss", "BinaryCrossEntropyWithLogits.forward", "losses"),
    ("minigrad.ops.loss", "MSELoss.forward", "losses"),
    ("minigrad.optim", "Adam._update", "optimizer"),
    ("minigrad.optim", "RMSProp._update", "optimizer"),
]


PARALLEL_PARTS = ("minigrad.kernels.parallel", "run", "inside minigrad's parallel parts")


def install_timers(totals, wall=False):
    """Wrap every TIMED function that exists; ``totals[row]`` collects its exclusive CPU seconds.

    wall: wall seconds instead, counted in the calling thread only, with parallel.run one row (the calls
    made inside its parts are not timed apart).
    """
    clock = time.perf_counter if wall else time.process_time
    inner = []  # time spent in timed callees, per active call
    caller, in_parts = threading.current_thread(), [0]

    def timed(row, fn):
        parts = row == PARALLEL_PARTS[2]

        def wrapper(*args, **kwargs):
            if wall and (in_parts[0] or threading.current_thread() is not caller):
                return fn(*args, **kwargs)  # counted in the parallel parts' row
            start = clock()
            inner.append(0.0)
            in_parts[0] += parts
            try:
                return fn(*args, **kwargs)
            finally:
                in_parts[0] -= parts
                spent, callees = clock() - start, inner.pop()
                totals[row] = totals.get(row, 0.0) + spent - callees
                if inner:
                    inner[-1] += spent
        return wrapper

    for module_name, attribute, row in TIMED + ([PARALLEL_PARTS] if wall else []):
        try:
            owner = importlib.import_module(module_name)
        except ImportError:
            continue
        *classes, name = attribute.split(".")
        for cls in classes:
            owner = getattr(owner, cls, None)
        if owner is not None and hasattr(owner, name):
            setattr(owner, name, timed(row, getattr(owner, name)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workload", choices=sorted(bench.WORKLOADS))
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1,
                        help="minigrad's threads (default 1: CPU time; more: wall time in the calling thread)")
    args = parser.parse_args(argv)
    if args.threads < 1:
        parser.error(f"--threads: expected 1 or more, got {args.threads}")
    import minigrad as mg
    mg.set_num_threads(args.threads)
    wall = args.threads > 1
    clock = time.perf_counter if wall else time.process_time
    totals = {}
    install_timers(totals, wall)  # before the model is built: the kernels' module attributes are looked up per call
    batch = bench.WORKLOADS[args.workload][1]
    mg.manual_seed(0)
    step = bench.training_step(*bench.minigrad_training(args.workload, batch,
                                                        bench.batch_arrays(args.workload, batch), "cpu"))
    for _ in range(args.warmup):
        step()
    best = None
    for _ in range(args.repeat):
        totals.clear()
        start = clock()
        for _ in range(args.steps):
            step()
        per_step = (clock() - start) / args.steps * 1e3
        if best is None or per_step < best[0]:
            best = per_step, {row: seconds / args.steps * 1e3 for row, seconds in totals.items()}
    per_step, rows = best
    rows["Python and the rest"] = per_step - sum(rows.values())
    print(f"{args.workload}: {per_step:.1f} {'wall' if wall else 'CPU'} ms a step (best of {args.repeat} x "
          f"{args.steps} steps, minigrad threads: {args.threads}, BLAS threads: {bench.blas_threads()}, "
          f"kernel: {bench.blas_kernel()})")
    for row, ms in sorted(rows.items(), key=lambda item: -item[1]):
        print(f"  {row:32s} {ms:8.2f} ms  {ms / per_step * 100:5.1f}%")
    return rows

if __name__ == "__main__":
    main()
