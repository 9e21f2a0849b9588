"""A convolutional denoising autoencoder: strided convolutions down, transposed convolutions up.

Rebuilds the second model of TensorFlow's tutorial "Intro to Autoencoders"
(tensorflow.org/tutorials/generative/autoencoder), image denoising:

    noisy = clip(x + 0.2 * N(0, 1), 0, 1)      drawn once for the whole data set
    encoder  Conv2D(16, 3x3, stride 2, 'same', relu)   28x28x1  -> 14x14x16
             Conv2D(8, 3x3, stride 2, 'same', relu)    14x14x16 -> 7x7x8
    decoder  Conv2DTranspose(8, 3x3, stride 2, 'same', relu)   -> 14x14x8
             Conv2DTranspose(16, 3x3, stride 2, 'same', relu)  -> 28x28x16
             Conv2D(1, 3x3, 'same', sigmoid)                   -> 28x28x1
    fit(x_train_noisy, x_train, epochs=10, shuffle=True,
        validation_data=(x_test_noisy, x_test))

with Keras' defaults: Glorot-uniform weights, zero biases, Adam (lr 1e-3,
eps 1e-7), MSE, batch 32. Images are NCHW here (Keras uses NHWC); nothing
else changes. The tutorial's validation loss after epoch 10 is 0.0076.

A stride-2 convolution halves the image; a stride-2 transposed convolution
doubles it again (it is the convolution's adjoint: the backward pass of a
strided convolution, run forward). The figure shows noisy test images, the
network's output and the clean originals.
"""
import numpy as np

import minigrad as mg
import minigrad.functional as F
from lessons._models import keras_init_, psnr
from lessons.common import Lesson
from minigrad import nn, optim, viz
from minigrad.data import DataLoader, fashion_mnist

NOISE_FACTOR = 0.2
PUBLISHED_VAL_LOSS = 0.0076
EVAL_BATCH = 1000   # test images per forward pass while measuring: bounds the memory convolutions need


def noisy_copy(x, rng):
    """clip(x + NOISE_FACTOR * N(0, 1), 0, 1), as the tutorial's tf.clip_by_value."""
    return np.clip(x + NOISE_FACTOR * rng.standard_normal(x.shape, dtype=np.float32), 0, 1)


def denoising_autoencoder():
    """The tutorial's model, Sequential(encoder, decoder), with Keras' initialisation."""
    encoder = nn.Sequential(
        nn.Conv2D(1, 16, 3, stride=2, padding="same"), nn.ReLU(),
        nn.Conv2D(16, 8, 3, stride=2, padding="same"), nn.ReLU(),
    )
    decoder = nn.Sequential(
        nn.ConvTranspose2D(8, 8, 3, stride=2, padding="same"), nn.ReLU(),
        nn.ConvTranspose2D(8, 16, 3, stride=2, padding="same"), nn.ReLU(),
        nn.Conv2D(16, 1, 3, padding="same"), nn.Sigmoid(),
    )
    return keras_init_(nn.Sequential(encoder, decoder))


def main(argv=None):
    run = Lesson("conv_denoising_autoencoder", __doc__, epochs=10, batch_size=32, lr=1e-3, argv=argv)
    x_train, _ = fashion_mnist("train", root=run.args.data_dir)
    x_test, _ = fashion_mnist("test", root=run.args.data_dir)
    # (N, 28, 28) uint8 -> (N, 1, 28, 28) floats in [0, 1]: one channel, NCHW
    x_train, x_test = run.subset(x_train[:, None].astype(np.float32) / 255, x_test[:, None].astype(np.float32) / 255)
    noise = np.random.default_rng(run.args.seed)
    x_train_noisy, x_test_noisy = noisy_copy(x_train, noise), noisy_copy(x_test, noise)
    loader = DataLoader(x_train_noisy, x_train, batch_size=run.args.batch_size, shuffle=True, seed=run.args.seed,
                        device=run.device)
    test_loader = DataLoader(x_test_noisy, x_test, batch_size=EVAL_BATCH, device=run.device)

    autoencoder = denoising_autoencoder()
    optimizer = optim.Adam(autoencoder.parameters(), lr=run.args.lr, eps=1e-7)

    for epoch in run.epochs(model=autoencoder, optimizer=optimizer, loader=loader):
        losses = []
        for noisy, clean in run.progress(loader):
            loss = F.mse_loss(autoencoder(mg.tensor(noisy)), mg.tensor(clean))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        with mg.no_grad():
            denoised = mg.concatenate([autoencoder(mg.tensor(noisy)) for noisy, _ in test_loader])
        val_loss = float(np.mean((denoised.numpy() - x_test) ** 2))
        run.log(loss=np.mean(losses), val_loss=val_loss)

    denoised = denoised.numpy()
    psnr_noisy, psnr_denoised = psnr(x_test_noisy, x_test), psnr(denoised, x_test)
    print(f"test-set PSNR against the clean images: noisy {psnr_noisy:.2f} dB, denoised {psnr_denoised:.2f} dB")
    viz.denoising_triptych(x_test_noisy[:10], denoised[:10], x_test[:10], run.figure("denoising.png"),
                           title=f"Convolutional denoiser on Fashion-MNIST: PSNR {psnr_noisy:.1f} dB -> "
                                 f"{psnr_denoised:.1f} dB")
    run.finish(final={"val_loss": val_loss, "psnr_noisy_db": psnr_noisy, "psnr_denoised_db": psnr_denoised},
               published={"val_loss": PUBLISHED_VAL_LOSS})


if __name__ == "__main__":
    main()
