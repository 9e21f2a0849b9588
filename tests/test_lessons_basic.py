"""Lessons I end to end under --quick: backprop by hand, the textbook, Fashion, deep, denoising and conv autoencoders.

Each lesson runs in-process for two quick epochs; the test checks metrics.json
and the figures are written, every logged number is finite, and the loss on
data that is the same every epoch (the test or validation set) went down.
The full-length numbers are recorded from real runs, not asserted here.
"""
import importlib
import json
import math
import os

import numpy as np
import pytest

from conftest import assert_quick_run_learned

pytestmark = pytest.mark.skipif(not os.environ.get("MINIGRAD_DATA"),
                                reason="the lessons need MNIST / Fashion-MNIST: set MINIGRAD_DATA to their folder")

# The book's TF1 RMSProp starts its accumulators at 1, so at lr 0.01 six quick steps barely move the weights;
# lr 1 makes the drop in cost visible.
TF1_QUICK = ["--lr", "1"]

LESSONS = {
    # name: (extra flags, the loss to watch, figures)
    "manual_backprop": (TF1_QUICK, "test_cost", ["reconstructions.png"]),
    "textbook_autoencoder": (TF1_QUICK, "test_cost", ["reconstructions.png"]),
    "fashion_autoencoder": ([], "val_loss", ["reconstructions.png"]),
    "deep_autoencoder": ([], "test_loss", ["reconstructions.png", "latent_3d.png", "latent_2d.png",
                                           "manifold_2d.png"]),
    "denoising_autoencoder": ([], "test_loss", ["denoising.png"]),
    "conv_denoising_autoencoder": ([], "val_loss", ["denoising.png"]),
}


@pytest.mark.parametrize("name", LESSONS)
def test_lesson_runs_quick_and_learns(name, quick_run):
    _, watched, figures = LESSONS[name]
    assert_quick_run_learned(*quick_run(name), figures, watched)


def test_hand_derived_gradients_match_autograd_and_central_differences(quick_run):
    final = quick_run("manual_backprop")[0]["final"]
    for name in ("W1", "b1", "W2", "b2"):
        # The hand formulas and autograd do the same float64 arithmetic: only rounding may separate them.
        assert final[f"{name}_vs_autograd"] < 1e-15, final
        # Central differences agree to their own error (about 1e-13 at eps 1e-4); a wrong formula is off by
        # the size of the gradient itself, around 1e-4.
        assert final[f"{name}_vs_numerical"] < 1e-10, final


def test_hand_gradients_train_exactly_as_autograd_does(quick_run):
    """Same seed, data and optimizer: the cost table from hand-derived gradients is the textbook lesson's."""
    by_hand = quick_run("manual_backprop")[0]["history"]
    by_autograd = quick_run("textbook_autoencoder")[0]["history"]
    for hand, auto in zip(by_hand, by_autograd):
        np.testing.assert_allclose(hand["avg_cost"], auto["avg_cost"], rtol=1e-5)
        np.testing.assert_allclose(hand["test_cost"], auto["test_cost"], rtol=1e-5)


def test_textbook_modern_trains_with_adam_into_its_own_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    importlib.import_module("lessons.textbook_autoencoder").main(["--quick", "--modern"])
    metrics = json.loads((tmp_path / "runs/textbook_autoencoder_modern-quick/metrics.json").read_text())
    assert metrics["lesson"] == "textbook_autoencoder_modern"
    assert metrics["hyperparameters"]["modern"] is True
    assert metrics["hyperparameters"]["lr"] == 1e-3
    assert metrics["published"] == {}
    assert (tmp_path / "runs/textbook_autoencoder_modern-quick/reconstructions.png").is_file()


@pytest.mark.parametrize("name", LESSONS)
def test_lesson_runs_on_cuda(name, gpu, tmp_path):
    """--device cuda (the strict stand-in, or CuPy under MINIGRAD_TEST_CUDA=cupy): no lesson hands a device array
    to NumPy behind its back."""
    importlib.import_module(f"lessons.{name}").main(["--quick", "--device", "cuda", "--out", str(tmp_path)])
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["device"] == "cuda"
    assert all(math.isfinite(value) for value in metrics["final"].values())
