"""Contractive autoencoder on MNIST: penalise the encoder's Jacobian, computed in closed form and by autograd.

A contractive autoencoder (Rifai, Vincent, Muller, Glorot & Bengio, ICML
2011) adds to the reconstruction loss lambda * ||dh/dx||_F^2, the squared
Frobenius norm of the encoder's Jacobian at each training image. The code h
is pushed to ignore input changes in every direction except the few the
reconstruction needs (the directions along which digits actually vary), so
small perturbations of an image barely move its code.

For one sigmoid layer h = sigmoid(x W + b) the Jacobian is
dh_j/dx_i = h_j (1 - h_j) W_ij, which gives the closed form

    ||dh/dx||_F^2 = sum_j (h_j (1 - h_j))^2 sum_i W_ij^2

Any encoder's penalty can also be had from autograd: the gradient of code
unit j with respect to the input batch, taken with create_graph=True, is
row j of each image's Jacobian (images do not interact, so one backward
pass serves the whole batch); summing the squares of all rows gives the
penalty, and because the graph of those gradients was recorded, the
penalty can itself be differentiated for training (double backprop). The
lesson first checks that both ways agree, then trains with the closed form,
which costs one matrix-vector product instead of one backward pass per unit.

Setup: encoder Dense(784, 128) + sigmoid, decoder Dense(128, 784) + sigmoid,
cross-entropy summed over the pixels of an image (Rifai et al.'s
reconstruction loss), lambda = 0.1, Glorot-uniform weights and zero biases,
Adam (lr 1e-3), batch 128, 20 epochs; the same network is trained without
the penalty for comparison. The lesson reports, on the test images, the
Jacobian norm, the reconstruction loss, and how far the code moves when
Gaussian noise (std 0.1 per pixel) is added to the image. Its figure shows
the Jacobian's singular values too: the penalised encoder is less
sensitive in every direction, and far less in the many directions that the
reconstruction does not need.
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

CODE_SIZE = 128
CONTRACTION = 0.1      # lambda
NOISE_STD = 0.1        # the input perturbation whose effect on the code is measured
CHECK_BATCH = 16
SPECTRUM_IMAGES = 1000


def jacobian_penalty(code, weight):
    """||dh/dx||_F^2 of each image for h = sigmoid(x W + b), in closed form: sum_j (h_j(1-h_j))^2 sum_i W_ij^2."""
    return ((code * (1 - code)) ** 2) @ (weight ** 2).sum(axis=0)


def jacobian_penalty_autograd(encoder, x):
    """The same ||dh/dx||_F^2 of each image for any encoder: one differentiable backward pass per code unit."""
    x = mg.tensor(x.data, requires_grad=True)
    code = encoder(x)
    penalty = 0
    for unit in range(code.shape[1]):
        pick = mg.zeros(*code.shape, dtype=code.dtype, device=code.device)
        pick.data[:, unit] = 1
        row, = mg.grad(code, x, grad_outputs=pick, create_graph=True)   # dh_unit/dx for every image
        penalty = penalty + (row ** 2).sum(axis=1)
    return penalty


def reconstruction_loss(reconstruction, x):
    """Cross-entropy summed over the pixels of an image, averaged over the images."""
    return F.binary_cross_entropy(reconstruction, x, reduction="sum") / len(x)


def jacobian_singular_values(encoder, x):
    """Singular values of each image's Jacobian J = diag(h(1-h)) W^T, largest first.

    They are the square roots of the eigenvalues of the small (code x code)
    matrix J J^T = diag(h(1-h)) W^T W diag(h(1-h)).
    """
    with mg.no_grad():
        code = encoder(x).numpy().astype(np.float64)
    weight = encoder[0].weight.numpy().astype(np.float64)
    slope = code * (1 - code)
    gram = slope[:, :, None] * (weight.T @ weight) * slope[:, None, :]
    return np.sqrt(np.clip(np.linalg.eigvalsh(gram)[:, ::-1], 0, None))


def code_shift(encoder, x, noise):
    """Mean distance an image's code moves when ``noise`` is added to the image."""
    with mg.no_grad():
        return float(np.mean(np.linalg.norm((encoder(x + noise) - encoder(x)).numpy(), axis=1)))


def main(argv=None):
    run = Lesson("contractive_autoencoder", __doc__, epochs=20, batch_size=128, lr=1e-3, argv=argv,
                 extra=lambda parser: parser.add_argument(
                     "--contraction", type=float, default=CONTRACTION,
                     help="lambda, the weight of the Jacobian penalty (default %(default)s)"))
    x_train, x_test, _ = flat_mnist(run)
    loader = DataLoader(x_train, batch_size=run.args.batch_size, shuffle=True, seed=run.args.seed,
                        device=run.device)
    test_images = mg.tensor(x_test, device=run.device)
    contraction = run.args.contraction

    def autoencoder():
        return keras_init_(nn.Sequential(nn.Sequential(nn.Dense(28 * 28, CODE_SIZE), nn.Sigmoid()),
                                         nn.Sequential(nn.Dense(CODE_SIZE, 28 * 28), nn.Sigmoid())))

    contractive, plain = autoencoder(), autoencoder()

    # Two ways to the same penalty: they must agree before we train with the fast one.
    encoder = contractive[0]
    check = test_images[:CHECK_BATCH]
    by_formula = jacobian_penalty(encoder(check), encoder[0].weight).numpy()
    by_autograd = jacobian_penalty_autograd(encoder, check).numpy()
    check_error = float(np.max(np.abs(by_formula - by_autograd) / np.abs(by_autograd)))
    print(f"||dh/dx||_F^2 of {CHECK_BATCH} test images, closed form vs autograd: "
          f"largest relative difference {check_error:.1e}")
    if check_error > 1e-4:  # float32 rounding stays near 1e-7
        raise RuntimeError(f"the closed-form Jacobian penalty disagrees with autograd ({check_error:.1e})")

    models = {"contractive": (contractive, contraction), "plain": (plain, 0.0)}
    optimizers = {name: optim.Adam(model.parameters(), lr=run.args.lr, eps=1e-7)
                  for name, (model, _) in models.items()}
    for epoch in run.epochs(contractive=contractive, plain=plain, loader=loader,
                            contractive_optimizer=optimizers["contractive"], plain_optimizer=optimizers["plain"]):
        totals = {name: np.zeros(2) for name in models}   # summed (loss, penalty) over the epoch
        for (batch,) in run.progress(loader):
            x = mg.tensor(batch)
            for name, (model, weight) in models.items():
                encoder, decoder = model
                code = encoder(x)
                penalty = jacobian_penalty(code, encoder[0].weight).mean()
                loss = reconstruction_loss(decoder(code), x) + weight * penalty
                optimizers[name].zero_grad()
                loss.backward()
                optimizers[name].step()
                totals[name] += len(batch) * np.array([loss.item(), penalty.item()])
        with mg.no_grad():
            test_losses = {name: reconstruction_loss(model(test_images), test_images).item()
                           for name, (model, _) in models.items()}
        run.log(**{f"{name}_{what}": value for name in models for what, value in
                   zip(("train_loss", "train_penalty", "test_loss"), (*totals[name] / len(x_train), test_losses[name]))})

    # How each trained encoder reacts to its input, on the test images.
    noise = mg.tensor(np.random.default_rng(run.args.seed).normal(0, NOISE_STD, x_test.shape).astype(np.float32),
                      device=run.device)
    final = {"closed_form_vs_autograd": check_error,
             "noise_norm": float(np.mean(np.linalg.norm(noise.numpy(), axis=1)))}
    norms, spectra = {}, {}
    for name, (model, _) in models.items():
        encoder = model[0]
        with mg.no_grad():
            norms[name] = np.sqrt(jacobian_penalty(encoder(test_images), encoder[0].weight).numpy())
        spectra[name] = jacobian_singular_values(encoder, test_images[:SPECTRUM_IMAGES]).mean(axis=0)
        final.update({f"{name}_jacobian_norm": norms[name].mean(), f"{name}_test_loss": test_losses[name],
                      f"{name}_code_shift": code_shift(encoder, test_images, noise)})
        print(f"{name:12s} test loss {test_losses[name]:7.2f}   mean ||dh/dx||_F {norms[name].mean():6.3f}   "
              f"code moves {final[f'{name}_code_shift']:.3f} under noise of norm {final['noise_norm']:.2f}")

    draw_jacobians(norms, spectra, run.figure("jacobian.png"), contraction)
    noisy = test_images[:10] + noise[:10]
    with mg.no_grad():
        viz.image_rows({"original": x_test[:10], "contractive": contractive(test_images[:10]),
                        "plain": plain(test_images[:10]), f"+ noise (std {NOISE_STD:g})": noisy,
                        "contractive, noisy": contractive(noisy), "plain, noisy": plain(noisy)},
                       run.figure("reconstructions.png"), value_range=(0, 1),
                       title="Test digits, with and without input noise, and their reconstructions")
    run.finish(final=final)


def draw_jacobians(norms, spectra, path, contraction):
    """Left: histogram of ||dh/dx||_F over the test images; right: the Jacobians' mean singular values."""
    fig = Figure(figsize=(11, 4.2))
    left, right = fig.subplots(1, 2)
    bins = np.histogram_bin_edges(np.concatenate(list(norms.values())), bins=50)
    for name, values in norms.items():
        left.hist(values, bins=bins, alpha=0.6, label=f"{name} (mean {values.mean():.2f})")
        right.plot(np.arange(1, len(spectra[name]) + 1), spectra[name], label=name)
    left.set_xlabel("||dh/dx||_F of a test image")
    left.set_ylabel("images")
    left.set_title("Jacobian norm on the test images")
    left.legend()
    right.set_yscale("log")
    right.set_xlabel("singular value index")
    right.set_ylabel(f"singular value (mean over {SPECTRUM_IMAGES} test images)")
    right.set_title("Jacobian spectrum: how many directions the code follows")
    right.grid(alpha=0.3)
    right.legend()
    fig.suptitle(f"Encoder Jacobians with the contractive penalty (lambda {contraction:g}) and without")
    fig.savefig(path, dpi=110, bbox_inches="tight")


if __name__ == "__main__":
    main()
