"""minigrad.viz: every figure is written as a PNG; ROC maths checked against Mann-Whitney."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from minigrad import viz

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def check_png(path, max_kib=400):
    """A readable PNG of a sensible size, with more than one colour in it."""
    assert path.read_bytes()[:8] == PNG_MAGIC
    assert path.stat().st_size < max_kib * 1024
    with Image.open(path) as image:
        width, height = image.size
        assert 200 < width < 2000 and 100 < height < 2000
        assert len(image.convert("L").getcolors(maxcolors=1 << 16) or range(2)) > 1
    return width, height


def digits(n=10, seed=0):
    return np.random.default_rng(seed).random((n, 28, 28), dtype=np.float32)


def test_image_rows_and_triptych(tmp_path):
    x = digits()
    path = viz.image_rows({"original": x, "reconstruction": x * 0.5}, tmp_path / "rows.png")
    assert path == tmp_path / "rows.png"
    wide, tall = check_png(path)
    assert wide > 2 * tall  # ten columns, two rows
    check_png(viz.denoising_triptych(x, x, x, tmp_path / "sub" / "triptych.png"))


@pytest.mark.parametrize("layout", [
    lambda x: x, lambda x: x[:, None], lambda x: x.reshape(len(x), -1), lambda x: x[..., None],
    lambda x: (x * 255).astype(np.uint8)], ids=["NHW", "NCHW", "flat", "NHWC", "uint8"])
def test_image_layouts_give_the_same_grey_images(layout):
    x = digits(3)
    images = viz._as_images(layout(x))
    assert images.shape == (3, 28, 28)


def test_colour_images_in_both_layouts(tmp_path):
    nchw = np.random.default_rng(1).uniform(-1, 1, size=(16, 3, 8, 8)).astype(np.float32)
    assert viz._as_images(nchw).shape == (16, 8, 8, 3)
    assert viz._as_images(nchw.transpose(0, 2, 3, 1)).shape == (16, 8, 8, 3)
    check_png(viz.image_grid(nchw, tmp_path / "colour.png", columns=4))


def test_bad_image_shapes_are_refused():
    with pytest.raises(ValueError, match="square number of pixels, got 780"):
        viz._as_images(np.zeros((2, 780)))
    with pytest.raises(ValueError, match=r"got \(2, 5, 7, 7\)"):
        viz._as_images(np.zeros((2, 5, 7, 7)))


def test_value_range_follows_dtype_and_sign():
    assert viz._value_range(np.zeros(3, np.uint8), None) == (0, 255)
    assert viz._value_range(np.array([-0.5, 0.9]), None) == (-1.0, 1.0)
    assert viz._value_range(np.array([0.0, 0.9]), None) == (0.0, 1.0)
    assert viz._value_range(np.array([0.0, 0.9]), (0, 2)) == (0, 2)


def test_mosaic_places_images_row_major():
    images = np.arange(5, dtype=np.float32)[:, None, None] * np.ones((5, 2, 2), np.float32)
    mosaic = viz._mosaic(images, columns=3, low=0, high=4, gap=1)
    assert mosaic.shape == (2 * 3 + 1, 3 * 3 + 1)
    assert mosaic[1, 1] == 0 and mosaic[1, 4] == 1 and mosaic[1, 7] == 2
    assert mosaic[4, 1] == 3 and mosaic[4, 4] == 4
    assert mosaic[4, 7] == 0  # the empty slot
    assert mosaic[0, 0] == 2  # the mid-grey gap


def test_gan_grid_and_interpolation_strip(tmp_path):
    check_png(viz.image_grid(digits(64) * 2 - 1, tmp_path / "samples.png"))
    wide, tall = check_png(viz.interpolation_strip(digits(10), tmp_path / "strip.png", start_label="3",
                                                   end_label="8"))
    assert wide > 4 * tall


def test_manifold_grid_order_and_decode_call(tmp_path):
    z = viz.manifold_grid_z(n=3, extent=(-1, 1))
    assert z.dtype == np.float32
    np.testing.assert_array_equal(z[:3], [[-1, 1], [0, 1], [1, 1]])   # top row: largest z2
    np.testing.assert_array_equal(z[-1], [1, -1])
    calls = []

    def decode(points):
        calls.append(points.shape)
        return np.tile(points[:, :1, None], (1, 28, 28)) / 2 + 0.5

    check_png(viz.latent_manifold(decode, tmp_path / "manifold.png", n=5, extent=(-2, 2)))
    assert calls == [(25, 2)]
    with pytest.raises(ValueError, match="expected n\\*n = 25 images, got 24"):
        viz.latent_manifold(digits(24), tmp_path / "bad.png", n=5)


@pytest.mark.parametrize("dims", [2, 3])
def test_latent_scatter(tmp_path, dims):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 20000)
    z = rng.standard_normal((20000, dims)) + labels[:, None]
    names = [f"class {i}" for i in range(10)]
    check_png(viz.latent_scatter(z, labels, tmp_path / "scatter.png", class_names=names))
    with pytest.raises(ValueError, match=r"expected z of shape \(N, 2\) or \(N, 3\)"):
        viz.latent_scatter(z[:, :1], labels, tmp_path / "bad.png")


def test_loss_curves_from_dict_or_runner_history(tmp_path):
    check_png(viz.loss_curves({"train": [3, 2, 1.5], "test": [3.2, 2.4, 2.0]}, tmp_path / "a.png"))
    history = [{"epoch": 1, "train_loss": 1.0, "seconds": 2.0}, {"epoch": 2, "train_loss": 0.5, "kl": 3.0}]
    series = viz._series(history)
    assert list(series) == ["train_loss", "kl"]
    assert series["train_loss"] == [1.0, 0.5] and np.isnan(series["kl"][0])
    check_png(viz.loss_curves(history, tmp_path / "b.png", log_scale=True))


def test_threshold_histogram_and_roc_plot(tmp_path):
    rng = np.random.default_rng(0)
    normal, abnormal = rng.gamma(2, 0.1, 500), rng.gamma(6, 0.1, 300)
    check_png(viz.threshold_histogram({"normal": normal, "abnormal": abnormal}, 0.45, tmp_path / "hist.png"))
    scores = np.concatenate([normal, abnormal])
    labels = np.r_[np.zeros(500), np.ones(300)]
    check_png(viz.roc_plot(scores, labels, tmp_path / "roc.png"))


def test_roc_curve_small_example():
    fpr, tpr, thresholds = viz.roc_curve([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])
    np.testing.assert_allclose(fpr, [0, 0, 0.5, 0.5, 1])
    np.testing.assert_allclose(tpr, [0, 0.5, 0.5, 1, 1])
    np.testing.assert_allclose(thresholds, [np.inf, 0.8, 0.4, 0.35, 0.1])
    assert viz.roc_auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) == 0.75
    assert viz.roc_auc([1, 2, 3], [False, True, True]) == 1.0


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.booleans()), min_size=2, max_size=40)
       .filter(lambda pairs: len({label for _, label in pairs}) == 2))
def test_auc_equals_the_mann_whitney_probability(pairs):
    scores = np.array([s for s, _ in pairs], dtype=float)  # small integers: many ties
    labels = np.array([label for _, label in pairs])
    positive, negative = scores[labels], scores[~labels]
    wins = (positive[:, None] > negative[None, :]).mean() + 0.5 * (positive[:, None] == negative[None, :]).mean()
    assert viz.roc_auc(scores, labels) == pytest.approx(wins)
    fpr, tpr, _ = viz.roc_curve(scores, labels)
    assert fpr[-1] == 1 and tpr[-1] == 1
    assert np.all(np.diff(fpr) >= 0) and np.all(np.diff(tpr) >= 0)


def test_roc_needs_both_classes_and_matching_lengths():
    with pytest.raises(ValueError, match="needs both classes, got 3 positive and 0 negative"):
        viz.roc_curve([1, 2, 3], [1, 1, 1])
    with pytest.raises(ValueError, match="3 scores but 2 labels"):
        viz.roc_curve([1, 2, 3], [1, 0])
    with pytest.raises(ValueError, match="labels must be 0/1"):
        viz.roc_curve([1, 2, 3], [1, 0, 2])


def test_a_failed_save_keeps_the_previous_figure(tmp_path, monkeypatch):
    path = viz.image_grid(digits(4), tmp_path / "grid.png")
    before = path.read_bytes()

    def broken_savefig(self, file, **kwargs):
        file.write(b"\x89PNG half")
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(viz.Figure, "savefig", broken_savefig)
    with pytest.raises(RuntimeError, match="renderer crashed"):
        viz.image_grid(digits(4, seed=1), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["grid.png"]


def test_tensors_are_accepted(tmp_path):
    mg = pytest.importorskip("minigrad")
    if not hasattr(mg, "tensor"):
        pytest.skip("the engine core (minigrad.tensor) is not there yet")
    check_png(viz.image_grid(mg.tensor(digits(8)), tmp_path / "t.png"))
    assert viz.roc_auc(mg.tensor([0.1, 0.9]), np.array([0, 1])) == 1.0


def test_importing_viz_never_touches_pyplot_or_a_display():
    code = "import sys, minigrad.viz; assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported'"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={"PATH": "", "MPLBACKEND": "TkAgg"}, cwd=Path(__file__).parents[1], timeout=120)
    assert result.returncode == 0, result.stderr


def test_manifold_takes_a_range_per_axis(tmp_path):
    z = viz.manifold_grid_z(n=3, extent=((-1, 1), (10, 20)))
    np.testing.assert_array_equal(z[:3], [[-1, 20], [0, 20], [1, 20]])   # top row: largest z2
    np.testing.assert_array_equal(z[-1], [1, 10])
    check_png(viz.latent_manifold(lambda points: digits(len(points)), tmp_path / "manifold.png", n=3,
                                  extent=((-1, 1), (10, 20))))
    for bad in [(1, -1), ((0, 1), (2, 2)), (0, 1, 2)]:
        with pytest.raises(ValueError, match="extent must be"):
            viz.manifold_grid_z(n=3, extent=bad)
