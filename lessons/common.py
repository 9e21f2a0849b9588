"""The plumbing every lesson shares, so a lesson reads top to bottom like the textbook.

    run = Lesson("vae", __doc__, epochs=30, batch_size=128, lr=1e-3,
                 extra=lambda parser: parser.add_argument("--latent", type=int, default=2))
    x_train, y_train = run.subset(*mnist("train", root=run.args.data_dir))
    loader = DataLoader(x_train, batch_size=run.args.batch_size, shuffle=True, seed=run.args.seed,
                        device=run.device)
    ...build the model and optimizer...
    for epoch in run.epochs(model=model, optimizer=opt, loader=loader):
        for (xb,) in run.progress(loader):
            ...one training step...
        run.log(train_loss=train_loss, test_loss=test_loss)
    viz.image_rows({...}, run.figure("reconstructions.png"))
    run.finish(final={"test_loss": test_loss}, published={"test_loss": 0.092})

What ``Lesson`` does:

- parses the shared flags ``--epochs --batch-size --lr --device --seed --out
  --data-dir --quick --resume`` (plus the lesson's own, via ``extra``), seeds
  NumPy's global generator and minigrad's, and picks the device;
- ``epochs(**objects)`` yields the epoch numbers. After each epoch it writes
  ``checkpoint.npz`` in ``--out`` (atomically): the ``state_dict()`` of every
  object passed (models, optimizers, DataLoaders: anything with
  ``state_dict``/``load_state_dict``, and NumPy Generators), NumPy's and
  minigrad's global generators and the history. With ``--resume`` it restores all of that first and continues with
  the next epoch, so the run ends with exactly the numbers an uninterrupted
  run gives;
- ``progress(loader)`` shows a tqdm bar over one pass; under ``--quick`` it
  stops after a few batches (and ``subset`` keeps a few hundred samples);
- ``log(**metrics)`` prints one line per epoch,
  ``epoch 3/20  train_loss 0.0312  test_loss 0.0308  12.4s``, and records it;
- ``finish(final, published)`` writes ``metrics.json``: hyper-parameters,
  per-epoch history, final and published numbers, minigrad version, device,
  wall time.

Ctrl-C lets the current training step finish, then stops. The checkpoint
holds whole epochs only (a half-done epoch cannot be resumed exactly: its
running sums live in the lesson), so a Ctrl-C during the training loop keeps
the last finished epoch, and one after it (while evaluating or drawing)
finishes that epoch and saves it. Either way the message gives the command
that resumes. A second Ctrl-C stops at once.
"""
import argparse
import json
import shlex
import signal
import sys
import threading
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

import minigrad as mg
from minigrad import backend
from minigrad.io import atomic_file

QUICK_SAMPLES = 256   # samples kept by subset() under --quick
QUICK_BATCHES = 3     # batches per pass under --quick
CHECKPOINT = "checkpoint.npz"
METRICS = "metrics.json"
# Flags that may change between a run and its --resume without changing the numbers.
RESUMABLE_CHANGES = {"epochs", "resume", "out", "device", "data_dir"}


class Lesson:
    """One lesson run: its flags, output folder, checkpoints, progress bars and metrics."""

    def __init__(self, name, doc, *, epochs, batch_size, lr, seed=0, extra=None, default_out=None, argv=None):
        """``extra(parser)`` adds the lesson's own flags; ``default_out(args)`` names the output folder when
        --out is not given (default runs/<name>/, runs/<name>-quick/ under --quick), for lessons whose flags
        pick what is trained, so that one variant never overwrites another."""
        self.name = name
        self.description = (doc or "").strip().splitlines()[0] if (doc or "").strip() else name
        self._argv = list(sys.argv[1:] if argv is None else argv)
        self.args = self._parse(doc, epochs, batch_size, lr, seed, extra, default_out)
        self.quick = self.args.quick
        self.out = Path(self.args.out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.device = self._pick_device(self.args.device)
        np.random.seed(self.args.seed)
        mg.manual_seed(self.args.seed)
        self.history = []
        self.epoch = 0
        self._started = time.perf_counter()
        self._elapsed_before = 0.0      # wall time of the runs this one resumes
        self._epoch_started = None
        self._objects = {}
        self._interrupted = False

    # ------------------------------------------------------------ setup

    def _parse(self, doc, epochs, batch_size, lr, seed, extra, default_out):
        parser = argparse.ArgumentParser(prog=f"python -m {_module_name(self.name)}", description=doc,
                                         formatter_class=argparse.RawDescriptionHelpFormatter)
        parser.add_argument("--epochs", type=int, default=None,
                            help=f"passes over the training set (default {epochs}; 1 with --quick)")
        parser.add_argument("--batch-size", type=int, default=batch_size, help="mini-batch size (default %(default)s)")
        parser.add_argument("--lr", type=float, default=lr, help="learning rate (default %(default)s)")
        parser.add_argument("--device", choices=("cpu", "cuda"), default=None,
                            help="where to train (default: $MINIGRAD_DEVICE or cpu)")
        parser.add_argument("--seed", type=int, default=seed, help="seed of every random generator (default %(default)s)")
        parser.add_argument("--out", default=None,
                            help=f"folder for figures, metrics.json and the checkpoint (default runs/{self.name}/)")
        parser.add_argument("--data-dir", default=None,
                            help="folder holding mnist/, fashion-mnist/, ecg5000/ (default: see minigrad.data)")
        parser.add_argument("--quick", action="store_true",
                            help=f"smoke test: {QUICK_SAMPLES} samples, {QUICK_BATCHES} batches per pass, 1 epoch")
        parser.add_argument("--resume", action="store_true", help="continue from the checkpoint in --out")
        if extra is not None:
            extra(parser)
        args = parser.parse_args(self._argv)
        if args.epochs is None:
            args.epochs = 1 if args.quick else epochs
        if args.out is None and default_out is not None:
            args.out = str(default_out(args))
        elif args.out is None:
            # Quick smoke runs get their own folder so they never overwrite a real run.
            args.out = f"runs/{self.name}-quick" if args.quick else f"runs/{self.name}"
        return args

    @staticmethod
    def _pick_device(device):
        try:
            if device is not None:
                backend.set_default_device(device)
            return backend.get_default_device()
        except mg.DeviceError as error:
            raise SystemExit(f"cannot use device {device or 'from $MINIGRAD_DEVICE'}: {error}") from error

    def subset(self, *arrays):
        """Under --quick, the first QUICK_SAMPLES rows of each array; otherwise the arrays unchanged."""
        if self.quick:
            arrays = tuple(array[:QUICK_SAMPLES] for array in arrays)
        return arrays[0] if len(arrays) == 1 else arrays

    def figure(self, filename):
        """The path of a figure inside --out."""
        return self.out / filename

    # ------------------------------------------------------------ the training loop

    def epochs(self, **objects):
        """Yield 1, 2, ... --epochs; restore on --resume; checkpoint after each epoch.

        ``objects`` are named things with ``state_dict()`` / ``load_state_dict()``
        (model=..., optimizer=..., loader=...) or NumPy Generators the lesson
        draws noise from (noise_rng=...); the names are the checkpoint's keys.
        """
        self._objects = objects
        first = self._restore() + 1 if self.args.resume else 1
        previous_handler = self._catch_ctrl_c()
        try:
            for epoch in range(first, self.args.epochs + 1):
                self.epoch = epoch
                self._epoch_started = time.perf_counter()
                yield epoch
                if not self.history or self.history[-1]["epoch"] != epoch:
                    self.log()  # the lesson logged nothing: still one line per epoch
                self._save_checkpoint()
                if self._interrupted:
                    self._stop(f"Interrupted after epoch {epoch}/{self.args.epochs}; its checkpoint is saved.")
        finally:
            if previous_handler is not None:
                signal.signal(signal.SIGINT, previous_handler)

    def progress(self, loader, desc=None):
        """Iterate over ``loader`` behind a progress bar; stop early under --quick or after Ctrl-C."""
        total = min(len(loader), QUICK_BATCHES) if self.quick else len(loader)
        bar = tqdm(total=total, desc=desc or f"epoch {self.epoch}/{self.args.epochs}", leave=False,
                   disable=None, dynamic_ncols=True)
        try:
            for step, batch in enumerate(loader):
                if step == total:
                    break
                yield batch
                bar.update()
                if self._interrupted:
                    self._stop(f"Interrupted in epoch {self.epoch}/{self.args.epochs} after step {step + 1} "
                               f"of {total}; that unfinished epoch is not saved.")
        finally:
            bar.close()

    def log(self, **metrics):
        """Record this epoch's numbers and print them on one line."""
        record = {"epoch": self.epoch}
        record.update({name: _number(value) for name, value in metrics.items()})
        record["seconds"] = round(time.perf_counter() - self._epoch_started, 3)
        if self.history and self.history[-1]["epoch"] == self.epoch:
            self.history[-1] = record  # logged twice in one epoch: the last call wins
        else:
            self.history.append(record)
        tqdm.write(format_epoch_line(record, self.args.epochs))

    def finish(self, final=None, published=None):
        """Write metrics.json and print the final numbers next to the published ones."""
        metrics = {
            "lesson": self.name,
            "description": self.description,
            "hyperparameters": {key: value for key, value in vars(self.args).items() if key != "resume"},
            "history": self.history,
            "final": _plain(final or {}),
            "published": _plain(published or {}),
            "minigrad_version": mg.__version__,
            "device": self.device,
            "wall_time_s": round(self._elapsed(), 3),
        }
        with atomic_file(self.out / METRICS) as f:
            f.write(json.dumps(metrics, indent=2, default=_number).encode())
        for name, value in (final or {}).items():
            reference = (published or {}).get(name)
            note = f"   (published: {_format_number(_number(reference))})" if reference is not None else ""
            tqdm.write(f"final {name} {_format_number(_number(value))}{note}")
        tqdm.write(f"wrote {self.out}/")
        return metrics

    # ------------------------------------------------------------ checkpoints

    def _save_checkpoint(self):
        state = {
            "lesson": self.name,
            "epoch": self.epoch,
            "args": vars(self.args),
            "history": self.history,
            "elapsed_s": self._elapsed(),
            "objects": {name: _state_of(obj) for name, obj in self._objects.items()},
            "rng": {"minigrad": mg.get_rng_state(), "numpy": np.random.get_state(legacy=False)},
        }
        mg.save(state, self.out / CHECKPOINT)

    def _restore(self):
        """Load the checkpoint into the objects and generators; return the epoch it holds."""
        path = self.out / CHECKPOINT
        if not path.is_file():
            raise SystemExit(f"--resume: there is no checkpoint at {path}; run without --resume to start.")
        state = mg.load(path)
        if state["lesson"] != self.name:
            raise SystemExit(f"--resume: {path} belongs to lesson {state['lesson']!r}, not {self.name!r}")
        missing = set(self._objects) - set(state["objects"])
        if missing:
            raise SystemExit(f"--resume: {path} has no state for {sorted(missing)}")
        changed = {key: (state["args"].get(key), value) for key, value in vars(self.args).items()
                   if key not in RESUMABLE_CHANGES and state["args"].get(key) != value}
        if changed:
            tqdm.write("warning: resuming with other settings than the checkpoint's, so the numbers will differ "
                       "from an uninterrupted run: "
                       + ", ".join(f"{key} {old} -> {new}" for key, (old, new) in changed.items()))
        for name, obj in self._objects.items():
            _load_state(obj, state["objects"][name])
        mg.set_rng_state(state["rng"]["minigrad"])
        np.random.set_state(state["rng"]["numpy"])
        self.history = list(state["history"])
        self._elapsed_before = state["elapsed_s"]
        tqdm.write(f"resumed from {path} after epoch {state['epoch']}")
        return state["epoch"]

    def _elapsed(self):
        return self._elapsed_before + time.perf_counter() - self._started

    # ------------------------------------------------------------ Ctrl-C

    def _catch_ctrl_c(self):
        """Turn the first Ctrl-C into a request to stop after the current step."""
        if threading.current_thread() is not threading.main_thread():
            return None  # signal handlers can only be set from the main thread

        def request_stop(signum, frame):
            self._interrupted = True
            signal.signal(signal.SIGINT, signal.default_int_handler)  # a second Ctrl-C stops at once
            tqdm.write("\nCtrl-C: finishing the current step, then stopping (Ctrl-C again to stop at once)")

        return signal.signal(signal.SIGINT, request_stop)

    def _stop(self, what_happened):
        checkpoint = self.out / CHECKPOINT
        if checkpoint.is_file():
            resume = shlex.join([Path(sys.executable).name, "-m", _module_name(self.name)]
                                + [arg for arg in self._argv if arg != "--resume"] + ["--resume"])
            advice = f"The checkpoint {checkpoint} holds {len(self.history)} epoch(s). Resume with:\n  {resume}"
        else:
            advice = "No epoch has finished yet, so there is nothing to resume: run the same command again."
        raise SystemExit(f"{what_happened}\n{advice}")


def _state_of(obj):
    if isinstance(obj, np.random.Generator):
        return obj.bit_generator.state
    return obj.state_dict()


def _load_state(obj, state):
    if isinstance(obj, np.random.Generator):
        obj.bit_generator.state = state
    else:
        obj.load_state_dict(state)


def format_epoch_line(record, epochs):
    """``epoch 3/20  train_loss 0.0312  test_loss 0.0308  12.4s``: stable and easy to parse."""
    fields = [f"epoch {record['epoch']}/{epochs}"]
    fields += [f"{name} {_format_number(value)}" for name, value in record.items() if name not in ("epoch", "seconds")]
    fields.append(f"{record['seconds']:.1f}s")
    return "  ".join(fields)


def _format_number(value):
    return str(value) if isinstance(value, int) else f"{value:.4g}"


def _number(value):
    """A Python int or float from a number, a NumPy scalar or a one-element Tensor."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, (bool, int)):
        return int(value)
    return float(value)


def _plain(values):
    return {name: _number(value) for name, value in values.items()}


def _module_name(name):
    """The module to run with ``python -m``: the running lesson's own, else lessons.NAME."""
    main_spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    if main_spec is not None and main_spec.name.startswith("lessons."):
        return main_spec.name
    return f"lessons.{name}"
