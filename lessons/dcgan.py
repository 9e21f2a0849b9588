"""DCGAN on MNIST: convolutional generator and discriminator with batch normalisation.

What it teaches: why convolutions make a better GAN than the MLPs of
``lessons.gan``. The generator grows an image: a dense layer makes a 7x7 map
of 128 channels, and two transposed convolutions (kernel 4, stride 2,
padding 1) double it to 14x14 and 28x28. The discriminator mirrors it with
two strided convolutions. Batch normalisation keeps both trainable; the
DCGAN recipe (Radford et al. 2016) adds weights drawn from N(0, 0.02), Adam
with beta1 = 0.5 and LeakyReLU in the discriminator. D gives a logit and the
loss is binary cross-entropy on logits (stable for any score).

The setup, the DCGAN paper's recipe (and the PyTorch DCGAN tutorial's) at
28x28:

    G: z (100) -> Dense 128*7*7 + BatchNorm1D + ReLU -> reshape (128, 7, 7)
       -> ConvT(128->64, 4, s2, p1) + BatchNorm2D + ReLU -> ConvT(64->1, 4, s2, p1) + tanh
    D: x (1, 28, 28) -> Conv(1->64, 4, s2, p1) + LeakyReLU 0.2
       -> Conv(64->128, 4, s2, p1) + BatchNorm2D + LeakyReLU 0.2 -> Flatten -> Dense 1 (logit)
    weights N(0, 0.02), BatchNorm scales N(1, 0.02), biases 0;
    Adam lr 2e-4, betas (0.5, 0.999); batch 64; MNIST scaled to [-1, 1].

The default of 5 epochs (4,690 steps) takes about 10-15 minutes on two idle CPU
cores (40 on the busy shared machine it was measured on); digits are
recognisable after the first.

No published number goes with it. The judge (``lessons._judge``) scores 10,000
samples: FID in the feature space of a trained MNIST classifier (against the
test set; the floor is real training images) and the classifier's class
histogram, which must cover all ten digits. To compare with the MLP GAN on
the same data, run ``python -m lessons.gan --dataset mnist``
(written to ``runs/gan-mnist/``).

Samples are drawn with the generator in evaluation mode (BatchNorm uses its
running statistics), so a sample does not depend on the others in its batch.

Figures: ``samples.png`` (64 samples from fixed noise; also
``samples_epoch_NNN.png`` after every ``--sample-every`` epochs, default 1), ``interpolation.png`` (the
images along the straight line from the noise of the grid's first sample to
that of its second) and ``losses.png``.
"""
import numpy as np

import minigrad as mg
import minigrad.functional as F
from lessons._gan import EpochMeans, add_gan_flags, decode, fixed_noise, judge_samples, sample_grid, training_images
from lessons.common import Lesson
from minigrad import nn, optim, viz
from minigrad.data import DataLoader

LATENT = 100
INTERPOLATION_STEPS = 10


def generator():
    return nn.Sequential(
        nn.Dense(LATENT, 128 * 7 * 7), nn.BatchNorm1D(128 * 7 * 7), nn.ReLU(),
        nn.Reshape(128, 7, 7),
        nn.ConvTranspose2D(128, 64, 4, stride=2, padding=1), nn.BatchNorm2D(64), nn.ReLU(),   # 14x14
        nn.ConvTranspose2D(64, 1, 4, stride=2, padding=1), nn.Tanh(),                          # 28x28
    )


def discriminator():
    return nn.Sequential(
        nn.Conv2D(1, 64, 4, stride=2, padding=1), nn.LeakyReLU(0.2),                           # 14x14
        nn.Conv2D(64, 128, 4, stride=2, padding=1), nn.BatchNorm2D(128), nn.LeakyReLU(0.2),    # 7x7
        nn.Flatten(), nn.Dense(128 * 7 * 7, 1),
    )


def dcgan_init(model):
    """The DCGAN paper's initialisation: weights N(0, 0.02), BatchNorm scales N(1, 0.02), biases 0."""
    for layer in model.modules():
        if isinstance(layer, (nn.Dense, nn.Conv2D, nn.ConvTranspose2D)):
            nn.init.normal_(layer.weight, 0.0, 0.02)
            nn.init.zeros_(layer.bias)
        elif isinstance(layer, (nn.BatchNorm1D, nn.BatchNorm2D)):
            nn.init.normal_(layer.weight, 1.0, 0.02)
            nn.init.zeros_(layer.bias)
    return model


def main(argv=None):
    run = Lesson("dcgan", __doc__, epochs=5, batch_size=64, lr=2e-4, argv=argv, extra=add_gan_flags)

    # ---- data: MNIST training images in [-1, 1]
    loader = DataLoader(training_images(run, "mnist", shape=(1, 28, 28)), batch_size=run.args.batch_size,
                        shuffle=True, seed=run.args.seed)

    # ---- networks and optimizers
    G = dcgan_init(generator()).to(run.device)
    D = dcgan_init(discriminator()).to(run.device)
    g_optimizer = optim.Adam(G.parameters(), lr=run.args.lr, betas=(0.5, 0.999))
    d_optimizer = optim.Adam(D.parameters(), lr=run.args.lr, betas=(0.5, 0.999))

    fixed_z = fixed_noise(run, LATENT)

    # ---- training: one D step (real and fake batches), then one G step
    for epoch in run.epochs(G=G, D=D, g_optimizer=g_optimizer, d_optimizer=d_optimizer, loader=loader):
        meter = EpochMeans()
        for (xb,) in run.progress(loader):
            real = mg.tensor(xb, device=run.device)
            n = len(xb)
            ones, zeros = mg.ones(n, 1, device=run.device), mg.zeros(n, 1, device=run.device)

            fake = G(mg.randn(n, LATENT, device=run.device))
            real_logit, fake_logit = D(real), D(fake.detach())   # two batches: BatchNorm sees each apart
            d_loss = (F.binary_cross_entropy_with_logits(real_logit, ones)
                      + F.binary_cross_entropy_with_logits(fake_logit, zeros))
            d_optimizer.zero_grad()
            d_loss.backward()
            d_optimizer.step()

            g_loss = F.binary_cross_entropy_with_logits(D(fake), ones)
            g_optimizer.zero_grad()
            g_loss.backward()
            g_optimizer.step()

            meter.add(d_loss=d_loss, g_loss=g_loss,
                      D_x=F.sigmoid(real_logit).mean(), D_G_z=F.sigmoid(fake_logit).mean())
        run.log(**meter.means())
        if epoch % run.args.sample_every == 0:
            sample_grid(G, fixed_z, run.figure(f"samples_epoch_{epoch:03d}.png"), f"DCGAN: samples after epoch {epoch}")

    # ---- figures and the judge's verdict
    sample_grid(G, fixed_z, run.figure("samples.png"), f"DCGAN on MNIST: samples after {run.args.epochs} epochs")
    # From the grid's first sample to its second along the straight line between their noise vectors.
    weights = mg.tensor(np.linspace(0, 1, INTERPOLATION_STEPS, dtype=np.float32).reshape(-1, 1), device=run.device)
    z_path = (1 - weights) * fixed_z[0:1] + weights * fixed_z[1:2]
    viz.interpolation_strip(decode(G, z_path), run.figure("interpolation.png"), value_range=(-1, 1),
                            title="DCGAN: from the first sample to the second along a line in z",
                            start_label="sample 1", end_label="sample 2")
    viz.loss_curves({name: [r[name] for r in run.history] for name in ("d_loss", "g_loss")},
                    run.figure("losses.png"), title="DCGAN on MNIST: binary cross-entropy")
    report = judge_samples(run, G, LATENT, "mnist")
    last = run.history[-1]
    run.finish(final={"d_loss": last["d_loss"], "g_loss": last["g_loss"], **report})


if __name__ == "__main__":
    main()
