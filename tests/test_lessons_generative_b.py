"""The GAN lessons (gan, dcgan, wgan_gp): quick runs end to end, exact resume, the DCGAN networks and
their initialisation, and the WGAN-GP gradient penalty against a closed form and against PyTorch."""
import importlib
import json
import math
import os
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
from lessons._gan import EpochMeans, generate, to_tanh_range
from lessons.dcgan import LATENT, dcgan_init, discriminator, generator
from lessons.wgan_gp import gradient_penalty, wgan_critic
from minigrad import nn

from conftest import assert_quick_run_learned

DATA = os.environ.get("MINIGRAD_DATA")
needs_data = pytest.mark.skipif(not DATA or not (Path(DATA) / "mnist").is_dir(),
                                reason="MINIGRAD_DATA is not set to a folder with mnist/ and fashion-mnist/, "
                                       "which the lessons train on")

# lesson -> (extra flags, the loss that must fall over the first steps, figures it must write)
LESSONS = {
    "gan": ([], "d_loss", ["samples.png", "losses.png", "scores.png"]),
    "dcgan": ([], "d_loss", ["samples.png", "samples_epoch_001.png", "samples_epoch_002.png", "interpolation.png",
                             "losses.png"]),
    "wgan_gp": (["--n-critic", "2"], "critic_loss",   # quick epochs have 3 batches
                ["samples.png", "samples_epoch_002.png", "losses.png", "grad_norm.png"]),
}
QUICK = ["--quick", "--epochs", "2"]


def run_lesson(name, out, *flags):
    importlib.import_module(f"lessons.{name}").main([*QUICK, "--out", str(out), *flags])
    return json.loads((Path(out) / "metrics.json").read_text())


# ------------------------------------------------------------------ quick runs

@needs_data
@pytest.mark.parametrize("name", sorted(LESSONS))
def test_quick_run_writes_metrics_and_figures_and_learns(name, quick_run):
    _, loss, figures = LESSONS[name]
    metrics, out = quick_run(name)
    assert_quick_run_learned(metrics, out, figures, loss)
    final = metrics["final"]
    assert final["fid"] > 0 and math.isfinite(final["fid"])
    fractions = [final[f"class_fraction_{k}"] for k in range(10)]
    assert sum(fractions) == pytest.approx(1.0)
    assert 0.0 <= final["class_entropy_bits"] <= math.log2(10) + 1e-9


@needs_data
def test_wgan_gp_reports_gradient_norm_statistics(quick_run):
    metrics, _ = quick_run("wgan_gp")
    for record in metrics["history"]:
        assert record["grad_norm_mean"] > 0 and record["grad_norm_std"] >= 0
        # lambda * mean((norm - 1)^2) with every norm summarised by its mean and spread
        assert record["penalty"] == pytest.approx((record["grad_norm_mean"] - 1) ** 2 + record["grad_norm_std"] ** 2,
                                                  rel=1e-3, abs=1e-6)
        assert record["critic_loss"] == pytest.approx(-record["w_distance"] + 10 * record["penalty"], rel=1e-4,
                                                      abs=1e-5)


@needs_data
def test_gan_resumes_exactly(quick_run, tmp_path):
    uninterrupted, _ = quick_run("gan")
    run_lesson("gan", tmp_path, "--epochs", "1")
    resumed = run_lesson("gan", tmp_path, "--resume")

    def numbers(metrics):
        return [{k: v for k, v in record.items() if k != "seconds"} for record in metrics["history"]]
    assert numbers(resumed) == numbers(uninterrupted)
    assert resumed["final"] == uninterrupted["final"]


@needs_data
def test_wgan_gp_epoch_without_a_generator_step_logs_no_g_loss(tmp_path):
    # --quick epochs have 3 batches, fewer than the default --n-critic 5: the critic trains, G never steps
    importlib.import_module("lessons.wgan_gp").main(["--quick", "--out", str(tmp_path)])
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    (record,) = metrics["history"]
    assert "g_loss" not in record and math.isfinite(record["critic_loss"])
    assert math.isfinite(metrics["final"]["fid"])


@needs_data
def test_sample_every_sets_which_epochs_leave_a_grid(tmp_path):
    run_lesson("dcgan", tmp_path, "--sample-every", "2", "--epochs", "3")
    grids = sorted(path.name for path in tmp_path.glob("samples_epoch_*.png"))
    assert grids == ["samples_epoch_002.png"]


# ------------------------------------------------------------------ the pieces

def test_epoch_means_average_each_name_over_its_own_steps():
    meter = EpochMeans()
    for step, value in enumerate((1.0, 2.0, 6.0), start=1):
        meter.add(loss=mg.tensor(np.float32(value)), half=value / 2)
        if step == 2:
            meter.add(rare=0.25)
    assert meter.means() == {"loss": 3.0, "half": 1.5, "rare": 0.25}
    assert list(meter.means()) == ["loss", "half", "rare"]
    assert EpochMeans().means() == {}


def test_to_tanh_range_maps_pixels_onto_minus_one_to_one():
    images = np.array([[[0, 255], [51, 204]]], dtype=np.uint8)
    x = to_tanh_range(images)
    assert x.dtype == np.float32 and x.shape == (1, 4)
    np.testing.assert_allclose(x, [[-1.0, 1.0, -0.6, 0.6]], atol=1e-6)


def test_dcgan_networks_shapes_and_critic_without_batchnorm():
    mg.manual_seed(0)
    G, D, critic = generator(), discriminator(), wgan_critic()
    images = G(mg.randn(5, LATENT))
    assert images.shape == (5, 1, 28, 28)
    assert float(np.abs(images.numpy()).max()) <= 1.0
    assert D(images).shape == critic(images).shape == (5, 1)
    assert any(isinstance(m, nn.BatchNorm2D) for m in D.modules())
    assert not any(isinstance(m, (nn.BatchNorm1D, nn.BatchNorm2D)) for m in critic.modules())
    samples = generate(G, LATENT, 7, "cpu", batch=3)
    assert samples.shape == (7, 1, 28, 28) and G.training


def test_dcgan_init_draws_weights_from_n_0_002_and_zeroes_biases():
    mg.manual_seed(0)
    G = dcgan_init(generator())
    layers = [m for m in G.modules() if isinstance(m, (nn.Dense, nn.ConvTranspose2D, nn.BatchNorm1D, nn.BatchNorm2D))]
    assert len(layers) == 5
    for layer in layers:
        w = layer.weight.numpy()
        centre = 1.0 if isinstance(layer, (nn.BatchNorm1D, nn.BatchNorm2D)) else 0.0
        tolerance = 4 * 0.02 / math.sqrt(w.size)   # four standard errors of the mean
        assert abs(w.mean() - centre) < tolerance, type(layer).__name__
        assert abs(w.std() - 0.02) < 4 * 0.02 / math.sqrt(2 * w.size), type(layer).__name__   # and of the std
        assert np.all(layer.bias.numpy() == 0)


def test_penalty_of_a_linear_critic_matches_the_closed_form():
    # D(x) = <w, x> + b has gradient w everywhere: every norm is ||w||, the penalty (||w|| - 1)^2,
    # and its gradient with respect to w is 2 (||w|| - 1) w / ||w||.
    mg.manual_seed(1)
    critic = nn.Sequential(nn.Flatten(), nn.Dense(784, 1)).double()
    w = critic[1].weight.numpy().ravel()
    real, fake = mg.randn(6, 1, 28, 28, dtype=mg.float64), mg.randn(6, 1, 28, 28, dtype=mg.float64)
    penalty, norms = gradient_penalty(critic, real, fake)
    length = np.linalg.norm(w)
    # rtol 1e-9: the lesson adds 1e-12 under the square root
    np.testing.assert_allclose(norms, np.full(6, length), rtol=1e-9)
    assert penalty.item() == pytest.approx((length - 1) ** 2, rel=1e-9)
    penalty.backward()
    np.testing.assert_allclose(critic[1].weight.grad.numpy().ravel(), 2 * (length - 1) * w / length, rtol=1e-9)
    assert critic[1].bias.grad is None or np.all(critic[1].bias.grad.numpy() == 0)


def test_penalty_through_the_conv_critic_matches_pytorch():
    torch = pytest.importorskip("torch")
    mg.manual_seed(2)
    critic = dcgan_init(wgan_critic()).double()
    for layer in critic.modules():   # non-zero biases, so their second-order paths are exercised too
        if isinstance(layer, (nn.Conv2D, nn.Dense)):
            nn.init.normal_(layer.bias, 0.0, 0.1)
    real, fake = mg.randn(4, 1, 28, 28, dtype=mg.float64), mg.randn(4, 1, 28, 28, dtype=mg.float64)
    mg.manual_seed(3)
    eps = mg.rand(4, 1, 1, 1, dtype=mg.float64).numpy()
    mg.manual_seed(3)   # gradient_penalty draws the same eps
    penalty, norms = gradient_penalty(critic, real, fake)
    penalty.backward()

    conv1, conv2, dense = [m for m in critic.modules() if isinstance(m, (nn.Conv2D, nn.Dense))]
    t = {name: torch.tensor(layer.numpy(), requires_grad=True) for name, layer in
         (("w1", conv1.weight), ("b1", conv1.bias), ("w2", conv2.weight), ("b2", conv2.bias),
          ("w3", dense.weight), ("b3", dense.bias))}

    def torch_critic(x):
        h = torch.nn.functional.leaky_relu(torch.nn.functional.conv2d(x, t["w1"], t["b1"], 2, 1), 0.2)
        h = torch.nn.functional.leaky_relu(torch.nn.functional.conv2d(h, t["w2"], t["b2"], 2, 1), 0.2)
        return h.flatten(1) @ t["w3"] + t["b3"]

    e = torch.tensor(eps)
    x_hat = (e * torch.tensor(real.numpy()) + (1 - e) * torch.tensor(fake.numpy())).requires_grad_()
    (grad,) = torch.autograd.grad(torch_critic(x_hat).sum(), x_hat, create_graph=True)
    torch_norms = (grad.pow(2).sum(dim=(1, 2, 3)) + 1e-12).sqrt()
    torch_penalty = ((torch_norms - 1) ** 2).mean()
    torch_penalty.backward()

    np.testing.assert_allclose(norms, torch_norms.detach().numpy(), rtol=1e-10)
    assert penalty.item() == pytest.approx(torch_penalty.item(), rel=1e-10)
    # A parameter the input-gradient does not depend on (the last bias) may get no gradient at all: zero.
    ours = [conv1.weight, conv1.bias, conv2.weight, conv2.bias, dense.weight, dense.bias]
    for name, param in zip(t, ours):
        expected = np.zeros(param.shape) if t[name].grad is None else t[name].grad.numpy()
        got = np.zeros(param.shape) if param.grad is None else param.grad.numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-8, atol=1e-12 * float(np.abs(expected).max() + 1),
                                   err_msg=name)
    assert np.abs(conv1.weight.grad.numpy()).max() > 0 and np.abs(conv2.weight.grad.numpy()).max() > 0
