"""python -m lessons.exercises [list | check NAME | export DIR | grade [DIR]] [options]"""
import argparse
import json
import pathlib
import sys

from . import EXERCISES, find
from .checker import check, draw_failing_case, written_method
from .export import export
from .grade import TIMEOUT, grade, load_points, to_json, to_junit, write_text
from .report import Painter, colour_wanted, render_check, render_grade, render_list

_SOLUTIONS = pathlib.Path(__file__).parent / "solutions"  # absent in a student copy
_ONLY_FOR = {"solutions": ("list", "check"), "seed": ("list", "check", "grade"), "graph": ("check",), "json": ("grade",), "junit": ("grade",), "points": ("grade",),
             "timeout": ("grade",)}


def main(argv=None, stream=None):
    stream = stream or sys.stdout
    parser = argparse.ArgumentParser(
        prog="python -m lessons.exercises",
        description="Write the backward pass of each exercise; the checker compares it with central differences "
                    "and says what is wrong. Without arguments: the list of exercises and their status. "
                    "export and grade are for teachers: a student copy without solutions, and its points.")
    parser.add_argument("command", nargs="?", choices=("list", "check", "export", "grade"), default="list")
    parser.add_argument("target", nargs="?", metavar="NAME | DIR",
                        help="check: the exercise, by name (matmul), number (4) or file; export: the folder to "
                             "write; grade: the student copy (default: the current folder)")
    parser.add_argument("--solutions", action="store_true", help="list, check: the reference solutions instead")
    parser.add_argument("--seed", type=int, default=None,
                        help="list, check: seed of the random shapes, inputs and gy (default 0); grade: the seed "
                             "of the grader's cases (default: a new one each run, shown in the report)")
    parser.add_argument("--graph", metavar="FILE", help="check: when a case fails, write its graph with the "
                                                        "gradients your backward gave (.png, .svg or .pdf)")
    parser.add_argument("--json", metavar="FILE", help="grade: also write the grade as JSON")
    parser.add_argument("--junit", metavar="FILE", help="grade: also write the grade as JUnit XML")
    parser.add_argument("--points", metavar="FILE", help="grade: points per exercise from a .toml or .json file "
                                                         "(conv2d = 12); the others keep the default table")
    parser.add_argument("--timeout", type=float, default=TIMEOUT,
                        help=f"grade: seconds each exercise may take (default {TIMEOUT:g})")
    args = parser.parse_args(argv)
    for option, commands in _ONLY_FOR.items():
        if args.command not in commands and getattr(args, option) != parser.get_default(option):
            parser.error(f"--{option} goes with {' or '.join(commands)}, not with {args.command}")
    paint = Painter(colour_wanted(stream))
    if args.solutions and not _SOLUTIONS.is_dir():
        parser.error("this is a student copy: the reference solutions stay with the teacher")
    if args.command == "list":
        if args.target is not None:
            parser.error("list takes no exercise name; did you mean: check " + args.target)
        reports = [check(e, solution=args.solutions, seed=args.seed or 0) for e in EXERCISES]
        print(render_list(reports, paint, args.solutions), file=stream)
        return 0
    if args.command == "check":
        return _check(parser, args, paint, stream)
    if args.command == "export":
        if args.target is None:
            parser.error("export needs the folder to write, e.g.: export student-copy")
        try:
            folder = export(args.target)
        except FileExistsError as error:
            parser.error(str(error))
        print(f"Wrote a student copy to {folder}: {len(EXERCISES)} exercises with backward left open, the guides, "
              f"the checker, the grader and the Classroom workflow; no solutions.\n"
              f"Grade it, once the students have worked in it, with: python -m lessons.exercises grade {folder}",
              file=stream)
        return 0
    return _grade(parser, args, paint, stream)


def _check(parser, args, paint, stream):
    if args.target is None:
        parser.error("check needs an exercise name, e.g.: check " + EXERCISES[0].name)
    try:
        exercise = find(args.target)
    except LookupError as error:
        parser.error(str(error))
    if args.graph and pathlib.Path(args.graph).suffix not in (".png", ".svg", ".pdf"):
        parser.error(f"--graph writes a .png, .svg or .pdf file, got {args.graph}")
    report = check(exercise, solution=args.solutions, seed=args.seed or 0)
    print(render_check(report, paint, args.solutions), file=stream)
    if args.graph:
        print(_write_graph(report, args.graph, args.seed or 0), file=stream)
    return 0 if report.status == "passing" else 1


def _write_graph(report, path, seed):
    if report.load_error is None and written_method(report.function) == "step":
        return f"No graph written to {path}: an update rule has no graph."
    if report.first_failure is None:
        why = {"passing": "every case passes", "not started": "backward is not written yet"}.get(
            report.status, "the file does not import")
        return f"No graph written to {path}: {why}."
    graph, problem = draw_failing_case(report, seed)
    write_text(path, graph.pipe(format=pathlib.Path(path).suffix[1:]))
    grads = f"without gradients, since {problem}" if problem else "with the gradients your backward gave for gy = 1"
    return f"Wrote the graph of case {report.first_failure.number} to {path}, {grads}."


def _grade(parser, args, paint, stream):
    try:
        points = load_points(args.points) if args.points else None
        result = grade(args.target or ".", seed=args.seed, points=points, timeout=args.timeout)
    except (OSError, ValueError) as error:
        parser.error(str(error))
    print(render_grade(result, paint), file=stream)
    if args.json:
        write_text(args.json, json.dumps(to_json(result), indent=2) + "\n")
    if args.junit:
        write_text(args.junit, to_junit(result))
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())
