"""Where one minigrad training step's CPU time goes: a timer around each kernel and op family, no profiler.

    OPENBLAS_NUM_THREADS=1 python -m benchmarks.breakdown W4
    OPENBLAS_NUM_THREADS=1 python -m benchmarks.breakdown W4 --steps 10 --repeat 5

The workload is benchmarks/bench.py's. Each timed function is wrapped with ``time.process_time`` and
counted exclusively (a kernel's time is taken out of the op that called it), so the rows add up to the
step; "Python and the rest" is what no timer covers: the autograd walk, the layers, the ops' glue and
the small per-channel arithmetic. The step runs on one thread (``mg.set_num_threads(1)``, which also holds
BLAS to one); CPU time on one thread stays meaningful on a shared machine, where wall time does not. The best-of-``repeat`` step is reported, each row from that same run.
"""
import argparse
import importlib
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


def install_timers(totals):
    """Wrap every TIMED function that exists; ``totals[row]`` collects its exclusive CPU seconds."""
    inner = []  # time spent in timed callees, per active call

    def timed(row, fn):
        def wrapper(*args, **kwargs):
            start = time.process_time()
            inner.append(0.0)
            try:
                return fn(*args, **kwargs)
            finally:
                spent, callees = time.process_time() - start, inner.pop()
                totals[row] = totals.get(row, 0.0) + spent - callees
                if inner:
                    inner[-1] += spent
        return wrapper

    for module_name, attribute, row in TIMED:
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
    args = parser.parse_args(argv)
    import minigrad as mg
    mg.set_num_threads(1)  # the exclusive timers count one thread's calls: no parts on other threads
    totals = {}
    install_timers(totals)  # before the model is built: the kernels' module attributes are looked up per call
    batch = bench.WORKLOADS[args.workload][1]
    mg.manual_seed(0)
    step = bench.training_step(*bench.minigrad_training(args.workload, batch,
                                                        bench.batch_arrays(args.workload, batch), "cpu"))
    for _ in range(args.warmup):
        step()
    best = None
    for _ in range(args.repeat):
        totals.clear()
        start = time.process_time()
        for _ in range(args.steps):
            step()
        per_step = (time.process_time() - start) / args.steps * 1e3
        if best is None or per_step < best[0]:
            best = per_step, {row: seconds / args.steps * 1e3 for row, seconds in totals.items()}
    per_step, rows = best
    rows["Python and the rest"] = per_step - sum(rows.values())
    print(f"{args.workload}: {per_step:.1f} CPU ms a step (best of {args.repeat} x {args.steps} steps, "
          f"BLAS threads: {bench.blas_threads()}, kernel: {bench.blas_kernel()})")
    for row, ms in sorted(rows.items(), key=lambda item: -item[1]):
        print(f"  {row:30s} {ms:8.2f} ms  {ms / per_step * 100:5.1f}%")


if __name__ == "__main__":
    main()
