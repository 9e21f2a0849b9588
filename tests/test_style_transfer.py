"""lessons.style_transfer and lessons.vgg_weights: quick runs (style transfer and texture) that learn and resume
exactly, the Gram-matrix style loss gradchecked in float64, the network's normalisation, the VGG-16 converter
against PyTorch on a state dict of torchvision's layout, and clear errors for bad images and flags."""
import json

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigrad as mg
from conftest import assert_quick_run_learned
from lessons import style_transfer, vgg_weights
from lessons.style_transfer import (LAYERS, EnsembleLoss, StyleTransferLoss, VGGFeatures, content_loss, gram_matrix,
                                    judge, judge_seeds, load_image, normalise, optimised_seeds, random_vgg, style_loss,
                                    trained_vgg)

try:
    import torch
except ImportError:
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed (pip install -e .[parity])")

# lesson -> (extra flags, the loss that must fall, figures it must write): the quick_run fixture's table
LESSONS = {"style_transfer": ([], "loss", ["style_transfer.png", "result.png", "losses.png"])}
QUICK = ["--quick", "--epochs", "2"]


def run_lesson(out, *flags):
    style_transfer.main([*QUICK, "--out", str(out), *flags])
    return json.loads((out / "metrics.json").read_text())


# ---------------------------------------------------------------- quick runs

def test_quick_run_writes_its_figures_and_the_loss_falls(quick_run):
    metrics, out = quick_run("style_transfer")
    assert_quick_run_learned(metrics, out, LESSONS["style_transfer"][2], "loss")
    final = metrics["final"]
    for name in ("result", "content", "noise"):
        assert final[f"style_distance_{name}"] > 0
    for name in ("result", "style", "noise"):
        assert final[f"content_distance_{name}"] > 0
    assert final["content_distance_result"] < final["content_distance_noise"]
    # the mean over the judges, and each judge's own number beside it
    for key in ("style_distance_result", "content_distance_result"):
        each = [final[f"{key}_judge{seed}"] for seed in judge_seeds(0)]
        assert final[key] == pytest.approx(np.mean(each))
    assert metrics["hyperparameters"]["networks"] == style_transfer.NETWORKS


def test_texture_run_synthesises_from_noise_without_a_content_term(tmp_path):
    metrics = run_lesson(tmp_path / "texture", "--texture")
    assert_quick_run_learned(metrics, tmp_path / "texture", ["texture.png", "result.png", "losses.png"], "loss")
    assert all(record["content_loss"] == 0 for record in metrics["history"])
    assert not any(name.startswith("content_distance") for name in metrics["final"])
    assert metrics["hyperparameters"]["networks"] == 1    # no content term to overfit one network


def test_adam_run_keeps_pixels_in_range_and_learns(tmp_path):
    metrics = run_lesson(tmp_path / "adam", "--optimizer", "adam")
    assert_quick_run_learned(metrics, tmp_path / "adam", ["result.png"], "loss")
    pixels = mg.load(tmp_path / "adam" / "checkpoint.npz")["objects"]["canvas"]["pixels"]
    assert pixels.min() >= 0 and pixels.max() <= 1


def test_resume_repeats_an_uninterrupted_run_exactly(tmp_path, quick_run):
    metrics, out = quick_run("style_transfer")
    first = tmp_path / "resumed"
    style_transfer.main(["--quick", "--epochs", "1", "--out", str(first)])
    style_transfer.main(["--quick", "--epochs", "2", "--out", str(first), "--resume"])
    resumed = json.loads((first / "metrics.json").read_text())
    strip = lambda history: [{k: v for k, v in r.items() if k != "seconds"} for r in history]  # noqa: E731
    assert strip(resumed["history"]) == strip(metrics["history"])
    assert resumed["final"] == metrics["final"]
    trace = mg.load(first / "checkpoint.npz")["objects"]["trace"]["total"]
    assert len(trace) == len(mg.load(out / "checkpoint.npz")["objects"]["trace"]["total"])


# ---------------------------------------------------------------- the losses

@settings(max_examples=15)
@given(filters=st.integers(1, 4), height=st.integers(1, 4), width=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_style_loss_and_content_loss_gradcheck_in_float64(filters, height, width, seed):
    rng = np.random.default_rng(seed)
    features = mg.tensor(rng.uniform(0, 2, (1, filters, height, width)), requires_grad=True)
    target = mg.tensor(rng.uniform(0, 2, (1, filters, height, width)))
    assert mg.gradcheck(lambda f: style_loss(f, gram_matrix(target)), [features])
    assert mg.gradgradcheck(lambda f: style_loss(f, gram_matrix(target)), [features])
    assert mg.gradcheck(lambda f: content_loss(f, target), [features])


def test_gram_matrix_and_style_loss_are_gatys_formulas():
    rng = np.random.default_rng(0)
    f, p = rng.normal(size=(1, 3, 4, 5)), rng.normal(size=(1, 3, 4, 5))
    flat_f, flat_p = f.reshape(3, 20), p.reshape(3, 20)
    np.testing.assert_allclose(gram_matrix(mg.tensor(f)).numpy(), flat_f @ flat_f.T / 20)
    # E_l = 1/(4 N^2 M^2) sum (G - A)^2 with the unnormalised Gram matrices G = F F^T
    expected = ((flat_f @ flat_f.T - flat_p @ flat_p.T) ** 2).sum() / (4 * 3 ** 2 * 20 ** 2)
    assert style_loss(mg.tensor(f), gram_matrix(mg.tensor(p))).item() == pytest.approx(expected)


def test_the_loss_is_zero_at_its_targets_and_relative_to_them():
    rng = np.random.default_rng(1)
    content, style = (rng.uniform(0, 1, (1, 3, 16, 16)).astype(np.float32) for _ in range(2))
    vgg = normalise(random_vgg("relu2_1", seed=0), mg.tensor(np.concatenate([content, style])))
    loss = StyleTransferLoss(vgg, mg.tensor(content), mg.tensor(style), "relu2_1", ["relu1_1", "relu2_1"], 1.0, 1.0)
    total, content_term, style_term = loss(mg.tensor(content))
    assert content_term.item() == pytest.approx(0.0, abs=1e-6) and style_term.item() > 0
    total, content_term, style_term = loss(mg.tensor(style))
    assert style_term.item() == pytest.approx(0.0, abs=1e-5) and content_term.item() > 0
    # all-zero features are one unit away from every target
    zero_features = {name: f * 0 for name, f in vgg(mg.tensor(style), {"relu1_1", "relu2_1"}).items()}
    unit = loss.style_weight * style_loss(zero_features["relu1_1"], loss.style_targets["relu1_1"])
    assert (unit / loss.style_scales["relu1_1"]).item() == pytest.approx(1.0, rel=1e-5)


def small_losses(seeds, content_layers="relu2_1"):
    rng = np.random.default_rng(5)
    content, style = (rng.uniform(0, 1, (1, 3, 16, 16)).astype(np.float32) for _ in range(2))
    pair = mg.tensor(np.concatenate([content, style]))
    return [StyleTransferLoss(normalise(random_vgg("relu2_1", seed), pair), mg.tensor(content), mg.tensor(style),
                              content_layers, ["relu1_1", "relu2_1"], 1.0, 0.5) for seed in seeds]


def test_the_ensemble_loss_and_its_gradient_are_the_means_of_the_single_networks():
    singles = small_losses([0, 1, 2])
    image = mg.tensor(np.random.default_rng(6).uniform(0, 1, (1, 3, 16, 16)).astype(np.float32), requires_grad=True)
    ensemble = EnsembleLoss(singles)(image)
    each = [loss(image) for loss in singles]
    for term in range(3):
        assert ensemble[term].item() == pytest.approx(np.mean([terms[term].item() for terms in each]), rel=1e-5)
    (gradient,) = mg.grad(ensemble[0], [image])
    gradients = [mg.grad(terms[0], [image])[0].numpy() for terms in each]
    np.testing.assert_allclose(gradient.numpy(), np.mean(gradients, axis=0), rtol=1e-4, atol=1e-7)
    # different seeds are different networks, so the mean is not one network's loss
    assert len({round(terms[0].item(), 6) for terms in each}) == 3


def test_several_content_layers_are_averaged():
    both = small_losses([0], ["relu1_1", "relu2_1"])[0]
    one, two = (small_losses([0], name)[0] for name in ("relu1_1", "relu2_1"))
    image = mg.tensor(np.random.default_rng(7).uniform(0, 1, (1, 3, 16, 16)).astype(np.float32))
    assert both(image)[1].item() == pytest.approx((one(image)[1].item() + two(image)[1].item()) / 2, rel=1e-5)


def test_the_judges_are_never_the_optimised_networks():
    for seed in (0, 7, 2**31):
        for networks in (1, 3, style_transfer.MAX_NETWORKS):
            assert not set(judge_seeds(seed)) & set(optimised_seeds(seed, networks))
        assert len(set(judge_seeds(seed))) == style_transfer.JUDGES
    with pytest.raises(SystemExit, match=r"--networks 1001: expected 1 \.\. 1000"):
        optimised_seeds(0, style_transfer.MAX_NETWORKS + 1)
    rng = np.random.default_rng(8)
    content, style = (rng.uniform(0, 1, (1, 3, 16, 16)).astype(np.float32) for _ in range(2))
    with pytest.raises(ValueError, match=r"judge seeds \[1000\] are among the optimised"):
        judge({"content": content}, content, style, [1000, 1001], exclude=[999, 1000])


def test_the_judges_measure_with_the_papers_layers_and_report_each_and_the_mean():
    rng = np.random.default_rng(9)
    content, style, noise = (rng.uniform(0, 1, (1, 3, 16, 16)).astype(np.float32) for _ in range(3))
    measured = judge({"content": content, "style": style, "noise": noise}, content, style, [10, 11])
    assert "style_distance_style" not in measured and "content_distance_content" not in measured
    assert set(measured) == {f"{kind}_distance_{name}{suffix}" for kind, name in
                             [("style", "content"), ("style", "noise"), ("content", "style"), ("content", "noise")]
                             for suffix in ("", "_judge10", "_judge11")}
    for key in ("style_distance_noise", "content_distance_style"):
        assert measured[key] == pytest.approx((measured[f"{key}_judge10"] + measured[f"{key}_judge11"]) / 2)
        assert measured[f"{key}_judge10"] != measured[f"{key}_judge11"]


# ---------------------------------------------------------------- the network

def test_normalise_gives_every_layer_mean_activation_one_and_only_rescales_features():
    rng = np.random.default_rng(2)
    images = mg.tensor(rng.uniform(0, 1, (2, 3, 16, 16)).astype(np.float32))
    vgg = random_vgg("relu3_1", seed=3)
    # biases too, as trained weights have them: the rescaling must still leave the features' pattern alone
    vgg.load_state_dict({name: rng.normal(0, 0.1, value.shape) if name.endswith("bias") else value
                         for name, value in vgg.state_dict().items()})
    relus = [name for name in vgg.names if name.startswith("relu")]
    with mg.no_grad():
        before = {name: f.numpy() for name, f in vgg(images, set(relus)).items()}
        normalise(vgg, images)
        after = {name: f.numpy() for name, f in vgg(images, set(relus)).items()}
    for name in relus:
        assert after[name].mean() == pytest.approx(1.0, rel=1e-4), name
        np.testing.assert_allclose(after[name] * before[name].mean(), before[name], rtol=1e-3,
                                   atol=1e-4 * before[name].max())


def test_the_network_stops_at_the_last_layer_asked_for():
    vgg = VGGFeatures("relu4_2")
    assert vgg.names[-1] == "relu4_2" and sum(name.startswith("conv") for name in vgg.names) == 9
    features = vgg(mg.rand(1, 3, 32, 32), {"relu1_1", "relu4_2"})
    assert features["relu1_1"].shape == (1, 64, 32, 32) and features["relu4_2"].shape == (1, 512, 4, 4)


def test_layer_names_follow_torchvisions_features_indices():
    assert len(LAYERS) == 31  # vgg16().features: 13 convs, 13 ReLUs, 5 poolings
    assert [i for i, name in enumerate(LAYERS) if name.startswith("conv")] == [0, 2, 5, 7, 10, 12, 14, 17, 19, 21,
                                                                               24, 26, 28]
    assert LAYERS[4] == "pool1" and LAYERS[20] == "relu4_2" and LAYERS[30] == "pool5"


# ---------------------------------------------------------------- the converter

def torchvision_vgg16_state_dict(seed=0):
    """A randomly filled state dict with torchvision vgg16's keys and shapes, as torch tensors."""
    generator = torch.Generator().manual_seed(seed)
    state, channels = {}, 3
    for index, name in enumerate(LAYERS):
        if name.startswith("conv"):
            out = style_transfer.conv_channels(name)
            state[f"features.{index}.weight"] = torch.randn(out, channels, 3, 3, generator=generator) * 0.1
            state[f"features.{index}.bias"] = torch.randn(out, generator=generator) * 0.1
            channels = out
    state["classifier.0.weight"] = torch.zeros(4096, 25088)
    state["classifier.0.bias"] = torch.zeros(4096)
    return state


@needs_torch
def test_converted_weights_give_pytorchs_features(tmp_path):
    state = torchvision_vgg16_state_dict()
    arrays = vgg_weights.convert(state)
    assert set(arrays) == set(vgg_weights.vgg16_shapes()) and len(arrays) == 26
    np.savez(tmp_path / "vgg16.npz", **arrays)
    vgg = trained_vgg(tmp_path / "vgg16.npz", "relu5_1")

    image = np.random.default_rng(4).uniform(0, 1, (1, 3, 32, 32)).astype(np.float32)
    x = (torch.tensor(image) - torch.tensor(style_transfer.IMAGENET_MEAN)) / torch.tensor(style_transfer.IMAGENET_STD)
    expected = {}
    with torch.no_grad():
        for index, name in enumerate(LAYERS[:LAYERS.index("relu5_1") + 1]):
            if name.startswith("conv"):
                x = torch.nn.functional.conv2d(x, state[f"features.{index}.weight"], state[f"features.{index}.bias"],
                                               padding=1)
            elif name.startswith("relu"):
                x = torch.relu(x)
            else:
                x = torch.nn.functional.avg_pool2d(x, 2)
            expected[name] = x.numpy()
    ours = vgg(mg.tensor(image), {"relu1_1", "relu3_1", "relu5_1"})
    for name, features in ours.items():
        np.testing.assert_allclose(features.numpy(), expected[name], rtol=1e-4,
                                   atol=1e-4 * np.abs(expected[name]).max())


@needs_torch
def test_the_converter_names_missing_and_misshapen_arrays(tmp_path):
    state = torchvision_vgg16_state_dict()
    del state["features.28.bias"]
    state["features.0.weight"] = torch.zeros(64, 1, 3, 3)
    with pytest.raises(ValueError, match=r"features\.0\.weight \(conv1_1\.weight\) has shape \(64, 1, 3, 3\), "
                                         r"expected \(64, 3, 3, 3\); features\.28\.bias \(conv5_3\.bias\) is missing"):
        vgg_weights.convert(state)
    with pytest.raises(ValueError, match="features.0.weight"):
        vgg_weights.convert({})


@needs_torch
def test_the_converter_reads_a_saved_pth_file(tmp_path):
    torch.save(torchvision_vgg16_state_dict(), tmp_path / "vgg16.pth")
    vgg_weights.main([str(tmp_path / "vgg16.pth"), str(tmp_path / "vgg16.npz")])
    with np.load(tmp_path / "vgg16.npz") as arrays:
        assert arrays["conv5_3.weight"].shape == (512, 512, 3, 3) and arrays["conv1_1.bias"].dtype == np.float32


def test_a_weights_file_without_the_layers_is_refused(tmp_path):
    np.savez(tmp_path / "partial.npz", **{"conv1_1.weight": np.zeros((64, 3, 3, 3), np.float32)})
    with pytest.raises(SystemExit, match=r"--weights .*partial\.npz: has no conv1_1\.bias, conv1_2\.weight"):
        trained_vgg(tmp_path / "partial.npz", "relu2_1")
    (tmp_path / "junk.npz").write_text("not a zip")
    with pytest.raises(SystemExit, match="cannot read it as an .npz file"):
        trained_vgg(tmp_path / "junk.npz", "relu2_1")


# ---------------------------------------------------------------- images and flags

def test_samples_and_files_load_as_square_rgb_in_range(tmp_path):
    import skimage.io

    image = load_image("chelsea", 24, "--content")
    assert image.shape == (1, 3, 24, 24) and image.dtype == np.float32 and 0 <= image.min() and image.max() <= 1
    grey = (np.arange(40 * 30) % 256).astype(np.uint8).reshape(40, 30)
    skimage.io.imsave(tmp_path / "grey.png", grey, check_contrast=False)
    loaded = load_image(str(tmp_path / "grey.png"), 20, "--style")
    assert loaded.shape == (1, 3, 20, 20)
    assert (loaded[0, 0] == loaded[0, 1]).all() and (loaded[0, 1] == loaded[0, 2]).all()
    rgba = np.zeros((20, 20, 4), np.uint8)
    rgba[..., 0] = 255
    skimage.io.imsave(tmp_path / "rgba.png", rgba, check_contrast=False)
    red = load_image(str(tmp_path / "rgba.png"), 16, "--style")
    assert red.shape == (1, 3, 16, 16) and red[0, 0].min() == 1 and red[0, 1:].max() == 0


@pytest.mark.parametrize("make, message", [
    (lambda path: None, r"--content .*missing\.png: no such file, and not one of scikit-image's samples \(astronaut"),
    (lambda path: path.write_text("not an image"), r"--content .*missing\.png: cannot read it as an image"),
    (lambda path: __import__("skimage.io").io.imsave(path, np.zeros((8, 40, 3), np.uint8), check_contrast=False),
     r"--content .*missing\.png: 8x40 pixels is too small; the network needs at least 16x16"),
])
def test_bad_image_files_get_clear_errors(tmp_path, make, message):
    path = tmp_path / "missing.png"
    make(path)
    with pytest.raises(SystemExit, match=message):
        load_image(str(path), 32, "--content")


@pytest.mark.parametrize("flags, message", [
    (["--size", "8"], r"--size 8 is too small: the network needs at least 16 pixels"),
    (["--style-layers", "relu1_1,conv9_9"], r"--style-layers: 'conv9_9' is not a VGG-16 layer"),
    (["--content-layer", "relu4_2,relu9_1"], r"--content-layer: 'relu9_1' is not a VGG-16 layer"),
    (["--weights", "vgg16.npz", "--networks", "3"], r"--weights vgg16.npz is one network: give --networks 1"),
    (["--networks", "0"], r"--networks 0: expected 1 \.\. 1000"),
])
def test_bad_flags_get_clear_errors(tmp_path, flags, message):
    with pytest.raises(SystemExit, match=message):
        style_transfer.main(["--out", str(tmp_path / "bad"), *flags])
