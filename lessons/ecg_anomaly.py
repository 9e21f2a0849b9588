"""Anomaly detection on ECG5000: an autoencoder trained on normal heartbeats flags the beats it rebuilds badly.

Rebuilds the anomaly detector of TensorFlow's tutorial "Intro to
Autoencoders" (tensorflow.org/tutorials/generative/autoencoder, third
example), on the same data and the same split:

    data      the tutorial's ecg.csv: ECG5000's 4,998 beats of 140 samples,
              label 1 = normal (UCR class 1), 0 = any of the four abnormal kinds;
              train_test_split(test_size=0.2, random_state=21): 3,998 / 1,000
    scaling   (x - min) / (max - min), min and max of the whole training array
    encoder   Dense(32, relu) -> Dense(16, relu) -> Dense(8, relu)
    decoder   Dense(16, relu) -> Dense(32, relu) -> Dense(140, sigmoid)
    training  mean absolute error, Adam, 20 epochs, batch 512, Keras' defaults,
              on the normal training beats only
    rule      threshold = mean + 1 std of the normal training beats' errors
              (mean absolute error per beat); a beat is normal below it

The tutorial reports, with normal beats as the positive class: accuracy
0.945, precision 0.992, recall 0.909. The autoencoder never saw an
abnormal beat: it only learned to redraw normal ones, so a beat it redraws
badly is suspect.

The tutorial's threshold is set on the very beats the model was fitted to,
whose errors are smaller than those of new normal beats. With --improved a
second detector trains alongside, with three changes:

- 20% of the training split is held out (normal and abnormal beats alike);
  the autoencoder trains on the remaining normal beats;
- the threshold is the 95th percentile of the errors of the held-out normal
  beats: by construction about 5% of new normal beats are flagged;
- mean squared error instead of absolute error (it punishes the large local
  misfits that mark an abnormal shape) and batches of 32 instead of 512
  (more, smaller steps in the same 20 epochs).

Both detectors are scored on the same 1,000 test beats; metrics.json keeps
both (``improved_*``), the ROC AUC of each, and the precision and recall
with the anomalies as the positive class.
"""
import math

import numpy as np
from matplotlib.figure import Figure

import minigrad as mg
import minigrad.functional as F
from lessons._models import keras_init_
from lessons.common import Lesson
from minigrad import nn, optim, viz
from minigrad.data import DataLoader, ecg5000

PUBLISHED = {"accuracy": 0.945, "precision": 0.992, "recall": 0.909}
ECG_CSV_ROWS = 4998          # ecg.csv lacks the last two beats of the UCR test file
SPLIT_SEED = 21
TEST_FRACTION = 0.2
IMPROVED_BATCH = 32
VALIDATION_FRACTION = 0.2
FALSE_ALARM_RATE = 0.05


def tutorial_split(root=None):
    """The tutorial's (train_x, train_normal, test_x, test_normal), rebuilt from the UCR files.

    ecg.csv is the UCR TRAIN file followed by the TEST file without its last
    two rows, the class reduced to normal / not normal. scikit-learn's
    train_test_split(test_size=0.2, random_state=21) draws one permutation
    from NumPy's RandomState(21) and puts its first ceil(0.2 n) rows in the
    test set, the rest in the training set.
    """
    train_series, train_class = ecg5000("train", root)
    test_series, test_class = ecg5000("test", root)
    series = np.concatenate([train_series, test_series])[:ECG_CSV_ROWS]
    normal = np.concatenate([train_class, test_class])[:ECG_CSV_ROWS] == 1
    order = np.random.RandomState(SPLIT_SEED).permutation(len(series))
    n_test = math.ceil(TEST_FRACTION * len(series))
    test, train = order[:n_test], order[n_test:]
    return series[train], normal[train], series[test], normal[test]


def autoencoder():
    """The tutorial's 140-32-16-8 encoder and 8-16-32-140 decoder, started as Keras starts them."""
    encoder = nn.Sequential(nn.Dense(140, 32), nn.ReLU(), nn.Dense(32, 16), nn.ReLU(), nn.Dense(16, 8), nn.ReLU())
    decoder = nn.Sequential(nn.Dense(8, 16), nn.ReLU(), nn.Dense(16, 32), nn.ReLU(), nn.Dense(32, 140), nn.Sigmoid())
    return keras_init_(nn.Sequential(encoder, decoder))


def mean_absolute_error(reconstruction, x):
    return (reconstruction - x).abs().mean()


def train_one_epoch(run, model, optimizer, loader, loss_fn):
    """One pass over the loader; the mean batch loss."""
    losses = []
    for (batch,) in run.progress(loader):
        x = mg.tensor(batch)
        loss = loss_fn(model(x), x)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return float(np.mean(losses))


def reconstruction_errors(model, x, device):
    """Each beat's mean absolute reconstruction error (Keras' losses.mae) and the reconstructions."""
    with mg.no_grad():
        reconstruction = model(mg.tensor(x, device=device)).numpy()
    return np.abs(reconstruction - x).mean(axis=1), reconstruction


def scores(predicted, actual):
    """Accuracy, precision and recall of boolean predictions of the positive class."""
    true_positives = np.sum(predicted & actual)
    return {"accuracy": float(np.mean(predicted == actual)),
            "precision": float(true_positives / max(predicted.sum(), 1)),
            "recall": float(true_positives / max(actual.sum(), 1))}


def evaluate(errors, normal, threshold):
    """The detector's numbers: normal beats as the positive class (as the tutorial), then anomalies."""
    called_normal = errors < threshold
    result = scores(called_normal, normal)
    anomalies = scores(~called_normal, ~normal)
    result.update(anomaly_precision=anomalies["precision"], anomaly_recall=anomalies["recall"],
                  roc_auc=viz.roc_auc(errors, ~normal), threshold=float(threshold))
    return result


def main(argv=None):
    run = Lesson("ecg_anomaly", __doc__, epochs=20, batch_size=512, lr=1e-3, argv=argv,
                 extra=lambda parser: parser.add_argument(
                     "--improved", action="store_true",
                     help="also train the improved detector (held-out threshold, MSE, batch 32)"))
    train_x, train_normal, test_x, test_normal = tutorial_split(run.args.data_dir)
    train_x, train_normal, test_x, test_normal = run.subset(train_x, train_normal, test_x, test_normal)
    low, high = train_x.min(), train_x.max()
    train_x, test_x = (train_x - low) / (high - low), (test_x - low) / (high - low)

    model = autoencoder()
    optimizer = optim.Adam(model.parameters(), lr=run.args.lr, eps=1e-7)
    loader = DataLoader(train_x[train_normal], batch_size=run.args.batch_size, shuffle=True, seed=run.args.seed,
                        device=run.device)
    checkpointed = {"model": model, "optimizer": optimizer, "loader": loader}
    if run.args.improved:
        shuffled = np.random.default_rng(run.args.seed).permutation(len(train_x))
        n_validation = int(VALIDATION_FRACTION * len(train_x))
        validation, fitting = shuffled[:n_validation], shuffled[n_validation:]
        validation_normal_x = train_x[validation][train_normal[validation]]
        improved = autoencoder()
        improved_optimizer = optim.Adam(improved.parameters(), lr=run.args.lr, eps=1e-7)
        improved_loader = DataLoader(train_x[fitting][train_normal[fitting]], batch_size=IMPROVED_BATCH,
                                     shuffle=True, seed=run.args.seed + 1, device=run.device)
        checkpointed.update(improved=improved, improved_optimizer=improved_optimizer, improved_loader=improved_loader)

    test_beats = mg.tensor(test_x, device=run.device)
    for epoch in run.epochs(**checkpointed):
        losses = {"loss": train_one_epoch(run, model, optimizer, loader, mean_absolute_error)}
        with mg.no_grad():  # as the tutorial, whose validation_data is the test set
            losses["val_loss"] = mean_absolute_error(model(test_beats), test_beats).item()
        if run.args.improved:
            losses["improved_loss"] = train_one_epoch(run, improved, improved_optimizer, improved_loader,
                                                      F.mse_loss)
            with mg.no_grad():
                held_out_normal = mg.tensor(validation_normal_x, device=run.device)
                losses["improved_val_loss"] = F.mse_loss(improved(held_out_normal), held_out_normal).item()
        run.log(**losses)

    train_errors, _ = reconstruction_errors(model, train_x[train_normal], run.device)
    threshold = train_errors.mean() + train_errors.std()
    test_errors, test_reconstructions = reconstruction_errors(model, test_x, run.device)
    final = evaluate(test_errors, test_normal, threshold)
    draw_beats(test_x, test_reconstructions, test_errors, test_normal, threshold, run.figure("beats.png"))
    viz.threshold_histogram({"normal": test_errors[test_normal], "abnormal": test_errors[~test_normal]}, threshold,
                            run.figure("error_histogram.png"), xlabel="reconstruction error (MAE per beat)",
                            title="Test beats: reconstruction error and the tutorial's threshold")
    viz.roc_plot(test_errors, ~test_normal, run.figure("roc.png"), name="tutorial's autoencoder",
                 title="ROC of the reconstruction error as an anomaly score (test beats)")
    if run.args.improved:
        validation_errors, _ = reconstruction_errors(improved, validation_normal_x, run.device)
        improved_threshold = np.quantile(validation_errors, 1 - FALSE_ALARM_RATE)
        improved_errors, _ = reconstruction_errors(improved, test_x, run.device)
        final.update({f"improved_{name}": value
                      for name, value in evaluate(improved_errors, test_normal, improved_threshold).items()})
        viz.threshold_histogram({"normal": improved_errors[test_normal], "abnormal": improved_errors[~test_normal]},
                                improved_threshold, run.figure("error_histogram_improved.png"),
                                xlabel="reconstruction error (MAE per beat)",
                                title="Improved detector: test beats and the held-out threshold")
        viz.roc_plot(improved_errors, ~test_normal, run.figure("roc_improved.png"), name="improved autoencoder",
                     title="ROC of the improved detector (test beats)")

    for prefix, what in [("", "tutorial")] + ([("improved_", "improved")] if run.args.improved else []):
        print(f"{what:9s} (normal = positive)  accuracy {final[prefix + 'accuracy']:.3f}  precision "
              f"{final[prefix + 'precision']:.3f}  recall {final[prefix + 'recall']:.3f}   |  ROC AUC "
              f"{final[prefix + 'roc_auc']:.3f}   (published: 0.945 / 0.992 / 0.909)")
    run.finish(final=final, published=PUBLISHED)


def draw_beats(x, reconstructions, errors, normal, threshold, path):
    """A typical normal and a typical abnormal test beat (the median error of each kind), redrawn by the model."""
    fig = Figure(figsize=(11, 3.8))
    for ax, (kind, members) in zip(fig.subplots(1, 2, sharey=True), (("normal", normal), ("abnormal", ~normal))):
        candidates = np.flatnonzero(members)
        index = candidates[np.argsort(errors[candidates])[len(candidates) // 2]]
        time = np.arange(x.shape[1])
        ax.plot(time, x[index], color="black", linewidth=1.5, label="input")
        ax.plot(time, reconstructions[index], color="tab:blue", linewidth=1.5, label="reconstruction")
        ax.fill_between(time, x[index], reconstructions[index], color="lightcoral", label="error")
        verdict = "flagged" if errors[index] >= threshold else "passed as normal"
        ax.set_title(f"A typical {kind} test beat\nerror {errors[index]:.3f}, threshold {threshold:.3f}: {verdict}",
                     fontsize=10)
        ax.set_xlabel("sample (140 per beat)")
        ax.legend(loc="lower right", fontsize=8)
    fig.axes[0].set_ylabel("scaled signal")
    fig.savefig(path, dpi=110, bbox_inches="tight")


if __name__ == "__main__":
    main()
