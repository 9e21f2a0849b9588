"""A small CNN that classifies MNIST or Fashion-MNIST: the judge of the generative lessons.

What it teaches: a convolutional classifier end to end (convolutions that
downsample with stride 2 instead of max-pooling, batch normalisation,
dropout, softmax cross-entropy, Adam) and why a classifier can grade a
generator. Its 128 penultimate features are the space in which
``lessons._judge`` measures the Fréchet distance (FID) between generated
and real images, and its predictions give the class histogram that reveals
mode collapse.

Setup (no published run; the targets are >= 99.0 % test accuracy on MNIST
and >= 90.0 % on Fashion-MNIST):

    conv 3x3, 32, stride 2   28 -> 14   + BatchNorm + ReLU
    conv 3x3, 64             14 -> 14   + BatchNorm + ReLU
    conv 3x3, 64, stride 2   14 -> 7    + BatchNorm + ReLU
    flatten, dense 128                  + BatchNorm + ReLU   <- the judge's features
    dropout 0.5, dense 10 (logits)

Adam lr 1e-3 (a tenth of it in the last epoch), batch 128, 3 epochs,
PyTorch's default initialisation.
``--dataset mnist|fashion``; the run goes to ``runs/classifier/<dataset>/``
and leaves ``classifier.npz`` there for the judge.
"""
from pathlib import Path

import numpy as np

import minigrad as mg
import minigrad.functional as F
from lessons.common import Lesson
from minigrad import nn, optim, viz
from minigrad.data import FASHION_MNIST_CLASSES, MNIST_CLASSES, DataLoader, fashion_mnist, mnist

DATASETS = {"mnist": mnist, "fashion": fashion_mnist}
TITLES = {"mnist": "MNIST", "fashion": "Fashion-MNIST"}
CLASS_NAMES = {"mnist": MNIST_CLASSES, "fashion": FASHION_MNIST_CLASSES}
TARGET_ACCURACY = {"mnist": 0.990, "fashion": 0.900}
WEIGHTS = "classifier.npz"   # what the judge loads: the model's state_dict, its dataset and accuracy
EVAL_BATCH = 1000


class Classifier(nn.Module):
    """Images (N, 1, 28, 28) in [0, 1] -> class logits; ``features`` is everything but the last layer."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2D(1, 32, 3, stride=2, padding=1), nn.BatchNorm2D(32), nn.ReLU(),
            nn.Conv2D(32, 64, 3, padding=1), nn.BatchNorm2D(64), nn.ReLU(),
            nn.Conv2D(64, 64, 3, stride=2, padding=1), nn.BatchNorm2D(64), nn.ReLU(),
            nn.Flatten(),
            nn.Dense(64 * 7 * 7, 128), nn.BatchNorm1D(128), nn.ReLU(),
        )
        self.head = nn.Sequential(nn.Dropout(0.5), nn.Dense(128, num_classes))

    def forward(self, x):
        return self.head(self.features(x))


def default_out(dataset, quick=False):
    """runs/classifier/<dataset>/: one folder per dataset, where the judge looks for ``classifier.npz``."""
    return Path("runs/classifier-quick" if quick else "runs/classifier") / dataset


def add_flags(parser):
    parser.add_argument("--dataset", choices=sorted(DATASETS), default="mnist",
                        help="which images to classify (default %(default)s)")


def as_images(x_uint8):
    """uint8 (N, 28, 28) -> float32 (N, 1, 28, 28) in [0, 1]."""
    return (x_uint8.astype(np.float32) / np.float32(255)).reshape(-1, 1, 28, 28)


def evaluate(model, images, labels, device):
    """(mean cross-entropy, accuracy, predicted labels) over a whole split, in eval mode."""
    model.eval()
    total_loss, predictions = 0.0, []
    with mg.no_grad():
        for start in range(0, len(images), EVAL_BATCH):
            xb = mg.tensor(as_images(images[start:start + EVAL_BATCH]), device=device)
            yb = labels[start:start + EVAL_BATCH]
            logits = model(xb)
            total_loss += F.cross_entropy(logits, yb, reduction="sum").item()
            predictions.append(logits.numpy().argmax(axis=1))
    model.train()
    predictions = np.concatenate(predictions)
    return total_loss / len(images), float((predictions == labels).mean()), predictions


def plot_mistakes(images, labels, predictions, class_names, path, per_class=12):
    """One row per predicted class: test images the classifier wrongly took for that class."""
    wrong = predictions != labels
    rows = {f"taken for {name}": images[wrong & (predictions == k)][:per_class]
            for k, name in enumerate(class_names) if (wrong & (predictions == k)).any()}
    if rows:
        viz.image_rows(rows, path, title=f"The {wrong.sum()} misclassified test images (of {len(labels)}), "
                                         f"by the class they were taken for")


def main(argv=None):
    run = Lesson("classifier", __doc__, epochs=3, batch_size=128, lr=1e-3, argv=argv, extra=add_flags,
                 default_out=lambda args: default_out(args.dataset, args.quick))
    dataset = run.args.dataset

    # ---- data: uint8 images, scaled to [0, 1] batch by batch
    x_train, y_train = run.subset(*DATASETS[dataset]("train", root=run.args.data_dir))
    x_test, y_test = run.subset(*DATASETS[dataset]("test", root=run.args.data_dir))
    loader = DataLoader(x_train, y_train, batch_size=run.args.batch_size, shuffle=True, seed=run.args.seed)

    # ---- model and optimizer
    model = Classifier(len(CLASS_NAMES[dataset])).to(run.device)
    optimizer = optim.Adam(model.parameters(), lr=run.args.lr)

    # ---- training: softmax cross-entropy, one test evaluation per epoch
    for epoch in run.epochs(model=model, optimizer=optimizer, loader=loader):
        # The last epoch at a tenth of the rate lets the weights settle instead of jittering around the optimum.
        settling = epoch == run.args.epochs and run.args.epochs > 1
        optimizer.lr = run.args.lr * (0.1 if settling else 1.0)
        total_loss, seen = 0.0, 0
        for xb, yb in run.progress(loader):
            logits = model(mg.tensor(as_images(xb), device=run.device))
            loss = F.cross_entropy(logits, yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total_loss += loss.item() * len(xb)
            seen += len(xb)
        test_loss, test_accuracy, predictions = evaluate(model, x_test, y_test, run.device)
        run.log(train_loss=total_loss / seen, test_loss=test_loss, test_accuracy=test_accuracy)

    # ---- what the judge loads, and two figures
    mg.save({"dataset": dataset, "model": model.state_dict(), "test_accuracy": test_accuracy}, run.out / WEIGHTS)
    viz.loss_curves({name: [record[name] for record in run.history] for name in ("train_loss", "test_loss")},
                    run.figure("loss.png"), title=f"CNN classifier on {TITLES[dataset]}: cross-entropy")
    plot_mistakes(x_test, y_test, predictions, CLASS_NAMES[dataset], run.figure("mistakes.png"))
    if test_accuracy < TARGET_ACCURACY[dataset]:
        print(f"warning: test accuracy {test_accuracy:.4f} is below the judge's target {TARGET_ACCURACY[dataset]}")
    run.finish(final={"test_accuracy": test_accuracy})


if __name__ == "__main__":
    main()
