"""Datasets of the course (as NumPy arrays) and the DataLoader.

    from minigrad.data import mnist, DataLoader
    x_train, y_train = mnist("train")            # uint8 (60000, 28, 28), int64 (60000,)
    loader = DataLoader(x_train, y_train, batch_size=128, shuffle=True, seed=0)

Where the files are looked for, and how to point at your own copy, is
described in :mod:`minigrad.data.files`.
"""
from .datasets import (ECG5000_CLASSES, FASHION_MNIST_CLASSES, MNIST_CLASSES, ecg5000, ecg5000_anomaly,
                       fashion_mnist, mnist)
from .files import ChecksumError, DatasetNotFoundError
from .loader import DataLoader

__all__ = ["mnist", "fashion_mnist", "ecg5000", "ecg5000_anomaly", "DataLoader",
           "MNIST_CLASSES", "FASHION_MNIST_CLASSES", "ECG5000_CLASSES",
           "ChecksumError", "DatasetNotFoundError"]
