"""Lessons II: sparse and contractive autoencoders, ECG anomaly detection, autoencoder vs PCA, latent clustering.

The lessons run end to end under --quick (they need the datasets: set
MINIGRAD_DATA). The pieces they write by hand are checked here against
independent references: the Hungarian algorithm against brute force over
every assignment, NMI against a value worked out by hand, K-means on
separated blobs, the contractive penalty's closed form and its autograd
form against finite differences in float64, and the tutorial's ECG split
against TensorFlow's own ecg.csv when that file is at hand.
"""
import itertools
import math
import os
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
from lessons.contractive_autoencoder import jacobian_penalty, jacobian_penalty_autograd
from lessons.latent_clustering import (clustering_accuracy, kmeans, min_cost_assignment,
                                       normalized_mutual_information)
from lessons.sparse_autoencoder import kl_sparsity
from minigrad import nn

from conftest import assert_quick_run_learned

needs_data = pytest.mark.skipif(not os.environ.get("MINIGRAD_DATA"),
                                reason="the lessons need MNIST and ECG5000: set MINIGRAD_DATA to their folder")

LESSONS = {
    # name: (extra flags, a loss on data that is the same every epoch, figures)
    "sparse_autoencoder": ([], "kl_test", ["features.png", "features_without_penalty.png", "activations_sigmoid.png",
                                           "activations_relu.png", "reconstructions.png"]),
    "contractive_autoencoder": ([], "contractive_test_loss", ["jacobian.png", "reconstructions.png"]),
    "ecg_anomaly": (["--improved"], "val_loss", ["beats.png", "error_histogram.png", "roc.png",
                                                  "error_histogram_improved.png", "roc_improved.png"]),
    "autoencoder_vs_pca": ([], "nonlinear_8", ["error_vs_code_size.png", "reconstructions.png"]),
    "latent_clustering": ([], "test_loss", ["codes_by_label.png", "codes_by_cluster.png", "cluster_means.png"]),
}


@needs_data
@pytest.mark.parametrize("name", LESSONS)
def test_lesson_runs_quick_and_learns(name, quick_run):
    _, watched, figures = LESSONS[name]
    assert_quick_run_learned(*quick_run(name), figures, watched)


@needs_data
def test_ecg_lesson_keeps_both_detectors_and_the_published_numbers(quick_run):
    metrics, _ = quick_run("ecg_anomaly")
    for name in ("accuracy", "precision", "recall", "anomaly_precision", "anomaly_recall", "roc_auc", "threshold"):
        assert name in metrics["final"] and f"improved_{name}" in metrics["final"]
    assert metrics["published"] == {"accuracy": 0.945, "precision": 0.992, "recall": 0.909}


@needs_data
def test_contractive_lesson_checks_closed_form_against_autograd(quick_run):
    assert quick_run("contractive_autoencoder")[0]["final"]["closed_form_vs_autograd"] < 1e-5


# ---------------------------------------------------------------- the ECG split

@needs_data
def test_tutorial_split_rebuilds_tensorflows_ecg_csv_and_its_test_set():
    from lessons.ecg_anomaly import tutorial_split
    train_x, train_normal, test_x, test_normal = tutorial_split()
    assert train_x.shape == (3998, 140) and test_x.shape == (1000, 140)
    # 560 normal test beats: the tutorial's recall 0.909 (509/560) and precision 0.992 (509/513) fit this split
    assert test_normal.sum() == 560 and train_normal.sum() == 2359
    csv = Path(os.environ["MINIGRAD_DATA"]) / "ecg5000" / "ecg.csv"
    if not csv.is_file():
        pytest.skip(f"{csv} (TensorFlow's file) is not there to compare with")
    table = np.loadtxt(csv, delimiter=",")
    rows = np.random.RandomState(21).permutation(len(table))   # what train_test_split(random_state=21) draws
    np.testing.assert_allclose(test_x, table[rows[:1000], :140], atol=1e-6)
    np.testing.assert_array_equal(test_normal, table[rows[:1000], 140] == 1)
    np.testing.assert_allclose(train_x, table[rows[1000:], :140], atol=1e-6)


def test_ecg_scores_on_a_small_case():
    from lessons.ecg_anomaly import evaluate
    errors = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    normal = np.array([True, True, False, True, False, False])
    result = evaluate(errors, normal, threshold=0.35)      # called normal: the first three
    assert result["accuracy"] == pytest.approx(4 / 6)
    assert result["precision"] == pytest.approx(2 / 3) and result["recall"] == pytest.approx(2 / 3)
    assert result["anomaly_precision"] == pytest.approx(2 / 3) and result["anomaly_recall"] == pytest.approx(2 / 3)
    # pairs (abnormal, normal) with the abnormal beat's error higher: 2 + 3 + 3 of 9
    assert result["roc_auc"] == pytest.approx(8 / 9)


# ---------------------------------------------------------------- clustering by hand

def brute_force_cost(cost):
    rows, cols = cost.shape
    return min(sum(cost[r, c] for r, c in enumerate(chosen)) for chosen in itertools.permutations(range(cols), rows))


@pytest.mark.parametrize("seed", range(40))
def test_hungarian_assignment_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    rows = int(rng.integers(1, 7))
    cols = int(rng.integers(rows, 8))
    # integer costs make ties, which an assignment solver must get through
    cost = rng.integers(-5, 6, (rows, cols)).astype(float) if seed % 2 else rng.standard_normal((rows, cols))
    assignment = min_cost_assignment(cost)
    assert len(set(assignment.tolist())) == rows and assignment.min() >= 0 and assignment.max() < cols
    assert cost[np.arange(rows), assignment].sum() == pytest.approx(brute_force_cost(cost))


def test_hungarian_refuses_more_rows_than_columns():
    with pytest.raises(ValueError, match="3 rows .* 2"):
        min_cost_assignment(np.zeros((3, 2)))


def test_clustering_accuracy_ignores_cluster_names_and_beats_greedy_matching():
    labels = np.repeat(np.arange(4), 5)
    renamed = np.array([2, 0, 3, 1])[labels]
    assert clustering_accuracy(renamed, labels) == 1.0
    # Greedy matching takes cluster 0 -> label 0 (4 agreements) and is left with cluster 1 -> label 1 (0):
    # 4/10. The best one-to-one matching is 0 -> 1, 1 -> 0: 3 + 3 agreements, 6/10.
    clusters = np.array([0, 0, 0, 0, 0, 0, 0, 1, 1, 1])
    labels = np.array([0, 0, 0, 0, 1, 1, 1, 0, 0, 0])
    assert clustering_accuracy(clusters, labels) == pytest.approx(0.6)


def test_nmi_against_values_worked_out_by_hand():
    labels = np.array([0, 0, 1, 1, 2, 2])
    assert normalized_mutual_information(np.array([5, 5, 3, 3, 0, 0]), labels) == pytest.approx(1.0)
    # clusters independent of labels: every (cluster, label) pair equally often
    assert normalized_mutual_information(np.array([0, 1, 0, 1]), np.array([0, 0, 1, 1])) == pytest.approx(0.0,
                                                                                                        abs=1e-12)
    # p(c) = (1/2, 1/2), p(l) = (3/4, 1/4), joint (1/2, 0; 1/4, 1/4):
    # I = 1/2 ln(4/3) + 1/4 ln(2/3) + 1/4 ln 2, H(c) = ln 2, H(l) = ln 4 - 3/4 ln 3
    mutual = 0.5 * math.log(4 / 3) + 0.25 * math.log(2 / 3) + 0.25 * math.log(2)
    expected = mutual / ((math.log(2) + math.log(4) - 0.75 * math.log(3)) / 2)
    nmi = normalized_mutual_information(np.array([0, 0, 1, 1]), np.array([0, 0, 0, 1]))
    assert nmi == pytest.approx(expected, rel=1e-12)
    assert normalized_mutual_information(np.array([0, 0, 0, 1]), np.array([0, 0, 1, 1])) == pytest.approx(nmi)


def test_kmeans_finds_separated_blobs():
    rng = np.random.default_rng(0)
    centres = rng.uniform(-50, 50, (5, 3))
    labels = np.repeat(np.arange(5), 40)
    points = centres[labels] + rng.standard_normal((200, 3))
    clusters = kmeans(points, 5, np.random.default_rng(1), restarts=3)
    assert clustering_accuracy(clusters, labels) == 1.0


# ---------------------------------------------------------------- the sparse and contractive penalties

def test_kl_sparsity_is_zero_at_the_target_and_positive_elsewhere():
    at_target = mg.tensor(np.full((4, 3), 0.05, dtype=np.float64))
    assert kl_sparsity(at_target, 0.05).item() == pytest.approx(0.0, abs=1e-15)
    busy = mg.tensor(np.array([[0.5, 0.05], [0.5, 0.05]]))
    # only the first unit strays: KL(0.05 || 0.5) = 0.05 ln 0.1 + 0.95 ln 1.9
    assert kl_sparsity(busy, 0.05).item() == pytest.approx(0.05 * math.log(0.1) + 0.95 * math.log(1.9))


def numerical_jacobian_norms(encoder, x, eps=1e-6):
    """||dh/dx||_F^2 of each row of x by central differences, one input coordinate at a time."""
    squares = np.zeros(len(x))
    for i in range(x.shape[1]):
        step = np.zeros_like(x)
        step[:, i] = eps
        with mg.no_grad():
            column = (encoder(mg.tensor(x + step)).numpy() - encoder(mg.tensor(x - step)).numpy()) / (2 * eps)
        squares += (column ** 2).sum(axis=1)
    return squares


def test_contractive_penalty_closed_form_equals_autograd_in_float64():
    mg.manual_seed(0)
    encoder = nn.Sequential(nn.Dense(7, 5), nn.Sigmoid()).double()
    x = np.random.default_rng(0).standard_normal((4, 7))
    closed_form = jacobian_penalty(encoder(mg.tensor(x)), encoder[0].weight)
    by_autograd = jacobian_penalty_autograd(encoder, mg.tensor(x))
    np.testing.assert_allclose(closed_form.numpy(), by_autograd.numpy(), rtol=1e-13)
    np.testing.assert_allclose(closed_form.numpy(), numerical_jacobian_norms(encoder, x), rtol=1e-7)
    # Training differentiates the penalty: both forms must give the same gradients too (double backprop).
    parameters = [encoder[0].weight, encoder[0].bias]
    grads_closed = mg.grad(closed_form.sum(), parameters)
    grads_autograd = mg.grad(by_autograd.sum(), parameters)
    for closed, auto in zip(grads_closed, grads_autograd):
        np.testing.assert_allclose(closed.numpy(), auto.numpy(), rtol=1e-11, atol=1e-14)


def test_autograd_penalty_works_for_any_encoder():
    mg.manual_seed(1)
    deep = nn.Sequential(nn.Dense(6, 8), nn.Tanh(), nn.Dense(8, 3), nn.Softplus()).double()
    x = np.random.default_rng(1).standard_normal((3, 6))
    np.testing.assert_allclose(jacobian_penalty_autograd(deep, mg.tensor(x)).numpy(),
                               numerical_jacobian_norms(deep, x), rtol=1e-7)
