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

    @property
    def num_samples(self):
        return len(self.arrays[0])

    def __len__(self):
        """Number of batches in one pass."""
        if self.drop_last:
            return self.num_samples // self.batch_size
        return math.ceil(self.num_samples / self.batch_size)

    def __iter__(self):
        # The permutation is drawn when the pass starts, so the generator
        # state saved between passes fixes every later pass.
        order = self.rng.permutation(self.num_samples) if self.shuffle else None
        for batch in range(len(self)):
            start = batch * self.batch_size
            rows = slice(start, start + self.batch_size) if order is None else order[start:start + self.batch_size]
            yield tuple(self._place(array[rows]) for array in self.arrays)

    def _place(self, batch):
        return batch if self.device is None else backend.to_device(batch, self.device)

    def state_dict(self):
        """The shuffling generator's state (a JSON-friendly dict)."""
        return {"rng": self.rng.bit_generator.state}

    def load_state_dict(self, state):
        self.rng.bit_generator.state = state["rng"]
