"""WGAN-GP on MNIST: the DCGAN networks trained with the Wasserstein loss and a gradient penalty.

What it teaches: a GAN whose critic is differentiated twice. The critic D
no longer classifies; it scores, and D(real) - D(fake) estimates the
Wasserstein-1 distance between the two image distributions, provided D is
1-Lipschitz. Gulrajani et al. (2017, "Improved Training of Wasserstein GANs")
enforce that softly: at random points x_hat on lines between real and
generated images they penalise (||grad_x D(x_hat)||_2 - 1)^2. That term is a
function of a gradient, so training the critic needs the gradient of a
gradient. In minigrad every backward pass is written with differentiable
Tensor ops, so

    (grad,) = mg.grad(critic(x_hat).sum(), x_hat, create_graph=True)

returns a gradient that is itself part of the graph, through the
convolutions (a conv's input gradient is a transposed conv, whose own
gradients are a conv and a weight correlation), and ``loss.backward()`` then
reaches the critic's weights through it. The per-epoch line shows the
penalty at work: the mean and spread of ||grad D(x_hat)|| over the epoch,
which should sit near 1.

The setup, after the paper's Algorithm 1 with the DCGAN networks of
``lessons.dcgan`` (the generator unchanged, weights N(0, 0.02)):

    critic: the DCGAN discriminator without BatchNorm. The penalty is taken
        per image, and BatchNorm would make an image's score depend on the
        rest of its batch; the paper suggests layer normalisation instead,
        and here no normalisation is used (the critic trains well without).
    penalty weight lambda = 10, n_critic = 5 critic steps per generator step,
    Adam lr 1e-4, betas (0.0, 0.9) for both networks, batch 64,
    MNIST scaled to [-1, 1].

Each real batch is one critic step; every fifth batch is also a generator
step (so an epoch is 938 critic and 187 generator steps). A critic step with
its penalty costs a little less than a whole DCGAN step (the double backward
adds about 70% to a plain critic step's arithmetic), so the default of 5
epochs takes about as long as ``lessons.dcgan``'s 5 (24 minutes on the busy
shared machine it was measured on). That is about 940 generator steps, far
fewer than the paper's 200,000: expect rougher digits than DCGAN's. There is
no published number; the judge (``lessons._judge``) reports FID and the class
histogram as for ``lessons.dcgan``.

Figures: ``samples.png`` (and ``samples_epoch_NNN.png`` every ``--sample-every`` epochs, default 1), ``losses.png``
(the critic's Wasserstein estimate and the penalty) and ``grad_norm.png``
(||grad D(x_hat)|| per epoch: its mean, and the mean plus and minus one
standard deviation).
"""
import numpy as np

import minigrad as mg
from lessons._gan import EpochMeans, add_gan_flags, fixed_noise, judge_samples, sample_grid, training_images
from lessons.common import Lesson, positive_int
from lessons.dcgan import LATENT, dcgan_init, generator
from minigrad import nn, optim, viz
from minigrad.data import DataLoader

PENALTY_WEIGHT = 10.0
BETAS = (0.0, 0.9)


def add_flags(parser):
    parser.add_argument("--n-critic", type=positive_int, default=5, metavar="N",
                        help="critic steps per generator step (default %(default)s)")
    add_gan_flags(parser)


def wgan_critic():
    """The DCGAN discriminator (lessons.dcgan) without its BatchNorm, for the per-image penalty."""
    return nn.Sequential(
        nn.Conv2D(1, 64, 4, stride=2, padding=1), nn.LeakyReLU(0.2),                           # 14x14
        nn.Conv2D(64, 128, 4, stride=2, padding=1), nn.LeakyReLU(0.2),                         # 7x7
        nn.Flatten(), nn.Dense(128 * 7 * 7, 1),
    )


def gradient_penalty(critic, real, fake):
    """(mean of (||grad D(x_hat)|| - 1)^2, the per-image norms as a NumPy array) at random interpolates x_hat."""
    eps = mg.rand(len(real), 1, 1, 1, dtype=real.dtype, device=real.device)
    x_hat = (eps * real + (1 - eps) * fake).requires_grad_()
    (grad,) = mg.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    # The 1e-12 keeps sqrt's derivative finite if a gradient were exactly zero.
    norm = ((grad * grad).sum(axis=(1, 2, 3)) + 1e-12).sqrt()
    return ((norm - 1) ** 2).mean(), norm.numpy()


def main(argv=None):
    run = Lesson("wgan_gp", __doc__, epochs=5, batch_size=64, lr=1e-4, argv=argv, extra=add_flags)

    # ---- data: MNIST training images in [-1, 1], as lessons.dcgan
    loader = DataLoader(training_images(run, "mnist", shape=(1, 28, 28)), batch_size=run.args.batch_size,
                        shuffle=True, seed=run.args.seed)

    # ---- networks and optimizers: DCGAN's generator, its discriminator without BatchNorm as the critic
    G = dcgan_init(generator()).to(run.device)
    critic = dcgan_init(wgan_critic()).to(run.device)
    g_optimizer = optim.Adam(G.parameters(), lr=run.args.lr, betas=BETAS)
    c_optimizer = optim.Adam(critic.parameters(), lr=run.args.lr, betas=BETAS)

    fixed_z = fixed_noise(run, LATENT)

    # ---- training: a critic step on every batch, a generator step on every n_critic-th
    for epoch in run.epochs(G=G, critic=critic, g_optimizer=g_optimizer, c_optimizer=c_optimizer, loader=loader):
        meter = EpochMeans()
        norms = []
        for step, (xb,) in enumerate(run.progress(loader), start=1):
            real = mg.tensor(xb, device=run.device)
            n = len(xb)
            with mg.no_grad():
                fake = G(mg.randn(n, LATENT, device=run.device))

            # critic: maximise D(real) - D(fake), keeping ||grad D|| near 1
            w_distance = critic(real).mean() - critic(fake).mean()
            penalty, norm = gradient_penalty(critic, real, fake)
            critic_loss = -w_distance + PENALTY_WEIGHT * penalty
            c_optimizer.zero_grad()
            critic_loss.backward()
            c_optimizer.step()
            meter.add(critic_loss=critic_loss, w_distance=w_distance, penalty=penalty)
            norms.append(norm)

            # generator: raise the critic's score of fresh fakes
            if step % run.args.n_critic == 0:
                g_loss = -critic(G(mg.randn(n, LATENT, device=run.device))).mean()
                g_optimizer.zero_grad()
                g_loss.backward()
                g_optimizer.step()
                meter.add(g_loss=g_loss)
        norms = np.concatenate(norms)
        run.log(**meter.means(), grad_norm_mean=norms.mean(), grad_norm_std=norms.std())
        if epoch % run.args.sample_every == 0:
            sample_grid(G, fixed_z, run.figure(f"samples_epoch_{epoch:03d}.png"),
                        f"WGAN-GP: samples after epoch {epoch}")

    # ---- figures and the judge's verdict
    sample_grid(G, fixed_z, run.figure("samples.png"), f"WGAN-GP on MNIST: samples after {run.args.epochs} epochs")
    viz.loss_curves({name: [r[name] for r in run.history] for name in ("w_distance", "penalty")},
                    run.figure("losses.png"), title="WGAN-GP critic: Wasserstein estimate and gradient penalty",
                    ylabel="per critic step, epoch mean")
    viz.loss_curves({"mean": [r["grad_norm_mean"] for r in run.history],
                     "mean - std": [r["grad_norm_mean"] - r["grad_norm_std"] for r in run.history],
                     "mean + std": [r["grad_norm_mean"] + r["grad_norm_std"] for r in run.history],
                     "target": [1.0] * len(run.history)},
                    run.figure("grad_norm.png"), title="Critic's gradient norm ||grad D(x_hat)|| at interpolates",
                    ylabel="gradient norm")
    report = judge_samples(run, G, LATENT, "mnist")
    last = run.history[-1]
    run.finish(final={"w_distance": last["w_distance"], "grad_norm_mean": last["grad_norm_mean"],
                      "grad_norm_std": last["grad_norm_std"], **report})


if __name__ == "__main__":
    main()
