"""A denoising autoencoder: learn to remove Gaussian noise by reconstructing the clean image from a noisy one.

Rebuilds the denoising autoencoder of "3-minute deep learning, PyTorch
edition" (Kim, 2019), chapter 6: the deep_autoencoder network unchanged
(784-128-64-12-3 and back, Adam lr 0.005, batch 64, 10 epochs, PyTorch's
default initialisation), with one change to training:

    noisy_x = x + 0.2 * N(0, 1)          fresh noise every batch, not clipped
    loss    = MSE(decoder(encoder(noisy_x)), x)   against the *clean* image

The network can only get the clean image back by learning what garments
look like, so it learns to throw the noise away. The book prints the mean
training loss of each epoch: 0.0375 after the first, 0.0225 after the tenth.
The figure shows noisy test images, the network's output and the clean
originals; the peak signal-to-noise ratio (PSNR, higher is better) of the
noisy and of the denoised test images against the clean ones measures how
much noise it removed.
"""
import numpy as np

import minigrad as mg
import minigrad.functional as F
from lessons._models import psnr
from lessons.common import Lesson
from lessons.deep_autoencoder import Autoencoder, flat_images
from minigrad import optim, viz
from minigrad.data import DataLoader, fashion_mnist

NOISE_STD = 0.2
PUBLISHED_LOSS = 0.0225   # the book's mean training loss in epoch 10 (epoch 1: 0.0375)


def add_noise(x):
    """x + N(0, NOISE_STD^2) drawn from minigrad's generator (seeded, and saved in each checkpoint)."""
    return x + NOISE_STD * mg.randn(*x.shape, device=x.device)


def main(argv=None):
    run = Lesson("denoising_autoencoder", __doc__, epochs=10, batch_size=64, lr=0.005, argv=argv)
    x_train, _ = fashion_mnist("train", root=run.args.data_dir)
    x_test, _ = fashion_mnist("test", root=run.args.data_dir)
    x_train, x_test = run.subset(flat_images(x_train), flat_images(x_test))
    loader = DataLoader(x_train, batch_size=run.args.batch_size, shuffle=True, seed=run.args.seed,
                        device=run.device)
    x_test = mg.tensor(x_test, device=run.device)
    # One fixed noisy copy of the test set, so every epoch is measured on the same inputs.
    noisy_test = x_test + NOISE_STD * mg.tensor(np.random.default_rng(run.args.seed).standard_normal(
        x_test.shape, dtype=np.float32), device=run.device)

    autoencoder = Autoencoder(latent=3)
    optimizer = optim.Adam(autoencoder.parameters(), lr=run.args.lr)

    for epoch in run.epochs(model=autoencoder, optimizer=optimizer, loader=loader):
        losses = []
        for (x,) in run.progress(loader):
            x = mg.tensor(x)
            _, decoded = autoencoder(add_noise(x))
            loss = F.mse_loss(decoded, x)       # against the clean image
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        with mg.no_grad():
            _, denoised = autoencoder(noisy_test)
            test_loss = F.mse_loss(denoised, x_test).item()
        run.log(loss=np.mean(losses), test_loss=test_loss)

    psnr_noisy, psnr_denoised = psnr(noisy_test.numpy(), x_test.numpy()), psnr(denoised.numpy(), x_test.numpy())
    print(f"test-set PSNR against the clean images: noisy {psnr_noisy:.2f} dB, denoised {psnr_denoised:.2f} dB")
    viz.denoising_triptych(noisy_test[:10], denoised[:10], x_test[:10], run.figure("denoising.png"),
                           title=f"Denoising Fashion-MNIST (noise std {NOISE_STD}): "
                                 f"PSNR {psnr_noisy:.1f} dB -> {psnr_denoised:.1f} dB",
                           value_range=(0, 1))
    run.finish(final={"loss": np.mean(losses), "test_loss": test_loss, "psnr_noisy_db": psnr_noisy,
                      "psnr_denoised_db": psnr_denoised},
               published={"loss": PUBLISHED_LOSS})


if __name__ == "__main__":
    main()
