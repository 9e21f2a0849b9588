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
  --data-dir --quick --resume --overwrite`` (plus the lesson's own, via
  ``extra``), refusing bad numbers (``--lr inf``, ``--seed -1``, ``--epochs 0``)
  and a ``--data-dir`` that does not exist, seeds NumPy's global generator
  and minigrad's, and picks the device;
- claims the output folder. A run holds a lock on it (the file ``.lock``,
  holding its PID, gone when the run ends), so a second run into the same
  folder is refused while the first is alive. A fresh run never replaces an
  earlier run's checkpoint: into the default folder (``runs/NAME/``) it goes
  to the first free numbered sibling, ``runs/NAME-2/``, ``runs/NAME-3/`` (as
  TensorBoard's and Lightning's ``version_N``), and says so, so the README's
  command run twice just works and keeps both runs; into a folder named with
  ``--out`` it is refused with the three ways on (``--resume`` continues the
  earlier run, ``--overwrite`` replaces it, another ``--out`` keeps both);
- ``epochs(**objects)`` yields the epoch numbers. After each epoch it writes
  ``checkpoint.npz`` in ``--out`` (atomically): the ``state_dict()`` of every
  object passed (models, optimizers, DataLoaders: anything with
  ``state_dict``/``load_state_dict``, and NumPy Generators), NumPy's and
  minigrad's global generators and the history. With ``--resume`` it restores all of that first and continues with
  the next epoch, so the run ends with exactly the numbers an uninterrupted
  run gives. A resumed run keeps the settings it was started with: a flag left
  out takes the checkpoint's value, one given with another value is refused
  (only ``--epochs``, ``--device`` and ``--data-dir`` may change), so
  metrics.json states what ran. A resumed run with no epoch left to train
  prints the numbers it ended with and exits;
- ``progress(loader)`` shows a tqdm bar over one pass; under ``--quick`` it
  stops after a few batches (and ``subset`` keeps a few hundred samples);
- ``log(**metrics)`` prints one line per epoch,
  ``epoch 3/20  train_loss 0.0312  test_loss 0.0308  12.4s``, and records it.
  A NaN or infinite number stops the run there: the message names the epoch
  and the last finite value, metrics.json gets the history so far, and the
  checkpoint stays the last finite epoch's;
- ``finish(final, published)`` writes ``metrics.json``: hyper-parameters,
  per-epoch history, final and published numbers, minigrad version, device,
  wall time. A ``--quick`` run says, when it starts and when it ends, that
  its numbers are a smoke test, and prints no published number beside them;
- a dataset that cannot be found is told by its message alone (where it was
  looked for, how to get it), without the traceback above it, and a run that
  ends before writing anything leaves no empty folder behind.

Ctrl-C lets the current training step finish, then stops. The checkpoint
holds whole epochs only (a half-done epoch cannot be resumed exactly: its
running sums live in the lesson; the DataLoader's own state would replay the
rest of the pass exactly), so a Ctrl-C during the training loop keeps
the last finished epoch, and one after it (while evaluating or drawing)
finishes that epoch and saves it. Either way metrics.json records the
finished epochs' history with a ``stopped`` line saying where the run was
interrupted (no final numbers: the run did not get to them), and the message
gives the command that resumes. A second Ctrl-C stops at once.
"""
import argparse
import contextlib
import fcntl
import itertools
import json
import math
import os
import shlex
import signal
import sys
import threading
import time
import weakref
from pathlib import Path

import numpy as np
from tqdm import tqdm

import minigrad as mg
from minigrad import backend
from minigrad.data import ChecksumError, DatasetNotFoundError
from minigrad.io import atomic_file, remove_stale_temporaries

QUICK_SAMPLES = 256   # samples kept by subset() under --quick
QUICK_BATCHES = 3     # batches per pass under --quick
QUICK_BANNER = (f"--quick: a smoke test ({QUICK_SAMPLES} samples, {QUICK_BATCHES} batches per pass): its numbers show "
                "that the lesson runs, not what the lesson reaches; run it without --quick for those")
CHECKPOINT = "checkpoint.npz"
METRICS = "metrics.json"
LOCK = ".lock"
# Where and how this one run goes: never taken from the checkpoint a --resume continues.
MACHINE_FLAGS = {"resume", "overwrite", "out", "device", "data_dir"}
# Flags that may change between a run and its --resume; every other one keeps the checkpoint's value.
RESUMABLE_CHANGES = MACHINE_FLAGS | {"epochs"}
SEED_LIMIT = 2**32  # NumPy's legacy global generator takes seeds in 0 .. 2**32 - 1


class Lesson:
    """One lesson run: its flags, output folder, checkpoints, progress bars and metrics."""

    def __init__(self, name, doc, *, epochs, batch_size, lr, seed=0, extra=None, default_out=None, argv=None):
        """``extra(parser)`` adds the lesson's own flags; ``default_out(args)`` names the output folder when
        --out is not given (default runs/<name>/, runs/<name>-quick/ under --quick), for lessons whose flags
        pick what is trained, so that one variant never overwrites another."""
        self.name = name
        self.description = (doc or "").strip().splitlines()[0] if (doc or "").strip() else name
        self._argv = list(sys.argv[1:] if argv is None else argv)
        self.args, self._given = self._parse(doc, epochs, batch_size, lr, seed, extra, default_out)
        self.out = Path(self.args.out)
        self._lock = self._claim_folder()
        self._saved = self._read_checkpoint() if self.args.resume else None
        if self.args.epochs is None:
            self.args.epochs = 1 if self.args.quick else epochs
        self.quick = self.args.quick
        if self.quick:
            tqdm.write(QUICK_BANNER)
        sys.excepthook = _data_errors_in_their_own_words
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
        """The flags, and the names of those given on the command line (a resumed run takes the others
        from its checkpoint)."""
        parser = argparse.ArgumentParser(prog=f"python -m {_module_name(self.name)}", description=doc,
                                         formatter_class=argparse.RawDescriptionHelpFormatter)
        parser.add_argument("--epochs", type=positive_int, default=None,
                            help=f"passes over the training set (default {epochs}; 1 with --quick)")
        parser.add_argument("--batch-size", type=positive_int, default=batch_size,
                            help="mini-batch size (default %(default)s)")
        parser.add_argument("--lr", type=positive_number, default=lr, help="learning rate (default %(default)s)")
        parser.add_argument("--device", choices=("cpu", "cuda"), default=None,
                            help="where to train (default: $MINIGRAD_DEVICE or cpu)")
        parser.add_argument("--seed", type=_seed, default=seed,
                            help=f"seed of every random generator, 0 .. {SEED_LIMIT - 1} (default %(default)s)")
        parser.add_argument("--out", default=None,
                            help=f"folder for figures, metrics.json and the checkpoint (default runs/{self.name}/; "
                                 f"when that holds an earlier run, runs/{self.name}-2/, ...)")
        parser.add_argument("--data-dir", type=_existing_folder, default=None,
                            help="folder holding mnist/, fashion-mnist/, ecg5000/ (default: see minigrad.data)")
        parser.add_argument("--quick", action="store_true",
                            help=f"smoke test: {QUICK_SAMPLES} samples, {QUICK_BATCHES} batches per pass, 1 epoch")
        parser.add_argument("--resume", action="store_true", help="continue from the checkpoint in --out")
        parser.add_argument("--overwrite", action="store_true",
                            help="start afresh in --out, replacing the earlier run's checkpoint and metrics")
        if extra is not None:
            extra(parser)
        args = parser.parse_args(self._argv)
        if args.resume and args.overwrite:
            parser.error("--resume continues the run in --out and --overwrite replaces it: give one of them")
        # A namespace already holding every name keeps the ones the command line does not set.
        given = parser.parse_args(self._argv, namespace=argparse.Namespace(**{key: _NOT_GIVEN for key in vars(args)}))
        given = {key for key, value in vars(given).items() if value is not _NOT_GIVEN}
        if args.out is None and default_out is not None:
            args.out = str(default_out(args))
        elif args.out is None:
            # Quick smoke runs get their own folder so they never overwrite a real run.
            args.out = f"runs/{self.name}-quick" if args.quick else f"runs/{self.name}"
        return args, given

    def _claim_folder(self):
        """Lock the output folder; move a fresh run out of the way of an earlier one (see the module docstring)."""
        lock = _FolderLock.take(self.out)
        remove_stale_temporaries(self.out / CHECKPOINT)
        remove_stale_temporaries(self.out / METRICS)
        if self.args.resume or not _holds_a_run(self.out):
            return lock
        if self.args.overwrite:
            for filename in (CHECKPOINT, METRICS):
                (self.out / filename).unlink(missing_ok=True)
            tqdm.write(f"--overwrite: removed the earlier run's {CHECKPOINT} and {METRICS} from {self.out}/")
            return lock
        lock.release()
        if "out" in self._given:
            raise SystemExit(f"{self.out}/ holds an earlier run ({_run_files(self.out)}), which this run would "
                             f"replace. Continue it with --resume, replace it with --overwrite, or keep both "
                             f"with another --out.")
        earlier = self.out
        for number in itertools.count(2):
            self.out = earlier.with_name(f"{earlier.name}-{number}")
            if _holds_a_run(self.out):
                continue
            try:
                lock = _FolderLock.take(self.out)
            except SystemExit:
                continue  # another run is starting there right now
            if not _holds_a_run(self.out):
                break
            lock.release()
        self.args.out = str(self.out)
        tqdm.write(f"{earlier}/ holds an earlier run, kept as it is; this run writes into {self.out}/ "
                   f"(--overwrite would replace the earlier run instead)")
        return lock

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
        first = self._restore() + 1 if self._saved is not None else 1
        if first > self.args.epochs:
            self._nothing_left_to_train()
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
        """Record this epoch's numbers and print them on one line; stop the run at a NaN or infinite one."""
        record = {"epoch": self.epoch}
        record.update({name: _number(value) for name, value in metrics.items()})
        record["seconds"] = round(time.perf_counter() - self._epoch_started, 3)
        tqdm.write(format_epoch_line(record, self.args.epochs))
        diverged = [name for name, value in record.items() if not math.isfinite(value)]
        if diverged:
            self._stop_diverged(record, diverged[0])
        if self.history and self.history[-1]["epoch"] == self.epoch:
            self.history[-1] = record  # logged twice in one epoch: the last call wins
        else:
            self.history.append(record)

    def finish(self, final=None, published=None):
        """Write metrics.json and print the final numbers next to the published ones (not under --quick)."""
        metrics = self._write_metrics(final or {}, published or {})
        for name, value in (final or {}).items():
            tqdm.write(self._final_line(name, value, published or {}))
        if self.quick:
            tqdm.write(QUICK_BANNER)
        tqdm.write(f"wrote {self.out}/")
        self._lock.release()
        return metrics

    def _final_line(self, name, value, published):
        """``final NAME VALUE``, with the published number beside it, unless this run is a --quick smoke test."""
        reference = published.get(name)
        note = "" if reference is None or self.quick else f"   (published: {_format_number(_number(reference))})"
        return f"final {name} {_format_number(_number(value))}{note}"

    def _write_metrics(self, final, published, stopped=None):
        metrics = {
            "lesson": self.name,
            "description": self.description,
            "hyperparameters": {key: value for key, value in vars(self.args).items()
                                if key not in ("resume", "overwrite")},
            "history": self.history,
            "final": _plain(final),
            "published": _plain(published),
            "minigrad_version": mg.__version__,
            "device": self.device,
            "wall_time_s": round(self._elapsed(), 3),
        }
        if stopped is not None:
            metrics["stopped"] = stopped
        with atomic_file(self.out / METRICS) as f:
            f.write(json.dumps(metrics, indent=2, default=_number).encode())
        return metrics

    def _stop_diverged(self, record, name):
        """End the run at the first NaN or infinite number, keeping everything up to the last finite epoch."""
        earlier = [previous for previous in self.history if previous["epoch"] < self.epoch and name in previous]
        last = (f"its last finite value was {_format_number(earlier[-1][name])} in epoch {earlier[-1]['epoch']}"
                if earlier else "it was never finite")
        what = f"{name} became {record[name]} in epoch {self.epoch}/{self.args.epochs} ({last})"
        self.history = [previous for previous in self.history if previous["epoch"] < self.epoch]
        self._write_metrics({}, {}, stopped=what)
        checkpoint = (f"{self.out / CHECKPOINT} holds epoch {self.history[-1]['epoch']}, the last finite one"
                      if self.history else "no epoch finished, so there is no checkpoint")
        self._lock.release()
        raise SystemExit(f"Stopped: {what}. Training diverged; a smaller --lr usually cures it (start again with "
                         f"--overwrite). {self.out / METRICS} holds the history up to there; {checkpoint}.")

    def _nothing_left_to_train(self):
        """A --resume whose checkpoint already holds every epoch asked for: show where it ended, and exit."""
        done = self.history[-1]["epoch"] if self.history else 0
        tqdm.write(f"--resume: {self.out / CHECKPOINT} already holds {done} epoch(s), and --epochs is "
                   f"{self.args.epochs}: nothing left to train (pass a larger --epochs to train on).")
        if self.history:
            tqdm.write(format_epoch_line(self.history[-1], done))
        try:
            finished = json.loads((self.out / METRICS).read_text())
        except (OSError, ValueError):
            finished = None
        if (finished and "stopped" not in finished
                and [r["epoch"] for r in finished.get("history", [])] == [r["epoch"] for r in self.history]):
            for name, value in finished.get("final", {}).items():
                tqdm.write(self._final_line(name, value, finished.get("published", {})))
        else:
            tqdm.write("(the run stopped before writing its final numbers and figures; --overwrite starts it again)")
        self._lock.release()
        raise SystemExit(0)

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

    def _read_checkpoint(self):
        """The checkpoint --resume continues from, checked; the settings it ran with replace the flags left out."""
        path = self.out / CHECKPOINT
        if not path.is_file():
            self._lock.release()
            raise SystemExit(f"--resume: there is no checkpoint at {path}; run without --resume to start.")
        try:
            state = mg.load(path)
            _check_checkpoint(state)
        except ValueError as error:
            self._lock.release()
            raise SystemExit(f"--resume: cannot resume from {path}: {error}") from None
        if state["lesson"] != self.name:
            self._lock.release()
            raise SystemExit(f"--resume: {path} belongs to lesson {state['lesson']!r}, not {self.name!r}")
        saved = state["args"]
        changed = [key for key, value in vars(self.args).items()
                   if key in saved and key in self._given and key not in RESUMABLE_CHANGES and saved[key] != value]
        if changed:
            self._lock.release()
            flags = ", ".join(f"{_flag(key)} {_shown(saved[key])} (here {_shown(getattr(self.args, key))})"
                              for key in changed)
            raise SystemExit(f"--resume: {path} was trained with {flags}. A resumed run keeps the settings it "
                             f"started with (its optimizer and generators carry them on), so drop "
                             f"{' '.join(_flag(key) for key in changed)} to continue it, or start a new run with "
                             f"them: without --resume, with --overwrite or another --out.")
        for key, value in saved.items():
            if key in vars(self.args) and key not in self._given and key not in MACHINE_FLAGS:
                setattr(self.args, key, value)
        return state

    def _restore(self):
        """Load the checkpoint into the objects and generators; return the epoch it holds."""
        path, state = self.out / CHECKPOINT, self._saved
        missing = set(self._objects) - set(state["objects"])
        if missing:
            self._lock.release()
            raise SystemExit(f"--resume: {path} has no state for {sorted(missing)}")
        for name, obj in self._objects.items():
            try:
                _load_state(obj, state["objects"][name])
            except (ValueError, TypeError, KeyError) as error:
                self._lock.release()
                raise SystemExit(f"--resume: {path} does not fit this run: {name}: {error}") from None
        try:
            mg.set_rng_state(state["rng"]["minigrad"])
            np.random.set_state(state["rng"]["numpy"])
        except (ValueError, TypeError, KeyError) as error:
            self._lock.release()
            raise SystemExit(f"--resume: {path} holds a bad generator state under 'rng': {error}") from None
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
        """End an interrupted run: metrics.json records the finished epochs (if any), the message how to resume."""
        checkpoint = self.out / CHECKPOINT
        if self.history:
            self._write_metrics({}, {}, stopped=what_happened)
        if checkpoint.is_file():
            argv = [arg for arg in self._argv if arg not in ("--resume", "--overwrite")]
            if "out" not in self._given:
                argv += ["--out", str(self.out)]  # the default folder may have been a numbered sibling
            resume = shlex.join([Path(sys.executable).name, "-m", _module_name(self.name)] + argv + ["--resume"])
            advice = f"The checkpoint {checkpoint} holds {len(self.history)} epoch(s). Resume with:\n  {resume}"
        else:
            advice = "No epoch has finished yet, so there is nothing to resume: run the same command again."
        self._lock.release()
        raise SystemExit(f"{what_happened}\n{advice}")


class _FolderLock:
    """An exclusive lock on a run folder: ``.lock`` inside it, holding the owner's PID.

    The lock is the operating system's (flock), so a killed run never leaves a
    folder locked; the file goes when the run ends or its Lesson is dropped.
    """

    def __init__(self, descriptor, path):
        self._release = weakref.finalize(self, _unlock, descriptor, path)

    @classmethod
    def take(cls, folder):
        path = folder / LOCK
        while True:
            folder.mkdir(parents=True, exist_ok=True)  # again after a run that ended empty removed it
            descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                owner = os.read(descriptor, 32).decode(errors="replace").strip() or "unknown"
                os.close(descriptor)
                raise SystemExit(f"{folder}/ is in use by another run (PID {owner}). Wait for it to end, or give "
                                 f"this run another --out.") from None
            try:
                if os.stat(path).st_ino == os.fstat(descriptor).st_ino:
                    break
            except FileNotFoundError:
                pass
            os.close(descriptor)  # the owner removed the file as we opened it: lock the new one
        os.ftruncate(descriptor, 0)
        os.write(descriptor, f"{os.getpid()}\n".encode())
        return cls(descriptor, path)

    def release(self):
        self._release()


def _unlock(descriptor, path):
    path.unlink(missing_ok=True)  # while still locked, so a waiting run sees the file is gone
    os.close(descriptor)
    with contextlib.suppress(OSError):  # not empty: the run wrote something there
        path.parent.rmdir()  # a run that failed before writing anything leaves no empty folder behind


def _data_errors_in_their_own_words(kind, error, traceback):
    """sys.excepthook of a lesson: a dataset that cannot be had is told by its message alone, which says where
    minigrad looked and how to fix it (a traceback above it would bury that); other errors keep theirs."""
    if isinstance(error, (DatasetNotFoundError, ChecksumError)):
        print(f"{kind.__name__}: {error}", file=sys.stderr)
    else:
        sys.__excepthook__(kind, error, traceback)


def _holds_a_run(folder):
    return any((folder / filename).is_file() for filename in (CHECKPOINT, METRICS))


def _run_files(folder):
    return ", ".join(filename for filename in (CHECKPOINT, METRICS) if (folder / filename).is_file())


def _check_checkpoint(state):
    """Raise ValueError naming the first entry a lesson checkpoint must hold and this one lacks."""
    expected = {"lesson": str, "epoch": int, "args": dict, "history": list, "elapsed_s": (int, float),
                "objects": dict, "rng": dict}
    if not isinstance(state, dict):
        raise ValueError(f"it holds a {type(state).__name__}, not a lesson checkpoint")
    for key, kind in expected.items():
        if not isinstance(state.get(key), kind) or isinstance(state.get(key), bool):
            raise ValueError(f"its entry {key!r} should be a {getattr(kind, '__name__', 'number')}, "
                             f"found {_shown(state.get(key))}")
    if state["epoch"] < 0 or len(state["history"]) != state["epoch"]:
        raise ValueError(f"its epoch {state['epoch']} does not match its history of {len(state['history'])} epochs")


def positive_int(text):
    """argparse type for a count (epochs, batch size, a lesson's own --n-critic ...): a whole number >= 1."""
    value = _parsed(text, int, "a whole number")
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text}")
    return value


def positive_number(text):
    """argparse type for a rate or a scale: a finite number > 0."""
    value = _parsed(text, float, "a number")
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text}")
    return value


def _seed(text):
    value = _parsed(text, int, "a whole number")
    if not 0 <= value < SEED_LIMIT:
        raise argparse.ArgumentTypeError(f"expected a whole number from 0 to {SEED_LIMIT - 1}, got {text}")
    return value


def _existing_folder(text):
    if not Path(text).expanduser().is_dir():
        raise argparse.ArgumentTypeError(f"expected an existing folder, got {text}, which "
                                         f"{'is a file' if Path(text).exists() else 'does not exist'}")
    return text


def _parsed(text, kind, what):
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None


def _flag(key):
    return "--" + key.replace("_", "-")


def _shown(value):
    return repr(value) if isinstance(value, str) else str(value)


_NOT_GIVEN = object()


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
