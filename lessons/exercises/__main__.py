"""python -m lessons.exercises [list | check NAME] [--solutions] [--seed N]"""
import argparse
import sys

from . import EXERCISES, find
from .checker import check
from .report import Painter, colour_wanted, render_check, render_list


def main(argv=None, stream=None):
    stream = stream or sys.stdout
    parser = argparse.ArgumentParser(
        prog="python -m lessons.exercises",
        description="Write the backward pass of each exercise; the checker compares it with central differences "
                    "and says what is wrong. Without arguments: the list of exercises and their status.")
    parser.add_argument("command", nargs="?", choices=("list", "check"), default="list")
    parser.add_argument("name", nargs="?", help="the exercise to check: its name (matmul), number (4) or file")
    parser.add_argument("--solutions", action="store_true", help="check the reference solutions instead")
    parser.add_argument("--seed", type=int, default=0, help="seed for the random shapes, inputs and gy (default 0)")
    args = parser.parse_args(argv)
    paint = Painter(colour_wanted(stream))
    if args.command == "list":
        if args.name is not None:
            parser.error("list takes no exercise name; did you mean: check " + args.name)
        reports = [check(e, solution=args.solutions, seed=args.seed) for e in EXERCISES]
        print(render_list(reports, paint, args.solutions), file=stream)
        return 0
    if args.name is None:
        parser.error("check needs an exercise name, e.g.: check " + EXERCISES[0].name)
    try:
        exercise = find(args.name)
    except LookupError as error:
        parser.error(str(error))
    report = check(exercise, solution=args.solutions, seed=args.seed)
    print(render_check(report, paint, args.solutions), file=stream)
    return 0 if report.status == "passing" else 1


if __name__ == "__main__":
    sys.exit(main())
