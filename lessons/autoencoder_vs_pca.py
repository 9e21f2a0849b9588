"""Autoencoders against PCA on MNIST: test reconstruction error against code size, linear and nonlinear.

PCA keeps the k directions along which the training images vary most; among
all ways of mapping an image linearly to k numbers and back, it has the
smallest squared reconstruction error (Eckart & Young, 1936). A linear
autoencoder, Dense(784, k) then Dense(k, 784) with no activation, trained
on the squared error, can therefore at best tie with PCA, and it does:
gradient descent on it has no bad local minima and ends in PCA's subspace
(Baldi & Hornik, 1989), though with another basis inside it (its code
units are mixtures of principal components). A nonlinear autoencoder can
bend its k-dimensional surface to follow the digits, and beats PCA when k
is small.

Setup (every model for every code size k = 2, 8, 32, 64):
- PCA: the singular value decomposition of the centred training images;
  an image's code is its projection on the first k right singular vectors
  (the directions of largest variance);
- linear autoencoder: 784 -> k -> 784, no activations;
- nonlinear autoencoder: 784 -> 256 -> k -> 256 -> 784, relu in between
  (none on the code), sigmoid output;
- both autoencoders: Keras' initialisation, mean squared error, Adam
  (lr 1e-3, eps 1e-7), batch 256, 20 epochs, the learning rate divided by
  10 for the last 5 (the linear autoencoder closes its last gap to PCA
  slowly, along directions of small variance, and a smaller step settles it).

Reported: mean squared error per pixel on the 10,000 test images, for each
method and code size; the linear autoencoder should come within 3% of PCA
everywhere, and the nonlinear one below both at small k.
"""
import numpy as np
from matplotlib.figure import Figure

import minigrad as mg
import minigrad.functional as F
from lessons._flat_mnist import flat_mnist
from lessons._models import keras_init_
from lessons.common import Lesson
from minigrad import nn, optim, viz
from minigrad.data import DataLoader

CODE_SIZES = (2, 8, 32, 64)
HIDDEN = 256
FINE_TUNE_EPOCHS = 5     # the last epochs, at a tenth of the learning rate
SHOWN_CODE_SIZE = 8


def linear_autoencoder(k):
    return nn.Sequential(nn.Dense(28 * 28, k), nn.Dense(k, 28 * 28))


def nonlinear_autoencoder(k):
    return nn.Sequential(nn.Dense(28 * 28, HIDDEN), nn.ReLU(), nn.Dense(HIDDEN, k),
                         nn.Dense(k, HIDDEN), nn.ReLU(), nn.Dense(HIDDEN, 28 * 28), nn.Sigmoid())


class PCA:
    """Principal components of the training images, found by singular value decomposition.

    The right singular vectors of the centred data matrix X (60,000 x 784)
    are the singular vectors of the 784 x 784 matrix X^T X = V S^2 V^T, so
    decomposing that small matrix gives the same directions, much faster.
    """

    def __init__(self, images):
        self.mean = images.mean(axis=0)
        centred = images - self.mean
        _, _, components = np.linalg.svd((centred.T @ centred).astype(np.float64))
        self.components = components.astype(images.dtype)   # rows: the directions of largest variance first

    def reconstruct(self, images, k):
        """Project on the first k components and map back: mean + (x - mean) V_k^T V_k."""
        basis = self.components[:k]
        return self.mean + (images - self.mean) @ basis.T @ basis


def main(argv=None):
    run = Lesson("autoencoder_vs_pca", __doc__, epochs=20, batch_size=256, lr=1e-3, argv=argv)
    x_train, x_test, _ = flat_mnist(run)
    loader = DataLoader(x_train, batch_size=run.args.batch_size, shuffle=True, seed=run.args.seed,
                        device=run.device)
    test_images = mg.tensor(x_test, device=run.device)

    pca = PCA(x_train)
    pca_error = {k: float(np.mean((pca.reconstruct(x_test, k) - x_test) ** 2)) for k in CODE_SIZES}

    models = {}
    for k in CODE_SIZES:
        models[f"linear_{k}"] = keras_init_(linear_autoencoder(k))
        models[f"nonlinear_{k}"] = keras_init_(nonlinear_autoencoder(k))
    optimizers = {name: optim.Adam(model.parameters(), lr=run.args.lr, eps=1e-7) for name, model in models.items()}

    checkpointed = {**{f"{name}_model": model for name, model in models.items()},
                    **{f"{name}_optimizer": optimizer for name, optimizer in optimizers.items()}}
    for epoch in run.epochs(loader=loader, **checkpointed):
        fine_tuning = epoch > run.args.epochs - FINE_TUNE_EPOCHS
        for optimizer in optimizers.values():
            optimizer.lr = run.args.lr / 10 if fine_tuning else run.args.lr
        for (batch,) in run.progress(loader):
            x = mg.tensor(batch)
            for name, model in models.items():
                loss = F.mse_loss(model(x), x)
                optimizers[name].zero_grad()
                loss.backward()
                optimizers[name].step()
        with mg.no_grad():
            test_error = {name: F.mse_loss(model(test_images), test_images).item() for name, model in models.items()}
        run.log(**test_error)

    print(f"test MSE per pixel   {'code size':>9s} {'PCA':>8s} {'linear AE':>16s} {'nonlinear AE':>16s}")
    final = {}
    for k in CODE_SIZES:
        linear, nonlinear = test_error[f"linear_{k}"], test_error[f"nonlinear_{k}"]
        final.update({f"pca_{k}": pca_error[k], f"linear_{k}": linear, f"nonlinear_{k}": nonlinear})
        print(f"{'':20s} {k:9d} {pca_error[k]:8.5f} {linear:8.5f} ({linear / pca_error[k] - 1:+5.1%}) "
              f"{nonlinear:8.5f} ({nonlinear / pca_error[k] - 1:+5.1%})")
    final["linear_vs_pca_worst_gap"] = max(test_error[f"linear_{k}"] / pca_error[k] - 1 for k in CODE_SIZES)

    draw_error_curves(final, run.figure("error_vs_code_size.png"))
    with mg.no_grad():
        k = SHOWN_CODE_SIZE
        viz.image_rows({"original": x_test[:10], "PCA": pca.reconstruct(x_test[:10], k),
                        "linear AE": models[f"linear_{k}"](test_images[:10]),
                        "nonlinear AE": models[f"nonlinear_{k}"](test_images[:10])},
                       run.figure("reconstructions.png"), value_range=(0, 1),
                       title=f"Test digits through a code of {k} numbers")
    run.finish(final=final)


def draw_error_curves(final, path):
    """Test MSE against code size, one line per method, both axes logarithmic."""
    fig = Figure(figsize=(6.4, 4.4))
    ax = fig.add_subplot()
    for method, label, marker in (("pca", "PCA (SVD)", "o"), ("linear", "linear autoencoder", "x"),
                                  ("nonlinear", "nonlinear autoencoder", "s")):
        ax.plot(CODE_SIZES, [final[f"{method}_{k}"] for k in CODE_SIZES], marker=marker, label=label)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xticks(CODE_SIZES, [str(k) for k in CODE_SIZES])
    ax.set_xlabel("code size k (numbers per image)")
    ax.set_ylabel("test MSE per pixel")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    ax.set_title("MNIST reconstruction error against code size")
    fig.savefig(path, dpi=110, bbox_inches="tight")


if __name__ == "__main__":
    main()
