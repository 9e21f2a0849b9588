"""The judge of generated images: Fréchet distance and class histogram from a trained classifier.

A generative lesson asks one question of its samples: do they look like the
data? The judge answers with the small CNN of ``python -m lessons.classifier``
(MNIST >= 99 %, Fashion-MNIST >= 90 % test accuracy), the way the Fréchet
Inception Distance uses an ImageNet network:

- **FID**: fit a Gaussian to the classifier's penultimate features (128 per
  image) of the samples and another to those of the test set, and measure
  their Fréchet distance. 0 means the same feature statistics; it is biased
  upwards for small sets, so always compare the same number of images.
- **the real floor**: the FID of 10,000 *training* images against the test
  set, the best a generator can hope for.
- **the class histogram**: the classifier's predicted classes of the samples
  and its entropy in bits: log2(10) = 3.32 when every class is equally
  frequent, lower when the generator drops modes (0 bits: one class only).

Use in a lesson (``--judge FOLDER`` picks the classifier run to load)::

    from lessons._judge import Judge, add_judge_flag
    run = Lesson("gan", __doc__, ..., extra=add_judge_flag)
    ...train...
    judge = Judge.load_or_train("fashion", run)          # or "mnist"
    samples = generate(judge.sample_count)                # 10,000 (256 under --quick)
    report = judge.report(samples, value_range=(-1, 1))   # tanh outputs; default (0, 1)
    run.finish(final={"d_loss": ..., **report})

``report`` gives ``fid``, ``fid_real_floor``, ``class_entropy_bits`` and
``class_fraction_0`` .. ``class_fraction_9`` (flat numbers, so they go into
``metrics.json`` through ``run.finish``). The parts are there too:
``judge.fid(samples, reference='test')``, ``judge.real_floor()``,
``judge.class_histogram(samples)``, :func:`entropy_bits`, and the NumPy
numerics :func:`feature_statistics` and :func:`frechet_distance`.

Images may be (N, 28, 28), (N, 1, 28, 28) or (N, 784), NumPy arrays or
Tensors; floats are mapped from ``value_range`` to [0, 1], uint8 from 0..255.

Where the classifier comes from: ``--judge FOLDER`` (default
``runs/classifier/<dataset>/``) holding the ``classifier.npz`` that
``python -m lessons.classifier --dataset <dataset>`` writes. If it is not
there, the judge trains it first, into that folder (a few minutes, once).
Under ``--quick`` it always trains a throwaway classifier on a few batches
(seconds, inside ``--out``) and judges against a few hundred real images:
the numbers then only prove the plumbing runs.
"""
import contextlib
from pathlib import Path

import numpy as np

import minigrad as mg
from lessons import classifier as classifier_lesson
from minigrad.data import fashion_mnist, mnist

DATASETS = {"mnist": mnist, "fashion": fashion_mnist}
REFERENCE_COUNT = 10_000    # images on each side of every FID, as the test set has
QUICK_COUNT = 256
BATCH = 500                 # images per forward pass when computing features
FLOOR_SEED = 0              # which training images make the real floor


def add_judge_flag(parser):
    """Give a lesson the ``--judge FOLDER`` flag (pass as ``Lesson(..., extra=add_judge_flag)``)."""
    parser.add_argument("--judge", default=None, metavar="FOLDER",
                        help="classifier run whose classifier.npz judges the samples "
                             "(default runs/classifier/<dataset>/; trained there first if missing)")


# ------------------------------------------------------------------ numerics (NumPy, float64)

def feature_statistics(features):
    """Mean vector and covariance matrix (unbiased, as FID uses) of features (N, D), in float64."""
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2 or len(features) < 2:
        raise ValueError(f"feature_statistics: expected features of shape (N >= 2, D), got {features.shape}")
    return features.mean(axis=0), np.cov(features, rowvar=False)


def sqrt_psd(matrix):
    """The symmetric square root of a symmetric positive semi-definite matrix, by eigen-decomposition.

    Rounding can leave tiny negative eigenvalues; they are zero in truth, so they are clipped.
    """
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def frechet_distance(mu1, cov1, mu2, cov2):
    """Fréchet distance between N(mu1, cov1) and N(mu2, cov2).

    d² = |mu1 - mu2|² + tr(C1) + tr(C2) - 2 tr(sqrt(C1 C2)). C1 C2 is not
    symmetric, but it is similar to S C2 S with S = sqrt(C1) (conjugate by S),
    which is symmetric PSD: tr(sqrt(C1 C2)) is the sum of the square roots of
    its eigenvalues, and eigh finds those stably.
    """
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    cov1, cov2 = np.atleast_2d(np.asarray(cov1, np.float64)), np.atleast_2d(np.asarray(cov2, np.float64))
    if not (mu1.shape == mu2.shape and cov1.shape == cov2.shape == mu1.shape * 2):
        raise ValueError(f"frechet_distance: means {mu1.shape}, {mu2.shape} and covariances {cov1.shape}, "
                         f"{cov2.shape} do not describe two Gaussians of one dimension")
    root1 = sqrt_psd(cov1)
    product = root1 @ cov2 @ root1
    trace_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh((product + product.T) / 2), 0.0, None)).sum()
    difference = mu1 - mu2
    distance = difference @ difference + np.trace(cov1) + np.trace(cov2) - 2.0 * trace_sqrt
    return float(max(distance, 0.0))  # it is a squared distance: a rounding error below 0 means 0


def entropy_bits(fractions):
    """Shannon entropy in bits of a histogram (fractions or counts)."""
    p = np.asarray(fractions, dtype=np.float64)
    p = p[p > 0] / p.sum()
    return float((p * np.log2(1.0 / p)).sum())


# ------------------------------------------------------------------ the judge

class Judge:
    """A trained classifier plus the feature statistics of real images of its dataset."""

    def __init__(self, model, dataset, *, device="cpu", data_dir=None, quick=False):
        _check_dataset(dataset)
        self.model = model
        self.model.eval()
        self.dataset = dataset
        self.device = device
        self.sample_count = QUICK_COUNT if quick else REFERENCE_COUNT
        self.num_classes = len(classifier_lesson.CLASS_NAMES[dataset])
        test_images, _ = DATASETS[dataset]("test", root=data_dir)
        train_images, _ = DATASETS[dataset]("train", root=data_dir)
        floor_rows = np.random.default_rng(FLOOR_SEED).choice(len(train_images), self.sample_count, replace=False)
        self.reference = {
            "test": feature_statistics(self.features(test_images[:self.sample_count])),
            "train": feature_statistics(self.features(train_images[np.sort(floor_rows)])),
        }

    @classmethod
    def load_or_train(cls, dataset, run):
        """The judge for ``dataset`` ('mnist' or 'fashion') in a lesson ``run``; trains the classifier if needed."""
        _check_dataset(dataset)
        # Training or building the classifier draws random numbers; the lesson's own must not notice.
        with _random_generators_kept():
            if run.quick:
                folder = run.out / "judge"
                _train_classifier(dataset, folder, run, quick=True)
            else:
                folder = Path(getattr(run.args, "judge", None) or classifier_lesson.default_out(dataset))
                if not (folder / classifier_lesson.WEIGHTS).is_file():
                    print(f"judge: no {classifier_lesson.WEIGHTS} in {folder}/, training the {dataset} "
                          f"classifier there")
                    _train_classifier(dataset, folder, run, quick=False)
            return cls.load(folder, dataset, device=run.device, data_dir=run.args.data_dir, quick=run.quick)

    @classmethod
    def load(cls, folder, dataset, *, device="cpu", data_dir=None, quick=False):
        """The judge from the classifier.npz in ``folder`` (written by the classifier lesson)."""
        _check_dataset(dataset)
        path = Path(folder) / classifier_lesson.WEIGHTS
        if not path.is_file():
            raise FileNotFoundError(f"Judge: no classifier at {path}; make it with "
                                    f"python -m lessons.classifier --dataset {dataset} --out {folder}")
        saved = mg.load(path)
        if saved["dataset"] != dataset:
            raise ValueError(f"Judge: {path} classifies {saved['dataset']!r}, not {dataset!r}")
        model = classifier_lesson.Classifier(len(classifier_lesson.CLASS_NAMES[dataset]))
        model.load_state_dict(saved["model"])
        return cls(model.to(device), dataset, device=device, data_dir=data_dir, quick=quick)

    # -------------------------------------------------------------- what it measures

    def features(self, images, value_range=(0.0, 1.0)):
        """Penultimate features (N, 128), NumPy float32."""
        return self._forward(images, value_range)[0]

    def fid(self, images, value_range=(0.0, 1.0), reference="test"):
        """FID of ``images`` against the test set (``reference='test'``) or the floor's training images."""
        return self._fid(self.features(images, value_range), reference)

    def real_floor(self):
        """FID of ``sample_count`` training images against the test set: what real data scores."""
        return frechet_distance(*self.reference["train"], *self.reference["test"])

    def class_histogram(self, images, value_range=(0.0, 1.0)):
        """Fraction of ``images`` the classifier puts in each class, shape (num_classes,)."""
        return self._histogram(self._forward(images, value_range)[1])

    def report(self, images, value_range=(0.0, 1.0)):
        """Every number a generative lesson records, flat: fid, fid_real_floor, class_entropy_bits, class_fraction_k."""
        if len(images) != self.sample_count:
            print(f"judge: warning: FID of {len(images)} images against {self.sample_count} real ones "
                  f"is not comparable with the floor (FID grows as sets shrink)")
        features, logits = self._forward(images, value_range)
        histogram = self._histogram(logits)
        numbers = {"fid": self._fid(features, "test"), "fid_real_floor": self.real_floor(),
                   "class_entropy_bits": entropy_bits(histogram)}
        numbers.update({f"class_fraction_{k}": float(share) for k, share in enumerate(histogram)})
        return numbers

    # -------------------------------------------------------------- helpers

    def _fid(self, features, reference):
        if reference not in self.reference:
            raise ValueError(f"Judge.fid: reference must be one of {sorted(self.reference)}, got {reference!r}")
        return frechet_distance(*feature_statistics(features), *self.reference[reference])

    def _histogram(self, logits):
        counts = np.bincount(logits.argmax(axis=1), minlength=self.num_classes)
        return counts / counts.sum()

    def _forward(self, images, value_range):
        """(features, logits) of every image, in batches, without recording a graph."""
        x = _as_unit_images(images, value_range)
        features, logits = [], []
        with mg.no_grad():
            for start in range(0, len(x), BATCH):
                batch = mg.tensor(x[start:start + BATCH], device=self.device)
                h = self.model.features(batch)
                features.append(h.numpy())
                logits.append(self.model.head(h).numpy())
        return np.concatenate(features), np.concatenate(logits)


def _check_dataset(dataset):
    if dataset not in DATASETS:
        raise ValueError(f"Judge: dataset must be one of {sorted(DATASETS)}, got {dataset!r}")


def _as_unit_images(images, value_range):
    """Images of any accepted layout and range -> float32 (N, 1, 28, 28) in [0, 1]."""
    x = images.numpy() if isinstance(images, mg.Tensor) else np.asarray(images)
    if x.size != len(x) * 28 * 28:
        raise ValueError(f"Judge: expected 28x28 images as (N, 28, 28), (N, 1, 28, 28) or (N, 784), got {x.shape}")
    low, high = (0.0, 255.0) if x.dtype == np.uint8 else value_range
    x = x.reshape(len(x), 1, 28, 28).astype(np.float32)
    return (x - np.float32(low)) / np.float32(high - low)


def _train_classifier(dataset, folder, run, *, quick):
    """Run the classifier lesson into ``folder`` with the calling lesson's seed, device and data."""
    argv = ["--dataset", dataset, "--out", str(folder), "--seed", str(run.args.seed), "--device", run.device]
    if run.args.data_dir is not None:
        argv += ["--data-dir", str(run.args.data_dir)]
    if quick:
        argv += ["--quick", "--overwrite"]  # every quick run makes its own throwaway judge
    classifier_lesson.main(argv)


@contextlib.contextmanager
def _random_generators_kept():
    """Restore minigrad's and NumPy's global generators on the way out."""
    minigrad_state, numpy_state = mg.get_rng_state(), np.random.get_state()
    try:
        yield
    finally:
        mg.set_rng_state(minigrad_state)
        np.random.set_state(numpy_state)
