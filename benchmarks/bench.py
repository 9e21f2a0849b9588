"""Train the same models on the same batch in minigrad and in PyTorch, and compare step time and memory.

    python -m benchmarks.bench                        # W1-W4, minigrad and PyTorch CPU
    python -m benchmarks.bench --workloads W1,W3 --repeat 5
    python -m benchmarks.bench --quick --frameworks minigrad
    python -m benchmarks.bench --device cuda          # CuPy against PyTorch CUDA
    python -m benchmarks.bench --openblas unset       # OpenBLAS picks its own kernels in the workers

Some machines force NumPy's OpenBLAS onto older kernels through the environment
(``OPENBLAS_CORETYPE``, ``OPENBLAS_L2_SIZE``). ``--openblas`` chooses what the
worker processes get, and nothing else: ``inherit`` (the default) passes the
environment on as it is, ``unset`` removes both variables so OpenBLAS picks the
kernel for this CPU (what a user's machine does), ``haswell`` forces its
Haswell/AVX2 kernels. The header names the kernel the workers' OpenBLAS reported.

Each (framework, workload) pair runs in its own subprocess, so the peak
resident memory it reports belongs to that framework alone, and the two
frameworks get the same number of threads: PyTorch's intra-op threads are set
to the thread count of NumPy's BLAS. Step time is the wall time of one whole
training step (forward, backward, optimizer update) on a fixed batch, timed
after warm-up steps. Every repeat runs both frameworks back to back and gives
one ratio; the table shows the median ratio and its range over the repeats,
which says how noisy the machine was.

Workloads (float32):
  W1  784-256-784 sigmoid autoencoder, MSE, RMSProp, batch 100
  W2  Keras convolutional denoising autoencoder, MSE, Adam, batch 256
  W3  VAE 784-400-20, BCE (sum) + KL, Adam, batch 128
  W4  DCGAN 28x28, one D and one G update per step, Adam, batch 64
"""
import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

FRAMEWORKS = ("minigrad", "torch")
WORKLOADS = {
    "W1": ("784-256-784 sigmoid AE, MSE, RMSProp", 100),
    "W2": ("Keras conv denoising AE, MSE, Adam", 256),
    "W3": ("VAE 784-400-20, BCE+KL, Adam", 128),
    "W4": ("DCGAN 28x28, D+G update, Adam", 64),
}
LATENT_VAE, LATENT_GAN = 20, 100


# --- the batches: the same NumPy arrays for both frameworks -------------------------

def batch_arrays(workload, batch):
    import numpy as np
    rs = np.random.default_rng(0)
    if workload in ("W1", "W3"):
        return {"x": rs.uniform(size=(batch, 784)).astype(np.float32)}
    images = rs.uniform(size=(batch, 1, 28, 28)).astype(np.float32)
    if workload == "W2":
        noisy = np.clip(images + 0.2 * rs.normal(size=images.shape), 0, 1).astype(np.float32)
        return {"noisy": noisy, "clean": images}
    return {"real": images * 2 - 1}


# --- minigrad ---------------------------------------------------------------------

def minigrad_training(workload, batch, arrays, device):
    """``workload`` in minigrad: its loss functions and the optimizer that follows each."""
    import minigrad as mg
    import minigrad.functional as F
    from minigrad import nn, optim

    data = {name: mg.tensor(a, device=device) for name, a in arrays.items()}
    if workload == "W1":
        model = nn.Sequential(nn.Dense(784, 256), nn.Sigmoid(), nn.Dense(256, 784), nn.Sigmoid()).to(device)
        optimizers = [optim.RMSProp(model.parameters(), lr=1e-3, rho=0.9, eps=1e-7)]
        x = data["x"]
        losses = [lambda: F.mse_loss(model(x), x)]
    elif workload == "W2":
        model = nn.Sequential(
            nn.Conv2D(1, 16, 3, stride=2, padding="same"), nn.ReLU(),
            nn.Conv2D(16, 8, 3, stride=2, padding="same"), nn.ReLU(),
            nn.ConvTranspose2D(8, 8, 3, stride=2, padding="same"), nn.ReLU(),
            nn.ConvTranspose2D(8, 16, 3, stride=2, padding="same"), nn.ReLU(),
            nn.Conv2D(16, 1, 3, padding="same"), nn.Sigmoid()).to(device)
        optimizers = [optim.Adam(model.parameters(), lr=1e-3)]
        losses = [lambda: F.mse_loss(model(data["noisy"]), data["clean"])]
    elif workload == "W3":
        encoder, to_mu, to_logvar = nn.Dense(784, 400), nn.Dense(400, LATENT_VAE), nn.Dense(400, LATENT_VAE)
        decoder = nn.Sequential(nn.Dense(LATENT_VAE, 400), nn.ReLU(), nn.Dense(400, 784), nn.Sigmoid())
        layers = [m.to(device) for m in (encoder, to_mu, to_logvar, decoder)]
        optimizers = [optim.Adam([p for m in layers for p in m.parameters()], lr=1e-3)]
        x = data["x"]

        def vae_loss():
            h = F.relu(encoder(x))
            mu, logvar = to_mu(h), to_logvar(h)
            z = mu + (0.5 * logvar).exp() * mg.randn(batch, LATENT_VAE, device=device)
            return F.binary_cross_entropy(decoder(z), x, reduction="sum") + F.gaussian_kl(mu, logvar)
        losses = [vae_loss]
    else:
        G = nn.Sequential(nn.Dense(LATENT_GAN, 128 * 7 * 7), nn.Reshape(128, 7, 7), nn.BatchNorm2D(128), nn.ReLU(),
                          nn.ConvTranspose2D(128, 64, 4, 2, 1), nn.BatchNorm2D(64), nn.ReLU(),
                          nn.ConvTranspose2D(64, 1, 4, 2, 1), nn.Tanh()).to(device)
        D = nn.Sequential(nn.Conv2D(1, 64, 4, 2, 1), nn.LeakyReLU(0.2),
                          nn.Conv2D(64, 128, 4, 2, 1), nn.BatchNorm2D(128), nn.LeakyReLU(0.2),
                          nn.Flatten(), nn.Dense(128 * 7 * 7, 1)).to(device)
        opt_d = optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
        opt_g = optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
        losses = gan_losses(G, D, data["real"], lambda: mg.randn(batch, LATENT_GAN, device=device),
                            F.binary_cross_entropy_with_logits,
                            mg.ones(batch, 1, device=device), mg.zeros(batch, 1, device=device))
        optimizers = [opt_d, opt_g]
    return losses, optimizers


def gan_losses(G, D, real, noise, bce_with_logits, ones, zeros):
    """W4's two losses, for either framework: D on real and on detached fake images, then G through D.

    Both use the fake batch that the D loss drew."""
    fake = {}

    def d_loss():
        fake["images"] = G(noise())
        return bce_with_logits(D(real), ones) + bce_with_logits(D(fake["images"].detach()), zeros)

    def g_loss():
        return bce_with_logits(D(fake["images"]), ones)
    return [d_loss, g_loss]


def training_step(losses, optimizers):
    """One step: for each loss in turn, backward and the update of its optimizer."""
    def step():
        for loss_fn, opt in zip(losses, optimizers):
            loss = loss_fn()
            opt.zero_grad()
            loss.backward()
            opt.step()
    return step


def minigrad_sync(device):
    if device == "cuda":
        import minigrad as mg
        mg.backend.gpu_module().cuda.Device().synchronize()


# --- PyTorch ----------------------------------------------------------------------

def torch_training(workload, batch, arrays, device):
    """``workload`` in PyTorch: its loss functions and the optimizer that follows each."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    data = {name: torch.from_numpy(a).to(device) for name, a in arrays.items()}
    if workload == "W1":
        model = nn.Sequential(nn.Linear(784, 256), nn.Sigmoid(), nn.Linear(256, 784), nn.Sigmoid()).to(device)
        optimizers = [torch.optim.RMSprop(model.parameters(), lr=1e-3, alpha=0.9, eps=1e-7)]
        x = data["x"]
        losses = [lambda: F.mse_loss(model(x), x)]
    elif workload == "W2":
        # Keras 'same' at stride 2, kernel 3: padding=1 (and output_padding=1 for the transposed ones)
        model = nn.Sequential(
            nn.Conv2d(1, 16, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(16, 8, 3, stride=2, padding=1), nn.ReLU(),
            nn.ConvTranspose2d(8, 8, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),
            nn.ConvTranspose2d(8, 16, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),
            nn.Conv2d(16, 1, 3, padding=1), nn.Sigmoid()).to(device)
        optimizers = [torch.optim.Adam(model.parameters(), lr=1e-3)]
        losses = [lambda: F.mse_loss(model(data["noisy"]), data["clean"])]
    elif workload == "W3":
        encoder, to_mu, to_logvar = nn.Linear(784, 400), nn.Linear(400, LATENT_VAE), nn.Linear(400, LATENT_VAE)
        decoder = nn.Sequential(nn.Linear(LATENT_VAE, 400), nn.ReLU(), nn.Linear(400, 784), nn.Sigmoid())
        layers = [m.to(device) for m in (encoder, to_mu, to_logvar, decoder)]
        optimizers = [torch.optim.Adam([p for m in layers for p in m.parameters()], lr=1e-3)]
        x = data["x"]

        def vae_loss():
            h = F.relu(encoder(x))
            mu, logvar = to_mu(h), to_logvar(h)
            z = mu + (0.5 * logvar).exp() * torch.randn(batch, LATENT_VAE, device=device)
            kl = -0.5 * (1 + logvar - mu * mu - logvar.exp()).sum()
            return F.binary_cross_entropy(decoder(z), x, reduction="sum") + kl
        losses = [vae_loss]
    else:
        G = nn.Sequential(nn.Linear(LATENT_GAN, 128 * 7 * 7), nn.Unflatten(1, (128, 7, 7)), nn.BatchNorm2d(128),
                          nn.ReLU(), nn.ConvTranspose2d(128, 64, 4, 2, 1), nn.BatchNorm2d(64), nn.ReLU(),
                          nn.ConvTranspose2d(64, 1, 4, 2, 1), nn.Tanh()).to(device)
        D = nn.Sequential(nn.Conv2d(1, 64, 4, 2, 1), nn.LeakyReLU(0.2),
                          nn.Conv2d(64, 128, 4, 2, 1), nn.BatchNorm2d(128), nn.LeakyReLU(0.2),
                          nn.Flatten(), nn.Linear(128 * 7 * 7, 1)).to(device)
        opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
        opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
        losses = gan_losses(G, D, data["real"], lambda: torch.randn(batch, LATENT_GAN, device=device),
                            F.binary_cross_entropy_with_logits,
                            torch.ones(batch, 1, device=device), torch.zeros(batch, 1, device=device))
        optimizers = [opt_d, opt_g]
    return losses, optimizers


def torch_sync(device):
    if device == "cuda":
        import torch
        torch.cuda.synchronize()


# --- one framework, one workload, in this process ------------------------------------

def worker(framework, workload, steps, warmup, threads, device):
    """Time ``steps`` training steps after ``warmup``; returns a JSON-ready dict."""
    batch = WORKLOADS[workload][1]
    arrays = batch_arrays(workload, batch)
    if framework == "torch":
        import torch
        torch.set_num_threads(threads)
        torch.manual_seed(0)
        training, sync = torch_training(workload, batch, arrays, device), torch_sync
    else:
        import minigrad as mg
        mg.manual_seed(0)
        training, sync = minigrad_training(workload, batch, arrays, device), minigrad_sync
    step = training_step(*training)
    for _ in range(warmup):
        step()
    sync(device)
    faults_before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    times = []
    cpu_start = time.process_time()
    for _ in range(steps):
        start = time.perf_counter()
        step()
        sync(device)
        times.append(time.perf_counter() - start)
    cpu = time.process_time() - cpu_start
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults_before
    return {"times": times, "cpu_per_step": cpu / steps, "peak_rss_mb": peak_rss_mb(),
            "gpu_pool_mb": gpu_pool_mb(framework) if device == "cuda" else None,
            "faults_per_step": faults / steps, "threads": threads_in_use(framework),
            "blas_kernel": blas_kernel()}


def gpu_pool_mb(framework):
    """GPU memory the framework's caching allocator holds at its peak (PyTorch) or now (CuPy's pool never shrinks)."""
    if framework == "torch":
        import torch
        return torch.cuda.max_memory_reserved() / 2 ** 20
    import minigrad as mg
    return mg.backend.gpu_module().get_default_memory_pool().total_bytes() / 2 ** 20


def peak_rss_mb():
    """This process's peak resident memory.

    VmHWM belongs to this process's own address space; ru_maxrss would also
    count the parent's size at fork time, which Linux carries across exec.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux; not /proc: may overcount


def threads_in_use(framework):
    if framework == "torch":
        import torch
        return torch.get_num_threads()
    import minigrad as mg
    own = mg.get_num_threads()
    return own if own > 1 else blas_threads()  # its own threads, or BLAS's when it leaves threading to BLAS


def blas_pool():
    """threadpoolctl's description of NumPy's BLAS in this process, or {} when it cannot tell."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return {}
    import numpy  # noqa: F401  (loads the BLAS library threadpoolctl looks for)
    return next((pool for pool in threadpool_info() if pool["user_api"] == "blas"), {})


def blas_threads():
    """Threads of NumPy's BLAS, or None when unknown."""
    return blas_pool().get("num_threads")


def blas_kernel():
    """The kernel family NumPy's OpenBLAS chose in this process, or None when unknown."""
    return blas_pool().get("architecture")


OPENBLAS_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def worker_environment(threads, openblas):
    """The environment of a worker: ``threads`` for every BLAS, OpenBLAS' kernel choice as ``openblas`` says."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads))
    if openblas in ("unset", "haswell"):
        for name in OPENBLAS_VARIABLES:
            env.pop(name, None)
    if openblas == "haswell":
        env["OPENBLAS_CORETYPE"] = "Haswell"
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    return env


def run_worker(framework, workload, args, threads):
    """Run one worker in a fresh Python and return its result."""
    command = [sys.executable, "-m", "benchmarks.bench", "--worker", framework, workload,
               "--steps", str(args.steps), "--warmup", str(args.warmup), "--threads", str(threads),
               "--device", args.device]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    done = subprocess.run(command, env=worker_environment(threads, args.openblas), capture_output=True, text=True,
                          cwd=root)
    if done.returncode != 0:
        raise RuntimeError(f"benchmark worker {framework} {workload} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- the table -------------------------------------------------------------------------

def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def summarize(runs):
    """Step-time statistics over every timed step of every repeat, in milliseconds."""
    times = [t * 1e3 for run in runs for t in run["times"]]
    return {"median": statistics.median(times), "p10": percentile(times, 0.1), "p90": percentile(times, 0.9),
            "peak_mb": max(run["peak_rss_mb"] for run in runs),
            "faults": statistics.median(run["faults_per_step"] for run in runs),
            "cpu": statistics.median(run["cpu_per_step"] * 1e3 for run in runs),
            "gpu_mb": max(run["gpu_pool_mb"] or 0 for run in runs),
            "threads": runs[0]["threads"]}


def table(results, frameworks):
    lines = []
    both = len(frameworks) == 2
    header = ["workload", "batch"]
    for fw in frameworks:
        header += [f"{fw} ms/step (p10-p90)", f"{fw} samples/s", f"{fw} peak MB"]
    if both:
        header += ["time ratio (range)", "memory ratio"]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "---|" * len(header))
    for workload, per_fw in results.items():
        batch = WORKLOADS[workload][1]
        row = [f"{workload} {WORKLOADS[workload][0]}", str(batch)]
        stats = {fw: summarize(per_fw[fw]) for fw in frameworks}
        for fw in frameworks:
            s = stats[fw]
            row += [f"{s['median']:.2f} ({s['p10']:.2f}-{s['p90']:.2f})", f"{batch / s['median'] * 1e3:,.0f}",
                    f"{s['peak_mb']:.0f}"]
        if both:
            ratios = [statistics.median(a["times"]) / statistics.median(b["times"])
                      for a, b in zip(per_fw["minigrad"], per_fw["torch"])]
            row += [f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f})",
                    f"{stats['minigrad']['peak_mb'] / stats['torch']['peak_mb']:.2f}x"]
        lines.append("| " + " | ".join(row) + " |")
    lines.append("")
    # CPU time counts every thread, busy-waiting ones included; with one thread each it shrugs off a busy machine
    rows = [("CPU ms per step, all threads", "cpu", 2), ("minor page faults per step", "faults", 0)]
    if any(run["gpu_pool_mb"] for per_fw in results.values() for runs in per_fw.values() for run in runs):
        rows.append(("GPU memory held by the allocator, MB", "gpu_mb", 0))
    for what, key, digits in rows:
        lines.append(f"{what} (median over repeats): " + "; ".join(
            f"{workload}: " + ", ".join(f"{fw} {summarize(per_fw[fw])[key]:.{digits}f}" for fw in frameworks)
            for workload, per_fw in results.items()))
    return "\n".join(lines)


def machine_description(threads, device):
    import numpy
    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    lines = [f"machine: {cpu}, {os.cpu_count()} logical cores; load average {os.getloadavg()[0]:.2f}",
             f"python {platform.python_version()}, numpy {numpy.__version__}"]
    try:
        from threadpoolctl import threadpool_info
        blas = [f"{p['internal_api']} {p['version']} ({p.get('architecture')}, {p['num_threads']} threads)"
                for p in threadpool_info() if p["user_api"] == "blas"]
        lines[-1] += f", BLAS: {', '.join(blas)}"
    except ImportError:
        lines[-1] += ", BLAS: unknown (install threadpoolctl to see it)"
    try:
        import torch
        lines.append(f"torch {torch.__version__}")
    except ImportError:
        lines.append("torch not installed")
    lines.append(f"threads per framework: {threads}; device: {device}")
    return "\n".join(lines)


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workloads", default="W1,W2,W3,W4", help="comma-separated, from W1,W2,W3,W4")
    parser.add_argument("--frameworks", default="minigrad,torch", help="comma-separated, from minigrad,torch")
    parser.add_argument("--steps", type=int, default=50, help="timed steps per run (default 50)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed steps before timing (default 10)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each framework, interleaved (default 3)")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for both frameworks (default: what NumPy's BLAS uses)")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--openblas", choices=("inherit", "unset", "haswell"), default="inherit",
                        help="OpenBLAS' kernel choice in the workers: the environment as it is (default), "
                             "OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE unset, or forced to Haswell")
    parser.add_argument("--quick", action="store_true", help="2 warm-up and 3 timed steps, one run (a smoke test)")
    parser.add_argument("--worker", nargs=2, metavar=("FRAMEWORK", "WORKLOAD"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.steps, args.warmup, args.repeat = 3, 2, 1
    args.workloads = [w.strip().upper() for w in args.workloads.split(",") if w.strip()]
    args.frameworks = [f.strip().lower() for f in args.frameworks.split(",") if f.strip()]
    unknown = [w for w in args.workloads if w not in WORKLOADS] + [f for f in args.frameworks if f not in FRAMEWORKS]
    if unknown:
        parser.error(f"unknown workloads/frameworks {unknown}; choose from {list(WORKLOADS)} and {list(FRAMEWORKS)}")
    if args.steps < 1 or args.warmup < 0 or args.repeat < 1:
        parser.error("--steps and --repeat must be at least 1, --warmup at least 0")
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.worker:
        framework, workload = args.worker
        print(json.dumps(worker(framework, workload, args.steps, args.warmup, args.threads, args.device)))
        return None
    threads = args.threads or blas_threads() or os.cpu_count()
    print(machine_description(threads, args.device))
    print(f"command: python -m benchmarks.bench {' '.join(argv if argv is not None else sys.argv[1:])}")
    print(f"{args.warmup} warm-up + {args.steps} timed steps per run, {args.repeat} runs per framework\n", flush=True)
    results = {w: {fw: [] for fw in args.frameworks} for w in args.workloads}
    for _ in range(args.repeat):
        for workload in args.workloads:
            for framework in args.frameworks:
                results[workload][framework].append(run_worker(framework, workload, args, threads))
    print(table(results, args.frameworks))
    kernels = sorted({str(run.get("blas_kernel")) for per_fw in results.values() for fw, runs in per_fw.items()
                      if fw == "minigrad" for run in runs})
    print(f"OpenBLAS kernel in the minigrad workers (--openblas {args.openblas}): {', '.join(kernels)}; "
          f"OPENBLAS_CORETYPE in this shell: {os.environ.get('OPENBLAS_CORETYPE', 'unset')}")
    return results


if __name__ == "__main__":
    main()
