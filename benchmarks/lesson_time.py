"""How long the longest lessons take, in two source trees: the lessons' own epoch times, before and after.

    python -m benchmarks.lesson_time --before /tmp/before                # dcgan, wgan_gp, conv_vae; 1 epoch each
    python -m benchmarks.lesson_time --before /tmp/before --epochs 2 --lessons dcgan
    python -m benchmarks.lesson_time --before . --lessons textbook_autoencoder --quick   # a smoke test

``--before`` is another checkout of this repository (``git worktree add /tmp/before <commit>``); the
tree this file lies in is "after". Each lesson runs as ``python -m lessons.NAME --epochs E --seed 0`` in
the tree's own folder (so it imports that tree's minigrad), into a temporary run folder that is removed
afterwards, the two trees alternating lesson by lesson. The numbers are the lesson's own: the seconds of
each epoch that its metrics.json records (training and the epoch's evaluation), and the process's whole
wall time (start-up, data loading and the final figures included). A full run is about epochs x the epoch
time. The data come from MINIGRAD_DATA, as for the lessons themselves.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

AFTER = Path(__file__).resolve().parent.parent
LESSONS = ("dcgan", "wgan_gp", "conv_vae")


def time_lesson(tree, lesson, epochs, quick=False):
    """Run ``lesson`` from ``tree`` for ``epochs``; (seconds of each epoch, the process's wall seconds)."""
    with tempfile.TemporaryDirectory(prefix=f"lesson_time_{lesson}_") as scratch:
        out = Path(scratch) / "run"
        command = [sys.executable, "-m", f"lessons.{lesson}", "--epochs", str(epochs), "--seed", "0", "--out", str(out)]
        command += ["--quick"] if quick else []
        started = time.perf_counter()
        done = subprocess.run(command, cwd=tree, capture_output=True, text=True)
        wall = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"{lesson} in {tree} failed (exit {done.returncode}):\n{done.stderr[-2000:]}")
        history = json.loads((out / "metrics.json").read_text())["history"]
    return [record["seconds"] for record in history], wall


def commit_of(tree):
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=tree, capture_output=True, text=True)
    return done.stdout.strip() or "?"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", required=True, type=Path, help="another checkout of this repository")
    parser.add_argument("--lessons", default=",".join(LESSONS), help="comma-separated (default %(default)s)")
    parser.add_argument("--epochs", type=int, default=1, help="epochs per run (default %(default)s)")
    parser.add_argument("--quick", action="store_true", help="the lessons' --quick runs: a smoke test of this tool")
    args = parser.parse_args(argv)
    if not (args.before / "lessons").is_dir():
        parser.error(f"--before: expected a checkout of this repository (with lessons/), got {args.before}")
    if "MINIGRAD_DATA" not in os.environ:
        print("note: MINIGRAD_DATA is not set; the lessons look for their data in the default place", file=sys.stderr)
    trees = {"before": args.before.resolve(), "after": AFTER}
    print(f"before = {commit_of(trees['before'])} ({trees['before']}), after = {commit_of(AFTER)} ({AFTER}), "
          f"{args.epochs} epoch(s) each, load average {os.getloadavg()[0]:.2f}")
    print("| lesson | before: epoch s | after: epoch s | before: process s | after: process s "
          "| epoch time after/before |")
    print("|---|---|---|---|---|---|")
    for lesson in args.lessons.split(","):
        timed = {name: time_lesson(tree, lesson, args.epochs, args.quick) for name, tree in trees.items()}
        (epochs_before, wall_before), (epochs_after, wall_after) = timed["before"], timed["after"]
        print(f"| {lesson} | {' / '.join(f'{s:.1f}' for s in epochs_before)} | "
              f"{' / '.join(f'{s:.1f}' for s in epochs_after)} | {wall_before:.1f} | {wall_after:.1f} | "
              f"{sum(epochs_after) / sum(epochs_before):.2f}x |", flush=True)


if __name__ == "__main__":
    main()
