"""The datasets of the course, as NumPy arrays.

Decoded arrays are cached in memory for the life of the process (decoding
60,000 images takes a noticeable fraction of a second) and returned
read-only so no caller can corrupt the cache: call ``.copy()`` to get an
array you may modify, or convert (``x.astype(np.float32) / 255``), which
copies anyway.
"""
import gzip

import numpy as np

from .files import fetch

IDX_IMAGES_MAGIC = 2051
IDX_LABELS_MAGIC = 2049

MNIST_CLASSES = tuple(str(digit) for digit in range(10))
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
# UCR class 1 is a normal beat, 2..5 are the abnormal kinds.
ECG5000_CLASSES = {1: "normal", 2: "R-on-T PVC", 3: "PVC", 4: "SP or EB", 5: "unclassified"}

_IDX_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
_ECG_FILES = {"train": "ECG5000_TRAIN.txt", "test": "ECG5000_TEST.txt"}

# (resolved path, size, mtime) -> tuple of decoded read-only arrays
_decoded = {}


def mnist(split="train", root=None):
    """MNIST digits: ``(images uint8 (N, 28, 28), labels int64 (N,))``, N = 60,000 or 10,000.

    ``split`` is 'train' or 'test'; ``root`` is a folder holding ``mnist/``
    with the original IDX .gz files (see :mod:`minigrad.data.files` for
    where else it looks). Pixels are 0 (background) .. 255.
    """
    return _idx_dataset("mnist", split, root)


def fashion_mnist(split="train", root=None):
    """Fashion-MNIST: ``(images uint8 (N, 28, 28), labels int64 (N,))``.

    Same layout as :func:`mnist`, folder ``fashion-mnist/``; the class names
    are in ``FASHION_MNIST_CLASSES``.
    """
    return _idx_dataset("fashion-mnist", split, root)


def ecg5000(split="train", root=None):
    """ECG5000 heartbeats: ``(series float32 (N, 140), labels int64 (N,) in 1..5)``.

    The UCR split: 500 'train' beats, 4,500 'test' beats, in the files' row
    order (TRAIN is sorted by class, so shuffle before mini-batching).
    Class 1 is normal; see ``ECG5000_CLASSES`` and :func:`ecg5000_anomaly`.
    """
    path = fetch("ecg5000", _ECG_FILES[_check_split(split)], root)
    return _cached(path, lambda: read_ucr(path))


def ecg5000_anomaly(split="train", root=None):
    """ECG5000 seen as anomaly detection: ``(series float32 (N, 140), is_anomaly bool (N,))``.

    ``is_anomaly`` is True for every abnormal beat (UCR classes 2..5) and
    False for normal ones (class 1). The anomaly lesson trains an autoencoder
    on ``series[~is_anomaly]`` only and flags the beats it reconstructs
    badly; ``is_anomaly`` is then the positive class for
    :func:`minigrad.viz.roc_curve`.
    """
    series, labels = ecg5000(split, root)
    return series, labels != 1


def _idx_dataset(dataset, split, root):
    images_file, labels_file = _IDX_FILES[_check_split(split)]
    images_path = fetch(dataset, images_file, root)
    labels_path = fetch(dataset, labels_file, root)
    images, = _cached(images_path, lambda: (read_idx(images_path),))
    labels, = _cached(labels_path, lambda: (read_idx(labels_path).astype(np.int64),))
    if len(images) != len(labels):
        raise ValueError(f"{images_path} holds {len(images)} images but {labels_path} holds {len(labels)} labels")
    return images, labels


def read_idx(path):
    """Decode one gzip-compressed IDX file: uint8 images (N, rows, cols) or labels (N,)."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    magic = int.from_bytes(raw[:4], "big")
    if magic == IDX_IMAGES_MAGIC:
        count, rows, cols = (int.from_bytes(raw[i:i + 4], "big") for i in (4, 8, 12))
        shape, offset = (count, rows, cols), 16
    elif magic == IDX_LABELS_MAGIC:
        shape, offset = (int.from_bytes(raw[4:8], "big"),), 8
    else:
        raise ValueError(f"{path} is not an IDX file of uint8 images or labels: magic number {magic}, "
                         f"expected {IDX_IMAGES_MAGIC} (images) or {IDX_LABELS_MAGIC} (labels)")
    expected_bytes = offset + int(np.prod(shape))
    if len(raw) != expected_bytes:
        raise ValueError(f"{path}: header announces shape {shape} ({expected_bytes} bytes) "
                         f"but the file decompresses to {len(raw)} bytes")
    return np.frombuffer(raw, dtype=np.uint8, offset=offset).reshape(shape)


def read_ucr(path):
    """Decode one UCR text file: (series float32 (N, length), labels int64 (N,)), label first on each line."""
    table = np.loadtxt(path, dtype=np.float64, ndmin=2)
    if table.shape[1] < 2:
        raise ValueError(f"{path} is not a UCR file: expected a label and a series on each line, "
                         f"got {table.shape[1]} column(s)")
    return table[:, 1:].astype(np.float32), table[:, 0].astype(np.int64)


def _check_split(split):
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    return split


def _cached(path, decode):
    """Decode a file once per process; hand out the same read-only arrays afterwards.

    The key includes size and modification time, so a file replaced by a
    new download is decoded again.
    """
    stat = path.stat()
    key = (path.resolve(), stat.st_size, stat.st_mtime_ns)
    if key not in _decoded:
        arrays = decode()
        for array in arrays:
            array.flags.writeable = False
        _decoded[key] = arrays
    return _decoded[key]
