"""The judge of generated images (FID numerics, class histogram) and the classifier, VAE and conv-VAE lessons."""
import importlib
import json
import math
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from lessons._judge import Judge, add_judge_flag, entropy_bits, feature_statistics, frechet_distance, sqrt_psd
from lessons.common import Lesson
from minigrad.data import mnist


def random_covariance(rng, dim, rank=None):
    a = rng.standard_normal((dim, rank or dim))
    return a @ a.T / (rank or dim) + (0.0 if rank else 0.1) * np.eye(dim)


# ------------------------------------------------------------------ FID numerics

def test_fid_of_a_set_with_itself_is_zero():
    rng = np.random.default_rng(0)
    features = rng.standard_normal((2000, 32)) @ rng.standard_normal((32, 32)) + 3.0
    stats = feature_statistics(features)
    assert frechet_distance(*stats, *stats) == pytest.approx(0.0, abs=1e-8 * np.trace(stats[1]))


def test_fid_of_a_rank_deficient_set_with_itself_is_zero():
    # Fewer samples than dimensions, as a --quick run has: the covariance is singular.
    features = np.random.default_rng(1).standard_normal((20, 64))
    stats = feature_statistics(features)
    assert np.linalg.matrix_rank(stats[1]) < 64
    assert frechet_distance(*stats, *stats) == pytest.approx(0.0, abs=1e-8 * np.trace(stats[1]))


def test_fid_of_diagonal_gaussians_matches_the_closed_form():
    # Commuting covariances: d² = |mu1 - mu2|² + sum (sqrt(a_i) - sqrt(b_i))².
    mu1, mu2 = np.array([0.0, 1.0, -2.0]), np.array([1.0, 1.0, 0.5])
    a, b = np.array([1.0, 4.0, 0.25]), np.array([9.0, 1.0, 0.25])
    expected = 1.0 + 0.0 + 6.25 + (1 - 3) ** 2 + (2 - 1) ** 2 + 0.0
    assert frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(expected, rel=1e-12)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2 ** 32 - 1))
def test_fid_of_2d_gaussians_matches_the_closed_form(seed):
    # For 2x2 PSD C1, C2 the eigenvalues of C1 C2 are l1, l2 >= 0, so
    # tr sqrt(C1 C2) = sqrt(l1) + sqrt(l2) = sqrt(tr(C1 C2) + 2 sqrt(det C1 det C2)),
    # which needs no matrix square root at all: an independent check of the eigen route.
    rng = np.random.default_rng(seed)
    cov1, cov2 = random_covariance(rng, 2), random_covariance(rng, 2)
    mu1, mu2 = rng.standard_normal(2), rng.standard_normal(2)
    trace_sqrt = math.sqrt(np.trace(cov1 @ cov2) + 2 * math.sqrt(np.linalg.det(cov1) * np.linalg.det(cov2)))
    expected = np.sum((mu1 - mu2) ** 2) + np.trace(cov1) + np.trace(cov2) - 2 * trace_sqrt
    assert frechet_distance(mu1, cov1, mu2, cov2) == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_fid_is_symmetric_and_matches_scipy_sqrtm():
    scipy_linalg = pytest.importorskip("scipy.linalg")
    rng = np.random.default_rng(2)
    mu1, mu2 = rng.standard_normal(16), rng.standard_normal(16)
    cov1, cov2 = random_covariance(rng, 16), random_covariance(rng, 16, rank=5)
    expected = (np.sum((mu1 - mu2) ** 2) + np.trace(cov1) + np.trace(cov2)
                - 2 * np.trace(scipy_linalg.sqrtm(cov1 @ cov2)).real)
    assert frechet_distance(mu1, cov1, mu2, cov2) == pytest.approx(expected, rel=1e-7)
    assert frechet_distance(mu2, cov2, mu1, cov1) == pytest.approx(expected, rel=1e-7)


def test_fid_from_samples_approaches_the_fid_of_the_true_gaussians():
    rng = np.random.default_rng(3)
    mu1, mu2 = np.array([0.0, 0.0, 0.0]), np.array([1.0, -1.0, 0.0])
    cov1, cov2 = random_covariance(rng, 3), random_covariance(rng, 3)
    x1 = rng.multivariate_normal(mu1, cov1, size=200_000)
    x2 = rng.multivariate_normal(mu2, cov2, size=200_000)
    truth = frechet_distance(mu1, cov1, mu2, cov2)
    assert truth > 1.0
    assert frechet_distance(*feature_statistics(x1), *feature_statistics(x2)) == pytest.approx(truth, rel=0.02)


def test_sqrt_psd_squares_back_and_survives_rounding_below_zero():
    rng = np.random.default_rng(4)
    cov = random_covariance(rng, 8, rank=3)   # eigenvalues 0 up to rounding, some slightly negative
    root = sqrt_psd(cov)
    assert np.all(np.isfinite(root))
    np.testing.assert_allclose(root @ root, cov, atol=1e-12)
    np.testing.assert_allclose(root, root.T)


def test_frechet_distance_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="frechet_distance"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))
    with pytest.raises(ValueError, match="feature_statistics"):
        feature_statistics(np.zeros(5))


def test_entropy_bits():
    assert entropy_bits(np.full(10, 0.1)) == pytest.approx(math.log2(10))
    assert entropy_bits([0, 0, 7, 0]) == 0.0
    assert entropy_bits([1, 1, 0, 0]) == pytest.approx(1.0)


# ------------------------------------------------------------------ the judge and the lessons, on real data

needs_data = pytest.mark.skipif(not os.environ.get("MINIGRAD_DATA"),
                                reason="MINIGRAD_DATA is not set: the judge and the lessons need MNIST")


@pytest.fixture(scope="module")
def quick_judge(tmp_path_factory):
    """A judge as a --quick lesson gets it: a classifier trained on a few batches, 256 reference images."""
    out = tmp_path_factory.mktemp("judge")
    run = Lesson("judge_test", "A lesson that only asks for the judge.", epochs=1, batch_size=8, lr=0.1,
                 argv=["--quick", "--out", str(out)], extra=add_judge_flag)
    before = (mg.get_rng_state(), np.random.get_state(legacy=False))
    judge = Judge.load_or_train("mnist", run)
    after = (mg.get_rng_state(), np.random.get_state(legacy=False))
    return judge, before, after


@needs_data
def test_judge_training_leaves_the_lessons_random_generators_alone(quick_judge):
    _, before, after = quick_judge
    assert repr(before) == repr(after)


@needs_data
def test_judge_scores_the_reference_images_zero_in_every_layout_and_range(quick_judge):
    judge, _, _ = quick_judge
    images = np.array(mnist("test")[0][:judge.sample_count])
    assert judge.fid(images) == pytest.approx(0.0, abs=1e-3)
    unit = images.astype(np.float32) / 255
    assert judge.fid(unit.reshape(len(unit), -1)) == pytest.approx(0.0, abs=1e-3)
    assert judge.fid(unit[:, None] * 2 - 1, value_range=(-1, 1)) == pytest.approx(0.0, abs=1e-3)
    assert judge.fid(images, reference="train") == pytest.approx(judge.real_floor(), rel=1e-6)


@needs_data
def test_judge_report_on_noise(quick_judge):
    judge, _, _ = quick_judge
    noise = np.random.default_rng(0).random((judge.sample_count, 28, 28), dtype=np.float32)
    report = judge.report(noise)
    assert report["fid"] > 10 * report["fid_real_floor"] > 0
    fractions = [report[f"class_fraction_{k}"] for k in range(10)]
    assert sum(fractions) == pytest.approx(1.0)
    assert report["class_entropy_bits"] == pytest.approx(entropy_bits(fractions))
    assert 0.0 <= report["class_entropy_bits"] <= math.log2(10) + 1e-9
    np.testing.assert_allclose(judge.class_histogram(noise), fractions)


@needs_data
def test_judge_rejects_bad_input(quick_judge, tmp_path):
    judge, _, _ = quick_judge
    with pytest.raises(ValueError, match="Judge"):
        judge.fid(np.zeros((10, 32, 32), np.float32))
    with pytest.raises(ValueError, match="reference"):
        judge.fid(np.zeros((10, 28, 28), np.float32), reference="validation")
    with pytest.raises(ValueError, match="dataset"):
        Judge.load(tmp_path, "cifar10")
    with pytest.raises(FileNotFoundError, match="lessons.classifier"):
        Judge.load(tmp_path, "mnist")


# Each lesson with --quick: (module, extra flags, the metric that must improve from epoch 1 to 2, higher is better?,
# figures). Two epochs of a few batches each, so "improved" compares two numbers the lesson itself logged.
QUICK_RUNS = [
    ("classifier", [], "test_loss", False, ["loss.png", "mistakes.png"]),
    ("vae", [], "test_loss", False, ["reconstructions.png", "samples.png"]),
    ("vae", ["--latent", "2"], "test_loss", False, ["samples.png", "manifold.png", "latent.png"]),
    # lr 1e-3 instead of the tutorial's 1e-4, so that six steps surely move the ELBO
    ("conv_vae", ["--lr", "1e-3"], "test_elbo", True, ["manifold.png", "latent.png"]),
]


@needs_data
@pytest.mark.parametrize("lesson, flags, metric, higher_is_better, figures", QUICK_RUNS,
                         ids=[" ".join([q[0]] + q[1]) for q in QUICK_RUNS])
def test_lesson_runs_quick(lesson, flags, metric, higher_is_better, figures, tmp_path):
    module = importlib.import_module(f"lessons.{lesson}")
    module.main(["--quick", "--epochs", "2", "--out", str(tmp_path)] + flags)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    first, last = metrics["history"][0][metric], metrics["history"][-1][metric]
    assert math.isfinite(first) and math.isfinite(last)
    assert (last > first) if higher_is_better else (last < first)
    for figure in figures:
        assert (tmp_path / figure).stat().st_size > 1000, figure
    if lesson != "classifier":
        final = metrics["final"]
        assert math.isfinite(final["fid"]) and final["fid_real_floor"] >= 0
        assert sum(final[f"class_fraction_{k}"] for k in range(10)) == pytest.approx(1.0)
