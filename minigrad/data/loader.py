"""DataLoader: mini-batches of several aligned arrays, shuffled reproducibly."""
import math

import numpy as np

from .. import backend


class DataLoader:
    """Iterate over aligned arrays in mini-batches.

    ``DataLoader(x, y, batch_size=128, shuffle=True, seed=0)`` yields tuples
    ``(x_batch, y_batch)``, one per batch, in one pass over the data (so
    ``for xb, yb in loader`` is one epoch). Each pass with ``shuffle=True``
    draws a fresh permutation from the loader's own ``np.random.Generator``,
    so a seed fixes the whole sequence of epochs; ``state_dict()`` /
    ``load_state_dict()`` save and restore that generator, so a resumed run
    continues with the very permutations the uninterrupted run would draw.
    Taken in the middle of a pass, the state also holds the generator as it
    was when the pass began and how many batches the pass has yielded: a
    loader that loads it replays the rest of that pass, same order, from
    the next batch on. A pass left early (``break``) counts as finished.

    Batches are gathered with one fancy index per array (no per-sample
    loop). They are NumPy arrays of the arrays' own dtype; converting to
    float and scaling is the caller's job. Without shuffling a batch is a
    view of the array (read-only when the array is, as the datasets are). With ``device='cuda'`` each batch
    is moved with ``minigrad.backend.to_device``.
    """

    def __init__(self, *arrays, batch_size, shuffle=False, drop_last=False, seed=None, device=None):
        if len(arrays) == 1 and isinstance(arrays[0], tuple):
            arrays = arrays[0]  # DataLoader((x, y), ...) means DataLoader(x, y, ...)
        if not arrays:
            raise ValueError("DataLoader needs at least one array")
        arrays = tuple(array if hasattr(array, "shape") else np.asarray(array) for array in arrays)
        if int(batch_size) != batch_size or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got {batch_size!r}")
        lengths = [len(array) for array in arrays]
        if len(set(lengths)) != 1:
            raise ValueError(f"DataLoader: all arrays must have the same length, got lengths {lengths}")
        self.arrays = arrays
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.device = device
        self.rng = np.random.default_rng(seed)
        self._pass = None    # [generator state when the pass in progress began, batches it has yielded]
        self._replay = None  # (that state, batches to skip) of a mid-pass state just loaded

    @property
    def num_samples(self):
        return len(self.arrays[0])

    def __len__(self):
        """Number of batches in one pass."""
        if self.drop_last:
            return self.num_samples // self.batch_size
        return math.ceil(self.num_samples / self.batch_size)

    def __iter__(self):
        first = 0
        if self._replay is not None:
            self.rng.bit_generator.state, first = self._replay
            self._replay = None
        # The permutation is drawn when the pass starts, so the generator
        # state saved between passes fixes every later pass.
        self._pass = [self.rng.bit_generator.state, first]
        order = self.rng.permutation(self.num_samples) if self.shuffle else None
        try:
            for batch in range(first, len(self)):
                start = batch * self.batch_size
                rows = slice(start, start + self.batch_size) if order is None else order[start:start + self.batch_size]
                self._pass[1] = batch + 1  # counted before the yield: the caller holds this batch from now on
                yield tuple(self._place(array[rows]) for array in self.arrays)
        finally:
            self._pass = None

    def _place(self, batch):
        return batch if self.device is None else backend.to_device(batch, self.device)

    def state_dict(self):
        """JSON-friendly: the shuffling generator's state, and where a pass in progress stands."""
        in_progress = self._pass or self._replay
        if not in_progress:
            return {"rng": self.rng.bit_generator.state}
        pass_start, batches_done = in_progress
        return {"rng": pass_start, "batches_done": batches_done,
                "num_samples": self.num_samples, "batch_size": self.batch_size}

    def load_state_dict(self, state):
        """Restore a state_dict(); one taken mid-pass must come from a loader of the same data and batch size."""
        if not isinstance(state, dict) or not isinstance(state.get("rng"), dict):
            raise ValueError(f"DataLoader.load_state_dict: expected a dict with the generator state under 'rng', "
                             f"got {state!r:.80}")
        done = state.get("batches_done", 0)
        if done:
            mine = {"num_samples": self.num_samples, "batch_size": self.batch_size}
            theirs = {key: state.get(key) for key in mine}
            if theirs != mine:
                raise ValueError(f"DataLoader.load_state_dict: the state was taken {done} batches into a pass over "
                                 f"{theirs['num_samples']} samples in batches of {theirs['batch_size']}; this loader "
                                 f"has {mine['num_samples']} samples in batches of {mine['batch_size']}, so the rest "
                                 f"of that pass cannot be replayed")
            if not isinstance(done, int) or isinstance(done, bool) or not 0 < done <= len(self):
                raise ValueError(f"DataLoader.load_state_dict: batches_done must be an integer in 0..{len(self)}, "
                                 f"got {done!r}")
        trial = np.random.default_rng()
        try:
            trial.bit_generator.state = state["rng"]
        except (TypeError, ValueError, KeyError) as error:
            raise ValueError(f"DataLoader.load_state_dict: 'rng' is not a {type(trial.bit_generator).__name__} "
                             f"state ({error})") from None
        self.rng.bit_generator.state = state["rng"]
        self._replay = (state["rng"], done) if done else None
