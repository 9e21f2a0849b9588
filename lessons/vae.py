"""Variational autoencoder on MNIST: the PyTorch examples VAE (784-400-20), judged by FID.

What it teaches: an encoder that outputs a distribution, not a point (a
mean and a log-variance per latent dimension); the reparameterisation trick
z = mu + exp(logvar / 2) * eps that lets gradients flow through the sample;
the loss as reconstruction (binary cross-entropy) plus the KL divergence
from the prior N(0, 1); and sampling new digits by decoding z ~ N(0, 1).

Rebuilds the VAE of the PyTorch examples (examples/vae/main.py):

    encoder 784 -> 400 (ReLU) -> 20 mean, 20 log-variance
    decoder 20 -> 400 (ReLU) -> 784 (sigmoid)
    loss    BCE summed over pixels + KL(q(z|x) || N(0, 1)), per image
    Adam lr 1e-3, batch 128, 10 epochs, PyTorch's default initialisation

Published test loss (summed loss over the test set / 10,000): 127.30 after
epoch 1, 115.79 after epoch 2, ..., 105.56 after epoch 10.

Figures: test digits and their reconstructions, 64 digits decoded from the
prior; with ``--latent 2`` (give it its own ``--out``, e.g. runs/vae-latent2)
also the decoded 2-D manifold and the test set's latent means coloured by
digit. The samples are judged by ``lessons._judge``: FID of 10,000 prior
samples against the test set, next to the real-data floor, and the class
histogram of the samples.
"""
import sys

import numpy as np

import minigrad as mg
import minigrad.functional as F
from lessons._judge import Judge, add_judge_flag
from lessons.common import Lesson, positive_int
from minigrad import nn, optim, viz
from minigrad.data import DataLoader, mnist

PUBLISHED_TEST_LOSS = {1: 127.30, 2: 115.79, 10: 105.56}


class VAE(nn.Module):
    def __init__(self, latent=20, hidden=400, pixels=784):
        super().__init__()
        self.latent = latent
        # nn.Dense starts as PyTorch's nn.Linear does: weight and bias uniform in +-1/sqrt(fan_in).
        self.fc1 = nn.Dense(pixels, hidden)
        self.fc_mu = nn.Dense(hidden, latent)
        self.fc_logvar = nn.Dense(hidden, latent)
        self.fc3 = nn.Dense(latent, hidden)
        self.fc4 = nn.Dense(hidden, pixels)

    def encode(self, x):
        h = F.relu(self.fc1(x))
        return self.fc_mu(h), self.fc_logvar(h)

    def reparameterize(self, mu, logvar):
        # z = mu + sigma * eps: the randomness is an input, so z is differentiable in mu and logvar.
        eps = mg.randn(*mu.shape, device=mu.device)
        return mu + (0.5 * logvar).exp() * eps

    def decode(self, z):
        return F.sigmoid(self.fc4(F.relu(self.fc3(z))))

    def forward(self, x):
        mu, logvar = self.encode(x)
        return self.decode(self.reparameterize(mu, logvar)), mu, logvar


def loss_function(recon, x, mu, logvar):
    """Reconstruction (BCE summed over pixels) + KL divergence from the prior, summed over the batch."""
    return F.binary_cross_entropy(recon, x, reduction="sum") + F.gaussian_kl(mu, logvar, reduction="sum")


def as_pixels(x_uint8):
    """uint8 (N, 28, 28) -> float32 (N, 784) in [0, 1]."""
    return (x_uint8.astype(np.float32) / np.float32(255)).reshape(len(x_uint8), -1)


def mean_test_loss(model, x_test, device, batch_size):
    """The summed loss over the test set / its size, as the example reports it (z is sampled here too)."""
    total = 0.0
    with mg.no_grad():
        for start in range(0, len(x_test), batch_size):
            x = mg.tensor(as_pixels(x_test[start:start + batch_size]), device=device)
            recon, mu, logvar = model(x)
            total += loss_function(recon, x, mu, logvar).item()
    return total / len(x_test)


def main(argv=None):
    run = Lesson("vae", __doc__, epochs=10, batch_size=128, lr=1e-3, argv=argv, extra=add_flags)

    # ---- data: pixels in [0, 1], each one the probability of a Bernoulli
    x_train, _ = run.subset(*mnist("train", root=run.args.data_dir))
    x_test, y_test = run.subset(*mnist("test", root=run.args.data_dir))
    loader = DataLoader(x_train, batch_size=run.args.batch_size, shuffle=True, seed=run.args.seed)

    # ---- model and optimizer
    model = VAE(latent=run.args.latent).to(run.device)
    optimizer = optim.Adam(model.parameters(), lr=run.args.lr)

    # ---- training
    for epoch in run.epochs(model=model, optimizer=optimizer, loader=loader):
        train_loss, seen = 0.0, 0
        for (xb,) in run.progress(loader):
            x = mg.tensor(as_pixels(xb), device=run.device)
            recon, mu, logvar = model(x)
            loss = loss_function(recon, x, mu, logvar)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            train_loss += loss.item()
            seen += len(xb)
        run.log(train_loss=train_loss / seen, test_loss=mean_test_loss(model, x_test, run.device, run.args.batch_size))
    print_table(run.history, run.args.latent)

    # ---- figures
    def decode_images(z):
        with mg.no_grad():
            return model.decode(mg.tensor(z, device=run.device)).numpy()

    originals = as_pixels(x_test[:10])
    with mg.no_grad():
        reconstructions = model(mg.tensor(originals, device=run.device))[0].numpy()
    viz.image_rows({"test digit": originals, "reconstruction": reconstructions},
                   run.figure("reconstructions.png"), title="VAE: test digits and their reconstructions")
    viz.image_grid(decode_images(mg.randn(64, run.args.latent).numpy()), run.figure("samples.png"),
                   title=f"VAE: 64 digits decoded from z ~ N(0, I), latent {run.args.latent}")
    if run.args.latent == 2:
        with mg.no_grad():
            means = model.encode(mg.tensor(as_pixels(x_test), device=run.device))[0].numpy()
        viz.latent_manifold(decode_images, run.figure("manifold.png"),
                            title="VAE: digits decoded over the 2-D latent space")
        viz.latent_scatter(means, y_test, run.figure("latent.png"), title="VAE: latent means of the test digits")

    # ---- the judge: FID of prior samples, the real floor, the class histogram
    judge = Judge.load_or_train("mnist", run)
    samples = decode_images(mg.randn(judge.sample_count, run.args.latent).numpy())
    final = {"test_loss": run.history[-1]["test_loss"], **judge.report(samples)}
    published = {"test_loss": PUBLISHED_TEST_LOSS[10]} if run.args.latent == 20 and run.args.epochs == 10 else {}
    run.finish(final=final, published=published)


def add_flags(parser):
    parser.add_argument("--latent", type=positive_int, default=20, help="latent dimensions (default %(default)s; "
                        "2 adds the manifold and latent scatter figures)")
    add_judge_flag(parser)


def print_table(history, latent):
    """Per-epoch losses next to the PyTorch example's published test losses."""
    print(f"\n epoch  train loss  test loss  published test loss{'' if latent == 20 else ' (latent 20)'}")
    for record in history:
        published = PUBLISHED_TEST_LOSS.get(record["epoch"])
        print(f"{record['epoch']:6d}  {record['train_loss']:10.2f}  {record['test_loss']:9.2f}  "
              f"{'' if published is None else f'{published:19.2f}'}")


if __name__ == "__main__":
    main(sys.argv[1:])
