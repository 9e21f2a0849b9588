"""GAN on Fashion-MNIST: an MLP generator and discriminator play their game ("3-minute deep learning").

What it teaches: the adversarial game in its plainest form. The
discriminator D is a binary classifier trained to say 1 for real images and
0 for generated ones; the generator G turns noise z into images and is
trained to make D say 1 for them (the "non-saturating" loss: maximise
log D(G(z)) rather than minimise log(1 - D(G(z))), which gives G a gradient
while D still sees through it). Each step updates D once, then G once, on the
same noise. D(x) and D(G(z)) are D's mean verdicts on real and fake images:
at the game's equilibrium D cannot tell them apart and both sit near 0.5.

The run it rebuilds: the GAN chapter of "3-minute deep learning, PyTorch"
(Keon Kim, 3분 딥러닝 파이토치맛), on Fashion-MNIST scaled to [-1, 1]:

    G: z (64) -> Dense 256 + ReLU -> Dense 256 + ReLU -> Dense 784 + tanh
    D: x (784) -> Dense 256 + LeakyReLU 0.2 -> Dense 256 + LeakyReLU 0.2 -> Dense 1 + sigmoid
    binary cross-entropy, Adam lr 2e-4 (both networks, PyTorch's betas 0.9, 0.999),
    batch 100, PyTorch's default initialisation, 500 epochs.

The book prints d_loss, g_loss, D(x) and D(G(z)) of the last batch of each
epoch and shows samples; it publishes no number. Here each epoch line gives
their means over the epoch (smoother, same meaning), and the end of the run
is judged by ``lessons._judge``: the FID of 10,000 samples against the test
set in the feature space of a trained classifier, next to the FID of real
training images (the floor), and the classifier's histogram of the samples'
classes (its entropy is log2(10) = 3.32 bits when no class is missing).

The default of 100 epochs (60,000 steps) takes about 10-15 minutes on two
idle CPU cores (39 minutes on the busy shared machine it was measured on);
``--epochs 500`` is the book's run (``--resume`` continues a stopped run).
``--dataset mnist`` trains on digits instead, the baseline the DCGAN lesson
is compared with (``python -m lessons.gan --dataset mnist``, written to ``runs/gan-mnist/``).

Figures: ``samples_epoch_NNN.png`` every ``--sample-every`` epochs and
``samples.png`` at the end (the same 64 noise vectors each time, so the grids
show one set of images improving), ``losses.png`` and ``scores.png``
(D(x) and D(G(z)) per epoch).
"""
import minigrad as mg
import minigrad.functional as F
from lessons._gan import DATASETS, EpochMeans, add_gan_flags, fixed_noise, judge_samples, sample_grid, training_images
from lessons.common import Lesson
from minigrad import nn, optim, viz
from minigrad.data import DataLoader

LATENT = 64


def add_flags(parser):
    parser.add_argument("--dataset", choices=sorted(DATASETS), default="fashion",
                        help="images to imitate (default %(default)s)")
    add_gan_flags(parser, sample_every=10)


def default_out(args):
    """runs/gan/ for the book's Fashion-MNIST run, runs/gan-mnist/ for digits (-quick appended under --quick)."""
    name = "gan" if args.dataset == "fashion" else f"gan-{args.dataset}"
    return f"runs/{name}-quick" if args.quick else f"runs/{name}"


def main(argv=None):
    run = Lesson("gan", __doc__, epochs=100, batch_size=100, lr=2e-4, argv=argv, extra=add_flags,
                 default_out=default_out)
    dataset = run.args.dataset

    # ---- data: training images only, as the book, in [-1, 1]
    loader = DataLoader(training_images(run, dataset, shape=(784,)), batch_size=run.args.batch_size, shuffle=True,
                        seed=run.args.seed)

    # ---- the two networks
    G = nn.Sequential(
        nn.Dense(LATENT, 256), nn.ReLU(),
        nn.Dense(256, 256), nn.ReLU(),
        nn.Dense(256, 784), nn.Tanh(),
    ).to(run.device)
    D = nn.Sequential(
        nn.Dense(784, 256), nn.LeakyReLU(0.2),
        nn.Dense(256, 256), nn.LeakyReLU(0.2),
        nn.Dense(256, 1), nn.Sigmoid(),
    ).to(run.device)
    d_optimizer = optim.Adam(D.parameters(), lr=run.args.lr)
    g_optimizer = optim.Adam(G.parameters(), lr=run.args.lr)

    fixed_z = fixed_noise(run, LATENT)

    # ---- training: one D step, then one G step, per batch
    for epoch in run.epochs(G=G, D=D, g_optimizer=g_optimizer, d_optimizer=d_optimizer, loader=loader):
        meter = EpochMeans()
        for (xb,) in run.progress(loader):
            real = mg.tensor(xb, device=run.device)
            n = len(xb)
            real_labels, fake_labels = mg.ones(n, 1, device=run.device), mg.zeros(n, 1, device=run.device)

            # D: real images -> 1, generated ones -> 0. detach(): this step does not train G.
            z = mg.randn(n, LATENT, device=run.device)
            fake = G(z)
            real_score, fake_score = D(real), D(fake.detach())
            d_loss = F.binary_cross_entropy(real_score, real_labels) + F.binary_cross_entropy(fake_score, fake_labels)
            d_optimizer.zero_grad()
            d_loss.backward()
            d_optimizer.step()

            # G: make the updated D say 1 for the same fakes (gradients reach D too, but only G steps).
            g_loss = F.binary_cross_entropy(D(fake), real_labels)
            g_optimizer.zero_grad()
            g_loss.backward()
            g_optimizer.step()

            meter.add(d_loss=d_loss, g_loss=g_loss, D_x=real_score.mean(), D_G_z=fake_score.mean())
        run.log(**meter.means())
        if epoch % run.args.sample_every == 0:
            sample_grid(G, fixed_z, run.figure(f"samples_epoch_{epoch:03d}.png"),
                        f"MLP GAN on {dataset}: samples after epoch {epoch}")

    # ---- figures and the judge's verdict
    sample_grid(G, fixed_z, run.figure("samples.png"), f"MLP GAN on {dataset}: samples after {run.args.epochs} epochs")
    viz.loss_curves({name: [r[name] for r in run.history] for name in ("d_loss", "g_loss")},
                    run.figure("losses.png"), title=f"MLP GAN on {dataset}: binary cross-entropy")
    viz.loss_curves({"D(x)": [r["D_x"] for r in run.history], "D(G(z))": [r["D_G_z"] for r in run.history]},
                    run.figure("scores.png"), title=f"MLP GAN on {dataset}: D's mean verdict on real and fake images",
                    ylabel="D output (1 = real)")
    report = judge_samples(run, G, LATENT, dataset)
    last = run.history[-1]
    run.finish(final={"d_loss": last["d_loss"], "g_loss": last["g_loss"], **report})


if __name__ == "__main__":
    main()
