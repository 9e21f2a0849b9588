"""What the GAN lessons (gan, dcgan, wgan_gp) share, so that each lesson shows only its networks and its game.

- ``add_gan_flags``: ``--sample-every`` and the judge's ``--judge``;
- ``training_images``: a dataset's training images in [-1, 1], the range of the generator's tanh;
- ``EpochMeans``: the per-epoch means of the numbers each step reports;
- ``fixed_noise``, ``sample_grid``, ``decode``: the grids that show one set of samples improving;
- ``judge_samples``: the judge's verdict (``lessons._judge``: FID and class histogram) on fresh samples.
"""
import numpy as np

import minigrad as mg
from lessons._judge import DATASETS, Judge, add_judge_flag
from lessons.common import positive_int
from minigrad import viz

SHOWN = 64   # samples in each grid


def add_gan_flags(parser, sample_every=1):
    """``--sample-every N`` (default ``sample_every``) and ``--judge FOLDER``; call it from ``Lesson(extra=...)``."""
    parser.add_argument("--sample-every", type=positive_int, default=sample_every, metavar="N",
                        help="save a grid of samples every N epochs (default %(default)s)")
    add_judge_flag(parser)


def to_tanh_range(images_uint8):
    """uint8 (N, 28, 28) -> float32 (N, 784) in [-1, 1], the range of G's tanh."""
    return (images_uint8.reshape(len(images_uint8), -1).astype(np.float32) / np.float32(127.5)) - np.float32(1)


def training_images(run, dataset, shape):
    """The training images of ``dataset`` ('mnist' or 'fashion'; under --quick, a few) in [-1, 1], each
    shaped ``shape``: (784,) for an MLP, (1, 28, 28) for a convolutional network."""
    x_train, _ = DATASETS[dataset]("train", root=run.args.data_dir)
    return to_tanh_range(run.subset(x_train)).reshape(-1, *shape)


class EpochMeans:
    """The mean over an epoch of each number a step reports: ``add(name=value, ...)`` after a step (a Tensor
    or a float), ``means()`` at the epoch's end, in the order the names first came. A name that no step
    reported is left out (WGAN-GP's g_loss in an epoch shorter than --n-critic), never given as NaN."""

    def __init__(self):
        self.sums, self.counts = {}, {}

    def add(self, **values):
        for name, value in values.items():
            self.sums[name] = self.sums.get(name, 0.0) + (value.item() if isinstance(value, mg.Tensor) else value)
            self.counts[name] = self.counts.get(name, 0) + 1

    def means(self):
        return {name: total / self.counts[name] for name, total in self.sums.items()}


def fixed_noise(run, latent):
    """The noise of every sample grid: the same each time, from its own generator, so that drawing it
    moves no training randomness."""
    z = np.random.default_rng(run.args.seed + 1).standard_normal((SHOWN, latent), np.float32)
    return mg.tensor(z, device=run.device)


def decode(G, z):
    """G(z) as a NumPy array, with G in evaluation mode and no graph recorded."""
    G.eval()
    with mg.no_grad():
        images = G(z).numpy()
    G.train()
    return images


def sample_grid(G, z, path, title):
    viz.image_grid(decode(G, z), path, title=title, value_range=(-1, 1))


def generate(G, latent, count, device, batch=1000):
    """``count`` samples of G from fresh noise."""
    return np.concatenate([decode(G, mg.randn(min(batch, count - start), latent, device=device))
                           for start in range(0, count, batch)])


def judge_samples(run, G, latent, dataset):
    """The judge's report on G's samples (FID against ``dataset``'s test set, the real floor, the class
    histogram and its entropy), training the judge's classifier first if need be."""
    judge = Judge.load_or_train(dataset, run)
    return judge.report(generate(G, latent, judge.sample_count, run.device), value_range=(-1, 1))
