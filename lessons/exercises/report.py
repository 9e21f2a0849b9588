"""The checker's results as text: the list of exercises, the report of one check, a grade."""
import os
import pathlib
import textwrap

import numpy as np

from . import EXERCISES
from .checker import ATOL, RTOL, written_method

_CODES = {"green": "32", "red": "31", "yellow": "33", "bold": "1"}

SHORT = {  # the first kind of a hint, as a few words for the list
    "upstream": "ignores gy", "swapped": "operands swapped", "transposed": "transposed",
    "broadcast": "missing sum over a broadcast axis", "batch-size": "off by the batch size",
    "elements": "off by the element count", "factor-2": "off by a factor 2", "sign": "sign flipped",
    "factor": "off by a constant factor", "shape": "wrong shape", "dtype": "wrong dtype", "nan": "nan or inf",
    "spatial": "stride or padding left out", "unsummed": "not summed over the image", "flipped": "kernel flipped",
    "path": "one path off", "bias-correction": "bias correction", "later-step": "a later step off",
}


def colour_wanted(stream):
    """Colour only for a terminal, and never when NO_COLOR is set (no-color.org)."""
    return stream.isatty() and "NO_COLOR" not in os.environ


class Painter:
    def __init__(self, enabled):
        self.enabled = enabled

    def __call__(self, text, colour):
        return f"\033[{_CODES[colour]}m{text}\033[0m" if self.enabled and colour else text


def _table(rows, paint, indent="  "):
    """Aligned columns; a cell is text or (text, colour). Padding is measured before painting."""
    cells = [[c if isinstance(c, tuple) else (c, None) for c in row] for row in rows]
    widths = [max(len(row[k][0]) for row in cells if k < len(row)) for k in range(max(map(len, cells)))]
    lines = []
    for row in cells:
        padded = [paint(text.ljust(widths[k]) if k < len(row) - 1 else text, colour)
                  for k, (text, colour) in enumerate(row)]
        lines.append((indent + "  ".join(padded)).rstrip())
    return "\n".join(lines)


def _shape(shape):
    return str(tuple(shape))


def _inputs(case):
    return "  ".join(f"{name} {_shape(shape)}" for name, shape in zip(case.names, case.shapes))


def _output(case):
    return _shape(case.output_shape) if case.steps is None else f"{case.steps} step{'s' * (case.steps != 1)}"


def _error(value):
    return "-" if value is None else f"{value:.1e}"


def _path(path):
    try:
        return str(pathlib.Path(path).resolve().relative_to(pathlib.Path.cwd()))
    except ValueError:
        return str(path)


def _command(report, solutions):
    return f"python -m lessons.exercises check {report.exercise.name}{' --solutions' * solutions}"


def _wrap(text, indent):
    return textwrap.fill(text, width=100, initial_indent=indent, subsequent_indent=" " * len(indent))


def summary(report):
    """One line on where an exercise stands, for the list."""
    if report.status != "failing":
        return "" if report.status == "not started" else f"max error {_error(report.max_error)}"
    if report.load_error is not None:
        return report.load_error.splitlines()[0]
    case = report.first_failure
    if case.error is not None:
        return textwrap.shorten(f"case {case.number}: {case.error.splitlines()[0]}", width=80)
    wrong = next(r for r in case.inputs if not r.ok)
    what = SHORT[wrong.hint.kinds[0]] if wrong.hint else (wrong.problem or "wrong gradient")
    return textwrap.shorten(f"case {case.number}, {wrong.name}: {what}", width=80)


def render_list(reports, paint, solutions=False):
    colours = {"passing": "green", "failing": "red", "not started": "yellow"}
    rows = [[("#", "bold"), ("exercise", "bold"), ("file", "bold"), ("status", "bold"), ""]]
    for report in reports:
        exercise = report.exercise
        rows.append([str(exercise.number), exercise.name, exercise.path.name,
                     (report.status, colours[report.status]), summary(report)])
    passing = sum(r.status == "passing" for r in reports)
    which = "reference solutions" if solutions else "your backward passes"
    lines = [f"Gradient-check exercises ({which}), easiest first:", "", _table(rows, paint), "",
             f"{passing} of {len(reports)} passing."]
    todo = next((r for r in reports if r.status != "passing"), None)
    if todo is not None:
        lines.append(f"Next: edit {_path(todo.exercise.path)}, then run: {_command(todo, solutions)}")
    return "\n".join(lines)


def render_check(report, paint, solutions=False):
    exercise = report.exercise
    whose = "the reference solution" if solutions else _path(exercise.path)
    lines = [paint(f"Exercise {exercise.number}: {exercise.name}", "bold") + f"  ({whose})"]
    if report.load_error is not None:
        lines += ["", paint("FAILING", "red") + ": " + report.load_error,
                  f"Fix {_path(exercise.path)}, then run: {_command(report, solutions)}"]
        return "\n".join(lines)
    method = written_method(report.function)
    if report.status == "not started":
        lines += ["", paint("NOT STARTED", "yellow") + f": {method} raises NotImplementedError: {report.not_started}",
                  f"Write {report.function.__name__}.{method} in {_path(exercise.path)}, then run:",
                  f"  {_command(report, solutions)}"]
        return "\n".join(lines)
    against = "central differences" if method == "backward" else "the expected parameter after every update"
    lines += [f"{method} against {against} in float64, {len(report.cases)} cases:", ""]
    rows = [[("case", "bold"), ("inputs", "bold"), ("output", "bold"), ("max error", "bold"), ("result", "bold")]]
    for case in report.cases:
        wrong = [r.name for r in case.inputs if not r.ok]
        result = ("ok", "green") if case.ok else ("error" if case.error else "wrong: " + ", ".join(wrong), "red")
        rows.append([str(case.number), _inputs(case), _output(case), _error(case.max_error), result])
    lines += [_table(rows, paint), ""]
    passed = sum(c.ok for c in report.cases)
    if report.status == "passing":
        lines += [paint("PASSED", "green") + f": all {passed} cases, max error {_error(report.max_error)} "
                  f"(allowed: {ATOL:g} + {RTOL:g} * |expected| per element)", _next(exercise, solutions)]
        return "\n".join(lines)
    case = report.first_failure
    lines += [_case_details(case, paint, method), "",
              paint("FAILING", "red") + f": {passed} of {len(report.cases)} cases pass.",
              f"Fix {report.function.__name__}.{method} in {_path(exercise.path)}, then run again:",
              f"  {_command(report, solutions)}"]
    return "\n".join(lines)


def _next(exercise, solutions):
    later = [e for e in EXERCISES if e.number > exercise.number]
    if not later:
        return "That was the last exercise; python -m lessons.exercises lists them all with their status."
    following = later[0]
    return (f"Next: exercise {following.number}, {following.name}: edit {_path(following.path)}, then run: "
            f"python -m lessons.exercises check {following.name}{' --solutions' * solutions}")


def _case_details(case, paint, method):
    head = f"Case {case.number}: " + ", ".join(f"{n} {_shape(s)}" for n, s in zip(case.names, case.shapes))
    if case.steps is None:
        head += f" -> output {_shape(case.output_shape)}"
    else:
        head += "".join(f", {key} {value}" for key, value in case.options.items()) + f", {_output(case)}"
    lines = [paint(head, "bold")]
    if case.error is not None:
        return "\n".join(lines + [textwrap.indent(case.error, "  ")])
    rows = [[("input", "bold"), ("shape", "bold"), ("max error", "bold"), ("result", "bold")]]
    for r in case.inputs:
        rows.append([r.name, _shape(r.shape), _error(r.max_error), ("ok", "green") if r.ok else ("wrong", "red")])
    lines += [_table(rows, paint)]
    for r in case.inputs:
        if not r.ok:
            lines += ["", _input_details(r, paint, method)]
    return "\n".join(lines)


def _input_details(result, paint, method):
    name = paint(result.name, "bold")
    if result.problem is not None:
        lines = [f"  {name}: {result.problem}"]
    else:
        lines = [f"  {name}: {result.wrong_count} of {int(np.prod(result.shape))} elements disagree; "
                 f"the worst is at index {_shape(result.worst_index)}",
                 _table([["expected (numerical)" if method == "backward" else "expected", f"{result.expected: .8g}"],
                         [f"got (your {method})", f"{result.got: .8g}"]], paint, indent="      ")]
    if result.hint is not None:
        lines.append(_wrap(result.hint.text, "    hint: "))
    elif result.problem is None:
        lines.append(_wrap("no common mistake fits (a constant factor, a sign, a transpose, swapped inputs, a "
                           "missing sum, an ignored gy): re-derive it term by term, on a tiny example by hand",
                           "    hint: "))
    return "\n".join(lines)


def render_grade(result, paint):
    colours = {"passed": "green", "not started": "yellow"}
    rows = [[("#", "bold"), ("exercise", "bold"), ("status", "bold"), ("points", "bold"), ("max error", "bold"),
             ("diagnosis", "bold")]]
    for g in result.exercises:
        status = "practice only" if g.practice_only else g.status
        rows.append([str(g.exercise.number), g.exercise.name, (status, colours.get(g.status, "red")),
                     f"{g.points:g}/{g.max_points:g}", _error(g.max_error), g.summary if g.status != "passed" else ""])
    passed = sum(g.status == "passed" for g in result.exercises)
    lines = [f"Grade of {result.folder} (seed {result.seed}: cases and sizes the practice runs never drew):", "",
             _table(rows, paint), "",
             paint(f"Total: {result.points:g} of {result.max_points:g} points", "bold")
             + f"; {passed} of {len(result.exercises)} exercises pass."]
    for g in result.exercises:
        if g.status != "passed":
            lines.append(textwrap.fill(f"{g.exercise.name}: {g.hint}", width=100, initial_indent="  ",
                                       subsequent_indent="      "))
    return "\n".join(lines)
