"""The benchmark harness runs end to end (speed itself is never asserted)."""
import os

import pytest

from benchmarks import bench


def test_quick_run_of_w1_in_minigrad(capsys):
    results = bench.main(["--quick", "--workloads", "W1", "--frameworks", "minigrad"])
    runs = results["W1"]["minigrad"]
    assert len(runs) == 1 and len(runs[0]["times"]) == 3
    assert all(t > 0 for t in runs[0]["times"]) and runs[0]["peak_rss_mb"] > 0
    printed = capsys.readouterr().out
    assert "| W1 784-256-784 sigmoid AE" in printed and "minigrad ms/step" in printed


def test_unknown_workload_is_refused(capsys):
    with pytest.raises(SystemExit):
        bench.main(["--workloads", "W9"])
    assert "unknown workloads/frameworks ['W9']" in capsys.readouterr().err


def test_the_pytorch_conv_vae_replica_upsamples_as_the_lesson_does():
    """Its transposed convolutions keep the same output pixels as minigrad's 'same' (TensorFlow's cropping)."""
    torch = pytest.importorskip("torch")
    import numpy as np

    import minigrad as mg
    from benchmarks import conv_vae_torch
    from lessons.conv_vae import ConvVAE

    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 3, 7, 7)).astype(np.float32)
    theirs = conv_vae_torch.KerasSameUp(3, 4)
    ours = mg.nn.ConvTranspose2D(3, 4, 3, stride=2, padding="same")
    ours.load_state_dict({"weight": theirs.conv.weight.detach().numpy(), "bias": theirs.conv.bias.detach().numpy()})
    np.testing.assert_allclose(theirs(torch.from_numpy(x)).detach().numpy(), ours(mg.tensor(x)).numpy(),
                               rtol=1e-5, atol=1e-5)

    encoder, decoder = conv_vae_torch.conv_vae()
    lesson = ConvVAE()
    assert sum(p.numel() for p in [*encoder.parameters(), *decoder.parameters()]) == \
        sum(p.size for p in lesson.parameters())
    images = torch.from_numpy((rng.uniform(size=(5, 1, 28, 28)) > 0.5).astype(np.float32))
    assert conv_vae_torch.elbo(encoder, decoder, images).shape == (5,)


@pytest.mark.parametrize("choice, coretype", [("inherit", "Zen"), ("unset", None), ("haswell", "Haswell")])
def test_openblas_choice_reaches_the_workers_only(monkeypatch, choice, coretype):
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Zen")
    monkeypatch.setenv("OPENBLAS_L2_SIZE", "512000")
    env = bench.worker_environment(2, choice)
    assert env.get("OPENBLAS_CORETYPE") == coretype
    assert ("OPENBLAS_L2_SIZE" in env) == (choice == "inherit")
    assert env["OPENBLAS_NUM_THREADS"] == "2"
    import os
    assert os.environ["OPENBLAS_CORETYPE"] == "Zen"  # the parent's own environment is left as it was


def test_a_haswell_worker_reports_the_kernel_it_runs(capsys):
    pytest.importorskip("threadpoolctl")
    results = bench.main(["--quick", "--workloads", "W1", "--frameworks", "minigrad", "--openblas", "haswell"])
    assert results["W1"]["minigrad"][0]["blas_kernel"] == "Haswell"
    assert "OpenBLAS kernel in the minigrad workers (--openblas haswell): Haswell" in capsys.readouterr().out


@pytest.mark.skipif(not os.environ.get("MINIGRAD_DATA"), reason="MINIGRAD_DATA is not set: the lesson needs MNIST")
def test_lesson_time_runs_a_lesson_in_both_trees_and_leaves_no_run_folder(capsys, tmp_path, monkeypatch):
    from benchmarks import lesson_time
    monkeypatch.setattr(lesson_time.tempfile, "tempdir", str(tmp_path))
    lesson_time.main(["--before", str(lesson_time.AFTER), "--lessons", "textbook_autoencoder", "--quick"])
    row = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| textbook_autoencoder")]
    assert len(row) == 1
    epoch_before, epoch_after, process_before, process_after = (float(cell) for cell in row[0].split("|")[2:6])
    assert epoch_before >= 0 and epoch_after >= 0  # a quick epoch can round to 0.0 s
    assert process_before > epoch_before and process_after > epoch_after
    assert list(tmp_path.iterdir()) == []


def test_lesson_time_refuses_a_folder_that_is_not_a_checkout(tmp_path, capsys):
    from benchmarks import lesson_time
    with pytest.raises(SystemExit):
        lesson_time.main(["--before", str(tmp_path)])
    assert "expected a checkout of this repository" in capsys.readouterr().err


@pytest.mark.parametrize("threads, clock, parts_row", [("1", "CPU", False), ("2", "wall", True)])
def test_breakdown_rows_add_up_to_the_step_on_one_thread_and_on_several(threads, clock, parts_row):
    """Its own process: the timers it installs wrap minigrad's functions for good."""
    import re
    import subprocess
    import sys
    done = subprocess.run([sys.executable, "-m", "benchmarks.breakdown", "W1", "--steps", "2", "--repeat", "1",
                           "--warmup", "1", "--threads", threads], capture_output=True, text=True, check=True,
                          cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    lines = done.stdout.splitlines()
    step = float(re.match(rf"W1: ([0-9.]+) {clock} ms a step", lines[0]).group(1))
    rows = {name: float(ms) for name, ms in (re.match(r"\s+(.*?)\s+(-?[0-9.]+) ms", line).groups()
                                             for line in lines[1:])}
    assert ("inside minigrad's parallel parts" in rows) == parts_row and "Dense GEMMs" in rows
    assert sum(rows.values()) == pytest.approx(step, abs=0.01 * len(rows))


def test_breakdown_refuses_a_thread_count_below_one(capsys):
    from benchmarks import breakdown
    with pytest.raises(SystemExit):
        breakdown.main(["W1", "--threads", "0"])
    assert "--threads: expected 1 or more, got 0" in capsys.readouterr().err
