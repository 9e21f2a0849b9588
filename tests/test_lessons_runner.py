"""The lesson plumbing: flags, epoch lines, metrics.json, checkpoints, --resume, Ctrl-C, `python -m lessons`."""
import importlib
import json
import math
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
from lessons.__main__ import NOT_LESSONS, discover
from lessons.common import QUICK_BATCHES, QUICK_SAMPLES, Lesson, format_epoch_line
from minigrad.data import DataLoader

REPO = Path(__file__).resolve().parents[1]
EPOCH_LINE = re.compile(r"^epoch (\d+)/(\d+)((?:  \w+ \S+)*)  (\d+\.\d)s$")


class TinyModel:
    """y = x @ w + b with minigrad tensors and a state_dict, like nn.Module's."""

    def __init__(self):
        self.w = mg.randn(4, 1, requires_grad=True)   # draws from minigrad's generator
        self.b = mg.zeros(1, requires_grad=True)

    def __call__(self, x):
        return x @ self.w + self.b

    def parameters(self):
        return [self.w, self.b]

    def state_dict(self):
        return {"w": self.w.data.copy(), "b": self.b.data.copy()}

    def load_state_dict(self, state):
        self.w.data[...] = state["w"]
        self.b.data[...] = state["b"]


class MomentumSGD:
    """Enough of an optimizer to have state worth checkpointing."""

    def __init__(self, params, lr, momentum=0.9):
        self.params, self.lr, self.momentum = params, lr, momentum
        self.velocity = [np.zeros_like(p.data) for p in params]

    def step(self):
        for p, v in zip(self.params, self.velocity):
            v *= self.momentum
            v += p.grad.data
            p.data -= self.lr * v
            p.grad = None

    def state_dict(self):
        return {"velocity": [v.copy() for v in self.velocity]}

    def load_state_dict(self, state):
        self.velocity = [np.array(v) for v in state["velocity"]]


def tiny_lesson(argv, stop_at=None):
    """Tiny regression lesson: every source of randomness a real lesson has.

    ``stop_at=(epoch, step)`` plays Ctrl-C at that step.
    """
    run = Lesson("tiny", tiny_lesson.__doc__, epochs=3, batch_size=8, lr=0.05, argv=argv,
                 extra=lambda parser: parser.add_argument("--noise", type=float, default=0.1))
    data_rng = np.random.default_rng(0)
    x = data_rng.standard_normal((64, 4)).astype(np.float32)
    y = x @ np.array([[1.0], [-2.0], [0.5], [3.0]], np.float32)
    x, y = run.subset(x, y)
    loader = DataLoader(x, y, batch_size=run.args.batch_size, shuffle=True, seed=run.args.seed)
    model = TinyModel()
    optimizer = MomentumSGD(model.parameters(), run.args.lr)
    noise_rng = np.random.default_rng(run.args.seed)
    for epoch in run.epochs(model=model, optimizer=optimizer, loader=loader, noise_rng=noise_rng):
        total = 0.0
        for step, (xb, yb) in enumerate(run.progress(loader)):
            noisy = xb + run.args.noise * noise_rng.standard_normal(xb.shape, dtype=np.float32)   # own Generator
            noisy *= np.random.uniform(0.9, 1.1)                                                  # NumPy's RNG
            dropped = noisy * (mg.rand(*xb.shape).data > 0.1)                                   # minigrad's RNG
            loss = ((mg.tensor(dropped) @ model.w + model.b - mg.tensor(yb)) ** 2).mean()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(xb)
            if stop_at == (epoch, step):
                os.kill(os.getpid(), __import__("signal").SIGINT)
        test_loss = ((model(mg.tensor(x)) - mg.tensor(y)) ** 2).mean()
        run.log(train_loss=total / len(x), test_loss=test_loss)
    return run.finish(final={"test_loss": test_loss}, published={"test_loss": 0.0})


def numbers(metrics):
    """What must match between runs: everything but the timings."""
    history = [{k: v for k, v in record.items() if k != "seconds"} for record in metrics["history"]]
    return history, metrics["final"]


def test_resume_ends_with_exactly_the_numbers_of_an_uninterrupted_run(tmp_path, capsys):
    straight = tiny_lesson(["--out", str(tmp_path / "straight")])
    tiny_lesson(["--out", str(tmp_path / "split"), "--epochs", "2"])
    resumed = tiny_lesson(["--out", str(tmp_path / "split"), "--epochs", "3", "--resume"])

    assert len(straight["history"]) == 3
    assert numbers(resumed) == numbers(straight)
    assert "resumed from" in capsys.readouterr().out
    on_disk = json.loads((tmp_path / "split" / "metrics.json").read_text())
    assert numbers(on_disk) == numbers(straight)


def test_a_different_seed_gives_different_numbers(tmp_path):
    first = tiny_lesson(["--out", str(tmp_path / "a")])
    other = tiny_lesson(["--out", str(tmp_path / "b"), "--seed", "1"])
    assert numbers(first) != numbers(other)


def test_epoch_lines_are_stable_and_parseable(tmp_path, capsys):
    tiny_lesson(["--out", str(tmp_path), "--epochs", "2"])
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("epoch")]
    assert len(lines) == 2
    for number, line in enumerate(lines, start=1):
        match = EPOCH_LINE.match(line)
        assert match, line
        assert match.group(1, 2) == (str(number), "2")
        names = re.findall(r"  (\w+) ", match.group(3))
        assert names == ["train_loss", "test_loss"]
    assert format_epoch_line({"epoch": 3, "train_loss": 0.031234, "test_loss": 0.0308, "seconds": 12.44}, 20) \
        == "epoch 3/20  train_loss 0.03123  test_loss 0.0308  12.4s"


def test_metrics_json_holds_what_the_issue_asks(tmp_path):
    tiny_lesson(["--out", str(tmp_path), "--epochs", "2", "--lr", "0.01"])
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["lesson"] == "tiny"
    assert metrics["description"] == "Tiny regression lesson: every source of randomness a real lesson has."
    assert metrics["hyperparameters"]["lr"] == 0.01
    assert metrics["hyperparameters"]["noise"] == 0.1
    assert metrics["hyperparameters"]["batch_size"] == 8
    assert [record["epoch"] for record in metrics["history"]] == [1, 2]
    assert set(metrics["final"]) == {"test_loss"} and metrics["published"] == {"test_loss": 0.0}
    assert metrics["minigrad_version"] == mg.__version__
    assert metrics["device"] == "cpu"
    assert metrics["wall_time_s"] > 0
    assert (tmp_path / "checkpoint.npz").is_file()


def test_quick_uses_a_subset_few_batches_and_one_epoch(tmp_path):
    seen = []
    run = Lesson("q", "Quick.", epochs=10, batch_size=4, lr=0.1, argv=["--quick", "--out", str(tmp_path)])
    x = run.subset(np.arange(1000))
    assert len(x) == QUICK_SAMPLES
    loader = DataLoader(x, batch_size=4)
    for _ in run.epochs(loader=loader):
        seen += [batch for (batch,) in run.progress(loader)]
    assert len(seen) == QUICK_BATCHES
    assert run.args.epochs == 1 and len(run.history) == 1  # an epoch without run.log still gets its line


def test_default_out_folder(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert Lesson("vae", "VAE.", epochs=1, batch_size=1, lr=1, argv=[]).out == Path("runs/vae")
    assert Lesson("vae", "VAE.", epochs=1, batch_size=1, lr=1, argv=["--quick"]).out == Path("runs/vae-quick")


def test_a_lesson_can_name_its_default_folder_after_its_flags(monkeypatch, tmp_path):
    import lessons.gan as gan
    monkeypatch.chdir(tmp_path)
    folders = {}
    for argv in ([], ["--quick"], ["--dataset", "mnist"], ["--dataset", "mnist", "--quick"],
                 ["--dataset", "mnist", "--out", "mine"]):
        run = Lesson("gan", "GAN.", epochs=1, batch_size=1, lr=1, argv=argv, extra=gan.add_flags,
                     default_out=gan.default_out)
        folders[" ".join(argv)] = run.out
    assert folders == {"": Path("runs/gan"), "--quick": Path("runs/gan-quick"),
                       "--dataset mnist": Path("runs/gan-mnist"), "--dataset mnist --quick": Path("runs/gan-mnist-quick"),
                       "--dataset mnist --out mine": Path("mine")}


def test_resume_without_a_checkpoint_says_so_and_leaves_nothing_behind(tmp_path):
    with pytest.raises(SystemExit, match="no checkpoint at .*checkpoint.npz; run without --resume"):
        tiny_lesson(["--out", str(tmp_path / "never"), "--resume"])
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("flag, value", [("--lr", "0.5"), ("--seed", "3"), ("--batch-size", "4"), ("--noise", "0.3"),
                                         ("--quick", None)])
def test_resume_refuses_another_setting_and_names_the_flag(tmp_path, flag, value):
    tiny_lesson(["--out", str(tmp_path), "--epochs", "1"])
    before = (tmp_path / "checkpoint.npz").read_bytes(), (tmp_path / "metrics.json").read_bytes()
    with pytest.raises(SystemExit, match=rf"was trained with {flag} .*\(here .*drop {flag} to continue it.*"
                                         r"without --resume, with --overwrite or another --out"):
        tiny_lesson(["--out", str(tmp_path), "--epochs", "2", flag, *([value] if value else []), "--resume"])
    assert ((tmp_path / "checkpoint.npz").read_bytes(), (tmp_path / "metrics.json").read_bytes()) == before
    assert not (tmp_path / ".lock").exists()


def test_resume_takes_the_settings_left_out_from_the_checkpoint(tmp_path):
    settings = ["--lr", "0.01", "--seed", "4", "--noise", "0"]
    straight = tiny_lesson(["--out", str(tmp_path / "straight"), "--epochs", "3", *settings])
    tiny_lesson(["--out", str(tmp_path / "split"), "--epochs", "2", *settings])
    resumed = tiny_lesson(["--out", str(tmp_path / "split"), "--resume", "--epochs", "3"])
    assert numbers(resumed) == numbers(straight)
    on_disk = json.loads((tmp_path / "split" / "metrics.json").read_text())
    assert on_disk["hyperparameters"] == dict(straight["hyperparameters"], out=str(tmp_path / "split"))


def test_unknown_device_and_help(tmp_path, capsys):
    with pytest.raises(SystemExit):
        Lesson("x", "X.", epochs=1, batch_size=1, lr=1, argv=["--device", "tpu"])
    with pytest.raises(SystemExit):
        Lesson("x", "The x lesson.\n\nLong text.", epochs=1, batch_size=1, lr=1, argv=["--help"])
    help_text = capsys.readouterr().out
    for flag in ("--epochs", "--batch-size", "--lr", "--device", "--seed", "--out", "--data-dir", "--quick",
                 "--resume"):
        assert flag in help_text
    assert "The x lesson." in help_text


CTRL_C_SCRIPT = textwrap.dedent("""
    import sys
    sys.path.insert(0, {tests!r})
    from test_lessons_runner import tiny_lesson
    stop_at = tuple(map(int, sys.argv[1].split(","))) if sys.argv[1] != "-" else None
    tiny_lesson(sys.argv[2:], stop_at=stop_at)
""")


def run_script(tmp_path, stop_at, *argv):
    script = tmp_path / "tiny_script.py"
    script.write_text(CTRL_C_SCRIPT.format(tests=str(REPO / "tests")))
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, str(script), stop_at, *argv], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=120)


def test_ctrl_c_mid_epoch_stops_after_the_step_and_resumes_exactly(tmp_path):
    out = str(tmp_path / "run")
    stopped = run_script(tmp_path, "2,3", "--out", out)           # Ctrl-C during epoch 2, step 3
    assert stopped.returncode == 1, stopped.stderr
    assert "Interrupted in epoch 2/3 after step 4 of 8" in stopped.stderr
    assert "holds 1 epoch(s)" in stopped.stderr
    resume_command = stopped.stderr.strip().splitlines()[-1].split()
    assert resume_command[1:] == ["-m", "lessons.tiny", "--out", out, "--resume"]
    assert "Traceback" not in stopped.stderr
    recorded = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert [record["epoch"] for record in recorded["history"]] == [1] and recorded["final"] == {}
    assert recorded["stopped"].startswith("Interrupted in epoch 2/3 after step 4 of 8")

    resumed = run_script(tmp_path, "-", "--out", out, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    straight = tiny_lesson(["--out", str(tmp_path / "straight")])
    finished = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert numbers(finished) == numbers(straight) and "stopped" not in finished


def test_ctrl_c_in_the_first_epoch_says_there_is_nothing_to_resume(tmp_path):
    stopped = run_script(tmp_path, "1,0", "--out", str(tmp_path / "run"))
    assert stopped.returncode == 1
    assert "nothing to resume: run the same command again" in stopped.stderr
    assert not (tmp_path / "run" / "metrics.json").exists()  # no epoch finished: nothing to record


# ---------------------------------------------------------------- python -m lessons

def test_discover_lists_lessons_with_their_first_docstring_line(tmp_path):
    (tmp_path / "vae.py").write_text('"""Variational autoencoder on MNIST.\n\nMore."""\nraise SystemExit("ran")\n')
    (tmp_path / "gan.py").write_text("# no docstring\n")
    for not_a_lesson in ("common.py", "_helpers.py", "__init__.py", "__main__.py"):
        (tmp_path / not_a_lesson).write_text('"""Not a lesson."""\n')
    (tmp_path / "exercises").mkdir()
    (tmp_path / "exercises" / "__init__.py").write_text('"""Exercises."""\n')
    assert discover(tmp_path) == [("vae", "Variational autoencoder on MNIST."), ("gan", "(no description)")]  # course order


def test_python_m_lessons_lists_every_lesson_module():
    result = subprocess.run([sys.executable, "-m", "lessons"], capture_output=True, text=True, cwd=REPO,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    modules = sorted(p.stem for p in (REPO / "lessons").glob("*.py")
                     if not p.stem.startswith("_") and p.stem not in NOT_LESSONS)
    for name in modules:
        assert re.search(rf"^  {name}\s+\S", result.stdout, re.MULTILINE), f"{name} missing from:\n{result.stdout}"
    if not modules:
        assert "No lessons yet." in result.stdout


def test_every_lesson_has_a_one_line_description():
    undocumented = [name for name, description in discover() if description == "(no description)"]
    assert not undocumented, f"lessons without a docstring: {undocumented}"


# ---------------------------------------------------------------- resuming a finished run (item 2)

@pytest.mark.parametrize("epochs", [["--epochs", "2"], ["--epochs", "1"], []])
def test_resuming_a_finished_run_re_reports_its_numbers_and_exits_cleanly(tmp_path, capsys, epochs):
    finished = tiny_lesson(["--out", str(tmp_path), "--epochs", "2"])
    capsys.readouterr()
    with pytest.raises(SystemExit) as stop:
        tiny_lesson(["--out", str(tmp_path), "--resume", *epochs])
    assert stop.value.code == 0
    printed = capsys.readouterr().out
    assert "already holds 2 epoch(s)" in printed and "nothing left to train" in printed
    assert "epoch 2/2  train_loss" in printed
    assert f"final test_loss {finished['final']['test_loss']:.4g}" in printed
    assert json.loads((tmp_path / "metrics.json").read_text())["history"] == finished["history"]


def test_zero_epochs_and_other_bad_numbers_are_refused_by_name(tmp_path, capsys):
    for flags, expected in ([["--epochs", "0"], "--epochs: expected a whole number >= 1, got 0"],
                            [["--lr", "inf"], "--lr: expected a finite number > 0, got inf"],
                            [["--lr", "nan"], "--lr: expected a finite number > 0, got nan"],
                            [["--lr", "-1"], "--lr: expected a finite number > 0, got -1"],
                            [["--seed", "-1"], "--seed: expected a whole number from 0 to 4294967295, got -1"],
                            [["--batch-size", "0"], "--batch-size: expected a whole number >= 1, got 0"],
                            [["--data-dir", str(tmp_path / "nowhere")], "--data-dir: expected an existing folder"],
                            [["--resume", "--overwrite"], "give one of them"]):
        with pytest.raises(SystemExit) as stop:
            tiny_lesson(["--out", str(tmp_path / "run"), *flags])
        assert stop.value.code == 2
        assert expected in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


# ---------------------------------------------------------------- one folder, one run (item 4)

def test_a_fresh_run_into_a_named_folder_holding_a_run_is_refused(tmp_path):
    tiny_lesson(["--out", str(tmp_path), "--epochs", "3"])
    before = (tmp_path / "checkpoint.npz").read_bytes()
    with pytest.raises(SystemExit, match="holds an earlier run .*--resume.*--overwrite.*another --out"):
        tiny_lesson(["--out", str(tmp_path), "--epochs", "1"])
    assert (tmp_path / "checkpoint.npz").read_bytes() == before
    assert not (tmp_path / ".lock").exists()


def test_overwrite_replaces_the_earlier_run(tmp_path, capsys):
    tiny_lesson(["--out", str(tmp_path), "--epochs", "3"])
    again = tiny_lesson(["--out", str(tmp_path), "--epochs", "1", "--overwrite"])
    assert "--overwrite: removed the earlier run's checkpoint.npz and metrics.json" in capsys.readouterr().out
    assert len(again["history"]) == 1 and mg.load(tmp_path / "checkpoint.npz")["epoch"] == 1
    assert "overwrite" not in again["hyperparameters"]


def test_the_default_folder_run_twice_keeps_both_runs_in_numbered_folders(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    first = tiny_lesson(["--epochs", "2"])
    second = tiny_lesson(["--epochs", "1"])
    third = tiny_lesson(["--epochs", "1"])
    assert "runs/tiny/ holds an earlier run, kept as it is; this run writes into runs/tiny-2/" in capsys.readouterr().out
    assert [first["hyperparameters"]["out"], second["hyperparameters"]["out"], third["hyperparameters"]["out"]] \
        == ["runs/tiny", "runs/tiny-2", "runs/tiny-3"]
    assert mg.load(Path("runs/tiny/checkpoint.npz"))["epoch"] == 2
    assert json.loads(Path("runs/tiny-2/metrics.json").read_text())["history"] == second["history"]
    assert sorted(p.name for p in Path("runs").iterdir()) == ["tiny", "tiny-2", "tiny-3"]
    assert not list(Path("runs").rglob(".lock"))


def test_ctrl_c_in_a_numbered_folder_names_it_in_the_resume_command(tmp_path):
    assert run_script(tmp_path, "-", "--epochs", "1").returncode == 0
    stopped = run_script(tmp_path, "2,3")
    assert "this run writes into runs/tiny-2/" in stopped.stdout
    assert stopped.stderr.strip().splitlines()[-1].split()[1:] == ["-m", "lessons.tiny", "--out", "runs/tiny-2",
                                                                   "--resume"]
    resumed = run_script(tmp_path, "-", "--out", "runs/tiny-2", "--resume")
    assert resumed.returncode == 0, resumed.stderr


HOLD_THE_FOLDER = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {repo!r})
    from lessons.common import Lesson
    run = Lesson("tiny", "Holds its folder.", epochs=1, batch_size=1, lr=1, argv=["--out", sys.argv[1]])
    print("ready", flush=True)
    time.sleep(60)
""")


def test_a_second_run_into_a_busy_folder_is_refused_naming_the_first_pid(tmp_path):
    folder = tmp_path / "run"
    holder = subprocess.Popen([sys.executable, "-c", HOLD_THE_FOLDER.format(repo=str(REPO)), str(folder)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(SystemExit, match=rf"run/ is in use by another run \(PID {holder.pid}\)"):
            tiny_lesson(["--out", str(folder)])
        with pytest.raises(SystemExit, match=rf"PID {holder.pid}"):
            tiny_lesson(["--out", str(folder), "--resume"])
    finally:
        holder.kill()
        holder.wait()
    finished = tiny_lesson(["--out", str(folder), "--epochs", "1"])  # a killed run leaves no lock behind
    assert len(finished["history"]) == 1
    assert not (folder / ".lock").exists()


def test_the_runner_sweeps_temporary_files_of_dead_runs_at_start(tmp_path):
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(gone.stdout)
    stale = tmp_path / f".checkpoint.npz.{dead_pid}.abc123.tmp"
    alive = tmp_path / f".checkpoint.npz.{os.getpid()}.def456.tmp"
    stale.write_bytes(b"half a checkpoint")
    alive.write_bytes(b"being written")
    Lesson("tiny", "T.", epochs=1, batch_size=1, lr=1, argv=["--out", str(tmp_path)])._lock.release()
    assert not stale.exists() and alive.exists()


# ---------------------------------------------------------------- a diverging run stops (item 7)

def test_a_nan_loss_stops_the_run_keeping_the_last_finite_epoch(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop, np.errstate(over="ignore", invalid="ignore"):
        tiny_lesson(["--out", str(tmp_path), "--epochs", "30", "--lr", "3"])
    message = str(stop.value.code)
    match = re.search(r"Stopped: (\w+) became (nan|inf) in epoch (\d+)/30 \(its last finite value was \S+ "
                      r"in epoch (\d+)\)", message)
    assert match, message
    epoch, last = int(match.group(3)), int(match.group(4))
    assert last == epoch - 1 >= 1
    assert "smaller --lr" in message
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert [record["epoch"] for record in metrics["history"]] == list(range(1, epoch))
    assert metrics["stopped"].startswith(f"{match.group(1)} became {match.group(2)} in epoch {epoch}/30")
    assert all(math.isfinite(v) for record in metrics["history"] for v in record.values())
    assert mg.load(tmp_path / "checkpoint.npz")["epoch"] == epoch - 1
    assert not (tmp_path / ".lock").exists()


# ---------------------------------------------------------------- odd checkpoints (item 5)

def dense_lesson(argv):
    """A lesson with a real nn.Dense model, whose load_state_dict checks what it is given."""
    run = Lesson("dense", "Dense.", epochs=2, batch_size=4, lr=0.1, argv=argv)
    model = mg.nn.Dense(3, 1)
    for _ in run.epochs(model=model):
        run.log(loss=1.0)
    return run.finish()


@pytest.mark.parametrize("forge, expected", [
    (lambda state: state["objects"]["model"].update(weight=np.full((3, 1), np.nan, np.float32)),
     r"model: Dense.load_state_dict: .*weight \(3 NaN"),
    (lambda state: state["objects"]["model"].update(bias=[0.5]), r"model: .*not arrays or Tensors: bias \(a list\)"),
    (lambda state: state.update(epoch="2"), r"entry 'epoch' should be a int"),
    (lambda state: state.update(rng={"minigrad": 5, "numpy": None}), r"bad generator state under 'rng'"),
], ids=["nan weights", "list bias", "string epoch", "bad rng"])
def test_a_forged_checkpoint_is_refused_naming_the_file_and_the_key(tmp_path, forge, expected):
    dense_lesson(["--out", str(tmp_path), "--epochs", "1"])
    state = mg.load(tmp_path / "checkpoint.npz")
    forge(state)
    mg.save(state, tmp_path / "checkpoint.npz")
    with pytest.raises(SystemExit, match=rf"--resume: .*checkpoint.npz.*{expected}"):
        dense_lesson(["--out", str(tmp_path), "--resume"])


def test_a_damaged_checkpoint_file_is_refused_naming_it(tmp_path):
    dense_lesson(["--out", str(tmp_path), "--epochs", "1"])
    (tmp_path / "checkpoint.npz").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(SystemExit, match=r"--resume: cannot resume from .*checkpoint.npz: minigrad.load"):
        dense_lesson(["--out", str(tmp_path), "--resume"])


@pytest.mark.skipif(not os.environ.get("MINIGRAD_DATA"), reason="MINIGRAD_DATA is not set: the lesson needs Fashion-MNIST")
def test_the_issues_lesson_resumed_after_its_last_epoch_exits_cleanly(tmp_path, capsys):
    import lessons.fashion_autoencoder as lesson
    lesson.main(["--quick", "--epochs", "2", "--out", str(tmp_path)])
    with pytest.raises(SystemExit) as stop:
        lesson.main(["--quick", "--epochs", "2", "--out", str(tmp_path), "--resume"])
    assert stop.value.code == 0
    assert "nothing left to train" in capsys.readouterr().out



@pytest.mark.parametrize("lesson, flag", [("wgan_gp", "--n-critic"), ("dcgan", "--sample-every"),
                                          ("gan", "--sample-every"), ("vae", "--latent")])
def test_a_lesson_s_own_counts_are_refused_at_zero_before_training(lesson, flag, tmp_path, capsys):
    module = importlib.import_module(f"lessons.{lesson}")
    with pytest.raises(SystemExit) as stop:
        module.main(["--quick", "--out", str(tmp_path / "run"), flag, "0"])
    assert stop.value.code == 2
    assert f"{flag}: expected a whole number >= 1, got 0" in capsys.readouterr().err
