"""A deep autoencoder squeezing Fashion-MNIST into 3 numbers, and the latent space it learns.

Rebuilds the autoencoder of "3-minute deep learning, PyTorch edition"
(Kim, 2019), chapter 6:

    encoder  784 -> 128 -> 64 -> 12 -> 3     (ReLU between, none on the code)
    decoder    3 -> 12 -> 64 -> 128 -> 784   (ReLU between, sigmoid at the end)
    MSE between the image and its reconstruction, Adam lr 0.005, batch 64,
    10 epochs, PyTorch's default initialisation.

Three numbers per image are few: reconstructions keep the shape of a garment
and lose its details. Yet the code is not random: drawing the 3-D codes of
the test images coloured by class (the book's 3-D plot) shows trousers,
bags, shoes and tops in their own regions, learned without any label.

A second copy of the network with a 2-number code trains alongside, so the
latent plane can be drawn flat and walked: decoding a regular grid of 2-D
codes (the manifold figure) shows how the decoder morphs one kind of
garment into the next.
"""
import numpy as np

import minigrad as mg
import minigrad.functional as F
from lessons.common import Lesson
from minigrad import nn, optim, viz
from minigrad.data import FASHION_MNIST_CLASSES, DataLoader, fashion_mnist


class Autoencoder(nn.Module):
    """The book's 784-128-64-12-latent encoder and its mirror-image decoder."""

    def __init__(self, latent=3):
        self.encoder = nn.Sequential(
            nn.Dense(28 * 28, 128), nn.ReLU(),
            nn.Dense(128, 64), nn.ReLU(),
            nn.Dense(64, 12), nn.ReLU(),
            nn.Dense(12, latent),               # the code: no activation
        )
        self.decoder = nn.Sequential(
            nn.Dense(latent, 12), nn.ReLU(),
            nn.Dense(12, 64), nn.ReLU(),
            nn.Dense(64, 128), nn.ReLU(),
            nn.Dense(128, 28 * 28), nn.Sigmoid(),  # pixels in (0, 1)
        )

    def forward(self, x):
        encoded = self.encoder(x)
        decoded = self.decoder(encoded)
        return encoded, decoded


def flat_images(images):
    """uint8 (N, 28, 28) -> float32 (N, 784) in [0, 1]."""
    return images.reshape(len(images), -1).astype(np.float32) / 255


def train_one_epoch(run, autoencoder, optimizer, loader):
    """One pass of the book's train(): reconstruct each batch, step on the MSE; the mean batch loss."""
    losses = []
    for x, _ in run.progress(loader):
        x = mg.tensor(x)
        _, decoded = autoencoder(x)
        loss = F.mse_loss(decoded, x)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return np.mean(losses)


def main(argv=None):
    run = Lesson("deep_autoencoder", __doc__, epochs=10, batch_size=64, lr=0.005, argv=argv)
    x_train, y_train = fashion_mnist("train", root=run.args.data_dir)
    x_test, y_test = fashion_mnist("test", root=run.args.data_dir)
    x_train, y_train, x_test, y_test = run.subset(flat_images(x_train), y_train, flat_images(x_test), y_test)
    loader = DataLoader(x_train, y_train, batch_size=run.args.batch_size, shuffle=True, seed=run.args.seed,
                        device=run.device)
    x_test = mg.tensor(x_test, device=run.device)

    autoencoder = Autoencoder(latent=3)
    optimizer = optim.Adam(autoencoder.parameters(), lr=run.args.lr)
    autoencoder_2d = Autoencoder(latent=2)  # the 2-D variant, trained the same way
    optimizer_2d = optim.Adam(autoencoder_2d.parameters(), lr=run.args.lr)

    for epoch in run.epochs(model=autoencoder, optimizer=optimizer, model_2d=autoencoder_2d,
                            optimizer_2d=optimizer_2d, loader=loader):
        train_loss = train_one_epoch(run, autoencoder, optimizer, loader)
        train_loss_2d = train_one_epoch(run, autoencoder_2d, optimizer_2d, loader)
        with mg.no_grad():
            codes, decoded = autoencoder(x_test)
            codes_2d, decoded_2d = autoencoder_2d(x_test)
            test_loss = F.mse_loss(decoded, x_test).item()
            test_loss_2d = F.mse_loss(decoded_2d, x_test).item()
        run.log(train_loss=train_loss, test_loss=test_loss, train_loss_2d=train_loss_2d,
                test_loss_2d=test_loss_2d)

    viz.image_rows({"original": x_test[:10], "3-number code": decoded[:10], "2-number code": decoded_2d[:10]},
                   run.figure("reconstructions.png"), title="Fashion-MNIST test images through the deep autoencoder")
    viz.latent_scatter(codes, y_test, run.figure("latent_3d.png"), class_names=FASHION_MNIST_CLASSES,
                       title="3-D codes of the test images, coloured by class")
    viz.latent_scatter(codes_2d, y_test, run.figure("latent_2d.png"), class_names=FASHION_MNIST_CLASSES,
                       title="2-D variant: codes of the test images, coloured by class")
    # The part of the plane the test codes occupy (1st to 99th percentile of each coordinate), decoded on a grid.
    low, high = np.percentile(codes_2d.numpy(), [1, 99], axis=0)

    def decode(z):
        with mg.no_grad():
            return autoencoder_2d.decoder(mg.tensor(z, device=run.device))

    viz.latent_manifold(decode, run.figure("manifold_2d.png"), extent=((low[0], high[0]), (low[1], high[1])),
                        title="2-D variant: images decoded from a grid of codes")
    run.finish(final={"test_mse": test_loss, "test_mse_2d": test_loss_2d})


if __name__ == "__main__":
    main()
