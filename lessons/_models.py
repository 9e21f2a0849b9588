"""What several lessons share: Keras' initialisation, and the PSNR of denoised images."""
import numpy as np

from minigrad import nn


def keras_init_(model):
    """Start every Dense and conv layer of ``model`` as Keras does: Glorot-uniform weights, zero biases.

    minigrad's layers start as PyTorch's; a lesson that rebuilds a Keras
    model calls this once after building it.
    """
    for layer in model.modules():
        if isinstance(layer, (nn.Dense, nn.Conv2D, nn.ConvTranspose2D)):
            nn.init.glorot_uniform_(layer.weight)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)
    return model


def psnr(images, references):
    """Mean peak signal-to-noise ratio in dB, 10 log10(1 / MSE) per image (pixels in [0, 1]), over the batch."""
    images = np.asarray(images, dtype=np.float64).reshape(len(images), -1)
    references = np.asarray(references, dtype=np.float64).reshape(len(references), -1)
    mse = np.mean((images - references) ** 2, axis=1)
    return float(np.mean(10 * np.log10(1 / mse)))
