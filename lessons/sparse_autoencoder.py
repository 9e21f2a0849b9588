"""Sparse autoencoders on MNIST: a KL-divergence sparsity penalty and the Keras blog's L1 activity penalty.

An autoencoder with as many code units as it likes can copy its input
without learning anything. A sparsity penalty makes most units stay silent
for any one image, so each unit has to specialise: it fires for one kind of
stroke. Two penalties, each trained next to the same network without it:

1. Andrew Ng's sparse autoencoder (CS294A lecture notes, "Sparse
   autoencoder", 2011): a sigmoid code of 100 units, whose mean activation
   over a batch, rho_hat_j, is pulled towards a small target rho = 0.05 by
   beta * sum_j KL(rho || rho_hat_j), the divergence between two coins
   that come up 1 with probabilities rho and rho_hat_j. The objective of the
   notes: half the squared error summed over the pixels of an image,
   averaged over the batch, plus weight decay lambda/2 * sum W^2
   (lambda = 3e-3) and the penalty with beta = 3.
2. The Keras blog's sparse autoencoder (F. Chollet, "Building Autoencoders
   in Keras", 2016): Dense(32, relu) with activity_regularizer=l1(1e-4),
   Dense(784, sigmoid), binary cross-entropy, Adam, batch 256, 100 epochs.
   The penalty is 1e-4 times the summed absolute code, averaged over the
   batch, as Keras adds it.

All four networks start as Keras' do (Glorot-uniform weights, zero biases)
and train with Adam (lr 1e-3, eps 1e-7) on the same batches. The blog
reports the mean code value over the test images: 3.33 with the L1 penalty
and 7.30 without, a test loss of 0.10 with the penalty, and about 0.09
for the same network without it after 50 epochs.

The lesson reports for each network the mean code activation, the fraction
of code values that are near zero (below 1% of the largest value that code
reaches on the test set), the test reconstruction loss (the reconstruction
term of the network's own objective: half the summed squared error per
image for the sigmoid pair, the mean binary cross-entropy per pixel for the
relu pair) and the mean length of each unit's decoder weights, and draws each sigmoid code unit's input
weights as a 28x28 image. With the KL penalty most units are silent for
any one digit and their weights become digit parts and strokes; without it
many units become detectors of a single pixel, copying the image through.

The L1 penalty shows a loophole: it charges the size of the code, and the
network can shrink the code by making its encoder weights smaller and its
decoder weights larger, without silencing any unit. The mean code drops
several-fold (as in the blog), yet few values are near zero, and the
decoder weights grow to match. The KL penalty comes with weight decay,
which closes that loophole.
"""
import numpy as np

import minigrad as mg
import minigrad.functional as F
from lessons._flat_mnist import flat_mnist
from lessons._models import keras_init_
from lessons.common import Lesson
from minigrad import nn, optim, viz
from minigrad.data import DataLoader

# Ng's notes
SIGMOID_CODE = 100
RHO = 0.05
BETA = 3.0
WEIGHT_DECAY = 3e-3
# the Keras blog
RELU_CODE = 32
L1 = 1e-4
PUBLISHED = {"l1_mean_activation": 3.33, "relu_mean_activation": 7.30, "l1_test_loss": 0.10,
             "relu_test_loss": 0.09}
NEAR_ZERO = 0.01  # a code value is near zero below this fraction of the largest value its code reaches


class Autoencoder(nn.Module):
    """784 -> code (one Dense layer and ``activation``) -> 784 with a sigmoid."""

    def __init__(self, code_size, activation):
        self.encoder = nn.Sequential(nn.Dense(28 * 28, code_size), activation)
        self.decoder = nn.Sequential(nn.Dense(code_size, 28 * 28), nn.Sigmoid())

    def forward(self, x):
        code = self.encoder(x)
        return code, self.decoder(code)


def kl_sparsity(code, rho):
    """sum_j KL(rho || rho_hat_j), rho_hat_j = unit j's mean activation over the batch."""
    rho_hat = code.mean(axis=0)
    return (rho * (rho / rho_hat).log() + (1 - rho) * ((1 - rho) / (1 - rho_hat)).log()).sum()


def ng_objective(model, x, beta):
    """Ng's J: half the squared error per image + weight decay + beta * KL sparsity; (J, squared-error term)."""
    code, reconstruction = model(x)
    squared_error = 0.5 * ((reconstruction - x) ** 2).sum() / len(x)
    weights = (model.encoder[0].weight, model.decoder[0].weight)
    weight_decay = WEIGHT_DECAY / 2 * sum((w ** 2).sum() for w in weights)
    return squared_error + weight_decay + beta * kl_sparsity(code, RHO), squared_error


def keras_objective(model, x, l1):
    """Binary cross-entropy + l1 * summed |code|, averaged over the batch (Keras' activity_regularizer)."""
    code, reconstruction = model(x)
    cross_entropy = F.binary_cross_entropy(reconstruction, x)
    return cross_entropy + l1 * code.abs().sum() / len(x), cross_entropy


def sparsity_statistics(model, codes):
    """Mean code value, fraction of values below NEAR_ZERO times the code's largest, mean decoder weight length."""
    decoder_norm = np.linalg.norm(model.decoder[0].weight.numpy(), axis=1).mean()
    return float(codes.mean()), float(np.mean(codes < NEAR_ZERO * codes.max())), float(decoder_norm)


def weight_images(model):
    """Each code unit's input weights as a 28x28 image, scaled to [-1, 1] by its largest |weight|."""
    weights = model.encoder[0].weight.numpy().T                      # (units, 784)
    return weights / np.abs(weights).max(axis=1, keepdims=True)


def main(argv=None):
    run = Lesson("sparse_autoencoder", __doc__, epochs=100, batch_size=256, lr=1e-3, argv=argv)
    x_train, x_test, _ = flat_mnist(run)
    loader = DataLoader(x_train, batch_size=run.args.batch_size, shuffle=True, seed=run.args.seed,
                        device=run.device)
    test_images = mg.tensor(x_test, device=run.device)

    # name: (model, its objective); "kl" and "l1" carry a penalty, "sigmoid" and "relu" are the same nets without
    variants = {
        "kl": (Autoencoder(SIGMOID_CODE, nn.Sigmoid()), lambda model, x: ng_objective(model, x, BETA)),
        "sigmoid": (Autoencoder(SIGMOID_CODE, nn.Sigmoid()), lambda model, x: ng_objective(model, x, 0.0)),
        "l1": (Autoencoder(RELU_CODE, nn.ReLU()), lambda model, x: keras_objective(model, x, L1)),
        "relu": (Autoencoder(RELU_CODE, nn.ReLU()), lambda model, x: keras_objective(model, x, 0.0)),
    }
    optimizers = {}
    for name, (model, _) in variants.items():
        keras_init_(model)
        optimizers[name] = optim.Adam(model.parameters(), lr=run.args.lr, eps=1e-7)

    checkpointed = {f"{name}_model": model for name, (model, _) in variants.items()}
    checkpointed.update({f"{name}_optimizer": optimizer for name, optimizer in optimizers.items()})
    for epoch in run.epochs(loader=loader, **checkpointed):
        totals = dict.fromkeys(variants, 0.0)
        for (batch,) in run.progress(loader):
            x = mg.tensor(batch)
            for name, (model, objective) in variants.items():
                loss, _ = objective(model, x)
                optimizers[name].zero_grad()
                loss.backward()
                optimizers[name].step()
                totals[name] += loss.item() * len(batch)
        with mg.no_grad():
            # the reconstruction term of each objective on the test set (no penalty)
            test_losses = {name: objective(model, test_images)[1].item()
                           for name, (model, objective) in variants.items()}
        run.log(**{f"{name}_train": total / len(x_train) for name, total in totals.items()},
                **{f"{name}_test": loss for name, loss in test_losses.items()})

    final = {}
    codes, reconstructions = {}, {}
    with mg.no_grad():
        for name, (model, _) in variants.items():
            code, reconstruction = model(test_images)
            codes[name], reconstructions[name] = code.numpy(), reconstruction[:10]
            mean, near_zero, decoder_norm = sparsity_statistics(model, codes[name])
            final.update({f"{name}_mean_activation": mean, f"{name}_near_zero": near_zero,
                          f"{name}_test_loss": test_losses[name], f"{name}_decoder_norm": decoder_norm})
    for name, what in [("kl", "sigmoid code, KL penalty"), ("sigmoid", "sigmoid code, no penalty"),
                       ("l1", "relu code, L1 penalty"), ("relu", "relu code, no penalty")]:
        print(f"{what:26s} mean activation {final[f'{name}_mean_activation']:7.4f}   "
              f"near zero {final[f'{name}_near_zero']:6.1%}   test loss {final[f'{name}_test_loss']:.4f}   "
              f"decoder weight length {final[f'{name}_decoder_norm']:.2f}")

    kl_model, sigmoid_model = variants["kl"][0], variants["sigmoid"][0]
    viz.image_grid(weight_images(kl_model), run.figure("features.png"), columns=10, value_range=(-1, 1),
                   title=f"Input weights of the {SIGMOID_CODE} code units, KL sparsity penalty "
                         f"(rho {RHO}, beta {BETA:g})")
    viz.image_grid(weight_images(sigmoid_model), run.figure("features_without_penalty.png"), columns=10,
                   value_range=(-1, 1), title=f"Input weights of the {SIGMOID_CODE} code units, no penalty")
    viz.threshold_histogram({"KL penalty": codes["kl"], "no penalty": codes["sigmoid"]},
                            NEAR_ZERO * codes["kl"].max(), run.figure("activations_sigmoid.png"),
                            xlabel="code value (test images, all units)",
                            title="Sigmoid code values; the line marks 'near zero' for the KL code")
    viz.threshold_histogram({"L1 penalty": codes["l1"], "no penalty": codes["relu"]},
                            NEAR_ZERO * codes["l1"].max(), run.figure("activations_relu.png"),
                            xlabel="code value (test images, all units)",
                            title="Relu code values; the line marks 'near zero' for the L1 code")
    viz.image_rows({"original": x_test[:10], "KL": reconstructions["kl"], "sigmoid": reconstructions["sigmoid"],
                    "L1": reconstructions["l1"], "relu": reconstructions["relu"]},
                   run.figure("reconstructions.png"), title="Test digits and their reconstructions")
    run.finish(final=final, published=PUBLISHED)


if __name__ == "__main__":
    main()
