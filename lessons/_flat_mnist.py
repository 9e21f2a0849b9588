"""MNIST as the dense autoencoders of the second group of lessons read it: rows of 784 pixels in [0, 1]."""
import numpy as np

from minigrad.data import mnist


def flat_mnist(run):
    """(train images, test images, test labels), images as float32 rows of 784 pixels in [0, 1].

    Under --quick, ``run.subset`` keeps the first few hundred of each.
    """
    x_train, _ = mnist("train", root=run.args.data_dir)
    x_test, y_test = mnist("test", root=run.args.data_dir)
    return run.subset(_rows(x_train), _rows(x_test), y_test)


def _rows(images):
    return images.reshape(len(images), -1).astype(np.float32) / 255
